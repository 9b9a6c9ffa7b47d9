//! The webhook route: signatures, effects once per event, resuming the
//! saga, late and contradicting events.

mod common;

use axum::http::StatusCode;
use common::*;
use lite_saga::SagaError;
use payments::{PaymentStatus, SandboxOperation};
use serde_json::json;

#[tokio::test]
async fn an_authorization_settles_the_payment_and_resumes_the_checkout() {
    let h = Harness::new();
    let p = h.pending("usr_1", "task-1").await;
    assert_eq!(p.status, PaymentStatus::Pending);
    assert_eq!(p.task_token.as_deref(), Some("task-1"));

    let (s, body) = h
        .signed_webhook(&event("evt_a1", "payment.authorized", &p, None))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"received": true}));

    let after = h.payment(&p.order_id).await.unwrap();
    assert_eq!(after.status, PaymentStatus::Authorized);
    assert_eq!(
        after.task_token, None,
        "the token is forgotten once resumed"
    );
    let statuses: Vec<_> = after.history.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [PaymentStatus::Pending, PaymentStatus::Authorized]
    );

    let outbox = h.outbox().await;
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].0, "payment.authorized.v1");
    let e = &outbox[0].1;
    assert_eq!(e["data"]["paymentId"], p.payment_id.as_str());
    assert_eq!(
        e["data"]["amount"],
        json!({"amount": 2500, "currency": "USD"})
    );
    assert_eq!(e["data"]["provider"], "sandbox");
    assert_eq!(e["correlationId"], format!("corr-{}", p.order_id));

    assert_eq!(
        h.saga.calls(),
        [(
            "task-1".to_owned(),
            json!({"authorized": true, "paymentId": p.payment_id.as_str()})
        )]
    );
}

#[tokio::test]
async fn a_failure_fails_the_payment_with_its_reason() {
    let h = Harness::new();
    let p = h.pending("usr_1", "task-1").await;
    let (s, _) = h
        .signed_webhook(&event(
            "evt_f1",
            "payment.failed",
            &p,
            Some("insufficient_funds"),
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    let after = h.payment(&p.order_id).await.unwrap();
    assert_eq!(after.status, PaymentStatus::Failed);
    assert_eq!(after.failure_reason.as_deref(), Some("insufficient_funds"));
    let outbox = h.outbox().await;
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].0, "payment.failed.v1");
    assert_eq!(outbox[0].1["data"]["reason"], "insufficient_funds");
    assert_eq!(
        h.saga.calls(),
        [(
            "task-1".to_owned(),
            json!({"authorized": false, "paymentId": p.payment_id.as_str(), "reason": "insufficient_funds"})
        )]
    );
}

#[tokio::test]
async fn a_replayed_event_has_no_second_effect() {
    let h = Harness::new();
    let p = h.pending("usr_1", "task-1").await;
    let body = event("evt_replay", "payment.authorized", &p, None);
    for _ in 0..3 {
        let (s, _) = h.signed_webhook(&body).await;
        assert_eq!(s, StatusCode::OK);
    }
    assert_eq!(h.outbox_types().await, ["payment.authorized.v1"]);
    assert_eq!(h.saga.calls().len(), 1);
    let after = h.payment(&p.order_id).await.unwrap();
    assert_eq!(after.history.len(), 2);
    let dedupe =
        h.p.ctx
            .store
            .get(&payments::record::dedupe_key("evt_replay"))
            .await
            .unwrap()
            .expect("the event id is remembered");
    let ttl = dedupe["expiresAt"].as_i64().unwrap() - now();
    assert!((29 * 86_400..=30 * 86_400).contains(&ttl), "{ttl}");
}

#[tokio::test]
async fn a_redelivery_resumes_a_checkout_that_a_crash_left_waiting() {
    let h = Harness::new();
    let p = h.pending("usr_1", "task-1").await;
    let body = event("evt_crash", "payment.authorized", &p, None);
    // The state change commits, then resuming fails (as if the process
    // died there): the provider sees an error and will redeliver.
    h.saga
        .fail_next(SagaError::Unavailable("engine down".into()));
    let (s, problem) = h.signed_webhook(&body).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    let mid = h.payment(&p.order_id).await.unwrap();
    assert_eq!(mid.status, PaymentStatus::Authorized);
    assert_eq!(mid.task_token.as_deref(), Some("task-1"));
    assert!(h.saga.calls().is_empty());

    let (s, _) = h.signed_webhook(&body).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h.saga.calls().len(), 1, "resumed on the redelivery");
    assert_eq!(h.payment(&p.order_id).await.unwrap().task_token, None);
    assert_eq!(
        h.outbox_types().await,
        ["payment.authorized.v1"],
        "one effect"
    );
}

#[tokio::test]
async fn an_outcome_nobody_waits_for_is_recorded_all_the_same() {
    let h = Harness::new();
    let p = h.pending("usr_1", "task-1").await;
    h.saga.expire("task-1");
    let (s, _) = h
        .signed_webhook(&event("evt_gone", "payment.authorized", &p, None))
        .await;
    assert_eq!(s, StatusCode::OK);
    let after = h.payment(&p.order_id).await.unwrap();
    assert_eq!(after.status, PaymentStatus::Authorized);
    assert_eq!(after.task_token, None);
}

