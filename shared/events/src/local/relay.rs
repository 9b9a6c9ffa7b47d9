//! The local relay: publishes pending outbox items to the consumers' queues.
//!
//! Each pending outbox item (GSI2 `OUTBOX#PENDING`, oldest first) is
//! published in ONE transaction: a delivery per subscribed consumer (put
//! with `NotExists`, so publishing twice cannot queue an event twice) and
//! the outbox item marked published (GSI2 keys removed, `publishedAt`,
//! `expiresAt` = now + 7 days) on the condition that it is still pending,
//! so two relays racing on one store publish each event once.

use super::delivery;
use crate::{idempotency::RETENTION_SECS, outbox::PENDING_PARTITION, Envelope, Handler};
use lite_core::Clock;
use lite_store::{attr, Condition, Index, Item, Key, Query, Store, StoreError, TxOp, Update};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::Notify;
use tracing::Instrument;

/// Test-only fault hook: with `AMAZON_LITE_FAULT=crash-before-relay` the
/// process exits with [`CRASH_EXIT_CODE`] as soon as the relay sees a
/// pending outbox item, before publishing it (the crash the outbox must
/// survive). Never set it outside tests.
pub const FAULT_ENV: &str = "AMAZON_LITE_FAULT";
/// The [`FAULT_ENV`] value that crashes the relay.
pub const CRASH_BEFORE_RELAY: &str = "crash-before-relay";
/// The exit code of the crash.
pub const CRASH_EXIT_CODE: i32 = 86;

/// The name of the op that marks the outbox item published (consumer
/// names, which name the delivery ops, have no spaces).
const OUTBOX_OP: &str = "outbox item";

/// Outbox items read per query.
const PAGE: usize = 100;
/// The name of the ops marking riders (see [`Relay::publish_pending`]).
const RIDER_OP: &str = "rider";
/// Riders in one transaction at most (it holds the deliveries too).
const MAX_RIDERS: usize = 16;
/// Outbox items published at once.
const PUBLISH_CONCURRENCY: usize = 16;
/// Rounds of "some deliveries already exist: publish the rest".
const PUBLISH_ROUNDS: usize = 3;

pub(super) struct Relay {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub handlers: Vec<Arc<dyn Handler>>,
    /// Wakes each consumer's worker.
    pub kicks: HashMap<&'static str, Arc<Notify>>,
    /// The fault hook: `Some(None)` crashes on any event, `Some(Some(t))`
    /// on events of detail-type `t`.
    pub crash_before_relay: Option<Option<String>>,
}

