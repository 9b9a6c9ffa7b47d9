//! Access-token signing keys: Ed25519, each made from a 32-byte seed (the
//! only secret), named by `kid` = the first 16 hex characters of SHA-256 of
//! the raw 32-byte public key.
//!
//! A [`SigningKeys`] holds the current key, which signs, and optionally the
//! previous one, which is still published during a rotation so tokens it
//! signed keep verifying until they expire (15 minutes).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lite_http::Claims;
use rand::RngCore;
use ring::signature::KeyPair;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410): the seed follows.
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// SubjectPublicKeyInfo prefix of an Ed25519 public key: the key follows.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "a signing seed is 64 hex characters (32 bytes), or a secret of at least 32 characters"
    )]
    BadSeed,
    #[error("cannot sign: {0}")]
    Sign(String),
}

/// One Ed25519 key pair.
#[derive(Clone)]
pub struct SigningKey {
    seed: [u8; 32],
    public: [u8; 32],
    kid: String,
    encoding: EncodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed)
            .expect("every 32-byte string is an Ed25519 seed");
        let mut public = [0u8; 32];
        public.copy_from_slice(pair.public_key().as_ref());
        let mut pkcs8 = PKCS8_PREFIX.to_vec();
        pkcs8.extend_from_slice(&seed);
        let digest = Sha256::digest(public);
        Self {
            seed,
            public,
            kid: hex::encode(digest)[..16].to_owned(),
            encoding: EncodingKey::from_ed_der(&pkcs8),
        }
    }

    /// A seed as kept in a secret: 64 hex characters. Any other secret of
    /// at least 32 characters (e.g. one a deployment tool generated) is
    /// stretched into a seed with SHA-256, so the same secret always gives
    /// the same key.
    pub fn from_secret(secret: &str) -> Result<Self, KeyError> {
        let secret = secret.trim();
        if secret.len() == 64 {
            if let Ok(bytes) = hex::decode(secret) {
                let mut seed = [0u8; 32];
                seed.copy_from_slice(&bytes);
                return Ok(Self::from_seed(seed));
            }
        }
        if secret.len() < 32 {
            return Err(KeyError::BadSeed);
        }
        let mut hasher = Sha256::new();
        hasher.update(b"amazon-lite signing seed v1:");
        hasher.update(secret.as_bytes());
        Ok(Self::from_seed(hasher.finalize().into()))
    }

    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut seed);
        Self::from_seed(seed)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn seed_hex(&self) -> String {
        hex::encode(self.seed)
    }

    /// The raw public key, base64url (the JWK `x`).
    pub fn x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.public)
    }

    /// The public key as SubjectPublicKeyInfo PEM (what verifiers trust).
    pub fn public_pem(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.public);
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(der)
        )
    }

    pub fn jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: self.x(),
            kid: self.kid.clone(),
            alg: "EdDSA".into(),
            use_: "sig".into(),
        }
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| KeyError::Sign(e.to_string()))
    }
}

/// The keys the auth service holds: the current one signs; the previous
/// one (during a rotation) is only published.
#[derive(Debug, Clone)]
pub struct SigningKeys {
    current: SigningKey,
    previous: Option<SigningKey>,
}

impl SigningKeys {
    pub fn new(current: SigningKey, previous: Option<SigningKey>) -> Self {
        let previous = previous.filter(|p| p.kid != current.kid);
        Self { current, previous }
    }

    /// A fresh key from 32 random bytes.
    pub fn generate() -> Self {
        Self::new(SigningKey::generate(), None)
    }

    /// The key of a hex seed (see [`SigningKey::from_secret`]).
    pub fn from_seed_hex(seed: &str) -> Result<Self, KeyError> {
        Ok(Self::new(SigningKey::from_secret(seed)?, None))
    }

    /// Keeps publishing `previous` while the current key signs.
    pub fn with_previous(self, previous: SigningKey) -> Self {
        Self::new(self.current, Some(previous))
    }

