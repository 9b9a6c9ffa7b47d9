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

/// Whether `user_id` has a confirmed, not cancelled order holding
/// `product_id`; lives in `orders-read` so readers need not link this crate.
pub use orders_read::has_purchased;
