//! The data file's tables, and the migration from the layout before them.
//!
//! # Format 2 (this one)
//! - `items.v2`: `(PK, SK)` → the item's JSON bytes.
//! - `gsi1.v2`, `gsi2.v2`: `(GSIxPK, GSIxSK, PK, SK)` → the item's JSON
//!   bytes again. An index projects the whole item, as the table's GSIs do
//!   on DynamoDB (`ProjectionType: ALL`), so a query on it is one range
//!   read, not a range read and a look-up in `items` per entry.
//! - Key elements are [`Text`]: UTF-8 strings compared by their bytes.
//!
//! # Format 1 (before)
//! `items` with the same keys and values; `gsi1`, `gsi2` with the same keys
//! and no values; key elements `&str`, whose comparison checks both sides
//! are UTF-8 on every comparison of a B-tree look-up. redb records a
//! table's key and value types with it, so these tables cannot be reopened
//! under the new types: [`open`] copies the items into the new tables,
//! rebuilds both indexes from them (index entries are derived data) and
//! deletes the old tables, in one write transaction, so a data file is
//! either migrated whole or not at all.

use super::unavailable;
use crate::{Index, Item, StoreError};
use redb::{Database, Key, ReadableTable, TableDefinition, TableHandle, TypeName, Value};
use std::cmp::Ordering;

/// A key element: a UTF-8 string, ordered by its bytes (the order of `str`
/// and of DynamoDB's string keys) without checking the bytes are UTF-8 on
/// each comparison. Reading an element out (`from_bytes`) still checks.
#[derive(Debug)]
pub(super) enum Text {}

impl Value for Text {
    type SelfType<'a> = &'a str;
    type AsBytes<'a> = &'a [u8];

    fn fixed_width() -> Option<usize> {
        None
    }

    /// # Panics
    /// On bytes that are not UTF-8: only a corrupt data file has them (the
    /// store writes `&str`s only), and redb's own `&str` does the same.
    fn from_bytes<'a>(data: &'a [u8]) -> &'a str
    where
        Self: 'a,
    {
        std::str::from_utf8(data).expect("a key element of the data file is not UTF-8")
    }

    fn as_bytes<'a, 'b: 'a>(value: &'a &'b str) -> &'a [u8]
    where
        Self: 'b,
    {
        value.as_bytes()
    }

    fn type_name() -> TypeName {
        TypeName::new("amazon_lite::text")
    }
}

impl Key for Text {
    fn compare(data1: &[u8], data2: &[u8]) -> Ordering {
        data1.cmp(data2)
    }
}

pub(super) type TableKey = (Text, Text);
pub(super) type IndexKey = (Text, Text, Text, Text);

pub(super) const ITEMS: TableDefinition<TableKey, &[u8]> = TableDefinition::new("items.v2");
pub(super) const GSI1: TableDefinition<IndexKey, &[u8]> = TableDefinition::new("gsi1.v2");
pub(super) const GSI2: TableDefinition<IndexKey, &[u8]> = TableDefinition::new("gsi2.v2");

const V1_ITEMS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("items");
const V1_GSI1: TableDefinition<(&str, &str, &str, &str), ()> = TableDefinition::new("gsi1");
const V1_GSI2: TableDefinition<(&str, &str, &str, &str), ()> = TableDefinition::new("gsi2");

/// Creates the tables (so readers never meet a missing one), migrating a
/// format-1 file first; how many items were migrated.
pub(super) fn open(db: &Database) -> Result<usize, StoreError> {
    let txn = db.begin_write().map_err(unavailable)?;
    let migrated = {
        let mut items = txn.open_table(ITEMS).map_err(unavailable)?;
        let mut gsi1 = txn.open_table(GSI1).map_err(unavailable)?;
        let mut gsi2 = txn.open_table(GSI2).map_err(unavailable)?;
        let old = txn
            .list_tables()
            .map_err(unavailable)?
            .any(|t| t.name() == V1_ITEMS.name());
        let mut migrated = 0;
        if old {
            let v1 = txn.open_table(V1_ITEMS).map_err(unavailable)?;
            for entry in v1.iter().map_err(unavailable)? {
                let (key, value) = entry.map_err(unavailable)?;
                let (pk, sk) = key.value();
                let bytes = value.value();
                let item: Item = serde_json::from_slice(bytes)
                    .map_err(|e| StoreError::Unavailable(format!("corrupt item {pk}|{sk}: {e}")))?;
                items.insert((pk, sk), bytes).map_err(unavailable)?;
                for (index, table) in [(Index::Gsi1, &mut gsi1), (Index::Gsi2, &mut gsi2)] {
                    if let Some((gpk, gsk)) = index.keys_of(&item) {
                        table
                            .insert((gpk, gsk, pk, sk), bytes)
                            .map_err(unavailable)?;
                    }
                }
                migrated += 1;
            }
        }
        migrated
    };
    txn.delete_table(V1_ITEMS).map_err(unavailable)?;
    txn.delete_table(V1_GSI1).map_err(unavailable)?;
    txn.delete_table(V1_GSI2).map_err(unavailable)?;
    txn.commit().map_err(unavailable)?;
    Ok(migrated)
}

