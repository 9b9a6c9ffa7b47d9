//! Lambda entry point: every cart route, one function per route on AWS.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lite_lambda::serve_with(cart::router, auth_guard::protect).await
}
