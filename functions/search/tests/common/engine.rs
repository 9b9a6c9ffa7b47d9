//! What the tests over a live engine share: tantivy behind a decorator
//! that can take the "engine" down and counts the queries and writes
//! reaching it, filled from products created in the catalog.

use async_trait::async_trait;
use lite_http::testing::TestResponse;
use lite_ports::Context;
use search::index::{
    Change, Outcome, SearchDoc, SearchError, SearchIndex, SearchQuery, SearchResults,
};
use search::TantivyIndex;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Tantivy, with an engine that can be taken down (searches and
/// suggestions then answer `Unavailable`) and counts of the searches and
/// suggestions, and of the writes, that reached it.
pub struct Probe {
    inner: TantivyIndex,
    down: AtomicBool,
    queries: AtomicUsize,
    writes: AtomicUsize,
}

impl Probe {
    /// An empty engine in memory, up.
    pub fn new() -> Probe {
        Probe {
            inner: TantivyIndex::in_memory().unwrap(),
            down: AtomicBool::new(false),
            queries: AtomicUsize::new(0),
            writes: AtomicUsize::new(0),
        }
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Searches and suggestions that reached the engine so far.
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }

    /// Upserts, and changes that wrote or removed a document, so far.
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    fn check(&self) -> Result<(), SearchError> {
        self.queries.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            Err(SearchError::Unavailable("connection refused".into()))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl SearchIndex for Probe {
    async fn upsert(&self, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.upsert(docs).await
    }
    async fn apply(&self, change: Change) -> Result<Outcome, SearchError> {
        let outcome = self.inner.apply(change).await?;
        if matches!(outcome, Outcome::Written | Outcome::Removed) {
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
        Ok(outcome)
    }
    async fn get(&self, id: &str) -> Result<Option<SearchDoc>, SearchError> {
        self.inner.get(id).await
    }
    async fn search(&self, query: &SearchQuery) -> Result<SearchResults, SearchError> {
        self.check()?;
        self.inner.search(query).await
    }
    async fn suggest(&self, prefix: &str, limit: usize) -> Result<Vec<String>, SearchError> {
        self.check()?;
        self.inner.suggest(prefix, limit).await
    }
    async fn count(&self) -> Result<u64, SearchError> {
        self.inner.count().await
    }
}

/// Creates `products` (sku, category, price in cents; brand Northwind) in
/// `ctx`'s catalog and returns an engine, up, rebuilt from that catalog.
pub async fn engine_over(ctx: &Context, products: &[(&str, &str, i64)]) -> Arc<Probe> {
    for (sku, category, amount) in products {
        catalog::testing::product(ctx, sku, category, *amount).await;
    }
    let engine = Arc::new(Probe::new());
    search::rebuild(engine.as_ref(), ctx.store.as_ref())
        .await
        .unwrap();
    engine
}

/// The skus of a search page, in its order.
pub fn skus(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sku"].as_str().unwrap().to_owned())
        .collect()
}

/// The engine's 503: `unavailable`, retry when the circuit may close.
pub fn assert_unavailable(r: &TestResponse) {
    assert_eq!(r.status, 503, "{}", r.json);
    assert_eq!(r.json["code"], "unavailable");
    assert_eq!(
        r.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some(search::guard::RETRY_AFTER_SECS.to_string().as_str())
    );
}
