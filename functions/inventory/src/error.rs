use lite_core::Problem;
use lite_http::ApiError;
use lite_store::optimistic::Exhausted;
use lite_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("no stock record for this sku")]
    NotFound,
    #[error("invalid input")]
    Invalid(Problem),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl InventoryError {
    /// Whether repeating the call may succeed (saga steps raise
    /// `Checkout.Transient` for these): the store's one definition.
    pub fn is_transient(&self) -> bool {
        matches!(self, InventoryError::Store(e) if e.is_transient())
    }
}

/// A reservation that kept moving under a commit or release: contention,
/// so transient (the saga retries the step).
impl From<Exhausted> for InventoryError {
    fn from(e: Exhausted) -> Self {
        InventoryError::Store(e.into())
    }
}

impl From<InventoryError> for ApiError {
    fn from(e: InventoryError) -> Self {
        ApiError(match e {
            InventoryError::NotFound => Problem::not_found("No stock record exists for this sku."),
            InventoryError::Invalid(p) => p,
            InventoryError::Store(e) => e.into(),
        })
    }
}

impl axum::response::IntoResponse for InventoryError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}
