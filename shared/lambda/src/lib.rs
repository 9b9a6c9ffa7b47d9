//! Starting a service on AWS Lambda: one binary per service ([`run`])
//! serves its routes or, with [`CONSUMER_ENV`] set, runs one of its event
//! consumers.
//!
//! Init does no network I/O: the SDK clients are built from the
//! environment (credentials resolve lazily), and the cursor key is fetched
//! from Secrets Manager on the first request that paginates. That keeps the
//! cold start to process start plus building a few structs.

/// The SDK configuration of every AWS client (timeouts, retries).
pub use lite_aws as aws;
pub use lite_aws::Profile;
use lite_core::config::{optional, required};
use lite_core::CursorCodec;
use lite_http::{ClientIp, HttpConfig, TokenVerifier};
use lite_ports::{Context, Cursors};
use lite_service::Service;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The environment variable that turns a service's binary into one of its
/// consumers: CDK sets it on each consumer's function to the consumer's
/// name (`catalog-rating`); route functions leave it unset.
pub const CONSUMER_ENV: &str = lite_aws::CONSUMER_ENV;

/// The error a binary's `main` returns (init failures: configuration,
/// an unknown consumer).
pub type Error = lambda_http::Error;

/// Runs one service as this Lambda function: `build` makes the service
/// value from the function's [`Context`] (and builds whatever else it owns
/// from the environment, without network I/O: clients connect on first
/// use); then, if [`CONSUMER_ENV`] names one of its consumers, that
/// consumer runs on the function's SQS queue, else its routes are served
/// through API Gateway.
///
/// ```ignore
/// lite_lambda::run(|ctx| async move { Ok(Search::new(ctx, OpenSearchIndex::from_env().await?)) })
/// ```
pub async fn run<S, F, Fut>(build: F) -> Result<(), Error>
where
    S: Service,
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = Result<S, Error>>,
{
    run_with(|_, _| {}, build).await
}

/// Like [`run`], with `protect` completing the token verifier from the
/// function's context before the first request: the auth service's
/// `auth_guard::protect` installs its session guard (revoked sessions are
/// 401) and its published keys as key source (kids learned at run time).
pub async fn run_with<S, F, Fut>(
    protect: fn(&Context, &mut TokenVerifier),
    build: F,
) -> Result<(), Error>
where
    S: Service,
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = Result<S, Error>>,
{
    let consumer = optional(CONSUMER_ENV);
    // Each transport logs its own span fields; the first init wins.
    match consumer {
        Some(_) => lite_events_aws::telemetry::init(),
        None => lite_http::telemetry::init(),
    }
    // A route function answers a shopper: its SDK calls fail fast.
    let profile = match consumer {
        Some(_) => Profile::Consumer,
        None => Profile::Api,
    };
    let ctx = context_for(profile).await?;
    let service = build(ctx.clone()).await.inspect_err(|e| {
        tracing::error!(error = %e, "the service cannot be built from its environment");
    })?;
    // Route or consumer, the function counts as its service; the counts
    // go out once per invocation (the routes' layer below, the consumer
    // runner after each batch).
    install_metrics(service.name());
    match consumer {
        Some(name) => {
            let handler = lite_service::consumer(&service, &name).inspect_err(|e| {
                tracing::error!(error = %e, "{CONSUMER_ENV} names no consumer of this binary");
            })?;
            lite_events_aws::run_consumer_with(ctx.store, handler).await
        }
        None => {
            let mut verifier = verifier()?;
            protect(&ctx, &mut verifier);
            let app = lite_http::finish(
                service.router(),
                Arc::new(verifier),
                &HttpConfig::from_env(),
            )
            .layer(axum::middleware::from_fn(client_ip))
            .layer(axum::middleware::from_fn(flush_metrics_after));
            lambda_http::run(app).await
        }
    }
}

/// The adapters every function uses, from its environment: the table
/// (`TABLE_NAME`), the cursor key (see `cursors`), the system clock and ids.
/// Its clients have the [`Profile::Consumer`] timeouts: every function that
/// calls this itself is a consumer, a saga task or a job; route functions
/// get theirs through [`run`] ([`Profile::Api`]).
pub async fn context() -> Result<Context, lite_core::config::ConfigError> {
    context_for(Profile::Consumer).await
}

/// [`context`] with the timeouts and retries of `profile`.
pub async fn context_for(profile: Profile) -> Result<Context, lite_core::config::ConfigError> {
    let aws = aws::sdk_config(profile).await;
    let table = required("TABLE_NAME")?;
    let store = lite_dynamo::DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
    // Every table access is a span of the invocation's trace.
    let store = lite_store::traced::traced("dynamodb", Arc::new(store));
    Ok(Context::new(store, cursors()))
}

/// The runtime flags of this function: AWS AppConfig through the AppConfig
/// Lambda extension when `AMAZON_LITE_FLAGS_APPLICATION`, `_ENVIRONMENT`
/// and `_PROFILE` name a configuration (CDK sets them, and adds the
/// extension's layer, on the functions that read flags), else the defaults.
/// No network I/O here: the extension is asked on the first read.
pub fn flags() -> Result<lite_flags::SharedFlags, lite_core::config::ConfigError> {
    Ok(match lite_flags::AppConfigFlags::from_env()? {
        Some(flags) => Arc::new(flags),
        None => lite_flags::defaults(),
    })
}

/// The string value of the Secrets Manager secret `arn`. The client is
/// built on the first call (not at init), once per process; callers cache
/// the value (the auth service's signing key is read once per instance).
pub async fn secret_string(arn: &str) -> Result<String, String> {
    static CLIENT: OnceCell<aws_sdk_secretsmanager::Client> = OnceCell::const_new();
    let client = CLIENT
        .get_or_init(|| async {
            // Read on a request's path (the cursor key, signing keys):
            // the route profile.
            let aws = aws::sdk_config(Profile::Api).await;
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

/// Installs the Lambda metrics exporter (CloudWatch Embedded Metric Format
/// on stdout, namespace from `AMAZON_LITE_METRICS_NAMESPACE`) with
/// `service` as this function's `service` label. Binaries that do not
/// start through [`run`] (`checkout-task`, the reservation sweeper) call
/// it in `main` and [`flush_metrics`] after each invocation. A failure is
/// logged: metrics never stop a function.
pub fn install_metrics(service: &'static str) {
    if let Err(e) = lite_metrics::emf::install(service) {
        tracing::warn!(error = %e, "metrics are off in this function");
    }
}

/// Writes this invocation's metrics (see [`install_metrics`]).
pub fn flush_metrics() {
    lite_metrics::flush();
}

/// The outermost layer of a route function: the request's counts (made by
/// `lite_http::finish`'s layer, inside this one) leave once the response
/// is ready, one EMF flush per invocation.
async fn flush_metrics_after(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let response = next.run(req).await;
    flush_metrics();
    response
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
