//! A busy store answers the same everywhere: every service maps store
//! failures through the one mapping in lite-store, so a throttled store is
//! `503 unavailable` with `Retry-After: 1` here as in every other service.

use lite_http::testing::{
    admin_token, assert_store_failures_are_mapped, finish_for_tests, TestClient,
};
use lite_ports::testing::failing_context;

#[tokio::test]
async fn store_failures_answer_the_one_mapping() {
    // An admin reading stock, on a store that answers `error` to every call.
    assert_store_failures_are_mapped(|error| async move {
        let router = inventory::routes()
            .with_state(failing_context(error))
            .split_for_parts()
            .0;
        TestClient::new(finish_for_tests(router))
            .get("/v1/inventory/LAP-1")
            .bearer(Some(&admin_token("usr_01JADM000000000000000000000")))
            .send()
            .await
    })
    .await;
}
