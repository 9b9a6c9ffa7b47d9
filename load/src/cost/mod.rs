//! The cost model: what AWS would bill for the work the local system does,
//! counted by decorators over its ports while shoppers drive it over HTTP,
//! then multiplied by dated list prices.

pub mod bill;
pub mod flows;
pub mod http;
pub mod meter;
pub mod ports;
pub mod report;
pub mod scope;
pub mod size;
pub mod store;
pub mod system;
pub mod units;

#[cfg(test)]
mod tests;
