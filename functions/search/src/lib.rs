//! Search: the product index behind the [`index::SearchIndex`] port.

pub mod index;
pub mod relevance;

/// The OpenSearch adapter (AWS).
#[cfg(feature = "opensearch-adapter")]
pub mod opensearch;
