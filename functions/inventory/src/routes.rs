use crate::stock::{self, StockLevel, MAX_UNITS};
use crate::InventoryError;
use axum::extract::{Path, State};
use lite_core::{Problem, Sku};
use lite_http::{Access, Admin, Json, RouteSpec, TableAccess};
use lite_ports::Context;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes as utoipa_routes};

pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/v1/inventory/{sku}",
        service: "inventory",
        function: "inventory-get-stock",
        auth: Access::Admin,
        table: TableAccess::Read,
    },
    RouteSpec {
        method: "PUT",
        path: "/v1/inventory/{sku}",
        service: "inventory",
        function: "inventory-put-stock",
        auth: Access::Admin,
        table: TableAccess::ReadWrite,
    },
];

pub fn routes() -> OpenApiRouter<Context> {
    OpenApiRouter::new().routes(utoipa_routes!(get_stock, put_stock))
}

pub fn router(ctx: Context) -> axum::Router {
    routes().with_state(ctx).split_for_parts().0
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

fn parse_sku(raw: &str) -> Result<Sku, InventoryError> {
    Sku::parse(raw).map_err(|e| InventoryError::Invalid(Problem::field("sku", e.to_string())))
}

/// Stock of one sku.
#[utoipa::path(
    get, path = "/v1/inventory/{sku}", tag = "inventory",
    params(SkuPath),
    security(("bearer" = [])),
    responses(
        (status = 200, body = StockLevel),
        (status = 400, description = "Malformed sku"),
        (status = 404, description = "Never stocked"),
    )
)]
async fn get_stock(
    State(ctx): State<Context>,
    _admin: Admin,
    Path(sku): Path<String>,
) -> Result<Json<StockLevel>, InventoryError> {
    let sku = parse_sku(&sku)?;
    let level = crate::read::levels(ctx.store.as_ref(), std::slice::from_ref(&sku)).await?;
    level
        .into_iter()
        .next()
        .flatten()
        .map(Json)
        .ok_or(InventoryError::NotFound)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutStock {
    /// Units free to sell, 0..=10000000. Units reserved by checkouts in
    /// flight are counted apart and never changed by this.
    #[schema(schema_with = units_schema)]
    pub available: i64,
}

fn units_schema() -> utoipa::openapi::Object {
    lite_http::schema::integer(0, MAX_UNITS)
}

/// The path of an inventory route.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // Documentation only: the handlers parse the raw segment.
struct SkuPath {
    /// Stock-keeping unit.
    #[param(schema_with = lite_http::schema::sku)]
    sku: String,
}

/// Sets the units free to sell (creates the record when absent); units
/// reserved by checkouts in flight are never touched.
#[utoipa::path(
    put, path = "/v1/inventory/{sku}", tag = "inventory",
    params(SkuPath),
    request_body = PutStock,
    security(("bearer" = [])),
    responses(
        (status = 200, body = StockLevel),
        (status = 400, description = "Malformed sku, or `available` outside 0..=10000000"),
    )
)]
async fn put_stock(
    State(ctx): State<Context>,
    _admin: Admin,
    Path(sku): Path<String>,
    Json(body): Json<PutStock>,
) -> Result<Json<StockLevel>, InventoryError> {
    let sku = parse_sku(&sku)?;
    if !(0..=MAX_UNITS).contains(&body.available) {
        return Err(InventoryError::Invalid(Problem::field(
            "available",
            format!("must be between 0 and {MAX_UNITS}"),
        )));
    }
    let level =
        stock::set_available(ctx.store.as_ref(), ctx.clock.as_ref(), &sku, body.available).await?;
    Ok(Json(level))
}
