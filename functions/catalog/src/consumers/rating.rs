//! `catalog-rating`: products show the rating the reviews service decided.

use crate::rating::{self, RatingOutcome};
use crate::CatalogError;
use async_trait::async_trait;
use lite_events::contracts::{RatingSummary, ReviewApprovedV1, ReviewWithdrawnV1};
use lite_events::{Envelope, Handler, HandlerError};
use lite_ports::Context;
use lite_store::StoreError;

lite_events::accepts! {
    /// What this consumer reads.
    enum Accepted {
        Approved(ReviewApprovedV1),
        Withdrawn(ReviewWithdrawnV1),
    }
}

/// On `review.approved.v1` and `review.withdrawn.v1`, stores the product's
/// rating summary the event carries — if its `ratingVersion` is newer than
/// the one the product shows (see [`rating::set_rating`]). So a redelivered
/// or late event changes nothing, and each decision counts once: the count
/// itself is kept by reviews, not added up here.
///
/// A product that no longer exists is done. An approval without
/// `ratingVersion` (from before the field existed) cannot be ordered
/// against other decisions and is skipped with a warning. Malformed events
/// are `Poison`; store failures and lost races are `Retry`.
pub struct RatingSync {
    ctx: Context,
}

impl RatingSync {
    pub const NAME: &'static str = "catalog-rating";

    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    async fn apply(
        &self,
        product_id: &str,
        summary: &RatingSummary,
        version: u64,
    ) -> Result<(), HandlerError> {
        let outcome = rating::set_rating(
            &self.ctx,
            product_id,
            summary.average,
            summary.count,
            version,
        )
        .await
        .map_err(|e| handler_error(product_id, e))?;
        match outcome {
            RatingOutcome::Applied(_) => {}
            RatingOutcome::Stale => {
                tracing::info!(
                    product_id,
                    version,
                    "stale rating event: a newer summary is shown"
                )
            }
            RatingOutcome::Gone => tracing::info!(product_id, "rating for a product that is gone"),
        }
        Ok(())
    }
}

#[async_trait]
impl Handler for RatingSync {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn detail_types(&self) -> &'static [&'static str] {
        Accepted::DETAIL_TYPES
    }

    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        match Accepted::decode(event)? {
            Accepted::Approved(e) => match e.rating_version {
                Some(version) => self.apply(&e.product_id, &e.product_rating, version).await,
                None => {
                    tracing::warn!(review_id = %e.review_id, "approval without ratingVersion skipped");
                    Ok(())
                }
            },
            Accepted::Withdrawn(e) => {
                self.apply(&e.product_id, &e.product_rating, e.rating_version)
                    .await
            }
        }
    }
}

fn handler_error(product_id: &str, e: CatalogError) -> HandlerError {
    let message = format!("rating of {product_id}: {e:?}");
    match e {
        CatalogError::Invalid(_) | CatalogError::Store(StoreError::Invalid(_)) => {
            HandlerError::Poison(message)
        }
        CatalogError::NotFound
        | CatalogError::SkuTaken
        | CatalogError::Contended
        | CatalogError::Store(_) => HandlerError::Retry(message),
    }
}
