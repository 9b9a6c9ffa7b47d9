//! Distributed traces for every hop of a request.
//!
//! - [`context`]: the trace context and its wire forms (W3C `traceparent`,
//!   the X-Ray trace header) and the conversions between them.
//! - [`layer`]: the `tracing` layer that gives every span its trace and
//!   span ids ([`current`], [`set_parent`]).
//! - [`logs`]: JSON log lines carrying `traceId`, `spanId`, `correlationId`.
//! - [`export`]: X-Ray daemon UDP (Lambda) and OTLP/HTTP JSON (local).
//!
//! [`init`] installs all of it; which exporter runs is decided by the
//! environment ([`exporter_from_env`]), none by default.

pub mod context;
pub mod export;
pub mod layer;
pub mod lines;
pub mod logs;
mod timestamp;

pub use context::{ParseError, SpanId, TraceContext, TraceId, XrayHeader};
pub use export::{Exporter, FinishedSpan};
pub use layer::{
    context_of, current, current_correlation_id, set_parent, set_parent_from, Parent, TraceLayer,
};

use std::sync::{Arc, OnceLock};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Which spans' fields a log line shows besides the ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanFields {
    /// The current span's (HTTP: the request span).
    Current,
    /// Every enclosing span's (events: the invocation and the message).
    List,
}

static EXPORTER: OnceLock<Arc<dyn Exporter>> = OnceLock::new();

/// Whether finished spans leave the process: spans that only a trace
/// needs (one per store call) are made only then, so a process that
/// exports nothing pays nothing for them on its hot path.
pub fn exporting() -> bool {
    EXPORTER.get().is_some()
}

/// `OTEL_EXPORTER_OTLP_ENDPOINT`: the OTLP/HTTP base URL; set, traces go
/// there (JSON encoding). Unset, no OTLP.
pub const OTLP_ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: the traces URL itself (wins).
pub const OTLP_TRACES_ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// `AWS_XRAY_DAEMON_ADDRESS`: set by Lambda when active tracing is on.
pub const XRAY_DAEMON_ENV: &str = "AWS_XRAY_DAEMON_ADDRESS";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The exporter the environment asks for: OTLP when an OTLP endpoint is
/// set (and `OTEL_TRACES_EXPORTER` is not `none`), else X-Ray on Lambda
/// with a daemon address, else none. A bad value is reported on stderr and
/// turns traces off, never the process.
pub fn exporter_from_env() -> Option<Arc<dyn Exporter>> {
    if env("OTEL_TRACES_EXPORTER").as_deref() == Some("none") {
        return None;
    }
    let service = env("OTEL_SERVICE_NAME")
        .or_else(|| env("AWS_LAMBDA_FUNCTION_NAME"))
        .or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        })
        .unwrap_or_else(|| "amazon-lite".to_owned());
    let otlp = env(OTLP_TRACES_ENDPOINT_ENV)
        .map(|u| (u, true))
        .or_else(|| env(OTLP_ENDPOINT_ENV).map(|u| (u, false)));
    if let Some((url, signal)) = otlp {
        return match export::otlp::Endpoint::parse(&url, signal) {
            Ok(endpoint) => Some(Arc::new(export::otlp::OtlpExporter::start(
                endpoint, service,
            ))),
            Err(e) => {
                eprintln!("traces are off: {e}");
                None
            }
        };
    }
    if let (Some(address), Some(_)) = (env(XRAY_DAEMON_ENV), env("AWS_LAMBDA_FUNCTION_NAME")) {
        return match export::xray::XrayExporter::new(&address, &service) {
            Ok(x) => Some(Arc::new(x)),
            Err(e) => {
                eprintln!("traces are off: {XRAY_DAEMON_ENV}={address}: {e}");
                None
            }
        };
    }
    None
}

/// Installs the process's subscriber: the [`logs::Gate`] filter, the trace
/// layer with the environment's exporter, JSON logs with the trace ids
/// (to stdout, one `write(2)` a line: [`lines`]).
/// Safe to call more than once; later calls do nothing.
pub fn init(fields: SpanFields) {
    if tracing::dispatcher::has_been_set() {
        return;
    }
    let exporter = exporter_from_env();
    let installed = tracing_subscriber::registry()
        .with(logs::Gate::from_env())
        .with(TraceLayer::new(exporter.clone()))
        .with(logs::fmt_layer(fields).with_writer(lines::Lines::stdout()))
        .try_init();
    if installed.is_ok() {
        if let Some(exporter) = exporter {
            let _ = EXPORTER.set(exporter);
        }
    }
}

/// Sends the spans an exporter still queues (OTLP) and waits for them: at
/// shutdown, and after an invocation where the exporter batches.
pub fn flush() {
    if let Some(exporter) = EXPORTER.get() {
        exporter.flush();
    }
}
