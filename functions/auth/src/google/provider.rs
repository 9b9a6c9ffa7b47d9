//! The provider as the `openidconnect` crate sees it: discovery (on first
//! use, then kept for the process: Lambda init does no network I/O), the
//! authorization URL, the code exchange, and the ID token's verification
//! against the provider's keys (`keys`).

use super::config::{ClientSecret, GoogleConfig, HttpTimeouts};
use super::keys::{KeyCache, Need};
use super::pending::RANDOM_BYTES;
use crate::AuthError;
use chrono::{DateTime, Duration, Utc};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreIdToken, CoreIdTokenClaims,
    CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, CsrfToken, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    SignatureVerificationError, TokenResponse,
};
use std::error::Error;
use std::sync::OnceLock;
use tokio::sync::OnceCell;

/// Clock skew tolerated on the ID token's `exp`.
const LEEWAY: Duration = Duration::seconds(60);

/// A started sign-in: where to send the browser, and what to remember.
pub(super) struct Authorization {
    pub url: String,
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub verifier: PkceCodeVerifier,
}

pub(super) struct Provider {
    client_id: ClientId,
    client_secret: ClientSecret,
    /// The configured issuer and redirect URI, parsed once; a value that is
    /// not a URL fails every sign-in (logged) rather than the process start.
    urls: Result<(IssuerUrl, RedirectUrl), String>,
    timeouts: HttpTimeouts,
    http: OnceLock<reqwest::Client>,
    metadata: OnceCell<CoreProviderMetadata>,
    keys: KeyCache,
}

fn provider(what: &str, e: impl std::fmt::Display) -> AuthError {
    AuthError::Provider(format!("{what}: {e}"))
}

/// An error with its causes (the crate's errors say little at the top:
/// "Request failed").
fn chain(e: &dyn Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

impl Provider {
    pub(super) fn new(config: GoogleConfig) -> Self {
        let urls = IssuerUrl::new(config.issuer.trim_end_matches('/').to_owned())
            .map_err(|e| format!("GOOGLE_ISSUER {:?} is not a URL: {e}", config.issuer))
            .and_then(|issuer| {
                let redirect = RedirectUrl::new(config.redirect_uri.clone()).map_err(|e| {
                    format!(
                        "GOOGLE_REDIRECT_URI {:?} is not a URL: {e}",
                        config.redirect_uri
                    )
                })?;
                Ok((issuer, redirect))
            });
        if let Err(e) = &urls {
            tracing::error!(error = %e, "Google sign-in is misconfigured");
        }
        Self {
            client_id: ClientId::new(config.client_id),
            client_secret: config.client_secret,
            urls,
            timeouts: config.timeouts,
            http: OnceLock::new(),
            metadata: OnceCell::new(),
            keys: KeyCache::default(),
        }
    }

    fn urls(&self) -> Result<&(IssuerUrl, RedirectUrl), AuthError> {
        self.urls
            .as_ref()
            .map_err(|e| AuthError::Internal(e.clone()))
    }

    /// The one HTTP client for the provider, built on first use.
    /// - Timeouts on connecting and on the whole request, so a provider that
    ///   hangs costs a bounded wait and a 503.
    /// - No redirects: every URL comes from the discovery document, and
    ///   following redirects would let a response steer our requests
    ///   elsewhere (the crate's advice against SSRF).
    /// - No retries, not even reqwest's default retry of protocol-level
    ///   refusals: the authorization code is single use, so the token
    ///   exchange must be sent at most once; a failed sign-in is a 503 and
    ///   the user starts again. Discovery and keys are cached, so their
    ///   failures are retried by the next sign-in.
    fn http(&self) -> Result<&reqwest::Client, AuthError> {
        if let Some(client) = self.http.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .connect_timeout(self.timeouts.connect)
            .timeout(self.timeouts.total)
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .build()
            .map_err(|e| provider("http client", chain(&e)))?;
        // A concurrent first call may have set it meanwhile; either will do.
        Ok(self.http.get_or_init(|| client))
    }

    /// The discovery document (and, with it, the first keys), fetched on
    /// first use; a failure is not kept, so the next sign-in tries again.
    async fn metadata(&self, now: DateTime<Utc>) -> Result<&CoreProviderMetadata, AuthError> {
        self.metadata
            .get_or_try_init(|| async {
                let (issuer, _) = self.urls()?;
                let metadata = CoreProviderMetadata::discover_async(issuer.clone(), self.http()?)
                    .await
                    .map_err(|e| provider("discovery", chain(&e)))?;
                self.keys.seed(metadata.jwks().clone(), now).await;
                Ok(metadata)
            })
            .await
    }

    async fn fetch_keys(
        &self,
        metadata: &CoreProviderMetadata,
    ) -> Result<CoreJsonWebKeySet, AuthError> {
        CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), self.http()?)
            .await
            .map_err(|e| provider("jwks", chain(&e)))
    }

    /// The authorization URL of a new sign-in: `state` and `nonce` of 256
    /// random bits each, PKCE with S256, scopes `openid email profile`.
    pub(super) async fn authorize(&self, now: DateTime<Utc>) -> Result<Authorization, AuthError> {
        let metadata = self.metadata(now).await?;
        let (_, redirect) = self.urls()?;
        let client =
            CoreClient::from_provider_metadata(metadata.clone(), self.client_id.clone(), None)
                .set_redirect_uri(redirect.clone());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256_len(RANDOM_BYTES);
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                || CsrfToken::new_random_len(RANDOM_BYTES),
                || Nonce::new_random_len(RANDOM_BYTES),
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Authorization {
            url: url.into(),
            state,
            nonce,
            verifier,
        })
    }

    /// Exchanges the code (with the PKCE verifier and the client secret in
    /// the form body) for the ID token. Sent once: see [`Provider::http`].
    pub(super) async fn exchange(
        &self,
        code: String,
        verifier: PkceCodeVerifier,
        now: DateTime<Utc>,
    ) -> Result<CoreIdToken, AuthError> {
        let metadata = self.metadata(now).await?;
        let (_, redirect) = self.urls()?;
        let secret = self
            .client_secret
            .resolve()
            .await
            .map_err(|e| provider("cannot read the client secret", e))?;
        let client = CoreClient::from_provider_metadata(
            metadata.clone(),
            self.client_id.clone(),
            Some(openidconnect::ClientSecret::new(secret)),
        )
        .set_redirect_uri(redirect.clone())
        .set_auth_type(AuthType::RequestBody);
        let response = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| provider("discovery document", e))?
            .set_pkce_verifier(verifier)
            .request_async(self.http()?)
            .await
            .map_err(token_error)?;
        response
            .id_token()
            .cloned()
            .ok_or_else(|| provider("token response", "no id_token"))
    }

    /// Verifies the ID token: an RS256 signature by one of the provider's
    /// keys (fetched again once if the token names an unknown one), `iss`
    /// equal to the discovered issuer, `aud` containing our client id and
    /// no untrusted other audience, `exp` not passed (60 s leeway), and our
    /// `nonce`.
    pub(super) async fn verify(
        &self,
        token: &CoreIdToken,
        nonce: &Nonce,
        now: DateTime<Utc>,
    ) -> Result<CoreIdTokenClaims, AuthError> {
        let metadata = self.metadata(now).await?;
        let fetch = || self.fetch_keys(metadata);
        let keys = self.keys.get(now, Need::Verify, fetch).await?;
        let claims = match self.check(metadata, keys, token, nonce, now) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                let keys = self.keys.get(now, Need::UnknownKid, fetch).await?;
                self.check(metadata, keys, token, nonce, now)
            }
            checked => checked,
        };
        claims.map_err(|e| AuthError::IdentityRejected(format!("ID token: {e}")))
    }

    fn check(
        &self,
        metadata: &CoreProviderMetadata,
        keys: CoreJsonWebKeySet,
        token: &CoreIdToken,
        nonce: &Nonce,
        now: DateTime<Utc>,
    ) -> Result<CoreIdTokenClaims, ClaimsVerificationError> {
        // Built without the client secret, so a token MACed with it (HS256)
        // is refused: only the provider's published keys sign.
        let verifier = CoreIdTokenVerifier::new_public_client(
            self.client_id.clone(),
            metadata.issuer().clone(),
            keys,
        )
        .set_allowed_algs([CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256])
        .set_time_fn(move || now - LEEWAY);
        token.claims(&verifier, nonce).cloned()
    }
}

