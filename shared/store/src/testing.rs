//! Test helpers (feature `testing`).

use crate::{Condition, Item, Key, Page, Query, Store, StoreError, TxOp, Update};
use async_trait::async_trait;

/// A store that answers every call with one error (a throttled or
/// unreachable backend), for tests of what callers make of it.
#[derive(Debug, Clone)]
pub struct FailingStore(pub StoreError);

#[async_trait]
impl Store for FailingStore {
    async fn get(&self, _: &Key) -> Result<Option<Item>, StoreError> {
        Err(self.0.clone())
    }

    async fn batch_get(&self, _: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        Err(self.0.clone())
    }

    async fn query(&self, _: &Query) -> Result<Page, StoreError> {
        Err(self.0.clone())
    }

    async fn put(&self, _: Item, _: Option<Condition>) -> Result<(), StoreError> {
        Err(self.0.clone())
    }

    async fn update(
        &self,
        _: &Key,
        _: &[Update],
        _: Option<Condition>,
    ) -> Result<Item, StoreError> {
        Err(self.0.clone())
    }

    async fn delete(&self, _: &Key, _: Option<Condition>) -> Result<Option<Item>, StoreError> {
        Err(self.0.clone())
    }

    async fn transact(&self, _: Vec<TxOp>) -> Result<(), StoreError> {
        Err(self.0.clone())
    }
}
