//! Handling an event once per consumer, whichever transport delivers it
//! (SQS on AWS, the local bus here): both wrap every [`Handler`] call in
//! [`handle_once`].
//!
//! # Record
//! `PK = IDEMP#<consumer>#<eventId>`, `SK = IDEMP`, with `status`
//! (`inProgress` | `done`), `owner` (a random token of the claiming call),
//! `leaseUntil` (epoch ms, while in progress), `expiresAt` (TTL, epoch
//! seconds: 7 days after the claim) and `consumer`, `eventId`,
//! `detailType`, `claimedAt`, `doneAt` for people reading the table.
//!
//! # Protocol
//! 1. Claim: put the record `inProgress` with the condition "absent, or in
//!    progress with an expired lease (a crashed worker's), or past its TTL
//!    (expired records may linger until swept)".
//! 2. Claim refused: `done` → [`Outcome::Duplicate`] (the handler is not
//!    called); otherwise someone else holds it → [`HandlerError::Retry`].
//! 3. Run the handler, renewing the lease every third of it (condition:
//!    still ours), so the lease bounds how long a crashed worker's claim
//!    blocks the retry, not how long a handler may run. Success →
//!    `status = done` (condition: still ours). Failure → delete the claim
//!    (condition: still ours) and return the handler's error, so the retry
//!    can claim again at once.
//!
//! The lease should not outlast the transport's visibility timeout, or the
//! redelivery after a crash spends its receives on a claim nobody holds:
//! the local bus passes its own ([`handle_once_within`]); on AWS the queues'
//! visibility (6 × the function timeout) is far longer than [`LEASE_MS`].
//!
//! `events_consumed` counts `ok` and `duplicate` here, once per delivery
//! that reaches an outcome; a failure is counted by the transport, which
//! alone knows whether it retries (`retried`) or gives up
//! (`dead_lettered`).
//!
//! Store failures are [`HandlerError::Retry`]. Delivery stays at least once
//! in two corners, so handlers should still be safe to repeat: a handler
//! whose renewals keep failing may be run a second time by another worker
//! once its lease runs out, and when marking `done` keeps failing the claim
//! expires and the event is handled again.

use crate::{lease, Envelope, Handler, HandlerError};
use futures::FutureExt;
use lite_core::Clock;
use lite_metrics::ConsumeOutcome;
use lite_store::{attr, Condition, Key, Store, StoreError, TxOp, Update};
use std::panic::AssertUnwindSafe;
use std::time::Duration;

/// How long a claim keeps other workers off an event without a renewal
/// from its holder ([`handle_once`]).
pub const LEASE_MS: i64 = 60_000;
/// How long a record is kept (the TTL): 7 days.
pub const RETENTION_SECS: i64 = 7 * 24 * 60 * 60;

const STATUS: &str = "status";
const IN_PROGRESS: &str = "inProgress";
const DONE: &str = "done";
const OWNER: &str = "owner";
const LEASE_UNTIL: &str = "leaseUntil";

/// What [`handle_once`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The handler ran and succeeded; the event is recorded as done.
    Handled,
    /// The event was already handled by this consumer; the handler was not
    /// called.
    Duplicate,
}

/// The key of the idempotency record of `consumer` for `event_id`.
pub fn key(consumer: &str, event_id: &str) -> Key {
    Key::new(format!("IDEMP#{consumer}#{event_id}"), "IDEMP")
}

/// Runs `handler` on `event` unless this consumer already handled it (see
/// the module documentation for the protocol).
pub async fn handle_once(
    store: &dyn Store,
    clock: &dyn Clock,
    handler: &dyn Handler,
    event: &Envelope,
) -> Result<Outcome, HandlerError> {
    let lease = Duration::from_millis(LEASE_MS.unsigned_abs());
    handle_once_within(store, clock, handler, event, lease).await
}

/// [`handle_once`] with a claim lease of `lease` (the transport's
/// visibility timeout).
pub async fn handle_once_within(
    store: &dyn Store,
    clock: &dyn Clock,
    handler: &dyn Handler,
    event: &Envelope,
    lease: Duration,
) -> Result<Outcome, HandlerError> {
    let riders = Riders::default();
    match handle_once_with(store, clock, handler, event, lease, &riders).await {
        Some(ridden) => ridden.result,
        // Without riders nothing else can refuse the claim.
        None => Err(HandlerError::Retry("the claim was refused".into())),
    }
}

