use chrono::{DateTime, Utc};
use lite_core::{Clock, Sku};
use lite_store::{Item, Key, Store, StoreError, Update};
use serde::{Deserialize, Serialize};

/// The most units one sku can hold (keeps arithmetic far from overflow).
pub const MAX_UNITS: i64 = 10_000_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockLevel {
    #[schema(value_type = String, example = "LAP-NW-AERO14-001")]
    pub sku: Sku,
    /// Units free to sell.
    pub available: i64,
    /// Units held by checkouts in flight.
    pub reserved: i64,
    pub updated_at: DateTime<Utc>,
}

pub(crate) fn key(sku: &Sku) -> Key {
    Key::new(format!("STOCK#{sku}"), "STOCK")
}

pub(crate) fn from_item(item: &Item) -> Option<StockLevel> {
    let sku = Sku::parse(item.get("sku")?.as_str()?).ok()?;
    let updated_at = DateTime::parse_from_rfc3339(item.get("updatedAt")?.as_str()?)
        .ok()?
        .with_timezone(&Utc);
    Some(StockLevel {
        sku,
        available: item.get("available")?.as_i64()?,
        reserved: item.get("reserved").and_then(|v| v.as_i64()).unwrap_or(0),
        updated_at,
    })
}

/// The units free to sell in a stock item's JSON: [`from_item`]'s
/// `available` without decoding the rest (0 when the item has none).
pub(crate) fn available_of(json: &[u8]) -> i64 {
    #[derive(serde::Deserialize)]
    struct Available {
        available: i64,
    }
    serde_json::from_slice::<Available>(json).map_or(0, |a| a.available)
}

/// Sets the units free to sell (upsert). Reservations are untouched.
pub async fn set_available(
    store: &dyn Store,
    clock: &dyn Clock,
    sku: &Sku,
    available: i64,
) -> Result<StockLevel, StoreError> {
    let updates = [
        Update::set("entity", "stock"),
        Update::set("sku", sku.as_str()),
        Update::set("available", available),
        Update::set_if_absent("reserved", 0),
        Update::set("updatedAt", lite_core::rfc3339(clock.now())),
    ];
    let item = store.update(&key(sku), &updates, None).await?;
    from_item(&item)
        .ok_or_else(|| StoreError::Invalid(format!("stock item for {sku} is malformed")))
}
