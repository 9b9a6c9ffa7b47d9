//! Lambda entry point of the cart service: one function per route on AWS.

#[tokio::main]
async fn main() -> Result<(), lite_lambda::Error> {
    lite_lambda::run_with(auth_guard::protect, |ctx| async move {
        Ok(cart::Cart::new(ctx))
    })
    .await
}
