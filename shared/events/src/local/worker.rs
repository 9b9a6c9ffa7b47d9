//! One consumer's worker: takes its due deliveries in queue order, up to
//! `concurrency` at once, and runs them through [`idempotency::handle_once`].
//!
//! Taking a delivery is a conditional update (on its `version`) that counts
//! the attempt and hides it for the visibility timeout (its `dueAt` moves
//! to the end of the timeout), like an SQS receive: of two workers racing
//! for a delivery one wins. While the handler runs, the worker extends the
//! lease every third of the timeout (SQS's `ChangeMessageVisibility`), so
//! a slow handler keeps its delivery however long it takes, and a delivery
//! whose worker died (a crash) comes back within one timeout. Every later
//! change (extend, delete, reschedule, dead letter) is conditional on the
//! version the take wrote, so a worker that lost its delivery changes
//! nothing.

use super::delivery::{self, int_of, str_of};
use super::LocalEventsConfig;
use crate::{idempotency, lease, Envelope, Handler, HandlerError};
use futures::{FutureExt, StreamExt};
use lite_core::Clock;
use lite_store::{attr, Condition, Index, Item, Key, Query, Store, StoreError, TxOp, Update};
use rand::Rng;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// The name of the delivery's op in the claim's and the done mark's
/// transactions.
const DELIVERY_OP: &str = "delivery";

/// What a worker's look at its queue found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Looked {
    /// A whole batch was due: look again at once.
    Full,
    /// The wait until the next delivery is due (`None`: the queue is
    /// empty).
    Next(Option<Duration>),
}

pub(super) struct Worker {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub handler: Arc<dyn Handler>,
    pub config: LocalEventsConfig,
}

