//! Reviews' events.

use super::{contract, RatingSummary};
use serde::{Deserialize, Serialize};

/// `review.approved.v1`: a review passed moderation. It carries the
/// product's rating summary after the approval, so the catalog stores it
/// as is (idempotent, and an edited review re-approved is not counted twice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewApprovedV1 {
    /// `rev_<ULID>`.
    pub review_id: String,
    /// `prd_<ULID>`.
    pub product_id: String,
    /// `usr_<ULID>`, the author.
    pub user_id: String,
    /// 1..=5.
    pub rating: u8,
    pub verified_purchase: bool,
    pub product_rating: RatingSummary,
}
contract!(ReviewApprovedV1, "review.approved", 1, "reviews");
