//! The conformance suite: the cases every [`Store`] adapter passes, so the
//! embedded and the DynamoDB adapters give the same answers.
//!
//! Each case is a public async function taking a fresh store and panicking
//! on the first wrong answer. [`conformance_tests!`](crate::conformance_tests)
//! turns them into one `#[tokio::test]` each:
//!
//! ```ignore
//! lite_store::conformance_tests!(|| async {
//!     std::sync::Arc::new(lite_store::redb_store::RedbStore::in_memory().unwrap()) as std::sync::Arc<dyn lite_store::Store>
//! });
//! ```
//!
//! Cases share nothing: each writes under partition keys made unique by
//! [`unique`] and never assumes the table is empty, so all of them can run at
//! once against one shared table (the DynamoDB emulator).

use crate::{
    attr, Condition, Direction, FailedOp, Index, Item, Key, Page, Position, Query, SkCondition,
    Store, StoreError, TxOp, Update, MAX_ITEM_BYTES, MAX_TRANSACTION_OPS,
};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Expands to one `#[tokio::test]` per conformance case. `$factory` is a
/// closure returning a future of a fresh `Arc<dyn Store>`; it is called once
/// per test. The calling crate needs `tokio` (with `macros` and
/// `rt-multi-thread`) as a dev-dependency.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::conformance_tests!(@cases ($factory)
            put_get_round_trip
            conditional_put
            condition_operators
            update_semantics
            update_errors
            delete_semantics
            batch_get_many
            query_table_sk_conditions
            query_table_limit_and_filter
            query_gsi_membership
            query_gsi_ties
            query_json_pages_equal_query_pages
            pagination_exact
            pagination_while_items_are_added
            transaction_applies_all
            transaction_cancels_on_failed_conditions
            transaction_validation
            transaction_uniqueness
            transaction_names_failed_conditions
            concurrent_conditional_decrements
            concurrent_unique_claims
            item_size_limit
            query_validation
        );
    };
    (@cases ($factory:expr) $($case:ident)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let store: ::std::sync::Arc<dyn $crate::Store> = ($factory)().await;
                $crate::conformance::$case(store).await;
            }
        )*
    };
}

// ---------------------------------------------------------------- helpers

/// A partition key no other case run (in this or another process) uses.
pub fn unique(case: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("conformance#{case}#{:x}-{nanos:x}-{n}", std::process::id())
}

fn obj(value: Value) -> Item {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn text(item: &Item, name: &str) -> String {
    item.get(name)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string {name} in {item:?}"))
        .to_owned()
}

/// The table keys of `items`, for readable comparisons.
fn keys_of(items: &[Item]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|i| (text(i, attr::PK), text(i, attr::SK)))
        .collect()
}

fn sort_keys(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| text(i, attr::SK)).collect()
}

fn assert_invalid<T: Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::Invalid(_))),
        "{what}: expected Invalid, got {result:?}"
    );
}

async fn get(store: &Arc<dyn Store>, key: &Key) -> Option<Item> {
    store
        .get(key)
        .await
        .unwrap_or_else(|e| panic!("get {key}: {e}"))
}

/// Writes `items` with a few puts in flight at once.
async fn put_all(store: &Arc<dyn Store>, items: Vec<Item>) {
    let mut tasks: tokio::task::JoinSet<Result<(), StoreError>> = tokio::task::JoinSet::new();
    for item in items {
        if tasks.len() >= 16 {
            tasks
                .join_next()
                .await
                .expect("a task")
                .expect("put task")
                .expect("put");
        }
        let store = Arc::clone(store);
        tasks.spawn(async move { store.put(item, None).await });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("put task").expect("put");
    }
}

/// Whether `condition` holds on the item at `item`'s key, asked through a
/// conditional put of `item` itself (which leaves the stored item as it was
/// when `item` is what is stored, and is undone when nothing was stored).
async fn holds(store: &Arc<dyn Store>, item: &Item, condition: Condition) -> bool {
    let key = Key::of(item).expect("key");
    let existed = get(store, &key).await.is_some();
    match store.put(item.clone(), Some(condition.clone())).await {
        Ok(()) => {
            if !existed {
                store.delete(&key, None).await.expect("undo");
            }
            true
        }
        Err(StoreError::ConditionFailed) => false,
        Err(e) => panic!("condition {condition:?}: unexpected {e}"),
    }
}

/// One page, checking what every page promises.
async fn page(store: &Arc<dyn Store>, query: &Query) -> Page {
    let page = store
        .query(query)
        .await
        .unwrap_or_else(|e| panic!("query {query:?}: {e}"));
    assert!(
        page.items.len() <= query.limit,
        "page longer than the limit"
    );
    if let Some(next) = &page.next {
        assert_eq!(page.items.len(), query.limit, "a page with `next` is full");
        let last = page.items.last().expect("a full page has a last item");
        assert_eq!(
            Some(next),
            Position::after(query.index, last).ok().as_ref(),
            "next points after the last item"
        );
    }
    page
}

/// Every item of `query`, page by page; also returns the number of pages.
async fn walk(store: &Arc<dyn Store>, query: Query) -> (Vec<Item>, usize) {
    let mut all = Vec::new();
    let mut after = None;
    for pages in 1..=10_000 {
        let page = page(store, &query.clone().after(after)).await;
        all.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return (all, pages),
        }
    }
    panic!("query {query:?} never ended");
}

fn reversed<T: Clone>(v: &[T]) -> Vec<T> {
    v.iter().rev().cloned().collect()
}

