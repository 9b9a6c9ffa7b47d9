//! A cart and the rules every change of it keeps: at most [`MAX_LINES`]
//! different products, 1..=[`MAX_QUANTITY`] units a line, one currency, and
//! lines in the order they were first added. Pure: the repository reads a
//! cart, applies one of these changes to a copy and writes it back
//! conditionally, so a refused change writes nothing.

use crate::error::{quantity_range, CartError};
use chrono::{DateTime, Utc};
use lite_core::{Currency, Money, MoneyError, Problem, Sku};
use serde::{Deserialize, Serialize};

/// Units of one product a line holds at most.
pub const MAX_QUANTITY: u32 = 99;
/// Different products a cart holds at most (keeps the item far below
/// DynamoDB's 400 KB and the checkout's transaction small).
pub const MAX_LINES: usize = 50;
/// The currency an empty cart shows its zero subtotal in.
pub const DEFAULT_CURRENCY: Currency = Currency::USD;

/// A quantity to add: 1..=99.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddQuantity(u32);

impl AddQuantity {
    pub fn parse(raw: i64) -> Result<Self, Problem> {
        match u32::try_from(raw) {
            Ok(q) if (1..=MAX_QUANTITY).contains(&q) => Ok(Self(q)),
            _ => Err(Problem::field("quantity", quantity_range(1))),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// A line's new quantity: 0..=99, 0 removing the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetQuantity(u32);

impl SetQuantity {
    pub fn parse(raw: i64) -> Result<Self, Problem> {
        match u32::try_from(raw) {
            Ok(q) if q <= MAX_QUANTITY => Ok(Self(q)),
            _ => Err(Problem::field("quantity", quantity_range(0))),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// One product in a cart, with the name and price it had when it was added
/// (the checkout re-checks them against the catalog).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub product_id: String,
    pub sku: Sku,
    pub name: String,
    pub unit_price: Money,
    pub quantity: u32,
    pub added_at: DateTime<Utc>,
}

/// What the cart copies from the catalog when a product is added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSnapshot {
    pub product_id: String,
    pub sku: Sku,
    pub name: String,
    pub unit_price: Money,
}

impl From<catalog::Product> for ProductSnapshot {
    fn from(p: catalog::Product) -> Self {
        Self {
            product_id: p.id.to_string(),
            sku: p.sku,
            name: p.name,
            unit_price: p.price,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cart {
    pub lines: Vec<Line>,
}

impl Cart {
    fn position(&self, product_id: &str) -> Option<usize> {
        self.lines.iter().position(|l| l.product_id == product_id)
    }

    /// The currency of the lines other than `except`'s, if any.
    fn currency_besides(&self, except: &str) -> Option<Currency> {
        self.lines
            .iter()
            .find(|l| l.product_id != except)
            .map(|l| l.unit_price.currency)
    }

    /// Adds `quantity` units of `product`. An existing line keeps its place
    /// and its units add up; its name and price become the catalog's
    /// current ones (what the shopper saw when adding again).
    pub fn add(
        &mut self,
        product: ProductSnapshot,
        quantity: AddQuantity,
        now: DateTime<Utc>,
    ) -> Result<(), CartError> {
        if self
            .currency_besides(&product.product_id)
            .is_some_and(|c| c != product.unit_price.currency)
        {
            return Err(CartError::CurrencyMismatch);
        }
        match self.position(&product.product_id) {
            Some(i) => {
                let line = &mut self.lines[i];
                let total = line.quantity + quantity.get();
                if total > MAX_QUANTITY {
                    return Err(Problem::field(
                        "quantity",
                        format!(
                            "this cart already holds {} of this product; a line holds at most {MAX_QUANTITY}",
                            line.quantity
                        ),
                    )
                    .into());
                }
                line.quantity = total;
                line.name = product.name;
                line.unit_price = product.unit_price;
                line.sku = product.sku;
            }
            None => {
                if self.lines.len() >= MAX_LINES {
                    return Err(CartError::TooManyLines);
                }
                self.lines.push(Line {
                    product_id: product.product_id,
                    sku: product.sku,
                    name: product.name,
                    unit_price: product.unit_price,
                    quantity: quantity.get(),
                    added_at: now,
                });
            }
        }
        Ok(())
    }

    /// Sets a line's quantity; 0 removes the line.
    pub fn set_quantity(
        &mut self,
        product_id: &str,
        quantity: SetQuantity,
    ) -> Result<(), CartError> {
        let i = self.position(product_id).ok_or(CartError::LineNotFound)?;
        if quantity.get() == 0 {
            self.lines.remove(i);
        } else {
            self.lines[i].quantity = quantity.get();
        }
        Ok(())
    }

    pub fn remove(&mut self, product_id: &str) -> Result<(), CartError> {
        let i = self.position(product_id).ok_or(CartError::LineNotFound)?;
        self.lines.remove(i);
        Ok(())
    }

    /// Moves a guest cart's lines into this one: a product in both keeps
    /// this cart's line (place, name, price) with the units added, capped at
    /// 99; the others follow, in the guest cart's order. Refused whole when
    /// the result would exceed [`MAX_LINES`] or mix currencies.
    pub fn merge(&mut self, guest: Vec<Line>) -> Result<(), CartError> {
        let mut merged = self.clone();
        for line in guest {
            if merged
                .currency_besides(&line.product_id)
                .is_some_and(|c| c != line.unit_price.currency)
            {
                return Err(CartError::CurrencyMismatch);
            }
            match merged.position(&line.product_id) {
                Some(i) => {
                    let mine = &mut merged.lines[i];
                    mine.quantity = (mine.quantity + line.quantity).min(MAX_QUANTITY);
                }
                None => merged.lines.push(line),
            }
        }
        if merged.lines.len() > MAX_LINES {
            return Err(CartError::TooManyLines);
        }
        *self = merged;
        Ok(())
    }

    /// Sum of the line quantities.
    pub fn item_count(&self) -> u32 {
        self.lines.iter().map(|l| l.quantity).sum()
    }

    /// Sum of the line totals, in the lines' one currency.
    pub fn subtotal(&self) -> Result<Money, MoneyError> {
        let currency = self
            .lines
            .first()
            .map_or(DEFAULT_CURRENCY, |l| l.unit_price.currency);
        self.lines.iter().try_fold(Money::zero(currency), |sum, l| {
            sum.checked_add(l.unit_price.checked_mul(l.quantity)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(n: u32, amount: i64) -> ProductSnapshot {
        ProductSnapshot {
            product_id: format!("prd_{n}"),
            sku: Sku::parse(&format!("SKU-{n}")).unwrap(),
            name: format!("Product {n}"),
            unit_price: Money::new(amount, Currency::USD),
        }
    }

    fn q(n: i64) -> AddQuantity {
        AddQuantity::parse(n).unwrap()
    }

    #[test]
    fn quantities_parse_within_bounds() {
        assert!(AddQuantity::parse(0).is_err());
        assert!(AddQuantity::parse(100).is_err());
        assert!(AddQuantity::parse(-1).is_err());
        assert_eq!(AddQuantity::parse(99).unwrap().get(), 99);
        assert_eq!(SetQuantity::parse(0).unwrap().get(), 0);
        assert!(SetQuantity::parse(100).is_err());
        assert!(SetQuantity::parse(i64::MAX).is_err());
    }

    #[test]
    fn adding_again_adds_units_in_place_up_to_99() {
        let now = Utc::now();
        let mut cart = Cart::default();
        cart.add(product(1, 100), q(2), now).unwrap();
        cart.add(product(2, 50), q(1), now).unwrap();
        cart.add(product(1, 120), q(3), now).unwrap();
        assert_eq!(cart.lines[0].quantity, 5);
        assert_eq!(cart.lines[0].unit_price.amount, 120);
        assert_eq!(cart.lines[1].product_id, "prd_2");
        let err = cart.add(product(1, 120), q(95), now).unwrap_err();
        let CartError::Invalid(p) = err else {
            panic!("{err:?}")
        };
        assert_eq!(p.errors[0].field, "quantity");
        assert!(p.errors[0].message.contains("already holds 5"));
        assert_eq!(cart.item_count(), 6);
        assert_eq!(cart.subtotal().unwrap(), Money::new(650, Currency::USD));
    }

    #[test]
    fn another_currency_is_refused() {
        let mut cart = Cart::default();
        cart.add(product(1, 100), q(1), Utc::now()).unwrap();
        let mut eur = product(2, 100);
        eur.unit_price.currency = Currency::parse("EUR").unwrap();
        assert!(matches!(
            cart.add(eur, q(1), Utc::now()),
            Err(CartError::CurrencyMismatch)
        ));
    }

    #[test]
    fn merge_caps_quantities_and_refuses_too_many_lines_whole() {
        let now = Utc::now();
        let mut mine = Cart::default();
        mine.add(product(1, 100), q(90), now).unwrap();
        let mut guest = Cart::default();
        guest.add(product(2, 10), q(1), now).unwrap();
        guest.add(product(1, 100), q(20), now).unwrap();
        mine.merge(guest.lines).unwrap();
        assert_eq!(mine.lines[0].quantity, 99);
        assert_eq!(mine.lines[1].product_id, "prd_2");

        let mut full = Cart::default();
        for n in 0..50 {
            full.add(product(100 + n, 1), q(1), now).unwrap();
        }
        assert!(matches!(
            full.add(product(999, 1), q(1), now),
            Err(CartError::TooManyLines)
        ));
        let before = full.clone();
        assert!(matches!(
            full.merge(mine.lines.clone()),
            Err(CartError::TooManyLines)
        ));
        assert_eq!(full, before, "a refused merge changes nothing");
    }
}
