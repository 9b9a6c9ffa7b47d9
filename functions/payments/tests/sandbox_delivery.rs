//! The sandbox provider's webhooks over real HTTP: a tiny server on
//! 127.0.0.1:0 checks each signature, and at the end the sandbox posts to
//! the payments router itself.

mod common;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::*;
use payments::{
    AuthorizeRequest, Delivery, PaymentProvider, PaymentStatus, ProviderError, RetryPolicy,
    SandboxProvider, SecretKey,
};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the receiving server saw: verified events, and how many requests
/// it refused on purpose (`fail_first`) or for a bad signature.
#[derive(Default)]
struct Receiver {
    events: Mutex<Vec<Value>>,
    requests: AtomicUsize,
    bad_signatures: AtomicUsize,
    fail_first: usize,
    /// Requests (the first ones) answered only after the sender gave up.
    hang_first: usize,
    /// The event id of every well-signed request, refused or not.
    ids: Mutex<Vec<String>>,
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let n = r.requests.fetch_add(1, Ordering::SeqCst);
    let key = SecretKey::parse(SECRET).unwrap();
    let sig = headers
        .get("Payment-Signature")
        .and_then(|v| v.to_str().ok());
    if payments::signature::verify(&key, sig, &body, now()).is_err() {
        r.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return StatusCode::BAD_REQUEST;
    }
    let event: Value = serde_json::from_slice(&body).unwrap();
    r.ids
        .lock()
        .unwrap()
        .push(event["id"].as_str().unwrap().to_owned());
    if n < r.fail_first {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if n < r.hang_first {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    r.events.lock().unwrap().push(event);
    StatusCode::OK
}

async fn serve(receiver: Arc<Receiver>) -> String {
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(receiver);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(80),
        timeout: Duration::from_secs(3),
    }
}

fn request(token: &str) -> AuthorizeRequest {
    AuthorizeRequest {
        payment_id: format!(
            "pay_{}",
            lite_core::Ids::next(&lite_core::SystemIds::default())
        ),
        order_id: order_id().to_string(),
        amount: usd(4_200),
        token: token.to_owned(),
    }
}

async fn wait_for(receiver: &Receiver, n: usize) -> Vec<Value> {
    for _ in 0..500 {
        let events = receiver.events.lock().unwrap().clone();
        if events.len() >= n {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "expected {n} webhooks, got {:?}",
        receiver.events.lock().unwrap()
    );
}

#[tokio::test]
async fn test_tokens_answer_with_signed_webhooks() {
    let receiver = Arc::new(Receiver::default());
    let sandbox = SandboxProvider::new(secret(), Delivery::Background).with_retry(fast());
    sandbox.set_webhook_url(serve(receiver.clone()).await);

    let visa = request("tok_visa");
    let declined = request("tok_chargeDeclined");
    let broke = request("tok_insufficientFunds");
    let silent = request("tok_noWebhook");
    for r in [&visa, &declined, &broke, &silent] {
        sandbox.authorize(r).await.unwrap();
    }
    let events = wait_for(&receiver, 3).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        receiver.events.lock().unwrap().len(),
        3,
        "tok_noWebhook never answers"
    );
    assert_eq!(receiver.bad_signatures.load(Ordering::SeqCst), 0);

    let find = |r: &AuthorizeRequest| {
        events
            .iter()
            .find(|e| e["data"]["paymentId"] == r.payment_id.as_str())
            .cloned()
            .unwrap()
    };
    let e = find(&visa);
    assert_eq!(e["type"], "payment.authorized");
    assert!(e["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(e["data"]["orderId"], visa.order_id.as_str());
    assert_eq!(
        e["data"]["amount"],
        serde_json::json!({"amount": 4200, "currency": "USD"})
    );
    assert!(e["data"].get("reason").is_none());
    assert!((e["created"].as_i64().unwrap() - now()).abs() < 10);
    let e = find(&declined);
    assert_eq!(
        (e["type"].as_str(), e["data"]["reason"].as_str()),
        (Some("payment.failed"), Some("card_declined"))
    );
    let e = find(&broke);
    assert_eq!(e["data"]["reason"], "insufficient_funds");
}

#[tokio::test]
async fn unknown_tokens_are_declined_at_once_and_never_answered() {
    let receiver = Arc::new(Receiver::default());
    let sandbox = SandboxProvider::new(secret(), Delivery::Inline).with_retry(fast());
    sandbox.set_webhook_url(serve(receiver.clone()).await);
    assert_eq!(
        sandbox.authorize(&request("tok_madeUp")).await,
        Err(ProviderError::Declined("invalid_token".into()))
    );
    assert_eq!(receiver.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_the_same_event() {
    let receiver = Arc::new(Receiver {
        fail_first: 2,
        ..Default::default()
    });
    let sandbox = SandboxProvider::new(secret(), Delivery::Inline).with_retry(fast());
    sandbox.set_webhook_url(serve(receiver.clone()).await);
    sandbox.authorize(&request("tok_visa")).await.unwrap();
    // Inline: delivered before authorize returned.
    assert_eq!(receiver.events.lock().unwrap().len(), 1);
    assert_eq!(receiver.requests.load(Ordering::SeqCst), 3);
    let ids = receiver.ids.lock().unwrap().clone();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(receiver.bad_signatures.load(Ordering::SeqCst), 0);
}

/// An endpoint that stays too slow for a while (each POST times out) gets
/// the event once it answers in time, on the same event id: a slow store
/// behind the webhook route delays a payment's outcome, it does not lose it.
#[tokio::test]
async fn an_endpoint_too_slow_for_a_while_still_gets_the_event() {
    let receiver = Arc::new(Receiver {
        hang_first: 5,
        ..Default::default()
    });
    let sandbox = SandboxProvider::new(secret(), Delivery::Background).with_retry(RetryPolicy {
        attempts: 8,
        first_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        timeout: Duration::from_millis(150),
    });
    sandbox.set_webhook_url(serve(receiver.clone()).await);
    sandbox.authorize(&request("tok_visa")).await.unwrap();
    let events = wait_for(&receiver, 1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(receiver.requests.load(Ordering::SeqCst), 6);
    let ids = receiver.ids.lock().unwrap().clone();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
}

#[tokio::test]
async fn a_url_set_after_start_serves_deliveries_in_flight() {
    let receiver = Arc::new(Receiver::default());
    let url = serve(receiver.clone()).await;
    let sandbox = SandboxProvider::new(secret(), Delivery::Background).with_retry(RetryPolicy {
        attempts: 6,
        first_backoff: Duration::from_millis(50),
        ..fast()
    });
    sandbox.authorize(&request("tok_visa")).await.unwrap();
    // The first attempt finds no URL and fails (loudly, in the logs).
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(receiver.requests.load(Ordering::SeqCst), 0);
    sandbox.set_webhook_url(url);
    assert_eq!(wait_for(&receiver, 1).await.len(), 1);
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_gives_up() {
    let receiver = Arc::new(Receiver {
        fail_first: usize::MAX,
        ..Default::default()
    });
    let sandbox = SandboxProvider::new(secret(), Delivery::Inline).with_retry(fast());
    sandbox.set_webhook_url(serve(receiver.clone()).await);
    // The provider accepted the request: the failed delivery is its problem.
    sandbox.authorize(&request("tok_visa")).await.unwrap();
    assert_eq!(receiver.requests.load(Ordering::SeqCst), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_settles_a_checkout_through_the_real_webhook_route() {
    let h = Harness::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = h.app.clone();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    h.sandbox
        .set_webhook_url(format!("http://{addr}/v1/payments/webhook"));

    for (token, status, authorized) in [
        ("tok_visa", PaymentStatus::Authorized, true),
        ("tok_chargeDeclined", PaymentStatus::Failed, false),
    ] {
        let order = order_id();
        payments::checkout::authorize(
            &h.p,
            h.task(&order, "usr_1", token, &format!("task-{token}")),
        )
        .await
        .unwrap();
        let mut settled = None;
        for _ in 0..300 {
            let p = h.payment(&order).await.unwrap();
            if p.status != PaymentStatus::Pending && p.task_token.is_none() {
                settled = Some(p);
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let p = settled.unwrap_or_else(|| panic!("{token}: never settled"));
        assert_eq!(p.status, status, "{token}");
        let call = h
            .saga
            .calls()
            .into_iter()
            .find(|(t, _)| *t == format!("task-{token}"))
            .unwrap();
        assert_eq!(call.1["authorized"], authorized, "{token}");
    }
}
