//! Payments' event consumers (one queue each; see `lite_events::Handler`;
//! the transport adds the idempotency record). Both act through the same
//! idempotent, conditional steps the saga uses, so a redelivery or a race
//! with the saga ends in one state.

use crate::checkout::{self, CaptureOutcome, Payments, VoidReason};
use crate::PaymentsError;
use async_trait::async_trait;
use lite_core::OrderId;
use lite_events::contracts::{OrderCancelledV1, OrderShippedV1};
use lite_events::{Envelope, Handler, HandlerError};
use std::sync::Arc;

lite_events::accepts! {
    /// What `payments-order-cancelled` reads.
    #[derive(Debug)]
    pub enum CancelledFeed {
        V1(OrderCancelledV1),
    }
}

lite_events::accepts! {
    /// What `payments-order-shipped` reads.
    #[derive(Debug)]
    pub enum ShippedFeed {
        V1(OrderShippedV1),
    }
}

fn handler_error(e: PaymentsError) -> HandlerError {
    if e.is_transient() {
        HandlerError::Retry(e.to_string())
    } else {
        HandlerError::Poison(e.to_string())
    }
}

/// `order.cancelled.v1` → the order's payment is voided (authorized) or
/// refunded (captured); nothing when none is held.
pub struct OrderCancelled {
    payments: Arc<Payments>,
}

impl OrderCancelled {
    pub const NAME: &'static str = "payments-order-cancelled";

    pub fn new(payments: Arc<Payments>) -> Self {
        Self { payments }
    }
}

#[async_trait]
impl Handler for OrderCancelled {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn detail_types(&self) -> &'static [&'static str] {
        CancelledFeed::DETAIL_TYPES
    }

    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let CancelledFeed::V1(cancelled) = CancelledFeed::decode(event)?;
        // An order id that is not well formed cannot have a payment.
        let outcome = match OrderId::parse(&cancelled.order_id) {
            Some(order_id) => checkout::void_for_order(
                &self.payments,
                &order_id,
                VoidReason::OrderCancelled,
                &event.correlation_id,
            )
            .await
            .map_err(handler_error)?,
            None => checkout::VoidOutcome::NoPayment,
        };
        tracing::info!(order_id = %cancelled.order_id, ?outcome, "cancelled order's payment settled");
        Ok(())
    }
}

/// `order.shipped.v1` → the authorized payment is captured.
pub struct OrderShipped {
    payments: Arc<Payments>,
}

impl OrderShipped {
    pub const NAME: &'static str = "payments-order-shipped";

    pub fn new(payments: Arc<Payments>) -> Self {
        Self { payments }
    }
}

#[async_trait]
impl Handler for OrderShipped {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn detail_types(&self) -> &'static [&'static str] {
        ShippedFeed::DETAIL_TYPES
    }

    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let ShippedFeed::V1(shipped) = ShippedFeed::decode(event)?;
        let outcome = match OrderId::parse(&shipped.order_id) {
            Some(order_id) => {
                checkout::capture_for_order(&self.payments, &order_id, &event.correlation_id)
                    .await
                    .map_err(handler_error)?
            }
            None => CaptureOutcome::NoPayment,
        };
        match outcome {
            CaptureOutcome::Captured | CaptureOutcome::AlreadyCaptured => {
                tracing::info!(order_id = %shipped.order_id, ?outcome, "shipped order's payment captured");
            }
            // A shipped order always had an authorized payment; anything else
            // needs a person, but redelivering cannot fix it.
            other => {
                tracing::error!(order_id = %shipped.order_id, outcome = ?other, "shipped order has no capturable payment");
            }
        }
        Ok(())
    }
}
