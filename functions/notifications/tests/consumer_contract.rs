//! The consumer and `infra/consumers.json` (what CDK builds its queue and
//! rule from) must agree on the name and the detail-types.

#![cfg(feature = "lambda")]

use std::sync::Arc;

#[test]
fn notifications_match_infra_consumers_json() {
    let handler = notifications::consumer(
        lite_http::testing::memory_context(),
        Arc::new(notifications::LogNotifier),
    );
    lite_events_aws::consumers::check_handler(&handler).unwrap();
}
