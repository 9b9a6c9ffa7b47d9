//! Distributed traces on the real binary: with `OTEL_EXPORTER_OTLP_ENDPOINT`
//! pointed at an OTLP/HTTP receiver in this test, one checkout is ONE trace
//! from `POST /v1/orders` through the outbox, the bus, the `checkout-start`
//! consumer, the saga's execution and every task, the payment provider and
//! its webhook, to the confirmation and the notification: every span of it
//! names a parent that is in the trace (one root), store and bus spans
//! among them. The server's log lines of that checkout carry its
//! `traceId` and the request's `correlationId`.

use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use system_tests::{
    eventually, product_body, send, settled_order, shopper, stocked_product, unique, Seed, TestApi,
};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// Every span an OTLP/HTTP JSON export delivered.
type Received = Arc<Mutex<Vec<Value>>>;

/// An OTLP/HTTP receiver: `POST /v1/traces` with a JSON body, answered 200.
async fn receiver() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let received: Received = Arc::default();
    let spans = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let spans = spans.clone();
            tokio::spawn(async move {
                let _ = export(stream, &spans).await;
            });
        }
    });
    (endpoint, received)
}

async fn export(mut stream: TcpStream, spans: &Received) -> std::io::Result<()> {
    let Some((head, body)) = system_tests::read_http_message(&mut stream).await else {
        return Ok(());
    };
    let ok =
        head.starts_with("post /v1/traces ") && head.contains("content-type: application/json");
    if ok {
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let mut spans = spans.lock().unwrap();
        for rs in body["resourceSpans"].as_array().into_iter().flatten() {
            assert_eq!(
                rs["resource"]["attributes"][0]["key"], "service.name",
                "the resource names the service"
            );
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                spans.extend(ss["spans"].as_array().into_iter().flatten().cloned());
            }
        }
    }
    let status = if ok { "200 OK" } else { "400 Bad Request" };
    stream
        .write_all(format!("HTTP/1.1 {status}\r\ncontent-length: 2\r\n\r\n{{}}").as_bytes())
        .await
}

fn attr<'a>(span: &'a Value, key: &str) -> Option<&'a str> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .and_then(|a| a["value"]["stringValue"].as_str())
}

/// The spans of one trace, by span id.
struct Trace {
    spans: HashMap<String, Value>,
}

