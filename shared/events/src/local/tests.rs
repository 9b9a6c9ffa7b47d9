//! The local bus end to end, on redb in memory and on a file.

use super::*;
use crate::{dlq, idempotency, outbox, Envelope, HandlerError};
use async_trait::async_trait;
use lite_core::{Ids, SystemClock, SystemIds};
use lite_store::redb_store::RedbStore;
use lite_store::{attr, Item, Key, TxOp, Update};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

const DRAIN: Duration = Duration::from_secs(20);

// ------------------------------------------------------------- fixtures ---

struct Backend {
    store: RedbStore,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    fn memory() -> Backend {
        Backend {
            store: RedbStore::in_memory().unwrap(),
            _dir: None,
        }
    }

    fn file() -> Backend {
        let dir = tempfile::tempdir().unwrap();
        Backend {
            store: RedbStore::open(&dir.path().join("store.redb")).unwrap(),
            _dir: Some(dir),
        }
    }

    fn store(&self) -> Arc<dyn Store> {
        Arc::new(self.store.clone())
    }

    fn start(&self, handlers: Vec<Arc<dyn Handler>>) -> LocalEvents {
        self.start_with(handlers, config())
    }

    fn start_with(
        &self,
        handlers: Vec<Arc<dyn Handler>>,
        config: LocalEventsConfig,
    ) -> LocalEvents {
        LocalEvents::start(
            self.store(),
            Arc::new(SystemClock),
            handlers,
            Some(self.store.changes()),
            config,
        )
    }
}

fn config() -> LocalEventsConfig {
    LocalEventsConfig {
        poll_interval: Duration::from_millis(200),
        max_attempts: 4,
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(80),
        visibility_timeout: Duration::from_secs(10),
        batch_size: 4,
        concurrency: 4,
    }
}

/// Successful handler calls per (consumer, event id), shared by handlers
/// (several instances of one consumer count into the same map).
#[derive(Default, Clone)]
struct Effects(Arc<Mutex<HashMap<(String, String), usize>>>);

impl Effects {
    fn add(&self, consumer: &str, event: &str) {
        *self
            .0
            .lock()
            .unwrap()
            .entry((consumer.to_owned(), event.to_owned()))
            .or_default() += 1;
    }
    fn of(&self, consumer: &str, event: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .get(&(consumer.to_owned(), event.to_owned()))
            .copied()
            .unwrap_or(0)
    }
    fn total(&self) -> usize {
        self.0.lock().unwrap().values().sum()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Succeed,
    /// `Retry` for the first n calls, then success.
    FailFirst(usize),
    AlwaysRetry,
    Poison,
}

struct TestHandler {
    name: &'static str,
    types: &'static [&'static str],
    mode: Mutex<Mode>,
    calls: AtomicUsize,
    call_times: Mutex<Vec<Instant>>,
    order: Mutex<Vec<String>>,
    effects: Effects,
    /// How long each call takes, in ms.
    delay_ms: AtomicU64,
    /// Calls running now, and the most that ever ran at once.
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// The concurrency it asks of the bus (0: none, the bus's).
    wants: AtomicUsize,
}

impl TestHandler {
    fn new(
        name: &'static str,
        types: &'static [&'static str],
        mode: Mode,
        effects: &Effects,
    ) -> Arc<TestHandler> {
        Arc::new(TestHandler {
            name,
            types,
            mode: Mutex::new(mode),
            calls: AtomicUsize::new(0),
            call_times: Mutex::new(Vec::new()),
            order: Mutex::new(Vec::new()),
            effects: effects.clone(),
            delay_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            wants: AtomicUsize::new(0),
        })
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
    fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }
}

#[async_trait]
impl Handler for TestHandler {
    fn name(&self) -> &'static str {
        self.name
    }
    fn detail_types(&self) -> &'static [&'static str] {
        self.types
    }
    fn concurrency(&self) -> Option<usize> {
        Some(self.wants.load(Ordering::SeqCst)).filter(|&n| n > 0)
    }
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.call_times.lock().unwrap().push(Instant::now());
        let running = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(running, Ordering::SeqCst);
        let delay = self.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let mode = *self.mode.lock().unwrap();
        match mode {
            Mode::Succeed => {}
            Mode::FailFirst(k) if n > k => {}
            Mode::FailFirst(_) | Mode::AlwaysRetry => {
                return Err(HandlerError::Retry(format!("db down #{n}")))
            }
            Mode::Poison => return Err(HandlerError::Poison("no sku in data".into())),
        }
        self.order.lock().unwrap().push(event.id.clone());
        self.effects.add(self.name, &event.id);
        Ok(())
    }
}

