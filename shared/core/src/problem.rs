//! RFC 9457 problem details: the one shape every error leaves the API in.
//!
//! Each service keeps its own error enum and converts it into a [`Problem`];
//! the HTTP layer renders a `Problem` (adding the correlation id). A problem
//! shows a client only what is safe to show: an internal cause travels
//! beside it ([`Problem::with_cause`]), never in `detail`, and the single
//! renderer logs it.

use serde::Serialize;

/// Stable machine-readable error codes (API.md `code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    ValidationFailed,
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    OutOfStock,
    IdempotencyConflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    /// Checkout of an empty cart (422).
    CartEmpty,
    /// A cart line's price changed since it was added; the cart now shows
    /// the current price (409).
    PriceChanged,
    /// A webhook whose signature is missing, wrong or stale (400).
    InvalidSignature,
    Internal,
    Unavailable,
    /// Order placement paused by the operator (runtime flag
    /// `checkoutPaused`): 503 with `Retry-After`, nothing written.
    CheckoutPaused,
}

impl ErrorCode {
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::ValidationFailed | ErrorCode::BadRequest | ErrorCode::InvalidSignature => {
                400
            }
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict
            | ErrorCode::OutOfStock
            | ErrorCode::IdempotencyConflict
            | ErrorCode::PriceChanged => 409,
            ErrorCode::CartEmpty => 422,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable | ErrorCode::CheckoutPaused => 503,
        }
    }

    /// Whether this answer is a refusal ops asked for at run time (a
    /// runtime flag), not a fault: it is counted apart from the 5xx that
    /// alarms and canary rollbacks watch.
    pub const fn is_maintenance(self) -> bool {
        matches!(self, ErrorCode::CheckoutPaused)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::OutOfStock => "out_of_stock",
            ErrorCode::IdempotencyConflict => "idempotency_conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::CartEmpty => "cart_empty",
            ErrorCode::PriceChanged => "price_changed",
            ErrorCode::InvalidSignature => "invalid_signature",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::CheckoutPaused => "checkout_paused",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ErrorCode::ValidationFailed => "Validation failed",
            ErrorCode::BadRequest => "Bad request",
            ErrorCode::Unauthorized => "Unauthorized",
            ErrorCode::Forbidden => "Forbidden",
            ErrorCode::NotFound => "Not found",
            ErrorCode::MethodNotAllowed => "Method not allowed",
            ErrorCode::Conflict => "Conflict",
            ErrorCode::OutOfStock => "Out of stock",
            ErrorCode::IdempotencyConflict => "Idempotency key reused",
            ErrorCode::PayloadTooLarge => "Payload too large",
            ErrorCode::UnsupportedMediaType => "Unsupported media type",
            ErrorCode::RateLimited => "Too many requests",
            ErrorCode::CartEmpty => "Cart is empty",
            ErrorCode::PriceChanged => "Price changed",
            ErrorCode::InvalidSignature => "Invalid signature",
            ErrorCode::Internal => "Internal server error",
            ErrorCode::Unavailable => "Service unavailable",
            ErrorCode::CheckoutPaused => "Checkout paused",
        }
    }
}

/// One invalid input field (`errors[]` in the problem body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The internal error behind a problem: logged by the renderer, never
/// serialized.
pub type Cause = std::sync::Arc<dyn std::error::Error + Send + Sync>;

/// A problem to show the client. Build one with the constructors; the HTTP
/// layer turns it into `application/problem+json`.
#[derive(Debug, Clone)]
pub struct Problem {
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Seconds, for 429 and 503 (`Retry-After`).
    pub retry_after: Option<u64>,
    /// Why it happened, for the log only.
    cause: Option<Cause>,
}

/// Problems are equal when a client sees the same (the cause is not shown).
impl PartialEq for Problem {
    fn eq(&self, other: &Self) -> bool {
        (self.code, &self.detail, &self.errors, self.retry_after)
            == (other.code, &other.detail, &other.errors, other.retry_after)
    }
}

impl Eq for Problem {}

impl Problem {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            cause: None,
        }
    }

    /// Attaches the internal error behind this problem: the renderer logs
    /// it (with its source chain and the correlation id); the client never
    /// sees it.
    pub fn with_cause(
        mut self,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.cause = Some(std::sync::Arc::from(cause.into()));
        self
    }

    /// The internal error behind this problem, if one was attached.
    pub fn cause(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.cause.as_deref()
    }

    /// Tells the client when to try again (`Retry-After`, seconds).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => format!("{} fields are invalid", errors.len()),
        };
        Self {
            code: ErrorCode::ValidationFailed,
            detail,
            errors,
            retry_after: None,
            cause: None,
        }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, what)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, detail)
    }

    /// A server-side failure: the client sees only a generic sentence
    /// (attach the cause with [`Problem::with_cause`] so it is logged).
    pub fn internal() -> Self {
        Self::new(
            ErrorCode::Internal,
            "The server could not complete the request.",
        )
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// The RFC 9457 body, with the correlation id of the request.
    pub fn to_body(&self, correlation_id: &str) -> serde_json::Value {
        serde_json::json!({
            "type": format!("https://amazon-lite.dev/problems/{}", self.code.as_str().replace('_', "-")),
            "title": self.code.title(),
            "status": self.status(),
            "detail": self.detail,
            "code": self.code.as_str(),
            "correlationId": correlation_id,
            "errors": self.errors,
        })
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code.as_str(),
            self.status(),
            self.detail
        )
    }
}

impl std::error::Error for Problem {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

/// Collects field errors while a request body is parsed into domain types,
/// so a client learns about every bad field at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Keeps the value of a successful parse; records the error of a failed one.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> Result<(), Problem> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Problem::validation(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_every_rfc9457_and_api_field() {
        let p = Problem::validation(vec![FieldError::new("price.amount", "must be positive")]);
        let body = p.to_body("corr-1");
        assert_eq!(body["status"], 400);
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["title"], "Validation failed");
        assert_eq!(body["correlationId"], "corr-1");
        assert_eq!(body["errors"][0]["field"], "price.amount");
        assert!(body["type"]
            .as_str()
            .unwrap()
            .ends_with("/validation-failed"));
        assert_eq!(body["detail"], "price.amount: must be positive");
    }

    #[test]
    fn internal_problems_say_nothing_specific() {
        let p = Problem::internal();
        assert_eq!(p.status(), 500);
        assert!(!p.detail.to_lowercase().contains("redb"));
    }

    #[test]
    fn the_cause_is_kept_for_the_log_and_never_shown() {
        let p = Problem::internal().with_cause("redb: disk full");
        assert_eq!(
            p.cause().map(|c| c.to_string()).as_deref(),
            Some("redb: disk full")
        );
        assert!(!p.to_body("c").to_string().contains("disk full"));
        assert_eq!(p, Problem::internal(), "equality is what the client sees");
    }

    #[test]
    fn violations_collect_all_fields() {
        let mut v = Violations::new();
        let a: Option<u32> = v.check("a", "x".parse::<u32>());
        let b: Option<u32> = v.check("b", "7".parse::<u32>());
        v.add("c", "required");
        assert_eq!((a, b), (None, Some(7)));
        let p = v.into_result().unwrap_err();
        assert_eq!(p.errors.len(), 2);
        assert_eq!(p.detail, "2 fields are invalid");
    }
}
