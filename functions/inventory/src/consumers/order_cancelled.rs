//! `inventory-order-cancelled`: a cancelled order's units go back on sale.

use crate::reservations::{self, ReleaseOutcome};
use crate::InventoryError;
use async_trait::async_trait;
use lite_events::contracts::{OrderCancelledV1, ReleaseReason};
use lite_events::{Envelope, Handler, HandlerError};
use lite_ports::Context;
use lite_store::StoreError;

lite_events::accepts! {
    /// What this consumer reads.
    enum Accepted {
        V1(OrderCancelledV1),
    }
}

/// On `order.cancelled.v1`, releases the order's reservation with reason
/// `cancelled`: held units leave `reserved`, committed (sold) units come
/// back, and `inventory.released.v1` says so. Releasing is idempotent, so
/// a redelivered event changes nothing; an order that never reserved
/// leaves a tombstone (see `reservations::release`).
///
/// Malformed events are `Poison`; store failures are `Retry`.
pub struct OrderCancelled {
    ctx: Context,
}

impl OrderCancelled {
    pub const NAME: &'static str = "inventory-order-cancelled";

    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }
}

#[async_trait]
impl Handler for OrderCancelled {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn detail_types(&self) -> &'static [&'static str] {
        Accepted::DETAIL_TYPES
    }

    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let Accepted::V1(cancelled) = Accepted::decode(event)?;
        let order_id = reservations::parse_order_id(&cancelled.order_id)
            .map_err(|e| handler_error(&cancelled.order_id, e))?;
        let outcome = reservations::release(
            &self.ctx,
            &order_id,
            ReleaseReason::Cancelled,
            &event.correlation_id,
        )
        .await
        .map_err(|e| handler_error(&cancelled.order_id, e))?;
        if outcome == ReleaseOutcome::NothingHeld {
            tracing::info!(order_id = %cancelled.order_id, "cancelled order held no stock");
        }
        Ok(())
    }
}

