use crate::provider::ProviderError;
use crate::secret::SecretError;
use crate::signature::SignatureError;
use lite_core::{ErrorCode, Problem};
use lite_http::ApiError;
use lite_saga::SagaError;
use lite_store::optimistic::Exhausted;
use lite_store::StoreError;

/// Every way a payments operation fails, for the routes (a problem), the
/// saga tasks ([`PaymentsError::is_transient`]: retry or give up) and the
/// consumers (retry or dead-letter).
#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    #[error("no such payment")]
    NotFound,
    #[error("webhook signature refused: {0}")]
    InvalidSignature(#[from] SignatureError),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("provider: {0}")]
    Provider(#[from] ProviderError),
    #[error("saga: {0}")]
    Saga(#[from] SagaError),
    #[error("webhook secret: {0}")]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Other writers kept changing the payment between our read and write.
    #[error("the payment kept changing under us")]
    Contended,
}

impl PaymentsError {
    /// Whether the same call may succeed later (the saga task raises
    /// `Checkout.Transient`, a consumer asks for redelivery, the provider's
    /// webhook is answered 503 and redelivered).
    pub fn is_transient(&self) -> bool {
        match self {
            PaymentsError::Provider(ProviderError::Unavailable(_))
            | PaymentsError::Saga(SagaError::Unavailable(_))
            | PaymentsError::Secret(SecretError::Unavailable(_))
            | PaymentsError::Contended => true,
            PaymentsError::Store(e) => e.is_transient(),
            _ => false,
        }
    }
}

/// The payment kept changing under a step: transient (the caller retries).
impl From<Exhausted> for PaymentsError {
    fn from(_: Exhausted) -> Self {
        PaymentsError::Contended
    }
}

impl From<PaymentsError> for ApiError {
    fn from(e: PaymentsError) -> Self {
        ApiError(match e {
            PaymentsError::NotFound => Problem::not_found("No payment exists for this order."),
            PaymentsError::InvalidSignature(reason) => Problem::new(
                ErrorCode::InvalidSignature,
                "The Payment-Signature header is missing, malformed, stale or does not match the body.",
            )
            .with_cause(reason),
            PaymentsError::BadRequest(detail) => Problem::new(ErrorCode::BadRequest, detail),
            PaymentsError::Store(e) => e.into(),
            // A dependency other than the store is down, or the payment
            // kept changing: the provider redelivers its webhook on a 503.
            e if e.is_transient() => Problem::new(ErrorCode::Unavailable, "Try again later.")
                .with_retry_after(lite_store::BUSY_RETRY_AFTER_SECS)
                .with_cause(e),
            e => Problem::internal().with_cause(e),
        })
    }
}

impl axum::response::IntoResponse for PaymentsError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}
