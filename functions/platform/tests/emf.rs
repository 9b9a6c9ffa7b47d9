//! The `api` Lambda binary writes its metrics as CloudWatch Embedded
//! Metric Format: the debug binary runs against a fake Lambda Runtime API
//! (written here, on loopback), gets one API Gateway HTTP event
//! (`GET /v1/health`, which needs no AWS call), and its stdout must hold
//! EMF documents whose namespace, dimensions and `http_requests` value are
//! those of `infra/metrics.json` and of that one request.

use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const REQUEST_ID: &str = "8f5b1a4e-emf-test";
const NAMESPACE: &str = "AmazonLite/emf-test";

/// What the function sent back to the fake Runtime API.
#[derive(Debug)]
enum Seen {
    Response(String),
    Error(String),
}

/// Serves one invocation (`event`), then holds every later
/// `invocation/next` open; reports responses and errors.
async fn runtime_api(listener: TcpListener, event: String, seen: mpsc::UnboundedSender<Seen>) {
    let served = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (event, seen, served) = (event.clone(), seen.clone(), served.clone());
        tokio::spawn(async move {
            let _ = connection(stream, &event, &seen, &served).await;
        });
    }
}

async fn connection(
    mut stream: TcpStream,
    event: &str,
    seen: &mpsc::UnboundedSender<Seen>,
    served: &std::sync::atomic::AtomicBool,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let length = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
        buf.drain(..head_end + length);
        if head.starts_with("GET /2018-06-01/runtime/invocation/next") {
            if served.swap(true, std::sync::atomic::Ordering::SeqCst) {
                // One invocation only: the next waits until the test ends.
                while stream.read(&mut chunk).await? != 0 {}
                return Ok(());
            }
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("a clock after 1970")
                .as_millis()
                + 30_000;
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 lambda-runtime-aws-request-id: {REQUEST_ID}\r\n\
                 lambda-runtime-deadline-ms: {deadline}\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:api-health\r\n\
                 lambda-runtime-trace-id: Root=1-5e9f0c65-1de4d666d4dd26aced652b6c\r\n\
                 content-length: {}\r\n\r\n{event}",
                event.len()
            );
            stream.write_all(reply.as_bytes()).await?;
            continue;
        }
        if head.contains("/response ") {
            let _ = seen.send(Seen::Response(body));
        } else if head.contains("/error ") {
            let _ = seen.send(Seen::Error(format!("{head}{body}")));
        }
        stream
            .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
            .await?;
    }
}

/// Every stdout line that is an EMF document.
fn emf_documents(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect()
}

#[tokio::test]
async fn a_route_invocation_writes_emf_with_the_catalog_dimensions() {
    let event_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/lambda/api-health.json"
    );
    let event = std::fs::read_to_string(event_path).expect("the sample event");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (tx, mut seen) = mpsc::unbounded_channel();
    tokio::spawn(runtime_api(listener, event, tx));

    let out = tempfile_path("stdout");
    let mut child = Command::new(env!("CARGO_BIN_EXE_api"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_LAMBDA_RUNTIME_API", &address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "api-health")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        // Nothing here may reach AWS: an unroutable endpoint would fail fast.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("TABLE_NAME", "amazon-lite-emf-test")
        .env("AMAZON_LITE_METRICS_NAMESPACE", NAMESPACE)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the api binary");

    let answer = tokio::time::timeout(Duration::from_secs(60), seen.recv()).await;
    let _ = child.kill();
    let output = child.wait_with_output().expect("the child ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    let response = match answer {
        Ok(Some(Seen::Response(body))) => body,
        Ok(Some(Seen::Error(error))) => {
            panic!("the function reported an error: {error}\nstdout:\n{stdout}\nstderr:\n{stderr}")
        }
        other => panic!("no response: {other:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"),
    };
    let response: Value = serde_json::from_str(&response).expect("a JSON response");
    assert_eq!(response["statusCode"], 200, "{response}");

    let documents = emf_documents(&stdout);
    let http = documents
        .iter()
        .find(|d| d.get("http_requests").is_some())
        .unwrap_or_else(|| panic!("no http_requests document in:\n{stdout}"));
    let directive = &http["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], NAMESPACE);
    assert_eq!(
        directive["Dimensions"],
        serde_json::json!([["service", "route", "method", "status_class"]]),
        "one dimension set: exactly the catalog's labels"
    );
    assert_eq!(
        directive["Metrics"],
        serde_json::json!([{"Name": "http_requests", "Unit": "Count"}])
    );
    assert!(http["_aws"]["Timestamp"].as_u64().is_some());
    assert_eq!(http["service"], "api");
    assert_eq!(http["route"], "/v1/health");
    assert_eq!(http["method"], "GET");
    assert_eq!(http["status_class"], "2xx");
    assert_eq!(http["http_requests"], 1);

    let duration = documents
        .iter()
        .find(|d| d.get("http_request_duration").is_some())
        .unwrap_or_else(|| panic!("no http_request_duration document in:\n{stdout}"));
    let directive = &duration["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(
        directive["Dimensions"],
        serde_json::json!([["service", "route", "method"]])
    );
    assert_eq!(
        directive["Metrics"],
        serde_json::json!([{"Name": "http_request_duration", "Unit": "Milliseconds"}])
    );
    let samples = duration["http_request_duration"]
        .as_array()
        .expect("the invocation's samples");
    assert_eq!(samples.len(), 1);
    assert!(samples[0].as_f64().is_some_and(|ms| ms >= 0.0));
    // Flushed once: one document per label set of this one request.
    assert_eq!(documents.len(), 2, "{stdout}");
}

fn tempfile_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("api-emf-{}-{name}.log", std::process::id()))
}
