//! The cart's events.

use super::{contract, LineItem};
use lite_core::Money;
use serde::{Deserialize, Serialize};

/// `cart.checked_out.v1`: a shopper's cart became an order and its lines
/// left the cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartCheckedOutV1 {
    /// `usr_<ULID>`, the cart's owner.
    pub user_id: String,
    /// `ord_<ULID>`.
    pub order_id: String,
    pub items: Vec<LineItem>,
    pub subtotal: Money,
    /// Sum of the line quantities.
    pub item_count: u32,
}
contract!(CartCheckedOutV1, "cart.checked_out", 1, "cart");
