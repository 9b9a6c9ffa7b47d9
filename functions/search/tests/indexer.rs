//! The `search-indexer` consumer, the rebuild from the catalog and the
//! persisted index.

mod common;

use chrono::{Duration, Utc};
use lite_core::{Currency, Money, Sku, SystemClock, SystemIds};
use lite_events::contracts::{
    ProductCreatedV1, ProductDeletedV1, ProductSnapshot, ProductUpdatedV1, RatingSummary,
};
use lite_events::{Envelope, Handler, HandlerError};
use lite_store::redb_store::RedbStore;
use lite_store::Store;
use search::index::{Change, Outcome, SearchError, SearchIndex, SearchQuery, SearchResults};
use search::{SearchIndexer, TantivyIndex};
use std::sync::Arc;

const P1: &str = "prd_01JAAAAAAAAAAAAAAAAAAAAAAA";

fn snapshot(name: &str, updated_minutes: i64) -> ProductSnapshot {
    let created = "2024-05-01T00:00:00Z"
        .parse::<chrono::DateTime<Utc>>()
        .unwrap();
    ProductSnapshot {
        id: P1.into(),
        sku: Sku::parse("LAMP-1").unwrap(),
        name: name.into(),
        description: "A reading lamp".into(),
        category: "furniture".into(),
        brand: "Lumen".into(),
        price: Money::new(4999, Currency::parse("USD").unwrap()),
        images: vec!["https://img.example.com/lamp.jpg".into()],
        attributes: Default::default(),
        rating: RatingSummary {
            average: 0.0,
            count: 0,
        },
        created_at: created,
        updated_at: created + Duration::minutes(updated_minutes),
    }
}

fn envelope<C: lite_events::contracts::Contract>(data: &C) -> Envelope {
    Envelope::of(
        &SystemIds::default(),
        lite_core::Clock::now(&SystemClock),
        "corr",
        data,
    )
}

/// A store on redb in memory, for the tombstones.
fn store() -> Arc<dyn Store> {
    Arc::new(RedbStore::in_memory().unwrap())
}

async fn names(index: &TantivyIndex, q: &str) -> Vec<String> {
    index
        .search(&common::query(q))
        .await
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.name)
        .collect()
}

#[tokio::test]
async fn consumer_follows_the_catalog() {
    let index = Arc::new(TantivyIndex::in_memory().unwrap());
    let indexer = SearchIndexer::new(index.clone(), store());
    assert_eq!(indexer.name(), "search-indexer");
    assert_eq!(
        indexer.detail_types(),
        [
            "product.created.v1",
            "product.updated.v1",
            "product.deleted.v1",
        ]
    );

    indexer
        .handle(&envelope(&ProductCreatedV1 {
            product: snapshot("Brass Desk Lamp", 0),
        }))
        .await
        .unwrap();
    assert_eq!(names(&index, "lamp").await, ["Brass Desk Lamp"]);
    let doc = index.get(P1).await.unwrap().unwrap();
    assert_eq!(
        doc.image.as_deref(),
        Some("https://img.example.com/lamp.jpg")
    );
    assert_eq!((doc.price_amount, doc.currency.as_str()), (4999, "USD"));

    indexer
        .handle(&envelope(&ProductUpdatedV1 {
            product: snapshot("Brass Floor Lamp", 5),
        }))
        .await
        .unwrap();
    assert_eq!(names(&index, "lamp").await, ["Brass Floor Lamp"]);
    assert!(names(&index, "desk").await.is_empty());

    // A late, older update (redelivery, out of order) changes nothing.
    indexer
        .handle(&envelope(&ProductUpdatedV1 {
            product: snapshot("Old Name Lamp", 2),
        }))
        .await
        .unwrap();
    assert_eq!(names(&index, "lamp").await, ["Brass Floor Lamp"]);
    // The same update again is harmless.
    indexer
        .handle(&envelope(&ProductUpdatedV1 {
            product: snapshot("Brass Floor Lamp", 5),
        }))
        .await
        .unwrap();
    assert_eq!(index.count().await.unwrap(), 1);

    // A new rating comes with the product, as the catalog records it.
    let mut rated = snapshot("Brass Floor Lamp", 6);
    rated.rating = RatingSummary {
        average: 4.5,
        count: 2,
    };
    indexer
        .handle(&envelope(&ProductUpdatedV1 { product: rated }))
        .await
        .unwrap();
    let doc = index.get(P1).await.unwrap().unwrap();
    assert_eq!((doc.rating_average, doc.rating_count), (4.5, 2));
    assert_eq!(doc.name, "Brass Floor Lamp");

    indexer
        .handle(&envelope(&ProductDeletedV1 {
            id: P1.into(),
            sku: Sku::parse("LAMP-1").unwrap(),
        }))
        .await
        .unwrap();
    assert!(names(&index, "lamp").await.is_empty());
    assert!(index.get(P1).await.unwrap().is_none());
}

