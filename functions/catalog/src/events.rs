//! The catalog's events: `product.created|updated|deleted.v1`.

use crate::domain::Product;
use lite_events::Envelope;
use lite_http::Context;
use serde_json::json;

pub fn created(ctx: &Context, p: &Product) -> Envelope {
    envelope(ctx, "product.created", json!({ "product": p }))
}

pub fn updated(ctx: &Context, p: &Product) -> Envelope {
    envelope(ctx, "product.updated", json!({ "product": p }))
}

pub fn deleted(ctx: &Context, p: &Product) -> Envelope {
    envelope(ctx, "product.deleted", json!({ "id": p.id, "sku": p.sku }))
}

fn envelope(ctx: &Context, event_type: &str, data: serde_json::Value) -> Envelope {
    let correlation = lite_http::correlation::current();
    Envelope::new(
        ctx.ids.as_ref(),
        event_type,
        1,
        "catalog",
        ctx.clock.now(),
        &correlation,
        data,
    )
}
