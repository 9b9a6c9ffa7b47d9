use crate::index::SearchError;
use lite_core::{ErrorCode, Problem};
use lite_http::ApiError;

/// Every way a search route fails, as the client sees it.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("invalid input")]
    Invalid(Problem),
    #[error(transparent)]
    Search(#[from] SearchError),
}

impl From<Problem> for RouteError {
    fn from(p: Problem) -> Self {
        RouteError::Invalid(p)
    }
}

impl From<RouteError> for ApiError {
    fn from(e: RouteError) -> Self {
        ApiError(match e {
            RouteError::Invalid(p) => p,
            // A position the adapter cannot use came from a cursor that
            // was signed by us: start again rather than fail.
            RouteError::Search(SearchError::Invalid(m)) => {
                Problem::field("cursor", format!("{m}; start again without it"))
            }
            RouteError::Search(SearchError::Unavailable(m)) => Problem::new(
                ErrorCode::Unavailable,
                "Search is unavailable; retry shortly.",
            )
            .with_retry_after(crate::guard::RETRY_AFTER_SECS)
            .with_cause(format!("search engine failure: {m}")),
        })
    }
}

impl axum::response::IntoResponse for RouteError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}
