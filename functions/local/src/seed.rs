//! The demo catalog: loaded into an empty store through the same catalog
//! and inventory code the API uses, so it emits the same events. Loading is
//! idempotent per sku, so a crash half-way is finished on the next start.

use catalog::{NewProduct, ProductInput};
use lite_core::Sku;
use lite_http::Context;
use serde::Deserialize;

const DEMO: &str = include_str!("../demo/products.json");

#[derive(Deserialize)]
struct DemoProduct {
    #[serde(flatten)]
    product: ProductInput,
    stock: i64,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub created: usize,
    pub skipped: usize,
}

pub async fn demo(ctx: &Context) -> Result<SeedReport, String> {
    let products: Vec<DemoProduct> =
        serde_json::from_str(DEMO).map_err(|e| format!("demo catalog: {e}"))?;
    let mut report = SeedReport::default();
    for demo in products {
        let sku = Sku::parse(&demo.product.sku)
            .map_err(|e| format!("demo sku {}: {e}", demo.product.sku))?;
        if catalog::read::sku_taken(ctx.store.as_ref(), &sku)
            .await
            .map_err(|e| e.to_string())?
        {
            report.skipped += 1;
            continue;
        }
        let new =
            NewProduct::parse(demo.product).map_err(|p| format!("demo product {sku}: {p}"))?;
        inventory::set_available(ctx.store.as_ref(), ctx.clock.as_ref(), &sku, demo.stock)
            .await
            .map_err(|e| e.to_string())?;
        match catalog::create(ctx, new).await {
            Ok(_) => report.created += 1,
            Err(catalog::CatalogError::SkuTaken) => report.skipped += 1,
            Err(e) => return Err(format!("demo product {sku}: {e}")),
        }
    }
    Ok(report)
}
