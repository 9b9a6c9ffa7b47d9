//! `checkout-start`: starts the saga for every `order.created.v1`. Because
//! the event comes from the order's own transaction (outbox), no placed
//! order is left without a checkout, and starting is idempotent by name
//! (the order id), so a redelivered event starts nothing new.

use async_trait::async_trait;
use lite_events::contracts::OrderCreatedV1;
use lite_events::{Envelope, Handler, HandlerError};
use lite_flags::SharedFlags;
use lite_ports::Context;
use lite_saga::{Saga, SagaError};
use serde_json::json;
use std::sync::Arc;

/// How long checkout waits for the payment outcome, and how much longer a
/// reservation is held (so a hold never expires while its checkout can still
/// commit it in the normal course).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckoutTimings {
    pub payment_timeout_secs: u64,
    pub hold_margin_secs: u64,
}

impl Default for CheckoutTimings {
    fn default() -> Self {
        Self {
            payment_timeout_secs: 900,
            hold_margin_secs: 600,
        }
    }
}

#[derive(Clone)]
pub struct CheckoutStarter {
    ctx: Context,
    saga: Arc<dyn Saga>,
    timings: CheckoutTimings,
    flags: SharedFlags,
}

impl CheckoutStarter {
    pub fn new(ctx: Context, saga: Arc<dyn Saga>, timings: CheckoutTimings) -> Self {
        Self {
            ctx,
            saga,
            timings,
            flags: lite_flags::defaults(),
        }
    }

    /// Takes the payment timeout of each new checkout from the runtime
    /// flag `paymentTimeoutSeconds` when it is set (else `timings`).
    pub fn with_flags(mut self, flags: SharedFlags) -> Self {
        self.flags = flags;
        self
    }
}

#[async_trait]
impl Handler for CheckoutStarter {
    fn name(&self) -> &'static str {
        "checkout-start"
    }

    fn detail_types(&self) -> &'static [&'static str] {
        &["order.created.v1"]
    }

    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let created: OrderCreatedV1 = lite_events::contracts::decode(event)
            .map_err(|e| HandlerError::Poison(e.to_string()))?;
        // An order id that is not well formed names no pending order.
        let input = match orders::domain::OrderId::parse(&created.order_id) {
            Some(id) => orders::saga::checkout_input(&self.ctx, &id)
                .await
                .map_err(|e| HandlerError::Retry(e.to_string()))?,
            None => None,
        };
        let Some(input) = input else {
            tracing::info!(order_id = %created.order_id, "order no longer pending; no checkout to start");
            return Ok(());
        };
        // Read per checkout: a flag flip applies to the next order, while
        // running checkouts keep the timeout they started with.
        let payment_timeout_secs = self
            .flags
            .flags()
            .await
            .payment_timeout_secs(self.timings.payment_timeout_secs);
        let saga_input = json!({
            "orderId": input.order_id,
            "userId": input.user_id,
            "items": input.items,
            "total": input.total,
            "paymentToken": input.payment_token,
            "paymentTimeoutSeconds": payment_timeout_secs,
            "holdSeconds": payment_timeout_secs + self.timings.hold_margin_secs,
            "correlationId": event.correlation_id,
        });
        match self.saga.start(&created.order_id, saga_input).await {
            Ok(started) => {
                tracing::info!(order_id = %created.order_id, ?started, "checkout started");
                // A redelivered order.created.v1 finds its execution:
                // only a new one counts.
                if let lite_saga::Started::New { .. } = started {
                    lite_metrics::saga_execution(lite_metrics::SagaOutcome::Started);
                }
                Ok(())
            }
            Err(SagaError::Invalid(m)) => Err(HandlerError::Poison(m)),
            Err(e) => Err(HandlerError::Retry(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CheckoutTimings;
    use payments::RetryPolicy;

    /// The local API's sandbox redelivers a webhook for longer than a
    /// checkout waits for it by default: a webhook the API could not take
    /// for a while (a slow store) arrives late, not never, and the
    /// checkout is never left to time out on a payment that was made.
    #[test]
    fn background_webhooks_are_redelivered_for_as_long_as_a_checkout_waits() {
        let waits: std::time::Duration = RetryPolicy::BACKGROUND.backoffs().sum();
        let payment_timeout = CheckoutTimings::default().payment_timeout_secs;
        assert!(
            waits.as_secs() >= payment_timeout,
            "redelivered for {waits:?}, a checkout waits {payment_timeout} s"
        );
    }
}
