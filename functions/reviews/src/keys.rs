//! The reviews service's items in the single table. Only this module builds
//! their keys.
//!
//! | item | PK | SK | GSI1PK / GSI1SK | GSI2PK / GSI2SK |
//! |---|---|---|---|---|
//! | review | `REVIEW#<id>` | `REVIEW` | `PREVIEWS#<productId>` / `<approvedAt>#<id>` while approved | `REVIEWS#<status>` / `<updatedAt>#<id>` |
//! | claim | `REVIEWBY#<productId>#<userId>` | `REVIEWBY` | — | — |
//! | summary | `REVIEWSUMMARY#<productId>` | `SUMMARY` | — | — |

use crate::domain::{Review, ReviewId, ReviewStatus};
use lite_store::{attr, Item, Key};
use serde_json::Value;

pub fn review(id: &ReviewId) -> Key {
    Key::new(format!("REVIEW#{id}"), "REVIEW")
}

/// One review per user and product: created with the review, conditional
/// on its absence, deleted with it.
pub fn claim(product_id: &str, user_id: &str) -> Key {
    Key::new(format!("REVIEWBY#{product_id}#{user_id}"), "REVIEWBY")
}

pub fn summary(product_id: &str) -> Key {
    Key::new(format!("REVIEWSUMMARY#{product_id}"), "SUMMARY")
}

/// The GSI1 partition of a product's approved reviews.
pub fn approved_partition(product_id: &str) -> String {
    format!("PREVIEWS#{product_id}")
}

/// The GSI2 partition of one moderation status.
pub fn status_partition(status: ReviewStatus) -> String {
    format!("REVIEWS#{}", status.as_str())
}

/// The review item at `version`, in the indexes its status puts it in.
pub fn review_item(r: &Review, version: i64) -> Item {
    let mut i = review(&r.id).to_item();
    i.insert("entity".into(), "review".into());
    i.insert("version".into(), version.into());
    i.insert(
        "data".into(),
        serde_json::to_value(r).unwrap_or(Value::Null),
    );
    i.insert(attr::GSI2PK.into(), status_partition(r.status).into());
    i.insert(
        attr::GSI2SK.into(),
        format!("{}#{}", lite_core::rfc3339(r.updated_at), r.id).into(),
    );
    if let (ReviewStatus::Approved, Some(at)) = (r.status, r.approved_at) {
        i.insert(
            attr::GSI1PK.into(),
            approved_partition(&r.product_id).into(),
        );
        i.insert(
            attr::GSI1SK.into(),
            format!("{}#{}", lite_core::rfc3339(at), r.id).into(),
        );
    }
    i
}

pub fn claim_item(r: &Review) -> Item {
    let mut i = claim(&r.product_id, &r.user_id).to_item();
    i.insert("entity".into(), "reviewClaim".into());
    i.insert("reviewId".into(), r.id.as_str().into());
    i
}

/// The review inside a review item.
pub fn review_of(item: &Item) -> Option<Review> {
    serde_json::from_value(item.get("data")?.clone()).ok()
}

pub fn version_of(item: &Item) -> i64 {
    item.get("version").and_then(Value::as_i64).unwrap_or(0)
}
