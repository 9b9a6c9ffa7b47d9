use crate::domain::{Content, Review, ReviewInput, ReviewPatch, ReviewStatus};
use crate::listing::{self, ReviewPage, DEFAULT_LIMIT, MAX_LIMIT};
use crate::moderation::{self, Decision};
use crate::summary::SummaryView;
use crate::{repo, ReviewsError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use lite_core::{Problem, Violations};
use lite_http::{Access, Admin, Authenticated, Json, Query, Role, RouteSpec, TableAccess};
use lite_ports::Context;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes as utoipa_routes};

const fn spec(
    method: &'static str,
    path: &'static str,
    function: &'static str,
    auth: Access,
    table: TableAccess,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        service: "reviews",
        function,
        auth,
        table,
    }
}

pub const ROUTES: &[RouteSpec] = &[
    spec(
        "GET",
        "/v1/products/{id}/reviews",
        "reviews-list",
        Access::Public,
        TableAccess::Read,
    ),
    spec(
        "POST",
        "/v1/products/{id}/reviews",
        "reviews-create",
        Access::Bearer,
        TableAccess::ReadWrite,
    ),
    spec(
        "PATCH",
        "/v1/reviews/{id}",
        "reviews-update",
        Access::Bearer,
        TableAccess::ReadWrite,
    ),
    spec(
        "DELETE",
        "/v1/reviews/{id}",
        "reviews-delete",
        Access::Bearer,
        TableAccess::ReadWrite,
    ),
    spec(
        "GET",
        "/v1/admin/reviews",
        "reviews-admin-list",
        Access::Admin,
        TableAccess::Read,
    ),
    spec(
        "POST",
        "/v1/admin/reviews/{id}/approve",
        "reviews-approve",
        Access::Admin,
        TableAccess::ReadWrite,
    ),
    spec(
        "POST",
        "/v1/admin/reviews/{id}/reject",
        "reviews-reject",
        Access::Admin,
        TableAccess::ReadWrite,
    ),
];

pub fn routes() -> OpenApiRouter<Context> {
    OpenApiRouter::new()
        .routes(utoipa_routes!(list_reviews, create_review))
        .routes(utoipa_routes!(update_review, delete_review))
        .routes(utoipa_routes!(admin_list))
        .routes(utoipa_routes!(approve))
        .routes(utoipa_routes!(reject))
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
struct PageQuery {
    /// Page size, 1..=100 (default 20).
    #[param(schema_with = limit_schema)]
    limit: Option<u32>,
    /// Opaque cursor from a previous page's `nextCursor`.
    cursor: Option<String>,
}

fn limit_schema() -> utoipa::openapi::Object {
    lite_http::paging::bounded_limit(MAX_LIMIT, DEFAULT_LIMIT)
}

fn status_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let all = [
        ReviewStatus::Pending,
        ReviewStatus::Approved,
        ReviewStatus::Rejected,
    ];
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some(all.map(ReviewStatus::as_str)))
        .default(Some(ReviewStatus::Pending.as_str().into()))
        .build()
}

fn parse_limit(v: &mut Violations, limit: Option<u32>) -> usize {
    let limit = limit.map_or(DEFAULT_LIMIT, |l| l as usize);
    if !(1..=MAX_LIMIT).contains(&limit) {
        v.add("limit", format!("must be 1 to {MAX_LIMIT}"));
    }
    limit
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AdminQuery {
    /// `pending` (default), `approved` or `rejected`.
    #[param(schema_with = status_schema)]
    status: Option<String>,
    /// Page size, 1..=100 (default 20).
    #[param(schema_with = limit_schema)]
    limit: Option<u32>,
    /// Opaque cursor from a previous page's `nextCursor`.
    cursor: Option<String>,
}

/// A product's approved reviews and their summary.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductReviews {
    items: Vec<Review>,
    summary: SummaryView,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

/// A page of the moderation queue.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewQueue {
    items: Vec<Review>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

/// A product's approved reviews, newest first, with its rating summary.
#[utoipa::path(
    get, path = "/v1/products/{id}/reviews", tag = "reviews",
    params(("id" = String, Path, description = "Product id"), PageQuery),
    responses(
        (status = 200, body = ProductReviews),
        (status = 400, description = "Invalid parameter or cursor"),
        (status = 404, description = "No such product"),
    )
)]
async fn list_reviews(
    State(ctx): State<Context>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<ProductReviews>, ReviewsError> {
    let mut v = Violations::new();
    let limit = parse_limit(&mut v, q.limit);
    v.into_result()?;
    let (page, summary) = listing::approved(&ctx, &id, limit, q.cursor.as_deref()).await?;
    Ok(Json(ProductReviews {
        items: page.items,
        summary,
        next_cursor: page.next_cursor,
    }))
}

/// Reviews a product (one review per user and product). It shows once a
/// moderator approves it.
#[utoipa::path(
    post, path = "/v1/products/{id}/reviews", tag = "reviews",
    params(("id" = String, Path, description = "Product id")),
    request_body = ReviewInput,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Review, headers(("Location" = String, description = "The review's URL"))),
        (status = 404, description = "No such product"),
        (status = 409, description = "Already reviewed by this user"),
    )
)]
async fn create_review(
    State(ctx): State<Context>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
    Json(input): Json<ReviewInput>,
) -> Result<Response, ReviewsError> {
    let content = Content::parse(input)?;
    let review = repo::create(&ctx, &id, &claims.sub, content).await?;
    let location = format!("/v1/reviews/{}", review.id);
    Ok(lite_http::created(&location, review))
}

