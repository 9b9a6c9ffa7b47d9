//! The payment provider's circuit breaker, and how its open state reaches
//! `POST /v1/orders` in another process.
//!
//! [`GuardedProvider`] wraps the provider the checkout's authorize step
//! calls: every call has a time limit, and after [`POLICY`]`.failures`
//! consecutive authorizations that could not reach the provider (or timed
//! out) it refuses authorizations at once for `open_for`, then lets one
//! trial through (half-open) whose outcome closes or reopens it.
//!
//! On AWS the authorize step and order placement are different Lambda
//! functions, so the breaker's memory alone cannot stop new orders. When it
//! opens, it writes `BREAKER#payments` (`openUntil`, TTL `expiresAt`)
//! through the Store port; [`admit_checkout`] reads that item (one get,
//! cached in the process for [`VIEW_TTL`]) before an order is placed, and
//! refuses with 503 and `Retry-After` while `openUntil` is ahead. The item
//! needs no closing write: it lapses at `openUntil`, when the next orders
//! bring the trial call that decides. Orders placed in the moment before
//! the item is seen still fail safely (the authorize step refuses, the
//! saga compensates).

use crate::provider::{AuthorizeRequest, PaymentProvider, ProviderError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lite_core::breaker::{retry_after_secs, Breaker, BreakerPolicy, Change};
use lite_core::{Clock, ErrorCode, Money, Problem};
use lite_ports::Context;
use lite_store::{attr, Item, Key, Store, StoreError};
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tracing::Instrument;

/// Five authorizations in a row that could not reach the provider open the
/// circuit for 30 s.
pub const POLICY: BreakerPolicy = BreakerPolicy {
    failures: 5,
    open_for: Duration::from_secs(30),
};

/// Longest wait for one provider call. The sandbox delivers its webhook
/// inside `authorize` on Lambda (at most ~14 s with its retries, see
/// [`crate::sandbox::RetryPolicy`]); the authorize function's timeout is
/// 60 s, and the saga retries the step.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// How long order placement trusts what it read of the breaker item.
pub const VIEW_TTL: Duration = Duration::from_secs(2);

/// How long the item stays in the table after `openUntil` (DynamoDB's TTL
/// deletes it some time after; it is harmless meanwhile).
const ITEM_TTL_AFTER_OPEN: chrono::Duration = chrono::Duration::hours(1);

const OPEN_UNTIL: &str = "openUntil";

pub fn key() -> Key {
    Key::new("BREAKER#payments", "BREAKER")
}

/// The provider behind a breaker and a time limit.
pub struct GuardedProvider {
    inner: Arc<dyn PaymentProvider>,
    breaker: Breaker,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    timeout: Duration,
}

impl GuardedProvider {
    /// Guards `inner`; the open state is published in `ctx`'s store.
    pub fn new(inner: Arc<dyn PaymentProvider>, ctx: &Context) -> Self {
        Self {
            inner,
            breaker: Breaker::new(POLICY),
            store: Arc::clone(&ctx.store),
            clock: Arc::clone(&ctx.clock),
            timeout: CALL_TIMEOUT,
        }
    }

    /// `inner` guarded, as the port (what `Payments::provider` holds).
    pub fn wrap(inner: Arc<dyn PaymentProvider>, ctx: &Context) -> Arc<dyn PaymentProvider> {
        Arc::new(Self::new(inner, ctx))
    }

    /// Another time limit per call (tests).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    async fn limited<F: Future<Output = Result<(), ProviderError>>>(
        &self,
        what: &str,
        call: F,
    ) -> Result<(), ProviderError> {
        // One span per provider call, in the trace of the saga task or the
        // consumer that makes it.
        let span = tracing::info_span!(
            "payment.provider",
            operation = what,
            provider = self.inner.name()
        );
        match tokio::time::timeout(self.timeout, call)
            .instrument(span)
            .await
        {
            Ok(result) => result,
            Err(_) => Err(ProviderError::Unavailable(format!(
                "{what}: no answer from the provider within {:?}",
                self.timeout
            ))),
        }
    }

    async fn publish(&self, change: Option<Change>) {
        let Some(Change::Opened { until }) = change else {
            if change == Some(Change::Closed) {
                tracing::info!("payment provider circuit closed: authorizations go through again");
            }
            return;
        };
        tracing::error!(open_until = %lite_core::rfc3339(until), "payment provider circuit opened: authorizations are refused and checkout is paused");
        if let Err(e) = publish_open(self.store.as_ref(), until).await {
            // The breaker still protects this process; order placement
            // elsewhere just keeps accepting orders that will fail safely.
            tracing::warn!(error = %e, "cannot record the open payment circuit");
        }
    }
}

