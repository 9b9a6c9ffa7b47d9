use crate::{attr, StoreError};
use serde_json::Value;
use std::collections::HashSet;

/// One typed change of an update. Attribute names are top-level names.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// `SET a = v`
    Set(String, Value),
    /// `SET a = if_not_exists(a, v)`
    SetIfAbsent(String, Value),
    /// `ADD a n` on a number (a missing attribute counts as 0).
    Add(String, i64),
    /// `REMOVE a`
    Remove(String),
}

impl Update {
    pub fn set(attr: impl Into<String>, value: impl Into<Value>) -> Self {
        Update::Set(attr.into(), value.into())
    }
    pub fn set_if_absent(attr: impl Into<String>, value: impl Into<Value>) -> Self {
        Update::SetIfAbsent(attr.into(), value.into())
    }
    pub fn add(attr: impl Into<String>, by: i64) -> Self {
        Update::Add(attr.into(), by)
    }
    pub fn remove(attr: impl Into<String>) -> Self {
        Update::Remove(attr.into())
    }

    pub fn attr(&self) -> &str {
        match self {
            Update::Set(a, _)
            | Update::SetIfAbsent(a, _)
            | Update::Add(a, _)
            | Update::Remove(a) => a,
        }
    }
}

/// Checks an update list before it is applied or sent: at least one change,
/// no key attribute (`PK`/`SK` cannot change), no empty name, and no
/// attribute named twice (DynamoDB refuses overlapping paths).
pub fn validate_updates(updates: &[Update]) -> Result<(), StoreError> {
    if updates.is_empty() {
        return Err(StoreError::Invalid("update has no changes".into()));
    }
    let mut seen = HashSet::new();
    for update in updates {
        let name = update.attr();
        if name.is_empty() {
            return Err(StoreError::Invalid(
                "update names an empty attribute".into(),
            ));
        }
        if name == attr::PK || name == attr::SK {
            return Err(StoreError::Invalid(format!(
                "cannot update key attribute {name}"
            )));
        }
        if !seen.insert(name) {
            return Err(StoreError::Invalid(format!(
                "attribute {name} is updated twice"
            )));
        }
    }
    Ok(())
}
