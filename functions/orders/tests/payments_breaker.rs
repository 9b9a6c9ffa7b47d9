//! `POST /v1/orders` while the payment provider's circuit is open: the
//! checkout's authorize step (its guarded provider, over a card network
//! double that fails) opens the circuit; order placement, through the
//! shared store, refuses with 503 and `Retry-After` and writes nothing;
//! a failed half-open trial keeps it refusing, a successful one lets
//! orders through again.

mod common;

use chrono::{Duration, Utc};
use common::{Shopper, ANN};
use lite_core::ManualClock;
use lite_http::testing::TestResponse;
use lite_ports::Context;
use payments::breaker::{GuardedProvider, POLICY};
use payments::{AuthorizeRequest, PaymentProvider, ProviderError};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The card network: down until told otherwise.
#[derive(Default)]
struct CardNetwork {
    up: AtomicBool,
}

#[async_trait::async_trait]
impl PaymentProvider for CardNetwork {
    fn name(&self) -> &'static str {
        "card-network-double"
    }
    async fn authorize(&self, _: &AuthorizeRequest) -> Result<(), ProviderError> {
        if self.up.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err(ProviderError::Unavailable("connection reset".into()))
        }
    }
    async fn void(&self, _: &str) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn capture(&self, _: &str, _: lite_core::Money) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn refund(&self, _: &str, _: lite_core::Money) -> Result<(), ProviderError> {
        Ok(())
    }
}

struct App {
    shopper: Shopper,
    ctx: Context,
    clock: Arc<ManualClock>,
}

fn app() -> App {
    let mut ctx = lite_ports::testing::memory_context();
    let clock = Arc::new(ManualClock::new(Utc::now()));
    ctx.clock = clock.clone();
    let client = common::shop(&ctx, orders::Orders::new(ctx.clone()));
    App {
        shopper: Shopper::new(client, ANN),
        ctx,
        clock,
    }
}

fn authorize_request() -> AuthorizeRequest {
    AuthorizeRequest {
        payment_id: "pay_01JPAY000000000000000000000".into(),
        order_id: "ord_01JORD000000000000000000000".into(),
        amount: lite_core::Money::new(1_000, lite_core::Currency::USD),
        token: "tok_visa".into(),
    }
}

fn assert_paused(r: &TestResponse, retry_after: &str) {
    assert_eq!(r.status, 503, "{}", r.json);
    assert_eq!(r.json["code"], "unavailable");
    assert!(
        r.json["detail"]
            .as_str()
            .unwrap()
            .contains("Payments are unavailable"),
        "{}",
        r.json
    );
    let header = |name: &str| r.headers.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(header("retry-after"), Some(retry_after));
    assert_eq!(header("content-type"), Some("application/problem+json"));
}

#[tokio::test]
async fn an_open_payment_circuit_pauses_checkout_until_a_trial_succeeds() {
    let app = app();
    let product = common::product(&app.ctx, "BRK-PAY-001", 1_000).await;
    app.shopper.add_to_cart(&product, 2).await;

    // The authorize step meets a card network that is down, again and again.
    let network = Arc::new(CardNetwork::default());
    let guarded = GuardedProvider::new(network.clone(), &app.ctx);
    for _ in 0..POLICY.failures {
        let r = guarded.authorize(&authorize_request()).await;
        assert!(matches!(r, Err(ProviderError::Unavailable(_))), "{r:?}");
    }

    // Order placement sees the open circuit: 503 at once, nothing written.
    assert_paused(&app.shopper.place("key-1").await, "30");
    assert_eq!(app.shopper.orders().await, json!([]));
    assert_eq!(app.shopper.cart_items().await, 2);

    // 30 s later the trial call fails: open again, still refusing.
    app.clock.advance(Duration::seconds(30));
    let trial = guarded.authorize(&authorize_request()).await;
    assert!(matches!(trial, Err(ProviderError::Unavailable(_))));
    assert_paused(&app.shopper.place("key-1").await, "30");
    assert_eq!(app.shopper.orders().await, json!([]));

    // The network is back; the next trial succeeds and closes the circuit.
    network.up.store(true, Ordering::SeqCst);
    app.clock.advance(Duration::seconds(30));
    guarded.authorize(&authorize_request()).await.unwrap();
    guarded.authorize(&authorize_request()).await.unwrap();

    // The refused key was never consumed: it now places the order.
    let placed = app.shopper.place("key-1").await;
    assert_eq!(placed.status, 202, "{}", placed.json);
    assert_eq!(app.shopper.orders().await.as_array().unwrap().len(), 1);
    assert_eq!(app.shopper.cart_items().await, 0);
}
