//! `import`: a catalog import. `--users` administrators (8) create
//! products through `POST /v1/products` as fast as the API takes them, for
//! `--duration` (30 s), every product of the run under a brand of its own.
//! Then: every created product is searchable (`GET /v1/search?brand=…`
//! counts them all) and has its stock item (`GET /v1/inventory/{sku}`).
//! The search index and the stock follow the catalog through their
//! consumers, so the checks wait for them as long as they make progress
//! (a minute without any is a failure: something is stuck or lost), and
//! the time from the last create to the last product searchable is noted:
//! how far behind a burst of catalog writes the index falls.

use super::admin::{join, sign_in, stock_item};
use super::api::{Call, Step};
use super::shopper::start;
use super::{attack, goose_configuration, Admin, LoadError, Options, Report, Shared};
use goose::prelude::*;
use reqwest13::{Client, StatusCode, Url};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the checks wait for the consumers without seeing any progress.
const STALL: Duration = Duration::from_secs(60);

/// How long an administrator's access token is used before signing in
/// again (access tokens last 15 minutes).
const TOKEN_AGE: Duration = Duration::from_secs(600);

/// What the administrators share.
struct Import {
    admin: Admin,
    /// The observer's client and the faults (a failed sign-in counts as
    /// an error).
    shared: Arc<Shared>,
    /// The access token and when it was issued.
    token: tokio::sync::Mutex<(String, Instant)>,
    /// The run's brand: its products, and no others, carry it.
    brand: String,
    next: AtomicUsize,
    /// The skus created, and when the last create answered.
    created: Mutex<(Vec<String>, Option<Instant>)>,
}

pub async fn run(options: &Options) -> Result<Report, LoadError> {
    let admin = options.admin.clone().ok_or_else(|| {
        LoadError::Setup(
            "import signs in as the administrator: set ADMIN_EMAIL and ADMIN_PASSWORD".into(),
        )
    })?;
    let admins = options.users.max(1);
    let shared = Shared::new(options, admins).await?;
    let observer = shared.clients.observer().clone();
    let host = options.host.clone();
    let token = sign_in(&observer, &host, &admin).await?;
    let import = Arc::new(Import {
        admin,
        shared: shared.clone(),
        token: tokio::sync::Mutex::new((token, Instant::now())),
        brand: format!("Import-{}", shared.run_id),
        next: AtomicUsize::new(0),
        created: Mutex::new((Vec::new(), None)),
    });
    let create: goose::goose::TransactionFunction = {
        let import = import.clone();
        Arc::new(move |user| {
            let import = import.clone();
            Box::pin(async move { create(user, &import).await })
        })
    };
    let scenario = scenario!("administrator")
        .register_transaction(start(shared.clone(), false))
        .register_transaction(Transaction::new(create).set_name("product create"));
    let configuration =
        goose_configuration(options, admins, admins as f64, Some(options.duration), None);
    let metrics = attack(configuration, vec![scenario]).await?;
    let mut report = Report::from_metrics(options.scenario.name(), &metrics, &shared.faults);
    let (skus, last) = std::mem::take(&mut *import.created.lock().expect("created lock"));
    let last = last.unwrap_or_else(Instant::now);
    report.check("products were created", !skus.is_empty());
    report.note(format!(
        "{} products created by {admins} administrators (brand {})",
        skus.len(),
        import.brand
    ));
    let indexed = searchable(&observer, &host, &import.brand, skus.len()).await;
    match indexed {
        Some(at) => report.note(format!(
            "all searchable {} ms after the last create",
            at.saturating_duration_since(last).as_millis()
        )),
        None => report.note(format!(
            "search stopped counting products for {} s before it counted them all",
            STALL.as_secs()
        )),
    }
    report.check(
        format!("all {} products searchable by their brand", skus.len()),
        indexed.is_some(),
    );
    let token = import.token().await?;
    let stocked = stocked(&observer, &host, &token, &skus).await?;
    report.check(
        format!("{stocked} of {} products have their stock item", skus.len()),
        stocked == skus.len(),
    );
    report.note(shared.clients.summary());
    Ok(report)
}

impl Import {
    /// The administrators' access token, signed in again once it is
    /// [`TOKEN_AGE`] old, so runs longer than a token's life go on.
    async fn token(&self) -> Result<String, LoadError> {
        let mut held = self.token.lock().await;
        if held.1.elapsed() >= TOKEN_AGE {
            let (client, host) = (self.shared.clients.observer(), &self.shared.options.host);
            *held = (sign_in(client, host, &self.admin).await?, Instant::now());
        }
        Ok(held.0.clone())
    }
}

/// One product: a new sku, the run's brand, a price.
async fn create(user: &mut GooseUser, import: &Import) -> Step {
    let token = match import.token().await {
        Ok(token) => token,
        Err(e) => {
            let why = format!("the administrator's sign-in again: {e}");
            import.shared.faults.add(why.clone());
            return Err(Box::new(goose::goose::TransactionError::Custom(why)));
        }
    };
    let n = import.next.fetch_add(1, Ordering::SeqCst);
    let sku = format!("IMP-{}-{n:06}", import.brand.trim_start_matches("Import-")).to_uppercase();
    let body = json!({
        "sku": sku,
        "name": format!("Imported desk lamp {n}"),
        "description": "A lamp from a catalog import: brass, adjustable arm, warm light.",
        "category": "lighting",
        "brand": import.brand,
        "price": {"amount": 1999 + (n % 50) as i64 * 100, "currency": "USD"},
        "images": [],
        "attributes": {"batch": "import"}
    });
    Call::post("product", "/v1/products", 201, body)
        .bearer(Some(&token))
        .send(user)
        .await?
        .str("id")?;
    let mut created = import.created.lock().expect("created lock");
    created.0.push(sku);
    created.1 = Some(Instant::now());
    Ok(())
}

/// When search first counted `want` products of `brand`; `None` when its
/// count did not grow for [`STALL`] before that.
async fn searchable(client: &Client, host: &Url, brand: &str, want: usize) -> Option<Instant> {
    let mut url = join(host, "/v1/search");
    url.query_pairs_mut()
        .append_pair("brand", brand)
        .append_pair("limit", "1");
    let mut deadline = Instant::now() + STALL;
    let mut seen = None;
    loop {
        let total = match client.get(url.clone()).send().await {
            Ok(r) if r.status() == StatusCode::OK => r
                .json::<Value>()
                .await
                .ok()
                .and_then(|b| b["total"].as_u64()),
            _ => None,
        };
        if total == Some(want as u64) {
            return Some(Instant::now());
        }
        if total.is_some() && total > seen {
            seen = total;
            deadline = Instant::now() + STALL;
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How many of `skus` have their stock item, waiting for each while
/// others keep appearing (no [`STALL`] without one).
async fn stocked(
    client: &Client,
    host: &Url,
    token: &str,
    skus: &[String],
) -> Result<usize, LoadError> {
    let mut deadline = Instant::now() + STALL;
    let mut found = 0;
    for sku in skus {
        loop {
            if stock_item(client, host, token, sku).await?.is_some() {
                found += 1;
                deadline = Instant::now() + STALL;
                break;
            }
            if Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(found)
}
