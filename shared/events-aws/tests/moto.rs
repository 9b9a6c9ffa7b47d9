//! The backbone end to end against the moto server: a transaction writes
//! state + outbox item → the table's stream (read with the DynamoDB Streams
//! API, turned into the Lambda event) → the relay → an EventBridge bus → a
//! rule → an SQS queue with a DLQ → `process_batch` → a handler; plus DLQ
//! listing and redrive, and the `events-ops` binary.
//!
//! Every test makes its own table, bus, rule and queues (unique names), so
//! tests share the moto server but nothing in it.
//!
//! Emulating the Lambda event source mapping: messages are received with
//! the SQS API, turned into the `SqsEvent` Lambda would send, and those
//! the response does not list as failures are deleted (what the mapping
//! does with a partial batch response).

use async_trait::async_trait;
use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_dynamodbstreams::types::{AttributeValue as StreamValue, ShardIteratorType};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use lite_core::{Clock, SystemClock, SystemIds};
use lite_dynamo::testing::{create_table, MotoServer, TableDefinition};
use lite_dynamo::DynamoStore;
use lite_events::{Envelope, Handler, HandlerError};
use lite_events_aws::{dlq, process_batch, EventBridgeSink, Publisher, Relay};
use lite_store::{Item, Key, Store, TxOp};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const REGION: &str = "us-east-1";
/// The test queues' redrive policy (the deployed queues use 5).
const MAX_RECEIVES: usize = 2;

// ---- clients --------------------------------------------------------------

fn credentials() -> aws_sdk_sqs::config::Credentials {
    aws_sdk_sqs::config::Credentials::new("AKIDTEST", "secret", None, None, "events-aws-tests")
}

fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        // The workspace's SDK crates have no default HTTP client.
        .http_client(lite_aws::http_client())
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(credentials())
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

fn events_client(endpoint: &str) -> aws_sdk_eventbridge::Client {
    let config = aws_sdk_eventbridge::Config::builder()
        // The workspace's SDK crates have no default HTTP client.
        .http_client(lite_aws::http_client())
        .behavior_version(aws_sdk_eventbridge::config::BehaviorVersion::latest())
        .region(aws_sdk_eventbridge::config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(credentials())
        .build();
    aws_sdk_eventbridge::Client::from_conf(config)
}

fn streams_client(endpoint: &str) -> aws_sdk_dynamodbstreams::Client {
    let config = aws_sdk_dynamodbstreams::Config::builder()
        // The workspace's SDK crates have no default HTTP client.
        .http_client(lite_aws::http_client())
        .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodbstreams::config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(credentials())
        .build();
    aws_sdk_dynamodbstreams::Client::from_conf(config)
}

fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{tag}-{}-{nanos}", std::process::id())
}

// ---- the backbone in moto -------------------------------------------------

struct Backbone {
    endpoint: String,
    table: String,
    store: DynamoStore,
    events: aws_sdk_eventbridge::Client,
    sqs: aws_sdk_sqs::Client,
    bus: String,
    queue_url: String,
    queue_arn: String,
    dlq_url: String,
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    out.attributes().unwrap()[&QueueAttributeName::QueueArn].clone()
}

/// Creates a queue and its DLQ (redrive after [`MAX_RECEIVES`], visibility
/// timeout 1 s); returns (queue url, queue arn, dlq url).
async fn queues(sqs: &aws_sdk_sqs::Client, name: &str) -> (String, String, String) {
    let dlq_url = sqs
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .attributes(QueueAttributeName::MessageRetentionPeriod, "1209600")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let dlq_arn = queue_arn(sqs, &dlq_url).await;
    let redrive =
        json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES.to_string()});
    let queue_url = sqs
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::VisibilityTimeout, "1")
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let arn = queue_arn(sqs, &queue_url).await;
    (queue_url, arn, dlq_url)
}

