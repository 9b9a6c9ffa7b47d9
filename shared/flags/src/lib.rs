//! Runtime feature flags: what an operator flips without a deploy or a
//! restart (search on the catalog listing, checkout paused for
//! maintenance, the payment timeout of new checkouts).
//!
//! - [`Flags`]: the typed values, parsed from one JSON document
//!   ([`values`]); a bad document is refused whole.
//! - [`FlagSource`]: the port services read them through. Reading never
//!   fails and never blocks a request for long: adapters answer the last
//!   good flags (the defaults before any) when their source is missing,
//!   unreachable or garbled, and log that once.
//! - [`FileFlags`]: the local adapter, `<data dir>/flags.json`, re-read
//!   when the file changes.
//! - `AppConfigFlags` (feature `appconfig`): AWS AppConfig through its
//!   Lambda extension on localhost.
//!
//! No HTTP server or AWS SDK here: the services' libraries depend on this
//! crate without the feature; only Lambda binaries compile the adapter.

#[cfg(feature = "appconfig")]
pub mod appconfig;
pub mod file;
mod health;
#[cfg(feature = "testing")]
pub mod testing;
pub mod values;

#[cfg(feature = "appconfig")]
pub use appconfig::{AppConfigFlags, AppConfigLocation};
pub use file::FileFlags;
pub use values::{Checkout, Flags, FlagsError};

use async_trait::async_trait;
use std::sync::Arc;

/// Where a service reads the flags in force.
#[async_trait]
pub trait FlagSource: Send + Sync + 'static {
    /// The flags in force now: the source's last good value (the defaults
    /// before it has one). Never an error: a source that cannot be read
    /// must not fail the request that asks.
    async fn flags(&self) -> Flags;
}

/// The flags a service holds.
pub type SharedFlags = Arc<dyn FlagSource>;

/// Flags that never change: the defaults where no source is configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct StaticFlags(pub Flags);

#[async_trait]
impl FlagSource for StaticFlags {
    async fn flags(&self) -> Flags {
        self.0
    }
}

/// The defaults, as a source.
pub fn defaults() -> SharedFlags {
    Arc::new(StaticFlags::default())
}
