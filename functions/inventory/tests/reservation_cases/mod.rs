//! Reservation cases over the `Store` port, run on every adapter (redb in
//! memory, a redb file, DynamoDB in moto) by `tests/reservations_*.rs`.
//!
//! The moto table is shared by every case of a test process, so each case
//! uses its own skus and order ids. The sweeper's partition is shared too:
//! only [`sweeper`] sweeps, and its clock runs in 2001, so it only ever
//! sees its own holds (the other cases hold until now + 15 minutes).

#![allow(dead_code)] // each test binary uses the cases it runs

use chrono::{DateTime, TimeZone, Utc};
use inventory::reservations::{
    self, CommitOutcome, ReleaseOutcome, ReservationStatus, ReserveOutcome,
};
use inventory::InventoryError;
use lite_core::{CursorCodec, ManualClock, OrderId, Sku};
use lite_events::contracts::{ReleaseReason, StockLine};
use lite_events::Envelope;
use lite_ports::{Context, Cursors};
use lite_store::{Store, Update};
use std::sync::Arc;
use std::time::Duration;

pub const HOLD: Duration = Duration::from_secs(15 * 60);

/// A context on `store` with a clock that moves only when told.
pub fn context(store: Arc<dyn Store>, start: DateTime<Utc>) -> (Context, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(start));
    let ctx = Context {
        store,
        clock: clock.clone(),
        ids: Arc::new(lite_core::SystemIds::default()),
        cursors: Cursors::ready(CursorCodec::new(CursorCodec::random_key())),
    };
    (ctx, clock)
}

fn now_context(store: Arc<dyn Store>) -> Context {
    context(store, Utc::now()).0
}

pub fn order_id() -> OrderId {
    OrderId::parse(&format!("ord_{}", ulid::Ulid::new())).unwrap()
}

/// A sku no other case uses.
pub fn sku(tag: &str) -> Sku {
    Sku::parse(&format!("{tag}-{}", ulid::Ulid::new())).unwrap()
}

pub fn line(sku: &Sku, quantity: u32) -> StockLine {
    StockLine {
        sku: sku.clone(),
        quantity,
    }
}

pub async fn stock(ctx: &Context, sku: &Sku, available: i64) {
    inventory::set_available(ctx.store.as_ref(), ctx.clock.as_ref(), sku, available)
        .await
        .unwrap();
}

/// `(available, reserved)` of `sku`.
pub async fn level(ctx: &Context, sku: &Sku) -> (i64, i64) {
    let level = inventory::read::levels(ctx.store.as_ref(), std::slice::from_ref(sku))
        .await
        .unwrap()
        .remove(0)
        .expect("a stock record");
    (level.available, level.reserved)
}

async fn reserve(ctx: &Context, order: &OrderId, lines: &[StockLine]) -> ReserveOutcome {
    reservations::reserve(ctx, order, lines, HOLD, "corr-test")
        .await
        .unwrap()
}

async fn commit(ctx: &Context, order: &OrderId) -> CommitOutcome {
    reservations::commit(ctx, order, "corr-test").await.unwrap()
}

async fn release(ctx: &Context, order: &OrderId, reason: ReleaseReason) -> ReleaseOutcome {
    reservations::release(ctx, order, reason, "corr-test")
        .await
        .unwrap()
}

async fn status(ctx: &Context, order: &OrderId) -> Option<ReservationStatus> {
    reservations::find(ctx, order)
        .await
        .unwrap()
        .map(|r| r.status)
}

/// The unpublished events (nothing publishes in these tests) of `order`.
pub async fn events_of(store: &dyn Store, detail_type: &str, order: &OrderId) -> Vec<Envelope> {
    let pending = lite_events::outbox::pending(store).await.unwrap();
    pending
        .into_iter()
        .map(|(_, e)| serde_json::from_value::<Envelope>(e).unwrap())
        .filter(|e| {
            e.detail_type() == detail_type
                && e.data.get("orderId").and_then(|v| v.as_str()) == Some(order.as_str())
        })
        .collect()
}

