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
    let Some([Some(raw)]) = lite_store::raw::members(json, ["available"]) else {
        return 0;
    };
    std::str::from_utf8(raw)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn available_is_read_as_the_item_holds_it() {
        let item = |available: &str| {
            format!(
                r#"{{"PK":"STOCK#A-1","SK":"STOCK","available":{available},"entity":"stock","reserved":3,"sku":"A-1","updatedAt":"2026-12-07T20:00:00Z"}}"#
            )
        };
        assert_eq!(available_of(item("42").as_bytes()), 42);
        assert_eq!(available_of(item("-2").as_bytes()), -2);
        assert_eq!(available_of(item(" 7 ").as_bytes()), 7);
        // Not a whole number of units, or not a stock item: none to sell.
        for bad in ["4.5", "\"4\"", "null", "99999999999999999999"] {
            assert_eq!(available_of(item(bad).as_bytes()), 0, "{bad}");
        }
        assert_eq!(available_of(br#"{"PK":"STOCK#A-1","SK":"STOCK"}"#), 0);
        assert_eq!(available_of(b"{\"available\":4"), 0);
    }
}
