//! Who is asking: the optional-auth extractor of the cart routes.
//!
//! A bearer token, when sent, must be valid (an invalid or expired one is a
//! 401, never silently a guest) and then always wins: a signed-in shopper
//! works on their own cart whatever `X-Cart-Token` says (merging is the one
//! route that reads both). Without a bearer the caller is a guest, with the
//! cart token they sent, if any.

use crate::view::CART_TOKEN_HEADER;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use lite_http::{ApiError, Authenticated};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shopper {
    /// A valid bearer token's user id.
    User(String),
    /// No bearer; the raw `X-Cart-Token`, if sent (parsed where used: a
    /// malformed token names no cart).
    Guest(Option<String>),
}

/// The raw `X-Cart-Token` header; a value that is not visible ASCII is
/// kept as an empty string, which names no cart.
pub fn cart_token_header(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get(CART_TOKEN_HEADER)
        .map(|v| v.to_str().unwrap_or_default().trim().to_owned())
}

impl<S: Send + Sync> FromRequestParts<S> for Shopper {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(AUTHORIZATION) {
            let Authenticated(claims) = Authenticated::from_request_parts(parts, state).await?;
            return Ok(Shopper::User(claims.sub));
        }
        Ok(Shopper::Guest(cart_token_header(parts)))
    }
}

/// The `X-Cart-Token` of a request, for the merge route (which also
/// requires a bearer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentCartToken(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for SentCartToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(SentCartToken(cart_token_header(parts)))
    }
}
