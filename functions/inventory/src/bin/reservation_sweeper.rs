//! Lambda entry point of `inventory-reservation-sweeper`: an EventBridge
//! schedule invokes it every minute (the event's content is ignored); it
//! releases up to `SWEEP_LIMIT` (default 500) holds that ran out, reports
//! the oldest PENDING order's age (`orders_pending_oldest_age`, the
//! stuck-order alarm's gauge) and answers
//! `{"released": n, "oldestPendingSeconds": s}`. A failed release or read
//! fails the invocation (the errors alarm sees it); the next minute tries
//! again.

use lambda_runtime::{service_fn, LambdaEvent};
use lite_core::config::parse_or;
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lite_http::telemetry::init();
    let limit: usize = parse_or("SWEEP_LIMIT", 500)?;
    lite_lambda::install_metrics("inventory");
    let ctx = lite_lambda::context().await?;
    let ctx = &ctx;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let released = inventory::reservations::release_expired(ctx, limit).await;
        // Reported even when a release failed: a stuck checkout is what
        // ops most need to see then.
        let pending = inventory::reservations::report_pending_age(ctx).await;
        lite_lambda::flush_metrics();
        let released = released.map_err(lambda_runtime::Error::from)?;
        let pending = pending.map_err(lambda_runtime::Error::from)?;
        Ok::<_, lambda_runtime::Error>(json!({
            "released": released,
            "oldestPendingSeconds": pending.as_secs(),
        }))
    }))
    .await
}
