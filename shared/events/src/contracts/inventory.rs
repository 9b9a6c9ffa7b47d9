//! Inventory's events.

use super::{contract, StockLine};
use lite_core::Sku;
use serde::{Deserialize, Serialize};

/// `inventory.reserved.v1`: every line of an order is held (all or none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryReservedV1 {
    /// `ord_<ULID>`; the reservation is the order's.
    pub order_id: String,
    pub items: Vec<StockLine>,
}
contract!(InventoryReservedV1, "inventory.reserved", 1, "inventory");

/// Why a reservation went back to available stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseReason {
    PaymentDeclined,
    PaymentTimeout,
    /// A saga step failed for another reason (compensation).
    CheckoutError,
    /// The order was cancelled before shipping.
    Cancelled,
    /// The hold ran out before the checkout committed it (the sweeper).
    Expired,
}

/// `inventory.released.v1`: an order's reservation is available again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryReleasedV1 {
    pub order_id: String,
    pub items: Vec<StockLine>,
    pub reason: ReleaseReason,
}
contract!(InventoryReleasedV1, "inventory.released", 1, "inventory");

/// `inventory.low.v1`: a sku's available units fell to or below its
/// threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryLowV1 {
    pub sku: Sku,
    pub available: i64,
    pub threshold: i64,
}
contract!(InventoryLowV1, "inventory.low", 1, "inventory");
