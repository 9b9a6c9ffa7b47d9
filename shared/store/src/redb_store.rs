//! The embedded adapter: the single table in a redb database (a file, or
//! memory for tests).
//!
//! # Layout (`format`: the tables, and the migration of older files)
//! - `items.v2`: `(PK, SK)` → the item's JSON bytes.
//! - `gsi1.v2`, `gsi2.v2`: `(GSIxPK, GSIxSK, PK, SK)` → the item's JSON
//!   bytes (the whole item projected, as on DynamoDB). An item has an entry
//!   in an index exactly when it carries both string attributes of that
//!   index; every write keeps the entries in step with the item, in the same
//!   write transaction.
//!
//! # Invariants
//! - redb runs one write transaction at a time, so evaluating a condition
//!   and writing inside one transaction is atomic: that is all the
//!   concurrency control there is, and all it needs.
//! - Tuple keys order element by element, strings by UTF-8 bytes, exactly
//!   as DynamoDB orders string keys; index ties therefore fall to the table
//!   key for free.
//! - Every query reads one half-open range `[lower, upper)` of key tuples
//!   (see [`KeyRange`]); `s + "\0"` is the immediate successor of a string
//!   `s`, which turns inclusive/exclusive bounds and "everything under this
//!   partition" into such a range.
//! - Reads run in place (MVCC snapshots that never wait); writes run on
//!   one writer thread that commits the writes waiting for it together
//!   (`writer`: group commit, one fsync per batch).
//!
//! # Change feed
//! [`RedbStore::changes`] is a [`Notify`] on which `notify_waiters` is
//! called after every committed batch of writes (puts, updates, deletes,
//! transactions), whatever they changed. It carries no data: a listener re-reads what it
//! cares about (the local event relay queries the pending outbox). To miss
//! nothing, a listener creates and `enable`s its `notified()` future before
//! it reads, then awaits it; with no listener a notification costs a lock.

use crate::{
    canceled, validate_item, validate_transaction, validate_updates, Condition, Direction, Index,
    Item, JsonPage, Key, Page, Position, Query, SkCondition, Store, StoreError, TxOp, TxWrite,
    Update,
};
use async_trait::async_trait;
use redb::{Database, ReadableTable};
use serde_json::Value;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::Notify;

use format::{IndexKey, TableKey, GSI1, GSI2, ITEMS};

/// The page cache [`RedbStore::open`] gives redb. redb's own default is
/// 1 GiB, which a long-running process fills with every page it reads or
/// writes until the data outgrows it. The local API's data set is
/// megabytes, so 32 MiB holds it all in practice, and pages beyond it are
/// still in the OS page cache.
pub const DEFAULT_CACHE_BYTES: usize = 32 * 1024 * 1024;

mod format;
mod writer;

/// The single table on redb. Cheap to clone (the database is shared).
#[derive(Clone)]
pub struct RedbStore {
    /// Every write goes through it (see `writer`: group commit). Declared
    /// before `db`: dropping the last clone stops the writer, then closes
    /// the database.
    writer: Arc<writer::Writer>,
    db: Arc<Database>,
    /// Notified after every committed write (see "Change feed").
    changes: Arc<Notify>,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore").finish_non_exhaustive()
    }
}

impl RedbStore {
    /// Opens the database file at `path`, creating it (and its directory)
    /// when missing, with a page cache of [`DEFAULT_CACHE_BYTES`]. Only one
    /// process may hold the file open.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// Like [`RedbStore::open`], with a page cache of at most `cache_bytes`
    /// (redb gives nine tenths to read pages and one tenth to the pages a
    /// write transaction buffers).
    pub fn open_with_cache(path: &Path, cache_bytes: usize) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .create(path)
            .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
        tracing::debug!(path = %path.display(), cache_bytes, "opened redb store");
        Self::init(db)
    }

    /// A fresh, empty store that lives in memory (tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(unavailable)?;
        Self::init(db)
    }

    /// Creates the tables, so readers never meet a missing one, migrating
    /// an older data file first (`format`).
    fn init(db: Database) -> Result<Self, StoreError> {
        let migrated = format::open(&db)?;
        if migrated > 0 {
            tracing::info!(items = migrated, "migrated the data file to format 2");
        }
        let db = Arc::new(db);
        let changes = Arc::new(Notify::new());
        Ok(Self {
            writer: Arc::new(writer::Writer::start(db.clone(), changes.clone())?),
            db,
            changes,
        })
    }

    /// The change feed: notified (`notify_waiters`) after every committed
    /// write through this store or its clones. Listeners `enable` their
    /// `notified()` future before reading so no commit slips between the
    /// read and the wait.
    pub fn changes(&self) -> Arc<Notify> {
        Arc::clone(&self.changes)
    }

    /// Runs a read in place. redb reads are MVCC snapshots that never wait
    /// for the writer and touch pages the OS already caches, so they take
    /// microseconds: handing them to the blocking pool would cost more (a
    /// thread hand-off of 20-35 µs on a 2-core machine) than the read.
    fn read<T>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        work(&self.db)
    }

    /// `read` of each of `keys`, in order, in one read transaction.
    fn read_each<T>(
        &self,
        keys: &[Key],
        read: impl Fn(
            &redb::ReadOnlyTable<TableKey, &'static [u8]>,
            (&str, &str),
        ) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        keys.iter().try_for_each(Key::validate)?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.read(|db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let items = txn.open_table(ITEMS).map_err(unavailable)?;
            keys.iter().map(|k| read(&items, (&k.pk, &k.sk))).collect()
        })
    }

    /// Runs `work` (a write) on the writer thread, committed with the
    /// writes queued beside it (`writer`: group commit); its result once
    /// that commit is durable. The change feed is notified by the writer.
    async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tables<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.writer.write(work).await
    }
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn decode(bytes: &[u8]) -> Result<Item, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Unavailable(format!("corrupt item: {e}")))
}

