//! Login sessions and their refresh tokens.
//!
//! A login (sign-up, password login, Google sign-in) opens a session; every
//! access token carries its id (`sid`) and every refresh token belongs to
//! it (the session is the refresh-token *family*). Refresh tokens are 32
//! random bytes (base64url), stored only as SHA-256 hex, and rotated on
//! every use: the old one is marked spent with a condition in the same
//! transaction that writes the new one, so two concurrent refreshes with one
//! token cannot both succeed. Presenting a spent token is reuse (a stolen
//! token, or a client that lost a race): the whole session is revoked.
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | session | `SESSION#<sid>` | `SESSION` | `userId`, `revoked`, `method`, `createdAt`, `lastRefreshedAt`, `expiresAt` (TTL: last refresh + 30 days) |
//! | refresh token | `REFRESH#<sha256 hex>` | `REFRESH` | `userId`, `sessionId`, `spent`, `createdAt`, `expiresAt` (TTL: issue + 30 days) |

use crate::domain::{SessionId, UserId};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use lite_core::{rfc3339, Ids};
use lite_store::{attr, Condition, Item, Key, Store, StoreError, TxOp, Update};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// How long a refresh token (and an idle session) lives.
pub const REFRESH_TTL: Duration = Duration::days(30);

pub fn session_key(sid: &SessionId) -> Key {
    auth_guard::session_key(sid.as_str())
}

pub fn refresh_key(hash: &str) -> Key {
    Key::new(format!("REFRESH#{hash}"), "REFRESH")
}

/// A refresh token as the client holds it.
pub struct RefreshToken(String);

impl RefreshToken {
    fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A presented token; `None` unless it has the shape we issue (so junk
    /// never reaches the store).
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() == 43 && URL_SAFE_NO_PAD.decode(raw).is_ok_and(|b| b.len() == 32);
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the table keeps: SHA-256 hex. A leaked table yields no usable
    /// token, and 256 random bits need no salt or slow hash.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

/// How the session was opened (kept for audit and support).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Password,
    Google,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Password => "password",
            Method::Google => "google",
        }
    }
}

/// A session about to be opened: its id, its first refresh token and the
/// ops that write both (to go into the caller's transaction).
pub struct NewSession {
    pub sid: SessionId,
    pub refresh: RefreshToken,
    pub ops: Vec<TxOp>,
}

pub fn open(ids: &dyn Ids, user: &UserId, method: Method, now: DateTime<Utc>) -> NewSession {
    let sid = SessionId::generate(ids);
    let refresh = RefreshToken::generate();
    let expires = (now + REFRESH_TTL).timestamp();
    let mut session = session_key(&sid).to_item();
    session.insert("entity".into(), "session".into());
    session.insert("userId".into(), user.as_str().into());
    session.insert("revoked".into(), false.into());
    session.insert("method".into(), method.as_str().into());
    session.insert("createdAt".into(), rfc3339(now).into());
    session.insert("lastRefreshedAt".into(), rfc3339(now).into());
    session.insert(attr::EXPIRES_AT.into(), expires.into());
    let ops = vec![
        TxOp::put(session).when(Condition::NotExists),
        TxOp::put(refresh_item(&refresh, user, &sid, now)).when(Condition::NotExists),
    ];
    NewSession { sid, refresh, ops }
}

fn refresh_item(token: &RefreshToken, user: &UserId, sid: &SessionId, now: DateTime<Utc>) -> Item {
    let mut item = refresh_key(&token.hash()).to_item();
    item.insert("entity".into(), "refreshToken".into());
    item.insert("userId".into(), user.as_str().into());
    item.insert("sessionId".into(), sid.as_str().into());
    item.insert("spent".into(), false.into());
    item.insert("createdAt".into(), rfc3339(now).into());
    item.insert(
        attr::EXPIRES_AT.into(),
        (now + REFRESH_TTL).timestamp().into(),
    );
    item
}

/// A stored refresh token, as read back.
pub struct StoredRefresh {
    pub user: UserId,
    pub sid: SessionId,
    pub spent: bool,
    pub expires_at: i64,
}

