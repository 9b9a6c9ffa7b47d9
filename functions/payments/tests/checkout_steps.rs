//! The saga's payment steps: authorize (idempotent, synchronous declines),
//! void and capture transitions, the order-event consumers, and a webhook
//! racing a compensation.

mod common;

use async_trait::async_trait;
use common::*;
use lite_core::{Money, SystemClock, SystemIds};
use lite_events::contracts::{CancelledBy, OrderCancelledV1, OrderShippedV1};
use lite_events::{Envelope, Handler, HandlerError};
use payments::checkout::{authorize, capture_for_order, void_for_order, CaptureOutcome};
use payments::{
    AuthorizeRequest, PaymentProvider, PaymentStatus, ProviderError, SandboxOperation,
    SandboxProvider, VoidOutcome, VoidReason,
};
use serde_json::json;
use std::sync::Arc;

fn authorizations(h: &Harness) -> usize {
    h.sandbox
        .operations()
        .iter()
        .filter(|o| matches!(o, SandboxOperation::Authorize { .. }))
        .count()
}

#[tokio::test]
async fn authorize_is_idempotent_per_order() {
    let h = Harness::new();
    let order = order_id();
    authorize(&h.p, h.task(&order, "usr_1", "tok_noWebhook", "t1"))
        .await
        .unwrap();
    let first = h.payment(&order).await.unwrap();
    assert_eq!(first.status, PaymentStatus::Pending);
    assert!(first.payment_id.as_str().starts_with("pay_"));
    assert_eq!(first.provider, "sandbox");
    assert_eq!(first.user_id, "usr_1");

    // The same invocation again (at-least-once): same payment, same token.
    authorize(&h.p, h.task(&order, "usr_1", "tok_noWebhook", "t1"))
        .await
        .unwrap();
    let again = h.payment(&order).await.unwrap();
    assert_eq!(again.payment_id, first.payment_id);
    assert_eq!(again.task_token.as_deref(), Some("t1"));

    // A retried task state brings a new token: it replaces the old one.
    authorize(&h.p, h.task(&order, "usr_1", "tok_noWebhook", "t2"))
        .await
        .unwrap();
    let retried = h.payment(&order).await.unwrap();
    assert_eq!(retried.payment_id, first.payment_id);
    assert_eq!(retried.task_token.as_deref(), Some("t2"));
    assert_eq!(
        authorizations(&h),
        3,
        "the provider is asked again each time"
    );
    assert!(h.outbox().await.is_empty());
    assert!(h.saga.calls().is_empty());
}

#[tokio::test]
async fn authorize_after_the_outcome_is_known_resumes_at_once() {
    let h = Harness::new();
    let p = h.pending("usr_1", "t1").await;
    h.signed_webhook(&event("evt_1", "payment.authorized", &p, None))
        .await;
    authorize(
        &h.p,
        h.task(&p.order_id, "usr_1", "tok_noWebhook", "t-retry"),
    )
    .await
    .unwrap();
    let calls = h.saga.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[1],
        (
            "t-retry".to_owned(),
            json!({"authorized": true, "paymentId": p.payment_id.as_str()})
        )
    );
    assert_eq!(authorizations(&h), 1, "the provider is not asked again");
}

#[tokio::test]
async fn a_token_the_provider_refuses_fails_the_payment_at_once() {
    let h = Harness::new();
    let order = order_id();
    authorize(&h.p, h.task(&order, "usr_1", "tok_stolen", "t1"))
        .await
        .unwrap();
    let p = h.payment(&order).await.unwrap();
    assert_eq!(p.status, PaymentStatus::Failed);
    assert_eq!(p.failure_reason.as_deref(), Some("invalid_token"));
    assert_eq!(p.task_token, None);
    let outbox = h.outbox().await;
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].0, "payment.failed.v1");
    assert_eq!(outbox[0].1["data"]["reason"], "card_declined");
    assert_eq!(
        h.saga.calls(),
        [(
            "t1".to_owned(),
            json!({"authorized": false, "paymentId": p.payment_id.as_str(), "reason": "invalid_token"})
        )]
    );
}

/// A provider that is down.
struct DownProvider;

#[async_trait]
impl PaymentProvider for DownProvider {
    fn name(&self) -> &'static str {
        "down"
    }
    async fn authorize(&self, _: &AuthorizeRequest) -> Result<(), ProviderError> {
        Err(ProviderError::Unavailable("connection refused".into()))
    }
    async fn void(&self, _: &str) -> Result<(), ProviderError> {
        Err(ProviderError::Unavailable("connection refused".into()))
    }
    async fn capture(&self, _: &str, _: Money) -> Result<(), ProviderError> {
        Err(ProviderError::Unavailable("connection refused".into()))
    }
    async fn refund(&self, _: &str, _: Money) -> Result<(), ProviderError> {
        Err(ProviderError::Unavailable("connection refused".into()))
    }
}

