//! The part of the auth service every other service runs: checking that a
//! token's login session is still live, and learning signing keys the
//! verifier was not configured with. It is its own crate so services can
//! depend on it without depending on the whole auth service (which itself
//! depends on `users`).
//!
//! Keys of `SESSION#` and `SIGNKEY#` items are built here and only here;
//! the auth service writes them through these functions.

use futures::future::BoxFuture;
use lite_core::Clock;
use lite_http::auth::KeySource;
use lite_http::{Claims, SessionGuard, TokenVerifier};
use lite_ports::Context;
use lite_store::{attr, Item, Key, Store};
use std::sync::Arc;

/// The session item of `sid` (`sid` as it appears in tokens: `ses_<ULID>`).
pub fn session_key(sid: &str) -> Key {
    Key::new(format!("SESSION#{sid}"), "SESSION")
}

/// The published public key item of `kid`.
pub fn signkey_key(kid: &str) -> Key {
    Key::new(format!("SIGNKEY#{kid}"), "SIGNKEY")
}

fn unexpired(item: &Item, now_secs: i64) -> bool {
    item.get(attr::EXPIRES_AT)
        .and_then(|v| v.as_i64())
        .is_some_and(|t| t > now_secs)
}

/// A session item is live when it is not revoked, belongs to `user` and
/// has not expired (TTL deletion lags, so expiry is checked here).
pub fn is_live_session(item: &Item, user: &str, now_secs: i64) -> bool {
    item.get("revoked").and_then(|v| v.as_bool()) == Some(false)
        && item.get("userId").and_then(|v| v.as_str()) == Some(user)
        && unexpired(item, now_secs)
}

/// The session guard: one strongly consistent read of `SESSION#<sid>` per
/// authenticated request (one GetItem, ~1 RCU, on DynamoDB; one redb read
/// locally). Nothing is cached, so a logout takes effect on the next request.
pub struct Sessions {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Sessions {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }
}

impl SessionGuard for Sessions {
    fn is_live<'a>(&'a self, claims: &'a Claims) -> BoxFuture<'a, Result<bool, String>> {
        Box::pin(async move {
            if !claims.sid.starts_with("ses_") {
                return Ok(false);
            }
            let item = self
                .store
                .get(&session_key(&claims.sid))
                .await
                .map_err(|e| e.to_string())?;
            Ok(
                item.is_some_and(|i| {
                    is_live_session(&i, &claims.sub, self.clock.now().timestamp())
                }),
            )
        })
    }
}

/// Learns verifying keys from the `SIGNKEY#<kid>` items the auth service
/// publishes (the verifier caches what it learns).
pub struct PublishedKeys {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl PublishedKeys {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }
}

impl KeySource for PublishedKeys {
    fn public_key<'a>(&'a self, kid: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, String>> {
        Box::pin(async move {
            let item = self
                .store
                .get(&signkey_key(kid))
                .await
                .map_err(|e| e.to_string())?;
            let now = self.clock.now().timestamp();
            Ok(item.filter(|i| unexpired(i, now)).and_then(|i| {
                i.get("publicKeyPem")
                    .and_then(|v| v.as_str())
                    .map(|s| s.as_bytes().to_vec())
            }))
        })
    }
}

/// Completes a verifier the way every service needs it: revoked sessions
/// are refused and kids it was not configured with are learned from the
/// published keys. Call it wherever a verifier is built.
pub fn protect(ctx: &Context, verifier: &mut TokenVerifier) {
    verifier.set_session_guard(Arc::new(Sessions::new(
        ctx.store.clone(),
        ctx.clock.clone(),
    )));
    verifier.set_key_source(Arc::new(PublishedKeys::new(
        ctx.store.clone(),
        ctx.clock.clone(),
    )));
}
