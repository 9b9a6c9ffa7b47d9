//! Checkout through the real binary: guest cart → sign-in → merge → order
//! → saga → CONFIRMED (or FAILED with everything compensated), cancel and
//! ship, idempotency keys, and the payment webhook's defences. Each outcome
//! is checked for stock (`available`, `reserved`) and payment consistency.
//!
//! The sandbox provider posts its signed webhooks to the API itself; one
//! test plays the provider (it knows `PAYMENT_WEBHOOK_SECRET`) to forge,
//! replay and age webhooks.

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::{Duration, Instant};
use system_tests::{send, Reply, Seed, TestApi};

const WEBHOOK_SECRET: &str = "whsec_system_tests_0123456789abcdef";
/// How long a checkout may take to reach a terminal status here.
const SETTLE: Duration = Duration::from_secs(60);

async fn spawn(timeout_secs: &str) -> TestApi {
    TestApi::spawn_with_env(
        Seed::None,
        &[
            ("PAYMENT_WEBHOOK_SECRET", WEBHOOK_SECRET),
            ("CHECKOUT_PAYMENT_TIMEOUT_SECS", timeout_secs),
        ],
    )
    .await
}

/// A product with `stock` units; returns (productId, sku).
async fn product(api: &TestApi, sku: &str, price: i64, stock: i64) -> (String, String) {
    let r = send(
        api.request(Method::POST, "/v1/products")
            .bearer_auth(api.admin_token())
            .json(&json!({
                "sku": sku,
                "name": format!("Checkout test {sku}"),
                "description": "A product made by the checkout system tests.",
                "category": "audio",
                "brand": "Sonique",
                "price": {"amount": price, "currency": "USD"},
                "images": [],
                "attributes": {}
            })),
    )
    .await;
    assert_eq!(r.status, 201, "create product: {}", r.body);
    set_stock(api, sku, stock).await;
    (r.body["id"].as_str().unwrap().to_owned(), sku.to_owned())
}

async fn set_stock(api: &TestApi, sku: &str, available: i64) {
    let r = send(
        api.request(Method::PUT, &format!("/v1/inventory/{sku}"))
            .bearer_auth(api.admin_token())
            .json(&json!({ "available": available })),
    )
    .await;
    assert_eq!(r.status, 200, "set stock: {}", r.body);
}

async fn stock(api: &TestApi, sku: &str) -> (i64, i64) {
    let r = send(
        api.request(Method::GET, &format!("/v1/inventory/{sku}"))
            .bearer_auth(api.admin_token()),
    )
    .await;
    assert_eq!(r.status, 200, "stock: {}", r.body);
    (
        r.body["available"].as_i64().unwrap(),
        r.body["reserved"].as_i64().unwrap(),
    )
}