/// Edits the caller's review; it goes back to moderation (and stops
/// counting toward the rating until approved again).
#[utoipa::path(
    patch, path = "/v1/reviews/{id}", tag = "reviews",
    params(("id" = String, Path, description = "Review id")),
    request_body = ReviewPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Review),
        (status = 404, description = "No such review of the caller's"),
        (status = 409, description = "Concurrent changes; retry"),
    )
)]
async fn update_review(
    State(ctx): State<Context>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
    Json(patch): Json<ReviewPatch>,
) -> Result<Json<Review>, ReviewsError> {
    Ok(Json(repo::update(&ctx, &id, &claims.sub, patch).await?))
}

/// Deletes the caller's review (administrators: any review); the author
/// may then review the product again.
#[utoipa::path(
    delete, path = "/v1/reviews/{id}", tag = "reviews",
    params(("id" = String, Path, description = "Review id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such review of the caller's"),
        (status = 409, description = "Concurrent changes; retry"),
    )
)]
async fn delete_review(
    State(ctx): State<Context>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ReviewsError> {
    repo::delete(&ctx, &id, &claims.sub, claims.has_role(Role::Admin)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The moderation queue: reviews in one status, least recently changed
/// first (administrators).
#[utoipa::path(
    get, path = "/v1/admin/reviews", tag = "reviews",
    params(AdminQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = ReviewQueue),
        (status = 400, description = "Invalid parameter or cursor"),
    )
)]
async fn admin_list(
    State(ctx): State<Context>,
    _admin: Admin,
    Query(q): Query<AdminQuery>,
) -> Result<Json<ReviewQueue>, ReviewsError> {
    let mut v = Violations::new();
    let status = match q.status.as_deref() {
        None => Some(ReviewStatus::Pending),
        Some(s) => v.check(
            "status",
            ReviewStatus::parse(s).ok_or("must be pending, approved or rejected"),
        ),
    };
    let limit = parse_limit(&mut v, q.limit);
    v.into_result()?;
    let status = status.ok_or_else(|| Problem::field("status", "is invalid"))?;
    let ReviewPage { items, next_cursor } =
        listing::by_status(&ctx, status, limit, q.cursor.as_deref()).await?;
    Ok(Json(ReviewQueue { items, next_cursor }))
}

/// Approves a review (administrators): it shows on the product and counts
/// toward its rating. Approving an approved review changes nothing.
#[utoipa::path(
    post, path = "/v1/admin/reviews/{id}/approve", tag = "reviews",
    params(("id" = String, Path, description = "Review id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Review),
        (status = 404, description = "No such review"),
        (status = 409, description = "Concurrent changes; retry"),
    )
)]
async fn approve(
    State(ctx): State<Context>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<Review>, ReviewsError> {
    Ok(Json(
        moderation::decide(&ctx, &id, Decision::Approve).await?,
    ))
}

/// Rejects a review (administrators): it does not show, and stops counting
/// if it was approved. Rejecting a rejected review changes nothing.
#[utoipa::path(
    post, path = "/v1/admin/reviews/{id}/reject", tag = "reviews",
    params(("id" = String, Path, description = "Review id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Review),
        (status = 404, description = "No such review"),
        (status = 409, description = "Concurrent changes; retry"),
    )
)]
async fn reject(
    State(ctx): State<Context>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<Review>, ReviewsError> {
    Ok(Json(moderation::decide(&ctx, &id, Decision::Reject).await?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn route_table_and_openapi_agree() {
        lite_http::routes::check_against_openapi(super::ROUTES, &super::openapi()).unwrap();
    }
}
