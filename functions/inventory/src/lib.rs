//! Inventory: stock per sku and the checkout's reservations of it.
//!
//! # Model
//! `STOCK#<sku>` / `STOCK` holds two counts:
//! - `available`: units free to sell;
//! - `reserved`: units held by checkouts in flight.
//!
//! A unit is in exactly one place: free (`available`), held by one order
//! (`reserved`, and that order's reservation says so), or sold (in neither,
//! its reservation committed). `available` never goes below 0 under any
//! concurrency: the only writes that lower it are reserves, each a
//! transaction conditioned on `available >= q`, and `PUT`, which sets it to
//! a value in `0..=MAX_UNITS`.
//!
//! `PUT /v1/inventory/{sku}` sets the units free to sell (an admin's count
//! of what is on the shelf and not promised); it never touches `reserved`,
//! so checkouts in flight keep their holds. It sets an absolute value: a
//! reserve that lands just before it is overwritten in `available` (not in
//! `reserved`), as any later count would.
//!
//! # The checkout saga's steps ([`reservations`])
//! `infra/checkout.asl.json` runs reserve → authorize payment → commit →
//! confirm order; every failure compensates with release.
//! - ReserveStock → [`reservations::reserve`]: every line or none, held
//!   until the hold ends (`available -= q, reserved += q`).
//! - CommitStock → [`reservations::commit`]: held units become sold
//!   (`reserved -= q`); `NotHeld` when the hold already expired and was
//!   released.
//! - ReleaseStock → [`reservations::release`]: held units go back
//!   (`reserved -= q, available += q`), and so do committed ones
//!   (`available += q`) — a compensation after commit or a cancelled
//!   confirmed order returns sold units.
//! - The sweeper ([`reservations::release_expired`]) releases holds whose
//!   time ran out (reason `expired`) and never touches committed ones.
//!
//! # Entry points
//! - Routes ([`router`], [`ROUTES`]): admin get/put of a stock record.
//! - Consumers ([`consumers`]): `inventory-catalog-sync` (a stock record
//!   per product), `inventory-order-cancelled` (release on cancellation).
//! - Lambda binaries (feature `lambda`): `inventory` (routes),
//!   `inventory-catalog-sync`, `inventory-order-cancelled`,
//!   `inventory-reservation-sweeper` (EventBridge schedule, every minute).
//!
//! This crate owns the `STOCK#<sku>` and `RESV#<orderId>` items; other
//! services read stock only through [`read`] and change it only through
//! [`reservations`].

pub mod consumers;
mod error;
pub mod read;
pub mod reservations;
mod routes;
mod stock;

pub use error::InventoryError;
pub use routes::{openapi, routes, ROUTES};
pub use stock::{set_available, StockLevel, MAX_UNITS};

use lite_ports::Context;
use lite_service::Service;
use std::sync::Arc;

/// The inventory service on its store: the admin stock routes and the
/// consumers `inventory-catalog-sync` and `inventory-order-cancelled`.
#[derive(Clone)]
pub struct Inventory {
    ctx: Context,
}

impl Inventory {
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }
}

impl Service for Inventory {
    fn name(&self) -> &'static str {
        "inventory"
    }

    fn router(&self) -> axum::Router {
        routes::router(self.ctx.clone())
    }

    fn consumers(&self) -> Vec<Arc<dyn lite_events::Handler>> {
        vec![
            Arc::new(consumers::CatalogSync::new(self.ctx.clone())),
            Arc::new(consumers::OrderCancelled::new(self.ctx.clone())),
        ]
    }
}
