//! The search routes when the engine fails: a `SearchIndex` decorator over
//! tantivy that answers `Unavailable` while the "engine" is down, behind
//! the service's circuit breaker. Plain category browsing falls back to the
//! catalog listing; text search and suggestions answer 503 with
//! `Retry-After`; once open, the breaker keeps calls off the engine; a
//! successful trial closes it.

mod common;

use chrono::{Duration, Utc};
use common::engine::{assert_unavailable, engine_over, skus, Probe};
use lite_core::ManualClock;
use lite_http::testing::{TestClient, TestResponse};
use lite_ports::Context;
use lite_service::Service;
use serde_json::json;
use std::sync::Arc;

struct App {
    client: TestClient,
    engine: Arc<Probe>,
    clock: Arc<ManualClock>,
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
    let engine = engine_over(&ctx, &PRODUCTS).await;
    let router =
        lite_http::testing::finish_for_tests(search::Search::new(ctx, engine.clone()).router());
    App {
        client: TestClient::new(router),
        engine,
        clock,
    }
}

impl App {
    async fn get(&self, uri: &str) -> TestResponse {
        self.client.get(uri).send().await
    }

    fn queries(&self) -> usize {
        self.engine.queries()
    }
}

#[tokio::test]
async fn browsing_falls_back_to_the_catalog_and_the_rest_answers_503() {
    let app = app().await;
    let browse = "/v1/search?category=laptops&sort=price_asc&maxPrice=130000";
    let up = app.get(browse).await;
    assert_eq!(up.status, 200, "{}", up.json);
    assert_eq!(skus(&up.json), ["BRK-LAP-002", "BRK-LAP-001"]);
    assert!(!up.json["facets"]["brand"].as_array().unwrap().is_empty());

    app.engine.set_down(true);
    // The same browse, from the catalog listing: same items, same order,
    // no facets.
    let fallback = app.get(browse).await;
    assert_eq!(fallback.status, 200, "{}", fallback.json);
    assert_eq!(skus(&fallback.json), ["BRK-LAP-002", "BRK-LAP-001"]);
    assert_eq!(
        fallback.json["facets"],
        json!({"category": [], "brand": []})
    );
    assert_eq!(fallback.json["total"], 2);

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
    assert_eq!(all.status, 200, "{}", all.json);
    assert_eq!(app.queries(), reached);

    // Paging through the fallback continues on the catalog's cursor.
    let first = app
        .get("/v1/search?category=laptops&sort=newest&limit=2")
        .await;
    assert_eq!(first.status, 200, "{}", first.json);
    let cursor = first.json["nextCursor"].as_str().unwrap().to_owned();
    let second = app
        .get(&format!(
            "/v1/search?category=laptops&sort=newest&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(second.status, 200, "{}", second.json);
    let mut seen = skus(&first.json);
    seen.extend(skus(&second.json));
    seen.sort();
    assert_eq!(seen, ["BRK-LAP-001", "BRK-LAP-002", "BRK-LAP-003"]);
    // A cursor from another listing is still refused, by name.
    let foreign = app
        .get(&format!(
            "/v1/search?category=phones&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(foreign.status, 400, "{}", foreign.json);
    assert_eq!(foreign.json["errors"][0]["field"], "cursor");
}

#[tokio::test]
async fn a_successful_trial_closes_the_circuit() {
    let app = app().await;
    app.engine.set_down(true);
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
    app.engine.set_down(false);
    app.clock.advance(Duration::seconds(15));
    let found = app.get("/v1/search?q=northwind").await;
    assert_eq!(found.status, 200, "{}", found.json);
    assert_eq!(found.json["total"], 4);
    let suggested = app.get("/v1/search/suggest?q=nor").await;
    assert_eq!(suggested.status, 200, "{}", suggested.json);
}
