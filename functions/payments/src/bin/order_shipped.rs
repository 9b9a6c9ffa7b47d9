//! Lambda entry point of the `payments-order-shipped` consumer: its SQS
//! queue receives `order.shipped.v1`; the order's payment is captured.

use payments::consumers::OrderShipped;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lite_events_aws::LambdaError> {
    let ctx = lite_lambda::context().await?;
    let store = ctx.store.clone();
    let payments = Arc::new(payments::lambda::payments(ctx).await?);
    lite_events_aws::run_consumer_with(store, Arc::new(OrderShipped::new(payments))).await
}
