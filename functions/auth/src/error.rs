use lite_core::{ErrorCode, Problem};
use lite_http::ApiError;
use lite_store::StoreError;

/// Everything an auth route can answer besides success. Causes that must
/// not reach a client (store, keys, provider failures) are logged here and
/// leave as generic problems.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid input")]
    Invalid(Problem),
    #[error("e-mail already registered")]
    EmailTaken,
    #[error("wrong e-mail or password")]
    WrongCredentials,
    #[error("refresh token invalid, expired, spent or revoked")]
    InvalidRefreshToken,
    #[error("rate limited for {retry_after}s")]
    RateLimited { retry_after: u64 },
    #[error("Google sign-in is not configured")]
    GoogleNotConfigured,
    #[error("bad sign-in state: {0}")]
    BadState(&'static str),
    #[error("the provider refused the authorization code")]
    CodeRejected,
    #[error("the identity token was refused: {0}")]
    IdentityRejected(String),
    #[error("the identity provider failed: {0}")]
    Provider(String),
    #[error("signing keys: {0}")]
    Keys(String),
    #[error("internal: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Problem> for AuthError {
    fn from(p: Problem) -> Self {
        AuthError::Invalid(p)
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError(match e {
            AuthError::Invalid(p) => p,
            AuthError::EmailTaken => Problem::conflict("An account with this e-mail address already exists."),
            AuthError::WrongCredentials => {
                Problem::new(ErrorCode::Unauthorized, "The e-mail address or password is wrong.")
            }
            AuthError::InvalidRefreshToken => Problem::new(
                ErrorCode::Unauthorized,
                "The refresh token is invalid, expired or already used. Sign in again.",
            ),
            AuthError::RateLimited { retry_after } => Problem {
                retry_after: Some(retry_after),
                ..Problem::new(
                    ErrorCode::RateLimited,
                    format!("Too many attempts; retry in {retry_after} seconds."),
                )
            },
            AuthError::GoogleNotConfigured => Problem::new(
                ErrorCode::Unavailable,
                "Google sign-in is not configured on this server (GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET or GOOGLE_CLIENT_SECRET_ARN, and GOOGLE_REDIRECT_URI are unset).",
            ),
            AuthError::BadState(why) => Problem::new(ErrorCode::BadRequest, why),
            AuthError::CodeRejected => Problem::new(
                ErrorCode::BadRequest,
                "Google did not accept the authorization code; start the sign-in again.",
            ),
            AuthError::IdentityRejected(why) => {
                tracing::warn!(reason = %why, "Google identity token refused");
                Problem::new(ErrorCode::Unauthorized, "The Google identity could not be verified.")
            }
            AuthError::Provider(why) => {
                tracing::error!(error = %why, "Google sign-in failed");
                Problem {
                    retry_after: Some(5),
                    ..Problem::new(ErrorCode::Unavailable, "Google sign-in is unavailable; retry shortly.")
                }
            }
            AuthError::Keys(why) => {
                tracing::error!(error = %why, "signing keys unavailable");
                Problem::internal()
            }
            AuthError::Internal(why) => {
                tracing::error!(error = %why, "auth failure");
                Problem::internal()
            }
            AuthError::Store(StoreError::Throttled | StoreError::Contention) => {
                tracing::warn!(error = %e, "auth store busy");
                Problem {
                    retry_after: Some(1),
                    ..Problem::new(ErrorCode::Unavailable, "Busy; retry shortly.")
                }
            }
            AuthError::Store(e) => {
                tracing::error!(error = %e, "auth store failure");
                Problem::internal()
            }
        })
    }
}

impl axum::response::IntoResponse for AuthError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}
