//! Lambda entry point of the platform routes.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lite_lambda::serve_with(api::router, auth::protect).await
}
