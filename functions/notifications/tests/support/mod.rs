//! What the consumer and router tests share: a context on the in-memory
//! store with a clock the test moves, users made as signup makes them,
//! events as producers build them, orders, and a notifier that records.

#![allow(dead_code)] // Each test binary uses a part.

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::{DateTime, Duration, Utc};
use http_body_util::BodyExt;
use lite_core::{Clock, Currency, ManualClock, Money, Sku};
use lite_events::contracts::{
    CancelledBy, Contract, FailureReason, LineItem, OrderCancelledV1, OrderConfirmedV1,
    OrderFailedV1, OrderShippedV1, PaymentFailedV1, PaymentFailureReason,
};
use lite_events::Envelope;
use lite_ports::Context;
use lite_service::Service;
use notifications::{Message, Notifier, NotifyError};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

pub struct World {
    pub ctx: Context,
    pub clock: Arc<ManualClock>,
    pub notifier: Arc<Recording>,
    pub consumer: notifications::Consumer,
}

pub fn world() -> World {
    let mut ctx = lite_ports::testing::memory_context();
    let clock = Arc::new(ManualClock::new(start()));
    ctx.clock = clock.clone();
    let notifier = Arc::new(Recording::default());
    let consumer = notifications::Consumer::new(ctx.clone(), notifier.clone());
    World {
        ctx,
        clock,
        notifier,
        consumer,
    }
}

pub fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T10:00:00.000Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", ulid::Ulid::new())
}

impl World {
    /// A user with a profile and default preferences (order updates on,
    /// `en`), as signup leaves them.
    pub async fn user(&self, name: &str) -> String {
        let id = new_id("usr");
        let email = format!("{}@example.com", name.to_lowercase());
        let ops = users::registration::profile_ops(&id, &email, name, self.clock.now());
        self.ctx.store.transact(ops).await.unwrap();
        id
    }

    /// Replaces `user_id`'s preferences through the users API.
    pub async fn preferences(&self, user_id: &str, order_updates: bool, language: &str) {
        let router =
            lite_http::testing::finish_for_tests(users::Users::new(self.ctx.clone()).router());
        let body = json!({
            "marketingEmails": false, "orderUpdates": order_updates,
            "currency": "USD", "language": language
        });
        let req = Request::builder()
            .method(Method::PUT)
            .uri("/v1/me/preferences")
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", lite_http::testing::customer_token(user_id)),
            )
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let res = router.oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&bytes)
        );
    }

    pub fn event<C: Contract>(&self, data: &C) -> Envelope {
        Envelope::of(self.ctx.ids.as_ref(), self.clock.now(), "corr-test", data)
    }

    /// Handles `event` after moving the clock on a second (so records of
    /// consecutive events have distinct, ordered times).
    pub async fn deliver(
        &self,
        event: &Envelope,
    ) -> Result<notifications::Outcome, lite_events::HandlerError> {
        self.clock.advance(Duration::seconds(1));
        self.consumer.process(event).await
    }

    /// A PENDING order of `user_id`, written as the orders service stores
    /// it (`ORDER#<id>`/`ORDER`, the serialized `Order`): orders has no
    /// public way to create one without the cart, catalog and payments.
    /// Later moves go through `orders::saga`.
    pub async fn pending_order(&self, user_id: &str) -> String {
        let id = orders::domain::OrderId::parse(&new_id("ord")).unwrap();
        let now = self.clock.now();
        let line = orders::domain::OrderLine {
            product_id: new_id("prd"),
            sku: Sku::parse("LAMP-1").unwrap(),
            name: "Desk lamp".into(),
            unit_price: usd(1999),
            quantity: 2,
            line_total: usd(3998),
        };
        let order = orders::domain::Order {
            id: id.clone(),
            user_id: user_id.into(),
            status: orders::domain::OrderStatus::Pending,
            items: vec![line],
            subtotal: usd(3998),
            total: usd(3998),
            shipping_address: orders::domain::ShippingAddress {
                line1: "1 Main St".into(),
                line2: None,
                city: "Springfield".into(),
                region: None,
                postal_code: "12345".into(),
                country: "US".into(),
            },
            payment_id: None,
            failure: None,
            cancelled_by: None,
            status_history: vec![],
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let Value::Object(mut item) = serde_json::to_value(&order).unwrap() else {
            unreachable!()
        };
        item.insert("PK".into(), format!("ORDER#{id}").into());
        item.insert("SK".into(), "ORDER".into());
        self.ctx.store.put(item, None).await.unwrap();
        let read = orders::read::order(self.ctx.store.as_ref(), id.as_str())
            .await
            .unwrap();
        assert_eq!(
            read,
            Some(order),
            "the order reads back as orders stores it"
        );
        id.to_string()
    }
}

pub fn usd(amount: i64) -> Money {
    Money::new(amount, Currency::USD)
}

pub fn items() -> Vec<LineItem> {
    vec![LineItem {
        product_id: new_id("prd"),
        sku: Sku::parse("LAMP-1").unwrap(),
        name: "Desk lamp".into(),
        quantity: 2,
        unit_price: usd(1999),
    }]
}

pub fn confirmed(user_id: &str, order_id: &str) -> OrderConfirmedV1 {
    OrderConfirmedV1 {
        order_id: order_id.into(),
        user_id: user_id.into(),
        items: items(),
        total: usd(3998),
        payment_id: new_id("pay"),
    }
}

pub fn failed(user_id: &str, order_id: &str, reason: FailureReason) -> OrderFailedV1 {
    OrderFailedV1 {
        order_id: order_id.into(),
        user_id: user_id.into(),
        reason,
        detail: None,
    }
}

pub fn cancelled(user_id: &str, order_id: &str) -> OrderCancelledV1 {
    OrderCancelledV1 {
        order_id: order_id.into(),
        user_id: user_id.into(),
        items: items(),
        total: usd(3998),
        payment_id: Some(new_id("pay")),
        cancelled_by: CancelledBy::Customer,
    }
}

pub fn shipped(user_id: &str, order_id: &str) -> OrderShippedV1 {
    OrderShippedV1 {
        order_id: order_id.into(),
        user_id: user_id.into(),
    }
}

pub fn payment_failed(order_id: &str) -> PaymentFailedV1 {
    PaymentFailedV1 {
        payment_id: new_id("pay"),
        order_id: order_id.into(),
        amount: usd(3998),
        provider: "sandbox".into(),
        reason: PaymentFailureReason::CardDeclined,
    }
}

/// A notifier that keeps what it was asked to send, and fails with what
/// the test tells it to.
#[derive(Default)]
pub struct Recording {
    sent: Mutex<Vec<Message>>,
    fail_with: Mutex<Option<NotifyError>>,
}

impl Recording {
    pub fn sent(&self) -> Vec<Message> {
        self.sent.lock().unwrap().clone()
    }

    pub fn fail_with(&self, error: Option<NotifyError>) {
        *self.fail_with.lock().unwrap() = error;
    }
}

#[async_trait]
impl Notifier for Recording {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        if let Some(e) = self.fail_with.lock().unwrap().clone() {
            return Err(e);
        }
        self.sent.lock().unwrap().push(message.clone());
        Ok(())
    }
}
