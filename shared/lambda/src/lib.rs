//! Starting a service on AWS Lambda.
//!
//! Init does no network I/O: the SDK clients are built from the
//! environment (credentials resolve lazily), and the cursor key is fetched
//! from Secrets Manager on the first request that paginates. That keeps the
//! cold start to process start plus building a few structs.

use lite_core::config::{optional, required};
use lite_core::CursorCodec;
use lite_http::{ClientIp, Context, Cursors, HttpConfig, TokenVerifier};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Serves `router` (one service's routes) as this Lambda function.
pub async fn serve(router: fn(Context) -> axum::Router) -> Result<(), lambda_http::Error> {
    serve_with(router, |_, _| {}).await
}

/// Like [`serve`], with `protect` completing the token verifier from the
/// function's context before the first request: the auth service's
/// `auth::protect` installs its session guard (revoked sessions are 401)
/// and its published keys as key source (kids learned at run time), so
/// `lite_lambda::serve_with(catalog::router, auth::protect)`.
pub async fn serve_with(
    router: fn(Context) -> axum::Router,
    protect: fn(&Context, &mut TokenVerifier),
) -> Result<(), lambda_http::Error> {
    lite_http::telemetry::init();
    let ctx = context().await?;
    let mut verifier = verifier()?;
    protect(&ctx, &mut verifier);
    let app = lite_http::finish(router(ctx), Arc::new(verifier), &HttpConfig::from_env())
        .layer(axum::middleware::from_fn(client_ip));
    lambda_http::run(app).await
}

/// The adapters every function uses, from its environment: the table
/// (`TABLE_NAME`), the cursor key (see `cursors`), the system clock and ids.
pub async fn context() -> Result<Context, lite_core::config::ConfigError> {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let table = required("TABLE_NAME")?;
    let store = lite_dynamo::DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
    Ok(Context::new(Arc::new(store), cursors()))
}

/// The string value of the Secrets Manager secret `arn`. The client is
/// built on the first call (not at init), once per process; callers cache
/// the value (the auth service's signing key is read once per instance).
pub async fn secret_string(arn: &str) -> Result<String, String> {
    static CLIENT: OnceCell<aws_sdk_secretsmanager::Client> = OnceCell::const_new();
    let client = CLIENT
        .get_or_init(|| async {
            let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            aws_sdk_secretsmanager::Client::new(&aws)
        })
        .await;
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| format!("cannot read the secret {arn}: {e:?}"))?;
    out.secret_string()
        .map(str::to_owned)
        .ok_or_else(|| format!("the secret {arn} has no string value"))
}

/// The cursor key: from the secret named by `AMAZON_LITE_CURSOR_SECRET_ARN`
/// (deployed), else `AMAZON_LITE_CURSOR_KEY` (development), else a random
/// key for this process only (cursors then work only within one instance).
fn cursors() -> Cursors {
    if let Some(arn) = optional("AMAZON_LITE_CURSOR_SECRET_ARN") {
        return Cursors::lazy(move || {
            let arn = arn.clone();
            Box::pin(async move { codec(secret_string(&arn).await?.as_bytes()) })
        });
    }
    if let Some(key) = optional("AMAZON_LITE_CURSOR_KEY") {
        if let Ok(codec) = codec(key.as_bytes()) {
            return Cursors::ready(codec);
        }
        tracing::warn!("AMAZON_LITE_CURSOR_KEY is shorter than 32 bytes; using a random key");
    }
    Cursors::ready(CursorCodec::new(CursorCodec::random_key()))
}

fn codec(key: &[u8]) -> Result<CursorCodec, String> {
    if key.len() < 32 {
        return Err("the cursor key must be at least 32 bytes".into());
    }
    Ok(CursorCodec::new(key.to_vec()))
}

/// Public keys that sign access tokens: `AMAZON_LITE_JWT_PUBLIC_KEYS`, a JSON
/// object of `kid` → Ed25519 public key PEM. Public keys are not secret.
fn verifier() -> Result<TokenVerifier, lambda_http::Error> {
    let mut verifier = TokenVerifier::new();
    if let Some(json) = optional("AMAZON_LITE_JWT_PUBLIC_KEYS") {
        let keys: std::collections::BTreeMap<String, String> = serde_json::from_str(&json)?;
        for (kid, pem) in keys {
            verifier.trust_ed25519_pem(&kid, pem.as_bytes())?;
        }
    }
    Ok(verifier)
}

/// Copies API Gateway's source address into the [`ClientIp`] extension.
async fn client_ip(
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;
    let ip = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            ctx.http.source_ip.as_deref().and_then(|s| s.parse().ok())
        }
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx
            .identity
            .source_ip
            .as_deref()
            .and_then(|s| s.parse().ok()),
        _ => None,
    };
    req.extensions_mut().insert(ClientIp(ip));
    next.run(req).await
}
