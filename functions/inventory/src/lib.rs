//! Inventory: stock per sku (`available` to sell, `reserved` by checkouts
//! in flight). This crate owns the `STOCK#<sku>` items; other services read
//! stock only through [`read`].

pub mod consumers;
mod error;
pub mod read;
mod routes;
mod stock;

pub use error::InventoryError;
pub use routes::{openapi, router, routes, ROUTES};
pub use stock::{set_available, StockLevel, MAX_UNITS};
