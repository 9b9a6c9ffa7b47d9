//! Lambda entry point: every payments route, one function per route on AWS
//! (`payments-webhook`, `payments-get-order-payment`).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    payments::lambda::check_env()?;
    lite_lambda::serve_with(payments::lambda::router, auth_guard::protect).await
}
