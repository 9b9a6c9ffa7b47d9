//! The catalog's events: `product.created|updated|deleted.v1`, built from
//! the contract types in `lite_events::contracts`, so what the catalog
//! publishes is what `events/schemas/product.*.v1.json` describe
//! (`tests/events_schema.rs` checks the real outbox items against them).

use crate::domain::Product;
use lite_events::contracts::{
    Contract, ProductCreatedV1, ProductDeletedV1, ProductSnapshot, ProductUpdatedV1, RatingSummary,
};
use lite_events::Envelope;
use lite_ports::Context;

pub fn created(ctx: &Context, p: &Product) -> Envelope {
    envelope(
        ctx,
        &ProductCreatedV1 {
            product: snapshot(p),
        },
    )
}

pub fn updated(ctx: &Context, p: &Product) -> Envelope {
    envelope(
        ctx,
        &ProductUpdatedV1 {
            product: snapshot(p),
        },
    )
}

pub fn deleted(ctx: &Context, p: &Product) -> Envelope {
    envelope(
        ctx,
        &ProductDeletedV1 {
            id: p.id.to_string(),
            sku: p.sku.clone(),
        },
    )
}

/// The product as published: every stored field, nothing from other
/// services (stock is inventory's).
fn snapshot(p: &Product) -> ProductSnapshot {
    ProductSnapshot {
        id: p.id.to_string(),
        sku: p.sku.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        category: p.category.clone(),
        brand: p.brand.clone(),
        price: p.price,
        images: p.images.clone(),
        attributes: p.attributes.clone(),
        rating: RatingSummary {
            average: p.rating.average,
            count: p.rating.count,
        },
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

fn envelope<C: Contract>(ctx: &Context, data: &C) -> Envelope {
    Envelope::of(
        ctx.ids.as_ref(),
        ctx.clock.now(),
        &lite_http::correlation::current(),
        data,
    )
}
