//! A busy store answers the same everywhere: every service maps store
//! failures through the one mapping in lite-store, so a throttled store is
//! `503 unavailable` with `Retry-After: 1` here as in every other service.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use lite_http::testing::customer_token;
use lite_ports::{Context, Cursors};
use lite_store::testing::FailingStore;
use lite_store::StoreError;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

/// The orders routes (a customer listing orders) on a store that answers `error` to every call.
fn router(error: StoreError) -> axum::Router {
    let codec = lite_core::CursorCodec::new(lite_core::CursorCodec::random_key());
    let ctx = Context::new(Arc::new(FailingStore(error)), Cursors::ready(codec));
    lite_http::testing::finish_for_tests(lite_service::Service::router(&orders::Orders::new(ctx)))
}

async fn get(router: axum::Router) -> (StatusCode, Option<String>, Value) {
    let request = Request::get("/v1/orders")
        .header(
            header::AUTHORIZATION,
            format!(
                "Bearer {}",
                customer_token("usr_01JANN000000000000000000000")
            ),
        )
        .body(Body::empty())
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, retry_after, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn a_throttled_store_is_503_unavailable_with_retry_after() {
    let (status, retry_after, body) = get(router(StoreError::Throttled)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert_eq!(body["code"], "unavailable");
    assert_eq!(body["detail"], lite_store::BUSY_DETAIL);
}

#[tokio::test]
async fn an_unreachable_store_is_a_generic_500() {
    let (status, retry_after, body) =
        get(router(StoreError::Unavailable("connection refused".into()))).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(retry_after, None);
    assert_eq!(body["code"], "internal");
    assert!(!body.to_string().contains("refused"), "{body}");
}
