//! SQS consumers: one Lambda function per consumer, fed by its own queue
//! (an EventBridge rule on the consumer's detail-types targets the queue;
//! the queue has a DLQ).
//!
//! A message body is EventBridge's event JSON; its `detail` is our
//! [`Envelope`]. Each message is handled in its own span (consumer, SQS
//! message id, the envelope's correlation id, event id and detail-type),
//! through [`handle_once`], so a redelivered event is not handled twice.
//!
//! # Failures
//! The function reports partial batch failures: a message whose handling
//! failed — [`HandlerError::Retry`], [`HandlerError::Poison`], or a body
//! that is not an event of ours — is listed in `batchItemFailures` and the
//! rest of the batch is deleted. A listed message becomes visible again
//! after the queue's visibility timeout, and the queue's redrive policy
//! moves it to the DLQ after `maxReceiveCount` (5) receives.
//!
//! Poison takes the same path on purpose instead of being sent to the DLQ
//! by hand (SendMessage + ack): only SQS's own redrive keeps the message
//! as it was (id, attributes, receive count) and records the source queue,
//! which is what a DLQ redrive back to the source (StartMessageMoveTask,
//! the console's "start DLQ redrive") relies on; it needs no DLQ URL or
//! SendMessage permission in the function, and cannot lose a message
//! between a send and a delete. The cost is a few wasted receives of a
//! message that cannot succeed, a few minutes apart; it is logged at ERROR
//! on each one, with the reason.
//!
//! # A consumer's function
//! A consumer runs in its service's one binary: `lite_lambda::run` builds
//! the service (`lite_service::Service`) and, when `AMAZON_LITE_CONSUMER`
//! names one of its consumers, hands it to [`run_consumer_with`] with the
//! service's store (one client for the handler's writes and the
//! idempotency records).

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::{service_fn, LambdaEvent};
use lite_core::config::required;
use lite_core::{Clock, SystemClock};
use lite_events::idempotency::{handle_once, Outcome};
use lite_events::{Envelope, Handler, HandlerError};
use lite_metrics::ConsumeOutcome;
use lite_store::Store;
use std::sync::Arc;
use tracing::{field::Empty, Instrument};

/// Why a message body is not one of our events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the message has no body")]
    Missing,
    #[error("the body is not an EventBridge event: {0}")]
    NotAnEvent(String),
    #[error("the event's detail is not an envelope: {0}")]
    NotAnEnvelope(String),
    #[error("detail-type {outer} does not match the envelope's {inner}")]
    DetailTypeMismatch { outer: String, inner: String },
}

/// The envelope in an SQS body (EventBridge's event JSON, `detail` = envelope).
pub fn envelope_of(body: Option<&str>) -> Result<Envelope, BodyError> {
    let body = body.ok_or(BodyError::Missing)?;
    let event: EventBridgeEvent<serde_json::Value> =
        serde_json::from_str(body).map_err(|e| BodyError::NotAnEvent(e.to_string()))?;
    let envelope: Envelope = serde_json::from_value(event.detail)
        .map_err(|e| BodyError::NotAnEnvelope(e.to_string()))?;
    if event.detail_type != envelope.detail_type() {
        return Err(BodyError::DetailTypeMismatch {
            outer: event.detail_type,
            inner: envelope.detail_type(),
        });
    }
    Ok(envelope)
}

