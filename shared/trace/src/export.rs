//! Where finished spans go: [`xray::XrayExporter`] (the X-Ray daemon's UDP
//! protocol, on Lambda) or [`otlp::OtlpExporter`] (OTLP/HTTP JSON, to any
//! collector, locally). Both take the same [`FinishedSpan`].

pub mod otlp;
pub mod xray;

use crate::context::TraceContext;
use crate::layer::Parent;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// One span, closed.
#[derive(Debug, Clone)]
pub struct FinishedSpan {
    pub name: &'static str,
    /// The Rust module that made it (`lite_store::redb_store`).
    pub target: &'static str,
    pub context: TraceContext,
    pub parent: Parent,
    pub correlation_id: Option<Arc<str>>,
    pub start: SystemTime,
    pub end: SystemTime,
    pub attributes: Vec<(&'static str, String)>,
    /// An error was logged inside it.
    pub error: bool,
}

impl FinishedSpan {
    /// The parent span's id, wherever it is.
    pub fn parent_span_id(&self) -> Option<crate::SpanId> {
        match self.parent {
            Parent::Root | Parent::Lambda(None) => None,
            Parent::Local(id) | Parent::Remote(id) | Parent::Lambda(Some(id)) => Some(id),
        }
    }
}

/// Takes finished spans. `export` runs on the thread that closed the span:
/// it must not block (queue, or one datagram).
pub trait Exporter: Send + Sync + 'static {
    fn export(&self, span: FinishedSpan);
    /// Sends what is queued and waits for it (at most a few seconds).
    fn flush(&self) {}
}

pub(crate) fn nanos(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
