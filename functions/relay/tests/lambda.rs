//! The `relay` binary as Lambda runs it: started with `AWS_LAMBDA_RUNTIME_API`
//! pointing at a fake Runtime API on 127.0.0.1 that hands it one stream
//! batch and records its answer, with the AWS services in the moto server.
//! Checks the wiring of `main` (environment, clients, the handler, the
//! response shape) end to end: outbox INSERT in → event on the bus → in the
//! rule's queue, item marked, `{"batchItemFailures": []}` out.

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
                 Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000\r\n\r\n{body}",
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
    let product = json!({"PK": "PRODUCT#1", "SK": "PRODUCT"})
        .as_object()
        .unwrap()
        .clone();
    store
        .transact(vec![
            TxOp::put(product.clone()),
            lite_events::outbox::put(&event),
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
    ]});

    let (runtime_api, responses) = fake_runtime(vec![batch]);
    let child = relay(
        &runtime_api,
        &[
            ("TABLE_NAME", name.as_str()),
            ("EVENT_BUS_NAME", name.as_str()),
            ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ],
    )
    .stdout(Stdio::null())
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

    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .wait_time_seconds(5)
        .send()
        .await
        .unwrap();
    assert_eq!(received.messages().len(), 1);
    let body: Value = serde_json::from_str(received.messages()[0].body().unwrap()).unwrap();
    assert_eq!(body["detail-type"], "product.created.v1");
    assert_eq!(body["source"], "amazon-lite.catalog");
    assert_eq!(body["detail"], serde_json::to_value(&event).unwrap());

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