#[tokio::test]
async fn a_provider_outage_is_transient_and_changes_no_outcome() {
    let sandbox = Arc::new(SandboxProvider::new(
        secret(),
        payments::Delivery::Background,
    ));
    let h = Harness::with_provider(Arc::new(DownProvider), sandbox);
    let order = order_id();
    let e = authorize(&h.p, h.task(&order, "usr_1", "tok_visa", "t1"))
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert_eq!(
        h.payment(&order).await.unwrap().status,
        PaymentStatus::Pending
    );

    // An authorized payment cannot be voided while the provider is down:
    // nothing is recorded and the step is retried.
    let p = h.payment(&order).await.unwrap();
    h.signed_webhook(&event("evt_1", "payment.authorized", &p, None))
        .await;
    let e = void_for_order(&h.p, &order, VoidReason::CheckoutError, "c")
        .await
        .unwrap_err();
    assert!(e.is_transient());
    assert_eq!(
        h.payment(&order).await.unwrap().status,
        PaymentStatus::Authorized
    );
    assert_eq!(h.outbox_types().await, ["payment.authorized.v1"]);
}

#[tokio::test]
async fn void_leaves_no_money_held_whatever_the_state() {
    let h = Harness::new();
    // Absent.
    assert_eq!(
        void_for_order(&h.p, &order_id(), VoidReason::OutOfStock, "c")
            .await
            .unwrap(),
        VoidOutcome::NoPayment
    );

    // Pending, for another reason than a timeout: failed, provider_error.
    let p = h.pending("usr_1", "t1").await;
    assert_eq!(
        void_for_order(&h.p, &p.order_id, VoidReason::OutOfStock, "c")
            .await
            .unwrap(),
        VoidOutcome::Failed
    );
    let failed = h.payment(&p.order_id).await.unwrap();
    assert_eq!(failed.failure_reason.as_deref(), Some("provider_error"));
    assert_eq!(failed.task_token, None);
    assert_eq!(
        void_for_order(&h.p, &p.order_id, VoidReason::OutOfStock, "c")
            .await
            .unwrap(),
        VoidOutcome::NothingHeld(PaymentStatus::Failed)
    );

    // Authorized: voided at the provider.
    let p = h.pending("usr_1", "t2").await;
    h.signed_webhook(&event("evt_a", "payment.authorized", &p, None))
        .await;
    assert_eq!(
        void_for_order(&h.p, &p.order_id, VoidReason::CheckoutError, "c")
            .await
            .unwrap(),
        VoidOutcome::Voided
    );
    assert_eq!(
        h.payment(&p.order_id).await.unwrap().status,
        PaymentStatus::Voided
    );
    assert!(h.sandbox.operations().contains(&SandboxOperation::Void {
        payment_id: p.payment_id.to_string()
    }));
    assert_eq!(
        void_for_order(&h.p, &p.order_id, VoidReason::CheckoutError, "c")
            .await
            .unwrap(),
        VoidOutcome::NothingHeld(PaymentStatus::Voided)
    );

    let outbox = h.outbox().await;
    let refunds: Vec<_> = outbox
        .iter()
        .filter(|(t, _)| t == "payment.refunded.v1")
        .collect();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].1["data"]["kind"], "void");
    assert_eq!(refunds[0].1["data"]["reason"], "checkout_compensation");
    assert_eq!(refunds[0].1["correlationId"], "c");
    assert_eq!(
        outbox
            .iter()
            .filter(|(t, _)| t == "payment.failed.v1")
            .count(),
        1
    );
}

#[tokio::test]
async fn capture_then_cancel_refunds() {
    let h = Harness::new();
    let p = h.pending("usr_1", "t1").await;
    // Not capturable while pending.
    assert_eq!(
        capture_for_order(&h.p, &p.order_id, "c").await.unwrap(),
        CaptureOutcome::NotCapturable(PaymentStatus::Pending)
    );
    h.signed_webhook(&event("evt_a", "payment.authorized", &p, None))
        .await;
    assert_eq!(
        capture_for_order(&h.p, &p.order_id, "c").await.unwrap(),
        CaptureOutcome::Captured
    );
    assert_eq!(
        capture_for_order(&h.p, &p.order_id, "c").await.unwrap(),
        CaptureOutcome::AlreadyCaptured
    );
    assert_eq!(
        void_for_order(&h.p, &p.order_id, VoidReason::OrderCancelled, "c")
            .await
            .unwrap(),
        VoidOutcome::Refunded
    );
    let after = h.payment(&p.order_id).await.unwrap();
    assert_eq!(after.status, PaymentStatus::Refunded);
    let statuses: Vec<_> = after.history.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [
            PaymentStatus::Pending,
            PaymentStatus::Authorized,
            PaymentStatus::Captured,
            PaymentStatus::Refunded
        ]
    );
    let ops = h.sandbox.operations();
    let pid = p.payment_id.to_string();
    assert_eq!(
        ops.iter()
            .filter(|o| **o
                == SandboxOperation::Capture {
                    payment_id: pid.clone(),
                    amount: usd(2_500)
                })
            .count(),
        1
    );
    assert!(ops.contains(&SandboxOperation::Refund {
        payment_id: pid,
        amount: usd(2_500)
    }));
    let refunded = h
        .outbox()
        .await
        .into_iter()
        .find(|(t, _)| t == "payment.refunded.v1")
        .unwrap()
        .1;
    assert_eq!(refunded["data"]["kind"], "refund");
    assert_eq!(refunded["data"]["reason"], "order_cancelled");
}

