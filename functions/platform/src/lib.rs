//! The platform routes: liveness (`/v1/health`) and the OpenAPI document of
//! the whole API (`/v1/openapi.json`).
//!
//! The document describes every service, so building it needs every
//! service's crate (`api::openapi`). The Lambda must not link them all for
//! one static answer: it serves [`DOCUMENT`], the document generated at
//! build time and committed as `openapi.json` beside this crate's manifest.
//! `functions/api/tests/openapi_file.rs` fails when that file differs from
//! `api::openapi()` and says how to regenerate it. The local API serves
//! the document it builds at start-up through the same routes.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use lite_http::{Access, Json, RouteSpec, TableAccess};
use lite_service::Service;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes as utoipa_routes};

/// The OpenAPI document of the whole API as generated at build time:
/// `api::openapi()` serialized pretty, with a final newline.
pub const DOCUMENT: &[u8] = include_bytes!("../openapi.json");

/// The file [`DOCUMENT`] is read from, relative to the repository root.
pub const DOCUMENT_PATH: &str = "functions/platform/openapi.json";

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

/// The platform routes with their OpenAPI annotations; the state is the
/// serialized document `/v1/openapi.json` answers.
pub fn routes() -> OpenApiRouter<Bytes> {
    OpenApiRouter::new()
        .routes(utoipa_routes!(health))
        .routes(utoipa_routes!(openapi_json))
}

/// The platform service (metrics and logs name it `api`). It reads
/// nothing, so it owns no ports: only the document it serves.
#[derive(Debug, Clone)]
pub struct Platform {
    document: Bytes,
}

impl Platform {
    /// Serving `document` (a serialized OpenAPI document).
    pub fn new(document: impl Into<Bytes>) -> Self {
        Self {
            document: document.into(),
        }
    }

    /// Serving the document embedded at build time ([`DOCUMENT`]): no work
    /// at init, the bytes are the binary's.
    pub fn embedded() -> Self {
        Self::new(Bytes::from_static(DOCUMENT))
    }
}

impl Service for Platform {
    fn name(&self) -> &'static str {
        "api"
    }

    fn router(&self) -> axum::Router {
        routes()
            .with_state(self.document.clone())
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
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn get(router: axum::Router, path: &str) -> (StatusCode, String, Bytes) {
        let response = router
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, content_type, body)
    }

    #[tokio::test]
    async fn the_embedded_service_serves_the_committed_document_as_is() {
        let (status, content_type, body) =
            get(Platform::embedded().router(), "/v1/openapi.json").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type, "application/json");
        assert_eq!(body.as_ref(), DOCUMENT);
        let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        // The committed document describes the platform routes too.
        for route in ROUTES {
            assert!(
                doc["paths"][route.path]["get"].is_object(),
                "{}",
                route.path
            );
        }
    }

    #[tokio::test]
    async fn health_answers_ok_and_a_given_document_is_served() {
        let router = Platform::new(Bytes::from_static(b"{\"openapi\":\"3.1.0\"}")).router();
        let (status, _, body) = get(router.clone(), "/v1/health").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body.as_ref(), br#"{"status":"ok"}"#);
        let (_, _, body) = get(router, "/v1/openapi.json").await;
        assert_eq!(body.as_ref(), br#"{"openapi":"3.1.0"}"#);
    }
}
