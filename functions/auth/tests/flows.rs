//! Sign-up, login, refresh, logout and validate over the router (`oneshot`)
//! on the in-memory redb store, with the verifier production uses: bodies
//! exactly as API.md says, and what the table holds after each step.

mod common;

use auth::{AdminBootstrap, SigningKey, SigningKeys};
use axum::http::{Method, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{app, app_with, app_with_keys, keys, str_of, App, PASSWORD};
use lite_http::auth::{AUDIENCE, ISSUER};
use lite_http::{Access, Claims, Role};
use lite_store::Key;
use serde_json::{json, Value};

async fn signed_up(app: &App, email: &str) -> Value {
    let r = app.signup(email, "Ann Lee").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

#[tokio::test]
async fn signup_answers_the_token_shape_and_writes_account_profile_event_and_session() {
    let app = app();
    let r = app.signup("  Ann.Lee@Example.COM ", " Ann Lee ").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let body = &r.body;
    assert_eq!(
        keys(body),
        ["accessToken", "expiresIn", "refreshToken", "user"]
    );
    assert_eq!(keys(&body["user"]), ["email", "id", "name", "roles"]);
    assert_eq!(body["user"]["email"], "ann.lee@example.com");
    assert_eq!(body["user"]["name"], "Ann Lee");
    assert_eq!(body["user"]["roles"], json!(["customer"]));
    assert_eq!(body["expiresIn"], 900);
    let id = str_of(&body["user"], "id");
    assert!(auth::UserId::parse(id).is_some(), "{id}");
    assert_eq!(str_of(body, "refreshToken").len(), 43);
    assert_eq!(r.header("ratelimit-limit"), Some("300"));
    assert_eq!(r.header("ratelimit-remaining"), Some("299"));

    // The access token is an EdDSA JWT with a kid and exactly the claims of
    // `lite_http::Claims`.
    let token = str_of(body, "accessToken");
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), Some(app.keys.kid()));
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        keys(&payload),
        ["aud", "email", "exp", "iat", "iss", "jti", "roles", "sid", "sub"]
    );
    assert_eq!(
        payload["exp"].as_i64().unwrap() - payload["iat"].as_i64().unwrap(),
        900
    );
    assert_eq!(
        (payload["iss"].as_str(), payload["aud"].as_str()),
        (Some(ISSUER), Some(AUDIENCE))
    );
    assert_eq!(payload["sub"], id);

    // Profile and preferences (users service) exist; the e-mail is claimed;
    // the password is stored only as an argon2id hash.
    let profile = users::read::profile(app.store.as_ref(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (profile.email.as_str(), profile.name.as_str()),
        ("ann.lee@example.com", "Ann Lee")
    );
    assert!(users::read::preferences(app.store.as_ref(), id)
        .await
        .unwrap()
        .is_some());
    let claim = app
        .store
        .get(&Key::new("EMAIL#ann.lee@example.com", "EMAIL"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claim["userId"], id);
    let creds = app
        .store
        .get(&Key::new(format!("CREDENTIALS#{id}"), "CREDENTIALS"))
        .await
        .unwrap()
        .unwrap();
    assert!(creds["passwordHash"]
        .as_str()
        .unwrap()
        .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(!serde_json::to_string(&creds).unwrap().contains(PASSWORD));
    let sid = payload["sid"].as_str().unwrap();
    let session = app
        .store
        .get(&Key::new(format!("SESSION#{sid}"), "SESSION"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (session["revoked"].as_bool(), session["userId"].as_str()),
        (Some(false), Some(id))
    );

    // One user.registered.v1 event, matching its schema.
    let events = app.outbox().await;
    assert_eq!(events.len(), 1);
    check_against_schema(&events[0]);
    assert_eq!(
        events[0]["data"],
        json!({"userId": id, "email": "ann.lee@example.com", "name": "Ann Lee"})
    );
}

/// The envelope and data have the schema's properties (all the required
/// ones, nothing else), and its constants and id patterns hold.
fn check_against_schema(event: &Value) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/schemas/user.registered.v1.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let props = |s: &Value| {
        let mut k: Vec<String> = s["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    };
    // Every field is the schema's, and every required one is there (the
    // envelope's `traceparent` is optional: absent outside a trace).
    let required = |s: &Value| {
        let mut k: Vec<String> = s["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        k.sort();
        k
    };
    for (value, schema) in [
        (event, &schema),
        (&event["data"], &schema["properties"]["data"]),
    ] {
        let (present, allowed) = (keys(value), props(schema));
        assert!(
            present.iter().all(|k| allowed.contains(k)),
            "{present:?} not all in {allowed:?}"
        );
        assert!(
            required(schema).iter().all(|k| present.contains(k)),
            "{present:?} lacks a required field"
        );
    }
    for (field, constant) in [
        ("type", "type"),
        ("version", "version"),
        ("source", "source"),
    ] {
        assert_eq!(
            event[field], schema["properties"][constant]["const"],
            "{field}"
        );
    }
    assert!(str_of(event, "id").starts_with("evt_") && str_of(event, "id").len() == 30);
    assert!(auth::UserId::parse(str_of(&event["data"], "userId")).is_some());
    chrono::DateTime::parse_from_rfc3339(str_of(event, "time")).unwrap();
}

#[tokio::test]
async fn duplicate_emails_are_409_in_any_case_and_write_nothing() {
    let app = app();
    signed_up(&app, "ann@example.com").await;
    for email in ["ann@example.com", "ANN@Example.com", " ann@EXAMPLE.COM"] {
        let r = app.signup(email, "Other").await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{email}");
        assert_eq!(r.body["code"], "conflict");
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    assert_eq!(app.outbox().await.len(), 1);
}

#[tokio::test]
async fn concurrent_signups_of_one_email_create_one_account() {
    let app = std::sync::Arc::new(app());
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                app.signup(
                    if i % 2 == 0 {
                        "race@example.com"
                    } else {
                        "RACE@example.com"
                    },
                    "R",
                )
                .await
                .status
            })
        })
        .collect();
    let statuses: Vec<StatusCode> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT));
    assert_eq!(app.outbox().await.len(), 1);
}

