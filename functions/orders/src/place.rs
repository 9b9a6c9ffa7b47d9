//! Placing an order: the caller's cart becomes a PENDING order, the cart is
//! emptied and `order.created.v1` is recorded, all in one transaction (with
//! the idempotency record). The checkout saga starts on that event.

use crate::domain::{
    Order, OrderId, OrderLine, OrderStatus, OrderView, PaymentSummary, ShippingAddress,
    StatusChange,
};
use crate::idempotency::{self, IdempotencyKey, Saved};
use crate::{events, repo, OrdersError};
use axum::response::Response;
use cart::checkout::{CartLine, CartSnapshot};
use lite_core::{Money, Problem, Violations};
use lite_ports::Context;
use lite_store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of `POST /v1/orders`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlaceOrderBody {
    /// One of the caller's saved addresses. Give this or `address`; with
    /// neither, the default address is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable, example = "adr_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C")]
    pub address_id: Option<String>,
    /// A one-off shipping address (the fields of an address-book entry;
    /// `label` optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = shipping_address_schema)]
    pub address: Option<serde_json::Map<String, serde_json::Value>>,
    pub payment: PaymentInput,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    #[schema(schema_with = payment_method_schema)]
    pub method: String,
    /// The payment provider's token (sandbox: `tok_visa`,
    /// `tok_chargeDeclined`, `tok_insufficientFunds`, `tok_noWebhook`):
    /// 1 to 200 visible ASCII characters.
    #[schema(schema_with = payment_token_schema, example = "tok_visa")]
    pub token: String,
}

/// The one payment method.
const CARD: &str = "card";

fn payment_method_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some([CARD]))
        .build()
}

/// `PlaceOrder::parse`: trimmed, then 1 to 200 visible ASCII characters.
fn payment_token_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some(lite_http::schema::trimmed("[!-~]{1,200}")))
        .build()
}

/// An address-book entry's fields, `label` optional (it defaults to
/// `Shipping`) and `isDefault` ignored; `null` is the same as absent.
fn shipping_address_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    use utoipa::PartialSchema;
    let mut address = match users::AddressInput::schema() {
        RefOr::T(Schema::Object(o)) => o,
        _ => Default::default(),
    };
    address.required.retain(|f| f != "label");
    // `AddressFields::parse` names unknown fields.
    address.additional_properties = Some(Box::new(
        utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
    ));
    let ignored = utoipa::openapi::schema::ObjectBuilder::new()
        .description(Some("Ignored"))
        .build();
    address
        .properties
        .insert("isDefault".to_owned(), RefOr::T(Schema::Object(ignored)));
    lite_http::schema::or_null(address)
}

enum Destination {
    Saved(String),
    Inline(Box<users::AddressFields>),
    Default,
}

/// A parsed order request.
pub struct PlaceOrder {
    destination: Destination,
    payment_token: String,
}

impl PlaceOrder {
    pub fn parse(body: PlaceOrderBody) -> Result<Self, OrdersError> {
        let mut v = Violations::new();
        if body.payment.method != CARD {
            v.add("payment.method", "the only method is `card`");
        }
        let token = body.payment.token.trim();
        if token.is_empty() || token.len() > 200 || !token.bytes().all(|b| b.is_ascii_graphic()) {
            v.add(
                "payment.token",
                "must be the provider's payment token (1 to 200 visible characters)",
            );
        }
        let destination = match (body.address_id, body.address) {
            (Some(_), Some(_)) => {
                v.add("addressId", "give addressId or address, not both");
                Destination::Default
            }
            (Some(id), None) => Destination::Saved(id),
            (None, Some(mut map)) => {
                map.entry("label").or_insert_with(|| "Shipping".into());
                map.remove("isDefault");
                match users::AddressFields::parse(map) {
                    Ok(fields) => Destination::Inline(Box::new(fields)),
                    Err(problem) => {
                        for e in problem.errors {
                            v.add(format!("address.{}", e.field), e.message);
                        }
                        Destination::Default
                    }
                }
            }
            (None, None) => Destination::Default,
        };
        v.into_result().map_err(OrdersError::Invalid)?;
        Ok(PlaceOrder {
            destination,
            payment_token: token.to_owned(),
        })
    }
}

async fn shipping_address(
    ctx: &Context,
    user_id: &str,
    destination: Destination,
) -> Result<ShippingAddress, OrdersError> {
    let store = ctx.store.as_ref();
    let from_book = |a: users::Address| ShippingAddress {
        line1: a.line1,
        line2: a.line2,
        city: a.city,
        region: a.region,
        postal_code: a.postal_code,
        country: a.country.to_string(),
    };
    match destination {
        Destination::Saved(id) => users::read::address(store, user_id, &id)
            .await?
            .map(from_book)
            .ok_or_else(|| {
                OrdersError::Invalid(Problem::field(
                    "addressId",
                    "no such address in your address book",
                ))
            }),
        Destination::Default => users::read::default_address(store, user_id)
            .await?
            .map(from_book)
            .ok_or_else(|| {
                OrdersError::Invalid(Problem::field(
                    "address",
                    "your address book is empty: give an address or an addressId",
                ))
            }),
        Destination::Inline(f) => Ok(ShippingAddress {
            line1: f.line1,
            line2: f.line2,
            city: f.city,
            region: f.region,
            postal_code: f.postal_code,
            country: f.country.to_string(),
        }),
    }
}

