//! The notifications service's items: one per notification sent.
//!
//! `PK = NOTIF#<notificationId>`, `SK = NOTIF`; `GSI1PK = USER#<userId>#NOTIFS`,
//! `GSI1SK = <createdAt>#<notificationId>` (a user's notifications, newest
//! first by querying backwards). The notification id is derived from the
//! event id (`evt_<ULID>` → `ntf_<ULID>`), so the table key is the same
//! for every delivery of one event: the put is conditioned on the item not
//! existing, and a redelivery finds it and sends nothing.

use chrono::{DateTime, Utc};
use lite_store::{attr, Item, Key};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

lite_core::define_id!(NotificationId, "ntf");

impl NotificationId {
    /// The one notification an event may cause; `None` when `event_id` is
    /// not an `evt_<ULID>`.
    pub fn of_event(event_id: &str) -> Option<NotificationId> {
        let ulid = event_id.strip_prefix("evt_")?;
        NotificationId::parse(&format!("{}_{ulid}", NotificationId::PREFIX))
    }
}

pub fn key(id: &NotificationId) -> Key {
    Key::new(format!("NOTIF#{id}"), "NOTIF")
}

pub fn user_notifications(user_id: &str) -> String {
    format!("USER#{user_id}#NOTIFS")
}

/// A notification as stored and as `GET /v1/me/notifications` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    #[schema(value_type = String, example = "ntf_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C")]
    pub id: NotificationId,
    #[schema(example = "Your order ord_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C is confirmed")]
    pub subject: String,
    /// Plain text, as e-mailed.
    pub body: String,
    /// How it was sent: `email`.
    #[schema(example = "email")]
    pub channel: String,
    /// The event it is about, e.g. `order.confirmed`.
    #[schema(example = "order.confirmed")]
    pub event_type: String,
    #[schema(example = "ord_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C")]
    pub order_id: String,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
}

/// The stored-only attributes beside the view's.
pub struct Meta<'a> {
    pub user_id: &'a str,
    pub event_id: &'a str,
    /// The template language used.
    pub language: &'a str,
}

pub const CHANNEL_EMAIL: &str = "email";
pub const STATUS_SENT: &str = "sent";

pub fn item(n: &Notification, meta: &Meta<'_>) -> Item {
    let mut item = match serde_json::to_value(n) {
        Ok(serde_json::Value::Object(map)) => map,
        // A Notification is plain data; it always serializes to an object.
        _ => Item::new(),
    };
    let key = key(&n.id);
    item.insert(attr::PK.into(), key.pk.into());
    item.insert(attr::SK.into(), key.sk.into());
    item.insert(attr::GSI1PK.into(), user_notifications(meta.user_id).into());
    item.insert(
        attr::GSI1SK.into(),
        format!("{}#{}", lite_core::rfc3339(n.created_at), n.id).into(),
    );
    item.insert("entity".into(), "notification".into());
    item.insert("userId".into(), meta.user_id.into());
    item.insert("eventId".into(), meta.event_id.into());
    item.insert("language".into(), meta.language.into());
    item.insert("status".into(), STATUS_SENT.into());
    item
}

/// The notification in `item` (unknown attributes are ignored).
pub fn notification_of(item: &Item) -> Option<Notification> {
    serde_json::from_value(serde_json::Value::Object(item.clone())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_id_is_its_events_ulid() {
        let id = NotificationId::of_event("evt_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C").unwrap();
        assert_eq!(id.as_str(), "ntf_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C");
        for bad in [
            "01JD3Z8Q4N5V2W6X7Y8Z9A0B1C",
            "evt_nope",
            "ord_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C",
        ] {
            assert_eq!(NotificationId::of_event(bad), None, "{bad}");
        }
    }

    #[test]
    fn items_round_trip_and_sort_by_time() {
        let n = Notification {
            id: NotificationId::of_event("evt_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C").unwrap(),
            subject: "s".into(),
            body: "b".into(),
            channel: CHANNEL_EMAIL.into(),
            event_type: "order.shipped".into(),
            order_id: "ord_1".into(),
            created_at: DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678Z")
                .unwrap()
                .with_timezone(&Utc),
        };
        let meta = Meta {
            user_id: "usr_1",
            event_id: "evt_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C",
            language: "en",
        };
        let item = item(&n, &meta);
        assert_eq!(item["PK"], "NOTIF#ntf_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C");
        assert_eq!(item["GSI1PK"], "USER#usr_1#NOTIFS");
        assert_eq!(
            item["GSI1SK"],
            "2026-01-02T03:04:05.678Z#ntf_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C"
        );
        assert_eq!(item["status"], "sent");
        lite_store::validate_item(&item).unwrap();
        assert_eq!(notification_of(&item), Some(n));
    }
}
