//! Bearer-token verification and role checks.
//!
//! Access tokens are asymmetric JWTs (EdDSA or ES256) with a `kid`; the
//! verifier holds the public keys it trusts by kid and accepts only the
//! algorithm of the key a token names, so `alg: none`, HMAC-with-public-key
//! confusion and unknown kids all fail. The issuing side lives in the auth
//! service; tests mint tokens with the test key (feature `testing`).
//!
//! Two optional ports make the verifier follow the auth service at run time:
//! - a [`KeySource`] teaches it kids it was not configured with (the auth
//!   service publishes its public keys in the table; a rotation adds a kid
//!   that running functions have never seen). Learned keys are cached for
//!   [`LEARNED_KEY_TTL`], misses for [`MISS_TTL`], so an unknown kid costs
//!   at most one lookup per kid and minute.
//! - a [`SessionGuard`] rejects tokens whose login session was revoked
//!   (logout, refresh-token reuse).

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use futures::future::BoxFuture;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use lite_core::{ErrorCode, Problem};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub const ISSUER: &str = "amazon-lite";
pub const AUDIENCE: &str = "amazon-lite-api";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Admin,
}

/// The claims of a verified access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub roles: Vec<Role>,
    /// The login session (refresh-token family) this token belongs to.
    pub sid: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

impl Claims {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("malformed token")]
    Malformed,
    #[error("token signed by an unknown key")]
    UnknownKey,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("the token's session was revoked")]
    Revoked,
    /// A key source or the session guard failed: the token could not be
    /// judged (a 500, never a 401).
    #[error("cannot check the token: {0}")]
    Unavailable(String),
}

struct TrustedKey {
    key: DecodingKey,
    alg: Algorithm,
}

impl TrustedKey {
    fn ed25519(pem: &[u8]) -> Result<TrustedKey, AuthError> {
        let key = DecodingKey::from_ed_pem(pem).map_err(|e| AuthError::Invalid(e.to_string()))?;
        Ok(TrustedKey {
            key,
            alg: Algorithm::EdDSA,
        })
    }
}

/// Where a verifier learns the public key of a kid it was not configured
/// with. The auth service implements it on the table (its published keys).
pub trait KeySource: Send + Sync {
    /// The Ed25519 public key (SubjectPublicKeyInfo PEM) published under
    /// `kid`, or `None` when no such key is published.
    fn public_key<'a>(&'a self, kid: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, String>>;
}

/// How long a key learned from the [`KeySource`] is used before it is looked
/// up again (a key the auth service stopped publishing stops verifying
/// within this time).
pub const LEARNED_KEY_TTL: Duration = Duration::from_secs(10 * 60);
/// How long a kid the source did not know is answered from memory.
pub const MISS_TTL: Duration = Duration::from_secs(60);
/// Kids remembered at most (hits and misses); beyond it the memory is
/// cleared, so random kids cannot grow it without bound.
const MAX_LEARNED: usize = 1024;

struct Learned {
    key: Option<Arc<TrustedKey>>,
    at: Instant,
}

/// Tells whether the login session a token belongs to is still live
/// (logout and refresh-token reuse revoke sessions). The auth service
/// implements it on the store; the verifier asks it on every request.
pub trait SessionGuard: Send + Sync {
    fn is_live<'a>(&'a self, claims: &'a Claims) -> BoxFuture<'a, Result<bool, String>>;
}

/// The public keys access tokens are verified with, by `kid`, the source
/// that teaches it new kids, and the session guard that checks revocation.
#[derive(Default)]
pub struct TokenVerifier {
    keys: HashMap<String, Arc<TrustedKey>>,
    source: Option<Arc<dyn KeySource>>,
    learned: RwLock<HashMap<String, Learned>>,
    sessions: Option<Arc<dyn SessionGuard>>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .field("key_source", &self.source.is_some())
            .field("session_guard", &self.sessions.is_some())
            .finish()
    }
}

