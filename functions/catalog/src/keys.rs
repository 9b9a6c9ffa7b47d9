//! The catalog's items in the single table (see ARCHITECTURE.md, access
//! patterns). Only this module builds catalog keys.
//!
//! | item | PK | SK | GSI1PK / GSI1SK |
//! |---|---|---|---|
//! | product | `PRODUCT#<id>` | `PRODUCT` | — |
//! | listing entry | `PRODUCT#<id>` | `LIST#<scope>#<order>` | `PLIST#<scope>#<order>` / order key |
//! | sku claim | `SKU#<sku>` | `SKU` | — |
//!
//! `scope` is `ALL` or `CAT#<category>`; `order` is `NEW`, `PRICE` or
//! `RATING`. Every product has six listing entries (two scopes × three
//! orders), written in the same transaction as the product, so each
//! listing is one GSI1 query in the order it is shown.

use crate::domain::{Product, ProductId, Sort};
use lite_core::Sku;
use lite_store::{attr, Direction, Item, Key};
use serde::Deserialize;
use serde_json::Value;

pub const PRODUCT_SK: &str = "PRODUCT";

pub fn product(id: &ProductId) -> Key {
    Key::new(format!("PRODUCT#{id}"), PRODUCT_SK)
}

pub fn sku(sku: &Sku) -> Key {
    Key::new(format!("SKU#{sku}"), "SKU")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    New,
    Price,
    Rating,
}

impl Order {
    const ALL: [Order; 3] = [Order::New, Order::Price, Order::Rating];

    fn tag(self) -> &'static str {
        match self {
            Order::New => "NEW",
            Order::Price => "PRICE",
            Order::Rating => "RATING",
        }
    }

    /// The sort key of `p` in this order; ends in the id, so it is unique.
    fn sort_key(self, p: &Product) -> String {
        match self {
            Order::New => format!("{}#{}", lite_core::rfc3339(p.created_at), p.id),
            Order::Price => format!("{}#{}", price_prefix(p.price.amount), p.id),
            Order::Rating => {
                let tenths = (p.rating.average * 10.0).round().clamp(0.0, 50.0) as u32;
                format!("{tenths:02}#{:010}#{}", p.rating.count, p.id)
            }
        }
    }
}

/// How a `Sort` reads its listing.
pub fn order_of(sort: Sort) -> (Order, Direction) {
    match sort {
        Sort::Newest => (Order::New, Direction::Backward),
        Sort::PriceAsc => (Order::Price, Direction::Forward),
        Sort::PriceDesc => (Order::Price, Direction::Backward),
        Sort::Rating => (Order::Rating, Direction::Backward),
    }
}

/// Zero-padded so that byte order is numeric order (amounts are ≥ 0).
pub fn price_prefix(amount: i64) -> String {
    format!("{amount:012}")
}

fn scopes(p: &Product) -> [String; 2] {
    ["ALL".to_owned(), format!("CAT#{}", p.category)]
}

pub fn listing_partition(category: Option<&str>, order: Order) -> String {
    match category {
        None => format!("PLIST#ALL#{}", order.tag()),
        Some(c) => format!("PLIST#CAT#{c}#{}", order.tag()),
    }
}

/// The keys of `p`'s listing entries.
pub fn listing_keys(p: &Product) -> Vec<Key> {
    let pk = product(&p.id).pk;
    scopes(p)
        .iter()
        .flat_map(|scope| {
            Order::ALL
                .iter()
                .map(move |o| format!("LIST#{scope}#{}", o.tag()))
        })
        .map(|sk| Key::new(pk.clone(), sk))
        .collect()
}

/// `p`'s listing entries, each carrying the whole product.
pub fn listing_items(p: &Product) -> Vec<Item> {
    let data = serde_json::to_value(p).unwrap_or(Value::Null);
    let pk = product(&p.id).pk;
    let mut items = Vec::with_capacity(6);
    for scope in scopes(p) {
        for order in Order::ALL {
            let mut i = Key::new(pk.clone(), format!("LIST#{scope}#{}", order.tag())).to_item();
            i.insert(
                attr::GSI1PK.into(),
                format!("PLIST#{scope}#{}", order.tag()).into(),
            );
            i.insert(attr::GSI1SK.into(), order.sort_key(p).into());
            i.insert("entity".into(), "listing".into());
            i.insert("priceAmount".into(), p.price.amount.into());
            i.insert(SKU.into(), p.sku.as_str().into());
            i.insert("data".into(), data.clone());
            items.push(i);
        }
    }
    items
}