#[cfg(test)]
mod tests {
    use super::super::RedbStore;
    use super::*;
    use crate::{Query, SkCondition, Store};
    use serde_json::json;

    /// Keys in the order `str` gives them are in the order `Text` gives
    /// their bytes, multi-byte characters and prefixes included.
    #[test]
    fn text_orders_as_str_does() {
        let mut words = ["b", "a", "ab", "", "é", "z", "aé", "a\u{0}", "ÿ", "€", "𝄞"];
        let mut by_bytes = words;
        words.sort();
        by_bytes.sort_by(|a, b| <Text as Key>::compare(a.as_bytes(), b.as_bytes()));
        assert_eq!(words, by_bytes);
    }

    fn parity(n: usize) -> &'static str {
        if n.is_multiple_of(2) {
            "EVEN"
        } else {
            "ODD"
        }
    }

    fn product(n: usize) -> Item {
        json!({"PK": format!("PRODUCT#{n}"), "SK": "PRODUCT", "GSI1PK": "PRODUCTS",
               "GSI1SK": format!("{n:03}"), "GSI2PK": parity(n),
               "GSI2SK": format!("{n:03}"), "n": n})
        .as_object()
        .unwrap()
        .clone()
    }

    /// A data file written in format 1 opens with every item, both indexes
    /// answer from it as before, the old tables are gone, and a second open
    /// migrates nothing.
    #[tokio::test]
    async fn a_format_1_file_is_migrated_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            {
                let mut items = txn.open_table(V1_ITEMS).unwrap();
                let mut gsi1 = txn.open_table(V1_GSI1).unwrap();
                let mut gsi2 = txn.open_table(V1_GSI2).unwrap();
                for n in 0..10 {
                    let item = product(n);
                    let (pk, sk) = (format!("PRODUCT#{n}"), "PRODUCT");
                    let bytes = serde_json::to_vec(&item).unwrap();
                    items.insert((pk.as_str(), sk), bytes.as_slice()).unwrap();
                    let gsk = format!("{n:03}");
                    gsi1.insert(("PRODUCTS", gsk.as_str(), pk.as_str(), sk), ())
                        .unwrap();
                    gsi2.insert((parity(n), gsk.as_str(), pk.as_str(), sk), ())
                        .unwrap();
                }
            }
            txn.commit().unwrap();
        }
        let db = Database::create(&path).unwrap();
        assert_eq!(open(&db).unwrap(), 10);
        let txn = db.begin_read().unwrap();
        let names: Vec<String> = txn
            .list_tables()
            .unwrap()
            .map(|t| t.name().into())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.iter().all(|n| n.ends_with(".v2")), "{names:?}");
        drop(txn);
        assert_eq!(
            open(&db).unwrap(),
            0,
            "a format-2 file is not migrated again"
        );
        drop(db);

        let store = RedbStore::open(&path).unwrap();
        let got = store
            .get(&crate::Key::new("PRODUCT#7", "PRODUCT"))
            .await
            .unwrap();
        assert_eq!(got, Some(product(7)));
        let query = Query::new(Index::Gsi1, "PRODUCTS").backward().limit(3);
        let page = store.query(&query).await.unwrap();
        assert_eq!(page.items, vec![product(9), product(8), product(7)]);
        let odd = Query::new(Index::Gsi2, "ODD").sk(SkCondition::BeginsWith("00".into()));
        let page = store.query(&odd).await.unwrap();
        let ns: Vec<_> = page.items.iter().map(|i| i["n"].clone()).collect();
        assert_eq!(ns, [1, 3, 5, 7, 9].map(|n| json!(n)));
    }
}
