//! `GET /v1/search` switched to the catalog listing by the runtime flag
//! `searchCatalogFallback` (the file adapter on disk, looked at on every
//! read): while it is on, browsing is answered from the catalog and the
//! engine is not called; text and brand searches answer 503; turning it
//! off (no restart) brings the engine's answers back.

mod common;

use common::engine::{assert_unavailable, engine_over, skus, Probe};
use lite_flags::testing::replace_file;
use lite_flags::FileFlags;
use lite_http::testing::TestClient;
use lite_service::Service;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const PRODUCTS: [(&str, &str, i64); 3] = [
    ("FLG-LAP-001", "laptops", 120_000),
    ("FLG-LAP-002", "laptops", 90_000),
    ("FLG-PHN-001", "phones", 80_000),
];

async fn app(flags_file: &Path) -> (TestClient, Arc<Probe>) {
    let ctx = lite_ports::testing::memory_context();
    let engine = engine_over(&ctx, &PRODUCTS).await;
    let flags = Arc::new(FileFlags::new(flags_file, Duration::ZERO));
    let service = search::Search::new(ctx, engine.clone()).with_flags(flags);
    let client = TestClient::new(lite_http::testing::finish_for_tests(service.router()));
    (client, engine)
}

#[tokio::test]
async fn the_flag_switches_search_to_the_catalog_and_back_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let flags = dir.path().join("flags.json");
    let (client, engine) = app(&flags).await;
    let browse = "/v1/search?category=laptops&sort=price_asc";

    let engine_page = client.get(browse).send().await;
    assert_eq!(engine_page.status, 200, "{}", engine_page.json);
    assert_eq!(skus(&engine_page.json), ["FLG-LAP-002", "FLG-LAP-001"]);
    assert!(!engine_page.json["facets"]["brand"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(engine.queries(), 1);

    replace_file(&flags, r#"{"searchCatalogFallback": true}"#);
    let catalog_page = client.get(browse).send().await;
    assert_eq!(catalog_page.status, 200, "{}", catalog_page.json);
    assert_eq!(skus(&catalog_page.json), ["FLG-LAP-002", "FLG-LAP-001"]);
    assert_eq!(
        catalog_page.json["facets"],
        json!({"category": [], "brand": []})
    );
    // Paging continues on the catalog's cursor.
    let first = client
        .get("/v1/search?category=laptops&sort=price_asc&limit=1")
        .send()
        .await;
    assert_eq!(skus(&first.json), ["FLG-LAP-002"]);
    let cursor = first.json["nextCursor"].as_str().unwrap().to_owned();
    let second = client
        .get(&format!(
            "/v1/search?category=laptops&sort=price_asc&limit=1&cursor={cursor}"
        ))
        .send()
        .await;
    assert_eq!(second.status, 200, "{}", second.json);
    assert_eq!(skus(&second.json), ["FLG-LAP-001"]);
    // Text and brand need the engine.
    assert_unavailable(&client.get("/v1/search?q=northwind").send().await);
    assert_unavailable(&client.get("/v1/search?brand=Northwind").send().await);
    assert_eq!(
        engine.queries(),
        1,
        "the engine is not called while the flag is on"
    );

    // A garbled edit keeps the flag as it was.
    replace_file(&flags, "{\"searchCatalogFallback\": fals");
    let still = client.get(browse).send().await;
    assert_eq!(still.json["facets"]["brand"], json!([]));
    assert_eq!(engine.queries(), 1);

    replace_file(&flags, r#"{"searchCatalogFallback": false}"#);
    let back = client.get(browse).send().await;
    assert_eq!(back.status, 200);
    assert!(!back.json["facets"]["brand"].as_array().unwrap().is_empty());
    let text = client.get("/v1/search?q=northwind").send().await;
    assert_eq!(text.status, 200, "{}", text.json);
    assert_eq!(text.json["total"], 3);
    assert_eq!(engine.queries(), 3);
}
