//! The flash sale: 500 shoppers check out at once for 50 units. Exactly 50
//! orders are CONFIRMED, the other 450 FAIL as out of stock, and the stock
//! ends `available == 0`, `reserved == 0` — through the whole system over
//! HTTP: cart, orders, the outbox and bus, the saga on the local
//! interpreter, the sandbox provider's signed webhooks.
//!
//! On redb (a file) at full size. On DynamoDB (moto) with 30 shoppers for 3
//! units: moto answers one request at a time, each transaction copying the
//! table it writes, and a checkout is some 55 store calls (cart, order,
//! outbox relay and deliveries, every saga step persisted). 30 checkouts
//! settle in about 14 s here (203 s while moto copied the table once per
//! op of a transaction, every stream record along; see `scripts/moto.sh`).
//! The inventory crate's store-level flash sale runs the reservations
//! themselves on moto at full size: 500 concurrent buyers for 50 units.

use amazon_lite::harness::Harness;
use lite_http::testing::{admin_token, customer_token};
use lite_store::Store;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
    key: Option<&str>,
) -> (u16, Value) {
    let mut r = client.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    let resp = r.send().await.expect("the request is answered");
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body)
}

const PAYMENT_TIMEOUT_SECS: u64 = 180;

async fn flash_sale(
    store: Arc<dyn Store>,
    changes: Option<Arc<tokio::sync::Notify>>,
    tag: &str,
    shoppers_count: usize,
    units: i64,
) {
    // Every sandbox card answers at once, so no order may fail on payment:
    // the timeout only bounds how long a lost resumption could hide, and is
    // long enough that a slow machine (DynamoDB on moto, the bus polling)
    // does not end a correct checkout as `payment_timeout`.
    let h = Harness::start(store, changes, PAYMENT_TIMEOUT_SECS)
        .await
        .expect("the system starts");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let admin = admin_token("usr_01JADMIN00000000000000000");
    let sku = format!("FLASH-{tag}-001");
    let (status, product) = call(
        &client,
        reqwest::Method::POST,
        h.url("/v1/products"),
        &admin,
        Some(json!({
            "sku": sku, "name": "Flash sale console", "description": "Fifty units only.",
            "category": "gaming", "brand": "Nimbus", "price": {"amount": 29_900, "currency": "USD"},
            "images": [], "attributes": {}
        })),
        None,
    )
    .await;
    assert_eq!(status, 201, "{product}");
    let pid = product["id"].as_str().unwrap().to_owned();
    let (status, body) = call(
        &client,
        reqwest::Method::PUT,
        h.url(&format!("/v1/inventory/{sku}")),
        &admin,
        Some(json!({ "available": units })),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let started = Instant::now();
    let mut shoppers = vec![];
    for i in 0..shoppers_count {
        let client = client.clone();
        let pid = pid.clone();
        let h_url = h.url("");
        shoppers.push(tokio::spawn(async move {
            let token = customer_token(&format!("usr_01JFLASH{i:018}"));
            let (s, b) = call(
                &client,
                reqwest::Method::POST,
                format!("{h_url}/v1/cart/items"),
                &token,
                Some(json!({"productId": pid, "quantity": 1})),
                None,
            )
            .await;
            assert_eq!(s, 200, "add to cart: {b}");
            let (s, b) = call(
                &client,
                reqwest::Method::POST,
                format!("{h_url}/v1/orders"),
                &token,
                Some(json!({
                    "address": {"line1": "1 Queue Lane", "city": "Springfield", "postalCode": "12345", "country": "US"},
                    "payment": {"method": "card", "token": "tok_visa"}
                })),
                Some(&format!("flash-{i}")),
            )
            .await;
            assert_eq!(s, 202, "place order: {b}");
            (token, b["id"].as_str().unwrap().to_owned())
        }));
    }
    let mut orders = vec![];
    for s in shoppers {
        orders.push(s.await.expect("a shopper task"));
    }

    // Every order reaches a terminal status.
    let deadline = Instant::now() + Duration::from_secs(PAYMENT_TIMEOUT_SECS + 120);
    let (mut confirmed, mut out_of_stock) = (0, 0);
    for (token, id) in &orders {
        loop {
            let (s, o) = call(
                &client,
                reqwest::Method::GET,
                h.url(&format!("/v1/orders/{id}")),
                token,
                None,
                None,
            )
            .await;
            assert_eq!(s, 200, "{o}");
            match o["status"].as_str().unwrap() {
                "PENDING" => {
                    assert!(Instant::now() < deadline, "order {id} still PENDING");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                "CONFIRMED" => {
                    confirmed += 1;
                    break;
                }
                "FAILED" => {
                    assert_eq!(o["failure"]["reason"], "out_of_stock", "{o}");
                    out_of_stock += 1;
                    break;
                }
                other => panic!("order {id} ended {other}: {o}"),
            }
        }
    }
    let wall = started.elapsed();
    assert_eq!(confirmed, units as usize, "confirmed orders");
    assert_eq!(
        out_of_stock,
        shoppers_count - units as usize,
        "failed orders"
    );
    let (status, stock) = call(
        &client,
        reqwest::Method::GET,
        h.url(&format!("/v1/inventory/{sku}")),
        &admin,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (stock["available"].as_i64(), stock["reserved"].as_i64()),
        (Some(0), Some(0)),
        "{stock}"
    );
    eprintln!(
        "flash sale on {tag}: {shoppers_count} checkouts for {units} units settled in {wall:?}"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flash_sale_on_redb() {
    let dir = tempfile::tempdir().unwrap();
    let store = lite_store::redb_store::RedbStore::open(&dir.path().join("store.redb")).unwrap();
    let changes = store.changes();
    flash_sale(Arc::new(store), Some(changes), "REDB", 500, 50).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flash_sale_on_dynamodb() {
    let store = lite_dynamo::testing::test_store().await;
    let tag = format!("DDB{}", std::process::id());
    flash_sale(store, None, &tag, 30, 3).await;
}
