//! Inventory's event consumers (one queue each; see `lite_events::Handler`).

mod catalog_sync;
mod order_cancelled;

pub use catalog_sync::CatalogSync;
pub use order_cancelled::OrderCancelled;