#[tokio::test]
async fn malformed_events_are_poison() {
    let indexer = SearchIndexer::new(Arc::new(TantivyIndex::in_memory().unwrap()), store());
    let bad = Envelope::new(
        &SystemIds::default(),
        "product.created",
        1,
        "catalog",
        lite_core::Clock::now(&SystemClock),
        "corr",
        serde_json::json!({"product": {"id": 5}}),
    );
    assert!(matches!(
        indexer.handle(&bad).await,
        Err(HandlerError::Poison(_))
    ));
}

#[tokio::test]
async fn rebuild_indexes_every_catalog_product_once() {
    let ctx = lite_ports::testing::memory_context();
    for mut p in common::demo_raw().into_iter().take(120) {
        // Stock belongs to inventory, not to a product input.
        p.as_object_mut().unwrap().remove("stock");
        let input: catalog::ProductInput = serde_json::from_value(p).unwrap();
        catalog::create(&ctx, catalog::NewProduct::parse(input).unwrap())
            .await
            .unwrap();
    }
    let index = TantivyIndex::in_memory().unwrap();
    let n = search::rebuild_if_empty(&index, ctx.store.as_ref())
        .await
        .unwrap();
    assert_eq!(n, 120);
    assert_eq!(index.count().await.unwrap(), 120);
    assert!(!names(&index, "labtop").await.is_empty());
    // Not empty any more: left alone.
    assert_eq!(
        search::rebuild_if_empty(&index, ctx.store.as_ref())
            .await
            .unwrap(),
        0
    );
    assert_eq!(index.count().await.unwrap(), 120);
}

#[tokio::test]
async fn the_index_persists_in_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("search");
    {
        let index = TantivyIndex::open(&path).unwrap();
        index.upsert(common::demo()).await.unwrap();
        assert_eq!(index.count().await.unwrap(), 242);
    }
    let index = TantivyIndex::open(&path).unwrap();
    assert_eq!(index.count().await.unwrap(), 242);
    assert!(names(&index, "labtop")
        .await
        .iter()
        .any(|n| n.contains("Laptop")));
    assert_eq!(index.suggest("lap", 1).await.unwrap(), ["laptop"]);
}

#[tokio::test]
async fn a_product_indexed_as_it_is_is_not_written_again() {
    let index = Arc::new(common::engine::Probe::new());
    let writes = || index.writes();
    let indexer = SearchIndexer::new(index.clone(), store());
    // What a rebuild from the catalog wrote before the product's event came.
    index
        .upsert(vec![search::index::SearchDoc::from(&snapshot(
            "Brass Desk Lamp",
            0,
        ))])
        .await
        .unwrap();
    let created = envelope(&ProductCreatedV1 {
        product: snapshot("Brass Desk Lamp", 0),
    });
    indexer.handle(&created).await.unwrap();
    indexer.handle(&created).await.unwrap();
    assert_eq!(writes(), 1, "the same document is not written again");
    // The same moment with other content (two updates in one millisecond)
    // is written, and so is a newer version.
    for (minutes, written) in [(0, 2), (1, 3)] {
        let updated = envelope(&ProductUpdatedV1 {
            product: snapshot("Brass Desk Lamp, Green", minutes),
        });
        indexer.handle(&updated).await.unwrap();
        assert_eq!(writes(), written, "updated at +{minutes} min");
    }
    assert_eq!(
        index.get(P1).await.unwrap().unwrap().name,
        "Brass Desk Lamp, Green"
    );
}

/// `snapshot(name, minutes)` as a document of product `n`.
fn doc(n: usize, name: &str, minutes: i64) -> search::index::SearchDoc {
    let mut doc = search::index::SearchDoc::from(&snapshot(name, minutes));
    doc.id = format!("prd_01JAAAAAAAAAAAAAAAAAAAA{n:03}");
    doc.sku = format!("LAMP-{n}");
    doc
}

