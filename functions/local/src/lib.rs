//! The whole Amazon Lite API in one process: every service's router behind
//! one listener, on the embedded adapters (redb, in-process bus, local
//! interpreter), configured as API.md's "local API's configuration" says.

pub mod app;
pub mod config;
pub mod consumers;
#[cfg(feature = "harness")]
pub mod harness;
pub mod malloc;
pub mod metrics;
pub mod seed;
pub mod server;
