//! The `search-indexer` consumer, the rebuild from the catalog and the
//! persisted index.

mod common;

use chrono::{Duration, Utc};
use lite_core::{Currency, Money, Sku, SystemClock, SystemIds};
use lite_events::contracts::{
    ProductCreatedV1, ProductDeletedV1, ProductSnapshot, ProductUpdatedV1, RatingSummary,
    ReviewApprovedV1,
};
use lite_events::{Envelope, Handler, HandlerError};
use search::index::SearchIndex;
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
    let indexer = SearchIndexer::new(index.clone());
    assert_eq!(indexer.name(), "search-indexer");
    assert_eq!(
        indexer.detail_types(),
        [
            "product.created.v1",
            "product.updated.v1",
            "product.deleted.v1",
            "review.approved.v1"
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

    let review = ReviewApprovedV1 {
        review_id: "rev_01JAAAAAAAAAAAAAAAAAAAAAAA".into(),
        product_id: P1.into(),
        user_id: "usr_01JAAAAAAAAAAAAAAAAAAAAAAA".into(),
        rating: 4,
        verified_purchase: true,
        product_rating: RatingSummary {
            average: 4.5,
            count: 2,
        },
        rating_version: None,
    };
    indexer.handle(&envelope(&review)).await.unwrap();
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
    // A review of a product that is not indexed is ignored.
    indexer.handle(&envelope(&review)).await.unwrap();
    assert!(index.get(P1).await.unwrap().is_none());
}

#[tokio::test]
async fn malformed_events_are_poison() {
    let indexer = SearchIndexer::new(Arc::new(TantivyIndex::in_memory().unwrap()));
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
    let indexer = SearchIndexer::new(index.clone());
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
