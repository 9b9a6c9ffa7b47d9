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
mod query;
pub mod redb_store;
mod update;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

pub use condition::{Cmp, Condition};
pub use error::StoreError;
pub use model::{attr, item_size, validate_item, Item, Key, MAX_ITEM_BYTES, MAX_TRANSACTION_OPS};
pub use query::{Direction, Index, Page, Position, Query, SkCondition};
pub use update::{validate_updates, Update};

use async_trait::async_trait;

/// One write inside a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum TxOp {
    Put {
        item: Item,
        condition: Option<Condition>,
    },
    Update {
        key: Key,
        updates: Vec<Update>,
        condition: Option<Condition>,
    },
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    /// Writes nothing; the transaction applies only if the condition holds.
    Check { key: Key, condition: Condition },
}

impl TxOp {
    pub fn key(&self) -> Result<Key, StoreError> {
        match self {
            TxOp::Put { item, .. } => Key::of(item),
            TxOp::Update { key, .. } | TxOp::Delete { key, .. } | TxOp::Check { key, .. } => {
                Ok(key.clone())
            }
        }
    }

    pub fn condition(&self) -> Option<&Condition> {
        match self {
            TxOp::Put { condition, .. }
            | TxOp::Update { condition, .. }
            | TxOp::Delete { condition, .. } => condition.as_ref(),
            TxOp::Check { condition, .. } => Some(condition),
        }
    }
}

/// Checks a transaction before anything is written or sent: 1 to
/// [`MAX_TRANSACTION_OPS`] ops, each on a different key, with valid items
/// and updates. Both adapters call it, so both refuse the same requests.
pub fn validate_transaction(ops: &[TxOp]) -> Result<(), StoreError> {
    if ops.is_empty() || ops.len() > MAX_TRANSACTION_OPS {
        return Err(StoreError::Invalid(format!(
            "a transaction has 1 to {MAX_TRANSACTION_OPS} ops, not {}",
            ops.len()
        )));
    }
    let mut keys = std::collections::HashSet::with_capacity(ops.len());
    for op in ops {
        let key = match op {
            TxOp::Put { item, .. } => validate_item(item)?,
            TxOp::Update { key, updates, .. } => {
                validate_updates(updates)?;
                key.clone()
            }
            TxOp::Delete { key, .. } | TxOp::Check { key, .. } => key.clone(),
        };
        key.validate()?;
        if !keys.insert(key) {
            return Err(StoreError::Invalid(format!(
                "transaction touches {} twice",
                op.key()?
            )));
        }
    }
    Ok(())
}

/// The single table. Every operation is strongly consistent on the table
/// itself; index queries are eventually consistent on DynamoDB (GSIs) and
/// immediate on redb.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The item at `key`, if any.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// The items at `keys`, in the order of `keys` (`None` where absent).
    /// Any number of keys; adapters chunk as their backend needs.
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError>;

    /// One page of the items under one partition key of the table or an
    /// index, in sort-key order (ties broken by the table key).
    async fn query(&self, query: &Query) -> Result<Page, StoreError>;

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
    /// and [`StoreError::TransactionCanceled`] names the failing ops by index.
    /// At most [`MAX_TRANSACTION_OPS`] ops, each on a different key.
    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError>;
}
