//! `search-indexer`: keeps the index in step with the catalog's events.

use crate::index::{Change, Outcome, SearchDoc, SearchError, SearchIndex};
use async_trait::async_trait;
use lite_events::contracts::{ProductCreatedV1, ProductDeletedV1, ProductUpdatedV1};
use lite_events::{Envelope, Handler, HandlerError};
use std::sync::Arc;

lite_events::accepts! {
    /// What the indexer reads.
    #[derive(Debug)]
    pub enum IndexerFeed {
        Created(ProductCreatedV1),
        Updated(ProductUpdatedV1),
        Deleted(ProductDeletedV1),
    }
}

/// Applies product events to the index, as [`Change`]s:
///
/// - created / updated: puts the snapshot (never over a newer version,
///   nothing written for the document the index already holds);
/// - deleted: removes the document.
///
/// A product's rating reaches its document with the product: the catalog
/// keeps the newest rating summary (by the reviews' summary version) and
/// records `product.updated.v1` with each, so the document's rating is
/// ordered like the rest of it (by `updatedAt`). The indexer reads no
/// review events: an approval read here, unversioned, could set an older
/// summary over a newer one.
///
/// The index decides each change against the document it holds when it
/// applies it, so deliveries are handled concurrently (the local bus
/// handles a batch at once) and tantivy commits those of a batch together.
/// Concurrent Lambdas on AWS are not covered by that (see ARCHITECTURE,
/// known gaps).
///
/// Index failures are `Retry`; undecodable events are `Poison`.
pub struct SearchIndexer {
    index: Arc<dyn SearchIndex>,
}

impl SearchIndexer {
    pub const NAME: &'static str = "search-indexer";

    pub fn new(index: Arc<dyn SearchIndex>) -> Self {
        Self { index }
    }
}

fn retry(e: SearchError) -> HandlerError {
    match e {
        SearchError::Invalid(m) => HandlerError::Poison(m),
        SearchError::Unavailable(m) => HandlerError::Retry(m),
    }
}

#[async_trait]
impl Handler for SearchIndexer {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn detail_types(&self) -> &'static [&'static str] {
        IndexerFeed::DETAIL_TYPES
    }

    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let change = match IndexerFeed::decode(event)? {
            IndexerFeed::Created(e) => Change::Put(SearchDoc::from(&e.product)),
            IndexerFeed::Updated(e) => Change::Put(SearchDoc::from(&e.product)),
            IndexerFeed::Deleted(e) => Change::Delete(e.id),
        };
        let id = change.id().to_owned();
        match self.index.apply(change).await.map_err(retry)? {
            Outcome::Stale => {
                tracing::info!(product_id = %id, "stale product event: the index has a newer version")
            }
            Outcome::Written | Outcome::Removed | Outcome::Unchanged => {}
        }
        Ok(())
    }
}
