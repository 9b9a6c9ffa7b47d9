use crate::domain::{OrderId, OrderStatus, OrderView, PaymentSummary, Transition};
use crate::idempotency::{self, IdempotencyKey};
use crate::place::{self, PlaceOrder, PlaceOrderBody};
use crate::repo::{self, Transitioned};
use crate::{events, keys, OrdersError};
use axum::extract::{FromRef, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use lite_events::contracts::CancelledBy;
use lite_flags::{Checkout, SharedFlags};
use lite_http::{
    Access, Admin, Authenticated, Claims, Json, PageParams, Query, Role, RouteSpec, TableAccess,
};
use lite_ports::paging::newest_first;
use lite_ports::Context;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes as utoipa_routes};

pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "POST",
        path: "/v1/orders",
        service: "orders",
        function: "orders-place",
        auth: Access::Bearer,
        table: TableAccess::ReadWrite,
    },
    RouteSpec {
        method: "GET",
        path: "/v1/orders",
        service: "orders",
        function: "orders-list",
        auth: Access::Bearer,
        table: TableAccess::Read,
    },
    RouteSpec {
        method: "GET",
        path: "/v1/orders/{id}",
        service: "orders",
        function: "orders-get",
        auth: Access::Bearer,
        table: TableAccess::Read,
    },
    RouteSpec {
        method: "POST",
        path: "/v1/orders/{id}/cancel",
        service: "orders",
        function: "orders-cancel",
        auth: Access::Bearer,
        table: TableAccess::ReadWrite,
    },
    RouteSpec {
        method: "POST",
        path: "/v1/orders/{id}/ship",
        service: "orders",
        function: "orders-ship",
        auth: Access::Admin,
        table: TableAccess::ReadWrite,
    },
];

/// What the routes read: the context, and the runtime flags (order
/// placement only).
#[derive(Clone)]
pub struct OrdersState {
    pub ctx: Context,
    pub flags: SharedFlags,
}

impl FromRef<OrdersState> for Context {
    fn from_ref(state: &OrdersState) -> Context {
        state.ctx.clone()
    }
}

impl FromRef<OrdersState> for SharedFlags {
    fn from_ref(state: &OrdersState) -> SharedFlags {
        state.flags.clone()
    }
}

pub fn routes() -> OpenApiRouter<OrdersState> {
    OpenApiRouter::new()
        .routes(utoipa_routes!(place_order, list_orders))
        .routes(utoipa_routes!(get_order))
        .routes(utoipa_routes!(cancel_order))
        .routes(utoipa_routes!(ship_order))
}

