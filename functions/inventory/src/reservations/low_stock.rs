//! Low-stock alerts after a reserve.
//!
//! Advisory: the `inventory.low.v1` items are written after the reserve
//! transaction, as a separate write, so a crash (or a store failure, which
//! is only logged) between the two skips the alert. Each reserve that
//! leaves a sku at or below the threshold emits one, so concurrent
//! reserves may emit several for one sku; consumers treat them as "look at
//! this sku", not as a count.

use lite_core::config::{parse_or, ConfigError};
use lite_core::Sku;
use lite_events::contracts::InventoryLowV1;
use lite_events::Envelope;
use lite_ports::Context;
use lite_store::Condition;
use std::sync::OnceLock;

/// When a sku counts as low.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// `available` at or below this after a reserve emits `inventory.low.v1`.
    pub low_stock: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self { low_stock: 5 }
    }
}

impl Thresholds {
    /// The environment variable of [`Thresholds::low_stock`].
    pub const LOW_STOCK_ENV: &'static str = "LOW_STOCK_THRESHOLD";

    /// From `LOW_STOCK_THRESHOLD` (default 5; must be 0 or more).
    pub fn from_env() -> Result<Self, ConfigError> {
        let low_stock = parse_or(Self::LOW_STOCK_ENV, Self::default().low_stock)?;
        if low_stock < 0 {
            return Err(ConfigError {
                name: Self::LOW_STOCK_ENV.into(),
                message: "must be 0 or more".into(),
            });
        }
        Ok(Self { low_stock })
    }

    /// [`Thresholds::from_env`], read once per process. A bad value is
    /// logged and the default used: an alert threshold must not stop
    /// checkouts.
    pub fn global() -> Thresholds {
        static GLOBAL: OnceLock<Thresholds> = OnceLock::new();
        *GLOBAL.get_or_init(|| {
            Self::from_env().unwrap_or_else(|e| {
                tracing::error!(error = %e, "bad low-stock threshold; using the default");
                Self::default()
            })
        })
    }
}

/// Reads the levels of `skus` and writes an `inventory.low.v1` outbox item
/// for each at or below the threshold. Failures are logged, never returned:
/// the reservation they follow has already happened.
pub(crate) async fn report(
    ctx: &Context,
    skus: &[Sku],
    thresholds: Thresholds,
    correlation_id: &str,
) {
    let levels = match crate::read::levels(ctx.store.as_ref(), skus).await {
        Ok(levels) => levels,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read stock levels for low-stock alerts");
            return;
        }
    };
    for level in levels.into_iter().flatten() {
        if level.available > thresholds.low_stock {
            continue;
        }
        let event = Envelope::of(
            ctx.ids.as_ref(),
            ctx.clock.now(),
            correlation_id,
            &InventoryLowV1 {
                sku: level.sku.clone(),
                available: level.available,
                threshold: thresholds.low_stock,
            },
        );
        let item = lite_events::outbox::item(&event);
        if let Err(e) = ctx.store.put(item, Some(Condition::NotExists)).await {
            tracing::warn!(error = %e, sku = %level.sku, "cannot record a low-stock alert");
        }
    }
}