/// The item at `(pk, sk)`: borrowed parts, so an index entry's table key
/// is looked up without copying it into a [`Key`] first.
fn read_item(
    table: &impl ReadableTable<TableKey, &'static [u8]>,
    (pk, sk): (&str, &str),
) -> Result<Option<Item>, StoreError> {
    match table.get((pk, sk)).map_err(unavailable)? {
        Some(bytes) => decode(bytes.value()).map(Some),
        None => Ok(None),
    }
}

/// The item at `(pk, sk)` as stored (its JSON), not decoded.
fn read_json(
    table: &impl ReadableTable<TableKey, &'static [u8]>,
    (pk, sk): (&str, &str),
) -> Result<Option<Vec<u8>>, StoreError> {
    let stored = table.get((pk, sk)).map_err(unavailable)?;
    Ok(stored.map(|bytes| bytes.value().to_vec()))
}

fn check(condition: Option<&Condition>, current: Option<&Item>) -> Result<(), StoreError> {
    match condition {
        Some(c) if !c.eval(current) => Err(StoreError::ConditionFailed),
        _ => Ok(()),
    }
}

/// The item after `updates` (already validated) are applied to `current`
/// (the key alone when absent).
fn apply_updates(
    key: &Key,
    current: Option<&Item>,
    updates: &[Update],
) -> Result<Item, StoreError> {
    let mut item = current.cloned().unwrap_or_else(|| key.to_item());
    for update in updates {
        match update {
            Update::Set(name, value) => {
                item.insert(name.clone(), value.clone());
            }
            Update::SetIfAbsent(name, value) => {
                item.entry(name.clone()).or_insert_with(|| value.clone());
            }
            Update::Add(name, by) => {
                let sum = match item.get(name) {
                    None => Value::from(*by),
                    Some(Value::Number(n)) => add(n, *by).ok_or_else(|| {
                        StoreError::Invalid(format!(
                            "ADD {by} to {name} = {n} of {key} leaves the number range"
                        ))
                    })?,
                    Some(other) => {
                        return Err(StoreError::Invalid(format!(
                            "ADD on {name} of {key}, which is not a number: {other}"
                        )))
                    }
                };
                item.insert(name.clone(), sum);
            }
            Update::Remove(name) => {
                item.remove(name);
            }
        }
    }
    Ok(item)
}

fn add(n: &serde_json::Number, by: i64) -> Option<Value> {
    let integer = n
        .as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from));
    if let Some(i) = integer {
        let sum = i + i128::from(by);
        return i64::try_from(sum)
            .map(Value::from)
            .or_else(|_| u64::try_from(sum).map(Value::from))
            .ok();
    }
    // `by as f64` may round for |by| > 2^53, as any float sum would.
    n.as_f64()
        .and_then(|f| serde_json::Number::from_f64(f + by as f64))
        .map(Value::Number)
}

/// The tables of one write transaction.
struct Tables<'t> {
    items: redb::Table<'t, TableKey, &'static [u8]>,
    gsi1: redb::Table<'t, IndexKey, &'static [u8]>,
    gsi2: redb::Table<'t, IndexKey, &'static [u8]>,
    /// Items written so far in this transaction (the writer checks that a
    /// failed write changed nothing).
    writes: usize,
}

impl<'t> Tables<'t> {
    fn open(txn: &'t redb::WriteTransaction) -> Result<Self, StoreError> {
        Ok(Tables {
            items: txn.open_table(ITEMS).map_err(unavailable)?,
            gsi1: txn.open_table(GSI1).map_err(unavailable)?,
            gsi2: txn.open_table(GSI2).map_err(unavailable)?,
            writes: 0,
        })
    }

    fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        read_item(&self.items, (&key.pk, &key.sk))
    }

    /// Replaces the item at `key` (`old` is what is there now) by `new`
    /// (`None`: delete), keeping both indexes in step.
    fn write(
        &mut self,
        key: &Key,
        old: Option<&Item>,
        new: Option<&Item>,
    ) -> Result<(), StoreError> {
        self.writes += 1;
        let (pk, sk) = (key.pk.as_str(), key.sk.as_str());
        let bytes = new
            .map(|item| {
                serde_json::to_vec(item)
                    .map_err(|e| StoreError::Invalid(format!("item {key}: {e}")))
            })
            .transpose()?;
        match &bytes {
            Some(bytes) => self.items.insert((pk, sk), bytes.as_slice()),
            None => self.items.remove((pk, sk)),
        }
        .map_err(unavailable)?;
        for (index, table) in [(Index::Gsi1, &mut self.gsi1), (Index::Gsi2, &mut self.gsi2)] {
            let before = old.and_then(|i| index.keys_of(i));
            let after = new.and_then(|i| index.keys_of(i));
            if let Some((gpk, gsk)) = before.filter(|b| Some(*b) != after) {
                table.remove((gpk, gsk, pk, sk)).map_err(unavailable)?;
            }
            // The entry holds the whole item, so it is rewritten with it
            // even when its keys stay.
            if let (Some((gpk, gsk)), Some(bytes)) = (after, &bytes) {
                table
                    .insert((gpk, gsk, pk, sk), bytes.as_slice())
                    .map_err(unavailable)?;
            }
        }
        Ok(())
    }
}

/// The half-open range `[lower, upper)` of key tuples a query reads:
/// `(PK, SK)` for the table, `(GSIxPK, GSIxSK, PK, SK)` for an index.
/// Tuples compare element by element, strings by bytes, like redb's.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyRange {
    lower: Vec<String>,
    upper: Vec<String>,
}

/// `s + "\0"`: the least string greater than `s`.
fn successor(s: &str) -> String {
    let mut next = String::with_capacity(s.len() + 1);
    next.push_str(s);
    next.push('\0');
    next
}

/// The least string greater than every string that starts with `prefix`
/// (`None` when there is none, e.g. for the empty prefix). UTF-8 keeps
/// code-point order, so bumping the last bumpable character does it.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let bumped = match u32::from(last) + 1 {
            0xD800 => Some('\u{E000}'),
            n => char::from_u32(n),
        };
        if let Some(c) = bumped {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Bounds on the index sort key: `(value, inclusive)`, `None` = unbounded.
type SkBound = Option<(String, bool)>;

fn sk_bounds(sk: Option<&SkCondition>) -> (SkBound, SkBound) {
    let inc = |v: &String| Some((v.clone(), true));
    let exc = |v: &String| Some((v.clone(), false));
    match sk {
        None => (None, None),
        Some(SkCondition::Eq(v)) => (inc(v), inc(v)),
        Some(SkCondition::BeginsWith(p)) => (inc(p), prefix_end(p).map(|end| (end, false))),
        Some(SkCondition::Between(a, b)) => (inc(a), inc(b)),
        Some(SkCondition::Lt(v)) => (None, exc(v)),
        Some(SkCondition::Le(v)) => (None, inc(v)),
        Some(SkCondition::Gt(v)) => (exc(v), None),
        Some(SkCondition::Ge(v)) => (inc(v), None),
    }
}

impl KeyRange {
    /// The range `query` (already validated) reads, or `None` when it is
    /// empty.
    fn of(query: &Query) -> Result<Option<KeyRange>, StoreError> {
        let width = if query.index == Index::Table { 2 } else { 4 };
        // A tuple whose trailing elements (the table key of an index entry)
        // are the least possible: "".
        let tuple = |pk: String, sk: String| {
            let mut t = vec![pk, sk];
            t.resize(width, String::new());
            t
        };
        let pk = query.pk.clone();
        let (low, high) = sk_bounds(query.sk.as_ref());
        let mut lower = match low {
            None => tuple(pk.clone(), String::new()),
            Some((v, true)) => tuple(pk.clone(), v),
            Some((v, false)) => tuple(pk.clone(), successor(&v)),
        };
        let mut upper = match high {
            None => tuple(successor(&pk), String::new()),
            Some((v, true)) => tuple(pk.clone(), successor(&v)),
            Some((v, false)) => tuple(pk.clone(), v),
        };
        if let Some(after) = &query.after {
            let position = position_tuple(query.index, after)?;
            match query.direction {
                // Strictly after the position: from its successor on.
                Direction::Forward => {
                    let mut next = position;
                    if let Some(last) = next.last_mut() {
                        last.push('\0');
                    }
                    if next > lower {
                        lower = next;
                    }
                }
                // Strictly before it: the position is the exclusive end.
                Direction::Backward => {
                    if position < upper {
                        upper = position;
                    }
                }
            }
        }
        Ok((lower < upper).then_some(KeyRange { lower, upper }))
    }
}

/// The key tuple of the item a position points after.
fn position_tuple(index: Index, after: &Position) -> Result<Vec<String>, StoreError> {
    let table = after.table_key()?;
    if index == Index::Table {
        return Ok(vec![table.pk, table.sk]);
    }
    match (after.get(index.pk_attr()), after.get(index.sk_attr())) {
        (Some(gpk), Some(gsk)) => Ok(vec![gpk.to_owned(), gsk.to_owned(), table.pk, table.sk]),
        _ => Err(StoreError::Invalid(format!(
            "position has no {} key",
            index.name().unwrap_or("table")
        ))),
    }
}

/// Gathers one page: applies the filter and stops at the first matching
/// item beyond `limit`, which only proves that `next` is needed.
struct PageBuilder<'q> {
    query: &'q Query,
    items: Vec<Item>,
    more: bool,
}

