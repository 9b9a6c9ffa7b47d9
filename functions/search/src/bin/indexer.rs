//! Lambda entry point of the `search-indexer` consumer: its SQS queue
//! receives the product events and `review.approved.v1` from the bus.

use search::SearchIndexer;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lite_events_aws::LambdaError> {
    let store: Arc<dyn lite_store::Store> = Arc::new(lite_dynamo::DynamoStore::from_env().await?);
    let index = search::opensearch::OpenSearchIndex::from_env().await?;
    let handler = SearchIndexer::new(Arc::new(index));
    lite_events_aws::run_consumer_with(store, Arc::new(handler)).await
}
