use lite_core::{ErrorCode, Problem};
use lite_http::ApiError;
use lite_store::optimistic::Exhausted;
use lite_store::StoreError;

/// Everything an auth route can answer besides success. Causes that must
/// not reach a client (store, keys, provider failures) ride along as the
/// problem's cause (logged by the renderer) and leave as generic problems.
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

/// The account kept changing under the admin bootstrap.
impl From<Exhausted> for AuthError {
    fn from(e: Exhausted) -> Self {
        AuthError::Internal(format!("admin account: {e}"))
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
            AuthError::RateLimited { retry_after } => Problem::new(
                ErrorCode::RateLimited,
                format!("Too many attempts; retry in {retry_after} seconds."),
            )
            .with_retry_after(retry_after),
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
                Problem::new(ErrorCode::Unauthorized, "The Google identity could not be verified.")
                    .with_cause(format!("Google identity token refused: {why}"))
            }
            AuthError::Provider(why) => Problem::new(
                ErrorCode::Unavailable,
                "Google sign-in is unavailable; retry shortly.",
            )
            .with_retry_after(5)
            .with_cause(format!("Google sign-in failed: {why}")),
            AuthError::Keys(why) => {
                Problem::internal().with_cause(format!("signing keys unavailable: {why}"))
            }
            AuthError::Internal(why) => Problem::internal().with_cause(format!("auth failure: {why}")),
            AuthError::Store(e) => e.into(),
        })
    }
}

impl axum::response::IntoResponse for AuthError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}
