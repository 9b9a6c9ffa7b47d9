//! `verifiedPurchase`: true once the author has a confirmed order holding
//! the product (placed through the cart and orders routes, confirmed by the
//! saga's step), refreshed when the review is edited.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::json;

#[tokio::test]
async fn a_confirmed_order_makes_the_review_a_verified_purchase() {
    let app = app();
    let p = app.product("CAM-1").await;
    let first = app.review(&bob(), &p, 3).await;

    let (s, b) = app
        .call(
            Method::POST,
            "/v1/cart/items",
            Some(&bob()),
            Some(json!({"productId": p, "quantity": 1})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, _, order) = app
        .call_full(
            Method::POST,
            "/v1/orders",
            Some(&bob()),
            Some("order-1"),
            Some(json!({
                "address": {"line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "US"},
                "payment": {"method": "card", "token": "tok_visa"}
            })),
        )
        .await;
    assert!(s.is_success(), "{order}");
    let order_id = order["id"].as_str().unwrap();
    // Placed but not confirmed: not yet a purchase.
    let (_, b) = app
        .call(
            Method::PATCH,
            &format!("/v1/reviews/{first}"),
            Some(&bob()),
            Some(json!({"rating": 4})),
        )
        .await;
    assert_eq!(b["verifiedPurchase"], false);

    orders::saga::confirm(
        &app.ctx,
        &orders::domain::OrderId::parse(order_id).unwrap(),
        "pay_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C",
        "corr",
    )
    .await
    .unwrap();
    // The edit looks again.
    let (s, b) = app
        .call(
            Method::PATCH,
            &format!("/v1/reviews/{first}"),
            Some(&bob()),
            Some(json!({"rating": 5})),
        )
        .await;
    assert_eq!(
        (s, b["verifiedPurchase"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    // And a new review is verified from the start.
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/reviews/{first}"),
            Some(&bob()),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = app
        .call(
            Method::POST,
            &format!("/v1/products/{p}/reviews"),
            Some(&bob()),
            Some(review_body(5)),
        )
        .await;
    assert_eq!(
        (s, b["verifiedPurchase"].as_bool()),
        (StatusCode::CREATED, Some(true))
    );
    // Someone else's review of it is not.
    let (_, b) = app
        .call(
            Method::POST,
            &format!("/v1/products/{p}/reviews"),
            Some(&ann()),
            Some(review_body(2)),
        )
        .await;
    assert_eq!(b["verifiedPurchase"], false);
    let id = b["id"].as_str().unwrap();
    let (_, approved) = app.decide(id, "approve").await;
    assert_eq!(approved["verifiedPurchase"], false);
}