fn as_handlers(hs: &[&Arc<TestHandler>]) -> Vec<Arc<dyn Handler>> {
    hs.iter()
        .map(|h| Arc::clone(h) as Arc<dyn Handler>)
        .collect()
}

fn event(ids: &dyn Ids, event_type: &str) -> Envelope {
    Envelope::new(
        ids,
        event_type,
        1,
        "tests",
        lite_core::Clock::now(&SystemClock),
        "corr-1",
        json!({"n": 1}),
    )
}

/// Writes `event` the way services do: in a transaction with the state
/// change it describes.
async fn emit(store: &dyn Store, event: &Envelope) {
    let mut state = Key::new(format!("THING#{}", event.id), "THING").to_item();
    state.insert("entity".into(), "thing".into());
    store
        .transact(vec![
            TxOp::put(state).when(lite_store::Condition::NotExists),
            outbox::put(event),
        ])
        .await
        .unwrap();
}

async fn outbox_item(store: &dyn Store, event: &Envelope) -> lite_store::Item {
    store
        .get(&Key::new(format!("OUTBOX#{}", event.id), "OUTBOX"))
        .await
        .unwrap()
        .expect("outbox item")
}

// ------------------------------------------------------------ scenarios ---

async fn reaches_every_subscriber_once(b: Backend) {
    let effects = Effects::default();
    let a = TestHandler::new("a", &["x.made.v1"], Mode::Succeed, &effects);
    let both = TestHandler::new("both", &["x.made.v1", "y.made.v1"], Mode::Succeed, &effects);
    let y_only = TestHandler::new("y-only", &["y.made.v1"], Mode::Succeed, &effects);
    let bus = b.start(as_handlers(&[&a, &both, &y_only]));
    let ids = SystemIds::default();
    let store = b.store();

    let x = event(&ids, "x.made");
    let nobody = event(&ids, "z.made");
    emit(store.as_ref(), &x).await;
    emit(store.as_ref(), &nobody).await;
    bus.drain(DRAIN).await.unwrap();

    assert_eq!(effects.of("a", &x.id), 1);
    assert_eq!(effects.of("both", &x.id), 1);
    assert_eq!(effects.of("y-only", &x.id), 0);
    assert_eq!(effects.total(), 2, "nobody handles z.made");
    for e in [&x, &nobody] {
        let item = outbox_item(store.as_ref(), e).await;
        assert!(item.get(attr::GSI2PK).is_none(), "published: {item:?}");
        assert!(item.get(attr::GSI2SK).is_none());
        assert!(item["publishedAt"].is_string());
        let ttl = item[attr::EXPIRES_AT].as_i64().unwrap();
        let week = chrono::Utc::now().timestamp() + 7 * 24 * 3600;
        assert!((week - 60..=week).contains(&ttl), "expiresAt {ttl}");
    }
    for consumer in ["a", "both"] {
        let record = store
            .get(&idempotency::key(consumer, &x.id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record["status"], "done");
    }
    // No delivery is left behind.
    for consumer in ["a", "both", "y-only"] {
        assert_eq!(
            store.get(&delivery::key(consumer, &x.id)).await.unwrap(),
            None
        );
    }
    bus.shutdown().await;
}

async fn retried_with_backoff_then_handled_once(b: Backend) {
    let effects = Effects::default();
    let flaky = TestHandler::new("flaky", &["x.made.v1"], Mode::FailFirst(2), &effects);
    let bus = b.start(as_handlers(&[&flaky]));
    let e = event(&SystemIds::default(), "x.made");
    emit(b.store().as_ref(), &e).await;
    bus.drain(DRAIN).await.unwrap();

    assert_eq!(flaky.calls(), 3);
    assert_eq!(effects.of("flaky", &e.id), 1);
    let times = flaky.call_times.lock().unwrap().clone();
    // base 20 ms, doubling, jitter over the upper half: >= 10 ms, >= 20 ms.
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps[0] >= Duration::from_millis(10), "gaps {gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(20), "gaps {gaps:?}");
    assert!(dlq::list(b.store().as_ref(), "flaky", 10)
        .await
        .unwrap()
        .is_empty());
    bus.shutdown().await;
}

async fn always_failing_lands_in_the_dlq(b: Backend) {
    let effects = Effects::default();
    let down = TestHandler::new("down", &["x.made.v1"], Mode::AlwaysRetry, &effects);
    let bus = b.start(as_handlers(&[&down]));
    let store = b.store();
    let e = event(&SystemIds::default(), "x.made");
    emit(store.as_ref(), &e).await;
    bus.drain(DRAIN).await.unwrap();

    assert_eq!(down.calls(), 4, "max_attempts");
    let letters = dlq::list(store.as_ref(), "down", 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!(letter.event_id, e.id);
    assert_eq!(letter.detail_type, "x.made.v1");
    assert_eq!(letter.attempts, 4);
    assert_eq!(letter.last_error, "retryable: db down #4");
    assert!(chrono::DateTime::parse_from_rfc3339(&letter.failed_at).is_ok());
    assert_eq!(
        serde_json::from_value::<Envelope>(letter.event.clone()).unwrap(),
        e
    );
    assert_eq!(
        dlq::consumers_with_dead_letters(store.as_ref())
            .await
            .unwrap(),
        vec!["down".to_owned()]
    );
    // The failed claims were released: nothing blocks a redrive.
    assert_eq!(
        store.get(&idempotency::key("down", &e.id)).await.unwrap(),
        None
    );
    bus.shutdown().await;
}

async fn poison_goes_straight_to_the_dlq_and_redrive_brings_it_back(b: Backend) {
    let effects = Effects::default();
    let picky = TestHandler::new("picky", &["x.made.v1"], Mode::Poison, &effects);
    let fine = TestHandler::new("fine", &["x.made.v1"], Mode::Succeed, &effects);
    let bus = b.start(as_handlers(&[&picky, &fine]));
    let store = b.store();
    let e = event(&SystemIds::default(), "x.made");
    emit(store.as_ref(), &e).await;
    bus.drain(DRAIN).await.unwrap();

    assert_eq!(picky.calls(), 1, "poison is not retried");
    assert_eq!(
        effects.of("fine", &e.id),
        1,
        "other consumers are unaffected"
    );
    let letters = dlq::list(store.as_ref(), "picky", 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].attempts, 1);
    assert_eq!(letters[0].last_error, "poison: no sku in data");

    // The consumer is fixed; ops redrive its DLQ.
    picky.set_mode(Mode::Succeed);
    let moved = dlq::redrive(store.as_ref(), &SystemClock, "picky")
        .await
        .unwrap();
    assert_eq!(moved, 1);
    bus.drain(DRAIN).await.unwrap();
    assert_eq!(effects.of("picky", &e.id), 1);
    assert_eq!(effects.of("fine", &e.id), 1, "redrive is per consumer");
    assert!(dlq::list(store.as_ref(), "picky", 10)
        .await
        .unwrap()
        .is_empty());
    assert!(dlq::consumers_with_dead_letters(store.as_ref())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        dlq::redrive(store.as_ref(), &SystemClock, "picky")
            .await
            .unwrap(),
        0
    );
    bus.shutdown().await;
}

async fn duplicates_have_one_effect(b: Backend) {
    let effects = Effects::default();
    let h = TestHandler::new("once", &["x.made.v1"], Mode::Succeed, &effects);
    let bus = b.start(as_handlers(&[&h]));
    let store = b.store();
    let ids = SystemIds::default();

    // 1. The same event relayed twice (its outbox item pending again).
    let e = event(&ids, "x.made");
    emit(store.as_ref(), &e).await;
    bus.drain(DRAIN).await.unwrap();
    let pending = outbox::item(&e);
    store
        .update(
            &Key::of(&pending).unwrap(),
            &[
                Update::set(attr::GSI2PK, pending[attr::GSI2PK].clone()),
                Update::set(attr::GSI2SK, pending[attr::GSI2SK].clone()),
            ],
            None,
        )
        .await
        .unwrap();
    bus.drain(DRAIN).await.unwrap();
    assert!(outbox_item(store.as_ref(), &e)
        .await
        .get(attr::GSI2PK)
        .is_none());
    assert_eq!(h.calls(), 1, "the second delivery was a duplicate");
    assert_eq!(effects.of("once", &e.id), 1);

    // 2. The handler's idempotency record is already there (e.g. handled
    //    through another path): the handler is not called at all.
    let handled = event(&ids, "x.made");
    let mut record = idempotency::key("once", &handled.id).to_item();
    record.insert("status".into(), "done".into());
    record.insert(
        attr::EXPIRES_AT.into(),
        (chrono::Utc::now().timestamp() + 3600).into(),
    );
    store.put(record, None).await.unwrap();
    emit(store.as_ref(), &handled).await;
    bus.drain(DRAIN).await.unwrap();
    assert_eq!(h.calls(), 1);
    assert_eq!(effects.of("once", &handled.id), 0);
    bus.shutdown().await;
}

async fn pending_items_are_delivered_at_start_up(b: Backend) {
    let store = b.store();
    let ids = SystemIds::default();
    let events: Vec<Envelope> = (0..5).map(|_| event(&ids, "x.made")).collect();
    for e in &events {
        emit(store.as_ref(), e).await;
    }
    // What a crash left behind: pending outbox items, nobody relaying.
    let effects = Effects::default();
    let h = TestHandler::new("late", &["x.made.v1"], Mode::Succeed, &effects);
    // No change feed and an hour's poll: only the start-up scan can find them.
    let bus = LocalEvents::start(
        b.store(),
        Arc::new(SystemClock),
        as_handlers(&[&h]),
        None,
        LocalEventsConfig {
            poll_interval: Duration::from_secs(3600),
            ..config()
        },
    );
    bus.drain(DRAIN).await.unwrap();
    // Each once; in any order (a batch is handled concurrently, as an SQS
    // standard queue's messages are).
    let mut handled = h.order.lock().unwrap().clone();
    handled.sort();
    let mut expected: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    expected.sort();
    assert_eq!(handled, expected, "each once");
    bus.shutdown().await;
}

async fn two_buses_on_one_store_act_once(b: Backend) {
    let effects = Effects::default();
    let make = || {
        let h1 = TestHandler::new("c1", &["x.made.v1"], Mode::Succeed, &effects);
        let h2 = TestHandler::new("c2", &["x.made.v1"], Mode::FailFirst(1), &effects);
        h1.delay_ms.store(3, Ordering::SeqCst);
        (h1, h2)
    };
    let (p1c1, p1c2) = make();
    let (p2c1, p2c2) = make();
    let bus1 = b.start(as_handlers(&[&p1c1, &p1c2]));
    let bus2 = b.start(as_handlers(&[&p2c1, &p2c2]));
    let store = b.store();
    let ids = SystemIds::default();
    let events: Vec<Envelope> = (0..20).map(|_| event(&ids, "x.made")).collect();
    let writes = events.iter().map(|e| emit(store.as_ref(), e));
    futures::future::join_all(writes).await;
    bus1.drain(DRAIN).await.unwrap();
    bus2.drain(DRAIN).await.unwrap();

    for e in &events {
        assert_eq!(effects.of("c1", &e.id), 1, "c1 {}", e.id);
        assert_eq!(effects.of("c2", &e.id), 1, "c2 {}", e.id);
    }
    assert_eq!(effects.total(), 40);
    assert_eq!(
        p1c1.calls() + p2c1.calls(),
        20,
        "no event was even attempted twice by c1"
    );
    bus1.shutdown().await;
    bus2.shutdown().await;
}

async fn a_stopped_bus_leaves_work_for_the_next_start(b: Backend) {
    let effects = Effects::default();
    let h = TestHandler::new("c", &["x.made.v1"], Mode::Succeed, &effects);
    let bus = b.start(as_handlers(&[&h]));
    bus.shutdown().await;
    let store = b.store();
    let e = event(&SystemIds::default(), "x.made");
    emit(store.as_ref(), &e).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        outbox_item(store.as_ref(), &e)
            .await
            .get(attr::GSI2PK)
            .is_some(),
        "nobody relays after shutdown"
    );
    let bus = b.start(as_handlers(&[&h]));
    bus.drain(DRAIN).await.unwrap();
    assert_eq!(effects.of("c", &e.id), 1);
    bus.shutdown().await;
}

