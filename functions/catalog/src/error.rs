use lite_core::Problem;
use lite_http::ApiError;
use lite_store::optimistic::Exhausted;
use lite_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("product not found")]
    NotFound,
    #[error("sku already taken")]
    SkuTaken,
    #[error("invalid input")]
    Invalid(Problem),
    #[error("the product kept changing under concurrent updates")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Exhausted> for CatalogError {
    fn from(_: Exhausted) -> Self {
        CatalogError::Contended
    }
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        ApiError(match e {
            CatalogError::NotFound => Problem::not_found("No product has this id."),
            CatalogError::SkuTaken => Problem::conflict("Another product already uses this sku."),
            CatalogError::Invalid(p) => p,
            CatalogError::Contended => {
                Problem::conflict("The product was changed concurrently; retry.")
            }
            CatalogError::Store(e) => e.into(),
        })
    }
}

impl From<Problem> for CatalogError {
    fn from(p: Problem) -> Self {
        CatalogError::Invalid(p)
    }
}

impl axum::response::IntoResponse for CatalogError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}
