//! Test-only token minting with the fixed key pair in `testdata/`. The
//! private key is public knowledge: only test setups ever trust its public
//! half (kid `test`).

use crate::auth::{Claims, Role, TokenVerifier, AUDIENCE, ISSUER};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};

pub const TEST_KID: &str = "test";
pub const TEST_PRIVATE_PEM: &str = include_str!("../testdata/test-signing-key.pem");
pub const TEST_PUBLIC_PEM: &str = include_str!("../testdata/test-signing-key.pub.pem");

#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub sub: String,
    pub roles: Vec<Role>,
    pub kid: String,
    pub exp_in_secs: i64,
    /// The login session (`sid`); a verifier with a session guard checks it.
    pub sid: String,
    pub email: Option<String>,
}

impl TokenSpec {
    pub fn customer(sub: &str) -> Self {
        Self {
            sub: sub.into(),
            roles: vec![Role::Customer],
            kid: TEST_KID.into(),
            exp_in_secs: 900,
            sid: "ses_test".into(),
            email: None,
        }
    }
    pub fn admin(sub: &str) -> Self {
        Self {
            roles: vec![Role::Customer, Role::Admin],
            ..Self::customer(sub)
        }
    }
}

pub fn mint(spec: TokenSpec) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: spec.sub,
        email: spec.email,
        roles: spec.roles,
        sid: spec.sid,
        jti: ulid::Ulid::new().to_string(),
        iat: now,
        exp: now + spec.exp_in_secs,
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(spec.kid);
    let key = EncodingKey::from_ed_pem(TEST_PRIVATE_PEM.as_bytes()).expect("the test key parses");
    encode(&header, &claims, &key).expect("test token encodes")
}

pub fn customer_token(sub: &str) -> String {
    mint(TokenSpec::customer(sub))
}

pub fn admin_token(sub: &str) -> String {
    mint(TokenSpec::admin(sub))
}

/// A verifier that trusts only the test key.
pub fn test_verifier() -> TokenVerifier {
    let mut v = TokenVerifier::new();
    v.trust_ed25519_pem(TEST_KID, TEST_PUBLIC_PEM.as_bytes())
        .expect("the test public key parses");
    v
}

/// `router` finished with every shared layer, trusting only the test key.
pub fn finish_for_tests(router: axum::Router) -> axum::Router {
    crate::finish(
        router,
        std::sync::Arc::new(test_verifier()),
        &crate::HttpConfig::default(),
    )
}