/// `e`'s delivery to consumer `c` as a worker leaves it when it takes it:
/// one attempt made, hidden for `hidden_ms` more.
fn taken_delivery(e: &Envelope, hidden_ms: i64) -> Item {
    let mut taken = delivery::new_item(
        "c",
        &e.id,
        "x.made.v1",
        serde_json::to_value(e).unwrap(),
        chrono::Utc::now().timestamp_millis() + hidden_ms,
        "2026-01-01T00:00:00.000Z",
    );
    taken.insert(delivery::ATTEMPTS.into(), 1.into());
    taken.insert(delivery::VERSION.into(), 1.into());
    taken
}

async fn a_delivery_held_by_a_dead_worker_comes_back(b: Backend) {
    let effects = Effects::default();
    let h = TestHandler::new("c", &["x.made.v1"], Mode::Succeed, &effects);
    let store = b.store();
    let e = event(&SystemIds::default(), "x.made");
    // A worker took the delivery (visibility until 1 s from now) and
    // died; its idempotency claim was never written.
    store.put(taken_delivery(&e, 1_000), None).await.unwrap();
    let bus = b.start(as_handlers(&[&h]));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(h.calls(), 0, "hidden until its visibility timeout ends");
    bus.drain(DRAIN).await.unwrap();
    assert_eq!(effects.of("c", &e.id), 1);
    bus.shutdown().await;
}

