//! What auth costs, on the embedded redb store (a file in a temporary
//! directory), through the finished router (`oneshot`, no socket) where a
//! route is measured:
//!
//! - `auth_login/*`: `POST /v1/auth/login` — a success (argon2id verify,
//!   session + refresh token written, token signed), a wrong password and
//!   an unknown e-mail. The last two should cost the same: an unknown
//!   e-mail does the same reads and verifies the dummy hash.
//! - `auth_request/*`: what every authenticated request of every service
//!   pays: `TokenVerifier::authenticate` (EdDSA signature, claims, and the
//!   session guard's read of `SESSION#<sid>`), and `GET /v1/auth/validate`
//!   through every shared layer. Target: under 100 µs.
//!
//! Run: `cargo bench -p auth --bench auth --no-default-features`. Rate
//! limits are lifted (`Limits::unlimited`) so failures can repeat. After
//! criterion's report this prints each median and the comparisons; it
//! never fails on them.

use auth::{AuthConfig, Limits, SigningKeys};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use criterion::{black_box, Criterion};
use http_body_util::BodyExt;
use lite_core::CursorCodec;
use lite_http::{HttpConfig, TokenVerifier};
use lite_ports::{Context, Cursors};
use lite_service::Service;
use lite_store::redb_store::RedbStore;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::runtime::Runtime;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse 42";
const LOGIN: &str = "auth_login";
const REQUEST: &str = "auth_request";
/// Interleaved unknown/known e-mail login pairs timed after criterion.
const PAIRS: usize = 60;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Fixture {
    app: Router,
    verifier: Arc<TokenVerifier>,
    access_token: String,
    _dir: tempfile::TempDir,
}

async fn call(
    app: &Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .expect("request");
    let res = app.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn login_body(email: &str, password: &str) -> Value {
    json!({"email": email, "password": password})
}

fn fixture(rt: &Runtime) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = RedbStore::open(&dir.path().join("store.redb")).expect("open redb");
    let ctx = Context::new(
        Arc::new(store),
        Cursors::ready(CursorCodec::new(CursorCodec::random_key())),
    );
    let config = AuthConfig {
        limits: Limits::unlimited(),
        ..AuthConfig::with_keys(SigningKeys::generate())
    };
    let mut verifier = TokenVerifier::new();
    auth::protect(&ctx, &mut verifier);
    let verifier = Arc::new(verifier);
    let app = lite_http::finish(
        auth::Auth::new(ctx, config).router(),
        verifier.clone(),
        &HttpConfig::default(),
    );
    let signup = json!({"email": "bench@example.com", "password": PASSWORD, "name": "Bench"});
    let (status, body) = rt.block_on(call(
        &app,
        Method::POST,
        "/v1/auth/signup",
        None,
        Some(signup),
    ));
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let access_token = body["accessToken"].as_str().expect("token").to_owned();
    Fixture {
        app,
        verifier,
        access_token,
        _dir: dir,
    }
}

fn criterion_dir() -> PathBuf {
    // Where criterion 0.5 writes: $CRITERION_HOME, else <target dir>/criterion.
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("criterion")
}

