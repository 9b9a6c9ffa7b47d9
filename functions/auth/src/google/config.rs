//! The client registration (`GOOGLE_*`) and how long a call to the provider
//! may take.

use lite_core::config::optional;
use std::sync::Arc;
use std::time::Duration;

pub const DEFAULT_ISSUER: &str = "https://accounts.google.com";

/// The OAuth client secret: a value (local), or a Secrets Manager secret
/// read on first use (deployed: `GOOGLE_CLIENT_SECRET_ARN`, so the secret is
/// never in the function's configuration).
#[derive(Clone)]
pub enum ClientSecret {
    Value(String),
    SecretArn {
        arn: String,
        value: Arc<tokio::sync::OnceCell<String>>,
    },
}

impl From<&str> for ClientSecret {
    fn from(s: &str) -> Self {
        ClientSecret::Value(s.to_owned())
    }
}

impl From<String> for ClientSecret {
    fn from(s: String) -> Self {
        ClientSecret::Value(s)
    }
}

impl ClientSecret {
    pub(super) async fn resolve(&self) -> Result<String, String> {
        match self {
            ClientSecret::Value(v) => Ok(v.clone()),
            #[cfg(feature = "lambda")]
            ClientSecret::SecretArn { arn, value } => value
                .get_or_try_init(|| lite_lambda::secret_string(arn))
                .await
                .cloned(),
            #[cfg(not(feature = "lambda"))]
            ClientSecret::SecretArn { arn, .. } => Err(format!(
                "reading {arn} needs the Lambda build (feature `lambda`)"
            )),
        }
    }
}

/// Bounds on every call to the provider (discovery, keys, token exchange).
/// A sign-in waits on them with the browser on hold, and a Lambda invocation
/// pays for the wait, so a slow provider fails fast with a 503 instead.
#[derive(Debug, Clone, Copy)]
pub struct HttpTimeouts {
    /// TCP and TLS connection set-up.
    pub connect: Duration,
    /// The whole request: connecting, sending, and reading the response.
    pub total: Duration,
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(10),
        }
    }
}

/// The client registration (`GOOGLE_*`).
#[derive(Clone)]
pub struct GoogleConfig {
    pub client_id: String,
    pub client_secret: ClientSecret,
    pub redirect_uri: String,
    /// `GOOGLE_ISSUER`; discovery is at `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    pub timeouts: HttpTimeouts,
}

impl std::fmt::Debug for GoogleConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleConfig")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("issuer", &self.issuer)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl GoogleConfig {
    /// `Some` when `GOOGLE_CLIENT_ID`, `GOOGLE_CLIENT_SECRET` (or
    /// `GOOGLE_CLIENT_SECRET_ARN`) and `GOOGLE_REDIRECT_URI` are all set (a
    /// partial set is logged and ignored); `GOOGLE_ISSUER` defaults to
    /// Google's.
    pub fn from_env() -> Option<Self> {
        let secret = optional("GOOGLE_CLIENT_SECRET")
            .map(ClientSecret::Value)
            .or_else(|| {
                optional("GOOGLE_CLIENT_SECRET_ARN").map(|arn| ClientSecret::SecretArn {
                    arn,
                    value: Arc::new(tokio::sync::OnceCell::new()),
                })
            });
        let client_id = optional("GOOGLE_CLIENT_ID");
        let redirect_uri = optional("GOOGLE_REDIRECT_URI");
        match (client_id, secret, redirect_uri) {
            (Some(client_id), Some(client_secret), Some(redirect_uri)) => Some(Self {
                client_id,
                client_secret,
                redirect_uri,
                issuer: optional("GOOGLE_ISSUER").unwrap_or_else(|| DEFAULT_ISSUER.into()),
                timeouts: HttpTimeouts::default(),
            }),
            (client_id, secret, redirect_uri) => {
                let missing: Vec<_> = [
                    ("GOOGLE_CLIENT_ID", client_id.is_none()),
                    ("GOOGLE_CLIENT_SECRET", secret.is_none()),
                    ("GOOGLE_REDIRECT_URI", redirect_uri.is_none()),
                ]
                .into_iter()
                .filter_map(|(name, absent)| absent.then_some(name))
                .collect();
                if missing.len() < 3 {
                    tracing::warn!(missing = ?missing, "Google sign-in is partly configured and stays off");
                }
                None
            }
        }
    }
}