#[async_trait]
impl PaymentProvider for GuardedProvider {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn authorize(&self, req: &AuthorizeRequest) -> Result<(), ProviderError> {
        let permit = self.breaker.try_acquire(self.clock.now()).map_err(|open| {
            ProviderError::Unavailable(format!(
                "the payment provider's circuit is open until {}",
                lite_core::rfc3339(open.until)
            ))
        })?;
        let result = self.limited("authorize", self.inner.authorize(req)).await;
        let now = self.clock.now();
        let change = match &result {
            // A decline is an answer: the provider is healthy.
            Ok(()) | Err(ProviderError::Declined(_)) => self.breaker.succeeded(permit),
            Err(ProviderError::Unavailable(_)) => self.breaker.failed(permit, now),
        };
        self.publish(change).await;
        result
    }

    // Compensations and capture are not refused by the breaker: they must
    // keep trying (their callers retry), and they are not what checkout
    // waits on. They get the time limit.
    async fn void(&self, payment_id: &str) -> Result<(), ProviderError> {
        self.limited("void", self.inner.void(payment_id)).await
    }

    async fn capture(&self, payment_id: &str, amount: Money) -> Result<(), ProviderError> {
        self.limited("capture", self.inner.capture(payment_id, amount))
            .await
    }

    async fn refund(&self, payment_id: &str, amount: Money) -> Result<(), ProviderError> {
        self.limited("refund", self.inner.refund(payment_id, amount))
            .await
    }
}

/// Records that the circuit is open until `until` (a later write wins:
/// each is a fresh opening).
pub async fn publish_open(store: &dyn Store, until: DateTime<Utc>) -> Result<(), StoreError> {
    let k = key();
    let mut item = Item::new();
    item.insert(attr::PK.into(), k.pk.into());
    item.insert(attr::SK.into(), k.sk.into());
    item.insert("entity".into(), "breaker".into());
    item.insert(OPEN_UNTIL.into(), lite_core::rfc3339(until).into());
    item.insert(
        attr::EXPIRES_AT.into(),
        (until + ITEM_TTL_AFTER_OPEN).timestamp().into(),
    );
    store.put(item, None).await
}

/// Until when the circuit was last recorded open (possibly in the past).
pub async fn open_until(store: &dyn Store) -> Result<Option<DateTime<Utc>>, StoreError> {
    let Some(item) = store.get(&key()).await? else {
        return Ok(None);
    };
    let until = item
        .get(OPEN_UNTIL)
        .and_then(|v| v.as_str())
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| StoreError::Invalid("the payment breaker item has no openUntil".into()))?;
    Ok(Some(until))
}

/// Checkout is paused: the payment provider's circuit is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("payments are unavailable for {retry_after} s")]
pub struct PaymentsUnavailable {
    pub retry_after: u64,
}

impl PaymentsUnavailable {
    /// 503 `unavailable` with `Retry-After`.
    pub fn problem(&self) -> Problem {
        Problem::new(
            ErrorCode::Unavailable,
            format!(
                "Payments are unavailable right now, so no order was placed and your cart is unchanged. Try again in {} seconds.",
                self.retry_after
            ),
        )
        .with_retry_after(self.retry_after)
    }
}

