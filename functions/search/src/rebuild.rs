//! Filling an empty index from the catalog (first start, deleted index
//! directory, new OpenSearch domain).

use crate::index::{SearchDoc, SearchError, SearchIndex};
use lite_store::{Store, StoreError};

/// Products read and indexed per batch.
const PAGE: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error("reading the catalog failed: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] SearchError),
}

/// When the index holds nothing, indexes every product of the catalog and
/// returns how many; otherwise leaves it alone and returns 0. Events that
/// arrive meanwhile are upserts by id, so they cannot be lost or doubled.
pub async fn rebuild_if_empty(
    index: &dyn SearchIndex,
    store: &dyn Store,
) -> Result<usize, RebuildError> {
    if index.count().await? > 0 {
        return Ok(0);
    }
    rebuild(index, store).await
}

/// Indexes every product of the catalog (upserts: safe on a full index).
pub async fn rebuild(index: &dyn SearchIndex, store: &dyn Store) -> Result<usize, RebuildError> {
    let mut after = None;
    let mut indexed = 0;
    loop {
        let (products, next) = catalog::read::products_page(store, after, PAGE).await?;
        indexed += products.len();
        index
            .upsert(products.iter().map(SearchDoc::from).collect())
            .await?;
        match next {
            Some(p) => after = Some(p),
            None => return Ok(indexed),
        }
    }
}
