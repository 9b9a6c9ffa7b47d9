//! The in-process event bus, durable in the store: what EventBridge, the
//! per-consumer SQS queues and their DLQs are on AWS.
//!
//! - The relay ([`relay`]) publishes pending outbox items to one delivery
//!   per subscribed consumer, in one transaction with marking the item
//!   published (the items found together concurrently, so the store's group
//!   commit makes them one commit). It runs at start-up (what a crash left
//!   behind), whenever the store's change feed fires, and every
//!   `poll_interval` as a safety net; then it wakes the workers of the
//!   consumers it queued deliveries for (workers do not follow the feed).
//!   Events no consumer subscribes to get no commit of their own: they are
//!   marked in the transaction of the next event that has a subscriber, or
//!   at the next sweep (every `poll_interval`; see [`relay`]).
//! - One worker per consumer ([`worker`]) reads the head of its queue (due
//!   order), a batch at a time, and handles the due ones; when none is
//!   due, the first one tells how long to sleep (an idle look is one
//!   query; the relay's wake-up or `poll_interval` ends the sleep sooner).
//!   It handles up to `concurrency` of a batch at once (as Lambda runs
//!   concurrent invocations over one SQS queue, whose standard queues do
//!   not keep order either: no handler relies on it); each runs [`crate::idempotency::handle_once_with`], taking the
//!   delivery in the claim's transaction and deleting it in the done
//!   mark's (two commits per delivery, one before the handler), reschedules
//!   it with exponential backoff on `Retry`, and moves it to the consumer's
//!   DLQ after `max_attempts` or on `Poison`. [`crate::dlq`] lists and
//!   redrives dead letters.
//!
//! Everything lives in the store (item layouts in [`delivery`]), so a
//! process that dies loses nothing: the next start finds the pending outbox
//! items and queued deliveries again. Several `LocalEvents` on one store
//! (two processes, or two instances in a test) still act once per event:
//! every step is a conditional write.
//!
//! ```ignore
//! let events = LocalEvents::start(store, clock, handlers, Some(redb.changes()),
//!     LocalEventsConfig::default());
//! // ... serve ...
//! events.shutdown().await;
//! ```

pub mod delivery;
mod relay;
mod worker;

#[cfg(test)]
mod tests;

pub use relay::{CRASH_BEFORE_RELAY, CRASH_EXIT_CODE, FAULT_ENV};

use crate::outbox::PENDING_PARTITION;
use crate::Handler;
use lite_core::Clock;
use lite_store::{Index, Query, Store, StoreError};
use relay::Relay;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use worker::{Looked, Worker};

/// Tuning of the local bus. The defaults suit the local API; tests shorten
/// the times.
#[derive(Debug, Clone)]
pub struct LocalEventsConfig {
    /// The safety-net poll of the relay and the workers (the change feed
    /// normally wakes them first).
    pub poll_interval: Duration,
    /// Receives of a delivery before it goes to the DLQ (SQS's
    /// `maxReceiveCount`).
    pub max_attempts: u32,
    /// First retry delay; it doubles with every attempt (with jitter).
    pub backoff_base: Duration,
    /// The longest retry delay.
    pub backoff_max: Duration,
    /// How long a taken delivery stays hidden without news from its worker
    /// (SQS's visibility timeout). The worker extends it every third of
    /// this while its handler runs, so it bounds only how long the delivery
    /// of a worker that died (a crash) stays hidden, not how long a handler
    /// may take.
    pub visibility_timeout: Duration,
    /// Due deliveries a worker reads per query.
    pub batch_size: usize,
    /// Deliveries of one consumer handled at once (at least 1). With one,
    /// a consumer whose handler waits (a saga start, a store commit) moves
    /// one event per wait: a flash sale's checkouts queued behind each
    /// other at `checkout-start`.
    pub concurrency: usize,
}

impl Default for LocalEventsConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            max_attempts: 5,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(30),
            visibility_timeout: Duration::from_secs(5),
            batch_size: 10,
            concurrency: 10,
        }
    }
}

/// What [`LocalEvents::drain`] found still to do when its time ran out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("events not drained: {0}")]
pub struct NotDrained(pub String);

/// The running bus: the relay task and one worker task per consumer.
pub struct LocalEvents {
    store: Arc<dyn Store>,
    consumers: Vec<&'static str>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for LocalEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEvents")
            .field("consumers", &self.consumers)
            .finish_non_exhaustive()
    }
}

