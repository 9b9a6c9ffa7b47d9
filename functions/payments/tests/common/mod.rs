//! Shared set-up of the payments tests: the service on an in-memory store,
//! the sandbox provider (posting nowhere unless a test gives it a URL), a
//! saga that records what it is told, and helpers to sign and post
//! webhooks through the finished router.
#![allow(dead_code)]

use async_trait::async_trait;
use axum::http::{Method, StatusCode};
use lite_core::{Money, OrderId, SystemIds};
use lite_http::testing::{finish_for_tests, TestClient};
use lite_ports::testing::memory_context;
use lite_saga::{Saga, SagaError, Started};
use lite_service::Service;
use payments::record::{self, Payment};
use payments::{AuthorizeTask, Delivery, Payments, SandboxProvider, SecretKey, WebhookSecret};
use serde_json::{json, Value};
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

pub const SECRET: &str = "whsec_payments_tests_0123456789";

/// A saga that records each resume. Like the real one, a token resolves
/// once: a second success on it is `TaskGone`. `fail_next` queues errors
/// for the next calls (e.g. the engine being down).
#[derive(Default)]
pub struct FakeSaga {
    pub calls: Mutex<Vec<(String, Value)>>,
    resolved: Mutex<HashSet<String>>,
    fail_next: Mutex<VecDeque<SagaError>>,
}

impl FakeSaga {
    pub fn calls(&self) -> Vec<(String, Value)> {
        self.calls.lock().unwrap().clone()
    }

    pub fn fail_next(&self, e: SagaError) {
        self.fail_next.lock().unwrap().push_back(e);
    }

    pub fn expire(&self, token: &str) {
        self.resolved.lock().unwrap().insert(token.to_owned());
    }
}

#[async_trait]
impl Saga for FakeSaga {
    async fn start(&self, _name: &str, _input: Value) -> Result<Started, SagaError> {
        Err(SagaError::Invalid(
            "payments never starts executions".into(),
        ))
    }

    async fn send_task_success(&self, token: &str, output: Value) -> Result<(), SagaError> {
        if let Some(e) = self.fail_next.lock().unwrap().pop_front() {
            return Err(e);
        }
        self.calls
            .lock()
            .unwrap()
            .push((token.to_owned(), output.clone()));
        if !self.resolved.lock().unwrap().insert(token.to_owned()) {
            return Err(SagaError::TaskGone(token.to_owned()));
        }
        Ok(())
    }

    async fn send_task_failure(&self, token: &str, _e: &str, _c: &str) -> Result<(), SagaError> {
        Err(SagaError::TaskGone(token.to_owned()))
    }
}

pub struct Harness {
    pub p: Arc<Payments>,
    pub sandbox: Arc<SandboxProvider>,
    pub saga: Arc<FakeSaga>,
    pub app: axum::Router,
}

pub fn secret() -> WebhookSecret {
    WebhookSecret::new(SECRET).unwrap()
}

impl Harness {
    pub fn new() -> Self {
        let sandbox = Arc::new(SandboxProvider::new(secret(), Delivery::Background));
        Self::with_provider(sandbox.clone(), sandbox)
    }

    /// The service on `provider`; `sandbox` is what tests inspect.
    pub fn with_provider(
        provider: Arc<dyn payments::PaymentProvider>,
        sandbox: Arc<SandboxProvider>,
    ) -> Self {
        let saga = Arc::new(FakeSaga::default());
        let p = Arc::new(Payments {
            ctx: memory_context(),
            provider,
            saga: saga.clone(),
            webhook_secret: secret(),
        });
        let app = finish_for_tests(p.router());
        Self {
            p,
            sandbox,
            saga,
            app,
        }
    }

    pub fn task(
        &self,
        order_id: &OrderId,
        user_id: &str,
        token: &str,
        task_token: &str,
    ) -> AuthorizeTask {
        AuthorizeTask {
            order_id: order_id.clone(),
            user_id: user_id.to_owned(),
            amount: usd(2_500),
            payment_token: token.to_owned(),
            task_token: task_token.to_owned(),
            correlation_id: format!("corr-{order_id}"),
        }
    }

    /// A pending payment for a new order whose provider never answers.
    pub async fn pending(&self, user_id: &str, task_token: &str) -> Payment {
        let order = order_id();
        payments::checkout::authorize(
            &self.p,
            self.task(&order, user_id, "tok_noWebhook", task_token),
        )
        .await
        .unwrap();
        self.payment(&order).await.expect("a pending payment")
    }

    pub async fn payment(&self, order_id: &OrderId) -> Option<Payment> {
        record::get(self.p.ctx.store.as_ref(), order_id)
            .await
            .unwrap()
    }

    /// Every outbox event: (detail-type, envelope).
    pub async fn outbox(&self) -> Vec<(String, Value)> {
        lite_events::outbox::pending(self.p.ctx.store.as_ref())
            .await
            .unwrap()
    }

    pub async fn outbox_types(&self) -> Vec<String> {
        self.outbox().await.into_iter().map(|(t, _)| t).collect()
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        headers: &[(&str, String)],
        body: Option<String>,
    ) -> (StatusCode, Value) {
        let mut req = TestClient::new(self.app.clone())
            .request(method, path)
            .bearer(bearer);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        if let Some(b) = body {
            req = req.raw_json(b);
        }
        let r = req.send().await;
        (r.status, r.json)
    }

    /// Posts `body` to the webhook with `signature` (none: no header).
    pub async fn webhook(&self, body: &str, signature: Option<String>) -> (StatusCode, Value) {
        let headers: Vec<(&str, String)> = signature
            .into_iter()
            .map(|s| ("Payment-Signature", s))
            .collect();
        self.call(
            Method::POST,
            "/v1/payments/webhook",
            None,
            &headers,
            Some(body.to_owned()),
        )
        .await
    }

    /// Posts `body` signed now with the right secret.
    pub async fn signed_webhook(&self, body: &str) -> (StatusCode, Value) {
        self.webhook(body, Some(sign(SECRET, now(), body))).await
    }
}

pub fn usd(amount: i64) -> Money {
    Money::new(amount, lite_core::Currency::USD)
}

pub fn order_id() -> OrderId {
    OrderId::generate(&SystemIds::default())
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn sign(secret: &str, t: i64, body: &str) -> String {
    payments::signature::sign(&SecretKey::parse(secret).unwrap(), t, body.as_bytes())
}

/// A provider event about `p`.
pub fn event(id: &str, event_type: &str, p: &Payment, reason: Option<&str>) -> String {
    let mut data = json!({
        "paymentId": p.payment_id.as_str(),
        "orderId": p.order_id,
        "amount": p.amount,
    });
    if let Some(r) = reason {
        data["reason"] = json!(r);
    }
    json!({"id": id, "type": event_type, "created": now(), "data": data}).to_string()
}