/// One line short: nothing changes anywhere, and the short sku is named.
pub async fn reserve_is_all_or_none(store: Arc<dyn Store>) {
    let ctx = now_context(store);
    let (a, b, c, never, gone) = (sku("A"), sku("B"), sku("C"), sku("NEVER"), sku("GONE"));
    stock(&ctx, &a, 10).await;
    stock(&ctx, &b, 1).await;
    stock(&ctx, &c, 5).await;
    stock(&ctx, &gone, 5).await;
    ctx.store
        .update(
            &lite_store::Key::new(format!("STOCK#{gone}"), "STOCK"),
            &[Update::set("discontinued", true)],
            None,
        )
        .await
        .unwrap();

    let order = order_id();
    let outcome = reserve(&ctx, &order, &[line(&a, 2), line(&b, 2), line(&c, 1)]).await;
    assert_eq!(
        outcome,
        ReserveOutcome::OutOfStock {
            skus: vec![b.clone()]
        }
    );
    assert_eq!(level(&ctx, &a).await, (10, 0));
    assert_eq!(level(&ctx, &b).await, (1, 0));
    assert_eq!(level(&ctx, &c).await, (5, 0));
    assert_eq!(status(&ctx, &order).await, None);
    assert!(
        events_of(ctx.store.as_ref(), "inventory.reserved.v1", &order)
            .await
            .is_empty()
    );

    // A sku never stocked and a discontinued one fail the same way; every
    // failing sku is named.
    let order = order_id();
    let outcome = reserve(
        &ctx,
        &order,
        &[line(&never, 1), line(&a, 1), line(&gone, 1), line(&b, 5)],
    )
    .await;
    assert_eq!(
        outcome,
        ReserveOutcome::OutOfStock {
            skus: vec![never.clone(), gone.clone(), b.clone()]
        }
    );
    assert_eq!(level(&ctx, &a).await, (10, 0));
    assert_eq!(level(&ctx, &gone).await, (5, 0));

    // Enough of everything: all lines held (duplicates merged), one event.
    let order = order_id();
    let outcome = reserve(
        &ctx,
        &order,
        &[line(&a, 1), line(&b, 1), line(&c, 5), line(&a, 1)],
    )
    .await;
    assert_eq!(outcome, ReserveOutcome::Reserved);
    assert_eq!(level(&ctx, &a).await, (8, 2));
    assert_eq!(level(&ctx, &b).await, (0, 1));
    assert_eq!(level(&ctx, &c).await, (0, 5));
    let found = reservations::find(&ctx, &order).await.unwrap().unwrap();
    assert_eq!(found.status, ReservationStatus::Held);
    assert_eq!(found.lines, [line(&a, 2), line(&b, 1), line(&c, 5)]);
    let events = events_of(ctx.store.as_ref(), "inventory.reserved.v1", &order).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].correlation_id, "corr-test");
    assert_eq!(events[0].data["items"].as_array().unwrap().len(), 3);
}

/// Bad input is refused and writes nothing.
pub async fn bad_input_changes_nothing(store: Arc<dyn Store>) {
    let ctx = now_context(store);
    let a = sku("BAD");
    stock(&ctx, &a, 10).await;
    let order = order_id();
    let invalid = |r: Result<ReserveOutcome, InventoryError>| {
        assert!(matches!(r, Err(InventoryError::Invalid(_))), "{r:?}");
    };
    invalid(reservations::reserve(&ctx, &order, &[line(&a, 0)], HOLD, "c").await);
    invalid(reservations::reserve(&ctx, &order, &[line(&a, 100)], HOLD, "c").await);
    invalid(reservations::reserve(&ctx, &order, &[], HOLD, "c").await);
    invalid(reservations::reserve(&ctx, &order, &[line(&a, 1)], Duration::ZERO, "c").await);
    invalid(reservations::reserve(&ctx, &order, &[line(&a, 1)], HOLD, "").await);
    let many: Vec<_> = (0..99).map(|_| line(&sku("MANY"), 1)).collect();
    invalid(reservations::reserve(&ctx, &order, &many, HOLD, "c").await);
    assert_eq!(level(&ctx, &a).await, (10, 0));
    assert_eq!(status(&ctx, &order).await, None);

    // The largest reservation fits one transaction.
    let big: Vec<StockLine> = (0..reservations::MAX_LINES)
        .map(|_| line(&sku("BIG"), 1))
        .collect();
    for l in &big {
        stock(&ctx, &l.sku, 1).await;
    }
    assert_eq!(reserve(&ctx, &order, &big).await, ReserveOutcome::Reserved);
    assert_eq!(
        release(&ctx, &order, ReleaseReason::CheckoutError).await,
        ReleaseOutcome::Released
    );
    assert_eq!(level(&ctx, &big[0].sku).await, (1, 0));
}

