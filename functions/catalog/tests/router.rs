//! The catalog router without a socket (`oneshot`), on the in-memory redb
//! store: what the table holds after each write, and the route table's
//! promises about auth.

use axum::http::{Method, StatusCode};
use lite_core::Sku;
use lite_http::testing::{admin_token, customer_token, TestClient};
use lite_http::Access;
use lite_service::Service;
use lite_store::{Index, Key, Query, SkCondition, Store};
use serde_json::{json, Value};
use std::sync::Arc;

struct App {
    client: TestClient,
    store: Arc<dyn Store>,
}

fn app() -> App {
    let ctx = lite_ports::testing::memory_context();
    let store = ctx.store.clone();
    let router = lite_http::testing::finish_for_tests(catalog::Catalog::new(ctx).router());
    App {
        client: TestClient::new(router),
        store,
    }
}

impl App {
    async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, uri).bearer(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await;
        (r.status, r.json)
    }

    async fn create(&self, sku: &str, category: &str, amount: i64) -> Value {
        let (s, body) = self
            .call(
                Method::POST,
                "/v1/products",
                Some(&admin_token("usr_admin")),
                Some(product(sku, category, amount)),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        body
    }

    async fn outbox_types(&self) -> Vec<String> {
        let pending = lite_events::outbox::pending(self.store.as_ref()).await;
        pending.unwrap().into_iter().map(|(t, _)| t).collect()
    }

    async fn product_collection(&self, id: &str) -> Vec<String> {
        let page = self
            .store
            .query(&Query::new(Index::Table, format!("PRODUCT#{id}")).limit(100))
            .await
            .unwrap();
        page.items
            .iter()
            .map(|i| i["SK"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn product(sku: &str, category: &str, amount: i64) -> Value {
    json!({
        "sku": sku, "name": format!("Product {sku}"), "description": "A thing.", "category": category,
        "brand": "Northwind", "price": {"amount": amount, "currency": "USD"},
        "images": ["https://images.example.com/1.jpg"], "attributes": {"color": "Red"}
    })
}

#[tokio::test]
async fn create_writes_product_listings_sku_claim_and_event_together() {
    let app = app();
    let p = app.create("ABC-1", "laptops", 1000).await;
    let id = p["id"].as_str().unwrap();
    let mut sks = app.product_collection(id).await;
    sks.sort();
    assert_eq!(
        sks,
        [
            "LIST#ALL#NEW",
            "LIST#ALL#PRICE",
            "LIST#ALL#RATING",
            "LIST#CAT#laptops#NEW",
            "LIST#CAT#laptops#PRICE",
            "LIST#CAT#laptops#RATING",
            "PRODUCT"
        ]
    );
    assert!(app
        .store
        .get(&Key::new("SKU#ABC-1", "SKU"))
        .await
        .unwrap()
        .is_some());
    assert_eq!(app.outbox_types().await, ["product.created.v1"]);
    let (_, event) = lite_events::outbox::pending(app.store.as_ref())
        .await
        .unwrap()
        .remove(0);
    assert_eq!(event["data"]["product"]["id"], p["id"]);
    assert_eq!(event["source"], "amazon-lite.catalog");
}

#[tokio::test]
async fn a_taken_sku_writes_nothing() {
    let app = app();
    app.create("ABC-1", "laptops", 1000).await;
    let (s, body) = app
        .call(
            Method::POST,
            "/v1/products",
            Some(&admin_token("a")),
            Some(product("abc-1", "books", 5)),
        )
        .await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    assert_eq!(app.outbox_types().await.len(), 1);
    let books = app
        .store
        .query(&Query::new(Index::Gsi1, "PLIST#CAT#books#NEW").limit(10))
        .await
        .unwrap();
    assert!(books.items.is_empty());
}

#[tokio::test]
async fn concurrent_creates_of_one_sku_yield_exactly_one_product() {
    let app = Arc::new(app());
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                app.call(
                    Method::POST,
                    "/v1/products",
                    Some(&admin_token("a")),
                    Some(product("RACE-1", "toys", 100 + i)),
                )
                .await
                .0
            })
        })
        .collect();
    let statuses: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT));
    let all = app
        .store
        .query(&Query::new(Index::Gsi1, "PLIST#ALL#NEW").limit(100))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
}

