//! The orders router without a socket (`oneshot`), merged with the cart's,
//! on the in-memory redb store; the saga's confirm/fail steps called as the
//! checkout tasks call them.

mod common;

use axum::http::{Method, StatusCode};
use common::{order_body, ANN, BOB};
use lite_events::contracts::FailureReason;
use lite_http::testing::{admin_token, customer_token, TestClient};
use lite_ports::Context;
use serde_json::{json, Value};

struct App {
    client: TestClient,
    ctx: Context,
}

fn app() -> App {
    let ctx = lite_ports::testing::memory_context();
    App {
        client: common::shop(&ctx, orders::Orders::new(ctx.clone())),
        ctx,
    }
}

impl App {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let r = self.client.call(method, path, token, key, body).await;
        (r.status, r.json)
    }

    async fn product(&self, sku: &str, amount: i64) -> String {
        common::product(&self.ctx, sku, amount).await
    }

    async fn fill_cart(&self, token: &str, product: &str, quantity: u32) {
        common::add_to_cart(&self.client, token, product, quantity).await
    }

    async fn place(&self, token: &str, key: &str, body: Value) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/v1/orders",
            Some(token),
            Some(key),
            Some(body),
        )
        .await
    }
}

#[tokio::test]
async fn placing_needs_a_token_a_key_a_cart_and_valid_input() {
    let app = app();
    let ann = customer_token(ANN);
    let (s, _) = app
        .call(
            Method::POST,
            "/v1/orders",
            None,
            Some("k"),
            Some(order_body()),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, b) = app
        .call(
            Method::POST,
            "/v1/orders",
            Some(&ann),
            None,
            Some(order_body()),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(b["errors"][0]["field"], "Idempotency-Key");
    let (s, b) = app.place(&ann, "k1", order_body()).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("cart_empty"))
    );

    let p = app.product("ORD-VAL-001", 1_000).await;
    app.fill_cart(&ann, &p, 1).await;
    let bad = [
        json!({"payment": {"method": "cash", "token": "tok_visa"}, "address": order_body()["address"]}),
        json!({"payment": {"method": "card", "token": ""}, "address": order_body()["address"]}),
        json!({"payment": {"method": "card", "token": "tok_visa"}, "address": {"city": "Nowhere"}}),
        json!({"payment": {"method": "card", "token": "tok_visa"}, "addressId": "adr_nope", "address": order_body()["address"]}),
        json!({"payment": {"method": "card", "token": "tok_visa"}}),
        json!({"payment": {"method": "card", "token": "tok_visa"}, "addressId": "adr_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C"}),
    ];
    for (i, body) in bad.into_iter().enumerate() {
        let (s, b) = app.place(&ann, &format!("bad-{i}"), body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "case {i}: {b}");
    }
    // Nothing was placed: the cart still holds the line.
    let (_, cart) = app
        .call(Method::GET, "/v1/cart", Some(&ann), None, None)
        .await;
    assert_eq!(cart["itemCount"], 1);
}

