//! Google sign-in end to end against a fake OpenID provider on 127.0.0.1:
//! discovery (a document of Google's shape, testdata/), an authorization
//! endpoint that redirects back with a code, a token endpoint that checks
//! the code, the client secret and the PKCE verifier, and a JWKS with a
//! test RSA key (testdata/). The production code path runs unchanged,
//! configured with the fake's issuer URL; each test makes the fake
//! misbehave in one way and checks the answer is the documented problem.

mod common;

use auth::google::HttpTimeouts;
use auth::{AuthConfig, GoogleConfig, SigningKeys};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{app, app_on, app_with, keys, str_of, App, PASSWORD};
use lite_core::ManualClock;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const RSA_PEM: &str = include_str!("../testdata/fake-google-rsa.pem");
const JWKS: &str = include_str!("../testdata/fake-google-jwks.json");
const DISCOVERY: &str = include_str!("../testdata/google-openid-configuration.json");
const CLIENT_ID: &str = "client-123.apps.example";
const CLIENT_SECRET: &str = "s3cret";
const REDIRECT_URI: &str = "http://localhost:5173/auth/callback";
const KID: &str = "fake-google-1";

/// Who signs in at the fake provider.
#[derive(Clone)]
struct Person {
    sub: String,
    email: String,
    email_verified: Value,
    name: Option<String>,
}

impl Person {
    fn new(sub: &str, email: &str) -> Self {
        Self {
            sub: sub.into(),
            email: email.into(),
            email_verified: json!(true),
            name: Some("Grace Hopper".into()),
        }
    }
}

/// How the token endpoint answers.
#[derive(Clone, Copy, Default, PartialEq)]
enum TokenEndpoint {
    #[default]
    Works,
    /// 500 with an OAuth error body (`server_error`).
    ServerError,
    /// 503 with an HTML page.
    Unavailable,
    /// Never answers.
    Hangs,
}

/// What the fake gets wrong in the ID token it issues, when told to.
#[derive(Clone, Default)]
struct Tweaks {
    nonce: Option<String>,
    audience: Option<Value>,
    issuer: Option<String>,
    /// Seconds from now; default one hour.
    expires_in: Option<i64>,
    /// The `kid` in the token's header; default `fake-google-1`.
    kid: Option<String>,
    /// MAC the token with the client secret (HS256) instead of signing it.
    hs256: bool,
    token_endpoint: TokenEndpoint,
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
    tweaks: Arc<Mutex<Tweaks>>,
    /// The kids the JWKS publishes (all for the one test key).
    published: Arc<Mutex<Vec<String>>>,
    grants: Arc<Mutex<HashMap<String, Grant>>>,
    calls: Arc<Mutex<HashMap<&'static str, usize>>>,
}

impl Fake {
    fn count(&self, what: &'static str) {
        *self.calls.lock().unwrap().entry(what).or_default() += 1;
    }

    fn calls(&self, what: &str) -> usize {
        self.calls.lock().unwrap().get(what).copied().unwrap_or(0)
    }

    fn tweak(&self, f: impl FnOnce(&mut Tweaks)) {
        f(&mut self.tweaks.lock().unwrap());
    }
}

/// Google's document with Google's hosts replaced by the fake's address.
async fn discovery(State(f): State<Fake>) -> Response {
    f.count("discovery");
    let mut doc = DISCOVERY.to_owned();
    for host in [
        "https://accounts.google.com",
        "https://oauth2.googleapis.com",
        "https://openidconnect.googleapis.com",
        "https://www.googleapis.com",
    ] {
        doc = doc.replace(host, &f.base);
    }
    ([(header::CONTENT_TYPE, "application/json")], doc).into_response()
}

