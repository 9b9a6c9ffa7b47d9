use crate::StoreError;
use serde::{Deserialize, Serialize};

/// An item: a JSON object with at least string `PK` and `SK` attributes.
pub type Item = serde_json::Map<String, serde_json::Value>;

/// DynamoDB's item size limit; both adapters refuse larger items.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// DynamoDB's TransactWriteItems limit.
pub const MAX_TRANSACTION_OPS: usize = 100;

/// Reserved attribute names of the single table.
pub mod attr {
    pub const PK: &str = "PK";
    pub const SK: &str = "SK";
    pub const GSI1PK: &str = "GSI1PK";
    pub const GSI1SK: &str = "GSI1SK";
    pub const GSI2PK: &str = "GSI2PK";
    pub const GSI2SK: &str = "GSI2SK";
    /// TTL attribute: epoch seconds.
    pub const EXPIRES_AT: &str = "expiresAt";
}

/// The table key of an item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// The key of `item`, or `Invalid` when `PK`/`SK` are missing or not
    /// non-empty strings.
    pub fn of(item: &Item) -> Result<Key, StoreError> {
        let get = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| StoreError::Invalid(format!("item has no non-empty string {name}")))
        };
        Ok(Key {
            pk: get(attr::PK)?,
            sk: get(attr::SK)?,
        })
    }

    /// `Invalid` unless both parts are non-empty (DynamoDB refuses empty
    /// key strings).
    pub fn validate(&self) -> Result<(), StoreError> {
        if self.pk.is_empty() || self.sk.is_empty() {
            return Err(StoreError::Invalid(format!("key {self} has an empty part")));
        }
        Ok(())
    }

    /// A new item holding just this key.
    pub fn to_item(&self) -> Item {
        let mut item = Item::new();
        item.insert(attr::PK.into(), self.pk.clone().into());
        item.insert(attr::SK.into(), self.sk.clone().into());
        item
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}|{}", self.pk, self.sk)
    }
}

/// The size of `item` as the adapters measure it: its JSON encoding, in
/// bytes (never smaller than DynamoDB's own measure of the same item).
pub fn item_size(item: &Item) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a JSON map into a counter cannot fail: its keys are strings
    // and `Value` holds only finite numbers.
    let _ = serde_json::to_writer(&mut count, item);
    count.0
}

/// `item` as one JSON object's bytes: what `Store::get_json` and its
/// kin return when an adapter does not keep items as JSON.
pub(crate) fn item_json(item: &Item) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::new();
    write_item_json(&mut out, item)?;
    Ok(out)
}

/// [`item_json`] appended to `out` (a page's items, one after the other).
pub(crate) fn write_item_json(out: &mut Vec<u8>, item: &Item) -> Result<(), StoreError> {
    serde_json::to_writer(out, item).map_err(|e| StoreError::Invalid(format!("item: {e}")))
}

/// Checks an item before it is written and returns its key: `PK`/`SK` are
/// non-empty strings, index key attributes that are present are non-empty
/// strings (DynamoDB refuses anything else in an index key), and the item
/// is at most [`MAX_ITEM_BYTES`].
pub fn validate_item(item: &Item) -> Result<Key, StoreError> {
    let key = Key::of(item)?;
    for name in [attr::GSI1PK, attr::GSI1SK, attr::GSI2PK, attr::GSI2SK] {
        match item.get(name) {
            None => {}
            Some(serde_json::Value::String(s)) if !s.is_empty() => {}
            Some(_) => {
                return Err(StoreError::Invalid(format!(
                    "{name} of {key} must be a non-empty string"
                )))
            }
        }
    }
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::Invalid(format!(
            "item {key} is {size} bytes; the limit is {MAX_ITEM_BYTES}"
        )));
    }
    Ok(key)
}
