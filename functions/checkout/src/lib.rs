//! Checkout: the saga that turns a PENDING order into a CONFIRMED one or a
//! FAILED one with everything compensated.
//!
//! - [`definition`]: the state machine (`infra/checkout.asl.json`).
//! - [`tasks`]: its task handlers, calling inventory (reserve, commit,
//!   release), payments (authorize, void) and orders (confirm, fail).
//! - [`starter`]: the `checkout-start` consumer of `order.created.v1`.
//! - [`local`]: what the one-process API needs to run it in-process.
//!
//! On AWS, Step Functions runs the definition and each task is a Lambda
//! function (`checkout-task`, one function per task, each allowed only its
//! own task by `CHECKOUT_TASK`); the binary `checkout` runs the
//! `checkout-start` consumer (`AMAZON_LITE_CONSUMER`).

pub mod definition;
pub mod local;
pub mod starter;
pub mod tasks;

pub use local::{LateSaga, LocalTasks};
pub use starter::{CheckoutStarter, CheckoutTimings};
pub use tasks::{Task, Tasks};

use lite_flags::SharedFlags;
use lite_ports::Context;
use lite_saga::Saga;
use lite_service::Service;
use std::sync::Arc;

/// The checkout service on its store and the saga engine that runs the
/// definition (Step Functions on AWS, `LocalSaga` locally): no routes, the
/// `checkout-start` consumer.
#[derive(Clone)]
pub struct Checkout {
    starter: CheckoutStarter,
}

impl Checkout {
    pub fn new(ctx: Context, saga: Arc<dyn Saga>, timings: CheckoutTimings) -> Self {
        Self {
            starter: CheckoutStarter::new(ctx, saga, timings),
        }
    }

    /// Reads the runtime flags from `flags` (`paymentTimeoutSeconds`
    /// overrides `timings` for new checkouts); without this, the defaults.
    pub fn with_flags(self, flags: SharedFlags) -> Self {
        Self {
            starter: self.starter.with_flags(flags),
        }
    }
}

impl Service for Checkout {
    fn name(&self) -> &'static str {
        "checkout"
    }

    /// None: orders are placed by the orders service, and the saga's tasks
    /// are invoked by the saga engine, not over HTTP.
    fn router(&self) -> axum::Router {
        axum::Router::new()
    }

    fn consumers(&self) -> Vec<Arc<dyn lite_events::Handler>> {
        vec![Arc::new(self.starter.clone())]
    }
}
