//! Google sign-in end to end against a fake OpenID provider on 127.0.0.1:
//! discovery, an authorization endpoint that redirects back with a code, a
//! token endpoint that checks the code, the client secret and the PKCE
//! verifier, and a JWKS with a test RSA key (testdata/). The production
//! code path runs unchanged, configured with the fake's issuer URL.

mod common;

use auth::GoogleConfig;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{app, app_with, keys, str_of, App, PASSWORD};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const RSA_PEM: &str = include_str!("../testdata/fake-google-rsa.pem");
const JWKS: &str = include_str!("../testdata/fake-google-jwks.json");
const CLIENT_ID: &str = "client-123.apps.example";
const CLIENT_SECRET: &str = "s3cret";
const REDIRECT_URI: &str = "http://localhost:5173/auth/callback";

/// Who signs in at the fake provider, and how it misbehaves on request.
#[derive(Clone)]
struct Person {
    sub: String,
    email: String,
    email_verified: bool,
    name: Option<String>,
    wrong_nonce: bool,
}

impl Person {
    fn new(sub: &str, email: &str) -> Self {
        Self {
            sub: sub.into(),
            email: email.into(),
            email_verified: true,
            name: Some("Grace Hopper".into()),
            wrong_nonce: false,
        }
    }
}

struct Grant {
    challenge: String,
    nonce: String,
    redirect_uri: String,
    person: Person,
}

#[derive(Clone)]
struct Fake {
    base: String,
    person: Arc<Mutex<Person>>,
    grants: Arc<Mutex<HashMap<String, Grant>>>,
    token_calls: Arc<Mutex<usize>>,
}

async fn discovery(State(f): State<Fake>) -> Response {
    axum::Json(json!({
        "issuer": f.base,
        "authorization_endpoint": format!("{}/o/oauth2/v2/auth", f.base),
        "token_endpoint": format!("{}/token", f.base),
        "jwks_uri": format!("{}/oauth2/v3/certs", f.base),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    }))
    .into_response()
}

async fn jwks() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], JWKS).into_response()
}

