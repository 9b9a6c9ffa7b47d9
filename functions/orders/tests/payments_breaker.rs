//! `POST /v1/orders` while the payment provider's circuit is open: the
//! checkout's authorize step (its guarded provider, over a card network
//! double that fails) opens the circuit; order placement, through the
//! shared store, refuses with 503 and `Retry-After` and writes nothing;
//! a failed half-open trial keeps it refusing, a successful one lets
//! orders through again.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::{Duration, Utc};
use http_body_util::BodyExt;
use lite_core::ManualClock;
use lite_http::testing::customer_token;
use lite_ports::Context;
use lite_service::Service;
use payments::breaker::{GuardedProvider, POLICY};
use payments::{AuthorizeRequest, PaymentProvider, ProviderError};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tower::ServiceExt;

const ANN: &str = "usr_01JANN000000000000000000000";

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
    router: axum::Router,
    ctx: Context,
    clock: Arc<ManualClock>,
}

struct Answer {
    status: StatusCode,
    retry_after: Option<String>,
    content_type: Option<String>,
    body: Value,
}

fn app() -> App {
    let mut ctx = lite_ports::testing::memory_context();
    let clock = Arc::new(ManualClock::new(Utc::now()));
    ctx.clock = clock.clone();
    let router = lite_http::testing::finish_for_tests(
        orders::Orders::new(ctx.clone())
            .router()
            .merge(cart::Cart::new(ctx.clone()).router()),
    );
    App { router, ctx, clock }
}

impl App {
    async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut r = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {}", customer_token(ANN)));
        if let Some(k) = key {
            r = r.header("idempotency-key", k);
        }
        let req = match body {
            Some(b) => r
                .header("content-type", "application/json")
                .body(Body::from(b.to_string()))
                .unwrap(),
            None => r.body(Body::empty()).unwrap(),
        };
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let (status, retry_after, content_type) =
            (resp.status(), header("retry-after"), header("content-type"));
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            retry_after,
            content_type,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    async fn place(&self, key: &str) -> Answer {
        let body = json!({
            "address": {"line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "US"},
            "payment": {"method": "card", "token": "tok_visa"}
        });
        self.call(Method::POST, "/v1/orders", Some(key), Some(body))
            .await
    }

    async fn orders(&self) -> Value {
        self.call(Method::GET, "/v1/orders", None, None).await.body["items"].clone()
    }

    async fn cart_items(&self) -> Value {
        self.call(Method::GET, "/v1/cart", None, None).await.body["itemCount"].clone()
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

fn assert_paused(a: &Answer, retry_after: &str) {
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.body);
    assert_eq!(a.body["code"], "unavailable");
    assert!(
        a.body["detail"]
            .as_str()
            .unwrap()
            .contains("Payments are unavailable"),
        "{}",
        a.body
    );
    assert_eq!(a.retry_after.as_deref(), Some(retry_after));
    assert_eq!(a.content_type.as_deref(), Some("application/problem+json"));
}

#[tokio::test]
async fn an_open_payment_circuit_pauses_checkout_until_a_trial_succeeds() {
    let app = app();
    let input: catalog::ProductInput = serde_json::from_value(json!({
        "sku": "BRK-PAY-001", "name": "Breaker test laptop", "category": "laptops",
        "brand": "Northwind", "price": {"amount": 1_000, "currency": "USD"}
    }))
    .unwrap();
    let product = catalog::create(&app.ctx, catalog::NewProduct::parse(input).unwrap())
        .await
        .unwrap()
        .id
        .to_string();
    let added = app
        .call(
            Method::POST,
            "/v1/cart/items",
            None,
            Some(json!({"productId": product, "quantity": 2})),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);

    // The authorize step meets a card network that is down, again and again.
    let network = Arc::new(CardNetwork::default());
    let guarded = GuardedProvider::new(network.clone(), &app.ctx);
    for _ in 0..POLICY.failures {
        let r = guarded.authorize(&authorize_request()).await;
        assert!(matches!(r, Err(ProviderError::Unavailable(_))), "{r:?}");
    }

    // Order placement sees the open circuit: 503 at once, nothing written.
    assert_paused(&app.place("key-1").await, "30");
    assert_eq!(app.orders().await, json!([]));
    assert_eq!(app.cart_items().await, 2);

    // 30 s later the trial call fails: open again, still refusing.
    app.clock.advance(Duration::seconds(30));
    let trial = guarded.authorize(&authorize_request()).await;
    assert!(matches!(trial, Err(ProviderError::Unavailable(_))));
    assert_paused(&app.place("key-1").await, "30");
    assert_eq!(app.orders().await, json!([]));

    // The network is back; the next trial succeeds and closes the circuit.
    network.up.store(true, Ordering::SeqCst);
    app.clock.advance(Duration::seconds(30));
    guarded.authorize(&authorize_request()).await.unwrap();
    guarded.authorize(&authorize_request()).await.unwrap();

    // The refused key was never consumed: it now places the order.
    let placed = app.place("key-1").await;
    assert_eq!(placed.status, StatusCode::ACCEPTED, "{}", placed.body);
    assert_eq!(app.orders().await.as_array().unwrap().len(), 1);
    assert_eq!(app.cart_items().await, 0);
}
