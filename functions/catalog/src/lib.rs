//! Catalog: products, their listings and their events.
//!
//! Owns the `PRODUCT#<id>` item collections (the product and its listing
//! entries) and the `SKU#<sku>` uniqueness items. Other services read
//! products only through [`read`].

mod body;
pub mod consumers;
mod domain;
mod error;
mod events;
pub mod freshness;
mod keys;
mod rating;
pub mod read;
mod repo;
mod routes;
#[cfg(feature = "testing")]
pub mod testing;

pub use domain::{
    schema, NewProduct, Product, ProductId, ProductInput, ProductPatch, ProductView, Rating, Sort,
    MAX_PRICE,
};
pub use error::CatalogError;
pub use rating::{set_rating, RatingOutcome};
pub use repo::{create, delete, get, list, update, view, ListParams};
pub use routes::{openapi, routes, ROUTES};

use lite_ports::Context;
use lite_service::Service;
use std::sync::Arc;

/// The catalog service on its store: the product routes and the
/// `catalog-rating` consumer.
#[derive(Clone)]
pub struct Catalog {
    ctx: Context,
}

impl Catalog {
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }
}

impl Service for Catalog {
    fn name(&self) -> &'static str {
        "catalog"
    }

    fn router(&self) -> axum::Router {
        routes::router(self.ctx.clone())
    }

    fn consumers(&self) -> Vec<Arc<dyn lite_events::Handler>> {
        vec![Arc::new(consumers::RatingSync::new(self.ctx.clone()))]
    }
}