/// Every step repeated changes nothing the second time.
pub async fn steps_are_idempotent(store: Arc<dyn Store>) {
    let ctx = now_context(store);
    let a = sku("IDEM");
    stock(&ctx, &a, 10).await;
    let order = order_id();
    assert_eq!(
        reserve(&ctx, &order, &[line(&a, 2)]).await,
        ReserveOutcome::Reserved
    );
    assert_eq!(
        reserve(&ctx, &order, &[line(&a, 2)]).await,
        ReserveOutcome::Reserved
    );
    assert_eq!(level(&ctx, &a).await, (8, 2));
    assert_eq!(
        events_of(ctx.store.as_ref(), "inventory.reserved.v1", &order)
            .await
            .len(),
        1
    );

    assert_eq!(commit(&ctx, &order).await, CommitOutcome::Committed);
    assert_eq!(commit(&ctx, &order).await, CommitOutcome::AlreadyCommitted);
    assert_eq!(level(&ctx, &a).await, (8, 0));
    // A reserve replayed after the commit still answers reserved.
    assert_eq!(
        reserve(&ctx, &order, &[line(&a, 2)]).await,
        ReserveOutcome::Reserved
    );
    assert_eq!(level(&ctx, &a).await, (8, 0));

    let reason = ReleaseReason::CheckoutError;
    assert_eq!(
        release(&ctx, &order, reason).await,
        ReleaseOutcome::Released
    );
    assert_eq!(
        release(&ctx, &order, reason).await,
        ReleaseOutcome::AlreadyReleased
    );
    assert_eq!(level(&ctx, &a).await, (10, 0));
    assert_eq!(
        events_of(ctx.store.as_ref(), "inventory.released.v1", &order)
            .await
            .len(),
        1
    );
    // Released is final.
    assert_eq!(
        reserve(&ctx, &order, &[line(&a, 2)]).await,
        ReserveOutcome::OutOfStock { skus: vec![] }
    );
    assert_eq!(commit(&ctx, &order).await, CommitOutcome::NotHeld);
    assert_eq!(level(&ctx, &a).await, (10, 0));
}

/// Release gives back held units and sold ones; a commit after a release
/// finds nothing to sell.
pub async fn release_returns_held_and_committed_units(store: Arc<dyn Store>) {
    let ctx = now_context(store);
    let a = sku("REL");
    stock(&ctx, &a, 10).await;

    let held = order_id();
    assert_eq!(
        reserve(&ctx, &held, &[line(&a, 3)]).await,
        ReserveOutcome::Reserved
    );
    assert_eq!(level(&ctx, &a).await, (7, 3));
    assert_eq!(
        release(&ctx, &held, ReleaseReason::PaymentDeclined).await,
        ReleaseOutcome::Released
    );
    assert_eq!(level(&ctx, &a).await, (10, 0));
    assert_eq!(commit(&ctx, &held).await, CommitOutcome::NotHeld);
    assert_eq!(level(&ctx, &a).await, (10, 0));

    let sold = order_id();
    assert_eq!(
        reserve(&ctx, &sold, &[line(&a, 4)]).await,
        ReserveOutcome::Reserved
    );
    assert_eq!(commit(&ctx, &sold).await, CommitOutcome::Committed);
    assert_eq!(level(&ctx, &a).await, (6, 0));
    assert_eq!(
        release(&ctx, &sold, ReleaseReason::Cancelled).await,
        ReleaseOutcome::Released
    );
    assert_eq!(level(&ctx, &a).await, (10, 0));
    let found = reservations::find(&ctx, &sold).await.unwrap().unwrap();
    assert_eq!(found.status, ReservationStatus::Released);
    assert_eq!(found.reason, Some(ReleaseReason::Cancelled));
    let events = events_of(ctx.store.as_ref(), "inventory.released.v1", &sold).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data["reason"], "cancelled");
    assert_eq!(events[0].data["items"][0]["quantity"], 4);
}