pub fn router(state: OrdersState) -> axum::Router {
    routes().with_state(state).split_for_parts().0
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// Places an order from the caller's cart. The checkout runs asynchronously:
/// poll `GET /v1/orders/{id}` until the status leaves PENDING.
#[utoipa::path(
    post, path = "/v1/orders", tag = "orders",
    request_body = PlaceOrderBody,
    params(("Idempotency-Key" = String, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$",
        description = "Required: 1 to 255 visible ASCII characters (e.g. a UUID). One key per order attempt; a retry with the same key and body gets the original answer.")),
    security(("bearer" = [])),
    responses(
        (status = 202, body = OrderView, description = "Placed (PENDING), or the original answer to a retry", headers(
            ("Location" = String, description = "The order's URL"),
            ("Idempotent-Replayed" = String, description = "`true` when this is the saved answer to an earlier request with the key"),
        )),
        (status = 400, description = "Invalid body, missing or malformed `Idempotency-Key`, unknown `addressId`, or no address given and none saved"),
        (status = 409, description = "`idempotency_conflict` (key reused with another body), `price_changed` (the cart now shows current prices) or `conflict` (cart changed meanwhile)"),
        (status = 422, description = "`cart_empty`"),
        (status = 503, description = "No order was placed and the cart is unchanged; retry after `Retry-After` seconds. `checkout_paused`: checkout is paused for maintenance (runtime flag `checkoutPaused`); `unavailable`: payments are unavailable (the payment provider's circuit is open) or the store is busy", headers(
            ("Retry-After" = u64, description = "Seconds to wait before trying again"),
        )),
    )
)]
async fn place_order(
    State(ctx): State<Context>,
    State(flags): State<SharedFlags>,
    Authenticated(claims): Authenticated,
    headers: HeaderMap,
    Json(body): Json<PlaceOrderBody>,
) -> Result<Response, OrdersError> {
    let idem = IdempotencyKey::from_headers(&headers)?;
    let hash = idempotency::request_hash(&body);
    // A retry gets the original answer, whatever happened since.
    if let Some(saved) =
        idempotency::lookup(ctx.store.as_ref(), ctx.clock.now(), &claims.sub, &idem).await?
    {
        return saved.replay(&hash);
    }
    let input = PlaceOrder::parse(body)?;
    // Paused by the operator: refuse before anything is written. After the
    // replay above, so a retry of an order placed earlier still gets it.
    if let Checkout::Paused { retry_after_secs } = flags.flags().await.checkout {
        return Err(OrdersError::CheckoutPaused { retry_after_secs });
    }
    place::place(
        &ctx,
        &claims.sub,
        input,
        &idem,
        &hash,
        &lite_http::correlation::current(),
    )
    .await
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderPage {
    pub items: Vec<OrderView>,
    pub next_cursor: Option<String>,
}

/// The caller's orders, newest first.
#[utoipa::path(
    get, path = "/v1/orders", tag = "orders",
    params(PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = OrderPage),
        (status = 400, description = "Invalid limit or cursor"),
    )
)]
async fn list_orders(
    State(ctx): State<Context>,
    Authenticated(claims): Authenticated,
    Query(params): Query<PageParams>,
) -> Result<Json<OrderPage>, OrdersError> {
    let limit = params.limit()?;
    let scope = format!("orders|{}", claims.sub);
    let page = newest_first::<_, OrdersError>(
        &ctx,
        &scope,
        keys::user_orders(&claims.sub),
        limit,
        params.cursor.as_deref(),
        "order",
        |i| keys::order_of(i).map(|(o, _)| OrderView::of(o, None)),
    )
    .await?;
    Ok(Json(OrderPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// The order, if the caller owns it or is an administrator (404 otherwise:
/// another user's order is not acknowledged to exist).
async fn visible_order(
    ctx: &Context,
    claims: &Claims,
    id: &str,
) -> Result<repo::Stored, OrdersError> {
    let id = OrderId::parse(id).ok_or(OrdersError::NotFound)?;
    let stored = repo::get(ctx.store.as_ref(), &id)
        .await?
        .ok_or(OrdersError::NotFound)?;
    if stored.order.user_id != claims.sub && !claims.has_role(Role::Admin) {
        return Err(OrdersError::NotFound);
    }
    Ok(stored)
}

/// One order with its payment status and status history.
#[utoipa::path(
    get, path = "/v1/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = OrderView),
        (status = 404, description = "No such order of yours"),
    )
)]
async fn get_order(
    State(ctx): State<Context>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, OrdersError> {
    let stored = visible_order(&ctx, &claims, &id).await?;
    Ok(Json(with_payment(&ctx, stored.order).await?))
}

/// Cancels a CONFIRMED order: its stock is released and its payment voided
/// (asynchronously, by the inventory and payments services). A PENDING
/// order is still checking out (409: retry once it is CONFIRMED); a
/// shipped, failed or cancelled one cannot be cancelled (409).
#[utoipa::path(
    post, path = "/v1/orders/{id}/cancel", tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = OrderView, description = "CANCELLED"),
        (status = 404, description = "No such order of yours"),
        (status = 409, description = "Not cancellable in its status"),
    )
)]
async fn cancel_order(
    State(ctx): State<Context>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, OrdersError> {
    let stored = visible_order(&ctx, &claims, &id).await?;
    match stored.order.status {
        OrderStatus::Pending => {
            return Err(OrdersError::Conflict(
                "The order is still checking out; cancel it once it is CONFIRMED.".into(),
            ))
        }
        OrderStatus::Cancelled => {
            return Err(OrdersError::Conflict(
                "The order is already cancelled.".into(),
            ))
        }
        _ => {}
    }
    let by = if stored.order.user_id == claims.sub {
        CancelledBy::Customer
    } else {
        CancelledBy::Admin
    };
    let correlation = lite_http::correlation::current();
    let moved = repo::transition(
        &ctx,
        &stored.order.id,
        Transition::Cancel(by),
        Some(match by {
            CancelledBy::Customer => "cancelled by the customer".into(),
            CancelledBy::Admin => "cancelled by an administrator".into(),
        }),
        |_| {},
        |o| events::cancelled(&ctx, o, by, &correlation),
        |o| keys::purchase_ops(o, -1),
    )
    .await?;
    // The status read above may be stale: a concurrent cancel that won the
    // versioned write makes this one a repeat, and a repeat is a 409 like
    // any cancel of a cancelled order (one 200 per order, ever).
    if let Transitioned::Already(_) = moved {
        return Err(OrdersError::Conflict(
            "The order is already cancelled.".into(),
        ));
    }
    Ok(Json(view_after(&ctx, moved).await?))
}

/// Marks a CONFIRMED order SHIPPED (its payment is captured).
#[utoipa::path(
    post, path = "/v1/orders/{id}/ship", tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = OrderView, description = "SHIPPED"),
        (status = 404, description = "No such order"),
        (status = 409, description = "Not CONFIRMED"),
    )
)]
async fn ship_order(
    State(ctx): State<Context>,
    Admin(_admin): Admin,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, OrdersError> {
    let id = OrderId::parse(&id).ok_or(OrdersError::NotFound)?;
    let correlation = lite_http::correlation::current();
    let moved = repo::transition(
        &ctx,
        &id,
        Transition::Ship,
        None,
        |_| {},
        |o| events::shipped(&ctx, o, &correlation),
        |_| vec![],
    )
    .await?;
    if let Transitioned::Already(_) = moved {
        return Err(OrdersError::Conflict(
            "The order is already shipped.".into(),
        ));
    }
    Ok(Json(view_after(&ctx, moved).await?))
}

async fn view_after(ctx: &Context, t: Transitioned) -> Result<OrderView, OrdersError> {
    let order = match t {
        Transitioned::Moved(o) | Transitioned::Already(o) => o,
    };
    with_payment(ctx, order).await
}

/// The order's view with its payment's status: the payments service's
/// record, else `pending` while checking out and `none` once the order
/// ended without a payment ever being asked for (e.g. out of stock).
async fn with_payment(
    ctx: &Context,
    order: crate::domain::Order,
) -> Result<OrderView, OrdersError> {
    let status = match payments::read::status(ctx.store.as_ref(), &order.id).await? {
        Some(s) => s,
        None if order.status == OrderStatus::Pending => "pending".to_owned(),
        None => "none".to_owned(),
    };
    Ok(OrderView::of(order, Some(PaymentSummary { status })))
}
