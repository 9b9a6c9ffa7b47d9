//! The pending sign-in: what `start` must remember for `callback` (the
//! nonce and the PKCE verifier), keyed by the `state` sent through the
//! browser, and taken back exactly once (item layout in the parent
//! module's docs).

use crate::AuthError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use lite_core::rfc3339;
use lite_store::{attr, Condition, Key, Store, StoreError};
use openidconnect::{CsrfToken, Nonce, PkceCodeVerifier};

/// How long a started sign-in may take to come back.
pub const PENDING_TTL: Duration = Duration::minutes(10);

/// Bytes of randomness in `state`, `nonce` and the PKCE verifier (each
/// 43 base64url characters).
pub(super) const RANDOM_BYTES: u32 = 32;

/// A `state` as it comes back from the browser, checked for the shape we
/// issue before it reaches the table.
pub(super) struct State(String);

impl State {
    pub(super) fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() == 43 && URL_SAFE_NO_PAD.decode(raw).is_ok_and(|b| b.len() == 32);
        ok.then(|| Self(raw.to_owned()))
    }
}

/// What `callback` needs to finish a sign-in.
pub(super) struct Pending {
    pub nonce: Nonce,
    pub verifier: PkceCodeVerifier,
}

fn key(state: &str) -> Key {
    Key::new(format!("OIDC#{state}"), "OIDC")
}

/// Records a started sign-in under its `state`.
pub(super) async fn put(
    store: &dyn Store,
    state: &CsrfToken,
    nonce: &Nonce,
    verifier: &PkceCodeVerifier,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let mut item = key(state.secret()).to_item();
    item.insert("entity".into(), "oidcPending".into());
    item.insert("nonce".into(), nonce.secret().clone().into());
    item.insert("verifier".into(), verifier.secret().clone().into());
    item.insert("createdAt".into(), rfc3339(now).into());
    item.insert(
        attr::EXPIRES_AT.into(),
        (now + PENDING_TTL).timestamp().into(),
    );
    store.put(item, Some(Condition::NotExists)).await?;
    Ok(())
}

/// Takes the sign-in started with `state` out of the table: a conditional
/// delete, so of two callbacks carrying one state exactly one gets it. An
/// expired one is gone too (the table's TTL deletes late, so the time is
/// checked here).
pub(super) async fn take(
    store: &dyn Store,
    state: &State,
    now: DateTime<Utc>,
) -> Result<Pending, AuthError> {
    let item = match store.delete(&key(&state.0), Some(Condition::Exists)).await {
        Ok(Some(item)) => item,
        Ok(None) | Err(StoreError::ConditionFailed) => {
            return Err(AuthError::BadState(
                "The sign-in state is unknown or was already used; start again.",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let expired = item
        .get(attr::EXPIRES_AT)
        .and_then(|v| v.as_i64())
        .is_none_or(|t| t <= now.timestamp());
    if expired {
        return Err(AuthError::BadState(
            "The sign-in took too long; start again.",
        ));
    }
    let field = |n: &str| item.get(n).and_then(|v| v.as_str()).map(str::to_owned);
    match (field("nonce"), field("verifier")) {
        (Some(nonce), Some(verifier)) => Ok(Pending {
            nonce: Nonce::new(nonce),
            verifier: PkceCodeVerifier::new(verifier),
        }),
        _ => Err(AuthError::Internal(
            "a pending sign-in item does not parse".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_has_the_shape_we_issue() {
        let issued = CsrfToken::new_random_len(RANDOM_BYTES);
        assert!(State::parse(issued.secret()).is_some());
        for bad in ["", "x", &"a".repeat(44), &"!".repeat(43)] {
            assert!(State::parse(bad).is_none(), "{bad:?}");
        }
    }
}
