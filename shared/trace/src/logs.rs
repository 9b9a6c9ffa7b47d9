//! JSON log lines that name their trace: the formatter of
//! `tracing-subscriber` (unchanged: level, message, fields, the span or
//! span list) with `traceId`, `spanId` and `correlationId` of the span the
//! event happened in put first, so every line of every hop can be joined
//! to its trace and its order's story.

use crate::layer::SpanData;
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;

/// Wraps a JSON event formatter (see the module documentation).
pub struct WithTrace<F>(pub F);

impl<S, N, F> FormatEvent<S, N> for WithTrace<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let ids = ctx.parent_span().and_then(|span| {
            span.extensions()
                .get::<SpanData>()
                .map(|d| (d.context, d.correlation_id.clone()))
        });
        let Some((context, correlation_id)) = ids else {
            return self.0.format_event(ctx, writer, event);
        };
        // The inner line is formatted into a per-thread buffer (no
        // allocation once it has grown), then written after the ids.
        LINE.with(|line| {
            let mut line = line.borrow_mut();
            line.clear();
            self.0.format_event(ctx, Writer::new(&mut *line), event)?;
            let Some(rest) = line.strip_prefix('{') else {
                return writer.write_str(&line);
            };
            write!(
                writer,
                "{{\"traceId\":\"{:032x}\",\"spanId\":\"{:016x}\",",
                context.trace_id.bits(),
                context.span_id.bits()
            )?;
            if let Some(c) = correlation_id {
                if c.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
                    write!(writer, "\"correlationId\":\"{c}\",")?;
                } else {
                    let quoted = serde_json::to_string(c.as_ref()).map_err(|_| std::fmt::Error)?;
                    write!(writer, "\"correlationId\":{quoted},")?;
                }
            }
            writer.write_str(rest)
        })
    }
}

thread_local! {
    static LINE: std::cell::RefCell<String> = std::cell::RefCell::new(String::with_capacity(512));
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