/// A delivery as a worker left it when its process died: taken (hidden
/// for `hidden_ms` more), with the idempotency record the claim wrote in
/// the same transaction, `status` as given.
async fn left_by_a_dead_worker(store: &dyn Store, e: &Envelope, status: &str, hidden_ms: i64) {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let taken = taken_delivery(e, hidden_ms);
    let mut claim = idempotency::key("c", &e.id).to_item();
    claim.insert("status".into(), status.into());
    claim.insert("owner".into(), "a-dead-worker".into());
    if status == "inProgress" {
        claim.insert("leaseUntil".into(), (now_ms + hidden_ms).into());
    }
    claim.insert(
        attr::EXPIRES_AT.into(),
        (chrono::Utc::now().timestamp() + 3600).into(),
    );
    store
        .transact(vec![TxOp::put(taken), TxOp::put(claim)])
        .await
        .unwrap();
}

async fn a_delivery_whose_worker_died_mid_handler_is_handled_once(b: Backend) {
    let effects = Effects::default();
    let h = TestHandler::new("c", &["x.made.v1"], Mode::Succeed, &effects);
    let store = b.store();
    let e = event(&SystemIds::default(), "x.made");
    left_by_a_dead_worker(store.as_ref(), &e, "inProgress", 500).await;
    let bus = b.start(as_handlers(&[&h]));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(h.calls(), 0, "hidden, and claimed, until the timeout ends");
    bus.drain(DRAIN).await.unwrap();
    assert_eq!(effects.of("c", &e.id), 1);
    let record = store.get(&idempotency::key("c", &e.id)).await.unwrap();
    assert_eq!(record.unwrap()["status"], "done");
    bus.shutdown().await;
}

