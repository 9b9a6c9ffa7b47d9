use lite_core::Problem;
use lite_http::ApiError;
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

impl From<InventoryError> for ApiError {
    fn from(e: InventoryError) -> Self {
        ApiError(match e {
            InventoryError::NotFound => Problem::not_found("No stock record exists for this sku."),
            InventoryError::Invalid(p) => p,
            InventoryError::Store(e) => {
                tracing::error!(error = %e, "inventory store failure");
                Problem::internal()
            }
        })
    }
}

impl axum::response::IntoResponse for InventoryError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}
