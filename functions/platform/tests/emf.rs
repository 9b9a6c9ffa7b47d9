//! The `api` Lambda binary writes its metrics as CloudWatch Embedded
//! Metric Format: the debug binary runs against the fake Lambda Runtime API
//! (`lite_fake_runtime`, on loopback), gets one API Gateway HTTP event
//! (`GET /v1/health`, which needs no AWS call), and its stdout must hold
//! EMF documents whose namespace, dimensions and `http_requests` value are
//! those of `infra/metrics.json` and of that one request.

use lite_fake_runtime::{Answer, Output, Start};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const NAMESPACE: &str = "AmazonLite/emf-test";

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
    let event: Value = serde_json::from_str(&event).expect("the sample event is JSON");
    let env: Vec<(String, String)> = [
        ("AWS_LAMBDA_FUNCTION_NAME", "api-health"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "1"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "x"),
        ("AWS_SECRET_ACCESS_KEY", "x"),
        // Nothing here may reach AWS: an unroutable endpoint would fail fast.
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("TABLE_NAME", "amazon-lite-emf-test"),
        ("AMAZON_LITE_METRICS_NAMESPACE", NAMESPACE),
        ("RUST_LOG", "warn"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let out = tempfile_path("output");
    let _ = std::fs::remove_file(&out);
    let start = Start {
        binary: Path::new(env!("CARGO_BIN_EXE_api")),
        env: &env,
        function_arn: "arn:aws:lambda:us-east-1:123456789012:function:api-health",
        timeout: Duration::from_secs(60),
        output: Output::Append(&out),
    };
    let run = lite_fake_runtime::run(&start, Some(event)).await;
    // stdout and stderr, in one file: the EMF documents are the lines with `_aws`.
    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    let response = match run {
        Ok(lite_fake_runtime::Run {
            answer: Some(Answer::Response(body)),
            ..
        }) => body,
        Ok(run) => panic!("no response: {:?}\noutput:\n{stdout}", run.answer),
        Err(e) => panic!("the function did not answer: {e}\noutput:\n{stdout}"),
    };
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
