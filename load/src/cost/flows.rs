//! What shoppers do, over HTTP against the metered system: a checkout
//! (browse → cart → order paid with `tok_visa` → CONFIRMED) and a browsing
//! visit (a listing, product pages, a search and a suggestion).

use super::system::MeteredSystem;
use lite_http::testing::{mint, TokenSpec};
use lite_store::{Item, Store, TxOp};
use serde_json::{json, Value};
use std::time::Duration;

/// The requests of one checkout, in order (what the counts are per).
pub const CHECKOUT_REQUESTS: &[&str] = &[
    "GET /v1/products?limit=20",
    "GET /v1/products/{id}",
    "POST /v1/cart/items",
    "GET /v1/cart",
    "POST /v1/orders (tok_visa)",
    "POST /v1/payments/webhook (the card network's callback)",
    "GET /v1/orders/{id}",
];

/// The route functions a checkout's requests invoke.
#[cfg(test)]
pub const CHECKOUT_FUNCTIONS: &[&str] = &[
    "catalog-list-products",
    "catalog-get-product",
    "cart-add-item",
    "cart-get",
    "orders-place",
    "payments-webhook",
    "orders-get",
];

/// The requests of one browsing visit.
pub const VISIT_REQUESTS: &[&str] = &[
    "GET /v1/products?limit=20",
    "GET /v1/products/{id} ×3",
    "GET /v1/search?q=…",
    "GET /v1/search/suggest?q=…",
];
/// Product pages per visit.
pub const VIEWS_PER_VISIT: u64 = 3;

const SEARCHES: &[&str] = &["laptop", "headphones", "coffee", "lamp", "camera"];

/// A signed-in shopper: a profile (so the order e-mails go out) and a live
/// session (so every request's session check reads a real item).
pub struct Shopper {
    pub token: String,
}

/// Creates `n` shoppers directly in the store (signing up is not part of a
/// checkout); call before the meter is reset.
pub async fn shoppers(store: &dyn Store, n: usize) -> Result<Vec<Shopper>, String> {
    let now = chrono::Utc::now();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let ulid = ulid::Ulid::new().to_string();
        let user_id = format!("usr_{ulid}");
        let sid = format!("ses_{ulid}");
        let email = format!("shopper-{}@example.com", ulid.to_lowercase());
        let mut ops = users::registration::profile_ops(&user_id, &email, "Sam Shopper", now);
        let mut session = Item::new();
        session.insert("PK".into(), format!("SESSION#{sid}").into());
        session.insert("SK".into(), "SESSION".into());
        session.insert("userId".into(), user_id.clone().into());
        session.insert("revoked".into(), false.into());
        session.insert("expiresAt".into(), (now.timestamp() + 86_400).into());
        ops.push(TxOp::put(session));
        store.transact(ops).await.map_err(|e| e.to_string())?;
        let token = mint(TokenSpec {
            sid,
            email: Some(email),
            exp_in_secs: 3600,
            ..TokenSpec::customer(&user_id)
        });
        out.push(Shopper { token });
    }
    Ok(out)
}

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
    key: Option<&str>,
) -> Result<(u16, Value), String> {
    let mut r = client.request(method, url.clone());
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    let resp = r.send().await.map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await.unwrap_or(Value::Null)))
}

fn expect(what: &str, want: u16, (status, body): (u16, Value)) -> Result<Value, String> {
    if status == want {
        Ok(body)
    } else {
        Err(format!("{what}: {status} {body}"))
    }
}

