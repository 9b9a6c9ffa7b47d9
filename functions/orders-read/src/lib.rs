//! What other services may read of orders without linking orders' write
//! side. `orders` depends on this crate (it writes the purchase items whose
//! key is defined here); readers such as reviews depend only on this one, so
//! they do not pull in placement, the checkout saga or the payment provider.

use lite_store::{Key, Store, StoreError};

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
