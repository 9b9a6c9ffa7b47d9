//! Lambda entry point of the `checkout-start` consumer: its SQS queue
//! receives `order.created.v1`; it starts the Step Functions execution
//! named after the order (idempotent by name).

use checkout::{CheckoutStarter, CheckoutTimings};
use lite_core::config::parse_or;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lite_events_aws::LambdaError> {
    let ctx = lite_lambda::context().await?;
    let saga = Arc::new(lite_saga::aws::StepFunctions::from_env().await);
    let timings = CheckoutTimings {
        payment_timeout_secs: parse_or("CHECKOUT_PAYMENT_TIMEOUT_SECS", 900)?,
        ..CheckoutTimings::default()
    };
    let handler = CheckoutStarter::new(ctx.clone(), saga, timings);
    lite_events_aws::run_consumer_with(ctx.store.clone(), Arc::new(handler)).await
}
