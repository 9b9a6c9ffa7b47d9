//! What a simulated shopper does, step by step: browse the listing (filters,
//! sorts, the next pages by cursor), open products, search (with typos) and
//! take suggestions, fill a guest cart, sign up and sign in, fill a cart
//! and check out, then watch the order until it ends. The scenarios
//! compose these steps into goose transactions with weights and pauses.

use super::api::{Call, Step};
use super::catalog::SORTS;
use super::clients::Gate;
use super::ledger::{is_terminal, PaymentToken, PlacedOrder};
use super::Shared;
use goose::goose::{GooseUser, Transaction, TransactionError, TransactionFunction};
use rand::Rng;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A shopper's state between steps (goose's session data).
#[derive(Clone)]
pub struct Shopper {
    pub shared: Arc<Shared>,
    pub email: String,
    pub token: Option<String>,
    pub cart_token: Option<String>,
    /// The connections of the shopper's address (`clients::Gate`).
    pub gate: Gate,
    orders: usize,
}

pub const PASSWORD: &str = "load test shopper password";

/// The on-start transaction: the user's client (its source address) and
/// session; with `sign_up`, the account too.
pub fn start(shared: Arc<Shared>, sign_up: bool) -> Transaction {
    let f: TransactionFunction = Arc::new(move |user| {
        let shared = shared.clone();
        Box::pin(async move {
            begin(user, shared);
            if sign_up {
                self::sign_up(user).await?;
            }
            Ok(())
        })
    });
    Transaction::new(f).set_name("start").set_on_start()
}

pub fn begin(user: &mut GooseUser, shared: Arc<Shared>) {
    let n = user.weighted_users_index;
    let (client, gate) = shared.clients.for_user(n);
    user.client = client;
    let email = format!("shopper-{}-{n}@load.test", shared.run_id);
    user.set_session_data(Shopper {
        shared,
        email,
        token: None,
        cart_token: None,
        gate,
        orders: 0,
    });
}

pub fn shopper(user: &GooseUser) -> Shopper {
    user.get_session_data_unchecked::<Shopper>().clone()
}

fn session(user: &mut GooseUser) -> &mut Shopper {
    user.get_session_data_unchecked_mut::<Shopper>()
}