/// Refuses (409 `price_changed`) when a product's price changed or it is
/// gone since it went into the cart, after updating the cart to what the
/// catalog says now, so the shopper sees the new total before retrying.
async fn recheck_prices(
    ctx: &Context,
    user_id: &str,
    cart: &CartSnapshot,
) -> Result<(), OrdersError> {
    let store = ctx.store.as_ref();
    let current = futures::future::try_join_all(
        cart.lines
            .iter()
            .map(|l| catalog::read::product(store, &l.product_id)),
    )
    .await?;
    let mut changed = vec![];
    let mut now = vec![];
    for (line, product) in cart.lines.iter().zip(current) {
        match product {
            Some(p) => {
                if p.price != line.unit_price {
                    changed.push(format!("{} now costs {}", p.name, p.price));
                }
                now.push((line.product_id.clone(), Some((p.name, p.price))));
            }
            None => {
                changed.push(format!("{} is no longer sold", line.name));
                now.push((line.product_id.clone(), None));
            }
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    cart::checkout::reprice(store, ctx.clock.as_ref(), user_id, cart, &now).await?;
    Err(OrdersError::PriceChanged(format!(
        "Your cart was updated: {}. Review it and place the order again.",
        changed.join("; ")
    )))
}

fn line_of(l: &CartLine) -> Result<OrderLine, OrdersError> {
    let line_total = l
        .unit_price
        .checked_mul(l.quantity)
        .map_err(|e| OrdersError::Invalid(Problem::field("cart", e.to_string())))?;
    Ok(OrderLine {
        product_id: l.product_id.clone(),
        sku: l.sku.clone(),
        name: l.name.clone(),
        unit_price: l.unit_price,
        quantity: l.quantity,
        line_total,
    })
}

fn subtotal(lines: &[OrderLine]) -> Result<Money, OrdersError> {
    let mut total: Option<Money> = None;
    for l in lines {
        total = Some(match total {
            None => l.line_total,
            Some(t) => t
                .checked_add(l.line_total)
                .map_err(|e| OrdersError::Invalid(Problem::field("cart", e.to_string())))?,
        });
    }
    total.ok_or(OrdersError::CartEmpty)
}

/// Places the order and answers 202 with it (or the saved answer of an
/// earlier request with the same key).
pub async fn place(
    ctx: &Context,
    user_id: &str,
    input: PlaceOrder,
    idem: &IdempotencyKey,
    request_hash: &str,
    correlation_id: &str,
) -> Result<Response, OrdersError> {
    // While the payment provider's circuit is open, checkout is paused:
    // refuse before anything is written (no order, no hold, cart as it was).
    payments::breaker::admit_checkout(ctx)
        .await
        .map_err(|paused| OrdersError::from(paused.problem()))?;
    let store = ctx.store.as_ref();
    let cart = cart::checkout::load(store, ctx.clock.as_ref(), user_id)
        .await?
        .filter(|c| !c.lines.is_empty())
        .ok_or(OrdersError::CartEmpty)?;
    recheck_prices(ctx, user_id, &cart).await?;
    let shipping_address = shipping_address(ctx, user_id, input.destination).await?;
    let items = cart
        .lines
        .iter()
        .map(line_of)
        .collect::<Result<Vec<_>, _>>()?;
    let subtotal = subtotal(&items)?;
    let now = ctx.clock.now();
    let order = Order {
        id: OrderId::generate(ctx.ids.as_ref()),
        user_id: user_id.to_owned(),
        status: OrderStatus::Pending,
        items,
        total: subtotal,
        subtotal,
        shipping_address,
        payment_id: None,
        failure: None,
        cancelled_by: None,
        status_history: vec![StatusChange {
            status: OrderStatus::Pending,
            at: now,
            reason: None,
        }],
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let location = format!("/v1/orders/{}", order.id);
    let view = OrderView::of(
        order.clone(),
        Some(PaymentSummary {
            status: "pending".into(),
        }),
    );
    let saved = Saved {
        request_hash: request_hash.to_owned(),
        status: 202,
        body: serde_json::to_value(&view).map_err(|e| StoreError::Invalid(e.to_string()))?,
        location: Some(location),
    };
    let mut ops = vec![
        idempotency::save(user_id, idem, &saved, now),
        repo::create(&order, &input.payment_token),
        lite_events::outbox::put(&events::created(ctx, &order, correlation_id)),
    ];
    ops.extend(cart::checkout::checked_out_ops(
        ctx,
        user_id,
        &order.id,
        &cart,
        correlation_id,
    ));
    match store.transact(ops).await {
        Ok(()) => {
            tracing::info!(order_id = %order.id, total = %order.total, "order placed");
            lite_metrics::orders_placed();
            Ok(saved.respond())
        }
        // Another request with this key won the race: answer as it did.
        Err(e) if e.failed_on(idempotency::OP_NAME) => {
            match idempotency::lookup(store, ctx.clock.now(), user_id, idem).await? {
                Some(earlier) => earlier.replay(request_hash),
                None => Err(StoreError::Contention.into()),
            }
        }
        Err(e) if e.failed_on(cart::checkout::CART_OP) => Err(OrdersError::Conflict(
            "Your cart changed while the order was being placed; review it and try again.".into(),
        )),
        Err(e) => Err(e.into()),
    }
}
