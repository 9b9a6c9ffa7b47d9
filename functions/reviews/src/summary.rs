//! A product's approved-review summary: count, sum and histogram, with a
//! version that every change bumps. It is written in the same transaction
//! as the decision that changes it, conditional on the version read, so a
//! decision is counted exactly once however requests race.

use crate::keys;
use lite_store::{Condition, Item, Store, StoreError, TxOp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub count: u32,
    pub sum: u64,
    /// Reviews with 1..=5 stars, at index 0..=4.
    pub histogram: [u32; 5],
    /// 0 while no decision has touched it.
    pub version: u64,
}

/// The summary as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SummaryView {
    /// Mean rating, one decimal (0 when none).
    pub average: f64,
    pub count: u32,
    /// Approved reviews per star, keys `"1"` to `"5"`.
    pub histogram: BTreeMap<String, u32>,
}

impl Summary {
    pub async fn load(store: &dyn Store, product_id: &str) -> Result<Summary, StoreError> {
        let Some(item) = store.get(&keys::summary(product_id)).await? else {
            return Ok(Summary::default());
        };
        serde_json::from_value(item.get("data").cloned().unwrap_or_default())
            .map_err(|e| StoreError::Invalid(format!("summary of {product_id}: {e}")))
    }

    /// Mean with one decimal.
    pub fn average(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let mean = self.sum as f64 / f64::from(self.count);
        (mean * 10.0).round() / 10.0
    }

    /// The summary with one more (`by` = 1) or one fewer (`by` = -1)
    /// review of `stars`, at the next version.
    pub fn changed(&self, stars: u8, by: i32) -> Summary {
        let mut next = self.clone();
        let slot = usize::from(stars.clamp(1, 5) - 1);
        if by > 0 {
            next.count += 1;
            next.sum += u64::from(stars);
            next.histogram[slot] += 1;
        } else {
            next.count = next.count.saturating_sub(1);
            next.sum = next.sum.saturating_sub(u64::from(stars));
            next.histogram[slot] = next.histogram[slot].saturating_sub(1);
        }
        next.version += 1;
        next
    }

    /// The name of the op [`Summary::write_op`] makes.
    pub const OP_NAME: &'static str = "summary";

    /// Writes `self` over the summary at `previous`'s version: the
    /// transaction fails if another decision got there first.
    pub fn write_op(&self, product_id: &str, previous: &Summary) -> TxOp {
        let mut item: Item = keys::summary(product_id).to_item();
        item.insert("entity".into(), "reviewSummary".into());
        item.insert("version".into(), self.version.into());
        item.insert(
            "data".into(),
            serde_json::to_value(self).unwrap_or_default(),
        );
        let condition = if previous.version == 0 {
            Condition::NotExists
        } else {
            Condition::eq("version", previous.version)
        };
        TxOp::put(item).when(condition).named(Self::OP_NAME)
    }

    pub fn rating(&self) -> lite_events::contracts::RatingSummary {
        lite_events::contracts::RatingSummary {
            average: self.average(),
            count: self.count,
        }
    }

    pub fn view(&self) -> SummaryView {
        SummaryView {
            average: self.average(),
            count: self.count,
            histogram: (1..=5)
                .map(|s| (s.to_string(), self.histogram[s - 1]))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_and_out_with_one_decimal() {
        let s = Summary::default().changed(5, 1).changed(4, 1).changed(4, 1);
        assert_eq!((s.count, s.sum, s.version), (3, 13, 3));
        assert_eq!(s.average(), 4.3);
        assert_eq!(s.histogram, [0, 0, 0, 2, 1]);
        let s = s.changed(5, -1);
        assert_eq!((s.count, s.average(), s.version), (2, 4.0, 4));
        assert_eq!(s.view().histogram["4"], 2);
        assert_eq!(Summary::default().average(), 0.0);
    }
}
