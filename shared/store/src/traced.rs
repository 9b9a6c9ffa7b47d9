//! [`Traced`]: any store with one span per call (`store.get`,
//! `store.query`, ... with the adapter's name and the key or index), so a
//! trace shows every table access of a request, a consumer or a saga task.
//! A decorator, not code in each adapter: both adapters get the same spans.
//! They are made only while traces are exported (`lite_trace::exporting`):
//! a store call is the most frequent thing a request does, and a span that
//! nobody exports would cost its allocations on every one. [`traced`]
//! leaves the store unwrapped when nothing exports (every entry point
//! installs its subscriber before it builds its store), so such a process
//! does not even pay the decorator's extra boxed future per call.

use crate::{Condition, Item, JsonPage, Key, Page, Query, Store, StoreError, TxOp, Update};
use async_trait::async_trait;
use std::sync::Arc;
use tracing::Instrument;

pub struct Traced<S: ?Sized> {
    /// The `store` field of the spans: `redb`, `dynamodb`.
    name: &'static str,
    inner: Arc<S>,
}

impl<S: Store + ?Sized> Traced<S> {
    pub fn new(name: &'static str, inner: Arc<S>) -> Self {
        Self { name, inner }
    }
}

impl<S: ?Sized> Traced<S> {
    /// The span of a get, as an item or as JSON.
    fn get_span(&self, key: &Key) -> tracing::Span {
        tracing::info_span!("store.get", store = self.name, pk = %key.pk)
    }

    /// The span of a batch get, as items or as JSON.
    fn batch_get_span(&self, keys: &[Key]) -> tracing::Span {
        tracing::info_span!("store.batch_get", store = self.name, keys = keys.len())
    }

    /// The span of a query, as rows or as JSON.
    fn query_span(&self, query: &Query) -> tracing::Span {
        tracing::info_span!(
            "store.query",
            store = self.name,
            index = ?query.index,
            pk = %query.pk,
        )
    }
}

/// `store` wrapped in [`Traced`] while traces are exported; `store`
/// itself otherwise.
pub fn traced(name: &'static str, store: Arc<dyn Store>) -> Arc<dyn Store> {
    if lite_trace::exporting() {
        Arc::new(Traced::new(name, store))
    } else {
        store
    }
}

/// `call` inside `span()` while traces are exported; as is otherwise.
async fn traced_call<T>(
    span: impl FnOnce() -> tracing::Span,
    call: impl std::future::Future<Output = T>,
) -> T {
    if lite_trace::exporting() {
        call.instrument(span()).await
    } else {
        call.await
    }
}

#[async_trait]
impl<S: Store + ?Sized> Store for Traced<S> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        traced_call(|| self.get_span(key), self.inner.get(key)).await
    }

    async fn get_json(&self, key: &Key) -> Result<Option<Vec<u8>>, StoreError> {
        traced_call(|| self.get_span(key), self.inner.get_json(key)).await
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        traced_call(|| self.batch_get_span(keys), self.inner.batch_get(keys)).await
    }

    async fn batch_get_json(&self, keys: &[Key]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        traced_call(
            || self.batch_get_span(keys),
            self.inner.batch_get_json(keys),
        )
        .await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        traced_call(|| self.query_span(query), self.inner.query(query)).await
    }

    async fn query_json(&self, query: &Query) -> Result<JsonPage, StoreError> {
        traced_call(|| self.query_span(query), self.inner.query_json(query)).await
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        let pk = lite_trace::exporting()
            .then(|| {
                item.get(crate::attr::PK)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            })
            .flatten()
            .unwrap_or_default();
        traced_call(
            || tracing::info_span!("store.put", store = self.name, pk = %pk),
            self.inner.put(item, condition),
        )
        .await
    }

    async fn update(
        &self,
        key: &Key,
        updates: &[Update],
        condition: Option<Condition>,
    ) -> Result<Item, StoreError> {
        traced_call(
            || tracing::info_span!("store.update", store = self.name, pk = %key.pk),
            self.inner.update(key, updates, condition),
        )
        .await
    }

    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError> {
        traced_call(
            || tracing::info_span!("store.delete", store = self.name, pk = %key.pk),
            self.inner.delete(key, condition),
        )
        .await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        let count = ops.len();
        traced_call(
            || tracing::info_span!("store.transact", store = self.name, ops = count),
            self.inner.transact(ops),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redb_store::RedbStore;

    // The decorator changes no answer: the conformance suite through it.
    crate::conformance_tests!(|| async {
        Arc::new(Traced::new(
            "redb",
            Arc::new(RedbStore::in_memory().unwrap()),
        )) as Arc<dyn Store>
    });
}
