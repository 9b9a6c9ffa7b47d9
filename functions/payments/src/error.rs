use crate::provider::ProviderError;
use crate::secret::SecretError;
use crate::signature::SignatureError;
use lite_core::{ErrorCode, Problem};
use lite_http::ApiError;
use lite_saga::SagaError;
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
            PaymentsError::Store(e) => e.is_retryable() || e.is_condition_failure(),
            _ => false,
        }
    }
}

impl From<PaymentsError> for ApiError {
    fn from(e: PaymentsError) -> Self {
        ApiError(match e {
            PaymentsError::NotFound => Problem::not_found("No payment exists for this order."),
            PaymentsError::InvalidSignature(reason) => {
                tracing::warn!(%reason, "webhook refused");
                Problem::new(
                    ErrorCode::InvalidSignature,
                    "The Payment-Signature header is missing, malformed, stale or does not match the body.",
                )
            }
            PaymentsError::BadRequest(detail) => Problem::new(ErrorCode::BadRequest, detail),
            e if e.is_transient() => {
                tracing::error!(error = %e, "payments dependency unavailable");
                Problem::new(ErrorCode::Unavailable, "Try again later.")
            }
            e => {
                tracing::error!(error = %e, "payments failure");
                Problem::internal()
            }
        })
    }
}

impl axum::response::IntoResponse for PaymentsError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}
