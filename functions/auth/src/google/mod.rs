//! Google sign-in: the OpenID Connect authorization-code flow with PKCE
//! (S256), `state` and `nonce`, on the `openidconnect` crate (discovery,
//! the authorization URL, the code exchange, ID-token validation) over
//! reqwest with rustls.
//!
//! - `start` remembers the sign-in (nonce and PKCE verifier) under its
//!   `state` for 10 minutes (`pending`) and redirects to the provider.
//! - `callback` takes the state back exactly once (a conditional delete),
//!   exchanges the code with the verifier, and verifies the ID token
//!   (`provider`: signature by a key of the provider's JWKS, `iss`, `aud`,
//!   `exp`, `nonce`), then requires a verified e-mail (`identity`).
//!
//! Nothing here touches the network until the first sign-in: discovery and
//! the provider's keys are fetched on first use and cached (`keys`).
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | pending sign-in | `OIDC#<state>` | `OIDC` | `nonce`, `verifier` (PKCE), `createdAt`, `expiresAt` (TTL: +10 min) |

mod config;
mod keys;
mod pending;
mod provider;

pub use config::{ClientSecret, GoogleConfig, HttpTimeouts, DEFAULT_ISSUER};
pub use pending::PENDING_TTL;

use crate::domain::EmailAddress;
use crate::AuthError;
use chrono::{DateTime, Utc};
use lite_store::Store;
use openidconnect::core::CoreIdTokenClaims;
use pending::State;
use provider::Provider;

/// The longest authorization code passed on to the provider.
const MAX_CODE_LEN: usize = 2048;

/// A verified Google identity.
#[derive(Debug, Clone)]
pub struct Identity {
    pub subject: String,
    pub email: EmailAddress,
    pub name: Option<String>,
}

impl Identity {
    /// The identity of verified claims: a subject, and an e-mail address
    /// the provider has verified (what accounts are linked by).
    fn of(claims: &CoreIdTokenClaims) -> Result<Self, AuthError> {
        let reject = |why: &str| AuthError::IdentityRejected(why.to_owned());
        if claims.email_verified() != Some(true) {
            return Err(reject("e-mail not verified"));
        }
        let email = claims
            .email()
            .and_then(|e| EmailAddress::parse(e.as_str()).ok())
            .ok_or_else(|| reject("no usable e-mail claim"))?;
        let subject = claims.subject().as_str();
        if subject.is_empty() || subject.len() > 255 {
            return Err(reject("bad subject"));
        }
        Ok(Identity {
            subject: subject.to_owned(),
            email,
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
        })
    }
}

/// The Google client: its configuration, and what it learns from the
/// provider on first use.
pub struct Google {
    provider: Provider,
}

impl Google {
    /// No I/O: safe in Lambda init.
    pub fn new(config: GoogleConfig) -> Self {
        Self {
            provider: Provider::new(config),
        }
    }

    /// Records a pending sign-in and returns the provider URL to send the
    /// browser to.
    pub async fn start(&self, store: &dyn Store, now: DateTime<Utc>) -> Result<String, AuthError> {
        let authorization = self.provider.authorize(now).await?;
        pending::put(
            store,
            &authorization.state,
            &authorization.nonce,
            &authorization.verifier,
            now,
        )
        .await?;
        Ok(authorization.url)
    }

    /// Completes a sign-in: takes the pending state (once), exchanges the
    /// code, verifies the ID token.
    pub async fn callback(
        &self,
        store: &dyn Store,
        now: DateTime<Utc>,
        code: &str,
        state: &str,
    ) -> Result<Identity, AuthError> {
        let state = State::parse(state).ok_or(AuthError::BadState(
            "The sign-in state is missing or malformed; start again.",
        ))?;
        let pending = pending::take(store, &state, now).await?;
        if code.is_empty() || code.len() > MAX_CODE_LEN {
            return Err(AuthError::CodeRejected);
        }
        let token = self
            .provider
            .exchange(code.to_owned(), pending.verifier, now)
            .await?;
        let claims = self.provider.verify(&token, &pending.nonce, now).await?;
        Identity::of(&claims)
    }
}
