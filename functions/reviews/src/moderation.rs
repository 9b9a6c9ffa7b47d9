//! Moderation decisions. Approving adds the review to its product's summary
//! and records `review.approved.v1`; rejecting an approved review takes it
//! out and records `review.withdrawn.v1`; both in the transaction that
//! changes the review, conditional on the review's and the summary's
//! versions. Deciding what is already decided changes nothing, so an
//! approval repeated (or raced) is counted once.

use crate::domain::{Review, ReviewStatus};
use crate::repo;
use crate::summary::Summary;
use crate::{events, ReviewsError};
use lite_events::contracts::WithdrawReason;
use lite_ports::Context;
use lite_store::optimistic::{self, Attempt, POLICY};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

pub async fn decide(ctx: &Context, id: &str, decision: Decision) -> Result<Review, ReviewsError> {
    optimistic::retry(&POLICY, move |_| async move {
        let stored = repo::load(ctx, id).await?.ok_or(ReviewsError::NotFound)?;
        let current = &stored.review;
        let target = match decision {
            Decision::Approve => ReviewStatus::Approved,
            Decision::Reject => ReviewStatus::Rejected,
        };
        if current.status == target {
            return Ok(Attempt::Done(stored.review));
        }
        let now = ctx.clock.now().max(current.updated_at);
        let updated = Review {
            status: target,
            updated_at: now,
            approved_at: (target == ReviewStatus::Approved).then_some(now),
            ..current.clone()
        };
        let mut ops = vec![repo::replace_op(&stored, &updated)];
        match (current.status, target) {
            (_, ReviewStatus::Approved) => {
                let before = Summary::load(ctx.store.as_ref(), &current.product_id).await?;
                let after = before.changed(current.rating.get(), 1);
                ops.push(after.write_op(&current.product_id, &before));
                ops.push(lite_events::outbox::put(&events::approved(
                    ctx, &updated, &after,
                )));
            }
            (ReviewStatus::Approved, _) => {
                ops.extend(repo::withdraw_ops(ctx, current, WithdrawReason::Rejected).await?);
            }
            _ => {}
        }
        repo::commit(ctx, ops, updated).await
    })
    .await
}