/// The median point estimate (ns) criterion wrote for `group/id` in this run.
fn median_ns(group: &str, id: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_dir()
        .join(group)
        .join(id)
        .join("new/estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let json: Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() {
    let started = SystemTime::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    eprintln!("load average (1/5/15 min) at the start: {}", load_average());
    let fx = fixture(&rt);

    let logins = [
        (
            "known_email_right_password",
            "bench@example.com",
            PASSWORD,
            StatusCode::OK,
        ),
        (
            "known_email_wrong_password",
            "bench@example.com",
            "wrong password 1",
            StatusCode::UNAUTHORIZED,
        ),
        (
            "unknown_email",
            "nobody@example.com",
            "wrong password 1",
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (id, email, password, expected) in logins {
        let (status, body) = rt.block_on(call(
            &fx.app,
            Method::POST,
            "/v1/auth/login",
            None,
            Some(login_body(email, password)),
        ));
        assert_eq!(status, expected, "{id}: {body}");
    }
    let (status, _) = rt.block_on(call(
        &fx.app,
        Method::GET,
        "/v1/auth/validate",
        Some(&fx.access_token),
        None,
    ));
    assert_eq!(status, StatusCode::OK);

    let mut c = Criterion::default().configure_from_args();
    {
        let mut group = c.benchmark_group(LOGIN);
        group
            .sample_size(20)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(6));
        for (id, email, password, _) in logins {
            let app = &fx.app;
            group.bench_function(id, |b| {
                b.to_async(&rt).iter(|| async move {
                    black_box(
                        call(
                            app,
                            Method::POST,
                            "/v1/auth/login",
                            None,
                            Some(login_body(email, password)),
                        )
                        .await
                        .0,
                    )
                })
            });
        }
        group.finish();
    }
    {
        let mut group = c.benchmark_group(REQUEST);
        group
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
        let (verifier, token) = (&fx.verifier, fx.access_token.as_str());
        group.bench_function("verify_and_session_check", |b| {
            b.to_async(&rt).iter(|| async move {
                black_box(verifier.authenticate(token).await.expect("valid").exp)
            })
        });
        group.bench_function("verify_signature_only", |b| {
            b.iter(|| black_box(verifier.verify(token).expect("valid").exp))
        });
        let app = &fx.app;
        group.bench_function("validate_route", |b| {
            b.to_async(&rt).iter(|| async move {
                black_box(
                    call(app, Method::GET, "/v1/auth/validate", Some(token), None)
                        .await
                        .0,
                )
            })
        });
        group.finish();
    }
    c.final_summary();

    // Unknown vs known e-mail, interleaved pair by pair so that load from
    // other processes hits both alike (criterion measures them minutes apart).
    let paired = rt.block_on(async {
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        for _ in 0..PAIRS {
            for (email, times) in [
                ("bench@example.com", &mut known),
                ("nobody@example.com", &mut unknown),
            ] {
                let t = std::time::Instant::now();
                let (status, _) = call(
                    &fx.app,
                    Method::POST,
                    "/v1/auth/login",
                    None,
                    Some(login_body(email, "wrong password 1")),
                )
                .await;
                times.push(t.elapsed().as_secs_f64() * 1e3);
                assert_eq!(status, StatusCode::UNAUTHORIZED);
            }
        }
        (median(known), median(unknown))
    });

    println!();
    println!("load average (1/5/15 min) at the end: {}", load_average());
    let ms = |g: &str, id: &str| median_ns(g, id, started).map(|ns| ns / 1e6);
    let us = |g: &str, id: &str| median_ns(g, id, started).map(|ns| ns / 1e3);
    let show = |v: Option<f64>, unit: &str| {
        v.map_or_else(|| "(not run)".to_owned(), |v| format!("{v:.3} {unit}"))
    };
    println!("median figures (argon2id m=19456 KiB, t=2, p=1; redb on a file):");
    for (id, ..) in logins {
        println!("  login {id:<28} p50 {}", show(ms(LOGIN, id), "ms"));
    }
    if let (Some(known), Some(unknown)) = (
        ms(LOGIN, "known_email_wrong_password"),
        ms(LOGIN, "unknown_email"),
    ) {
        println!(
            "  unknown vs known e-mail (both wrong, criterion runs): {unknown:.3} ms vs {known:.3} ms, difference {:+.1}%",
            (unknown - known) / known * 100.0
        );
    }
    let (known, unknown) = paired;
    println!(
        "  unknown vs known e-mail (both wrong, {PAIRS} interleaved pairs): {unknown:.3} ms vs {known:.3} ms, difference {:+.1}%",
        (unknown - known) / known * 100.0
    );
    for id in [
        "verify_and_session_check",
        "verify_signature_only",
        "validate_route",
    ] {
        let v = us(REQUEST, id);
        let verdict = match (id, v) {
            ("verify_and_session_check", Some(v)) if v < 100.0 => "  (target < 100 µs: met)",
            ("verify_and_session_check", Some(_)) => "  (target < 100 µs: MISSED)",
            _ => "",
        };
        println!("  {id:<28} p50 {}{verdict}", show(v, "µs"));
    }
}