impl LocalEvents {
    /// Starts the relay and a worker per handler on the current tokio
    /// runtime. `changes` is the store's change feed
    /// ([`lite_store::redb_store::RedbStore::changes`]); without it the bus
    /// runs on `poll_interval` alone. Handler names must be unique (a
    /// second handler with a name already taken is ignored, loudly).
    ///
    /// Test-only fault hook: with `AMAZON_LITE_FAULT=crash-before-relay` in
    /// the environment the relay exits the process with code 86 as soon as
    /// it sees a pending outbox item, before publishing it.
    pub fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        handlers: Vec<Arc<dyn Handler>>,
        changes: Option<Arc<Notify>>,
        config: LocalEventsConfig,
    ) -> LocalEvents {
        let mut names = HashSet::new();
        let handlers: Vec<Arc<dyn Handler>> = handlers
            .into_iter()
            .filter(|h| {
                let fresh = names.insert(h.name());
                if !fresh {
                    tracing::error!(
                        consumer = h.name(),
                        "two handlers share a consumer name; the second is ignored"
                    );
                }
                fresh
            })
            .collect();
        let consumers: Vec<&'static str> = handlers.iter().map(|h| h.name()).collect();
        // `crash-before-relay` crashes on any event; `crash-before-relay:<detail-type>`
        // only on events of that type (so start-up events, e.g. the admin
        // account's, do not trip it).
        let crash_before_relay = std::env::var(FAULT_ENV).ok().and_then(|v| {
            let v = v.trim();
            let rest = v.strip_prefix(CRASH_BEFORE_RELAY)?;
            match rest.strip_prefix(':') {
                Some(detail_type) => Some(Some(detail_type.to_owned())),
                None if rest.is_empty() => Some(None),
                None => None,
            }
        });
        if crash_before_relay.is_some() {
            tracing::warn!("{FAULT_ENV}={CRASH_BEFORE_RELAY}: the relay will crash the process (test-only fault hook)");
        }
        let feed = changes.unwrap_or_default();
        // The relay kicks the workers it queued deliveries for, so workers
        // need no change feed: woken by every commit, each of a dozen
        // workers read its queue twice per commit for nothing, CPU taken
        // from the checkout in progress on a two-core machine.
        let kicks: HashMap<&'static str, Arc<Notify>> = consumers
            .iter()
            .map(|c| (*c, Arc::new(Notify::new())))
            .collect();
        let (stop, stop_rx) = watch::channel(false);

        let mut tasks = Vec::with_capacity(handlers.len() + 1);
        let relay = Relay {
            store: Arc::clone(&store),
            clock: Arc::clone(&clock),
            handlers: handlers.clone(),
            kicks: kicks.clone(),
            crash_before_relay,
        };
        tasks.push(tokio::spawn(run_relay(
            relay,
            Arc::clone(&feed),
            stop_rx.clone(),
            config.poll_interval,
        )));
        for handler in handlers {
            let kick = Arc::clone(&kicks[handler.name()]);
            let worker = Worker {
                store: Arc::clone(&store),
                clock: Arc::clone(&clock),
                handler,
                config: config.clone(),
            };
            tasks.push(tokio::spawn(run_worker(worker, kick, stop_rx.clone())));
        }
        tracing::info!(consumers = ?consumers, "local event bus started");
        LocalEvents {
            store,
            consumers,
            stop,
            tasks,
        }
    }

    /// The consumers this bus runs a worker for.
    pub fn consumers(&self) -> &[&'static str] {
        &self.consumers
    }

    /// Stops the tasks gracefully: each finishes the delivery in hand (its
    /// handler call and the write that settles it), then exits. What is
    /// left stays in the store for the next start.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "an event bus task failed");
            }
        }
        tracing::info!("local event bus stopped");
    }

    /// Waits (for tests) until no outbox item is pending and every
    /// consumer's queue is empty: every event published and each delivery
    /// handled or dead-lettered (retries scheduled for later are waited
    /// for too).
    pub async fn drain(&self, timeout: Duration) -> Result<(), NotDrained> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = match self.left().await {
                Ok(left) if left.is_empty() => return Ok(()),
                Ok(left) => left.join(", "),
                Err(e) => format!("store error: {e}"),
            };
            if Instant::now() >= deadline {
                return Err(NotDrained(left));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// What is still to do (empty: drained).
    async fn left(&self) -> Result<Vec<String>, StoreError> {
        let mut left = Vec::new();
        let pending = Query::new(Index::Gsi2, PENDING_PARTITION).limit(1);
        if !self.store.query(&pending).await?.items.is_empty() {
            left.push("pending outbox items".to_owned());
        }
        for consumer in &self.consumers {
            let queued = Query::new(Index::Gsi1, delivery::queue(consumer)).limit(1);
            if !self.store.query(&queued).await?.items.is_empty() {
                left.push(format!("deliveries queued for {consumer}"));
            }
        }
        Ok(left)
    }
}

impl Drop for LocalEvents {
    /// Dropped without [`LocalEvents::shutdown`]: the tasks still stop
    /// after the delivery in hand (nobody waits for them).
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn stopped(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

async fn run_relay(
    relay: Relay,
    feed: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
    poll: Duration,
) {
    // The first round sweeps: what a crash left behind.
    let mut last_sweep: Option<Instant> = None;
    while !stopped(&stop) {
        // Enabled before reading, so a commit during the read still wakes us.
        let changed = feed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        // Every `poll` even while the feed keeps firing, so events nobody
        // here subscribes to are never left pending for long.
        let sweep = last_sweep.is_none_or(|at| at.elapsed() >= poll);
        if sweep {
            last_sweep = Some(Instant::now());
        }
        if let Err(e) = relay.publish_pending(sweep).await {
            tracing::warn!(error = %e, "event relay failed; retrying");
        }
        tokio::select! {
            _ = &mut changed => {}
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => {}
        }
    }
}

async fn run_worker(worker: Worker, kick: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    let poll = worker.config.poll_interval;
    while !stopped(&stop) {
        let wait = match worker.run_due(|| stopped(&stop)).await {
            Ok(Looked::Full) => continue,
            Ok(Looked::Next(Some(due))) => due.min(poll),
            Ok(Looked::Next(None)) => poll,
            Err(e) => {
                tracing::warn!(consumer = worker.handler.name(), error = %e, "event worker cannot read its queue");
                poll
            }
        };
        // Something due now that this worker did not take was taken by
        // another worker; look again shortly rather than spin.
        let wait = wait.max(Duration::from_millis(5));
        tokio::select! {
            _ = kick.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
}
