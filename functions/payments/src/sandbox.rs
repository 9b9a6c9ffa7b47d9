//! The sandbox provider: behaves like a card processor without a card
//! network. Its test tokens decide the outcome, which it reports the way a
//! real provider does: a signed webhook POSTed over HTTP, retried with
//! backoff until the endpoint answers 2xx.
//!
//! | token | outcome |
//! |---|---|
//! | `tok_visa` | webhook `payment.authorized` |
//! | `tok_chargeDeclined` | webhook `payment.failed`, reason `card_declined` |
//! | `tok_insufficientFunds` | webhook `payment.failed`, reason `insufficient_funds` |
//! | `tok_noWebhook` | accepted, never answered (checkout times out) |
//! | anything else | refused at once: `Declined("invalid_token")` |
//!
//! Void, capture and refund always succeed (and are recorded in
//! [`SandboxProvider::operations`]): the sandbox keeps no ledger, because
//! on Lambda each function instance would hold its own.

use crate::provider::{AuthorizeRequest, PaymentProvider, ProviderError};
use crate::secret::WebhookSecret;
use crate::signature;
use crate::webhook::{WebhookData, WebhookEvent, AUTHORIZED, FAILED};
use async_trait::async_trait;
use lite_core::{Ids, Money, SystemIds};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tracing::Instrument;

/// How webhooks leave the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// On a spawned task, after `authorize` returned (the local API: like a
    /// real provider, the answer comes later).
    Background,
    /// Before `authorize` returns. On Lambda the process is frozen once the
    /// invocation answers, so a background task would never run.
    Inline,
}

/// What the sandbox was asked to do (for tests and the curious).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxOperation {
    Authorize { payment_id: String, token: String },
    Void { payment_id: String },
    Capture { payment_id: String, amount: Money },
    Refund { payment_id: String, amount: Money },
}

/// How a token answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Authorize,
    Fail(&'static str),
    Silent,
}

fn answer(token: &str) -> Option<Answer> {
    match token {
        "tok_visa" => Some(Answer::Authorize),
        "tok_chargeDeclined" => Some(Answer::Fail("card_declined")),
        "tok_insufficientFunds" => Some(Answer::Fail("insufficient_funds")),
        "tok_noWebhook" => Some(Answer::Silent),
        _ => None,
    }
}

/// Longest wait for one webhook POST (connect, send, answer). Our webhook
/// route answers in milliseconds; one that has not answered in 3 s is
/// stuck, and the next attempt is a better bet.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest wait for the TCP (and TLS) connection of one POST.
pub const WEBHOOK_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Redelivery schedule of one webhook. The default (4 attempts, 250 ms
/// doubling: 250, 500, 1000 ms) ends within 4 × [`WEBHOOK_TIMEOUT`] +
/// 1.75 s ≈ 14 s, inside the authorize step's own limit
/// ([`crate::breaker::CALL_TIMEOUT`], 20 s) when delivery is inline; a
/// checkout whose webhook never arrives times out in the saga and is
/// compensated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Deliveries tried in all (at least 1).
    pub attempts: u32,
    /// Wait after the first failure; doubled after each further one.
    pub first_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            first_backoff: Duration::from_millis(250),
        }
    }
}

/// What a delivery in flight needs (it may outlive the call that started it).
struct Shared {
    secret: WebhookSecret,
    url: RwLock<Option<String>>,
    client: reqwest::Client,
}

pub struct SandboxProvider {
    shared: Arc<Shared>,
    delivery: Delivery,
    retry: RetryPolicy,
    delay: Duration,
    ids: SystemIds,
    operations: Mutex<Vec<SandboxOperation>>,
}

impl SandboxProvider {
    pub const NAME: &'static str = "sandbox";

