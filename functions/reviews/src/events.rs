//! Reviews' events, built from the contract types in
//! `lite_events::contracts` (schemas `events/schemas/review.*.v1.json`).

use crate::domain::Review;
use crate::summary::Summary;
use lite_events::contracts::{Contract, ReviewApprovedV1, ReviewWithdrawnV1, WithdrawReason};
use lite_events::Envelope;
use lite_ports::Context;

/// `review.approved.v1` with the product's summary after the approval.
pub fn approved(ctx: &Context, r: &Review, after: &Summary) -> Envelope {
    envelope(
        ctx,
        &ReviewApprovedV1 {
            review_id: r.id.to_string(),
            product_id: r.product_id.clone(),
            user_id: r.user_id.clone(),
            rating: r.rating.get(),
            verified_purchase: r.verified_purchase,
            product_rating: after.rating(),
            rating_version: Some(after.version),
        },
    )
}

/// `review.withdrawn.v1` with the product's summary after the withdrawal.
pub fn withdrawn(ctx: &Context, r: &Review, after: &Summary, reason: WithdrawReason) -> Envelope {
    envelope(
        ctx,
        &ReviewWithdrawnV1 {
            review_id: r.id.to_string(),
            product_id: r.product_id.clone(),
            user_id: r.user_id.clone(),
            product_rating: after.rating(),
            rating_version: after.version,
            reason,
        },
    )
}

fn envelope<C: Contract>(ctx: &Context, data: &C) -> Envelope {
    Envelope::of(
        ctx.ids.as_ref(),
        ctx.clock.now(),
        &lite_http::correlation::current(),
        data,
    )
}
