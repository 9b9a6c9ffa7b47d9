//! The transactional outbox: an event is written as an item in the same
//! store transaction as the state change it describes, so either both
//! happen or neither does. A relay (DynamoDB Streams on AWS, the store's
//! change feed locally) publishes outbox items and marks them done.
//!
//! Outbox item: `PK = OUTBOX#<eventId>`, `SK = OUTBOX`, and while it is
//! unpublished `GSI2PK = OUTBOX#PENDING`, `GSI2SK = <time>#<eventId>`, so a
//! relay can find what a crash left behind without a Scan.

use crate::Envelope;
use lite_store::{attr, Condition, Item, TxOp};

pub const PENDING_PARTITION: &str = "OUTBOX#PENDING";

/// The outbox items not yet published, oldest first, every page:
/// `(detail type, event envelope)`. What a relay has still to publish (in
/// tests, where nothing publishes: what a change emitted).
pub async fn pending(
    store: &dyn lite_store::Store,
) -> Result<Vec<(String, serde_json::Value)>, lite_store::StoreError> {
    use lite_store::{Index, Query};
    let mut found = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .query(
                &Query::new(Index::Gsi2, PENDING_PARTITION)
                    .limit(1000)
                    .after(after),
            )
            .await?;
        found.extend(page.items.into_iter().map(|mut i| {
            let detail_type = i
                .get("detailType")
                .and_then(|t| t.as_str())
                .unwrap_or_default()
                .to_owned();
            (detail_type, i.remove("event").unwrap_or_default())
        }));
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(found),
        }
    }
}

pub fn item(event: &Envelope) -> Item {
    let mut item = Item::new();
    item.insert(attr::PK.into(), format!("OUTBOX#{}", event.id).into());
    item.insert(attr::SK.into(), "OUTBOX".into());
    item.insert(attr::GSI2PK.into(), PENDING_PARTITION.into());
    item.insert(
        attr::GSI2SK.into(),
        format!("{}#{}", lite_core::rfc3339(event.time), event.id).into(),
    );
    item.insert("entity".into(), "outbox".into());
    item.insert("detailType".into(), event.detail_type().into());
    item.insert(
        "event".into(),
        serde_json::to_value(event).unwrap_or_default(),
    );
    item
}

/// The name of the op [`put`] makes.
pub const OP_NAME: &str = "outbox";

/// The transaction op that records `event` (never overwrites an event).
pub fn put(event: &Envelope) -> TxOp {
    TxOp::put(item(event))
        .when(Condition::NotExists)
        .named(OP_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_item_carries_the_envelope_and_is_pending() {
        let ids = lite_core::SystemIds::default();
        let now = lite_core::Clock::now(&lite_core::SystemClock);
        let e = Envelope::new(
            &ids,
            "product.created",
            1,
            "catalog",
            now,
            "corr",
            serde_json::json!({"id": "x"}),
        );
        let i = item(&e);
        assert_eq!(i["PK"], format!("OUTBOX#{}", e.id));
        assert_eq!(i["GSI2PK"], PENDING_PARTITION);
        assert_eq!(i["detailType"], "product.created.v1");
        let back: Envelope = serde_json::from_value(i["event"].clone()).unwrap();
        assert_eq!(back, e);
    }

    #[tokio::test]
    async fn pending_lists_every_unpublished_event_oldest_first() {
        use lite_store::Store;
        let store = lite_store::redb_store::RedbStore::in_memory().unwrap();
        let ids = lite_core::SystemIds::default();
        let now = lite_core::Clock::now(&lite_core::SystemClock);
        let events: Vec<Envelope> = (0..3)
            .map(|n| {
                let kind = if n == 1 {
                    "product.deleted"
                } else {
                    "product.created"
                };
                let at = now + chrono::Duration::seconds(n);
                Envelope::new(
                    &ids,
                    kind,
                    1,
                    "catalog",
                    at,
                    "corr",
                    serde_json::json!({"n": n}),
                )
            })
            .collect();
        store
            .transact(events.iter().rev().map(put).collect())
            .await
            .unwrap();
        let found = pending(&store).await.unwrap();
        let kinds: Vec<&str> = found.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "product.created.v1",
                "product.deleted.v1",
                "product.created.v1"
            ]
        );
        let back: Vec<Envelope> = found
            .into_iter()
            .map(|(_, e)| serde_json::from_value(e).unwrap())
            .collect();
        assert_eq!(back, events);
    }
}
