//! The orders service's items.
//!
//! - Order: `PK = ORDER#<orderId>`, `SK = ORDER`; `GSI1PK = USER#<userId>#ORDERS`,
//!   `GSI1SK = <createdAt>#<orderId>` (a user's orders, newest first by
//!   querying backwards). While PENDING it also holds `paymentToken` (the
//!   provider's single-use token, read by the checkout saga; dropped once
//!   the order leaves PENDING).

use crate::domain::{Order, OrderId};
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
    item.insert(
        attr::GSI1SK.into(),
        format!("{}#{}", lite_core::rfc3339(order.created_at), order.id).into(),
    );
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
