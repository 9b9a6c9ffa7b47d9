//! `flash-sale`: an administrator puts a new product on sale with M units;
//! N buyers sign up and put it in their carts, wait for one another (a
//! barrier: the release instant) and all place their orders at once. Then:
//! exactly M orders CONFIRMED, the others FAILED for `out_of_stock`, the
//! product's stock 0 available and 0 reserved, every confirmed order's
//! payment authorized and no failed order with a payment authorized
//! (`GET /v1/orders/{id}/payment`).

use super::admin::{get_json, join, sign_in, stock_item};
use super::api::Step;
use super::ledger::{settle, PaymentToken, Settled};
use super::shopper::{self, place_and_follow, shopper, start};
use super::{attack, goose_configuration, LoadError, Options, Report, Shared};
use goose::prelude::*;
use reqwest13::{Client, StatusCode, Url};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::Barrier;

/// The product on sale.
struct Sale {
    product_id: String,
    sku: String,
    units: usize,
}

/// The buyers' meeting point and when they left it.
struct Release {
    barrier: Barrier,
    at: Mutex<Option<(Instant, SystemTime)>>,
    deadline: Duration,
}

pub async fn run(options: &Options) -> Result<Report, LoadError> {
    let buyers = options.users.max(1);
    let units = options.units.unwrap_or((buyers / 10).max(1));
    let admin = options.admin.clone().ok_or_else(|| {
        LoadError::Setup(
            "flash-sale signs in as the administrator: set ADMIN_EMAIL and ADMIN_PASSWORD".into(),
        )
    })?;
    let shared = Shared::new(options, buyers).await?;
    let observer = shared.clients.observer().clone();
    let host = options.host.clone();
    let admin_token = sign_in(&observer, &host, &admin).await?;
    let sale = Arc::new(put_on_sale(&observer, &host, &admin_token, units, &shared.run_id).await?);
    let release = Arc::new(Release {
        barrier: Barrier::new(buyers),
        at: Mutex::new(None),
        deadline: options.duration,
    });

    let buy: goose::goose::TransactionFunction = {
        let (sale, release) = (sale.clone(), release.clone());
        Arc::new(move |user| {
            let (sale, release) = (sale.clone(), release.clone());
            Box::pin(async move { buyer(user, &sale, &release).await })
        })
    };
    let scenario = scenario!("buyer")
        .register_transaction(start(shared.clone(), false))
        .register_transaction(Transaction::new(buy).set_name("flash buyer"));
    // Every buyer starts within about a second; each runs once.
    let configuration = goose_configuration(options, buyers, buyers as f64, None, Some(1));
    let metrics = attack(configuration, vec![scenario]).await?;

    let mut report = Report::from_metrics(options.scenario.name(), &metrics, &shared.faults);
    let released = *release.at.lock().expect("release lock");
    let placed = shared.ledger.take();
    let settled = settle(&observer, &host, placed, Duration::from_secs(60)).await;
    let last_end = settled.outcomes.iter().filter_map(|o| o.updated_at).max();
    report.note(format!(
        "{buyers} buyers for {} units (sku {})",
        sale.units, sale.sku
    ));
    report.note(shared.clients.summary());
    if let (Some((_, wall)), Some(end)) = (released, last_end) {
        let ms = end
            .duration_since(wall)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        report.note(format!("release to the last order's end: {ms} ms"));
    }
    report.check(
        format!("all {buyers} buyers were released at once"),
        released.is_some(),
    );
    check_ends(&observer, &host, &settled, buyers, units, &mut report).await;
    let want = ((units as i64 - buyers as i64).max(0), 0);
    let stock = await_stock(&observer, &host, &admin_token, &sale.sku, want).await?;
    report.check(
        format!(
            "stock available {} reserved {} (expected {} and {})",
            stock.0, stock.1, want.0, want.1
        ),
        stock == want,
    );
    Ok(report)
}

/// One buyer: sign up, fill the cart, wait for all, order, watch it end.
async fn buyer(user: &mut GooseUser, sale: &Sale, release: &Release) -> Step {
    let prepared = prepare(user, sale).await;
    let s = shopper(user);
    match tokio::time::timeout(release.deadline, release.barrier.wait()).await {
        Ok(w) => {
            if w.is_leader() {
                *release.at.lock().expect("release lock") =
                    Some((Instant::now(), SystemTime::now()));
            }
        }
        Err(_) => {
            s.shared.faults.add(format!(
                "a buyer waited {:?} for the release",
                release.deadline
            ));
            return Ok(());
        }
    }
    // A buyer whose preparation failed has its failed request counted.
    prepared?;
    place_and_follow(user, PaymentToken::Visa, Some("order (release)")).await
}

