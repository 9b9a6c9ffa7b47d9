//! The shared stack, exercised through a tiny router with `oneshot`.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::BodyExt;
use lite_http::testing::{admin_token, customer_token, test_verifier};
use lite_http::{finish, Admin, Authenticated, HttpConfig, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Echo {
    name: String,
    count: u8,
}

fn app() -> Router {
    let router =
        Router::new()
            .route("/ok", get(|| async { "ok" }))
            .route(
                "/echo",
                post(|Json(e): Json<Echo>| async move {
                    Json(json!({"name": e.name, "count": e.count}))
                }),
            )
            .route("/boom", get(|| async { boom() }))
            .route(
                "/me",
                get(|Authenticated(c): Authenticated| async move { c.sub }),
            )
            .route("/admin", get(|Admin(c): Admin| async move { c.sub }));
    let config = HttpConfig {
        cors_origins: vec!["https://shop.example".parse().unwrap()],
    };
    finish(router, Arc::new(test_verifier()), &config)
}

async fn send(req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let res = app().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, headers, body)
}

fn get_req(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn assert_problem(headers: &axum::http::HeaderMap, body: &Value, status: u16, code: &str) {
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(body["status"], status);
    assert_eq!(body["code"], code);
    for field in ["type", "title", "detail", "correlationId", "errors"] {
        assert!(body.get(field).is_some(), "problem lacks {field}: {body}");
    }
    assert_eq!(
        body["correlationId"],
        headers["x-correlation-id"].to_str().unwrap()
    );
}

#[tokio::test]
async fn correlation_id_is_echoed_when_sane_and_generated_otherwise() {
    let (_, h, _) = send(
        Request::get("/ok")
            .header("x-correlation-id", "abc-123")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(h["x-correlation-id"], "abc-123");
    let (_, h, _) = send(
        Request::get("/ok")
            .header("x-correlation-id", "bad id!")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_ne!(h["x-correlation-id"], "bad id!");
    assert_eq!(h["x-correlation-id"].len(), 26);
}

#[tokio::test]
async fn security_headers_are_set() {
    let (s, h, _) = send(get_req("/ok")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(h.contains_key("strict-transport-security"));
}

#[tokio::test]
async fn unknown_route_and_wrong_method_are_problems() {
    let (s, h, b) = send(get_req("/nope")).await;
    assert_eq!(s, 404);
    assert_problem(&h, &b, 404, "not_found");
    let (s, h, b) = send(Request::delete("/ok").body(Body::empty()).unwrap()).await;
    assert_eq!(s, 405);
    assert_problem(&h, &b, 405, "method_not_allowed");
}

#[tokio::test]
async fn json_errors_are_400_problems_naming_the_field() {
    let post = |body: &str, ct: &str| {
        Request::post("/echo")
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    let (s, h, b) = send(post("{oops", "application/json")).await;
    assert_eq!(s, 400);
    assert_problem(&h, &b, 400, "bad_request");
    let (s, _, b) = send(post(r#"{"name":"a","count":"x"}"#, "application/json")).await;
    assert_eq!(s, 400);
    assert_eq!(b["code"], "validation_failed");
    assert_eq!(b["errors"][0]["field"], "count");
    let (s, _, b) = send(post(r#"{"name":"a","count":300}"#, "application/json")).await;
    assert_eq!(
        (s.as_u16(), b["errors"][0]["field"].as_str()),
        (400, Some("count"))
    );
    let (s, _, b) = send(post(
        r#"{"name":"a","count":1,"extra":true}"#,
        "application/json",
    ))
    .await;
    assert_eq!(
        (s.as_u16(), b["code"].as_str()),
        (400, Some("validation_failed"))
    );
    let (s, _, b) = send(post(r#"{"name":"a","count":1}"#, "text/plain")).await;
    assert_eq!(
        (s.as_u16(), b["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let (s, _, b) = send(post(
        r#"{"name":"a","count":1}"#,
        "application/json; charset=utf-8",
    ))
    .await;
    assert_eq!((s.as_u16(), b["name"].as_str()), (200, Some("a")));
}

#[tokio::test]
async fn bodies_over_256_kib_are_413() {
    let big = format!(r#"{{"name":"{}","count":1}}"#, "x".repeat(300 * 1024));
    let req = Request::post("/echo")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(big))
        .unwrap();
    let (s, h, b) = send(req).await;
    assert_eq!(s, 413);
    assert_problem(&h, &b, 413, "payload_too_large");
}

#[tokio::test]
async fn panics_become_500_without_internals() {
    let (s, h, b) = send(get_req("/boom")).await;
    assert_eq!(s, 500);
    assert_problem(&h, &b, 500, "internal");
    assert!(!b.to_string().contains("hunter2"));
}

#[tokio::test]
async fn bearer_and_admin_routes() {
    let (s, h, b) = send(get_req("/me")).await;
    assert_eq!(s, 401);
    assert_problem(&h, &b, 401, "unauthorized");
    assert_eq!(h[header::WWW_AUTHENTICATE], "Bearer");
    let with = |uri: &str, token: &str| {
        Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let (s, _, b) = send(with("/me", &customer_token("usr_1"))).await;
    assert_eq!((s.as_u16(), b.as_str()), (200, Some("usr_1")));
    let (s, h, b) = send(with("/admin", &customer_token("usr_1"))).await;
    assert_eq!(s, 403);
    assert_problem(&h, &b, 403, "forbidden");
    let (s, _, _) = send(with("/admin", &admin_token("usr_2"))).await;
    assert_eq!(s, 200);
    let (s, _, _) = send(with("/me", "not.a.token")).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let preflight = |origin: &str| {
        Request::options("/ok")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .body(Body::empty())
            .unwrap()
    };
    let (_, h, _) = send(preflight("https://shop.example")).await;
    assert_eq!(
        h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://shop.example"
    );
    let (_, h, _) = send(preflight("https://evil.example")).await;
    assert!(!h.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    let (_, h, _) = send(get_req("/ok")).await;
    assert!(h[header::VARY].to_str().unwrap().contains("origin"));
}

/// With no origin configured there is no CORS: a preflight allows
/// nothing, and no answer carries a CORS header or a `Vary` for it.
#[tokio::test]
async fn no_origins_no_cors_headers() {
    let app = finish(
        Router::new().route("/ok", get(|| async { "ok" })),
        Arc::new(test_verifier()),
        &HttpConfig::default(),
    );
    let preflight = Request::options("/ok")
        .header(header::ORIGIN, "https://shop.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .body(Body::empty())
        .unwrap();
    let with_origin = Request::get("/ok")
        .header(header::ORIGIN, "https://shop.example")
        .body(Body::empty())
        .unwrap();
    for req in [preflight, with_origin, get_req("/ok")] {
        let res = app.clone().oneshot(req).await.unwrap();
        let cors: Vec<_> = res
            .headers()
            .keys()
            .filter(|k| k.as_str().starts_with("access-control-") || *k == header::VARY)
            .collect();
        assert!(cors.is_empty(), "{}: {cors:?}", res.status());
        assert_eq!(res.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
}

fn boom() -> &'static str {
    panic!("secret internals: db password hunter2")
}