/// The product item. `rating_version` is the version of the reviews
/// summary `p.rating` was taken from (0 before any): kept beside the data,
/// not in it, because it orders rating events and is no part of the API.
pub fn product_item(p: &Product, version: i64, rating_version: u64) -> Item {
    let mut i = product(&p.id).to_item();
    i.insert("entity".into(), "product".into());
    i.insert("version".into(), version.into());
    i.insert(RATING_VERSION.into(), rating_version.into());
    i.insert(SKU.into(), p.sku.as_str().into());
    i.insert(
        "data".into(),
        serde_json::to_value(p).unwrap_or(Value::Null),
    );
    i
}

pub fn sku_item(p: &Product) -> Item {
    let mut i = sku(&p.sku).to_item();
    i.insert("entity".into(), "sku".into());
    i.insert("productId".into(), p.id.as_str().into());
    i
}

/// The product inside a product or listing item. Deserialized from the
/// borrowed value: cloning the tree first (`from_value` takes it by value)
/// was a third of a listing's decoding.
pub fn product_of(item: &Item) -> Option<Product> {
    Product::deserialize(item.get("data")?).ok()
}

/// The product inside a product or listing item's JSON
/// (`Store::get_json`, `Store::query_json`), decoded in one pass: the
/// other attributes are skipped, not built.
pub fn product_of_json(item: &[u8]) -> Option<Product> {
    #[derive(Deserialize)]
    struct Stored {
        data: Product,
    }
    serde_json::from_slice::<Stored>(item).ok().map(|s| s.data)
}

/// Each listing entry decoded by `decode`; one that does not decode makes
/// the whole page an error (a listing never skips a product silently).
pub fn listing_entries<I, T>(
    items: impl IntoIterator<Item = I>,
    decode: impl Fn(I) -> Option<T>,
) -> Result<Vec<T>, lite_store::StoreError> {
    items
        .into_iter()
        .map(|i| {
            decode(i).ok_or_else(|| {
                lite_store::StoreError::Invalid("listing entry does not parse".into())
            })
        })
        .collect()
}

/// A product's JSON exactly as stored (the `data` of a product or listing
/// item), borrowed from the item's JSON, with its sku read out of it.
#[derive(Debug)]
pub struct StoredProduct<'a> {
    /// A JSON object: the scan ([`lite_store::raw`]) found it whole.
    pub json: &'a str,
    pub sku: Sku,
}

/// The product's sku beside its `data` in product and listing items, so a
/// page reads the sku (for the stock) without parsing the product a second
/// time; items written before it have only the one inside `data`.
pub const SKU: &str = "sku";

/// The stored product inside a product or listing item's JSON, not
/// decoded: [`lite_store::raw::members`] finds where its `data` starts and
/// ends, and its sku is read beside it (a sku has no character that JSON
/// escapes, so an escaped one is refused, as one that does not parse).
pub fn stored_product(item: &[u8]) -> Option<StoredProduct<'_>> {
    #[derive(Deserialize)]
    struct SkuOf<'a> {
        #[serde(borrow)]
        sku: std::borrow::Cow<'a, str>,
    }
    let [data, sku] = lite_store::raw::members(item, ["data", SKU])?;
    let json = std::str::from_utf8(data?).ok()?;
    if !json.starts_with('{') {
        return None;
    }
    let sku = match sku {
        Some(raw) => Sku::parse(lite_store::raw::plain_string(raw)?),
        None => Sku::parse(&serde_json::from_str::<SkuOf>(json).ok()?.sku),
    };
    Some(StoredProduct {
        json,
        sku: sku.ok()?,
    })
}

pub const RATING_VERSION: &str = "ratingVersion";

pub fn rating_version_of(item: &Item) -> u64 {
    item.get(RATING_VERSION)
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

pub fn version_of(item: &Item) -> i64 {
    item.get("version").and_then(Value::as_i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_demo_product_is_read_whole_with_its_sku() {
        let demo: Vec<Value> =
            serde_json::from_str(include_str!("../../local/demo/products.json")).unwrap();
        assert!(demo.len() > 100);
        for product in demo {
            let sku = product["sku"].as_str().unwrap().to_owned();
            let beside = json!({"PK": "P", "SK": "S", "data": product, "sku": sku, "version": 1});
            let older = json!({"PK": "P", "SK": "S", "data": product, "version": 1});
            for item in [beside, older] {
                let item = serde_json::to_vec(&item).unwrap();
                let stored = stored_product(&item).unwrap();
                let data: Value = serde_json::from_str(stored.json).unwrap();
                assert_eq!(data, product);
                assert_eq!(stored.sku.as_str(), sku);
            }
        }
    }
}