/// The user consents at once: back to the redirect URI with a fresh code.
async fn authorize(State(f): State<Fake>, Query(q): Query<HashMap<String, String>>) -> Response {
    let ok = q.get("response_type").map(String::as_str) == Some("code")
        && q.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && q.get("code_challenge_method").map(String::as_str) == Some("S256")
        && q.get("scope")
            .is_some_and(|s| s.split(' ').any(|x| x == "openid"))
        && q.contains_key("state")
        && q.contains_key("nonce");
    if !ok {
        return (
            StatusCode::BAD_REQUEST,
            format!("bad authorization request: {q:?}"),
        )
            .into_response();
    }
    let code = format!("code-{}", ulid::Ulid::new());
    f.grants.lock().unwrap().insert(
        code.clone(),
        Grant {
            challenge: q["code_challenge"].clone(),
            nonce: q["nonce"].clone(),
            redirect_uri: q["redirect_uri"].clone(),
            person: f.person.lock().unwrap().clone(),
        },
    );
    let location = format!("{}?code={code}&state={}", q["redirect_uri"], q["state"]);
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

async fn token(State(f): State<Fake>, body: Bytes) -> Response {
    *f.token_calls.lock().unwrap() += 1;
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let invalid = |why: &str| {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_grant", "error_description": why})),
        )
            .into_response()
    };
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return invalid("grant_type");
    }
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    // Codes are single use.
    let Some(grant) = form
        .get("code")
        .and_then(|c| f.grants.lock().unwrap().remove(c))
    else {
        return invalid("unknown code");
    };
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return invalid("redirect_uri");
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge {
        return invalid("PKCE verification failed");
    }
    let now = chrono::Utc::now().timestamp();
    let p = &grant.person;
    let claims = json!({
        "iss": f.base, "aud": CLIENT_ID, "azp": CLIENT_ID, "sub": p.sub, "email": p.email,
        "email_verified": p.email_verified, "name": p.name,
        "nonce": if p.wrong_nonce { "not-the-nonce".to_owned() } else { grant.nonce.clone() },
        "iat": now, "exp": now + 3600,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("fake-google-1".into());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(RSA_PEM.as_bytes()).unwrap();
    let id_token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    axum::Json(json!({"access_token": "ya29.fake", "token_type": "Bearer", "expires_in": 3599, "scope": "openid email profile", "id_token": id_token})).into_response()
}

async fn start_fake() -> Fake {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let fake = Fake {
        base,
        person: Arc::new(Mutex::new(Person::new("google-sub-1", "grace@example.com"))),
        grants: Arc::default(),
        token_calls: Arc::default(),
    };
    let router = axum::Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/oauth2/v3/certs", get(jwks))
        .route("/o/oauth2/v2/auth", get(authorize))
        .route("/token", post(token))
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    fake
}

fn google_app(fake: &Fake) -> App {
    let issuer = fake.base.clone();
    app_with(move |mut c| {
        c.google = Some(GoogleConfig {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_uri: REDIRECT_URI.into(),
            issuer,
        });
        c
    })
}

fn query_of(url: &str) -> HashMap<String, String> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

/// `start` on our API, then the browser's trip through the provider; the
/// `(code, state)` the provider sent back.
async fn authorize_at_provider(app: &App) -> (String, String) {
    let r = app.call(Method::GET, "/v1/auth/google/start").send().await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    let location = r.header("location").unwrap().to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let back = client.get(&location).send().await.unwrap();
    assert_eq!(
        back.status().as_u16(),
        302,
        "{}",
        back.text().await.unwrap()
    );
    let redirect = back.headers()["location"].to_str().unwrap().to_owned();
    assert!(redirect.starts_with(REDIRECT_URI), "{redirect}");
    let q = query_of(&redirect);
    (q["code"].clone(), q["state"].clone())
}

async fn callback(app: &App, code: &str, state: &str) -> common::Resp {
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("code", code)
        .append_pair("state", state)
        .finish();
    app.call(Method::GET, &format!("/v1/auth/google/callback?{q}"))
        .send()
        .await
}

#[tokio::test]
async fn start_redirects_with_state_nonce_and_pkce_s256() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    let r = app.call(Method::GET, "/v1/auth/google/start").send().await;
    assert_eq!(r.status, StatusCode::FOUND);
    let location = r.header("location").unwrap();
    assert!(
        location.starts_with(&format!("{}/o/oauth2/v2/auth?", fake.base)),
        "{location}"
    );
    let q = query_of(location);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["redirect_uri"], REDIRECT_URI);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["scope"], "openid email profile");
    assert_eq!(
        URL_SAFE_NO_PAD.decode(&q["code_challenge"]).unwrap().len(),
        32
    );
    assert_eq!(q["state"].len(), 43);
    assert_ne!(q["state"], q["nonce"]);
    // The pending state is in the table for 10 minutes.
    let item = app
        .store
        .get(&lite_store::Key::new(
            format!("OIDC#{}", q["state"]),
            "OIDC",
        ))
        .await
        .unwrap()
        .unwrap();
    let ttl = item["expiresAt"].as_i64().unwrap() - chrono::Utc::now().timestamp();
    assert!((590..=600).contains(&ttl), "{ttl}");
    assert_eq!(item["nonce"], q["nonce"].as_str());
}