/// Releasing an order that never reserved holds nothing and stops a late
/// reserve of it.
pub async fn release_before_reserve_leaves_a_tombstone(store: Arc<dyn Store>) {
    let ctx = now_context(store);
    let a = sku("TOMB");
    stock(&ctx, &a, 10).await;
    let order = order_id();
    let reason = ReleaseReason::CheckoutError;
    assert_eq!(
        release(&ctx, &order, reason).await,
        ReleaseOutcome::NothingHeld
    );
    assert_eq!(
        release(&ctx, &order, reason).await,
        ReleaseOutcome::NothingHeld
    );
    assert_eq!(
        reserve(&ctx, &order, &[line(&a, 1)]).await,
        ReserveOutcome::OutOfStock { skus: vec![] }
    );
    assert_eq!(commit(&ctx, &order).await, CommitOutcome::NotHeld);
    assert_eq!(level(&ctx, &a).await, (10, 0));
    assert!(
        events_of(ctx.store.as_ref(), "inventory.released.v1", &order)
            .await
            .is_empty()
    );
}

/// PUT sets units free to sell; held units stay held.
pub async fn put_never_touches_reserved(store: Arc<dyn Store>) {
    let ctx = now_context(store);
    let a = sku("PUT");
    stock(&ctx, &a, 10).await;
    let order = order_id();
    assert_eq!(
        reserve(&ctx, &order, &[line(&a, 4)]).await,
        ReserveOutcome::Reserved
    );
    stock(&ctx, &a, 20).await;
    assert_eq!(level(&ctx, &a).await, (20, 4));
    assert_eq!(commit(&ctx, &order).await, CommitOutcome::Committed);
    assert_eq!(level(&ctx, &a).await, (20, 0));
}

fn year(y: i32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0).unwrap()
}

/// The sweeper releases only holds that ran out, never committed ones, and
/// a commit racing it ends consistent. One case, so the two scenarios do
/// not sweep each other's holds on a shared table.
pub async fn sweeper(store: Arc<dyn Store>) {
    sweeper_releases_only_expired_holds(store.clone()).await;
    commit_racing_the_sweeper_ends_consistent(store).await;
}

async fn sweeper_releases_only_expired_holds(store: Arc<dyn Store>) {
    let (ctx, clock) = context(store, year(2001));
    let a = sku("SWEEP");
    stock(&ctx, &a, 10).await;
    let hold = |secs| Duration::from_secs(secs);
    let (short, long, sold) = (order_id(), order_id(), order_id());
    for (order, secs) in [(&short, 60), (&long, 600), (&sold, 60)] {
        let r = reservations::reserve(&ctx, order, &[line(&a, 1)], hold(secs), "c")
            .await
            .unwrap();
        assert_eq!(r, ReserveOutcome::Reserved);
    }
    assert_eq!(commit(&ctx, &sold).await, CommitOutcome::Committed);
    assert_eq!(level(&ctx, &a).await, (7, 2));

    // Nothing has run out yet.
    assert_eq!(reservations::release_expired(&ctx, 100).await.unwrap(), 0);
    clock.advance(chrono::Duration::seconds(60));
    // A hold ending exactly now has run out.
    assert_eq!(reservations::release_expired(&ctx, 100).await.unwrap(), 1);
    assert_eq!(level(&ctx, &a).await, (8, 1));
    let found = reservations::find(&ctx, &short).await.unwrap().unwrap();
    assert_eq!(found.status, ReservationStatus::Released);
    assert_eq!(found.reason, Some(ReleaseReason::Expired));
    assert_eq!(status(&ctx, &long).await, Some(ReservationStatus::Held));
    assert_eq!(
        status(&ctx, &sold).await,
        Some(ReservationStatus::Committed)
    );
    let events = events_of(ctx.store.as_ref(), "inventory.released.v1", &short).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data["reason"], "expired");
    // The saga's commit after expiry finds nothing to sell.
    assert_eq!(commit(&ctx, &short).await, CommitOutcome::NotHeld);

    assert_eq!(reservations::release_expired(&ctx, 100).await.unwrap(), 0);
    clock.advance(chrono::Duration::seconds(3600));
    assert_eq!(reservations::release_expired(&ctx, 0).await.unwrap(), 0);
    assert_eq!(reservations::release_expired(&ctx, 100).await.unwrap(), 1);
    assert_eq!(level(&ctx, &a).await, (9, 0));
    assert_eq!(
        status(&ctx, &sold).await,
        Some(ReservationStatus::Committed)
    );
    assert_eq!(reservations::release_expired(&ctx, 100).await.unwrap(), 0);
}