/// The indexed name of product `n` (see [`doc`]).
async fn name_of(index: &TantivyIndex, n: usize) -> String {
    index.get(&doc(n, "", 0).id).await.unwrap().unwrap().name
}

/// Applies `changes` from tasks of their own, all started before any is
/// awaited, and returns their outcomes in the same order.
async fn at_once(index: &TantivyIndex, changes: Vec<Change>) -> Vec<Outcome> {
    let tasks: Vec<_> = changes
        .into_iter()
        .map(|change| {
            let index = index.clone();
            tokio::spawn(async move { index.apply(change).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap().unwrap());
    }
    outcomes
}

#[tokio::test]
async fn changes_that_arrive_together_are_committed_together() {
    let dir = tempfile::tempdir().unwrap();
    let index = TantivyIndex::open(dir.path()).unwrap();
    let before = index.commits();
    let outcomes = at_once(
        &index,
        (0..50)
            .map(|n| Change::Put(doc(n, &format!("Lamp {n}"), 0)))
            .collect(),
    )
    .await;
    assert!(
        outcomes.iter().all(|o| *o == Outcome::Written),
        "{outcomes:?}"
    );
    assert_eq!(index.count().await.unwrap(), 50);
    // One commit per change would be 50; the changes queue behind the
    // first commit and go in one or a few more.
    let commits = index.commits() - before;
    assert!(commits <= 10, "{commits} commits for 50 changes");
    // The documents are as written, and on disk: a reopened index has them.
    drop(index);
    let reopened = TantivyIndex::open(dir.path()).unwrap();
    assert_eq!(reopened.count().await.unwrap(), 50);
    assert_eq!(name_of(&reopened, 7).await, "Lamp 7");
}

#[tokio::test]
async fn changes_committed_together_are_decided_in_the_order_they_came() {
    let index = TantivyIndex::in_memory().unwrap();
    let id = doc(1, "", 0).id;
    // Versions arriving newest first: only the first is written; the
    // older ones are stale against it even before it is committed.
    let mut versions: Vec<Change> = (0..10)
        .rev()
        .map(|minutes| Change::Put(doc(1, &format!("Lamp v{minutes}"), minutes)))
        .collect();
    // The same document again, the same moment with a new rating (two
    // writes in one millisecond), and a delete of a product not indexed.
    versions.push(Change::Put(doc(1, "Lamp v9", 9)));
    let mut rated = doc(1, "Lamp v9", 9);
    (rated.rating_average, rated.rating_count) = (4.5, 2);
    versions.push(Change::Put(rated.clone()));
    versions.push(Change::Put(rated));
    versions.push(Change::Delete(doc(3, "", 0).id));
    let outcomes = at_once(&index, versions).await;
    let mut expected = vec![Outcome::Written];
    expected.extend([Outcome::Stale; 9]);
    expected.extend([
        Outcome::Unchanged,
        Outcome::Written,
        Outcome::Unchanged,
        Outcome::Removed,
    ]);
    assert_eq!(outcomes, expected);
    let held = index.get(&id).await.unwrap().unwrap();
    assert_eq!(held.name, "Lamp v9");
    assert_eq!((held.rating_average, held.rating_count), (4.5, 2));
    assert_eq!(index.count().await.unwrap(), 1);
    // A put, a delete and a put again of one product, together: the last
    // one stands.
    let outcomes = at_once(
        &index,
        vec![
            Change::Put(doc(4, "Desk", 0)),
            Change::Delete(doc(4, "", 0).id),
            Change::Put(doc(4, "Desk, again", 1)),
        ],
    )
    .await;
    assert_eq!(
        outcomes,
        [Outcome::Written, Outcome::Removed, Outcome::Written]
    );
    assert_eq!(name_of(&index, 4).await, "Desk, again");
}

#[tokio::test]
async fn the_indexer_handles_a_burst_of_products_in_few_commits() {
    let dir = tempfile::tempdir().unwrap();
    let index = TantivyIndex::open(dir.path()).unwrap();
    let indexer = Arc::new(SearchIndexer::new(Arc::new(index.clone()), store()));
    let before = index.commits();
    // As the local bus hands a batch to the consumer: all at once.
    let tasks: Vec<_> = (0..40)
        .map(|n| {
            let indexer = indexer.clone();
            let mut product = snapshot(&format!("Burst lamp {n}"), 0);
            product.id = doc(n, "", 0).id;
            product.sku = Sku::parse(&format!("LAMP-{n}")).unwrap();
            tokio::spawn(async move {
                indexer
                    .handle(&envelope(&ProductCreatedV1 { product }))
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(index.count().await.unwrap(), 40);
    let found = index.search(&common::query("burst")).await.unwrap();
    assert_eq!(found.total, 40);
    let commits = index.commits() - before;
    assert!(commits <= 10, "{commits} commits for 40 events");
}

fn deleted() -> Envelope {
    envelope(&ProductDeletedV1 {
        id: P1.into(),
        sku: Sku::parse("LAMP-1").unwrap(),
    })
}

#[tokio::test]
async fn a_deleted_product_does_not_come_back_with_a_late_event() {
    let index = Arc::new(common::engine::Probe::new());
    let store = store();
    let indexer = SearchIndexer::new(index.clone(), store.clone());
    let created = envelope(&ProductCreatedV1 {
        product: snapshot("Brass Desk Lamp", 0),
    });
    indexer.handle(&created).await.unwrap();
    indexer.handle(&deleted()).await.unwrap();
    assert!(index.get(P1).await.unwrap().is_none());
    let tombstone = store
        .get(&search::tombstone::key(P1))
        .await
        .unwrap()
        .expect("the delete leaves a tombstone");
    assert!(tombstone["deletedAt"].is_string(), "{tombstone:?}");
    // An update retried past the delete (newer than anything indexed) and
    // the create redelivered: the product stays gone, and nothing is
    // written, not even for a moment.
    let writes = index.writes();
    let late = envelope(&ProductUpdatedV1 {
        product: snapshot("Brass Desk Lamp, Green", 9),
    });
    for event in [&late, &created] {
        indexer.handle(event).await.unwrap();
        assert!(index.get(P1).await.unwrap().is_none());
    }
    assert_eq!(index.writes(), writes);
    // The delete redelivered is harmless.
    indexer.handle(&deleted()).await.unwrap();
    assert_eq!(index.count().await.unwrap(), 0);
}

/// Tantivy, where the product's delete is handled (tombstone, then
/// removal, as the indexer does it) while the first put is being applied.
struct DeleteDuringPut {
    inner: TantivyIndex,
    store: Arc<dyn Store>,
    fired: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl SearchIndex for DeleteDuringPut {
    async fn upsert(&self, docs: Vec<search::index::SearchDoc>) -> Result<(), SearchError> {
        self.inner.upsert(docs).await
    }
    async fn apply(&self, change: Change) -> Result<Outcome, SearchError> {
        if let Change::Put(doc) = &change {
            if !self.fired.swap(true, std::sync::atomic::Ordering::SeqCst) {
                search::tombstone::put(self.store.as_ref(), &doc.id, Utc::now())
                    .await
                    .unwrap();
                self.inner.apply(Change::Delete(doc.id.clone())).await?;
            }
        }
        self.inner.apply(change).await
    }
    async fn get(&self, id: &str) -> Result<Option<search::index::SearchDoc>, SearchError> {
        self.inner.get(id).await
    }
    async fn search(&self, query: &SearchQuery) -> Result<SearchResults, SearchError> {
        self.inner.search(query).await
    }
    async fn suggest(&self, prefix: &str, limit: usize) -> Result<Vec<String>, SearchError> {
        self.inner.suggest(prefix, limit).await
    }
    async fn count(&self) -> Result<u64, SearchError> {
        self.inner.count().await
    }
}

#[tokio::test]
async fn a_delete_handled_while_its_product_is_put_wins() {
    let store = store();
    let index = Arc::new(DeleteDuringPut {
        inner: TantivyIndex::in_memory().unwrap(),
        store: store.clone(),
        fired: Default::default(),
    });
    let indexer = SearchIndexer::new(index.clone(), store);
    indexer
        .handle(&envelope(&ProductCreatedV1 {
            product: snapshot("Brass Desk Lamp", 0),
        }))
        .await
        .unwrap();
    assert!(index.fired.load(std::sync::atomic::Ordering::SeqCst));
    // The put landed after the removal; the indexer saw the tombstone
    // after its put and removed the document again.
    assert!(index.get(P1).await.unwrap().is_none());
    assert_eq!(index.count().await.unwrap(), 0);
}
