//! JSON logs: one line per event, with the trace ids (`traceId`, `spanId`,
//! `correlationId`) and the request span's fields (correlation id, AWS
//! request id, method, path) on every line; spans exported as the
//! environment asks (`lite_trace::exporter_from_env`).

/// Installs the JSON subscriber (level from `RUST_LOG`, default `info`).
/// Safe to call more than once; later calls do nothing.
pub fn init() {
    lite_trace::init(lite_trace::SpanFields::Current);
}
