//! The caller's network address, for per-address rate limits.
//!
//! In order:
//! 1. `X-Shop-Client-Ip`, only when the request also carries the shop's
//!    proxy secret in `X-Shop-Proxy-Secret` (compared in constant time with
//!    [`SHOP_PROXY_SECRET_ENV`], or a [`TrustedProxy`] extension). The shop's
//!    server calls the API for every shopper; without this, sign-up and
//!    failed-login limits per address would count the whole shop as one
//!    caller. A missing or wrong secret, or an unparsable address, and the
//!    header is ignored.
//! 2. On Lambda, the [`ClientIp`] extension the runtime layer inserts from
//!    API Gateway's `requestContext.http.sourceIp`.
//! 3. Locally, the TCP peer address.
//!
//! Ordinary forwarding headers (`X-Forwarded-For`, `Forwarded`) are never
//! trusted: any client can set them.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use std::convert::Infallible;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use subtle::ConstantTimeEq;

/// The shopper's address, as the shop's server saw it.
pub const SHOP_CLIENT_IP_HEADER: &str = "x-shop-client-ip";
/// The secret the shop's server proves itself with.
pub const SHOP_PROXY_SECRET_HEADER: &str = "x-shop-proxy-secret";
/// Where the API (and the shop) read the shared secret from. Unset: no
/// proxy is trusted.
pub const SHOP_PROXY_SECRET_ENV: &str = "AMAZON_LITE_SHOP_PROXY_SECRET";
/// A shorter secret is refused: it would be guessable.
pub const MIN_SECRET_LEN: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    /// A stable string for keys and logs (`unknown` when not known).
    pub fn key(&self) -> String {
        self.0
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    }
}

/// The proxy whose `X-Shop-Client-Ip` is believed: whoever presents its
/// secret. Insert it as a request extension to override the environment
/// (tests); otherwise [`SHOP_PROXY_SECRET_ENV`] is read once per process.
#[derive(Clone)]
pub struct TrustedProxy {
    secret: Arc<[u8]>,
}

/// Why a proxy secret was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{SHOP_PROXY_SECRET_ENV} must be at least {MIN_SECRET_LEN} characters (it has {0})")]
pub struct SecretTooShort(pub usize);

impl TrustedProxy {
    pub fn new(secret: &str) -> Result<Self, SecretTooShort> {
        let secret = secret.trim();
        if secret.len() < MIN_SECRET_LEN {
            return Err(SecretTooShort(secret.len()));
        }
        Ok(Self {
            secret: secret.as_bytes().into(),
        })
    }

    /// From [`SHOP_PROXY_SECRET_ENV`]: `Ok(None)` when unset or empty.
    pub fn from_env() -> Result<Option<Self>, SecretTooShort> {
        lite_core::config::optional(SHOP_PROXY_SECRET_ENV)
            .filter(|s| !s.trim().is_empty())
            .map(|s| Self::new(&s))
            .transpose()
    }