impl<'q> PageBuilder<'q> {
    fn new(query: &'q Query) -> Self {
        Self {
            query,
            items: Vec::with_capacity(query.limit.min(64)),
            more: false,
        }
    }

    /// Offers the next item in query order; `false` once the page is done.
    fn offer(&mut self, item: Item) -> bool {
        if self
            .query
            .filter
            .as_ref()
            .is_some_and(|f| !f.eval(Some(&item)))
        {
            return true;
        }
        if self.items.len() == self.query.limit {
            self.more = true;
            return false;
        }
        self.items.push(item);
        true
    }

    fn finish(self) -> Result<Page, StoreError> {
        let next = match (self.more, self.items.last()) {
            (true, Some(last)) => Some(Position::after(self.query.index, last)?),
            _ => None,
        };
        Ok(Page {
            items: self.items,
            next,
        })
    }
}

fn directed<'a, T: 'a>(
    iter: impl DoubleEndedIterator<Item = T> + 'a,
    direction: Direction,
) -> Box<dyn Iterator<Item = T> + 'a> {
    match direction {
        Direction::Forward => Box::new(iter),
        Direction::Backward => Box::new(iter.rev()),
    }
}

fn run_query(db: &Database, query: &Query) -> Result<Page, StoreError> {
    let mut page = PageBuilder::new(query);
    scan(db, query, |_, bytes| Ok(page.offer(decode(bytes)?)))?;
    page.finish()
}

/// [`run_query`] for a query without a filter, the items as stored: every
/// entry in the key range is on the page, so the keys alone decide where
/// it ends.
fn run_query_json(db: &Database, query: &Query) -> Result<JsonPage, StoreError> {
    debug_assert!(query.filter.is_none());
    /// Room made for each item at first, so a page of products is read
    /// without growing the buffer (a copy under the allocator's lock); 64
    /// such items stay under glibc's mmap threshold (`amazon_lite::malloc`).
    const ITEM_BYTES: usize = 1536;
    let mut page = JsonPage::with_capacity(query.limit.min(64), ITEM_BYTES);
    // The last entry's keys, for `next`: copied into the same four strings
    // each time, not into new ones.
    let mut last: [String; 4] = Default::default();
    let mut more = false;
    scan(db, query, |keys, bytes| {
        if page.len() == query.limit {
            more = true;
            return Ok(false);
        }
        page.push(bytes);
        let [(pk, sk), (ipk, isk)] = [keys.table, keys.index];
        for (kept, key) in last.iter_mut().zip([pk, sk, ipk, isk]) {
            kept.clear();
            kept.push_str(key);
        }
        Ok(true)
    })?;
    if more {
        let [pk, sk, ipk, isk] = &last;
        page.next = Some(Position::at(query.index, (pk, sk), (ipk, isk)));
    }
    Ok(page)
}

/// The keys of an entry [`scan`] offers: the item's table key and, for an
/// index, its key there (the table key again for the table).
struct EntryKeys<'a> {
    table: (&'a str, &'a str),
    index: (&'a str, &'a str),
}

/// Reads `query`'s key range in its direction and offers each entry (its
/// keys and its item's stored JSON) to `offer` until it answers `false`.
fn scan(
    db: &Database,
    query: &Query,
    mut offer: impl FnMut(EntryKeys<'_>, &[u8]) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    let Some(range) = KeyRange::of(query)? else {
        return Ok(());
    };
    let txn = db.begin_read().map_err(unavailable)?;
    let bad_range = || StoreError::Unavailable(format!("bad key range {range:?}"));
    match query.index {
        Index::Table => {
            let ([lpk, lsk], [upk, usk]) = (range.lower.as_slice(), range.upper.as_slice()) else {
                return Err(bad_range());
            };
            let bounds = (
                Bound::Included((lpk.as_str(), lsk.as_str())),
                Bound::Excluded((upk.as_str(), usk.as_str())),
            );
            let items = txn.open_table(ITEMS).map_err(unavailable)?;
            let entries = items.range::<(&str, &str)>(bounds).map_err(unavailable)?;
            for entry in directed(entries, query.direction) {
                let (key, value) = entry.map_err(unavailable)?;
                let table = key.value();
                if in_range(query, table) {
                    let keys = EntryKeys {
                        table,
                        index: table,
                    };
                    if !offer(keys, value.value())? {
                        break;
                    }
                }
            }
        }
        Index::Gsi1 | Index::Gsi2 => {
            let ([l0, l1, l2, l3], [u0, u1, u2, u3]) =
                (range.lower.as_slice(), range.upper.as_slice())
            else {
                return Err(bad_range());
            };
            let bounds = (
                Bound::Included((l0.as_str(), l1.as_str(), l2.as_str(), l3.as_str())),
                Bound::Excluded((u0.as_str(), u1.as_str(), u2.as_str(), u3.as_str())),
            );
            let definition = if query.index == Index::Gsi1 {
                GSI1
            } else {
                GSI2
            };
            let index = txn.open_table(definition).map_err(unavailable)?;
            let entries = index
                .range::<(&str, &str, &str, &str)>(bounds)
                .map_err(unavailable)?;
            for entry in directed(entries, query.direction) {
                let (key, value) = entry.map_err(unavailable)?;
                let (gpk, gsk, pk, sk) = key.value();
                if !in_range(query, (gpk, gsk)) {
                    continue;
                }
                let keys = EntryKeys {
                    table: (pk, sk),
                    index: (gpk, gsk),
                };
                if !offer(keys, value.value())? {
                    break;
                }
            }
        }
    }
    Ok(())
}

