//! What traces cost a request: one request span with two child spans
//! (store calls) and one log line, under
//! (a) `tracing-subscriber`'s own JSON format, no ids (the log line as it
//!     was before traces),
//! (b) `lite-trace`, no exporter (ids on every span and log line, the line
//!     written by `logs::JsonLine`),
//! (c) `lite-trace` exporting to an exporter that drops what it gets
//!     (attributes kept and the finished span built for every span).
//! Log lines go to a sink. Prints ns per request, the median of 7 rounds.
//!
//! `cargo bench -p lite-trace --bench spans`

use lite_trace::logs::Gate;
use lite_trace::{Exporter, FinishedSpan, TraceLayer};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;
use tracing_subscriber::fmt::format::{Format, Json, JsonFields};
use tracing_subscriber::layer::SubscriberExt;

const REQUESTS: u32 = 100_000;
const ROUNDS: usize = 7;

struct Discard;

impl Exporter for Discard {
    fn export(&self, span: FinishedSpan) {
        black_box(span);
    }
}

fn request() {
    let span = tracing::info_span!(
        "request",
        correlation_id = "01JD0000000000000000000000",
        method = "GET",
        path = "/v1/products/prd_01JD0000000000000000000000"
    );
    let _request = span.enter();
    for _ in 0..2 {
        let store = tracing::info_span!("store.get", store = "redb", pk = "PRODUCT#prd_01JD");
        let _store = store.enter();
        black_box(lite_trace::current());
    }
    tracing::info!(status = 200, latency_us = 42, "request finished");
}

fn format() -> Format<Json> {
    tracing_subscriber::fmt::format()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
}

fn measure(name: &str, subscriber: impl tracing::Subscriber + Send + Sync + 'static) {
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..REQUESTS / 10 {
            request();
        }
        let mut rounds: Vec<f64> = (0..ROUNDS)
            .map(|_| {
                let started = Instant::now();
                for _ in 0..REQUESTS {
                    request();
                }
                started.elapsed().as_nanos() as f64 / f64::from(REQUESTS)
            })
            .collect();
        rounds.sort_by(f64::total_cmp);
        println!("{name:<40} {:>8.0} ns/request", rounds[ROUNDS / 2]);
    });
}

fn main() {
    println!("one request span + two child spans + one JSON log line (to a sink):");
    measure(
        "tracing-subscriber JSON, no ids",
        tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::new("info"))
            .with(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(JsonFields::new())
                    .event_format(format())
                    .with_writer(std::io::sink),
            ),
    );
    for (name, exporter) in [
        ("lite-trace, no exporter", None),
        (
            "lite-trace, exporting (discarded)",
            Some(Arc::new(Discard) as Arc<dyn Exporter>),
        ),
    ] {
        measure(
            name,
            tracing_subscriber::registry()
                .with(Gate::from_env())
                .with(TraceLayer::new(exporter))
                .with(
                    lite_trace::logs::fmt_layer(lite_trace::SpanFields::Current)
                        .with_writer(std::io::sink),
                ),
        );
    }
}
