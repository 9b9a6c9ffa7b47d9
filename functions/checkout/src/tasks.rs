//! The saga's task handlers: one payload shape per task (`task` names it),
//! each idempotent per order, each answering the small JSON the state
//! machine routes on (`infra/checkout.asl.json`).

use inventory::reservations::{self, CommitOutcome, ReserveOutcome};
use lite_core::{Money, OrderId};
use lite_events::contracts::{FailureReason, ReleaseReason, StockLine};
use lite_ports::Context;
use lite_saga::TaskError;
use payments::checkout::{AuthorizeTask, Payments, VoidReason};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// A task as the state machine sends it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    tag = "task",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Task {
    ReserveStock {
        order_id: OrderId,
        items: Vec<StockLine>,
        hold_seconds: u64,
        correlation_id: String,
    },
    AuthorizePayment {
        order_id: OrderId,
        user_id: String,
        amount: Money,
        payment_token: String,
        task_token: String,
        correlation_id: String,
    },
    CommitStock {
        order_id: OrderId,
        correlation_id: String,
    },
    ConfirmOrder {
        order_id: OrderId,
        payment_id: String,
        correlation_id: String,
    },
    VoidPayment {
        order_id: OrderId,
        reason: FailureReason,
        correlation_id: String,
    },
    ReleaseStock {
        order_id: OrderId,
        reason: FailureReason,
        correlation_id: String,
    },
    FailOrder {
        order_id: OrderId,
        reason: FailureReason,
        #[serde(default)]
        detail: Option<String>,
        correlation_id: String,
    },
}

impl Task {
    /// The `task` tag (`reserveStock`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Task::ReserveStock { .. } => "reserveStock",
            Task::AuthorizePayment { .. } => "authorizePayment",
            Task::CommitStock { .. } => "commitStock",
            Task::ConfirmOrder { .. } => "confirmOrder",
            Task::VoidPayment { .. } => "voidPayment",
            Task::ReleaseStock { .. } => "releaseStock",
            Task::FailOrder { .. } => "failOrder",
        }
    }
}

/// Error names the state machine's Retry/Catch match.
pub const TRANSIENT: &str = "Checkout.Transient";
pub const FAILED: &str = "Checkout.Failed";
pub const INVALID_INPUT: &str = "Checkout.InvalidInput";

fn transient(cause: impl std::fmt::Display) -> TaskError {
    TaskError {
        error: TRANSIENT.into(),
        cause: cause.to_string(),
    }
}

fn failed(cause: impl std::fmt::Display) -> TaskError {
    TaskError {
        error: FAILED.into(),
        cause: cause.to_string(),
    }
}

/// Runs the tasks against the services' own functions.
#[derive(Clone)]
pub struct Tasks {
    pub ctx: Context,
    pub payments: Arc<Payments>,
}

impl Tasks {
    /// Parses `payload` and runs it.
    pub async fn run_payload(&self, payload: Value) -> Result<Value, TaskError> {
        let task: Task = serde_json::from_value(payload).map_err(|e| TaskError {
            error: INVALID_INPUT.into(),
            cause: format!("the task payload does not parse: {e}"),
        })?;
        self.run(task).await
    }

