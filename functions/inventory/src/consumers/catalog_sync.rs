//! `inventory-catalog-sync`: a stock record for every catalog product.

use crate::stock;
use async_trait::async_trait;
use lite_core::{Clock, Sku};
use lite_events::{Envelope, Handler, HandlerError};
use lite_ports::Context;
use lite_store::{Condition, Store, StoreError, Update};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::sync::Arc;

/// Keeps a stock record for every product of the catalog.
///
/// - `product.created.v1`: makes sure `STOCK#<sku>` exists (`available` and
///   `reserved` 0 when absent; existing counts are never touched) and
///   belongs to the product (`productId`, `discontinued: false`).
/// - `product.deleted.v1`: marks it `discontinued: true` and keeps the
///   counts (checkouts in flight may still hold reservations).
///
/// Events may arrive late or out of order (retries, redrives), so each
/// write is conditional: product ids are time-ordered, and a record that
/// belongs to a newer product than the event's, or whose product was
/// already deleted, is left alone. Malformed data is `Poison`; store
/// failures are `Retry`.
pub struct CatalogSync {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl CatalogSync {
    pub const NAME: &'static str = "inventory-catalog-sync";
    pub const CREATED: &'static str = "product.created.v1";
    pub const DELETED: &'static str = "product.deleted.v1";

    pub fn new(ctx: Context) -> Self {
        Self {
            store: ctx.store,
            clock: ctx.clock,
        }
    }

    async fn created(&self, product_id: &str, sku: &Sku) -> Result<(), HandlerError> {
        let updates = [
            Update::set("entity", "stock"),
            Update::set("sku", sku.as_str()),
            Update::set_if_absent("available", 0),
            Update::set_if_absent("reserved", 0),
            Update::set(PRODUCT_ID, product_id),
            Update::set(DISCONTINUED, false),
            Update::remove(DISCONTINUED_PRODUCT_ID),
            Update::set("updatedAt", lite_core::rfc3339(self.clock.now())),
        ];
        let current = Condition::AttrNotExists(PRODUCT_ID.into())
            .or(Condition::le(PRODUCT_ID, product_id))
            .and(Condition::ne(DISCONTINUED_PRODUCT_ID, product_id));
        self.write(sku, &updates, current, product_id).await
    }

    async fn deleted(&self, product_id: &str, sku: &Sku) -> Result<(), HandlerError> {
        let updates = [
            Update::set("entity", "stock"),
            Update::set("sku", sku.as_str()),
            Update::set_if_absent("available", 0),
            Update::set_if_absent("reserved", 0),
            Update::set(PRODUCT_ID, product_id),
            Update::set(DISCONTINUED, true),
            Update::set(DISCONTINUED_PRODUCT_ID, product_id),
            Update::set("updatedAt", lite_core::rfc3339(self.clock.now())),
        ];
        let current =
            Condition::AttrNotExists(PRODUCT_ID.into()).or(Condition::le(PRODUCT_ID, product_id));
        self.write(sku, &updates, current, product_id).await
    }

    async fn write(
        &self,
        sku: &Sku,
        updates: &[Update],
        condition: Condition,
        product_id: &str,
    ) -> Result<(), HandlerError> {
        match self
            .store
            .update(&stock::key(sku), updates, Some(condition))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_condition_failure() => {
                tracing::info!(%sku, product_id, "stale catalog event: the stock record has moved on");
                Ok(())
            }
            Err(StoreError::Invalid(e)) => Err(HandlerError::Poison(format!("stock {sku}: {e}"))),
            Err(e) => Err(HandlerError::Retry(format!("stock {sku}: {e}"))),
        }
    }
}

const PRODUCT_ID: &str = "productId";
const DISCONTINUED: &str = "discontinued";
const DISCONTINUED_PRODUCT_ID: &str = "discontinuedProductId";

/// What this consumer reads of `product.created.v1` (other fields ignored).
#[derive(Deserialize)]
struct Created {
    product: ProductRef,
}

/// What this consumer reads of a product, and all of `product.deleted.v1`.
#[derive(Deserialize)]
struct ProductRef {
    id: String,
    sku: String,
}