async fn a_delivery_handled_but_not_acknowledged_is_not_handled_again(b: Backend) {
    // The process died after the done mark and before the delivery was
    // deleted (the two commit together; this is the state when that
    // transaction could not take the delivery and the mark went alone).
    let effects = Effects::default();
    let h = TestHandler::new("c", &["x.made.v1"], Mode::Succeed, &effects);
    let store = b.store();
    let e = event(&SystemIds::default(), "x.made");
    left_by_a_dead_worker(store.as_ref(), &e, "done", 200).await;
    let bus = b.start(as_handlers(&[&h]));
    bus.drain(DRAIN).await.unwrap();
    assert_eq!(h.calls(), 0, "a duplicate: the handler is not called");
    assert_eq!(
        store.get(&delivery::key("c", &e.id)).await.unwrap(),
        None,
        "the redelivery is acknowledged"
    );
    bus.shutdown().await;
}

/// Counts the writes made through it.
struct CountingWrites {
    inner: Arc<dyn Store>,
    writes: AtomicUsize,
}

#[async_trait]
impl Store for CountingWrites {
    async fn get(&self, key: &Key) -> Result<Option<lite_store::Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<lite_store::Item>>, StoreError> {
        self.inner.batch_get(keys).await
    }
    async fn query(&self, query: &Query) -> Result<lite_store::Page, StoreError> {
        self.inner.query(query).await
    }
    async fn put(
        &self,
        item: lite_store::Item,
        condition: Option<lite_store::Condition>,
    ) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.put(item, condition).await
    }
    async fn update(
        &self,
        key: &Key,
        updates: &[Update],
        condition: Option<lite_store::Condition>,
    ) -> Result<lite_store::Item, StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.update(key, updates, condition).await
    }
    async fn delete(
        &self,
        key: &Key,
        condition: Option<lite_store::Condition>,
    ) -> Result<Option<lite_store::Item>, StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.transact(ops).await
    }
}

