//! Lambda entry point of the auth service: every auth route, one function
//! per route on AWS. The verifier gets the session guard and the published
//! keys, so logout and validate refuse revoked sessions here as in every
//! other service.

#[tokio::main]
async fn main() -> Result<(), lite_lambda::Error> {
    lite_lambda::run_with(auth::protect, |ctx| async move {
        Ok(auth::Auth::new(ctx, auth::AuthConfig::from_env()))
    })
    .await
}