impl Worker {
    fn consumer(&self) -> &'static str {
        self.handler.name()
    }

    /// Handles one batch of the deliveries due now, and tells when to look
    /// again. One query reads the head of the queue (in due order): its
    /// due prefix is handled; when nothing was due, its first item tells
    /// the wait, so an idle worker's look is one query. After handling
    /// something (which may reschedule it) the queue is read again.
    pub async fn run_due(&self, stopped: impl Fn() -> bool) -> Result<Looked, StoreError> {
        let now_ms = self.clock.now().timestamp_millis();
        let concurrency = self
            .handler
            .concurrency()
            .unwrap_or(self.config.concurrency)
            .clamp(1, 1000);
        // A batch holds at least the deliveries handled at once.
        let batch = self.config.batch_size.max(concurrency).clamp(1, 1000);
        let query = Query::new(Index::Gsi1, delivery::queue(self.consumer())).limit(batch);
        let mut items = self.store.query(&query).await?.items;
        let due = items
            .iter()
            .take_while(|item| int_of(item, delivery::DUE_AT) <= now_ms)
            .count();
        if due == 0 {
            return Ok(Looked::Next(items.first().map(|item| self.wait_for(item))));
        }
        items.truncate(due);
        // Taking a delivery is conditional, so handling several at once is
        // as safe as several workers racing for them.
        futures::stream::iter(items)
            .take_while(|_| std::future::ready(!stopped()))
            .for_each_concurrent(concurrency, |item| self.process(item))
            .await;
        if due == batch {
            return Ok(Looked::Full);
        }
        Ok(Looked::Next(self.next_due_in().await?))
    }

    /// How long until the next delivery in the queue is due (`None`: the
    /// queue is empty).
    pub async fn next_due_in(&self) -> Result<Option<Duration>, StoreError> {
        let query = Query::new(Index::Gsi1, delivery::queue(self.consumer())).limit(1);
        let page = self.store.query(&query).await?;
        Ok(page.items.first().map(|item| self.wait_for(item)))
    }

    /// How long until `item` (a delivery) is due.
    fn wait_for(&self, item: &Item) -> Duration {
        let wait = int_of(item, delivery::DUE_AT) - self.clock.now().timestamp_millis();
        Duration::from_millis(wait.max(0).unsigned_abs())
    }

    async fn process(&self, item: Item) {
        let consumer = self.consumer();
        let Ok(key) = Key::of(&item) else {
            return;
        };
        let event_id = str_of(&item, delivery::EVENT_ID)
            .unwrap_or_default()
            .to_owned();
        let seen = int_of(&item, delivery::VERSION);
        let version = seen + 1;
        let raw = item.get(delivery::EVENT).cloned().unwrap_or_default();
        let event = match serde_json::from_value::<Envelope>(raw) {
            Ok(event) => event,
            Err(e) => {
                // Nobody can handle it: take it (counting the receive) and
                // dead-letter it.
                let taken = self
                    .store
                    .update(
                        &key,
                        &self.take(&event_id),
                        Some(Condition::eq(delivery::VERSION, seen)),
                    )
                    .await;
                if let Ok(taken) = taken {
                    let error = HandlerError::Poison(format!("malformed envelope: {e}"));
                    let attempts = int_of(&taken, delivery::ATTEMPTS);
                    self.settle(&key, &event_id, version, attempts, Err(error))
                        .await;
                }
                return;
            }
        };
        let attempts = int_of(&item, delivery::ATTEMPTS) + 1;
        // Taking the delivery rides in the claim's transaction and deleting
        // it in the done mark's: one commit each side of the handler.
        let riders = idempotency::Riders {
            with_claim: vec![TxOp::update(key.clone(), self.take(&event_id).to_vec())
                .when(Condition::eq(delivery::VERSION, seen))
                .named(DELIVERY_OP)],
            with_done: vec![TxOp::delete(key.clone())
                .when(Condition::eq(delivery::VERSION, version))
                .named(DELIVERY_OP)],
        };
        // The consumer's hop of the event's trace.
        let span = tracing::info_span!(
            "consume",
            consumer,
            event_id = %event.id,
            detail_type = %event.detail_type(),
            correlation_id = %event.correlation_id,
            attempts,
        );
        lite_trace::set_parent_from(&span, event.traceparent.as_deref());
        let handling = AssertUnwindSafe(idempotency::handle_once_with(
            self.store.as_ref(),
            self.clock.as_ref(),
            self.handler.as_ref(),
            &event,
            self.config.visibility_timeout,
            &riders,
        ))
        .catch_unwind();
        // The lease is renewed only once taken; before the claim commits
        // the renewal's condition (the taken version) does not hold yet,
        // which is harmless: the take itself set the lease, and a claim is
        // one commit (on a store slow enough for it to outlast a third of
        // the timeout, the next renewal finds it taken).
        let ridden = self
            .holding_lease(&key, &event_id, version, handling)
            .instrument(span)
            .await
            .unwrap_or_else(|panic| {
                Some(idempotency::Ridden {
                    result: Err(HandlerError::Retry(idempotency::panic_message(
                        panic.as_ref(),
                    ))),
                    claimed: false,
                    acked: false,
                })
            });
        let Some(ridden) = ridden else {
            // Another worker took it (or it was handled meanwhile).
            return;
        };
        if ridden.claimed {
            if !ridden.acked {
                self.settle(&key, &event_id, version, attempts, ridden.result)
                    .await;
            } else if let Ok(outcome) = ridden.result {
                tracing::debug!(consumer, %event_id, ?outcome, attempts, "event handled");
            }
            return;
        }
        // Not claimed, so not taken either: a duplicate to delete, or an
        // event held elsewhere (or a store failure) to retry, counting this
        // receive as the take would have.
        match ridden.result {
            Ok(outcome) => {
                tracing::debug!(consumer, %event_id, ?outcome, attempts, "event handled");
                let ours = Some(Condition::eq(delivery::VERSION, seen));
                self.report(&event_id, self.store.delete(&key, ours).await.map(|_| ()));
            }
            Err(error) => {
                let counted = self
                    .store
                    .update(
                        &key,
                        &[
                            Update::add(delivery::ATTEMPTS, 1),
                            Update::add(delivery::VERSION, 1),
                        ],
                        Some(Condition::eq(delivery::VERSION, seen)),
                    )
                    .await;
                match counted {
                    Ok(_) => {
                        self.settle(&key, &event_id, version, attempts, Err(error))
                            .await
                    }
                    Err(e) => self.report(&event_id, Err(e)),
                }
            }
        }
    }

    /// The updates that take a delivery: hidden until the visibility
    /// timeout ends, one more receive, a new version.
    fn take(&self, event_id: &str) -> [Update; 4] {
        let lease_end = self.lease_end();
        [
            Update::set(delivery::DUE_AT, lease_end),
            Update::set(attr::GSI1SK, delivery::sort_key(lease_end, event_id)),
            Update::add(delivery::ATTEMPTS, 1),
            Update::add(delivery::VERSION, 1),
        ]
    }

    /// Settles a taken delivery (at `version`, received `attempts` times)
    /// after its outcome: deleted when handled, rescheduled with backoff on
    /// `Retry` while attempts remain, else dead-lettered.
    async fn settle(
        &self,
        key: &Key,
        event_id: &str,
        version: i64,
        attempts: i64,
        outcome: Result<idempotency::Outcome, HandlerError>,
    ) {
        let consumer = self.consumer();
        let ours = Some(Condition::eq(delivery::VERSION, version));
        let result = match outcome {
            Ok(outcome) => {
                tracing::debug!(consumer, %event_id, ?outcome, attempts, "event handled");
                self.store.delete(key, ours).await.map(|_| ())
            }
            Err(HandlerError::Retry(reason))
                if attempts < i64::from(self.config.max_attempts.max(1)) =>
            {
                let error = HandlerError::Retry(reason).to_string();
                let due = self.clock.now().timestamp_millis()
                    + i64::try_from(self.backoff(attempts).as_millis()).unwrap_or(i64::MAX / 4);
                tracing::info!(consumer, %event_id, attempts, %error, "event will be retried");
                lite_metrics::event_consumed(consumer, lite_metrics::ConsumeOutcome::Retried);
                let retry = [
                    Update::set(delivery::DUE_AT, due),
                    Update::set(attr::GSI1SK, delivery::sort_key(due, event_id)),
                    Update::set(delivery::LAST_ERROR, error),
                    Update::add(delivery::VERSION, 1),
                ];
                self.store.update(key, &retry, ours).await.map(|_| ())
            }
            Err(error) => {
                let error = error.to_string();
                let now = self.clock.now();
                let now_ms = now.timestamp_millis();
                tracing::warn!(consumer, %event_id, attempts, %error, "event moved to the dead-letter queue");
                lite_metrics::event_consumed(consumer, lite_metrics::ConsumeOutcome::DeadLettered);
                let dead = [
                    Update::set(attr::GSI1PK, delivery::dlq(consumer)),
                    Update::set(attr::GSI1SK, delivery::sort_key(now_ms, event_id)),
                    Update::set(attr::GSI2PK, delivery::DEAD_LETTERS_PARTITION),
                    Update::set(
                        attr::GSI2SK,
                        delivery::dead_letter_sort_key(consumer, now_ms, event_id),
                    ),
                    Update::set(delivery::LAST_ERROR, error),
                    Update::set(delivery::FAILED_AT, lite_core::rfc3339(now)),
                    Update::remove(delivery::DUE_AT),
                    Update::add(delivery::VERSION, 1),
                ];
                self.store.update(key, &dead, ours).await.map(|_| ())
            }
        };
        self.report(event_id, result);
    }

    /// Logs how settling a delivery went.
    fn report(&self, event_id: &str, result: Result<(), StoreError>) {
        let consumer = self.consumer();
        match result {
            Ok(()) => {}
            // The visibility timeout ran out and another worker took over:
            // the delivery is theirs now.
            Err(e) if e.is_condition_failure() => {
                tracing::warn!(consumer, %event_id, "delivery taken over by another worker");
            }
            // It comes back when the visibility timeout ends.
            Err(e) => tracing::warn!(consumer, %event_id, error = %e, "cannot settle a delivery"),
        }
    }

    /// When a lease taken (or extended) now ends, in epoch ms.
    fn lease_end(&self) -> i64 {
        self.clock.now().timestamp_millis()
            + i64::try_from(self.config.visibility_timeout.as_millis()).unwrap_or(i64::MAX / 4)
    }

    /// Runs `handling` to completion, renewing the delivery's lease
    /// meanwhile. A renewal keeps the version (so the settling write still
    /// matches); one that fails only means the delivery went to another
    /// worker, whose version then wins.
    async fn holding_lease<T>(
        &self,
        key: &Key,
        event_id: &str,
        version: i64,
        handling: impl std::future::Future<Output = T>,
    ) -> T {
        lease::renewing(self.config.visibility_timeout, handling, || async {
            let lease_end = self.lease_end();
            let extend = [
                Update::set(delivery::DUE_AT, lease_end),
                Update::set(attr::GSI1SK, delivery::sort_key(lease_end, event_id)),
            ];
            let ours = Some(Condition::eq(delivery::VERSION, version));
            match self.store.update(key, &extend, ours).await {
                Ok(_) => {}
                // Not taken yet (the claim's transaction has not committed:
                // a slow store) or settled already: nothing to renew. A
                // worker that took it over is reported when settling.
                Err(e) if e.is_condition_failure() => {
                    tracing::debug!(consumer = self.consumer(), %event_id, "no lease of ours to renew");
                }
                Err(e) => {
                    tracing::warn!(consumer = self.consumer(), %event_id, error = %e, "cannot renew a delivery's lease")
                }
            }
        })
        .await
    }

    /// The wait before retry `attempts` (>= 1): base × 2^(attempts-1),
    /// capped, with jitter over its upper half.
    fn backoff(&self, attempts: i64) -> Duration {
        let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let full = self
            .config
            .backoff_base
            .saturating_mul(1u32 << exponent)
            .min(self.config.backoff_max);
        let half = full / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(rand::thread_rng().gen_range(0..=jitter_ms))
    }
}
