use lite_core::Problem;
use lite_http::ApiError;
use lite_store::StoreError;

/// Everything the notifications routes can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum NotificationsError {
    #[error("invalid input")]
    Invalid(Problem),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0:?}")]
    Problem(Problem),
}

impl From<Problem> for NotificationsError {
    fn from(p: Problem) -> Self {
        NotificationsError::Problem(p)
    }
}

impl From<NotificationsError> for ApiError {
    fn from(e: NotificationsError) -> Self {
        ApiError(match e {
            NotificationsError::Invalid(p) | NotificationsError::Problem(p) => p,
            NotificationsError::Store(e) => e.into(),
        })
    }
}

impl axum::response::IntoResponse for NotificationsError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}