/// Whether an order may be placed now: refused while the payment circuit
/// is recorded open. A failing read admits (the placement's own writes
/// will meet the same store).
pub async fn admit_checkout(ctx: &Context) -> Result<(), PaymentsUnavailable> {
    let now = ctx.clock.now();
    let until = match VIEWS.cached(&ctx.store, now) {
        Some(until) => until,
        None => match open_until(ctx.store.as_ref()).await {
            Ok(until) => {
                VIEWS.remember(&ctx.store, now, until);
                until
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the payment circuit; admitting the order");
                None
            }
        },
    };
    match until {
        Some(until) if now < until => Err(PaymentsUnavailable {
            retry_after: retry_after_secs(until, now),
        }),
        _ => Ok(()),
    }
}

/// What this process last read of the breaker item, per store (a process
/// normally has one; tests have many). Keyed by a weak reference, so a
/// dropped store's entry is never mistaken for a new one's.
struct Views(Mutex<Vec<View>>);

struct View {
    store: Weak<dyn Store>,
    read_at: DateTime<Utc>,
    open_until: Option<DateTime<Utc>>,
}

static VIEWS: Views = Views(Mutex::new(Vec::new()));

impl Views {
    fn cached(&self, store: &Arc<dyn Store>, now: DateTime<Utc>) -> Option<Option<DateTime<Utc>>> {
        let ttl = chrono::Duration::from_std(VIEW_TTL).unwrap_or_default();
        let views = self.0.lock().unwrap_or_else(|p| p.into_inner());
        views
            .iter()
            .find(|v| same(&v.store, store))
            .filter(|v| v.read_at <= now && now < v.read_at + ttl)
            .map(|v| v.open_until)
    }

    fn remember(
        &self,
        store: &Arc<dyn Store>,
        now: DateTime<Utc>,
        open_until: Option<DateTime<Utc>>,
    ) {
        let mut views = self.0.lock().unwrap_or_else(|p| p.into_inner());
        views.retain(|v| v.store.strong_count() > 0 && !same(&v.store, store));
        views.push(View {
            store: Arc::downgrade(store),
            read_at: now,
            open_until,
        });
    }
}

