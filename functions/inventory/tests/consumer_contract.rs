//! The consumer and `infra/consumers.json` (what CDK builds its queue and
//! rule from) must agree on the name and the detail-types.

#![cfg(feature = "lambda")]

use inventory::consumers::CatalogSync;
use std::sync::Arc;

#[test]
fn catalog_sync_matches_infra_consumers_json() {
    let store = Arc::new(lite_store::redb_store::RedbStore::in_memory().unwrap());
    let handler = CatalogSync::new(store, Arc::new(lite_core::SystemClock));
    lite_events_aws::consumers::check_handler(&handler).unwrap();
}

#[test]
fn order_cancelled_matches_infra_consumers_json() {
    let store = Arc::new(lite_store::redb_store::RedbStore::in_memory().unwrap());
    let codec = lite_core::CursorCodec::new(lite_core::CursorCodec::random_key());
    let ctx = lite_http::Context::new(store, lite_http::Cursors::ready(codec));
    let handler = inventory::consumers::OrderCancelled::new(ctx);
    lite_events_aws::consumers::check_handler(&handler).unwrap();
}
