//! What the scenarios that need an administrator (`flash-sale`, `import`)
//! share: signing in and reading a stock item, over the observer's client
//! (outside goose's metrics).

use super::{Admin, LoadError};
use reqwest13::{Client, StatusCode, Url};
use serde_json::{json, Value};

/// `path` on `host`.
pub(super) fn join(host: &Url, path: &str) -> Url {
    host.join(path).expect("a base URL joins an absolute path")
}

/// The administrator's access token.
pub(super) async fn sign_in(
    client: &Client,
    host: &Url,
    admin: &Admin,
) -> Result<String, LoadError> {
    let r = client
        .post(join(host, "/v1/auth/login"))
        .json(&json!({"email": admin.email, "password": admin.password}))
        .send()
        .await?;
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    match body["accessToken"].as_str() {
        Some(t) if status == StatusCode::OK => Ok(t.to_owned()),
        _ => Err(LoadError::Setup(format!(
            "the administrator's sign-in ({}) answered {status}: {body}",
            admin.email
        ))),
    }
}

/// `GET /v1/inventory/{sku}` as the administrator: the stock item, or
/// `None` when it does not answer 200 (absent: 404).
pub(super) async fn stock_item(
    client: &Client,
    host: &Url,
    token: &str,
    sku: &str,
) -> Result<Option<Value>, LoadError> {
    let r = client
        .get(join(host, &format!("/v1/inventory/{sku}")))
        .bearer_auth(token)
        .send()
        .await?;
    if r.status() != StatusCode::OK {
        return Ok(None);
    }
    Ok(Some(r.json().await?))
}