/// Handles one batch of SQS messages for `handler`, one after the other
/// (the batch is small and one consumer's events are often about the same
/// items), and returns the messages to redeliver.
pub async fn process_batch(
    store: &dyn Store,
    clock: &dyn Clock,
    handler: &dyn Handler,
    event: SqsEvent,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in &event.records {
        let Some(message_id) = message.message_id.as_deref() else {
            // Cannot be reported; SQS always sets it.
            tracing::error!(
                consumer = handler.name(),
                "SQS message without a message id skipped"
            );
            continue;
        };
        let span = tracing::info_span!(
            "message",
            consumer = handler.name(),
            message_id,
            receive_count = message
                .attributes
                .get("ApproximateReceiveCount")
                .map(String::as_str)
                .unwrap_or_default(),
            correlation_id = Empty,
            event_id = Empty,
            detail_type = Empty,
        );
        let handled = process_message(store, clock, handler, message)
            .instrument(span)
            .await;
        if !handled {
            lite_metrics::event_consumed(handler.name(), failed_delivery(message));
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id.to_owned();
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// Receives after which SQS moves a failing message to the DLQ: the
/// queues' `maxReceiveCount` (`MAX_RECEIVE_COUNT` in
/// `infra/cdk/lib/events.ts`).
pub const MAX_RECEIVES: u32 = 5;

/// What becomes of a message whose handling failed: its last receive
/// sends it to the DLQ, any earlier one gets it redelivered.
fn failed_delivery(message: &SqsMessage) -> ConsumeOutcome {
    let receives = message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(1);
    if receives >= MAX_RECEIVES {
        ConsumeOutcome::DeadLettered
    } else {
        ConsumeOutcome::Retried
    }
}

/// Handles one message in the current span; false when it must be
/// redelivered.
async fn process_message(
    store: &dyn Store,
    clock: &dyn Clock,
    handler: &dyn Handler,
    message: &SqsMessage,
) -> bool {
    let envelope = match envelope_of(message.body.as_deref()) {
        Ok(envelope) => envelope,
        Err(reason) => {
            tracing::error!(%reason, "malformed message; it goes to the DLQ after its last receive");
            return false;
        }
    };
    let span = tracing::Span::current();
    // The message's span continues the event's trace (the relay's span),
    // not the batch's invocation: one order, one trace, across the bus.
    lite_trace::set_parent_from(&span, envelope.traceparent.as_deref());
    span.record("correlation_id", envelope.correlation_id.as_str());
    span.record("event_id", envelope.id.as_str());
    let detail_type = envelope.detail_type();
    span.record("detail_type", detail_type.as_str());

    if !handler.detail_types().contains(&detail_type.as_str()) {
        // The rule sends only subscribed types; this one is not (a rule
        // deployed before the code that handles it). Retried, not dropped.
        tracing::error!("the consumer does not accept this detail-type; redelivering");
        return false;
    }
    match handle_once(store, clock, handler, &envelope).await {
        Ok(Outcome::Handled) => {
            tracing::info!("event handled");
            true
        }
        Ok(Outcome::Duplicate) => {
            tracing::info!("event already handled; duplicate delivery acknowledged");
            true
        }
        Err(HandlerError::Retry(reason)) => {
            tracing::warn!(%reason, "handling failed; redelivering");
            false
        }
        Err(HandlerError::Poison(reason)) => {
            tracing::error!(%reason, "poison event; it goes to the DLQ after its last receive");
            false
        }
    }
}

/// Runs `handler` as this Lambda function (the `main` of a consumer
/// binary): JSON logs, the DynamoDB store (`TABLE_NAME`) for idempotency
/// records, the system clock. No network I/O before the first event.
pub async fn run_consumer(handler: Arc<dyn Handler>) -> Result<(), lambda_runtime::Error> {
    crate::telemetry::init();
    let aws = lite_aws::sdk_config(lite_aws::Profile::Consumer).await;
    let store =
        lite_dynamo::DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), required("TABLE_NAME")?);
    let store = lite_store::traced::traced("dynamodb", Arc::new(store));
    run_consumer_with(store, handler).await
}

/// [`run_consumer`] with a store the caller built (share it with a handler
/// that writes to the table, instead of building a second client).
pub async fn run_consumer_with(
    store: Arc<dyn Store>,
    handler: Arc<dyn Handler>,
) -> Result<(), lambda_runtime::Error> {
    crate::telemetry::init();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let store = Arc::clone(&store);
        let handler = Arc::clone(&handler);
        // lambda_runtime's own span carries the request id and trace id.
        let span = tracing::info_span!(
            "consumer",
            consumer = handler.name(),
            messages = event.payload.records.len()
        );
        async move {
            let response = process_batch(&*store, &SystemClock, &*handler, event.payload).await;
            // Once per invocation: the batch's counts as EMF on stdout.
            lite_metrics::flush();
            Ok::<_, lambda_runtime::Error>(response)
        }
        .instrument(span)
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use lite_core::SystemIds;
    use lite_store::redb_store::RedbStore;
    use serde_json::json;
    use std::sync::Mutex;

    /// Records the events it handled; fails with `fail` while it is set.
    #[derive(Default)]
    struct Recorder {
        handled: Mutex<Vec<String>>,
        fail: Mutex<Option<HandlerError>>,
    }

    #[async_trait]
    impl Handler for Recorder {
        fn name(&self) -> &'static str {
            "test-recorder"
        }
        fn detail_types(&self) -> &'static [&'static str] {
            &["product.created.v1"]
        }
        async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
            if let Some(e) = self.fail.lock().unwrap().clone() {
                return Err(e);
            }
            self.handled.lock().unwrap().push(event.id.clone());
            Ok(())
        }
    }

    fn envelope(event_type: &str) -> Envelope {
        Envelope::new(
            &SystemIds::default(),
            event_type,
            1,
            "catalog",
            lite_core::Clock::now(&SystemClock),
            "corr-1",
            json!({"productId": "prd_1"}),
        )
    }

    /// EventBridge's event JSON around `e`, as the rule's SQS target gets it.
    fn body(e: &Envelope) -> String {
        json!({
            "version": "0",
            "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": e.detail_type(),
            "source": e.source,
            "account": "123456789012",
            "time": "2026-01-01T00:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": e
        })
        .to_string()
    }

    fn sqs_event(messages: &[(&str, Option<String>)]) -> SqsEvent {
        let records: Vec<_> = messages
            .iter()
            .map(|(id, body)| {
                json!({
                    "messageId": id,
                    "receiptHandle": format!("handle-{id}"),
                    "body": body,
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "md5OfBody": "",
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                    "awsRegion": "us-east-1"
                })
            })
            .collect();
        serde_json::from_value(json!({ "Records": records })).unwrap()
    }

    fn failed(response: &SqsBatchResponse) -> Vec<&str> {
        response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect()
    }

    #[tokio::test]
    async fn handles_each_event_once_and_acks_duplicates() {
        let store = RedbStore::in_memory().unwrap();
        let handler = Recorder::default();
        let e = envelope("product.created");
        let batch = sqs_event(&[("m1", Some(body(&e))), ("m2", Some(body(&e)))]);
        let response = process_batch(&store, &SystemClock, &handler, batch.clone()).await;
        assert!(failed(&response).is_empty());
        let again = process_batch(&store, &SystemClock, &handler, batch).await;
        assert!(failed(&again).is_empty());
        assert_eq!(*handler.handled.lock().unwrap(), vec![e.id]);
    }

    #[tokio::test]
    async fn failures_are_reported_per_message() {
        let store = RedbStore::in_memory().unwrap();
        let handler = Recorder::default();
        let good = envelope("product.created");
        let unsubscribed = envelope("product.updated");
        let not_ours =
            json!({"detail-type": "x", "source": "y", "detail": {"hello": 1}}).to_string();
        let batch = sqs_event(&[
            ("bad-json", Some("{".into())),
            ("no-body", None),
            ("not-envelope", Some(not_ours)),
            ("good", Some(body(&good))),
            ("unsubscribed", Some(body(&unsubscribed))),
        ]);
        let response = process_batch(&store, &SystemClock, &handler, batch).await;
        assert_eq!(
            failed(&response),
            ["bad-json", "no-body", "not-envelope", "unsubscribed"]
        );
        assert_eq!(*handler.handled.lock().unwrap(), vec![good.id]);
    }

    #[tokio::test]
    async fn retry_and_poison_are_redelivered_until_fixed() {
        let store = RedbStore::in_memory().unwrap();
        let handler = Recorder::default();
        let e = envelope("product.created");
        for error in [
            HandlerError::Retry("down".into()),
            HandlerError::Poison("bad".into()),
        ] {
            *handler.fail.lock().unwrap() = Some(error);
            let response = process_batch(
                &store,
                &SystemClock,
                &handler,
                sqs_event(&[("m", Some(body(&e)))]),
            )
            .await;
            assert_eq!(failed(&response), ["m"]);
        }
        *handler.fail.lock().unwrap() = None;
        let response = process_batch(
            &store,
            &SystemClock,
            &handler,
            sqs_event(&[("m", Some(body(&e)))]),
        )
        .await;
        assert!(failed(&response).is_empty());
        assert_eq!(handler.handled.lock().unwrap().len(), 1);
    }

    #[test]
    fn envelope_of_checks_the_detail_type() {
        let e = envelope("product.created");
        assert_eq!(envelope_of(Some(&body(&e))).unwrap(), e);
        let mut forged: serde_json::Value = serde_json::from_str(&body(&e)).unwrap();
        forged["detail-type"] = json!("product.deleted.v1");
        assert!(matches!(
            envelope_of(Some(&forged.to_string())),
            Err(BodyError::DetailTypeMismatch { .. })
        ));
        assert_eq!(envelope_of(None), Err(BodyError::Missing));
    }

    #[test]
    fn the_response_serializes_as_lambda_expects() {
        let mut response = SqsBatchResponse::default();
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = "m1".into();
        response.batch_item_failures.push(failure);
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            json!({"batchItemFailures": [{"itemIdentifier": "m1"}]})
        );
    }
}