async fn a_handled_delivery_costs_two_writes(b: Backend) {
    // Taking a delivery commits with the claim, and acknowledging it with
    // the done mark: two writes (each its own commit) for one event.
    let effects = Effects::default();
    let h = TestHandler::new("c", &["x.made.v1"], Mode::Succeed, &effects);
    let idle = TestHandler::new("idle", &["y.made.v1"], Mode::Succeed, &effects);
    let counted = Arc::new(CountingWrites {
        inner: b.store(),
        writes: AtomicUsize::new(0),
    });
    let bus = LocalEvents::start(
        counted.clone(),
        Arc::new(SystemClock),
        as_handlers(&[&h, &idle]),
        Some(b.store.changes()),
        config(),
    );
    let e = event(&SystemIds::default(), "x.made");
    // The delivery as the relay queues it, written past the counter: only
    // the worker writes through it.
    let queued = delivery::new_item(
        "c",
        &e.id,
        "x.made.v1",
        serde_json::to_value(&e).unwrap(),
        chrono::Utc::now().timestamp_millis(),
        "2026-01-01T00:00:00.000Z",
    );
    b.store().put(queued, None).await.unwrap();
    bus.drain(DRAIN).await.unwrap();
    assert_eq!(effects.of("c", &e.id), 1);
    assert_eq!(counted.writes.load(Ordering::SeqCst), 2);
    let record = b.store().get(&idempotency::key("c", &e.id)).await.unwrap();
    assert_eq!(record.unwrap()["status"], "done");
    bus.shutdown().await;
}

async fn a_slow_handler_keeps_its_delivery(b: Backend) {
    // Two buses race for every delivery; the handler takes two and a half
    // visibility timeouts. Its worker's renewals keep the other bus off it.
    let effects = Effects::default();
    let short = LocalEventsConfig {
        visibility_timeout: Duration::from_millis(1_000),
        ..config()
    };
    let make = || {
        let h = TestHandler::new("c", &["x.made.v1"], Mode::Succeed, &effects);
        h.delay_ms.store(2_500, Ordering::SeqCst);
        h
    };
    let (h1, h2) = (make(), make());
    let bus1 = b.start_with(as_handlers(&[&h1]), short.clone());
    let bus2 = b.start_with(as_handlers(&[&h2]), short);
    let store = b.store();
    let e = event(&SystemIds::default(), "x.made");
    emit(store.as_ref(), &e).await;
    bus1.drain(DRAIN).await.unwrap();
    bus2.drain(DRAIN).await.unwrap();
    assert_eq!(h1.calls() + h2.calls(), 1, "handed to one worker only");
    assert_eq!(effects.of("c", &e.id), 1);
    bus1.shutdown().await;
    bus2.shutdown().await;
}

/// Hands `n` deliveries to `h`, whose calls wait 300 ms each, on a bus
/// that takes `batch_size` at a time and handles `concurrency` at once;
/// returns when all were handled, each once.
async fn handle_waiting(
    b: Backend,
    h: &Arc<TestHandler>,
    effects: &Effects,
    n: usize,
    batch_size: usize,
    concurrency: usize,
) {
    h.delay_ms.store(300, Ordering::SeqCst);
    let store = b.store();
    let ids = SystemIds::default();
    for _ in 0..n {
        emit(store.as_ref(), &event(&ids, "x.made")).await;
    }
    let bus = LocalEvents::start(
        b.store(),
        Arc::new(SystemClock),
        as_handlers(&[h]),
        None,
        LocalEventsConfig {
            batch_size,
            concurrency,
            ..config()
        },
    );
    bus.drain(DRAIN).await.unwrap();
    assert_eq!(effects.total(), n, "each once");
    bus.shutdown().await;
}

async fn a_batch_is_handled_concurrently_up_to_the_limit(b: Backend) {
    // Six deliveries of a handler that waits: with a concurrency of 3 the
    // worker runs three at a time, never more.
    let effects = Effects::default();
    let h = TestHandler::new("wide", &["x.made.v1"], Mode::Succeed, &effects);
    handle_waiting(b, &h, &effects, 6, 6, 3).await;
    assert_eq!(h.max_in_flight.load(Ordering::SeqCst), 3);
}

