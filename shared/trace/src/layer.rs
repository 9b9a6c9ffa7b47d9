//! The tracing layer that makes `tracing` spans into trace spans: each span
//! gets a span id and its parent's trace id when it is created (a span
//! without a parent starts a trace), so the trace context of the code
//! running now is always one look-up away ([`current`]) and every log line
//! can name it. A span continues a trace from another process when
//! - it has a `traceparent` field (W3C) or an `xrayTraceId` field (the
//!   Lambda runtime's per-invocation span carries the X-Ray header so), or
//! - [`set_parent`] is called on it before its first child (the consumers:
//!   the envelope's `traceparent` is known only once the message is read).
//!
//! A span records its correlation id from a `correlation_id` field, or
//! inherits its parent's. When an [`Exporter`] is installed, finished
//! sampled spans go to it with their fields as attributes; otherwise a span
//! costs its ids and no attribute is kept.

use crate::context::{SpanId, TraceContext, TraceId, XrayHeader};
use crate::export::{Exporter, FinishedSpan};
use std::sync::Arc;
use std::time::SystemTime;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};

/// Where a span's parent is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parent {
    /// None: the span started its trace.
    Root,
    /// A span of this process.
    Local(SpanId),
    /// A span of another process (`traceparent`: an HTTP caller, an
    /// event's envelope, the saga's input).
    Remote(SpanId),
    /// The segment Lambda made for this invocation (X-Ray header); `None`
    /// when the header named no parent.
    Lambda(Option<SpanId>),
}