impl Trace {
    fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.spans.values().filter(move |s| s["name"] == name)
    }

    /// The names from `span` up to the root.
    fn ancestry(&self, span: &Value) -> Vec<String> {
        let mut names = vec![span["name"].as_str().unwrap_or_default().to_owned()];
        let mut at = span;
        while let Some(parent) = at["parentSpanId"].as_str() {
            at = &self.spans[parent];
            names.push(at["name"].as_str().unwrap_or_default().to_owned());
        }
        names
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_checkout_is_one_trace_across_every_hop() {
    let (endpoint, received) = receiver().await;
    let api = TestApi::spawn_with_env(
        Seed::None,
        &[
            (
                "PAYMENT_WEBHOOK_SECRET",
                "whsec_traces_tests_0123456789abcdef",
            ),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_SERVICE_NAME", "amazon-lite-traces-test"),
        ],
    )
    .await;
    let product = stocked_product(
        &api,
        product_body("TRC", "Trace test speaker", "audio", 2599),
        10,
    )
    .await;
    let buyer = shopper(&api, "Tracy").await;
    let r = send(
        api.request(Method::POST, "/v1/cart/items")
            .bearer_auth(&buyer.token)
            .json(&json!({"productId": product["id"], "quantity": 1})),
    )
    .await;
    assert_eq!(r.status, 200, "add to cart: {}", r.body);
    let correlation_id = unique("trace-checkout");
    let r = send(
        api.request(Method::POST, "/v1/orders")
            .bearer_auth(&buyer.token)
            .header("Idempotency-Key", unique("order"))
            .header("X-Correlation-Id", &correlation_id)
            .json(&json!({"payment": {"method": "card", "token": "tok_visa"}})),
    )
    .await;
    assert_eq!(r.status, 202, "place order: {}", r.body);
    let order_id = r.body["id"].as_str().unwrap().to_owned();
    let order = settled_order(&api, &buyer.token, &order_id).await;
    assert_eq!(order["status"], "CONFIRMED", "{order}");

    // The POST's span names the trace; the trace is complete once the saga
    // execution's span (closed when the execution stops) has arrived.
    let trace = eventually(
        Duration::from_secs(60),
        "the checkout's spans arrive at the collector",
        || {
            let received = received.clone();
            async move {
                let spans = received.lock().unwrap().clone();
                let post = spans
                    .iter()
                    .find(|s| {
                        s["name"] == "request"
                            && attr(s, "method") == Some("POST")
                            && attr(s, "path") == Some("/v1/orders")
                    })
                    .ok_or_else(|| "no POST /v1/orders span yet".to_owned())?;
                let trace_id = post["traceId"].as_str().unwrap().to_owned();
                let in_trace: HashMap<String, Value> = spans
                    .iter()
                    .filter(|s| s["traceId"] == trace_id.as_str())
                    .map(|s| (s["spanId"].as_str().unwrap().to_owned(), s.clone()))
                    .collect();
                let done = in_trace.values().any(|s| s["name"] == "saga.execution")
                    && in_trace.values().any(|s| {
                        s["name"] == "consume" && attr(s, "consumer") == Some("notifications")
                    });
                if done {
                    Ok((trace_id, in_trace))
                } else {
                    Err(format!(
                        "{} spans of trace {trace_id} so far",
                        in_trace.len()
                    ))
                }
            }
        },
    )
    .await;
    let (trace_id, spans) = trace;
    assert_eq!(trace_id.len(), 32);
    let trace = Trace { spans };
    let mut names: Vec<&str> = trace
        .spans
        .values()
        .filter_map(|s| s["name"].as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    eprintln!("trace {trace_id}: {} spans: {names:?}", trace.spans.len());

    // Parent links intact: one root (the POST), every other parent present.
    let roots: Vec<&Value> = trace
        .spans
        .values()
        .filter(|s| s.get("parentSpanId").is_none())
        .collect();
    assert_eq!(roots.len(), 1, "one root: {roots:#?}");
    assert_eq!(attr(roots[0], "path"), Some("/v1/orders"));
    for span in trace.spans.values() {
        if let Some(parent) = span["parentSpanId"].as_str() {
            assert!(
                trace.spans.contains_key(parent),
                "the parent of {} is not in the trace: {span}",
                span["name"]
            );
        }
        assert!(
            span["startTimeUnixNano"]
                .as_str()
                .unwrap()
                .parse::<u128>()
                .unwrap()
                <= span["endTimeUnixNano"]
                    .as_str()
                    .unwrap()
                    .parse::<u128>()
                    .unwrap()
        );
    }

    // Store and bus spans are in it: the order's transaction under the POST.
    let transact = trace
        .named("store.transact")
        .find(|s| trace.ancestry(s)[1] == "request")
        .expect("the order's transaction under the POST");
    assert_eq!(attr(transact, "store"), Some("redb"));
    assert!(
        trace.named("bus.publish").count() >= 2,
        "order.created, order.confirmed"
    );

    // The asynchronous hops, in order: POST → bus → checkout-start → saga.
    let start = trace
        .named("consume")
        .find(|s| attr(s, "consumer") == Some("checkout-start"))
        .expect("checkout-start's span");
    assert_eq!(trace.ancestry(start), ["consume", "bus.publish", "request"]);
    let tasks: HashSet<&str> = trace
        .named("saga.task")
        .filter_map(|s| attr(s, "state"))
        .collect();
    for state in [
        "ReserveStock",
        "AuthorizePayment",
        "CommitStock",
        "ConfirmOrder",
    ] {
        assert!(tasks.contains(state), "no {state} task span: {tasks:?}");
    }
    let confirm = trace
        .named("saga.task")
        .find(|s| attr(s, "state") == Some("ConfirmOrder"))
        .unwrap();
    assert_eq!(
        trace.ancestry(confirm),
        [
            "saga.task",
            "saga.execution",
            "consume",
            "bus.publish",
            "request"
        ]
    );
    // The order's confirmation is written under its task.
    assert!(
        trace.named("store.transact").any(|s| {
            let parent = &trace.spans[s["parentSpanId"].as_str().unwrap()];
            parent["name"] == "saga.task" && attr(parent, "state") == Some("ConfirmOrder")
        }),
        "no transaction under ConfirmOrder"
    );
    // The provider, and its webhook handled in the same trace.
    assert!(trace
        .named("payment.provider")
        .any(|s| attr(s, "operation") == Some("authorize")));
    let webhook = trace
        .named("request")
        .find(|s| attr(s, "path").is_some_and(|p| p.contains("webhook")))
        .expect("the payment webhook's request span");
    assert_eq!(trace.ancestry(webhook)[1], "sandbox.webhook");
    // And what the confirmation caused: the notification.
    let notify = trace
        .named("consume")
        .find(|s| attr(s, "consumer") == Some("notifications"))
        .unwrap();
    assert!(trace.ancestry(notify).contains(&"saga.task".to_owned()));
    // Every hop's log lines carry the trace id and the correlation id.
    let log = api.log();
    let lines: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["traceId"] == trace_id.as_str())
        .collect();
    for message in ["request finished", "checkout started"] {
        let line = lines
            .iter()
            .find(|l| l["message"] == message)
            .unwrap_or_else(|| {
                panic!(
                    "no {message:?} line in trace {trace_id}:\n{}",
                    api.log_tail()
                )
            });
        assert_eq!(line["correlationId"], correlation_id.as_str(), "{line}");
        assert!(
            line["spanId"].as_str().is_some_and(|s| s.len() == 16),
            "{line}"
        );
    }
}
