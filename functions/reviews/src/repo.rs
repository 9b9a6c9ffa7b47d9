//! Writing reviews: create, edit, delete. Each write is one transaction,
//! conditional on the review's version; when it takes an approved review
//! out of the approved set, the same transaction changes the product's
//! summary (conditional on its version) and records `review.withdrawn.v1`.

use crate::domain::{Content, Review, ReviewId, ReviewPatch, ReviewStatus};
use crate::summary::Summary;
use crate::{events, keys, ReviewsError};
use lite_events::contracts::WithdrawReason;
use lite_ports::Context;
use lite_store::optimistic::{self, lost_race, Attempt, POLICY};
use lite_store::{Condition, StoreError, TxOp};

/// The review item's op: conditioned on the version read (or on absence).
const REVIEW: &str = "review";
/// The claim's op: one review per user and product.
const CLAIM: &str = "claim";

/// A review as stored, with the item version every write conditions on.
pub(crate) struct Stored {
    pub review: Review,
    pub version: i64,
}

pub(crate) async fn load(ctx: &Context, id: &str) -> Result<Option<Stored>, ReviewsError> {
    let Some(id) = ReviewId::parse(id) else {
        return Ok(None);
    };
    let Some(item) = ctx.store.get(&keys::review(&id)).await? else {
        return Ok(None);
    };
    let review = keys::review_of(&item)
        .ok_or_else(|| StoreError::Invalid(format!("review item {id} does not parse")))?;
    Ok(Some(Stored {
        review,
        version: keys::version_of(&item),
    }))
}

/// Runs `ops`, answering `done`; [`Attempt::Retry`] when the review, its
/// claim or the summary changed since they were read, or the write
/// contended (the caller reloads and decides again).
pub(crate) async fn commit<T>(
    ctx: &Context,
    ops: Vec<TxOp>,
    done: T,
) -> Result<Attempt<T>, ReviewsError> {
    match ctx.store.transact(ops).await {
        Ok(()) => Ok(Attempt::Done(done)),
        Err(e) if lost_race(&e, &[REVIEW, CLAIM, Summary::OP_NAME]) => Ok(Attempt::Retry),
        Err(e) => Err(e.into()),
    }
}

/// The review item replacing `stored`, if it has not changed since.
pub(crate) fn replace_op(stored: &Stored, updated: &Review) -> TxOp {
    TxOp::put(keys::review_item(updated, stored.version + 1))
        .when(Condition::eq("version", stored.version))
        .named(REVIEW)
}

/// The ops that take approved `review` out of its product's summary:
/// the summary one count lower and `review.withdrawn.v1` with it.
pub(crate) async fn withdraw_ops(
    ctx: &Context,
    review: &Review,
    reason: WithdrawReason,
) -> Result<Vec<TxOp>, ReviewsError> {
    let before = Summary::load(ctx.store.as_ref(), &review.product_id).await?;
    let after = before.changed(review.rating.get(), -1);
    Ok(vec![
        after.write_op(&review.product_id, &before),
        lite_events::outbox::put(&events::withdrawn(ctx, review, &after, reason)),
    ])
}

/// A new pending review of `product_id` by `user_id`. The claim item makes
/// a second review by the same user a failed condition (409), however many
/// requests race.
pub async fn create(
    ctx: &Context,
    product_id: &str,
    user_id: &str,
    content: Content,
) -> Result<Review, ReviewsError> {
    let product = catalog::read::product(ctx.store.as_ref(), product_id)
        .await?
        .ok_or(ReviewsError::ProductNotFound)?;
    let product_id = product.id.to_string();
    let verified_purchase =
        orders_read::has_purchased(ctx.store.as_ref(), user_id, &product_id).await?;
    let now = ctx.clock.now();
    let review = Review {
        id: ReviewId::generate(ctx.ids.as_ref()),
        product_id,
        user_id: user_id.to_owned(),
        rating: content.rating,
        title: content.title,
        body: content.body,
        status: ReviewStatus::Pending,
        verified_purchase,
        created_at: now,
        updated_at: now,
        approved_at: None,
    };
    let review = &review;
    optimistic::retry(&POLICY, move |_| async move {
        let ops = vec![
            TxOp::put(keys::review_item(review, 1))
                .when(Condition::NotExists)
                .named(REVIEW),
            TxOp::put(keys::claim_item(review))
                .when(Condition::NotExists)
                .named(CLAIM),
        ];
        match ctx.store.transact(ops).await {
            Ok(()) => Ok(Attempt::Done(review.clone())),
            Err(e) if e.failed_on(CLAIM) => Err(ReviewsError::AlreadyReviewed),
            Err(e) if lost_race(&e, &[]) => Ok(Attempt::Retry),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// The author's edit: new content, back to moderation (an approved review
/// leaves the approved set), `verifiedPurchase` looked up again. A patch
/// that changes nothing changes nothing.
pub async fn update(
    ctx: &Context,
    id: &str,
    user_id: &str,
    patch: ReviewPatch,
) -> Result<Review, ReviewsError> {
    let patch = &patch;
    optimistic::retry(&POLICY, move |_| async move {
        let stored = load(ctx, id).await?.ok_or(ReviewsError::NotFound)?;
        let current = &stored.review;
        if current.user_id != user_id {
            return Err(ReviewsError::NotFound);
        }
        let content = patch.clone().apply(current)?;
        if content.rating == current.rating
            && content.title == current.title
            && content.body == current.body
        {
            return Ok(Attempt::Done(stored.review));
        }
        let verified_purchase =
            orders_read::has_purchased(ctx.store.as_ref(), user_id, &current.product_id).await?;
        let updated = Review {
            rating: content.rating,
            title: content.title,
            body: content.body,
            status: ReviewStatus::Pending,
            verified_purchase,
            updated_at: ctx.clock.now().max(current.updated_at),
            approved_at: None,
            ..current.clone()
        };
        let mut ops = vec![replace_op(&stored, &updated)];
        if current.status == ReviewStatus::Approved {
            ops.extend(withdraw_ops(ctx, current, WithdrawReason::Edited).await?);
        }
        commit(ctx, ops, updated).await
    })
    .await
}

/// Deletes a review (its author's, or any for an administrator) and its
/// claim, so the author may review the product again.
pub async fn delete(
    ctx: &Context,
    id: &str,
    user_id: &str,
    is_admin: bool,
) -> Result<(), ReviewsError> {
    optimistic::retry(&POLICY, move |_| async move {
        let stored = load(ctx, id).await?.ok_or(ReviewsError::NotFound)?;
        let current = &stored.review;
        if current.user_id != user_id && !is_admin {
            return Err(ReviewsError::NotFound);
        }
        let mut ops = vec![
            TxOp::delete(keys::review(&current.id))
                .when(Condition::eq("version", stored.version))
                .named(REVIEW),
            TxOp::delete(keys::claim(&current.product_id, &current.user_id))
                .when(Condition::eq("reviewId", current.id.as_str()))
                .named(CLAIM),
        ];
        if current.status == ReviewStatus::Approved {
            ops.extend(withdraw_ops(ctx, current, WithdrawReason::Deleted).await?);
        }
        commit(ctx, ops, ()).await
    })
    .await
}
