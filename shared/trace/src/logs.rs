//! JSON log lines that name their trace. The line is the one
//! `tracing-subscriber`'s JSON format writes (`timestamp`, `level`, the
//! event's fields flattened, the request span's fields as `span` or every
//! enclosing span's as `spans`), with `traceId`, `spanId` and
//! `correlationId` of the span the event happened in put first, so every
//! line of every hop can be joined to its trace and its order's story.
//!
//! It is written here rather than by that format because a request logs
//! its line on the hot path: the format collects each event's fields into
//! a map and parses each span's stored fields back from JSON for every
//! line, and each span's fields go through a map at its creation. Here
//! both are written straight into the line ([`JsonLine`], [`JsonSpanFields`]):
//! no map, no parse, no allocation once the line buffer has grown. A test
//! holds the two formats' lines equal.

use crate::layer::SpanData;
use crate::SpanFields;
use std::fmt::{self, Write as _};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;

/// The `fmt` layer writing [`JsonLine`]s to stdout; `.with_writer(..)`
/// sends them elsewhere.
pub fn fmt_layer<S>(
    fields: SpanFields,
) -> tracing_subscriber::fmt::Layer<S, JsonSpanFields, JsonLine>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .fmt_fields(JsonSpanFields)
        .event_format(JsonLine { fields })
}

/// The event formatter (see the module documentation). Its spans' fields
/// must have been stored by [`JsonSpanFields`] (a JSON object each).
#[derive(Debug, Clone, Copy)]
pub struct JsonLine {
    pub fields: SpanFields,
}

impl<S> FormatEvent<S, JsonSpanFields> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonSpanFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let w = &mut writer;
        let current = event
            .parent()
            .and_then(|id| ctx.span(id))
            .or_else(|| ctx.lookup_current());
        w.write_char('{')?;
        if let Some(span) = &current {
            if let Some(data) = span.extensions().get::<SpanData>() {
                write!(
                    w,
                    "\"traceId\":\"{:032x}\",\"spanId\":\"{:016x}\",",
                    data.context.trace_id.bits(),
                    data.context.span_id.bits()
                )?;
                if let Some(c) = &data.correlation_id {
                    w.write_str("\"correlationId\":")?;
                    string(w, c)?;
                    w.write_char(',')?;
                }
            }
        }
        w.write_str("\"timestamp\":\"")?;
        crate::timestamp::write_now(w)?;
        write!(w, "\",\"level\":\"{}\"", event.metadata().level())?;
        let mut visitor = JsonVisitor::new(w, false);
        event.record(&mut visitor);
        visitor.result?;
        match (self.fields, &current) {
            (SpanFields::Current, Some(span)) => {
                w.write_str(",\"span\":")?;
                span_object(w, span)?;
            }
            (SpanFields::List, Some(_)) => {
                w.write_str(",\"spans\":[")?;
                if let Some(scope) = ctx.event_scope() {
                    for (i, span) in scope.from_root().enumerate() {
                        if i > 0 {
                            w.write_char(',')?;
                        }
                        span_object(w, &span)?;
                    }
                }
                w.write_char(']')?;
            }
            (_, None) => {}
        }
        w.write_str("}\n")
    }
}

/// `{<the span's stored fields>,"name":"<its name>"}`.
fn span_object<S>(w: &mut Writer<'_>, span: &SpanRef<'_, S>) -> fmt::Result
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    w.write_char('{')?;
    let extensions = span.extensions();
    let stored = extensions
        .get::<FormattedFields<JsonSpanFields>>()
        .map(|f| f.fields.as_str())
        .and_then(|f| f.strip_prefix('{'))
        .and_then(|f| f.strip_suffix('}'))
        .unwrap_or("");
    if !stored.is_empty() {
        w.write_str(stored)?;
        w.write_char(',')?;
    }
    w.write_str("\"name\":")?;
    string(w, span.metadata().name())?;
    w.write_char('}')
}

/// Span fields stored as one JSON object (`{"correlation_id":"…",…}`),
/// written straight from the values; see the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonSpanFields;

