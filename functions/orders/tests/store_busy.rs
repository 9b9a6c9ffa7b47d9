//! A busy store answers the same everywhere: every service maps store
//! failures through the one mapping in lite-store, so a throttled store is
//! `503 unavailable` with `Retry-After: 1` here as in every other service.

use lite_http::testing::{
    assert_store_failures_are_mapped, customer_token, finish_for_tests, TestClient,
};
use lite_ports::testing::failing_context;
use lite_service::Service;

#[tokio::test]
async fn store_failures_answer_the_one_mapping() {
    // A customer listing orders, on a store that answers `error` to every call.
    assert_store_failures_are_mapped(|error| async move {
        let router = orders::Orders::new(failing_context(error)).router();
        TestClient::new(finish_for_tests(router))
            .get("/v1/orders")
            .bearer(Some(&customer_token("usr_01JANN000000000000000000000")))
            .send()
            .await
    })
    .await;
}
