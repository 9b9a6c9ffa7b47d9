//! `ApiError`: a [`Problem`] on its way out as `application/problem+json`.

use crate::correlation;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lite_core::{ErrorCode, Problem};

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug)]
pub struct ApiError(pub Problem);

impl From<Problem> for ApiError {
    fn from(p: Problem) -> Self {
        ApiError(p)
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError(Problem::new(code, detail))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        problem_response(&self.0)
    }
}

/// Renders a problem with the current correlation id. This is the one
/// place a failed request is logged: a 5xx always (500 as an error, 503 as
/// a warning), a 4xx when it carries a cause; with the cause's error chain
/// and the correlation id. The client sees only the problem's own detail.
pub fn problem_response(p: &Problem) -> Response {
    let status = StatusCode::from_u16(p.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let correlation_id = correlation::current();
    log(p, status, &correlation_id);
    let body = p.to_body(&correlation_id).to_string();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if let Some(secs) = p.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if p.code.is_maintenance() {
        response.extensions_mut().insert(Maintenance);
    }
    response
}

/// Marks a response as a refusal ops asked for ([`ErrorCode::is_maintenance`]):
/// the request counter files it under `maintenance`, not `5xx`.
#[derive(Debug, Clone, Copy)]
pub struct Maintenance;

fn log(p: &Problem, status: StatusCode, correlation_id: &str) {
    let cause = p.cause().map(|c| chain(c)).unwrap_or_default();
    let (code, status) = (p.code.as_str(), status.as_u16());
    match status {
        503 => tracing::warn!(code, status, %correlation_id, cause, "request failed: unavailable"),
        500.. => tracing::error!(code, status, %correlation_id, cause, "request failed"),
        _ if p.cause().is_some() => {
            tracing::info!(code, status, %correlation_id, cause, "request refused")
        }
        _ => {}
    }
}

/// `error: source: source's source`, the whole chain on one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(source) = next {
        text.push_str(": ");
        text.push_str(&source.to_string());
        next = source.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn the_chain_names_every_source() {
        let e = Outer(std::io::Error::other("disk full"));
        assert_eq!(chain(&e), "outer: disk full");
    }

    #[test]
    fn a_503_carries_retry_after_and_no_cause() {
        let p = Problem::new(ErrorCode::Unavailable, "busy")
            .with_retry_after(1)
            .with_cause("redb: locked");
        let r = problem_response(&p);
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
    }
}
