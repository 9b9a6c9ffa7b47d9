use lite_core::Problem;
use lite_http::ApiError;
use lite_store::optimistic::Exhausted;
use lite_store::StoreError;

use crate::domain::MAX_ADDRESSES;

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// The caller's account has no profile (e.g. a token for a user that
    /// signup never finished creating).
    #[error("no profile")]
    NoProfile,
    /// No such address in the caller's address book (including another
    /// user's address: those are indistinguishable from absent ones).
    #[error("address not found")]
    AddressNotFound,
    #[error("address book is full")]
    AddressLimit,
    /// `isDefault: false` for the current default address.
    #[error("the default address must stay the default")]
    DefaultRequired,
    #[error("invalid input")]
    Invalid(Problem),
    #[error("the address book kept changing under concurrent updates")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UsersError> for ApiError {
    fn from(e: UsersError) -> Self {
        ApiError(match e {
            UsersError::NoProfile => Problem::not_found("This account has no profile."),
            UsersError::AddressNotFound => Problem::not_found("No address has this id."),
            UsersError::AddressLimit => Problem::conflict(format!(
                "An account holds at most {MAX_ADDRESSES} addresses; delete one first."
            )),
            UsersError::DefaultRequired => Problem::conflict(
                "This is the default address; make another address the default instead.",
            ),
            UsersError::Invalid(p) => p,
            UsersError::Contended => {
                Problem::conflict("The address book was changed concurrently; retry.")
            }
            UsersError::Store(e) => e.into(),
        })
    }
}

impl From<Exhausted> for UsersError {
    fn from(_: Exhausted) -> Self {
        UsersError::Contended
    }
}

impl From<Problem> for UsersError {
    fn from(p: Problem) -> Self {
        UsersError::Invalid(p)
    }
}

impl axum::response::IntoResponse for UsersError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}
