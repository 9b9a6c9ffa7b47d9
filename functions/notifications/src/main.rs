//! Lambda entry point of the notifications routes (`GET /v1/me/notifications`).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lite_lambda::serve_with(notifications::router, auth_guard::protect).await
}