    pub fn current(&self) -> &SigningKey {
        &self.current
    }

    pub fn kid(&self) -> &str {
        self.current.kid()
    }

    /// Signs with the current key.
    pub fn sign(&self, claims: &Claims) -> Result<String, KeyError> {
        self.current.sign(claims)
    }

    /// The current key's public PEM.
    pub fn public_pem(&self) -> String {
        self.current.public_pem()
    }

    /// Every key that verifies: current first.
    pub fn verifying(&self) -> impl Iterator<Item = &SigningKey> {
        std::iter::once(&self.current).chain(self.previous.iter())
    }

    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self.verifying().map(SigningKey::jwk).collect(),
        }
    }
}

/// A JSON Web Key Set (RFC 7517).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// An Ed25519 public key as a JWK (RFC 8037).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Jwk {
    /// `OKP`
    pub kty: String,
    /// `Ed25519`
    pub crv: String,
    /// The raw public key, base64url.
    pub x: String,
    pub kid: String,
    /// `EdDSA`
    pub alg: String,
    /// `sig`
    #[serde(rename = "use")]
    pub use_: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use lite_http::{Role, TokenVerifier};

    fn claims() -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: "usr_1".into(),
            email: Some("a@b.co".into()),
            roles: vec![Role::Customer],
            sid: "ses_1".into(),
            jti: "j".into(),
            iat: now,
            exp: now + 60,
            iss: lite_http::auth::ISSUER.into(),
            aud: lite_http::auth::AUDIENCE.into(),
        }
    }

    #[test]
    fn a_seed_gives_one_key_and_its_tokens_verify_with_its_pem() {
        let keys = SigningKeys::generate();
        let again = SigningKeys::from_seed_hex(&keys.current().seed_hex()).unwrap();
        assert_eq!(again.kid(), keys.kid());
        assert_eq!(keys.kid().len(), 16);
        assert!(keys.kid().chars().all(|c| c.is_ascii_hexdigit()));
        let token = keys.sign(&claims()).unwrap();
        let mut v = TokenVerifier::new();
        v.trust_ed25519_pem(keys.kid(), keys.public_pem().as_bytes())
            .unwrap();
        assert_eq!(v.verify(&token).unwrap(), claims_of(&token));
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(
            (header.alg, header.kid.as_deref()),
            (Algorithm::EdDSA, Some(keys.kid()))
        );
    }

    fn claims_of(token: &str) -> Claims {
        let b = URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap();
        serde_json::from_slice(&b).unwrap()
    }

    #[test]
    fn rfc8032_test_vector_1_gives_the_known_public_key() {
        let k = SigningKey::from_secret(
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        )
        .unwrap();
        assert_eq!(
            hex::encode(URL_SAFE_NO_PAD.decode(k.x()).unwrap()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
    }

    #[test]
    fn secrets_that_are_not_hex_are_stretched_and_short_ones_refused() {
        let a = SigningKey::from_secret("a generated secret of enough length!!").unwrap();
        let b = SigningKey::from_secret("a generated secret of enough length!!").unwrap();
        assert_eq!(a.kid(), b.kid());
        assert_eq!(
            SigningKey::from_secret("short").unwrap_err(),
            KeyError::BadSeed
        );
    }

    #[test]
    fn jwks_lists_current_then_previous() {
        let old = SigningKey::generate();
        let keys = SigningKeys::generate().with_previous(old.clone());
        let jwks = serde_json::to_value(keys.jwks()).unwrap();
        assert_eq!(jwks["keys"][0]["kid"], keys.kid());
        assert_eq!(jwks["keys"][1]["kid"], old.kid());
        assert_eq!(jwks["keys"][0]["kty"], "OKP");
        assert_eq!(jwks["keys"][0]["use"], "sig");
        assert!(format!("{keys:?}").contains(keys.kid()));
        assert!(!format!("{keys:?}").contains(&keys.current().seed_hex()));
    }
}
