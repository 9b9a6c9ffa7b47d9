//! Correlation ids: every request gets one (the caller's, when it is a sane
//! token), every response carries it, and every log line and problem body
//! the request causes names it.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
use tracing::Instrument;

pub const HEADER: &str = "x-correlation-id";

tokio::task_local! {
    static CORRELATION_ID: String;
}

/// The correlation id of the request being served (`"-"` outside one).
pub fn current() -> String {
    CORRELATION_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".to_owned())
}

/// A caller-supplied id is echoed only when it is 1..=128 characters of
/// `[A-Za-z0-9._:-]`: anything else could smuggle text into logs.
pub fn is_sane(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

pub async fn middleware(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_sane(v))
        .map(str::to_owned)
        .unwrap_or_else(|| ulid::Ulid::new().to_string());
    // On Lambda the runtime puts the request id in this header (lambda_http
    // copies the invocation context); locally it is absent.
    let aws_request_id = req
        .headers()
        .get("lambda-runtime-aws-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Recorded as `&str`, not `%value`: the layers then take the text as it
    // is, where a `Display` value is formatted for each of them (and the
    // trace layer allocates the correlation id's copy from that).
    let span = tracing::info_span!(
        "request",
        correlation_id = id.as_str(),
        aws_request_id,
        method = req.method().as_str(),
        path = req.uri().path(),
    );
    // A caller's W3C `traceparent` continues the caller's trace, unless the
    // request already runs inside one (on Lambda: the invocation's span,
    // in the X-Ray trace Lambda started). One header look-up when absent.
    if let Some(parent) = req.headers().get("traceparent") {
        if lite_trace::current().is_none() {
            lite_trace::set_parent_from(&span, parent.to_str().ok());
        }
    }
    let header = HeaderValue::from_str(&id).ok();
    let started = Instant::now();
    // The line is logged inside the span's future, so the span is handed
    // over rather than kept (no second handle to it, no re-entry for the
    // line).
    let handled = async move {
        let mut response = next.run(req).await;
        if let Some(value) = header {
            response.headers_mut().insert(HEADER, value);
        }
        let status = response.status().as_u16();
        let latency_us = started.elapsed().as_micros() as u64;
        tracing::info!(status, latency_us, "request finished");
        response
    };
    CORRELATION_ID.scope(id, handled.instrument(span)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_only() {
        assert!(is_sane("abc-123_X.y:z"));
        assert!(!is_sane(""));
        assert!(!is_sane("has space"));
        assert!(!is_sane("new\nline"));
        assert!(!is_sane(&"a".repeat(129)));
    }
}
