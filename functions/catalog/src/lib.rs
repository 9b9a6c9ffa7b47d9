//! Catalog: products, their listings and their events.
//!
//! Owns the `PRODUCT#<id>` item collections (the product and its listing
//! entries) and the `SKU#<sku>` uniqueness items. Other services read
//! products only through [`read`].

pub mod consumers;
mod domain;
mod error;
mod events;
mod keys;
mod rating;
pub mod read;
mod repo;
mod routes;

pub use domain::{
    NewProduct, Product, ProductId, ProductInput, ProductPatch, ProductView, Rating, Sort,
};
pub use error::CatalogError;
pub use rating::{set_rating, RatingOutcome};
pub use repo::{create, delete, get, list, update, view, ListParams};
pub use routes::{openapi, router, routes, ROUTES};