/// What the layer keeps in each span's extensions.
#[derive(Debug, Clone)]
pub(crate) struct SpanData {
    pub(crate) context: TraceContext,
    pub(crate) parent: Parent,
    pub(crate) correlation_id: Option<Arc<str>>,
    pub(crate) start: SystemTime,
    /// `Some` only when an exporter is installed.
    pub(crate) attributes: Option<Vec<(&'static str, String)>>,
    pub(crate) error: bool,
}

/// The layer; see the module documentation.
pub struct TraceLayer {
    exporter: Option<Arc<dyn Exporter>>,
}

impl TraceLayer {
    pub fn new(exporter: Option<Arc<dyn Exporter>>) -> Self {
        Self { exporter }
    }
}

/// A span's fields as the layer reads them.
#[derive(Default)]
struct Fields {
    traceparent: Option<TraceContext>,
    xray: Option<XrayHeader>,
    correlation_id: Option<Arc<str>>,
    attributes: Option<Vec<(&'static str, String)>>,
}

impl Fields {
    fn take(&mut self, field: &Field, value: &str) {
        match field.name() {
            "traceparent" => self.traceparent = TraceContext::from_traceparent(value).ok(),
            "xrayTraceId" => self.xray = XrayHeader::parse(value).ok(),
            "correlation_id" if !value.is_empty() => self.correlation_id = Some(value.into()),
            _ => {}
        }
        if let Some(attributes) = &mut self.attributes {
            if !value.is_empty() {
                attributes.push((field.name(), value.to_owned()));
            }
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.take(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // Formatting costs an allocation: only for a field the layer reads
        // or an attribute an exporter will send.
        let wanted = matches!(
            field.name(),
            "traceparent" | "xrayTraceId" | "correlation_id"
        );
        if !wanted && self.attributes.is_none() {
            return;
        }
        // `%value` fields arrive here, formatted with Display.
        self.take(field, &format!("{value:?}"));
    }
}

impl<S> Layer<S> for TraceLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields {
            attributes: self.exporter.as_ref().map(|_| Vec::new()),
            ..Fields::default()
        };
        attrs.record(&mut fields);
        let inherited = span.parent().and_then(|p| {
            p.extensions()
                .get::<SpanData>()
                .map(|d| (d.context, d.correlation_id.clone()))
        });
        let span_id = SpanId::random();
        let (trace_id, sampled, parent) = if let Some(remote) = fields.traceparent {
            (
                remote.trace_id,
                remote.sampled,
                Parent::Remote(remote.span_id),
            )
        } else if let Some(xray) = fields.xray {
            (
                xray.trace_id,
                xray.sampled.unwrap_or(true),
                Parent::Lambda(xray.parent),
            )
        } else if let Some((parent, _)) = &inherited {
            (
                parent.trace_id,
                parent.sampled,
                Parent::Local(parent.span_id),
            )
        } else {
            (TraceId::random(SystemTime::now()), true, Parent::Root)
        };
        let data = SpanData {
            context: TraceContext {
                trace_id,
                span_id,
                sampled,
            },
            parent,
            correlation_id: fields
                .correlation_id
                .or_else(|| inherited.and_then(|(_, c)| c)),
            // Only an exporter reads it.
            start: if self.exporter.is_some() {
                SystemTime::now()
            } else {
                SystemTime::UNIX_EPOCH
            },
            attributes: fields.attributes,
            error: false,
        };
        span.extensions_mut().insert(data);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields {
            attributes: self.exporter.as_ref().map(|_| Vec::new()),
            ..Fields::default()
        };
        values.record(&mut fields);
        let mut extensions = span.extensions_mut();
        let Some(data) = extensions.get_mut::<SpanData>() else {
            return;
        };
        if let Some(c) = fields.correlation_id {
            data.correlation_id = Some(c);
        }
        if let (Some(all), Some(new)) = (&mut data.attributes, fields.attributes) {
            all.extend(new);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        // An error logged inside a span marks it failed (X-Ray `fault`,
        // OTLP status ERROR).
        if *event.metadata().level() != Level::ERROR || self.exporter.is_none() {
            return;
        }
        if let Some(span) = ctx.event_span(event) {
            if let Some(data) = span.extensions_mut().get_mut::<SpanData>() {
                data.error = true;
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(exporter) = &self.exporter else {
            return;
        };
        let Some(span) = ctx.span(&id) else { return };
        let Some(data) = span.extensions_mut().remove::<SpanData>() else {
            return;
        };
        if !data.context.sampled {
            return;
        }
        exporter.export(FinishedSpan {
            name: span.name(),
            target: span.metadata().target(),
            context: data.context,
            parent: data.parent,
            correlation_id: data.correlation_id,
            start: data.start,
            end: SystemTime::now(),
            attributes: data.attributes.unwrap_or_default(),
            error: data.error,
        });
    }
}

/// Looks a span's data up through the dispatcher that owns it.
fn with_data<T>(
    id: &Id,
    dispatch: &tracing::Dispatch,
    f: impl FnOnce(&mut SpanData) -> T,
) -> Option<T> {
    let registry = dispatch.downcast_ref::<Registry>()?;
    let span = registry.span(id)?;
    let mut extensions = span.extensions_mut();
    extensions.get_mut::<SpanData>().map(f)
}

/// The trace context of the current span: what the next hop continues
/// (an event's envelope, the saga's input, an HTTP call's `traceparent`).
/// `None` outside any span or without this layer.
pub fn current() -> Option<TraceContext> {
    context_of(&tracing::Span::current())
}

/// The trace context of `span`.
pub fn context_of(span: &tracing::Span) -> Option<TraceContext> {
    span.with_subscriber(|(id, dispatch)| with_data(id, dispatch, |d| d.context))
        .flatten()
}

/// The correlation id the current span carries or inherited.
pub fn current_correlation_id() -> Option<Arc<str>> {
    tracing::Span::current()
        .with_subscriber(|(id, dispatch)| with_data(id, dispatch, |d| d.correlation_id.clone()))
        .flatten()
        .flatten()
}

/// Makes `span` continue the trace `parent` (another process's span): its
/// trace id and sampling become the parent's. Call it before the span has
/// children (they copy the trace id when they are created).
pub fn set_parent(span: &tracing::Span, parent: &TraceContext) {
    span.with_subscriber(|(id, dispatch)| {
        with_data(id, dispatch, |d| {
            d.context.trace_id = parent.trace_id;
            d.context.sampled = parent.sampled;
            d.parent = Parent::Remote(parent.span_id);
        })
    });
}

/// [`set_parent`] from a `traceparent` string; a missing or malformed one
/// leaves the span where it is (an old event, a foreign header).
pub fn set_parent_from(span: &tracing::Span, traceparent: Option<&str>) {
    if let Some(parent) = traceparent.and_then(|t| TraceContext::from_traceparent(t).ok()) {
        set_parent(span, &parent);
    }
}
