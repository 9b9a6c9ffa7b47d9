//! The tower stack every router is finished with, locally and on Lambda.

use crate::auth::TokenVerifier;
use crate::correlation;
use crate::error::{problem_response, PROBLEM_JSON};
use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::{Extension, Router};
use lite_core::{ErrorCode, Problem};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

/// Requests over 256 KiB are refused with 413.
pub const BODY_LIMIT: usize = 256 * 1024;
/// An over-limit body up to this size is read and discarded before the 413
/// goes out: closing a connection with unread request bytes makes the
/// kernel reset it, and clients then lose the 413 and see a broken pipe.
const DRAIN_LIMIT: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, Default)]
pub struct HttpConfig {
    /// Origins allowed by CORS (exact matches); empty: no CORS layer, no
    /// origin allowed, no CORS headers.
    pub cors_origins: Vec<HeaderValue>,
}

impl HttpConfig {
    /// `AMAZON_LITE_CORS_ORIGINS`: comma-separated origins.
    pub fn from_env() -> Self {
        let cors_origins = lite_core::config::optional("AMAZON_LITE_CORS_ORIGINS")
            .map(|v| {
                v.split(',')
                    .filter_map(|o| HeaderValue::from_str(o.trim()).ok())
                    .collect()
            })
            .unwrap_or_default();
        Self { cors_origins }
    }
}

/// Adds the 404 fallback and every shared layer to a (merged) router.
pub fn finish(router: Router, verifier: Arc<TokenVerifier>, config: &HttpConfig) -> Router {
    // No origin configured, no CORS layer: it would allow nothing and only
    // add `Vary` and `Access-Control-Expose-Headers` to every response
    // (two of a product page's fifteen headers).
    let cors = (!config.cors_origins.is_empty()).then(|| cors(config));

    // One stack, first listed outermost. Every response is made inside the
    // CORS layer (when there is one) and gets the security headers, the problems rendered for
    // bare errors (405, 413, a rejection's 400 or 500) included; the
    // correlation id and the counts are taken outermost.
    //
    // It is given to the router as one layer: `Router::layer` boxes what it
    // is given around every route (after routing, so `outermost` reads the
    // matched route). The per-request work that needs no library layer is
    // done in two functions, one on each side of CORS: each
    // `middleware::from_fn` boxes its inner service and its future per
    // request, and the fifteen layers this stack once was cost fifteen of
    // them.
    let stack = ServiceBuilder::new()
        .layer(middleware::from_fn(outermost))
        .option_layer(cors)
        .layer(middleware::from_fn(bodies_and_problems))
        .layer(CatchPanicLayer::custom(
            |_panic: Box<dyn std::any::Any + Send>| {
                // The payload may hold internals: log that it happened, not what.
                tracing::error!("handler panicked");
                problem_response(&Problem::internal())
            },
        ))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(Extension(verifier));
    router.fallback(not_found).layer(stack)
}

/// CORS for the configured origins (exact matches).
fn cors(config: &HttpConfig) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(config.cors_origins.clone()))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-cart-token"),
            HeaderName::from_static(correlation::HEADER),
        ])
        .expose_headers([
            HeaderName::from_static(correlation::HEADER),
            HeaderName::from_static("x-cart-token"),
            header::RETRY_AFTER,
        ])
        .max_age(Duration::from_secs(600))
}

/// The security headers every response carries unless its handler set
/// its own (the local server's raw 503 for a connection over its limit
/// writes them too).
pub static SECURITY_HEADERS: [(HeaderName, HeaderValue); 6] = [
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    ),
    (
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=63072000; includeSubDomains"),
    ),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
];

/// The outermost work of every request: its correlation id and span
/// (`correlation::middleware`), the security headers of its response, and
/// `http_requests` / `http_request_duration` for it, problems and CORS
/// preflights included. `Router::layer` runs this after routing, so the
/// matched route's template (`/v1/products/{id}`) is in the request; the
/// fallback's requests have none and count as `unmatched`. Per request:
/// an `Arc` clone and the counts through the handles the thread keeps
/// (`lite_metrics::http_request`), no allocation once a route has been
/// seen.
async fn outermost(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let mut response = correlation::middleware(req, next).await;
    let headers = response.headers_mut();
    for (name, value) in &SECURITY_HEADERS {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    let class = match response.extensions().get::<crate::error::Maintenance>() {
        Some(_) => lite_metrics::StatusClass::Maintenance,
        None => lite_metrics::StatusClass::of(response.status().as_u16()),
    };
    lite_metrics::http_request(
        route.as_ref().map(MatchedPath::as_str),
        method.as_str(),
        class,
        started.elapsed(),
    );
    response
}

/// Inside CORS: a declared over-limit body refused (see
/// [`refuse_declared_oversize`]), and the bare errors of what is below
/// given the problem shape ([`problem_for_bare_error`]).
async fn bodies_and_problems(req: Request, next: Next) -> Response {
    match refuse_declared_oversize(req).await {
        Ok(req) => problem_for_bare_error(next.run(req).await),
        Err(refused) => refused,
    }
}

/// 413 for a declared `Content-Length` over the limit, after draining a
/// moderately sized body (see [`DRAIN_LIMIT`]); the request back otherwise.
/// Undeclared (chunked) bodies are cut off by the body limit layer as they
/// stream.
async fn refuse_declared_oversize(req: Request) -> Result<Request, Response> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(n) if n > BODY_LIMIT => {
            if n <= DRAIN_LIMIT {
                let _ = axum::body::to_bytes(req.into_body(), DRAIN_LIMIT).await;
            }
            Err(problem_response(&Problem::new(
                ErrorCode::PayloadTooLarge,
                format!("The body exceeds {} KiB.", BODY_LIMIT / 1024),
            )))
        }
        _ => Ok(req),
    }
}

async fn not_found() -> Response {
    problem_response(&Problem::not_found("No route matches this path."))
}

/// Errors produced below the handlers (405 from routing, 413 from the body
/// limit) arrive without a body; give them the same problem shape.
fn problem_for_bare_error(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return response;
    }
    let problem = match status {
        StatusCode::METHOD_NOT_ALLOWED => Problem::new(
            ErrorCode::MethodNotAllowed,
            "This method is not allowed here.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            ErrorCode::PayloadTooLarge,
            format!("The body exceeds {} KiB.", BODY_LIMIT / 1024),
        ),
        StatusCode::NOT_FOUND => Problem::not_found("Not found."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            Problem::new(ErrorCode::UnsupportedMediaType, "Send JSON.")
        }
        s if s.is_server_error() => Problem::internal(),
        _ => Problem::new(ErrorCode::BadRequest, "The request is not valid."),
    };
    let mut rendered = problem_response(&problem);
    if let Some(allow) = response.headers().get(header::ALLOW) {
        rendered.headers_mut().insert(header::ALLOW, allow.clone());
    }
    rendered
}
