//! Lambda entry point of the platform routes (`/v1/health`,
//! `/v1/openapi.json`): the document is the one generated at build time
//! and embedded ([`platform::DOCUMENT`]), so this binary links no service.

#[tokio::main]
async fn main() -> Result<(), lite_lambda::Error> {
    // The same verifier as every service (session guard, published keys),
    // though no platform route asks for a token.
    lite_lambda::run_with(auth_guard::protect, |_| async {
        Ok(platform::Platform::embedded())
    })
    .await
}
