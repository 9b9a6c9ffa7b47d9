//! The orders Lambda: every orders route (CDK deploys one function per
//! route from this binary).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lite_lambda::serve_with(orders::router, auth_guard::protect).await
}
