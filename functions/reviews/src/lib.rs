//! Reviews: one review per user and product, moderated before it shows.
//!
//! Owns the `REVIEW#<id>` items (with their approved listing on GSI1 and
//! moderation queues on GSI2), the `REVIEWBY#<productId>#<userId>` claims
//! (one review per user and product) and the `REVIEWSUMMARY#<productId>`
//! counts. Every decision that changes a product's approved reviews changes
//! its summary and records `review.approved.v1` or `review.withdrawn.v1`
//! in the same transaction, conditional on the summary's version, so each
//! decision counts exactly once; the catalog's `catalog-rating` consumer
//! copies the summary onto the product.

mod domain;
mod error;
mod events;
mod keys;
mod listing;
mod moderation;
mod repo;
mod routes;
mod summary;

pub use domain::{Review, ReviewId, ReviewStatus};
pub use error::ReviewsError;
pub use routes::{openapi, routes, ROUTES};
pub use summary::SummaryView;

use lite_ports::Context;
use lite_service::Service;

/// The reviews service on its store: writing, listing and moderating
/// reviews.
#[derive(Clone)]
pub struct Reviews {
    ctx: Context,
}

impl Reviews {
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }
}

impl Service for Reviews {
    fn name(&self) -> &'static str {
        "reviews"
    }

    fn router(&self) -> axum::Router {
        routes::router(self.ctx.clone())
    }
}
