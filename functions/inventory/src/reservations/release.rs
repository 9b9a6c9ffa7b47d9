//! Release: an order's units go back to `available`.

use super::model::{self, Reservation, ReservationStatus};
use crate::{stock, InventoryError};
use chrono::{DateTime, Utc};
use lite_events::contracts::{InventoryReleasedV1, ReleaseReason};
use lite_events::Envelope;
use lite_http::Context;
use lite_store::{attr, Condition, StoreError, TxOp, Update};

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

/// A status changes at most twice (held → committed → released), so a
/// retry after each lost race settles within a few attempts.
const ATTEMPTS: usize = 4;

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
    order_id: &str,
    reason: ReleaseReason,
    correlation_id: &str,
) -> Result<ReleaseOutcome, InventoryError> {
    release_scoped(ctx, order_id, reason, correlation_id, Scope::Any).await
}

pub(crate) async fn release_scoped(
    ctx: &Context,
    order_id: &str,
    reason: ReleaseReason,
    correlation_id: &str,
    scope: Scope,
) -> Result<ReleaseOutcome, InventoryError> {
    let order_id = model::parse_order_id(order_id)?;
    let correlation_id = model::parse_correlation_id(correlation_id)?;
    for _ in 0..ATTEMPTS {
        let found = model::load(ctx.store.as_ref(), order_id).await?;
        let found = match (found, scope) {
            (None, Scope::Any) => {
                let tombstone = model::tombstone_item(order_id, reason, ctx.clock.now());
                match ctx.store.put(tombstone, Some(Condition::NotExists)).await {
                    Ok(()) => return Ok(ReleaseOutcome::NothingHeld),
                    // A reserve landed in between: release that.
                    Err(e) if e.is_condition_failure() => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            (None, Scope::ExpiredHoldAt(_)) => return Ok(ReleaseOutcome::NothingHeld),
            (Some(found), _) => found,
        };
        match (found.status, scope) {
            (ReservationStatus::Released, _) if found.lines.is_empty() => {
                return Ok(ReleaseOutcome::NothingHeld)
            }
            (ReservationStatus::Released, _) => return Ok(ReleaseOutcome::AlreadyReleased),
            (ReservationStatus::Committed, Scope::ExpiredHoldAt(_)) => {
                return Ok(ReleaseOutcome::NothingHeld)
            }
            (ReservationStatus::Held, Scope::ExpiredHoldAt(now)) if found.hold_until > now => {
                return Ok(ReleaseOutcome::NothingHeld)
            }
            (ReservationStatus::Held | ReservationStatus::Committed, _) => {}
        }
        let (ops, reservation_op) = release_ops(ctx, order_id, &found, reason, correlation_id);
        match ctx.store.transact(ops).await {
            Ok(()) => {
                tracing::info!(
                    order_id,
                    correlation_id,
                    ?reason,
                    from = found.status.as_str(),
                    "stock released"
                );
                return Ok(ReleaseOutcome::Released);
            }
            // The status moved under us (a commit, another release); what
            // else failed with it saw the other write's counts. Re-read.
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&reservation_op) => {
                continue;
            }
            Err(e) => {
                if let StoreError::TransactionCanceled { failed } = &e {
                    tracing::error!(
                        order_id,
                        ?failed,
                        "stock record has fewer reserved units than a held reservation"
                    );
                }
                return Err(e.into());
            }
        }
    }
    Err(StoreError::Contention.into())
}

fn release_ops(
    ctx: &Context,
    order_id: &str,
    found: &Reservation,
    reason: ReleaseReason,
    correlation_id: &str,
) -> (Vec<TxOp>, usize) {
    let now = ctx.clock.now();
    let stamp = lite_core::rfc3339(now);
    let held = found.status == ReservationStatus::Held;
    let mut ops: Vec<TxOp> = found
        .lines
        .iter()
        .map(|line| {
            let q = i64::from(line.quantity);
            let mut updates = vec![
                Update::add("available", q),
                Update::set("updatedAt", stamp.clone()),
            ];
            let mut condition = None;
            if held {
                updates.push(Update::add("reserved", -q));
                // Holds by construction; guards `reserved >= 0`.
                condition = Some(Condition::ge("reserved", q));
            }
            TxOp::Update {
                key: stock::key(&line.sku),
                updates,
                condition,
            }
        })
        .collect();
    let reservation_op = ops.len();
    debug_assert!(found.status.can_become(ReservationStatus::Released));
    ops.push(TxOp::Update {
        key: model::key(order_id),
        updates: vec![
            Update::set("status", ReservationStatus::Released.as_str()),
            Update::set("reason", serde_json::to_value(reason).unwrap_or_default()),
            Update::set("releasedAt", stamp.clone()),
            Update::set("updatedAt", stamp),
            Update::remove(attr::GSI2PK),
            Update::remove(attr::GSI2SK),
        ],
        condition: Some(Condition::eq("status", found.status.as_str())),
    });
    let event = Envelope::of(
        ctx.ids.as_ref(),
        now,
        correlation_id,
        &InventoryReleasedV1 {
            order_id: order_id.to_owned(),
            items: found.lines.clone(),
            reason,
        },
    );
    ops.push(lite_events::outbox::put(&event));
    (ops, reservation_op)
}
