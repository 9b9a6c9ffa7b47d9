use crate::{attr, Condition, Item, Key, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a query reads: the table itself or one of the two GSIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Index {
    Table,
    Gsi1,
    Gsi2,
}

impl Index {
    /// DynamoDB index name (`None` for the table).
    pub fn name(self) -> Option<&'static str> {
        match self {
            Index::Table => None,
            Index::Gsi1 => Some("GSI1"),
            Index::Gsi2 => Some("GSI2"),
        }
    }

    pub fn pk_attr(self) -> &'static str {
        match self {
            Index::Table => attr::PK,
            Index::Gsi1 => attr::GSI1PK,
            Index::Gsi2 => attr::GSI2PK,
        }
    }

    pub fn sk_attr(self) -> &'static str {
        match self {
            Index::Table => attr::SK,
            Index::Gsi1 => attr::GSI1SK,
            Index::Gsi2 => attr::GSI2SK,
        }
    }

    /// The (partition, sort) values of `item` in this index, if it is in it.
    pub fn keys_of(self, item: &Item) -> Option<(&str, &str)> {
        let pk = item.get(self.pk_attr())?.as_str()?;
        let sk = item.get(self.sk_attr())?.as_str()?;
        Some((pk, sk))
    }
}

/// A condition on the sort key of the queried index (strings, compared by
/// UTF-8 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkCondition {
    Eq(String),
    BeginsWith(String),
    /// Inclusive on both ends.
    Between(String, String),
    Lt(String),
    Le(String),
    Gt(String),
    Ge(String),
}

