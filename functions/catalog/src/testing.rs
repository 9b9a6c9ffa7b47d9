//! Test helpers (feature `testing`).

use lite_ports::Context;

/// Creates `sku` in `category` at `amount` US cents (brand Northwind, named
/// `Product <sku>`) through the catalog's own create; its id.
pub async fn product(ctx: &Context, sku: &str, category: &str, amount: i64) -> String {
    let input: crate::ProductInput = serde_json::from_value(serde_json::json!({
        "sku": sku, "name": format!("Product {sku}"), "category": category,
        "brand": "Northwind", "price": {"amount": amount, "currency": "USD"}
    }))
    .expect("a product input");
    crate::create(
        ctx,
        crate::NewProduct::parse(input).expect("a valid product"),
    )
    .await
    .expect("the product is created")
    .id
    .to_string()
}
