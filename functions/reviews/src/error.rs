use lite_core::Problem;
use lite_http::ApiError;
use lite_store::optimistic::Exhausted;
use lite_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ReviewsError {
    /// No such review, or not the caller's (others' reviews are not
    /// revealed to them).
    #[error("review not found")]
    NotFound,
    #[error("product not found")]
    ProductNotFound,
    #[error("the user already reviewed this product")]
    AlreadyReviewed,
    #[error("invalid input")]
    Invalid(Problem),
    #[error("the review kept changing under concurrent writes")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ReviewsError> for ApiError {
    fn from(e: ReviewsError) -> Self {
        ApiError(match e {
            ReviewsError::NotFound => Problem::not_found("No review of yours has this id."),
            ReviewsError::ProductNotFound => Problem::not_found("No product has this id."),
            ReviewsError::AlreadyReviewed => Problem::conflict(
                "You already reviewed this product; edit or delete that review instead.",
            ),
            ReviewsError::Invalid(p) => p,
            ReviewsError::Contended => {
                Problem::conflict("The review was changed concurrently; retry.")
            }
            ReviewsError::Store(e) => e.into(),
        })
    }
}

impl From<Exhausted> for ReviewsError {
    fn from(_: Exhausted) -> Self {
        ReviewsError::Contended
    }
}

impl From<Problem> for ReviewsError {
    fn from(p: Problem) -> Self {
        ReviewsError::Invalid(p)
    }
}

impl axum::response::IntoResponse for ReviewsError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}
