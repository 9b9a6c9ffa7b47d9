//! The public reads' JSON bodies written from the stored products, with
//! no decode and no encode of the products themselves: a product's stored
//! `data` is its JSON already ([`crate::keys::stored_product`]), so the
//! page copies it and adds the stock. The product page and the listing
//! spent most of their time decoding products only to encode them again.
//!
//! The bodies are the same JSON values as the typed [`ProductView`] and
//! page would be (a test holds them equal); the members of a product come
//! in the stored order.
//!
//! [`ProductView`]: crate::ProductView

use crate::keys::StoredProduct;
use std::io::Write;

/// Appends `product` as the API shows it: its stored object with
/// `"stock":{"available":<n>}` added as the last member.
pub fn write_view(out: &mut Vec<u8>, product: &StoredProduct<'_>, available: i64) {
    // A stored product is a JSON object, `{...}`, its text ending at its
    // `}` (`keys::stored_product` takes it so).
    let json = product.json;
    let open = json.strip_suffix('}').unwrap_or(json).trim_end();
    out.extend_from_slice(open.as_bytes());
    if open != "{" {
        out.push(b',');
    }
    // Writing to a Vec cannot fail.
    let _ = write!(out, "\"stock\":{{\"available\":{available}}}}}");
}

/// The body of one product: [`write_view`] alone.
pub fn view(product: &StoredProduct<'_>, available: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(product.json.len() + 32);
    write_view(&mut out, product, available);
    out
}

/// The body of a listing page: `{"items":[…],"nextCursor":…}`.
pub fn page(products: &[StoredProduct<'_>], available: &[i64], next: Option<&str>) -> Vec<u8> {
    let size: usize = products.iter().map(|p| p.json.len() + 32).sum();
    let mut out = Vec::with_capacity(size + 128);
    out.extend_from_slice(b"{\"items\":[");
    for (i, (product, available)) in products.iter().zip(available).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_view(&mut out, product, *available);
    }
    out.extend_from_slice(b"],\"nextCursor\":");
    // A string (an opaque cursor) or null: serde_json escapes it.
    if serde_json::to_writer(&mut out, &next).is_err() {
        out.extend_from_slice(b"null");
    }
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn stored(item: &[u8]) -> StoredProduct<'_> {
        crate::keys::stored_product(item).expect("a product item")
    }

    #[test]
    fn a_view_is_the_stored_object_with_its_stock() {
        let item = br#"{"PK":"PRODUCT#x","data":{"sku":"SKU-1","name":"A \"quoted\" name","n":[1,2]},"version":3}"#;
        let body = view(&stored(item), 7);
        let value: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            value,
            json!({"sku": "SKU-1", "name": "A \"quoted\" name", "n": [1, 2], "stock": {"available": 7}})
        );
    }

    #[test]
    fn a_page_lists_views_and_escapes_its_cursor() {
        let a = br#"{"data":{"sku":"SKU-A"}}"#;
        let b = br#"{"data":  {"sku":"SKU-B"}  }"#;
        let body = page(&[stored(a), stored(b)], &[0, -1], Some("c\"1"));
        let value: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            value,
            json!({
                "items": [
                    {"sku": "SKU-A", "stock": {"available": 0}},
                    {"sku": "SKU-B", "stock": {"available": -1}}
                ],
                "nextCursor": "c\"1"
            })
        );
        let empty: Value = serde_json::from_slice(&page(&[], &[], None)).unwrap();
        assert_eq!(empty, json!({"items": [], "nextCursor": null}));
    }

    #[test]
    fn the_sku_is_read_beside_the_data_and_inside_it_in_older_items() {
        let beside = stored(br#"{"sku":"SKU-TOP","data":{"sku":"SKU-IN","name":"x"}}"#);
        assert_eq!(beside.sku.as_str(), "SKU-TOP");
        assert_eq!(beside.json, r#"{"sku":"SKU-IN","name":"x"}"#);
        let older = stored(br#"{"data":{"name":"x","sku":"SKU-IN"},"version":1}"#);
        assert_eq!(older.sku.as_str(), "SKU-IN");
        assert!(crate::keys::stored_product(br#"{"sku":"bad sku!","data":{}}"#).is_none());
    }

    #[test]
    fn items_without_a_product_or_a_valid_sku_are_refused() {
        assert!(crate::keys::stored_product(br#"{"PK":"x"}"#).is_none());
        assert!(crate::keys::stored_product(br#"{"data":{"name":"no sku"}}"#).is_none());
        assert!(crate::keys::stored_product(br#"{"data":{"sku":"bad sku!"}}"#).is_none());
        assert!(crate::keys::stored_product(b"not json").is_none());
    }
}
