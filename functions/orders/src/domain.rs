//! Orders and the one way their status may change.

use chrono::{DateTime, Utc};
use lite_core::{Money, Sku};
use lite_events::contracts::{CancelledBy, FailureReason};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use lite_core::OrderId;

/// Where an order is. The only moves are those of [`Transition`]:
/// PENDING → CONFIRMED → SHIPPED → DELIVERED, PENDING → FAILED,
/// CONFIRMED → CANCELLED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Shipped,
    Delivered,
    Failed,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "PENDING",
            OrderStatus::Confirmed => "CONFIRMED",
            OrderStatus::Shipped => "SHIPPED",
            OrderStatus::Delivered => "DELIVERED",
            OrderStatus::Failed => "FAILED",
            OrderStatus::Cancelled => "CANCELLED",
        }
    }
}

/// A status change request. [`OrderStatus::apply`] is the only place that
/// decides whether it is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    Confirm,
    Fail(FailureReason),
    Ship,
    Deliver,
    Cancel(CancelledBy),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an order that is {from:?} cannot become {to:?}")]
pub struct InvalidTransition {
    pub from: OrderStatus,
    pub to: OrderStatus,
}

impl Transition {
    pub fn target(&self) -> OrderStatus {
        match self {
            Transition::Confirm => OrderStatus::Confirmed,
            Transition::Fail(_) => OrderStatus::Failed,
            Transition::Ship => OrderStatus::Shipped,
            Transition::Deliver => OrderStatus::Delivered,
            Transition::Cancel(_) => OrderStatus::Cancelled,
        }
    }
}

impl OrderStatus {
    /// The status after `t`, if `t` is allowed from here.
    pub fn apply(self, t: &Transition) -> Result<OrderStatus, InvalidTransition> {
        use OrderStatus::*;
        let to = t.target();
        match (self, to) {
            (Pending, Confirmed)
            | (Pending, Failed)
            | (Confirmed, Shipped)
            | (Shipped, Delivered)
            | (Confirmed, Cancelled) => Ok(to),
            _ => Err(InvalidTransition { from: self, to }),
        }
    }
}

/// One entry of an order's status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    pub status: OrderStatus,
    pub at: DateTime<Utc>,
    /// Why (failures and cancellations), e.g. `out_of_stock`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One order line, priced when the order was placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    #[schema(example = "prd_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C")]
    pub product_id: String,
    #[schema(value_type = String, example = "LAP-NW-AERO14-001")]
    pub sku: Sku,
    pub name: String,
    #[schema(value_type = Object)]
    pub unit_price: Money,
    /// 1..=99.
    pub quantity: u32,
    #[schema(value_type = Object)]
    pub line_total: Money,
}

/// Where the order goes (a copy: later address-book edits do not move it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingAddress {
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// Why an order failed, as the shopper sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// `out_of_stock`, `payment_declined`, `payment_timeout` or `checkout_error`.
    #[schema(value_type = String, example = "out_of_stock")]
    pub reason: FailureReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// An order as stored (the payment token stays in the item, never in a view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: OrderId,
    pub user_id: String,
    pub status: OrderStatus,
    pub items: Vec<OrderLine>,
    pub subtotal: Money,
    pub total: Money,
    pub shipping_address: ShippingAddress,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_by: Option<CancelledBy>,
    pub status_history: Vec<StatusChange>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change; every write is conditional on it.
    pub version: i64,
}

impl Order {
    /// The order after `t` at `now`, or why not.
    pub fn transitioned(
        &self,
        t: &Transition,
        now: DateTime<Utc>,
        reason: Option<String>,
    ) -> Result<Order, InvalidTransition> {
        let status = self.status.apply(t)?;
        let mut next = self.clone();
        next.status = status;
        next.updated_at = now;
        next.version += 1;
        next.status_history.push(StatusChange {
            status,
            at: now,
            reason,
        });
        match t {
            Transition::Fail(r) => {
                next.failure = Some(Failure {
                    reason: *r,
                    detail: None,
                })
            }
            Transition::Cancel(by) => next.cancelled_by = Some(*by),
            _ => {}
        }
        Ok(next)
    }
}

/// The payment part of an order view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PaymentSummary {
    /// `pending|authorized|captured|failed|refunded|voided`, or `none` when
    /// the order ended before a payment was asked for (e.g. out of stock).
    #[schema(example = "authorized")]
    pub status: String,
}

/// An order as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    #[schema(value_type = String, example = "ord_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C")]
    pub id: OrderId,
    pub status: OrderStatus,
    pub items: Vec<OrderLine>,
    #[schema(value_type = Object)]
    pub subtotal: Money,
    #[schema(value_type = Object)]
    pub total: Money,
    pub shipping_address: ShippingAddress,
    /// Absent in listings; on a single order, `pending` until the payment
    /// provider has been asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    pub status_history: Vec<StatusChange>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrderView {
    pub fn of(order: Order, payment: Option<PaymentSummary>) -> Self {
        OrderView {
            id: order.id,
            status: order.status,
            items: order.items,
            subtotal: order.subtotal,
            total: order.total,
            shipping_address: order.shipping_address,
            payment,
            failure: order.failure,
            status_history: order.status_history,
            created_at: order.created_at,
            updated_at: order.updated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;

    #[test]
    fn only_the_documented_transitions_are_allowed() {
        let all = [Pending, Confirmed, Shipped, Delivered, Failed, Cancelled];
        let transitions = [
            Transition::Confirm,
            Transition::Fail(FailureReason::OutOfStock),
            Transition::Ship,
            Transition::Deliver,
            Transition::Cancel(CancelledBy::Customer),
        ];
        let mut allowed = vec![];
        for from in all {
            for t in &transitions {
                if let Ok(to) = from.apply(t) {
                    allowed.push((from, to));
                }
            }
        }
        assert_eq!(
            allowed,
            vec![
                (Pending, Confirmed),
                (Pending, Failed),
                (Confirmed, Shipped),
                (Confirmed, Cancelled),
                (Shipped, Delivered),
            ]
        );
    }

    #[test]
    fn status_serializes_upper_case() {
        assert_eq!(serde_json::to_value(Confirmed).unwrap(), "CONFIRMED");
        assert_eq!(Confirmed.as_str(), "CONFIRMED");
    }
}
