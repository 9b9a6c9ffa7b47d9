//! JSON logs for the event functions (relay, consumers, `events-ops`): one
//! line per event with the trace ids (`traceId`, `spanId`, `correlationId`)
//! and every enclosing span's fields, so each line of a message carries the
//! invocation's AWS request id and the message's correlation id. (The HTTP
//! functions use `lite_http::telemetry`; this crate stays free of the HTTP
//! stack.)

/// Installs the JSON subscriber (level from `RUST_LOG`, default `info`).
/// Safe to call more than once; later calls do nothing.
pub fn init() {
    lite_trace::init(lite_trace::SpanFields::List);
}
