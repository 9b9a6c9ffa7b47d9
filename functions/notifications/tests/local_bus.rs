//! The consumer on the in-process bus: an order event committed through
//! the outbox becomes one message and one record, even when the bus
//! delivers it again.

mod support;

use lite_core::{CursorCodec, SystemClock};
use lite_events::local::{LocalEvents, LocalEventsConfig};
use lite_events::Envelope;
use lite_ports::{Context, Cursors};
use lite_store::redb_store::RedbStore;
use lite_store::{Index, Query, Store};
use std::sync::Arc;
use std::time::Duration;
use support::{confirmed, new_id, Recording};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_events_reach_the_user_through_the_local_bus() {
    let redb = RedbStore::in_memory().unwrap();
    let changes = redb.changes();
    let store: Arc<dyn Store> = Arc::new(redb);
    let ctx = Context::new(
        Arc::clone(&store),
        Cursors::ready(CursorCodec::new(CursorCodec::random_key())),
    );
    let ada = new_id("usr");
    let ops = users::registration::profile_ops(&ada, "ada@example.com", "Ada", chrono::Utc::now());
    store.transact(ops).await.unwrap();
    let notifier = Arc::new(Recording::default());
    let bus = LocalEvents::start(
        Arc::clone(&store),
        Arc::new(SystemClock),
        vec![Arc::new(notifications::Consumer::new(
            ctx.clone(),
            notifier.clone(),
        ))],
        Some(changes),
        LocalEventsConfig::default(),
    );
    let event = Envelope::of(
        ctx.ids.as_ref(),
        chrono::Utc::now(),
        "corr",
        &confirmed(&ada, &new_id("ord")),
    );
    // The same event twice (a producer retry): delivered once per id.
    for _ in 0..2 {
        store
            .transact(vec![lite_events::outbox::put(&event)])
            .await
            .ok();
    }
    bus.drain(Duration::from_secs(20)).await.unwrap();
    assert_eq!(notifier.sent().len(), 1);
    let recs = store
        .query(&Query::new(Index::Gsi1, format!("USER#{ada}#NOTIFS")))
        .await
        .unwrap();
    assert_eq!(recs.items.len(), 1);
    assert!(lite_events::dlq::list(store.as_ref(), "notifications", 10)
        .await
        .unwrap()
        .is_empty());
    bus.shutdown().await;
}
