//! The local API's configuration (API.md, "The local API's configuration").

use lite_core::config::{optional, parse_or, ConfigError};
use std::net::SocketAddr;
use std::path::PathBuf;

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
