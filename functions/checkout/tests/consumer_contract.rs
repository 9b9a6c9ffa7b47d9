//! The `checkout-start` consumer and `infra/consumers.json` (what CDK builds
//! its queue and rule from) agree on the name and the detail-types.

#![cfg(feature = "lambda")]

use checkout::{CheckoutStarter, CheckoutTimings, LateSaga};

#[test]
fn checkout_start_matches_infra_consumers_json() {
    let handler = CheckoutStarter::new(
        lite_http::testing::memory_context(),
        LateSaga::new(),
        CheckoutTimings::default(),
    );
    lite_events_aws::consumers::check_handler(&handler).unwrap();
}
