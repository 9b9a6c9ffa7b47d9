//! The provider's signing keys (its JWKS), cached for the process. They come
//! with discovery, are fetched again when older than an hour (so a key the
//! provider withdrew stops being trusted), and when an ID token names a key
//! we do not have (the provider rotated) — but at most once a minute for
//! that, so tokens with made-up `kid`s cannot make us hammer the provider.
//!
//! Times come from the request's clock, so the rules are testable.

use crate::AuthError;
use chrono::{DateTime, Duration, Utc};
use openidconnect::core::CoreJsonWebKeySet;
use std::future::Future;
use tokio::sync::Mutex;

/// Keys older than this are fetched again before use.
pub(super) const MAX_AGE: Duration = Duration::hours(1);
/// An unknown `kid` fetches the keys again only if they are at least this old.
pub(super) const MIN_REFETCH: Duration = Duration::seconds(60);

/// Why the keys are wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Need {
    /// To verify a token.
    Verify,
    /// The token's key was not among them.
    UnknownKid,
}

/// Whether keys fetched at `fetched` (never: `None`) must be fetched again.
pub(super) fn must_fetch(fetched: Option<DateTime<Utc>>, now: DateTime<Utc>, need: Need) -> bool {
    let Some(fetched) = fetched else {
        return true;
    };
    let age = now - fetched;
    age > MAX_AGE || (need == Need::UnknownKid && age >= MIN_REFETCH)
}

struct Cached {
    keys: CoreJsonWebKeySet,
    fetched: DateTime<Utc>,
}

#[derive(Default)]
pub(super) struct KeyCache(Mutex<Option<Cached>>);

impl KeyCache {
    /// Keeps the keys that came with discovery.
    pub(super) async fn seed(&self, keys: CoreJsonWebKeySet, now: DateTime<Utc>) {
        *self.0.lock().await = Some(Cached { keys, fetched: now });
    }

    /// The keys to verify with, fetched with `fetch` when [`must_fetch`]
    /// says so. The lock is held while fetching: concurrent callers wait
    /// for that one fetch and use its result instead of fetching again.
    pub(super) async fn get<F, Fut>(
        &self,
        now: DateTime<Utc>,
        need: Need,
        fetch: F,
    ) -> Result<CoreJsonWebKeySet, AuthError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<CoreJsonWebKeySet, AuthError>>,
    {
        let mut cache = self.0.lock().await;
        if !must_fetch(cache.as_ref().map(|c| c.fetched), now, need) {
            if let Some(cached) = cache.as_ref() {
                return Ok(cached.keys.clone());
            }
        }
        let keys = fetch().await?;
        *cache = Some(Cached {
            keys: keys.clone(),
            fetched: now,
        });
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_fetched_when_missing_old_or_missing_a_kid_once_a_minute() {
        let t0 = Utc::now();
        assert!(must_fetch(None, t0, Need::Verify));
        assert!(!must_fetch(Some(t0), t0, Need::Verify));
        assert!(!must_fetch(Some(t0), t0 + MAX_AGE, Need::Verify));
        assert!(must_fetch(
            Some(t0),
            t0 + MAX_AGE + Duration::seconds(1),
            Need::Verify
        ));
        // An unknown kid right after a fetch: no second fetch yet.
        assert!(!must_fetch(
            Some(t0),
            t0 + Duration::seconds(59),
            Need::UnknownKid
        ));
        assert!(must_fetch(Some(t0), t0 + MIN_REFETCH, Need::UnknownKid));
    }
}
