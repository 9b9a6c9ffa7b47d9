//! The log line written straight into its buffer (`logs::JsonLine`) is the
//! line `tracing-subscriber`'s JSON format writes, plus the trace ids: the
//! same events through both, parsed and compared field by field.

mod lines;
use lines::Lines;
use lite_trace::logs::Gate;
use lite_trace::{SpanFields, TraceLayer};
use serde_json::Value;
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::layer::SubscriberExt;

/// `events` logged through `tracing-subscriber`'s JSON format and through
/// ours: (theirs, ours).
fn both(fields: SpanFields, events: impl Fn()) -> (Vec<Value>, Vec<Value>) {
    let theirs = Lines::default();
    let format = tracing_subscriber::fmt::format()
        .json()
        .with_current_span(fields == SpanFields::Current)
        .with_span_list(fields == SpanFields::List)
        .flatten_event(true)
        .with_target(false);
    let reference = tracing_subscriber::registry().with(Gate::from_env()).with(
        tracing_subscriber::fmt::layer()
            .fmt_fields(JsonFields::new())
            .event_format(format)
            .with_writer(theirs.clone()),
    );
    tracing::subscriber::with_default(reference, &events);

    let ours = Lines::default();
    let subscriber = tracing_subscriber::registry()
        .with(Gate::from_env())
        .with(TraceLayer::new(None))
        .with(lite_trace::logs::fmt_layer(fields).with_writer(ours.clone()));
    tracing::subscriber::with_default(subscriber, &events);
    (theirs.parsed(), ours.parsed())
}

/// Our line without what only ours has (the ids) and what differs from
/// run to run (the time), after checking the time has the same form.
fn comparable(theirs: &Value, ours: &Value) -> (Value, Value) {
    let (mut theirs, mut ours) = (theirs.clone(), ours.clone());
    let t = theirs.as_object_mut().unwrap().remove("timestamp").unwrap();
    let o = ours.as_object_mut().unwrap().remove("timestamp").unwrap();
    assert_eq!(t.as_str().unwrap().len(), o.as_str().unwrap().len());
    for id in ["traceId", "spanId", "correlationId"] {
        ours.as_object_mut().unwrap().remove(id);
    }
    (theirs, ours)
}

fn assert_same(theirs: &[Value], ours: &[Value]) {
    assert_eq!(theirs.len(), ours.len(), "{theirs:#?}\n{ours:#?}");
    assert!(!ours.is_empty());
    for (t, o) in theirs.iter().zip(ours) {
        let (t, o) = comparable(t, o);
        assert_eq!(t, o);
    }
}

#[derive(Debug)]
struct Shape {
    #[allow(dead_code)]
    name: &'static str,
}

#[derive(Debug)]
struct Broken;

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("disk \"full\"\n\tat C:\\data \u{1} é")
    }
}

impl std::error::Error for Broken {}

fn events() {
    tracing::info!("outside any span");
    let request = tracing::info_span!(
        "request",
        correlation_id = "01JD00000000000000000000AA",
        aws_request_id = "",
        method = %"GET",
        path = "/v1/products/prd_1?q=\"x\"",
    );
    let _r = request.enter();
    tracing::info!(
        status = 200u16,
        latency_us = 42u64,
        delta = -7i64,
        ratio = 0.25f64,
        whole = 2.0f64,
        nan = f64::NAN,
        big = u128::MAX,
        ok = true,
        shape = ?Shape { name: "quote\"d" },
        text = "tab\there, newline\nthere, back\\slash, bell\u{7}, é ✓",
        "request finished"
    );
    let error = Broken;
    tracing::warn!(error = &error as &dyn std::error::Error, "with an error");
    tracing::error!(message = "explicit message", extra = %"display");
    let store = tracing::info_span!("store.get", store = "redb", pk = "PRODUCT#1");
    store.in_scope(|| tracing::info!("nested"));
    let empty = tracing::info_span!("empty");
    empty.in_scope(|| tracing::info!("in a span without fields"));
    let recorded = tracing::info_span!("recorded", a = 1u64, b = tracing::field::Empty);
    recorded.record("b", "later");
    recorded.record("a", 2u64);
    recorded.in_scope(|| tracing::info!("after record"));
    tracing::info!(parent: &store, "explicit parent");
    tracing::debug!("below the level: not written");
}

#[test]
fn the_current_span_form_equals_tracing_subscribers_json() {
    let (theirs, ours) = both(SpanFields::Current, events);
    assert_same(&theirs, &ours);
    let finished = ours
        .iter()
        .find(|l| l["message"] == "request finished")
        .unwrap();
    assert_eq!(finished["correlationId"], "01JD00000000000000000000AA");
    assert_eq!(finished["traceId"].as_str().unwrap().len(), 32);
    assert_eq!(finished["spanId"].as_str().unwrap().len(), 16);
    assert_eq!(finished["span"]["name"], "request");
    assert_eq!(finished["nan"], Value::Null);
    let outside = &ours[0];
    assert!(outside.get("traceId").is_none() && outside.get("span").is_none());
    let recorded = ours
        .iter()
        .find(|l| l["message"] == "after record")
        .unwrap();
    assert_eq!(recorded["span"]["a"], 2);
    assert_eq!(recorded["span"]["b"], "later");
}

#[test]
fn the_span_list_form_equals_tracing_subscribers_json() {
    let (theirs, ours) = both(SpanFields::List, events);
    let names = |message: &str| -> Vec<String> {
        let line = ours.iter().find(|l| l["message"] == message).unwrap();
        let spans = line["spans"].as_array().unwrap();
        spans
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names("nested"), ["request", "store.get"]);
    // One difference, on purpose: an event with an explicit parent lists
    // its parent's spans (theirs lists the entered span's, whatever the
    // parent), as its ids name its parent in both.
    assert_eq!(names("explicit parent"), ["request", "store.get"]);
    let other = |lines: &[Value]| -> Vec<Value> {
        let keep = |l: &&Value| l["message"] != "explicit parent";
        lines.iter().filter(keep).cloned().collect()
    };
    assert_same(&other(&theirs), &other(&ours));
}
