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
            "configuration"
        );
    }
}
