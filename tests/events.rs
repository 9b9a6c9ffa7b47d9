//! The events backbone through the real binary: catalog writes reach the
//! inventory consumer (`inventory-catalog-sync`) over the local bus, and an
//! event whose process died between the write and the publish is delivered
//! after the restart (the transactional outbox).
//!
//! The crash uses the test-only fault hook `AMAZON_LITE_FAULT=crash-before-relay`:
//! the relay exits the process with code 86 as soon as it sees a pending
//! outbox item, before publishing it.

use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use system_tests::{send, Reply, Seed, TestApi};

const FAULT_ENV: &str = "AMAZON_LITE_FAULT";
const CRASH_BEFORE_RELAY: &str = "crash-before-relay:product.created.v1";
const CRASH_EXIT_CODE: i32 = 86;
/// How long an event may take to reach its consumer.
const DELIVERY: Duration = Duration::from_secs(60);

fn product(sku: &str) -> Value {
    json!({
        "sku": sku,
        "name": format!("Event test product {sku}"),
        "description": "A product made by the events system tests.",
        "category": "lighting",
        "brand": "Lumen",
        "price": {"amount": 2599, "currency": "USD"},
        "images": [format!("https://images.example.com/tests/{}.jpg", sku.to_lowercase())],
        "attributes": {"color": "White"}
    })
}

async fn create(api: &TestApi, sku: &str) -> Value {
    let r = send(
        api.request(Method::POST, "/v1/products")
            .bearer_auth(api.admin_token())
            .json(&product(sku)),
    )
    .await;
    assert_eq!(r.status, 201, "create {sku}: {}", r.body);
    r.body
}

async fn stock(api: &TestApi, sku: &str) -> Reply {
    send(
        api.request(Method::GET, &format!("/v1/inventory/{sku}"))
            .bearer_auth(api.admin_token()),
    )
    .await
}

/// Polls `GET /v1/inventory/{sku}` until it is 200 (the consumer ran).
async fn eventually_stocked(api: &TestApi, sku: &str) -> Value {
    let deadline = Instant::now() + DELIVERY;
    loop {
        let r = stock(api, sku).await;
        if r.status == 200 {
            return r.body;
        }
        assert_eq!(r.status, 404, "GET /v1/inventory/{sku}: {}", r.body);
        assert!(
            Instant::now() < deadline,
            "no stock record for {sku} within {DELIVERY:?}: the product event was not delivered\n--- server log ---\n{}",
            api.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_created_product_gets_a_stock_record_from_the_consumer() {
    let api = TestApi::spawn(Seed::None).await;
    create(&api, "EVT-LAMP-1").await;
    let level = eventually_stocked(&api, "EVT-LAMP-1").await;
    assert_eq!(level["sku"], "EVT-LAMP-1");
    assert_eq!(level["available"], 0);
    assert_eq!(level["reserved"], 0);

    // Stock set before the product exists is never overwritten.
    let r = send(
        api.request(Method::PUT, "/v1/inventory/EVT-DESK-2")
            .bearer_auth(api.admin_token())
            .json(&json!({"available": 12})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let desk = create(&api, "EVT-DESK-2").await;
    // Once a later product's stock appears, the desk's event (older) was
    // handled too: one consumer handles its queue in order.
    create(&api, "EVT-MARKER-3").await;
    eventually_stocked(&api, "EVT-MARKER-3").await;
    let level = stock(&api, "EVT-DESK-2").await;
    assert_eq!(level.status, 200);
    assert_eq!(level.body["available"], 12, "{}", level.body);

    // Deleting the product keeps the stock record (reservations in flight).
    let id = desk["id"].as_str().expect("product id");
    let r = send(
        api.request(Method::DELETE, &format!("/v1/products/{id}"))
            .bearer_auth(api.admin_token()),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    create(&api, "EVT-MARKER-4").await;
    eventually_stocked(&api, "EVT-MARKER-4").await;
    let level = stock(&api, "EVT-DESK-2").await;
    assert_eq!(level.status, 200);
    assert_eq!(level.body["available"], 12);
}

#[tokio::test]
async fn an_event_left_by_a_crash_before_the_relay_is_delivered_after_restart() {
    let mut api = TestApi::spawn_with_env(Seed::None, &[(FAULT_ENV, CRASH_BEFORE_RELAY)]).await;
    let sku = "EVT-CRASH-1";

    // The product and its outbox item commit in one transaction; the relay
    // then sees the pending item and the process dies before publishing it.
    // The response may or may not get out first.
    let sent = api
        .request(Method::POST, "/v1/products")
        .bearer_auth(api.admin_token())
        .json(&product(sku))
        .send()
        .await;
    if let Ok(resp) = &sent {
        assert_eq!(resp.status(), 201, "create {sku}");
    }
    let status = api.wait_exit(Duration::from_secs(30)).await;
    assert_eq!(
        status.code(),
        Some(CRASH_EXIT_CODE),
        "the fault hook exits with {CRASH_EXIT_CODE} before publishing, got {status}\n--- server log ---\n{}",
        api.log_tail()
    );

    // Back without the fault: the write survived, and the relay finds the
    // event the crash left pending and delivers it to inventory.
    api.remove_env(FAULT_ENV);
    api.start().await;
    let r = send(api.request(Method::GET, "/v1/products")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let skus: Vec<&str> = r.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["sku"].as_str())
        .collect();
    assert_eq!(skus, [sku], "the product committed before the crash");
    let level = eventually_stocked(&api, sku).await;
    assert_eq!(level["sku"], sku);
    assert_eq!(level["available"], 0);
    assert_eq!(level["reserved"], 0);
}
