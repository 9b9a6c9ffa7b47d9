//! `POST /v1/orders` while checkout is paused by the runtime flag
//! `checkoutPaused` (the file adapter on disk, looked at on every read):
//! 503 `checkout_paused` with `Retry-After`, no order, the cart unchanged;
//! a replay of an order placed before the pause still gets its answer;
//! unpausing (or a refused edit) takes effect on the next request, with no
//! restart.

mod common;

use common::{Shopper, ANN};
use lite_flags::testing::replace_file;
use lite_flags::FileFlags;
use lite_http::testing::TestResponse;
use lite_ports::Context;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

struct App {
    shopper: Shopper,
    ctx: Context,
}

fn app(flags_file: &Path) -> App {
    let ctx = lite_ports::testing::memory_context();
    let flags = Arc::new(FileFlags::new(flags_file, Duration::ZERO));
    let client = common::shop(&ctx, orders::Orders::new(ctx.clone()).with_flags(flags));
    App {
        shopper: Shopper::new(client, ANN),
        ctx,
    }
}

impl App {
    /// Two units of a new product `sku` in the shopper's cart.
    async fn add_to_cart(&self, sku: &str) {
        let product = common::product(&self.ctx, sku, 1_000).await;
        self.shopper.add_to_cart(&product, 2).await;
    }
}

fn assert_checkout_paused(r: &TestResponse, retry_after: &str) {
    assert_eq!(r.status, 503, "{}", r.json);
    assert_eq!(r.json["code"], "checkout_paused");
    assert_eq!(r.json["title"], "Checkout paused");
    assert!(
        r.json["detail"]
            .as_str()
            .unwrap()
            .contains("cart is unchanged"),
        "{}",
        r.json
    );
    assert_eq!(
        r.headers.get("retry-after").map(|v| v.to_str().unwrap()),
        Some(retry_after)
    );
    assert_eq!(
        r.headers.get("content-type").map(|v| v.to_str().unwrap()),
        Some("application/problem+json")
    );
}

#[tokio::test]
async fn a_paused_checkout_refuses_orders_and_writes_nothing_until_unpaused() {
    let dir = tempfile::tempdir().unwrap();
    let flags = dir.path().join("flags.json");
    let app = app(&flags);
    app.add_to_cart("FLG-PAU-001").await;

    replace_file(
        &flags,
        r#"{"checkoutPaused": true, "checkoutRetryAfterSeconds": 120}"#,
    );
    assert_checkout_paused(&app.shopper.place("key-1").await, "120");
    assert_eq!(app.shopper.orders().await, json!([]));
    assert_eq!(app.shopper.cart_items().await, 2);

    // Without a Retry-After of its own, the default.
    replace_file(&flags, r#"{"checkoutPaused": true}"#);
    assert_checkout_paused(&app.shopper.place("key-1").await, "300");

    // A bad edit is refused whole: still paused.
    replace_file(
        &flags,
        r#"{"checkoutPaused": false, "checkoutPausd": true}"#,
    );
    assert_checkout_paused(&app.shopper.place("key-1").await, "300");

    // Unpaused: the same request goes through.
    replace_file(&flags, r#"{"checkoutPaused": false}"#);
    let placed = app.shopper.place("key-1").await;
    assert_eq!(placed.status, 202, "{}", placed.json);
    assert_eq!(app.shopper.orders().await.as_array().unwrap().len(), 1);
    assert_eq!(app.shopper.cart_items().await, 0);

    // Paused again: a retry of that order still gets its original answer
    // (nothing is written by a replay); a new order is refused.
    replace_file(&flags, r#"{"checkoutPaused": true}"#);
    let replay = app.shopper.place("key-1").await;
    assert_eq!(replay.status, 202, "{}", replay.json);
    assert_eq!(replay.json["id"], placed.json["id"]);
    app.add_to_cart("FLG-PAU-002").await;
    assert_checkout_paused(&app.shopper.place("key-2").await, "300");
    assert_eq!(app.shopper.orders().await.as_array().unwrap().len(), 1);
    assert_eq!(app.shopper.cart_items().await, 2);

    // Removing the file turns every flag off.
    std::fs::remove_file(&flags).unwrap();
    assert_eq!(app.shopper.place("key-2").await.status, 202);
}