/// The ids of the first page of products (in stock, newest first).
pub async fn product_ids(
    sys: &MeteredSystem,
    client: &reqwest::Client,
) -> Result<Vec<String>, String> {
    let page = expect(
        "listing",
        200,
        call(
            client,
            reqwest::Method::GET,
            sys.url("/v1/products?limit=100"),
            None,
            None,
            None,
        )
        .await?,
    )?;
    Ok(page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|p| p["stock"]["available"].as_i64().unwrap_or(1) > 0)
                .filter_map(|p| p["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// One checkout by `shopper` of `product`; returns the order id once the
/// order reads CONFIRMED and every consumer has handled its events.
pub async fn checkout(
    sys: &MeteredSystem,
    client: &reqwest::Client,
    shopper: &Shopper,
    product: &str,
) -> Result<String, String> {
    use reqwest::Method;
    let token = Some(shopper.token.as_str());
    expect(
        "listing",
        200,
        call(
            client,
            Method::GET,
            sys.url("/v1/products?limit=20"),
            token,
            None,
            None,
        )
        .await?,
    )?;
    expect(
        "product",
        200,
        call(
            client,
            Method::GET,
            sys.url(&format!("/v1/products/{product}")),
            token,
            None,
            None,
        )
        .await?,
    )?;
    expect(
        "add to cart",
        200,
        call(
            client,
            Method::POST,
            sys.url("/v1/cart/items"),
            token,
            Some(json!({"productId": product, "quantity": 1})),
            None,
        )
        .await?,
    )?;
    expect(
        "cart",
        200,
        call(client, Method::GET, sys.url("/v1/cart"), token, None, None).await?,
    )?;
    let key = format!("cost-{}", ulid::Ulid::new());
    let order = expect(
        "place order",
        202,
        call(
            client,
            Method::POST,
            sys.url("/v1/orders"),
            token,
            Some(json!({
                "address": {"line1": "1 Cost St", "city": "Springfield", "postalCode": "12345", "country": "US"},
                "payment": {"method": "card", "token": "tok_visa"}
            })),
            Some(&key),
        )
        .await?,
    )?;
    let id = order["id"]
        .as_str()
        .ok_or_else(|| format!("no order id in {order}"))?
        .to_owned();
    // The saga is started by a consumer of order.created.v1: wait for it to exist.
    let mut view = None;
    for _ in 0..400 {
        if let Ok(Some(_)) = sys.system.saga.describe(&id).await {
            view = Some(
                sys.system
                    .saga
                    .wait_until_stopped(&id, Duration::from_secs(30))
                    .await
                    .map_err(|e| e.to_string())?,
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let view = view.ok_or_else(|| format!("no checkout execution for {id}"))?;
    {
        let mut t = sys.meter.tally();
        t.executions += 1;
        t.transitions += view.history.len() as u64;
        if let Some(stopped) = view.stopped_at {
            t.execution_ms +=
                u64::try_from((stopped - view.started_at).num_milliseconds()).unwrap_or(0);
        }
    }
    sys.settle().await;
    let order = expect(
        "order",
        200,
        call(
            client,
            Method::GET,
            sys.url(&format!("/v1/orders/{id}")),
            token,
            None,
            None,
        )
        .await?,
    )?;
    match order["status"].as_str() {
        Some("CONFIRMED") => Ok(id),
        other => Err(format!("order {id} ended {other:?}: {order}")),
    }
}

/// One anonymous browsing visit: a listing, three product pages, a search
/// and a suggestion. `n` picks the products and words.
pub async fn visit(
    sys: &MeteredSystem,
    client: &reqwest::Client,
    products: &[String],
    n: usize,
) -> Result<(), String> {
    use reqwest::Method;
    expect(
        "listing",
        200,
        call(
            client,
            Method::GET,
            sys.url("/v1/products?limit=20"),
            None,
            None,
            None,
        )
        .await?,
    )?;
    for i in 0..VIEWS_PER_VISIT as usize {
        let id = &products[(n * 3 + i) % products.len()];
        product_view(sys, client, id).await?;
    }
    let word = SEARCHES[n % SEARCHES.len()];
    expect(
        "search",
        200,
        call(
            client,
            Method::GET,
            sys.url(&format!("/v1/search?q={word}")),
            None,
            None,
            None,
        )
        .await?,
    )?;
    expect(
        "suggest",
        200,
        call(
            client,
            Method::GET,
            sys.url(&format!("/v1/search/suggest?q={}", &word[..3])),
            None,
            None,
            None,
        )
        .await?,
    )?;
    Ok(())
}

/// One anonymous product page.
pub async fn product_view(
    sys: &MeteredSystem,
    client: &reqwest::Client,
    id: &str,
) -> Result<(), String> {
    expect(
        "product",
        200,
        call(
            client,
            reqwest::Method::GET,
            sys.url(&format!("/v1/products/{id}")),
            None,
            None,
            None,
        )
        .await?,
    )
    .map(|_| ())
}
