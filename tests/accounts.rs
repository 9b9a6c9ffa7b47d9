//! Accounts over HTTP, against the real `amazon-lite` binary: sign-up,
//! login, refresh-token rotation and reuse detection, logout, forged and
//! expired tokens, brute-force throttling, the `/v1/me` profile, address
//! book and preferences (and that they, and issued tokens, survive a
//! graceful restart), and the admin account from `ADMIN_EMAIL`.
//!
//! Every test starts its own server (seed `none`) with its own data
//! directory, so tests share nothing, rate-limit counters included.

use reqwest::Method;
use serde_json::{json, Value};
use system_tests::{send, Reply, Seed, TestApi, ADMIN_EMAIL, ADMIN_PASSWORD};

/// A password that meets the sign-up rules.
const PASSWORD: &str = "correct horse 42";
/// The access-token lifetime API.md's token shape reports (`expiresIn`).
const ACCESS_TTL_SECS: i64 = 15 * 60;
/// Failed logins one account gets before it is throttled.
const FAILED_LOGINS_PER_ACCOUNT: usize = 5;

// ---------------------------------------------------------------- helpers ---

async fn post(api: &TestApi, path: &str, body: Value) -> Reply {
    send(api.request(Method::POST, path).json(&body)).await
}

async fn signup(api: &TestApi, email: &str, password: &str, name: &str) -> Reply {
    post(
        api,
        "/v1/auth/signup",
        json!({"email": email, "password": password, "name": name}),
    )
    .await
}

async fn login(api: &TestApi, email: &str, password: &str) -> Reply {
    post(
        api,
        "/v1/auth/login",
        json!({"email": email, "password": password}),
    )
    .await
}

async fn refresh(api: &TestApi, refresh_token: &str) -> Reply {
    post(
        api,
        "/v1/auth/refresh",
        json!({ "refreshToken": refresh_token }),
    )
    .await
}

