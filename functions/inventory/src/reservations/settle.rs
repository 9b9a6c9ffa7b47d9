//! What commit and release share: a reservation leaves `held` (or
//! `committed`) in one transaction with its stock, conditioned on the
//! status just read, retried by the optimistic-write helper when that
//! status moved under it (a sweeper, a commit, another release).

use super::model::{self, Reservation, ReservationStatus};
use crate::{stock, InventoryError};
use lite_core::OrderId;
use lite_events::contracts::StockLine;
use lite_ports::Context;
use lite_store::optimistic::{self, lost_race, Attempt, POLICY};
use lite_store::{attr, Condition, TxOp, Update};
use std::future::Future;

/// The reservation item's op: its status must still be the one read.
pub(super) const RESERVATION: &str = "reservation";
/// A stock item's op (one per line).
pub(super) const STOCK: &str = "stock";

/// What a step decided about the reservation it read.
pub(super) enum Plan<T> {
    /// Nothing to write: the answer.
    Answer(T),
    /// Write `ops` in one transaction (built with [`status_op`] and
    /// [`stock_ops`]), then answer `done`.
    Write { ops: Vec<TxOp>, done: T },
    /// The reservation changed while deciding: read it again.
    Reread,
}

/// Reads the order's reservation, asks `plan` what to do and does it,
/// until a plan answers or its transaction lands; a transaction whose
/// reservation condition failed reads again (under [`POLICY`]). When only
/// stock conditions failed the stock disagrees with the reservation (it was
/// edited by hand): logged, and the store error answers.
pub(super) async fn settle<T, F, Fut>(
    ctx: &Context,
    order_id: &OrderId,
    plan: F,
) -> Result<T, InventoryError>
where
    F: Fn(Option<Reservation>) -> Fut,
    Fut: Future<Output = Result<Plan<T>, InventoryError>>,
{
    let plan = &plan;
    optimistic::retry(&POLICY, move |_| async move {
        let found = model::load(ctx.store.as_ref(), order_id).await?;
        let (ops, done) = match plan(found).await? {
            Plan::Answer(answer) => return Ok(Attempt::Done(answer)),
            Plan::Reread => return Ok(Attempt::Retry),
            Plan::Write { ops, done } => (ops, done),
        };
        match ctx.store.transact(ops).await {
            Ok(()) => Ok(Attempt::Done(done)),
            // What else failed with the status saw the other write's counts.
            Err(e) if lost_race(&e, &[RESERVATION]) => Ok(Attempt::Retry),
            Err(e) => {
                if e.failed_on(STOCK) {
                    tracing::error!(
                        %order_id,
                        error = %e,
                        "stock record has fewer reserved units than a held reservation"
                    );
                }
                Err(e.into())
            }
        }
    })
    .await
}

/// Per line, `updates(quantity)` on its stock item; for units still held,
/// conditioned on `reserved >= q` (true by construction; it guards
/// `reserved >= 0` should a stock item ever be edited by hand).
pub(super) fn stock_ops(
    found: &Reservation,
    now: &str,
    updates: impl Fn(i64) -> Vec<Update>,
) -> Vec<TxOp> {
    let held = found.status == ReservationStatus::Held;
    found
        .lines
        .iter()
        .map(|line: &StockLine| {
            let q = i64::from(line.quantity);
            let mut all = updates(q);
            all.push(Update::set("updatedAt", now));
            let op = TxOp::update(stock::key(&line.sku), all).named(STOCK);
            match held {
                true => op.when(Condition::ge("reserved", q)),
                false => op,
            }
        })
        .collect()
}

/// The reservation's move from the status read to `to` (with `updates`),
/// conditioned on that status; it leaves the held index.
pub(super) fn status_op(
    order_id: &OrderId,
    found: &Reservation,
    to: ReservationStatus,
    now: &str,
    updates: impl IntoIterator<Item = Update>,
) -> TxOp {
    debug_assert!(found.status.can_become(to));
    let mut all = vec![
        Update::set("status", to.as_str()),
        Update::set("updatedAt", now),
        Update::remove(attr::GSI2PK),
        Update::remove(attr::GSI2SK),
    ];
    all.extend(updates);
    TxOp::update(model::key(order_id), all)
        .when(Condition::eq("status", found.status.as_str()))
        .named(RESERVATION)
}
