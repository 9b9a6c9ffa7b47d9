use crate::checkout::Payments;
use crate::read::PaymentView;
use crate::webhook::{Received, WebhookEvent};
use crate::PaymentsError;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use bytes::Bytes;
use lite_http::{Access, Authenticated, Json, Role, RouteSpec, TableAccess};
use std::sync::Arc;
use utoipa_axum::{router::OpenApiRouter, routes as utoipa_routes};

pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "POST",
        path: "/v1/payments/webhook",
        service: "payments",
        function: "payments-webhook",
        auth: Access::Public,
        table: TableAccess::ReadWrite,
    },
    RouteSpec {
        method: "GET",
        path: "/v1/orders/{id}/payment",
        service: "payments",
        function: "payments-get-order-payment",
        auth: Access::Bearer,
        table: TableAccess::Read,
    },
];

type AppState = Arc<Payments>;

pub fn routes() -> OpenApiRouter<AppState> {
    // One `routes!` per path: the macro mounts every handler it is given on
    // the first handler's path.
    OpenApiRouter::new()
        .routes(utoipa_routes!(webhook))
        .routes(utoipa_routes!(get_order_payment))
}

pub fn router(payments: Arc<Payments>) -> axum::Router {
    routes().with_state(payments).split_for_parts().0
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// The payment provider's webhook. The signature covers the exact bytes of
/// the body, so the body is read raw and parsed only after it verified.
#[utoipa::path(
    post, path = "/v1/payments/webhook", tag = "payments",
    params(
        ("Payment-Signature" = String, Header,
            description = "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" with the webhook secret>`; more than one `v1` is allowed while the secret rotates; `t` must be within 5 minutes of the server's time",
            example = "t=1790000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"),
    ),
    request_body(content = WebhookEvent, content_type = "application/json"),
    responses(
        (status = 200, body = Received, description = "Accepted: applied, a replay of an event already applied (no second effect), or an event that no longer changes anything"),
        (status = 400, description = "Missing, malformed, stale or wrong signature (`invalid_signature`), or a malformed event (`bad_request`); nothing changed"),
        (status = 503, description = "A dependency is down; the provider redelivers"),
    )
)]
async fn webhook(
    State(p): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Received>, PaymentsError> {
    let signature = match headers.get(crate::signature::HEADER) {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| {
            PaymentsError::InvalidSignature(crate::SignatureError::Malformed("not ASCII"))
        })?),
    };
    crate::webhook::receive(&p, signature, &body).await?;
    Ok(Json(Received { received: true }))
}

/// The payment of one order (its owner or an administrator).
#[utoipa::path(
    get, path = "/v1/orders/{id}/payment", tag = "payments",
    params(("id" = String, Path, description = "Order id (`ord_...`)")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = PaymentView),
        (status = 404, description = "No such order, not yours, or no payment asked for yet"),
    )
)]
async fn get_order_payment(
    State(p): State<AppState>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<PaymentView>, PaymentsError> {
    // An id that is not an order id cannot have a payment.
    let id = lite_core::OrderId::parse(&id).ok_or(PaymentsError::NotFound)?;
    match crate::read::payment(p.ctx.store.as_ref(), &id).await? {
        Some((view, owner)) if owner == claims.sub || claims.has_role(Role::Admin) => {
            Ok(Json(view))
        }
        _ => Err(PaymentsError::NotFound),
    }
}
