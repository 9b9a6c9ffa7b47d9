//! The orders service's items.
//!
//! - Order: `PK = ORDER#<orderId>`, `SK = ORDER`; `GSI1PK = USER#<userId>#ORDERS`,
//!   `GSI1SK = <createdAt>#<orderId>` (a user's orders, newest first by
//!   querying backwards). While PENDING it also holds `paymentToken` (the
//!   provider's single-use token, read by the checkout saga; dropped once
//!   the order leaves PENDING), and GSI2 `ORDERS#PENDING` /
//!   `<createdAt>#<orderId>` (`orders_read::PENDING_PARTITION`: the oldest
//!   order still in checkout, for the stuck-order gauge).
//! - Purchase: `PK = PURCHASE#<userId>`, `SK = PRODUCT#<productId>`,
//!   `orders` = how many CONFIRMED-or-later, not cancelled orders of the
//!   user hold the product (ADD +1 on confirm, -1 on cancel, in the same
//!   transaction). Reviews read it for `verifiedPurchase`.

use crate::domain::{Order, OrderId, OrderStatus};
use lite_store::{attr, Item, Key};

pub fn order(id: &OrderId) -> Key {
    Key::new(format!("ORDER#{id}"), "ORDER")
}

pub fn user_orders(user_id: &str) -> String {
    format!("USER#{user_id}#ORDERS")
}

const PAYMENT_TOKEN: &str = "paymentToken";

/// The item of `order` (with the payment token while the saga needs it).
pub fn item(order: &Order, payment_token: Option<&str>) -> Item {
    let mut item = match serde_json::to_value(order) {
        Ok(serde_json::Value::Object(map)) => map,
        // An Order is plain data; it always serializes to an object.
        _ => Item::new(),
    };
    let key = self::order(&order.id);
    item.insert(attr::PK.into(), key.pk.into());
    item.insert(attr::SK.into(), key.sk.into());
    item.insert(attr::GSI1PK.into(), user_orders(&order.user_id).into());
    let created_at = lite_core::rfc3339(order.created_at);
    item.insert(
        attr::GSI1SK.into(),
        format!("{created_at}#{}", order.id).into(),
    );
    if order.status == OrderStatus::Pending {
        orders_read::index_pending(&mut item, &created_at, order.id.as_str());
    }
    item.insert("entity".into(), "order".into());
    if let Some(token) = payment_token {
        item.insert(PAYMENT_TOKEN.into(), token.into());
    }
    item
}

/// The order in `item`, and its payment token if it still has one.
pub fn order_of(item: &Item) -> Option<(Order, Option<String>)> {
    let order: Order = serde_json::from_value(serde_json::Value::Object(item.clone())).ok()?;
    let token = item
        .get(PAYMENT_TOKEN)
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    Some((order, token))
}

/// Defined in `orders-read`, which readers of purchases depend on alone.
pub fn purchase(user_id: &str, product_id: &str) -> Key {
    orders_read::purchase_key(user_id, product_id)
}

/// The ops that count `order`'s products as bought (`by = 1`) or no longer
/// bought (`by = -1`) by its user.
pub fn purchase_ops(order: &Order, by: i64) -> Vec<lite_store::TxOp> {
    let mut products: Vec<&str> = order.items.iter().map(|l| l.product_id.as_str()).collect();
    products.sort_unstable();
    products.dedup();
    products
        .into_iter()
        .map(|p| {
            lite_store::TxOp::update(
                purchase(&order.user_id, p),
                vec![
                    lite_store::Update::set("entity", "purchase"),
                    lite_store::Update::add("orders", by),
                ],
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pending() -> Order {
        serde_json::from_value(json!({
            "id": "ord_01JAAAAAAAAAAAAAAAAAAAAAAA", "userId": "usr_1", "status": "PENDING",
            "items": [], "subtotal": {"amount": 0, "currency": "USD"},
            "total": {"amount": 0, "currency": "USD"},
            "shippingAddress": {"line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "US"},
            "statusHistory": [], "createdAt": "2026-12-06T10:00:01Z",
            "updatedAt": "2026-12-06T10:00:01Z", "version": 1
        }))
        .unwrap()
    }

    #[test]
    fn a_pending_order_is_in_the_pending_index_and_leaves_it_when_settled() {
        let order = pending();
        let item = item(&order, Some("tok_visa"));
        assert_eq!(item[attr::GSI2PK], orders_read::PENDING_PARTITION);
        assert_eq!(
            item[attr::GSI2SK],
            "2026-12-06T10:00:01.000Z#ord_01JAAAAAAAAAAAAAAAAAAAAAAA"
        );
        assert_eq!(
            order_of(&item).unwrap().0,
            order,
            "the index attributes are not order fields"
        );
        for status in [
            OrderStatus::Confirmed,
            OrderStatus::Failed,
            OrderStatus::Cancelled,
        ] {
            let settled = Order {
                status,
                ..order.clone()
            };
            let item = self::item(&settled, None);
            assert!(!item.contains_key(attr::GSI2PK) && !item.contains_key(attr::GSI2SK));
        }
    }
}