fn handler_error(order_id: &str, e: InventoryError) -> HandlerError {
    let message = format!("releasing {order_id}: {e:?}");
    match e {
        InventoryError::Invalid(_) | InventoryError::Store(StoreError::Invalid(_)) => {
            HandlerError::Poison(message)
        }
        InventoryError::NotFound | InventoryError::Store(_) => HandlerError::Retry(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reservations::{commit, reserve, ReservationStatus, ReserveOutcome};
    use lite_core::{Currency, Money, OrderId, Sku, SystemClock};
    use lite_events::contracts::{CancelledBy, LineItem, StockLine};
    use lite_events::local::{LocalEvents, LocalEventsConfig};
    use lite_store::redb_store::RedbStore;
    use lite_store::Store;
    use std::sync::Arc;
    use std::time::Duration;

    fn context(store: Arc<dyn Store>) -> Context {
        let codec = lite_core::CursorCodec::new(lite_core::CursorCodec::random_key());
        Context::new(store, lite_ports::Cursors::ready(codec))
    }

    fn order_id() -> OrderId {
        OrderId::parse(&format!("ord_{}", ulid::Ulid::new())).unwrap()
    }

    fn cancelled(ctx: &Context, order_id: &OrderId, sku: &Sku, quantity: u32) -> Envelope {
        let usd = Currency::parse("USD").unwrap();
        Envelope::of(
            ctx.ids.as_ref(),
            ctx.clock.now(),
            "corr-cancel",
            &OrderCancelledV1 {
                order_id: order_id.to_string(),
                user_id: format!("usr_{}", ulid::Ulid::new()),
                items: vec![LineItem {
                    product_id: format!("prd_{}", ulid::Ulid::new()),
                    sku: sku.clone(),
                    name: "Lamp".into(),
                    quantity,
                    unit_price: Money::new(1000, usd),
                }],
                total: Money::new(1000 * i64::from(quantity), usd),
                payment_id: None,
                cancelled_by: CancelledBy::Customer,
            },
        )
    }

    /// A stocked sku and an order holding `quantity` of it.
    async fn held(ctx: &Context, available: i64, quantity: u32) -> (Sku, OrderId) {
        let sku = Sku::parse("LAMP-1").unwrap();
        crate::set_available(ctx.store.as_ref(), &SystemClock, &sku, available)
            .await
            .unwrap();
        let order = order_id();
        let lines = [StockLine {
            sku: sku.clone(),
            quantity,
        }];
        let r = reserve(ctx, &order, &lines, Duration::from_secs(600), "corr")
            .await
            .unwrap();
        assert_eq!(r, ReserveOutcome::Reserved);
        (sku, order)
    }

    async fn level(ctx: &Context, sku: &Sku) -> (i64, i64) {
        let l = crate::read::levels(ctx.store.as_ref(), std::slice::from_ref(sku))
            .await
            .unwrap()
            .remove(0)
            .unwrap();
        (l.available, l.reserved)
    }

    async fn status(ctx: &Context, order: &OrderId) -> Option<ReservationStatus> {
        crate::reservations::find(ctx, order)
            .await
            .unwrap()
            .map(|r| r.status)
    }

    #[tokio::test]
    async fn a_cancelled_confirmed_order_returns_its_sold_units_once() {
        let ctx = context(Arc::new(RedbStore::in_memory().unwrap()));
        let (sku, order) = held(&ctx, 10, 3).await;
        commit(&ctx, &order, "corr").await.unwrap();
        assert_eq!(level(&ctx, &sku).await, (7, 0));
        let consumer = OrderCancelled::new(ctx.clone());
        let event = cancelled(&ctx, &order, &sku, 3);
        consumer.handle(&event).await.unwrap();
        assert_eq!(level(&ctx, &sku).await, (10, 0));
        let found = crate::reservations::find(&ctx, &order)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.status, ReservationStatus::Released);
        assert_eq!(found.reason, Some(ReleaseReason::Cancelled));
        // Redelivered: nothing more comes back.
        consumer.handle(&event).await.unwrap();
        assert_eq!(level(&ctx, &sku).await, (10, 0));
    }

    #[tokio::test]
    async fn a_cancelled_pending_order_releases_its_hold() {
        let ctx = context(Arc::new(RedbStore::in_memory().unwrap()));
        let (sku, order) = held(&ctx, 10, 2).await;
        let consumer = OrderCancelled::new(ctx.clone());
        consumer
            .handle(&cancelled(&ctx, &order, &sku, 2))
            .await
            .unwrap();
        assert_eq!(level(&ctx, &sku).await, (10, 0));
        // An order that never reserved: handled, nothing to give back.
        let other = order_id();
        consumer
            .handle(&cancelled(&ctx, &other, &sku, 2))
            .await
            .unwrap();
        assert_eq!(
            status(&ctx, &other).await,
            Some(ReservationStatus::Released)
        );
        assert_eq!(level(&ctx, &sku).await, (10, 0));
    }

    #[tokio::test]
    async fn malformed_or_foreign_events_are_poison() {
        let ctx = context(Arc::new(RedbStore::in_memory().unwrap()));
        let (sku, order) = held(&ctx, 10, 2).await;
        let consumer = OrderCancelled::new(ctx.clone());
        let mut bad_id = cancelled(&ctx, &order, &sku, 1);
        bad_id.data["orderId"] = "ord_nope".into();
        let mut no_items = cancelled(&ctx, &order, &sku, 1);
        no_items.data.as_object_mut().unwrap().remove("items");
        let mut shipped = cancelled(&ctx, &order, &sku, 1);
        shipped.event_type = "order.shipped".into();
        for event in [bad_id, no_items, shipped] {
            let r = consumer.handle(&event).await;
            assert!(
                matches!(r, Err(HandlerError::Poison(_))),
                "{event:?}: {r:?}"
            );
        }
        assert_eq!(level(&ctx, &sku).await, (8, 2));
        assert_eq!(status(&ctx, &order).await, Some(ReservationStatus::Held));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancellations_reach_inventory_through_the_local_bus() {
        let redb = RedbStore::in_memory().unwrap();
        let changes = redb.changes();
        let ctx = context(Arc::new(redb));
        let (sku, order) = held(&ctx, 10, 4).await;
        commit(&ctx, &order, "corr").await.unwrap();
        let bus = LocalEvents::start(
            Arc::clone(&ctx.store),
            Arc::new(SystemClock),
            vec![Arc::new(OrderCancelled::new(ctx.clone()))],
            Some(changes),
            LocalEventsConfig::default(),
        );
        let event = cancelled(&ctx, &order, &sku, 4);
        ctx.store
            .transact(vec![lite_events::outbox::put(&event)])
            .await
            .unwrap();
        bus.drain(Duration::from_secs(20)).await.unwrap();
        assert_eq!(level(&ctx, &sku).await, (10, 0));
        assert!(
            lite_events::dlq::list(ctx.store.as_ref(), OrderCancelled::NAME, 10)
                .await
                .unwrap()
                .is_empty()
        );
        bus.shutdown().await;
    }
}
