//! `GET /metrics`: the Prometheus text of everything the process counted
//! (`lite_metrics`: HTTP requests, orders, payments, events, …).
//!
//! It is served on the API's own listener but outside the route table and
//! the OpenAPI document (which drive the Lambda functions and API Gateway
//! routes: nothing on AWS serves it, metrics leave Lambda as EMF log
//! lines), and outside `lite_http::finish`, so scrapes are not counted as
//! API requests.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;

/// The path of the metrics page.
pub const PATH: &str = "/metrics";

/// Installs the process's recorder (Prometheus) and names the process's
/// service `amazon-lite`; call once, inside the runtime, before the
/// system starts counting.
pub fn install() -> Result<PrometheusHandle, String> {
    lite_metrics::set_process_service(lite_metrics::service::LOCAL);
    lite_metrics::prometheus::install().map_err(|e| format!("cannot install metrics: {e}"))
}

/// `router` with `GET /metrics` rendering `handle`.
pub fn serve_at(router: Router, handle: PrometheusHandle) -> Router {
    router.route(PATH, get(move || render(handle.clone())))
}

async fn render(handle: PrometheusHandle) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        handle.render(),
    )
        .into_response()
}