async fn prepare(user: &mut GooseUser, sale: &Sale) -> Step {
    shopper::sign_up(user).await?;
    let token = shopper(user).token.unwrap_or_default();
    super::api::Call::post(
        "cart item",
        "/v1/cart/items",
        200,
        json!({"productId": sale.product_id, "quantity": 1}),
    )
    .bearer(Some(&token))
    .send(user)
    .await?;
    Ok(())
}

async fn check_ends(
    client: &Client,
    host: &Url,
    settled: &Settled,
    buyers: usize,
    units: usize,
    report: &mut Report,
) {
    let outcomes = &settled.outcomes;
    let confirmed = outcomes.iter().filter(|o| o.status == "CONFIRMED").count();
    let out_of_stock = outcomes
        .iter()
        .filter(|o| o.status == "FAILED" && o.reason.as_deref() == Some("out_of_stock"))
        .count();
    report.check(
        format!(
            "every buyer's order ended ({} of {buyers}, {} unsettled)",
            outcomes.len(),
            settled.unsettled.len()
        ),
        outcomes.len() == buyers && settled.unsettled.is_empty(),
    );
    let want_confirmed = units.min(buyers);
    report.check(
        format!("{confirmed} orders CONFIRMED (expected {want_confirmed})"),
        confirmed == want_confirmed,
    );
    report.check(
        format!(
            "{out_of_stock} orders FAILED out_of_stock (expected {})",
            buyers - want_confirmed
        ),
        out_of_stock == buyers - want_confirmed && confirmed + out_of_stock == outcomes.len(),
    );
    // The payment record of each order, as its owner reads it.
    let mut wrong = Vec::new();
    for o in outcomes {
        let payment = read_payment(client, host, &o.owner_token, &o.id).await;
        let ok = match (o.status.as_str(), &payment) {
            ("CONFIRMED", Ok(Some(s))) => s == "authorized",
            ("FAILED", Ok(None)) => true,
            ("FAILED", Ok(Some(s))) => !matches!(s.as_str(), "authorized" | "captured" | "pending"),
            _ => false,
        };
        if !ok {
            wrong.push(format!("{} {}: payment {payment:?}", o.id, o.status));
        }
    }
    report.check(
        format!(
            "confirmed orders' payments authorized, no failed order's payment authorized{}",
            wrong
                .first()
                .map(|w| format!(" — {} wrong, first: {w}", wrong.len()))
                .unwrap_or_default()
        ),
        wrong.is_empty(),
    );
}

/// `GET /v1/orders/{id}/payment`: its status, `None` when there is none
/// (404: the order ended before a payment was asked for).
async fn read_payment(
    client: &Client,
    host: &Url,
    token: &str,
    order: &str,
) -> Result<Option<String>, String> {
    let payment = get_json(client, host, token, &format!("/v1/orders/{order}/payment"))
        .await
        .map_err(|e| e.to_string())?;
    Ok(payment.and_then(|v| v["status"].as_str().map(str::to_owned)))
}

/// A product made for this sale, with `units` in stock.
async fn put_on_sale(
    client: &Client,
    host: &Url,
    admin_token: &str,
    units: usize,
    run_id: &str,
) -> Result<Sale, LoadError> {
    let sku = format!("FLASH-{}", run_id.to_uppercase());
    let r = client
        .post(join(host, "/v1/products"))
        .bearer_auth(admin_token)
        .json(&json!({
            "sku": sku,
            "name": format!("Flash sale headphones {sku}"),
            "description": "Limited run: a few units, released at one instant.",
            "category": "headphones",
            "brand": "Sonique",
            "price": {"amount": 4999, "currency": "USD"},
            "images": [],
            "attributes": {}
        }))
        .send()
        .await?;
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let product_id = match body["id"].as_str() {
        Some(id) if status == StatusCode::CREATED => id.to_owned(),
        _ => {
            return Err(LoadError::Setup(format!(
                "creating the product answered {status}: {body}"
            )))
        }
    };
    let r = client
        .put(join(host, &format!("/v1/inventory/{sku}")))
        .bearer_auth(admin_token)
        .json(&json!({ "available": units }))
        .send()
        .await?;
    if r.status() != StatusCode::OK {
        return Err(LoadError::Setup(format!(
            "setting the stock answered {}",
            r.status()
        )));
    }
    Ok(Sale {
        product_id,
        sku,
        units,
    })
}

/// The sku's (available, reserved) once it shows `want`, or what it shows
/// after 30 s (reservations of failed checkouts are released by events).
async fn await_stock(
    client: &Client,
    host: &Url,
    admin_token: &str,
    sku: &str,
    want: (i64, i64),
) -> Result<(i64, i64), LoadError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = stock_item(client, host, admin_token, sku)
            .await?
            .unwrap_or(Value::Null);
        let now = (
            v["available"].as_i64().unwrap_or(-1),
            v["reserved"].as_i64().unwrap_or(-1),
        );
        if now == want || Instant::now() > deadline {
            return Ok(now);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
