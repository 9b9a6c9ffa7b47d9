//! `/v1/me`: the caller's own profile, address book and preferences. Every
//! route acts on the user of the bearer token (`claims.sub`) and builds its
//! keys from that id alone, so another user's items are unreachable: their
//! ids answer 404, exactly like ids that do not exist.

use crate::domain::{
    AddressFields, AddressId, AddressInput, AddressView, Preferences, ProfileChanges, ProfilePatch,
    ProfileView,
};
use crate::{repo, UsersError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use lite_http::{Access, Authenticated, Json, RouteSpec, TableAccess};
use lite_ports::Context;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes as utoipa_routes};

const fn route(
    method: &'static str,
    path: &'static str,
    function: &'static str,
    table: TableAccess,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        service: "users",
        function,
        auth: Access::Bearer,
        table,
    }
}

pub const ROUTES: &[RouteSpec] = &[
    route("GET", "/v1/me", "users-get-me", TableAccess::Read),
    route("PATCH", "/v1/me", "users-update-me", TableAccess::ReadWrite),
    route(
        "GET",
        "/v1/me/addresses",
        "users-list-addresses",
        TableAccess::Read,
    ),
    route(
        "POST",
        "/v1/me/addresses",
        "users-create-address",
        TableAccess::ReadWrite,
    ),
    route(
        "PUT",
        "/v1/me/addresses/{id}",
        "users-replace-address",
        TableAccess::ReadWrite,
    ),
    route(
        "DELETE",
        "/v1/me/addresses/{id}",
        "users-delete-address",
        TableAccess::ReadWrite,
    ),
    route(
        "GET",
        "/v1/me/preferences",
        "users-get-preferences",
        TableAccess::Read,
    ),
    route(
        "PUT",
        "/v1/me/preferences",
        "users-put-preferences",
        TableAccess::ReadWrite,
    ),
];

pub fn routes() -> OpenApiRouter<Context> {
    OpenApiRouter::new()
        .routes(utoipa_routes!(get_me, update_me))
        .routes(utoipa_routes!(list_addresses, create_address))
        .routes(utoipa_routes!(replace_address, delete_address))
        .routes(utoipa_routes!(get_preferences, put_preferences))
}

pub fn router(ctx: Context) -> axum::Router {
    routes().with_state(ctx).split_for_parts().0
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// The caller's address book (at most 20 addresses, so never paginated).
#[derive(Debug, Serialize, ToSchema)]
pub struct AddressList {
    /// The default address first, then the others oldest first.
    items: Vec<AddressView>,
}

fn parse_address_id(raw: &str) -> Result<AddressId, UsersError> {
    AddressId::parse(raw).ok_or(UsersError::AddressNotFound)
}

/// The caller's profile.
#[utoipa::path(
    get, path = "/v1/me", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, body = ProfileView),
        (status = 404, description = "The account has no profile"),
    )
)]
async fn get_me(
    State(ctx): State<Context>,
    Authenticated(claims): Authenticated,
) -> Result<Json<ProfileView>, UsersError> {
    Ok(Json(repo::get_profile(&ctx, &claims.sub).await?.into()))
}

/// Changes the caller's name or phone.
///
/// Only the fields sent change; `phone: null` clears the phone. The email
/// cannot be changed here: sending it is a 400 naming `email`.
#[utoipa::path(
    patch, path = "/v1/me", tag = "users",
    request_body = ProfilePatch,
    security(("bearer" = [])),
    responses(
        (status = 200, body = ProfileView),
        (status = 400, description = "Invalid, unknown or unchangeable fields, each named"),
        (status = 404, description = "The account has no profile"),
    )
)]
async fn update_me(
    State(ctx): State<Context>,
    Authenticated(claims): Authenticated,
    Json(body): Json<Map<String, Value>>,
) -> Result<Json<ProfileView>, UsersError> {
    let changes = ProfileChanges::parse(body)?;
    Ok(Json(
        repo::update_profile(&ctx, &claims.sub, changes)
            .await?
            .into(),
    ))
}

