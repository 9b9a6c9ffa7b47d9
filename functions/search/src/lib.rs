//! Search: the product index behind the [`index::SearchIndex`] port, the
//! tantivy adapter (local), the `search-indexer` consumer, the rebuild
//! from the catalog and the query routes.

mod consumer;
mod doc;
mod error;
pub mod index;
mod rebuild;
pub mod relevance;
mod routes;
mod tantivy_index;

pub use consumer::{IndexerFeed, SearchIndexer};
pub use error::RouteError;
pub use index::SearchIndex;
pub use rebuild::{rebuild, rebuild_if_empty, RebuildError};
pub use routes::{openapi, router, routes, SearchState, ROUTES};
pub use tantivy_index::TantivyIndex;

/// The OpenSearch adapter (AWS).
#[cfg(feature = "opensearch-adapter")]
pub mod opensearch;
