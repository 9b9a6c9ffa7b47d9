//! `GET /v1/me/notifications`.

use crate::record::{self, Notification};
use crate::NotificationsError;
use axum::extract::State;
use lite_http::{Access, Authenticated, Json, PageParams, Query, RouteSpec, TableAccess};
use lite_ports::Context;
use lite_store::{Index, Query as StoreQuery, StoreError};
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
    let after = ctx.cursors.resume(&scope, params.cursor.as_deref()).await?;
    let page = ctx
        .store
        .query(
            &StoreQuery::new(Index::Gsi1, record::user_notifications(&claims.sub))
                .backward()
                .limit(limit)
                .after(after),
        )
        .await?;
    let items = page
        .items
        .iter()
        .map(|i| {
            record::notification_of(i)
                .ok_or_else(|| StoreError::Invalid("notification item does not parse".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = ctx.cursors.next_cursor(&scope, page.next.as_ref()).await?;
    Ok(Json(NotificationPage { items, next_cursor }))
}
