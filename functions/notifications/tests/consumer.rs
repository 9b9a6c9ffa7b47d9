//! The `notifications` consumer on the in-memory store: one message per
//! outcome with the right text, preferences, languages, the payment
//! failure rule, idempotence and how notifier failures reach the transport.

mod support;

use lite_events::contracts::FailureReason;
use lite_events::{Handler, HandlerError};
use lite_store::{Index, Query};
use notifications::{NotifyError, Outcome};
use serde_json::Value;
use support::*;

/// `user_id`'s records, newest first.
async fn records(w: &World, user_id: &str) -> Vec<Value> {
    w.ctx
        .store
        .query(&Query::new(Index::Gsi1, format!("USER#{user_id}#NOTIFS")).backward())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(Value::Object)
        .collect()
}

#[tokio::test]
async fn one_message_per_outcome_with_its_text() {
    let w = world();
    let ada = w.user("Ada").await;
    let order = new_id("ord");
    let cases = [
        (
            w.event(&confirmed(&ada, &order)),
            format!("Your order {order} is confirmed"),
            vec!["2 × Desk lamp (LAMP-1), 19.99 USD each", "Total: 39.98 USD"],
        ),
        (
            w.event(&failed(&ada, &order, FailureReason::OutOfStock)),
            format!("We could not complete your order {order}"),
            vec!["no longer in stock", "You have not been charged"],
        ),
        (
            w.event(&cancelled(&ada, &order)),
            format!("Your order {order} has been cancelled"),
            vec!["as you asked", "payment of 39.98 USD is being returned"],
        ),
        (
            w.event(&shipped(&ada, &order)),
            format!("Your order {order} is on its way"),
            vec!["has shipped"],
        ),
    ];
    for (i, (event, subject, phrases)) in cases.iter().enumerate() {
        let outcome = w.deliver(event).await.unwrap();
        assert!(matches!(outcome, Outcome::Sent(_)), "{outcome:?}");
        let sent = w.notifier.sent();
        assert_eq!(sent.len(), i + 1);
        let m = &sent[i];
        assert_eq!(m.to, "ada@example.com");
        assert_eq!(&m.subject, subject);
        assert!(m.body.starts_with("Hello Ada,"), "{}", m.body);
        for p in phrases {
            assert!(m.body.contains(p), "{p:?} not in {}", m.body);
        }
        assert_eq!(m.notification_id, event.id.replace("evt_", "ntf_"));
    }
    let recs = records(&w, &ada).await;
    assert_eq!(recs.len(), 4);
    let newest = &recs[0];
    assert_eq!(newest["eventType"], "order.shipped");
    assert_eq!(newest["orderId"], order.as_str());
    assert_eq!(newest["channel"], "email");
    assert_eq!(newest["status"], "sent");
    assert_eq!(
        newest["subject"],
        format!("Your order {order} is on its way")
    );
}

#[tokio::test]
async fn order_updates_off_sends_and_records_nothing() {
    let w = world();
    let ada = w.user("Ada").await;
    w.preferences(&ada, false, "en").await;
    let outcome = w
        .deliver(&w.event(&confirmed(&ada, &new_id("ord"))))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Skipped(_)), "{outcome:?}");
    assert!(w.notifier.sent().is_empty());
    assert!(records(&w, &ada).await.is_empty());
}

#[tokio::test]
async fn a_user_without_a_profile_gets_nothing() {
    let w = world();
    let ghost = new_id("usr");
    let outcome = w
        .deliver(&w.event(&shipped(&ghost, &new_id("ord"))))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Skipped(_)), "{outcome:?}");
    assert!(w.notifier.sent().is_empty());
    assert!(records(&w, &ghost).await.is_empty());
}

#[tokio::test]
async fn the_users_language_is_used_when_there_are_templates_for_it() {
    let w = world();
    let (de, fr) = (w.user("Grete").await, w.user("Amelie").await);
    w.preferences(&de, true, "de-AT").await;
    w.preferences(&fr, true, "fr-FR").await;
    let order = new_id("ord");
    w.deliver(&w.event(&shipped(&de, &order))).await.unwrap();
    w.deliver(&w.event(&shipped(&fr, &order))).await.unwrap();
    let sent = w.notifier.sent();
    assert_eq!(
        sent[0].subject,
        format!("Ihre Bestellung {order} ist unterwegs")
    );
    assert!(sent[0].body.starts_with("Hallo Grete,"));
    // No French templates: English.
    assert_eq!(sent[1].subject, format!("Your order {order} is on its way"));
    assert_eq!(records(&w, &de).await[0]["language"], "de");
    assert_eq!(records(&w, &fr).await[0]["language"], "en");
}

#[tokio::test]
async fn a_redelivered_event_sends_and_records_once() {
    let w = world();
    let ada = w.user("Ada").await;
    let event = w.event(&confirmed(&ada, &new_id("ord")));
    let first = w.deliver(&event).await.unwrap();
    let Outcome::Sent(id) = first else {
        panic!("{first:?}")
    };
    for _ in 0..3 {
        assert_eq!(
            w.deliver(&event).await.unwrap(),
            Outcome::AlreadySent(id.clone())
        );
        w.consumer.handle(&event).await.unwrap();
    }
    assert_eq!(w.notifier.sent().len(), 1);
    assert_eq!(records(&w, &ada).await.len(), 1);
}

