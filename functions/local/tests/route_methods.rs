//! The assembled router answers exactly the route table: for every path in
//! the table, each method the table does not list for it is a 405
//! problem+json whose `Allow` names exactly the table's methods for that
//! path (and HEAD where GET is listed: HTTP serves HEAD wherever it serves
//! GET), with the correlation id and the security headers; OPTIONS may
//! instead succeed, with that same `Allow`. Handlers of
//! different paths mounted on one path (one `routes!` with both) fail here.

use amazon_lite::app::{self, System, SystemParts};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use lite_http::HttpConfig;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tower::ServiceExt;

const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

fn system() -> System {
    System::assemble(SystemParts {
        verifier: lite_http::testing::test_verifier(),
        ..SystemParts::new(
            lite_ports::testing::memory_context(),
            Arc::new(search::TantivyIndex::in_memory().unwrap()),
            std::env::temp_dir(),
        )
    })
    .unwrap()
}

/// `/v1/orders/{id}/payment` → `/v1/orders/x/payment`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_other_method_is_a_405_that_allows_exactly_the_tables_methods() {
    let system = system();
    let router = app::router(&system, &HttpConfig::default());
    let admin = lite_http::testing::admin_token("usr_01JADM000000000000000000000");

    let mut by_path: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in api::route_table() {
        by_path.entry(r.path).or_default().insert(r.method);
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for (path, listed) in &by_path {
        let mut allowed = listed.clone();
        if allowed.contains("GET") {
            allowed.insert("HEAD");
        }
        for method in METHODS.iter().filter(|m| !allowed.contains(**m)) {
            let req = Request::builder()
                .method(Method::from_bytes(method.as_bytes()).unwrap())
                .uri(concrete(path))
                .header("authorization", format!("Bearer {admin}"))
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let resp = router.clone().oneshot(req).await.unwrap();
            checked += 1;
            let header = |name: &str| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned()
            };
            let allow: BTreeSet<String> = header("allow")
                .split(',')
                .map(|m| m.trim().to_owned())
                .filter(|m| !m.is_empty())
                .collect();
            let expected: BTreeSet<String> = allowed.iter().map(|m| m.to_string()).collect();
            // OPTIONS asks which methods there are: a success naming them
            // is as right as a 405 naming them.
            let answered = if *method == "OPTIONS" && resp.status().is_success() {
                true
            } else {
                resp.status() == StatusCode::METHOD_NOT_ALLOWED
                    && header("content-type").starts_with("application/problem+json")
            };
            let ok = answered
                && allow == expected
                && !header("x-correlation-id").is_empty()
                && header("x-content-type-options") == "nosniff"
                && !header("content-security-policy").is_empty();
            if !ok {
                failures.push(format!(
                    "{method} {path}: {} allow={allow:?} (expected {expected:?}) content-type={:?}",
                    resp.status(),
                    header("content-type"),
                ));
            }
        }
    }
    assert!(checked > 100, "only {checked} requests made");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The table's own methods reach a handler: never the router's 404 or 405,
/// never a 500 (a handler mounted on another handler's path is not found
/// on its own path, and answers the wrong shape on the other).
#[tokio::test]
async fn every_listed_method_reaches_its_handler() {
    let system = system();
    let router = app::router(&system, &HttpConfig::default());
    let admin = lite_http::testing::admin_token("usr_01JADM000000000000000000000");
    let mut failures = Vec::new();
    for r in api::route_table() {
        let req = Request::builder()
            .method(Method::from_bytes(r.method.as_bytes()).unwrap())
            .uri(concrete(r.path))
            .header("authorization", format!("Bearer {admin}"))
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let resp = router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let no_route =
            status == StatusCode::NOT_FOUND && problem["detail"] == "No route matches this path.";
        if no_route
            || status == StatusCode::METHOD_NOT_ALLOWED
            || status == StatusCode::INTERNAL_SERVER_ERROR
        {
            failures.push(format!("{} {}: {status} {problem}", r.method, r.path));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