/// A table (with its stream), a bus, and one consumer's rule → queue → DLQ.
async fn backbone(tag: &str, detail_types: &[&str]) -> Backbone {
    let endpoint = MotoServer::shared().await;
    let name = unique(tag);
    let dynamo = lite_dynamo::testing::client(&endpoint);
    let def = TableDefinition::load().unwrap();
    assert_eq!(def.stream.as_deref(), Some("NEW_AND_OLD_IMAGES"));
    create_table(&dynamo, &name, &def).await.unwrap();

    let events = events_client(&endpoint);
    let sqs = sqs_client(&endpoint);
    events.create_event_bus().name(&name).send().await.unwrap();
    let (queue_url, queue_arn, dlq_url) = queues(&sqs, &name).await;
    events
        .put_rule()
        .name(&name)
        .event_bus_name(&name)
        .event_pattern(json!({"detail-type": detail_types}).to_string())
        .send()
        .await
        .unwrap();
    let target = aws_sdk_eventbridge::types::Target::builder()
        .id("queue")
        .arn(&queue_arn)
        .build()
        .unwrap();
    events
        .put_targets()
        .rule(&name)
        .event_bus_name(&name)
        .targets(target)
        .send()
        .await
        .unwrap();

    Backbone {
        store: DynamoStore::new(dynamo, name.clone()),
        table: name.clone(),
        bus: name,
        endpoint,
        events,
        sqs,
        queue_url,
        queue_arn,
        dlq_url,
    }
}

impl Backbone {
    fn sink(&self) -> EventBridgeSink {
        EventBridgeSink::new(self.events.clone(), &self.bus)
    }

    fn relay(&self) -> Relay {
        Relay::new(
            Arc::new(self.store.clone()),
            Arc::new(self.sink()),
            Arc::new(SystemClock),
        )
    }

    /// The table's stream records (every shard, from TRIM_HORIZON), as the
    /// Lambda event the event source mapping would send.
    async fn stream_event(&self) -> StreamEvent {
        let streams = streams_client(&self.endpoint);
        let table = self
            .store
            .client()
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .unwrap();
        let arn = table.table.unwrap().latest_stream_arn.unwrap();
        let description = streams
            .describe_stream()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap()
            .stream_description
            .unwrap();
        let mut records = Vec::new();
        for shard in description.shards() {
            let iterator = streams
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(shard.shard_id().unwrap())
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .unwrap()
                .shard_iterator
                .unwrap();
            let out = streams
                .get_records()
                .shard_iterator(iterator)
                .send()
                .await
                .unwrap();
            for r in out.records() {
                records.push(lambda_record(r, &arn));
            }
        }
        serde_json::from_value(json!({ "Records": records })).unwrap()
    }

    /// Receives what is visible in `queue_url` (waiting up to `wait_secs`
    /// for the first message) as the Lambda event the mapping would send.
    async fn receive(&self, queue_url: &str, wait_secs: i32) -> SqsEvent {
        let out = self
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_secs)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        let records: Vec<Value> = out
            .messages()
            .iter()
            .map(|m| {
                let attributes: HashMap<String, String> = m
                    .attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "attributes": attributes,
                    "messageAttributes": {},
                    "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.queue_arn,
                    "awsRegion": REGION
                })
            })
            .collect();
        serde_json::from_value(json!({ "Records": records })).unwrap()
    }

    /// What the event source mapping does with a response: deletes the
    /// messages that did not fail.
    async fn ack(&self, batch: &SqsEvent, response: &SqsBatchResponse) {
        for m in &batch.records {
            let id = m.message_id.as_deref().unwrap();
            if response
                .batch_item_failures
                .iter()
                .all(|f| f.item_identifier != id)
            {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle.as_deref().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    /// One poll of the consumer: receive, process, ack.
    async fn deliver(&self, handler: &dyn Handler, wait_secs: i32) -> (SqsEvent, SqsBatchResponse) {
        let batch = self.receive(&self.queue_url, wait_secs).await;
        let response = process_batch(&self.store, &SystemClock, handler, batch.clone()).await;
        self.ack(&batch, &response).await;
        (batch, response)
    }
}

fn stream_value(v: &StreamValue) -> Value {
    match v {
        StreamValue::S(s) => json!({ "S": s }),
        StreamValue::N(n) => json!({ "N": n }),
        StreamValue::Bool(b) => json!({ "BOOL": b }),
        StreamValue::Null(b) => json!({ "NULL": b }),
        StreamValue::L(l) => json!({ "L": l.iter().map(stream_value).collect::<Vec<_>>() }),
        StreamValue::M(m) => json!({ "M": stream_image(m) }),
        StreamValue::Ss(s) => json!({ "SS": s }),
        StreamValue::Ns(n) => json!({ "NS": n }),
        other => panic!("unexpected attribute value in the stream: {other:?}"),
    }
}

fn stream_image(image: &HashMap<String, StreamValue>) -> Value {
    Value::Object(
        image
            .iter()
            .map(|(k, v)| (k.clone(), stream_value(v)))
            .collect(),
    )
}

/// A DynamoDB Streams API record in the Lambda event's shape.
fn lambda_record(r: &aws_sdk_dynamodbstreams::types::Record, stream_arn: &str) -> Value {
    let change = r.dynamodb().unwrap();
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": change.approximate_creation_date_time().map(|t| t.secs()).unwrap_or(0),
        "Keys": change.keys().map(stream_image).unwrap_or(json!({})),
        "SequenceNumber": change.sequence_number(),
        "SizeBytes": change.size_bytes().unwrap_or(0),
        "StreamViewType": change.stream_view_type().map(|v| v.as_str()),
    });
    if let Some(image) = change.new_image() {
        dynamodb["NewImage"] = stream_image(image);
    }
    if let Some(image) = change.old_image() {
        dynamodb["OldImage"] = stream_image(image);
    }
    json!({
        "eventID": r.event_id(),
        "eventName": r.event_name().map(|n| n.as_str()),
        "eventVersion": r.event_version(),
        "eventSource": r.event_source(),
        "awsRegion": r.aws_region(),
        "eventSourceARN": stream_arn,
        "dynamodb": dynamodb
    })
}

