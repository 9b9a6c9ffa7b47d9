//! The checkout saga's steps that belong to orders (called by the
//! `checkout` crate's task handlers), and what the saga reads to start.
//! Each step is idempotent per order.

use crate::domain::{OrderId, OrderStatus, Transition};
use crate::repo::{self, Transitioned};
use crate::{events, OrdersError};
use lite_core::Money;
use lite_events::contracts::{FailureReason, StockLine};
use lite_metrics::SagaOutcome;
use lite_ports::Context;
use lite_store::StoreError;

/// What the saga needs to run one checkout.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckoutInput {
    pub order_id: String,
    pub user_id: String,
    pub items: Vec<StockLine>,
    pub total: Money,
    pub payment_token: String,
}

/// The saga's input for a PENDING order; `None` when the order is gone,
/// no longer PENDING, or has no payment token.
pub async fn checkout_input(
    ctx: &Context,
    id: &OrderId,
) -> Result<Option<CheckoutInput>, StoreError> {
    let Some(stored) = repo::get(ctx.store.as_ref(), id).await? else {
        return Ok(None);
    };
    let (order, Some(token)) = (stored.order, stored.payment_token) else {
        return Ok(None);
    };
    if order.status != OrderStatus::Pending {
        return Ok(None);
    }
    Ok(Some(CheckoutInput {
        order_id: order.id.to_string(),
        user_id: order.user_id.clone(),
        items: order
            .items
            .iter()
            .map(|l| StockLine {
                sku: l.sku.clone(),
                quantity: l.quantity,
            })
            .collect(),
        total: order.total,
        payment_token: token,
    }))
}

/// PENDING → CONFIRMED with the payment that paid it.
pub async fn confirm(
    ctx: &Context,
    id: &OrderId,
    payment_id: &str,
    correlation_id: &str,
) -> Result<Transitioned, OrdersError> {
    let moved = repo::transition(
        ctx,
        id,
        Transition::Confirm,
        None,
        |o| o.payment_id = Some(payment_id.to_owned()),
        |o| events::confirmed(ctx, o, payment_id, correlation_id),
        |o| crate::keys::purchase_ops(o, 1),
    )
    .await?;
    // The execution's last step: counted once, when the order moves.
    if let Transitioned::Moved(_) = moved {
        lite_metrics::saga_execution(SagaOutcome::Confirmed);
    }
    Ok(moved)
}

/// PENDING → FAILED with the reason (its stock and payment already
/// compensated by the saga).
pub async fn fail(
    ctx: &Context,
    id: &OrderId,
    reason: FailureReason,
    detail: Option<String>,
    correlation_id: &str,
) -> Result<Transitioned, OrdersError> {
    let label = serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned));
    let moved = repo::transition(
        ctx,
        id,
        Transition::Fail(reason),
        label,
        |o| {
            if let Some(f) = o.failure.as_mut() {
                f.detail = detail.clone();
            }
        },
        |o| events::failed(ctx, o, reason, detail.clone(), correlation_id),
        |_| vec![],
    )
    .await?;
    if let Transitioned::Moved(_) = moved {
        // A business outcome is a refusal; a technical one a failure
        // (the checkout_error alarm).
        lite_metrics::saga_execution(match reason {
            FailureReason::CheckoutError => SagaOutcome::Failed,
            _ => SagaOutcome::Refused,
        });
    }
    Ok(moved)
}
