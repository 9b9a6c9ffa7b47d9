//! The outbox relay: DynamoDB Streams → EventBridge.
//!
//! The table's stream (NEW_AND_OLD_IMAGES) invokes the relay with batches
//! of records, in order per shard. The relay takes the INSERTs of outbox
//! items (`PK = OUTBOX#<eventId>`; the event source mapping filters on that
//! too, so normally nothing else arrives), reads the envelope from the
//! item's `event` attribute, publishes the envelopes, and marks each
//! published item: `GSI2PK`/`GSI2SK` removed (it leaves the
//! `OUTBOX#PENDING` index a sweeper would scan for leftovers) and
//! `publishedAt` set. That update is a MODIFY, which the filter drops.
//!
//! # Failures
//! The stream mapping processes a shard in order, so the response names
//! the FIRST record that failed (publish refused, or the mark could not be
//! written); Lambda checkpoints before it and retries from it, which
//! publishes the records after it again: consumers are idempotent, and
//! delivery is at least once anyway. A record whose item cannot be read as
//! an outbox event (no `event`, not an envelope, key and id disagree) is
//! logged and skipped: retrying it can never succeed, and it would hold
//! back its shard until the mapping's retry limits sent it to the relay's
//! DLQ.

use crate::dynamo_json::image_to_item;
use crate::sink::Publisher;
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use futures::StreamExt;
use lite_core::Clock;
use lite_events::Envelope;
use lite_store::{attr, Condition, Key, Store, Update};
use std::collections::HashSet;
use std::sync::Arc;
use tracing::Instrument;

/// Partition key prefix of outbox items.
pub const OUTBOX_PREFIX: &str = "OUTBOX#";
/// Set on an outbox item once its event is published (RFC 3339).
pub const PUBLISHED_AT: &str = "publishedAt";
/// Marks written at once (UpdateItem calls in flight).
const MARK_CONCURRENCY: usize = 16;

/// Why a batch could not be answered record by record; Lambda then retries
/// the whole batch.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("stream record {0} has no sequence number to report")]
    NoSequenceNumber(String),
}

/// One outbox INSERT read from the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRecord {
    pub key: Key,
    pub event: Envelope,
}

/// Reads `record` as an outbox INSERT: `Ok(None)` when it is something
/// else (another entity, a MODIFY or REMOVE), `Err` when it is an outbox
/// INSERT whose item is malformed.
pub fn outbox_record(record: &EventRecord) -> Result<Option<OutboxRecord>, String> {
    if record.event_name != "INSERT" {
        return Ok(None);
    }
    let image = serde_json::to_value(&record.change.new_image).map_err(|e| e.to_string())?;
    let pk = image
        .get(attr::PK)
        .and_then(|v| v.get("S"))
        .and_then(|v| v.as_str());
    match pk {
        Some(pk) if pk.starts_with(OUTBOX_PREFIX) => {}
        _ => return Ok(None),
    }
    let item = image_to_item(&image).map_err(|e| e.to_string())?;
    let key = Key::of(&item).map_err(|e| e.to_string())?;
    let event = item
        .get("event")
        .ok_or("the outbox item has no `event` attribute")?;
    let event: Envelope = serde_json::from_value(event.clone())
        .map_err(|e| format!("the `event` attribute is not an envelope: {e}"))?;
    if key.pk != format!("{OUTBOX_PREFIX}{}", event.id) {
        return Err(format!(
            "the item {} holds event {}; an outbox item is keyed by its event id",
            key.pk, event.id
        ));
    }
    Ok(Some(OutboxRecord { key, event }))
}

/// The relay: publishes outbox INSERTs and marks them published.
#[derive(Clone)]
pub struct Relay {
    store: Arc<dyn Store>,
    publisher: Arc<dyn Publisher>,
    clock: Arc<dyn Clock>,
}

