//! Lambda entry point: every auth route, one function per route on AWS.
//! The verifier gets the session guard and the published keys, so logout
//! and validate refuse revoked sessions here as in every other service.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lite_lambda::serve_with(auth::router, auth::protect).await
}
