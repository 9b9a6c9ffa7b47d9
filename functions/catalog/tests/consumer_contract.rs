//! The rating consumer and `infra/consumers.json` (what CDK builds its
//! queue and rule from) must agree on the name and the detail-types.

#![cfg(feature = "lambda")]

#[test]
fn catalog_rating_matches_infra_consumers_json() {
    let handler = catalog::consumers::RatingSync::new(lite_http::testing::memory_context());
    lite_events_aws::consumers::check_handler(&handler).unwrap();
}
