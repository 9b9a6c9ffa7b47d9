//! `search-indexer`: keeps the index in step with the catalog's events.

use crate::index::{Change, Outcome, SearchDoc, SearchError, SearchIndex};
use crate::tombstone;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lite_events::contracts::{ProductCreatedV1, ProductDeletedV1, ProductUpdatedV1};
use lite_events::{Envelope, Handler, HandlerError};
use lite_store::{Store, StoreError};
use std::sync::Arc;

/// Deliveries the local bus hands the indexer at once.
const INDEXER_CONCURRENCY: usize = 100;

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
/// - deleted: records the product's tombstone ([`tombstone`]), then
///   removes the document. A put for a product with a tombstone writes
///   nothing, and one that wrote checks again afterwards and removes what
///   it wrote if the product was deleted meanwhile: the delete wrote its
///   tombstone before its removal, so whichever of the two came last in
///   the index, one of them sees the other.
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
    /// Where the tombstones are.
    store: Arc<dyn Store>,
}

impl SearchIndexer {
    pub const NAME: &'static str = "search-indexer";

    pub fn new(index: Arc<dyn SearchIndex>, store: Arc<dyn Store>) -> Self {
        Self { index, store }
    }

    async fn put(&self, doc: SearchDoc) -> Result<(), HandlerError> {
        let id = doc.id.clone();
        if self.deleted(&id).await? {
            tracing::info!(product_id = %id, "event for a deleted product: not indexed");
            return Ok(());
        }
        match self.index.apply(Change::Put(doc)).await.map_err(retry)? {
            Outcome::Written => {
                if self.deleted(&id).await? {
                    tracing::info!(product_id = %id, "the product was deleted while its event was indexed: removed");
                    self.index.apply(Change::Delete(id)).await.map_err(retry)?;
                }
            }
            Outcome::Stale => {
                tracing::info!(product_id = %id, "stale product event: the index has a newer version")
            }
            Outcome::Removed | Outcome::Unchanged => {}
        }
        Ok(())
    }

    async fn delete(&self, id: String, at: DateTime<Utc>) -> Result<(), HandlerError> {
        tombstone::put(self.store.as_ref(), &id, at)
            .await
            .map_err(|e| store_retry(&id, e))?;
        self.index.apply(Change::Delete(id)).await.map_err(retry)?;
        Ok(())
    }

    async fn deleted(&self, id: &str) -> Result<bool, HandlerError> {
        tombstone::exists(self.store.as_ref(), id)
            .await
            .map_err(|e| store_retry(id, e))
    }
}

fn store_retry(id: &str, e: StoreError) -> HandlerError {
    HandlerError::Retry(format!("tombstone of {id}: {e}"))
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

    /// The changes in flight are committed together (tantivy's group
    /// commit), so a burst of product events is indexed a hundred to a
    /// commit rather than ten.
    fn concurrency(&self) -> Option<usize> {
        Some(INDEXER_CONCURRENCY)
    }

    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        match IndexerFeed::decode(event)? {
            IndexerFeed::Created(e) => self.put(SearchDoc::from(&e.product)).await,
            IndexerFeed::Updated(e) => self.put(SearchDoc::from(&e.product)).await,
            IndexerFeed::Deleted(e) => self.delete(e.id, event.time).await,
        }
    }
}