impl Relay {
    /// Publishes the pending outbox items; returns the consumers this relay
    /// queued deliveries for (each once; empty: nothing published).
    ///
    /// The items of a page are published concurrently: each is its own
    /// transaction, and the store's group commit makes those waiting
    /// together one commit, where one after the other they were one fsync
    /// each (a checkout's order transaction leaves two events).
    ///
    /// Events no consumer here subscribes to (a checkout leaves three:
    /// `cart.checked_out.v1`, `inventory.reserved.v1`,
    /// `payment.authorized.v1`) get no commit of their own unless `sweep`:
    /// marking one published delivers nothing, and as a commit of its own
    /// it lands in the middle of the checkout that wrote it, which then
    /// waits for its fsync. They ride in the transaction of the next event
    /// that has a subscriber (marked with it), or the next sweep (every
    /// `poll_interval`) marks them.
    pub async fn publish_pending(&self, sweep: bool) -> Result<HashSet<&'static str>, StoreError> {
        let mut consumers = HashSet::new();
        let mut after = None;
        loop {
            let query = Query::new(Index::Gsi2, PENDING_PARTITION)
                .limit(PAGE)
                .after(after);
            let page = self.store.query(&query).await?;
            for item in &page.items {
                if let Some(only) = &self.crash_before_relay {
                    let detail_type = item.get("detailType").and_then(|t| t.as_str());
                    if only.as_deref().is_none_or(|t| Some(t) == detail_type) {
                        crash(item);
                    }
                }
            }
            let (due, mut riders): (Vec<&Item>, Vec<&Item>) = page
                .items
                .iter()
                .partition(|item| sweep || self.subscribed(item));
            riders.truncate(MAX_RIDERS);
            for (chunk, items) in due.chunks(PUBLISH_CONCURRENCY).enumerate() {
                let publishing: Vec<_> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let riding = if chunk == 0 && i == 0 {
                            &riders[..]
                        } else {
                            &[]
                        };
                        self.publish_and_kick(item, riding)
                    })
                    .collect();
                for published in futures::future::join_all(publishing).await {
                    consumers.extend(published?);
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(consumers),
            }
        }
    }

    /// Whether a consumer here subscribes to the outbox item's event (an
    /// item that does not say is published at once: the publish sorts it out).
    fn subscribed(&self, item: &Item) -> bool {
        let Some(detail_type) = item.get("detailType").and_then(|t| t.as_str()) else {
            return true;
        };
        self.handlers
            .iter()
            .any(|h| h.detail_types().contains(&detail_type))
    }

    /// [`Relay::publish`], then wakes the workers of the consumers it
    /// queued the event for at once (not when the whole round is done).
    async fn publish_and_kick(
        &self,
        item: &Item,
        riders: &[&Item],
    ) -> Result<Vec<&'static str>, StoreError> {
        let consumers = self.publish(item, riders).await?;
        for consumer in &consumers {
            if let Some(kick) = self.kicks.get(consumer) {
                // A permit when the worker is busy: it looks again as soon
                // as it is done.
                kick.notify_one();
            }
        }
        Ok(consumers)
    }

    /// Publishes one outbox item, marking the `riders` (pending items
    /// nobody subscribes to) published in the same transaction; the
    /// consumers it was queued for (none when another relay published it
    /// first).
    async fn publish(
        &self,
        item: &Item,
        riders: &[&Item],
    ) -> Result<Vec<&'static str>, StoreError> {
        let key = Key::of(item)?;
        let now = self.clock.now();
        let mut mark = marked(now);
        let pending = Condition::eq(attr::GSI2PK, PENDING_PARTITION);
        let mut raw = item.get("event").cloned().unwrap_or_default();
        let event: Envelope = match serde_json::from_value(raw.clone()) {
            Ok(event) => event,
            Err(e) => {
                // Nobody could ever handle it; keep it (with the reason)
                // instead of retrying it forever.
                tracing::error!(outbox = %key, error = %e, "malformed outbox event; not delivered");
                mark.push(Update::set(
                    "relayError",
                    format!("malformed envelope: {e}"),
                ));
                return match self.store.update(&key, &mark, Some(pending)).await {
                    Ok(_) => Ok(Vec::new()),
                    Err(e) if e.is_condition_failure() => Ok(Vec::new()),
                    Err(e) => Err(e),
                };
            }
        };
        let detail_type = event.detail_type();
        // The bus hop of the event's trace: it continues the emitter's
        // span, and the deliveries carry this span's context, so each
        // consumer's span hangs under it.
        let span = tracing::info_span!(
            "bus.publish",
            event_id = %event.id,
            detail_type = %detail_type,
            correlation_id = %event.correlation_id,
        );
        lite_trace::set_parent_from(&span, event.traceparent.as_deref());
        if let (Some(context), Some(fields)) = (lite_trace::context_of(&span), raw.as_object_mut())
        {
            fields.insert("traceparent".into(), context.to_traceparent().into());
        }
        let riders: Vec<(Key, String)> = riders
            .iter()
            .filter_map(|r| {
                let detail_type = r.get("detailType").and_then(|t| t.as_str())?;
                Some((Key::of(r).ok()?, detail_type.to_owned()))
            })
            .collect();
        self.deliver(key, &event, &detail_type, raw, mark, pending, now, riders)
            .instrument(span)
            .await
    }

    /// Writes the deliveries of `event` and marks its outbox item, in one
    /// transaction (see the module documentation).
    #[allow(clippy::too_many_arguments)]
    async fn deliver(
        &self,
        key: Key,
        event: &Envelope,
        detail_type: &str,
        raw: serde_json::Value,
        mark: Vec<Update>,
        pending: Condition,
        now: chrono::DateTime<chrono::Utc>,
        mut riders: Vec<(Key, String)>,
    ) -> Result<Vec<&'static str>, StoreError> {
        let detail_type = detail_type.to_owned();
        let now_ms = now.timestamp_millis();
        let created_at = lite_core::rfc3339(now);
        let mut deliveries: Vec<(&'static str, TxOp)> = self
            .handlers
            .iter()
            .filter(|h| h.detail_types().contains(&detail_type.as_str()))
            .map(|h| {
                let item = delivery::new_item(
                    h.name(),
                    &event.id,
                    &detail_type,
                    raw.clone(),
                    now_ms,
                    &created_at,
                );
                // Named by its consumer: a cancellation tells which
                // consumers have the event already.
                let op = TxOp::put(item).when(Condition::NotExists).named(h.name());
                (h.name(), op)
            })
            .collect();
        for _ in 0..PUBLISH_ROUNDS {
            let mut ops: Vec<TxOp> = deliveries.iter().map(|(_, op)| op.clone()).collect();
            ops.push(
                TxOp::update(key.clone(), mark.clone())
                    .when(pending.clone())
                    .named(OUTBOX_OP),
            );
            for (rider, _) in &riders {
                ops.push(
                    TxOp::update(rider.clone(), marked(now))
                        .when(pending.clone())
                        .named(RIDER_OP),
                );
            }
            match self.store.transact(ops).await {
                Ok(()) => {
                    let consumers: Vec<&'static str> = deliveries.iter().map(|(c, _)| *c).collect();
                    tracing::debug!(event_id = %event.id, %detail_type, ?consumers, riders = riders.len(), "event published");
                    lite_metrics::event_published(&detail_type);
                    for (_, detail_type) in &riders {
                        lite_metrics::event_published(detail_type);
                    }
                    return Ok(consumers);
                }
                Err(e @ StoreError::TransactionCanceled { .. }) => {
                    if e.failed_on(OUTBOX_OP) {
                        return Ok(Vec::new());
                    }
                    if e.failed_on(RIDER_OP) {
                        // Another relay marked one: leave them to it.
                        riders.clear();
                    }
                    // Those consumers have the event queued already (a
                    // delivery written by an earlier publish): publish the
                    // rest.
                    deliveries.retain(|(consumer, _)| !e.failed_on(consumer));
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Contention)
    }
}

/// The updates marking an outbox item published at `now`.
fn marked(now: chrono::DateTime<chrono::Utc>) -> Vec<Update> {
    vec![
        Update::remove(attr::GSI2PK),
        Update::remove(attr::GSI2SK),
        Update::set("publishedAt", lite_core::rfc3339(now)),
        Update::set(attr::EXPIRES_AT, now.timestamp() + RETENTION_SECS),
    ]
}

fn crash(item: &Item) -> ! {
    let event = item
        .get("event")
        .and_then(|e| e.get("id"))
        .and_then(|id| id.as_str())
        .unwrap_or("?");
    tracing::error!(
        event_id = event,
        "{FAULT_ENV}={CRASH_BEFORE_RELAY}: exiting before the relay publishes"
    );
    eprintln!(
        "amazon-lite: fault {CRASH_BEFORE_RELAY}: exiting with {CRASH_EXIT_CODE} before publishing {event}"
    );
    std::process::exit(CRASH_EXIT_CODE)
}
