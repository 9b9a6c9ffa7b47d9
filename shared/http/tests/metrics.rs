//! `http_requests` and `http_request_duration` from the shared stack: the
//! route label is the matched template, never the path.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use lite_core::ErrorCode;
use lite_http::testing::test_verifier;
use lite_http::{finish, ApiError, HttpConfig};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

/// This test binary's recorder (one per process: installed once).
fn snapshotter() -> &'static Snapshotter {
    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder
            .install()
            .expect("the only recorder of this binary");
        snapshotter
    })
}

/// Held by each test for its whole run: a snapshot drains the counters it
/// reads (`swap(0)`), so one test's snapshot taken between another's
/// requests would take that test's counts.
async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

fn app() -> Router {
    let refuse = |code| move || async move { ApiError::new(code, "refused") };
    let router = Router::new()
        .route(
            "/v1/things/{id}",
            get(|| async { "thing" }).post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .route("/v1/paused", get(refuse(ErrorCode::CheckoutPaused)))
        .route("/v1/busy", get(refuse(ErrorCode::Unavailable)));
    finish(router, Arc::new(test_verifier()), &HttpConfig::default())
}

async fn call(method: &str, uri: &str) -> StatusCode {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    app().oneshot(req).await.unwrap().status()
}

/// (name, labels, value) of one recorded metric.
type Recorded = (String, Vec<(String, String)>, DebugValue);

/// Every recorded metric.
fn recorded() -> Vec<Recorded> {
    snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            (key.name().to_owned(), labels, value)
        })
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn requests_are_counted_by_route_template_method_and_status_class() {
    let _alone = exclusive().await;
    snapshotter();
    assert_eq!(call("GET", "/v1/things/a1").await, StatusCode::OK);
    assert_eq!(call("GET", "/v1/things/b2").await, StatusCode::OK);
    assert_eq!(
        call("POST", "/v1/things/c3").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        call("DELETE", "/v1/things/d4").await,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(call("GET", "/no/such/path").await, StatusCode::NOT_FOUND);

    let all = recorded();
    let counter = |pairs: &[(&str, &str)]| {
        let want = labels(pairs);
        all.iter()
            .find(|(name, l, _)| name == "http_requests" && *l == want)
            .map(|(_, _, v)| v)
    };
    let svc = ("service", "amazon-lite");
    let route = ("route", "/v1/things/{id}");
    assert_eq!(
        counter(&[svc, route, ("method", "GET"), ("status_class", "2xx")]),
        Some(&DebugValue::Counter(2))
    );
    assert_eq!(
        counter(&[svc, route, ("method", "POST"), ("status_class", "5xx")]),
        Some(&DebugValue::Counter(1))
    );
    assert_eq!(
        counter(&[svc, route, ("method", "DELETE"), ("status_class", "4xx")]),
        Some(&DebugValue::Counter(1))
    );
    assert_eq!(
        counter(&[
            svc,
            ("route", "unmatched"),
            ("method", "GET"),
            ("status_class", "4xx")
        ]),
        Some(&DebugValue::Counter(1))
    );
    assert!(
        all.iter().all(|(_, l, _)| l
            .iter()
            .all(|(_, v)| !v.contains("a1") && v != "/no/such/path")),
        "no raw path in any label: {all:?}"
    );
    let durations = all
        .iter()
        .find(|(name, l, _)| {
            name == "http_request_duration" && *l == labels(&[svc, route, ("method", "GET")])
        })
        .map(|(_, _, v)| v);
    match durations {
        Some(DebugValue::Histogram(samples)) => assert_eq!(samples.len(), 2),
        other => panic!("no duration histogram for GET {{id}}: {other:?}"),
    }
}

/// A refusal ops asked for (checkout paused) is a 503 to the client but
/// `maintenance` to the counter, so the 5xx alarms and the canary rollback
/// do not see it; any other 503 is a `5xx`.
#[tokio::test]
async fn a_maintenance_refusal_is_not_counted_as_a_5xx() {
    let _alone = exclusive().await;
    snapshotter();
    assert_eq!(
        call("GET", "/v1/paused").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        call("GET", "/v1/busy").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let all = recorded();
    let class_of = |route: &str| {
        all.iter()
            .filter(|(name, l, _)| {
                name == "http_requests" && l.iter().any(|(k, v)| k == "route" && v == route)
            })
            .map(|(_, l, v)| (l[3].1.clone(), v))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        class_of("/v1/paused"),
        vec![("maintenance".to_owned(), &DebugValue::Counter(1))]
    );
    assert_eq!(
        class_of("/v1/busy"),
        vec![("5xx".to_owned(), &DebugValue::Counter(1))]
    );
}
