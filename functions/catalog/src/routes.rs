use crate::domain::{
    parse_category, NewProduct, ProductId, ProductInput, ProductPatch, ProductView, Sort,
};
use crate::freshness;
use crate::repo::{self, ListParams};
use crate::CatalogError;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use lite_core::{Problem, Violations};
use lite_http::paging::{DEFAULT_PAGE, MAX_PAGE};
use lite_http::{Access, Admin, Json, Query, RouteSpec, TableAccess};
use lite_ports::Context;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes as utoipa_routes};

pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/v1/products",
        service: "catalog",
        function: "catalog-list-products",
        auth: Access::Public,
        table: TableAccess::Read,
    },
    RouteSpec {
        method: "POST",
        path: "/v1/products",
        service: "catalog",
        function: "catalog-create-product",
        auth: Access::Admin,
        table: TableAccess::ReadWrite,
    },
    RouteSpec {
        method: "GET",
        path: "/v1/products/{id}",
        service: "catalog",
        function: "catalog-get-product",
        auth: Access::Public,
        table: TableAccess::Read,
    },
    RouteSpec {
        method: "PATCH",
        path: "/v1/products/{id}",
        service: "catalog",
        function: "catalog-update-product",
        auth: Access::Admin,
        table: TableAccess::ReadWrite,
    },
    RouteSpec {
        method: "DELETE",
        path: "/v1/products/{id}",
        service: "catalog",
        function: "catalog-delete-product",
        auth: Access::Admin,
        table: TableAccess::ReadWrite,
    },
];

pub fn routes() -> OpenApiRouter<Context> {
    OpenApiRouter::new()
        .routes(utoipa_routes!(list_products, create_product))
        .routes(utoipa_routes!(get_product, update_product, delete_product))
}

pub fn router(ctx: Context) -> axum::Router {
    routes().with_state(ctx).split_for_parts().0
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Category slug, e.g. `laptops`.
    #[param(schema_with = crate::domain::schema::category)]
    category: Option<String>,
    /// Lowest price, inclusive, in minor units.
    #[param(schema_with = crate::domain::schema::price_bound)]
    min_price: Option<i64>,
    /// Highest price, inclusive, in minor units; not below `minPrice`.
    #[param(schema_with = crate::domain::schema::price_bound)]
    max_price: Option<i64>,
    /// `newest` (default), `price_asc`, `price_desc` or `rating`.
    #[param(inline)]
    sort: Option<Sort>,
    /// Page size, 1..=100 (default 20).
    #[param(schema_with = lite_http::paging::limit_schema)]
    limit: Option<u32>,
    /// Opaque cursor from a previous page's `nextCursor`.
    cursor: Option<String>,
}

impl ListQuery {
    fn parse(self) -> Result<ListParams, Problem> {
        let mut v = Violations::new();
        let category = self
            .category
            .and_then(|c| v.check("category", parse_category(&c)));
        for (field, value) in [("minPrice", self.min_price), ("maxPrice", self.max_price)] {
            if value.is_some_and(|p| !(0..=crate::domain::MAX_PRICE).contains(&p)) {
                v.add(
                    field,
                    format!("must be 0 to {} minor units", crate::domain::MAX_PRICE),
                );
            }
        }
        if let (Some(min), Some(max)) = (self.min_price, self.max_price) {
            if min > max {
                v.add("maxPrice", "must not be below minPrice");
            }
        }
        let limit = self.limit.map_or(DEFAULT_PAGE, |l| l as usize);
        if !(1..=MAX_PAGE).contains(&limit) {
            v.add("limit", format!("must be 1 to {MAX_PAGE}"));
        }
        v.into_result()?;
        Ok(ListParams {
            category,
            min_price: self.min_price,
            max_price: self.max_price,
            sort: self.sort.unwrap_or_default(),
            limit,
            cursor: self.cursor,
        })
    }
}

/// A page of products.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductPage {
    items: Vec<ProductView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

fn parse_id(raw: &str) -> Result<ProductId, CatalogError> {
    ProductId::parse(raw).ok_or(CatalogError::NotFound)
}