/// How a failed code exchange answers:
/// - the provider refused the request with a standard OAuth error
///   (`invalid_grant`: spent, expired or foreign code, PKCE mismatch; or our
///   own `invalid_client`, logged as such): 400, start again;
/// - the provider answered with an ID token that does not parse (claims
///   missing or malformed, an unknown `alg`, an `iss` that is not a URL):
///   401, the identity is refused;
/// - anything else (unreachable, timeout, 5xx, a body that is not OAuth):
///   503.
fn token_error<RE: Error + 'static>(
    e: RequestTokenError<RE, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
) -> AuthError {
    match e {
        RequestTokenError::ServerResponse(refusal) => match refusal.error() {
            CoreErrorResponseType::Extension(_) => provider("token endpoint", refusal),
            kind => {
                if matches!(
                    kind,
                    CoreErrorResponseType::InvalidClient
                        | CoreErrorResponseType::UnauthorizedClient
                ) {
                    tracing::error!(error = %refusal, "token endpoint refused our client credentials");
                } else {
                    tracing::info!(error = %refusal, "token endpoint refused the code");
                }
                AuthError::CodeRejected
            }
        },
        RequestTokenError::Parse(e, body) => match unparseable_id_token(&body) {
            Some(why) => AuthError::IdentityRejected(format!("ID token: {why}")),
            None => provider("token response", chain(&e)),
        },
        other => provider("token endpoint", chain(&other)),
    }
}

/// Why the response's `id_token` does not parse, when that is why the
/// response did not (the crate parses the token with the response, and its
/// error does not say which field failed).
fn unparseable_id_token(body: &[u8]) -> Option<String> {
    let response: serde_json::Value = serde_json::from_slice(body).ok()?;
    let token = response.get("id_token")?.clone();
    serde_json::from_value::<CoreIdToken>(token)
        .err()
        .map(|e| e.to_string())
}
