//! `GET /metrics` on the real binary: a checkout moves exactly the
//! counters it should (orders, payment, stock, events, saga, the HTTP
//! counter of the route template), and a declined card moves
//! `orders_failed{reason="payment_declined"}`.

use reqwest::Method;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use system_tests::{
    eventually, place_order, product_body, send, settled_order, shopper, stocked_product, Seed,
    TestApi,
};

/// One scrape: every sample by name and labels.
#[derive(Debug, Clone, Default)]
struct Scrape {
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
    text: String,
}

impl Scrape {
    /// Parses the Prometheus text format (`name{k="v",…} value`).
    fn parse(text: &str) -> Scrape {
        let mut samples = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("`series value`");
            let value: f64 = value.parse().expect("a number");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => {
                    let body = rest.strip_suffix('}').expect("labels end with }");
                    (name, labels_of(body))
                }
                None => (series, BTreeMap::new()),
            };
            samples.push((name.to_owned(), labels, value));
        }
        Scrape {
            samples,
            text: text.to_owned(),
        }
    }

    /// The sum over the series of `name` that carry all of `labels`
    /// (0 when none does: a counter not yet moved).
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, v)| v)
            .sum()
    }
}

/// `k="v",k2="v2"` (values here never hold quotes or commas).
fn labels_of(body: &str) -> BTreeMap<String, String> {
    body.split("\",")
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once("=\"").expect("k=\"v\"");
            (k.to_owned(), v.trim_end_matches('"').to_owned())
        })
        .collect()
}

