//! What other services may read of orders.

use crate::domain::{Order, OrderId};
use crate::repo;
use lite_store::{Store, StoreError};

/// The order with `id`, if any (a malformed id is simply absent).
pub async fn order(store: &dyn Store, id: &str) -> Result<Option<Order>, StoreError> {
    let Some(id) = OrderId::parse(id) else {
        return Ok(None);
    };
    Ok(repo::get(store, &id).await?.map(|s| s.order))
}

/// Whether `user_id` has a confirmed (shipped, delivered), not cancelled
/// order holding `product_id`: a review's `verifiedPurchase`.
pub async fn has_purchased(
    store: &dyn Store,
    user_id: &str,
    product_id: &str,
) -> Result<bool, StoreError> {
    Ok(store
        .get(&crate::keys::purchase(user_id, product_id))
        .await?
        .and_then(|i| i.get("orders").and_then(|v| v.as_i64()))
        .is_some_and(|n| n > 0))
}