impl TokenVerifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts an Ed25519 public key (PEM, SubjectPublicKeyInfo) under `kid`.
    pub fn trust_ed25519_pem(&mut self, kid: &str, pem: &[u8]) -> Result<(), AuthError> {
        self.keys
            .insert(kid.to_owned(), Arc::new(TrustedKey::ed25519(pem)?));
        Ok(())
    }

    /// Trusts a P-256 public key (PEM) under `kid`, for ES256 tokens.
    pub fn trust_es256_pem(&mut self, kid: &str, pem: &[u8]) -> Result<(), AuthError> {
        let key = DecodingKey::from_ec_pem(pem).map_err(|e| AuthError::Invalid(e.to_string()))?;
        self.keys.insert(
            kid.to_owned(),
            Arc::new(TrustedKey {
                key,
                alg: Algorithm::ES256,
            }),
        );
        Ok(())
    }

    /// Trusts every `*.pub.pem` (Ed25519) in `dir`, named `<kid>.pub.pem`.
    /// A missing directory trusts nothing.
    pub fn trust_dir(&mut self, dir: &std::path::Path) -> std::io::Result<usize> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut n = 0;
        for entry in entries {
            let path = entry?.path();
            let Some(kid) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".pub.pem"))
            else {
                continue;
            };
            let pem = std::fs::read(&path)?;
            self.trust_ed25519_pem(kid, &pem).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            })?;
            n += 1;
        }
        Ok(n)
    }

    /// Checks every token's session with `guard` (one store read per request).
    pub fn set_session_guard(&mut self, guard: Arc<dyn SessionGuard>) {
        self.sessions = Some(guard);
    }

    /// Looks up kids this verifier does not know in `source`.
    pub fn set_key_source(&mut self, source: Arc<dyn KeySource>) {
        self.source = Some(source);
    }

    pub fn has_session_guard(&self) -> bool {
        self.sessions.is_some()
    }

    /// The kids trusted from configuration (not those learned at run time).
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// Verifies signature, algorithm, issuer, audience and expiry with the
    /// keys known now (configured, or learned earlier from the key source).
    /// It never looks a kid up and never checks the session: see
    /// [`TokenVerifier::authenticate`].
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::Malformed)?;
        let kid = header.kid.ok_or(AuthError::UnknownKey)?;
        let trusted = self.known_key(&kid).ok_or(AuthError::UnknownKey)?;
        check(token, header.alg, &trusted)
    }

    /// Like [`TokenVerifier::verify`], but a kid it does not know is looked
    /// up in the key source (once per kid and [`MISS_TTL`]).
    pub async fn verify_learning(&self, token: &str) -> Result<Claims, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::Malformed)?;
        let kid = header.kid.ok_or(AuthError::UnknownKey)?;
        let trusted = match self.known_key(&kid) {
            Some(key) => key,
            None => self.learn(&kid).await?.ok_or(AuthError::UnknownKey)?,
        };
        check(token, header.alg, &trusted)
    }

    /// Everything a protected route needs: the token verifies (learning its
    /// kid if need be) and its session is live.
    pub async fn authenticate(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = self.verify_learning(token).await?;
        if let Some(guard) = &self.sessions {
            match guard.is_live(&claims).await {
                Ok(true) => {}
                Ok(false) => return Err(AuthError::Revoked),
                Err(e) => return Err(AuthError::Unavailable(format!("session check: {e}"))),
            }
        }
        Ok(claims)
    }

    /// A configured key, or a learned one that is still fresh. A learned key
    /// past its time is still used while the source cannot be asked (see
    /// [`TokenVerifier::learn`]), so this returns only fresh ones.
    fn known_key(&self, kid: &str) -> Option<Arc<TrustedKey>> {
        if let Some(key) = self.keys.get(kid) {
            return Some(key.clone());
        }
        let learned = self.learned.read().unwrap_or_else(|p| p.into_inner());
        let entry = learned.get(kid)?;
        let fresh = entry.at.elapsed() < LEARNED_KEY_TTL;
        entry.key.clone().filter(|_| fresh)
    }

    /// Asks the key source for `kid` (unless it said no within [`MISS_TTL`])
    /// and remembers the answer.
    async fn learn(&self, kid: &str) -> Result<Option<Arc<TrustedKey>>, AuthError> {
        let Some(source) = &self.source else {
            return Ok(None);
        };
        // Kids are short tokens; anything else is not worth a lookup.
        let plausible = (1..=64).contains(&kid.len())
            && kid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !plausible {
            return Ok(None);
        }
        let stale = {
            let learned = self.learned.read().unwrap_or_else(|p| p.into_inner());
            match learned.get(kid) {
                Some(entry) if entry.key.is_none() && entry.at.elapsed() < MISS_TTL => {
                    return Ok(None)
                }
                Some(entry) => entry.key.clone(),
                None => None,
            }
        };
        let key = match source.public_key(kid).await {
            Ok(Some(pem)) => Some(Arc::new(TrustedKey::ed25519(&pem).map_err(|e| {
                AuthError::Unavailable(format!("the published key {kid} does not parse: {e}"))
            })?)),
            Ok(None) => None,
            Err(e) => {
                // A key we used before stays usable while the source is down.
                if let Some(key) = stale {
                    tracing::warn!(kid, error = %e, "key source failed; using the cached key");
                    return Ok(Some(key));
                }
                return Err(AuthError::Unavailable(format!("key source: {e}")));
            }
        };
        let mut learned = self.learned.write().unwrap_or_else(|p| p.into_inner());
        if learned.len() >= MAX_LEARNED {
            learned.retain(|_, e| e.key.is_some());
            if learned.len() >= MAX_LEARNED {
                learned.clear();
            }
        }
        learned.insert(
            kid.to_owned(),
            Learned {
                key: key.clone(),
                at: Instant::now(),
            },
        );
        Ok(key)
    }
}

