//! The payments service as a Lambda function builds it (feature `lambda`):
//! the webhook secret from Secrets Manager (`PAYMENT_WEBHOOK_SECRET_ARN`,
//! read on first use), the sandbox provider delivering inline to
//! `PAYMENT_WEBHOOK_URL`, and Step Functions as the saga. No network I/O
//! here: the secret and the Step Functions client come on first use.

use crate::checkout::Payments;
use crate::sandbox::{Delivery, SandboxProvider};
use crate::secret::WebhookSecret;
use async_trait::async_trait;
use lite_core::config::{optional, required, ConfigError};
use lite_ports::Context;
use lite_saga::{Saga, SagaError, Started};
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::OnceCell;

pub const SECRET_ARN_ENV: &str = "PAYMENT_WEBHOOK_SECRET_ARN";
pub const WEBHOOK_URL_ENV: &str = "PAYMENT_WEBHOOK_URL";

/// The service on `ctx`, configured from the function's environment; a
/// missing `PAYMENT_WEBHOOK_SECRET_ARN` fails the function's init.
pub fn from_env(ctx: Context) -> Result<Payments, ConfigError> {
    let arn = required(SECRET_ARN_ENV)?;
    let webhook_secret = WebhookSecret::lazy(move || {
        let arn = arn.clone();
        Box::pin(async move { lite_lambda::secret_string(&arn).await })
    });
    let sandbox = SandboxProvider::new(webhook_secret.clone(), Delivery::Inline);
    match optional(WEBHOOK_URL_ENV) {
        Some(url) => sandbox.set_webhook_url(url),
        None => {
            tracing::warn!("{WEBHOOK_URL_ENV} is not set: sandbox webhooks cannot be delivered")
        }
    }
    let provider = crate::breaker::GuardedProvider::wrap(Arc::new(sandbox), &ctx);
    Ok(Payments {
        ctx,
        provider,
        saga: Arc::new(LazyStepFunctions::default()),
        webhook_secret,
    })
}

/// Step Functions, its client built on first use.
#[derive(Default)]
struct LazyStepFunctions(OnceCell<lite_saga::aws::StepFunctions>);

impl LazyStepFunctions {
    async fn engine(&self) -> &lite_saga::aws::StepFunctions {
        self.0
            .get_or_init(lite_saga::aws::StepFunctions::from_env)
            .await
    }
}

#[async_trait]
impl Saga for LazyStepFunctions {
    async fn start(&self, name: &str, input: Value) -> Result<Started, SagaError> {
        self.engine().await.start(name, input).await
    }

    async fn send_task_success(&self, token: &str, output: Value) -> Result<(), SagaError> {
        self.engine().await.send_task_success(token, output).await
    }

    async fn send_task_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<(), SagaError> {
        self.engine()
            .await
            .send_task_failure(token, error, cause)
            .await
    }
}
