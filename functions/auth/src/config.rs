//! The auth service's configuration and the state its handlers share.

use crate::google::{Google, GoogleConfig};
use crate::key_store::KeyProvider;
use crate::keys::SigningKeys;
use crate::throttle::Limits;
use crate::AuthError;
use lite_core::config::optional;
use lite_ports::Context;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the signing keys come from, Google sign-in, and rate limits.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub keys: KeyProvider,
    pub google: Option<GoogleConfig>,
    pub limits: Limits,
}

impl AuthConfig {
    /// From the environment:
    /// - `AMAZON_LITE_SIGNING_SECRET_ARN` (and, during a rotation,
    ///   `AMAZON_LITE_PREVIOUS_SIGNING_SECRET_ARN`): the signing key from
    ///   Secrets Manager (Lambda builds);
    /// - otherwise the key files under `AMAZON_LITE_DATA_DIR` (default
    ///   `./.amazon-lite`), created on first use;
    /// - `GOOGLE_CLIENT_ID`, `GOOGLE_CLIENT_SECRET` (or
    ///   `GOOGLE_CLIENT_SECRET_ARN`, read from Secrets Manager on first use),
    ///   `GOOGLE_REDIRECT_URI`, `GOOGLE_ISSUER`: Google sign-in (off unless
    ///   the client id, a client secret and the redirect URI are set).
    pub fn from_env() -> Self {
        let keys = match optional("AMAZON_LITE_SIGNING_SECRET_ARN") {
            Some(arn) => secrets_manager(arn, optional("AMAZON_LITE_PREVIOUS_SIGNING_SECRET_ARN")),
            None if optional("AWS_LAMBDA_FUNCTION_NAME").is_some() => {
                KeyProvider::lazy("no signing key configured", || {
                    Box::pin(async { Err("AMAZON_LITE_SIGNING_SECRET_ARN is not set".to_owned()) })
                })
            }
            None => KeyProvider::data_dir(
                optional("AMAZON_LITE_DATA_DIR").unwrap_or_else(|| "./.amazon-lite".into()),
            ),
        };
        Self {
            keys,
            google: GoogleConfig::from_env(),
            limits: Limits::default(),
        }
    }

    /// The local API's: key files under `data_dir`, Google from the
    /// environment.
    pub fn local(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            keys: KeyProvider::data_dir(data_dir),
            google: GoogleConfig::from_env(),
            limits: Limits::default(),
        }
    }

    /// Fixed keys, no Google, default limits (tests).
    pub fn with_keys(keys: SigningKeys) -> Self {
        Self {
            keys: KeyProvider::ready(keys),
            google: None,
            limits: Limits::default(),
        }
    }
}

#[cfg(feature = "lambda")]
fn secrets_manager(arn: String, previous: Option<String>) -> KeyProvider {
    KeyProvider::secrets_manager(arn, previous)
}

#[cfg(not(feature = "lambda"))]
fn secrets_manager(_arn: String, _previous: Option<String>) -> KeyProvider {
    KeyProvider::lazy("Secrets Manager (unsupported in this build)", || {
        Box::pin(async {
            Err("AMAZON_LITE_SIGNING_SECRET_ARN needs a build with the `lambda` feature".to_owned())
        })
    })
}

/// What every auth handler gets.
#[derive(Clone)]
pub struct AuthState {
    pub ctx: Context,
    pub(crate) keys: KeyProvider,
    pub(crate) google: Option<Arc<Google>>,
    pub(crate) limits: Limits,
}

impl AuthState {
    pub fn new(ctx: Context, config: AuthConfig) -> Self {
        Self {
            ctx,
            keys: config.keys,
            google: config.google.map(|g| Arc::new(Google::new(g))),
            limits: config.limits,
        }
    }

    /// The signing keys (loaded and published on first use).
    pub(crate) async fn signing_keys(&self) -> Result<Arc<SigningKeys>, AuthError> {
        self.keys
            .get(self.ctx.store.as_ref(), self.ctx.clock.as_ref())
            .await
            .map_err(AuthError::Keys)
    }

    pub(crate) fn google(&self) -> Result<&Google, AuthError> {
        self.google.as_deref().ok_or(AuthError::GoogleNotConfigured)
    }
}
