//! Platform routes (`/v1/health`, `/v1/openapi.json`) and the whole route
//! table: every service's routes, in one list, with the OpenAPI document
//! that describes them. The CDK app is generated from [`route_table`]
//! (`amazon-lite routes`), and tests hold the three equal.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use lite_http::{Access, Json, RouteSpec, TableAccess};
use lite_service::Service;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi, ServerBuilder};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes as utoipa_routes};

pub mod document;

pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/v1/health",
        service: "api",
        function: "api-health",
        auth: Access::Public,
        table: TableAccess::None,
    },
    RouteSpec {
        method: "GET",
        path: "/v1/openapi.json",
        service: "api",
        function: "api-openapi",
        auth: Access::Public,
        table: TableAccess::None,
    },
];

/// Every route of the system, service by service.
pub fn route_table() -> Vec<RouteSpec> {
    [
        ROUTES,
        auth::ROUTES,
        catalog::ROUTES,
        inventory::ROUTES,
        users::ROUTES,
        cart::ROUTES,
        orders::ROUTES,
        payments::ROUTES,
        search::ROUTES,
        reviews::ROUTES,
        notifications::ROUTES,
    ]
    .concat()
}

fn own_routes() -> OpenApiRouter<Bytes> {
    OpenApiRouter::new()
        .routes(utoipa_routes!(health))
        .routes(utoipa_routes!(openapi_json))
}

/// The OpenAPI 3.1 document of the whole API.
pub fn openapi() -> OpenApi {
    let mut doc = own_routes().split_for_parts().1;
    doc.merge(auth::openapi());
    doc.merge(catalog::openapi());
    doc.merge(inventory::openapi());
    doc.merge(users::openapi());
    doc.merge(cart::openapi());
    doc.merge(orders::openapi());
    doc.merge(payments::openapi());
    doc.merge(search::openapi());
    doc.merge(reviews::openapi());
    doc.merge(notifications::openapi());
    doc.info = InfoBuilder::new()
        .title("Amazon Lite API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "E-commerce backend. JSON in and out, camelCase fields, money in integer minor units, \
             errors as application/problem+json (RFC 9457) with a stable `code`.",
        ))
        .build();
    doc.servers = Some(vec![ServerBuilder::new().url("/").build()]);
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    document::complete(&mut doc, &route_table());
    // After `complete`, so the shared answers (401, 500, ...) document the
    // deprecation headers too.
    lite_http::deprecation::document(&mut doc, &deprecations());
    doc
}

/// Every route on its way out (`lite_http::deprecation`), service by service.
pub fn deprecations() -> Vec<lite_http::deprecation::Deprecation> {
    [auth::DEPRECATED].concat()
}

/// The platform service: health and the document. It owns no ports (it
/// reads nothing), so it is built from nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Api;

impl Service for Api {
    fn name(&self) -> &'static str {
        "api"
    }

    /// The document is built once, here, not per request.
    fn router(&self) -> axum::Router {
        let doc = serde_json::to_vec(&openapi()).expect("the OpenAPI document serializes");
        own_routes()
            .with_state(Bytes::from(doc))
            .split_for_parts()
            .0
    }
}

#[derive(Serialize, ToSchema)]
struct Health {
    /// Always `ok` when the process serves requests.
    status: &'static str,
}

/// Liveness.
#[utoipa::path(get, path = "/v1/health", tag = "platform", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// This document.
#[utoipa::path(
    get, path = "/v1/openapi.json", tag = "platform",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json"))
)]
async fn openapi_json(State(doc): State<Bytes>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_table_and_openapi_agree() {
        lite_http::routes::check_against_openapi(&route_table(), &openapi()).unwrap();
    }

    #[test]
    fn function_names_are_unique_and_routes_are_unique() {
        let table = route_table();
        let mut names: Vec<_> = table.iter().map(|r| r.function).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), table.len());
        let mut keys: Vec<_> = table.iter().map(|r| (r.method, r.path)).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), table.len());
    }

    #[test]
    fn document_is_openapi_3_1() {
        let doc = serde_json::to_value(openapi()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }
}