    /// A sandbox signing its webhooks with `secret`. It posts nowhere until
    /// [`set_webhook_url`](Self::set_webhook_url) is called.
    pub fn new(secret: WebhookSecret, delivery: Delivery) -> Self {
        let client = reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            .connect_timeout(WEBHOOK_CONNECT_TIMEOUT)
            .build()
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot build the webhook HTTP client with a timeout; using defaults");
                reqwest::Client::new()
            });
        Self {
            shared: Arc::new(Shared {
                secret,
                url: RwLock::new(None),
                client,
            }),
            delivery,
            retry: RetryPolicy::default(),
            delay: Duration::ZERO,
            ids: SystemIds::default(),
            operations: Mutex::new(Vec::new()),
        }
    }

    /// Waits `delay` before each webhook (simulates a slow provider).
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Where webhooks go, e.g. `http://127.0.0.1:3000/v1/payments/webhook`.
    /// May be set after construction (the local API knows its port only
    /// once bound); deliveries in flight use the new value.
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        let mut slot = self.shared.url.write().unwrap_or_else(|p| p.into_inner());
        *slot = Some(url.into());
    }

    pub fn webhook_url(&self) -> Option<String> {
        self.shared
            .url
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Every call made so far, oldest first.
    pub fn operations(&self) -> Vec<SandboxOperation> {
        self.operations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn record(&self, op: SandboxOperation) {
        self.operations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(op);
    }

    fn event(
        &self,
        req: &AuthorizeRequest,
        event_type: &str,
        reason: Option<&str>,
    ) -> WebhookEvent {
        WebhookEvent {
            id: format!("evt_{}", self.ids.next()),
            event_type: event_type.to_owned(),
            created: chrono::Utc::now().timestamp(),
            data: WebhookData {
                payment_id: req.payment_id.clone(),
                order_id: req.order_id.clone(),
                amount: req.amount,
                reason: reason.map(str::to_owned),
            },
        }
    }
}

impl Shared {
    /// Posts `body` until a 2xx or the attempts run out. Each attempt is
    /// signed afresh (the timestamp is part of the signature).
    async fn deliver(
        &self,
        event_id: &str,
        body: &str,
        retry: RetryPolicy,
        delay: Duration,
    ) -> bool {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let attempts = retry.attempts.max(1);
        let mut backoff = retry.first_backoff;
        for attempt in 1..=attempts {
            match self.post(body).await {
                Ok(()) => {
                    tracing::info!(event_id, attempt, "sandbox webhook delivered");
                    return true;
                }
                Err(why) => {
                    tracing::warn!(event_id, attempt, attempts, %why, "sandbox webhook delivery failed");
                }
            }
            if attempt < attempts {
                tokio::time::sleep(backoff).await;
                backoff = backoff.saturating_mul(2);
            }
        }
        tracing::error!(
            event_id,
            attempts,
            "sandbox webhook undelivered: giving up (the checkout will time out and compensate)"
        );
        false
    }

    async fn post(&self, body: &str) -> Result<(), String> {
        let url = self
            .url
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(
                "no webhook URL is set (SandboxProvider::set_webhook_url / PAYMENT_WEBHOOK_URL)",
            )?;
        let key = self.secret.key().await.map_err(|e| e.to_string())?;
        let header = signature::sign(key, chrono::Utc::now().timestamp(), body.as_bytes());
        // The webhook request carries the trace (W3C `traceparent`), as a
        // provider that supports it would: its handling and the saga step
        // it resumes are in the checkout's trace.
        let span = tracing::info_span!("sandbox.webhook");
        let mut request = self
            .client
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(signature::HEADER, header);
        if let Some(context) = lite_trace::context_of(&span) {
            request = request.header("traceparent", context.to_traceparent());
        }
        let response = request
            .body(body.to_owned())
            .send()
            .instrument(span)
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("POST {url}: HTTP {status}"))
        }
    }
}

#[async_trait]
impl PaymentProvider for SandboxProvider {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn authorize(&self, req: &AuthorizeRequest) -> Result<(), ProviderError> {
        let Some(answer) = answer(&req.token) else {
            return Err(ProviderError::Declined("invalid_token".into()));
        };
        self.record(SandboxOperation::Authorize {
            payment_id: req.payment_id.clone(),
            token: req.token.clone(),
        });
        let event = match answer {
            Answer::Authorize => self.event(req, AUTHORIZED, None),
            Answer::Fail(reason) => self.event(req, FAILED, Some(reason)),
            Answer::Silent => {
                tracing::info!(payment_id = %req.payment_id, "sandbox: tok_noWebhook, no answer will come");
                return Ok(());
            }
        };
        let body = serde_json::to_string(&event)
            .map_err(|e| ProviderError::Unavailable(format!("webhook body: {e}")))?;
        let shared = Arc::clone(&self.shared);
        let (retry, delay) = (self.retry, self.delay);
        match self.delivery {
            Delivery::Inline => {
                shared.deliver(&event.id, &body, retry, delay).await;
            }
            Delivery::Background => {
                // The delivery stays in the trace of the authorization
                // that caused it.
                let span = tracing::Span::current();
                tokio::spawn(async move {
                    shared
                        .deliver(&event.id, &body, retry, delay)
                        .instrument(span)
                        .await;
                });
            }
        }
        Ok(())
    }

    async fn void(&self, payment_id: &str) -> Result<(), ProviderError> {
        self.record(SandboxOperation::Void {
            payment_id: payment_id.to_owned(),
        });
        Ok(())
    }

    async fn capture(&self, payment_id: &str, amount: Money) -> Result<(), ProviderError> {
        self.record(SandboxOperation::Capture {
            payment_id: payment_id.to_owned(),
            amount,
        });
        Ok(())
    }

    async fn refund(&self, payment_id: &str, amount: Money) -> Result<(), ProviderError> {
        self.record(SandboxOperation::Refund {
            payment_id: payment_id.to_owned(),
            amount,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inline delivery runs inside `authorize`: its worst case (every POST
    /// timing out) must end before the authorize step's own limit, or a
    /// webhook endpoint that hangs would count against the provider.
    #[test]
    fn default_redelivery_ends_inside_the_authorize_limit() {
        let p = RetryPolicy::default();
        let mut worst = WEBHOOK_TIMEOUT * p.attempts;
        let mut backoff = p.first_backoff;
        for _ in 1..p.attempts {
            worst += backoff;
            backoff *= 2;
        }
        assert!(
            worst < crate::breaker::CALL_TIMEOUT,
            "{worst:?} is not inside {:?}",
            crate::breaker::CALL_TIMEOUT
        );
    }
}
