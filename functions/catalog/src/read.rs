//! What other services may read of the catalog.

use crate::domain::{Product, ProductId};
use crate::keys;
use lite_store::{Store, StoreError};

/// The product with `id`, if it exists (a malformed id is simply absent).
pub async fn product(store: &dyn Store, id: &str) -> Result<Option<Product>, StoreError> {
    let Some(id) = ProductId::parse(id) else {
        return Ok(None);
    };
    Ok(store
        .get(&keys::product(&id))
        .await?
        .as_ref()
        .and_then(keys::product_of))
}

/// Whether a product currently holds this sku.
pub async fn sku_taken(store: &dyn Store, sku: &lite_core::Sku) -> Result<bool, StoreError> {
    Ok(store.get(&keys::sku(sku)).await?.is_some())
}

/// Whether the catalog holds any product (one index read).
pub async fn has_products(store: &dyn Store) -> Result<bool, StoreError> {
    let query = lite_store::Query::new(
        lite_store::Index::Gsi1,
        keys::listing_partition(None, keys::Order::New),
    )
    .limit(1);
    Ok(!store.query(&query).await?.items.is_empty())
}

/// One page of every product, oldest first (the `PLIST#ALL#NEW` listing),
/// and where the next page starts. For consumers that rebuild a view of the
/// whole catalog (the search index); `limit` is clamped to 1..=1000.
pub async fn products_page(
    store: &dyn Store,
    after: Option<lite_store::Position>,
    limit: usize,
) -> Result<(Vec<Product>, Option<lite_store::Position>), StoreError> {
    let query = lite_store::Query::new(
        lite_store::Index::Gsi1,
        keys::listing_partition(None, keys::Order::New),
    )
    .limit(limit.clamp(1, 1000))
    .after(after);
    let page = store.query(&query).await?;
    let products = keys::listing_entries(&page.items, keys::product_of)?;
    Ok((products, page.next))
}
