//! `cart::checkout`, as the orders service uses it: load the user's cart,
//! reprice it, and clear it in the order's transaction.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use cart::checkout::{self, CartSnapshot};
use lite_core::{Currency, Money, OrderId};
use lite_http::testing::customer_token;
use lite_ports::Context;
use lite_service::Service;
use serde_json::{json, Value};
use tower::ServiceExt;

const USER: &str = "usr_01J00000000000000000000000";

struct App {
    router: axum::Router,
    ctx: Context,
    bearer: String,
}

fn app() -> App {
    let ctx = lite_ports::testing::memory_context();
    let router = lite_http::testing::finish_for_tests(cart::Cart::new(ctx.clone()).router());
    App {
        router,
        ctx,
        bearer: customer_token(USER),
    }
}

impl App {
    async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> StatusCode {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.bearer))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        self.router.clone().oneshot(req).await.unwrap().status()
    }

    async fn add(&self, product_id: &str, quantity: u32) {
        let status = self
            .call(
                Method::POST,
                "/v1/cart/items",
                Some(json!({"productId": product_id, "quantity": quantity})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }

    async fn product(&self, sku: &str, amount: i64) -> String {
        catalog::testing::product(&self.ctx, sku, "laptops", amount).await
    }

    async fn load(&self) -> Option<CartSnapshot> {
        checkout::load(self.ctx.store.as_ref(), self.ctx.clock.as_ref(), USER)
            .await
            .unwrap()
    }

    async fn outbox(&self, detail_type: &str) -> Vec<Value> {
        let pending = lite_events::outbox::pending(self.ctx.store.as_ref()).await;
        pending
            .unwrap()
            .into_iter()
            .filter(|(t, _)| t == detail_type)
            .map(|(_, e)| e)
            .collect()
    }
}

fn usd(amount: i64) -> Money {
    Money::new(amount, Currency::USD)
}

#[tokio::test]
async fn load_sees_only_a_live_non_empty_cart() {
    let app = app();
    assert_eq!(app.load().await, None);
    let a = app.product("A-1", 100).await;
    app.add(&a, 2).await;
    let snap = app.load().await.unwrap();
    assert_eq!(snap.lines.len(), 1);
    assert_eq!(snap.lines[0].product_id, a);
    assert_eq!(snap.lines[0].sku.as_str(), "A-1");
    assert_eq!(snap.lines[0].unit_price, usd(100));
    assert_eq!(snap.lines[0].quantity, 2);
    assert_eq!(snap.version, 1);
    let status = app
        .call(Method::DELETE, &format!("/v1/cart/items/{a}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.load().await,
        None,
        "an empty cart is nothing to check out"
    );
}

#[tokio::test]
async fn reprice_updates_prices_and_drops_gone_products() {
    let app = app();
    let a = app.product("A-1", 100).await;
    let b = app.product("B-1", 200).await;
    let c = app.product("C-1", 300).await;
    app.add(&a, 1).await;
    app.add(&b, 2).await;
    app.add(&c, 3).await;
    let snap = app.load().await.unwrap();
    let current = vec![
        (a.clone(), Some(("A renamed".to_owned(), usd(150)))),
        (b.clone(), None),
        (c.clone(), Some(("Product C-1".to_owned(), usd(300)))),
    ];
    let store = app.ctx.store.as_ref();
    let clock = app.ctx.clock.as_ref();
    checkout::reprice(store, clock, USER, &snap, &current)
        .await
        .unwrap();
    let after = app.load().await.unwrap();
    assert_eq!(after.version, snap.version + 1);
    let lines: Vec<_> = after
        .lines
        .iter()
        .map(|l| {
            (
                l.product_id.clone(),
                l.name.clone(),
                l.unit_price,
                l.quantity,
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (a.clone(), "A renamed".to_owned(), usd(150), 1),
            (c.clone(), "Product C-1".to_owned(), usd(300), 3),
        ]
    );
    // Nothing left to change: no write.
    checkout::reprice(store, clock, USER, &after, &current)
        .await
        .unwrap();
    assert_eq!(app.load().await.unwrap().version, after.version);

    // A cart changed since the snapshot is repriced as it is now.
    app.add(&b, 1).await;
    let cheaper = vec![(a.clone(), Some(("A".to_owned(), usd(90))))];
    checkout::reprice(store, clock, USER, &after, &cheaper)
        .await
        .unwrap();
    let now = app.load().await.unwrap();
    assert_eq!(now.lines.len(), 3);
    assert_eq!(now.lines[0].unit_price, usd(90));
}

#[tokio::test]
async fn checked_out_ops_clear_the_cart_and_emit_the_event_in_one_transaction() {
    let app = app();
    let a = app.product("A-1", 100).await;
    let b = app.product("B-1", 250).await;
    app.add(&a, 2).await;
    app.add(&b, 1).await;
    let snap = app.load().await.unwrap();
    let order_id = OrderId::parse("ord_01J00000000000000000000000").unwrap();
    let ops = checkout::checked_out_ops(&app.ctx, USER, &order_id, &snap, "corr-1");
    app.ctx.store.transact(ops).await.unwrap();
    assert_eq!(app.load().await, None);

    let events = app.outbox("cart.checked_out.v1").await;
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["source"], "amazon-lite.cart");
    assert_eq!(e["correlationId"], "corr-1");
    assert_eq!(e["data"]["userId"], USER);
    assert_eq!(e["data"]["orderId"], order_id.as_str());
    assert_eq!(e["data"]["itemCount"], 3);
    assert_eq!(
        e["data"]["subtotal"],
        json!({"amount": 450, "currency": "USD"})
    );
    assert_eq!(e["data"]["items"][0]["productId"], a.as_str());
    assert_eq!(e["data"]["items"][1]["unitPrice"]["amount"], 250);
}

#[tokio::test]
async fn a_cart_changed_after_load_aborts_the_transaction() {
    let app = app();
    let a = app.product("A-1", 100).await;
    app.add(&a, 2).await;
    let snap = app.load().await.unwrap();
    app.add(&a, 1).await;
    let ops = checkout::checked_out_ops(
        &app.ctx,
        USER,
        &OrderId::parse("ord_01J00000000000000000000000").unwrap(),
        &snap,
        "c",
    );
    let err = app.ctx.store.transact(ops).await.unwrap_err();
    assert_eq!(
        err.failed_names().collect::<Vec<_>>(),
        [checkout::CART_OP],
        "{err}"
    );
    assert_eq!(app.load().await.unwrap().lines[0].quantity, 3);
    assert!(app.outbox("cart.checked_out.v1").await.is_empty());

    // A cart emptied and gone meanwhile aborts it too.
    let snap = app.load().await.unwrap();
    let status = app
        .call(Method::DELETE, &format!("/v1/cart/items/{a}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let ops = checkout::checked_out_ops(
        &app.ctx,
        USER,
        &OrderId::parse("ord_01J00000000000000000000001").unwrap(),
        &snap,
        "c",
    );
    assert!(app.ctx.store.transact(ops).await.is_err());
}
