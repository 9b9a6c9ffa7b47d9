//! The HTTP layer every Amazon Lite router shares, so the local API and the
//! deployed Lambdas behave the same: problem+json errors, correlation ids,
//! body limits, JSON/query extraction with clear 400s, panics as 500s,
//! security headers, CORS, JSON logs, bearer-token auth, and the route table
//! that feeds the router, the OpenAPI document and the CDK routes.

pub mod auth;
pub mod client_ip;
pub mod correlation;
pub mod deprecation;
pub mod error;
pub mod extract;
pub mod layers;
pub mod paging;
pub mod routes;
pub mod schema;
pub mod telemetry;

#[cfg(feature = "testing")]
pub mod testing;

pub use auth::{Admin, Authenticated, Claims, Role, SessionGuard, TokenVerifier};
pub use client_ip::{ClientIp, TrustedProxy};
pub use error::ApiError;
pub use extract::{created, Json, Query};
pub use layers::{finish, HttpConfig, BODY_LIMIT, SECURITY_HEADERS};
pub use paging::PageParams;
pub use routes::{Access, RouteSpec, TableAccess};