// ---- a consumer that records its effects ----------------------------------

/// Counts effects per event id; fails with `fail` while it is set.
#[derive(Default)]
struct Recorder {
    effects: Mutex<HashMap<String, usize>>,
    seen: Mutex<Vec<Envelope>>,
    fail: Mutex<Option<HandlerError>>,
}

impl Recorder {
    fn effects(&self, event_id: &str) -> usize {
        self.effects
            .lock()
            .unwrap()
            .get(event_id)
            .copied()
            .unwrap_or(0)
    }
    fn total(&self) -> usize {
        self.effects.lock().unwrap().values().sum()
    }
}

#[async_trait]
impl Handler for Recorder {
    fn name(&self) -> &'static str {
        "test-recorder"
    }
    fn detail_types(&self) -> &'static [&'static str] {
        &["product.created.v1", "product.deleted.v1"]
    }
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        if let Some(e) = self.fail.lock().unwrap().clone() {
            return Err(e);
        }
        *self
            .effects
            .lock()
            .unwrap()
            .entry(event.id.clone())
            .or_default() += 1;
        self.seen.lock().unwrap().push(event.clone());
        Ok(())
    }
}

fn envelope(event_type: &str, correlation_id: &str) -> Envelope {
    Envelope::new(
        &SystemIds::default(),
        event_type,
        1,
        "catalog",
        SystemClock.now(),
        correlation_id,
        json!({"productId": "prd_1", "sku": "SKU-1"}),
    )
}

fn state_item(pk: &str) -> Item {
    json!({"PK": pk, "SK": "PRODUCT", "name": "Widget"})
        .as_object()
        .unwrap()
        .clone()
}

fn outbox_key(e: &Envelope) -> Key {
    Key::new(format!("OUTBOX#{}", e.id), "OUTBOX")
}

// ---- tests ----------------------------------------------------------------

#[tokio::test]
async fn an_outbox_event_reaches_its_consumer_exactly_once() {
    let b = backbone(
        "exactly-once",
        &["product.created.v1", "product.deleted.v1"],
    )
    .await;
    let created = envelope("product.created", "corr-exactly-once");
    // Not routed to this consumer: its rule matches other detail-types.
    let updated = envelope("product.updated", "corr-other");
    b.store
        .transact(vec![
            TxOp::put(state_item("PRODUCT#1")),
            lite_events::outbox::put(&created),
        ])
        .await
        .unwrap();
    b.store
        .transact(vec![lite_events::outbox::put(&updated)])
        .await
        .unwrap();

    let stream = b.stream_event().await;
    let inserts = stream
        .records
        .iter()
        .filter(|r| r.event_name == "INSERT")
        .count();
    assert_eq!(inserts, 3, "product + 2 outbox items");
    let response = b.relay().handle(stream).await.unwrap();
    assert!(response.batch_item_failures.is_empty(), "{response:?}");

    for e in [&created, &updated] {
        let item = b.store.get(&outbox_key(e)).await.unwrap().unwrap();
        assert!(item.contains_key("publishedAt"), "{item:?}");
        assert!(!item.contains_key("GSI2PK"), "left the pending index");
    }

    let handler = Recorder::default();
    let (batch, response) = b.deliver(&handler, 5).await;
    assert_eq!(
        batch.records.len(),
        1,
        "only the subscribed event is queued"
    );
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(handler.effects(&created.id), 1);
    assert_eq!(
        handler.seen.lock().unwrap()[0],
        created,
        "the envelope arrives intact"
    );

    // The same message delivered again (at-least-once): no second effect.
    let again = process_batch(&b.store, &SystemClock, &handler, batch).await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(handler.effects(&created.id), 1);
    assert_eq!(handler.total(), 1);

    // The relay's mark is a MODIFY: a relay fed the whole stream again
    // publishes the INSERTs again (at least once), never the MODIFYs.
    let stream = b.stream_event().await;
    assert!(stream.records.iter().any(|r| r.event_name == "MODIFY"));
    b.relay().handle(stream).await.unwrap();
    b.deliver(&handler, 2).await;
    assert_eq!(
        handler.effects(&created.id),
        1,
        "the republished event is a duplicate"
    );

    let (empty, _) = b.deliver(&handler, 1).await;
    assert!(empty.records.is_empty(), "queue drained");
}

