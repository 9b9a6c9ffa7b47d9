//! Google sign-in: OpenID Connect authorization-code flow with PKCE (S256),
//! `state` and `nonce`, on reqwest + jsonwebtoken (RS256 against the
//! provider's JWKS). The `openidconnect` crate would do the same with a far
//! larger dependency tree (its own oauth2, RSA and P-256 stacks) in every
//! Lambda binary; the flow is small enough to own.
//!
//! `start` stores the pending sign-in (nonce and PKCE verifier) under its
//! `state` for 10 minutes and redirects to the provider; `callback` takes
//! the state back exactly once (a conditional delete), exchanges the code
//! with the verifier, and verifies the ID token: signature by a key of the
//! provider's JWKS, issuer, audience = our client id, expiry, nonce, and
//! `email_verified`.
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | pending sign-in | `OIDC#<state>` | `OIDC` | `nonce`, `verifier`, `createdAt`, `expiresAt` (TTL: +10 min) |

use crate::domain::EmailAddress;
use crate::AuthError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use lite_core::config::optional;
use lite_core::rfc3339;
use lite_store::{attr, Condition, Key, Store, StoreError};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use subtle::ConstantTimeEq;
use tokio::sync::{Mutex, OnceCell};

pub const DEFAULT_ISSUER: &str = "https://accounts.google.com";
/// How long a started sign-in may take to come back.
pub const PENDING_TTL: Duration = Duration::minutes(10);
/// The provider's keys are fetched again at most this often on a miss.
const JWKS_MIN_REFETCH: std::time::Duration = std::time::Duration::from_secs(60);
/// ... and at least this often regardless.
const JWKS_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

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
    async fn resolve(&self) -> Result<String, String> {
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

/// The client registration (`GOOGLE_*`).
#[derive(Clone)]
pub struct GoogleConfig {
    pub client_id: String,
    pub client_secret: ClientSecret,
    pub redirect_uri: String,
    /// `GOOGLE_ISSUER`; discovery is at `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
}

impl std::fmt::Debug for GoogleConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleConfig")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl GoogleConfig {
    /// `Some` when `GOOGLE_CLIENT_ID`, `GOOGLE_CLIENT_SECRET` (or
    /// `GOOGLE_CLIENT_SECRET_ARN`) and `GOOGLE_REDIRECT_URI` are all set (a
    /// partial set is logged and ignored); `GOOGLE_ISSUER` defaults to
    /// Google's.
    pub fn from_env() -> Option<Self> {
        let names = [
            "GOOGLE_CLIENT_ID",
            "GOOGLE_CLIENT_SECRET",
            "GOOGLE_REDIRECT_URI",
        ];
        let secret = optional("GOOGLE_CLIENT_SECRET")
            .map(ClientSecret::Value)
            .or_else(|| {
                optional("GOOGLE_CLIENT_SECRET_ARN").map(|arn| ClientSecret::SecretArn {
                    arn,
                    value: Arc::new(tokio::sync::OnceCell::new()),
                })
            });
        let values: Vec<Option<String>> = vec![
            optional("GOOGLE_CLIENT_ID"),
            secret.as_ref().map(|_| String::new()),
            optional("GOOGLE_REDIRECT_URI"),
        ];
        match (values.as_slice(), secret) {
            ([Some(id), Some(_), Some(redirect)], Some(client_secret)) => Some(Self {
                client_id: id.clone(),
                client_secret,
                redirect_uri: redirect.clone(),
                issuer: optional("GOOGLE_ISSUER").unwrap_or_else(|| DEFAULT_ISSUER.into()),
            }),
            (values, _) => {
                let missing: Vec<_> = names
                    .iter()
                    .zip(values.iter())
                    .filter(|(_, v)| v.is_none())
                    .map(|(n, _)| *n)
                    .collect();
                if missing.len() < names.len() {
                    tracing::warn!(missing = ?missing, "Google sign-in is partly configured and stays off");
                }
                None
            }
        }
    }

    fn issuer(&self) -> &str {
        self.issuer.trim_end_matches('/')
    }
}

#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

struct ProviderKeys {
    keys: HashMap<String, DecodingKey>,
    fetched: Instant,
}

/// A verified Google identity.
#[derive(Debug, Clone)]
pub struct Identity {
    pub subject: String,
    pub email: EmailAddress,
    pub name: Option<String>,
}

