//! JSON logs for the event functions (relay, consumers, `events-ops`): one
//! line per event with every enclosing span's fields, so each line of a
//! message carries the invocation's AWS request id and the message's
//! correlation id. (The HTTP functions use `lite_http::telemetry`; this
//! crate stays free of the HTTP stack.)

use tracing_subscriber::{fmt, EnvFilter};

/// Installs the JSON subscriber (level from `RUST_LOG`, default `info`).
/// Safe to call more than once; later calls do nothing.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(true)
        .flatten_event(true)
        .with_target(false)
        .try_init();
}
