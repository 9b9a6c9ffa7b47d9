//! Lambda entry point of the users service: one function per route on AWS.

#[tokio::main]
async fn main() -> Result<(), lite_lambda::Error> {
    lite_lambda::run_with(auth_guard::protect, |ctx| async move {
        Ok(users::Users::new(ctx))
    })
    .await
}
