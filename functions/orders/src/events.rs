//! The orders service's events, one per status change.

use crate::domain::Order;
use lite_events::contracts::{
    CancelledBy, FailureReason, LineItem, OrderCancelledV1, OrderConfirmedV1, OrderCreatedV1,
    OrderFailedV1, OrderShippedV1,
};
use lite_events::Envelope;
use lite_ports::Context;

fn items(order: &Order) -> Vec<LineItem> {
    order
        .items
        .iter()
        .map(|l| LineItem {
            product_id: l.product_id.clone(),
            sku: l.sku.clone(),
            name: l.name.clone(),
            quantity: l.quantity,
            unit_price: l.unit_price,
        })
        .collect()
}

pub fn created(ctx: &Context, order: &Order, correlation_id: &str) -> Envelope {
    Envelope::of(
        ctx.ids.as_ref(),
        ctx.clock.now(),
        correlation_id,
        &OrderCreatedV1 {
            order_id: order.id.to_string(),
            user_id: order.user_id.clone(),
            items: items(order),
            total: order.total,
        },
    )
}

pub fn confirmed(ctx: &Context, order: &Order, payment_id: &str, correlation_id: &str) -> Envelope {
    Envelope::of(
        ctx.ids.as_ref(),
        ctx.clock.now(),
        correlation_id,
        &OrderConfirmedV1 {
            order_id: order.id.to_string(),
            user_id: order.user_id.clone(),
            items: items(order),
            total: order.total,
            payment_id: payment_id.to_owned(),
        },
    )
}

pub fn failed(
    ctx: &Context,
    order: &Order,
    reason: FailureReason,
    detail: Option<String>,
    correlation_id: &str,
) -> Envelope {
    Envelope::of(
        ctx.ids.as_ref(),
        ctx.clock.now(),
        correlation_id,
        &OrderFailedV1 {
            order_id: order.id.to_string(),
            user_id: order.user_id.clone(),
            reason,
            detail,
        },
    )
}

pub fn cancelled(ctx: &Context, order: &Order, by: CancelledBy, correlation_id: &str) -> Envelope {
    Envelope::of(
        ctx.ids.as_ref(),
        ctx.clock.now(),
        correlation_id,
        &OrderCancelledV1 {
            order_id: order.id.to_string(),
            user_id: order.user_id.clone(),
            items: items(order),
            total: order.total,
            payment_id: order.payment_id.clone(),
            cancelled_by: by,
        },
    )
}

pub fn shipped(ctx: &Context, order: &Order, correlation_id: &str) -> Envelope {
    Envelope::of(
        ctx.ids.as_ref(),
        ctx.clock.now(),
        correlation_id,
        &OrderShippedV1 {
            order_id: order.id.to_string(),
            user_id: order.user_id.clone(),
        },
    )
}
