//! The whole route table (every service's routes, in one list) and the
//! OpenAPI document that describes them. The CDK app is generated from
//! [`route_table`] (`amazon-lite routes`), and tests hold the three equal.
//! The platform routes themselves (`/v1/health`, `/v1/openapi.json`) and
//! the `api` Lambda are the `platform` crate's: the Lambda serves this
//! document as generated at build time (`platform::DOCUMENT`,
//! `tests/openapi_file.rs`), so it links none of the services.

use axum::body::Bytes;
use lite_http::RouteSpec;
use lite_service::Service;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi, ServerBuilder};

pub mod document;

pub use platform::ROUTES;

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

/// The OpenAPI 3.1 document of the whole API.
pub fn openapi() -> OpenApi {
    let mut doc = platform::routes().split_for_parts().1;
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

/// The platform service with the document built here, at start-up (the
/// local API: its document is always the code's). The Lambda serves the
/// embedded one instead (`platform::Platform::embedded`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Api;

impl Service for Api {
    fn name(&self) -> &'static str {
        "api"
    }

    /// The document is built once, here, not per request.
    fn router(&self) -> axum::Router {
        let doc = serde_json::to_vec(&openapi()).expect("the OpenAPI document serializes");
        platform::Platform::new(Bytes::from(doc)).router()
    }
}

/// The document as committed for the Lambda (`platform::DOCUMENT`):
/// [`openapi`] serialized pretty, with a final newline (what
/// `amazon-lite openapi` prints).
pub fn openapi_file() -> String {
    let mut text =
        serde_json::to_string_pretty(&openapi()).expect("the OpenAPI document serializes");
    text.push('\n');
    text
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
