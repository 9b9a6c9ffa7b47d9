//! Bearer-token verification and role checks.
//!
//! Access tokens are asymmetric JWTs (EdDSA or ES256) with a `kid`; the
//! verifier holds the public keys it trusts by kid and accepts only the
//! algorithm of the key a token names, so `alg: none`, HMAC-with-public-key
//! confusion and unknown kids all fail. The issuing side lives in the auth
//! service; tests mint tokens with the test key (feature `testing`).

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use futures::future::BoxFuture;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use lite_core::{ErrorCode, Problem};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

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
}

struct TrustedKey {
    key: DecodingKey,
    alg: Algorithm,
}

/// Tells whether the login session a token belongs to is still live
/// (logout and refresh-token reuse revoke sessions). The auth service
/// implements it on the store; the verifier asks it on every request.
pub trait SessionGuard: Send + Sync {
    fn is_live<'a>(&'a self, claims: &'a Claims) -> BoxFuture<'a, Result<bool, String>>;
}

/// The public keys access tokens are verified with, by `kid`, and the
/// session guard that checks revocation.
#[derive(Default)]
pub struct TokenVerifier {
    keys: HashMap<String, TrustedKey>,
    sessions: Option<Arc<dyn SessionGuard>>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl TokenVerifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts an Ed25519 public key (PEM, SubjectPublicKeyInfo) under `kid`.
    pub fn trust_ed25519_pem(&mut self, kid: &str, pem: &[u8]) -> Result<(), AuthError> {
        let key = DecodingKey::from_ed_pem(pem).map_err(|e| AuthError::Invalid(e.to_string()))?;
        self.keys.insert(
            kid.to_owned(),
            TrustedKey {
                key,
                alg: Algorithm::EdDSA,
            },
        );
        Ok(())
    }

    /// Trusts a P-256 public key (PEM) under `kid`, for ES256 tokens.
    pub fn trust_es256_pem(&mut self, kid: &str, pem: &[u8]) -> Result<(), AuthError> {
        let key = DecodingKey::from_ec_pem(pem).map_err(|e| AuthError::Invalid(e.to_string()))?;
        self.keys.insert(
            kid.to_owned(),
            TrustedKey {
                key,
                alg: Algorithm::ES256,
            },
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

    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::Malformed)?;
        let kid = header.kid.ok_or(AuthError::UnknownKey)?;
        let trusted = self.keys.get(&kid).ok_or(AuthError::UnknownKey)?;
        if header.alg != trusted.alg {
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
        let claims = verifier.verify(token).map_err(|e| unauthorized(&e))?;
        if let Some(guard) = &verifier.sessions {
            match guard.is_live(&claims).await {
                Ok(true) => {}
                Ok(false) => return Err(unauthorized(&AuthError::Invalid("session revoked".into()))),
                Err(e) => {
                    tracing::error!(error = %e, "cannot check the session");
                    return Err(ApiError(Problem::internal()));
                }
            }
        }
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
}