    pub async fn run(&self, task: Task) -> Result<Value, TaskError> {
        let ctx = &self.ctx;
        match task {
            Task::ReserveStock {
                order_id,
                items,
                hold_seconds,
                correlation_id,
            } => {
                let outcome = reservations::reserve(
                    ctx,
                    &order_id,
                    &items,
                    Duration::from_secs(hold_seconds),
                    &correlation_id,
                )
                .await
                .map_err(inventory_error)?;
                let reserved = match outcome {
                    ReserveOutcome::Reserved => true,
                    ReserveOutcome::OutOfStock { skus } => {
                        tracing::info!(%order_id, ?skus, "out of stock");
                        false
                    }
                };
                Ok(json!({ "reserved": reserved }))
            }
            Task::AuthorizePayment {
                order_id,
                user_id,
                amount,
                payment_token,
                task_token,
                correlation_id,
            } => {
                payments::checkout::authorize(
                    &self.payments,
                    AuthorizeTask {
                        order_id,
                        user_id,
                        amount,
                        payment_token,
                        task_token,
                        correlation_id,
                    },
                )
                .await
                .map_err(payments_error)?;
                Ok(json!({}))
            }
            Task::CommitStock {
                order_id,
                correlation_id,
            } => {
                let outcome = reservations::commit(ctx, &order_id, &correlation_id)
                    .await
                    .map_err(inventory_error)?;
                let committed = matches!(
                    outcome,
                    CommitOutcome::Committed | CommitOutcome::AlreadyCommitted
                );
                Ok(json!({ "committed": committed }))
            }
            Task::ConfirmOrder {
                order_id,
                payment_id,
                correlation_id,
            } => {
                orders::saga::confirm(ctx, &order_id, &payment_id, &correlation_id)
                    .await
                    .map_err(orders_error)?;
                Ok(json!({}))
            }
            Task::VoidPayment {
                order_id,
                reason,
                correlation_id,
            } => {
                payments::checkout::void_for_order(
                    &self.payments,
                    &order_id,
                    void_reason(reason),
                    &correlation_id,
                )
                .await
                .map_err(payments_error)?;
                Ok(json!({}))
            }
            Task::ReleaseStock {
                order_id,
                reason,
                correlation_id,
            } => {
                reservations::release(ctx, &order_id, release_reason(reason), &correlation_id)
                    .await
                    .map_err(inventory_error)?;
                Ok(json!({}))
            }
            Task::FailOrder {
                order_id,
                reason,
                detail,
                correlation_id,
            } => {
                orders::saga::fail(ctx, &order_id, reason, detail, &correlation_id)
                    .await
                    .map_err(orders_error)?;
                Ok(json!({}))
            }
        }
    }
}

fn void_reason(r: FailureReason) -> VoidReason {
    match r {
        FailureReason::OutOfStock => VoidReason::OutOfStock,
        FailureReason::PaymentDeclined => VoidReason::PaymentDeclined,
        FailureReason::PaymentTimeout => VoidReason::PaymentTimeout,
        FailureReason::CheckoutError => VoidReason::CheckoutError,
    }
}

fn release_reason(r: FailureReason) -> ReleaseReason {
    match r {
        FailureReason::PaymentDeclined => ReleaseReason::PaymentDeclined,
        FailureReason::PaymentTimeout => ReleaseReason::PaymentTimeout,
        FailureReason::OutOfStock | FailureReason::CheckoutError => ReleaseReason::CheckoutError,
    }
}

fn inventory_error(e: inventory::InventoryError) -> TaskError {
    if e.is_transient() {
        transient(e)
    } else {
        failed(e)
    }
}

fn payments_error(e: payments::PaymentsError) -> TaskError {
    if e.is_transient() {
        transient(e)
    } else {
        failed(e)
    }
}

fn orders_error(e: orders::OrdersError) -> TaskError {
    if e.is_transient() {
        transient(e)
    } else {
        failed(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_of_the_definition_parse() {
        let t: Task = serde_json::from_value(json!({
            "task": "reserveStock", "orderId": "ord_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C", "items": [{"sku": "LAP-1", "quantity": 2}],
            "holdSeconds": 960, "correlationId": "c"
        }))
        .unwrap();
        assert_eq!(t.name(), "reserveStock");
        let t: Task = serde_json::from_value(json!({
            "task": "failOrder", "orderId": "ord_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C", "reason": "payment_declined",
            "detail": "card_declined", "correlationId": "c"
        }))
        .unwrap();
        assert_eq!(t.name(), "failOrder");
        assert!(serde_json::from_value::<Task>(json!({"task": "dance"})).is_err());
        // The order id is parsed here, once: a malformed one never reaches a step.
        assert!(serde_json::from_value::<Task>(json!({
            "task": "commitStock", "orderId": "ord_1", "correlationId": "c"
        }))
        .is_err());
    }
}