fn check(token: &str, alg: Algorithm, trusted: &TrustedKey) -> Result<Claims, AuthError> {
    if alg != trusted.alg {
        return Err(AuthError::Invalid(
            "algorithm does not match the key".into(),
        ));
    }
    let mut validation = Validation::new(trusted.alg);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 5;
    decode::<Claims>(token, &trusted.key, &validation)
        .map(|data| data.claims)
        .map_err(|e| AuthError::Invalid(e.to_string()))
}

fn bearer(parts: &Parts) -> Result<&str, AuthError> {
    let value = parts.headers.get(AUTHORIZATION).ok_or(AuthError::Missing)?;
    let value = value.to_str().map_err(|_| AuthError::Malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Malformed);
    }
    Ok(token.trim())
}

/// The problem for a refused token. A token that could not be judged (key
/// source or session store down) is a 500, never a 401.
fn refused(reason: &AuthError) -> ApiError {
    if let AuthError::Unavailable(cause) = reason {
        tracing::error!(error = %cause, "cannot check the bearer token");
        return ApiError(Problem::internal());
    }
    unauthorized(reason)
}

fn unauthorized(reason: &AuthError) -> ApiError {
    tracing::info!(reason = %reason, "bearer token refused");
    let detail = match reason {
        AuthError::Missing => "This route needs a bearer access token.",
        _ => "The access token is invalid or expired.",
    };
    ApiError(Problem::new(ErrorCode::Unauthorized, detail))
}

/// A caller with a valid access token (any role).
#[derive(Debug, Clone)]
pub struct Authenticated(pub Claims);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let verifier = parts
            .extensions
            .get::<Arc<TokenVerifier>>()
            .cloned()
            .ok_or_else(|| {
                tracing::error!(
                    "no TokenVerifier in request extensions: the auth layer is missing"
                );
                ApiError(Problem::internal())
            })?;
        let token = bearer(parts).map_err(|e| unauthorized(&e))?;
        let claims = verifier
            .authenticate(token)
            .await
            .map_err(|e| refused(&e))?;
        Ok(Authenticated(claims))
    }
}

