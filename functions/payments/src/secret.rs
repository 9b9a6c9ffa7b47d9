//! The webhook signing secret. Its value never reaches a log: `Debug`
//! prints a placeholder, and only the signature module reads the bytes.
//!
//! On Lambda the value lives in Secrets Manager and is fetched on first use
//! ([`WebhookSecret::lazy`]), so init stays free of network calls and the
//! routes that never sign or verify never fetch it.

use futures::future::BoxFuture;
use std::fmt;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Shorter secrets are refused: an HMAC key should be hard to guess.
pub const MIN_SECRET_BYTES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the webhook secret must be at least {MIN_SECRET_BYTES} bytes")]
    TooShort,
    #[error("the webhook secret cannot be loaded: {0}")]
    Unavailable(String),
}

/// The secret's bytes (the HMAC key). Surrounding whitespace is trimmed
/// (a secret read from a file or a console often ends in a newline).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Arc<[u8]>);

impl SecretKey {
    pub fn parse(value: &str) -> Result<Self, SecretError> {
        let value = value.trim();
        if value.len() < MIN_SECRET_BYTES {
            return Err(SecretError::TooShort);
        }
        Ok(Self(Arc::from(value.as_bytes())))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

type Loader = Arc<dyn Fn() -> BoxFuture<'static, Result<String, String>> + Send + Sync>;

/// The webhook secret as the service holds it: known at start (local API,
/// tests) or loaded once on first use (Lambda). Clones share the value.
#[derive(Clone)]
pub struct WebhookSecret {
    cell: Arc<OnceCell<SecretKey>>,
    load: Loader,
}

impl WebhookSecret {
    /// A secret known now.
    pub fn new(value: impl AsRef<str>) -> Result<Self, SecretError> {
        let key = SecretKey::parse(value.as_ref())?;
        Ok(Self {
            cell: Arc::new(OnceCell::new_with(Some(key))),
            load: Arc::new(|| Box::pin(async { Err("already loaded".to_owned()) })),
        })
    }

    /// A secret fetched by `load` on first use; a failed load is tried
    /// again on the next use.
    pub fn lazy(
        load: impl Fn() -> BoxFuture<'static, Result<String, String>> + Send + Sync + 'static,
    ) -> Self {
        Self {
            cell: Arc::new(OnceCell::new()),
            load: Arc::new(load),
        }
    }

    pub async fn key(&self) -> Result<&SecretKey, SecretError> {
        self.cell
            .get_or_try_init(|| async {
                let value = (self.load)().await.map_err(SecretError::Unavailable)?;
                SecretKey::parse(&value)
            })
            .await
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn never_prints_its_value() {
        let s = WebhookSecret::new("whsec_do_not_print_me_0123").unwrap();
        assert!(!format!("{s:?}").contains("do_not_print"));
        assert!(!format!("{:?}", s.key().await.unwrap()).contains("do_not_print"));
    }

    #[tokio::test]
    async fn refuses_short_secrets_and_trims() {
        assert_eq!(
            WebhookSecret::new("  short \n").unwrap_err(),
            SecretError::TooShort
        );
        let s = WebhookSecret::new("whsec_0123456789abcdef\n").unwrap();
        assert_eq!(s.key().await.unwrap().bytes(), b"whsec_0123456789abcdef");
    }

    #[tokio::test]
    async fn lazy_secrets_load_once_and_retry_failures() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let s = WebhookSecret::lazy(move || {
            let n = c.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if n == 0 {
                    Err("secrets manager is down".to_owned())
                } else {
                    Ok("whsec_loaded_0123456789".to_owned())
                }
            })
        });
        assert!(matches!(s.key().await, Err(SecretError::Unavailable(_))));
        assert_eq!(s.key().await.unwrap().bytes(), b"whsec_loaded_0123456789");
        s.clone().key().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
