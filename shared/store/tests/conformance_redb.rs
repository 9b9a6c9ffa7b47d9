//! The conformance suite on the redb adapter: in memory, and on a file.

use async_trait::async_trait;
use lite_store::redb_store::RedbStore;
use lite_store::{
    Condition, Index, Item, Key, Page, Query, SkCondition, Store, StoreError, TxOp, Update,
};
use serde_json::json;
use std::sync::Arc;
use tempfile::TempDir;

mod in_memory {
    use super::*;

    lite_store::conformance_tests!(|| async {
        Arc::new(RedbStore::in_memory().unwrap()) as Arc<dyn Store>
    });
}

mod on_file {
    use super::*;

    lite_store::conformance_tests!(|| async { Arc::new(FileStore::new()) as Arc<dyn Store> });
}

/// A redb store on a file in its own temporary directory, removed when the
/// store is dropped.
struct FileStore {
    store: RedbStore,
    _dir: TempDir,
}

impl FileStore {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(&dir.path().join("store.redb")).unwrap();
        Self { store, _dir: dir }
    }
}

#[async_trait]
impl Store for FileStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.store.get(key).await
    }
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.store.batch_get(keys).await
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.store.query(query).await
    }
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        self.store.put(item, condition).await
    }
    async fn update(
        &self,
        key: &Key,
        updates: &[Update],
        condition: Option<Condition>,
    ) -> Result<Item, StoreError> {
        self.store.update(key, updates, condition).await
    }
    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError> {
        self.store.delete(key, condition).await
    }
    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        self.store.transact(ops).await
    }
}

fn obj(value: serde_json::Value) -> Item {
    value.as_object().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_store_survives_closing_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    // A directory that does not exist yet is created.
    let path = dir.path().join("data").join("store.redb");
    {
        let store = RedbStore::open(&path).unwrap();
        store
            .put(
                obj(json!({"PK": "p", "SK": "1", "GSI1PK": "g", "GSI1SK": "b", "v": 1})),
                None,
            )
            .await
            .unwrap();
        store
            .put(
                obj(json!({"PK": "p", "SK": "2", "GSI1PK": "g", "GSI1SK": "a"})),
                None,
            )
            .await
            .unwrap();
        store
            .update(&Key::new("p", "1"), &[Update::add("v", 41)], None)
            .await
            .unwrap();
        store
            .transact(vec![
                TxOp::put(obj(json!({"PK": "p", "SK": "3"}))).when(Condition::NotExists),
                TxOp::delete(Key::new("p", "2")),
            ])
            .await
            .unwrap();
        // While it is open, nobody else may open the file: an error, not a panic.
        assert!(matches!(
            RedbStore::open(&path),
            Err(StoreError::Unavailable(_))
        ));
    }
    let store = RedbStore::open(&path).unwrap();
    assert_eq!(
        store.get(&Key::new("p", "1")).await.unwrap(),
        Some(obj(
            json!({"PK": "p", "SK": "1", "GSI1PK": "g", "GSI1SK": "b", "v": 42})
        ))
    );
    assert_eq!(store.get(&Key::new("p", "2")).await.unwrap(), None);
    let table = store.query(&Query::new(Index::Table, "p")).await.unwrap();
    assert_eq!(
        table
            .items
            .iter()
            .map(|i| i["SK"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["1", "3"]
    );
    let index = store
        .query(&Query::new(Index::Gsi1, "g").sk(SkCondition::BeginsWith(String::new())))
        .await
        .unwrap();
    assert_eq!(index.items.len(), 1, "the deleted item left the index too");
    assert_eq!(index.items[0]["SK"], json!("1"));
    // And it keeps working after the reopen.
    store
        .put(
            obj(json!({"PK": "p", "SK": "4"})),
            Some(Condition::NotExists),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .put(
                obj(json!({"PK": "p", "SK": "3"})),
                Some(Condition::NotExists)
            )
            .await,
        Err(StoreError::ConditionFailed)
    );
}
