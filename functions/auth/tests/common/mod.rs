//! The auth router as production assembles it, on the in-memory redb store:
//! the shared layers, and a verifier that trusts no key up front but learns
//! the published ones and checks sessions (`auth::protect`), exactly as the
//! Lambda functions and the local API do.

#![allow(dead_code)]

use auth::{AuthConfig, SigningKeys};
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use lite_core::CursorCodec;
use lite_http::{ClientIp, HttpConfig, TokenVerifier};
use lite_ports::{Context, Cursors};
use lite_service::Service;
use lite_store::redb_store::RedbStore;
use lite_store::Store;
use serde_json::{json, Value};
use std::net::IpAddr;
use std::sync::Arc;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse 42";

pub struct App {
    pub router: axum::Router,
    pub store: Arc<dyn Store>,
    pub ctx: Context,
    pub keys: SigningKeys,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub fn app() -> App {
    app_with(|c| c)
}

pub fn app_with(configure: impl FnOnce(AuthConfig) -> AuthConfig) -> App {
    app_with_keys(SigningKeys::generate(), configure)
}

pub fn app_with_keys(keys: SigningKeys, configure: impl FnOnce(AuthConfig) -> AuthConfig) -> App {
    let store: Arc<dyn Store> = Arc::new(RedbStore::in_memory().unwrap());
    let ctx = Context::new(
        store,
        Cursors::ready(CursorCodec::new(CursorCodec::random_key())),
    );
    app_on(ctx, keys, configure)
}

/// The app on `ctx` (e.g. on a clock the test moves).
pub fn app_on(
    ctx: Context,
    keys: SigningKeys,
    configure: impl FnOnce(AuthConfig) -> AuthConfig,
) -> App {
    let store = ctx.store.clone();
    let config = configure(AuthConfig::with_keys(keys.clone()));
    let mut verifier = TokenVerifier::new();
    auth::protect(&ctx, &mut verifier);
    let router = lite_http::finish(
        auth::Auth::new(ctx.clone(), config).router(),
        Arc::new(verifier),
        &HttpConfig::default(),
    );
    App {
        router,
        store,
        ctx,
        keys,
    }
}

pub struct Call<'a> {
    app: &'a App,
    method: Method,
    uri: String,
    token: Option<String>,
    body: Option<String>,
    ip: Option<IpAddr>,
}

impl<'a> Call<'a> {
    pub fn bearer(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body.to_string());
        self
    }
    pub fn ip(mut self, ip: &str) -> Self {
        self.ip = Some(ip.parse().unwrap());
        self
    }
    pub async fn send(self) -> Resp {
        let mut req = Request::builder().method(self.method).uri(self.uri);
        if let Some(t) = &self.token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let mut req = match self.body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b)),
            None => req.body(Body::empty()),
        }
        .unwrap();
        if let Some(ip) = self.ip {
            req.extensions_mut().insert(ClientIp(Some(ip)));
        }
        let res = self.app.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }
}

impl App {
    pub fn call(&self, method: Method, uri: &str) -> Call<'_> {
        Call {
            app: self,
            method,
            uri: uri.to_owned(),
            token: None,
            body: None,
            ip: None,
        }
    }

    pub async fn signup(&self, email: &str, name: &str) -> Resp {
        self.call(Method::POST, "/v1/auth/signup")
            .json(json!({"email": email, "password": PASSWORD, "name": name}))
            .send()
            .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.call(Method::POST, "/v1/auth/login")
            .json(json!({"email": email, "password": password}))
            .send()
            .await
    }

    pub async fn refresh(&self, token: &str) -> Resp {
        self.call(Method::POST, "/v1/auth/refresh")
            .json(json!({"refreshToken": token}))
            .send()
            .await
    }

    pub async fn validate(&self, access: &str) -> Resp {
        self.call(Method::GET, "/v1/auth/validate")
            .bearer(access)
            .send()
            .await
    }

    pub async fn outbox(&self) -> Vec<Value> {
        let pending = lite_events::outbox::pending(self.store.as_ref()).await;
        pending.unwrap().into_iter().map(|(_, e)| e).collect()
    }
}

pub fn str_of<'v>(v: &'v Value, key: &str) -> &'v str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// The sorted keys of a JSON object.
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}
