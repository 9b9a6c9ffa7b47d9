//! `Idempotency-Key` for `POST /v1/orders`: the saved response is written
//! in the same transaction as the order it describes, so a retried request
//! either finds the whole outcome or nothing at all.
//!
//! Record: `PK = IDEMKEY#<userId>#<sha256(key)>`, `SK = IDEMKEY`, with the
//! request's hash, the response (status, body, Location) and `expiresAt`
//! (24 hours; an expired record that lingers counts as absent). Keys are
//! per user: two shoppers may use the same key.

use crate::OrdersError;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use lite_core::Problem;
use lite_store::{attr, Condition, Item, Key, Store, StoreError, TxOp};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub const HEADER: &str = "idempotency-key";
/// How long a key's response is kept.
pub const RETENTION_SECS: i64 = 24 * 60 * 60;

/// A client's `Idempotency-Key`: 1..=255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, OrdersError> {
        let field = |m: &str| OrdersError::Invalid(Problem::field("Idempotency-Key", m));
        let raw = headers
            .get(HEADER)
            .ok_or_else(|| field("this header is required: a unique key per order attempt (e.g. a UUID), reused only to retry the same request"))?;
        let raw = raw
            .to_str()
            .map_err(|_| field("must be visible ASCII characters"))?;
        if raw.is_empty() || raw.len() > 255 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(field("must be 1 to 255 visible ASCII characters"));
        }
        Ok(Self(raw.to_owned()))
    }
}

/// A stable hash of what the request asked for (the parsed body is
/// re-serialized, so whitespace and key order do not matter).
pub fn request_hash(body: &impl Serialize) -> String {
    let canonical = serde_json::to_vec(body).unwrap_or_default();
    hex::encode(Sha256::digest(canonical))
}

pub fn key(user_id: &str, key: &IdempotencyKey) -> Key {
    let digest = hex::encode(Sha256::digest(key.0.as_bytes()));
    Key::new(format!("IDEMKEY#{user_id}#{digest}"), "IDEMKEY")
}

/// A response saved under a key.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    pub request_hash: String,
    pub status: u16,
    pub body: serde_json::Value,
    pub location: Option<String>,
}

impl Saved {
    /// The saved response for the same request (marked
    /// `Idempotent-Replayed: true`); 409 for another one.
    pub fn replay(&self, request_hash: &str) -> Result<Response, OrdersError> {
        if self.request_hash != request_hash {
            return Err(OrdersError::IdempotencyConflict);
        }
        let mut response = self.respond();
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        Ok(response)
    }

    /// The response itself.
    pub fn respond(&self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut response = (status, axum::Json(self.body.clone())).into_response();
        if let Some(location) = &self.location {
            if let Ok(v) = HeaderValue::from_str(location) {
                response
                    .headers_mut()
                    .insert(axum::http::header::LOCATION, v);
            }
        }
        response
    }
}

pub async fn lookup(
    store: &dyn Store,
    now: DateTime<Utc>,
    user_id: &str,
    idem: &IdempotencyKey,
) -> Result<Option<Saved>, StoreError> {
    let Some(item) = store.get(&key(user_id, idem)).await? else {
        return Ok(None);
    };
    if item
        .get(attr::EXPIRES_AT)
        .and_then(|v| v.as_i64())
        .is_some_and(|t| t <= now.timestamp())
    {
        return Ok(None);
    }
    let text = |name: &str| item.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    Ok(Some(Saved {
        request_hash: text("requestHash").unwrap_or_default(),
        status: item.get("status").and_then(|v| v.as_u64()).unwrap_or(200) as u16,
        body: item.get("body").cloned().unwrap_or_default(),
        location: text("location"),
    }))
}

/// The name of the op [`save`] makes.
pub const OP_NAME: &str = "idempotency-key";

/// The op that saves `saved` under the key (refused while an unexpired
/// record holds it).
pub fn save(user_id: &str, idem: &IdempotencyKey, saved: &Saved, now: DateTime<Utc>) -> TxOp {
    let k = key(user_id, idem);
    let mut item: Item = k.to_item();
    item.insert("entity".into(), "idempotencyKey".into());
    item.insert("requestHash".into(), saved.request_hash.clone().into());
    item.insert("status".into(), saved.status.into());
    item.insert("body".into(), saved.body.clone());
    if let Some(l) = &saved.location {
        item.insert("location".into(), l.clone().into());
    }
    item.insert(
        attr::EXPIRES_AT.into(),
        (now.timestamp() + RETENTION_SECS).into(),
    );
    TxOp::put(item)
        .when(Condition::Or(vec![
            Condition::NotExists,
            Condition::le(attr::EXPIRES_AT, now.timestamp()),
        ]))
        .named(OP_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_header_is_required_and_bounded() {
        let mut h = HeaderMap::new();
        assert!(IdempotencyKey::from_headers(&h).is_err());
        h.insert(HEADER, HeaderValue::from_static("a b"));
        assert!(IdempotencyKey::from_headers(&h).is_err());
        h.insert(HEADER, HeaderValue::from_str(&"k".repeat(256)).unwrap());
        assert!(IdempotencyKey::from_headers(&h).is_err());
        h.insert(HEADER, HeaderValue::from_static("3f6c0e8e-7f8a-4d1e"));
        assert!(IdempotencyKey::from_headers(&h).is_ok());
    }

    #[test]
    fn replay_refuses_another_request() {
        let saved = Saved {
            request_hash: "a".into(),
            status: 202,
            body: serde_json::json!({"id": "x"}),
            location: Some("/v1/orders/x".into()),
        };
        assert!(matches!(
            saved.replay("b"),
            Err(OrdersError::IdempotencyConflict)
        ));
        let r = saved.replay("a").unwrap();
        assert_eq!(r.status(), 202);
        assert_eq!(r.headers()["location"], "/v1/orders/x");
        assert_eq!(r.headers()["idempotent-replayed"], "true");
        assert!(saved
            .respond()
            .headers()
            .get("idempotent-replayed")
            .is_none());
    }
}