pub async fn find_refresh(
    store: &dyn Store,
    token: &RefreshToken,
) -> Result<Option<StoredRefresh>, StoreError> {
    let Some(item) = store.get(&refresh_key(&token.hash())).await? else {
        return Ok(None);
    };
    let s = |n: &str| item.get(n).and_then(|v| v.as_str());
    let parsed = (|| {
        Some(StoredRefresh {
            user: UserId::parse(s("userId")?)?,
            sid: SessionId::parse(s("sessionId")?)?,
            spent: item.get("spent").and_then(|v| v.as_bool()).unwrap_or(true),
            expires_at: item.get(attr::EXPIRES_AT).and_then(|v| v.as_i64())?,
        })
    })();
    parsed
        .map(Some)
        .ok_or_else(|| StoreError::Invalid("a refresh-token item does not parse".into()))
}

/// Whether the session item says live for `user` at `now`.
fn is_live_item(item: &Item, user: &str, now: DateTime<Utc>) -> bool {
    auth_guard::is_live_session(item, user, now.timestamp())
}

pub async fn is_live(
    store: &dyn Store,
    sid: &SessionId,
    user: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(store
        .get(&session_key(sid))
        .await?
        .is_some_and(|item| is_live_item(&item, user, now)))
}

/// The name, in [`rotate`], of the op that spends the old refresh token.
pub const SPEND_OP: &str = "spend-refresh-token";
/// The name, in [`rotate`], of the op that extends the live session.
pub const SESSION_OP: &str = "session";

/// The ops of one rotation: spend `old` (only if still unspent and of this
/// session), write `new`, extend the session (only if not revoked). The
/// [`SPEND_OP`] failing means the token was spent concurrently; the
/// session's, that the session was revoked.
pub fn rotate(
    old: &RefreshToken,
    new: &RefreshToken,
    user: &UserId,
    sid: &SessionId,
    now: DateTime<Utc>,
) -> Vec<TxOp> {
    vec![
        TxOp::update(
            refresh_key(&old.hash()),
            vec![
                Update::set("spent", true),
                Update::set("spentAt", rfc3339(now)),
            ],
        )
        .when(Condition::eq("spent", false).and(Condition::eq("sessionId", sid.as_str())))
        .named(SPEND_OP),
        TxOp::put(refresh_item(new, user, sid, now)).when(Condition::NotExists),
        TxOp::update(
            session_key(sid),
            vec![
                Update::set("lastRefreshedAt", rfc3339(now)),
                Update::set(attr::EXPIRES_AT, (now + REFRESH_TTL).timestamp()),
            ],
        )
        .when(Condition::eq("revoked", false).and(Condition::eq("userId", user.as_str())))
        .named(SESSION_OP),
    ]
}

pub fn new_refresh_token() -> RefreshToken {
    RefreshToken::generate()
}

/// Revokes the session: every access token naming it and every refresh
/// token of it are refused from now on. Revoking an absent or revoked
/// session does nothing.
pub async fn revoke(
    store: &dyn Store,
    sid: &SessionId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let result = store
        .update(
            &session_key(sid),
            &[
                Update::set("revoked", true),
                Update::set("revokedAt", rfc3339(now)),
                Update::set("revokedReason", reason),
            ],
            Some(Condition::eq("revoked", false)),
        )
        .await;
    match result {
        Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Marks `token` spent if it belongs to `sid` (logout); any other token is
/// left alone.
pub async fn spend(
    store: &dyn Store,
    token: &RefreshToken,
    sid: &SessionId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let result = store
        .update(
            &refresh_key(&token.hash()),
            &[
                Update::set("spent", true),
                Update::set("spentAt", rfc3339(now)),
            ],
            Some(Condition::Exists.and(Condition::eq("sessionId", sid.as_str()))),
        )
        .await;
    match result {
        Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_256_bit_base64url_stored_as_sha256() {
        let t = RefreshToken::generate();
        assert_eq!(t.as_str().len(), 43);
        assert!(RefreshToken::parse(t.as_str()).is_some());
        assert_eq!(t.hash().len(), 64);
        assert_ne!(t.hash(), RefreshToken::generate().hash());
        for bad in ["", "short", &"!".repeat(43), &"A".repeat(44)] {
            assert!(RefreshToken::parse(bad).is_none(), "{bad}");
        }
    }
}
