//! The demo catalog: loaded into an empty store through the same catalog
//! and inventory code the API uses, so it emits the same events.
//!
//! A marker item (`SEED#demo`/`SEED`, owned by the local API) records the
//! load: `loading` while it runs, `done` after. A store that already has
//! products and no marker is not empty and is left alone; a `loading`
//! marker (a crash half-way) resumes, skipping skus already present; a
//! `done` marker means never again, so products deleted later stay deleted.

use catalog::{NewProduct, ProductInput};
use lite_core::Sku;
use lite_ports::Context;
use lite_store::{Key, Update};
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

#[derive(Debug, PartialEq, Eq)]
pub enum SeedOutcome {
    Loaded(SeedReport),
    AlreadyLoaded,
    StoreNotEmpty,
}

fn marker() -> Key {
    Key::new("SEED#demo", "SEED")
}

async fn set_marker(ctx: &Context, status: &str) -> Result<(), String> {
    let updates = [
        Update::set("status", status),
        Update::set("at", lite_core::rfc3339(ctx.clock.now())),
    ];
    ctx.store
        .update(&marker(), &updates, None)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Loads the demo catalog if this store has never had it and is empty.
pub async fn demo(ctx: &Context) -> Result<SeedOutcome, String> {
    let status = ctx.store.get(&marker()).await.map_err(|e| e.to_string())?;
    match status
        .as_ref()
        .and_then(|m| m.get("status"))
        .and_then(|s| s.as_str())
    {
        Some("done") => return Ok(SeedOutcome::AlreadyLoaded),
        Some(_) => {}
        None => {
            if catalog::read::has_products(ctx.store.as_ref())
                .await
                .map_err(|e| e.to_string())?
            {
                return Ok(SeedOutcome::StoreNotEmpty);
            }
        }
    }
    set_marker(ctx, "loading").await?;
    let report = load(ctx).await?;
    set_marker(ctx, "done").await?;
    Ok(SeedOutcome::Loaded(report))
}

async fn load(ctx: &Context) -> Result<SeedReport, String> {
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
