//! Lambda entry point of the `inventory-catalog-sync` consumer: its SQS
//! queue receives `product.created.v1` and `product.deleted.v1` from the bus.

use inventory::consumers::CatalogSync;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lite_events_aws::LambdaError> {
    let store: Arc<dyn lite_store::Store> = Arc::new(lite_dynamo::DynamoStore::from_env().await?);
    let handler = CatalogSync::new(Arc::clone(&store), Arc::new(lite_core::SystemClock));
    lite_events_aws::run_consumer_with(store, Arc::new(handler)).await
}
