//! Auth: accounts' credentials, login sessions and the tokens that prove
//! them.
//!
//! - Sign-up and login with e-mail and password (argon2id), Google sign-in
//!   (OIDC code flow with PKCE), all answering an access token (EdDSA JWT,
//!   15 minutes) and a refresh token (opaque, single use, 30 days).
//! - Sessions: every access token names its login session (`sid`); logout
//!   and refresh-token reuse revoke it, and [`AuthSessions`] (installed in
//!   every service's verifier by [`protect`]) refuses its tokens from then on.
//! - Keys: [`SigningKeys`] sign; their public halves are published in the
//!   table, served as JWKS, and learned by every verifier through
//!   [`PublishedKeys`].
//!
//! Owns the items `CREDENTIALS#`, `EMAIL#`, `SESSION#`, `REFRESH#`,
//! `SIGNKEY#`, `THROTTLE#` and `OIDC#` (layouts in the module docs of
//! `accounts`, `sessions`, `key_store`, `throttle`, `google`). Creates each
//! account's profile through `users::registration` in the sign-up
//! transaction and emits `user.registered.v1`.

mod accounts;
pub mod bootstrap;
mod config;
mod domain;
mod error;
mod events;
pub mod google;
pub mod key_store;
pub mod keys;
pub mod password;
mod routes;
mod service;
pub mod sessions;
pub mod throttle;

pub use auth_guard::{protect, PublishedKeys, Sessions as AuthSessions};
pub use config::{AuthConfig, AuthState};
pub use domain::{DisplayName, EmailAddress, Password, SessionId, UserId, UserView};
pub use error::AuthError;
pub use google::GoogleConfig;
pub use key_store::KeyProvider;
pub use keys::{Jwk, Jwks, SigningKey, SigningKeys};
pub use routes::{openapi, routes, DEPRECATED, ROUTES};
pub use service::{ensure_admin, AdminBootstrap, TokenResponse, ACCESS_TTL_SECS};
pub use throttle::Limits;

use lite_ports::Context;
use lite_service::Service;

/// The auth service on its store and its configuration (signing keys,
/// Google sign-in, limits): the sign-up, login, token and JWKS routes.
#[derive(Clone)]
pub struct Auth {
    ctx: Context,
    config: AuthConfig,
}

impl Auth {
    /// On AWS the configuration comes from [`AuthConfig::from_env`]; the
    /// local API uses [`AuthConfig::local`].
    pub fn new(ctx: Context, config: AuthConfig) -> Self {
        Self { ctx, config }
    }
}

impl Service for Auth {
    fn name(&self) -> &'static str {
        "auth"
    }

    fn router(&self) -> axum::Router {
        routes::router(self.ctx.clone(), self.config.clone())
    }
}
