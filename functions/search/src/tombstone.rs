//! Tombstones of deleted products, in the table: `PK = SEARCHDEL#<productId>`,
//! `SK = SEARCHDEL`, with `deletedAt`.
//!
//! Product ids are never reused, so a product event that arrives after its
//! product's `product.deleted.v1` (a delivery retried past the delete, a
//! redrive from the DLQ) is stale whatever its `updatedAt`; without a
//! tombstone it would bring the deleted product back into search results.
//! The indexer writes the tombstone before it removes the document, and
//! checks it before and after each put (see [`crate::SearchIndexer`]).

use chrono::{DateTime, Utc};
use lite_store::{Key, Store, StoreError};

/// The tombstone of `product_id`.
pub fn key(product_id: &str) -> Key {
    Key::new(format!("SEARCHDEL#{product_id}"), "SEARCHDEL")
}

/// Records that `product_id` was deleted (again is harmless).
pub async fn put(store: &dyn Store, product_id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
    let mut item = key(product_id).to_item();
    item.insert("deletedAt".into(), lite_core::rfc3339(at).into());
    store.put(item, None).await
}

/// Whether `product_id` was deleted.
pub async fn exists(store: &dyn Store, product_id: &str) -> Result<bool, StoreError> {
    Ok(store.get(&key(product_id)).await?.is_some())
}
