//! What every operation shares, added to the document in one place from the
//! route table, so the services' annotations name only what is particular to
//! a route (its 404 and 409 and what they mean):
//!
//! - a JSON request body can be malformed (400), too large (413) or sent
//!   with another media type (415);
//! - a `Bearer` route answers 401 without a valid token, an `Admin` route
//!   also 403 for a token without the role;
//! - any route can fail (500) or find a dependency down (503);
//! - every error is `application/problem+json` with the [`problem_schema`];
//! - a request body with a field the API does not know is a 400 (serde's
//!   `deny_unknown_fields`, or the users service's field-by-field parsers),
//!   so every request body schema is closed (`additionalProperties: false`)
//!   but those [`OPEN_BODIES`] names.

use lite_core::ErrorCode;
use lite_http::{Access, RouteSpec};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder, Schema};

/// The media type every error is sent as (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";
/// The name of the problem schema component.
pub const PROBLEM: &str = "Problem";

/// Request bodies that tolerate unknown fields: the payment provider's
/// events may gain fields.
pub const OPEN_BODIES: &[&str] = &["WebhookEvent"];

/// Adds the shared responses and the problem schema to `doc`.
pub fn complete(doc: &mut OpenApi, table: &[RouteSpec]) {
    close_request_bodies(doc);
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert("FieldError".to_owned(), field_error_schema());
    components
        .schemas
        .insert(PROBLEM.to_owned(), problem_schema());
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in lite_http::routes::operations_mut(item) {
            let access = table
                .iter()
                .find(|r| r.method == method && r.path == path)
                .map_or(Access::Public, |r| r.auth);
            add_shared_responses(op, access);
            problems_as_problem_json(op);
            path_parameters_required(op);
        }
    }
}

fn close_request_bodies(doc: &mut OpenApi) {
    let mut names = Vec::new();
    for item in doc.paths.paths.values() {
        for (_, op) in lite_http::routes::operations(item) {
            let schema = op
                .request_body
                .as_ref()
                .and_then(|b| b.content.get("application/json"))
                .and_then(|c| c.schema.as_ref());
            // A body schema names its component directly, or in a `oneOf`
            // with `null` when the body is optional.
            let refs: Vec<&Ref> = match schema {
                Some(RefOr::Ref(r)) => vec![r],
                Some(RefOr::T(Schema::OneOf(one))) => one
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        RefOr::Ref(r) => Some(r),
                        RefOr::T(_) => None,
                    })
                    .collect(),
                _ => vec![],
            };
            for r in refs {
                if let Some(name) = r.ref_location.strip_prefix("#/components/schemas/") {
                    names.push(name.to_owned());
                }
            }
        }
    }
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for name in names {
        if OPEN_BODIES.contains(&name.as_str()) {
            continue;
        }
        if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut(&name) {
            o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
}

/// Whether the operation takes a JSON request body.
pub fn has_json_body(op: &Operation) -> bool {
    op.request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("application/json"))
}

fn add_shared_responses(op: &mut Operation, access: Access) {
    let mut shared: Vec<(&str, &str)> = Vec::new();
    if has_json_body(op) {
        shared.extend([
            (
                "400",
                "Malformed JSON, or invalid, missing or unknown fields (each named in `errors`)",
            ),
            ("413", "The body exceeds 256 KiB"),
            (
                "415",
                "The body is not sent as `Content-Type: application/json`",
            ),
        ]);
    }
    if matches!(access, Access::Bearer | Access::Admin) {
        shared.push((
            "401",
            "No valid bearer token: missing, malformed, expired or revoked",
        ));
    }
    if access == Access::Admin {
        shared.push(("403", "The token's user is not an administrator"));
    }
    shared.extend([
        (
            "500",
            "Internal error (no detail is shown; the correlation id finds the logs)",
        ),
        ("503", "A dependency is unavailable; retry later"),
    ]);
    for (status, description) in shared {
        // A route's own description of a status says more; keep it.
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(ResponseBuilder::new().description(description).build()));
    }
}

/// OpenAPI requires path parameters to be required; a parameter declared
/// with `schema_with` is not marked so by the derive.
fn path_parameters_required(op: &mut Operation) {
    for p in op.parameters.iter_mut().flatten() {
        if p.parameter_in == ParameterIn::Path {
            p.required = Required::True;
        }
    }
}