/// Whether an index key read from the key range is the query's: the range
/// guarantees it, so a mismatch is a bug in `KeyRange`, never something
/// to return.
fn in_range(query: &Query, (pk, sk): (&str, &str)) -> bool {
    let inside = pk == query.pk && query.sk.as_ref().is_none_or(|c| c.matches(sk));
    debug_assert!(inside, "key range read {pk:?}/{sk:?} outside {query:?}");
    inside
}

fn run_transaction(tables: &mut Tables<'_>, ops: &[TxOp]) -> Result<(), StoreError> {
    let keys = ops.iter().map(TxOp::key).collect::<Result<Vec<_>, _>>()?;
    {
        let current = keys
            .iter()
            .map(|k| tables.get(k))
            .collect::<Result<Vec<_>, _>>()?;
        let failed: Vec<usize> = ops
            .iter()
            .zip(&current)
            .enumerate()
            .filter(|(_, (op, item))| op.condition().is_some_and(|c| !c.eval(item.as_ref())))
            .map(|(i, _)| i)
            .collect();
        if !failed.is_empty() {
            return Err(canceled(ops, failed));
        }
        // Work out every new state before writing any, so an invalid update
        // result cancels the whole transaction (the abort would anyway).
        let mut writes: Vec<(usize, Option<Item>)> = Vec::with_capacity(ops.len());
        for (i, op) in ops.iter().enumerate() {
            match op.write() {
                TxWrite::Put { item, .. } => writes.push((i, Some(item.clone()))),
                TxWrite::Update { key, updates, .. } => {
                    let new = apply_updates(key, current[i].as_ref(), updates)?;
                    validate_item(&new)?;
                    writes.push((i, Some(new)));
                }
                TxWrite::Delete { .. } => writes.push((i, None)),
                TxWrite::Check { .. } => {}
            }
        }
        for (i, new) in writes {
            if new.is_some() || current[i].is_some() {
                tables.write(&keys[i], current[i].as_ref(), new.as_ref())?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Store for RedbStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        key.validate()?;
        self.read(|db| {
            let txn = db.begin_read().map_err(unavailable)?;
            read_item(
                &txn.open_table(ITEMS).map_err(unavailable)?,
                (&key.pk, &key.sk),
            )
        })
    }

    async fn get_json(&self, key: &Key) -> Result<Option<Vec<u8>>, StoreError> {
        key.validate()?;
        self.read(|db| {
            let txn = db.begin_read().map_err(unavailable)?;
            read_json(
                &txn.open_table(ITEMS).map_err(unavailable)?,
                (&key.pk, &key.sk),
            )
        })
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.read_each(keys, read_item)
    }

    /// The items as stored, never decoded.
    async fn batch_get_json(&self, keys: &[Key]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.read_each(keys, read_json)
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        query.validate()?;
        self.read(|db| run_query(db, query))
    }

    /// The items as stored, never decoded, when there is no filter (which
    /// needs them decoded); with one, [`Store::query`]'s page encoded.
    async fn query_json(&self, query: &Query) -> Result<JsonPage, StoreError> {
        query.validate()?;
        if query.filter.is_some() {
            return self.read(|db| run_query(db, query))?.into_json();
        }
        self.read(|db| run_query_json(db, query))
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        let key = validate_item(&item)?;
        self.write(move |tables| {
            let old = tables.get(&key)?;
            check(condition.as_ref(), old.as_ref())?;
            tables.write(&key, old.as_ref(), Some(&item))
        })
        .await
    }

    async fn update(
        &self,
        key: &Key,
        updates: &[Update],
        condition: Option<Condition>,
    ) -> Result<Item, StoreError> {
        key.validate()?;
        validate_updates(updates)?;
        let (key, updates) = (key.clone(), updates.to_vec());
        self.write(move |tables| {
            let old = tables.get(&key)?;
            check(condition.as_ref(), old.as_ref())?;
            let new = apply_updates(&key, old.as_ref(), &updates)?;
            validate_item(&new)?;
            tables.write(&key, old.as_ref(), Some(&new))?;
            Ok(new)
        })
        .await
    }

    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError> {
        key.validate()?;
        let key = key.clone();
        self.write(move |tables| {
            let old = tables.get(&key)?;
            check(condition.as_ref(), old.as_ref())?;
            if old.is_some() {
                tables.write(&key, old.as_ref(), None)?;
            }
            Ok(old)
        })
        .await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        validate_transaction(&ops)?;
        self.write(move |tables| run_transaction(tables, &ops))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr;
    use serde_json::json;

    fn s(v: &str) -> String {
        v.to_owned()
    }

    fn range(q: &Query) -> Option<KeyRange> {
        q.validate().unwrap();
        KeyRange::of(q).unwrap()
    }

    fn gsi_position(gpk: &str, gsk: &str, pk: &str, sk: &str) -> Position {
        let item = json!({"PK": pk, "SK": sk, "GSI1PK": gpk, "GSI1SK": gsk});
        Position::after(Index::Gsi1, item.as_object().unwrap()).unwrap()
    }

    fn claim(n: usize) -> Item {
        json!({"PK": format!("CLAIM#{n}"), "SK": "CLAIM", "n": n})
            .as_object()
            .unwrap()
            .clone()
    }

    /// Writes from many tasks at once go through the writer in batches:
    /// each is judged on its own condition (exactly one claim per key
    /// wins), every winner is durable (the file reopened after the last
    /// clone is dropped holds them) and the writer lets go of the file.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_commit_in_batches_each_on_its_own_condition() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let store = RedbStore::open(&path).unwrap();
        let tasks: Vec<_> = (0..400)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(
                    async move { store.put(claim(i % 100), Some(Condition::NotExists)).await },
                )
            })
            .collect();
        let mut won = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => won += 1,
                Err(StoreError::ConditionFailed) => {}
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert_eq!(won, 100);
        drop(store);
        let reopened = RedbStore::open(&path).expect("the writer let go of the file");
        for n in 0..100 {
            let key = Key::new(format!("CLAIM#{n}"), "CLAIM");
            assert_eq!(reopened.get(&key).await.unwrap(), Some(claim(n)));
        }
    }

    /// A write that fails after changing something (here a panic half-way)
    /// takes its whole batch down: nothing of it is written, and the store
    /// goes on writing afterwards.
    #[tokio::test]
    async fn a_write_failing_half_way_aborts_its_batch() {
        let store = RedbStore::in_memory().unwrap();
        let failed = store
            .write(|tables| -> Result<(), StoreError> {
                let item = claim(1);
                let key = Key::of(&item)?;
                tables.write(&key, None, Some(&item))?;
                panic!("half-way");
            })
            .await;
        assert!(
            matches!(failed, Err(StoreError::Unavailable(_))),
            "{failed:?}"
        );
        let key = Key::new("CLAIM#1", "CLAIM");
        assert_eq!(store.get(&key).await.unwrap(), None);
        store.put(claim(1), None).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), Some(claim(1)));
    }

    #[test]
    fn successor_and_prefix_end_bracket_exactly() {
        assert_eq!(successor("ab"), "ab\0");
        assert!(s("ab") < successor("ab") && successor("ab") < s("ab\u{1}"));
        assert_eq!(prefix_end("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_end("a\u{7f}").as_deref(), Some("a\u{80}"));
        assert_eq!(prefix_end("a\u{d7ff}").as_deref(), Some("a\u{e000}"));
        assert_eq!(prefix_end("a\u{10ffff}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{10ffff}"), None);
        assert_eq!(prefix_end(""), None);
        // Everything with the prefix sorts below the end, by bytes.
        let end = prefix_end("a\u{7f}").unwrap();
        assert!("a\u{7f}\u{10ffff}\u{10ffff}".as_bytes() < end.as_bytes());
    }

    #[test]
    fn table_ranges_stay_inside_the_partition() {
        let q = Query::new(Index::Table, "p");
        assert_eq!(
            range(&q),
            Some(KeyRange {
                lower: vec![s("p"), s("")],
                upper: vec![s("p\0"), s("")]
            })
        );
        // "p" + anything is a different, greater partition: not in range.
        let r = range(&q).unwrap();
        assert!(vec![s("pa"), s("")] >= r.upper);

        let q = Query::new(Index::Table, "p").sk(SkCondition::Gt(s("b")));
        assert_eq!(range(&q).unwrap().lower, vec![s("p"), s("b\0")]);
        let q = Query::new(Index::Table, "p").sk(SkCondition::Le(s("b")));
        assert_eq!(range(&q).unwrap().upper, vec![s("p"), s("b\0")]);
        let q = Query::new(Index::Table, "p").sk(SkCondition::Lt(s("b")));
        assert_eq!(range(&q).unwrap().upper, vec![s("p"), s("b")]);
        let q = Query::new(Index::Table, "p").sk(SkCondition::BeginsWith(s("o#")));
        assert_eq!(
            range(&q),
            Some(KeyRange {
                lower: vec![s("p"), s("o#")],
                upper: vec![s("p"), s("o$")]
            })
        );
    }

    #[test]
    fn index_ranges_cover_every_table_key_of_a_tied_sort_key() {
        let q = Query::new(Index::Gsi1, "g").sk(SkCondition::Eq(s("x")));
        let r = range(&q).unwrap();
        assert_eq!(r.lower, vec![s("g"), s("x"), s(""), s("")]);
        assert_eq!(r.upper, vec![s("g"), s("x\0"), s(""), s("")]);
        for entry in [
            vec![s("g"), s("x"), s("a"), s("a")],
            vec![s("g"), s("x"), s("\u{10ffff}"), s("zz")],
        ] {
            assert!(r.lower <= entry && entry < r.upper);
        }
        // Gt excludes every entry of the tie, however large its table key.
        let q = Query::new(Index::Gsi1, "g").sk(SkCondition::Gt(s("x")));
        let r = range(&q).unwrap();
        assert!(vec![s("g"), s("x"), s("\u{10ffff}"), s("\u{10ffff}")] < r.lower);
    }

    #[test]
    fn backward_after_ends_strictly_before_the_position() {
        let q = Query::new(Index::Gsi1, "g")
            .backward()
            .after(Some(gsi_position("g", "x", "b", "2")));
        let r = range(&q).unwrap();
        assert_eq!(
            r.upper,
            vec![s("g"), s("x"), s("b"), s("2")],
            "exclusive end at the position"
        );
        assert_eq!(r.lower, vec![s("g"), s(""), s(""), s("")]);
        // The tie's smaller table keys stay in, the position and larger go.
        let smaller = vec![s("g"), s("x"), s("b"), s("1")];
        let larger = vec![s("g"), s("x"), s("b"), s("2\0")];
        assert!(r.lower <= smaller && smaller < r.upper);
        assert!(larger >= r.upper);

        // A position past the sk condition's end leaves the condition's end.
        let q = Query::new(Index::Gsi1, "g")
            .sk(SkCondition::Le(s("m")))
            .backward()
            .after(Some(gsi_position("g", "z", "a", "a")));
        assert_eq!(
            range(&q).unwrap().upper,
            vec![s("g"), s("m\0"), s(""), s("")]
        );

        // A position before the condition's start leaves nothing.
        let q = Query::new(Index::Gsi1, "g")
            .sk(SkCondition::Ge(s("m")))
            .backward()
            .after(Some(gsi_position("g", "l", "z", "z")));
        assert_eq!(range(&q), None);
    }

    #[test]
    fn forward_after_starts_strictly_after_the_position() {
        let q = Query::new(Index::Gsi1, "g").after(Some(gsi_position("g", "x", "b", "2")));
        let r = range(&q).unwrap();
        assert_eq!(r.lower, vec![s("g"), s("x"), s("b"), s("2\0")]);
        assert!(vec![s("g"), s("x"), s("b"), s("2")] < r.lower);
        assert!(vec![s("g"), s("x"), s("c"), s("")] >= r.lower);

        // Last item of the sk range: nothing left.
        let q = Query::new(Index::Table, "p")
            .sk(SkCondition::Le(s("m")))
            .after(Some(
                Position::after(Index::Table, &Key::new("p", "m").to_item()).unwrap(),
            ));
        assert_eq!(range(&q), None);
        // A position before the condition's start leaves the start.
        let q = Query::new(Index::Table, "p")
            .sk(SkCondition::Ge(s("m")))
            .after(Some(
                Position::after(Index::Table, &Key::new("p", "a").to_item()).unwrap(),
            ));
        assert_eq!(range(&q).unwrap().lower, vec![s("p"), s("m")]);
    }

    #[test]
    fn updates_apply_like_dynamodb() {
        let key = Key::new("p", "s");
        let start =
            json!({"PK": "p", "SK": "s", "n": 1, "f": 1.5, "big": u64::MAX, "s": "x", "keep": 1});
        let start = start.as_object().unwrap().clone();
        let out = apply_updates(
            &key,
            Some(&start),
            &[
                Update::add("n", -3),
                Update::add("f", 1),
                Update::add("new", 7),
                Update::set_if_absent("keep", 2),
                Update::set_if_absent("fresh", 3),
                Update::remove("s"),
                Update::add("big", -1),
            ],
        )
        .unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"PK": "p", "SK": "s", "n": -2, "f": 2.5, "new": 7, "keep": 1, "fresh": 3, "big": u64::MAX - 1})
        );
        assert!(matches!(
            apply_updates(&key, Some(&start), &[Update::add("s", 1)]),
            Err(StoreError::Invalid(_))
        ));
        let max = json!({"PK": "p", "SK": "s", "n": i64::MAX})
            .as_object()
            .unwrap()
            .clone();
        assert!(
            apply_updates(&key, Some(&max), &[Update::add("n", 1)]).is_ok(),
            "i64::MAX + 1 fits in u64"
        );
        let min = json!({"PK": "p", "SK": "s", "n": i64::MIN})
            .as_object()
            .unwrap()
            .clone();
        assert!(matches!(
            apply_updates(&key, Some(&min), &[Update::add("n", -1)]),
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(
            apply_updates(&key, None, &[Update::set("a", 1)])
                .unwrap()
                .len(),
            3
        );
    }

    #[tokio::test]
    async fn index_entries_follow_the_item() {
        let store = RedbStore::in_memory().unwrap();
        let with = |gsk: Option<&str>| {
            let mut item = json!({"PK": "p", "SK": "s", "GSI1PK": "g"})
                .as_object()
                .unwrap()
                .clone();
            if let Some(gsk) = gsk {
                item.insert(attr::GSI1SK.into(), gsk.into());
            }
            item
        };
        // Each entry's keys, and the item it holds: always the item as it
        // is in the table.
        let entries = |store: &RedbStore| {
            let txn = store.db.begin_read().unwrap();
            let table = txn.open_table(GSI1).unwrap();
            let items = txn.open_table(ITEMS).unwrap();
            table
                .iter()
                .unwrap()
                .map(|e| {
                    let (k, v) = e.unwrap();
                    let (a, b, c, d) = k.value();
                    let stored = items.get((c, d)).unwrap().unwrap();
                    assert_eq!(
                        v.value(),
                        stored.value(),
                        "entry {a}/{b} holds a stale item"
                    );
                    [a, b, c, d].map(str::to_owned).to_vec()
                })
                .collect::<Vec<_>>()
        };
        store.put(with(Some("1")), None).await.unwrap();
        assert_eq!(entries(&store), vec![vec![s("g"), s("1"), s("p"), s("s")]]);
        store.put(with(Some("2")), None).await.unwrap();
        assert_eq!(entries(&store), vec![vec![s("g"), s("2"), s("p"), s("s")]]);
        store.put(with(None), None).await.unwrap();
        assert!(entries(&store).is_empty());
        store
            .update(&Key::new("p", "s"), &[Update::set(attr::GSI1SK, "3")], None)
            .await
            .unwrap();
        assert_eq!(entries(&store), vec![vec![s("g"), s("3"), s("p"), s("s")]]);
        // A write that keeps the index keys rewrites the entry's item.
        store
            .update(&Key::new("p", "s"), &[Update::set("n", 1)], None)
            .await
            .unwrap();
        assert_eq!(entries(&store), vec![vec![s("g"), s("3"), s("p"), s("s")]]);
        let page = store.query(&Query::new(Index::Gsi1, "g")).await.unwrap();
        assert_eq!(page.items[0]["n"], json!(1));
        // A failed write leaves the index alone.
        let err = store
            .update(
                &Key::new("p", "s"),
                &[Update::set(attr::GSI1SK, "4")],
                Some(Condition::NotExists),
            )
            .await;
        assert_eq!(err, Err(StoreError::ConditionFailed));
        assert_eq!(entries(&store), vec![vec![s("g"), s("3"), s("p"), s("s")]]);
        store.delete(&Key::new("p", "s"), None).await.unwrap();
        assert!(entries(&store).is_empty());
    }

    #[tokio::test]
    async fn change_feed_fires_after_each_commit_only() {
        use std::time::Duration;
        let store = RedbStore::in_memory().unwrap();
        let feed = store.changes();
        let item = json!({"PK": "p", "SK": "s"}).as_object().unwrap().clone();

        let notified = feed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        store.put(item.clone(), None).await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), notified)
            .await
            .expect("a committed put notifies");

        // A write whose condition fails commits nothing and says nothing.
        let notified = feed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let failed = store.put(item, Some(Condition::NotExists)).await;
        assert_eq!(failed, Err(StoreError::ConditionFailed));
        assert!(
            tokio::time::timeout(Duration::from_millis(50), notified.as_mut())
                .await
                .is_err(),
            "a failed write does not notify"
        );

        // Clones share the feed; transactions notify too.
        store
            .clone()
            .transact(vec![TxOp::delete(Key::new("p", "s"))])
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(5), notified)
            .await
            .expect("a committed transaction on a clone notifies");
    }

    #[tokio::test]
    async fn index_key_attributes_must_be_non_empty_strings() {
        let store = RedbStore::in_memory().unwrap();
        for bad in [
            json!({"PK": "p", "SK": "s", "GSI1PK": 5}),
            json!({"PK": "p", "SK": "s", "GSI2SK": ""}),
        ] {
            let item = bad.as_object().unwrap().clone();
            assert!(matches!(
                store.put(item, None).await,
                Err(StoreError::Invalid(_))
            ));
        }
        assert!(matches!(
            store.get(&Key::new("", "s")).await,
            Err(StoreError::Invalid(_))
        ));
    }
}