/// `method path` with `Authorization: Bearer <token>` and an optional body.
async fn authed(
    api: &TestApi,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Reply {
    let mut request = api
        .request(method, path)
        .header("authorization", format!("Bearer {token}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    send(request).await
}

async fn validate(api: &TestApi, token: &str) -> Reply {
    authed(api, Method::GET, "/v1/auth/validate", token, None).await
}

async fn me(api: &TestApi, token: &str) -> Reply {
    authed(api, Method::GET, "/v1/me", token, None).await
}

/// An admin-only route: `PUT /v1/inventory/SKU-1`.
async fn put_stock(api: &TestApi, token: &str) -> Reply {
    authed(
        api,
        Method::PUT,
        "/v1/inventory/SKU-1",
        token,
        Some(json!({"available": 5})),
    )
    .await
}

/// A signed-in account: what sign-up or login answered.
#[derive(Debug, Clone)]
struct Session {
    user_id: String,
    access: String,
    refresh: String,
}

impl Session {
    #[track_caller]
    fn from_reply(r: &Reply) -> Session {
        let b = &r.body;
        let text = |v: &Value| {
            v.as_str()
                .unwrap_or_else(|| panic!("not a string in {b}"))
                .to_owned()
        };
        Session {
            user_id: text(&b["user"]["id"]),
            access: text(&b["accessToken"]),
            refresh: text(&b["refreshToken"]),
        }
    }
}

/// Signs up a new customer; asserts 201.
async fn new_customer(api: &TestApi, email: &str, name: &str) -> Session {
    let r = signup(api, email, PASSWORD, name).await;
    assert_eq!(r.status, 201, "signup {email}: {}", r.body);
    Session::from_reply(&r)
}

/// Asserts the token shape of sign-up, login and refresh:
/// `{user:{id,email,name,roles},accessToken,refreshToken,expiresIn}`.
#[track_caller]
fn assert_token_shape(r: &Reply, email: &str, name: &str, roles: &[&str]) {
    let b = &r.body;
    let user = &b["user"];
    let id = user["id"]
        .as_str()
        .unwrap_or_else(|| panic!("user.id: {b}"));
    assert!(id.starts_with("usr_") && id.len() > 4, "user.id {id:?}");
    assert_eq!(user["email"], email, "user.email: {b}");
    assert_eq!(user["name"], name, "user.name: {b}");
    assert_eq!(user["roles"], json!(roles), "user.roles: {b}");
    let user_fields: Vec<&String> = user.as_object().expect("user object").keys().collect();
    assert_eq!(
        user_fields.len(),
        4,
        "user has exactly id, email, name, roles: {user}"
    );
    let access = b["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("accessToken: {b}"));
    assert_eq!(access.split('.').count(), 3, "a JWT: {access}");
    let header = jsonwebtoken::decode_header(access).expect("the access token's header decodes");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA, "{header:?}");
    assert!(header.kid.is_some(), "the access token names its key");
    let refresh = b["refreshToken"]
        .as_str()
        .unwrap_or_else(|| panic!("refreshToken: {b}"));
    assert!(refresh.len() >= 20, "refresh token {refresh:?}");
    assert_ne!(refresh, access);
    assert_eq!(b["expiresIn"], ACCESS_TTL_SECS, "expiresIn: {b}");
    assert!(
        b.get("password").is_none() && user.get("password").is_none(),
        "no password anywhere: {b}"
    );
}

/// A refused token: 401 `unauthorized` problem with `WWW-Authenticate: Bearer`.
#[track_caller]
fn assert_unauthorized(r: &Reply, what: &str) {
    assert_eq!(r.status, 401, "{what}: {}", r.body);
    r.assert_problem(401, "unauthorized");
    let challenge = r.header("www-authenticate").unwrap_or("");
    assert!(
        challenge.starts_with("Bearer"),
        "{what}: WWW-Authenticate {challenge:?}"
    );
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

fn header_i64(r: &Reply, name: &str) -> i64 {
    r.header(name)
        .unwrap_or_else(|| panic!("no {name} header ({}): {}", r.status, r.body))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

// --------------------------------------------------------------- base64url ---

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding (RFC 7515 §2), as JWTs use.
fn b64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(B64URL[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn b64url_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = B64URL
            .iter()
            .position(|x| *x == c)
            .unwrap_or_else(|| panic!("not base64url: {c}")) as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn b64url_json(v: &Value) -> String {
    b64url_encode(v.to_string().as_bytes())
}

/// The (unverified) payload of a JWT.
fn jwt_payload(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&b64url_decode(part)).expect("the payload is JSON")
}

fn jwt_kid(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .expect("a JWT header")
        .kid
        .expect("a kid")
}

#[test]
fn base64url_round_trips() {
    for text in [
        "",
        "f",
        "fo",
        "foo",
        "foob",
        "fooba",
        "foobar",
        "\u{ff}\u{fe}?>",
    ] {
        let encoded = b64url_encode(text.as_bytes());
        assert!(!encoded.contains(['=', '+', '/']), "{encoded}");
        assert_eq!(b64url_decode(&encoded), text.as_bytes(), "{text:?}");
    }
    assert_eq!(b64url_encode(b"foobar"), "Zm9vYmFy");
    assert_eq!(b64url_encode(b"fo"), "Zm8");
    assert_eq!(b64url_encode(&[0xfb, 0xff]), "-_8");
}

// ------------------------------------------------------- sign-up and login ---

#[tokio::test]
async fn signup_answers_the_token_shape_and_tokens_that_work() {
    let api = TestApi::spawn(Seed::None).await;
    let r = signup(&api, "  Ann.Lee@Example.COM ", PASSWORD, "  Ann Lee ").await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_token_shape(&r, "ann.lee@example.com", "Ann Lee", &["customer"]);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "content-type {:?}",
        r.header("content-type")
    );
    // Sign-up is limited per client address and says so.
    assert!(header_i64(&r, "ratelimit-limit") >= 100);
    assert!(header_i64(&r, "ratelimit-remaining") >= 0);
    let session = Session::from_reply(&r);

    let v = validate(&api, &session.access).await;
    assert_eq!(v.status, 200, "{}", v.body);
    assert_eq!(v.body["sub"], session.user_id.as_str());
    assert_eq!(v.body["email"], "ann.lee@example.com");
    assert_eq!(v.body["roles"], json!(["customer"]));
    let exp = v.body["exp"].as_i64().expect("exp is seconds");
    let now = now_secs();
    assert!(
        (now + ACCESS_TTL_SECS - 60..=now + ACCESS_TTL_SECS + 60).contains(&exp),
        "exp {exp} is about now + {ACCESS_TTL_SECS} ({now})"
    );
    let mut fields: Vec<&String> = v.body.as_object().expect("an object").keys().collect();
    fields.sort();
    assert_eq!(fields, ["email", "exp", "roles", "sub"], "{}", v.body);

    // The access token opens the profile the sign-up created.
    let m = me(&api, &session.access).await;
    assert_eq!(m.status, 200, "{}", m.body);
    assert_eq!(m.body["id"], session.user_id.as_str());
    assert_eq!(m.body["email"], "ann.lee@example.com");
    assert_eq!(m.body["name"], "Ann Lee");

    // Login (in any case) answers the same shape for the same user.
    let l = login(&api, "ANN.LEE@example.com", PASSWORD).await;
    assert_eq!(l.status, 200, "{}", l.body);
    assert_token_shape(&l, "ann.lee@example.com", "Ann Lee", &["customer"]);
    let second = Session::from_reply(&l);
    assert_eq!(second.user_id, session.user_id);
    assert_ne!(second.access, session.access, "a new login, a new token");
    assert_ne!(second.refresh, session.refresh);
    assert!(header_i64(&l, "ratelimit-limit") > 0);
    let v = validate(&api, &second.access).await;
    assert_eq!(v.status, 200, "{}", v.body);
    assert_eq!(v.body["sub"], session.user_id.as_str());
    // Both logins are live at once.
    assert_eq!(validate(&api, &session.access).await.status, 200);
}

#[tokio::test]
async fn signup_refuses_a_registered_email_in_any_case() {
    let api = TestApi::spawn(Seed::None).await;
    let first = new_customer(&api, "dup@example.com", "First Owner").await;

    for email in ["dup@example.com", "DUP@Example.com", " Dup@EXAMPLE.COM "] {
        let r = signup(&api, email, "An0ther-Passw0rd!", "Second Owner").await;
        r.assert_problem(409, "conflict");
    }
    // The account is untouched: the first password still works, the second
    // never did, and the name is the first one.
    let l = login(&api, "dup@example.com", PASSWORD).await;
    assert_eq!(l.status, 200, "{}", l.body);
    assert_token_shape(&l, "dup@example.com", "First Owner", &["customer"]);
    assert_eq!(l.body["user"]["id"], first.user_id.as_str());
    assert_unauthorized(
        &login(&api, "dup@example.com", "An0ther-Passw0rd!").await,
        "the duplicate sign-up's password",
    );
    // The admin's e-mail is taken too.
    signup(&api, &ADMIN_EMAIL.to_uppercase(), PASSWORD, "Mallory")
        .await
        .assert_problem(409, "conflict");
}

#[tokio::test]
async fn signup_names_every_invalid_field() {
    let api = TestApi::spawn(Seed::None).await;
    for weak in [
        "Sh0rt!",              // too short
        "abcdefghijkl",        // one character class
        "123456789012",        // one character class
        "aaaaaaaaa1",          // fewer than five different characters
        "weak.pw@example.com", // the e-mail address itself
    ] {
        let r = signup(&api, "weak.pw@example.com", weak, "Weak Password").await;
        r.assert_invalid("password");
        assert_eq!(r.error_fields(), ["password"], "{weak:?}: {}", r.body);
        assert!(
            r.body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "a message says why: {}",
            r.body
        );
    }
    let long = "aB1-".repeat(33);
    signup(&api, "weak.pw@example.com", &long, "Too Long")
        .await
        .assert_invalid("password");

    for bad in [
        "",
        "ann",
        "ann@",
        "@example.com",
        "ann@example",
        "a b@example.com",
        "ann@@example.com",
        "ann@example.com.",
    ] {
        let r = signup(&api, bad, PASSWORD, "Bad Email").await;
        r.assert_invalid("email");
        assert_eq!(r.error_fields(), ["email"], "{bad:?}: {}", r.body);
    }

    // Every bad field at once, each named.
    let r = signup(&api, "nope", "short", "   ").await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(
        r.error_fields(),
        ["email", "password", "name"],
        "{}",
        r.body
    );

    // Missing and mistyped fields are 400s, never 5xx.
    let r = post(
        &api,
        "/v1/auth/signup",
        json!({"email": "x@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status, 400, "missing name: {}", r.body);
    let r = post(
        &api,
        "/v1/auth/signup",
        json!({"email": 7, "password": PASSWORD, "name": "N"}),
    )
    .await;
    assert_eq!(r.status, 400, "numeric email: {}", r.body);

    // Nothing was created by any of these.
    for email in ["weak.pw@example.com", "x@example.com"] {
        let r = signup(&api, email, PASSWORD, "Now Valid").await;
        assert_eq!(r.status, 201, "{email} was left free: {}", r.body);
    }
}

/// Strips what legitimately differs between two answers.
fn without_correlation(body: &Value) -> Value {
    let mut b = body.clone();
    if let Some(map) = b.as_object_mut() {
        map.remove("correlationId");
    }
    b
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let api = TestApi::spawn(Seed::None).await;
    new_customer(&api, "known@example.com", "Known User").await;

    let wrong = login(&api, "known@example.com", "Not-the-password-1").await;
    let unknown = login(&api, "nobody@example.com", "Not-the-password-1").await;
    assert_unauthorized(&wrong, "wrong password");
    assert_unauthorized(&unknown, "unknown e-mail");
    assert_eq!(
        without_correlation(&wrong.body),
        without_correlation(&unknown.body),
        "the bodies tell the cases apart"
    );
    assert_ne!(wrong.body["correlationId"], unknown.body["correlationId"]);
    // Not by their headers either: both are the first failure of their
    // e-mail, so the per-account counter reads the same.
    for name in [
        "content-type",
        "www-authenticate",
        "ratelimit-limit",
        "ratelimit-remaining",
    ] {
        assert_eq!(
            wrong.header(name),
            unknown.header(name),
            "header {name} tells the cases apart"
        );
    }
    let detail = wrong.body["detail"].as_str().unwrap_or("").to_lowercase();
    assert!(
        !detail.contains("not found") && !detail.contains("no account"),
        "the detail reveals the account: {detail}"
    );

    // A malformed login is a 400, not a 401.
    login(&api, "not-an-email", "whatever")
        .await
        .assert_invalid("email");
    login(&api, "known@example.com", "")
        .await
        .assert_invalid("password");
}

// ------------------------------------------------------ refresh and logout ---

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_login() {
    let api = TestApi::spawn(Seed::None).await;
    let first = new_customer(&api, "rotate@example.com", "Rita Rotate").await;

    let r = refresh(&api, &first.refresh).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_token_shape(&r, "rotate@example.com", "Rita Rotate", &["customer"]);
    let second = Session::from_reply(&r);
    assert_eq!(second.user_id, first.user_id);
    assert_ne!(second.refresh, first.refresh, "a new refresh token");
    assert_ne!(second.access, first.access, "a new access token");
    let v = validate(&api, &second.access).await;
    assert_eq!(v.status, 200, "{}", v.body);
    assert_eq!(v.body["sub"], first.user_id.as_str());
    assert_eq!(me(&api, &second.access).await.status, 200);

    // An unrelated login of the same user, which the reuse must not touch.
    let other = Session::from_reply(&login(&api, "rotate@example.com", PASSWORD).await);

    // The spent refresh token again: refused, and the whole login is revoked.
    assert_unauthorized(
        &refresh(&api, &first.refresh).await,
        "the spent refresh token",
    );
    assert_unauthorized(
        &validate(&api, &second.access).await,
        "the access token of the revoked login on /v1/auth/validate",
    );
    assert_unauthorized(
        &me(&api, &second.access).await,
        "the access token of the revoked login on /v1/me",
    );
    assert_unauthorized(
        &validate(&api, &first.access).await,
        "the first access token of the revoked login",
    );
    assert_unauthorized(
        &refresh(&api, &second.refresh).await,
        "the current refresh token of the revoked login",
    );

    // The other login of the same user is a different family: still live.
    assert_eq!(validate(&api, &other.access).await.status, 200);
    let r = refresh(&api, &other.refresh).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Made-up refresh tokens are refused.
    for junk in ["", "x", "rt_00000000000000000000000000", &"a".repeat(300)] {
        let r = refresh(&api, junk).await;
        assert!(
            r.status == 401 || r.status == 400,
            "refresh token {junk:?}: {} {}",
            r.status,
            r.body
        );
    }
}

#[tokio::test]
async fn logout_revokes_that_access_token_and_refresh_token() {
    let api = TestApi::spawn(Seed::None).await;
    let session = new_customer(&api, "leaver@example.com", "Lee Leaver").await;
    let other = Session::from_reply(&login(&api, "leaver@example.com", PASSWORD).await);
    assert_eq!(me(&api, &session.access).await.status, 200);

    let r = authed(
        &api,
        Method::POST,
        "/v1/auth/logout",
        &session.access,
        Some(json!({"refreshToken": session.refresh})),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(r.body, Value::Null, "204 has no body");

    for (method, path) in [
        (Method::GET, "/v1/auth/validate"),
        (Method::GET, "/v1/me"),
        (Method::GET, "/v1/me/addresses"),
        (Method::GET, "/v1/me/preferences"),
        (Method::POST, "/v1/auth/logout"),
    ] {
        let r = authed(&api, method.clone(), path, &session.access, None).await;
        assert_unauthorized(&r, &format!("the logged-out token on {method} {path}"));
    }
    assert_unauthorized(
        &refresh(&api, &session.refresh).await,
        "the logged-out refresh token",
    );
    // Logout ends one login, not every login of the user.
    assert_eq!(validate(&api, &other.access).await.status, 200);

    // Logout without a body (the refresh token is optional) revokes too,
    // including that login's refresh token.
    let r = send(
        api.request(Method::POST, "/v1/auth/logout")
            .bearer_auth(&other.access),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_unauthorized(&validate(&api, &other.access).await, "after logout");
    assert_unauthorized(
        &refresh(&api, &other.refresh).await,
        "the refresh token of a logged-out login",
    );

    // Without a token, logout is a 401.
    let r = send(api.request(Method::POST, "/v1/auth/logout")).await;
    assert_unauthorized(&r, "logout without a token");
    // The user can still sign in again.
    assert_eq!(
        login(&api, "leaver@example.com", PASSWORD).await.status,
        200
    );
}

// ----------------------------------------------------------------- attacks ---

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_refused() {
    let api = TestApi::spawn(Seed::None).await;
    let real = api.customer_token();
    assert_eq!(validate(&api, &real).await.status, 200);
    let claims = jwt_payload(&real);
    let kid = jwt_kid(&real);
    let sub = claims["sub"].as_str().expect("sub").to_owned();
    let sid = claims["sid"].as_str().expect("sid").to_owned();
    let mut as_admin = claims.clone();
    as_admin["roles"] = json!(["customer", "admin"]);

    let mut forged: Vec<(&str, String)> = Vec::new();

    // `alg: none`, naming the server's own key, with an empty signature.
    let none_header = json!({"alg": "none", "typ": "JWT", "kid": kid});
    forged.push((
        "alg none",
        format!("{}.{}.", b64url_json(&none_header), b64url_json(&as_admin)),
    ));
    forged.push((
        "alg none without kid",
        format!(
            "{}.{}.",
            b64url_json(&json!({"alg": "none", "typ": "JWT"})),
            b64url_json(&as_admin)
        ),
    ));

    // A real token whose payload was changed (roles → admin), the server's
    // signature kept.
    let parts: Vec<&str> = real.split('.').collect();
    forged.push((
        "tampered payload",
        format!("{}.{}.{}", parts[0], b64url_json(&as_admin), parts[2]),
    ));
    // The same, with the signature stripped.
    forged.push(("signature removed", format!("{}.{}.", parts[0], parts[1])));

    // Signed by a key this server does not trust (the well-known test key).
    let spec = lite_http::testing::TokenSpec {
        sid: sid.clone(),
        email: Some("customer@amazon-lite.test".into()),
        ..lite_http::testing::TokenSpec::admin(&sub)
    };
    forged.push(("unknown key", lite_http::testing::mint(spec.clone())));
    // Signed by the test key but naming the server's kid.
    forged.push((
        "foreign key under the server's kid",
        lite_http::testing::mint(lite_http::testing::TokenSpec {
            kid: kid.clone(),
            ..spec.clone()
        }),
    ));
    // Expired an hour ago.
    forged.push((
        "expired",
        lite_http::testing::mint(lite_http::testing::TokenSpec {
            exp_in_secs: -3600,
            ..spec.clone()
        }),
    ));
    // Algorithm confusion: HS256 "signed" with the server's public key.
    let jwks = send(api.request(Method::GET, "/.well-known/jwks.json")).await;
    assert_eq!(jwks.status, 200, "{}", jwks.body);
    let public_x = jwks.body["keys"][0]["x"]
        .as_str()
        .unwrap_or_else(|| panic!("an OKP key in {}", jwks.body))
        .to_owned();
    let mut hs_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs_header.kid = Some(kid.clone());
    forged.push((
        "HS256 with the public key as secret",
        jsonwebtoken::encode(
            &hs_header,
            &as_admin,
            &jsonwebtoken::EncodingKey::from_secret(public_x.as_bytes()),
        )
        .expect("encode HS256"),
    ));
    // Garbage.
    forged.push(("garbage x.y.z", "x.y.z".to_owned()));
    forged.push(("not a JWT", "not-a-token".to_owned()));

    for (what, token) in &forged {
        for (method, path, body) in [
            (Method::GET, "/v1/auth/validate", None),
            (Method::GET, "/v1/me", None),
            (
                Method::PUT,
                "/v1/inventory/SKU-1",
                Some(json!({"available": 5})),
            ),
        ] {
            let r = authed(&api, method.clone(), path, token, body).await;
            assert_unauthorized(&r, &format!("{what} on {method} {path}"));
        }
    }

    // No token, or another scheme: also 401 with the challenge.
    let r = send(api.request(Method::GET, "/v1/me")).await;
    assert_unauthorized(&r, "no Authorization header");
    let r = send(
        api.request(Method::GET, "/v1/me")
            .header("authorization", format!("Basic {real}")),
    )
    .await;
    assert_unauthorized(&r, "Basic scheme");
    let r = send(
        api.request(Method::GET, "/v1/me")
            .header("authorization", "Bearer "),
    )
    .await;
    assert_unauthorized(&r, "empty bearer");

    // None of it did anything: SKU-1 was never stocked.
    let r = authed(
        &api,
        Method::GET,
        "/v1/inventory/SKU-1",
        &api.admin_token(),
        None,
    )
    .await;
    r.assert_problem(404, "not_found");
    // And the real token is still fine.
    assert_eq!(validate(&api, &real).await.status, 200);
}

#[tokio::test]
async fn a_customer_token_on_an_admin_route_is_forbidden() {
    let api = TestApi::spawn(Seed::None).await;
    let r = put_stock(&api, &api.customer_token()).await;
    r.assert_problem(403, "forbidden");
    assert!(
        r.header("www-authenticate").is_none(),
        "403 is not a challenge"
    );
    let r = authed(
        &api,
        Method::GET,
        "/v1/inventory/SKU-1",
        &api.customer_token(),
        None,
    )
    .await;
    r.assert_problem(403, "forbidden");
    // The same route with the admin's token works.
    let r = put_stock(&api, &api.admin_token()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["available"], 5);
}

#[tokio::test]
async fn one_users_address_is_not_found_for_another() {
    let api = TestApi::spawn(Seed::None).await;
    let ann = new_customer(&api, "ann@example.com", "Ann").await;
    let bob = new_customer(&api, "bob@example.com", "Bob").await;
    let created = create_address(&api, &ann.access, address("Home", "1 Ann Street", true)).await;
    let id = created["id"].as_str().expect("address id").to_owned();
    let path = format!("/v1/me/addresses/{id}");

    let r = authed(
        &api,
        Method::PUT,
        &path,
        &bob.access,
        Some(address("Stolen", "9 Bob Road", true)),
    )
    .await;
    r.assert_problem(404, "not_found");
    let r = authed(&api, Method::DELETE, &path, &bob.access, None).await;
    r.assert_problem(404, "not_found");
    // The 404 reads exactly like an id that does not exist.
    let made_up = "/v1/me/addresses/adr_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C";
    let r2 = authed(&api, Method::DELETE, made_up, &bob.access, None).await;
    r2.assert_problem(404, "not_found");
    assert_eq!(r.body["detail"], r2.body["detail"]);
    assert!(list_addresses(&api, &bob.access).await.is_empty());

    // Ann's address is untouched.
    let items = list_addresses(&api, &ann.access).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["label"], "Home");
    assert_eq!(items[0]["line1"], "1 Ann Street");
}

// ------------------------------------------------------------- brute force ---

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_account_for_a_while() {
    let api = TestApi::spawn(Seed::None).await;
    new_customer(&api, "target@example.com", "Tara Target").await;
    new_customer(&api, "bystander@example.com", "Bea Bystander").await;

    // The counters live in fixed windows. When this one ends within
    // seconds (it says so in `RateLimit-Reset`), wait for the next one, so
    // the sequence below is counted in a single window. The probe is a
    // failed login of another e-mail, which the target's counter ignores.
    let probe = login(&api, "probe@example.com", "Probe-password-1").await;
    assert_unauthorized(&probe, "probe");
    if let Some(reset) = probe
        .header("ratelimit-reset")
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        if reset < 15 {
            tokio::time::sleep(std::time::Duration::from_secs(reset + 1)).await;
        }
    }

    let mut limit = None;
    for attempt in 1..=FAILED_LOGINS_PER_ACCOUNT {
        let r = login(
            &api,
            "target@example.com",
            &format!("Guess-number-{attempt}"),
        )
        .await;
        assert_unauthorized(&r, &format!("wrong password #{attempt}"));
        let l = header_i64(&r, "ratelimit-limit");
        assert_eq!(*limit.get_or_insert(l), l, "the limit is stable");
        assert_eq!(
            header_i64(&r, "ratelimit-remaining"),
            l - attempt as i64,
            "remaining after {attempt} failures"
        );
    }
    assert_eq!(limit, Some(FAILED_LOGINS_PER_ACCOUNT as i64));

    let r = login(&api, "target@example.com", "Guess-number-6").await;
    r.assert_problem(429, "rate_limited");
    let retry_after = header_i64(&r, "retry-after");
    assert!(
        (1..=15 * 60).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    assert_eq!(
        header_i64(&r, "ratelimit-limit"),
        FAILED_LOGINS_PER_ACCOUNT as i64
    );
    assert_eq!(header_i64(&r, "ratelimit-remaining"), 0);

    // During the lockout the right password is throttled as well (so a
    // guesser learns nothing from it), in any spelling of the e-mail.
    for email in ["target@example.com", "TARGET@Example.com"] {
        let r = login(&api, email, PASSWORD).await;
        r.assert_problem(429, "rate_limited");
        assert!(header_i64(&r, "retry-after") >= 1);
        assert_eq!(header_i64(&r, "ratelimit-remaining"), 0);
    }

    // The lock is per account: another account from the same address signs
    // in, and the target's existing tokens are not touched.
    let r = login(&api, "bystander@example.com", PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Successful logins do not count towards a limit.
    for _ in 0..FAILED_LOGINS_PER_ACCOUNT + 2 {
        let r = login(&api, "bystander@example.com", PASSWORD).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
}

// ----------------------------------------------------------------- profile ---

fn address(label: &str, line1: &str, is_default: bool) -> Value {
    json!({
        "label": label,
        "line1": line1,
        "line2": "Apt 4",
        "city": "Springfield",
        "region": "IL",
        "postalCode": "62701",
        "country": "US",
        "isDefault": is_default,
    })
}

async fn create_address(api: &TestApi, token: &str, body: Value) -> Value {
    let r = authed(api, Method::POST, "/v1/me/addresses", token, Some(body)).await;
    assert_eq!(r.status, 201, "create address: {}", r.body);
    let id = r.body["id"].as_str().expect("address id");
    assert!(id.starts_with("adr_"), "address id {id}");
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/me/addresses/{id}").as_str()),
        "Location"
    );
    r.body
}

async fn list_addresses(api: &TestApi, token: &str) -> Vec<Value> {
    let r = authed(api, Method::GET, "/v1/me/addresses", token, None).await;
    assert_eq!(r.status, 200, "list addresses: {}", r.body);
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items: {}", r.body))
        .clone()
}

/// Exactly one default in a non-empty book, listed first; returns its id.
#[track_caller]
fn the_default(items: &[Value]) -> String {
    let defaults: Vec<&Value> = items.iter().filter(|a| a["isDefault"] == true).collect();
    assert_eq!(defaults.len(), 1, "exactly one default: {items:?}");
    assert_eq!(items[0]["isDefault"], true, "the default first: {items:?}");
    for a in items {
        assert!(a["isDefault"].is_boolean(), "isDefault: {a}");
    }
    defaults[0]["id"].as_str().expect("id").to_owned()
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|a| a["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn profile_reads_and_patches() {
    let api = TestApi::spawn(Seed::None).await;
    let s = new_customer(&api, "pat@example.com", "Pat Profile").await;

    let r = me(&api, &s.access).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["id"], s.user_id.as_str());
    assert_eq!(r.body["email"], "pat@example.com");
    assert_eq!(r.body["name"], "Pat Profile");
    assert_eq!(r.body["phone"], Value::Null);
    let created = r.body["createdAt"].as_str().expect("createdAt");
    let created = chrono::DateTime::parse_from_rfc3339(created).expect("RFC 3339");
    assert!((chrono::Utc::now() - created.to_utc()).num_seconds().abs() < 300);

    let patch = |body: Value| authed(&api, Method::PATCH, "/v1/me", &s.access, Some(body));
    let r = patch(json!({"name": "  Patricia Profile ", "phone": "+14155550123"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"], "Patricia Profile");
    assert_eq!(r.body["phone"], "+14155550123");
    assert_eq!(r.body["email"], "pat@example.com");
    let r = me(&api, &s.access).await;
    assert_eq!(r.body["name"], "Patricia Profile");
    assert_eq!(r.body["phone"], "+14155550123");

    // Only what is sent changes; null clears the phone.
    let r = patch(json!({"phone": null})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["phone"], Value::Null);
    assert_eq!(r.body["name"], "Patricia Profile");

    // Bad input names the field and changes nothing.
    patch(json!({"email": "other@example.com"}))
        .await
        .assert_invalid("email");
    patch(json!({"phone": "555-1234"}))
        .await
        .assert_invalid("phone");
    patch(json!({"name": ""})).await.assert_invalid("name");
    patch(json!({"nickname": "P"}))
        .await
        .assert_invalid("nickname");
    let r = me(&api, &s.access).await;
    assert_eq!(r.body["email"], "pat@example.com");
    assert_eq!(r.body["name"], "Patricia Profile");

    // Login answers the profile's current name.
    let l = login(&api, "pat@example.com", PASSWORD).await;
    assert_eq!(l.status, 200, "{}", l.body);
    assert_eq!(l.body["user"]["name"], "Patricia Profile");
}

#[tokio::test]
async fn the_address_book_keeps_exactly_one_default() {
    let api = TestApi::spawn(Seed::None).await;
    let s = new_customer(&api, "addr@example.com", "Ada Dress").await;
    assert!(list_addresses(&api, &s.access).await.is_empty());

    // The first address is the default whatever it says.
    let home = create_address(&api, &s.access, address("Home", "1 Main St", false)).await;
    assert_eq!(home["isDefault"], true, "{home}");
    assert_eq!(home["label"], "Home");
    assert_eq!(home["line1"], "1 Main St");
    assert_eq!(home["line2"], "Apt 4");
    assert_eq!(home["city"], "Springfield");
    assert_eq!(home["region"], "IL");
    assert_eq!(home["postalCode"], "62701");
    assert_eq!(home["country"], "US");
    for t in ["createdAt", "updatedAt"] {
        chrono::DateTime::parse_from_rfc3339(home[t].as_str().expect(t)).expect("RFC 3339");
    }
    let home_id = home["id"].as_str().expect("id").to_owned();

    // isDefault: true moves the default.
    let work = create_address(&api, &s.access, address("Work", "2 Office Rd", true)).await;
    let work_id = work["id"].as_str().expect("id").to_owned();
    assert_eq!(work["isDefault"], true);
    let cabin = create_address(&api, &s.access, address("Cabin", "3 Lake Ln", false)).await;
    let cabin_id = cabin["id"].as_str().expect("id").to_owned();
    assert_eq!(cabin["isDefault"], false);
    let items = list_addresses(&api, &s.access).await;
    assert_eq!(the_default(&items), work_id);
    assert_eq!(
        ids(&items),
        [work_id.as_str(), home_id.as_str(), cabin_id.as_str()],
        "default, then oldest first"
    );

    // Replace: every field changes; isDefault: true makes it the default.
    let path = format!("/v1/me/addresses/{home_id}");
    let mut replacement = json!({
        "label": "Home (new)",
        "line1": "10 New St",
        "city": "Portland",
        "postalCode": "97201",
        "country": "US",
        "isDefault": true,
    });
    let r = authed(
        &api,
        Method::PUT,
        &path,
        &s.access,
        Some(replacement.clone()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["id"], home_id.as_str());
    assert_eq!(r.body["label"], "Home (new)");
    assert_eq!(r.body["line1"], "10 New St");
    assert_eq!(r.body["line2"], Value::Null, "replaced, not merged");
    assert_eq!(r.body["region"], Value::Null, "replaced, not merged");
    assert_eq!(r.body["city"], "Portland");
    assert_eq!(r.body["isDefault"], true);
    assert_eq!(r.body["createdAt"], home["createdAt"]);
    let items = list_addresses(&api, &s.access).await;
    assert_eq!(the_default(&items), home_id);
    assert_eq!(items.len(), 3);

    // The default cannot be un-defaulted by itself.
    replacement["isDefault"] = json!(false);
    authed(&api, Method::PUT, &path, &s.access, Some(replacement))
        .await
        .assert_problem(409, "conflict");
    assert_eq!(the_default(&list_addresses(&api, &s.access).await), home_id);

    // Invalid bodies name the field.
    let mut bad = address("Bad", "4 Bad Ave", false);
    bad["country"] = json!("USA");
    authed(&api, Method::POST, "/v1/me/addresses", &s.access, Some(bad))
        .await
        .assert_invalid("country");
    let mut bad = address("Bad", "4 Bad Ave", false);
    bad.as_object_mut().expect("object").remove("line1");
    authed(&api, Method::POST, "/v1/me/addresses", &s.access, Some(bad))
        .await
        .assert_invalid("line1");
    assert_eq!(list_addresses(&api, &s.access).await.len(), 3);

    // Deleting the default makes the oldest remaining address the default.
    let r = authed(&api, Method::DELETE, &path, &s.access, None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let items = list_addresses(&api, &s.access).await;
    assert_eq!(items.len(), 2);
    assert_eq!(the_default(&items), work_id, "the oldest remaining");
    authed(&api, Method::DELETE, &path, &s.access, None)
        .await
        .assert_problem(404, "not_found");
    authed(
        &api,
        Method::PUT,
        &path,
        &s.access,
        Some(address("Gone", "1 Main St", false)),
    )
    .await
    .assert_problem(404, "not_found");
    authed(
        &api,
        Method::DELETE,
        "/v1/me/addresses/not-an-id",
        &s.access,
        None,
    )
    .await
    .assert_problem(404, "not_found");

    // Deleting a non-default leaves the default alone; the last one goes too.
    let r = authed(
        &api,
        Method::DELETE,
        &format!("/v1/me/addresses/{cabin_id}"),
        &s.access,
        None,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(the_default(&list_addresses(&api, &s.access).await), work_id);
    let r = authed(
        &api,
        Method::DELETE,
        &format!("/v1/me/addresses/{work_id}"),
        &s.access,
        None,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(list_addresses(&api, &s.access).await.is_empty());
}

#[tokio::test]
async fn preferences_start_with_defaults_and_are_replaced_whole() {
    let api = TestApi::spawn(Seed::None).await;
    let s = new_customer(&api, "prefs@example.com", "Pref Erences").await;
    let get = || authed(&api, Method::GET, "/v1/me/preferences", &s.access, None);
    let put = |body: Value| {
        authed(
            &api,
            Method::PUT,
            "/v1/me/preferences",
            &s.access,
            Some(body),
        )
    };

    let r = get().await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"marketingEmails": false, "orderUpdates": true, "currency": "USD", "language": "en"})
    );

    let r = put(json!({"marketingEmails": true, "orderUpdates": false, "currency": "EUR", "language": "en-gb"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let expected = json!({"marketingEmails": true, "orderUpdates": false, "currency": "EUR", "language": "en-GB"});
    assert_eq!(r.body, expected);
    assert_eq!(get().await.body, expected);

    // Every field is required; bad and unknown fields are named.
    put(json!({"marketingEmails": false, "orderUpdates": true, "currency": "USD"}))
        .await
        .assert_invalid("language");
    put(json!({"marketingEmails": "yes", "orderUpdates": true, "currency": "USD", "language": "en"}))
        .await
        .assert_invalid("marketingEmails");
    put(json!({"marketingEmails": false, "orderUpdates": true, "currency": "usd", "language": "en"}))
        .await
        .assert_invalid("currency");
    put(json!({"marketingEmails": false, "orderUpdates": true, "currency": "USD", "language": "english"}))
        .await
        .assert_invalid("language");
    put(json!({"marketingEmails": false, "orderUpdates": true, "currency": "USD", "language": "en", "theme": "dark"}))
        .await
        .assert_invalid("theme");
    assert_eq!(get().await.body, expected, "failed PUTs changed nothing");
}

#[tokio::test]
async fn the_profile_and_issued_tokens_survive_a_graceful_restart() {
    let mut api = TestApi::spawn(Seed::None).await;
    let s = new_customer(&api, "durable@example.com", "Dora Durable").await;
    let patched = authed(
        &api,
        Method::PATCH,
        "/v1/me",
        &s.access,
        Some(json!({"name": "Dora D.", "phone": "+442071838750"})),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    create_address(&api, &s.access, address("Home", "1 Stable St", false)).await;
    create_address(&api, &s.access, address("Work", "2 Stable St", true)).await;
    let prefs = json!({"marketingEmails": true, "orderUpdates": true, "currency": "GBP", "language": "en-GB"});
    let r = authed(
        &api,
        Method::PUT,
        "/v1/me/preferences",
        &s.access,
        Some(prefs.clone()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let profile = me(&api, &s.access).await.body;
    let addresses = list_addresses(&api, &s.access).await;
    let validated = validate(&api, &s.access).await.body;
    let customer = api.customer_token();
    let admin = api.admin_token();
    let jwks = send(api.request(Method::GET, "/.well-known/jwks.json"))
        .await
        .body;
    // A second login whose refresh token is used only after the restart,
    // and one that is logged out before it.
    let later = Session::from_reply(&login(&api, "durable@example.com", PASSWORD).await);
    let gone = Session::from_reply(&login(&api, "durable@example.com", PASSWORD).await);
    let r = authed(&api, Method::POST, "/v1/auth/logout", &gone.access, None).await;
    assert_eq!(r.status, 204, "{}", r.body);

    api.restart().await;

    // The data is all there.
    let r = me(&api, &s.access).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, profile);
    assert_eq!(r.body["name"], "Dora D.");
    assert_eq!(r.body["phone"], "+442071838750");
    let after = list_addresses(&api, &s.access).await;
    assert_eq!(after, addresses);
    assert_eq!(after.len(), 2);
    assert_eq!(after[0]["label"], "Work");
    the_default(&after);
    let r = authed(&api, Method::GET, "/v1/me/preferences", &s.access, None).await;
    assert_eq!(r.body, prefs);

    // Tokens issued before the restart verify after it: the signing key
    // was kept.
    let r = validate(&api, &s.access).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, validated);
    assert_eq!(validate(&api, &customer).await.status, 200);
    let r = put_stock(&api, &admin).await;
    assert_eq!(
        r.status, 200,
        "the admin token after the restart: {}",
        r.body
    );
    let r = send(api.request(Method::GET, "/.well-known/jwks.json")).await;
    assert_eq!(r.body, jwks, "the published keys did not change");
    let r = refresh(&api, &later.refresh).await;
    assert_eq!(r.status, 200, "a refresh token from before: {}", r.body);
    assert_token_shape(&r, "durable@example.com", "Dora D.", &["customer"]);
    // Revocations survive too.
    assert_unauthorized(&validate(&api, &gone.access).await, "logged out before");
    assert_unauthorized(&refresh(&api, &gone.refresh).await, "logged out before");
    // And the password still signs in; the e-mail is still taken.
    assert_eq!(
        login(&api, "durable@example.com", PASSWORD).await.status,
        200
    );
    signup(&api, "durable@example.com", PASSWORD, "Copy")
        .await
        .assert_problem(409, "conflict");
}

// ------------------------------------------------------------------- admin ---

#[tokio::test]
async fn the_admin_from_the_environment_signs_in_with_both_roles() {
    let mut api = TestApi::spawn(Seed::None).await;
    let r = login(&api, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["roles"], json!(["customer", "admin"]));
    assert_token_shape(
        &r,
        ADMIN_EMAIL,
        r.body["user"]["name"].as_str().expect("a name"),
        &["customer", "admin"],
    );
    let admin = Session::from_reply(&r);
    let v = validate(&api, &admin.access).await;
    assert_eq!(v.status, 200, "{}", v.body);
    assert_eq!(v.body["roles"], json!(["customer", "admin"]));
    assert_eq!(v.body["email"], ADMIN_EMAIL);
    let r = put_stock(&api, &admin.access).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The admin has a profile like anyone else.
    let m = me(&api, &admin.access).await;
    assert_eq!(m.status, 200, "{}", m.body);
    assert_eq!(m.body["id"], admin.user_id.as_str());

    // A new sign-up never gets the admin role.
    let c = new_customer(&api, "ambitious@example.com", "Amb Itious").await;
    assert_eq!(
        validate(&api, &c.access).await.body["roles"],
        json!(["customer"])
    );

    // The bootstrap is idempotent: the same single account after a restart.
    api.restart().await;
    let r = login(&api, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["id"], admin.user_id.as_str());
    assert_eq!(r.body["user"]["roles"], json!(["customer", "admin"]));
}
