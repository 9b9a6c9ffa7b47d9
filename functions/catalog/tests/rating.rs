//! `catalog-rating`: products take the rating summary reviews decided,
//! only from a newer summary version, with their listing entries and
//! `product.updated.v1` in the same write.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use catalog::consumers::RatingSync;
use http_body_util::BodyExt;
use lite_events::contracts::{RatingSummary, ReviewApprovedV1, ReviewWithdrawnV1, WithdrawReason};
use lite_events::{Envelope, Handler, HandlerError};
use lite_ports::Context;
use lite_service::Service;
use serde_json::{json, Value};
use tower::ServiceExt;

const USER: &str = "usr_01JANN000000000000000000000";
const REVIEW: &str = "rev_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C";

async fn product(ctx: &Context, sku: &str) -> String {
    catalog::testing::product(ctx, sku, "lamps", 1000).await
}

fn approved(
    ctx: &Context,
    product: &str,
    average: f64,
    count: u32,
    version: Option<u64>,
) -> Envelope {
    Envelope::of(
        ctx.ids.as_ref(),
        ctx.clock.now(),
        "corr",
        &ReviewApprovedV1 {
            review_id: REVIEW.into(),
            product_id: product.into(),
            user_id: USER.into(),
            rating: 5,
            verified_purchase: false,
            product_rating: RatingSummary { average, count },
            rating_version: version,
        },
    )
}

fn withdrawn(ctx: &Context, product: &str, average: f64, count: u32, version: u64) -> Envelope {
    Envelope::of(
        ctx.ids.as_ref(),
        ctx.clock.now(),
        "corr",
        &ReviewWithdrawnV1 {
            review_id: REVIEW.into(),
            product_id: product.into(),
            user_id: USER.into(),
            product_rating: RatingSummary { average, count },
            rating_version: version,
            reason: WithdrawReason::Deleted,
        },
    )
}

async fn rating(ctx: &Context, id: &str) -> (f64, u32) {
    let p = catalog::read::product(ctx.store.as_ref(), id)
        .await
        .unwrap()
        .unwrap();
    (p.rating.average, p.rating.count)
}

async fn updated_events(ctx: &Context) -> usize {
    let pending = lite_events::outbox::pending(ctx.store.as_ref()).await;
    pending
        .unwrap()
        .iter()
        .filter(|(t, _)| t == "product.updated.v1")
        .count()
}

async fn by_rating(ctx: &Context) -> Vec<String> {
    let router = lite_http::testing::finish_for_tests(catalog::Catalog::new(ctx.clone()).router());
    let req = Request::get("/v1/products?sort=rating&category=lamps")
        .body(Body::empty())
        .unwrap();
    let resp = router.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn applies_newer_summaries_only_and_once() {
    let ctx = lite_ports::testing::memory_context();
    let sync = RatingSync::new(ctx.clone());
    let p = product(&ctx, "LAMP-1").await;
    let before = updated_events(&ctx).await;

    let v2 = approved(&ctx, &p, 4.25, 2, Some(2));
    sync.handle(&v2).await.unwrap();
    assert_eq!(rating(&ctx, &p).await, (4.3, 2));
    assert_eq!(updated_events(&ctx).await, before + 1);
    // Redelivered: nothing changes, nothing is published.
    sync.handle(&v2).await.unwrap();
    // Older (late) decision: ignored.
    sync.handle(&approved(&ctx, &p, 5.0, 1, Some(1)))
        .await
        .unwrap();
    assert_eq!(rating(&ctx, &p).await, (4.3, 2));
    assert_eq!(updated_events(&ctx).await, before + 1);
    // A withdrawal with a newer version applies.
    sync.handle(&withdrawn(&ctx, &p, 4.0, 1, 3)).await.unwrap();
    assert_eq!(rating(&ctx, &p).await, (4.0, 1));
    assert_eq!(updated_events(&ctx).await, before + 2);
    // Without a version the approval cannot be ordered: skipped.
    sync.handle(&approved(&ctx, &p, 1.0, 9, None))
        .await
        .unwrap();
    assert_eq!(rating(&ctx, &p).await, (4.0, 1));
    // A product patch keeps the rating version: old events stay stale.
    let id = catalog::ProductId::parse(&p).unwrap();
    let patch: catalog::ProductPatch = serde_json::from_value(json!({"name": "Renamed"})).unwrap();
    catalog::update(&ctx, &id, patch).await.unwrap();
    sync.handle(&approved(&ctx, &p, 2.0, 5, Some(3)))
        .await
        .unwrap();
    assert_eq!(rating(&ctx, &p).await, (4.0, 1));
}

#[tokio::test]
async fn the_rating_listing_follows() {
    let ctx = lite_ports::testing::memory_context();
    let sync = RatingSync::new(ctx.clone());
    let a = product(&ctx, "LAMP-A").await;
    let b = product(&ctx, "LAMP-B").await;
    sync.handle(&approved(&ctx, &a, 3.0, 1, Some(1)))
        .await
        .unwrap();
    sync.handle(&approved(&ctx, &b, 4.5, 2, Some(2)))
        .await
        .unwrap();
    assert_eq!(by_rating(&ctx).await, [b.clone(), a.clone()]);
    sync.handle(&withdrawn(&ctx, &b, 0.0, 0, 3)).await.unwrap();
    // Each product still has exactly one entry, in its new place.
    assert_eq!(by_rating(&ctx).await, [a, b]);
}

#[tokio::test]
async fn gone_products_are_done_and_foreign_events_poison() {
    let ctx = lite_ports::testing::memory_context();
    let sync = RatingSync::new(ctx.clone());
    let p = product(&ctx, "LAMP-2").await;
    catalog::delete(&ctx, &catalog::ProductId::parse(&p).unwrap())
        .await
        .unwrap();
    sync.handle(&approved(&ctx, &p, 4.0, 1, Some(1)))
        .await
        .unwrap();
    assert!(catalog::read::product(ctx.store.as_ref(), &p)
        .await
        .unwrap()
        .is_none());
    let mut garbled = approved(&ctx, &p, 4.0, 1, Some(1));
    garbled.data["productRating"] = json!("five stars");
    let mut other = approved(&ctx, &p, 4.0, 1, Some(1));
    other.event_type = "review.created".into();
    for e in [garbled, other] {
        assert!(matches!(
            sync.handle(&e).await,
            Err(HandlerError::Poison(_))
        ));
    }
    assert_eq!(
        sync.detail_types(),
        ["review.approved.v1", "review.withdrawn.v1"]
    );
    assert_eq!(sync.name(), "catalog-rating");
}
