//! The single-table `Store` port.
//!
//! Services speak to the table in typed operations — keys, typed conditions,
//! typed updates, queries with sort-key conditions, all-or-nothing
//! transactions — and never in DynamoDB expression strings. Two adapters
//! implement it: [`redb_store::RedbStore`] (embedded; a file, or memory for
//! tests) here, and the DynamoDB adapter in the `lite-dynamo` crate. The
//! [`conformance`] suite (feature `conformance`) runs the same cases against
//! both, so they give the same answers.
//!
//! # Item shape
//! An [`Item`] is a JSON object. Every item has string attributes `PK` and
//! `SK`; items that appear in an index also carry `GSI1PK`/`GSI1SK` or
//! `GSI2PK`/`GSI2SK` (both or neither). `expiresAt` (epoch seconds) is the
//! TTL attribute: expired items may linger until swept, so readers that care
//! check it.

mod condition;
mod error;
mod model;
pub mod optimistic;
mod problem;
mod query;
pub mod raw;
pub mod redb_store;
pub mod traced;
mod tx;
mod update;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
#[cfg(feature = "testing")]
pub mod testing;

pub use condition::{Cmp, Condition};
pub use error::StoreError;
pub use model::{attr, item_size, validate_item, Item, Key, MAX_ITEM_BYTES, MAX_TRANSACTION_OPS};
pub use problem::{BUSY_DETAIL, BUSY_RETRY_AFTER_SECS};
pub use query::{Direction, Index, JsonPage, Page, Position, Query, SkCondition};
pub use tx::{canceled, validate_transaction, FailedOp, OpName, TxOp, TxWrite};
pub use update::{validate_updates, Update};

use async_trait::async_trait;

/// The single table. Every operation is strongly consistent on the table
/// itself; index queries are eventually consistent on DynamoDB (GSIs) and
/// immediate on redb.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The item at `key`, if any.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// The item at `key` as one JSON object's bytes, for a hot read that
    /// decodes straight into its own type (`serde_json::from_slice`)
    /// without building the [`Item`] tree first. An adapter that stores
    /// JSON returns it as stored; this default encodes what `get` returns.
    async fn get_json(&self, key: &Key) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(key)
            .await?
            .as_ref()
            .map(model::item_json)
            .transpose()
    }

    /// The items at `keys`, in the order of `keys` (`None` where absent).
    /// Any number of keys; adapters chunk as their backend needs.
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError>;

    /// [`Store::batch_get`] with each item as one JSON object's bytes (see
    /// [`Store::get_json`]): the same items in the same order.
    async fn batch_get_json(&self, keys: &[Key]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.batch_get(keys)
            .await?
            .iter()
            .map(|item| item.as_ref().map(model::item_json).transpose())
            .collect()
    }

    /// One page of the items under one partition key of the table or an
    /// index, in sort-key order (ties broken by the table key).
    async fn query(&self, query: &Query) -> Result<Page, StoreError>;

    /// [`Store::query`] with each item as one JSON object's bytes (see
    /// [`Store::get_json`]): the same items and the same `next`.
    async fn query_json(&self, query: &Query) -> Result<JsonPage, StoreError> {
        self.query(query).await?.into_json()
    }

    /// Writes the whole item (replacing any old one) if `condition` holds
    /// on the current item; otherwise [`StoreError::ConditionFailed`].
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError>;

    /// Applies `updates` to the item at `key` (creating it when absent, as
    /// DynamoDB's UpdateItem does) if `condition` holds; returns the new item.
    async fn update(
        &self,
        key: &Key,
        updates: &[Update],
        condition: Option<Condition>,
    ) -> Result<Item, StoreError>;

    /// Deletes the item at `key` if `condition` holds; returns the old item.
    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError>;

    /// Applies every op or none. When a condition fails, nothing is written
    /// and [`StoreError::TransactionCanceled`] reports the failing ops by
    /// name (see [`TxOp::named`]; build it with [`canceled`]).
    /// At most [`MAX_TRANSACTION_OPS`] ops, each on a different key.
    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError>;
}
