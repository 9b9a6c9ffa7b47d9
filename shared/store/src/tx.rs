//! Transaction operations, named by the role they play.
//!
//! A transaction's conditions fail for reasons the caller must tell apart
//! (the idempotency record exists: replay; the cart changed: 409; the
//! product's version moved: re-read and retry). Each op may carry a name,
//! and [`StoreError::TransactionCanceled`] reports the names of the ops
//! whose conditions failed, so callers decide by role, never by position
//! in the op list.

use crate::{validate_item, validate_updates, Condition, Item, Key, StoreError, Update};
use std::borrow::Cow;

/// The name of a transaction op: a role (`"order"`, `"cart"`), or data when
/// ops of one role must be told apart (a reserve names each stock op by its
/// sku). Several ops may share a name.
pub type OpName = Cow<'static, str>;

/// What one transaction op writes.
#[derive(Debug, Clone, PartialEq)]
pub enum TxWrite {
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

/// One write inside a transaction, optionally named. Build one with
/// [`TxOp::put`], [`TxOp::update`], [`TxOp::delete`] or [`TxOp::check`],
/// then [`when`](TxOp::when) and [`named`](TxOp::named).
#[derive(Debug, Clone, PartialEq)]
pub struct TxOp {
    write: TxWrite,
    name: Option<OpName>,
}

impl TxOp {
    /// Writes the whole item (replacing any old one).
    pub fn put(item: Item) -> Self {
        TxWrite::Put {
            item,
            condition: None,
        }
        .into()
    }

    /// Applies `updates` to the item at `key` (creating it when absent).
    pub fn update(key: Key, updates: Vec<Update>) -> Self {
        TxWrite::Update {
            key,
            updates,
            condition: None,
        }
        .into()
    }

    /// Deletes the item at `key`.
    pub fn delete(key: Key) -> Self {
        TxWrite::Delete {
            key,
            condition: None,
        }
        .into()
    }

    /// Writes nothing; the transaction applies only if `condition` holds on
    /// the item at `key`.
    pub fn check(key: Key, condition: Condition) -> Self {
        TxWrite::Check { key, condition }.into()
    }

    /// The op applies only if `condition` holds on the current item (for a
    /// check: replaces its condition).
    pub fn when(self, condition: Condition) -> Self {
        self.when_some(Some(condition))
    }

    /// [`when`](TxOp::when) for a condition that may be absent.
    pub fn when_some(mut self, condition: Option<Condition>) -> Self {
        match &mut self.write {
            TxWrite::Put { condition: c, .. }
            | TxWrite::Update { condition: c, .. }
            | TxWrite::Delete { condition: c, .. } => *c = condition,
            TxWrite::Check { condition: c, .. } => {
                if let Some(condition) = condition {
                    *c = condition;
                }
            }
        }
        self
    }

    /// Names the op: a failed condition of this op is reported by `name`.
    pub fn named(mut self, name: impl Into<OpName>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub fn write(&self) -> &TxWrite {
        &self.write
    }

    pub fn key(&self) -> Result<Key, StoreError> {
        match &self.write {
            TxWrite::Put { item, .. } => Key::of(item),
            TxWrite::Update { key, .. }
            | TxWrite::Delete { key, .. }
            | TxWrite::Check { key, .. } => Ok(key.clone()),
        }
    }

    pub fn condition(&self) -> Option<&Condition> {
        match &self.write {
            TxWrite::Put { condition, .. }
            | TxWrite::Update { condition, .. }
            | TxWrite::Delete { condition, .. } => condition.as_ref(),
            TxWrite::Check { condition, .. } => Some(condition),
        }
    }
}

impl From<TxWrite> for TxOp {
    fn from(write: TxWrite) -> Self {
        TxOp { write, name: None }
    }
}

/// An op whose condition stopped a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedOp {
    /// Its position in the op list (for logs; decide by name).
    pub index: usize,
    pub name: Option<OpName>,
}

impl std::fmt::Display for FailedOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} (op {})", self.index),
            None => write!(f, "op {}", self.index),
        }
    }
}

/// The error of a transaction whose ops at `failed` (indexes into `ops`,
/// ascending) had conditions that did not hold. Both adapters build it
/// here, so both report the same names.
pub fn canceled(ops: &[TxOp], failed: impl IntoIterator<Item = usize>) -> StoreError {
    StoreError::TransactionCanceled {
        failed: failed
            .into_iter()
            .map(|index| FailedOp {
                index,
                name: ops.get(index).and_then(|op| op.name.clone()),
            })
            .collect(),
    }
}

/// Checks a transaction before anything is written or sent: 1 to
/// [`MAX_TRANSACTION_OPS`](crate::MAX_TRANSACTION_OPS) ops, each on a
/// different key, with valid items and updates. Both adapters call it, so
/// both refuse the same requests.
pub fn validate_transaction(ops: &[TxOp]) -> Result<(), StoreError> {
    use crate::MAX_TRANSACTION_OPS;
    if ops.is_empty() || ops.len() > MAX_TRANSACTION_OPS {
        return Err(StoreError::Invalid(format!(
            "a transaction has 1 to {MAX_TRANSACTION_OPS} ops, not {}",
            ops.len()
        )));
    }
    let mut keys = std::collections::HashSet::with_capacity(ops.len());
    for op in ops {
        let key = match &op.write {
            TxWrite::Put { item, .. } => validate_item(item)?,
            TxWrite::Update { key, updates, .. } => {
                validate_updates(updates)?;
                key.clone()
            }
            TxWrite::Delete { key, .. } | TxWrite::Check { key, .. } => key.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_set_condition_and_name() {
        let op = TxOp::put(Key::new("A", "B").to_item())
            .when(Condition::NotExists)
            .named("claim");
        assert_eq!(op.name(), Some("claim"));
        assert_eq!(op.condition(), Some(&Condition::NotExists));
        let check = TxOp::check(Key::new("A", "B"), Condition::Exists).when_some(None);
        assert_eq!(check.condition(), Some(&Condition::Exists));
    }

    #[test]
    fn cancellation_reports_names_by_index() {
        let ops = [
            TxOp::delete(Key::new("A", "1")).named("first"),
            TxOp::delete(Key::new("A", "2")),
            TxOp::delete(Key::new("A", "3")).named(String::from("LAP-1")),
        ];
        let e = canceled(&ops, [0, 1, 2]);
        assert!(e.failed_on("first") && e.failed_on("LAP-1") && !e.failed_on("second"));
        assert_eq!(e.failed_names().collect::<Vec<_>>(), ["first", "LAP-1"]);
        assert_eq!(
            e.to_string(),
            "transaction canceled: conditions failed at first (op 0), op 1, LAP-1 (op 2)"
        );
    }
}
