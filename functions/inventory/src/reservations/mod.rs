//! Reservations: the checkout saga's stock steps (`infra/checkout.asl.json`:
//! ReserveStock, CommitStock, ReleaseStock) and the sweeper of expired holds.
//!
//! One reservation item per order, `RESV#<orderId>` / `RESV`, holds its
//! lines (one per sku), its [`ReservationStatus`] and when its hold ends.
//! Every step is one transaction over the reservation and the `STOCK#<sku>`
//! items it moves units between, with conditions that make it all-or-none
//! under any concurrency:
//!
//! | step | status | per sku | event |
//! |---|---|---|---|
//! | [`reserve`] | new → held | `available -= q, reserved += q` if `available >= q` | `inventory.reserved.v1` |
//! | [`commit`] | held → committed | `reserved -= q` | — |
//! | [`release`] | held → released | `available += q, reserved -= q` | `inventory.released.v1` |
//! | [`release`] | committed → released | `available += q` | `inventory.released.v1` |
//! | [`release_expired`] | held (hold ended) → released | as release | `inventory.released.v1` (`expired`) |
//!
//! Each step is idempotent per order, so the saga's retries and redelivered
//! events are safe: a repeated reserve answers from the stored reservation,
//! a repeated commit or release changes nothing.

mod commit;
mod low_stock;
mod model;
mod release;
mod reserve;
mod settle;
mod sweeper;

pub use commit::{commit, CommitOutcome};
pub use low_stock::Thresholds;
pub(crate) use model::parse_order_id;
pub use model::{Reservation, ReservationStatus, HELD_PARTITION, MAX_LINES, MAX_LINE_QUANTITY};
pub use release::{release, ReleaseOutcome};
pub use reserve::{reserve, reserve_with, ReserveOutcome, MAX_HOLD};
pub use sweeper::{release_expired, report_pending_age, run_sweeper, SWEEP_REASON};

use crate::InventoryError;
use lite_core::OrderId;
use lite_ports::Context;

/// The reservation of `order_id`, if any (read consistently).
pub async fn find(
    ctx: &Context,
    order_id: &OrderId,
) -> Result<Option<Reservation>, InventoryError> {
    model::load(ctx.store.as_ref(), order_id).await
}