#[tokio::test]
async fn transient_notifier_errors_retry_permanent_ones_are_poison() {
    let w = world();
    let ada = w.user("Ada").await;
    let event = w.event(&confirmed(&ada, &new_id("ord")));

    w.notifier
        .fail_with(Some(NotifyError::Transient("throttled".into())));
    let r = w.consumer.handle(&event).await;
    assert!(matches!(r, Err(HandlerError::Retry(_))), "{r:?}");
    assert!(records(&w, &ada).await.is_empty());

    w.notifier
        .fail_with(Some(NotifyError::Permanent("rejected".into())));
    let r = w.consumer.handle(&event).await;
    assert!(matches!(r, Err(HandlerError::Poison(_))), "{r:?}");
    assert!(records(&w, &ada).await.is_empty());

    // Once the provider accepts it, the retry sends and records it.
    w.notifier.fail_with(None);
    w.consumer.handle(&event).await.unwrap();
    assert_eq!(w.notifier.sent().len(), 1);
    assert_eq!(records(&w, &ada).await.len(), 1);
}

#[tokio::test]
async fn a_payment_failure_during_checkout_is_left_to_the_orders_failure() {
    let w = world();
    let ada = w.user("Ada").await;
    let order = w.pending_order(&ada).await;
    let payment = w.event(&payment_failed(&order));
    // PENDING: order.failed is still to come.
    let outcome = w.deliver(&payment).await.unwrap();
    assert!(matches!(outcome, Outcome::Skipped(_)), "{outcome:?}");
    // FAILED: order.failed has come (or will), with the payment reason.
    orders::saga::fail(
        &w.ctx,
        &orders::domain::OrderId::parse(&order).unwrap(),
        FailureReason::PaymentDeclined,
        None,
        "c",
    )
    .await
    .unwrap();
    let outcome = w.deliver(&payment).await.unwrap();
    assert!(matches!(outcome, Outcome::Skipped(_)), "{outcome:?}");
    w.deliver(&w.event(&failed(&ada, &order, FailureReason::PaymentDeclined)))
        .await
        .unwrap();
    let sent = w.notifier.sent();
    assert_eq!(sent.len(), 1, "one message for the failed checkout");
    assert!(sent[0].body.contains("your payment was declined"));
    // Unknown order: nobody to tell.
    let outcome = w
        .deliver(&w.event(&payment_failed(&new_id("ord"))))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Skipped(_)), "{outcome:?}");
    assert_eq!(records(&w, &ada).await.len(), 1);
}

#[tokio::test]
async fn a_payment_failure_after_checkout_is_sent_to_the_orders_owner() {
    let w = world();
    let ada = w.user("Ada").await;
    let order = w.pending_order(&ada).await;
    orders::saga::confirm(
        &w.ctx,
        &orders::domain::OrderId::parse(&order).unwrap(),
        &new_id("pay"),
        "c",
    )
    .await
    .unwrap();
    let outcome = w.deliver(&w.event(&payment_failed(&order))).await.unwrap();
    assert!(matches!(outcome, Outcome::Sent(_)), "{outcome:?}");
    let sent = w.notifier.sent();
    assert_eq!(sent[0].to, "ada@example.com");
    assert_eq!(
        sent[0].subject,
        format!("A payment for your order {order} failed")
    );
    assert!(sent[0].body.contains("39.98 USD"));
    assert!(sent[0].body.contains("your card was declined"));
    assert_eq!(records(&w, &ada).await[0]["eventType"], "payment.failed");
}

#[tokio::test]
async fn malformed_or_foreign_events_are_poison() {
    let w = world();
    let ada = w.user("Ada").await;
    let mut no_user = w.event(&shipped(&ada, &new_id("ord")));
    no_user.data.as_object_mut().unwrap().remove("userId");
    let mut foreign = w.event(&shipped(&ada, &new_id("ord")));
    foreign.event_type = "order.created".into();
    let mut bad_id = w.event(&shipped(&ada, &new_id("ord")));
    bad_id.id = "not-an-event-id".into();
    for event in [no_user, foreign, bad_id] {
        let r = w.consumer.handle(&event).await;
        assert!(
            matches!(r, Err(HandlerError::Poison(_))),
            "{event:?}: {r:?}"
        );
    }
    assert!(w.notifier.sent().is_empty());
}

#[test]
fn it_is_one_consumer_of_the_five_outcomes() {
    let w = world();
    assert_eq!(w.consumer.name(), "notifications");
    assert_eq!(
        w.consumer.detail_types(),
        [
            "order.confirmed.v1",
            "order.failed.v1",
            "order.cancelled.v1",
            "order.shipped.v1",
            "payment.failed.v1"
        ]
    );
}

/// The sample SQS payload (`cargo lambda invoke --data-file`) carries an
/// event this consumer reads.
#[tokio::test]
async fn the_sample_sqs_payload_is_an_accepted_event() {
    let sample: Value = serde_json::from_str(include_str!(
        "../../../events/lambda/notifications-consumer.json"
    ))
    .unwrap();
    let body: Value = serde_json::from_str(sample["Records"][0]["body"].as_str().unwrap()).unwrap();
    let envelope: lite_events::Envelope = serde_json::from_value(body["detail"].clone()).unwrap();
    assert_eq!(body["detail-type"], envelope.detail_type());
    let w = world();
    assert!(w
        .consumer
        .detail_types()
        .contains(&envelope.detail_type().as_str()));
    // Decodes; its user has no profile here, so nothing is sent.
    let outcome = w.deliver(&envelope).await.unwrap();
    assert!(matches!(outcome, Outcome::Skipped(_)), "{outcome:?}");
}