impl SkCondition {
    pub fn matches(&self, sk: &str) -> bool {
        let s = sk.as_bytes();
        match self {
            SkCondition::Eq(v) => s == v.as_bytes(),
            SkCondition::BeginsWith(p) => s.starts_with(p.as_bytes()),
            SkCondition::Between(a, b) => s >= a.as_bytes() && s <= b.as_bytes(),
            SkCondition::Lt(v) => s < v.as_bytes(),
            SkCondition::Le(v) => s <= v.as_bytes(),
            SkCondition::Gt(v) => s > v.as_bytes(),
            SkCondition::Ge(v) => s >= v.as_bytes(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Direction {
    #[default]
    Forward,
    Backward,
}

/// Where the previous page ended: the table key and index key of the last
/// item returned. Callers keep it opaque (the API signs it into a cursor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position(pub BTreeMap<String, String>);

impl Position {
    /// The position just after `item` in `index`.
    pub fn after(index: Index, item: &Item) -> Result<Position, StoreError> {
        let key = Key::of(item)?;
        let index_key = match index {
            Index::Table => (key.pk.as_str(), key.sk.as_str()),
            _ => index
                .keys_of(item)
                .ok_or_else(|| StoreError::Invalid(format!("item is not in index {index:?}")))?,
        };
        Ok(Position::at(index, (&key.pk, &key.sk), index_key))
    }

    /// The position just after the entry with table key `(pk, sk)` and,
    /// in an index, index key `index_key` (ignored for the table).
    pub fn at(index: Index, (pk, sk): (&str, &str), index_key: (&str, &str)) -> Position {
        let mut m = BTreeMap::from([
            (attr::PK.to_owned(), pk.to_owned()),
            (attr::SK.to_owned(), sk.to_owned()),
        ]);
        if index != Index::Table {
            m.insert(index.pk_attr().to_owned(), index_key.0.to_owned());
            m.insert(index.sk_attr().to_owned(), index_key.1.to_owned());
        }
        Position(m)
    }

    pub fn get(&self, attr: &str) -> Option<&str> {
        self.0.get(attr).map(String::as_str)
    }

    /// The table key of the item the position points after.
    pub fn table_key(&self) -> Result<Key, StoreError> {
        match (self.get(attr::PK), self.get(attr::SK)) {
            (Some(pk), Some(sk)) => Ok(Key::new(pk, sk)),
            _ => Err(StoreError::Invalid("position has no table key".into())),
        }
    }
}

/// One query: the items whose index partition key equals `pk`, optionally
/// narrowed by `sk`, in `direction` order of the index sort key (ties, which
/// only indexes can have, broken by the table key in the same direction).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sk: Option<SkCondition>,
    pub direction: Direction,
    /// Most items to return (1..=1000).
    pub limit: usize,
    /// Resume after this position (from a previous page of the same query).
    pub after: Option<Position>,
    /// Only items for which this holds are returned; they still count
    /// toward nothing but the result (pages are filled up to `limit`).
    pub filter: Option<Condition>,
}

impl Query {
    pub fn new(index: Index, pk: impl Into<String>) -> Self {
        Self {
            index,
            pk: pk.into(),
            sk: None,
            direction: Direction::Forward,
            limit: 100,
            after: None,
            filter: None,
        }
    }
    pub fn sk(mut self, sk: SkCondition) -> Self {
        self.sk = Some(sk);
        self
    }
    pub fn backward(mut self) -> Self {
        self.direction = Direction::Backward;
        self
    }
    pub fn direction(mut self, d: Direction) -> Self {
        self.direction = d;
        self
    }
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
    pub fn after(mut self, after: Option<Position>) -> Self {
        self.after = after;
        self
    }
    pub fn filter(mut self, filter: Condition) -> Self {
        self.filter = Some(filter);
        self
    }

    pub fn validate(&self) -> Result<(), StoreError> {
        if self.limit == 0 || self.limit > 1000 {
            return Err(StoreError::Invalid(format!(
                "query limit {} is not in 1..=1000",
                self.limit
            )));
        }
        if self.pk.is_empty() {
            return Err(StoreError::Invalid("query partition key is empty".into()));
        }
        if let Some(SkCondition::Between(low, high)) = &self.sk {
            if low.as_bytes() > high.as_bytes() {
                return Err(StoreError::Invalid(format!(
                    "sort key range {low:?}..={high:?} is reversed"
                )));
            }
        }
        if let Some(after) = &self.after {
            after.table_key()?;
            let (pk, sk) = (self.index.pk_attr(), self.index.sk_attr());
            match (after.get(pk), after.get(sk)) {
                (Some(p), Some(_)) if p == self.pk => {}
                (Some(_), Some(_)) => {
                    return Err(StoreError::Invalid(
                        "position belongs to another partition".into(),
                    ));
                }
                _ => return Err(StoreError::Invalid(format!("position has no {pk}/{sk}"))),
            }
        }
        Ok(())
    }
}

/// A page of query results. `next` is `Some` exactly when at least one more
/// matching item existed when the page was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    pub next: Option<Position>,
}

/// [`Page`] with each item as one JSON object's bytes (`Store::query_json`).
/// The items are kept one after the other in one buffer: a page is one
/// allocation, not one per item (a listing's items are about a kilobyte
/// each, where glibc's allocator takes its slow path). An adapter sizes it
/// for the page it reads ([`JsonPage::with_capacity`]): growing it copies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsonPage {
    /// The items' bytes, one after the other.
    bytes: Vec<u8>,
    /// Where each item ends in `bytes`.
    ends: Vec<usize>,
    pub next: Option<Position>,
}

impl JsonPage {
    /// An empty page with room for `items` items of about `item_bytes` each.
    pub fn with_capacity(items: usize, item_bytes: usize) -> Self {
        JsonPage {
            bytes: Vec::with_capacity(items.saturating_mul(item_bytes)),
            ends: Vec::with_capacity(items),
            next: None,
        }
    }

    /// Appends one item's JSON.
    pub fn push(&mut self, item: &[u8]) {
        self.bytes.extend_from_slice(item);
        self.ends.push(self.bytes.len());
    }

    /// How many items the page has.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the page has no item.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Each item's JSON, in page order.
    pub fn items(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.ends.len()).map(|i| {
            let start = i.checked_sub(1).map_or(0, |before| self.ends[before]);
            &self.bytes[start..self.ends[i]]
        })
    }
}

impl Page {
    /// This page with its items encoded.
    pub fn into_json(self) -> Result<JsonPage, StoreError> {
        let mut page = JsonPage::with_capacity(self.items.len(), 0);
        for item in &self.items {
            crate::model::write_item_json(&mut page.bytes, item)?;
            page.ends.push(page.bytes.len());
        }
        page.next = self.next;
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A packed page gives back each item's bytes whole and in order,
    /// empty items and growth past the first capacity included.
    #[test]
    fn a_json_page_gives_back_each_item() {
        let mut page = JsonPage::with_capacity(2, 4);
        assert!(page.is_empty());
        assert_eq!(page.items().count(), 0);
        let items: [&[u8]; 4] = [br#"{"a":1}"#, b"", br#"{"b":"long enough to grow"}"#, b"{}"];
        for item in items {
            page.push(item);
        }
        assert_eq!(page.len(), 4);
        assert_eq!(page.items().len(), 4);
        assert_eq!(page.items().collect::<Vec<_>>(), items);
    }
}