#[tokio::test]
async fn happy_path_creates_an_account_then_signs_the_same_account_in() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    let (code, state) = authorize_at_provider(&app).await;
    let r = callback(&app, &code, &state).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        keys(&r.body),
        ["accessToken", "expiresIn", "refreshToken", "user"]
    );
    assert_eq!(r.body["user"]["email"], "grace@example.com");
    assert_eq!(r.body["user"]["name"], "Grace Hopper");
    assert_eq!(r.body["user"]["roles"], json!(["customer"]));
    let id = str_of(&r.body["user"], "id").to_owned();
    assert_eq!(
        app.validate(str_of(&r.body, "accessToken")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.refresh(str_of(&r.body, "refreshToken")).await.status,
        StatusCode::OK
    );
    // A new account: profile, registered event, no password.
    assert!(users::read::profile(app.store.as_ref(), &id)
        .await
        .unwrap()
        .is_some());
    assert_eq!(app.outbox().await.len(), 1);
    let creds = app
        .store
        .get(&lite_store::Key::new(
            format!("CREDENTIALS#{id}"),
            "CREDENTIALS",
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(creds.get("passwordHash").is_none());
    assert_eq!(creds["googleSubject"], "google-sub-1");
    // So a password login cannot get in.
    assert_eq!(
        app.login("grace@example.com", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Second sign-in: the same account, no new event.
    let (code, state) = authorize_at_provider(&app).await;
    let again = callback(&app, &code, &state).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["user"]["id"], id.as_str());
    assert_eq!(app.outbox().await.len(), 1);
}

#[tokio::test]
async fn an_existing_password_account_is_linked_by_verified_email() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    let signed = app.signup("grace@example.com", "Grace").await;
    assert_eq!(signed.status, StatusCode::CREATED);
    let (code, state) = authorize_at_provider(&app).await;
    let r = callback(&app, &code, &state).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["user"]["id"], signed.body["user"]["id"]);
    assert_eq!(
        r.body["user"]["name"], "Grace",
        "the profile's name, not Google's"
    );
    // Another Google identity claiming the same e-mail is refused.
    *fake.person.lock().unwrap() = Person::new("google-sub-2", "grace@example.com");
    let (code, state) = authorize_at_provider(&app).await;
    assert_eq!(
        callback(&app, &code, &state).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn bad_missing_and_reused_state_are_400() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    let (code, state) = authorize_at_provider(&app).await;

    let forged = URL_SAFE_NO_PAD.encode([7u8; 32]);
    for bad in [forged.as_str(), "x", ""] {
        let r = callback(&app, &code, bad).await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_request")),
            "{bad:?}"
        );
    }
    let r = app
        .call(
            Method::GET,
            &format!("/v1/auth/google/callback?code={code}"),
        )
        .send()
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        *fake.token_calls.lock().unwrap(),
        0,
        "no code exchange without a valid state"
    );

    assert_eq!(callback(&app, &code, &state).await.status, StatusCode::OK);
    let reused = callback(&app, &code, &state).await;
    assert_eq!(reused.status, StatusCode::BAD_REQUEST);
    assert!(reused.body["detail"]
        .as_str()
        .unwrap()
        .contains("already used"));

    // The provider said no (user declined).
    let r = app
        .call(
            Method::GET,
            "/v1/auth/google/callback?error=access_denied&state=x",
        )
        .send()
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_code_from_another_sign_in_fails_pkce() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    let (code_a, _state_a) = authorize_at_provider(&app).await;
    let (_code_b, state_b) = authorize_at_provider(&app).await;
    // Our verifier for B does not match A's challenge: the provider refuses.
    let r = callback(&app, &code_a, &state_b).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(*fake.token_calls.lock().unwrap(), 1);
}

#[tokio::test]
async fn unverified_email_and_wrong_nonce_are_refused() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    fake.person.lock().unwrap().email_verified = false;
    let (code, state) = authorize_at_provider(&app).await;
    let r = callback(&app, &code, &state).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );

    *fake.person.lock().unwrap() = Person {
        wrong_nonce: true,
        ..Person::new("google-sub-1", "grace@example.com")
    };
    let (code, state) = authorize_at_provider(&app).await;
    assert_eq!(
        callback(&app, &code, &state).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(app.outbox().await.is_empty(), "no account was created");
}

#[tokio::test]
async fn without_configuration_google_routes_are_503() {
    let app = app();
    for uri in [
        "/v1/auth/google/start",
        "/v1/auth/google/callback?code=a&state=b",
    ] {
        let r = app.call(Method::GET, uri).send().await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert_eq!(r.body["code"], "unavailable");
        assert!(r.body["detail"]
            .as_str()
            .unwrap()
            .contains("GOOGLE_CLIENT_ID"));
    }
}

#[tokio::test]
async fn an_unreachable_provider_is_503_not_500() {
    // A port nothing listens on (bound, then dropped).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let app = app_with(move |mut c| {
        c.google = Some(GoogleConfig {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_uri: REDIRECT_URI.into(),
            issuer,
        });
        c
    });
    let r = app.call(Method::GET, "/v1/auth/google/start").send().await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.header("retry-after").is_some());
    let _: Value = r.body;
}
