//! Orders' events: one per status transition.

use super::{contract, LineItem};
use lite_core::Money;
use serde::{Deserialize, Serialize};

/// `order.created.v1`: placed, PENDING; the checkout saga starts on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCreatedV1 {
    /// `ord_<ULID>`.
    pub order_id: String,
    /// `usr_<ULID>`.
    pub user_id: String,
    pub items: Vec<LineItem>,
    pub total: Money,
}
contract!(OrderCreatedV1, "order.created", 1, "orders");

/// `order.confirmed.v1`: stock reserved and payment authorized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderConfirmedV1 {
    pub order_id: String,
    pub user_id: String,
    pub items: Vec<LineItem>,
    pub total: Money,
    /// `pay_<ULID>`.
    pub payment_id: String,
}
contract!(OrderConfirmedV1, "order.confirmed", 1, "orders");

/// Why checkout failed an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    OutOfStock,
    PaymentDeclined,
    PaymentTimeout,
    /// A saga step failed for another reason.
    CheckoutError,
}

/// `order.failed.v1`: FAILED, with stock and payment compensated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFailedV1 {
    pub order_id: String,
    pub user_id: String,
    pub reason: FailureReason,
    /// Human-readable detail for the shopper (1..=500 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
contract!(OrderFailedV1, "order.failed", 1, "orders");

/// Who cancelled an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelledBy {
    Customer,
    Admin,
}

/// `order.cancelled.v1`: cancelled before shipping; its stock is released
/// and its payment voided or refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCancelledV1 {
    pub order_id: String,
    pub user_id: String,
    pub items: Vec<LineItem>,
    pub total: Money,
    /// Absent when no payment was made yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    pub cancelled_by: CancelledBy,
}
contract!(OrderCancelledV1, "order.cancelled", 1, "orders");

/// `order.shipped.v1`: CONFIRMED → SHIPPED.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderShippedV1 {
    pub order_id: String,
    pub user_id: String,
}
contract!(OrderShippedV1, "order.shipped", 1, "orders");