/// `query_json`, page by page, is `query` with its items encoded: the
/// same items in the same order and the same `next`, on the table and the
/// indexes, both directions, with sort-key conditions and with a filter.
pub async fn query_json_pages_equal_query_pages(store: Arc<dyn Store>) {
    let base = unique("json-pages");
    let g1 = unique("json-pages-g1");
    let mut items = Vec::new();
    for i in 0..9 {
        items.push(obj(json!({
            "PK": base, "SK": format!("k#{i}"),
            "GSI1PK": g1, "GSI1SK": if i % 3 == 0 { "tie" } else { "v" },
            "n": i, "text": format!("item \"{i}\" ✓"), "nested": {"list": [i, null, true]},
        })));
    }
    put_all(&store, items).await;
    let queries = [
        Query::new(Index::Table, base.as_str()),
        Query::new(Index::Table, base.as_str()).backward(),
        Query::new(Index::Table, base.as_str()).sk(SkCondition::BeginsWith("k#".into())),
        Query::new(Index::Table, base.as_str())
            .sk(SkCondition::Between("k#2".into(), "k#6".into())),
        Query::new(Index::Table, base.as_str()).filter(Condition::ge("n", 4)),
        Query::new(Index::Gsi1, g1.as_str()),
        Query::new(Index::Gsi1, g1.as_str()).backward(),
        Query::new(Index::Gsi1, g1.as_str()).sk(SkCondition::Eq("tie".into())),
        Query::new(Index::Gsi1, g1.as_str()).filter(Condition::le("n", 5)),
        Query::new(Index::Gsi1, unique("json-pages-empty").as_str()),
    ];
    for query in queries {
        for limit in [1, 2, 4, 9, 10, 100] {
            let query = query.clone().limit(limit);
            let mut after = None;
            for pages in 1.. {
                assert!(pages < 100, "{query:?} never ended");
                let this = query.clone().after(after);
                let expected = page(&store, &this).await;
                let got = store.query_json(&this).await.expect("query_json");
                assert_eq!(got.len(), got.items().len(), "{this:?}");
                let decoded: Vec<Item> = got
                    .items()
                    .map(|bytes| serde_json::from_slice(bytes).expect("one JSON object"))
                    .collect();
                assert_eq!(decoded, expected.items, "{this:?}");
                assert_eq!(got.next, expected.next, "{this:?}");
                match expected.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
    }
}

// ---------------------------------------------------------------- items

/// Put/get of nested JSON; a missing key; put replaces the whole item.
pub async fn put_get_round_trip(store: Arc<dyn Store>) {
    let pk = unique("round-trip");
    let key = Key::new(&pk, "item");
    let original = obj(json!({
        "PK": pk, "SK": "item",
        "text": "grüße, 世界 ✓ \"quoted\"",
        "int": 42, "negative": -17, "zero": 0, "big": 9_007_199_254_740_993_i64,
        "float": 3.25, "negativeFloat": -1234.5,
        "yes": true, "no": false, "nothing": null,
        "list": [1, "two", [3.5, false], {"k": "v"}, null],
        "map": {"inner": {"deeper": {"values": [1, 2, 3]}, "flag": true}, "n": -1, "s": "x"},
    }));
    store.put(original.clone(), None).await.expect("put");
    assert_eq!(
        get(&store, &key).await,
        Some(original.clone()),
        "round trip"
    );
    let json = store
        .get_json(&key)
        .await
        .expect("get_json")
        .expect("present");
    let decoded: Item = serde_json::from_slice(&json).expect("one JSON object");
    assert_eq!(decoded, original, "get_json: the same item as its JSON");
    assert_eq!(
        store
            .get_json(&Key::new(&pk, "missing"))
            .await
            .expect("get_json"),
        None,
        "get_json: missing sort key"
    );
    assert_eq!(
        get(&store, &Key::new(&pk, "missing")).await,
        None,
        "missing sort key"
    );
    assert_eq!(
        get(&store, &Key::new(unique("round-trip-none"), "item")).await,
        None,
        "missing partition"
    );

    let replacement = obj(json!({"PK": pk, "SK": "item", "only": "this"}));
    store.put(replacement.clone(), None).await.expect("replace");
    assert_eq!(
        get(&store, &key).await,
        Some(replacement),
        "put replaces every attribute"
    );

    for bad in [
        json!({"PK": pk}),
        json!({"PK": 5, "SK": "x"}),
        json!({"PK": "", "SK": "x"}),
    ] {
        assert_invalid(
            store.put(obj(bad.clone()), None).await,
            &format!("put {bad}"),
        );
    }
}

/// NotExists / Exists on put.
pub async fn conditional_put(store: Arc<dyn Store>) {
    let pk = unique("conditional-put");
    let key = Key::new(&pk, "once");
    let first = obj(json!({"PK": pk, "SK": "once", "v": 1}));
    let second = obj(json!({"PK": pk, "SK": "once", "v": 2}));
    store
        .put(first.clone(), Some(Condition::NotExists))
        .await
        .expect("first NotExists put");
    assert_eq!(
        store.put(second.clone(), Some(Condition::NotExists)).await,
        Err(StoreError::ConditionFailed)
    );
    assert_eq!(
        get(&store, &key).await,
        Some(first),
        "a failed put changes nothing"
    );

    let absent = obj(json!({"PK": pk, "SK": "absent", "v": 1}));
    assert_eq!(
        store.put(absent, Some(Condition::Exists)).await,
        Err(StoreError::ConditionFailed)
    );
    assert_eq!(
        get(&store, &Key::new(&pk, "absent")).await,
        None,
        "Exists on a missing item writes nothing"
    );

    store
        .put(second.clone(), Some(Condition::Exists))
        .await
        .expect("Exists put");
    assert_eq!(get(&store, &key).await, Some(second));
}

/// Every comparison on numbers and strings, type mismatches, missing
/// attributes, And/Or/Not, AttrExists/AttrNotExists.
pub async fn condition_operators(store: Arc<dyn Store>) {
    let pk = unique("conditions");
    let item =
        obj(json!({"PK": pk, "SK": "c", "n": 10, "neg": -5, "f": 2.5, "s": "mango", "flag": true}));
    store.put(item.clone(), None).await.expect("put");
    let cases: Vec<(Condition, bool)> = vec![
        (Condition::Exists, true),
        (Condition::NotExists, false),
        (Condition::eq("n", 10), true),
        (Condition::eq("n", 11), false),
        (Condition::ne("n", 11), true),
        (Condition::ne("n", 10), false),
        (Condition::lt("n", 11), true),
        (Condition::lt("n", 10), false),
        (Condition::le("n", 10), true),
        (Condition::le("n", 9), false),
        (Condition::gt("n", 9), true),
        (Condition::gt("n", 10), false),
        (Condition::ge("n", 10), true),
        (Condition::ge("n", 11), false),
        (Condition::gt("n", 9.5), true),
        (Condition::lt("n", 10.5), true),
        (Condition::gt("neg", -6), true),
        (Condition::lt("neg", -5), false),
        (Condition::ge("f", 2.5), true),
        (Condition::gt("f", 2), true),
        (Condition::lt("f", 2), false),
        (Condition::eq("s", "mango"), true),
        (Condition::ne("s", "apple"), true),
        (Condition::ne("s", "mango"), false),
        (Condition::lt("s", "mangp"), true),
        (Condition::lt("s", "mango"), false),
        (Condition::le("s", "mango"), true),
        (Condition::gt("s", "mang"), true),
        (Condition::gt("s", "Mango"), true),
        (Condition::ge("s", "n"), false),
        (Condition::eq("n", "10"), false),
        (Condition::ne("n", "10"), true),
        (Condition::eq("flag", true), true),
        (Condition::eq("flag", false), false),
        (Condition::eq("missing", 1), false),
        (Condition::ne("missing", 1), true),
        (Condition::ge("missing", 0), false),
        (Condition::AttrExists("n".into()), true),
        (Condition::AttrExists("missing".into()), false),
        (Condition::AttrNotExists("missing".into()), true),
        (Condition::AttrNotExists("n".into()), false),
        (Condition::ge("n", 5).and(Condition::lt("n", 20)), true),
        (Condition::ge("n", 5).and(Condition::lt("n", 10)), false),
        (Condition::eq("n", 1).or(Condition::eq("n", 10)), true),
        (Condition::eq("n", 1).or(Condition::eq("n", 2)), false),
        (Condition::eq("n", 1).not(), true),
        (Condition::eq("n", 10).not(), false),
        (
            Condition::eq("s", "kiwi")
                .and(Condition::Exists)
                .or(Condition::AttrNotExists("n".into()).not()),
            true,
        ),
        (
            Condition::Or(vec![
                Condition::eq("s", "kiwi"),
                Condition::eq("flag", false),
            ])
            .not()
            .and(Condition::Exists),
            true,
        ),
    ];
    for (condition, expected) in cases {
        assert_eq!(
            holds(&store, &item, condition.clone()).await,
            expected,
            "{condition:?} on {item:?}"
        );
    }
    assert_eq!(
        get(&store, &Key::new(&pk, "c")).await,
        Some(item),
        "checking conditions changed the item"
    );

    // On a missing item: no attribute exists.
    let missing = obj(json!({"PK": pk, "SK": "missing"}));
    for (condition, expected) in [
        (Condition::NotExists, true),
        (Condition::Exists, false),
        (Condition::eq("n", 1), false),
        (Condition::ge("n", 0), false),
        (Condition::ne("n", 1), true),
        (Condition::AttrNotExists("n".into()), true),
        (Condition::AttrExists("n".into()), false),
    ] {
        assert_eq!(
            holds(&store, &missing, condition.clone()).await,
            expected,
            "{condition:?} on a missing item"
        );
    }
}

/// Set, SetIfAbsent, Add, Remove; creation; the returned item; a failing
/// condition leaves the item as it was.
pub async fn update_semantics(store: Arc<dyn Store>) {
    let pk = unique("update");
    let key = Key::new(&pk, "u");
    let created = store
        .update(
            &key,
            &[
                Update::set("name", "first"),
                Update::add("n", 5),
                Update::set_if_absent("created", "t1"),
            ],
            None,
        )
        .await
        .expect("update creates");
    let expected = obj(json!({"PK": pk, "SK": "u", "name": "first", "n": 5, "created": "t1"}));
    assert_eq!(created, expected, "update returns the created item");
    assert_eq!(get(&store, &key).await, Some(expected));

    let updated = store
        .update(
            &key,
            &[
                Update::set_if_absent("created", "t2"),
                Update::add("n", -7),
                Update::set("name", "second"),
                Update::set("tags", json!(["a", {"b": 1}])),
                Update::remove("never-there"),
            ],
            Some(Condition::eq("n", 5)),
        )
        .await
        .expect("conditional update");
    let expected = obj(
        json!({"PK": pk, "SK": "u", "name": "second", "n": -2, "created": "t1", "tags": ["a", {"b": 1}]}),
    );
    assert_eq!(updated, expected, "SetIfAbsent keeps, Add goes negative");
    assert_eq!(get(&store, &key).await, Some(expected.clone()));

    let updated = store
        .update(&key, &[Update::remove("name"), Update::add("m", -3)], None)
        .await
        .expect("remove and add");
    let expected = obj(
        json!({"PK": pk, "SK": "u", "n": -2, "created": "t1", "tags": ["a", {"b": 1}], "m": -3}),
    );
    assert_eq!(
        updated, expected,
        "Remove drops, Add on a missing attribute starts from 0"
    );
    assert_eq!(get(&store, &key).await, Some(expected.clone()));

    let failed = store
        .update(
            &key,
            &[Update::set("name", "third"), Update::add("n", 1)],
            Some(Condition::gt("n", 0)),
        )
        .await;
    assert_eq!(failed, Err(StoreError::ConditionFailed));
    assert_eq!(
        get(&store, &key).await,
        Some(expected),
        "a failed update changes nothing"
    );

    let absent = Key::new(&pk, "absent");
    let failed = store
        .update(&absent, &[Update::set("x", 1)], Some(Condition::Exists))
        .await;
    assert_eq!(failed, Err(StoreError::ConditionFailed));
    assert_eq!(
        get(&store, &absent).await,
        None,
        "a failed update creates nothing"
    );
}

/// Add on a non-number, changing the key, an empty update: Invalid, and
/// the item is unchanged.
pub async fn update_errors(store: Arc<dyn Store>) {
    let pk = unique("update-errors");
    let key = Key::new(&pk, "e");
    let item = obj(json!({"PK": pk, "SK": "e", "s": "text", "n": 1}));
    store.put(item.clone(), None).await.expect("put");
    assert_invalid(
        store.update(&key, &[Update::add("s", 1)], None).await,
        "Add on a string",
    );
    assert_invalid(
        store
            .update(&key, &[Update::set(attr::PK, "other")], None)
            .await,
        "Set PK",
    );
    assert_invalid(
        store
            .update(&key, &[Update::set(attr::SK, "other")], None)
            .await,
        "Set SK",
    );
    assert_invalid(
        store.update(&key, &[Update::remove(attr::SK)], None).await,
        "Remove SK",
    );
    assert_invalid(store.update(&key, &[], None).await, "no updates");
    assert_eq!(
        get(&store, &key).await,
        Some(item),
        "refused updates change nothing"
    );
}

/// Delete returns the old item; a failing condition keeps it; a missing
/// item deletes to None.
pub async fn delete_semantics(store: Arc<dyn Store>) {
    let pk = unique("delete");
    let key = Key::new(&pk, "d");
    let item = obj(json!({"PK": pk, "SK": "d", "v": 1}));
    store.put(item.clone(), None).await.expect("put");
    assert_eq!(
        store.delete(&key, Some(Condition::eq("v", 2))).await,
        Err(StoreError::ConditionFailed)
    );
    assert_eq!(
        get(&store, &key).await,
        Some(item.clone()),
        "a failed delete keeps the item"
    );
    assert_eq!(
        store.delete(&key, Some(Condition::eq("v", 1))).await,
        Ok(Some(item)),
        "returns the old item"
    );
    assert_eq!(get(&store, &key).await, None);
    assert_eq!(
        store.delete(&key, None).await,
        Ok(None),
        "deleting a missing item"
    );
    assert_eq!(
        store.delete(&key, Some(Condition::Exists)).await,
        Err(StoreError::ConditionFailed)
    );
}

/// 150 keys (more than one DynamoDB call), with missing and duplicate
/// keys, across two partitions: results aligned with the input, as items
/// and as their JSON.
pub async fn batch_get_many(store: Arc<dyn Store>) {
    let (pa, pb) = (unique("batch-a"), unique("batch-b"));
    let mut stored = HashMap::new();
    for i in 0..100 {
        let pk = if i % 2 == 0 { &pa } else { &pb };
        let item = obj(json!({"PK": pk, "SK": format!("{i:03}"), "i": i, "pad": "p".repeat(200)}));
        stored.insert(Key::of(&item).expect("key"), item);
    }
    put_all(&store, stored.values().cloned().collect()).await;
    let keys: Vec<Key> = (0..150)
        .map(|i| {
            let n = (i * 7) % 100; // i and i + 100 repeat a key
            let pk = if n % 2 == 0 { &pa } else { &pb };
            match i % 5 {
                4 => Key::new(pk, format!("missing{i}")),
                _ => Key::new(pk, format!("{n:03}")),
            }
        })
        .collect();
    assert!(
        keys.iter().collect::<HashSet<_>>().len() < keys.len(),
        "the input repeats keys"
    );
    let got = store.batch_get(&keys).await.expect("batch_get");
    assert_eq!(got.len(), keys.len(), "one result per input key");
    for (key, item) in keys.iter().zip(&got) {
        assert_eq!(item.as_ref(), stored.get(key), "result for {key}");
    }
    assert_eq!(store.batch_get(&[]).await, Ok(Vec::new()), "no keys");
    let json = store.batch_get_json(&keys).await.expect("batch_get_json");
    assert_eq!(json.len(), keys.len(), "batch_get_json: one result per key");
    for ((key, bytes), item) in keys.iter().zip(&json).zip(&got) {
        let decoded: Option<Item> = bytes
            .as_ref()
            .map(|b| serde_json::from_slice(b).expect("one JSON object"));
        assert_eq!(decoded.as_ref(), item.as_ref(), "batch_get_json: {key}");
    }
    assert_eq!(store.batch_get_json(&[]).await, Ok(Vec::new()), "no keys");
}

// ---------------------------------------------------------------- queries

/// Every sort-key condition, both directions, one partition among
/// neighbours whose names extend it.
pub async fn query_table_sk_conditions(store: Arc<dyn Store>) {
    let pk = unique("sk-conditions");
    let sks = ["a", "a#1", "a#2", "a#3", "ab", "b", "b#1", "c"];
    let mut items: Vec<Item> = sks
        .iter()
        .map(|sk| obj(json!({"PK": pk, "SK": sk})))
        .collect();
    // Neighbouring partitions that must never show up.
    for neighbour in [
        format!("{pk}a"),
        format!("{pk}#"),
        pk[..pk.len() - 1].to_owned(),
    ] {
        items.extend(sks.iter().map(|sk| obj(json!({"PK": neighbour, "SK": sk}))));
    }
    put_all(&store, items).await;

    let s = |v: &str| v.to_owned();
    let cases: Vec<(Option<SkCondition>, Vec<&str>)> = vec![
        (None, sks.to_vec()),
        (Some(SkCondition::Eq(s("a#2"))), vec!["a#2"]),
        (Some(SkCondition::Eq(s("zz"))), vec![]),
        (
            Some(SkCondition::BeginsWith(s("a#"))),
            vec!["a#1", "a#2", "a#3"],
        ),
        (
            Some(SkCondition::BeginsWith(s("a"))),
            vec!["a", "a#1", "a#2", "a#3", "ab"],
        ),
        (Some(SkCondition::BeginsWith(s("d"))), vec![]),
        (
            Some(SkCondition::Between(s("a#2"), s("b"))),
            vec!["a#2", "a#3", "ab", "b"],
        ),
        (Some(SkCondition::Between(s("a#25"), s("a#9"))), vec!["a#3"]),
        (
            Some(SkCondition::Lt(s("ab"))),
            vec!["a", "a#1", "a#2", "a#3"],
        ),
        (
            Some(SkCondition::Le(s("ab"))),
            vec!["a", "a#1", "a#2", "a#3", "ab"],
        ),
        (Some(SkCondition::Gt(s("b"))), vec!["b#1", "c"]),
        (Some(SkCondition::Ge(s("b"))), vec!["b", "b#1", "c"]),
    ];
    for (sk, expected) in cases {
        for direction in [Direction::Forward, Direction::Backward] {
            let mut query = Query::new(Index::Table, &pk)
                .direction(direction)
                .limit(100);
            query.sk = sk.clone();
            let page = page(&store, &query).await;
            let want: Vec<String> = match direction {
                Direction::Forward => expected.iter().map(|v| s(v)).collect(),
                Direction::Backward => expected.iter().rev().map(|v| s(v)).collect(),
            };
            assert_eq!(sort_keys(&page.items), want, "{sk:?} {direction:?}");
            assert!(
                keys_of(&page.items).iter().all(|(p, _)| *p == pk),
                "only the queried partition"
            );
            assert_eq!(page.next, None, "{sk:?} {direction:?}: everything fit");
        }
    }
}

/// Limits and filters: pages are filled up to the limit with matching
/// items, and `next` is None exactly when no more items match.
pub async fn query_table_limit_and_filter(store: Arc<dyn Store>) {
    let pk = unique("filter");
    let items: Vec<Item> = (0..40)
        .map(|i| obj(json!({"PK": pk, "SK": format!("i#{i:02}"), "n": i, "even": i % 2 == 0})))
        .collect();
    put_all(&store, items).await;
    let sks = |range: std::ops::Range<i32>| range.map(|i| format!("i#{i:02}")).collect::<Vec<_>>();
    let base = Query::new(Index::Table, &pk);

    // Exactly 4 full pages: the 4th says there is nothing after it.
    let (all, pages) = walk(&store, base.clone().limit(10)).await;
    assert_eq!((sort_keys(&all), pages), (sks(0..40), 4));

    // Matches in the middle: the page holding the last match has no next,
    // although non-matching items follow.
    let middle = base
        .clone()
        .limit(10)
        .filter(Condition::ge("n", 10).and(Condition::le("n", 29)));
    let first = page(&store, &middle).await;
    assert_eq!(sort_keys(&first.items), sks(10..20));
    assert!(first.next.is_some());
    let second = page(&store, &middle.clone().after(first.next)).await;
    assert_eq!(sort_keys(&second.items), sks(20..30));
    assert_eq!(second.next, None, "no more matching items");

    // Scattered matches still fill each page: 20 even items in pages of 7.
    let even = base.clone().limit(7).filter(Condition::eq("even", true));
    let mut after = None;
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    loop {
        let p = page(&store, &even.clone().after(after)).await;
        sizes.push(p.items.len());
        seen.extend(sort_keys(&p.items));
        match p.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(sizes, vec![7, 7, 6]);
    assert_eq!(
        seen,
        (0..40)
            .filter(|i| i % 2 == 0)
            .map(|i| format!("i#{i:02}"))
            .collect::<Vec<_>>()
    );

    // Backward with a filter.
    let (got, pages) = walk(
        &store,
        base.clone()
            .backward()
            .limit(4)
            .filter(Condition::ge("n", 25)),
    )
    .await;
    assert_eq!(sort_keys(&got), reversed(&sks(25..40)));
    assert_eq!(pages, 4);

    // A filter that matches nothing: one empty page.
    let none = page(
        &store,
        &base.clone().limit(5).filter(Condition::gt("n", 100)),
    )
    .await;
    assert!(none.items.is_empty() && none.next.is_none());

    // Sort-key condition and filter together.
    let (got, _) = walk(
        &store,
        base.clone()
            .limit(2)
            .sk(SkCondition::BeginsWith("i#1".into()))
            .filter(Condition::ge("n", 15)),
    )
    .await;
    assert_eq!(sort_keys(&got), sks(15..20));

    // Limit 1 walks one item at a time.
    let (got, pages) = walk(
        &store,
        base.clone()
            .limit(1)
            .sk(SkCondition::Between("i#05".into(), "i#07".into())),
    )
    .await;
    assert_eq!((sort_keys(&got), pages), (sks(5..8), 3));
}

/// Items appear in GSI1/GSI2 exactly when they carry both attributes of
/// the index; removing, changing or re-adding them moves the item.
pub async fn query_gsi_membership(store: Arc<dyn Store>) {
    let pk = unique("gsi-membership");
    let (g1, g2, g3) = (
        unique("gsi-membership-g1"),
        unique("gsi-membership-g2"),
        unique("gsi-membership-g3"),
    );
    let key = |sk: &str| Key::new(&pk, sk);
    put_all(
        &store,
        vec![
            obj(json!({"PK": pk, "SK": "a", "GSI1PK": g1, "GSI1SK": "s#1"})),
            obj(json!({"PK": pk, "SK": "b", "GSI1PK": g1})),
            obj(json!({"PK": pk, "SK": "c", "GSI1SK": "s#0"})),
            obj(json!({"PK": pk, "SK": "d", "GSI1PK": g1, "GSI1SK": "s#2", "GSI2PK": g2, "GSI2SK": "t#1"})),
            obj(json!({"PK": pk, "SK": "e", "GSI2PK": g2, "GSI2SK": "t#2"})),
        ],
    )
    .await;

    async fn in_index(
        store: &Arc<dyn Store>,
        index: Index,
        pk: &str,
        direction: Direction,
    ) -> Vec<Item> {
        let page = page(
            store,
            &Query::new(index, pk).direction(direction).limit(100),
        )
        .await;
        assert_eq!(page.next, None);
        page.items
    }
    async fn check(store: &Arc<dyn Store>, index: Index, gpk: &str, expected: &[&str], why: &str) {
        let got = in_index(store, index, gpk, Direction::Forward).await;
        assert_eq!(sort_keys(&got), expected.to_vec(), "{index:?} {why}");
        for item in &got {
            let stored = get(store, &Key::of(item).expect("key")).await;
            assert_eq!(
                Some(item),
                stored.as_ref(),
                "{index:?} returns whole, current items"
            );
        }
        let back = in_index(store, index, gpk, Direction::Backward).await;
        assert_eq!(
            sort_keys(&back),
            reversed(expected).to_vec(),
            "{index:?} backward {why}"
        );
    }

    check(
        &store,
        Index::Gsi1,
        &g1,
        &["a", "d"],
        "needs both GSI1 attributes",
    )
    .await;
    check(
        &store,
        Index::Gsi2,
        &g2,
        &["d", "e"],
        "needs both GSI2 attributes",
    )
    .await;
    let page1 = page(
        &store,
        &Query::new(Index::Gsi1, &g1).sk(SkCondition::BeginsWith("s#2".into())),
    )
    .await;
    assert_eq!(
        sort_keys(&page1.items),
        vec!["d"],
        "sort key condition on the index key"
    );

    store
        .update(&key("a"), &[Update::remove(attr::GSI1SK)], None)
        .await
        .expect("remove GSI1SK");
    check(
        &store,
        Index::Gsi1,
        &g1,
        &["d"],
        "after removing a's GSI1SK",
    )
    .await;

    store
        .put(
            obj(json!({"PK": pk, "SK": "d", "GSI1PK": g1, "GSI1SK": "s#2", "v": 2})),
            None,
        )
        .await
        .expect("put d without GSI2");
    check(
        &store,
        Index::Gsi2,
        &g2,
        &["e"],
        "after putting d without GSI2 attributes",
    )
    .await;
    check(&store, Index::Gsi1, &g1, &["d"], "d's new content").await;

    store
        .update(&key("a"), &[Update::set(attr::GSI1SK, "s#3")], None)
        .await
        .expect("re-add a");
    check(
        &store,
        Index::Gsi1,
        &g1,
        &["d", "a"],
        "a back with a later sort key",
    )
    .await;

    store
        .update(&key("d"), &[Update::set(attr::GSI1SK, "s#9")], None)
        .await
        .expect("move d");
    check(
        &store,
        Index::Gsi1,
        &g1,
        &["a", "d"],
        "d's sort key moved after a",
    )
    .await;

    store
        .update(&key("d"), &[Update::set(attr::GSI1PK, g3.as_str())], None)
        .await
        .expect("move d to g3");
    check(
        &store,
        Index::Gsi1,
        &g1,
        &["a"],
        "d moved to another index partition",
    )
    .await;
    check(
        &store,
        Index::Gsi1,
        &g3,
        &["d"],
        "d in its new index partition",
    )
    .await;

    store
        .update(&key("b"), &[Update::set(attr::GSI1SK, "s#0")], None)
        .await
        .expect("complete b");
    check(
        &store,
        Index::Gsi1,
        &g1,
        &["b", "a"],
        "b completed its GSI1 attributes",
    )
    .await;

    store.delete(&key("a"), None).await.expect("delete a");
    check(&store, Index::Gsi1, &g1, &["b"], "a deleted").await;
    check(
        &store,
        Index::Gsi1,
        &unique("gsi-membership-empty"),
        &[],
        "an empty index partition",
    )
    .await;
}

/// Ties on the index sort key are ordered by the table key, and walking
/// them in pages of any size returns each item exactly once.
pub async fn query_gsi_ties(store: Arc<dyn Store>) {
    let base = unique("gsi-ties");
    let (g1, g2) = (unique("gsi-ties-g1"), unique("gsi-ties-g2"));
    let mut items = Vec::new();
    for (i, suffix) in ["c", "a", "b"].iter().enumerate() {
        for j in 0..4 {
            let tie = if (i + j) % 2 == 0 { "x" } else { "y" };
            items.push(obj(json!({
                "PK": format!("{base}#{suffix}"), "SK": format!("k#{}", 3 - j),
                "GSI1PK": g1, "GSI1SK": tie,
                "GSI2PK": g2, "GSI2SK": "same",
            })));
        }
    }
    put_all(&store, items.clone()).await;
    let order = |index: Index| {
        let mut sorted = items.clone();
        sorted.sort_by_key(|i| {
            let (_, isk) = index.keys_of(i).expect("in the index");
            (
                isk.as_bytes().to_vec(),
                text(i, attr::PK).into_bytes(),
                text(i, attr::SK).into_bytes(),
            )
        });
        keys_of(&sorted)
    };
    for (index, gpk) in [(Index::Gsi1, &g1), (Index::Gsi2, &g2)] {
        let expected = order(index);
        for limit in [1, 2, 3, 5, 12, 100] {
            let (forward, _) = walk(&store, Query::new(index, gpk.as_str()).limit(limit)).await;
            assert_eq!(
                keys_of(&forward),
                expected,
                "{index:?} forward in pages of {limit}"
            );
            let (backward, _) = walk(
                &store,
                Query::new(index, gpk.as_str()).backward().limit(limit),
            )
            .await;
            assert_eq!(
                keys_of(&backward),
                reversed(&expected),
                "{index:?} backward in pages of {limit}"
            );
        }
    }
    let x: Vec<_> = order(Index::Gsi1).into_iter().take(6).collect();
    let (got, pages) = walk(
        &store,
        Query::new(Index::Gsi1, &g1)
            .sk(SkCondition::Eq("x".into()))
            .limit(4),
    )
    .await;
    assert_eq!(
        (keys_of(&got), pages),
        (x.clone(), 2),
        "one tied sort key, two pages"
    );
    let (got, _) = walk(
        &store,
        Query::new(Index::Gsi1, &g1)
            .sk(SkCondition::Eq("x".into()))
            .backward()
            .limit(4),
    )
    .await;
    assert_eq!(keys_of(&got), reversed(&x));
}

/// 257 items in pages of 20: every item exactly once, in order, in both
/// directions, on the table and on an index with ties.
pub async fn pagination_exact(store: Arc<dyn Store>) {
    let pk = unique("pages");
    let gpk = unique("pages-g");
    let items: Vec<Item> = (0..257)
        .map(|i| obj(json!({"PK": pk, "SK": format!("{i:04}"), "GSI1PK": gpk, "GSI1SK": format!("{:04}", i / 3), "i": i})))
        .collect();
    put_all(&store, items.clone()).await;
    let expected = keys_of(&items);
    for (index, partition) in [(Index::Table, &pk), (Index::Gsi1, &gpk)] {
        let (forward, pages) = walk(&store, Query::new(index, partition.as_str()).limit(20)).await;
        assert_eq!(keys_of(&forward), expected, "{index:?} forward");
        assert_eq!(pages, 13, "{index:?}: 12 full pages and one of 17");
        let (backward, pages) = walk(
            &store,
            Query::new(index, partition.as_str()).backward().limit(20),
        )
        .await;
        assert_eq!(
            keys_of(&backward),
            reversed(&expected),
            "{index:?} backward"
        );
        assert_eq!(pages, 13);
    }
    assert_eq!(
        forward_items(&store, &pk, 257).await,
        items,
        "the items themselves, not just keys"
    );
}

async fn forward_items(store: &Arc<dyn Store>, pk: &str, limit: usize) -> Vec<Item> {
    let page = page(store, &Query::new(Index::Table, pk).limit(limit)).await;
    assert_eq!(page.next, None);
    page.items
}

/// Walking while newer items are inserted: every original item exactly
/// once, in order, and the whole walk strictly ordered. A writer task keeps
/// inserting items that sort after every original, and the walker lets at
/// least one insert land between any two pages.
pub async fn pagination_while_items_are_added(store: Arc<dyn Store>) {
    const MAX_NEW: usize = 200;
    let pk = unique("growing");
    let gpk = unique("growing-g");
    let originals: Vec<Item> = (0..100)
        .map(|i| obj(json!({"PK": pk, "SK": format!("o#{i:04}"), "GSI1PK": gpk, "GSI1SK": format!("o#{i:04}")})))
        .collect();
    put_all(&store, originals.clone()).await;
    let original_keys: Vec<String> = sort_keys(&originals);

    let done = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (store, done, written, pk, gpk) = (
            Arc::clone(&store),
            Arc::clone(&done),
            Arc::clone(&written),
            pk.clone(),
            gpk.clone(),
        );
        tokio::spawn(async move {
            let mut n = 0;
            while !done.load(Ordering::SeqCst) && n < MAX_NEW {
                // Sort keys greater than every original: "p" > "o".
                let sk = format!("p#{n:04}");
                let item = obj(json!({"PK": pk, "SK": sk, "GSI1PK": gpk, "GSI1SK": sk}));
                store.put(item, None).await.expect("concurrent put");
                n += 1;
                written.store(n, Ordering::SeqCst);
                tokio::task::yield_now().await;
            }
        })
    };
    for (index, partition) in [(Index::Table, &pk), (Index::Gsi1, &gpk)] {
        for direction in [Direction::Backward, Direction::Forward] {
            let query = Query::new(index, partition.as_str())
                .direction(direction)
                .limit(10);
            let mut got = Vec::new();
            let mut after = None;
            for _ in 0..1000 {
                let before = written.load(Ordering::SeqCst);
                let p = page(&store, &query.clone().after(after)).await;
                got.extend(sort_keys(&p.items));
                let Some(next) = p.next else { break };
                after = Some(next);
                // Let the writer land at least one item before the next page.
                for _ in 0..2000 {
                    let now = written.load(Ordering::SeqCst);
                    if now > before || now >= MAX_NEW {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
            }
            let mut strictly_ordered = got.clone();
            strictly_ordered.sort();
            strictly_ordered.dedup();
            if direction == Direction::Backward {
                strictly_ordered.reverse();
            }
            assert_eq!(
                got, strictly_ordered,
                "{index:?} {direction:?}: strictly ordered, no repeats"
            );
            let seen_originals: Vec<String> = got
                .iter()
                .filter(|sk| sk.starts_with("o#"))
                .cloned()
                .collect();
            let want = match direction {
                Direction::Forward => original_keys.clone(),
                Direction::Backward => reversed(&original_keys),
            };
            assert_eq!(
                seen_originals, want,
                "{index:?} {direction:?}: every original exactly once, in order"
            );
            assert!(
                got.iter()
                    .all(|sk| sk.starts_with("o#") || sk.starts_with("p#")),
                "only this case's items"
            );
        }
    }
    done.store(true, Ordering::SeqCst);
    writer.await.expect("writer task");
    assert!(written.load(Ordering::SeqCst) > 0, "the writer ran");
}

// ---------------------------------------------------------------- transactions

struct TxFixture {
    pk: String,
    upd: Item,
    del: Item,
    chk: Item,
    third: Item,
}

async fn tx_fixture(store: &Arc<dyn Store>, case: &str) -> TxFixture {
    let pk = unique(case);
    let f = TxFixture {
        upd: obj(json!({"PK": pk, "SK": "upd", "n": 1})),
        del: obj(json!({"PK": pk, "SK": "del", "v": 1})),
        chk: obj(json!({"PK": pk, "SK": "chk", "status": "open"})),
        third: obj(json!({"PK": pk, "SK": "third", "v": 1})),
        pk,
    };
    put_all(
        store,
        vec![f.upd.clone(), f.del.clone(), f.chk.clone(), f.third.clone()],
    )
    .await;
    f
}

impl TxFixture {
    fn key(&self, sk: &str) -> Key {
        Key::new(&self.pk, sk)
    }
    fn new_item(&self) -> Item {
        obj(json!({"PK": self.pk, "SK": "new", "v": 1}))
    }
    async fn assert_untouched(&self, store: &Arc<dyn Store>, why: &str) {
        assert_eq!(
            get(store, &self.key("new")).await,
            None,
            "{why}: new item not written"
        );
        for item in [&self.upd, &self.del, &self.chk, &self.third] {
            let key = Key::of(item).expect("key");
            assert_eq!(
                get(store, &key).await.as_ref(),
                Some(item),
                "{why}: {key} unchanged"
            );
        }
    }
}

/// Put, Update, Delete and Check that all hold: everything applies.
pub async fn transaction_applies_all(store: Arc<dyn Store>) {
    let f = tx_fixture(&store, "tx-all").await;
    store
        .transact(vec![
            TxOp::put(f.new_item()).when(Condition::NotExists),
            TxOp::update(
                f.key("upd"),
                vec![Update::add("n", 2), Update::set("tag", "t")],
            )
            .when(Condition::eq("n", 1)),
            TxOp::delete(f.key("del")).when(Condition::Exists),
            TxOp::check(f.key("chk"), Condition::eq("status", "open")),
        ])
        .await
        .expect("transaction");
    assert_eq!(get(&store, &f.key("new")).await, Some(f.new_item()));
    assert_eq!(
        get(&store, &f.key("upd")).await,
        Some(obj(json!({"PK": f.pk, "SK": "upd", "n": 3, "tag": "t"})))
    );
    assert_eq!(get(&store, &f.key("del")).await, None);
    assert_eq!(
        get(&store, &f.key("chk")).await,
        Some(f.chk.clone()),
        "Check writes nothing"
    );
    // Unconditional ops, and an update that creates its item.
    store
        .transact(vec![
            TxOp::update(f.key("created"), vec![Update::add("n", 1)]),
            TxOp::delete(f.key("never-there")),
        ])
        .await
        .expect("unconditional transaction");
    assert_eq!(
        get(&store, &f.key("created")).await,
        Some(obj(json!({"PK": f.pk, "SK": "created", "n": 1})))
    );
}

/// A failing condition cancels everything and names every failing op.
pub async fn transaction_cancels_on_failed_conditions(store: Arc<dyn Store>) {
    let f = tx_fixture(&store, "tx-cancel").await;
    let ops = |upd_n: i64, third_v: i64, del_v: i64| {
        vec![
            TxOp::put(f.new_item()).when(Condition::NotExists),
            TxOp::update(f.key("upd"), vec![Update::add("n", 1)]).when(Condition::eq("n", upd_n)),
            TxOp::update(f.key("third"), vec![Update::set("v", 2)])
                .when(Condition::eq("v", third_v)),
            TxOp::delete(f.key("del")).when(Condition::eq("v", del_v)),
        ]
    };
    assert_eq!(store.transact(ops(1, 999, 1)).await, Err(unnamed(&[2])));
    f.assert_untouched(&store, "op 2 failed").await;
    assert_eq!(store.transact(ops(7, 1, 7)).await, Err(unnamed(&[1, 3])));
    f.assert_untouched(&store, "ops 1 and 3 failed").await;

    let check_fails = vec![
        TxOp::put(f.new_item()),
        TxOp::check(f.key("chk"), Condition::eq("status", "closed")),
    ];
    assert_eq!(store.transact(check_fails).await, Err(unnamed(&[1])));
    f.assert_untouched(&store, "a Check failed").await;

    let missing_check = vec![
        TxOp::delete(f.key("del")),
        TxOp::check(f.key("no-such-item"), Condition::Exists),
    ];
    assert_eq!(store.transact(missing_check).await, Err(unnamed(&[1])));
    f.assert_untouched(&store, "Exists on a missing item failed")
        .await;
}

/// Requests refused before anything is written: the same key twice, too
/// many ops, no ops, an update of a key attribute.
pub async fn transaction_validation(store: Arc<dyn Store>) {
    let pk = unique("tx-validation");
    let item = |sk: String| obj(json!({"PK": pk, "SK": sk}));
    let twice = vec![
        TxOp::put(item("k".into())),
        TxOp::update(Key::new(&pk, "k"), vec![Update::set("v", 1)]),
    ];
    assert_invalid(store.transact(twice).await, "two ops on one key");
    assert_eq!(get(&store, &Key::new(&pk, "k")).await, None);

    let too_many: Vec<TxOp> = (0..=MAX_TRANSACTION_OPS)
        .map(|i| TxOp::put(item(format!("many#{i:03}"))))
        .collect();
    assert_invalid(store.transact(too_many).await, "101 ops");
    assert_eq!(
        get(&store, &Key::new(&pk, "many#000")).await,
        None,
        "nothing written"
    );

    assert_invalid(store.transact(Vec::new()).await, "no ops");
    let key_update = vec![TxOp::update(
        Key::new(&pk, "u"),
        vec![Update::set(attr::SK, "x")],
    )];
    assert_invalid(store.transact(key_update).await, "updating SK");

    let most: Vec<TxOp> = (0..MAX_TRANSACTION_OPS)
        .map(|i| TxOp::put(item(format!("max#{i:03}"))))
        .collect();
    store.transact(most).await.expect("100 ops");
    let page = page(&store, &Query::new(Index::Table, &pk).limit(1000)).await;
    assert_eq!(page.items.len(), MAX_TRANSACTION_OPS);
}

/// A uniqueness item claimed with NotExists inside a transaction stops
/// the second claim, and the second claimant's own item is not written.
pub async fn transaction_uniqueness(store: Arc<dyn Store>) {
    let users = unique("uniq-users");
    let claim = unique("uniq-email");
    let signup = |user: &str| {
        vec![
            TxOp::put(obj(json!({"PK": users, "SK": user}))).when(Condition::NotExists),
            TxOp::put(obj(json!({"PK": claim, "SK": "claim", "owner": user})))
                .when(Condition::NotExists),
        ]
    };
    store.transact(signup("alice")).await.expect("first claim");
    assert_eq!(store.transact(signup("bob")).await, Err(unnamed(&[1])));
    assert_eq!(get(&store, &Key::new(&users, "bob")).await, None);
    let owner = get(&store, &Key::new(&claim, "claim"))
        .await
        .expect("claim item");
    assert_eq!(owner.get("owner"), Some(&json!("alice")));
}

// ---------------------------------------------------------------- concurrency

/// 64 concurrent conditional decrements of a counter at 40: exactly 40
/// succeed and it never goes below 0.
pub async fn concurrent_conditional_decrements(store: Arc<dyn Store>) {
    let pk = unique("counter");
    let key = Key::new(&pk, "counter");
    store
        .put(obj(json!({"PK": pk, "SK": "counter", "n": 40})), None)
        .await
        .expect("put");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (store, key) = (Arc::clone(&store), key.clone());
        tasks.spawn(async move {
            store
                .update(&key, &[Update::add("n", -1)], Some(Condition::ge("n", 1)))
                .await
        });
    }
    let (mut ok, mut failed) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        match result.expect("task") {
            Ok(item) => {
                let n = item.get("n").and_then(Value::as_i64).expect("n");
                assert!((0..40).contains(&n), "returned n {n}");
                ok += 1;
            }
            Err(StoreError::ConditionFailed) => failed += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!((ok, failed), (40, 24));
    assert_eq!(
        get(&store, &key).await.and_then(|i| i.get("n").cloned()),
        Some(json!(0))
    );
}

/// The cancellation of unnamed ops at `indexes`.
fn unnamed(indexes: &[usize]) -> StoreError {
    StoreError::TransactionCanceled {
        failed: indexes
            .iter()
            .map(|&index| FailedOp { index, name: None })
            .collect(),
    }
}

/// A canceled transaction reports the failed ops by the names they were
/// given (several ops may share one; an op built from data may carry it),
/// and only those: passing conditions and unconditional ops are not named.
pub async fn transaction_names_failed_conditions(store: Arc<dyn Store>) {
    let f = tx_fixture(&store, "tx-named").await;
    let ops = |upd_n: i64, del_v: i64| {
        vec![
            TxOp::put(f.new_item()).named("unconditional"),
            TxOp::update(f.key("upd"), vec![Update::add("n", 1)])
                .when(Condition::eq("n", upd_n))
                .named("counter"),
            TxOp::check(f.key("chk"), Condition::eq("status", "open")).named("open"),
            TxOp::delete(f.key("del"))
                .when(Condition::eq("v", del_v))
                .named(format!("line-{del_v}")),
            TxOp::check(f.key("no-such-item"), Condition::NotExists).named("absent"),
        ]
    };
    let e = store
        .transact(ops(7, 7))
        .await
        .expect_err("two conditions fail");
    f.assert_untouched(&store, "named ops failed").await;
    assert_eq!(
        e,
        StoreError::TransactionCanceled {
            failed: vec![
                FailedOp {
                    index: 1,
                    name: Some("counter".into())
                },
                FailedOp {
                    index: 3,
                    name: Some("line-7".into())
                },
            ]
        }
    );
    assert!(e.failed_on("counter") && e.failed_on("line-7"));
    assert!(!e.failed_on("open") && !e.failed_on("absent") && !e.failed_on("unconditional"));
    assert_eq!(e.failed_names().collect::<Vec<_>>(), ["counter", "line-7"]);

    let e = store
        .transact(ops(1, 7))
        .await
        .expect_err("one condition fails");
    assert_eq!(e.failed_names().collect::<Vec<_>>(), ["line-7"]);
    f.assert_untouched(&store, "a named op failed").await;
}

/// 32 concurrent transactions claim one uniqueness key: exactly one wins,
/// its value is stored, and no loser's other write landed.
pub async fn concurrent_unique_claims(store: Arc<dyn Store>) {
    let claim = unique("race-claim");
    let users = unique("race-users");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..32 {
        let (store, claim, users) = (Arc::clone(&store), claim.clone(), users.clone());
        tasks.spawn(async move {
            let ops = vec![
                TxOp::put(obj(json!({"PK": claim, "SK": "claim", "owner": i})))
                    .when(Condition::NotExists),
                TxOp::put(obj(json!({"PK": users, "SK": format!("{i:02}")})))
                    .when(Condition::NotExists),
            ];
            (i, store.transact(ops).await)
        });
    }
    let mut winners = Vec::new();
    while let Some(result) = tasks.join_next().await {
        match result.expect("task") {
            (i, Ok(())) => winners.push(i),
            (_, Err(e @ StoreError::TransactionCanceled { .. })) => assert_eq!(e, unnamed(&[0])),
            (_, Err(StoreError::Contention)) => {}
            (_, Err(e)) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one claim wins: {winners:?}");
    let winner = winners[0];
    let stored = get(&store, &Key::new(&claim, "claim"))
        .await
        .expect("claim");
    assert_eq!(stored.get("owner"), Some(&json!(winner)));
    let page = page(&store, &Query::new(Index::Table, &users).limit(100)).await;
    assert_eq!(
        sort_keys(&page.items),
        vec![format!("{winner:02}")],
        "only the winner's own item"
    );
}

// ---------------------------------------------------------------- limits

/// Items over [`MAX_ITEM_BYTES`] are refused, by put, update and
/// transaction alike.
pub async fn item_size_limit(store: Arc<dyn Store>) {
    let pk = unique("size");
    let big = obj(json!({"PK": pk, "SK": "big", "blob": "x".repeat(MAX_ITEM_BYTES + 1024)}));
    assert_invalid(store.put(big.clone(), None).await, "oversized put");
    assert_eq!(get(&store, &Key::new(&pk, "big")).await, None);
    assert_invalid(
        store.transact(vec![TxOp::put(big)]).await,
        "oversized transaction put",
    );
    assert_eq!(get(&store, &Key::new(&pk, "big")).await, None);

    let fits = obj(json!({"PK": pk, "SK": "fits", "blob": "x".repeat(300 * 1024)}));
    store
        .put(fits.clone(), None)
        .await
        .expect("a 300 KiB item fits");
    let grow = [Update::set("more", "y".repeat(200 * 1024))];
    assert_invalid(
        store.update(&Key::new(&pk, "fits"), &grow, None).await,
        "update past the limit",
    );
    assert_eq!(
        get(&store, &Key::new(&pk, "fits")).await,
        Some(fits),
        "the refused update changed nothing"
    );
}

/// Bad queries are refused: limits outside 1..=1000, an empty partition,
/// a reversed range, a position from elsewhere.
pub async fn query_validation(store: Arc<dyn Store>) {
    let pk = unique("query-validation");
    store
        .put(
            obj(json!({"PK": pk, "SK": "a", "GSI1PK": pk, "GSI1SK": "a"})),
            None,
        )
        .await
        .expect("put");
    for limit in [0, 1001] {
        assert_invalid(
            store
                .query(&Query::new(Index::Table, &pk).limit(limit))
                .await,
            &format!("limit {limit}"),
        );
    }
    let page = page(&store, &Query::new(Index::Table, &pk).limit(1000)).await;
    assert_eq!(page.items.len(), 1, "limit 1000 is fine");
    assert_invalid(
        store.query(&Query::new(Index::Table, "")).await,
        "empty partition key",
    );
    let reversed_range =
        Query::new(Index::Table, &pk).sk(SkCondition::Between("b".into(), "a".into()));
    assert_invalid(
        store.query(&reversed_range).await,
        "Between with low > high",
    );

    let elsewhere = Position::after(Index::Table, &Key::new(unique("elsewhere"), "a").to_item())
        .expect("position");
    assert_invalid(
        store
            .query(&Query::new(Index::Table, &pk).after(Some(elsewhere)))
            .await,
        "position elsewhere",
    );
    let table_only =
        Position::after(Index::Table, &Key::new(&pk, "a").to_item()).expect("position");
    assert_invalid(
        store
            .query(&Query::new(Index::Gsi1, &pk).after(Some(table_only)))
            .await,
        "table position on GSI1",
    );
}