fn data<T: DeserializeOwned>(event: &Envelope) -> Result<T, HandlerError> {
    T::deserialize(&event.data).map_err(|e| {
        HandlerError::Poison(format!("{} data is malformed: {e}", event.detail_type()))
    })
}

fn product(p: ProductRef) -> Result<(String, Sku), HandlerError> {
    if p.id.trim().is_empty() {
        return Err(HandlerError::Poison("product id is empty".into()));
    }
    let sku =
        Sku::parse(&p.sku).map_err(|e| HandlerError::Poison(format!("sku {:?}: {e}", p.sku)))?;
    Ok((p.id, sku))
}

#[async_trait]
impl Handler for CatalogSync {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn detail_types(&self) -> &'static [&'static str] {
        &[Self::CREATED, Self::DELETED]
    }

    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        match event.detail_type().as_str() {
            Self::CREATED => {
                let (id, sku) = product(data::<Created>(event)?.product)?;
                self.created(&id, &sku).await
            }
            Self::DELETED => {
                let (id, sku) = product(data::<ProductRef>(event)?)?;
                self.deleted(&id, &sku).await
            }
            other => Err(HandlerError::Poison(format!(
                "{other} is not accepted by {}",
                Self::NAME
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lite_core::{SystemClock, SystemIds};
    use lite_events::local::{LocalEvents, LocalEventsConfig};
    use lite_store::redb_store::RedbStore;
    use lite_store::Item;
    use serde_json::{json, Value};
    use std::time::Duration;

    fn sync(store: &Arc<dyn Store>) -> CatalogSync {
        let codec = lite_core::CursorCodec::new(lite_core::CursorCodec::random_key());
        CatalogSync::new(Context::new(
            Arc::clone(store),
            lite_ports::Cursors::ready(codec),
        ))
    }

    fn store() -> Arc<dyn Store> {
        Arc::new(RedbStore::in_memory().unwrap())
    }

    fn envelope(event_type: &str, data: Value) -> Envelope {
        Envelope::new(
            &SystemIds::default(),
            event_type,
            1,
            "catalog",
            lite_core::Clock::now(&SystemClock),
            "corr",
            data,
        )
    }

    fn created(id: &str, sku: &str) -> Envelope {
        envelope(
            "product.created",
            json!({"product": {"id": id, "sku": sku, "name": "Lamp", "price": {"amount": 100, "currency": "USD"}}}),
        )
    }

    fn deleted(id: &str, sku: &str) -> Envelope {
        envelope("product.deleted", json!({"id": id, "sku": sku}))
    }

    async fn record(store: &Arc<dyn Store>, sku: &str) -> Option<Item> {
        store
            .get(&stock::key(&Sku::parse(sku).unwrap()))
            .await
            .unwrap()
    }

    const P1: &str = "prd_01JAAAAAAAAAAAAAAAAAAAAAAA";
    const P2: &str = "prd_01JBBBBBBBBBBBBBBBBBBBBBBB";

    #[tokio::test]
    async fn created_makes_an_empty_stock_record() {
        let store = store();
        sync(&store).handle(&created(P1, "LAMP-1")).await.unwrap();
        let level = crate::read::levels(store.as_ref(), &[Sku::parse("LAMP-1").unwrap()])
            .await
            .unwrap()
            .remove(0)
            .expect("stock record");
        assert_eq!((level.available, level.reserved), (0, 0));
        let item = record(&store, "LAMP-1").await.unwrap();
        assert_eq!(item["productId"], P1);
        assert_eq!(item["discontinued"], false);
    }

    #[tokio::test]
    async fn created_never_overwrites_existing_stock() {
        let store = store();
        let sku = Sku::parse("LAMP-1").unwrap();
        crate::set_available(store.as_ref(), &SystemClock, &sku, 7)
            .await
            .unwrap();
        store
            .update(&stock::key(&sku), &[Update::set("reserved", 2)], None)
            .await
            .unwrap();
        sync(&store).handle(&created(P1, "LAMP-1")).await.unwrap();
        let item = record(&store, "LAMP-1").await.unwrap();
        assert_eq!(
            (item["available"].clone(), item["reserved"].clone()),
            (json!(7), json!(2))
        );
    }

    #[tokio::test]
    async fn deleted_marks_discontinued_and_keeps_the_counts() {
        let store = store();
        let consumer = sync(&store);
        consumer.handle(&created(P1, "LAMP-1")).await.unwrap();
        store
            .update(
                &stock::key(&Sku::parse("LAMP-1").unwrap()),
                &[Update::set("available", 5), Update::set("reserved", 1)],
                None,
            )
            .await
            .unwrap();
        consumer.handle(&deleted(P1, "LAMP-1")).await.unwrap();
        let item = record(&store, "LAMP-1").await.unwrap();
        assert_eq!(item["discontinued"], true);
        assert_eq!(
            (item["available"].clone(), item["reserved"].clone()),
            (json!(5), json!(1))
        );
        // A late redelivery of the creation does not bring it back.
        consumer.handle(&created(P1, "LAMP-1")).await.unwrap();
        assert_eq!(
            record(&store, "LAMP-1").await.unwrap()["discontinued"],
            true
        );
    }

    #[tokio::test]
    async fn out_of_order_events_settle_on_the_newest_product() {
        let store = store();
        let consumer = sync(&store);
        // Deleted before its creation arrives: stays discontinued.
        consumer.handle(&deleted(P1, "LAMP-1")).await.unwrap();
        consumer.handle(&created(P1, "LAMP-1")).await.unwrap();
        assert_eq!(
            record(&store, "LAMP-1").await.unwrap()["discontinued"],
            true
        );
        // The sku is reused by a newer product: active again ...
        consumer.handle(&created(P2, "LAMP-1")).await.unwrap();
        let item = record(&store, "LAMP-1").await.unwrap();
        assert_eq!(item["discontinued"], false);
        assert_eq!(item["productId"], P2);
        // ... and a late delete of the old product does not touch it.
        consumer.handle(&deleted(P1, "LAMP-1")).await.unwrap();
        assert_eq!(
            record(&store, "LAMP-1").await.unwrap()["discontinued"],
            false
        );
    }

    #[tokio::test]
    async fn malformed_data_is_poison() {
        let store = store();
        let consumer = sync(&store);
        for bad in [
            envelope("product.created", json!({"id": P1, "sku": "LAMP-1"})),
            envelope(
                "product.created",
                json!({"product": {"id": P1, "sku": "no spaces allowed"}}),
            ),
            envelope(
                "product.created",
                json!({"product": {"id": "", "sku": "LAMP-1"}}),
            ),
            envelope("product.deleted", json!({"id": P1})),
            envelope(
                "product.updated",
                json!({"product": {"id": P1, "sku": "LAMP-1"}}),
            ),
        ] {
            let r = consumer.handle(&bad).await;
            assert!(matches!(r, Err(HandlerError::Poison(_))), "{bad:?}: {r:?}");
        }
        assert_eq!(record(&store, "LAMP-1").await, None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn catalog_events_reach_inventory_through_the_local_bus() {
        let redb = RedbStore::in_memory().unwrap();
        let changes = redb.changes();
        let store: Arc<dyn Store> = Arc::new(redb);
        let bus = LocalEvents::start(
            Arc::clone(&store),
            Arc::new(SystemClock),
            vec![Arc::new(sync(&store))],
            Some(changes),
            LocalEventsConfig::default(),
        );
        for event in [
            created(P1, "LAMP-1"),
            created(P2, "DESK-2"),
            deleted(P2, "DESK-2"),
        ] {
            store
                .transact(vec![lite_events::outbox::put(&event)])
                .await
                .unwrap();
        }
        bus.drain(Duration::from_secs(20)).await.unwrap();
        assert_eq!(
            record(&store, "LAMP-1").await.unwrap()["discontinued"],
            false
        );
        assert_eq!(
            record(&store, "DESK-2").await.unwrap()["discontinued"],
            true
        );
        assert!(
            lite_events::dlq::list(store.as_ref(), CatalogSync::NAME, 10)
                .await
                .unwrap()
                .is_empty()
        );
        bus.shutdown().await;
    }
}
