//! The reservation cases on the DynamoDB adapter, against moto (started
//! for this process unless `AMAZON_LITE_TEST_DYNAMODB_ENDPOINT` names one).
//! moto handles DynamoDB requests one at a time (`scripts/moto.sh`); the
//! flash sale still runs at full size (500 concurrent buyers for 50 units,
//! some 30 s here) because a reservation is one transaction. Every case
//! uses its own skus and order ids.

mod reservation_cases;

use lite_store::Store;
use std::sync::Arc;

async fn store() -> (Arc<dyn Store>, ()) {
    (lite_dynamo::testing::test_store().await, ())
}

reservation_cases!(store, buyers = 500, workers = 40);