impl<'writer> FormatFields<'writer> for JsonSpanFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        writer.write_char('{')?;
        let mut visitor = JsonVisitor::new(&mut writer, true);
        fields.record(&mut visitor);
        visitor.result?;
        writer.write_char('}')
    }

    /// `span.record(..)` after creation (rare): the fields are merged, a
    /// recorded field replacing the value it had.
    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &Record<'_>,
    ) -> fmt::Result {
        let mut added = String::new();
        self.format_fields(Writer::new(&mut added), fields)?;
        let parse = |s: &str| match serde_json::from_str(s) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        let mut merged = parse(&current.fields);
        merged.extend(parse(&added));
        current.fields = serde_json::Value::Object(merged).to_string();
        Ok(())
    }
}

/// Writes each field as `"name":value`, the way `tracing-serde` would
/// (64-bit numbers and booleans as JSON values, everything else, 128-bit
/// numbers included, as a string),
/// each after a comma except, when `first`, the first one.
struct JsonVisitor<'a, 'w> {
    writer: &'a mut Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl<'a, 'w> JsonVisitor<'a, 'w> {
    fn new(writer: &'a mut Writer<'w>, first: bool) -> Self {
        Self {
            writer,
            first,
            result: Ok(()),
        }
    }

    fn field(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'w>) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        self.result = (|| {
            if !std::mem::take(&mut self.first) {
                self.writer.write_char(',')?;
            }
            string(self.writer, field.name())?;
            self.writer.write_char(':')?;
            value(self.writer)
        })();
    }
}

impl Visit for JsonVisitor<'_, '_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.field(field, |w| {
            if value.is_finite() {
                write!(w, "{value:?}")
            } else {
                w.write_str("null")
            }
        });
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, |w| write!(w, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, |w| write!(w, "{value}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, |w| write!(w, "{value}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field, |w| string(w, value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.field(field, |w| {
            w.write_char('"')?;
            write!(Escaped(w), "{value}")?;
            w.write_char('"')
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `message` and `%value` fields arrive here (Display through Debug).
        self.field(field, |w| {
            w.write_char('"')?;
            write!(Escaped(w), "{value:?}")?;
            w.write_char('"')
        });
    }
}

/// `s` as a JSON string.
fn string(w: &mut Writer<'_>, s: &str) -> fmt::Result {
    w.write_char('"')?;
    Escaped(w).write_str(s)?;
    w.write_char('"')
}

/// Escapes what it is given as the inside of a JSON string: quote,
/// backslash and control characters, as `serde_json` does.
struct Escaped<'a, 'w>(&'a mut Writer<'w>);

impl fmt::Write for Escaped<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut plain = 0;
        for (i, b) in s.bytes().enumerate() {
            let escape = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x08 => "\\b",
                0x0c => "\\f",
                0..=0x1f => "",
                _ => continue,
            };
            self.0.write_str(&s[plain..i])?;
            if escape.is_empty() {
                write!(self.0, "\\u{b:04x}")?;
            } else {
                self.0.write_str(escape)?;
            }
            plain = i + 1;
        }
        self.0.write_str(&s[plain..])
    }
}

/// The filter of the whole subscriber: events as `RUST_LOG` says (default
/// `info`), spans at INFO and above always, so traces and the ids on log
/// lines do not depend on the log level.
pub struct Gate {
    env: EnvFilter,
}

impl Gate {
    pub fn from_env() -> Self {
        Self {
            env: EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        }
    }

    fn is_traced_span(metadata: &Metadata<'_>) -> bool {
        metadata.is_span() && *metadata.level() <= Level::INFO
    }
}

impl<S> Layer<S> for Gate
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if Self::is_traced_span(metadata) {
            Interest::always()
        } else {
            Layer::<S>::register_callsite(&self.env, metadata)
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        Self::is_traced_span(metadata) || Layer::<S>::enabled(&self.env, metadata, ctx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        let env = Layer::<S>::max_level_hint(&self.env);
        Some(env.map_or(LevelFilter::TRACE, |l| l.max(LevelFilter::INFO)))
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        Layer::<S>::on_new_span(&self.env, attrs, id, ctx)
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        Layer::<S>::on_record(&self.env, id, values, ctx)
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        Layer::<S>::on_enter(&self.env, id, ctx)
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        Layer::<S>::on_exit(&self.env, id, ctx)
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        Layer::<S>::on_close(&self.env, id, ctx)
    }
}
