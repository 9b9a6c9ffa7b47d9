//! Where one checkout's time goes: a store decorator that records every
//! write (what it wrote, when it was asked for, when its commit answered)
//! and a counter of the store's commits (its change feed fires once per
//! committed batch), so the benchmark can print the chain of one checkout.

use async_trait::async_trait;
use lite_store::{Item, Key, Page, Query, Store, StoreError, TxOp, Update};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Notify;

/// One write as the store saw it.
#[derive(Debug, Clone)]
pub struct Write {
    /// `put`, `update`, `delete` or `tx`.
    pub kind: &'static str,
    /// The partition-key prefixes written (`ORDER`, `DELIVERY#checkout-start`, ...).
    pub what: String,
    pub asked: Instant,
    pub answered: Instant,
    pub ok: bool,
}

/// Records the writes of the store it wraps while recording is on.
pub struct Timeline {
    inner: Arc<dyn Store>,
    writes: Mutex<Vec<Write>>,
    reads: AtomicUsize,
    recording: std::sync::atomic::AtomicBool,
}

impl Timeline {
    pub fn new(inner: Arc<dyn Store>) -> Arc<Timeline> {
        Arc::new(Timeline {
            inner,
            writes: Mutex::new(Vec::new()),
            reads: AtomicUsize::new(0),
            recording: false.into(),
        })
    }

    /// Starts a fresh recording.
    pub fn record(&self) {
        self.writes.lock().unwrap().clear();
        self.reads.store(0, Ordering::SeqCst);
        self.recording.store(true, Ordering::SeqCst);
    }

    /// Stops recording; the writes and the count of reads.
    pub fn take(&self) -> (Vec<Write>, usize) {
        self.recording.store(false, Ordering::SeqCst);
        let writes = std::mem::take(&mut *self.writes.lock().unwrap());
        (writes, self.reads.load(Ordering::SeqCst))
    }

    fn on(&self) -> bool {
        self.recording.load(Ordering::Relaxed)
    }

    fn read(&self) {
        if self.on() {
            self.reads.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn wrote<T>(
        &self,
        kind: &'static str,
        what: String,
        asked: Instant,
        result: &Result<T, StoreError>,
    ) {
        if self.on() {
            self.writes.lock().unwrap().push(Write {
                kind,
                what,
                asked,
                answered: Instant::now(),
                ok: result.is_ok(),
            });
        }
    }
}

/// What a key names, short: the partition key up to its second `#` for
/// the local transport's items (`DELIVERY#checkout-start`, `IDEMP#search-indexer`),
/// its first word otherwise (`ORDER`, `SAGA`, `PAYEVT`).
fn label(key: &Key) -> String {
    let mut parts = key.pk.splitn(3, '#');
    let first = parts.next().unwrap_or_default();
    match (first, parts.next()) {
        ("DELIVERY" | "IDEMP", Some(consumer)) => format!("{first}#{consumer}"),
        _ => first.to_owned(),
    }
}

#[async_trait]
impl Store for Timeline {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.read();
        self.inner.get(key).await
    }

    async fn get_json(&self, key: &Key) -> Result<Option<Vec<u8>>, StoreError> {
        self.read();
        self.inner.get_json(key).await
    }

    async fn query_json(&self, query: &Query) -> Result<lite_store::JsonPage, StoreError> {
        self.read();
        self.inner.query_json(query).await
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.read();
        self.inner.batch_get(keys).await
    }

    async fn batch_get_json(&self, keys: &[Key]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.read();
        self.inner.batch_get_json(keys).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.read();
        self.inner.query(query).await
    }

    async fn put(
        &self,
        item: Item,
        condition: Option<lite_store::Condition>,
    ) -> Result<(), StoreError> {
        let what = Key::of(&item).map(|k| label(&k)).unwrap_or_default();
        let asked = Instant::now();
        let result = self.inner.put(item, condition).await;
        self.wrote("put", what, asked, &result);
        result
    }

    async fn update(
        &self,
        key: &Key,
        updates: &[Update],
        condition: Option<lite_store::Condition>,
    ) -> Result<Item, StoreError> {
        let asked = Instant::now();
        let result = self.inner.update(key, updates, condition).await;
        self.wrote("update", label(key), asked, &result);
        result
    }

    async fn delete(
        &self,
        key: &Key,
        condition: Option<lite_store::Condition>,
    ) -> Result<Option<Item>, StoreError> {
        let asked = Instant::now();
        let result = self.inner.delete(key, condition).await;
        self.wrote("delete", label(key), asked, &result);
        result
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        let mut labels: Vec<String> = ops
            .iter()
            .filter_map(|op| op.key().ok().map(|k| label(&k)))
            .collect();
        labels.dedup();
        let asked = Instant::now();
        let result = self.inner.transact(ops).await;
        self.wrote("tx", labels.join("+"), asked, &result);
        result
    }
}

/// Counts the store's commits from its change feed (notified once per
/// committed batch that wrote).
pub fn count_commits(feed: Arc<Notify>) -> Arc<AtomicU64> {
    let count = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&count);
    tokio::spawn(async move {
        loop {
            feed.notified().await;
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    count
}
