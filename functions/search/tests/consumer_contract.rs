//! The indexer and `infra/consumers.json` (what CDK builds its queue and
//! rule from) must agree on the name and the detail-types.

#![cfg(feature = "lambda")]

use std::sync::Arc;

#[test]
fn search_indexer_matches_infra_consumers_json() {
    let index = search::TantivyIndex::in_memory().unwrap();
    let handler = search::SearchIndexer::new(Arc::new(index));
    lite_events_aws::consumers::check_handler(&handler).unwrap();
}