#[tokio::test]
async fn bad_input_is_400_naming_each_field() {
    let app = app();
    let cases = [
        (
            json!({"email": "not-an-email", "password": PASSWORD, "name": "A"}),
            vec!["email"],
        ),
        (
            json!({"email": "a@example.com", "password": "short1", "name": "A"}),
            vec!["password"],
        ),
        (
            json!({"email": "a@example.com", "password": "abcdefghijkl", "name": "A"}),
            vec!["password"],
        ),
        (
            json!({"email": "a@example.com", "password": "a@example.com", "name": "A"}),
            vec!["password"],
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "name": "  "}),
            vec!["name"],
        ),
        (
            json!({"email": "x", "password": "y", "name": ""}),
            vec!["email", "password", "name"],
        ),
        (
            json!({"email": "a@example.com", "name": "A"}),
            vec!["password"],
        ),
    ];
    for (body, fields) in cases {
        let r = app
            .call(Method::POST, "/v1/auth/signup")
            .json(body.clone())
            .send()
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.body["code"], "validation_failed", "{body}");
        let named: Vec<&str> = r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(named, fields, "{body}");
    }
    // Unknown fields are refused too (roles cannot be smuggled in).
    let r = app.call(Method::POST, "/v1/auth/signup").json(json!({"email": "a@example.com", "password": PASSWORD, "name": "A", "roles": ["admin"]})).send().await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("validation_failed"))
    );
    assert!(
        r.body["errors"][0]["field"]
            .as_str()
            .unwrap()
            .contains("roles"),
        "{}",
        r.body
    );
    let r = app
        .call(Method::POST, "/v1/auth/login")
        .json(json!({"email": "nope", "password": "x"}))
        .send()
        .await;
    assert_eq!(
        (r.status, r.body["errors"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("email"))
    );
    assert!(app.outbox().await.is_empty());
}

