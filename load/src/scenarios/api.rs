//! One request of a simulated user, named by its kind (the row it counts in
//! goose's metrics, which prefix the method: `GET product`, `POST order`), with the answer's
//! status, cart token and JSON body.

use super::shopper::Shopper;
use goose::goose::{GooseMethod, GooseRequest, GooseUser, TransactionError};
use serde_json::Value;

pub type Step<T = ()> = Result<T, Box<TransactionError>>;

pub struct Call<'a> {
    method: GooseMethod,
    path: String,
    kind: &'a str,
    expect: u16,
    bearer: Option<&'a str>,
    cart_token: Option<&'a str>,
    idempotency_key: Option<String>,
    body: Option<Value>,
}

impl<'a> Call<'a> {
    pub fn get(kind: &'a str, path: impl Into<String>) -> Self {
        Self::new(GooseMethod::Get, kind, path, 200)
    }
    pub fn post(kind: &'a str, path: impl Into<String>, expect: u16, body: Value) -> Self {
        Self::new(GooseMethod::Post, kind, path, expect).json(body)
    }
    pub fn patch(kind: &'a str, path: impl Into<String>, body: Value) -> Self {
        Self::new(GooseMethod::Patch, kind, path, 200).json(body)
    }
    pub fn delete(kind: &'a str, path: impl Into<String>) -> Self {
        Self::new(GooseMethod::Delete, kind, path, 200)
    }
    fn new(method: GooseMethod, kind: &'a str, path: impl Into<String>, expect: u16) -> Self {
        Call {
            method,
            path: path.into(),
            kind,
            expect,
            bearer: None,
            cart_token: None,
            idempotency_key: None,
            body: None,
        }
    }
    fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
    pub fn bearer(mut self, token: Option<&'a str>) -> Self {
        self.bearer = token;
        self
    }
    pub fn cart_token(mut self, token: Option<&'a str>) -> Self {
        self.cart_token = token;
        self
    }
    pub fn idempotency_key(mut self, key: String) -> Self {
        self.idempotency_key = Some(key);
        self
    }

    /// Sends it. A status other than the expected one is a failed request
    /// in goose's metrics and ends the transaction (`Err`); so is a body
    /// that is not JSON. The request waits for a connection of its
    /// shopper's pool first (`clients::Gate`), and holds it until the body
    /// is read.
    pub async fn send(self, user: &mut GooseUser) -> Step<Reply> {
        let gate = user.get_session_data::<Shopper>().map(|s| s.gate.clone());
        let _connection = match gate {
            Some(gate) => Some(gate.pass().await),
            None => None,
        };
        let mut rb = user.get_request_builder(&self.method, &self.path)?;
        if let Some(t) = self.bearer {
            rb = rb.bearer_auth(t);
        }
        if let Some(t) = self.cart_token {
            rb = rb.header("X-Cart-Token", t);
        }
        if let Some(k) = &self.idempotency_key {
            rb = rb.header("Idempotency-Key", k.as_str());
        }
        if let Some(b) = &self.body {
            rb = rb.json(b);
        }
        let request = GooseRequest::builder()
            .method(self.method)
            .path(self.path.as_str())
            .name(self.kind)
            .expect_status_code(self.expect)
            .set_request_builder(rb)
            .build();
        let mut goose = user.request(request).await?;
        let response = match goose.response {
            Ok(r) => r,
            Err(e) => return Err(Box::new(TransactionError::Reqwest(e))),
        };
        let status = response.status().as_u16();
        let cart_token = response
            .headers()
            .get("x-cart-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return fail(user, &mut goose.request, &format!("reading the body: {e}"));
            }
        };
        let body: Value = if bytes.is_empty() {
            Value::Null
        } else {
            match serde_json::from_slice(&bytes) {
                Ok(v) => v,
                Err(_) => {
                    let text = String::from_utf8_lossy(&bytes);
                    return fail(user, &mut goose.request, &format!("not JSON: {text:.200}"));
                }
            }
        };
        if status != self.expect {
            return Err(Box::new(TransactionError::Custom(format!(
                "{} {}: {status} {body:.300}",
                self.kind, self.path
            ))));
        }
        Ok(Reply {
            status,
            cart_token,
            body,
        })
    }
}

/// Marks a request that answered as expected but said something wrong.
pub fn fail<T>(
    user: &mut GooseUser,
    request: &mut goose::metrics::GooseRequestMetric,
    why: &str,
) -> Step<T> {
    user.set_failure(why, request, None, None)?;
    Err(Box::new(TransactionError::Custom(why.to_owned())))
}

pub struct Reply {
    pub status: u16,
    pub cart_token: Option<String>,
    pub body: Value,
}

impl Reply {
    pub fn str(&self, field: &str) -> Step<String> {
        self.body[field].as_str().map(str::to_owned).ok_or_else(|| {
            Box::new(TransactionError::Custom(format!(
                "answer {} without {field}: {:.300}",
                self.status, self.body
            )))
        })
    }
}