async fn commit_racing_the_sweeper_ends_consistent(store: Arc<dyn Store>) {
    const ORDERS: usize = 24;
    let (ctx, clock) = context(store, year(2002));
    let a = sku("RACE");
    stock(&ctx, &a, 100).await;
    let orders: Vec<OrderId> = (0..ORDERS).map(|_| order_id()).collect();
    for order in &orders {
        let r = reservations::reserve(&ctx, order, &[line(&a, 2)], Duration::from_secs(60), "c")
            .await
            .unwrap();
        assert_eq!(r, ReserveOutcome::Reserved);
    }
    clock.advance(chrono::Duration::seconds(61));

    let commits: Vec<_> = orders
        .iter()
        .cloned()
        .map(|order| {
            let ctx = ctx.clone();
            tokio::spawn(async move { (commit(&ctx, &order).await, order) })
        })
        .collect();
    // Sweepers with small batches, so they interleave with the commits.
    let sweeps: Vec<_> = (0..3)
        .map(|_| {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let mut released = 0;
                while let Ok(n) = reservations::release_expired(&ctx, 2).await {
                    if n == 0 {
                        break;
                    }
                    released += n;
                }
                released
            })
        })
        .collect();
    let mut committed = 0;
    for task in commits {
        let (outcome, order) = task.await.unwrap();
        let found = reservations::find(&ctx, &order).await.unwrap().unwrap();
        match outcome {
            CommitOutcome::Committed => {
                committed += 1;
                assert_eq!(found.status, ReservationStatus::Committed);
            }
            CommitOutcome::NotHeld => {
                assert_eq!(found.status, ReservationStatus::Released);
                assert_eq!(found.reason, Some(ReleaseReason::Expired));
            }
            CommitOutcome::AlreadyCommitted => panic!("{order} was committed twice"),
        }
    }
    let mut released = 0;
    for task in sweeps {
        released += task.await.unwrap();
    }
    // A sweep may stop on an error (contention) and leave holds behind;
    // the next sweep takes them.
    released += reservations::release_expired(&ctx, 100).await.unwrap();
    let committed_now = {
        let mut n = 0;
        for order in &orders {
            if status(&ctx, order).await == Some(ReservationStatus::Committed) {
                n += 1;
            }
        }
        n
    };
    assert_eq!(committed, committed_now, "commit answers match the records");
    assert_eq!(committed + released, ORDERS);
    assert_eq!(level(&ctx, &a).await, (100 - 2 * committed as i64, 0));
}

