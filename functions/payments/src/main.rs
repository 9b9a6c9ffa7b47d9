//! Lambda entry point of the payments service: one function per route on
//! AWS (`payments-webhook`, `payments-get-order-payment`), and the
//! functions of its consumers `payments-order-cancelled` and
//! `payments-order-shipped` (`AMAZON_LITE_CONSUMER`).

#[tokio::main]
async fn main() -> Result<(), lite_lambda::Error> {
    lite_lambda::run_with(auth_guard::protect, |ctx| async move {
        Ok(payments::lambda::from_env(ctx)?)
    })
    .await
}