#[tokio::test]
async fn forged_stale_or_unsigned_webhooks_are_refused_without_effect() {
    let h = Harness::new();
    let p = h.pending("usr_1", "task-1").await;
    let body = event("evt_forged", "payment.authorized", &p, None);
    let t = now();
    let good = sign(SECRET, t, &body);
    let tampered = body.replace("2500", "1");
    let cases: Vec<(&str, String, Option<String>)> = vec![
        (
            "wrong secret",
            body.clone(),
            Some(sign("whsec_someone_else_0123456", t, &body)),
        ),
        ("tampered body", tampered, Some(good.clone())),
        ("stale", body.clone(), Some(sign(SECRET, t - 301, &body))),
        ("future", body.clone(), Some(sign(SECRET, t + 400, &body))),
        ("missing", body.clone(), None),
        ("garbled", body.clone(), Some("t=abc,v1=nothex".into())),
        ("no v1", body.clone(), Some(format!("t={t}"))),
    ];
    for (name, body, signature) in cases {
        let (s, problem) = h.webhook(&body, signature).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{name}: {problem}");
        assert_eq!(problem["code"], "invalid_signature", "{name}");
    }
    let after = h.payment(&p.order_id).await.unwrap();
    assert_eq!(after, p, "nothing changed");
    assert!(h.outbox().await.is_empty());
    assert!(h.saga.calls().is_empty());
    assert!(h
        .p
        .ctx
        .store
        .get(&payments::record::dedupe_key("evt_forged"))
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_signed_but_malformed_event_is_a_400_without_effect() {
    let h = Harness::new();
    let p = h.pending("usr_1", "task-1").await;
    let bad_payment_id =
        event("evt_m1", "payment.authorized", &p, None).replace(p.payment_id.as_str(), "pay_nope");
    for body in [
        "not json".to_owned(),
        json!({"id": "evt_m0", "type": "payment.authorized"}).to_string(),
        json!({"id": "", "type": "payment.authorized", "created": 1,
               "data": {"paymentId": p.payment_id.as_str(), "orderId": p.order_id, "amount": p.amount}})
        .to_string(),
        bad_payment_id,
    ] {
        let (s, problem) = h.signed_webhook(&body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {problem}");
        assert_eq!(problem["code"], "bad_request");
    }
    assert_eq!(h.payment(&p.order_id).await.unwrap(), p);
    assert!(h.outbox().await.is_empty());
}

#[tokio::test]
async fn a_late_authorization_after_the_checkout_timed_out_is_voided() {
    let h = Harness::new();
    let p = h.pending("usr_1", "task-1").await;
    // The saga timed out and compensated first.
    let outcome = payments::checkout::void_for_order(
        &h.p,
        &p.order_id,
        payments::VoidReason::PaymentTimeout,
        "corr-saga",
    )
    .await
    .unwrap();
    assert_eq!(outcome, payments::VoidOutcome::Failed);
    let failed = h.payment(&p.order_id).await.unwrap();
    assert_eq!(failed.status, PaymentStatus::Failed);
    assert_eq!(failed.failure_reason.as_deref(), Some("timeout"));
    assert_eq!(failed.task_token, None);

    // Then the provider's authorization arrives.
    let (s, _) = h
        .signed_webhook(&event("evt_late", "payment.authorized", &p, None))
        .await;
    assert_eq!(s, StatusCode::OK);
    let after = h.payment(&p.order_id).await.unwrap();
    assert_eq!(after.status, PaymentStatus::Voided);
    assert!(h.sandbox.operations().contains(&SandboxOperation::Void {
        payment_id: p.payment_id.to_string()
    }));
    let outbox = h.outbox().await;
    let types: Vec<_> = outbox.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(types.len(), 2);
    assert!(types.contains(&"payment.failed.v1") && types.contains(&"payment.refunded.v1"));
    let refunded = &outbox
        .iter()
        .find(|(t, _)| t == "payment.refunded.v1")
        .unwrap()
        .1;
    assert_eq!(refunded["data"]["kind"], "void");
    assert_eq!(refunded["data"]["reason"], "checkout_compensation");
    assert!(h.saga.calls().is_empty(), "nobody waits any more");
}

#[tokio::test]
async fn events_for_a_payment_that_moved_on_change_nothing() {
    let h = Harness::new();
    let p = h.pending("usr_1", "task-1").await;
    h.signed_webhook(&event("evt_ok", "payment.authorized", &p, None))
        .await;
    let authorized = h.payment(&p.order_id).await.unwrap();
    for body in [
        event(
            "evt_contradict",
            "payment.failed",
            &p,
            Some("card_declined"),
        ),
        event("evt_again", "payment.authorized", &p, None),
    ] {
        let (s, _) = h.signed_webhook(&body).await;
        assert_eq!(s, StatusCode::OK);
    }
    let after = h.payment(&p.order_id).await.unwrap();
    assert_eq!(after.status, PaymentStatus::Authorized);
    assert_eq!(after.history, authorized.history);
    assert_eq!(h.outbox_types().await, ["payment.authorized.v1"]);
    assert_eq!(h.saga.calls().len(), 1);
}

#[tokio::test]
async fn unknown_payments_and_types_are_acknowledged_and_ignored() {
    let h = Harness::new();
    let p = h.pending("usr_1", "task-1").await;
    let mut other = p.clone();
    other.order_id = order_id();
    let unknown_order = event("evt_u1", "payment.authorized", &other, None);
    let mut wrong_amount = p.clone();
    wrong_amount.amount = usd(1);
    let wrong_amount = event("evt_u2", "payment.authorized", &wrong_amount, None);
    let unknown_type = event("evt_u3", "payment.disputed", &p, None);
    for body in [unknown_order, wrong_amount, unknown_type] {
        let (s, _) = h.signed_webhook(&body).await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }
    assert_eq!(h.payment(&p.order_id).await.unwrap(), p);
    assert!(h.outbox().await.is_empty());
    assert!(h.saga.calls().is_empty());
}
