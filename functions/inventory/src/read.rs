//! What other services may read of inventory.

use crate::stock::{from_item, key, StockLevel};
use lite_core::Sku;
use lite_store::{Store, StoreError};

/// Stock levels for `skus`, aligned with the input (`None`: never stocked).
pub async fn levels(
    store: &dyn Store,
    skus: &[Sku],
) -> Result<Vec<Option<StockLevel>>, StoreError> {
    let keys: Vec<_> = skus.iter().map(key).collect();
    let items = store.batch_get(&keys).await?;
    Ok(items
        .iter()
        .map(|i| i.as_ref().and_then(from_item))
        .collect())
}

/// Units free to sell for each sku (0 when never stocked).
pub async fn available(store: &dyn Store, skus: &[Sku]) -> Result<Vec<i64>, StoreError> {
    Ok(levels(store, skus)
        .await?
        .into_iter()
        .map(|l| l.map_or(0, |l| l.available))
        .collect())
}
