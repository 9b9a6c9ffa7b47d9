//! What the router tests share: the reviews router (with the cart and
//! orders routers, for verified purchases) on an in-memory store, called
//! with `oneshot`, and products created through the catalog's functions.
#![allow(dead_code)]

use axum::http::{Method, StatusCode};
use lite_http::testing::TestClient;
use lite_ports::Context;
use lite_service::Service;
use serde_json::{json, Value};

pub const ANN: &str = "usr_01JANN000000000000000000000";
pub const BOB: &str = "usr_01JB0B000000000000000000000";
pub const ADMIN: &str = "usr_01JADM000000000000000000000";

pub struct App {
    pub client: TestClient,
    pub ctx: Context,
}

pub fn app() -> App {
    let ctx = lite_ports::testing::memory_context();
    let router = lite_http::testing::finish_for_tests(
        reviews::Reviews::new(ctx.clone())
            .router()
            .merge(orders::Orders::new(ctx.clone()).router())
            .merge(cart::Cart::new(ctx.clone()).router()),
    );
    App {
        client: TestClient::new(router),
        ctx,
    }
}

pub fn ann() -> String {
    lite_http::testing::customer_token(ANN)
}

pub fn bob() -> String {
    lite_http::testing::customer_token(BOB)
}

pub fn admin() -> String {
    lite_http::testing::admin_token(ADMIN)
}

pub fn review_body(rating: i64) -> Value {
    json!({"rating": rating, "title": "Solid machine", "body": "Fast, quiet and light."})
}

impl App {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (s, _, b) = self.call_full(method, path, token, None, body).await;
        (s, b)
    }

    /// Status, `Location` header and body.
    pub async fn call_full(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Option<String>, Value) {
        let r = self.client.call(method, path, token, key, body).await;
        let location = r
            .headers
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        (r.status, location, r.json)
    }

    pub async fn product(&self, sku: &str) -> String {
        catalog::testing::product(&self.ctx, sku, "laptops", 1999).await
    }

    /// Creates a review and returns its id.
    pub async fn review(&self, token: &str, product: &str, rating: i64) -> String {
        let (s, b) = self
            .call(
                Method::POST,
                &format!("/v1/products/{product}/reviews"),
                Some(token),
                Some(review_body(rating)),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["id"].as_str().unwrap().to_owned()
    }

    pub async fn decide(&self, id: &str, decision: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            &format!("/v1/admin/reviews/{id}/{decision}"),
            Some(&admin()),
            None,
        )
        .await
    }

    pub async fn listing(&self, product: &str) -> Value {
        let (s, b) = self
            .call(
                Method::GET,
                &format!("/v1/products/{product}/reviews"),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b
    }

    /// The data of the outbox events of `detail_type`, oldest first.
    pub async fn events(&self, detail_type: &str) -> Vec<Value> {
        let pending = lite_events::outbox::pending(self.ctx.store.as_ref()).await;
        pending
            .unwrap()
            .into_iter()
            .filter(|(t, _)| t == detail_type)
            .map(|(_, e)| e["data"].clone())
            .collect()
    }
}
