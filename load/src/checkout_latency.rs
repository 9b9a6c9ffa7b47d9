//! End-to-end local checkout latency: `POST /v1/orders` → the order reads
//! CONFIRMED, over HTTP against the whole system in this process on redb
//! (a file), with the sandbox provider answering at once. Prints p50/p99
//! of sequential checkouts, then the wall time of a flash sale (N
//! concurrent checkouts for N/10 units).
//!
//! `cargo run --release -p load --bin checkout-latency -- [checkouts] [flash-shoppers]`
//!
//! `checkout-latency breakdown [checkouts] [pause-ms]`: where the time goes
//! instead. Sequential checkouts (`pause-ms` apart, default 100; 0: back to
//! back, as above) on a store that records its writes; prints the
//! writes and commits per checkout and the chain of the median one (each
//! write: when it was asked for and when its commit answered, in ms after
//! `POST /v1/orders` was sent).

#[path = "checkout_latency/timeline.rs"]
mod timeline;

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
    let (t, status, _) = checkout_timed(h, client, user, pid).await;
    (t, status)
}

/// [`checkout`], also returning when `POST /v1/orders` was sent and answered.
async fn checkout_timed(
    h: &Harness,
    client: &reqwest::Client,
    user: &str,
    pid: &str,
) -> (Duration, String, (Instant, Instant)) {
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
    let placed = Instant::now();
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
            return (started.elapsed(), status, (started, placed));
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(from: Instant, to: Instant) -> f64 {
    to.saturating_duration_since(from).as_secs_f64() * 1e3
}

/// `breakdown [checkouts] [pause ms]`: see the module documentation.
async fn breakdown(n: usize, pause: Duration) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store =
        lite_store::redb_store::RedbStore::open(&dir.path().join("store.redb")).expect("redb");
    let changes = store.changes();
    let commits = timeline::count_commits(Arc::clone(&changes));
    let recorded = timeline::Timeline::new(Arc::new(store));
    let h = Harness::start(recorded.clone(), Some(changes), 60)
        .await
        .expect("the system starts");
    let client = reqwest::Client::new();
    let pid = product(&h, &client, "BENCH-TRACE-001", 1_000_000).await;
    // Warm-up: connections, caches, the first checkout's one-time work.
    for i in 0..3 {
        checkout(&h, &client, &format!("usr_01JWARMB{i:018}"), &pid).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut runs = vec![];
    for i in 0..n {
        let before = commits.load(std::sync::atomic::Ordering::SeqCst);
        recorded.record();
        let (t, status, (sent, placed)) =
            checkout_timed(&h, &client, &format!("usr_01JTRACE{i:018}"), &pid).await;
        let end = sent + t;
        let after = commits.load(std::sync::atomic::Ordering::SeqCst);
        // With a pause, the tail (acks, the saga's last save, consumers of
        // the confirmation) finishes outside the next checkout's recording;
        // without, it overlaps the next checkout, as in the benchmark.
        tokio::time::sleep(pause).await;
        let (writes, reads) = recorded.take();
        assert_eq!(status, "CONFIRMED");
        runs.push((t, after - before, writes, reads, sent, placed, end));
    }
    runs.sort_by_key(|r| r.0);
    let on_path = |r: &(
        Duration,
        u64,
        Vec<timeline::Write>,
        usize,
        Instant,
        Instant,
        Instant,
    )| { r.2.iter().filter(|w| w.answered <= r.6).count() };
    let mut counts: Vec<usize> = runs.iter().map(on_path).collect();
    counts.sort();
    let mut commit_counts: Vec<u64> = runs.iter().map(|r| r.1).collect();
    commit_counts.sort();
    // When the confirmation committed (the last write answered before the
    // read), so the read's own lag (the poll) shows apart.
    let mut confirmed: Vec<Duration> = runs
        .iter()
        .filter_map(|r| {
            r.2.iter()
                .filter(|w| w.answered <= r.6)
                .map(|w| w.answered.saturating_duration_since(r.4))
                .max()
        })
        .collect();
    confirmed.sort();
    println!(
        "breakdown, {n} sequential checkouts: latency p50 {:.2} ms, confirmation committed at p50 {:.2} ms; writes before CONFIRMED was read: median {}; commits: median {}",
        percentile(&runs.iter().map(|r| r.0).collect::<Vec<_>>(), 0.5).as_secs_f64() * 1e3,
        percentile(&confirmed, 0.5).as_secs_f64() * 1e3,
        counts[counts.len() / 2],
        commit_counts[commit_counts.len() / 2],
    );
    let (t, commits_here, writes, reads, sent, placed, end) = &runs[runs.len() / 2];
    println!(
        "the median checkout ({:.2} ms, {commits_here} commits, {reads} reads; POST answered at {:.2} ms):",
        t.as_secs_f64() * 1e3,
        ms(*sent, *placed)
    );
    println!("  asked    answered  waited  write");
    for w in writes {
        let mark = if w.answered > *end {
            "  (after CONFIRMED was read)"
        } else {
            ""
        };
        println!(
            "  {:7.2}  {:8.2}  {:6.2}  {} {}{}{}",
            ms(*sent, w.asked),
            ms(*sent, w.answered),
            ms(w.asked, w.answered),
            w.kind,
            w.what,
            if w.ok { "" } else { " (condition failed)" },
            mark
        );
    }
    println!("  {:7.2}            CONFIRMED read", ms(*sent, *end));
    h.stop().await;
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("breakdown") {
        args.next();
        let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
        let pause: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
        breakdown(n.max(1), Duration::from_millis(pause)).await;
        return;
    }
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