    /// The process's proxy, from the environment on first use. A secret
    /// that is too short is logged and trusts nobody (the API still serves,
    /// keyed on the direct caller).
    pub fn configured() -> Option<&'static TrustedProxy> {
        static CONFIGURED: OnceLock<Option<TrustedProxy>> = OnceLock::new();
        CONFIGURED
            .get_or_init(|| {
                Self::from_env().unwrap_or_else(|e| {
                    tracing::error!(error = %e, "the shop proxy secret is refused; forwarded client addresses are ignored");
                    None
                })
            })
            .as_ref()
    }

    /// The forwarded address, when `headers` carry this proxy's secret and
    /// a well-formed address.
    pub fn forwarded(&self, headers: &HeaderMap) -> Option<IpAddr> {
        let presented = headers.get(SHOP_PROXY_SECRET_HEADER)?.as_bytes();
        // Constant time in the secret's bytes: a wrong guess learns nothing
        // from how long the comparison took (only the length may differ).
        if !bool::from(presented.ct_eq(&self.secret)) {
            return None;
        }
        headers
            .get(SHOP_CLIENT_IP_HEADER)?
            .to_str()
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl fmt::Debug for TrustedProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TrustedProxy(<secret>)")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let proxy: Option<&TrustedProxy> = match parts.extensions.get::<TrustedProxy>() {
            Some(p) => Some(p),
            None => TrustedProxy::configured(),
        };
        if let Some(ip) = proxy.and_then(|p| p.forwarded(&parts.headers)) {
            return Ok(ClientIp(Some(ip)));
        }
        if let Some(ip) = parts.extensions.get::<ClientIp>() {
            return Ok(*ip);
        }
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestClient;
    use axum::routing::get;
    use axum::{Extension, Router};

    const SECRET: &str = "0123456789abcdef0123456789abcdef-shop";

    /// A router answering the address its `ClientIp` extractor found; the
    /// direct caller is 10.0.0.1 (as on Lambda, from the runtime layer).
    fn client(proxy: Option<TrustedProxy>) -> TestClient {
        let mut router = Router::new()
            .route("/ip", get(|ip: ClientIp| async move { ip.key() }))
            .layer(axum::middleware::from_fn(
                |mut req: axum::extract::Request, next: axum::middleware::Next| async move {
                    req.extensions_mut()
                        .insert(ClientIp(Some("10.0.0.1".parse().unwrap())));
                    next.run(req).await
                },
            ));
        if let Some(p) = proxy {
            router = router.layer(Extension(p));
        }
        TestClient::new(router)
    }

    async fn ip(c: &TestClient, headers: &[(&str, &str)]) -> String {
        let mut req = c.get("/ip");
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let res = req.send().await;
        assert_eq!(res.status, 200);
        res.json.as_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn the_forwarded_address_counts_only_with_the_right_secret() {
        let c = client(Some(TrustedProxy::new(SECRET).unwrap()));
        let forwarded = [
            (SHOP_CLIENT_IP_HEADER, "203.0.113.7"),
            (SHOP_PROXY_SECRET_HEADER, SECRET),
        ];
        assert_eq!(ip(&c, &forwarded).await, "203.0.113.7");
        assert_eq!(
            ip(
                &c,
                &[
                    (SHOP_CLIENT_IP_HEADER, "2001:db8::7"),
                    (SHOP_PROXY_SECRET_HEADER, SECRET)
                ]
            )
            .await,
            "2001:db8::7"
        );
        // Wrong, truncated, extended or absent secret: the direct caller.
        let wrong = SECRET.replace('0', "1");
        let longer = format!("{SECRET}x");
        for secret in [wrong.as_str(), &SECRET[..SECRET.len() - 1], &longer, ""] {
            let headers = [
                (SHOP_CLIENT_IP_HEADER, "203.0.113.7"),
                (SHOP_PROXY_SECRET_HEADER, secret),
            ];
            assert_eq!(ip(&c, &headers).await, "10.0.0.1", "secret {secret:?}");
        }
        assert_eq!(
            ip(&c, &[(SHOP_CLIENT_IP_HEADER, "203.0.113.7")]).await,
            "10.0.0.1"
        );
        // The right secret with a malformed address: the direct caller.
        for bad in [
            "not-an-ip",
            "203.0.113.7, 198.51.100.1",
            "203.0.113.7:443",
            "",
        ] {
            let headers = [
                (SHOP_CLIENT_IP_HEADER, bad),
                (SHOP_PROXY_SECRET_HEADER, SECRET),
            ];
            assert_eq!(ip(&c, &headers).await, "10.0.0.1", "address {bad:?}");
        }
        // Ordinary forwarding headers are not believed.
        let xff = [
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=203.0.113.9"),
        ];
        assert_eq!(ip(&c, &xff).await, "10.0.0.1");
    }

    #[tokio::test]
    async fn without_a_trusted_proxy_the_header_is_ignored() {
        // No extension, and the test process has no secret in its environment.
        assert!(std::env::var(SHOP_PROXY_SECRET_ENV).is_err());
        let c = client(None);
        let headers = [
            (SHOP_CLIENT_IP_HEADER, "203.0.113.7"),
            (SHOP_PROXY_SECRET_HEADER, SECRET),
        ];
        assert_eq!(ip(&c, &headers).await, "10.0.0.1");
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert_eq!(
            TrustedProxy::new("short").unwrap_err(),
            SecretTooShort("short".len())
        );
        assert!(TrustedProxy::new(&"x".repeat(MIN_SECRET_LEN)).is_ok());
        assert!(!format!("{:?}", TrustedProxy::new(SECRET).unwrap()).contains("0123"));
    }
}
