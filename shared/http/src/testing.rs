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

/// Calls a finished router in process (`oneshot`, no socket): the one way
/// router tests send requests and read answers.
#[derive(Clone)]
pub struct TestClient {
    router: axum::Router,
}

/// What a [`TestClient`] request answered: the status, the headers and the
/// body parsed as JSON (`Null` when empty, a string when not JSON).
#[derive(Debug, Clone)]
pub struct TestResponse {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    pub json: serde_json::Value,
}

/// A request being built by a [`TestClient`]; `send` runs it.
pub struct TestRequest {
    router: axum::Router,
    builder: http::request::Builder,
    /// The body's text, sent as `application/json`.
    body: Option<String>,
}

impl TestClient {
    /// `router` as it is: finish it first (e.g. [`finish_for_tests`]) to go
    /// through the shared layers.
    pub fn new(router: axum::Router) -> Self {
        Self { router }
    }

    pub fn request(&self, method: http::Method, uri: &str) -> TestRequest {
        TestRequest {
            router: self.router.clone(),
            builder: http::Request::builder().method(method).uri(uri),
            body: None,
        }
    }

    pub fn get(&self, uri: &str) -> TestRequest {
        self.request(http::Method::GET, uri)
    }

    pub fn post(&self, uri: &str) -> TestRequest {
        self.request(http::Method::POST, uri)
    }

    pub fn put(&self, uri: &str) -> TestRequest {
        self.request(http::Method::PUT, uri)
    }

    pub fn patch(&self, uri: &str) -> TestRequest {
        self.request(http::Method::PATCH, uri)
    }

    pub fn delete(&self, uri: &str) -> TestRequest {
        self.request(http::Method::DELETE, uri)
    }

    /// `method uri` with what is given of a bearer token, an idempotency key
    /// and a JSON body, sent: the one call of table-driven router tests.
    pub async fn call(
        &self,
        method: http::Method,
        uri: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> TestResponse {
        self.request(method, uri)
            .bearer(token)
            .idempotency_key(key)
            .maybe_json(body)
            .send()
            .await
    }
}

impl TestRequest {
    /// `Authorization: Bearer <token>` when `token` is given.
    pub fn bearer(mut self, token: Option<&str>) -> Self {
        if let Some(t) = token {
            self.builder = self
                .builder
                .header(http::header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    /// A JSON body (with its content type).
    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body.to_string());
        self
    }

    /// `Idempotency-Key: <key>` when `key` is given.
    pub fn idempotency_key(self, key: Option<&str>) -> Self {
        match key {
            Some(k) => self.header("idempotency-key", k),
            None => self,
        }
    }

    /// A JSON body when `body` is given, none otherwise.
    pub fn maybe_json(self, body: Option<serde_json::Value>) -> Self {
        match body {
            Some(b) => self.json(b),
            None => self,
        }
    }

    /// A body sent byte for byte as `application/json`: malformed JSON, or
    /// bytes a signature covers exactly.
    pub fn raw_json(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    pub async fn send(self) -> TestResponse {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let (builder, body) = match self.body {
            Some(b) => (
                self.builder
                    .header(http::header::CONTENT_TYPE, "application/json"),
                axum::body::Body::from(b),
            ),
            None => (self.builder, axum::body::Body::empty()),
        };
        let request = builder.body(body).expect("a well-formed test request");
        let response = self
            .router
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("the body reads")
            .to_bytes();
        let json = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
            })
        };
        TestResponse {
            status,
            headers,
            json,
        }
    }
}

/// Holds a service to the one mapping of store failures
/// (`From<StoreError> for Problem`): a throttled store is `503 unavailable`
/// with `Retry-After: 1`, an unreachable one a generic 500 that names
/// nothing of its cause. `send(error)` sends one request to the service's
/// finished router built on a store that answers `error` to every call
/// (`lite_ports::testing::failing_context`).
pub async fn assert_store_failures_are_mapped<F, Fut>(send: F)
where
    F: Fn(lite_store::StoreError) -> Fut,
    Fut: std::future::Future<Output = TestResponse>,
{
    let busy = send(lite_store::StoreError::Throttled).await;
    assert_eq!(
        busy.status,
        http::StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        busy.json
    );
    assert_eq!(
        busy.headers
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!(busy.json["code"], "unavailable");
    assert_eq!(busy.json["detail"], lite_store::BUSY_DETAIL);

    let down = send(lite_store::StoreError::Unavailable(
        "connection refused".into(),
    ))
    .await;
    assert_eq!(
        down.status,
        http::StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        down.json
    );
    assert!(!down.headers.contains_key(http::header::RETRY_AFTER));
    assert_eq!(down.json["code"], "internal");
    assert!(!down.json.to_string().contains("refused"), "{}", down.json);
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::{get, post};

    fn client() -> TestClient {
        let router = axum::Router::new()
            .route(
                "/echo",
                post(|body: axum::Json<serde_json::Value>| async move { body }),
            )
            .route(
                "/auth",
                get(|h: http::HeaderMap| async move {
                    h.get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned()
                }),
            );
        TestClient::new(router)
    }

    #[tokio::test]
    async fn sends_json_and_a_bearer_token_and_reads_status_headers_and_json() {
        let c = client();
        let r = c
            .post("/echo")
            .json(serde_json::json!({"a": 1}))
            .send()
            .await;
        assert_eq!(r.status, http::StatusCode::OK);
        assert_eq!(r.json["a"], 1);
        assert!(r.headers.contains_key(http::header::CONTENT_TYPE));
        let r = c.get("/auth").bearer(Some("tok")).send().await;
        assert_eq!(r.json, "Bearer tok");
        let r = c.get("/nowhere").send().await;
        assert_eq!(r.status, http::StatusCode::NOT_FOUND);
        assert_eq!(r.json, serde_json::Value::Null);
    }
}
