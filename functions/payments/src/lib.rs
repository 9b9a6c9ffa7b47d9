//! Payments: one payment per order (`PAYMENT#<orderId>`), asked of a
//! [`PaymentProvider`] by the checkout saga and settled by the provider's
//! signed webhook, which resumes the waiting saga task.
//!
//! - [`checkout`]: the saga's steps (authorize, void, capture).
//! - [`webhook`]: the provider's events, applied once per event id.
//! - [`sandbox`]: the built-in provider (test tokens, signed webhooks over
//!   HTTP with retries).
//! - [`signature`]: `Payment-Signature` signing and verification.
//! - [`consumers`]: `order.cancelled.v1` (void/refund) and
//!   `order.shipped.v1` (capture).
//! - [`read`]: what other services may read.
//! - [`breaker`]: the provider's circuit breaker, shared with order
//!   placement through the store.
//! - [`lambda`] (feature `lambda`): the service configured from a Lambda
//!   function's environment.

pub mod breaker;
pub mod checkout;
pub mod consumers;
pub mod domain;
mod error;
mod events;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod provider;
pub mod read;
pub mod record;
mod resume;
mod routes;
pub mod sandbox;
pub mod secret;
pub mod signature;
pub mod webhook;

pub use checkout::{AuthorizeTask, Payments, VoidOutcome, VoidReason};
pub use domain::{PaymentId, PaymentStatus};
pub use error::PaymentsError;
pub use provider::{AuthorizeRequest, PaymentProvider, ProviderError};
pub use routes::{openapi, routes, ROUTES};
pub use sandbox::{Delivery, RetryPolicy, SandboxOperation, SandboxProvider};
pub use secret::{SecretError, SecretKey, WebhookSecret};
pub use signature::SignatureError;

use lite_service::Service;
use std::sync::Arc;

/// [`Payments`] owns the service's ports (the context, the provider, the
/// saga it resumes, the webhook secret): the webhook and payment routes
/// and the consumers `payments-order-cancelled` (void or refund) and
/// `payments-order-shipped` (capture).
impl Service for Payments {
    fn name(&self) -> &'static str {
        "payments"
    }

    fn router(&self) -> axum::Router {
        routes::router(Arc::new(self.clone()))
    }

    fn consumers(&self) -> Vec<Arc<dyn lite_events::Handler>> {
        let payments = Arc::new(self.clone());
        vec![
            Arc::new(consumers::OrderCancelled::new(payments.clone())),
            Arc::new(consumers::OrderShipped::new(payments)),
        ]
    }
}
