//! Lambda entry point of the `inventory-order-cancelled` consumer: its SQS
//! queue receives `order.cancelled.v1` from the bus.

use inventory::consumers::OrderCancelled;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lite_events_aws::LambdaError> {
    let ctx = lite_lambda::context().await?;
    let handler = OrderCancelled::new(ctx.clone());
    lite_events_aws::run_consumer_with(ctx.store, Arc::new(handler)).await
}