impl Relay {
    pub fn new(
        store: Arc<dyn Store>,
        publisher: Arc<dyn Publisher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            publisher,
            clock,
        }
    }

    /// Handles one batch of stream records (the Lambda handler).
    pub async fn handle(&self, event: Event) -> Result<DynamoDbEventResponse, RelayError> {
        let records = &event.records;
        // (record index, outbox record)
        let mut work: Vec<(usize, OutboxRecord)> = Vec::new();
        for (i, record) in records.iter().enumerate() {
            match outbox_record(record) {
                Ok(Some(outbox)) => work.push((i, outbox)),
                Ok(None) => {}
                Err(reason) => tracing::error!(
                    stream_event_id = %record.event_id,
                    sequence_number = record.change.sequence_number.as_deref().unwrap_or_default(),
                    %reason,
                    "malformed outbox item skipped (it can never be published)"
                ),
            }
        }
        if work.is_empty() {
            return Ok(DynamoDbEventResponse::default());
        }

        // One span per event, in the event's trace (the emitter's span is
        // its parent); the published envelope carries this span's context,
        // so the consumers' spans hang under the relay hop.
        let spans: Vec<tracing::Span> = work
            .iter()
            .map(|(_, o)| {
                let span = tracing::info_span!(
                    "relay.event",
                    event_id = %o.event.id,
                    detail_type = %o.event.detail_type(),
                    correlation_id = %o.event.correlation_id,
                );
                lite_trace::set_parent_from(&span, o.event.traceparent.as_deref());
                span
            })
            .collect();
        let envelopes: Vec<Envelope> = work
            .iter()
            .zip(&spans)
            .map(|((_, o), span)| o.event.clone().traced_by(span))
            .collect();
        let failures = self.publisher.publish(&envelopes).await;
        let mut first_failed: Option<usize> = None;
        let mut unpublished = HashSet::new();
        for failure in &failures {
            let Some((record_index, outbox)) = work.get(failure.index) else {
                continue;
            };
            unpublished.insert(failure.index);
            tracing::error!(
                event_id = %outbox.event.id,
                correlation_id = %outbox.event.correlation_id,
                detail_type = %outbox.event.detail_type(),
                code = %failure.code,
                message = %failure.message,
                "event not published; the stream will redeliver it"
            );
            first_failed = Some(first_failed.map_or(*record_index, |f| f.min(*record_index)));
        }

        for (wi, (_, outbox)) in work.iter().enumerate() {
            if !unpublished.contains(&wi) {
                lite_metrics::event_published(&outbox.event.detail_type());
            }
        }

        // Everything published is marked, including records after the
        // first failure: they were published, and the redelivery will
        // only publish them again.
        let published_at = lite_core::rfc3339(self.clock.now());
        let marks = work
            .iter()
            .enumerate()
            .filter(|(wi, _)| !unpublished.contains(wi))
            .map(|(wi, (record_index, outbox))| {
                let published_at = published_at.clone();
                let span = spans[wi].clone();
                async move { (*record_index, self.mark(outbox, published_at).await) }
                    .instrument(span)
            });
        let results: Vec<(usize, bool)> = futures::stream::iter(marks)
            .buffer_unordered(MARK_CONCURRENCY)
            .collect()
            .await;
        for (record_index, marked) in results {
            if !marked {
                first_failed = Some(first_failed.map_or(record_index, |f| f.min(record_index)));
            }
        }

        let mut response = DynamoDbEventResponse::default();
        if let Some(index) = first_failed {
            let record = &records[index];
            let sequence = record
                .change
                .sequence_number
                .clone()
                .ok_or_else(|| RelayError::NoSequenceNumber(record.event_id.clone()))?;
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(sequence);
            response.batch_item_failures.push(failure);
        }
        Ok(response)
    }

    /// Marks one published outbox item; false when it must be retried.
    async fn mark(&self, outbox: &OutboxRecord, published_at: String) -> bool {
        let updates = [
            Update::remove(attr::GSI2PK),
            Update::remove(attr::GSI2SK),
            Update::set(PUBLISHED_AT, published_at),
        ];
        let event = &outbox.event;
        match self
            .store
            .update(&outbox.key, &updates, Some(Condition::Exists))
            .await
        {
            Ok(_) => {
                tracing::info!(
                    event_id = %event.id,
                    correlation_id = %event.correlation_id,
                    detail_type = %event.detail_type(),
                    "event published"
                );
                true
            }
            Err(e) if e.is_condition_failure() => {
                // Deleted since (nothing to mark): published all the same.
                tracing::warn!(event_id = %event.id, "published; the outbox item is gone");
                true
            }
            Err(e) => {
                tracing::error!(
                    event_id = %event.id,
                    correlation_id = %event.correlation_id,
                    error = %e,
                    "published, but the outbox item could not be marked; retrying the record"
                );
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo_json::item_to_image;
    use crate::sink::PublishFailure;
    use async_trait::async_trait;
    use lite_core::{ManualClock, SystemIds};
    use lite_store::redb_store::RedbStore;
    use lite_store::Item;
    use serde_json::{json, Value};
    use std::sync::Mutex;

    /// Records what it publishes; refuses the event ids it is told to.
    #[derive(Default)]
    struct FakePublisher {
        published: Mutex<Vec<Envelope>>,
        refuse: Mutex<HashSet<String>>,
    }

    #[async_trait]
    impl Publisher for FakePublisher {
        async fn publish(&self, events: &[Envelope]) -> Vec<PublishFailure> {
            let refuse = self.refuse.lock().unwrap().clone();
            let mut failures = Vec::new();
            for (index, e) in events.iter().enumerate() {
                if refuse.contains(&e.id) {
                    failures.push(PublishFailure {
                        index,
                        code: "ThrottlingException".into(),
                        message: "slow down".into(),
                    });
                } else {
                    self.published.lock().unwrap().push(e.clone());
                }
            }
            failures
        }
    }

    fn envelope(n: u32) -> Envelope {
        Envelope::new(
            &SystemIds::default(),
            "product.created",
            1,
            "catalog",
            lite_core::Clock::now(&lite_core::SystemClock),
            &format!("corr-{n}"),
            json!({"n": n}),
        )
    }

    fn record(sequence: u64, event_name: &str, item: &Item) -> Value {
        json!({
            "eventID": format!("id-{sequence}"),
            "eventName": event_name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026",
            "dynamodb": {
                "ApproximateCreationDateTime": 1_767_225_600,
                "Keys": item_to_image(&Key::of(item).unwrap().to_item()),
                "NewImage": item_to_image(item),
                "SequenceNumber": sequence.to_string(),
                "SizeBytes": 100,
                "StreamViewType": "NEW_AND_OLD_IMAGES"
            }
        })
    }

    fn stream_event(records: Vec<Value>) -> Event {
        serde_json::from_value(json!({ "Records": records })).unwrap()
    }

    struct Setup {
        store: Arc<RedbStore>,
        publisher: Arc<FakePublisher>,
        relay: Relay,
    }

    fn setup() -> Setup {
        let store = Arc::new(RedbStore::in_memory().unwrap());
        let publisher = Arc::new(FakePublisher::default());
        let clock = ManualClock::new(
            chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
        );
        let relay = Relay::new(store.clone(), publisher.clone(), Arc::new(clock));
        Setup {
            store,
            publisher,
            relay,
        }
    }

    async fn written(store: &RedbStore, e: &Envelope) -> Item {
        let item = lite_events::outbox::item(e);
        store.put(item.clone(), None).await.unwrap();
        item
    }

    async fn stored(store: &RedbStore, e: &Envelope) -> Item {
        store
            .get(&Key::new(format!("OUTBOX#{}", e.id), "OUTBOX"))
            .await
            .unwrap()
            .unwrap()
    }

    #[tokio::test]
    async fn publishes_outbox_inserts_only_and_marks_them() {
        let s = setup();
        let (a, b) = (envelope(1), envelope(2));
        let item_a = written(&s.store, &a).await;
        let item_b = written(&s.store, &b).await;
        let product = json!({"PK": "PRODUCT#1", "SK": "PRODUCT", "name": "x"})
            .as_object()
            .unwrap()
            .clone();
        let event = stream_event(vec![
            record(1, "INSERT", &item_a),
            record(2, "INSERT", &product),
            record(3, "MODIFY", &item_a),
            record(4, "INSERT", &item_b),
            record(5, "REMOVE", &item_b),
        ]);
        let response = s.relay.handle(event).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(
            *s.publisher.published.lock().unwrap(),
            vec![a.clone(), b.clone()]
        );
        for e in [&a, &b] {
            let item = stored(&s.store, e).await;
            assert_eq!(item["publishedAt"], "2026-01-01T00:00:00.000Z");
            assert!(item.get("GSI2PK").is_none() && item.get("GSI2SK").is_none());
            assert_eq!(
                item["event"],
                serde_json::to_value(e).unwrap(),
                "event kept"
            );
        }
    }

    #[tokio::test]
    async fn reports_the_first_failed_record_and_marks_only_what_was_published() {
        let s = setup();
        let events: Vec<Envelope> = (0..4).map(envelope).collect();
        let mut records = Vec::new();
        for (i, e) in events.iter().enumerate() {
            records.push(record(10 + i as u64, "INSERT", &written(&s.store, e).await));
        }
        s.publisher
            .refuse
            .lock()
            .unwrap()
            .extend([events[1].id.clone(), events[3].id.clone()]);
        let response = s.relay.handle(stream_event(records)).await.unwrap();
        let ids: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone().unwrap())
            .collect();
        assert_eq!(
            ids,
            ["11"],
            "one failure: the first failed record's sequence number"
        );
        for (i, e) in events.iter().enumerate() {
            let item = stored(&s.store, e).await;
            let published = i % 2 == 0;
            assert_eq!(item.contains_key("publishedAt"), published, "{i}");
            assert_eq!(item.get("GSI2PK").is_none(), published, "{i}");
        }
    }

    #[tokio::test]
    async fn malformed_outbox_items_are_skipped_not_retried() {
        let s = setup();
        let good = envelope(1);
        let good_item = written(&s.store, &good).await;
        let mut no_event = lite_events::outbox::item(&envelope(2));
        no_event.remove("event");
        let mut not_envelope = lite_events::outbox::item(&envelope(3));
        not_envelope.insert("event".into(), json!({"id": 1}));
        let mut wrong_key = lite_events::outbox::item(&envelope(4));
        wrong_key.insert("PK".into(), "OUTBOX#evt_other".into());
        let response = s
            .relay
            .handle(stream_event(vec![
                record(1, "INSERT", &no_event),
                record(2, "INSERT", &not_envelope),
                record(3, "INSERT", &wrong_key),
                record(4, "INSERT", &good_item),
            ]))
            .await
            .unwrap();
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(*s.publisher.published.lock().unwrap(), vec![good]);
    }

    #[tokio::test]
    async fn an_outbox_item_deleted_since_counts_as_published() {
        let s = setup();
        let e = envelope(1);
        let item = lite_events::outbox::item(&e); // never stored
        let response = s
            .relay
            .handle(stream_event(vec![record(1, "INSERT", &item)]))
            .await
            .unwrap();
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(s.publisher.published.lock().unwrap().len(), 1);
        assert!(
            s.store
                .get(&Key::new(format!("OUTBOX#{}", e.id), "OUTBOX"))
                .await
                .unwrap()
                .is_none(),
            "the mark did not recreate it"
        );
    }

    #[tokio::test]
    async fn an_empty_or_foreign_batch_publishes_nothing() {
        let s = setup();
        let response = s.relay.handle(stream_event(vec![])).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
        assert!(s.publisher.published.lock().unwrap().is_empty());
    }

    #[test]
    fn the_response_serializes_as_lambda_expects() {
        let mut response = DynamoDbEventResponse::default();
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some("42".into());
        response.batch_item_failures.push(failure);
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            json!({"batchItemFailures": [{"itemIdentifier": "42"}]})
        );
    }
}
