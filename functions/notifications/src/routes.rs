//! `GET /v1/me/notifications`.

use crate::record::{self, Notification};
use crate::NotificationsError;
use axum::extract::State;
use lite_http::{Access, Authenticated, Json, PageParams, Query, RouteSpec, TableAccess};
use lite_ports::paging::newest_first;
use lite_ports::Context;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes as utoipa_routes};

pub const ROUTES: &[RouteSpec] = &[RouteSpec {
    method: "GET",
    path: "/v1/me/notifications",
    service: "notifications",
    function: "notifications-list",
    auth: Access::Bearer,
    table: TableAccess::Read,
}];

pub fn routes() -> OpenApiRouter<Context> {
    OpenApiRouter::new().routes(utoipa_routes!(list_notifications))
}

pub fn router(ctx: Context) -> axum::Router {
    routes().with_state(ctx).split_for_parts().0
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    /// `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The notifications sent to the caller, newest first.
#[utoipa::path(
    get, path = "/v1/me/notifications", tag = "notifications",
    params(PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = NotificationPage),
        (status = 400, description = "Invalid limit or cursor"),
    )
)]
async fn list_notifications(
    State(ctx): State<Context>,
    Authenticated(claims): Authenticated,
    Query(params): Query<PageParams>,
) -> Result<Json<NotificationPage>, NotificationsError> {
    let limit = params.limit()?;
    // Bound to the caller: another user's cursor is a 400, not their page.
    let scope = format!("notifications|{}", claims.sub);
    let page = newest_first::<_, NotificationsError>(
        &ctx,
        &scope,
        record::user_notifications(&claims.sub),
        limit,
        params.cursor.as_deref(),
        "notification",
        record::notification_of,
    )
    .await?;
    Ok(Json(NotificationPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}
