//! A fresh local API publishes its token signing key at start-up: the JWKS
//! names it before anyone has signed in, and it is the key that later signs
//! the tokens.

use reqwest::Method;
use serde_json::json;
use system_tests::{send, Seed, TestApi};

#[tokio::test]
async fn a_fresh_api_serves_the_signing_key_in_its_jwks_before_any_sign_in() {
    let api = TestApi::spawn_untouched(Seed::None, &[]).await;
    let jwks = send(api.request(Method::GET, "/.well-known/jwks.json")).await;
    assert_eq!(jwks.status, 200, "{}", jwks.body);
    let keys = jwks.body["keys"].as_array().expect("a key list");
    assert_eq!(keys.len(), 1, "{}", jwks.body);
    assert_eq!(keys[0]["kty"], "OKP");
    assert_eq!(keys[0]["alg"], "EdDSA");
    let published = keys[0]["kid"].as_str().expect("a kid").to_owned();

    let signed_up = send(api.request(Method::POST, "/v1/auth/signup").json(&json!({
        "email": "first@amazon-lite.test",
        "password": "correct horse battery staple",
        "name": "First Shopper"
    })))
    .await;
    assert_eq!(signed_up.status, 201, "{}", signed_up.body);
    let token = signed_up.body["accessToken"].as_str().expect("a token");
    let header = jsonwebtoken::decode_header(token).expect("a JWT header");
    assert_eq!(header.kid.as_deref(), Some(published.as_str()));
}
