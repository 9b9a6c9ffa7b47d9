//! Behaviour specific to the DynamoDB adapter, against moto: what it must
//! do beyond one request (filling filtered pages, chunking batch reads,
//! reading cancellation reasons) and how it refuses requests before calling
//! AWS. Each test uses its own partition keys on the shared test table.

use lite_dynamo::testing::test_dynamo_store;
use lite_store::{
    Condition, FailedOp, Index, Item, Key, Query, SkCondition, Store, StoreError, TxOp, Update,
};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU32, Ordering};

fn item(v: Value) -> Item {
    v.as_object().expect("an object").clone()
}

/// A partition key no other test (or earlier run) uses.
fn pk(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{name}#{}#{nanos}#{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn sks(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i["SK"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selective_filter_still_fills_pages() {
    let store = test_dynamo_store().await;
    let p = pk("filter");
    // 60 items, every tenth one matches.
    for i in 0..60 {
        store
            .put(
                item(json!({"PK": p, "SK": format!("{i:03}"), "hit": i % 10 == 0})),
                None,
            )
            .await
            .unwrap();
    }
    let query = Query::new(Index::Table, &p)
        .limit(4)
        .filter(Condition::eq("hit", true));
    let first = store.query(&query).await.unwrap();
    assert_eq!(sks(&first.items), ["000", "010", "020", "030"]);
    let next = first.next.expect("two more items match");
    let second = store.query(&query.clone().after(Some(next))).await.unwrap();
    assert_eq!(sks(&second.items), ["040", "050"]);
    assert_eq!(second.next, None, "nothing after the last match");

    // Exactly `limit` matches: no next page, though items follow them.
    let exact = store
        .query(
            &Query::new(Index::Table, &p)
                .limit(6)
                .filter(Condition::eq("hit", true)),
        )
        .await
        .unwrap();
    assert_eq!(exact.items.len(), 6);
    assert_eq!(exact.next, None);

    // A filter on a key attribute (DynamoDB refuses those in a
    // FilterExpression) gives the same pages.
    let by_key = Query::new(Index::Table, &p)
        .limit(2)
        .backward()
        .filter(Condition::ge("SK", "055"));
    let page = store.query(&by_key).await.unwrap();
    assert_eq!(sks(&page.items), ["059", "058"]);
    let page = store.query(&by_key.clone().after(page.next)).await.unwrap();
    assert_eq!(sks(&page.items), ["057", "056"]);
    let page = store.query(&by_key.clone().after(page.next)).await.unwrap();
    assert_eq!(sks(&page.items), ["055"]);
    assert_eq!(page.next, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfiltered_pages_know_when_more_exist() {
    let store = test_dynamo_store().await;
    let p = pk("pages");
    for i in 0..7 {
        store
            .put(item(json!({"PK": p, "SK": format!("s{i}")})), None)
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .query(&Query::new(Index::Table, &p).limit(3).after(after))
            .await
            .unwrap();
        seen.extend(sks(&page.items).into_iter().map(str::to_owned));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ["s0", "s1", "s2", "s3", "s4", "s5", "s6"]);
    let all = store
        .query(&Query::new(Index::Table, &p).limit(7))
        .await
        .unwrap();
    assert_eq!((all.items.len(), all.next), (7, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gsi_queries_order_ties_by_table_key_and_resume() {
    let store = test_dynamo_store().await;
    let g = pk("gsi");
    for (p, s, gsk) in [
        ("b", "1", "x"),
        ("a", "2", "x"),
        ("a", "1", "x"),
        ("c", "1", "w"),
        ("c", "2", "y"),
    ] {
        let table_pk = format!("{g}-{p}");
        store
            .put(
                item(json!({"PK": table_pk, "SK": s, "GSI2PK": g, "GSI2SK": gsk})),
                None,
            )
            .await
            .unwrap();
    }
    let keys = |items: &[Item]| -> Vec<String> {
        items
            .iter()
            .map(|i| {
                format!(
                    "{}/{}",
                    i["PK"].as_str().unwrap().rsplit('-').next().unwrap(),
                    i["SK"].as_str().unwrap()
                )
            })
            .collect()
    };
    let q = Query::new(Index::Gsi2, &g).limit(2);
    let p1 = store.query(&q).await.unwrap();
    assert_eq!(keys(&p1.items), ["c/1", "a/1"]);
    let p2 = store.query(&q.clone().after(p1.next)).await.unwrap();
    assert_eq!(keys(&p2.items), ["a/2", "b/1"]);
    let p3 = store.query(&q.clone().after(p2.next)).await.unwrap();
    assert_eq!((keys(&p3.items), p3.next), (vec!["c/2".to_string()], None));

    let back = store
        .query(
            &Query::new(Index::Gsi2, &g)
                .backward()
                .sk(SkCondition::Eq("x".into())),
        )
        .await
        .unwrap();
    assert_eq!(keys(&back.items), ["b/1", "a/2", "a/1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_key_conditions_dynamodb_would_refuse_are_answered() {
    let store = test_dynamo_store().await;
    let p = pk("skcond");
    for s in ["a", "b", "c"] {
        store
            .put(item(json!({"PK": p, "SK": s})), None)
            .await
            .unwrap();
    }
    let run = |sk: SkCondition| {
        let store = store.clone();
        let p = p.clone();
        async move {
            sks(&store
                .query(&Query::new(Index::Table, p).sk(sk))
                .await
                .unwrap()
                .items)
            .join("")
        }
    };
    assert_eq!(run(SkCondition::BeginsWith(String::new())).await, "abc");
    let reversed = Query::new(Index::Table, &p).sk(SkCondition::Between("c".into(), "a".into()));
    assert!(matches!(
        store.query(&reversed).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        run(SkCondition::Between(String::new(), "b".into())).await,
        "ab"
    );
    assert_eq!(run(SkCondition::Lt(String::new())).await, "");
    assert_eq!(
        run(SkCondition::Between("b".into(), "c".into())).await,
        "bc"
    );
    assert_eq!(run(SkCondition::Gt("a".into())).await, "bc");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_cancellation_names_the_failing_ops() {
    let store = test_dynamo_store().await;
    let p = pk("tx");
    store
        .put(item(json!({"PK": p, "SK": "existing", "n": 1})), None)
        .await
        .unwrap();
    store
        .put(
            item(json!({"PK": p, "SK": "guarded", "state": "open"})),
            None,
        )
        .await
        .unwrap();
    let ops = vec![
        TxOp::put(item(json!({"PK": p, "SK": "new"})))
            .when(Condition::NotExists)
            .named("new"),
        TxOp::check(Key::new(&p, "existing"), Condition::NotExists).named("existing"),
        TxOp::update(Key::new(&p, "counter"), vec![Update::add("n", 1)]),
        TxOp::delete(Key::new(&p, "guarded")).when(Condition::eq("state", "closed")),
    ];
    let err = store.transact(ops).await.unwrap_err();
    assert_eq!(
        err,
        StoreError::TransactionCanceled {
            failed: vec![
                FailedOp {
                    index: 1,
                    name: Some("existing".into())
                },
                FailedOp {
                    index: 3,
                    name: None
                },
            ]
        }
    );
    assert_eq!(err.failed_names().collect::<Vec<_>>(), ["existing"]);
    assert_eq!(
        store.get(&Key::new(&p, "new")).await.unwrap(),
        None,
        "nothing written"
    );
    assert_eq!(
        store.get(&Key::new(&p, "counter")).await.unwrap(),
        None,
        "nothing written"
    );
    assert!(
        store.get(&Key::new(&p, "guarded")).await.unwrap().is_some(),
        "nothing deleted"
    );

    // The same ops with conditions that hold apply together, including an
    // update that only removes (it creates a key-only item).
    let ops = vec![
        TxOp::put(item(json!({"PK": p, "SK": "new"}))).when(Condition::NotExists),
        TxOp::check(Key::new(&p, "existing"), Condition::Exists),
        TxOp::update(Key::new(&p, "counter"), vec![Update::add("n", 1)]),
        TxOp::delete(Key::new(&p, "guarded")).when(Condition::eq("state", "open")),
        TxOp::update(Key::new(&p, "bare"), vec![Update::remove("nothing")])
            .when(Condition::NotExists),
    ];
    store.transact(ops).await.unwrap();
    assert_eq!(
        store.get(&Key::new(&p, "counter")).await.unwrap().unwrap()["n"],
        json!(1)
    );
    assert_eq!(store.get(&Key::new(&p, "guarded")).await.unwrap(), None);
    assert_eq!(
        store.get(&Key::new(&p, "bare")).await.unwrap(),
        Some(Key::new(&p, "bare").to_item())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_transactions_are_refused_before_sending() {
    let store = test_dynamo_store().await;
    let p = pk("txinvalid");
    let puts = |n: usize| {
        (0..n)
            .map(|i| TxOp::put(item(json!({"PK": p, "SK": i.to_string()}))))
            .collect::<Vec<_>>()
    };
    assert!(matches!(
        store.transact(puts(101)).await,
        Err(StoreError::Invalid(_))
    ));
    let twice = vec![
        TxOp::put(item(json!({"PK": p, "SK": "a"}))),
        TxOp::delete(Key::new(&p, "a")),
    ];
    assert!(matches!(
        store.transact(twice).await,
        Err(StoreError::Invalid(_))
    ));
    let key_update = vec![TxOp::update(
        Key::new(&p, "a"),
        vec![Update::set("SK", "b")],
    )];
    assert!(matches!(
        store.transact(key_update).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        store
            .query(&Query::new(Index::Table, &p))
            .await
            .unwrap()
            .items
            .len(),
        0
    );
    store.transact(puts(100)).await.unwrap();
    assert_eq!(
        store
            .query(&Query::new(Index::Table, &p).limit(1000))
            .await
            .unwrap()
            .items
            .len(),
        100
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_get_chunks_dedupes_and_keeps_order() {
    let store = test_dynamo_store().await;
    let p = pk("batch");
    let items: Vec<TxOp> = (0..100)
        .map(|i| TxOp::put(item(json!({"PK": p, "SK": format!("{i:03}"), "i": i}))))
        .collect();
    store.transact(items).await.unwrap();
    let more: Vec<TxOp> = (100..150)
        .map(|i| TxOp::put(item(json!({"PK": p, "SK": format!("{i:03}"), "i": i}))))
        .collect();
    store.transact(more).await.unwrap();
    // 250 keys: every stored key backwards, a missing key, and duplicates.
    let mut keys: Vec<Key> = (0..150)
        .rev()
        .map(|i| Key::new(&p, format!("{i:03}")))
        .collect();
    keys.insert(10, Key::new(&p, "missing"));
    keys.extend((0..99).map(|i| Key::new(&p, format!("{:03}", i % 3))));
    let got = store.batch_get(&keys).await.unwrap();
    assert_eq!(got.len(), keys.len());
    for (key, found) in keys.iter().zip(&got) {
        match found {
            Some(found) => assert_eq!(found["SK"].as_str().unwrap(), key.sk),
            None => assert_eq!(key.sk, "missing"),
        }
    }
    assert_eq!(got.iter().filter(|g| g.is_none()).count(), 1);
    assert_eq!(
        store.batch_get(&[]).await.unwrap(),
        Vec::<Option<Item>>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_conditions_and_updates() {
    let store = test_dynamo_store().await;
    let p = pk("crud");
    let key = Key::new(&p, "item");
    let original = item(json!({
        "PK": p, "SK": "item", "empty": "", "n": 3, "f": 2.5, "big": i64::MAX, "yes": true, "nothing": null,
        "list": [1, "two", [3]], "map": {"a": {"b": [null, false]}}, "odd name.with-dots": "x",
    }));
    store
        .put(original.clone(), Some(Condition::NotExists))
        .await
        .unwrap();
    assert_eq!(
        store.get(&key).await.unwrap(),
        Some(original.clone()),
        "every JSON type survives"
    );
    assert_eq!(
        store
            .put(original.clone(), Some(Condition::NotExists))
            .await,
        Err(StoreError::ConditionFailed)
    );

    let cases = [
        (Condition::ne("missing", 1), true),
        (Condition::eq("missing", 1), false),
        (Condition::eq("n", "3"), false),
        (Condition::ne("n", "3"), true),
        (Condition::lt("yes", true), false),
        (Condition::eq("yes", true), true),
        (Condition::eq("nothing", Value::Null), true),
        (Condition::eq("list", json!([1, "two", [3]])), true),
        (Condition::ge("f", 2.5).and(Condition::lt("n", 4)), true),
        (Condition::eq("odd name.with-dots", "x"), true),
        (Condition::And(vec![]), true),
        (Condition::Or(vec![]), false),
        (
            Condition::AttrExists("empty".into())
                .and(Condition::AttrNotExists("gone".into()).not()),
            false,
        ),
    ];
    for (condition, holds) in cases {
        let result = store
            .update(
                &key,
                &[Update::set("touched", true)],
                Some(condition.clone()),
            )
            .await;
        assert_eq!(result.is_ok(), holds, "{condition:?}: {result:?}");
        if !holds {
            assert_eq!(result, Err(StoreError::ConditionFailed));
        }
    }

    let updated = store
        .update(
            &key,
            &[
                Update::set("n", 10),
                Update::add("count", 2),
                Update::remove("f"),
                Update::set_if_absent("yes", false),
                Update::set_if_absent("new", "v"),
            ],
            Some(Condition::Exists),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            &updated["n"],
            &updated["count"],
            &updated["yes"],
            &updated["new"]
        ),
        (&json!(10), &json!(2), &json!(true), &json!("v"))
    );
    assert!(!updated.contains_key("f"));
    assert_eq!(store.get(&key).await.unwrap(), Some(updated.clone()));

    assert!(
        matches!(
            store.update(&key, &[Update::add("empty", 1)], None).await,
            Err(StoreError::Invalid(_))
        ),
        "ADD on a string"
    );
    assert!(matches!(
        store.update(&key, &[Update::set("PK", "x")], None).await,
        Err(StoreError::Invalid(_))
    ));

    // An update with no actions is refused; one that only removes creates
    // a key-only item, which comes back as just its key.
    assert!(matches!(
        store.update(&key, &[], None).await,
        Err(StoreError::Invalid(_))
    ));
    let bare = Key::new(&p, "bare");
    let created = store
        .update(&bare, &[Update::remove("nothing")], None)
        .await;
    assert_eq!(created.unwrap(), bare.to_item());
    assert_eq!(store.get(&bare).await.unwrap(), Some(bare.to_item()));

    assert_eq!(
        store.delete(&key, Some(Condition::eq("n", 11))).await,
        Err(StoreError::ConditionFailed)
    );
    assert_eq!(
        store
            .delete(&key, Some(Condition::eq("n", 10)))
            .await
            .unwrap(),
        Some(updated)
    );
    assert_eq!(store.delete(&key, None).await.unwrap(), None);
    assert_eq!(store.get(&key).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_keyless_items_are_invalid() {
    let store = test_dynamo_store().await;
    let p = pk("size");
    let big = item(json!({"PK": p, "SK": "big", "blob": "x".repeat(lite_store::MAX_ITEM_BYTES)}));
    assert!(matches!(
        store.put(big, None).await,
        Err(StoreError::Invalid(_))
    ));
    // moto refuses items over 405,000 bytes by its own count, DynamoDB over
    // 409,600 (400 KiB): stay below both.
    let fits = item(json!({"PK": p, "SK": "fits", "blob": "x".repeat(400_000)}));
    store.put(fits, None).await.unwrap();
    assert!(matches!(
        store.put(item(json!({"PK": p})), None).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.put(item(json!({"PK": p, "SK": ""})), None).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.get(&Key::new("", "x")).await,
        Err(StoreError::Invalid(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_endpoint_is_unavailable() {
    let client = lite_dynamo::testing::client("http://127.0.0.1:9");
    let store = lite_dynamo::DynamoStore::new(client, "nowhere");
    match store.get(&Key::new("a", "b")).await {
        Err(StoreError::Unavailable(message)) => assert!(!message.is_empty()),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}
