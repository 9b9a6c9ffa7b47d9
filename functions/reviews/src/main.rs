//! Lambda entry point: every reviews route, one function per route on AWS.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lite_lambda::serve_with(reviews::router, auth_guard::protect).await
}