/// The test key, once under each published kid.
async fn jwks(State(f): State<Fake>) -> Response {
    f.count("jwks");
    let set: Value = serde_json::from_str(JWKS).unwrap();
    let keys: Vec<Value> = f
        .published
        .lock()
        .unwrap()
        .iter()
        .map(|kid| {
            let mut key = set["keys"][0].clone();
            key["kid"] = json!(kid);
            key
        })
        .collect();
    axum::Json(json!({ "keys": keys })).into_response()
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

fn id_token(f: &Fake, grant: &Grant, t: &Tweaks) -> String {
    let now = chrono::Utc::now().timestamp();
    let p = &grant.person;
    let claims = json!({
        "iss": t.issuer.clone().unwrap_or_else(|| f.base.clone()),
        "aud": t.audience.clone().unwrap_or_else(|| json!(CLIENT_ID)),
        "azp": CLIENT_ID,
        "sub": p.sub, "email": p.email, "email_verified": p.email_verified, "name": p.name,
        "given_name": "Grace", "family_name": "Hopper",
        "picture": "https://lh3.googleusercontent.example/a/photo",
        "nonce": t.nonce.clone().unwrap_or_else(|| grant.nonce.clone()),
        "iat": now, "exp": now + t.expires_in.unwrap_or(3600),
    });
    if t.hs256 {
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        let key = jsonwebtoken::EncodingKey::from_secret(CLIENT_SECRET.as_bytes());
        return jsonwebtoken::encode(&header, &claims, &key).unwrap();
    }
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(t.kid.clone().unwrap_or_else(|| KID.into()));
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(RSA_PEM.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

async fn token(State(f): State<Fake>, body: Bytes) -> Response {
    f.count("token");
    let t = f.tweaks.lock().unwrap().clone();
    match t.token_endpoint {
        TokenEndpoint::Works => {}
        TokenEndpoint::ServerError => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"error": "server_error"})),
            )
                .into_response()
        }
        TokenEndpoint::Unavailable => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body>Service Unavailable</body></html>",
            )
                .into_response()
        }
        TokenEndpoint::Hangs => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }
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
    let id_token = id_token(&f, &grant, &t);
    axum::Json(json!({"access_token": "ya29.fake", "token_type": "Bearer", "expires_in": 3599, "scope": "openid email profile", "id_token": id_token})).into_response()
}

async fn start_fake() -> Fake {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let fake = Fake {
        base,
        person: Arc::new(Mutex::new(Person::new("google-sub-1", "grace@example.com"))),
        tweaks: Arc::default(),
        published: Arc::new(Mutex::new(vec![KID.into()])),
        grants: Arc::default(),
        calls: Arc::default(),
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

fn google_config(issuer: &str) -> GoogleConfig {
    GoogleConfig {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_uri: REDIRECT_URI.into(),
        issuer: issuer.into(),
        timeouts: HttpTimeouts::default(),
    }
}

/// Auth configured for the fake provider at `issuer`.
fn with_google(issuer: &str) -> impl FnOnce(AuthConfig) -> AuthConfig {
    let config = google_config(issuer);
    move |c| AuthConfig {
        google: Some(config),
        ..c
    }
}

fn google_app(fake: &Fake) -> App {
    app_with(with_google(&fake.base))
}

/// The same app on a clock the test moves (the key cache's timing).
fn google_app_on(fake: &Fake, clock: Arc<ManualClock>) -> App {
    let mut ctx = lite_ports::testing::memory_context();
    ctx.clock = clock;
    app_on(ctx, SigningKeys::generate(), with_google(&fake.base))
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

/// A whole sign-in: start, the provider, our callback.
async fn sign_in(app: &App) -> common::Resp {
    let (code, state) = authorize_at_provider(app).await;
    callback(app, &code, &state).await
}

/// The documented refusal of an identity: 401 problem, no detail on why.
#[track_caller]
fn assert_identity_refused(r: &common::Resp) {
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.body["code"], "unauthorized");
    assert_eq!(
        r.body["detail"],
        "The Google identity could not be verified."
    );
}

/// The documented answer when Google fails: 503 problem with Retry-After.
#[track_caller]
fn assert_provider_unavailable(r: &common::Resp) {
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.body["code"], "unavailable");
    assert!(r.header("retry-after").is_some());
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
    assert_eq!(q["nonce"].len(), 43);
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
    // The stored verifier is the one the challenge was made from.
    let verifier = item["verifier"].as_str().unwrap();
    assert_eq!(
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
        q["code_challenge"]
    );
}

#[tokio::test]
async fn discovery_waits_for_the_first_sign_in_and_is_kept() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    // Building the service (Lambda init) calls nothing.
    assert_eq!((fake.calls("discovery"), fake.calls("jwks")), (0, 0));
    assert_eq!(sign_in(&app).await.status, StatusCode::OK);
    assert_eq!(sign_in(&app).await.status, StatusCode::OK);
    assert_eq!((fake.calls("discovery"), fake.calls("jwks")), (1, 1));
}

