//! What other services may read of inventory.

use crate::stock::{available_of, from_item, key, StockLevel};
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

/// Units free to sell for each sku (0 when never stocked). On the
/// catalog's hot reads (a listing asks for 20 skus): only `available` is
/// read out of each stored item's JSON, nothing else is decoded.
pub async fn available<'a>(
    store: &dyn Store,
    skus: impl IntoIterator<Item = &'a Sku>,
) -> Result<Vec<i64>, StoreError> {
    let keys: Vec<_> = skus.into_iter().map(key).collect();
    Ok(store
        .batch_get_json(&keys)
        .await?
        .iter()
        .map(|json| json.as_deref().map_or(0, available_of))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lite_store::redb_store::RedbStore;

    /// `available` reads the same units as `levels`, 0 for a sku never
    /// stocked, in the order asked (a repeated sku included).
    #[tokio::test]
    async fn available_agrees_with_levels() {
        let store = RedbStore::in_memory().unwrap();
        let clock = lite_core::SystemClock;
        let [a, b, never] = ["LAMP-1", "LAMP-2", "LAMP-3"].map(|s| Sku::parse(s).unwrap());
        crate::set_available(&store, &clock, &a, 7).await.unwrap();
        crate::set_available(&store, &clock, &b, 0).await.unwrap();
        crate::set_available(&store, &clock, &b, 12).await.unwrap();
        let skus = [b.clone(), never.clone(), a.clone(), b.clone()];
        let levels: Vec<i64> = levels(&store, &skus)
            .await
            .unwrap()
            .iter()
            .map(|l| l.as_ref().map_or(0, |l| l.available))
            .collect();
        assert_eq!(levels, [12, 0, 7, 12]);
        assert_eq!(available(&store, &skus).await.unwrap(), levels);
    }
}
