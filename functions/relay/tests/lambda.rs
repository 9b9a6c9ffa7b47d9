//! The `relay` binary as Lambda runs it: started with `AWS_LAMBDA_RUNTIME_API`
//! pointing at a fake Runtime API on 127.0.0.1 that hands it one stream
//! batch and records its answer, with the AWS services in the moto server.
//! Checks the wiring of `main` (environment, clients, the handler, the
//! response shape) end to end: outbox INSERT in → event on the bus → in the
//! rule's queue, item marked, `{"batchItemFailures": []}` out. And its
//! traces: with the invocation's `Lambda-Runtime-Trace-Id` and
//! `AWS_XRAY_DAEMON_ADDRESS` on a UDP socket here, segment documents arrive
//! in that trace, and each published event carries the `traceparent` of
//! the relay's span (in the Lambda's trace, or in the event's own when it
//! had one).

use lite_core::{Clock, SystemClock, SystemIds};
use lite_dynamo::testing::{create_table, MotoServer, TableDefinition};
use lite_dynamo::DynamoStore;
use lite_events::Envelope;
use lite_events_aws::dynamo_json::item_to_image;
use lite_store::{Key, Store, TxOp};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const REGION: &str = "us-east-1";
/// The X-Ray trace header the fake Runtime API gives the invocation.
const LAMBDA_TRACE: &str =
    "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c;Parent=53995c3f42cd8ad8;Sampled=1";
/// The same trace id in the W3C form.
const LAMBDA_TRACE_HEX: &str = "5e9f0c651de4d666d4dd26aced652b6c";
/// The trace an event was emitted in (by the writer of its outbox item).
const EVENT_TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// A fake Lambda Runtime API: hands out `events` on `invocation/next`
/// (then holds the request open), and sends every posted response or error
/// as (path, body) to the returned channel.
fn fake_runtime(events: Vec<Value>) -> (String, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    let events = Arc::new(Mutex::new(
        events.into_iter().enumerate().collect::<Vec<_>>(),
    ));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let events = Arc::clone(&events);
            let tx = tx.clone();
            std::thread::spawn(move || serve(stream, &events, &tx));
        }
    });
    (address, rx)
}

fn serve(
    stream: TcpStream,
    events: &Mutex<Vec<(usize, Value)>>,
    tx: &mpsc::Sender<(String, String)>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if method == "GET" && path.ends_with("/invocation/next") {
            let next = {
                let mut events = events.lock().unwrap();
                (!events.is_empty()).then(|| events.remove(0))
            };
            let Some((n, event)) = next else {
                // No more work: hold the request, as Lambda does between invocations.
                std::thread::sleep(Duration::from_secs(3600));
                return;
            };
            let body = event.to_string();
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 60_000;
            write!(
                writer,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Lambda-Runtime-Aws-Request-Id: request-{n}\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:{REGION}:123456789012:function:relay\r\n\
                 Lambda-Runtime-Trace-Id: {LAMBDA_TRACE}\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
        } else {
            tx.send((path.to_owned(), String::from_utf8_lossy(&body).into_owned()))
                .unwrap();
            write!(writer, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n").unwrap();
        }
        writer.flush().unwrap();
    }
}

/// Kills the binary when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn relay(runtime_api: &str, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_relay"));
    cmd.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "events-relay")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{tag}-{}-{nanos}", std::process::id())
}

fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        // The workspace's SDK crates have no default HTTP client.
        .http_client(lite_aws::http_client())
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "AKIDTEST",
            "secret",
            None,
            None,
            "relay-tests",
        ))
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

fn eventbridge_client(endpoint: &str) -> aws_sdk_eventbridge::Client {
    let config = aws_sdk_eventbridge::Config::builder()
        // The workspace's SDK crates have no default HTTP client.
        .http_client(lite_aws::http_client())
        .behavior_version(aws_sdk_eventbridge::config::BehaviorVersion::latest())
        .region(aws_sdk_eventbridge::config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_eventbridge::config::Credentials::new(
            "AKIDTEST",
            "secret",
            None,
            None,
            "relay-tests",
        ))
        .build();
    aws_sdk_eventbridge::Client::from_conf(config)
}