async fn a_handler_may_ask_for_more_at_once_than_the_bus_gives(b: Backend) {
    // The bus takes two and handles three at once; the handler asks for
    // twelve, and the due deliveries run together (as many as the relay
    // has queued by the worker's look: all twelve, or nearly).
    let effects = Effects::default();
    let h = TestHandler::new("grouped", &["x.made.v1"], Mode::Succeed, &effects);
    h.wants.store(12, Ordering::SeqCst);
    handle_waiting(b, &h, &effects, 12, 2, 3).await;
    let most = h.max_in_flight.load(Ordering::SeqCst);
    assert!((6..=12).contains(&most), "{most} at once");
}

async fn a_malformed_outbox_item_is_set_aside(b: Backend) {
    let effects = Effects::default();
    let h = TestHandler::new("c", &["x.made.v1"], Mode::Succeed, &effects);
    let bus = b.start(as_handlers(&[&h]));
    let store = b.store();
    let mut bad = outbox::item(&event(&SystemIds::default(), "x.made"));
    bad.insert("event".into(), json!({"id": 5}));
    let key = Key::of(&bad).unwrap();
    store.put(bad, None).await.unwrap();
    bus.drain(DRAIN).await.unwrap();
    let item = store.get(&key).await.unwrap().unwrap();
    assert!(item.get(attr::GSI2PK).is_none());
    assert!(item["relayError"]
        .as_str()
        .unwrap()
        .starts_with("malformed envelope"));
    assert_eq!(h.calls(), 0);
    bus.shutdown().await;
}

async fn is_pending(store: &dyn Store, e: &Envelope) -> bool {
    outbox_item(store, e).await.get(attr::GSI2PK).is_some()
}

async fn events_nobody_subscribes_to_ride_with_the_next_or_the_sweep(b: Backend) {
    let effects = Effects::default();
    let h = TestHandler::new("c", &["x.made.v1"], Mode::Succeed, &effects);
    let bus = b.start_with(
        as_handlers(&[&h]),
        LocalEventsConfig {
            poll_interval: Duration::from_secs(3),
            ..config()
        },
    );
    let store = b.store();
    let ids = SystemIds::default();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let unheard = event(&ids, "y.made");
    emit(store.as_ref(), &unheard).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        is_pending(store.as_ref(), &unheard).await,
        "no commit of its own"
    );
    // The next event with a subscriber takes it along, in its transaction.
    let heard = event(&ids, "x.made");
    emit(store.as_ref(), &heard).await;
    let began = Instant::now();
    while effects.of("c", &heard.id) == 0 {
        assert!(began.elapsed() < Duration::from_secs(2), "before any sweep");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!is_pending(store.as_ref(), &heard).await);
    assert!(
        !is_pending(store.as_ref(), &unheard).await,
        "marked with it"
    );
    bus.shutdown().await;

    // Alone, it is marked by the next sweep.
    let bus = b.start_with(
        as_handlers(&[&h]),
        LocalEventsConfig {
            poll_interval: Duration::from_millis(300),
            ..config()
        },
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let alone = event(&ids, "y.made");
    emit(store.as_ref(), &alone).await;
    bus.drain(DRAIN).await.unwrap();
    assert!(!is_pending(store.as_ref(), &alone).await);
    bus.shutdown().await;
}

macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod in_memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::Backend::memory()).await;
                }
            )*
        }
        mod on_file {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::Backend::file()).await;
                }
            )*
        }
    };
}

on_both_backends!(
    reaches_every_subscriber_once,
    retried_with_backoff_then_handled_once,
    always_failing_lands_in_the_dlq,
    poison_goes_straight_to_the_dlq_and_redrive_brings_it_back,
    duplicates_have_one_effect,
    pending_items_are_delivered_at_start_up,
    two_buses_on_one_store_act_once,
    a_stopped_bus_leaves_work_for_the_next_start,
    a_delivery_held_by_a_dead_worker_comes_back,
    a_delivery_whose_worker_died_mid_handler_is_handled_once,
    a_delivery_handled_but_not_acknowledged_is_not_handled_again,
    a_handled_delivery_costs_two_writes,
    events_nobody_subscribes_to_ride_with_the_next_or_the_sweep,
    a_slow_handler_keeps_its_delivery,
    a_malformed_outbox_item_is_set_aside,
    a_batch_is_handled_concurrently_up_to_the_limit,
    a_handler_may_ask_for_more_at_once_than_the_bus_gives,
);
