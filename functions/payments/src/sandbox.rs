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

/// Longest wait for the TCP (and TLS) connection of one POST.
pub const WEBHOOK_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Redelivery schedule of one webhook: the attempts, the wait after each
/// failure (doubling from `first_backoff` up to `max_backoff`), and the
/// longest wait for one POST's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Deliveries tried in all (at least 1).
    pub attempts: u32,
    /// Wait after the first failure; doubled after each further one.
    pub first_backoff: Duration,
    /// The doubling stops here.
    pub max_backoff: Duration,
    /// Longest wait for one POST (connect, send, answer).
    pub timeout: Duration,
}

impl RetryPolicy {
    /// Delivery inside `authorize` (Lambda): 4 attempts of at most 3 s,
    /// 250 ms doubling between them, ≈ 14 s in all, inside the authorize
    /// step's own limit ([`crate::breaker::CALL_TIMEOUT`], 20 s). Our
    /// webhook route answers in milliseconds on DynamoDB; one that has not
    /// answered in 3 s is stuck, and the next attempt is a better bet. A
    /// checkout whose webhook never arrives times out in the saga and is
    /// compensated.
    pub const INLINE: RetryPolicy = RetryPolicy {
        attempts: 4,
        first_backoff: Duration::from_millis(250),
        max_backoff: Duration::from_secs(1),
        timeout: Duration::from_secs(3),
    };

    /// Delivery after `authorize` returned (the local API), as a real
    /// provider redelivers: for many minutes, not seconds (providers keep
    /// at it for hours or days). 40 attempts of at most 10 s, 250 ms
    /// doubling up to 30 s between them: about 17 minutes of waits, longer
    /// than a checkout waits for its payment (15 minutes by default), so a
    /// webhook that lands late meets the checkout's compensation (a late
    /// authorization is voided), never silence. A store that answers
    /// slowly for a while (DynamoDB emulated by moto under a flash sale
    /// takes seconds per webhook) delays the webhook; it does not lose it.
    pub const BACKGROUND: RetryPolicy = RetryPolicy {
        attempts: 40,
        first_backoff: Duration::from_millis(250),
        max_backoff: Duration::from_secs(30),
        timeout: Duration::from_secs(10),
    };

    /// The schedule `delivery` uses unless told otherwise.
    pub fn for_delivery(delivery: Delivery) -> RetryPolicy {
        match delivery {
            Delivery::Inline => RetryPolicy::INLINE,
            Delivery::Background => RetryPolicy::BACKGROUND,
        }
    }

    /// The waits between the attempts, in order (one fewer than attempts).
    pub fn backoffs(&self) -> impl Iterator<Item = Duration> {
        let (max, attempts) = (self.max_backoff, self.attempts.max(1));
        std::iter::successors(Some(self.first_backoff.min(max)), move |b| {
            Some(b.saturating_mul(2).min(max))
        })
        .take(attempts as usize - 1)
    }

    /// How long a delivery takes at worst: every attempt timing out.
    pub fn worst_case(&self) -> Duration {
        self.timeout * self.attempts.max(1) + self.backoffs().sum::<Duration>()
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
        // Each POST's own timeout is the retry policy's.
        let client = reqwest::Client::builder()
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
            retry: RetryPolicy::for_delivery(delivery),
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
        let mut backoffs = retry.backoffs();
        for attempt in 1..=attempts {
            match self.post(body, retry.timeout).await {
                Ok(()) => {
                    tracing::info!(event_id, attempt, "sandbox webhook delivered");
                    return true;
                }
                Err(why) => {
                    tracing::warn!(event_id, attempt, attempts, %why, "sandbox webhook delivery failed");
                }
            }
            if let Some(backoff) = backoffs.next() {
                tokio::time::sleep(backoff).await;
            }
        }
        tracing::error!(
            event_id,
            attempts,
            "sandbox webhook undelivered: giving up (the checkout will time out and compensate)"
        );
        false
    }

    async fn post(&self, body: &str, timeout: Duration) -> Result<(), String> {
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
            .header(signature::HEADER, header)
            .timeout(timeout);
        if let Some(context) = lite_trace::context_of(&span) {
            request = request.header("traceparent", context.to_traceparent());
        }
        let response = request
            .body(body.to_owned())
            .send()
            .instrument(span)
            .await
            .map_err(|e| {
                let why = if e.is_timeout() { " (timed out)" } else { "" };
                format!("POST {url}: {e}{why}")
            })?;
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
    fn inline_redelivery_ends_inside_the_authorize_limit() {
        let worst = RetryPolicy::INLINE.worst_case();
        assert!(
            worst < crate::breaker::CALL_TIMEOUT,
            "{worst:?} is not inside {:?}",
            crate::breaker::CALL_TIMEOUT
        );
        assert_eq!(worst, Duration::from_millis(4 * 3_000 + 250 + 500 + 1_000));
    }

    #[test]
    fn backoffs_double_up_to_their_cap() {
        let waits: Vec<u64> = RetryPolicy::BACKGROUND
            .backoffs()
            .map(|d| d.as_millis() as u64)
            .collect();
        assert_eq!(waits.len(), 39);
        assert_eq!(
            waits[..9],
            [250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]
        );
        assert!(waits[9..].iter().all(|w| *w == 30_000), "{waits:?}");
        let one = RetryPolicy {
            attempts: 1,
            ..RetryPolicy::BACKGROUND
        };
        assert_eq!(one.backoffs().count(), 0);
        assert_eq!(one.worst_case(), RetryPolicy::BACKGROUND.timeout);
    }
}
