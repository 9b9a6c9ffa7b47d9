//! The layer on a real subscriber: ids inherited, traces continued from
//! `traceparent`, the X-Ray header and `set_parent`, finished spans
//! exported with their parents, and log lines carrying the ids.

mod lines;
use lines::Lines;
use lite_trace::layer::Parent;
use lite_trace::logs::Gate;
use lite_trace::{Exporter, FinishedSpan, TraceContext, TraceLayer};
use std::sync::{Arc, Mutex};
use tracing_subscriber::layer::SubscriberExt;

#[derive(Default)]
struct Collect(Mutex<Vec<FinishedSpan>>);

impl Exporter for Collect {
    fn export(&self, span: FinishedSpan) {
        self.0.lock().unwrap().push(span);
    }
}

fn with_subscriber<T>(f: impl FnOnce() -> T) -> (T, Vec<FinishedSpan>, Vec<serde_json::Value>) {
    let collect = Arc::new(Collect::default());
    let lines = Lines::default();
    let subscriber = tracing_subscriber::registry()
        .with(Gate::from_env())
        .with(TraceLayer::new(Some(collect.clone() as Arc<dyn Exporter>)))
        .with(
            lite_trace::logs::fmt_layer(lite_trace::SpanFields::Current).with_writer(lines.clone()),
        );
    let out = tracing::subscriber::with_default(subscriber, f);
    let spans = collect.0.lock().unwrap().clone();
    (out, spans, lines.parsed())
}

#[test]
fn children_share_the_trace_and_name_their_parent() {
    let ((outer, inner), spans, lines) = with_subscriber(|| {
        let request = tracing::info_span!("request", correlation_id = "corr-7");
        let _r = request.enter();
        let outer = lite_trace::current().unwrap();
        let store = tracing::info_span!("store.get", pk = "ORDER#1");
        let inner = store.in_scope(|| {
            tracing::info!("inside");
            lite_trace::current().unwrap()
        });
        (outer, inner)
    });
    assert_eq!(inner.trace_id, outer.trace_id);
    assert_ne!(inner.span_id, outer.span_id);
    let store = spans.iter().find(|s| s.name == "store.get").unwrap();
    assert_eq!(store.parent, Parent::Local(outer.span_id));
    assert_eq!(store.correlation_id.as_deref(), Some("corr-7"), "inherited");
    assert!(store.attributes.contains(&("pk", "ORDER#1".to_owned())));
    let request = spans.iter().find(|s| s.name == "request").unwrap();
    assert_eq!(request.parent, Parent::Root);

    let line = lines.iter().find(|l| l["message"] == "inside").unwrap();
    assert_eq!(line["traceId"], outer.trace_id.to_hex());
    assert_eq!(line["spanId"], inner.span_id.to_hex());
    assert_eq!(line["correlationId"], "corr-7");
}

#[test]
fn a_traceparent_field_or_set_parent_continues_a_remote_trace() {
    let remote =
        TraceContext::from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .unwrap();
    let ((a, b), spans, _) = with_subscriber(|| {
        let a = tracing::info_span!("http", traceparent = %remote.to_traceparent());
        let a = lite_trace::context_of(&a).unwrap();
        let message = tracing::info_span!("message");
        lite_trace::set_parent_from(&message, Some(&remote.to_traceparent()));
        let child = message.in_scope(|| {
            let child = tracing::info_span!("child");
            lite_trace::context_of(&child).unwrap()
        });
        (a, child)
    });
    assert_eq!(a.trace_id, remote.trace_id);
    assert_eq!(b.trace_id, remote.trace_id);
    let message = spans.iter().find(|s| s.name == "message").unwrap();
    assert_eq!(message.parent, Parent::Remote(remote.span_id));
    // A malformed parent leaves a span where it is.
    let ((), spans, _) = with_subscriber(|| {
        let m = tracing::info_span!("m");
        lite_trace::set_parent_from(&m, Some("00-garbage"));
    });
    assert_eq!(spans[0].parent, Parent::Root);
}

#[test]
fn the_lambda_runtime_span_continues_the_xray_trace() {
    let ((), spans, _) = with_subscriber(|| {
        let invoke = tracing::info_span!(
            "Lambda runtime invoke",
            requestId = "r1",
            xrayTraceId =
                "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c;Parent=53995c3f42cd8ad8;Sampled=1"
        );
        invoke.in_scope(|| drop(tracing::info_span!("relay.event")));
        let unsampled = tracing::info_span!(
            "Lambda runtime invoke",
            xrayTraceId = "Root=1-5e9f0c65-1de4d666d4dd26aced652b6d;Sampled=0"
        );
        unsampled.in_scope(|| drop(tracing::info_span!("not exported")));
    });
    assert_eq!(spans.len(), 2, "{spans:?}");
    for s in &spans {
        assert_eq!(
            s.context.trace_id.to_xray(),
            "1-5e9f0c65-1de4d666d4dd26aced652b6c"
        );
    }
    let invoke = spans
        .iter()
        .find(|s| s.name == "Lambda runtime invoke")
        .unwrap();
    assert_eq!(
        invoke.parent,
        Parent::Lambda(Some(lite_trace::SpanId::new(0x53995c3f42cd8ad8).unwrap()))
    );
}

#[test]
fn debug_spans_stay_off_and_lines_outside_spans_have_no_ids() {
    let ((), spans, lines) = with_subscriber(|| {
        tracing::debug_span!("noisy").in_scope(|| {});
        tracing::info!("outside");
    });
    assert!(spans.is_empty());
    assert!(lines[0].get("traceId").is_none());
    assert_eq!(lines[0]["message"], "outside");
}
