use lite_core::{ErrorCode, Problem};
use lite_http::ApiError;
use lite_store::optimistic::Exhausted;
use lite_store::StoreError;

/// Everything the orders routes and saga steps can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum OrdersError {
    #[error("invalid input")]
    Invalid(Problem),
    #[error("order not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("the cart is empty")]
    CartEmpty,
    #[error("prices changed: {0}")]
    PriceChanged(String),
    #[error("idempotency key reused with another request")]
    IdempotencyConflict,
    #[error("checkout is paused")]
    CheckoutPaused { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0:?}")]
    Problem(Problem),
}

impl OrdersError {
    /// Whether repeating the call may succeed (saga steps raise
    /// `Checkout.Transient` for these): the store's one definition.
    pub fn is_transient(&self) -> bool {
        matches!(self, OrdersError::Store(e) if e.is_transient())
    }
}

/// An order that kept changing under a status move: contention, so
/// transient (a saga step retries; a request answers 503 with
/// `Retry-After`).
impl From<Exhausted> for OrdersError {
    fn from(e: Exhausted) -> Self {
        OrdersError::Store(e.into())
    }
}

impl From<Problem> for OrdersError {
    fn from(p: Problem) -> Self {
        OrdersError::Problem(p)
    }
}

impl From<OrdersError> for ApiError {
    fn from(e: OrdersError) -> Self {
        ApiError(match e {
            OrdersError::Invalid(p) | OrdersError::Problem(p) => p,
            OrdersError::NotFound => Problem::not_found("No such order."),
            OrdersError::Conflict(detail) => Problem::conflict(detail),
            OrdersError::CartEmpty => Problem::new(
                ErrorCode::CartEmpty,
                "The cart is empty: add items before placing an order.",
            ),
            OrdersError::PriceChanged(detail) => Problem::new(ErrorCode::PriceChanged, detail),
            OrdersError::IdempotencyConflict => Problem::new(
                ErrorCode::IdempotencyConflict,
                "This Idempotency-Key was used with a different request; use a new key for a new order.",
            ),
            OrdersError::CheckoutPaused { retry_after_secs } => Problem::new(
                ErrorCode::CheckoutPaused,
                "Checkout is paused for maintenance: no order was placed and your cart is unchanged. Try again later.",
            )
            .with_retry_after(retry_after_secs),
            OrdersError::Store(e) => e.into(),
        })
    }
}

impl axum::response::IntoResponse for OrdersError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}
