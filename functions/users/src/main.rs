//! Lambda entry point: every users route, one function per route on AWS.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lite_lambda::serve_with(users::router, auth_guard::protect).await
}
