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
//! own task by `CHECKOUT_TASK`).

pub mod definition;
pub mod local;
pub mod starter;
pub mod tasks;

pub use local::{LateSaga, LocalTasks};
pub use starter::{CheckoutStarter, CheckoutTimings};
pub use tasks::{Task, Tasks};
