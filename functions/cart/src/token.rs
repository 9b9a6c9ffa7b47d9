//! Guest cart tokens. A token is a bearer capability: whoever holds it can
//! read and change the cart, so it is 256 bits from the OS's CSPRNG and
//! the table stores only its SHA-256 (a leaked table or stream record does
//! not hand out carts).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

const PREFIX: &str = "ct_";
const RANDOM_BYTES: usize = 32;
/// Unpadded base64url of 32 bytes.
const ENCODED_LEN: usize = 43;

/// A well-formed guest cart token (`ct_` + 32 random bytes, base64url).
#[derive(Clone, PartialEq, Eq)]
pub struct CartToken(String);

impl CartToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; RANDOM_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// `None` for anything this service never issued the shape of; such a
    /// token names no cart.
    pub fn parse(raw: &str) -> Option<Self> {
        let body = raw.strip_prefix(PREFIX)?;
        if body.len() != ENCODED_LEN {
            return None;
        }
        let decoded = URL_SAFE_NO_PAD.decode(body).ok()?;
        (decoded.len() == RANDOM_BYTES).then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the table stores in the token's place (lower-case hex).
    pub fn digest(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

/// Never print the capability itself (logs, panics).
impl std::fmt::Debug for CartToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CartToken(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_differ() {
        let a = CartToken::generate();
        let b = CartToken::generate();
        assert!(a.as_str().starts_with("ct_"));
        assert_eq!(a.as_str().len(), 3 + ENCODED_LEN);
        assert_ne!(a, b);
        assert_eq!(CartToken::parse(a.as_str()), Some(a.clone()));
        assert_eq!(a.digest().len(), 64);
        assert_ne!(a.digest(), b.digest());
        assert!(!format!("{a:?}").contains(&a.as_str()[3..]));
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        let good = CartToken::generate();
        let body = &good.as_str()[3..];
        for bad in [
            String::new(),
            body.to_owned(),
            format!("xx_{body}"),
            format!("ct_{}", &body[1..]),
            format!("ct_{body}A"),
            format!("ct_{}+", &body[1..]),
        ] {
            assert!(CartToken::parse(&bad).is_none(), "{bad}");
        }
    }
}
