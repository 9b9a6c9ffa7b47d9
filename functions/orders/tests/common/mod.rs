//! What the orders router tests share: the orders router merged with the
//! cart's on one context (as a shopper meets them), products created in
//! the catalog, a cart filled through the API and a valid order.
#![allow(dead_code)]

use lite_http::testing::{TestClient, TestResponse};
use lite_ports::Context;
use lite_service::Service;
use serde_json::{json, Value};

pub const ANN: &str = "usr_01JANN000000000000000000000";
pub const BOB: &str = "usr_01JB0B000000000000000000000";

/// `orders` (as the test configured it) and the cart on `ctx`, finished
/// with the shared layers.
pub fn shop(ctx: &Context, orders: orders::Orders) -> TestClient {
    TestClient::new(lite_http::testing::finish_for_tests(
        orders.router().merge(cart::Cart::new(ctx.clone()).router()),
    ))
}

/// A laptop `sku` at `amount` cents, created in the catalog: its id.
pub async fn product(ctx: &Context, sku: &str, amount: i64) -> String {
    let input: catalog::ProductInput = serde_json::from_value(json!({
        "sku": sku, "name": format!("Product {sku}"), "category": "laptops",
        "brand": "Northwind", "price": {"amount": amount, "currency": "USD"}
    }))
    .unwrap();
    catalog::create(ctx, catalog::NewProduct::parse(input).unwrap())
        .await
        .unwrap()
        .id
        .to_string()
}

/// Puts `quantity` of `product` in the cart of `token`'s customer.
pub async fn add_to_cart(client: &TestClient, token: &str, product: &str, quantity: u32) {
    let added = client
        .post("/v1/cart/items")
        .bearer(Some(token))
        .json(json!({"productId": product, "quantity": quantity}))
        .send()
        .await;
    assert_eq!(added.status, 200, "{}", added.json);
}

/// A valid `POST /v1/orders` body: an address and the sandbox's approving card.
pub fn order_body() -> Value {
    json!({
        "address": {"line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "US"},
        "payment": {"method": "card", "token": "tok_visa"}
    })
}

/// `POST /v1/orders` of [`order_body`] under `key`.
pub async fn place(client: &TestClient, token: &str, key: &str) -> TestResponse {
    client
        .post("/v1/orders")
        .bearer(Some(token))
        .idempotency_key(Some(key))
        .json(order_body())
        .send()
        .await
}
