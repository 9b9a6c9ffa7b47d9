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
    /// The version of the product's summary that `product_rating` is
    /// (it grows by one with every decision that changes the approved
    /// set), so a consumer keeps the newest summary whatever order events
    /// arrive in. Optional: added to v1 after its first producer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating_version: Option<u64>,
}
contract!(ReviewApprovedV1, "review.approved", 1, "reviews");

/// Why an approved review left the approved set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawReason {
    /// Its author edited it: it is back in moderation.
    Edited,
    Deleted,
    /// A moderator rejected it after approving it.
    Rejected,
}

/// `review.withdrawn.v1`: an approved review no longer counts. Carries the
/// product's rating summary after the withdrawal and its version, like
/// `review.approved.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewWithdrawnV1 {
    /// `rev_<ULID>`.
    pub review_id: String,
    /// `prd_<ULID>`.
    pub product_id: String,
    /// `usr_<ULID>`, the author.
    pub user_id: String,
    pub product_rating: RatingSummary,
    /// The summary's version after the withdrawal.
    pub rating_version: u64,
    pub reason: WithdrawReason,
}
contract!(ReviewWithdrawnV1, "review.withdrawn", 1, "reviews");
