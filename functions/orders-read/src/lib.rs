//! What other services may read of orders without linking orders' write
//! side. `orders` depends on this crate (it writes the purchase items whose
//! key is defined here); readers such as reviews depend only on this one, so
//! they do not pull in placement, the checkout saga or the payment provider.

use chrono::{DateTime, Utc};
use lite_store::{attr, Index, Item, Key, Query, Store, StoreError};

/// The purchase item of `user_id` and `product_id`: `PK = PURCHASE#<userId>`,
/// `SK = PRODUCT#<productId>`, `orders` = how many confirmed-or-later, not
/// cancelled orders of the user hold the product.
pub fn purchase_key(user_id: &str, product_id: &str) -> Key {
    Key::new(
        format!("PURCHASE#{user_id}"),
        format!("PRODUCT#{product_id}"),
    )
}

/// Whether `user_id` has a confirmed (shipped, delivered), not cancelled
/// order holding `product_id`: a review's `verifiedPurchase`.
pub async fn has_purchased(
    store: &dyn Store,
    user_id: &str,
    product_id: &str,
) -> Result<bool, StoreError> {
    Ok(store
        .get(&purchase_key(user_id, product_id))
        .await?
        .and_then(|i| i.get("orders").and_then(|v| v.as_i64()))
        .is_some_and(|n| n > 0))
}

/// The GSI2 partition of PENDING orders. Sparse: an order item holds it
/// only while PENDING (every order write is a whole put, so the first write
/// after PENDING drops it), sorted by `<createdAt>#<orderId>`, so "the
/// oldest order still in checkout" is one query of one item, never a Scan.
pub const PENDING_PARTITION: &str = "ORDERS#PENDING";

/// Puts the PENDING index attributes on an order item. `created_at` is the
/// order's creation time as RFC 3339 with milliseconds in UTC
/// (`lite_core::rfc3339`): it sorts as it reads.
pub fn index_pending(item: &mut Item, created_at: &str, order_id: &str) {
    item.insert(attr::GSI2PK.into(), PENDING_PARTITION.into());
    item.insert(
        attr::GSI2SK.into(),
        format!("{created_at}#{order_id}").into(),
    );
}

/// When the oldest order still PENDING was placed; `None` when no order is
/// in checkout. An index entry whose sort key does not start with a time
/// is an error: it cannot be aged, and it would hide the ones behind it.
pub async fn oldest_pending(store: &dyn Store) -> Result<Option<DateTime<Utc>>, StoreError> {
    let page = store
        .query(&Query::new(Index::Gsi2, PENDING_PARTITION).limit(1))
        .await?;
    let Some(item) = page.items.first() else {
        return Ok(None);
    };
    let sort_key = item
        .get(attr::GSI2SK)
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let created = sort_key.split('#').next().unwrap_or("");
    DateTime::parse_from_rfc3339(created)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|e| StoreError::Unavailable(format!("PENDING index sort key {sort_key:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lite_store::redb_store::RedbStore;

    fn order_item(id: &str, created_at: &str, pending: bool) -> Item {
        let mut item = Item::new();
        item.insert(attr::PK.into(), format!("ORDER#{id}").into());
        item.insert(attr::SK.into(), "ORDER".into());
        if pending {
            index_pending(&mut item, created_at, id);
        }
        item
    }

    #[tokio::test]
    async fn the_oldest_pending_order_is_found_and_settled_ones_leave_the_index() {
        let store = RedbStore::in_memory().unwrap();
        assert_eq!(oldest_pending(&store).await.unwrap(), None);
        store
            .put(order_item("ord_b", "2026-12-06T10:00:05.000Z", true), None)
            .await
            .unwrap();
        store
            .put(order_item("ord_a", "2026-12-06T10:00:01.000Z", true), None)
            .await
            .unwrap();
        let oldest = oldest_pending(&store).await.unwrap().unwrap();
        assert_eq!(lite_core::rfc3339(oldest), "2026-12-06T10:00:01.000Z");
        // ord_a settles: written again without the index attributes.
        store
            .put(order_item("ord_a", "2026-12-06T10:00:01.000Z", false), None)
            .await
            .unwrap();
        let oldest = oldest_pending(&store).await.unwrap().unwrap();
        assert_eq!(lite_core::rfc3339(oldest), "2026-12-06T10:00:05.000Z");
    }

    #[tokio::test]
    async fn an_index_entry_without_a_time_is_an_error_not_a_missing_order() {
        let store = RedbStore::in_memory().unwrap();
        store
            .put(order_item("ord_x", "yesterday", true), None)
            .await
            .unwrap();
        assert!(matches!(
            oldest_pending(&store).await,
            Err(StoreError::Unavailable(_))
        ));
    }
}
