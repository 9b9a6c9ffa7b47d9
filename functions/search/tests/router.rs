//! The search routes, through every shared layer, without sockets.

mod common;

use axum::http::StatusCode;
use lite_http::testing::TestClient;
use lite_service::Service;
use search::index::SearchIndex;
use serde_json::Value;
use std::sync::Arc;

async fn app() -> axum::Router {
    let index: Arc<dyn SearchIndex> = Arc::new(common::demo_index().await);
    let ctx = lite_ports::testing::memory_context();
    lite_http::testing::finish_for_tests(search::Search::new(ctx, index).router())
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Value, String) {
    let r = TestClient::new(app.clone()).get(uri).send().await;
    let ct = r
        .headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (r.status, r.json, ct)
}

#[tokio::test]
async fn search_returns_items_facets_and_total() {
    let app = app().await;
    let (s, body, _) = get(&app, "/v1/search?q=labtop&limit=5").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    let first = &items[0];
    assert_eq!(first["category"], "laptops");
    for field in ["id", "sku", "name", "description", "brand", "image"] {
        assert!(first[field].is_string(), "{field}");
    }
    assert!(first["price"]["amount"].is_i64() && first["price"]["currency"] == "USD");
    assert!(first["rating"]["average"].is_number() && first["rating"]["count"].is_u64());
    assert!(body["total"].as_u64().unwrap() >= 20);
    assert!(body["facets"]["category"][0]["value"] == "laptops");
    assert!(body["facets"]["brand"].as_array().unwrap().len() > 1);
    assert!(body["nextCursor"].is_string());
}

#[tokio::test]
async fn cursors_walk_every_page_once_and_are_bound_to_their_query() {
    let app = app().await;
    let base = "/v1/search?category=books&sort=price_asc&limit=6";
    let (_, first, _) = get(&app, base).await;
    let total = first["total"].as_u64().unwrap() as usize;
    let mut ids: Vec<String> = Vec::new();
    let mut page = first;
    loop {
        ids.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned()),
        );
        let Some(c) = page["nextCursor"].as_str() else {
            break;
        };
        let (s, next, _) = get(&app, &format!("{base}&cursor={c}")).await;
        assert_eq!(s, StatusCode::OK);
        page = next;
    }
    assert_eq!(ids.len(), total);
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), total);

    // A cursor of one query is refused by another, and a forged one too.
    let (_, first, _) = get(&app, base).await;
    let c = first["nextCursor"].as_str().unwrap();
    let (s, body, ct) = get(
        &app,
        &format!("/v1/search?category=toys&sort=price_asc&limit=6&cursor={c}"),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(ct.starts_with("application/problem+json"));
    assert_eq!(body["errors"][0]["field"], "cursor", "{body}");
    let (s, _, _) = get(&app, &format!("{base}&cursor=forged")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bad_parameters_are_named() {
    let app = app().await;
    let long = "a".repeat(201);
    for (uri, field) in [
        ("/v1/search?limit=0".to_owned(), "limit"),
        ("/v1/search?limit=101".to_owned(), "limit"),
        (
            "/v1/search?minPrice=500&maxPrice=100".to_owned(),
            "maxPrice",
        ),
        ("/v1/search?minPrice=-1".to_owned(), "minPrice"),
        ("/v1/search?sort=cheapest".to_owned(), "sort"),
        (format!("/v1/search?q={long}"), "q"),
        ("/v1/search/suggest".to_owned(), "q"),
        ("/v1/search/suggest?q=%20".to_owned(), "q"),
        ("/v1/search/suggest?q=lap&limit=0".to_owned(), "limit"),
    ] {
        let (s, body, ct) = get(&app, &uri).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}");
        assert!(ct.starts_with("application/problem+json"), "{uri}");
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{uri}: {body}");
    }
    let (s, _, _) = get(&app, "/v1/search?limit=abc").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = get(&app, "/v1/search?unknown=1").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn suggest_completes_what_was_typed() {
    let app = app().await;
    let (s, body, _) = get(&app, "/v1/search/suggest?q=lap").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["suggestions"][0], "laptop");
    let (_, body, _) = get(&app, "/v1/search/suggest?q=hedph&limit=2").await;
    assert_eq!(body["suggestions"][0], "headphones");
    assert!(body["suggestions"].as_array().unwrap().len() <= 2);
}

#[test]
fn route_table_matches_the_openapi_document() {
    let doc = search::openapi();
    for r in search::ROUTES {
        let item = doc
            .paths
            .paths
            .get(r.path)
            .unwrap_or_else(|| panic!("{} undocumented", r.path));
        assert!(item.get.is_some(), "{}", r.path);
        assert_eq!(r.auth, lite_http::Access::Public);
    }
    assert_eq!(doc.paths.paths.len(), search::ROUTES.len());
}