#[tokio::test]
async fn a_failing_consumer_sends_the_event_to_the_dlq_and_a_redrive_brings_it_back() {
    let b = backbone("dlq", &["product.deleted.v1"]).await;
    let deleted = envelope("product.deleted", "corr-dlq");
    let failures = b.sink().publish(std::slice::from_ref(&deleted)).await;
    assert!(failures.is_empty(), "{failures:?}");

    let handler = Recorder::default();
    *handler.fail.lock().unwrap() = Some(HandlerError::Retry("the database is down".into()));
    for receive in 1..=MAX_RECEIVES {
        let (batch, response) = b.deliver(&handler, 5).await;
        assert_eq!(batch.records.len(), 1, "receive {receive}");
        let id = batch.records[0].message_id.clone().unwrap();
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        assert_eq!(
            failed,
            [id],
            "receive {receive}: reported as a batch item failure"
        );
        // Visible again after the 1 s visibility timeout.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    // The next receive finds it past maxReceiveCount: SQS moves it to the DLQ.
    let (batch, _) = b.deliver(&handler, 2).await;
    assert!(batch.records.is_empty(), "{batch:?}");
    assert_eq!(handler.total(), 0);

    // Listing does not consume.
    for _ in 0..2 {
        let listed = dlq::list(&b.sqs, &b.dlq_url, 10).await.unwrap();
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0].body["detail"]["id"], deleted.id.as_str());
        assert_eq!(listed[0].body["detail-type"], "product.deleted.v1");
        assert!(listed[0].receive_count.unwrap() >= MAX_RECEIVES as u32);
    }

    // Fixed; redriven; handled once.
    *handler.fail.lock().unwrap() = None;
    let report = dlq::redrive(&b.sqs, &b.dlq_url, &b.queue_url, usize::MAX)
        .await
        .unwrap();
    assert_eq!(report.moved, 1, "{report:?}");
    assert!(dlq::list(&b.sqs, &b.dlq_url, 10).await.unwrap().is_empty());
    let (batch, response) = b.deliver(&handler, 5).await;
    assert_eq!(batch.records.len(), 1);
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(handler.effects(&deleted.id), 1);
}

#[tokio::test]
async fn poison_and_malformed_messages_also_end_in_the_dlq() {
    let b = backbone("poison", &["product.created.v1"]).await;
    let poison = envelope("product.created", "corr-poison");
    assert!(b
        .sink()
        .publish(std::slice::from_ref(&poison))
        .await
        .is_empty());
    b.sqs
        .send_message()
        .queue_url(&b.queue_url)
        .message_body("not an event")
        .send()
        .await
        .unwrap();
    let handler = Recorder::default();
    *handler.fail.lock().unwrap() = Some(HandlerError::Poison("unknown sku format".into()));
    // Every receive reports every message as failed, until SQS has moved
    // both to the DLQ (after their MAX_RECEIVES receives).
    let mut receives = 0;
    for _ in 0..10 {
        let (batch, response) = b.deliver(&handler, 2).await;
        if batch.records.is_empty() {
            break;
        }
        assert_eq!(response.batch_item_failures.len(), batch.records.len());
        receives += batch.records.len();
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert!(receives >= 2 * MAX_RECEIVES, "{receives} receives");
    let listed = dlq::list(&b.sqs, &b.dlq_url, 10).await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().any(|m| m.body == json!("not an event")));
    assert_eq!(handler.total(), 0);
}