#[tokio::test]
async fn the_binary_relays_a_stream_batch_to_the_bus() {
    let endpoint = MotoServer::shared().await;
    let name = unique("relay-bin");

    // The table, with a product and its event written in one transaction.
    let dynamo = lite_dynamo::testing::client(&endpoint);
    create_table(&dynamo, &name, &TableDefinition::load().unwrap())
        .await
        .unwrap();
    let store = DynamoStore::new(dynamo, name.clone());
    let event = Envelope::new(
        &SystemIds::default(),
        "product.created",
        1,
        "catalog",
        SystemClock.now(),
        "corr-relay-bin",
        json!({"productId": "prd_1"}),
    );
    // A second event, emitted inside a trace of its own.
    let mut traced = Envelope::new(
        &SystemIds::default(),
        "product.created",
        1,
        "catalog",
        SystemClock.now(),
        "corr-relay-traced",
        json!({"productId": "prd_2"}),
    );
    traced.traceparent = Some(EVENT_TRACEPARENT.to_owned());
    let product = json!({"PK": "PRODUCT#1", "SK": "PRODUCT"})
        .as_object()
        .unwrap()
        .clone();
    store
        .transact(vec![
            TxOp::put(product.clone()),
            lite_events::outbox::put(&event),
            lite_events::outbox::put(&traced),
        ])
        .await
        .unwrap();

    // The bus and a rule to a queue, to see what the relay published.
    let events = eventbridge_client(&endpoint);
    let sqs = sqs_client(&endpoint);
    events.create_event_bus().name(&name).send().await.unwrap();
    let queue_url = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    events
        .put_rule()
        .name(&name)
        .event_bus_name(&name)
        .event_pattern(json!({"detail-type": ["product.created.v1"]}).to_string())
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule(&name)
        .event_bus_name(&name)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("q")
                .arn(&queue_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // The batch Lambda would send: the product INSERT (filtered out on AWS
    // by the mapping; ignored by the relay) and the outbox INSERT.
    let record = |sequence: &str, item: &lite_store::Item| {
        json!({
            "eventID": format!("e{sequence}"),
            "eventName": "INSERT",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "eventSourceARN": format!("arn:aws:dynamodb:{REGION}:123456789012:table/{name}/stream/x"),
            "dynamodb": {
                "ApproximateCreationDateTime": 1_767_225_600,
                "Keys": item_to_image(&Key::of(item).unwrap().to_item()),
                "NewImage": item_to_image(item),
                "SequenceNumber": sequence,
                "SizeBytes": 200,
                "StreamViewType": "NEW_AND_OLD_IMAGES"
            }
        })
    };
    let batch = json!({"Records": [
        record("100", &product),
        record("200", &lite_events::outbox::item(&event)),
        record("300", &lite_events::outbox::item(&traced)),
    ]});
    // The X-Ray daemon: a UDP socket here.
    let daemon = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    daemon
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let daemon_address = daemon.local_addr().unwrap().to_string();
    let log = tempfile::NamedTempFile::new().unwrap();

    let (runtime_api, responses) = fake_runtime(vec![batch]);
    let child = relay(
        &runtime_api,
        &[
            ("TABLE_NAME", name.as_str()),
            ("EVENT_BUS_NAME", name.as_str()),
            ("AWS_ENDPOINT_URL", endpoint.as_str()),
            ("AWS_XRAY_DAEMON_ADDRESS", daemon_address.as_str()),
        ],
    )
    .stdout(log.reopen().unwrap())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let _running = Running(child);

    let (path, body) =
        tokio::task::spawn_blocking(move || responses.recv_timeout(Duration::from_secs(60)))
            .await
            .unwrap()
            .expect("the relay answered the invocation");
    assert_eq!(path, "/2018-06-01/runtime/invocation/request-0/response");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"batchItemFailures": []})
    );

    // Both events on the bus, each with the relay span's traceparent and
    // otherwise as written.
    let mut published: Vec<Value> = Vec::new();
    for _ in 0..10 {
        let received = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(2)
            .send()
            .await
            .unwrap();
        for m in received.messages() {
            let body: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            assert_eq!(body["detail-type"], "product.created.v1");
            assert_eq!(body["source"], "amazon-lite.catalog");
            published.push(body["detail"].clone());
        }
        if published.len() >= 2 {
            break;
        }
    }
    assert_eq!(published.len(), 2, "{published:?}");
    let relayed = |written: &Envelope| -> lite_trace::TraceContext {
        let mut detail = published
            .iter()
            .find(|d| d["id"] == written.id.as_str())
            .expect("the event was published")
            .clone();
        let traceparent = detail["traceparent"]
            .as_str()
            .expect("a traceparent")
            .to_owned();
        detail["traceparent"] = written
            .traceparent
            .as_deref()
            .map_or(Value::Null, Value::from);
        if written.traceparent.is_none() {
            detail.as_object_mut().unwrap().remove("traceparent");
        }
        assert_eq!(
            detail,
            serde_json::to_value(written).unwrap(),
            "nothing else changed"
        );
        lite_trace::TraceContext::from_traceparent(&traceparent).unwrap()
    };
    let untraced = relayed(&event);
    assert_eq!(
        untraced.trace_id.to_hex(),
        LAMBDA_TRACE_HEX,
        "the invocation's trace"
    );
    let continued = relayed(&traced);
    let emitted = lite_trace::TraceContext::from_traceparent(EVENT_TRACEPARENT).unwrap();
    assert_eq!(
        continued.trace_id, emitted.trace_id,
        "the event's own trace"
    );
    assert_ne!(continued.span_id, emitted.span_id, "under the relay's span");

    // The segment documents the function sent to the daemon.
    let mut documents: Vec<Value> = Vec::new();
    let mut buf = [0u8; 65_536];
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        match daemon.recv(&mut buf) {
            Ok(n) => {
                let datagram = std::str::from_utf8(&buf[..n]).unwrap();
                let (header, document) = datagram
                    .split_once('\n')
                    .expect("header, newline, document");
                assert_eq!(header, r#"{"format":"json","version":1}"#);
                documents.push(serde_json::from_str(document).unwrap());
            }
            Err(_)
                if documents
                    .iter()
                    .any(|d| d["annotations"]["span"] == "Lambda runtime invoke") =>
            {
                break
            }
            Err(_) => {}
        }
    }
    let by_id = |id: &str| -> &Value {
        documents
            .iter()
            .find(|d| d["id"] == id)
            .unwrap_or_else(|| panic!("no segment {id} in {documents:#?}"))
    };
    let invoke = documents
        .iter()
        .find(|d| d["annotations"]["span"] == "Lambda runtime invoke")
        .unwrap_or_else(|| panic!("no invocation subsegment in {documents:#?}"));
    assert_eq!(invoke["trace_id"], "1-5e9f0c65-1de4d666d4dd26aced652b6c");
    assert_eq!(invoke["type"], "subsegment");
    assert_eq!(
        invoke["parent_id"], "53995c3f42cd8ad8",
        "under Lambda's segment"
    );
    // The untraced event's relay span: a subsegment of the invocation.
    let first = by_id(&untraced.span_id.to_hex());
    assert_eq!(first["trace_id"], "1-5e9f0c65-1de4d666d4dd26aced652b6c");
    assert_eq!(first["type"], "subsegment");
    assert_eq!(first["name"], "relay.event");
    // (under the handler's span, under the invocation's)
    let handler = by_id(first["parent_id"].as_str().unwrap());
    assert_eq!(handler["name"], "relay");
    assert_eq!(handler["parent_id"], invoke["id"]);
    assert_eq!(first["annotations"]["correlation_id"], "corr-relay-bin");
    // The traced event's: a segment of the function in the event's trace.
    let second = by_id(&continued.span_id.to_hex());
    assert_eq!(second["trace_id"], "1-4bf92f35-77b34da6a3ce929d0e0e4736");
    assert!(second.get("type").is_none(), "a segment: {second}");
    assert_eq!(second["name"], "events-relay");
    assert_eq!(second["parent_id"], "00f067aa0ba902b7");
    // The SDK calls: PutEvents in the invocation, each mark under its event.
    assert!(documents
        .iter()
        .any(|d| d["name"] == "eventbridge.PutEvents" && d["trace_id"] == invoke["trace_id"]));
    for relay_span in [first, second] {
        assert!(
            documents.iter().any(|d| d["name"] == "store.update"
                && d["parent_id"] == relay_span["id"]
                && d["trace_id"] == relay_span["trace_id"]),
            "no mark under {relay_span}"
        );
    }
    for d in &documents {
        assert!(d["start_time"].as_f64().unwrap() <= d["end_time"].as_f64().unwrap());
    }

    // Its log lines name the trace they belong to.
    let lines = std::fs::read_to_string(log.path()).unwrap();
    let line = lines
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["message"] == "event published" && l["correlationId"] == "corr-relay-traced")
        .unwrap_or_else(|| panic!("no published line of the traced event in:\n{lines}"));
    assert_eq!(line["traceId"], emitted.trace_id.to_hex());

    let outbox = store
        .get(&Key::new(format!("OUTBOX#{}", event.id), "OUTBOX"))
        .await
        .unwrap()
        .unwrap();
    assert!(outbox.contains_key("publishedAt"));
    assert!(!outbox.contains_key("GSI2PK"));
}

#[test]
fn without_its_bus_the_binary_stops_at_init_naming_the_variable() {
    let (runtime_api, _responses) = fake_runtime(vec![]);
    let out = relay(&runtime_api, &[("TABLE_NAME", "t")])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("EVENT_BUS_NAME"), "{stderr}");
}
