//! Lambda entry point of the inventory service: one function per route on
//! AWS, and the functions of its consumers `inventory-catalog-sync` and
//! `inventory-order-cancelled` (`AMAZON_LITE_CONSUMER`).

#[tokio::main]
async fn main() -> Result<(), lite_lambda::Error> {
    lite_lambda::run_with(auth_guard::protect, |ctx| async move {
        Ok(inventory::Inventory::new(ctx))
    })
    .await
}
