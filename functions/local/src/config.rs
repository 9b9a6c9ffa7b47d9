//! The local API's configuration (API.md, "The local API's configuration").

use crate::server::Limits;
use lite_core::config::{optional, parse_or, ConfigError};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    Demo,
    None,
}

#[derive(Debug, Clone)]
pub struct LocalConfig {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub seed: Seed,
    pub admin: Option<(String, String)>,
    pub payment_webhook_secret: Option<String>,
    pub checkout_payment_timeout_secs: u64,
    pub memory: MemoryConfig,
    /// Connection limits of the HTTP server.
    pub limits: Limits,
}

impl LocalConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let seed = match optional("AMAZON_LITE_SEED")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("demo") => Seed::Demo,
            Some("none") => Seed::None,
            Some(other) => {
                return Err(ConfigError {
                    name: "AMAZON_LITE_SEED".into(),
                    message: format!("{other:?} is neither `demo` nor `none`"),
                })
            }
        };
        let admin = match (optional("ADMIN_EMAIL"), optional("ADMIN_PASSWORD")) {
            (Some(e), Some(p)) => Some((e, p)),
            _ => None,
        };
        Ok(Self {
            addr: parse_or("AMAZON_LITE_ADDR", SocketAddr::from(([127, 0, 0, 1], 3000)))?,
            data_dir: PathBuf::from(
                optional("AMAZON_LITE_DATA_DIR").unwrap_or_else(|| "./.amazon-lite".into()),
            ),
            seed,
            admin,
            payment_webhook_secret: optional("PAYMENT_WEBHOOK_SECRET"),
            checkout_payment_timeout_secs: parse_or("CHECKOUT_PAYMENT_TIMEOUT_SECS", 900)?,
            memory: MemoryConfig::from_env()?,
            limits: limits()?,
        })
    }

    /// Logs what is in use (never a secret's value).
    pub fn log(&self) {
        tracing::info!(
            addr = %self.addr,
            data_dir = %self.data_dir.display(),
            seed = ?self.seed,
            admin = self.admin.as_ref().map(|(e, _)| e.as_str()).unwrap_or("(unset)"),
            payment_webhook_secret = if self.payment_webhook_secret.is_some() { "(set)" } else { "(generated)" },
            checkout_payment_timeout_secs = self.checkout_payment_timeout_secs,
            store_cache_mib = self.memory.store_cache_bytes >> 20,
            search_writer_mib = self.memory.search_writer_bytes >> 20,
            header_timeout_secs = self.limits.header_timeout.as_secs(),
            idle_timeout_secs = self.limits.idle_timeout.as_secs(),
            max_connections = self.limits.max_connections,
            "configuration"
        );
    }
}

/// The memory the long-lived caches may hold, so the process stays bounded
/// however long it runs (load/README.md, "Memory under fuzzing").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryConfig {
    /// redb's page cache (`AMAZON_LITE_STORE_CACHE_MB`, MiB).
    pub store_cache_bytes: usize,
    /// The search index writer's budget (`AMAZON_LITE_SEARCH_WRITER_MB`,
    /// MiB, at least 15: tantivy's minimum).
    pub search_writer_bytes: usize,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            store_cache_bytes: lite_store::redb_store::DEFAULT_CACHE_BYTES,
            search_writer_bytes: search::DEFAULT_WRITER_BUDGET_BYTES,
        }
    }
}

impl MemoryConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let default = Self::default();
        Ok(Self {
            store_cache_bytes: mib(
                "AMAZON_LITE_STORE_CACHE_MB",
                default.store_cache_bytes,
                1..=65_536,
            )?,
            search_writer_bytes: mib(
                "AMAZON_LITE_SEARCH_WRITER_MB",
                default.search_writer_bytes,
                15..=4_095,
            )?,
        })
    }
}

/// `name` in MiB within `range`, as bytes; `default` (bytes) when unset.
fn mib(
    name: &str,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, ConfigError> {
    let value: usize = parse_or(name, default >> 20)?;
    if !range.contains(&value) {
        return Err(ConfigError {
            name: name.into(),
            message: format!(
                "{value} MiB is outside {}..={} MiB",
                range.start(),
                range.end()
            ),
        });
    }
    Ok(value << 20)
}

/// `AMAZON_LITE_HEADER_TIMEOUT_SECS`, `AMAZON_LITE_IDLE_TIMEOUT_SECS`,
/// `AMAZON_LITE_MAX_CONNECTIONS`: each at least 1, the cap at most
/// [`MAX_CONNECTIONS_LIMIT`].
fn limits() -> Result<Limits, ConfigError> {
    let defaults = Limits::default();
    Ok(Limits {
        header_timeout: Duration::from_secs(positive(
            "AMAZON_LITE_HEADER_TIMEOUT_SECS",
            defaults.header_timeout.as_secs(),
        )?),
        idle_timeout: Duration::from_secs(positive(
            "AMAZON_LITE_IDLE_TIMEOUT_SECS",
            defaults.idle_timeout.as_secs(),
        )?),
        max_connections: match positive(
            "AMAZON_LITE_MAX_CONNECTIONS",
            defaults.max_connections as u64,
        )? {
            n if n > MAX_CONNECTIONS_LIMIT as u64 => {
                return Err(ConfigError {
                    name: "AMAZON_LITE_MAX_CONNECTIONS".into(),
                    message: format!("{n} is above {MAX_CONNECTIONS_LIMIT}"),
                })
            }
            n => n as usize,
        },
    })
}

/// More open connections than this exhaust file descriptors long before.
const MAX_CONNECTIONS_LIMIT: usize = 1_000_000;

fn positive(name: &str, default: u64) -> Result<u64, ConfigError> {
    match parse_or(name, default)? {
        0 => Err(ConfigError {
            name: name.into(),
            message: "must be at least 1".into(),
        }),
        n => Ok(n),
    }
}