#[tokio::test]
async fn patch_moves_listings_and_emits_an_update() {
    let app = app();
    let p = app.create("MOVE-1", "laptops", 1000).await;
    let id = p["id"].as_str().unwrap();
    let uri = format!("/v1/products/{id}");
    let (s, body) = app
        .call(
            Method::PATCH,
            &uri,
            Some(&admin_token("a")),
            Some(json!({"category": "books", "price": {"amount": 250, "currency": "USD"}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["category"], "books");
    assert!(body["updatedAt"].as_str().unwrap() >= p["updatedAt"].as_str().unwrap());
    let sks = app.product_collection(id).await;
    assert!(sks.iter().all(|sk| !sk.contains("laptops")), "{sks:?}");
    assert_eq!(sks.len(), 7);
    let by_price = app
        .store
        .query(
            &Query::new(Index::Gsi1, "PLIST#CAT#books#PRICE")
                .sk(SkCondition::BeginsWith("000000000250#".into()))
                .limit(10),
        )
        .await
        .unwrap();
    assert_eq!(by_price.items.len(), 1);
    assert_eq!(
        app.outbox_types().await,
        ["product.created.v1", "product.updated.v1"]
    );
    // A patch that changes nothing writes nothing.
    let (s, _) = app
        .call(
            Method::PATCH,
            &uri,
            Some(&admin_token("a")),
            Some(json!({"category": "books"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(app.outbox_types().await.len(), 2);
}

#[tokio::test]
async fn delete_removes_every_item_and_frees_the_sku() {
    let app = app();
    let p = app.create("GONE-1", "laptops", 1000).await;
    let id = p["id"].as_str().unwrap();
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/products/{id}"),
            Some(&admin_token("a")),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(app.product_collection(id).await.is_empty());
    assert!(
        !catalog::read::sku_taken(app.store.as_ref(), &Sku::parse("GONE-1").unwrap())
            .await
            .unwrap()
    );
    assert_eq!(
        app.outbox_types().await,
        ["product.created.v1", "product.deleted.v1"]
    );
    app.create("GONE-1", "laptops", 1000).await;
}

#[tokio::test]
async fn protected_routes_refuse_missing_and_underprivileged_tokens() {
    let app = app();
    let p = app.create("AUTH-1", "laptops", 1000).await;
    let id = p["id"].as_str().unwrap();
    for route in catalog::ROUTES.iter().filter(|r| r.auth != Access::Public) {
        let uri = route.path.replace("{id}", id);
        let method: Method = route.method.parse().unwrap();
        let body = Some(json!({}));
        let (s, problem) = app.call(method.clone(), &uri, None, body.clone()).await;
        assert_eq!(
            s,
            StatusCode::UNAUTHORIZED,
            "{} {}",
            route.method,
            route.path
        );
        assert_eq!(problem["code"], "unauthorized");
        if route.auth == Access::Admin {
            let (s, _) = app
                .call(method, &uri, Some(&customer_token("usr_c")), body)
                .await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{} {}", route.method, route.path);
        }
    }
}

#[tokio::test]
async fn listing_pages_are_exact_under_filters() {
    let app = app();
    for i in 0..30 {
        app.create(
            &format!("F-{i}"),
            if i % 2 == 0 { "even" } else { "odd" },
            i * 100,
        )
        .await;
    }
    for sort in ["newest", "price_asc", "price_desc", "rating"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut uri = format!(
                "/v1/products?category=even&minPrice=400&maxPrice=2400&sort={sort}&limit=3"
            );
            if let Some(c) = &cursor {
                uri.push_str(&format!("&cursor={c}"));
            }
            let (s, body) = app.call(Method::GET, &uri, None, None).await;
            assert_eq!(s, StatusCode::OK, "{body}");
            for item in body["items"].as_array().unwrap() {
                seen.push(item["price"]["amount"].as_i64().unwrap());
            }
            match body["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let mut expected: Vec<i64> = (4..=24).step_by(2).map(|i| i * 100).collect();
        match sort {
            "price_asc" => assert_eq!(seen, expected),
            "price_desc" | "newest" => {
                expected.reverse();
                assert_eq!(seen, expected, "{sort}");
            }
            _ => {
                seen.sort();
                assert_eq!(seen, expected, "{sort}");
            }
        }
    }
}
