//! What the scenarios that need an administrator (`flash-sale`, `import`)
//! share: signing in and reading as a signed-in user, over the observer's client
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

/// `GET path` with `token`: the body of a 200, `None` for a 404; any
/// other answer is an error (a check must not read a refusal or a failure
/// as "absent" and wait for it).
pub(super) async fn get_json(
    client: &Client,
    host: &Url,
    token: &str,
    path: &str,
) -> Result<Option<Value>, LoadError> {
    let r = client
        .get(join(host, path))
        .bearer_auth(token)
        .send()
        .await?;
    match r.status() {
        StatusCode::OK => Ok(Some(r.json().await?)),
        StatusCode::NOT_FOUND => Ok(None),
        s => Err(LoadError::Answer(format!("GET {path} answered {s}"))),
    }
}

/// `GET /v1/inventory/{sku}` as the administrator: the stock item, or
/// `None` while there is none.
pub(super) async fn stock_item(
    client: &Client,
    host: &Url,
    token: &str,
    sku: &str,
) -> Result<Option<Value>, LoadError> {
    get_json(client, host, token, &format!("/v1/inventory/{sku}")).await
}