fn envelope<C: lite_events::contracts::Contract>(data: &C) -> Envelope {
    Envelope::of(
        &SystemIds::default(),
        lite_core::Clock::now(&SystemClock),
        "corr-evt",
        data,
    )
}

#[tokio::test]
async fn the_consumers_void_cancelled_and_capture_shipped_orders() {
    let h = Harness::new();
    let cancelled = payments::consumers::OrderCancelled::new(h.p.clone());
    let shipped = payments::consumers::OrderShipped::new(h.p.clone());
    assert_eq!(cancelled.detail_types(), ["order.cancelled.v1"]);
    assert_eq!(shipped.detail_types(), ["order.shipped.v1"]);

    let a = h.pending("usr_1", "t1").await;
    let b = h.pending("usr_1", "t2").await;
    for (i, p) in [&a, &b].into_iter().enumerate() {
        h.signed_webhook(&event(&format!("evt_{i}"), "payment.authorized", p, None))
            .await;
    }
    let cancel = OrderCancelledV1 {
        order_id: a.order_id.to_string(),
        user_id: "usr_1".into(),
        items: vec![],
        total: usd(2_500),
        payment_id: Some(a.payment_id.to_string()),
        cancelled_by: CancelledBy::Customer,
    };
    cancelled.handle(&envelope(&cancel)).await.unwrap();
    cancelled.handle(&envelope(&cancel)).await.unwrap();
    assert_eq!(
        h.payment(&a.order_id).await.unwrap().status,
        PaymentStatus::Voided
    );

    let ship = OrderShippedV1 {
        order_id: b.order_id.to_string(),
        user_id: "usr_1".into(),
    };
    shipped.handle(&envelope(&ship)).await.unwrap();
    assert_eq!(
        h.payment(&b.order_id).await.unwrap().status,
        PaymentStatus::Captured
    );

    let refunded = h
        .outbox()
        .await
        .into_iter()
        .filter(|(t, _)| t == "payment.refunded.v1")
        .map(|(_, e)| e)
        .collect::<Vec<_>>();
    assert_eq!(refunded.len(), 1);
    assert_eq!(refunded[0]["data"]["reason"], "order_cancelled");
    assert_eq!(refunded[0]["correlationId"], "corr-evt");

    // Someone else's event, or a broken one, is poison.
    let wrong = envelope(&ship);
    assert!(matches!(
        cancelled.handle(&wrong).await,
        Err(HandlerError::Poison(_))
    ));
    let mut broken = envelope(&cancel);
    broken.data = json!({"orderId": 7});
    assert!(matches!(
        cancelled.handle(&broken).await,
        Err(HandlerError::Poison(_))
    ));
}

/// A webhook and a compensation race on one payment, many times over:
/// each run ends voided, with exactly one give-back event, and the events
/// tell one consistent story.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_racing_a_void_ends_in_one_consistent_state() {
    let h = Harness::new();
    for i in 0..25 {
        let p = h.pending("usr_1", &format!("t{i}")).await;
        let body = event(&format!("evt_race_{i}"), "payment.authorized", &p, None);
        let hook = {
            let app = h.app.clone();
            let body = body.clone();
            tokio::spawn(async move {
                use tower::ServiceExt;
                let req = axum::http::Request::post("/v1/payments/webhook")
                    .header("Payment-Signature", sign(SECRET, now(), &body))
                    .body(axum::body::Body::from(body))
                    .unwrap();
                app.oneshot(req).await.unwrap().status()
            })
        };
        let payments = h.p.clone();
        let order = p.order_id.clone();
        let void = tokio::spawn(async move {
            void_for_order(&payments, &order, VoidReason::PaymentTimeout, "c").await
        });
        assert_eq!(hook.await.unwrap(), axum::http::StatusCode::OK);
        let outcome = void.await.unwrap().unwrap();
        let after = h.payment(&p.order_id).await.unwrap();
        assert_eq!(
            after.status,
            PaymentStatus::Voided,
            "run {i}: void said {outcome:?}"
        );
        let pid = p.payment_id.to_string();
        let story: Vec<String> = h
            .outbox()
            .await
            .into_iter()
            .filter(|(_, e)| e["data"]["paymentId"] == pid.as_str())
            .map(|(t, _)| t)
            .collect();
        assert_eq!(
            story.iter().filter(|t| *t == "payment.refunded.v1").count(),
            1,
            "run {i}: {story:?}"
        );
        assert_eq!(story.len(), 2, "run {i}: {story:?}");
        assert!(
            story.contains(&"payment.authorized.v1".to_owned())
                || story.contains(&"payment.failed.v1".to_owned()),
            "run {i}: {story:?}"
        );
        assert!(h
            .sandbox
            .operations()
            .contains(&SandboxOperation::Void { payment_id: pid }));
    }
}
