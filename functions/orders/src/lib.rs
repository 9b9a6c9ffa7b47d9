//! Orders: `POST /v1/orders` turns the caller's cart into a PENDING order
//! (idempotent by `Idempotency-Key`, one transaction with the cart's
//! checkout and `order.created.v1`, on which the checkout saga starts);
//! the status machine ([`domain::Transition`]) with its history; listing,
//! cancel (CONFIRMED → CANCELLED, compensated through
//! `order.cancelled.v1`) and ship (admin). The saga's confirm and fail
//! steps are [`saga`]. This crate owns the `ORDER#` and `IDEMKEY#` items.

pub mod domain;
mod error;
mod events;
pub mod idempotency;
mod keys;
mod place;
pub mod read;
mod repo;
mod routes;
pub mod saga;

pub use error::OrdersError;
pub use repo::Transitioned;
pub use routes::{openapi, routes, OrdersState, ROUTES};

use lite_flags::SharedFlags;
use lite_ports::Context;
use lite_service::Service;

/// The orders service on its store: placing, listing, cancelling and
/// shipping orders.
#[derive(Clone)]
pub struct Orders {
    ctx: Context,
    flags: SharedFlags,
}

impl Orders {
    pub fn new(ctx: Context) -> Self {
        Self {
            ctx,
            flags: lite_flags::defaults(),
        }
    }

    /// Reads the runtime flags from `flags` (`checkoutPaused` refuses
    /// `POST /v1/orders`); without this, the defaults.
    pub fn with_flags(mut self, flags: SharedFlags) -> Self {
        self.flags = flags;
        self
    }
}

impl Service for Orders {
    fn name(&self) -> &'static str {
        "orders"
    }

    fn router(&self) -> axum::Router {
        routes::router(OrdersState {
            ctx: self.ctx.clone(),
            flags: self.flags.clone(),
        })
    }
}
