//! Errors made below the handlers (405 from routing, 413, an extractor's
//! bare 400 or 500) leave as problem+json with the correlation id, the
//! security headers and CORS, exactly like a handler's own answers.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use http_body_util::BodyExt;
use lite_http::testing::test_verifier;
use lite_http::{finish, HttpConfig};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

const ORIGIN: &str = "https://shop.example";

fn app() -> Router {
    let router = Router::new()
        .route(
            "/items/{id}",
            get(|Path(id): Path<String>| async move { id }),
        )
        .route("/bare", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }));
    let config = HttpConfig {
        cors_origins: vec![ORIGIN.parse().unwrap()],
    };
    finish(router, Arc::new(test_verifier()), &config)
}

async fn send(req: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    let res = app().oneshot(req).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn assert_complete_problem(status: StatusCode, headers: &HeaderMap, body: &Value, want: u16) {
    assert_eq!(status.as_u16(), want, "{body}");
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(body["status"], want);
    let id = headers["x-correlation-id"].to_str().unwrap();
    assert!(!id.is_empty());
    assert_eq!(body["correlationId"], id);
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(
            headers.get(name).map(|v| v.to_str().unwrap()),
            Some(value),
            "{name} on {want}"
        );
    }
    assert!(headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
    assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
}

#[tokio::test]
async fn method_not_allowed_carries_every_header() {
    let (s, h, b) = send(
        Request::delete("/items/1")
            .header(header::ORIGIN, ORIGIN)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_complete_problem(s, &h, &b, 405);
    assert_eq!(b["code"], "method_not_allowed");
    assert_eq!(h[header::ALLOW], "GET,HEAD");
}

#[tokio::test]
async fn a_bare_500_carries_every_header_and_no_detail() {
    let (s, h, b) = send(
        Request::get("/bare")
            .header(header::ORIGIN, ORIGIN)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_complete_problem(s, &h, &b, 500);
    assert_eq!(b["code"], "internal");
}

#[tokio::test]
async fn a_path_that_is_not_utf8_is_a_400_problem() {
    let (s, h, b) = send(
        Request::get("/items/%FF")
            .header(header::ORIGIN, ORIGIN)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_complete_problem(s, &h, &b, 400);
    assert_eq!(b["code"], "bad_request");
}

#[tokio::test]
async fn a_declared_oversize_body_is_a_413_with_every_header() {
    let (s, h, b) = send(
        Request::post("/items/1")
            .header(header::ORIGIN, ORIGIN)
            .header(header::CONTENT_LENGTH, (10 * 1024 * 1024).to_string())
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_complete_problem(s, &h, &b, 413);
}
