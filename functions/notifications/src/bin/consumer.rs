//! Lambda entry point of the `notifications` consumer: its SQS queue
//! receives `order.confirmed|failed|cancelled|shipped.v1` and
//! `payment.failed.v1` from the bus; messages leave through SES.

use notifications::ses::SesNotifier;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lite_events_aws::LambdaError> {
    let ctx = lite_lambda::context().await?;
    let notifier = SesNotifier::from_env().await?;
    let handler = notifications::consumer(ctx.clone(), Arc::new(notifier));
    lite_events_aws::run_consumer_with(ctx.store, Arc::new(handler)).await
}
