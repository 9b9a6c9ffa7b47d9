//! The reservation item: one per order, `RESV#<orderId>` / `RESV`.

use crate::InventoryError;
use chrono::{DateTime, Utc};
use lite_core::{OrderId, Problem, Sku};
use lite_events::contracts::{ReleaseReason, StockLine};
use lite_store::{attr, Item, Key, Store};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The GSI2 partition of the reservations still held, sorted by when their
/// hold ends: the sweeper's query.
pub const HELD_PARTITION: &str = "RESV#HELD";

/// Most lines of one reservation: its transaction holds one op per sku plus
/// the reservation and the outbox item, and DynamoDB allows 100 ops.
pub const MAX_LINES: usize = lite_store::MAX_TRANSACTION_OPS - 2;

/// Units of one line, as a cart allows them.
pub const MAX_LINE_QUANTITY: u32 = 99;

/// Where a reservation stands. The only moves are held → committed,
/// held → released and committed → released (a sold unit comes back when
/// a confirmed order is cancelled); a released reservation is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    /// Units moved from `available` to `reserved` until the hold ends.
    Held,
    /// Units sold: gone from `reserved`, never back in `available` unless
    /// the order is cancelled.
    Committed,
    /// Units back in `available` (or never taken: see [`Reservation`]).
    Released,
}

impl ReservationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Held => "held",
            ReservationStatus::Committed => "committed",
            ReservationStatus::Released => "released",
        }
    }

    /// Whether `self → next` is one of the allowed moves.
    pub fn can_become(self, next: ReservationStatus) -> bool {
        use ReservationStatus::*;
        matches!(
            (self, next),
            (Held, Committed) | (Held, Released) | (Committed, Released)
        )
    }
}

/// One order's reservation as stored.
///
/// A released reservation with no lines is a tombstone: the order was
/// released before anything was held for it, and the tombstone makes a
/// late `reserve` of the same order answer "out of stock" instead of
/// holding units nobody will release.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    pub order_id: String,
    /// One line per sku (duplicates merged at reserve).
    pub lines: Vec<StockLine>,
    pub status: ReservationStatus,
    /// When the sweeper may release it if it is still held.
    pub hold_until: DateTime<Utc>,
    #[serde(default)]
    pub reason: Option<ReleaseReason>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub committed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub released_at: Option<DateTime<Utc>>,
}

pub(crate) fn key(order_id: &OrderId) -> Key {
    Key::new(format!("RESV#{order_id}"), "RESV")
}

/// The GSI2 sort key of a held reservation. RFC 3339 with milliseconds and
/// `Z` has one length, so byte order is time order.
pub(crate) fn held_sort_key(hold_until: DateTime<Utc>, order_id: &OrderId) -> String {
    format!("{}#{order_id}", lite_core::rfc3339(hold_until))
}

/// A new held reservation item.
pub(crate) fn held_item(
    order_id: &OrderId,
    lines: &[StockLine],
    hold_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Item {
    let mut item = key(order_id).to_item();
    let now = lite_core::rfc3339(now);
    let fields = json!({
        "entity": "reservation",
        "orderId": order_id.as_str(),
        "lines": lines_json(lines),
        "status": ReservationStatus::Held.as_str(),
        "holdUntil": lite_core::rfc3339(hold_until),
        "createdAt": now,
        "updatedAt": now,
        attr::GSI2PK: HELD_PARTITION,
        attr::GSI2SK: held_sort_key(hold_until, order_id),
    });
    extend(&mut item, fields);
    item
}

/// A released reservation that never held anything (see [`Reservation`]).
pub(crate) fn tombstone_item(
    order_id: &OrderId,
    reason: ReleaseReason,
    now: DateTime<Utc>,
) -> Item {
    let mut item = key(order_id).to_item();
    let now = lite_core::rfc3339(now);
    let fields = json!({
        "entity": "reservation",
        "orderId": order_id.as_str(),
        "lines": [],
        "status": ReservationStatus::Released.as_str(),
        "reason": reason,
        "holdUntil": now,
        "createdAt": now,
        "updatedAt": now,
        "releasedAt": now,
    });
    extend(&mut item, fields);
    item
}

fn extend(item: &mut Item, fields: Value) {
    if let Value::Object(fields) = fields {
        item.extend(fields);
    }
}

fn lines_json(lines: &[StockLine]) -> Value {
    Value::Array(
        lines
            .iter()
            .map(|l| json!({"sku": l.sku.as_str(), "quantity": l.quantity}))
            .collect(),
    )
}

fn from_item(item: &Item) -> Result<Reservation, InventoryError> {
    Reservation::deserialize(Value::Object(item.clone())).map_err(|e| {
        InventoryError::Store(lite_store::StoreError::Invalid(format!(
            "reservation item {} is malformed: {e}",
            Key::of(item).map(|k| k.to_string()).unwrap_or_default()
        )))
    })
}

/// The reservation of `order_id`, read consistently.
pub(crate) async fn load(
    store: &dyn Store,
    order_id: &OrderId,
) -> Result<Option<Reservation>, InventoryError> {
    match store.get(&key(order_id)).await? {
        Some(item) => from_item(&item).map(Some),
        None => Ok(None),
    }
}

/// `ord_<ULID>` in upper case (what the event schemas accept).
pub(crate) fn parse_order_id(raw: &str) -> Result<OrderId, InventoryError> {
    let ulid = raw.strip_prefix("ord_").unwrap_or("");
    let well_formed = ulid.len() == 26
        && ulid
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        && ulid::Ulid::from_string(ulid).is_ok();
    match OrderId::parse(raw) {
        Some(id) if well_formed => Ok(id),
        _ => Err(invalid("orderId", "must be ord_ followed by a ULID")),
    }
}

/// A correlation id as events carry it: 1..=128 characters.
pub(crate) fn parse_correlation_id(raw: &str) -> Result<&str, InventoryError> {
    if (1..=128).contains(&raw.chars().count()) {
        Ok(raw)
    } else {
        Err(invalid("correlationId", "must be 1 to 128 characters"))
    }
}

/// Checks the lines of a reservation and merges lines of the same sku (in
/// order of first appearance), so each sku is one op in the transaction.
pub(crate) fn merge_lines(lines: &[StockLine]) -> Result<Vec<StockLine>, InventoryError> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(invalid(
            "items",
            format!("must have 1 to {MAX_LINES} lines"),
        ));
    }
    let mut merged: Vec<StockLine> = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if !(1..=MAX_LINE_QUANTITY).contains(&line.quantity) {
            return Err(invalid(
                format!("items[{i}].quantity"),
                format!("must be between 1 and {MAX_LINE_QUANTITY}"),
            ));
        }
        match merged.iter_mut().find(|m| m.sku == line.sku) {
            Some(m) => m.quantity += line.quantity,
            None => merged.push(line.clone()),
        }
    }
    Ok(merged)
}

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> InventoryError {
    InventoryError::Invalid(Problem::field(field, message))
}

