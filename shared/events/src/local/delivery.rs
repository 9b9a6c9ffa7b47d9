//! The items of the local bus: one delivery per (consumer, event), which
//! lives in the consumer's queue, then is deleted (handled) or moves to the
//! consumer's dead-letter queue.
//!
//! | state | PK / SK | GSI1PK / GSI1SK | GSI2PK / GSI2SK |
//! |---|---|---|---|
//! | queued (due at `dueAt`; while a worker holds it, `dueAt` is the end of its visibility timeout) | `DELIVERY#<consumer>#<eventId>` / `DELIVERY` | `QUEUE#<consumer>` / `<dueAt ms:015>#<eventId>` | — |
//! | dead letter | same | `DLQ#<consumer>` / `<failedAt ms:015>#<eventId>` | `DEADLETTERS` / `<consumer>#<failedAt ms:015>#<eventId>` |
//!
//! Other attributes: `entity = "delivery"`, `consumer`, `eventId`,
//! `detailType`, `event` (the envelope), `attempts` (receives so far),
//! `version` (bumped by every change; every change is conditional on it, so
//! racing workers never both act), `dueAt` (epoch ms), `createdAt`, and for
//! dead letters `lastError`, `failedAt` (RFC 3339).

use lite_store::{attr, Item, Key};
use serde_json::Value;

pub const ENTITY: &str = "delivery";
/// GSI2 partition of every dead letter (lists the consumers that have any).
pub const DEAD_LETTERS_PARTITION: &str = "DEADLETTERS";

pub const CONSUMER: &str = "consumer";
pub const EVENT_ID: &str = "eventId";
pub const DETAIL_TYPE: &str = "detailType";
pub const EVENT: &str = "event";
pub const ATTEMPTS: &str = "attempts";
pub const VERSION: &str = "version";
pub const DUE_AT: &str = "dueAt";
pub const LAST_ERROR: &str = "lastError";
pub const FAILED_AT: &str = "failedAt";

pub fn key(consumer: &str, event_id: &str) -> Key {
    Key::new(format!("DELIVERY#{consumer}#{event_id}"), "DELIVERY")
}

/// GSI1 partition of a consumer's queue.
pub fn queue(consumer: &str) -> String {
    format!("QUEUE#{consumer}")
}

/// GSI1 partition of a consumer's dead-letter queue.
pub fn dlq(consumer: &str) -> String {
    format!("DLQ#{consumer}")
}

/// A queue or DLQ sort key: time first (fixed width, so strings sort as
/// numbers), then the event id (time-ordered too).
pub fn sort_key(ms: i64, event_id: &str) -> String {
    format!("{:015}#{event_id}", ms.max(0))
}

/// The GSI2 sort key of a dead letter.
pub fn dead_letter_sort_key(consumer: &str, failed_ms: i64, event_id: &str) -> String {
    format!("{consumer}#{}", sort_key(failed_ms, event_id))
}

/// A fresh delivery of `event` (the envelope as JSON) to `consumer`, due at
/// `now_ms`.
pub fn new_item(
    consumer: &str,
    event_id: &str,
    detail_type: &str,
    event: Value,
    now_ms: i64,
    created_at: &str,
) -> Item {
    let mut item = key(consumer, event_id).to_item();
    item.insert("entity".into(), ENTITY.into());
    item.insert(CONSUMER.into(), consumer.into());
    item.insert(EVENT_ID.into(), event_id.into());
    item.insert(DETAIL_TYPE.into(), detail_type.into());
    item.insert(EVENT.into(), event);
    item.insert(ATTEMPTS.into(), 0.into());
    item.insert(VERSION.into(), 0.into());
    item.insert(DUE_AT.into(), now_ms.into());
    item.insert("createdAt".into(), created_at.into());
    item.insert(attr::GSI1PK.into(), queue(consumer).into());
    item.insert(attr::GSI1SK.into(), sort_key(now_ms, event_id).into());
    item
}

pub fn str_of<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(Value::as_str)
}

pub fn int_of(item: &Item, name: &str) -> i64 {
    item.get(name).and_then(Value::as_i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker handles the due prefix of its queue: the queue's order
    /// (the sort key) must be due-time order, whatever the event ids.
    #[test]
    fn sort_keys_order_by_due_time() {
        assert!(sort_key(999, "evt_z") < sort_key(1_000, "evt_a"));
        assert!(sort_key(99, "evt_z") < sort_key(100, "evt_a"));
        assert!(sort_key(-5, "evt_z") < sort_key(1, "evt_a"));
        assert!(sort_key(1_000, "evt_a") < sort_key(1_000, "evt_b"));
    }
}
