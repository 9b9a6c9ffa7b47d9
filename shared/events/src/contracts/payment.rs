//! Payments' events.

use super::contract;
use lite_core::Money;
use serde::{Deserialize, Serialize};

/// `payment.authorized.v1`: the provider authorized an order's payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentAuthorizedV1 {
    /// `pay_<ULID>`.
    pub payment_id: String,
    /// `ord_<ULID>`.
    pub order_id: String,
    pub amount: Money,
    /// Provider adapter, e.g. `sandbox`.
    pub provider: String,
}
contract!(PaymentAuthorizedV1, "payment.authorized", 1, "payments");

/// Why a payment failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentFailureReason {
    CardDeclined,
    InsufficientFunds,
    /// The provider did not answer before the checkout timeout.
    Timeout,
    ProviderError,
}

/// `payment.failed.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFailedV1 {
    pub payment_id: String,
    pub order_id: String,
    pub amount: Money,
    pub provider: String,
    pub reason: PaymentFailureReason,
}
contract!(PaymentFailedV1, "payment.failed", 1, "payments");

/// How money went back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundKind {
    /// An authorization released before capture.
    Void,
    /// Captured money returned.
    Refund,
}

/// Why money went back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundReason {
    OrderCancelled,
    /// The checkout saga compensated after a later step failed.
    CheckoutCompensation,
}

/// `payment.refunded.v1`: voided or refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRefundedV1 {
    pub payment_id: String,
    pub order_id: String,
    /// The amount given back.
    pub amount: Money,
    pub provider: String,
    pub kind: RefundKind,
    pub reason: RefundReason,
}
contract!(PaymentRefundedV1, "payment.refunded", 1, "payments");
