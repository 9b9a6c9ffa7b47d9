//! The OpenSearch adapter's timeout and retries (`RequestPolicy`) against
//! local servers: one answering canned statuses, one that accepts and
//! never answers.
#![cfg(feature = "opensearch-adapter")]

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use lite_aws::Profile;
use search::index::{SearchError, SearchIndex};
use search::opensearch::{OpenSearchIndex, RequestPolicy};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
struct Canned {
    replies: Arc<Mutex<VecDeque<(u16, &'static str)>>>,
    seen: Arc<Mutex<usize>>,
}

async fn answer(State(c): State<Canned>) -> axum::response::Response {
    *c.seen.lock().unwrap() += 1;
    let (status, body) = c
        .replies
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((599, "no canned reply left"));
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body,
    )
        .into_response()
}

async fn canned(
    replies: &[(u16, &'static str)],
    policy: RequestPolicy,
) -> (Canned, OpenSearchIndex) {
    let c = Canned::default();
    c.replies.lock().unwrap().extend(replies.iter().copied());
    let app = axum::Router::new().fallback(answer).with_state(c.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let index = OpenSearchIndex::with_policy(&url, "products", None, policy).unwrap();
    (c, index)
}

fn seen(c: &Canned) -> usize {
    *c.seen.lock().unwrap()
}

#[tokio::test]
async fn busy_answers_are_retried_within_the_attempts() {
    let api = RequestPolicy::of(Profile::Api);
    let (c, index) = canned(&[(503, "{}"), (200, r#"{"count":3}"#)], api).await;
    assert_eq!(index.count().await.unwrap(), 3);
    assert_eq!(seen(&c), 2);

    let (c, index) = canned(&[(429, "{}"), (429, "{}"), (200, r#"{"count":3}"#)], api).await;
    assert!(matches!(index.count().await, Err(SearchError::Unavailable(m)) if m.contains("429")));
    assert_eq!(seen(&c), api.attempts as usize);

    let consumer = RequestPolicy::of(Profile::Consumer);
    let (c, index) = canned(
        &[(502, "{}"), (504, "{}"), (200, r#"{"count":7}"#)],
        consumer,
    )
    .await;
    assert_eq!(index.count().await.unwrap(), 7);
    assert_eq!(seen(&c), 3);
}

#[tokio::test]
async fn answers_that_were_handled_are_not_retried() {
    let api = RequestPolicy::of(Profile::Api);
    for (status, body) in [
        (200, "<html>not json</html>"),
        (403, r#"{"message":"no permission"}"#),
        (500, r#"{"message":"internal"}"#),
    ] {
        let (c, index) = canned(&[(status, body), (200, r#"{"count":1}"#)], api).await;
        assert!(index.count().await.is_err(), "{status}");
        assert_eq!(seen(&c), 1, "{status} is not sent again");
    }
}

/// A server that accepts connections and never answers: each attempt ends
/// at the policy's timeout instead of hanging.
#[tokio::test]
async fn a_silent_engine_times_out_and_is_unavailable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let policy = RequestPolicy {
        timeout: Duration::from_millis(300),
        attempts: 2,
        first_backoff: Duration::from_millis(10),
    };
    let index = OpenSearchIndex::with_policy(&url, "products", None, policy).unwrap();
    let started = Instant::now();
    // A generous bound: without a timeout the call would wait forever.
    let outcome = tokio::time::timeout(Duration::from_secs(60), index.count())
        .await
        .expect("the call ends on its own timeout");
    server.abort();
    assert!(
        matches!(outcome, Err(SearchError::Unavailable(_))),
        "{outcome:?}"
    );
    println!(
        "count against a silent engine failed after {:?} (worst case {:?})",
        started.elapsed(),
        policy.worst_case()
    );
}

#[test]
fn the_worst_cases_fit_the_function_timeouts() {
    // Route functions time out at 10 s, consumers at 30 s (infra/cdk).
    assert!(RequestPolicy::of(Profile::Api).worst_case() <= Duration::from_secs(5));
    assert!(RequestPolicy::of(Profile::Consumer).worst_case() < Duration::from_secs(30));
    assert_eq!(RequestPolicy::SINGLE.attempts, 1);
}