/// A caller with a valid access token and the `admin` role.
#[derive(Debug, Clone)]
pub struct Admin(pub Claims);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Authenticated(claims) = Authenticated::from_request_parts(parts, state).await?;
        if !claims.has_role(Role::Admin) {
            return Err(ApiError(Problem::new(
                ErrorCode::Forbidden,
                "This route is for administrators.",
            )));
        }
        Ok(Admin(claims))
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;
    use crate::testing::{mint, test_verifier, TokenSpec};
    use base64::Engine;

    #[test]
    fn verifies_a_well_formed_token() {
        let token = mint(TokenSpec::customer("usr_1"));
        let claims = test_verifier().verify(&token).unwrap();
        assert_eq!(claims.sub, "usr_1");
        assert_eq!(claims.roles, vec![Role::Customer]);
    }

    #[test]
    fn refuses_expired_tampered_unknown_kid_and_alg_none() {
        let v = test_verifier();
        let expired = mint(TokenSpec {
            exp_in_secs: -60,
            ..TokenSpec::customer("usr_1")
        });
        assert!(matches!(v.verify(&expired), Err(AuthError::Invalid(_))));

        let token = mint(TokenSpec::customer("usr_1"));
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut payload: serde_json::Value =
            serde_json::from_slice(&b64.decode(&parts[1]).unwrap()).unwrap();
        payload["roles"] = serde_json::json!(["admin"]);
        parts[1] = b64.encode(payload.to_string());
        assert!(v.verify(&parts.join(".")).is_err(), "tampered payload");

        let unknown = mint(TokenSpec {
            kid: "other".into(),
            ..TokenSpec::customer("usr_1")
        });
        assert_eq!(v.verify(&unknown), Err(AuthError::UnknownKey));

        let header = b64.encode(r#"{"alg":"none","typ":"JWT","kid":"test"}"#);
        let none = format!("{header}.{}.", parts[1]);
        assert!(v.verify(&none).is_err(), "alg none");

        let hs = b64.encode(r#"{"alg":"HS256","typ":"JWT","kid":"test"}"#);
        assert!(
            v.verify(&format!("{hs}.{}.c2ln", parts[1])).is_err(),
            "alg confusion"
        );
        assert_eq!(v.verify("garbage"), Err(AuthError::Malformed));
    }

    /// A key source that knows the test key under `kid` and counts lookups.
    struct CountingSource {
        kid: &'static str,
        calls: std::sync::atomic::AtomicUsize,
        fail: std::sync::atomic::AtomicBool,
    }

    impl CountingSource {
        fn new(kid: &'static str) -> Arc<Self> {
            Arc::new(Self {
                kid,
                calls: Default::default(),
                fail: Default::default(),
            })
        }
        fn calls(&self) -> usize {
            self.calls.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    impl KeySource for CountingSource {
        fn public_key<'a>(
            &'a self,
            kid: &'a str,
        ) -> BoxFuture<'a, Result<Option<Vec<u8>>, String>> {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async move {
                if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
                    return Err("store down".to_owned());
                }
                Ok((kid == self.kid).then(|| crate::testing::TEST_PUBLIC_PEM.as_bytes().to_vec()))
            })
        }
    }

    fn with_kid(kid: &str) -> String {
        mint(TokenSpec {
            kid: kid.into(),
            ..TokenSpec::customer("usr_1")
        })
    }

    #[tokio::test]
    async fn learns_unknown_kids_from_the_key_source_once() {
        let source = CountingSource::new("rotated");
        let mut v = TokenVerifier::new();
        v.set_key_source(source.clone());
        let token = with_kid("rotated");
        assert_eq!(
            v.verify(&token),
            Err(AuthError::UnknownKey),
            "sync verify never looks up"
        );
        assert_eq!(v.verify_learning(&token).await.unwrap().sub, "usr_1");
        assert_eq!(v.authenticate(&token).await.unwrap().sub, "usr_1");
        assert_eq!(
            v.verify(&token).unwrap().sub,
            "usr_1",
            "learned keys are cached"
        );
        assert_eq!(source.calls(), 1);

        // Misses are remembered too, and implausible kids are never looked up.
        let other = with_kid("nobody");
        for _ in 0..3 {
            assert_eq!(v.verify_learning(&other).await, Err(AuthError::UnknownKey));
        }
        assert_eq!(source.calls(), 2);
        let odd = with_kid("../../etc/passwd");
        assert_eq!(v.verify_learning(&odd).await, Err(AuthError::UnknownKey));
        assert_eq!(source.calls(), 2);

        // Without a source an unknown kid is simply unknown.
        assert_eq!(
            TokenVerifier::new().verify_learning(&token).await,
            Err(AuthError::UnknownKey)
        );
    }

    #[tokio::test]
    async fn a_failing_key_source_is_unavailable_not_unauthorized() {
        let source = CountingSource::new("rotated");
        source.fail.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut v = TokenVerifier::new();
        v.set_key_source(source);
        let err = v.verify_learning(&with_kid("rotated")).await.unwrap_err();
        assert!(matches!(err, AuthError::Unavailable(_)), "{err:?}");
    }

    #[tokio::test]
    async fn learned_keys_still_pin_the_algorithm() {
        let mut v = TokenVerifier::new();
        v.set_key_source(CountingSource::new("rotated"));
        let token = with_kid("rotated");
        let payload = token.split('.').nth(1).unwrap().to_owned();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let none = format!(
            "{}.{payload}.",
            b64.encode(r#"{"alg":"none","typ":"JWT","kid":"rotated"}"#)
        );
        assert!(v.verify_learning(&none).await.is_err());
        let hs = format!(
            "{}.{payload}.c2ln",
            b64.encode(r#"{"alg":"HS256","typ":"JWT","kid":"rotated"}"#)
        );
        assert!(v.verify_learning(&hs).await.is_err());
    }

    struct Sessions(bool, bool);

    impl SessionGuard for Sessions {
        fn is_live<'a>(&'a self, claims: &'a Claims) -> BoxFuture<'a, Result<bool, String>> {
            Box::pin(async move {
                assert_eq!(claims.sid, "ses_test");
                if self.1 {
                    Err("down".to_owned())
                } else {
                    Ok(self.0)
                }
            })
        }
    }

    #[tokio::test]
    async fn authenticate_consults_the_session_guard() {
        let token = mint(TokenSpec::customer("usr_1"));
        let mut live = test_verifier();
        live.set_session_guard(Arc::new(Sessions(true, false)));
        assert!(live.has_session_guard());
        assert!(live.authenticate(&token).await.is_ok());
        let mut revoked = test_verifier();
        revoked.set_session_guard(Arc::new(Sessions(false, false)));
        assert_eq!(revoked.authenticate(&token).await, Err(AuthError::Revoked));
        assert!(
            revoked.verify(&token).is_ok(),
            "verify alone does not check sessions"
        );
        let mut down = test_verifier();
        down.set_session_guard(Arc::new(Sessions(true, true)));
        assert!(matches!(
            down.authenticate(&token).await,
            Err(AuthError::Unavailable(_))
        ));
    }
}
