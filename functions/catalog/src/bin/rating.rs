//! Lambda entry point of the `catalog-rating` consumer: its SQS queue
//! receives `review.approved.v1` and `review.withdrawn.v1` from the bus.

use catalog::consumers::RatingSync;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lite_events_aws::LambdaError> {
    let ctx = lite_lambda::context().await?;
    let handler = RatingSync::new(ctx.clone());
    lite_events_aws::run_consumer_with(ctx.store, Arc::new(handler)).await
}
