//! The `SearchIndex` port: what the query routes and the indexer need from a
//! search engine. Two adapters implement it: tantivy (local, in the data
//! directory) and OpenSearch (AWS). Both take their field weights, typo
//! rules and tie-breakers from [`crate::relevance`], so they rank alike.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A product as the index holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchDoc {
    /// `prd_<ULID>`.
    pub id: String,
    pub sku: String,
    pub name: String,
    pub description: String,
    /// Lower-case slug.
    pub category: String,
    pub brand: String,
    /// Minor units.
    pub price_amount: i64,
    pub currency: String,
    pub rating_average: f64,
    pub rating_count: u32,
    /// First image, if any (for result lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The orders of `GET /v1/search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    Relevance,
    PriceAsc,
    PriceDesc,
    Rating,
    Newest,
}

/// A parsed search request.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    /// Free text; `None` lists everything matching the filters.
    pub text: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
    /// Inclusive, minor units.
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub sort: Sort,
    /// 1..=100.
    pub limit: usize,
    /// Where the previous page ended (an adapter's own keyset position,
    /// opaque to callers; the routes sign it into the cursor).
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Facets {
    pub category: Vec<FacetCount>,
    pub brand: Vec<FacetCount>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    pub hits: Vec<SearchDoc>,
    /// All matches (of the text and filters), not just this page.
    pub total: u64,
    /// Counts over all matches of the text and the OTHER filter (a brand
    /// facet ignores the brand filter, so shoppers can switch brands).
    pub facets: Facets,
    /// Where this page ended, when there is more.
    pub next: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// The request cannot be run (e.g. a position from another query).
    #[error("invalid search: {0}")]
    Invalid(String),
    /// The engine failed or cannot be reached; retry later.
    #[error("search unavailable: {0}")]
    Unavailable(String),
}

/// One change the indexer asks of the index, applied against the document
/// the index holds at that moment (a put by [`Change::put_skipped`]).
// A change is made once per event and moved, never stored in bulk: a box
// for the document would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The product as of its `updated_at`: written unless the index holds
    /// a newer version (redeliveries and out-of-order events never regress
    /// a document) or this very document (nothing to write).
    Put(SearchDoc),
    /// The document removed (absent is fine).
    Delete(String),
}

/// What applying a [`Change`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The document was written.
    Written,
    /// The document was removed (or was not there).
    Removed,
    /// The index already held this very document.
    Unchanged,
    /// The index holds a newer version of the product.
    Stale,
}

impl Change {
    /// The id of the document the change is about.
    pub fn id(&self) -> &str {
        match self {
            Change::Put(doc) => &doc.id,
            Change::Delete(id) => id,
        }
    }

    /// Why a put of `doc` writes nothing when the index holds `current`
    /// (`Stale`, `Unchanged`); `None`: it is written. The one rule every
    /// adapter applies.
    pub fn put_skipped(doc: &SearchDoc, current: Option<&SearchDoc>) -> Option<Outcome> {
        let current = current?;
        if current.updated_at > doc.updated_at {
            Some(Outcome::Stale)
        } else if current == doc {
            Some(Outcome::Unchanged)
        } else {
            None
        }
    }
}

#[async_trait]
pub trait SearchIndex: Send + Sync + 'static {
    /// Adds or replaces these documents (by id), whatever the index holds
    /// (the rebuild). Visible to searches soon after (seconds at most).
    async fn upsert(&self, docs: Vec<SearchDoc>) -> Result<(), SearchError>;
    /// Applies `change` to the document held when it is applied (a put as
    /// [`Change::put_skipped`] decides): each change is atomic with respect to the
    /// others applied to this index in this process, so concurrent
    /// deliveries never regress a document.
    async fn apply(&self, change: Change) -> Result<Outcome, SearchError>;
    /// The document `id`, if indexed.
    async fn get(&self, id: &str) -> Result<Option<SearchDoc>, SearchError>;
    async fn search(&self, query: &SearchQuery) -> Result<SearchResults, SearchError>;
    /// Up to `limit` completions of `prefix` (prefix and typo tolerant),
    /// best first.
    async fn suggest(&self, prefix: &str, limit: usize) -> Result<Vec<String>, SearchError>;
    /// How many documents the index holds.
    async fn count(&self) -> Result<u64, SearchError>;
}
