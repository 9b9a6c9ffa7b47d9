//! Reading reviews: a product's approved reviews (newest first, with its
//! summary) and the moderation queues (oldest first). Keyset pages on
//! unique index sort keys; cursors are signed over what shaped the listing
//! (the product, or the status), so one cannot be replayed on another.

use crate::domain::{Review, ReviewStatus};
use crate::summary::{Summary, SummaryView};
use crate::{keys, ReviewsError};
use lite_core::{CursorError, Problem};
use lite_http::Context;
use lite_store::{Direction, Index, Position, Query, StoreError};

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
    let codec = ctx.cursors.get().await?;
    let after = match cursor {
        None => None,
        Some(c) => {
            let value = codec.decode(scope, c).map_err(cursor_problem)?;
            Some(
                serde_json::from_value::<Position>(value)
                    .map_err(|_| cursor_problem(CursorError::Malformed))?,
            )
        }
    };
    let page = ctx.store.query(&query.limit(limit).after(after)).await?;
    let items = page
        .items
        .iter()
        .map(|i| {
            keys::review_of(i)
                .ok_or_else(|| StoreError::Invalid("review item does not parse".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = match page.next {
        Some(p) => Some(codec.encode(
            scope,
            &serde_json::to_value(&p).map_err(|e| StoreError::Invalid(e.to_string()))?,
        )),
        None => None,
    };
    Ok(ReviewPage { items, next_cursor })
}

fn cursor_problem(e: CursorError) -> ReviewsError {
    ReviewsError::Invalid(Problem::field(
        "cursor",
        format!("{e}; start again without it"),
    ))
}
