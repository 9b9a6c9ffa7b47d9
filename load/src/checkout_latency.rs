//! End-to-end local checkout latency: `POST /v1/orders` → the order reads
//! CONFIRMED, over HTTP against the whole system in this process on redb
//! (a file), with the sandbox provider answering at once. Prints p50/p99
//! of sequential checkouts, then the wall time of a flash sale (N
//! concurrent checkouts for N/10 units).
//!
//! `cargo run --release -p load --bin checkout-latency -- [checkouts] [flash-shoppers]`

use amazon_lite::harness::Harness;
use lite_http::testing::{admin_token, customer_token};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
    key: Option<String>,
) -> (u16, Value) {
    let mut r = client.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    let resp = r.send().await.expect("answered");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn product(h: &Harness, client: &reqwest::Client, sku: &str, units: i64) -> String {
    let admin = admin_token("usr_01JADMIN00000000000000000");
    let (s, p) = call(
        client,
        reqwest::Method::POST,
        h.url("/v1/products"),
        &admin,
        Some(json!({
            "sku": sku, "name": "Benchmark widget", "description": "Sold fast.",
            "category": "gadgets", "brand": "Bench", "price": {"amount": 1_000, "currency": "USD"},
            "images": [], "attributes": {}
        })),
        None,
    )
    .await;
    assert_eq!(s, 201, "{p}");
    let (s, b) = call(
        client,
        reqwest::Method::PUT,
        h.url(&format!("/v1/inventory/{sku}")),
        &admin,
        Some(json!({ "available": units })),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    p["id"].as_str().unwrap().to_owned()
}

/// One shopper's checkout; returns (placed→terminal latency, final status).
async fn checkout(
    h: &Harness,
    client: &reqwest::Client,
    user: &str,
    pid: &str,
) -> (Duration, String) {
    let token = customer_token(user);
    let (s, b) = call(
        client,
        reqwest::Method::POST,
        h.url("/v1/cart/items"),
        &token,
        Some(json!({"productId": pid, "quantity": 1})),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let started = Instant::now();
    let (s, o) = call(
        client,
        reqwest::Method::POST,
        h.url("/v1/orders"),
        &token,
        Some(json!({
            "address": {"line1": "1 Bench St", "city": "Springfield", "postalCode": "12345", "country": "US"},
            "payment": {"method": "card", "token": "tok_visa"}
        })),
        Some(format!("bench-{user}")),
    )
    .await;
    assert_eq!(s, 202, "{o}");
    let id = o["id"].as_str().unwrap().to_owned();
    loop {
        let (_, o) = call(
            client,
            reqwest::Method::GET,
            h.url(&format!("/v1/orders/{id}")),
            &token,
            None,
            None,
        )
        .await;
        let status = o["status"].as_str().unwrap_or("").to_owned();
        if status != "PENDING" {
            return (started.elapsed(), status);
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let shoppers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store =
        lite_store::redb_store::RedbStore::open(&dir.path().join("store.redb")).expect("redb");
    let changes = store.changes();
    let h = Harness::start(Arc::new(store), Some(changes), 60)
        .await
        .expect("the system starts");
    let client = reqwest::Client::new();

    let pid = product(&h, &client, "BENCH-SEQ-001", 1_000_000).await;
    let mut times = vec![];
    for i in 0..n {
        let (t, status) = checkout(&h, &client, &format!("usr_01JBENCH{i:018}"), &pid).await;
        assert_eq!(status, "CONFIRMED");
        times.push(t);
    }
    times.sort();
    println!(
        "checkout POST /v1/orders -> CONFIRMED, {n} sequential on redb: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3,
    );

    let units = (shoppers / 10).max(1) as i64;
    let pid = product(&h, &client, "BENCH-FLASH-001", units).await;
    let started = Instant::now();
    let mut tasks = vec![];
    for i in 0..shoppers {
        let (h_client, pid) = (client.clone(), pid.clone());
        let h = &h;
        tasks.push(
            async move { checkout(h, &h_client, &format!("usr_01JFLASHB{i:017}"), &pid).await },
        );
    }
    let results = futures::future::join_all(tasks).await;
    let confirmed = results.iter().filter(|(_, s)| s == "CONFIRMED").count();
    println!(
        "flash sale: {shoppers} concurrent checkouts for {units} units settled in {:.2} s ({confirmed} confirmed)",
        started.elapsed().as_secs_f64()
    );
    h.stop().await;
}