/// The Google client: configuration, and what it learned from the provider
/// (discovery document, keys), fetched on first use.
pub struct Google {
    config: GoogleConfig,
    http: OnceCell<reqwest::Client>,
    discovery: OnceCell<Discovery>,
    keys: Mutex<Option<ProviderKeys>>,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn pending_key(state: &str) -> Key {
    Key::new(format!("OIDC#{state}"), "OIDC")
}

fn provider(what: &str, e: impl std::fmt::Display) -> AuthError {
    AuthError::Provider(format!("{what}: {e}"))
}

impl Google {
    pub fn new(config: GoogleConfig) -> Self {
        Self {
            config,
            http: OnceCell::new(),
            discovery: OnceCell::new(),
            keys: Mutex::new(None),
        }
    }

    async fn http(&self) -> Result<&reqwest::Client, AuthError> {
        self.http
            .get_or_try_init(|| async {
                reqwest::Client::builder()
                    .connect_timeout(std::time::Duration::from_secs(5))
                    .timeout(std::time::Duration::from_secs(10))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| provider("http client", e))
            })
            .await
    }

    async fn discovery(&self) -> Result<&Discovery, AuthError> {
        self.discovery
            .get_or_try_init(|| async {
                let url = format!("{}/.well-known/openid-configuration", self.config.issuer());
                let doc: Discovery = self
                    .http()
                    .await?
                    .get(&url)
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .map_err(|e| provider("discovery", e))?
                    .json()
                    .await
                    .map_err(|e| provider("discovery document", e))?;
                if doc.issuer.trim_end_matches('/') != self.config.issuer() {
                    return Err(provider(
                        "discovery",
                        format!("issuer {} is not the configured one", doc.issuer),
                    ));
                }
                Ok(doc)
            })
            .await
    }

