//! Release: an order's units go back to `available`.

use super::model::{self, Reservation, ReservationStatus};
use super::settle::{self, Plan};
use crate::InventoryError;
use chrono::{DateTime, Utc};
use lite_core::OrderId;
use lite_events::contracts::{InventoryReleasedV1, ReleaseReason};
use lite_events::Envelope;
use lite_ports::Context;
use lite_store::{Condition, TxOp, Update};

/// The answer to a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseOutcome {
    /// The order's held or sold units are available again.
    Released,
    /// An earlier call released them.
    AlreadyReleased,
    /// The order holds nothing (never reserved, or out of stock).
    NothingHeld,
}

/// Which reservations a release may touch.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope {
    /// Held or committed (the saga's compensation, a cancellation).
    Any,
    /// Only one still held whose hold ended at or before this instant (the
    /// sweeper: a committed order is sold and stays sold).
    ExpiredHoldAt(DateTime<Utc>),
}

/// Gives the order's units back, in one transaction with the status change
/// (conditioned on the status just read) and the `inventory.released.v1`
/// outbox item:
/// - held: per sku `available += q, reserved -= q`;
/// - committed (a confirmed order cancelled, or a compensation after
///   commit): per sku `available += q` (the sold units return).
///
/// Repeated calls are no-ops. Releasing an order that never reserved
/// records a tombstone (see [`Reservation`]), so a reserve that arrives
/// late cannot hold units that nobody would release.
pub async fn release(
    ctx: &Context,
    order_id: &OrderId,
    reason: ReleaseReason,
    correlation_id: &str,
) -> Result<ReleaseOutcome, InventoryError> {
    release_scoped(ctx, order_id, reason, correlation_id, Scope::Any).await
}

pub(crate) async fn release_scoped(
    ctx: &Context,
    order_id: &OrderId,
    reason: ReleaseReason,
    correlation_id: &str,
    scope: Scope,
) -> Result<ReleaseOutcome, InventoryError> {
    let correlation_id = model::parse_correlation_id(correlation_id)?;
    let (outcome, from) = settle::settle(ctx, order_id, |found| async move {
        let answer = |outcome| Ok(Plan::Answer((outcome, None)));
        let found = match (found, scope) {
            (None, Scope::Any) => {
                let tombstone = model::tombstone_item(order_id, reason, ctx.clock.now());
                return match ctx.store.put(tombstone, Some(Condition::NotExists)).await {
                    Ok(()) => answer(ReleaseOutcome::NothingHeld),
                    // A reserve landed in between: release that.
                    Err(e) if e.is_condition_failure() => Ok(Plan::Reread),
                    Err(e) => Err(e.into()),
                };
            }
            (None, Scope::ExpiredHoldAt(_)) => return answer(ReleaseOutcome::NothingHeld),
            (Some(found), _) => found,
        };
        match (found.status, scope) {
            (ReservationStatus::Released, _) if found.lines.is_empty() => {
                return answer(ReleaseOutcome::NothingHeld)
            }
            (ReservationStatus::Released, _) => return answer(ReleaseOutcome::AlreadyReleased),
            (ReservationStatus::Committed, Scope::ExpiredHoldAt(_)) => {
                return answer(ReleaseOutcome::NothingHeld)
            }
            (ReservationStatus::Held, Scope::ExpiredHoldAt(now)) if found.hold_until > now => {
                return answer(ReleaseOutcome::NothingHeld)
            }
            (ReservationStatus::Held | ReservationStatus::Committed, _) => {}
        }
        let ops = release_ops(ctx, order_id, &found, reason, correlation_id);
        Ok(Plan::Write {
            ops,
            done: (ReleaseOutcome::Released, Some(found.status)),
        })
    })
    .await?;
    if let Some(from) = from {
        tracing::info!(
            %order_id,
            correlation_id,
            ?reason,
            from = from.as_str(),
            "stock released"
        );
    }
    Ok(outcome)
}

/// Held: per sku `available += q, reserved -= q`; committed: per sku
/// `available += q` (the sold units return). Then the status change and
/// `inventory.released.v1`.
fn release_ops(
    ctx: &Context,
    order_id: &OrderId,
    found: &Reservation,
    reason: ReleaseReason,
    correlation_id: &str,
) -> Vec<TxOp> {
    let now = ctx.clock.now();
    let stamp = lite_core::rfc3339(now);
    let held = found.status == ReservationStatus::Held;
    let mut ops = settle::stock_ops(found, &stamp, |q| {
        let mut updates = vec![Update::add("available", q)];
        if held {
            updates.push(Update::add("reserved", -q));
        }
        updates
    });
    ops.push(settle::status_op(
        order_id,
        found,
        ReservationStatus::Released,
        &stamp,
        [
            Update::set("reason", serde_json::to_value(reason).unwrap_or_default()),
            Update::set("releasedAt", stamp.clone()),
        ],
    ));
    let event = Envelope::of(
        ctx.ids.as_ref(),
        now,
        correlation_id,
        &InventoryReleasedV1 {
            order_id: order_id.to_string(),
            items: found.lines.clone(),
            reason,
        },
    );
    ops.push(lite_events::outbox::put(&event));
    ops
}
