//! JSON logs: one line per event, with the request span's fields
//! (correlation id, AWS request id, method, path) on every line.

use tracing_subscriber::{fmt, EnvFilter};

/// Installs the JSON subscriber (level from `RUST_LOG`, default `info`).
/// Safe to call more than once; later calls do nothing.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .try_init();
}
