//! Shapes several events share (`$defs` in the schemas).

use lite_core::{Money, Sku};
use serde::{Deserialize, Serialize};

/// One order line as priced at checkout (`$defs/lineItem`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// `prd_<ULID>`.
    pub product_id: String,
    pub sku: Sku,
    /// The product's name when it was ordered.
    pub name: String,
    /// 1..=99.
    pub quantity: u32,
    pub unit_price: Money,
}

/// Units of one sku (`$defs/stockLine`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockLine {
    pub sku: Sku,
    /// At least 1.
    pub quantity: u32,
}

/// A product's approved-review summary (`$defs/ratingSummary`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RatingSummary {
    /// Mean rating, 0..=5 (0 when there are no reviews).
    pub average: f64,
    pub count: u32,
}