/// Writes a transport wants committed in ONE transaction with the claim
/// and with the done mark of [`handle_once_with`]: the local bus takes its
/// delivery with the claim and acknowledges (deletes) it with the done
/// mark, so handling a delivery costs two commits instead of four. Each
/// op should be named (a failed condition is told apart by name).
#[derive(Debug, Clone, Default)]
pub struct Riders {
    /// Committed with the claim. When one of their conditions fails,
    /// nothing is claimed and the handler does not run.
    pub with_claim: Vec<TxOp>,
    /// Committed with the done mark. When one of their conditions fails,
    /// the done mark is written alone (and `acked` is false).
    pub with_done: Vec<TxOp>,
}

/// What [`handle_once_with`] did, beside its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ridden {
    /// As [`handle_once`] answers.
    pub result: Result<Outcome, HandlerError>,
    /// The claim (with `with_claim`) was committed: false for a duplicate,
    /// an event held elsewhere, or a store failure before the handler ran.
    pub claimed: bool,
    /// `with_done` was committed with the done mark.
    pub acked: bool,
}

/// The op name of the claim and of the done mark in a transaction with
/// riders.
const CLAIM_OP: &str = "idempotency claim";

/// [`handle_once_within`] with [`Riders`]; `None` when a `with_claim`
/// rider's condition failed (nothing claimed, nothing run).
pub async fn handle_once_with(
    store: &dyn Store,
    clock: &dyn Clock,
    handler: &dyn Handler,
    event: &Envelope,
    lease: Duration,
    riders: &Riders,
) -> Option<Ridden> {
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(LEASE_MS);
    let consumer = handler.name();
    let key = key(consumer, &event.id);
    let now = clock.now();
    let now_ms = now.timestamp_millis();
    let owner = format!("{:032x}", rand::random::<u128>());
    let refused = |result| {
        Some(Ridden {
            result,
            claimed: false,
            acked: false,
        })
    };

    let mut claim = key.to_item();
    claim.insert("entity".into(), "idempotency".into());
    claim.insert("consumer".into(), consumer.into());
    claim.insert("eventId".into(), event.id.clone().into());
    claim.insert("detailType".into(), event.detail_type().into());
    claim.insert(STATUS.into(), IN_PROGRESS.into());
    claim.insert(OWNER.into(), owner.clone().into());
    claim.insert(LEASE_UNTIL.into(), (now_ms + lease_ms).into());
    claim.insert("claimedAt".into(), lite_core::rfc3339(now).into());
    claim.insert(
        attr::EXPIRES_AT.into(),
        (now.timestamp() + RETENTION_SECS).into(),
    );
    let claimable = Condition::NotExists
        .or(Condition::eq(STATUS, IN_PROGRESS).and(Condition::lt(LEASE_UNTIL, now_ms)))
        .or(Condition::lt(attr::EXPIRES_AT, now.timestamp()));

    let claimed = if riders.with_claim.is_empty() {
        store.put(claim, Some(claimable)).await
    } else {
        let mut ops = vec![TxOp::put(claim).when(claimable).named(CLAIM_OP)];
        ops.extend(riders.with_claim.iter().cloned());
        store.transact(ops).await
    };
    match claimed {
        Ok(()) => {}
        Err(e) if e.failed_names().any(|n| n != CLAIM_OP) => return None,
        Err(e) if e.is_condition_failure() => {
            return refused(match store.get(&key).await {
                Ok(Some(record)) if record.get(STATUS).and_then(|s| s.as_str()) == Some(DONE) => {
                    tracing::debug!(consumer, event_id = %event.id, "duplicate event skipped");
                    lite_metrics::event_consumed(consumer, ConsumeOutcome::Duplicate);
                    Ok(Outcome::Duplicate)
                }
                Ok(_) => Err(HandlerError::Retry(format!(
                    "event {} is being handled by another {consumer} worker",
                    event.id
                ))),
                Err(e) => Err(store_failure(e)),
            });
        }
        Err(e) => return refused(Err(store_failure(e))),
    }

    // A panicking handler is a failed attempt like any other: its claim is
    // released and the transport retries (then dead-letters) the event.
    let handling = AssertUnwindSafe(handler.handle(event)).catch_unwind();
    let handled = lease::renewing(lease, handling, || async {
        let renewal = [Update::set(
            LEASE_UNTIL,
            clock.now().timestamp_millis() + lease_ms,
        )];
        let ours = Some(Condition::eq(OWNER, owner.as_str()));
        if let Err(e) = store.update(&key, &renewal, ours).await {
            tracing::warn!(consumer, event_id = %event.id, error = %e, "cannot renew an idempotency claim");
        }
    })
    .await
    .unwrap_or_else(|panic| Err(HandlerError::Retry(panic_message(panic.as_ref()))));
    match handled {
        Ok(()) => {
            let done = Done {
                store,
                clock,
                key: &key,
                owner: &owner,
                consumer,
                event_id: &event.id,
            };
            let (result, acked) = match done.mark(&riders.with_done).await {
                Ok(acked) => {
                    lite_metrics::event_consumed(consumer, ConsumeOutcome::Ok);
                    (Ok(Outcome::Handled), acked)
                }
                Err(e) => (Err(e), false),
            };
            Some(Ridden {
                result,
                claimed: true,
                acked,
            })
        }
        Err(error) => {
            // Give the event back, so the retry can claim it at once. If
            // this fails the lease runs out instead.
            if let Err(e) = store
                .delete(&key, Some(Condition::eq(OWNER, owner.as_str())))
                .await
            {
                if !e.is_condition_failure() {
                    tracing::warn!(consumer, event_id = %event.id, error = %e,
                        "cannot release the idempotency claim; it expires with its lease");
                }
            }
            Some(Ridden {
                result: Err(error),
                claimed: true,
                acked: false,
            })
        }
    }
}