#[tokio::test]
async fn an_order_is_placed_once_per_key_and_seen_only_by_its_owner_and_admins() {
    let app = app();
    let ann = customer_token(ANN);
    let bob = customer_token(BOB);
    let p = app.product("ORD-OWN-001", 2_500).await;
    app.fill_cart(&ann, &p, 2).await;
    let (s, placed) = app.place(&ann, "once", order_body()).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{placed}");
    assert_eq!(placed["status"], "PENDING");
    assert_eq!(placed["total"], json!({"amount": 5_000, "currency": "USD"}));
    assert_eq!(placed["payment"]["status"], "pending");
    let id = orders::domain::OrderId::parse(placed["id"].as_str().unwrap()).unwrap();

    let (s, again) = app.place(&ann, "once", order_body()).await;
    assert_eq!((s, &again["id"]), (StatusCode::ACCEPTED, &placed["id"]));
    let mut other = order_body();
    other["payment"]["token"] = json!("tok_chargeDeclined");
    let (s, b) = app.place(&ann, "once", other).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::CONFLICT, Some("idempotency_conflict"))
    );

    let path = format!("/v1/orders/{id}");
    assert_eq!(
        app.call(Method::GET, &path, Some(&ann), None, None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.call(Method::GET, &path, Some(&bob), None, None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(Method::GET, &path, Some(&admin_token(BOB)), None, None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        app.call(
            Method::GET,
            "/v1/orders/ord_garbage",
            Some(&ann),
            None,
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let (_, list) = app
        .call(Method::GET, "/v1/orders", Some(&bob), None, None)
        .await;
    assert_eq!(list["items"], json!([]));
    let (s, _) = app
        .call(Method::GET, "/v1/orders?limit=0", Some(&ann), None, None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = app
        .call(
            Method::GET,
            "/v1/orders?cursor=forged",
            Some(&ann),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // PENDING: not cancellable yet, not shippable.
    let (s, _) = app
        .call(
            Method::POST,
            &format!("{path}/cancel"),
            Some(&ann),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = app
        .call(
            Method::POST,
            &format!("{path}/ship"),
            Some(&ann),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .call(
            Method::POST,
            &format!("{path}/ship"),
            Some(&admin_token(BOB)),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
}

#[tokio::test]
async fn saga_steps_move_the_order_once_and_count_the_purchase() {
    let app = app();
    let ann = customer_token(ANN);
    let p = app.product("ORD-SAGA-001", 900).await;
    app.fill_cart(&ann, &p, 1).await;
    let (_, placed) = app.place(&ann, "saga", order_body()).await;
    let id = orders::domain::OrderId::parse(placed["id"].as_str().unwrap()).unwrap();
    let store = app.ctx.store.as_ref();

    let input = orders::saga::checkout_input(&app.ctx, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(input.payment_token, "tok_visa");
    assert_eq!(input.items.len(), 1);
    assert!(!orders::read::has_purchased(store, ANN, &p).await.unwrap());

    let first = orders::saga::confirm(&app.ctx, &id, "pay_01JPAY00000000000000000000", "c")
        .await
        .unwrap();
    assert!(matches!(first, orders::Transitioned::Moved(_)));
    let again = orders::saga::confirm(&app.ctx, &id, "pay_01JPAY00000000000000000000", "c")
        .await
        .unwrap();
    assert!(matches!(again, orders::Transitioned::Already(_)));
    assert!(orders::read::has_purchased(store, ANN, &p).await.unwrap());
    // Confirmed orders no longer carry the payment token or start a saga.
    assert!(orders::saga::checkout_input(&app.ctx, &id)
        .await
        .unwrap()
        .is_none());
    // A confirmed order cannot fail.
    assert!(
        orders::saga::fail(&app.ctx, &id, FailureReason::CheckoutError, None, "c")
            .await
            .is_err()
    );

    let path = format!("/v1/orders/{id}");
    let (s, cancelled) = app
        .call(
            Method::POST,
            &format!("{path}/cancel"),
            Some(&ann),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{cancelled}");
    assert_eq!(
        common::statuses(&cancelled),
        ["PENDING", "CONFIRMED", "CANCELLED"]
    );
    assert!(!orders::read::has_purchased(store, ANN, &p).await.unwrap());
}

#[tokio::test]
async fn a_failed_order_keeps_its_reason() {
    let app = app();
    let ann = customer_token(ANN);
    let p = app.product("ORD-FAIL-001", 900).await;
    app.fill_cart(&ann, &p, 1).await;
    let (_, placed) = app.place(&ann, "fail", order_body()).await;
    let id = orders::domain::OrderId::parse(placed["id"].as_str().unwrap()).unwrap();
    orders::saga::fail(
        &app.ctx,
        &id,
        FailureReason::OutOfStock,
        Some("gone".into()),
        "c",
    )
    .await
    .unwrap();
    let (_, o) = app
        .call(
            Method::GET,
            &format!("/v1/orders/{id}"),
            Some(&ann),
            None,
            None,
        )
        .await;
    assert_eq!(o["status"], "FAILED");
    assert_eq!(
        o["failure"],
        json!({"reason": "out_of_stock", "detail": "gone"})
    );
    assert_eq!(o["payment"]["status"], "none");
    assert!(
        orders::saga::confirm(&app.ctx, &id, "pay_01JPAY00000000000000000000", "c")
            .await
            .is_err()
    );
}
