//! Commit: held units become sold.

use super::model::{self, Reservation, ReservationStatus};
use crate::{stock, InventoryError};
use lite_http::Context;
use lite_store::{attr, Condition, StoreError, TxOp, Update};

/// The answer to a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Held units are sold now.
    Committed,
    /// An earlier call sold them.
    AlreadyCommitted,
    /// Nothing to sell: the reservation was released (by the sweeper when
    /// its hold ran out, or by a compensation), or never made.
    NotHeld,
}

/// Races (a sweeper or a release between our read and our write) make the
/// transaction's reservation condition fail; each retry re-reads, and a
/// status can change at most twice, so a few attempts always settle.
const ATTEMPTS: usize = 4;

/// Moves the order's reservation held → committed and, per sku,
/// `reserved -= q`, in one transaction conditioned on the status still
/// being `held`. A hold whose time ran out but that the sweeper has not
/// released yet still commits: whichever conditional write lands first
/// decides.
pub async fn commit(
    ctx: &Context,
    order_id: &str,
    correlation_id: &str,
) -> Result<CommitOutcome, InventoryError> {
    let order_id = model::parse_order_id(order_id)?;
    let correlation_id = model::parse_correlation_id(correlation_id)?;
    for _ in 0..ATTEMPTS {
        let Some(found) = model::load(ctx.store.as_ref(), order_id).await? else {
            return Ok(CommitOutcome::NotHeld);
        };
        match found.status {
            ReservationStatus::Committed => return Ok(CommitOutcome::AlreadyCommitted),
            ReservationStatus::Released => return Ok(CommitOutcome::NotHeld),
            ReservationStatus::Held => {}
        }
        let (ops, reservation_op) = commit_ops(ctx, order_id, &found);
        match ctx.store.transact(ops).await {
            Ok(()) => {
                tracing::info!(order_id, correlation_id, "stock committed");
                return Ok(CommitOutcome::Committed);
            }
            // The status moved under us; whatever else failed with it
            // (its stock ops see the other write's counts) is moot.
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

fn commit_ops(ctx: &Context, order_id: &str, found: &Reservation) -> (Vec<TxOp>, usize) {
    let now = lite_core::rfc3339(ctx.clock.now());
    let mut ops: Vec<TxOp> = found
        .lines
        .iter()
        .map(|line| {
            let q = i64::from(line.quantity);
            TxOp::Update {
                key: stock::key(&line.sku),
                updates: vec![
                    Update::add("reserved", -q),
                    Update::set("updatedAt", now.clone()),
                ],
                // Holds by construction; it guards `reserved >= 0` should a
                // stock item ever be edited by hand.
                condition: Some(Condition::ge("reserved", q)),
            }
        })
        .collect();
    let reservation_op = ops.len();
    ops.push(TxOp::Update {
        key: model::key(order_id),
        updates: vec![
            Update::set("status", ReservationStatus::Committed.as_str()),
            Update::set("committedAt", now.clone()),
            Update::set("updatedAt", now),
            Update::remove(attr::GSI2PK),
            Update::remove(attr::GSI2SK),
        ],
        condition: Some(Condition::eq("status", ReservationStatus::Held.as_str())),
    });
    debug_assert!(ReservationStatus::Held.can_become(ReservationStatus::Committed));
    (ops, reservation_op)
}
