//! Lambda entry point of the platform routes.

#[tokio::main]
async fn main() -> Result<(), lite_lambda::Error> {
    lite_lambda::run_with(auth::protect, |_| async { Ok(api::Api) }).await
}
