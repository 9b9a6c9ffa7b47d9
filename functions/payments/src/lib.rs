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
pub use routes::{openapi, router, routes, ROUTES};
pub use sandbox::{Delivery, RetryPolicy, SandboxOperation, SandboxProvider};
pub use secret::{SecretError, SecretKey, WebhookSecret};
pub use signature::SignatureError;