/// Lists products, filtered and sorted, one page at a time. Cacheable
/// (`Cache-Control`, `ETag`); `If-None-Match` with the current tag is a 304.
#[utoipa::path(
    get, path = "/v1/products", tag = "catalog",
    params(ListQuery, ("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier answer (or a list of them, or `*`): 304 without a body when it names the current one")),
    responses(
        (status = 200, body = ProductPage, headers(
            ("ETag" = String, description = "Strong tag of this page's body"),
            ("Cache-Control" = String, description = "`public, max-age=30, stale-while-revalidate=30` (`private, no-cache` when the request carried `Authorization`)"),
        )),
        (status = 304, description = "Not modified: `If-None-Match` names the current `ETag`; no body", headers(
            ("ETag" = String, description = "The current tag"),
            ("Cache-Control" = String, description = "As on the 200"),
        )),
        (status = 400, description = "Invalid parameter or cursor, or `maxPrice` below `minPrice`"),
    )
)]
async fn list_products(
    State(ctx): State<Context>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Response, CatalogError> {
    let params = q.parse()?;
    // A `ProductPage`, written from the stored products (`repo::list_body`).
    let body = repo::list_body(&ctx, &params).await?;
    Ok(freshness::cached_body(&headers, body))
}

/// One product, with its current stock. Cacheable (`Cache-Control`,
/// `ETag`); `If-None-Match` with the current tag is a 304.
#[utoipa::path(
    get, path = "/v1/products/{id}", tag = "catalog",
    params(
        ("id" = String, Path, description = "Product id"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier answer (or a list of them, or `*`): 304 without a body when it names the current one"),
    ),
    responses(
        (status = 200, body = ProductView, headers(
            ("ETag" = String, description = "Strong tag of this body: changes whenever the product, its stock or its rating does"),
            ("Cache-Control" = String, description = "`public, max-age=30, stale-while-revalidate=30` (`private, no-cache` when the request carried `Authorization`)"),
        )),
        (status = 304, description = "Not modified: `If-None-Match` names the current `ETag`; no body", headers(
            ("ETag" = String, description = "The current tag"),
            ("Cache-Control" = String, description = "As on the 200"),
        )),
        (status = 404, description = "No such product"),
    )
)]
async fn get_product(
    State(ctx): State<Context>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, CatalogError> {
    // A `ProductView`, written from the stored product (`repo::get_body`).
    let body = repo::get_body(&ctx, &parse_id(&id)?).await?;
    Ok(freshness::cached_body(&headers, body))
}

/// Creates a product (administrators). The sku must be unused.
#[utoipa::path(
    post, path = "/v1/products", tag = "catalog",
    request_body = ProductInput,
    security(("bearer" = [])),
    responses(
        (status = 201, body = ProductView, headers(("Location" = String, description = "The product's URL"))),
        (status = 409, description = "The sku belongs to another product"),
    )
)]
async fn create_product(
    State(ctx): State<Context>,
    _admin: Admin,
    Json(input): Json<ProductInput>,
) -> Result<Response, CatalogError> {
    let product = repo::create(&ctx, NewProduct::parse(input)?).await?;
    let location = format!("/v1/products/{}", product.id);
    Ok(lite_http::created(
        &location,
        repo::view(&ctx, product).await?,
    ))
}

/// Changes some fields of a product (administrators).
#[utoipa::path(
    patch, path = "/v1/products/{id}", tag = "catalog",
    params(("id" = String, Path, description = "Product id")),
    request_body = ProductPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, body = ProductView),
        (status = 404, description = "No such product"),
        (status = 409, description = "Concurrent changes; retry"),
    )
)]
async fn update_product(
    State(ctx): State<Context>,
    _admin: Admin,
    Path(id): Path<String>,
    Json(patch): Json<ProductPatch>,
) -> Result<Json<ProductView>, CatalogError> {
    let id = parse_id(&id)?;
    let product = repo::update(&ctx, &id, patch).await?;
    Ok(Json(repo::view(&ctx, product).await?))
}

/// Deletes a product (administrators): it leaves every listing.
#[utoipa::path(
    delete, path = "/v1/products/{id}", tag = "catalog",
    params(("id" = String, Path, description = "Product id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such product"),
    )
)]
async fn delete_product(
    State(ctx): State<Context>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, CatalogError> {
    repo::delete(&ctx, &parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
