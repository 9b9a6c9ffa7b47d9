//! Search: the product index behind the [`index::SearchIndex`] port, the
//! tantivy adapter (local), the `search-indexer` consumer, the rebuild
//! from the catalog and the query routes.

mod consumer;
mod doc;
mod error;
pub mod guard;
pub mod index;
mod rebuild;
pub mod relevance;
mod routes;
mod tantivy_index;
pub mod tombstone;

pub use consumer::{IndexerFeed, SearchIndexer};
pub use error::RouteError;
pub use index::SearchIndex;
pub use rebuild::{rebuild, rebuild_if_empty, RebuildError};
pub use routes::{openapi, routes, DEFAULT_SUGGESTIONS, MAX_SUGGESTIONS, ROUTES};
pub use tantivy_index::{TantivyIndex, DEFAULT_WRITER_BUDGET_BYTES};

/// The OpenSearch adapter (AWS).
#[cfg(feature = "opensearch-adapter")]
pub mod opensearch;

use lite_flags::SharedFlags;
use lite_ports::Context;
use lite_service::Service;
use std::sync::Arc;

/// The search service on its index (tantivy locally, OpenSearch on AWS):
/// the query routes and the `search-indexer` consumer that keeps the index
/// in step with the catalog.
#[derive(Clone)]
pub struct Search {
    ctx: Context,
    index: Arc<dyn SearchIndex>,
    flags: SharedFlags,
}

impl Search {
    /// The service on `index`, behind the engine's circuit breaker
    /// ([`guard`]).
    pub fn new(ctx: Context, index: Arc<dyn SearchIndex>) -> Self {
        let index = Arc::new(guard::GuardedIndex::new(index, ctx.clock.clone()));
        Self {
            ctx,
            index,
            flags: lite_flags::defaults(),
        }
    }

    /// Reads the runtime flags from `flags` (`searchCatalogFallback`
    /// switches `GET /v1/search` to the catalog listing); without this,
    /// the defaults.
    pub fn with_flags(mut self, flags: SharedFlags) -> Self {
        self.flags = flags;
        self
    }
}

impl Service for Search {
    fn name(&self) -> &'static str {
        "search"
    }

    fn router(&self) -> axum::Router {
        routes::router(routes::SearchState {
            ctx: self.ctx.clone(),
            index: self.index.clone(),
            flags: self.flags.clone(),
        })
    }

    fn consumers(&self) -> Vec<Arc<dyn lite_events::Handler>> {
        vec![Arc::new(SearchIndexer::new(
            self.index.clone(),
            self.ctx.store.clone(),
        ))]
    }
}
