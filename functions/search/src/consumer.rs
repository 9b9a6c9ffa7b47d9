//! `search-indexer`: keeps the index in step with the catalog's events.

use crate::index::{SearchDoc, SearchError, SearchIndex};
use async_trait::async_trait;
use lite_events::contracts::{
    ProductCreatedV1, ProductDeletedV1, ProductSnapshot, ProductUpdatedV1, ReviewApprovedV1,
};
use lite_events::{Envelope, Handler, HandlerError};
use std::sync::Arc;

lite_events::accepts! {
    /// What the indexer reads.
    #[derive(Debug)]
    pub enum IndexerFeed {
        Created(ProductCreatedV1),
        Updated(ProductUpdatedV1),
        Deleted(ProductDeletedV1),
        ReviewApproved(ReviewApprovedV1),
    }
}

/// Applies product events to the index.
///
/// - created / updated: upserts the snapshot, unless the index already
///   holds a newer version (`updatedAt`): redeliveries and out-of-order
///   events never regress a document; nor when it holds this very
///   document (nothing to write).
/// - deleted: removes the document.
/// - review approved: sets the product's rating summary on its document,
///   if indexed (a product without a document is not searchable anyway).
///
/// Index failures are `Retry`; undecodable events are `Poison`.
///
/// One event at a time per indexer: the `updatedAt` check and the rating
/// update read the document before writing it, so two deliveries handled
/// at once (the local bus handles a batch concurrently) could otherwise
/// regress it. Concurrent Lambdas on AWS are not covered by this (see
/// ARCHITECTURE, known gaps).
pub struct SearchIndexer {
    index: Arc<dyn SearchIndex>,
    one_at_a_time: tokio::sync::Mutex<()>,
}

impl SearchIndexer {
    pub const NAME: &'static str = "search-indexer";

    pub fn new(index: Arc<dyn SearchIndex>) -> Self {
        Self {
            index,
            one_at_a_time: tokio::sync::Mutex::new(()),
        }
    }

    async fn put(&self, product: &ProductSnapshot) -> Result<(), HandlerError> {
        let doc = SearchDoc::from(product);
        if let Some(current) = self.index.get(&doc.id).await.map_err(retry)? {
            if current.updated_at > doc.updated_at {
                tracing::info!(product_id = %doc.id, "stale product event: the index has a newer version");
                return Ok(());
            }
            // A redelivery, or a product a rebuild indexed before its
            // event came: nothing to write (a commit is the indexer's cost).
            if current == doc {
                return Ok(());
            }
        }
        self.index.upsert(vec![doc]).await.map_err(retry)
    }

    async fn rating(&self, e: &ReviewApprovedV1) -> Result<(), HandlerError> {
        let Some(mut doc) = self.index.get(&e.product_id).await.map_err(retry)? else {
            tracing::info!(product_id = %e.product_id, "review for a product that is not indexed");
            return Ok(());
        };
        doc.rating_average = e.product_rating.average;
        doc.rating_count = e.product_rating.count;
        self.index.upsert(vec![doc]).await.map_err(retry)
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
        let feed = IndexerFeed::decode(event)?;
        let _turn = self.one_at_a_time.lock().await;
        match feed {
            IndexerFeed::Created(e) => self.put(&e.product).await,
            IndexerFeed::Updated(e) => self.put(&e.product).await,
            IndexerFeed::Deleted(e) => self.index.delete(&e.id).await.map_err(retry),
            IndexerFeed::ReviewApproved(e) => self.rating(&e).await,
        }
    }
}
