//! The `service` label every metric carries.
//!
//! Two rules, so that an alarm can name its dimensions without knowing
//! which process runs which code:
//! - A business event is counted for the service that owns it, fixed in
//!   its helper ([`crate::record`]): `orders_failed` is always
//!   `service="orders"`, `payment_authorizations` always `"payments"`,
//!   locally and on AWS alike. A per-process value would move with the
//!   deployment: on AWS the `checkout-task` binary runs payments' and
//!   inventory's saga steps, locally one process runs everything.
//! - What shared machinery counts (HTTP requests, events published and
//!   consumed) carries the process's service, set once at start-up with
//!   [`set_process_service`]: the Lambda binary's service (`catalog`,
//!   `relay`, …), which for a route function is the route's owner, and
//!   [`LOCAL`] in the one-process local API.

use std::sync::OnceLock;

/// The process service of the local API (and of anything that never set
/// one, such as tests).
pub const LOCAL: &str = "amazon-lite";

static PROCESS: OnceLock<&'static str> = OnceLock::new();

/// Names this process's service; the first call wins (a process is one
/// service for its whole life).
pub fn set_process_service(name: &'static str) {
    let _ = PROCESS.set(name);
}

/// This process's service, [`LOCAL`] until one is set.
pub fn process_service() -> &'static str {
    PROCESS.get().copied().unwrap_or(LOCAL)
}

/// The owners of the business metrics.
pub mod owner {
    pub const ORDERS: &str = "orders";
    pub const PAYMENTS: &str = "payments";
    pub const INVENTORY: &str = "inventory";
    pub const AUTH: &str = "auth";
    pub const CHECKOUT: &str = "checkout";
}
