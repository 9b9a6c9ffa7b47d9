//! The consumers and `infra/consumers.json` (what CDK builds their queues
//! and rules from) must agree on the names and the detail-types.

#![cfg(feature = "lambda")]

mod common;

use payments::consumers::{OrderCancelled, OrderShipped};

#[test]
fn consumers_match_infra_consumers_json() {
    let h = common::Harness::new();
    lite_events_aws::consumers::check_handler(&OrderCancelled::new(h.p.clone())).unwrap();
    lite_events_aws::consumers::check_handler(&OrderShipped::new(h.p.clone())).unwrap();
}