/// Waits until `sku` shows (available, reserved), or fails with what it shows.
async fn await_stock(api: &TestApi, sku: &str, want: (i64, i64)) {
    let deadline = Instant::now() + SETTLE;
    loop {
        let now = stock(api, sku).await;
        if now == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "stock of {sku} is {now:?}, expected {want:?}\n{}",
            api.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A new shopper with a default address; returns the access token.
async fn shopper(api: &TestApi, name: &str) -> String {
    let email = format!("{}-{}@shoppers.test", name.to_lowercase(), ulid_ish());
    let r = send(api.request(Method::POST, "/v1/auth/signup").json(&json!({
        "email": email, "password": "correct horse battery staple", "name": name
    })))
    .await;
    assert_eq!(r.status, 201, "signup: {}", r.body);
    let token = r.body["accessToken"].as_str().unwrap().to_owned();
    let r = send(
        api.request(Method::POST, "/v1/me/addresses")
            .bearer_auth(&token)
            .json(&json!({
                "label": "Home", "line1": "1 Main St", "city": "Springfield",
                "postalCode": "12345", "country": "US"
            })),
    )
    .await;
    assert_eq!(r.status, 201, "address: {}", r.body);
    token
}

fn ulid_ish() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

async fn add_to_cart(api: &TestApi, token: &str, product_id: &str, quantity: u32) -> Reply {
    let r = send(
        api.request(Method::POST, "/v1/cart/items")
            .bearer_auth(token)
            .json(&json!({"productId": product_id, "quantity": quantity})),
    )
    .await;
    assert_eq!(r.status, 200, "add to cart: {}", r.body);
    r
}

async fn place(api: &TestApi, token: &str, key: &str, payment_token: &str) -> Reply {
    send(
        api.request(Method::POST, "/v1/orders")
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&json!({"payment": {"method": "card", "token": payment_token}})),
    )
    .await
}

async fn order(api: &TestApi, token: &str, id: &str) -> Value {
    let r = send(
        api.request(Method::GET, &format!("/v1/orders/{id}"))
            .bearer_auth(token),
    )
    .await;
    assert_eq!(r.status, 200, "get order: {}", r.body);
    r.body
}

/// Waits until the order leaves PENDING; returns it.
async fn settled(api: &TestApi, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + SETTLE;
    loop {
        let o = order(api, token, id).await;
        if o["status"] != "PENDING" {
            return o;
        }
        assert!(
            Instant::now() < deadline,
            "order {id} still PENDING\n{}",
            api.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn payment(api: &TestApi, token: &str, order_id: &str) -> Reply {
    send(
        api.request(Method::GET, &format!("/v1/orders/{order_id}/payment"))
            .bearer_auth(token),
    )
    .await
}

/// Waits until the order's payment has `status`.
async fn await_payment(api: &TestApi, token: &str, order_id: &str, status: &str) -> Value {
    let deadline = Instant::now() + SETTLE;
    loop {
        let r = payment(api, token, order_id).await;
        if r.status == 200 && r.body["status"] == status {
            return r.body;
        }
        assert!(
            Instant::now() < deadline,
            "payment of {order_id}: {} {}, expected {status}\n{}",
            r.status,
            r.body,
            api.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn history(o: &Value) -> Vec<String> {
    o["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_guest_cart_becomes_a_confirmed_order_and_is_shipped() {
    let api = spawn("900").await;
    let (pid, sku) = product(&api, "CHK-HAPPY-001", 12_999, 10).await;

    // A guest fills a cart, then signs in and merges it.
    let r = send(
        api.request(Method::POST, "/v1/cart/items")
            .json(&json!({"productId": pid, "quantity": 2})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let cart_token = r.header("x-cart-token").expect("a cart token").to_owned();
    let token = shopper(&api, "Hana").await;
    let r = send(
        api.request(Method::POST, "/v1/cart/merge")
            .bearer_auth(&token)
            .header("X-Cart-Token", &cart_token),
    )
    .await;
    assert_eq!(r.status, 200, "merge: {}", r.body);
    assert_eq!(r.body["itemCount"], 2);

    let r = place(&api, &token, "happy-1", "tok_visa").await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["status"], "PENDING");
    assert_eq!(
        r.body["total"],
        json!({"amount": 25_998, "currency": "USD"})
    );
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/orders/{id}").as_str())
    );

    // The cart is empty now.
    let r = send(api.request(Method::GET, "/v1/cart").bearer_auth(&token)).await;
    assert_eq!(r.body["itemCount"], 0, "{}", r.body);

    let o = settled(&api, &token, &id).await;
    assert_eq!(o["status"], "CONFIRMED", "{o}");
    assert_eq!(history(&o), ["PENDING", "CONFIRMED"]);
    assert_eq!(o["payment"]["status"], "authorized");
    await_stock(&api, &sku, (8, 0)).await;
    let p = await_payment(&api, &token, &id, "authorized").await;
    assert_eq!(p["amount"], json!({"amount": 25_998, "currency": "USD"}));
    assert_eq!(p["provider"], "sandbox");

    // Listed, newest first.
    let r = send(api.request(Method::GET, "/v1/orders").bearer_auth(&token)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["items"][0]["id"], id.as_str());

    // Another shopper cannot see it; a customer cannot ship it.
    let other = shopper(&api, "Omar").await;
    let r = send(
        api.request(Method::GET, &format!("/v1/orders/{id}"))
            .bearer_auth(&other),
    )
    .await;
    r.assert_problem(404, "not_found");
    assert_eq!(payment(&api, &other, &id).await.status, 404);
    let r = send(
        api.request(Method::POST, &format!("/v1/orders/{id}/ship"))
            .bearer_auth(&token),
    )
    .await;
    r.assert_problem(403, "forbidden");

    // The admin ships it; the payment is captured.
    let r = send(
        api.request(Method::POST, &format!("/v1/orders/{id}/ship"))
            .bearer_auth(api.admin_token()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "SHIPPED");
    await_payment(&api, &token, &id, "captured").await;
    // Shipped orders are not cancellable, and not shipped twice.
    let r = send(
        api.request(Method::POST, &format!("/v1/orders/{id}/cancel"))
            .bearer_auth(&token),
    )
    .await;
    r.assert_problem(409, "conflict");
    let r = send(
        api.request(Method::POST, &format!("/v1/orders/{id}/ship"))
            .bearer_auth(api.admin_token()),
    )
    .await;
    r.assert_problem(409, "conflict");
    await_stock(&api, &sku, (8, 0)).await;
}

/// Declines, out of stock and a provider that never answers: each order
/// FAILS with its reason and leaves stock and payment as they were.
#[tokio::test]
async fn every_failed_checkout_is_compensated() {
    let api = spawn("2").await;
    let (pid, sku) = product(&api, "CHK-FAIL-001", 5_000, 5).await;
    let cases = [
        ("tok_chargeDeclined", "payment_declined", Some("failed")),
        ("tok_insufficientFunds", "payment_declined", Some("failed")),
        ("tok_noWebhook", "payment_timeout", Some("failed")),
    ];
    for (i, (payment_token, reason, payment_status)) in cases.iter().enumerate() {
        let token = shopper(&api, &format!("Fail{i}")).await;
        add_to_cart(&api, &token, &pid, 2).await;
        let r = place(&api, &token, &format!("fail-{i}"), payment_token).await;
        assert_eq!(r.status, 202, "{}", r.body);
        let id = r.body["id"].as_str().unwrap().to_owned();
        let o = settled(&api, &token, &id).await;
        assert_eq!(o["status"], "FAILED", "{payment_token}: {o}");
        assert_eq!(o["failure"]["reason"], *reason, "{payment_token}: {o}");
        assert_eq!(history(&o), ["PENDING", "FAILED"]);
        if let Some(status) = payment_status {
            await_payment(&api, &token, &id, status).await;
        }
        await_stock(&api, &sku, (5, 0)).await;
    }

    // Out of stock: more than there is.
    let token = shopper(&api, "Greedy").await;
    add_to_cart(&api, &token, &pid, 6).await;
    let r = place(&api, &token, "oos-1", "tok_visa").await;
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let o = settled(&api, &token, &id).await;
    assert_eq!(o["status"], "FAILED", "{o}");
    assert_eq!(o["failure"]["reason"], "out_of_stock");
    await_stock(&api, &sku, (5, 0)).await;
    // No money was ever asked for.
    assert_eq!(payment(&api, &token, &id).await.status, 404);
}

#[tokio::test]
async fn cancelling_a_confirmed_order_returns_stock_and_voids_the_payment() {
    let api = spawn("900").await;
    let (pid, sku) = product(&api, "CHK-CANCEL-001", 7_500, 4).await;
    let token = shopper(&api, "Cato").await;
    add_to_cart(&api, &token, &pid, 3).await;
    let r = place(&api, &token, "cancel-1", "tok_visa").await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(settled(&api, &token, &id).await["status"], "CONFIRMED");
    await_stock(&api, &sku, (1, 0)).await;

    let r = send(
        api.request(Method::POST, &format!("/v1/orders/{id}/cancel"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "CANCELLED");
    assert_eq!(history(&r.body), ["PENDING", "CONFIRMED", "CANCELLED"]);
    await_stock(&api, &sku, (4, 0)).await;
    await_payment(&api, &token, &id, "voided").await;
    let r = send(
        api.request(Method::POST, &format!("/v1/orders/{id}/cancel"))
            .bearer_auth(&token),
    )
    .await;
    r.assert_problem(409, "conflict");
}

#[tokio::test]
async fn idempotency_keys_replay_and_refuse_reuse() {
    let api = spawn("900").await;
    let (pid, _) = product(&api, "CHK-IDEM-001", 1_000, 50).await;
    let token = shopper(&api, "Ida").await;

    // Without a key: 400, nothing placed.
    add_to_cart(&api, &token, &pid, 1).await;
    let r = send(
        api.request(Method::POST, "/v1/orders")
            .bearer_auth(&token)
            .json(&json!({"payment": {"method": "card", "token": "tok_visa"}})),
    )
    .await;
    r.assert_problem(400, "validation_failed")
        .assert_invalid("Idempotency-Key");

    let first = place(&api, &token, "idem-1", "tok_visa").await;
    assert_eq!(first.status, 202, "{}", first.body);
    // Same key and body: the same answer, no second order (the cart is
    // empty now, so a second placement would have been a 422).
    let again = place(&api, &token, "idem-1", "tok_visa").await;
    assert_eq!(again.status, 202, "{}", again.body);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    // Same key, another body: 409.
    let r = place(&api, &token, "idem-1", "tok_chargeDeclined").await;
    r.assert_problem(409, "idempotency_conflict");
    // A new key on an empty cart: 422.
    let r = place(&api, &token, "idem-2", "tok_visa").await;
    r.assert_problem(422, "cart_empty");
    let r = send(api.request(Method::GET, "/v1/orders").bearer_auth(&token)).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "{}", r.body);
    // Keys are per shopper.
    let other = shopper(&api, "Ivo").await;
    add_to_cart(&api, &other, &pid, 1).await;
    let r = place(&api, &other, "idem-1", "tok_visa").await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_ne!(r.body["id"], first.body["id"]);
}

fn sign(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

async fn webhook(api: &TestApi, signature: Option<String>, body: &str) -> Reply {
    let mut r = api
        .request(Method::POST, "/v1/payments/webhook")
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(s) = signature {
        r = r.header("Payment-Signature", s);
    }
    send(r).await
}

/// The test plays the provider for an order whose real provider never
/// answers: forged, stale and replayed webhooks have no effect; one good
/// webhook confirms the order exactly once.
#[tokio::test]
async fn the_webhook_takes_only_fresh_signed_events_once() {
    let api = spawn("60").await;
    let (pid, sku) = product(&api, "CHK-HOOK-001", 3_000, 3).await;
    let token = shopper(&api, "Webb").await;
    add_to_cart(&api, &token, &pid, 1).await;
    let r = place(&api, &token, "hook-1", "tok_noWebhook").await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    let p = await_payment(&api, &token, &id, "pending").await;
    let payment_id = p["paymentId"].as_str().unwrap().to_owned();

    let now = chrono::Utc::now().timestamp();
    let event = json!({
        "id": "evt_systemtest_authorized_1", "type": "payment.authorized", "created": now,
        "data": {"paymentId": payment_id, "orderId": id, "amount": {"amount": 3000, "currency": "USD"}}
    })
    .to_string();

    // No signature, a wrong secret, a tampered body, a stale timestamp.
    webhook(&api, None, &event)
        .await
        .assert_problem(400, "invalid_signature");
    webhook(&api, Some(sign("whsec_wrong", now, &event)), &event)
        .await
        .assert_problem(400, "invalid_signature");
    let tampered = event.replace("3000", "1");
    webhook(&api, Some(sign(WEBHOOK_SECRET, now, &event)), &tampered)
        .await
        .assert_problem(400, "invalid_signature");
    webhook(&api, Some(sign(WEBHOOK_SECRET, now - 3600, &event)), &event)
        .await
        .assert_problem(400, "invalid_signature");
    assert_eq!(order(&api, &token, &id).await["status"], "PENDING");
    assert_eq!(payment(&api, &token, &id).await.body["status"], "pending");

    // The real thing.
    let r = webhook(&api, Some(sign(WEBHOOK_SECRET, now, &event)), &event).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let o = settled(&api, &token, &id).await;
    assert_eq!(o["status"], "CONFIRMED", "{o}");
    // Replayed: 200, nothing new.
    let r = webhook(&api, Some(sign(WEBHOOK_SECRET, now, &event)), &event).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A later contradicting event for the same payment changes nothing.
    let failed = json!({
        "id": "evt_systemtest_failed_1", "type": "payment.failed", "created": now,
        "data": {"paymentId": payment_id, "orderId": id, "amount": {"amount": 3000, "currency": "USD"}, "reason": "card_declined"}
    })
    .to_string();
    let r = webhook(&api, Some(sign(WEBHOOK_SECRET, now, &failed)), &failed).await;
    assert_eq!(r.status, 200, "{}", r.body);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let o = order(&api, &token, &id).await;
    assert_eq!(o["status"], "CONFIRMED");
    assert_eq!(history(&o), ["PENDING", "CONFIRMED"]);
    assert_eq!(
        payment(&api, &token, &id).await.body["status"],
        "authorized"
    );
    await_stock(&api, &sku, (2, 0)).await;
}

/// SIGKILL in the middle of checkouts: after the restart every order ends
/// CONFIRMED or FAILED, and stock and payments agree with the outcomes.
#[tokio::test]
async fn a_crash_mid_checkout_leaves_nothing_half_done() {
    let mut api = spawn("3").await;
    let (pid, sku) = product(&api, "CHK-CRASH-001", 2_000, 12).await;
    let tokens = [
        "tok_visa",
        "tok_chargeDeclined",
        "tok_visa",
        "tok_noWebhook",
    ];
    let mut placed = vec![];
    for i in 0..8 {
        let token = shopper(&api, &format!("Crash{i}")).await;
        add_to_cart(&api, &token, &pid, 2).await;
        placed.push((token, tokens[i % tokens.len()]));
    }
    // Place them all at once and kill the server while they run.
    let mut orders = vec![];
    let replies = futures_join(&api, &placed).await;
    for (reply, (token, _)) in replies.into_iter().zip(&placed) {
        assert_eq!(reply.status, 202, "{}", reply.body);
        orders.push((token.clone(), reply.body["id"].as_str().unwrap().to_owned()));
    }
    // Some checkouts are mid-saga now: reserved, or waiting for a webhook.
    tokio::time::sleep(Duration::from_millis(20)).await;
    api.kill_hard();
    api.start().await;

    let mut confirmed_units = 0;
    for (token, id) in &orders {
        let o = settled(&api, token, id).await;
        match o["status"].as_str().unwrap() {
            "CONFIRMED" => {
                confirmed_units += 2;
                await_payment(&api, token, id, "authorized").await;
            }
            "FAILED" => {
                let p = payment(&api, token, id).await;
                if p.status == 200 {
                    let s = p.body["status"].as_str().unwrap();
                    assert!(
                        s == "failed" || s == "voided",
                        "payment of a failed order is {s}"
                    );
                }
            }
            other => panic!("order {id} ended {other}: {o}"),
        }
    }
    assert!(confirmed_units <= 12);
    await_stock(&api, &sku, (12 - confirmed_units, 0)).await;
}

async fn futures_join(api: &TestApi, placed: &[(String, &str)]) -> Vec<Reply> {
    let mut handles = vec![];
    for (i, (token, payment_token)) in placed.iter().enumerate() {
        let request = api
            .request(Method::POST, "/v1/orders")
            .bearer_auth(token)
            .header("Idempotency-Key", format!("crash-{i}"))
            .json(&json!({"payment": {"method": "card", "token": payment_token}}));
        handles.push(tokio::spawn(send(request)));
    }
    let mut replies = vec![];
    for h in handles {
        replies.push(h.await.unwrap());
    }
    replies
}
