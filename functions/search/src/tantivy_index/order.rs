//! Ordered, keyset-paged collection: every match gets a sort key, the
//! position of the previous page's last hit excludes everything up to it,
//! and the best `limit + 1` keys are kept (the extra one says whether a
//! next page exists).
//!
//! A key is four numbers compared ascending (descending orders are
//! negated) and then the product id ascending, so it is unique and total:
//! walking every page returns each match once. Relevance uses the text
//! score, then `relevance::TIE_BREAKERS` (rating average, rating count,
//! creation time, all descending).

use crate::index::{SearchError, Sort};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Key {
    #[serde(rename = "k")]
    pub nums: [f64; 4],
    pub id: String,
}

impl Key {
    fn cmp_nums(a: &[f64; 4], b: &[f64; 4]) -> Ordering {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }

    /// Reads a position back, refusing anything this adapter never wrote.
    pub fn from_position(v: &serde_json::Value) -> Result<Key, SearchError> {
        let key: Key = serde_json::from_value(v.clone())
            .map_err(|_| SearchError::Invalid("malformed position".into()))?;
        if key.nums.iter().any(|n| !n.is_finite()) || key.id.is_empty() {
            return Err(SearchError::Invalid("malformed position".into()));
        }
        Ok(key)
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        Key::cmp_nums(&self.nums, &other.nums).then_with(|| self.id.cmp(&other.id))
    }
}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Eq for Key {}

/// `-x`, without a negative zero (which would sort apart from zero).
fn neg(x: f64) -> f64 {
    -x + 0.0
}

pub struct Ordered {
    pub sort: Sort,
    pub after: Option<Key>,
    /// How many hits to keep (page size + 1).
    pub keep: usize,
}

pub struct SegmentOrdered {
    sort: Sort,
    after: Option<Key>,
    keep: usize,
    segment: SegmentOrdinal,
    price: Column<i64>,
    rating_average: Column<f64>,
    rating_count: Column<u64>,
    created_at: Column<i64>,
    id: StrColumn,
    heap: BinaryHeap<(Key, DocAddress)>,
    buf: String,
}

impl Collector for Ordered {
    type Fruit = Vec<(Key, DocAddress)>;
    type Child = SegmentOrdered;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentOrdered> {
        let fast = reader.fast_fields();
        let id = fast
            .str("id")?
            .ok_or_else(|| tantivy::TantivyError::SchemaError("id is not a fast field".into()))?;
        Ok(SegmentOrdered {
            sort: self.sort,
            after: self.after.clone(),
            keep: self.keep,
            segment,
            price: fast.i64("price")?,
            rating_average: fast.f64("rating_average")?,
            rating_count: fast.u64("rating_count")?,
            created_at: fast.i64("created_at")?,
            id,
            heap: BinaryHeap::new(),
            buf: String::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.sort == Sort::Relevance
    }

    fn merge_fruits(
        &self,
        fruits: Vec<Vec<(Key, DocAddress)>>,
    ) -> tantivy::Result<Vec<(Key, DocAddress)>> {
        let mut all: Vec<(Key, DocAddress)> = fruits.into_iter().flatten().collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all.truncate(self.keep);
        Ok(all)
    }
}

impl SegmentOrdered {
    fn nums(&self, doc: DocId, score: Score) -> [f64; 4] {
        let price = self.price.first(doc).unwrap_or(0) as f64;
        let avg = self.rating_average.first(doc).unwrap_or(0.0);
        let count = self.rating_count.first(doc).unwrap_or(0) as f64;
        let created = self.created_at.first(doc).unwrap_or(0) as f64;
        match self.sort {
            Sort::Relevance => [neg(f64::from(score)), neg(avg), neg(count), neg(created)],
            Sort::PriceAsc => [price, 0.0, 0.0, 0.0],
            Sort::PriceDesc => [neg(price), 0.0, 0.0, 0.0],
            Sort::Rating => [neg(avg), neg(count), 0.0, 0.0],
            Sort::Newest => [neg(created), 0.0, 0.0, 0.0],
        }
    }

    fn id(&mut self, doc: DocId) -> String {
        self.buf.clear();
        if let Some(ord) = self.id.term_ords(doc).next() {
            // A failed dictionary read leaves the id empty, which still
            // orders deterministically.
            let _ = self.id.ord_to_str(ord, &mut self.buf);
        }
        self.buf.clone()
    }
}

impl SegmentCollector for SegmentOrdered {
    type Fruit = Vec<(Key, DocAddress)>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let nums = self.nums(doc, score);
        // Reject on the numbers alone where possible: reading the id costs
        // a dictionary lookup.
        if let Some(after) = &self.after {
            if Key::cmp_nums(&nums, &after.nums) == Ordering::Less {
                return;
            }
        }
        if self.heap.len() >= self.keep {
            if let Some((worst, _)) = self.heap.peek() {
                if Key::cmp_nums(&nums, &worst.nums) == Ordering::Greater {
                    return;
                }
            }
        }
        let key = Key {
            nums,
            id: self.id(doc),
        };
        if let Some(after) = &self.after {
            if key <= *after {
                return;
            }
        }
        self.heap.push((key, DocAddress::new(self.segment, doc)));
        if self.heap.len() > self.keep {
            self.heap.pop();
        }
    }

    fn harvest(self) -> Vec<(Key, DocAddress)> {
        self.heap.into_sorted_vec()
    }
}