async fn scrape(api: &TestApi) -> Scrape {
    let r = api
        .client()
        .get(api.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(r.status(), 200);
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    Scrape::parse(&r.text().await.expect("a body"))
}

/// What a metric moved by between two scrapes.
fn delta(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.get(name, labels) - before.get(name, labels)
}

async fn spawn() -> TestApi {
    TestApi::spawn_with_env(
        Seed::None,
        &[(
            "PAYMENT_WEBHOOK_SECRET",
            "whsec_metrics_tests_0123456789abcdef",
        )],
    )
    .await
}

async fn product(api: &TestApi) -> String {
    let body = stocked_product(
        api,
        product_body("MET", "Metrics test speaker", "audio", 2599),
        10,
    )
    .await;
    body["id"].as_str().expect("a product id").to_owned()
}

/// Scrapes until `name{labels}` has moved by `want` since `before` (events
/// are published by the relay a moment after the write that made them).
async fn settled(
    api: &TestApi,
    before: &Scrape,
    name: &'static str,
    labels: &'static [(&'static str, &'static str)],
    want: f64,
) -> Scrape {
    eventually(
        Duration::from_secs(60),
        &format!("{name}{labels:?} moves by {want}"),
        || async move {
            let now = scrape(api).await;
            let moved = delta(before, &now, name, labels);
            if moved == want {
                Ok(now)
            } else {
                Err(format!("moved by {moved}"))
            }
        },
    )
    .await
}

#[tokio::test]
async fn a_checkout_moves_the_business_and_http_counters_by_exactly_one() {
    let api = spawn().await;
    let product_id = product(&api).await;
    let buyer = shopper(&api, "Metrics").await;

    let before = scrape(&api).await;
    let order_id = place_order(&api, &buyer.token, &product_id, 2, "tok_visa").await;
    let order = settled_order(&api, &buyer.token, &order_id).await;
    assert_eq!(order["status"], "CONFIRMED", "{order}");
    let after = settled(
        &api,
        &before,
        "events_published",
        &[("type", "order.confirmed.v1")],
        1.0,
    )
    .await;

    let moved = |name: &str, labels: &[(&str, &str)]| delta(&before, &after, name, labels);
    assert_eq!(moved("orders_placed", &[("service", "orders")]), 1.0);
    assert_eq!(moved("orders_confirmed", &[("service", "orders")]), 1.0);
    assert_eq!(moved("orders_failed", &[]), 0.0);
    assert_eq!(
        moved(
            "payment_authorizations",
            &[("service", "payments"), ("outcome", "authorized")]
        ),
        1.0
    );
    assert_eq!(moved("payment_authorizations", &[]), 1.0);
    assert_eq!(
        moved(
            "stock_reservations",
            &[("service", "inventory"), ("outcome", "reserved")]
        ),
        1.0
    );
    assert_eq!(moved("saga_executions", &[("outcome", "started")]), 1.0);
    assert_eq!(moved("saga_executions", &[("outcome", "confirmed")]), 1.0);
    assert_eq!(
        moved("checkout_duration_count", &[("outcome", "confirmed")]),
        1.0
    );
    for event in [
        "order.created.v1",
        "cart.checked_out.v1",
        "inventory.reserved.v1",
        "payment.authorized.v1",
        "order.confirmed.v1",
    ] {
        assert_eq!(
            moved(
                "events_published",
                &[("service", "amazon-lite"), ("type", event)]
            ),
            1.0,
            "events_published{{type={event}}}"
        );
    }
    assert_eq!(
        moved(
            "events_consumed",
            &[("consumer", "checkout-start"), ("outcome", "ok")]
        ),
        1.0
    );
    // The route template, never the path: POST /v1/orders once, and the
    // order's polls under /v1/orders/{id}.
    assert_eq!(
        moved(
            "http_requests",
            &[
                ("service", "amazon-lite"),
                ("route", "/v1/orders"),
                ("method", "POST"),
                ("status_class", "2xx")
            ]
        ),
        1.0
    );
    assert!(
        moved(
            "http_requests",
            &[
                ("route", "/v1/orders/{id}"),
                ("method", "GET"),
                ("status_class", "2xx")
            ]
        ) >= 1.0
    );
    assert!(
        moved(
            "http_request_duration_count",
            &[("route", "/v1/orders"), ("method", "POST")]
        ) == 1.0
    );
    assert!(
        !after.text.contains(&order_id) && !after.text.contains(&product_id),
        "an id in a label:\n{}",
        after.text
    );
    // Scrapes are not API requests.
    assert_eq!(moved("http_requests", &[("route", "/metrics")]), 0.0);
}

#[tokio::test]
async fn a_declined_card_fails_the_order_with_its_reason() {
    let api = spawn().await;
    let product_id = product(&api).await;
    let buyer = shopper(&api, "Declined").await;

    let before = scrape(&api).await;
    let order_id = place_order(&api, &buyer.token, &product_id, 1, "tok_chargeDeclined").await;
    let order = settled_order(&api, &buyer.token, &order_id).await;
    assert_eq!(order["status"], "FAILED", "{order}");
    let after = settled(
        &api,
        &before,
        "events_published",
        &[("type", "order.failed.v1")],
        1.0,
    )
    .await;
    let moved = |name: &str, labels: &[(&str, &str)]| delta(&before, &after, name, labels);
    assert_eq!(
        moved(
            "orders_failed",
            &[("service", "orders"), ("reason", "payment_declined")]
        ),
        1.0
    );
    assert_eq!(moved("orders_failed", &[]), 1.0);
    assert_eq!(moved("orders_confirmed", &[]), 0.0);
    assert_eq!(
        moved("payment_authorizations", &[("outcome", "declined")]),
        1.0
    );
    assert_eq!(moved("saga_executions", &[("outcome", "refused")]), 1.0);
    assert_eq!(
        moved("checkout_duration_count", &[("outcome", "failed")]),
        1.0
    );
}

#[tokio::test]
async fn sign_ins_are_counted_by_method_and_outcome() {
    let api = spawn().await;
    let before = scrape(&api).await;
    let r = send(api.request(Method::POST, "/v1/auth/login").json(&json!({
        "email": "customer@amazon-lite.test", "password": "not the password"
    })))
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    let after = scrape(&api).await;
    let moved = |labels: &[(&str, &str)]| delta(&before, &after, "logins", labels);
    assert_eq!(
        moved(&[
            ("service", "auth"),
            ("method", "password"),
            ("outcome", "failure")
        ]),
        1.0
    );
    assert_eq!(moved(&[("outcome", "success")]), 0.0);
    // The harness signed the admin in once at start-up.
    assert_eq!(
        after.get("logins", &[("method", "password"), ("outcome", "success")]),
        1.0
    );
    assert_eq!(
        delta(
            &before,
            &after,
            "http_requests",
            &[("route", "/v1/auth/login"), ("status_class", "4xx")]
        ),
        1.0
    );
}

/// The stuck-order gauge is reported by the sweeper from its first run, so
/// the alarm has data (0: no order in checkout) before any order exists.
#[tokio::test]
async fn the_oldest_pending_order_gauge_is_reported_from_start() {
    let api = spawn().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = scrape(&api).await;
        let gauge = now.samples.iter().find(|(n, l, _)| {
            n == "orders_pending_oldest_age"
                && l.get("service").map(String::as_str) == Some("orders")
        });
        if let Some((_, _, age)) = gauge {
            assert!(
                *age >= 0.0 && *age < 60.0,
                "a fresh system's oldest PENDING age: {age}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never reported:\n{}",
            now.text
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
