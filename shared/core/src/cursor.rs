//! Opaque, tamper-evident pagination cursors.
//!
//! A cursor is `base64url(payload) "." base64url(hmac)`, where the MAC covers
//! a *scope* (the route and every filter that shaped the query) and the
//! payload. A cursor therefore only works for the query that produced it:
//! garbage, a forged payload or a cursor from another listing is refused.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("cursor is malformed")]
    Malformed,
    #[error("cursor was not issued for this query")]
    Forged,
}

#[derive(Clone)]
pub struct CursorCodec {
    key: Vec<u8>,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec(..)")
    }
}

impl CursorCodec {
    /// At least 32 bytes of secret key material.
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        let key = key.into();
        assert!(key.len() >= 32, "cursor key must be at least 32 bytes");
        Self { key }
    }

    /// A fresh random key (for tests and first start-up).
    pub fn random_key() -> Vec<u8> {
        use rand::RngCore;
        let mut k = vec![0u8; 32];
        rand::thread_rng().fill_bytes(&mut k);
        k
    }

    fn mac(&self, scope: &str, payload: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("hmac takes any key length");
        mac.update(&(scope.len() as u64).to_be_bytes());
        mac.update(scope.as_bytes());
        mac.update(payload);
        mac
    }

    pub fn encode(&self, scope: &str, payload: &serde_json::Value) -> String {
        let bytes = serde_json::to_vec(payload).expect("a JSON value serializes");
        let tag = self.mac(scope, &bytes).finalize().into_bytes();
        format!("{}.{}", B64.encode(&bytes), B64.encode(tag))
    }

    pub fn decode(&self, scope: &str, cursor: &str) -> Result<serde_json::Value, CursorError> {
        if cursor.len() > 4096 {
            return Err(CursorError::Malformed);
        }
        let (p, t) = cursor.split_once('.').ok_or(CursorError::Malformed)?;
        let payload = B64.decode(p).map_err(|_| CursorError::Malformed)?;
        let tag = B64.decode(t).map_err(|_| CursorError::Malformed)?;
        // Constant-time comparison (hmac's verify_slice).
        self.mac(scope, &payload)
            .verify_slice(&tag)
            .map_err(|_| CursorError::Forged)?;
        serde_json::from_slice(&payload).map_err(|_| CursorError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn codec() -> CursorCodec {
        CursorCodec::new(vec![7u8; 32])
    }

    #[test]
    fn round_trips_within_its_scope() {
        let c = codec();
        let token = c.encode("list:newest", &json!({"PK": "P#1", "SK": "A"}));
        assert_eq!(
            c.decode("list:newest", &token).unwrap(),
            json!({"PK": "P#1", "SK": "A"})
        );
    }

    #[test]
    fn refuses_other_scopes_forgeries_and_garbage() {
        let c = codec();
        let token = c.encode("list:newest", &json!({"k": 1}));
        assert_eq!(c.decode("list:price_asc", &token), Err(CursorError::Forged));
        let (_, tag) = token.split_once('.').unwrap();
        let forged = format!("{}.{}", B64.encode(br#"{"k":2}"#), tag);
        assert_eq!(c.decode("list:newest", &forged), Err(CursorError::Forged));
        let other_key = CursorCodec::new(vec![8u8; 32]);
        assert_eq!(
            other_key.decode("list:newest", &token),
            Err(CursorError::Forged)
        );
        for garbage in ["", "abc", "a.b.c", "!!!.???", "e30"] {
            assert!(c.decode("list:newest", garbage).is_err(), "{garbage}");
        }
    }
}
