//! The webhook resuming the local saga: the payment's outcome, the waiting
//! task's completion and the token's removal from the payment commit in
//! one transaction; a task that no longer waits leaves the webhook's
//! effects as they were.

mod common;

use async_trait::async_trait;
use axum::http::StatusCode;
use common::*;
use lite_core::SystemClock;
use lite_http::testing::{finish_for_tests, TestClient};
use lite_ports::testing::memory_context;
use lite_saga::store::TokenStatus;
use lite_saga::{Definition, LocalSaga, LocalSagaConfig, Saga, TaskError, TaskInvoker};
use lite_service::Service;
use payments::{Delivery, PaymentStatus, Payments, SandboxProvider};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Hands out each task token it is invoked with.
struct TokenOut(mpsc::UnboundedSender<String>);

#[async_trait]
impl TaskInvoker for TokenOut {
    async fn invoke(&self, _function: &str, payload: Value) -> Result<Value, TaskError> {
        let token = payload["taskToken"].as_str().unwrap_or_default().to_owned();
        let _ = self.0.send(token);
        Ok(Value::Null)
    }
}

struct Setup {
    p: Arc<Payments>,
    saga: Arc<LocalSaga>,
    tokens: mpsc::UnboundedReceiver<String>,
    app: axum::Router,
}

fn setup() -> Setup {
    let ctx = memory_context();
    let definition = Definition::parse(
        &json!({
            "StartAt": "Pay",
            "States": {"Pay": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "pay", "Payload": {"taskToken.$": "$$.Task.Token"}},
                "TimeoutSecondsPath": "$.timeout", "ResultPath": "$.payment", "End": true
            }}
        })
        .to_string(),
        &HashMap::new(),
    )
    .unwrap();
    let (tx, tokens) = mpsc::unbounded_channel();
    let saga = LocalSaga::new(
        ctx.store.clone(),
        Arc::new(SystemClock),
        definition,
        Arc::new(TokenOut(tx)),
        LocalSagaConfig::default(),
    );
    let sandbox = Arc::new(SandboxProvider::new(secret(), Delivery::Background));
    let p = Arc::new(Payments {
        ctx,
        provider: sandbox,
        saga: saga.clone(),
        webhook_secret: secret(),
    });
    let app = finish_for_tests(p.router());
    Setup {
        p,
        saga,
        tokens,
        app,
    }
}

impl Setup {
    /// A checkout waiting for its payment (`timeout` seconds at most), and
    /// its pending payment holding the task's token.
    async fn waiting(&mut self, timeout: u64) -> (lite_core::OrderId, String) {
        let order = order_id();
        self.saga
            .start(order.as_str(), json!({"timeout": timeout}))
            .await
            .unwrap();
        let token = self.tokens.recv().await.unwrap();
        let task = payments::AuthorizeTask {
            order_id: order.clone(),
            user_id: "usr_1".into(),
            amount: usd(2_500),
            payment_token: "tok_noWebhook".into(),
            task_token: token.clone(),
            correlation_id: "corr-1".into(),
        };
        payments::checkout::authorize(&self.p, task).await.unwrap();
        (order, token)
    }

    async fn webhook(&self, body: &str) -> StatusCode {
        TestClient::new(self.app.clone())
            .request(axum::http::Method::POST, "/v1/payments/webhook")
            .header("Payment-Signature", &sign(SECRET, now(), body))
            .raw_json(body.to_owned())
            .send()
            .await
            .status
    }

    async fn payment(&self, order: &lite_core::OrderId) -> payments::record::Payment {
        payments::record::get(self.p.ctx.store.as_ref(), order)
            .await
            .unwrap()
            .unwrap()
    }

    async fn token_status(&self, token: &str) -> TokenStatus {
        lite_saga::store::get_token(self.p.ctx.store.as_ref(), token)
            .await
            .unwrap()
            .unwrap()
            .status
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outcome_and_the_resumption_commit_together() {
    let mut s = setup();
    let (order, token) = s.waiting(600).await;
    let p = s.payment(&order).await;
    assert_eq!(p.task_token.as_deref(), Some(token.as_str()));

    let body = event("evt_l1", "payment.authorized", &p, None);
    assert_eq!(s.webhook(&body).await, StatusCode::OK);
    let after = s.payment(&order).await;
    assert_eq!(after.status, PaymentStatus::Authorized);
    assert_eq!(after.task_token, None);
    assert_eq!(
        after.version,
        p.version + 1,
        "one write: the token dropped with the status change, not after it"
    );
    assert_eq!(s.token_status(&token).await, TokenStatus::Succeeded);
    let done = s
        .saga
        .wait_until_stopped(order.as_str(), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        done.output.unwrap()["payment"],
        json!({"authorized": true, "paymentId": p.payment_id.as_str()})
    );

    // The provider redelivers: a duplicate, the task is not resumed again.
    assert_eq!(s.webhook(&body).await, StatusCode::OK);
    assert_eq!(s.token_status(&token).await, TokenStatus::Succeeded);
    s.saga.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_timed_out_leaves_the_outcome_recorded() {
    let mut s = setup();
    let (order, token) = s.waiting(1).await;
    let stopped = s
        .saga
        .wait_until_stopped(order.as_str(), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(stopped.error.as_deref(), Some("States.Timeout"));
    assert_eq!(s.token_status(&token).await, TokenStatus::TimedOut);

    // The provider answers late: the payment is settled all the same, the
    // task is not resumed, and the payment forgets the spent token.
    let p = s.payment(&order).await;
    let body = event("evt_l2", "payment.failed", &p, Some("card_declined"));
    assert_eq!(s.webhook(&body).await, StatusCode::OK);
    let after = s.payment(&order).await;
    assert_eq!(after.status, PaymentStatus::Failed);
    assert_eq!(after.failure_reason.as_deref(), Some("card_declined"));
    assert_eq!(after.task_token, None);
    assert_eq!(s.token_status(&token).await, TokenStatus::TimedOut);
    s.saga.shutdown().await;
}
