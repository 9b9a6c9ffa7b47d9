//! Commit: held units become sold.

use super::model::{self, ReservationStatus};
use super::settle::{self, Plan};
use crate::InventoryError;
use lite_core::OrderId;
use lite_ports::Context;
use lite_store::Update;

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

/// Moves the order's reservation held → committed and, per sku,
/// `reserved -= q`, in one transaction conditioned on the status still
/// being `held` (a race with a sweeper or a release re-reads: a status
/// changes at most twice, so it settles). A hold whose time ran out but
/// that the sweeper has not released yet still commits: whichever
/// conditional write lands first decides.
pub async fn commit(
    ctx: &Context,
    order_id: &OrderId,
    correlation_id: &str,
) -> Result<CommitOutcome, InventoryError> {
    let correlation_id = model::parse_correlation_id(correlation_id)?;
    let outcome = settle::settle(ctx, order_id, |found| async move {
        let Some(found) = found else {
            return Ok(Plan::Answer(CommitOutcome::NotHeld));
        };
        match found.status {
            ReservationStatus::Committed => {
                return Ok(Plan::Answer(CommitOutcome::AlreadyCommitted))
            }
            ReservationStatus::Released => return Ok(Plan::Answer(CommitOutcome::NotHeld)),
            ReservationStatus::Held => {}
        }
        let now = lite_core::rfc3339(ctx.clock.now());
        let mut ops = settle::stock_ops(&found, &now, |q| vec![Update::add("reserved", -q)]);
        ops.push(settle::status_op(
            order_id,
            &found,
            ReservationStatus::Committed,
            &now,
            [Update::set("committedAt", now.clone())],
        ));
        Ok(Plan::Write {
            ops,
            done: CommitOutcome::Committed,
        })
    })
    .await?;
    if outcome == CommitOutcome::Committed {
        tracing::info!(%order_id, correlation_id, "stock committed");
    }
    Ok(outcome)
}
