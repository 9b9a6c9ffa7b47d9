//! The sweeper: holds whose time ran out go back to `available`.
//!
//! Held reservations sit in GSI2 partition `RESV#HELD`, sorted by the end
//! of their hold, so "every hold that ended" is one query, never a Scan.
//! On AWS an EventBridge schedule invokes `inventory-reservation-sweeper`
//! every minute; locally [`run_sweeper`] runs beside the API.

use super::model;
use super::release::{release_scoped, ReleaseOutcome, Scope};
use crate::InventoryError;
use lite_core::OrderId;
use lite_events::contracts::ReleaseReason;
use lite_ports::Context;
use lite_store::{Index, Query, SkCondition};
use std::future::Future;
use std::time::Duration;

/// Why the sweeper releases a hold.
pub const SWEEP_REASON: ReleaseReason = ReleaseReason::Expired;

/// Releases up to `limit` reservations still held whose hold ended at or
/// before now; returns how many it released. Each release is conditioned
/// on the status it read, so a commit racing the sweeper either lands
/// first (the order stays sold, the sweeper skips it) or finds the
/// reservation released (the commit answers `NotHeld`).
///
/// A failing release does not stop the others; the first error is
/// returned after every candidate was tried.
pub async fn release_expired(ctx: &Context, limit: usize) -> Result<usize, InventoryError> {
    if limit == 0 {
        return Ok(0);
    }
    let now = ctx.clock.now();
    // `<now>$` sorts after every `<now>#<orderId>` ('$' follows '#'), so
    // this is "hold ended at or before now".
    let before = format!("{}$", lite_core::rfc3339(now));
    let mut after = None;
    let (mut released, mut first_error) = (0, None);
    let mut seen = 0;
    while seen < limit {
        let query = Query::new(Index::Gsi2, model::HELD_PARTITION)
            .sk(SkCondition::Lt(before.clone()))
            .limit((limit - seen).min(1000))
            .after(after.take());
        let page = ctx.store.query(&query).await?;
        for item in &page.items {
            seen += 1;
            let Some(order_id) = item
                .get("orderId")
                .and_then(|v| v.as_str())
                .and_then(|raw| model::parse_order_id(raw).ok())
            else {
                tracing::error!(?item, "held reservation without a valid order id");
                continue;
            };
            match release_one(ctx, &order_id, now).await {
                Ok(ReleaseOutcome::Released) => released += 1,
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(%order_id, error = %e, "cannot release an expired hold");
                    first_error.get_or_insert(e);
                }
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    if released > 0 {
        tracing::info!(released, "expired holds released");
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(released),
    }
}

async fn release_one(
    ctx: &Context,
    order_id: &OrderId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ReleaseOutcome, InventoryError> {
    // The sweeper's own correlation id ties its release to the order.
    let correlation_id = format!("sweeper-{order_id}");
    release_scoped(
        ctx,
        order_id,
        SWEEP_REASON,
        &correlation_id,
        Scope::ExpiredHoldAt(now),
    )
    .await
}

/// Sets the `orders_pending_oldest_age` gauge from the oldest order still
/// PENDING (zero when none) and returns that age: the stuck-order alarm's
/// metric. The sweeper reports it because it already runs every minute
/// beside checkout and may query GSI2; the index belongs to orders, read
/// through `orders-read` (no write side linked).
pub async fn report_pending_age(ctx: &Context) -> Result<Duration, InventoryError> {
    let age = match orders_read::oldest_pending(ctx.store.as_ref()).await? {
        Some(placed) => (ctx.clock.now() - placed).to_std().unwrap_or_default(),
        None => Duration::ZERO,
    };
    lite_metrics::orders_pending_oldest_age(age);
    Ok(age)
}

/// How many holds one sweep releases at most before it yields.
const SWEEP_BATCH: usize = 100;

/// Sweeps every `every` until `shutdown` completes (the local API's
/// background task), then reports the oldest PENDING order's age. A full
/// batch sweeps again at once; errors are logged and the next tick tries
/// again.
pub async fn run_sweeper(ctx: Context, every: Duration, shutdown: impl Future<Output = ()> + Send) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            _ = tick.tick() => {}
        }
        loop {
            match release_expired(&ctx, SWEEP_BATCH).await {
                Ok(n) if n == SWEEP_BATCH => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "reservation sweep failed; retrying next tick");
                    break;
                }
            }
        }
        if let Err(e) = report_pending_age(&ctx).await {
            tracing::warn!(error = %e, "cannot read the oldest PENDING order; retrying next tick");
        }
    }
    tracing::info!("reservation sweeper stopped");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reservations::{find, reserve, ReservationStatus, ReserveOutcome};
    use lite_core::{ManualClock, Sku};
    use lite_events::contracts::StockLine;
    use lite_store::redb_store::RedbStore;
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_background_sweeper_releases_expired_holds_until_shutdown() {
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let ctx = Context {
            store: Arc::new(RedbStore::in_memory().unwrap()),
            clock: clock.clone(),
            ids: Arc::new(lite_core::SystemIds::default()),
            cursors: lite_ports::Cursors::ready(lite_core::CursorCodec::new(
                lite_core::CursorCodec::random_key(),
            )),
        };
        let sku = Sku::parse("LAMP-1").unwrap();
        crate::set_available(ctx.store.as_ref(), ctx.clock.as_ref(), &sku, 5)
            .await
            .unwrap();
        let order = &model::parse_order_id("ord_01JAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
        let lines = [StockLine { sku, quantity: 2 }];
        let r = reserve(&ctx, order, &lines, Duration::from_secs(60), "c")
            .await
            .unwrap();
        assert_eq!(r, ReserveOutcome::Reserved);

        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let sweeper = tokio::spawn(run_sweeper(
            ctx.clone(),
            Duration::from_millis(10),
            async move {
                let _ = stopped.await;
            },
        ));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let status = |ctx: Context| async move { find(&ctx, order).await.unwrap().unwrap().status };
        assert_eq!(status(ctx.clone()).await, ReservationStatus::Held);
        clock.advance(chrono::Duration::seconds(61));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while status(ctx.clone()).await != ReservationStatus::Released {
            assert!(tokio::time::Instant::now() < deadline, "never swept");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), sweeper)
            .await
            .expect("the sweeper stops on shutdown")
            .unwrap();
    }

    #[tokio::test]
    async fn the_pending_age_is_the_oldest_pending_orders_and_zero_without_one() {
        let now = chrono::Utc::now();
        let ctx = Context {
            store: Arc::new(RedbStore::in_memory().unwrap()),
            clock: Arc::new(ManualClock::new(now)),
            ids: Arc::new(lite_core::SystemIds::default()),
            cursors: lite_ports::Cursors::ready(lite_core::CursorCodec::new(
                lite_core::CursorCodec::random_key(),
            )),
        };
        assert_eq!(report_pending_age(&ctx).await.unwrap(), Duration::ZERO);
        for (id, ago) in [("ord_new", 30), ("ord_old", 600)] {
            let mut item = lite_store::Item::new();
            item.insert(lite_store::attr::PK.into(), format!("ORDER#{id}").into());
            item.insert(lite_store::attr::SK.into(), "ORDER".into());
            let placed = lite_core::rfc3339(now - chrono::Duration::seconds(ago));
            orders_read::index_pending(&mut item, &placed, id);
            ctx.store.put(item, None).await.unwrap();
        }
        assert_eq!(
            report_pending_age(&ctx).await.unwrap().as_secs(),
            600,
            "the oldest order, not the newest"
        );
    }
}
