use crate::domain::{MAX_LINES, MAX_QUANTITY};
use lite_core::Problem;
use lite_http::ApiError;
use lite_store::optimistic::Exhausted;
use lite_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CartError {
    /// The cart token names no live cart (never issued, malformed, expired,
    /// or merged away).
    #[error("no cart has this token")]
    CartNotFound,
    /// The catalog has no such product (now).
    #[error("no such product")]
    ProductNotFound,
    /// The cart holds no line for this product.
    #[error("no such line")]
    LineNotFound,
    /// Adding a product beyond the distinct-products cap.
    #[error("the cart is full")]
    TooManyLines,
    /// A product priced in another currency than the cart's lines.
    #[error("the cart holds another currency")]
    CurrencyMismatch,
    /// `POST /v1/cart/merge` without `X-Cart-Token`.
    #[error("no cart token to merge")]
    TokenRequired,
    #[error("invalid input")]
    Invalid(Problem),
    /// Optimistic retries ran out under concurrent writes to one cart.
    #[error("the cart kept changing under concurrent updates")]
    Contended,
    /// A stored cart that does not add up (damaged data, never user input).
    #[error("stored cart is inconsistent: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Exhausted> for CartError {
    fn from(_: Exhausted) -> Self {
        CartError::Contended
    }
}

impl From<Problem> for CartError {
    fn from(p: Problem) -> Self {
        CartError::Invalid(p)
    }
}

impl From<CartError> for ApiError {
    fn from(e: CartError) -> Self {
        ApiError(match e {
            CartError::CartNotFound => Problem::not_found(
                "No cart has this cart token (it may have expired or been merged).",
            ),
            CartError::ProductNotFound => Problem::not_found("No product has this id."),
            CartError::LineNotFound => {
                Problem::not_found("The cart holds no line for this product.")
            }
            CartError::TooManyLines => Problem::conflict(format!(
                "A cart holds at most {MAX_LINES} different products; remove one first."
            )),
            CartError::CurrencyMismatch => Problem::conflict(
                "The product is priced in another currency than the cart's other lines.",
            ),
            CartError::TokenRequired => Problem::field(
                "X-Cart-Token",
                "is required: the guest cart to merge into the caller's cart",
            ),
            CartError::Invalid(p) => p,
            CartError::Contended => Problem::conflict("The cart was changed concurrently; retry."),
            CartError::Corrupt(cause) => {
                Problem::internal().with_cause(format!("cart data inconsistent: {cause}"))
            }
            CartError::Store(e) => e.into(),
        })
    }
}

impl axum::response::IntoResponse for CartError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}

/// The message for a quantity outside `min..=99`.
pub fn quantity_range(min: u32) -> String {
    format!("must be an integer from {min} to {MAX_QUANTITY}")
}