#[tokio::test]
async fn the_sink_publishes_many_events_in_batches_of_ten() {
    let b = backbone("batches", &["product.created.v1"]).await;
    let events: Vec<Envelope> = (0..23)
        .map(|i| envelope("product.created", &format!("corr-{i}")))
        .collect();
    let failures = b.sink().publish(&events).await;
    assert!(failures.is_empty(), "{failures:?}");

    let handler = Recorder::default();
    for _ in 0..20 {
        if handler.total() == events.len() {
            break;
        }
        b.deliver(&handler, 1).await;
    }
    for e in &events {
        assert_eq!(handler.effects(&e.id), 1, "{}", e.id);
    }
}

#[tokio::test]
async fn the_sink_returns_what_it_could_not_publish() {
    let endpoint = MotoServer::shared().await;
    let sink = EventBridgeSink::new(events_client(&endpoint), unique("no-such-bus"))
        .with_retries(2, Duration::from_millis(1));
    let events: Vec<Envelope> = (0..12)
        .map(|i| envelope("product.created", &format!("corr-{i}")))
        .collect();
    let failures = sink.publish(&events).await;
    let indexes: Vec<usize> = failures.iter().map(|f| f.index).collect();
    assert_eq!(indexes, (0..12).collect::<Vec<_>>(), "{failures:?}");
    assert!(failures.iter().all(|f| !f.code.is_empty()));
}

#[tokio::test]
async fn the_relay_reports_the_first_record_it_could_not_publish() {
    let b = backbone("relay-fails", &["product.created.v1"]).await;
    let e = envelope("product.created", "corr-unpublished");
    b.store
        .transact(vec![
            TxOp::put(state_item("PRODUCT#2")),
            lite_events::outbox::put(&e),
        ])
        .await
        .unwrap();
    let stream = b.stream_event().await;
    let outbox_sequence = stream
        .records
        .iter()
        .find(|r| {
            serde_json::to_value(&r.change.new_image).unwrap()["PK"]["S"]
                .as_str()
                .is_some_and(|pk| pk.starts_with("OUTBOX#"))
        })
        .and_then(|r| r.change.sequence_number.clone())
        .unwrap();
    let missing_bus =
        EventBridgeSink::new(b.events.clone(), unique("gone")).with_retries(1, Duration::ZERO);
    let relay = Relay::new(
        Arc::new(b.store.clone()),
        Arc::new(missing_bus),
        Arc::new(SystemClock),
    );
    let response = relay.handle(stream).await.unwrap();
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap())
        .collect();
    assert_eq!(failed, [outbox_sequence]);
    let item = b.store.get(&outbox_key(&e)).await.unwrap().unwrap();
    assert_eq!(item["GSI2PK"], "OUTBOX#PENDING", "still pending");
    assert!(!item.contains_key("publishedAt"));
}

#[tokio::test]
async fn events_ops_lists_and_redrives_a_dlq() {
    let endpoint = MotoServer::shared().await;
    let sqs = sqs_client(&endpoint);
    let (queue_url, _, dlq_url) = queues(&sqs, &unique("ops")).await;
    let e = envelope("product.created", "corr-ops");
    let body =
        json!({"version": "0", "detail-type": e.detail_type(), "source": e.source, "detail": e});
    sqs.send_message()
        .queue_url(&dlq_url)
        .message_body(body.to_string())
        .send()
        .await
        .unwrap();

    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_events-ops"))
            .args(args)
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "events-ops {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let listed = run(&["dlq", "list", &dlq_url]);
    let lines: Vec<Value> = listed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{listed}");
    assert_eq!(lines[0]["body"]["detail"]["id"], e.id.as_str());
    assert_eq!(
        run(&["dlq", "list", &dlq_url]).lines().count(),
        1,
        "still there"
    );

    let report: Value =
        serde_json::from_str(run(&["dlq", "redrive", &dlq_url, &queue_url]).trim()).unwrap();
    assert_eq!(report["moved"], 1);
    assert!(run(&["dlq", "list", &dlq_url]).is_empty());
    let moved = sqs
        .receive_message()
        .queue_url(&queue_url)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap();
    assert_eq!(moved.messages().len(), 1);
    assert_eq!(
        serde_json::from_str::<Value>(moved.messages()[0].body().unwrap()).unwrap(),
        body
    );

    let usage = std::process::Command::new(env!("CARGO_BIN_EXE_events-ops"))
        .args(["dlq", "purge"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
}