#[tokio::test]
async fn happy_path_creates_an_account_then_signs_the_same_account_in() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    let r = sign_in(&app).await;
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
    let again = sign_in(&app).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["user"]["id"], id.as_str());
    assert_eq!(app.outbox().await.len(), 1);
}

#[tokio::test]
async fn email_verified_as_the_string_true_is_accepted() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    fake.person.lock().unwrap().email_verified = json!("true");
    assert_eq!(sign_in(&app).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_existing_password_account_is_linked_by_verified_email() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    let signed = app.signup("grace@example.com", "Grace").await;
    assert_eq!(signed.status, StatusCode::CREATED);
    let r = sign_in(&app).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["user"]["id"], signed.body["user"]["id"]);
    assert_eq!(
        r.body["user"]["name"], "Grace",
        "the profile's name, not Google's"
    );
    // Another Google identity claiming the same e-mail is refused.
    *fake.person.lock().unwrap() = Person::new("google-sub-2", "grace@example.com");
    assert_identity_refused(&sign_in(&app).await);
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
        fake.calls("token"),
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
async fn a_replayed_state_is_refused_before_any_exchange() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    let (code, state) = authorize_at_provider(&app).await;
    assert_eq!(callback(&app, &code, &state).await.status, StatusCode::OK);
    // The state comes back with a code of a newer sign-in (whose own state
    // is never used): the pending sign-in is gone, nothing is exchanged.
    let (fresh_code, _) = authorize_at_provider(&app).await;
    let r = callback(&app, &fresh_code, &state).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    assert_eq!(
        r.body["detail"],
        "The sign-in state is unknown or was already used; start again."
    );
    assert_eq!(fake.calls("token"), 1);
}

#[tokio::test]
async fn concurrent_callbacks_with_one_state_exchange_once() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    let (code, state) = authorize_at_provider(&app).await;
    let (a, b) = tokio::join!(callback(&app, &code, &state), callback(&app, &code, &state));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::BAD_REQUEST]);
    assert_eq!(fake.calls("token"), 1);
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
    assert_eq!(r.body["code"], "bad_request");
    assert_eq!(fake.calls("token"), 1);
}

#[tokio::test]
async fn an_unverified_email_is_refused() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    fake.person.lock().unwrap().email_verified = json!(false);
    assert_identity_refused(&sign_in(&app).await);
    assert!(app.outbox().await.is_empty(), "no account was created");
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    fake.tweak(|t| t.nonce = Some(URL_SAFE_NO_PAD.encode([9u8; 32])));
    assert_identity_refused(&sign_in(&app).await);
    assert!(app.outbox().await.is_empty(), "no account was created");
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    for audience in [
        json!("someone-else.apps.example"),
        // Ours among others we do not trust.
        json!([CLIENT_ID, "someone-else.apps.example"]),
    ] {
        fake.tweak(|t| t.audience = Some(audience.clone()));
        assert_identity_refused(&sign_in(&app).await);
    }
    assert!(app.outbox().await.is_empty());
}

#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    let bare = fake.base.trim_start_matches("http://").to_owned();
    for issuer in ["https://accounts.evil.example".to_owned(), bare] {
        fake.tweak(|t| t.issuer = Some(issuer.clone()));
        assert_identity_refused(&sign_in(&app).await);
    }
    assert!(app.outbox().await.is_empty());
}

#[tokio::test]
async fn an_expired_token_is_refused_past_a_minute_of_leeway() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    fake.tweak(|t| t.expires_in = Some(-120));
    assert_identity_refused(&sign_in(&app).await);
    assert!(app.outbox().await.is_empty());
    // Expired 30 s ago: within the tolerated clock skew.
    fake.tweak(|t| t.expires_in = Some(-30));
    assert_eq!(sign_in(&app).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_token_macd_with_the_client_secret_is_refused() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    fake.tweak(|t| t.hs256 = true);
    assert_identity_refused(&sign_in(&app).await);
}

