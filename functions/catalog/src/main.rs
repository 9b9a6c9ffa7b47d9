//! Lambda entry point of the catalog service: one function per route on AWS,
//! and the `catalog-rating` consumer's function (`AMAZON_LITE_CONSUMER`).

#[tokio::main]
async fn main() -> Result<(), lite_lambda::Error> {
    lite_lambda::run_with(auth_guard::protect, |ctx| async move {
        Ok(catalog::Catalog::new(ctx))
    })
    .await
}