async fn think(s: &Shopper) {
    let d = s.shared.options.think.draw();
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

/// The listing, filtered by category or price or neither, in one of its
/// orders; then, half the time, a page or two further by cursor.
pub async fn browse_listing(user: &mut GooseUser) -> Step {
    let s = shopper(user);
    let (query, pages) = {
        let mut rng = rand::thread_rng();
        let mut q = vec![format!("limit={}", [12, 20, 24][rng.gen_range(0..3)])];
        match rng.gen_range(0..10) {
            0..=5 => q.push(format!("category={}", s.shared.catalog.any_category())),
            6..=7 => {
                let min = rng.gen_range(0..20) * 1000;
                q.push(format!(
                    "minPrice={min}&maxPrice={}",
                    min + rng.gen_range(5..50) * 1000
                ));
            }
            _ => {}
        }
        q.push(format!("sort={}", SORTS[rng.gen_range(0..SORTS.len())]));
        let pages = if rng.gen_bool(0.5) {
            rng.gen_range(1..=2)
        } else {
            0
        };
        (q.join("&"), pages)
    };
    let mut reply = Call::get("products", format!("/v1/products?{query}"))
        .send(user)
        .await?;
    for _ in 0..pages {
        let Some(cursor) = reply.body["nextCursor"].as_str().map(str::to_owned) else {
            break;
        };
        think(&s).await;
        reply = Call::get(
            "products (next page)",
            format!("/v1/products?{query}&cursor={}", encode(&cursor)),
        )
        .send(user)
        .await?;
    }
    Ok(())
}

/// A product page; now and then its reviews too.
pub async fn view_product(user: &mut GooseUser) -> Step {
    let s = shopper(user);
    let id = s.shared.catalog.any_product().id.clone();
    Call::get("product", format!("/v1/products/{id}"))
        .send(user)
        .await?;
    if rand::thread_rng().gen_bool(0.3) {
        Call::get(
            "product reviews",
            format!("/v1/products/{id}/reviews?limit=10"),
        )
        .send(user)
        .await?;
    }
    Ok(())
}

/// A search for a word of a product's name (typed wrong 40 % of the time),
/// sometimes sorted or narrowed; then, often, one of the hits.
pub async fn search(user: &mut GooseUser) -> Step {
    let s = shopper(user);
    let term = s.shared.catalog.search_term();
    let extra = {
        let mut rng = rand::thread_rng();
        match rng.gen_range(0..6) {
            0 => "&sort=price_asc".to_owned(),
            1 => format!("&category={}", s.shared.catalog.any_category()),
            _ => String::new(),
        }
    };
    let reply = Call::get(
        "search",
        format!("/v1/search?q={}&limit=20{extra}", encode(&term)),
    )
    .send(user)
    .await?;
    let hit = reply.body["items"].as_array().and_then(|items| {
        if items.is_empty() {
            return None;
        }
        let i = rand::thread_rng().gen_range(0..items.len().min(5));
        items[i]["id"].as_str().map(str::to_owned)
    });
    if let Some(id) = hit {
        if rand::thread_rng().gen_bool(0.6) {
            think(&s).await;
            Call::get("product", format!("/v1/products/{id}"))
                .send(user)
                .await?;
        }
    }
    Ok(())
}

/// What the search box suggests as the shopper types a word's first letters.
pub async fn suggest(user: &mut GooseUser) -> Step {
    let s = shopper(user);
    let prefix = s.shared.catalog.prefix();
    Call::get(
        "suggest",
        format!("/v1/search/suggest?q={}", encode(&prefix)),
    )
    .send(user)
    .await?;
    Ok(())
}

/// A guest's cart: add a product or two (the first write makes the cart
/// and its token), look at it, change a quantity, sometimes remove a line.
pub async fn guest_cart(user: &mut GooseUser) -> Step {
    let s = shopper(user);
    let product = s.shared.catalog.product_to_buy().id.clone();
    let reply = Call::post(
        "cart item (guest)",
        "/v1/cart/items",
        200,
        json!({"productId": product, "quantity": 1}),
    )
    .cart_token(s.cart_token.as_deref())
    .send(user)
    .await?;
    let token = match (reply.cart_token.clone(), s.cart_token.clone()) {
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => reply.str("cartToken")?,
    };
    session(user).cart_token = Some(token.clone());
    think(&s).await;
    Call::get("cart (guest)", "/v1/cart")
        .cart_token(Some(&token))
        .send(user)
        .await?;
    let (quantity, remove) = {
        let mut rng = rand::thread_rng();
        (rng.gen_range(1..=3), rng.gen_bool(0.2))
    };
    think(&s).await;
    Call::patch(
        "cart item (guest)",
        format!("/v1/cart/items/{product}"),
        json!({ "quantity": quantity }),
    )
    .cart_token(Some(&token))
    .send(user)
    .await?;
    if remove {
        Call::delete("cart item (guest)", format!("/v1/cart/items/{product}"))
            .cart_token(Some(&token))
            .send(user)
            .await?;
    }
    Ok(())
}

/// A new account (e-mail unique to this run and user) and its default
/// shipping address.
pub async fn sign_up(user: &mut GooseUser) -> Step {
    let s = shopper(user);
    let reply = Call::post(
        "signup",
        "/v1/auth/signup",
        201,
        json!({"email": s.email, "password": PASSWORD, "name": "Load Shopper"}),
    )
    .send(user)
    .await?;
    let token = reply.str("accessToken")?;
    session(user).token = Some(token.clone());
    Call::post(
        "address",
        "/v1/me/addresses",
        201,
        json!({
            "label": "Home", "line1": "1 Main St", "city": "Springfield",
            "postalCode": "12345", "country": "US", "isDefault": true
        }),
    )
    .bearer(Some(&token))
    .send(user)
    .await?;
    Ok(())
}

/// Signing in with the account's password (a fresh access token).
pub async fn log_in(user: &mut GooseUser) -> Step {
    let s = shopper(user);
    let reply = Call::post(
        "login",
        "/v1/auth/login",
        200,
        json!({"email": s.email, "password": PASSWORD}),
    )
    .send(user)
    .await?;
    session(user).token = Some(reply.str("accessToken")?);
    Ok(())
}

fn token(s: &Shopper) -> Step<String> {
    s.token
        .clone()
        .ok_or_else(|| Box::new(TransactionError::Custom("not signed in".into())))
}

/// A product put in the signed-in shopper's cart; sometimes two.
pub async fn add_to_cart(user: &mut GooseUser) -> Step {
    let s = shopper(user);
    let token = token(&s)?;
    let lines = if rand::thread_rng().gen_bool(0.25) {
        2
    } else {
        1
    };
    for _ in 0..lines {
        let product = s.shared.catalog.product_to_buy().id.clone();
        Call::post(
            "cart item",
            "/v1/cart/items",
            200,
            json!({"productId": product, "quantity": 1}),
        )
        .bearer(Some(&token))
        .send(user)
        .await?;
    }
    Ok(())
}

pub async fn view_cart(user: &mut GooseUser) -> Step {
    let s = shopper(user);
    let token = token(&s)?;
    Call::get("cart", "/v1/cart")
        .bearer(Some(&token))
        .send(user)
        .await?;
    Ok(())
}

/// Checks out the cart with a card drawn from the realistic mix and
/// watches the order until it ends (as the shop's order page does).
pub async fn check_out(user: &mut GooseUser) -> Step {
    let s = shopper(user);
    let card = PaymentToken::draw(s.shared.options.payment_timeout.is_some());
    place_and_follow(user, card, None).await
}

/// How often and how long a shopper looks at a pending order.
const POLL: Duration = Duration::from_millis(500);
const WATCH: Duration = Duration::from_secs(20);

/// `POST /v1/orders` (named `kind`, default `POST order`) then the order
/// until it ends or [`WATCH`] has passed; recorded in the ledger either way
/// (the run's end follows what is still pending).
pub async fn place_and_follow(
    user: &mut GooseUser,
    card: PaymentToken,
    kind: Option<&str>,
) -> Step {
    let s = shopper(user);
    let token = token(&s)?;
    let key = format!(
        "{}-{}-{}",
        s.shared.run_id, user.weighted_users_index, s.orders
    );
    session(user).orders += 1;
    let reply = Call::post(
        kind.unwrap_or("order"),
        "/v1/orders",
        202,
        json!({"payment": {"method": "card", "token": card.token()}}),
    )
    .bearer(Some(&token))
    .idempotency_key(key)
    .send(user)
    .await?;
    let id = reply.str("id")?;
    // In the ledger at once: a run that ends while this shopper watches
    // still follows the order to its end.
    let entry = s.shared.ledger.record(PlacedOrder {
        id: id.clone(),
        owner_token: token.clone(),
        payment: card,
        last_seen: reply.body.clone(),
    });
    let mut last: Value = reply.body;
    let since = Instant::now();
    while !is_terminal(last["status"].as_str().unwrap_or_default()) && since.elapsed() < WATCH {
        tokio::time::sleep(POLL).await;
        last = Call::get("order", format!("/v1/orders/{id}"))
            .bearer(Some(&token))
            .send(user)
            .await?
            .body;
        s.shared.ledger.update(entry, last.clone());
    }
    Ok(())
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
