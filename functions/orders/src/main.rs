//! Lambda entry point of the orders service: one function per route on AWS.

#[tokio::main]
async fn main() -> Result<(), lite_lambda::Error> {
    lite_lambda::run_with(auth_guard::protect, |ctx| async move {
        Ok(orders::Orders::new(ctx).with_flags(lite_lambda::flags()?))
    })
    .await
}
