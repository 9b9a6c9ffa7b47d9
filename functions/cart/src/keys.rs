//! The cart's item in the single table (see ARCHITECTURE.md, access
//! patterns). Only this module builds cart keys.
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | user cart | `CART#USER#<userId>` | `CART` | `entity`, `lines`, `version`, `updatedAt`, `expiresAt` |
//! | guest cart | `CART#GUEST#<sha256 hex of the cart token>` | `CART` | same |
//!
//! One item per cart, so every change is one conditional put on `version`
//! (optimistic concurrency) and a merge is one two-item transaction. No
//! index: a cart is always reached by its owner (user id or token).
//! `expiresAt` (TTL, epoch seconds) is pushed forward on every write: 30
//! days for guest carts, 180 for user carts. Expired items may linger until
//! the TTL sweeper removes them, so readers treat them as absent.

use crate::domain::{Cart, Line};
use crate::token::CartToken;
use chrono::{DateTime, Duration, Utc};
use lite_store::{Item, Key, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const CART_SK: &str = "CART";
pub const GUEST_TTL_DAYS: i64 = 30;
pub const USER_TTL_DAYS: i64 = 180;

/// Attribute names the repository conditions on.
pub mod attr {
    pub const VERSION: &str = "version";
}

/// Whose cart: a signed-in user's, or the guest cart a token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    User(String),
    Guest(CartToken),
}

impl Owner {
    pub fn key(&self) -> Key {
        match self {
            Owner::User(id) => user(id),
            Owner::Guest(token) => Key::new(format!("CART#GUEST#{}", token.digest()), CART_SK),
        }
    }

    /// How long the cart lives after its last write.
    pub fn ttl(&self) -> Duration {
        match self {
            Owner::User(_) => Duration::days(USER_TTL_DAYS),
            Owner::Guest(_) => Duration::days(GUEST_TTL_DAYS),
        }
    }

    pub fn token(&self) -> Option<&CartToken> {
        match self {
            Owner::User(_) => None,
            Owner::Guest(t) => Some(t),
        }
    }
}

pub fn user(user_id: &str) -> Key {
    Key::new(format!("CART#USER#{user_id}"), CART_SK)
}

/// The cart item's attributes besides the key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    lines: Vec<Line>,
    version: i64,
    updated_at: DateTime<Utc>,
    expires_at: i64,
}

/// A cart item as read: its version (what the next write conditions on,
/// even when the cart expired) and the cart, `None` once expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub version: i64,
    pub cart: Option<Cart>,
}

pub fn stored_of(item: &Item, now: DateTime<Utc>) -> Result<Stored, StoreError> {
    let record: Record = serde_json::from_value(Value::Object(item.clone()))
        .map_err(|e| StoreError::Invalid(format!("cart item does not parse: {e}")))?;
    let live = record.expires_at > now.timestamp();
    Ok(Stored {
        version: record.version,
        cart: live.then_some(Cart {
            lines: record.lines,
        }),
    })
}

/// The item of `owner`'s cart at `version`, written at `now`.
pub fn cart_item(owner: &Owner, cart: &Cart, version: i64, now: DateTime<Utc>) -> Item {
    let record = Record {
        lines: cart.lines.clone(),
        version,
        updated_at: now,
        expires_at: (now + owner.ttl()).timestamp(),
    };
    let mut item = owner.key().to_item();
    item.insert("entity".into(), "cart".into());
    if let Ok(Value::Object(attrs)) = serde_json::to_value(&record) {
        item.extend(attrs);
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AddQuantity, ProductSnapshot};
    use lite_core::{Currency, Money, Sku};

    #[test]
    fn items_round_trip_and_expire() {
        let now = Utc::now();
        let mut cart = Cart::default();
        let product = ProductSnapshot {
            product_id: "prd_1".into(),
            sku: Sku::parse("A-1").unwrap(),
            name: "A".into(),
            unit_price: Money::new(5, Currency::USD),
        };
        cart.add(product, AddQuantity::parse(2).unwrap(), now)
            .unwrap();
        let token = CartToken::generate();
        let owner = Owner::Guest(token.clone());
        let item = cart_item(&owner, &cart, 3, now);
        assert_eq!(item["PK"], format!("CART#GUEST#{}", token.digest()));
        assert!(!item.values().any(|v| v.as_str() == Some(token.as_str())));
        assert_eq!(item["SK"], "CART");
        assert_eq!(item["version"], 3);
        assert_eq!(item["expiresAt"], (now + Duration::days(30)).timestamp());
        let stored = stored_of(&item, now).unwrap();
        assert_eq!(stored.cart, Some(cart));
        let later = now + Duration::days(30);
        assert_eq!(
            stored_of(&item, later).unwrap(),
            Stored {
                version: 3,
                cart: None
            }
        );
        let user = cart_item(&Owner::User("usr_1".into()), &Cart::default(), 1, now);
        assert_eq!(user["PK"], "CART#USER#usr_1");
        assert_eq!(user["expiresAt"], (now + Duration::days(180)).timestamp());
    }
}