/// Marking a handled event done.
struct Done<'a> {
    store: &'a dyn Store,
    clock: &'a dyn Clock,
    key: &'a Key,
    owner: &'a str,
    consumer: &'a str,
    event_id: &'a str,
}

impl Done<'_> {
    /// Marks the event done, with `riders` when they still apply (then
    /// `Ok(true)`), alone when they do not (`Ok(false)`).
    async fn mark(&self, riders: &[TxOp]) -> Result<bool, HandlerError> {
        if riders.is_empty() {
            return mark_done(
                self.store,
                self.clock,
                self.key,
                self.owner,
                self.consumer,
                self.event_id,
            )
            .await
            .map(|()| false);
        }
        let mut ops = vec![TxOp::update(self.key.clone(), done_updates(self.clock))
            .when(Condition::eq(OWNER, self.owner))
            .named(CLAIM_OP)];
        ops.extend(riders.iter().cloned());
        match self.store.transact(ops).await {
            Ok(()) => Ok(true),
            Err(e) if e.failed_on(CLAIM_OP) => {
                tracing::warn!(
                    consumer = self.consumer,
                    event_id = self.event_id,
                    "the handler outlived its idempotency lease; the event may be handled twice"
                );
                Ok(false)
            }
            // A rider no longer applies (or the commit failed): the done
            // mark alone, with mark_done's retries.
            Err(_) => mark_done(
                self.store,
                self.clock,
                self.key,
                self.owner,
                self.consumer,
                self.event_id,
            )
            .await
            .map(|()| false),
        }
    }
}

fn done_updates(clock: &dyn Clock) -> Vec<Update> {
    vec![
        Update::set(STATUS, DONE),
        Update::remove(LEASE_UNTIL),
        Update::set("doneAt", lite_core::rfc3339(clock.now())),
    ]
}

async fn mark_done(
    store: &dyn Store,
    clock: &dyn Clock,
    key: &Key,
    owner: &str,
    consumer: &str,
    event_id: &str,
) -> Result<(), HandlerError> {
    const ATTEMPTS: usize = 3;
    let mut last = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
        }
        match store
            .update(key, &done_updates(clock), Some(Condition::eq(OWNER, owner)))
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if e.is_condition_failure() => {
                // Our lease ran out and another worker claimed the event:
                // it was handled here anyway, and will be there as well.
                tracing::warn!(
                    consumer,
                    event_id,
                    "the handler outlived its idempotency lease; the event may be handled twice"
                );
                return Ok(());
            }
            Err(e) if e.is_transient() => last = Some(e),
            Err(e) => return Err(store_failure(e)),
        }
    }
    Err(store_failure(last.unwrap_or(StoreError::Contention)))
}