/// Every 4xx and 5xx response carries a problem body.
fn problems_as_problem_json(op: &mut Operation) {
    for (status, response) in op.responses.responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let (true, RefOr::T(response)) = (is_error, response) {
            set_problem_content(response);
        }
    }
}

fn set_problem_content(response: &mut Response) {
    response.content.clear();
    response.content.insert(
        PROBLEM_JSON.to_owned(),
        Content::new(Some(Ref::from_schema_name(PROBLEM))),
    );
}

/// Every error code, in the order `ErrorCode` declares them.
const CODES: [ErrorCode; 18] = [
    ErrorCode::ValidationFailed,
    ErrorCode::BadRequest,
    ErrorCode::Unauthorized,
    ErrorCode::Forbidden,
    ErrorCode::NotFound,
    ErrorCode::MethodNotAllowed,
    ErrorCode::Conflict,
    ErrorCode::OutOfStock,
    ErrorCode::IdempotencyConflict,
    ErrorCode::PayloadTooLarge,
    ErrorCode::UnsupportedMediaType,
    ErrorCode::RateLimited,
    ErrorCode::CartEmpty,
    ErrorCode::PriceChanged,
    ErrorCode::InvalidSignature,
    ErrorCode::Internal,
    ErrorCode::Unavailable,
    ErrorCode::CheckoutPaused,
];

/// Fails to compile when a code is added and [`CODES`] does not list it.
#[allow(dead_code)]
fn listed(code: ErrorCode) {
    match code {
        ErrorCode::ValidationFailed
        | ErrorCode::BadRequest
        | ErrorCode::Unauthorized
        | ErrorCode::Forbidden
        | ErrorCode::NotFound
        | ErrorCode::MethodNotAllowed
        | ErrorCode::Conflict
        | ErrorCode::OutOfStock
        | ErrorCode::IdempotencyConflict
        | ErrorCode::PayloadTooLarge
        | ErrorCode::UnsupportedMediaType
        | ErrorCode::RateLimited
        | ErrorCode::CartEmpty
        | ErrorCode::PriceChanged
        | ErrorCode::InvalidSignature
        | ErrorCode::Internal
        | ErrorCode::Unavailable
        | ErrorCode::CheckoutPaused => {}
    }
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::Type(Type::String))
}

/// `errors[]`: one invalid input field.
fn field_error_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .description(Some("One invalid input field."))
        .property(
            "field",
            string().description(Some(
                "The field, parameter or header: `price.amount`, `images[0]`, `limit`, `Idempotency-Key`",
            )),
        )
        .required("field")
        .property("message", string().description(Some("What is wrong with it")))
        .required("message")
        .into()
}

/// The RFC 9457 problem every error is answered with (`lite_core::Problem`
/// rendered by `Problem::to_body`).
fn problem_schema() -> RefOr<Schema> {
    let codes: Vec<&str> = CODES.iter().map(|c| c.as_str()).collect();
    ObjectBuilder::new()
        .description(Some(
            "RFC 9457 problem details. `code` is stable for programs; `detail` is for people. \
             A 5xx never carries internal detail.",
        ))
        .property(
            "type",
            string()
                .format(Some(SchemaFormat::Custom("uri".to_owned())))
                .examples([serde_json::json!(
                    "https://amazon-lite.dev/problems/validation-failed"
                )]),
        )
        .required("type")
        .property(
            "title",
            string().examples([serde_json::json!("Validation failed")]),
        )
        .required("title")
        .property(
            "status",
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::Integer))
                .minimum(Some(400))
                .maximum(Some(599)),
        )
        .required("status")
        .property("detail", string())
        .required("detail")
        .property("code", string().enum_values(Some(codes)))
        .required("code")
        .property(
            "correlationId",
            string().description(Some(
                "The request's `X-Correlation-Id`: quote it when reporting a problem",
            )),
        )
        .required("correlationId")
        .property(
            "errors",
            ArrayBuilder::new()
                .items(Ref::from_schema_name("FieldError"))
                .description(Some(
                    "Every invalid field; empty unless the input was invalid",
                )),
        )
        .required("errors")
        .into()
}