fn same(weak: &Weak<dyn Store>, store: &Arc<dyn Store>) -> bool {
    weak.upgrade().is_some_and(|s| Arc::ptr_eq(&s, store))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lite_core::ManualClock;

    struct Network {
        up: Mutex<bool>,
    }

    #[async_trait]
    impl PaymentProvider for Network {
        fn name(&self) -> &'static str {
            "test-network"
        }
        async fn authorize(&self, req: &AuthorizeRequest) -> Result<(), ProviderError> {
            if req.token == "tok_invalid" {
                return Err(ProviderError::Declined("invalid_token".into()));
            }
            if *self.up.lock().unwrap() {
                Ok(())
            } else {
                Err(ProviderError::Unavailable("connection refused".into()))
            }
        }
        async fn void(&self, _: &str) -> Result<(), ProviderError> {
            Ok(())
        }
        async fn capture(&self, _: &str, _: Money) -> Result<(), ProviderError> {
            Ok(())
        }
        async fn refund(&self, _: &str, _: Money) -> Result<(), ProviderError> {
            Ok(())
        }
    }

    fn request(token: &str) -> AuthorizeRequest {
        AuthorizeRequest {
            payment_id: "pay_1".into(),
            order_id: "ord_1".into(),
            amount: Money::new(100, lite_core::Currency::USD),
            token: token.into(),
        }
    }

    fn setup() -> (Context, Arc<ManualClock>, Arc<Network>, GuardedProvider) {
        let mut ctx = lite_ports::testing::memory_context();
        let clock = Arc::new(ManualClock::new(
            DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        ));
        ctx.clock = clock.clone();
        let network = Arc::new(Network {
            up: Mutex::new(false),
        });
        let guarded = GuardedProvider::new(network.clone(), &ctx);
        (ctx, clock, network, guarded)
    }

    #[tokio::test]
    async fn declines_do_not_open_the_circuit() {
        let (ctx, _, _, guarded) = setup();
        for _ in 0..10 {
            let r = guarded.authorize(&request("tok_invalid")).await;
            assert!(matches!(r, Err(ProviderError::Declined(_))));
        }
        assert_eq!(open_until(ctx.store.as_ref()).await.unwrap(), None);
        assert!(admit_checkout(&ctx).await.is_ok());
    }

    #[tokio::test]
    async fn opening_is_published_and_pauses_checkout_until_it_lapses() {
        let (ctx, clock, network, guarded) = setup();
        assert!(admit_checkout(&ctx).await.is_ok());
        for _ in 0..POLICY.failures {
            let r = guarded.authorize(&request("tok_visa")).await;
            assert!(matches!(r, Err(ProviderError::Unavailable(_))));
        }
        let until = ctx.clock.now() + chrono::Duration::seconds(30);
        assert_eq!(open_until(ctx.store.as_ref()).await.unwrap(), Some(until));
        // Refused at once, without asking the network.
        *network.up.lock().unwrap() = true;
        let refused = guarded.authorize(&request("tok_visa")).await;
        assert!(
            matches!(refused, Err(ProviderError::Unavailable(m)) if m.contains("circuit is open"))
        );
        // The earlier "closed" view is cached for VIEW_TTL; past it, the
        // open state is seen.
        clock.advance(chrono::Duration::seconds(3));
        let paused = admit_checkout(&ctx).await.unwrap_err();
        assert_eq!(paused.retry_after, 27);
        assert_eq!(paused.problem().status(), 503);
        assert_eq!(paused.problem().retry_after, Some(27));
        // Half-open after 30 s: the trial succeeds and closes the circuit.
        clock.advance(chrono::Duration::seconds(27));
        assert!(admit_checkout(&ctx).await.is_ok());
        guarded.authorize(&request("tok_visa")).await.unwrap();
        assert_eq!(
            guarded.breaker().state(),
            lite_core::breaker::BreakerState::Closed { failures: 0 }
        );
    }

    #[tokio::test]
    async fn a_failed_trial_reopens_and_republishes() {
        let (ctx, clock, _, guarded) = setup();
        for _ in 0..POLICY.failures {
            let _ = guarded.authorize(&request("tok_visa")).await;
        }
        clock.advance(chrono::Duration::seconds(31));
        let r = guarded.authorize(&request("tok_visa")).await;
        assert!(
            matches!(r, Err(ProviderError::Unavailable(m)) if m.contains("connection refused"))
        );
        let until = ctx.clock.now() + chrono::Duration::seconds(30);
        assert_eq!(open_until(ctx.store.as_ref()).await.unwrap(), Some(until));
    }

    #[tokio::test]
    async fn a_provider_that_never_answers_counts_as_a_failure() {
        struct Silent;
        #[async_trait]
        impl PaymentProvider for Silent {
            fn name(&self) -> &'static str {
                "silent"
            }
            async fn authorize(&self, _: &AuthorizeRequest) -> Result<(), ProviderError> {
                std::future::pending().await
            }
            async fn void(&self, _: &str) -> Result<(), ProviderError> {
                std::future::pending().await
            }
            async fn capture(&self, _: &str, _: Money) -> Result<(), ProviderError> {
                std::future::pending().await
            }
            async fn refund(&self, _: &str, _: Money) -> Result<(), ProviderError> {
                std::future::pending().await
            }
        }
        let ctx = lite_ports::testing::memory_context();
        let guarded =
            GuardedProvider::new(Arc::new(Silent), &ctx).with_timeout(Duration::from_millis(50));
        let r = guarded.authorize(&request("tok_visa")).await;
        assert!(matches!(r, Err(ProviderError::Unavailable(m)) if m.contains("no answer")));
        assert_eq!(
            guarded.breaker().state(),
            lite_core::breaker::BreakerState::Closed { failures: 1 }
        );
        assert!(matches!(
            guarded.void("pay_1").await,
            Err(ProviderError::Unavailable(_))
        ));
    }
}