/// `handler panicked: <message>`.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("handler panicked: {text}")
}

fn store_failure(e: StoreError) -> HandlerError {
    HandlerError::Retry(format!("idempotency record: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use chrono::{DateTime, Utc};
    use lite_core::ManualClock;
    use lite_store::redb_store::RedbStore;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    struct Counting {
        calls: AtomicUsize,
        fail_with: Mutex<Option<HandlerError>>,
        /// How long each call takes.
        delay: Duration,
    }

    impl Counting {
        fn new() -> Self {
            Self {
                calls: AtomicUsize::new(0),
                fail_with: Mutex::new(None),
                delay: Duration::ZERO,
            }
        }
        fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }
    }

    #[async_trait]
    impl Handler for Counting {
        fn name(&self) -> &'static str {
            "test-consumer"
        }
        fn detail_types(&self) -> &'static [&'static str] {
            &["thing.happened.v1"]
        }
        async fn handle(&self, _event: &Envelope) -> Result<(), HandlerError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            match self.fail_with.lock().unwrap().clone() {
                Some(e) => Err(e),
                None => Ok(()),
            }
        }
    }

    fn start() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    /// A store, a clock at [`start`], a counting handler and one event.
    fn setup() -> (RedbStore, ManualClock, Counting, Envelope) {
        let clock = ManualClock::new(start());
        let e = event(&clock);
        (RedbStore::in_memory().unwrap(), clock, Counting::new(), e)
    }

    fn event(clock: &dyn Clock) -> Envelope {
        Envelope::new(
            &lite_core::SystemIds::default(),
            "thing.happened",
            1,
            "tests",
            clock.now(),
            "corr",
            serde_json::json!({}),
        )
    }

    #[tokio::test]
    async fn handles_once_then_reports_duplicates() {
        let (store, clock, h, e) = setup();
        assert_eq!(
            handle_once(&store, &clock, &h, &e).await,
            Ok(Outcome::Handled)
        );
        assert_eq!(
            handle_once(&store, &clock, &h, &e).await,
            Ok(Outcome::Duplicate)
        );
        assert_eq!(h.calls(), 1);
        let record = store
            .get(&key("test-consumer", &e.id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record["status"], "done");
        assert_eq!(record["eventId"], e.id.as_str());
        assert_eq!(
            record["expiresAt"],
            start().timestamp() + 7 * 24 * 3600,
            "TTL 7 days"
        );
        assert!(record.get("leaseUntil").is_none());
    }

    #[tokio::test]
    async fn a_live_claim_elsewhere_is_retry_and_an_expired_one_is_taken_over() {
        let (store, clock, h, e) = setup();
        // Another worker claimed the event and is still within its lease.
        let mut claim = key("test-consumer", &e.id).to_item();
        claim.insert("status".into(), "inProgress".into());
        claim.insert("owner".into(), "someone-else".into());
        claim.insert(
            "leaseUntil".into(),
            (start().timestamp_millis() + LEASE_MS).into(),
        );
        claim.insert("expiresAt".into(), (start().timestamp() + 100).into());
        store.put(claim, None).await.unwrap();

        let r = handle_once(&store, &clock, &h, &e).await;
        assert!(matches!(r, Err(HandlerError::Retry(_))), "{r:?}");
        assert_eq!(h.calls(), 0);

        // That worker crashed: once its lease is over, the event is ours.
        clock.advance(chrono::Duration::milliseconds(LEASE_MS + 1));
        assert_eq!(
            handle_once(&store, &clock, &h, &e).await,
            Ok(Outcome::Handled)
        );
        assert_eq!(h.calls(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slow_handler_keeps_its_claim_past_the_lease() {
        let store = RedbStore::in_memory().unwrap();
        let clock = lite_core::SystemClock;
        let lease = Duration::from_millis(400);
        let slow = Counting {
            delay: Duration::from_millis(1_600),
            ..Counting::new()
        };
        let other = Counting::new();
        let e = event(&clock);
        let first = handle_once_within(&store, &clock, &slow, &e, lease);
        let second = async {
            // Two and a half leases into the slow call: without renewals
            // the claim would be free for the taking.
            tokio::time::sleep(Duration::from_millis(1_000)).await;
            handle_once_within(&store, &clock, &other, &e, lease).await
        };
        let (first, second) = tokio::join!(first, second);
        assert_eq!(first, Ok(Outcome::Handled));
        assert!(matches!(second, Err(HandlerError::Retry(_))), "{second:?}");
        assert_eq!(other.calls(), 0);
        // Once done, later deliveries are duplicates.
        assert_eq!(
            handle_once_within(&store, &clock, &other, &e, lease).await,
            Ok(Outcome::Duplicate)
        );
    }

    #[tokio::test]
    async fn a_failed_handler_releases_its_claim() {
        let (store, clock, h, e) = setup();
        *h.fail_with.lock().unwrap() = Some(HandlerError::Retry("down".into()));
        assert_eq!(
            handle_once(&store, &clock, &h, &e).await,
            Err(HandlerError::Retry("down".into()))
        );
        assert_eq!(
            store.get(&key("test-consumer", &e.id)).await.unwrap(),
            None,
            "claim released"
        );
        *h.fail_with.lock().unwrap() = Some(HandlerError::Poison("bad".into()));
        assert_eq!(
            handle_once(&store, &clock, &h, &e).await,
            Err(HandlerError::Poison("bad".into()))
        );
        // Fixed: the next delivery is handled at once (no lease to wait out).
        *h.fail_with.lock().unwrap() = None;
        assert_eq!(
            handle_once(&store, &clock, &h, &e).await,
            Ok(Outcome::Handled)
        );
        assert_eq!(h.calls(), 3);
    }

    #[tokio::test]
    async fn an_expired_done_record_no_longer_counts() {
        let (store, clock, h, e) = setup();
        handle_once(&store, &clock, &h, &e).await.unwrap();
        clock.advance(chrono::Duration::seconds(RETENTION_SECS + 1));
        assert_eq!(
            handle_once(&store, &clock, &h, &e).await,
            Ok(Outcome::Handled),
            "past its TTL the record is as good as swept"
        );
        assert_eq!(h.calls(), 2);
    }

    /// A transport's item the riders take and acknowledge (the local bus's
    /// delivery), at `version`.
    async fn transport_item(store: &RedbStore, version: i64) -> Key {
        let key = Key::new("DELIVERY#test-consumer#e", "DELIVERY");
        let mut item = key.to_item();
        item.insert("version".into(), version.into());
        store.put(item, None).await.unwrap();
        key
    }

    fn riders(key: &Key, seen: i64) -> Riders {
        Riders {
            with_claim: vec![TxOp::update(key.clone(), vec![Update::add("version", 1)])
                .when(Condition::eq("version", seen))
                .named("delivery")],
            with_done: vec![TxOp::delete(key.clone())
                .when(Condition::eq("version", seen + 1))
                .named("delivery")],
        }
    }

    #[tokio::test]
    async fn riders_commit_with_the_claim_and_with_the_done_mark() {
        let (store, clock, h, e) = setup();
        let item = transport_item(&store, 0).await;
        let lease = Duration::from_secs(5);
        let ridden = handle_once_with(&store, &clock, &h, &e, lease, &riders(&item, 0))
            .await
            .unwrap();
        assert_eq!(
            ridden,
            Ridden {
                result: Ok(Outcome::Handled),
                claimed: true,
                acked: true
            }
        );
        assert_eq!(h.calls(), 1);
        assert_eq!(store.get(&item).await.unwrap(), None, "acknowledged");
        let record = store
            .get(&key("test-consumer", &e.id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record["status"], "done");

        // Redelivered (the item is back): a duplicate; nothing is taken.
        let item = transport_item(&store, 3).await;
        let ridden = handle_once_with(&store, &clock, &h, &e, lease, &riders(&item, 3))
            .await
            .unwrap();
        assert_eq!(ridden.result, Ok(Outcome::Duplicate));
        assert!(!ridden.claimed && !ridden.acked);
        assert_eq!(store.get(&item).await.unwrap().unwrap()["version"], 3);
        assert_eq!(h.calls(), 1);
    }

    #[tokio::test]
    async fn a_claim_rider_that_fails_claims_nothing_and_runs_nothing() {
        let (store, clock, h, e) = setup();
        // Another worker took the item since it was read at version 0.
        let item = transport_item(&store, 1).await;
        let ridden = handle_once_with(
            &store,
            &clock,
            &h,
            &e,
            Duration::from_secs(5),
            &riders(&item, 0),
        )
        .await;
        assert_eq!(ridden, None);
        assert_eq!(h.calls(), 0);
        assert_eq!(store.get(&key("test-consumer", &e.id)).await.unwrap(), None);
        assert_eq!(store.get(&item).await.unwrap().unwrap()["version"], 1);
    }

    #[tokio::test]
    async fn a_done_rider_that_fails_leaves_the_done_mark_alone() {
        let store = RedbStore::in_memory().unwrap();
        let clock = ManualClock::new(start());
        let e = event(&clock);
        let item = transport_item(&store, 0).await;
        // While the handler runs, the item moves on (taken over elsewhere).
        struct Meddling(RedbStore, Key);
        #[async_trait]
        impl Handler for Meddling {
            fn name(&self) -> &'static str {
                "test-consumer"
            }
            fn detail_types(&self) -> &'static [&'static str] {
                &["thing.happened.v1"]
            }
            async fn handle(&self, _event: &Envelope) -> Result<(), HandlerError> {
                self.0
                    .update(&self.1, &[Update::add("version", 1)], None)
                    .await
                    .unwrap();
                Ok(())
            }
        }
        let ridden = handle_once_with(
            &store,
            &clock,
            &Meddling(store.clone(), item.clone()),
            &e,
            Duration::from_secs(5),
            &riders(&item, 0),
        )
        .await
        .unwrap();
        assert_eq!(ridden.result, Ok(Outcome::Handled));
        assert!(ridden.claimed && !ridden.acked);
        assert_eq!(store.get(&item).await.unwrap().unwrap()["version"], 2);
        let record = store
            .get(&key("test-consumer", &e.id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record["status"], "done", "done without the rider");
    }

    struct Panicking;

    #[async_trait]
    impl Handler for Panicking {
        fn name(&self) -> &'static str {
            "test-consumer"
        }
        fn detail_types(&self) -> &'static [&'static str] {
            &["thing.happened.v1"]
        }
        async fn handle(&self, _event: &Envelope) -> Result<(), HandlerError> {
            panic!("bug in the handler")
        }
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_retry_that_releases_its_claim() {
        let store = RedbStore::in_memory().unwrap();
        let clock = ManualClock::new(start());
        let e = event(&clock);
        assert_eq!(
            handle_once(&store, &clock, &Panicking, &e).await,
            Err(HandlerError::Retry(
                "handler panicked: bug in the handler".into()
            ))
        );
        assert_eq!(store.get(&key("test-consumer", &e.id)).await.unwrap(), None);
        let h = Counting::new();
        assert_eq!(
            handle_once(&store, &clock, &h, &e).await,
            Ok(Outcome::Handled)
        );
    }

    /// A store that is down.
    struct Down;

    #[async_trait]
    impl Store for Down {
        async fn get(&self, _: &Key) -> Result<Option<lite_store::Item>, StoreError> {
            Err(StoreError::Unavailable("down".into()))
        }
        async fn batch_get(&self, _: &[Key]) -> Result<Vec<Option<lite_store::Item>>, StoreError> {
            Err(StoreError::Unavailable("down".into()))
        }
        async fn query(&self, _: &lite_store::Query) -> Result<lite_store::Page, StoreError> {
            Err(StoreError::Unavailable("down".into()))
        }
        async fn put(&self, _: lite_store::Item, _: Option<Condition>) -> Result<(), StoreError> {
            Err(StoreError::Throttled)
        }
        async fn update(
            &self,
            _: &Key,
            _: &[Update],
            _: Option<Condition>,
        ) -> Result<lite_store::Item, StoreError> {
            Err(StoreError::Unavailable("down".into()))
        }
        async fn delete(
            &self,
            _: &Key,
            _: Option<Condition>,
        ) -> Result<Option<lite_store::Item>, StoreError> {
            Err(StoreError::Unavailable("down".into()))
        }
        async fn transact(&self, _: Vec<lite_store::TxOp>) -> Result<(), StoreError> {
            Err(StoreError::Unavailable("down".into()))
        }
    }

    #[tokio::test]
    async fn store_failures_are_retry_and_skip_the_handler() {
        let clock = ManualClock::new(start());
        let h = Counting::new();
        let r = handle_once(&Down, &clock, &h, &event(&clock)).await;
        assert!(matches!(r, Err(HandlerError::Retry(_))), "{r:?}");
        assert_eq!(h.calls(), 0);
    }
}
