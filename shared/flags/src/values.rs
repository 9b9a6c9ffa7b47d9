//! The flag values: one typed struct, parsed from the JSON document both
//! adapters read (`<data dir>/flags.json` locally, the AppConfig hosted
//! configuration on AWS; `infra/flags.json` is the default document and
//! `infra/flags.schema.json` its schema, which AppConfig validates a
//! deployment against).
//!
//! Every key is optional (absent is the default) and unknown keys are
//! refused: a misspelt flag (`checkoutPause`) would otherwise be a flip
//! that silently does nothing. A refused document changes nothing: the
//! adapters keep the last good flags and log why.

use serde::Deserialize;
use std::time::Duration;

/// The longest wait a flag may set (payment timeout, `Retry-After`): a day.
pub const MAX_SECONDS: u64 = 86_400;

/// What `Retry-After` says while checkout is paused, unless the document
/// says otherwise.
pub const DEFAULT_CHECKOUT_RETRY_AFTER_SECS: u64 = 300;

/// The flags in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    /// `GET /v1/search` answers from the catalog listing without calling
    /// the search engine (what it does anyway while the engine is down).
    pub search_catalog_fallback: bool,
    /// Whether `POST /v1/orders` takes orders.
    pub checkout: Checkout,
    /// How long a new checkout waits for the payment outcome; `None`: the
    /// deployment's configured value (`CHECKOUT_PAYMENT_TIMEOUT_SECS`).
    pub payment_timeout: Option<Duration>,
}

/// Order placement: open, or paused for maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkout {
    Open,
    /// `POST /v1/orders` answers 503 `checkout_paused` with this
    /// `Retry-After` (seconds) and writes nothing.
    Paused {
        retry_after_secs: u64,
    },
}

impl Default for Flags {
    fn default() -> Self {
        Flags {
            search_catalog_fallback: false,
            checkout: Checkout::Open,
            payment_timeout: None,
        }
    }
}

/// A flags document that cannot be used, with every reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid flags: {}", .0.join("; "))]
pub struct FlagsError(pub Vec<String>);

/// The document as written; [`Flags::parse`] checks the values.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Document {
    #[serde(default)]
    search_catalog_fallback: bool,
    #[serde(default)]
    checkout_paused: bool,
    checkout_retry_after_seconds: Option<u64>,
    payment_timeout_seconds: Option<u64>,
}

impl Flags {
    /// Parses a flags document (JSON). An empty object is the defaults.
    pub fn parse(bytes: &[u8]) -> Result<Flags, FlagsError> {
        let doc: Document =
            serde_json::from_slice(bytes).map_err(|e| FlagsError(vec![e.to_string()]))?;
        let mut errors = Vec::new();
        let mut seconds = |name: &str, value: Option<u64>| match value {
            Some(v) if !(1..=MAX_SECONDS).contains(&v) => {
                errors.push(format!("{name} must be 1 to {MAX_SECONDS}, not {v}"));
                None
            }
            v => v,
        };
        let retry_after = seconds(
            "checkoutRetryAfterSeconds",
            doc.checkout_retry_after_seconds,
        );
        let payment_timeout = seconds("paymentTimeoutSeconds", doc.payment_timeout_seconds);
        if !errors.is_empty() {
            return Err(FlagsError(errors));
        }
        Ok(Flags {
            search_catalog_fallback: doc.search_catalog_fallback,
            checkout: if doc.checkout_paused {
                Checkout::Paused {
                    retry_after_secs: retry_after.unwrap_or(DEFAULT_CHECKOUT_RETRY_AFTER_SECS),
                }
            } else {
                Checkout::Open
            },
            payment_timeout: payment_timeout.map(Duration::from_secs),
        })
    }

    /// The document these flags parse from (what the local API writes as
    /// `flags.json` when there is none).
    pub fn to_document(&self) -> serde_json::Value {
        let (paused, retry_after) = match self.checkout {
            Checkout::Open => (false, DEFAULT_CHECKOUT_RETRY_AFTER_SECS),
            Checkout::Paused { retry_after_secs } => (true, retry_after_secs),
        };
        serde_json::json!({
            "searchCatalogFallback": self.search_catalog_fallback,
            "checkoutPaused": paused,
            "checkoutRetryAfterSeconds": retry_after,
            "paymentTimeoutSeconds": self.payment_timeout.map(|d| d.as_secs()),
        })
    }

    /// The payment timeout of a new checkout: the flag's, else `configured`.
    pub fn payment_timeout_secs(&self, configured: u64) -> u64 {
        self.payment_timeout.map_or(configured, |d| d.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_document_is_the_defaults_and_every_key_parses() {
        assert_eq!(Flags::parse(b"{}").unwrap(), Flags::default());
        let all = Flags::parse(
            br#"{"searchCatalogFallback": true, "checkoutPaused": true,
                 "checkoutRetryAfterSeconds": 60, "paymentTimeoutSeconds": 120}"#,
        )
        .unwrap();
        assert_eq!(
            all,
            Flags {
                search_catalog_fallback: true,
                checkout: Checkout::Paused {
                    retry_after_secs: 60
                },
                payment_timeout: Some(Duration::from_secs(120)),
            }
        );
        assert_eq!(all.payment_timeout_secs(900), 120);
        assert_eq!(Flags::default().payment_timeout_secs(900), 900);
    }

    #[test]
    fn a_pause_without_retry_after_uses_the_default_and_null_timeout_is_unset() {
        let f =
            Flags::parse(br#"{"checkoutPaused": true, "paymentTimeoutSeconds": null}"#).unwrap();
        assert_eq!(
            f.checkout,
            Checkout::Paused {
                retry_after_secs: DEFAULT_CHECKOUT_RETRY_AFTER_SECS
            }
        );
        assert_eq!(f.payment_timeout, None);
    }

    #[test]
    fn the_document_round_trips() {
        for flags in [
            Flags::default(),
            Flags {
                search_catalog_fallback: true,
                checkout: Checkout::Paused {
                    retry_after_secs: 42,
                },
                payment_timeout: Some(Duration::from_secs(30)),
            },
        ] {
            let doc = serde_json::to_vec(&flags.to_document()).unwrap();
            assert_eq!(Flags::parse(&doc).unwrap(), flags);
        }
    }

    #[test]
    fn unknown_keys_wrong_types_and_out_of_range_values_are_refused_by_name() {
        let typo = Flags::parse(br#"{"checkoutPause": true}"#).unwrap_err();
        assert!(typo.to_string().contains("checkoutPause"), "{typo}");
        let kind = Flags::parse(br#"{"checkoutPaused": "yes"}"#).unwrap_err();
        assert!(kind.to_string().contains("invalid type"), "{kind}");
        let range =
            Flags::parse(br#"{"paymentTimeoutSeconds": 0, "checkoutRetryAfterSeconds": 86401}"#)
                .unwrap_err();
        assert_eq!(range.0.len(), 2, "{range}");
        assert!(range.0[0].contains("checkoutRetryAfterSeconds"));
        assert!(range.0[1].contains("paymentTimeoutSeconds"));
        for garbage in [&b"not json"[..], b"", b"[]", b"null", b"{\"a\":"] {
            assert!(Flags::parse(garbage).is_err());
        }
    }
}
