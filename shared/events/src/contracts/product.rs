//! The catalog's events.

use super::{contract, RatingSummary};
use chrono::{DateTime, Utc};
use lite_core::{Money, Sku};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A product as stored after a change (`$defs/product`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductSnapshot {
    /// `prd_<ULID>`.
    pub id: String,
    pub sku: Sku,
    pub name: String,
    pub description: String,
    /// Lower-case slug.
    pub category: String,
    pub brand: String,
    pub price: Money,
    /// https URLs.
    pub images: Vec<String>,
    pub attributes: BTreeMap<String, String>,
    pub rating: RatingSummary,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `product.created.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductCreatedV1 {
    pub product: ProductSnapshot,
}
contract!(ProductCreatedV1, "product.created", 1, "catalog");

/// `product.updated.v1`: the whole product after the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductUpdatedV1 {
    pub product: ProductSnapshot,
}
contract!(ProductUpdatedV1, "product.updated", 1, "catalog");

/// `product.deleted.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductDeletedV1 {
    /// `prd_<ULID>` of the deleted product.
    pub id: String,
    pub sku: Sku,
}
contract!(ProductDeletedV1, "product.deleted", 1, "catalog");