#[tokio::test]
async fn login_answers_tokens_and_wrong_or_unknown_credentials_alike() {
    let app = app();
    let user = signed_up(&app, "ann@example.com").await;
    let r = app.login("ANN@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        keys(&r.body),
        ["accessToken", "expiresIn", "refreshToken", "user"]
    );
    assert_eq!(r.body["user"], user["user"]);
    assert_eq!(r.header("ratelimit-limit"), Some("5"));
    assert_eq!(
        r.header("ratelimit-remaining"),
        Some("5"),
        "a success does not count"
    );
    let v = app.validate(str_of(&r.body, "accessToken")).await;
    assert_eq!(v.status, StatusCode::OK);

    let wrong = app.login("ann@example.com", "not the password 1").await;
    let unknown = app.login("nobody@example.com", "not the password 1").await;
    for r in [&wrong, &unknown] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.body["code"], "unauthorized");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        assert_eq!(r.header("ratelimit-remaining"), Some("4"));
    }
    let strip = |v: &Value| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove("correlationId");
        v
    };
    assert_eq!(strip(&wrong.body), strip(&unknown.body));
}

#[tokio::test]
async fn validate_answers_the_claims() {
    let app = app();
    let body = signed_up(&app, "ann@example.com").await;
    let r = app.validate(str_of(&body, "accessToken")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(keys(&r.body), ["email", "exp", "roles", "sub"]);
    assert_eq!(r.body["sub"], body["user"]["id"]);
    assert_eq!(r.body["email"], "ann@example.com");
    assert_eq!(r.body["roles"], json!(["customer"]));
    assert!(r.body["exp"].as_i64().unwrap() > chrono::Utc::now().timestamp() + 800);
    let r = app.call(Method::GET, "/v1/auth/validate").send().await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

fn claims_of(token: &str) -> Claims {
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_401() {
    let app = app();
    let body = signed_up(&app, "ann@example.com").await;
    let token = str_of(&body, "accessToken");
    let claims = claims_of(token);
    let b64 = URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();

    let mut forged = Vec::new();
    // alg none, with and without a signature.
    let none = b64.encode(format!(
        r#"{{"alg":"none","typ":"JWT","kid":"{}"}}"#,
        app.keys.kid()
    ));
    forged.push(("alg none", format!("{none}.{}.", parts[1])));
    forged.push((
        "alg none signed",
        format!("{none}.{}.{}", parts[1], parts[2]),
    ));
    // HS256 with the public key as the secret.
    let hs = b64.encode(format!(
        r#"{{"alg":"HS256","typ":"JWT","kid":"{}"}}"#,
        app.keys.kid()
    ));
    forged.push(("alg confusion", format!("{hs}.{}.{}", parts[1], parts[2])));
    // Tampered payload: admin role added, signature kept.
    let mut payload: Value = serde_json::to_value(&claims).unwrap();
    payload["roles"] = json!(["customer", "admin"]);
    forged.push((
        "tampered",
        format!(
            "{}.{}.{}",
            parts[0],
            b64.encode(payload.to_string()),
            parts[2]
        ),
    ));
    // Signed by a key nobody published, under its own kid and under ours.
    let stranger = SigningKey::generate();
    forged.push(("unknown kid", stranger.sign(&claims).unwrap()));
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(app.keys.kid().to_owned());
    let mut pkcs8 = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    pkcs8.extend_from_slice(&hex::decode(stranger.seed_hex()).unwrap());
    let wrong_key = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ed_der(&pkcs8),
    )
    .unwrap();
    forged.push(("our kid, other key", wrong_key));
    // No kid at all.
    let no_kid = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA),
        &claims,
        &jsonwebtoken::EncodingKey::from_ed_der(&pkcs8),
    )
    .unwrap();
    forged.push(("no kid", no_kid));
    // Our key, but expired; wrong audience; wrong issuer.
    let now = chrono::Utc::now().timestamp();
    forged.push((
        "expired",
        app.keys
            .sign(&Claims {
                iat: now - 1000,
                exp: now - 100,
                ..claims.clone()
            })
            .unwrap(),
    ));
    forged.push((
        "audience",
        app.keys
            .sign(&Claims {
                aud: "someone-else".into(),
                ..claims.clone()
            })
            .unwrap(),
    ));
    forged.push((
        "issuer",
        app.keys
            .sign(&Claims {
                iss: "evil".into(),
                ..claims.clone()
            })
            .unwrap(),
    ));
    // Our key and a valid shape, but a session that does not exist, or
    // another user's session.
    forged.push((
        "unknown session",
        app.keys
            .sign(&Claims {
                sid: "ses_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C".into(),
                ..claims.clone()
            })
            .unwrap(),
    ));
    forged.push((
        "someone else's session",
        app.keys
            .sign(&Claims {
                sub: "usr_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C".into(),
                ..claims.clone()
            })
            .unwrap(),
    ));
    forged.push(("garbage", "a.b.c".into()));

    for (what, token) in forged {
        let r = app.validate(&token).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(r.body["code"], "unauthorized", "{what}");
    }
    // The genuine token still works.
    assert_eq!(app.validate(token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_session() {
    let app = app();
    let first = signed_up(&app, "ann@example.com").await;
    let r1 = str_of(&first, "refreshToken");
    let second = app.refresh(r1).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(
        keys(&second.body),
        ["accessToken", "expiresIn", "refreshToken", "user"]
    );
    assert_eq!(second.body["user"], first["user"]);
    let (a2, r2) = (
        str_of(&second.body, "accessToken"),
        str_of(&second.body, "refreshToken"),
    );
    assert_ne!(r2, r1);
    assert_eq!(
        claims_of(a2).sid,
        claims_of(str_of(&first, "accessToken")).sid,
        "same session"
    );
    assert_eq!(app.validate(a2).await.status, StatusCode::OK);

    // r1 again: reuse. 401, and every token of the session dies.
    let reuse = app.refresh(r1).await;
    assert_eq!(
        (reuse.status, reuse.body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    assert_eq!(app.validate(a2).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.validate(str_of(&first, "accessToken")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.refresh(r2).await.status, StatusCode::UNAUTHORIZED);

    // Another login is another session, untouched.
    let other = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(
        app.validate(str_of(&other.body, "accessToken"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.refresh(str_of(&other.body, "refreshToken"))
            .await
            .status,
        StatusCode::OK
    );

    for junk in ["", "short", &"A".repeat(43)] {
        assert_eq!(
            app.refresh(junk).await.status,
            StatusCode::UNAUTHORIZED,
            "{junk}"
        );
    }
    let r = app
        .call(Method::POST, "/v1/auth/refresh")
        .json(json!({}))
        .send()
        .await;
    assert_eq!(
        (r.status, r.body["errors"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("refreshToken"))
    );
}

#[tokio::test]
async fn refresh_tokens_are_stored_only_as_hashes() {
    let app = app();
    let body = signed_up(&app, "ann@example.com").await;
    let token = str_of(&body, "refreshToken");
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()));
    let item = app
        .store
        .get(&Key::new(format!("REFRESH#{hash}"), "REFRESH"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item["spent"], false);
    assert!(!serde_json::to_string(&item).unwrap().contains(token));
    let ttl = item["expiresAt"].as_i64().unwrap() - chrono::Utc::now().timestamp();
    assert!((30 * 86400 - 60..=30 * 86400).contains(&ttl), "{ttl}");
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_cannot_both_succeed() {
    let app = std::sync::Arc::new(app());
    let body = signed_up(&app, "ann@example.com").await;
    let token = str_of(&body, "refreshToken").to_owned();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (app, token) = (app.clone(), token.clone());
            tokio::spawn(async move { app.refresh(&token).await })
        })
        .collect();
    let results: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let ok: Vec<_> = results
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .collect();
    assert!(
        ok.len() <= 1,
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(results
        .iter()
        .all(|r| r.status == StatusCode::OK || r.status == StatusCode::UNAUTHORIZED));
    // The losers presented a spent token: the session is revoked, so even
    // the winner's new tokens are refused.
    for r in ok {
        assert_eq!(
            app.refresh(str_of(&r.body, "refreshToken")).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.validate(str_of(&r.body, "accessToken")).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn logout_revokes_the_access_and_refresh_tokens() {
    let app = app();
    let body = signed_up(&app, "ann@example.com").await;
    let (access, refresh) = (str_of(&body, "accessToken"), str_of(&body, "refreshToken"));
    let other = app.login("ann@example.com", PASSWORD).await.body;
    let r = app
        .call(Method::POST, "/v1/auth/logout")
        .bearer(access)
        .json(json!({"refreshToken": refresh}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(app.validate(access).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.refresh(refresh).await.status, StatusCode::UNAUTHORIZED);
    let again = app
        .call(Method::POST, "/v1/auth/logout")
        .bearer(access)
        .send()
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    // The other login's session lives on; logging it out without a body works.
    let other_access = str_of(&other, "accessToken");
    assert_eq!(app.validate(other_access).await.status, StatusCode::OK);
    let r = app
        .call(Method::POST, "/v1/auth/logout")
        .bearer(other_access)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.validate(other_access).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.refresh(str_of(&other, "refreshToken")).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn logout_needs_a_token_and_ignores_other_sessions_refresh_tokens() {
    let app = app();
    let a = signed_up(&app, "ann@example.com").await;
    let b = signed_up(&app, "bob@example.com").await;
    let r = app.call(Method::POST, "/v1/auth/logout").send().await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Ann logs out naming Bob's refresh token: Bob's token stays valid.
    let r = app
        .call(Method::POST, "/v1/auth/logout")
        .bearer(str_of(&a, "accessToken"))
        .json(json!({"refreshToken": str_of(&b, "refreshToken")}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.refresh(str_of(&b, "refreshToken")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn brute_force_on_one_account_is_429_with_retry_after() {
    let app = app();
    signed_up(&app, "ann@example.com").await;
    for expected_remaining in (0..5).rev() {
        let r = app.login("ann@example.com", "wrong password 1").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            r.header("ratelimit-remaining"),
            Some(expected_remaining.to_string().as_str())
        );
    }
    for password in ["wrong password 1", PASSWORD] {
        let r = app.login("ann@example.com", password).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{password}");
        assert_eq!(r.body["code"], "rate_limited");
        let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=900).contains(&retry), "{retry}");
        assert_eq!(r.header("ratelimit-limit"), Some("5"));
        assert_eq!(r.header("ratelimit-remaining"), Some("0"));
    }
    // Unknown e-mails are limited the same way.
    for _ in 0..5 {
        assert_eq!(
            app.login("ghost@example.com", "wrong password 1")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.login("ghost@example.com", "wrong password 1")
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another account from the same address is not affected.
    signed_up(&app, "bob@example.com").await;
    assert_eq!(
        app.login("bob@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn per_address_limits_count_failures_not_successes() {
    let app = app_with(|mut c| {
        c.limits.login_per_ip.max = 3;
        c.limits.signup_per_ip.max = 4;
        c
    });
    let office = "203.0.113.7";
    for email in ["a@example.com", "b@example.com", "c@example.com"] {
        let r = app
            .call(Method::POST, "/v1/auth/signup")
            .ip(office)
            .json(json!({"email": email, "password": PASSWORD, "name": "X"}))
            .send()
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let login = |email: &'static str, password: &'static str, ip: &'static str| {
        app.call(Method::POST, "/v1/auth/login")
            .ip(ip)
            .json(json!({"email": email, "password": password}))
            .send()
    };
    // Many successful logins from one address never count ...
    for _ in 0..6 {
        assert_eq!(
            login("a@example.com", PASSWORD, office).await.status,
            StatusCode::OK
        );
    }
    // ... failures do, across accounts.
    for email in ["a@example.com", "b@example.com", "c@example.com"] {
        assert_eq!(
            login(email, "wrong password 1", office).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let r = login("c@example.com", PASSWORD, office).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.header("retry-after").is_some());
    // Another address is fine.
    assert_eq!(
        login("c@example.com", PASSWORD, "198.51.100.1")
            .await
            .status,
        StatusCode::OK
    );

    // Sign-ups per address: the 5th within the hour is refused.
    let r = app
        .call(Method::POST, "/v1/auth/signup")
        .ip(office)
        .json(json!({"email": "d@example.com", "password": PASSWORD, "name": "X"}))
        .send()
        .await;
    assert_eq!(
        (r.status, r.header("ratelimit-remaining")),
        (StatusCode::CREATED, Some("0"))
    );
    let r = app
        .call(Method::POST, "/v1/auth/signup")
        .ip(office)
        .json(json!({"email": "e@example.com", "password": PASSWORD, "name": "X"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry));
}

#[tokio::test]
async fn jwks_publishes_the_signing_key_and_tokens_verify_with_it() {
    let app = app();
    let body = signed_up(&app, "ann@example.com").await;
    let r = app.call(Method::GET, "/.well-known/jwks.json").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("cache-control"), Some("public, max-age=300"));
    let jwk = r.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == app.keys.kid())
        .unwrap()
        .clone();
    assert_eq!(
        (
            jwk["kty"].as_str(),
            jwk["crv"].as_str(),
            jwk["alg"].as_str(),
            jwk["use"].as_str()
        ),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"), Some("sig"))
    );
    // A third party verifies our token with nothing but the JWK.
    let key = jsonwebtoken::DecodingKey::from_ed_components(str_of(&jwk, "x")).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[ISSUER]);
    let claims = jsonwebtoken::decode::<Claims>(str_of(&body, "accessToken"), &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims.sub, str_of(&body["user"], "id"));
}

#[tokio::test]
async fn during_a_rotation_both_keys_are_published_and_verify() {
    let old = SigningKey::generate();
    let app = app_with_keys(SigningKeys::generate().with_previous(old.clone()), |c| c);
    let body = signed_up(&app, "ann@example.com").await;
    let token = str_of(&body, "accessToken");
    assert_eq!(
        jsonwebtoken::decode_header(token).unwrap().kid.as_deref(),
        Some(app.keys.kid())
    );
    let jwks = app
        .call(Method::GET, "/.well-known/jwks.json")
        .send()
        .await
        .body;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&app.keys.kid()) && kids.contains(&old.kid()),
        "{kids:?}"
    );
    // A token the old key signed (before the rotation) still verifies.
    let by_old = old.sign(&claims_of(token)).unwrap();
    assert_eq!(app.validate(&by_old).await.status, StatusCode::OK);
}

#[tokio::test]
async fn admin_bootstrap_creates_promotes_and_is_idempotent() {
    let app = app();
    let created = auth::ensure_admin(&app.ctx, "Admin@Example.com", PASSWORD)
        .await
        .unwrap();
    assert!(matches!(created, AdminBootstrap::Created(_)));
    let again = auth::ensure_admin(&app.ctx, "admin@example.com", "a different pass 9")
        .await
        .unwrap();
    assert_eq!(again, AdminBootstrap::Unchanged(created.user_id().clone()));
    let r = app.login("admin@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["user"]["roles"], json!(["customer", "admin"]));
    assert!(claims_of(str_of(&r.body, "accessToken")).has_role(Role::Admin));
    assert!(
        users::read::profile(app.store.as_ref(), created.user_id().as_str())
            .await
            .unwrap()
            .is_some()
    );

    // An existing customer is promoted, keeping their password.
    let ann = signed_up(&app, "ann@example.com").await;
    let promoted = auth::ensure_admin(&app.ctx, "ann@example.com", "ignored password 1")
        .await
        .unwrap();
    assert_eq!(
        promoted,
        AdminBootstrap::Promoted(auth::UserId::parse(str_of(&ann["user"], "id")).unwrap())
    );
    let r = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(r.body["user"]["roles"], json!(["customer", "admin"]));
    // Refresh picks up the current roles.
    let r = app.refresh(str_of(&ann, "refreshToken")).await;
    assert_eq!(r.body["user"]["roles"], json!(["customer", "admin"]));

    // Bad bootstrap input is refused, naming the field.
    let err = auth::ensure_admin(&app.ctx, "root@example.com", "weak")
        .await
        .unwrap_err();
    assert!(
        matches!(err, auth::AuthError::Invalid(ref p) if p.errors[0].field == "password"),
        "{err:?}"
    );
    assert!(auth::ensure_admin(&app.ctx, "not an email", PASSWORD)
        .await
        .is_err());
}

#[tokio::test]
async fn route_table_openapi_and_auth_agree() {
    lite_http::routes::check_against_openapi(auth::ROUTES, &auth::openapi()).unwrap();
    let app = app();
    for route in auth::ROUTES.iter().filter(|r| r.auth != Access::Public) {
        let r = app
            .call(route.method.parse().unwrap(), route.path)
            .json(json!({}))
            .send()
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{} {}",
            route.method,
            route.path
        );
    }
    let mut names: Vec<_> = auth::ROUTES.iter().map(|r| r.function).collect();
    names.dedup();
    assert_eq!(names.len(), auth::ROUTES.len());
    assert!(names.iter().all(|n| n.starts_with("auth-")));
    let doc = serde_json::to_value(auth::openapi()).unwrap();
    let signup = &doc["paths"]["/v1/auth/signup"]["post"];
    assert!(signup["requestBody"].is_object());
    assert!(signup["responses"]["409"].is_object() && signup["responses"]["429"].is_object());
}
