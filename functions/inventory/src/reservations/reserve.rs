//! Reserve: every line of an order, or none.

use super::low_stock::{self, Thresholds};
use super::model::{self, ReservationStatus};
use crate::{stock, InventoryError};
use lite_core::{OrderId, Sku};
use lite_events::contracts::{InventoryReservedV1, StockLine};
use lite_events::Envelope;
use lite_ports::Context;
use lite_store::{Condition, StoreError, TxOp, Update};
use std::time::Duration;

/// The answer to a reserve. Out of stock is an outcome, not an error: the
/// saga routes on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReserveOutcome {
    /// Every line is held for the order (now, or by an earlier call).
    Reserved,
    /// Nothing was held. `skus` are the lines that lacked units (never
    /// stocked, discontinued, or fewer `available` than asked); empty when
    /// the order's reservation was already released.
    OutOfStock { skus: Vec<Sku> },
}

/// The reservation item's op (absent until the first reserve).
const RESERVATION: &str = "reservation";

/// Longest hold a checkout may ask for.
pub const MAX_HOLD: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// [`reserve_with`] with the process's [`Thresholds::global`].
pub async fn reserve(
    ctx: &Context,
    order_id: &OrderId,
    lines: &[StockLine],
    hold: Duration,
    correlation_id: &str,
) -> Result<ReserveOutcome, InventoryError> {
    reserve_with(
        ctx,
        order_id,
        lines,
        hold,
        correlation_id,
        Thresholds::global(),
    )
    .await
}

/// Holds every line of `order_id` until `now + hold`, in one transaction:
/// per sku `available -= q, reserved += q` on condition `available >= q`
/// (and not discontinued), the reservation (condition: none exists yet)
/// and the `inventory.reserved.v1` outbox item. Idempotent per order: a
/// repeated call answers from the stored reservation.
///
/// Afterwards, skus left at or below `thresholds.low_stock` get an
/// advisory `inventory.low.v1` (see [`low_stock`](super::low_stock)).
pub async fn reserve_with(
    ctx: &Context,
    order_id: &OrderId,
    lines: &[StockLine],
    hold: Duration,
    correlation_id: &str,
    thresholds: Thresholds,
) -> Result<ReserveOutcome, InventoryError> {
    let correlation_id = model::parse_correlation_id(correlation_id)?;
    let lines = model::merge_lines(lines)?;
    if hold.is_zero() || hold > MAX_HOLD {
        return Err(model::invalid(
            "holdSeconds",
            format!(
                "must be between 1 second and {} seconds",
                MAX_HOLD.as_secs()
            ),
        ));
    }
    let hold = chrono::Duration::from_std(hold)
        .map_err(|_| model::invalid("holdSeconds", "is too long"))?;
    let now = ctx.clock.now();
    let event = Envelope::of(
        ctx.ids.as_ref(),
        now,
        correlation_id,
        &InventoryReservedV1 {
            order_id: order_id.to_string(),
            items: lines.clone(),
        },
    );
    let mut ops: Vec<TxOp> = lines.iter().map(|l| take(l, now)).collect();
    ops.push(
        TxOp::put(model::held_item(order_id, &lines, now + hold, now))
            .when(Condition::NotExists)
            .named(RESERVATION),
    );
    ops.push(lite_events::outbox::put(&event));

    match ctx.store.transact(ops).await {
        Ok(()) => {
            tracing::info!(
                %order_id,
                correlation_id,
                lines = lines.len(),
                "stock reserved"
            );
            lite_metrics::stock_reservation(lite_metrics::StockOutcome::Reserved);
            low_stock::report(ctx, &model::skus(&lines), thresholds, correlation_id).await;
            Ok(ReserveOutcome::Reserved)
        }
        Err(e) if e.failed_on(RESERVATION) => existing(ctx, order_id, &lines).await,
        // Only stock ops failed (each is named by its sku).
        Err(e @ StoreError::TransactionCanceled { .. }) => {
            let skus: Vec<Sku> = lines
                .iter()
                .filter(|l| e.failed_on(l.sku.as_str()))
                .map(|l| l.sku.clone())
                .collect();
            tracing::info!(%order_id, correlation_id, ?skus, "out of stock");
            // A decision, counted where it is made: a repeated reserve of a
            // held order answers from its reservation (`existing`) and
            // counts nothing.
            lite_metrics::stock_reservation(lite_metrics::StockOutcome::OutOfStock);
            Ok(ReserveOutcome::OutOfStock { skus })
        }
        Err(e) => Err(e.into()),
    }
}

/// The stock op of one line: the units move from free to held, only if
/// that many are free and the product is still sold.
fn take(line: &StockLine, now: chrono::DateTime<chrono::Utc>) -> TxOp {
    let q = i64::from(line.quantity);
    TxOp::update(
        stock::key(&line.sku),
        vec![
            Update::add("available", -q),
            Update::add("reserved", q),
            Update::set("updatedAt", lite_core::rfc3339(now)),
        ],
    )
    // `available` missing (never stocked) fails `>=` too.
    .when(Condition::ge("available", q).and(Condition::ne("discontinued", true)))
    // Named by its sku: a cancellation tells which lines lacked units.
    .named(line.sku.as_str().to_owned())
}

/// The answer for an order that already has a reservation.
async fn existing(
    ctx: &Context,
    order_id: &OrderId,
    lines: &[StockLine],
) -> Result<ReserveOutcome, InventoryError> {
    let Some(found) = model::load(ctx.store.as_ref(), order_id).await? else {
        // The put's condition failed, so it existed a moment ago; only a
        // delete (which nothing does) could get here. Safe to ask again.
        return Err(StoreError::Contention.into());
    };
    if found.lines != lines && found.status != ReservationStatus::Released {
        tracing::warn!(
            %order_id,
            "reserve repeated with other lines; the first reservation stands"
        );
    }
    Ok(match found.status {
        ReservationStatus::Held | ReservationStatus::Committed => ReserveOutcome::Reserved,
        ReservationStatus::Released => ReserveOutcome::OutOfStock { skus: Vec::new() },
    })
}
