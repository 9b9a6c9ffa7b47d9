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
    catalog::testing::product(ctx, sku, "laptops", amount).await
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

/// The statuses of an order's history, oldest first.
pub fn statuses(order: &Value) -> Vec<&str> {
    order["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect()
}

/// One customer at the shop.
pub struct Shopper {
    pub client: TestClient,
    pub token: String,
}

impl Shopper {
    pub fn new(client: TestClient, user: &str) -> Self {
        Shopper {
            client,
            token: lite_http::testing::customer_token(user),
        }
    }

    pub async fn add_to_cart(&self, product: &str, quantity: u32) {
        add_to_cart(&self.client, &self.token, product, quantity).await
    }

    pub async fn place(&self, key: &str) -> TestResponse {
        place(&self.client, &self.token, key).await
    }

    /// Their orders (the first page's items).
    pub async fn orders(&self) -> Value {
        self.get("/v1/orders").await["items"].clone()
    }

    /// The units in their cart.
    pub async fn cart_items(&self) -> Value {
        self.get("/v1/cart").await["itemCount"].clone()
    }

    async fn get(&self, path: &str) -> Value {
        let r = self.client.get(path).bearer(Some(&self.token)).send().await;
        assert_eq!(r.status, 200, "{}", r.json);
        r.json
    }
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
