//! The search routes when the engine fails: a `SearchIndex` decorator over
//! tantivy that answers `Unavailable` while the "engine" is down, behind
//! the service's circuit breaker. Plain category browsing falls back to the
//! catalog listing; text search and suggestions answer 503 with
//! `Retry-After`; once open, the breaker keeps calls off the engine; a
//! successful trial closes it.

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{Duration, Utc};
use http_body_util::BodyExt;
use lite_core::ManualClock;
use lite_ports::Context;
use lite_service::Service;
use search::index::{SearchDoc, SearchError, SearchIndex, SearchQuery, SearchResults};
use search::TantivyIndex;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tower::ServiceExt;

/// Tantivy, with an engine that can be taken down.
struct Flaky {
    inner: TantivyIndex,
    down: AtomicBool,
    /// Queries that reached the engine.
    queries: AtomicUsize,
}

impl Flaky {
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
impl SearchIndex for Flaky {
    async fn upsert(&self, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        self.inner.upsert(docs).await
    }
    async fn delete(&self, id: &str) -> Result<(), SearchError> {
        self.inner.delete(id).await
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

struct App {
    router: axum::Router,
    engine: Arc<Flaky>,
    clock: Arc<ManualClock>,
}

struct Answer {
    status: StatusCode,
    retry_after: Option<String>,
    body: Value,
}

const PRODUCTS: [(&str, &str, i64); 4] = [
    ("BRK-LAP-001", "laptops", 120_000),
    ("BRK-LAP-002", "laptops", 90_000),
    ("BRK-LAP-003", "laptops", 150_000),
    ("BRK-PHN-001", "phones", 80_000),
];

async fn app() -> App {
    let mut ctx: Context = lite_ports::testing::memory_context();
    let clock = Arc::new(ManualClock::new(Utc::now()));
    ctx.clock = clock.clone();
    for (sku, category, amount) in PRODUCTS {
        let input: catalog::ProductInput = serde_json::from_value(json!({
            "sku": sku, "name": format!("Northwind {sku}"), "category": category,
            "brand": "Northwind", "price": {"amount": amount, "currency": "USD"}
        }))
        .unwrap();
        catalog::create(&ctx, catalog::NewProduct::parse(input).unwrap())
            .await
            .unwrap();
    }
    let engine = Arc::new(Flaky {
        inner: TantivyIndex::in_memory().unwrap(),
        down: AtomicBool::new(false),
        queries: AtomicUsize::new(0),
    });
    search::rebuild(engine.as_ref(), ctx.store.as_ref())
        .await
        .unwrap();
    let router =
        lite_http::testing::finish_for_tests(search::Search::new(ctx, engine.clone()).router());
    App {
        router,
        engine,
        clock,
    }
}

impl App {
    async fn get(&self, uri: &str) -> Answer {
        let res = self
            .router
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let retry_after = res
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            retry_after,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    fn queries(&self) -> usize {
        self.engine.queries.load(Ordering::SeqCst)
    }
}

fn skus(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sku"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_unavailable(a: &Answer) {
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.body);
    assert_eq!(a.body["code"], "unavailable");
    assert_eq!(
        a.retry_after.as_deref(),
        Some(search::guard::RETRY_AFTER_SECS.to_string().as_str())
    );
}

#[tokio::test]
async fn browsing_falls_back_to_the_catalog_and_the_rest_answers_503() {
    let app = app().await;
    let browse = "/v1/search?category=laptops&sort=price_asc&maxPrice=130000";
    let up = app.get(browse).await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    assert_eq!(skus(&up.body), ["BRK-LAP-002", "BRK-LAP-001"]);
    assert!(!up.body["facets"]["brand"].as_array().unwrap().is_empty());

    app.engine.down.store(true, Ordering::SeqCst);
    // The same browse, from the catalog listing: same items, same order,
    // no facets.
    let fallback = app.get(browse).await;
    assert_eq!(fallback.status, StatusCode::OK, "{}", fallback.body);
    assert_eq!(skus(&fallback.body), ["BRK-LAP-002", "BRK-LAP-001"]);
    assert_eq!(
        fallback.body["facets"],
        json!({"category": [], "brand": []})
    );
    assert_eq!(fallback.body["total"], 2);

    // Text, a brand filter and suggestions need the engine.
    assert_unavailable(&app.get("/v1/search?q=northwind").await);
    assert_unavailable(&app.get("/v1/search?category=laptops&brand=Northwind").await);
    assert_unavailable(&app.get("/v1/search/suggest?q=nor").await);

    // The fifth failure in a row opens the circuit: calls no longer reach
    // the engine.
    assert_eq!(app.queries(), 5, "one query while up, four failures");
    assert_unavailable(&app.get("/v1/search?q=northwind").await);
    let reached = app.queries();
    assert_unavailable(&app.get("/v1/search?q=northwind").await);
    assert_unavailable(&app.get("/v1/search/suggest?q=nor").await);
    let all = app.get("/v1/search?limit=2").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(app.queries(), reached);

    // Paging through the fallback continues on the catalog's cursor.
    let first = app
        .get("/v1/search?category=laptops&sort=newest&limit=2")
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    let second = app
        .get(&format!(
            "/v1/search?category=laptops&sort=newest&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    let mut seen = skus(&first.body);
    seen.extend(skus(&second.body));
    seen.sort();
    assert_eq!(seen, ["BRK-LAP-001", "BRK-LAP-002", "BRK-LAP-003"]);
    // A cursor from another listing is still refused, by name.
    let foreign = app
        .get(&format!(
            "/v1/search?category=phones&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST, "{}", foreign.body);
    assert_eq!(foreign.body["errors"][0]["field"], "cursor");
}

#[tokio::test]
async fn a_successful_trial_closes_the_circuit() {
    let app = app().await;
    app.engine.down.store(true, Ordering::SeqCst);
    for _ in 0..search::guard::POLICY.failures {
        assert_unavailable(&app.get("/v1/search?q=northwind").await);
    }
    let reached = app.queries();
    assert_unavailable(&app.get("/v1/search?q=northwind").await);
    assert_eq!(app.queries(), reached, "open: the engine is not asked");

    // Half-open after the open period: one trial, still failing, reopens.
    app.clock.advance(Duration::seconds(15));
    assert_unavailable(&app.get("/v1/search?q=northwind").await);
    assert_eq!(app.queries(), reached + 1);
    assert_unavailable(&app.get("/v1/search?q=northwind").await);
    assert_eq!(app.queries(), reached + 1);

    // The engine is back: the next trial succeeds and search works again.
    app.engine.down.store(false, Ordering::SeqCst);
    app.clock.advance(Duration::seconds(15));
    let found = app.get("/v1/search?q=northwind").await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert_eq!(found.body["total"], 4);
    let suggested = app.get("/v1/search/suggest?q=nor").await;
    assert_eq!(suggested.status, StatusCode::OK, "{}", suggested.body);
}