#[tokio::test]
async fn an_unknown_kid_is_refused_and_refetches_keys_at_most_once_a_minute() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    fake.tweak(|t| t.kid = Some("not-published".into()));
    assert_identity_refused(&sign_in(&app).await);
    assert_identity_refused(&sign_in(&app).await);
    // The keys that came with discovery are a second old: no refetch.
    assert_eq!(fake.calls("jwks"), 1);
    assert!(app.outbox().await.is_empty());
}

#[tokio::test]
async fn a_rotated_key_is_learned_on_its_first_token_once_the_keys_are_a_minute_old() {
    let fake = start_fake().await;
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let app = google_app_on(&fake, clock.clone());
    assert_eq!(sign_in(&app).await.status, StatusCode::OK);
    assert_eq!(fake.calls("jwks"), 1);

    // Google publishes a new key and signs with it.
    fake.published.lock().unwrap().push("fake-google-2".into());
    fake.tweak(|t| t.kid = Some("fake-google-2".into()));
    assert_identity_refused(&sign_in(&app).await);
    assert_eq!(fake.calls("jwks"), 1, "keys fetched under a minute ago");

    clock.advance(chrono::Duration::seconds(61));
    let r = sign_in(&app).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(fake.calls("jwks"), 2);
    // Known now: no further fetch.
    assert_eq!(sign_in(&app).await.status, StatusCode::OK);
    assert_eq!(fake.calls("jwks"), 2);

    // Keys older than an hour are fetched again even when they match, so
    // a withdrawn key stops being trusted.
    fake.published
        .lock()
        .unwrap()
        .retain(|k| k == "fake-google-2");
    fake.tweak(|t| t.kid = Some(KID.into()));
    clock.advance(chrono::Duration::minutes(61));
    assert_identity_refused(&sign_in(&app).await);
    assert_eq!(fake.calls("jwks"), 3);
}

#[tokio::test]
async fn a_failing_token_endpoint_is_503_and_the_code_is_sent_once() {
    let fake = start_fake().await;
    let app = google_app(&fake);
    for (n, behaviour) in [TokenEndpoint::ServerError, TokenEndpoint::Unavailable]
        .into_iter()
        .enumerate()
    {
        fake.tweak(|t| t.token_endpoint = behaviour);
        assert_provider_unavailable(&sign_in(&app).await);
        assert_eq!(fake.calls("token"), n + 1, "no retry");
    }
}

#[tokio::test]
async fn a_hanging_token_endpoint_times_out_as_503_without_a_retry() {
    let fake = start_fake().await;
    let mut config = google_config(&fake.base);
    config.timeouts = HttpTimeouts {
        connect: Duration::from_millis(500),
        total: Duration::from_millis(500),
    };
    let app = app_with(move |mut c| {
        c.google = Some(config);
        c
    });
    fake.tweak(|t| t.token_endpoint = TokenEndpoint::Hangs);
    assert_provider_unavailable(&sign_in(&app).await);
    assert_eq!(fake.calls("token"), 1);
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
async fn a_redirect_uri_that_is_not_a_url_fails_sign_in_without_calling_the_provider() {
    let fake = start_fake().await;
    let mut config = google_config(&fake.base);
    config.redirect_uri = "not a url".into();
    let app = app_with(move |mut c| {
        c.google = Some(config);
        c
    });
    let r = app.call(Method::GET, "/v1/auth/google/start").send().await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.body["code"], "internal");
    assert_eq!(fake.calls("discovery"), 0);
}

#[tokio::test]
async fn an_unreachable_provider_is_503_not_500() {
    // A port nothing listens on (bound, then dropped).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let config = google_config(&issuer);
    let app = app_with(move |mut c| {
        c.google = Some(config);
        c
    });
    let r = app.call(Method::GET, "/v1/auth/google/start").send().await;
    assert_provider_unavailable(&r);
}