    /// Records a pending sign-in and returns the provider URL to send the
    /// browser to.
    pub async fn start(&self, store: &dyn Store, now: DateTime<Utc>) -> Result<String, AuthError> {
        let discovery = self.discovery().await?;
        let (state, nonce, verifier) = (random_token(), random_token(), random_token());
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let mut item = pending_key(&state).to_item();
        item.insert("entity".into(), "oidcPending".into());
        item.insert("nonce".into(), nonce.clone().into());
        item.insert("verifier".into(), verifier.into());
        item.insert("createdAt".into(), rfc3339(now).into());
        item.insert(
            attr::EXPIRES_AT.into(),
            (now + PENDING_TTL).timestamp().into(),
        );
        store.put(item, Some(Condition::NotExists)).await?;
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.config.redirect_uri)
            .append_pair("scope", "openid email profile")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        let sep = if discovery.authorization_endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        Ok(format!("{}{sep}{query}", discovery.authorization_endpoint))
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
        let plausible = state.len() == 43 && URL_SAFE_NO_PAD.decode(state).is_ok();
        if !plausible {
            return Err(AuthError::BadState(
                "The sign-in state is missing or malformed; start again.",
            ));
        }
        let pending = match store
            .delete(&pending_key(state), Some(Condition::Exists))
            .await
        {
            Ok(Some(item)) => item,
            Ok(None) | Err(StoreError::ConditionFailed) => {
                return Err(AuthError::BadState(
                    "The sign-in state is unknown or was already used; start again.",
                ))
            }
            Err(e) => return Err(e.into()),
        };
        let expired = pending
            .get(attr::EXPIRES_AT)
            .and_then(|v| v.as_i64())
            .is_none_or(|t| t <= now.timestamp());
        if expired {
            return Err(AuthError::BadState(
                "The sign-in took too long; start again.",
            ));
        }
        let field = |n: &str| pending.get(n).and_then(|v| v.as_str()).map(str::to_owned);
        let (Some(nonce), Some(verifier)) = (field("nonce"), field("verifier")) else {
            return Err(AuthError::Internal(
                "a pending sign-in item does not parse".into(),
            ));
        };
        if code.is_empty() || code.len() > 2048 {
            return Err(AuthError::CodeRejected);
        }
        let id_token = self.exchange(code, &verifier).await?;
        self.verify_id_token(&id_token, &nonce).await
    }

    async fn exchange(&self, code: &str, verifier: &str) -> Result<String, AuthError> {
        #[derive(Deserialize)]
        struct TokenResponse {
            id_token: Option<String>,
        }
        let discovery = self.discovery().await?;
        let client_secret = self
            .config
            .client_secret
            .resolve()
            .await
            .map_err(|e| AuthError::Provider(format!("cannot read the client secret: {e}")))?;
        let response = self
            .http()
            .await?
            .post(&discovery.token_endpoint)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", self.config.redirect_uri.as_str()),
                ("client_id", self.config.client_id.as_str()),
                ("client_secret", client_secret.as_str()),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .map_err(|e| provider("token endpoint", e))?;
        let status = response.status();
        if status.is_client_error() {
            let body = response.text().await.unwrap_or_default();
            tracing::info!(status = status.as_u16(), body = %body.chars().take(300).collect::<String>(), "token endpoint refused the code");
            return Err(AuthError::CodeRejected);
        }
        if !status.is_success() {
            return Err(provider("token endpoint", status));
        }
        let body: TokenResponse = response
            .json()
            .await
            .map_err(|e| provider("token response", e))?;
        body.id_token
            .ok_or_else(|| provider("token response", "no id_token"))
    }

    /// The provider key `kid`, fetching the JWKS when it is unknown (at
    /// most once a minute) or old.
    async fn key(&self, kid: &str) -> Result<Option<DecodingKey>, AuthError> {
        let mut cache = self.keys.lock().await;
        let stale = cache
            .as_ref()
            .is_none_or(|c| c.fetched.elapsed() > JWKS_MAX_AGE);
        let known = cache.as_ref().and_then(|c| c.keys.get(kid).cloned());
        if known.is_some() && !stale {
            return Ok(known);
        }
        let may_fetch = stale
            || cache
                .as_ref()
                .is_some_and(|c| c.fetched.elapsed() > JWKS_MIN_REFETCH);
        if !may_fetch {
            return Ok(None);
        }
        let keys = self.fetch_keys().await?;
        let found = keys.get(kid).cloned();
        *cache = Some(ProviderKeys {
            keys,
            fetched: Instant::now(),
        });
        Ok(found)
    }

    async fn fetch_keys(&self) -> Result<HashMap<String, DecodingKey>, AuthError> {
        #[derive(Deserialize)]
        struct Set {
            keys: Vec<RsaJwk>,
        }
        #[derive(Deserialize)]
        struct RsaJwk {
            kid: Option<String>,
            kty: String,
            n: Option<String>,
            e: Option<String>,
        }
        let discovery = self.discovery().await?;
        let set: Set = self
            .http()
            .await?
            .get(&discovery.jwks_uri)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| provider("jwks", e))?
            .json()
            .await
            .map_err(|e| provider("jwks document", e))?;
        Ok(set
            .keys
            .into_iter()
            .filter(|k| k.kty == "RSA")
            .filter_map(|k| {
                let key =
                    DecodingKey::from_rsa_components(k.n.as_deref()?, k.e.as_deref()?).ok()?;
                Some((k.kid?, key))
            })
            .collect())
    }

    async fn verify_id_token(&self, token: &str, nonce: &str) -> Result<Identity, AuthError> {
        #[derive(Deserialize)]
        struct IdClaims {
            sub: String,
            email: Option<String>,
            email_verified: Option<serde_json::Value>,
            nonce: Option<String>,
            name: Option<String>,
        }
        let reject = |why: &str| AuthError::IdentityRejected(why.to_owned());
        let header = decode_header(token).map_err(|_| reject("malformed ID token"))?;
        if header.alg != Algorithm::RS256 {
            return Err(reject("ID token is not RS256"));
        }
        let kid = header.kid.ok_or_else(|| reject("ID token has no kid"))?;
        let key = self
            .key(&kid)
            .await?
            .ok_or_else(|| reject("ID token signed by an unknown key"))?;
        let discovery = self.discovery().await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[&self.config.client_id]);
        // Google documents both forms of its issuer.
        let bare = discovery.issuer.trim_start_matches("https://").to_owned();
        validation.set_issuer(&[discovery.issuer.as_str(), bare.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 60;
        let claims = decode::<IdClaims>(token, &key, &validation)
            .map_err(|e| AuthError::IdentityRejected(format!("ID token: {e}")))?
            .claims;
        let nonce_ok = claims
            .nonce
            .as_deref()
            .is_some_and(|n| bool::from(n.as_bytes().ct_eq(nonce.as_bytes())));
        if !nonce_ok {
            return Err(reject("nonce mismatch"));
        }
        let verified = matches!(claims.email_verified, Some(serde_json::Value::Bool(true)))
            || matches!(&claims.email_verified, Some(serde_json::Value::String(s)) if s == "true");
        if !verified {
            return Err(reject("e-mail not verified"));
        }
        let email = claims
            .email
            .as_deref()
            .and_then(|e| EmailAddress::parse(e).ok())
            .ok_or_else(|| reject("no usable e-mail claim"))?;
        if claims.sub.is_empty() || claims.sub.len() > 255 {
            return Err(reject("bad subject"));
        }
        Ok(Identity {
            subject: claims.sub,
            email,
            name: claims.name,
        })
    }
}