/// The sku of each line.
pub(crate) fn skus(lines: &[StockLine]) -> Vec<Sku> {
    lines.iter().map(|l| l.sku.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sku: &str, quantity: u32) -> StockLine {
        StockLine {
            sku: Sku::parse(sku).unwrap(),
            quantity,
        }
    }

    #[test]
    fn only_the_allowed_moves_are_allowed() {
        use ReservationStatus::*;
        let all = [Held, Committed, Released];
        let allowed: Vec<_> = all
            .iter()
            .flat_map(|a| all.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            allowed,
            [(Held, Committed), (Held, Released), (Committed, Released)]
        );
    }

    #[test]
    fn duplicate_skus_merge_in_first_order() {
        let merged = merge_lines(&[line("A", 2), line("B", 1), line("A", 3)]).unwrap();
        assert_eq!(merged, [line("A", 5), line("B", 1)]);
    }

    #[test]
    fn bad_lines_are_refused() {
        assert!(merge_lines(&[]).is_err());
        assert!(merge_lines(&[line("A", 0)]).is_err());
        assert!(merge_lines(&[line("A", 100)]).is_err());
        let many: Vec<_> = (0..=MAX_LINES).map(|i| line(&format!("S{i}"), 1)).collect();
        assert!(merge_lines(&many).is_err());
        assert!(merge_lines(&many[..MAX_LINES]).is_ok());
    }

    #[test]
    fn order_ids_must_be_well_formed() {
        assert!(parse_order_id("ord_01JAAAAAAAAAAAAAAAAAAAAAAA").is_ok());
        for bad in [
            "",
            "ord_",
            "prd_01JAAAAAAAAAAAAAAAAAAAAAAA",
            "ord_01jaaaaaaaaaaaaaaaaaaaaaaa",
            "ord_01JAAAAAAAAAAAAAAAAAAAAAA",
            "ord_01JAAAAAAAAAAAAAAAAAAAAAAU",
        ] {
            assert!(parse_order_id(bad).is_err(), "{bad}");
        }
    }

    fn id(raw: &str) -> OrderId {
        parse_order_id(raw).unwrap()
    }

    #[test]
    fn held_items_sort_by_hold_end() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let early = held_sort_key(
            t("2030-01-01T00:00:00.5Z"),
            &id("ord_01JBBBBBBBBBBBBBBBBBBBBBBB"),
        );
        let late = held_sort_key(
            t("2030-01-01T00:00:01Z"),
            &id("ord_01JAAAAAAAAAAAAAAAAAAAAAAA"),
        );
        assert!(early < late, "{early} < {late}");
    }

    #[test]
    fn items_read_back() {
        let now = Utc::now();
        let order = id("ord_01JCCCCCCCCCCCCCCCCCCCCCCC");
        let item = held_item(&order, &[line("A", 2)], now, now);
        let r = from_item(&item).unwrap();
        assert_eq!(r.status, ReservationStatus::Held);
        assert_eq!(r.lines, [line("A", 2)]);
        let tomb = from_item(&tombstone_item(&order, ReleaseReason::Cancelled, now)).unwrap();
        assert_eq!(tomb.status, ReservationStatus::Released);
        assert!(tomb.lines.is_empty());
        assert_eq!(tomb.reason, Some(ReleaseReason::Cancelled));
    }
}
