//! Lambda entry point of the checkout service: the `checkout-start`
//! consumer's function (`AMAZON_LITE_CONSUMER=checkout-start`); its SQS
//! queue receives `order.created.v1` and it starts the Step Functions
//! execution named after the order (idempotent by name). The service has
//! no routes.

use checkout::{Checkout, CheckoutTimings};
use lite_core::config::parse_or;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lite_lambda::Error> {
    lite_lambda::run(|ctx| async move {
        let saga = Arc::new(lite_saga::aws::StepFunctions::from_env().await);
        let timings = CheckoutTimings {
            payment_timeout_secs: parse_or("CHECKOUT_PAYMENT_TIMEOUT_SECS", 900)?,
            ..CheckoutTimings::default()
        };
        Ok(Checkout::new(ctx, saga, timings).with_flags(lite_lambda::flags()?))
    })
    .await
}
