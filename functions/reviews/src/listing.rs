//! Reading reviews: a product's approved reviews (newest first, with its
//! summary) and the moderation queues (oldest first). Keyset pages on
//! unique index sort keys; cursors are signed over what shaped the listing
//! (the product, or the status), so one cannot be replayed on another.

use crate::domain::{Review, ReviewStatus};
use crate::summary::{Summary, SummaryView};
use crate::{keys, ReviewsError};
use lite_ports::Context;
use lite_store::{Direction, Index, Query, StoreError};

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

/// One page of reviews and the cursor of the next, if any.
pub struct ReviewPage {
    pub items: Vec<Review>,
    pub next_cursor: Option<String>,
}

/// The approved reviews of `product_id`, newest approval first, and its
/// summary. An unknown product is `ProductNotFound`.
pub async fn approved(
    ctx: &Context,
    product_id: &str,
    limit: usize,
    cursor: Option<&str>,
) -> Result<(ReviewPage, SummaryView), ReviewsError> {
    let product = catalog::read::product(ctx.store.as_ref(), product_id)
        .await?
        .ok_or(ReviewsError::ProductNotFound)?;
    let product_id = product.id.to_string();
    let query = Query::new(Index::Gsi1, keys::approved_partition(&product_id))
        .direction(Direction::Backward);
    let scope = format!("reviews|{product_id}");
    let page = page(ctx, query, &scope, limit, cursor).await?;
    let summary = Summary::load(ctx.store.as_ref(), &product_id).await?;
    Ok((page, summary.view()))
}

/// Reviews in `status`, least recently changed first (the queue order).
pub async fn by_status(
    ctx: &Context,
    status: ReviewStatus,
    limit: usize,
    cursor: Option<&str>,
) -> Result<ReviewPage, ReviewsError> {
    let query = Query::new(Index::Gsi2, keys::status_partition(status));
    let scope = format!("admin-reviews|{}", status.as_str());
    page(ctx, query, &scope, limit, cursor).await
}

async fn page(
    ctx: &Context,
    query: Query,
    scope: &str,
    limit: usize,
    cursor: Option<&str>,
) -> Result<ReviewPage, ReviewsError> {
    let after = ctx.cursors.resume(scope, cursor).await?;
    let page = ctx.store.query(&query.limit(limit).after(after)).await?;
    let items = page
        .items
        .iter()
        .map(|i| {
            keys::review_of(i)
                .ok_or_else(|| StoreError::Invalid("review item does not parse".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = ctx.cursors.next_cursor(scope, page.next.as_ref()).await?;
    Ok(ReviewPage { items, next_cursor })
}