/// The caller's address book.
#[utoipa::path(
    get, path = "/v1/me/addresses", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, body = AddressList),
        (status = 404, description = "The account has no profile"),
    )
)]
async fn list_addresses(
    State(ctx): State<Context>,
    Authenticated(claims): Authenticated,
) -> Result<Json<AddressList>, UsersError> {
    let items = repo::list_addresses(&ctx, &claims.sub).await?;
    Ok(Json(AddressList { items }))
}

/// Adds an address to the caller's address book.
///
/// The first address becomes the default whatever `isDefault` says;
/// `isDefault: true` moves the default to the new one. An account holds at
/// most 20 addresses: the 21st is a 409 `conflict`.
#[utoipa::path(
    post, path = "/v1/me/addresses", tag = "users",
    request_body = AddressInput,
    security(("bearer" = [])),
    responses(
        (status = 201, body = AddressView, headers(("Location" = String, description = "The address's URL"))),
        (status = 404, description = "The account has no profile"),
        (status = 409, description = "The address book already holds 20 addresses"),
    )
)]
async fn create_address(
    State(ctx): State<Context>,
    Authenticated(claims): Authenticated,
    Json(body): Json<Map<String, Value>>,
) -> Result<Response, UsersError> {
    let fields = AddressFields::parse(body)?;
    let view = repo::create_address(&ctx, &claims.sub, fields).await?;
    let location = format!("/v1/me/addresses/{}", view.address.id);
    Ok(lite_http::created(&location, view))
}

/// Replaces every field of one of the caller's addresses.
///
/// `isDefault: true` makes it the default; `isDefault: false` (or omitted)
/// for the current default is a 409: make another address the default
/// instead. Another user's address id answers 404.
#[utoipa::path(
    put, path = "/v1/me/addresses/{id}", tag = "users",
    params(("id" = String, Path, description = "Address id")),
    request_body = AddressInput,
    security(("bearer" = [])),
    responses(
        (status = 200, body = AddressView),
        (status = 404, description = "No such address of the caller"),
        (status = 409, description = "It is the default address and isDefault is false"),
    )
)]
async fn replace_address(
    State(ctx): State<Context>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
    Json(body): Json<Map<String, Value>>,
) -> Result<Json<AddressView>, UsersError> {
    let id = parse_address_id(&id)?;
    let fields = AddressFields::parse(body)?;
    Ok(Json(
        repo::replace_address(&ctx, &claims.sub, &id, fields).await?,
    ))
}

/// Deletes one of the caller's addresses.
///
/// Deleting the default makes the oldest remaining address the default.
/// Another user's address id answers 404.
#[utoipa::path(
    delete, path = "/v1/me/addresses/{id}", tag = "users",
    params(("id" = String, Path, description = "Address id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such address of the caller"),
        (status = 409, description = "Concurrent changes to the address book; retry"),
    )
)]
async fn delete_address(
    State(ctx): State<Context>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, UsersError> {
    let id = parse_address_id(&id)?;
    repo::delete_address(&ctx, &claims.sub, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's preferences.
#[utoipa::path(
    get, path = "/v1/me/preferences", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Preferences),
        (status = 404, description = "The account has no profile"),
    )
)]
async fn get_preferences(
    State(ctx): State<Context>,
    Authenticated(claims): Authenticated,
) -> Result<Json<Preferences>, UsersError> {
    Ok(Json(repo::get_preferences(&ctx, &claims.sub).await?))
}

/// Replaces the caller's preferences.
///
/// Every field is required.
#[utoipa::path(
    put, path = "/v1/me/preferences", tag = "users",
    request_body = Preferences,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Preferences),
        (status = 400, description = "Missing, invalid or unknown fields, each named"),
        (status = 404, description = "The account has no profile"),
    )
)]
async fn put_preferences(
    State(ctx): State<Context>,
    Authenticated(claims): Authenticated,
    Json(body): Json<Map<String, Value>>,
) -> Result<Json<Preferences>, UsersError> {
    let prefs = Preferences::parse(body)?;
    Ok(Json(repo::put_preferences(&ctx, &claims.sub, prefs).await?))
}