/// The flash sale at store level: `buyers` concurrent single-unit reserves
/// for 50 units.
pub async fn flash_sale(store: Arc<dyn Store>, buyers: usize) {
    const UNITS: usize = 50;
    let ctx = now_context(store);
    let a = sku("FLASH");
    stock(&ctx, &a, UNITS as i64).await;
    let tasks: Vec<_> = (0..buyers)
        .map(|_| {
            let ctx = ctx.clone();
            let lines = vec![line(&a, 1)];
            tokio::spawn(async move {
                let order = order_id();
                let outcome = reserve(&ctx, &order, &lines).await;
                (order, outcome)
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut losers = 0;
    for task in tasks {
        match task.await.unwrap() {
            (order, ReserveOutcome::Reserved) => winners.push(order),
            (_, ReserveOutcome::OutOfStock { skus }) => {
                assert_eq!(skus, std::slice::from_ref(&a));
                losers += 1;
            }
        }
    }
    assert_eq!(winners.len(), UNITS);
    assert_eq!(losers, buyers - UNITS);
    assert_eq!(level(&ctx, &a).await, (0, UNITS as i64));

    // Half pay, half give up, all at once.
    let settle: Vec<_> = winners
        .into_iter()
        .enumerate()
        .map(|(i, order)| {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    assert_eq!(commit(&ctx, &order).await, CommitOutcome::Committed);
                } else {
                    assert_eq!(
                        release(&ctx, &order, ReleaseReason::PaymentDeclined).await,
                        ReleaseOutcome::Released
                    );
                }
            })
        })
        .collect();
    for task in settle {
        task.await.unwrap();
    }
    assert_eq!(level(&ctx, &a).await, (25, 0));
}

/// Reserves, commits and releases of random sizes race while a watcher
/// reads the levels: neither count is ever negative, and every unit is
/// free, held or sold at the end.
pub async fn available_never_goes_below_zero(store: Arc<dyn Store>, workers: usize) {
    const INITIAL: i64 = 30;
    let ctx = now_context(store);
    let a = sku("FLOOR");
    stock(&ctx, &a, INITIAL).await;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (ctx, a, done) = (ctx.clone(), a.clone(), done.clone());
        tokio::spawn(async move {
            let mut reads = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let (available, reserved) = level(&ctx, &a).await;
                assert!(available >= 0 && reserved >= 0, "{available}/{reserved}");
                assert!(available + reserved <= INITIAL);
                reads += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            reads
        })
    };
    let tasks: Vec<_> = (0..workers)
        .map(|i| {
            let (ctx, a) = (ctx.clone(), a.clone());
            tokio::spawn(async move {
                let order = order_id();
                let quantity = 1 + (i % 4) as u32;
                match reserve(&ctx, &order, &[line(&a, quantity)]).await {
                    ReserveOutcome::OutOfStock { .. } => 0,
                    ReserveOutcome::Reserved => match i % 3 {
                        0 => {
                            release(&ctx, &order, ReleaseReason::PaymentTimeout).await;
                            0
                        }
                        1 => {
                            commit(&ctx, &order).await;
                            i64::from(quantity)
                        }
                        _ => {
                            commit(&ctx, &order).await;
                            release(&ctx, &order, ReleaseReason::Cancelled).await;
                            0
                        }
                    },
                }
            })
        })
        .collect();
    let mut sold = 0;
    for task in tasks {
        sold += task.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(watcher.await.unwrap() > 0);
    let (available, reserved) = level(&ctx, &a).await;
    assert_eq!(reserved, 0);
    assert!(available >= 0);
    assert_eq!(available + sold, INITIAL);
}

/// Declares one `#[tokio::test]` per case for an adapter: `$store` is an
/// async fn returning `(Arc<dyn Store>, guard)`; the guard lives as long
/// as the case. `$buyers` is the flash sale's crowd, `$workers` the
/// racing checkouts of the floor case.
#[macro_export]
macro_rules! reservation_cases {
    ($store:path, buyers = $buyers:expr, workers = $workers:expr) => {
        $crate::reservation_cases!(@case $store, reserve_is_all_or_none);
        $crate::reservation_cases!(@case $store, bad_input_changes_nothing);
        $crate::reservation_cases!(@case $store, steps_are_idempotent);
        $crate::reservation_cases!(@case $store, release_returns_held_and_committed_units);
        $crate::reservation_cases!(@case $store, release_before_reserve_leaves_a_tombstone);
        $crate::reservation_cases!(@case $store, put_never_touches_reserved);
        $crate::reservation_cases!(@case $store, sweeper);

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn flash_sale() {
            let (store, _guard) = $store().await;
            reservation_cases::flash_sale(store, $buyers).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn available_never_goes_below_zero() {
            let (store, _guard) = $store().await;
            reservation_cases::available_never_goes_below_zero(store, $workers).await;
        }
    };
    (@case $store:path, $case:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let (store, _guard) = $store().await;
            reservation_cases::$case(store).await;
        }
    };
}
