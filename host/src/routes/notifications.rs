//! Routes: the caller's in-app notifications on a workspace host (PRODUCT.md "Notifications"):
//! the list with the unread count, marking one or all read, and the email preference per kind.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::ids::NotificationId;
use wrk_core::notifications::NotificationKind;
use wrk_tenants::notifications::{Notification, Pref};

use crate::ctx::{TenantCtx, Write};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Cursor, Limit};
use crate::services::paginate;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(notifications_list))
        .routes(routes!(notification_read))
        .routes(routes!(notifications_read_all))
        .routes(routes!(notification_prefs_get, notification_prefs_put))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: String,
    /// `message`, `alert`, `credential_failed`, `version_blocked`, `quote` or `billing`.
    pub kind: String,
    pub title: String,
    pub body: String,
    pub automation_id: Option<String>,
    /// A path in the workspace app to open.
    pub link: Option<String>,
    pub read: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&Notification> for NotificationView {
    fn from(n: &Notification) -> Self {
        Self {
            id: n.id.to_string(),
            kind: n.kind.as_str().to_owned(),
            title: n.title.clone(),
            body: n.body.clone(),
            automation_id: n.automation_id.map(|a| a.to_string()),
            link: n.link.clone(),
            read: n.read_at.is_some(),
            created_at: n.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    /// Newest first.
    pub items: Vec<NotificationView>,
    pub next_cursor: Option<String>,
    /// How many of the caller's notifications are unread (all pages).
    pub unread: u64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Page size: 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<Limit>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<String>, format = Uuid)]
    pub cursor: Option<Cursor>,
}

/// The caller's notifications, newest first, and their unread count.
#[utoipa::path(get, path = "/api/notifications", tag = "notifications", params(NotificationQuery),
    responses((status = 200, body = NotificationPage)))]
pub async fn notifications_list(
    ctx: TenantCtx,
    ApiQuery(query): ApiQuery<NotificationQuery>,
) -> Result<Json<NotificationPage>, ApiError> {
    let user = ctx.session.user_id();
    let limit = Limit::or_default(query.limit);
    let before = Cursor::into_inner(query.cursor)
        .map(|c| NotificationId::parse(&c))
        .transpose()
        .map_err(|_| ApiError::validation("cursor", "is not a notification id"))?;
    let (rows, unread) = ctx
        .blocking(move |t| {
            Ok((
                t.notifications_of(user, before, limit + 1)?,
                t.unread_notifications(user)?,
            ))
        })
        .await?;
    let (rows, next_cursor) = paginate(rows, limit, |n| n.id.to_string());
    Ok(Json(NotificationPage {
        items: rows.iter().map(NotificationView::from).collect(),
        next_cursor,
        unread,
    }))
}

/// Mark one of the caller's notifications read (again is fine).
#[utoipa::path(post, path = "/api/notifications/{id}/read", tag = "notifications",
    params(("id" = String, Path)),
    responses((status = 204),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn notification_read(
    ctx: TenantCtx,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = NotificationId::parse(&id).map_err(|_| ApiError::not_found("notification"))?;
    let user = ctx.session.user_id();
    ctx.blocking(move |t| t.mark_notification_read(user, id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark every notification of the caller read.
#[utoipa::path(post, path = "/api/notifications/read-all", tag = "notifications",
    responses((status = 204)))]
pub async fn notifications_read_all(ctx: TenantCtx) -> Result<StatusCode, ApiError> {
    let user = ctx.session.user_id();
    ctx.blocking(move |t| t.mark_all_notifications_read(user))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrefView {
    /// `message`, `alert`, `credential_failed`, `version_blocked`, `quote` or `billing`.
    #[schema(value_type = String,
        pattern = "^(message|alert|credential_failed|version_blocked|quote|billing)$")]
    pub kind: NotificationKind,
    /// Whether notifications of this kind are also emailed (messages as a batched digest).
    pub email: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Prefs {
    pub items: Vec<PrefView>,
}

fn prefs(p: Vec<Pref>) -> Prefs {
    Prefs {
        items: p
            .into_iter()
            .map(|p| PrefView {
                kind: p.kind,
                email: p.email,
            })
            .collect(),
    }
}

/// The caller's email preference for each kind of notification (on unless turned off).
#[utoipa::path(get, path = "/api/notifications/preferences", tag = "notifications",
    responses((status = 200, body = Prefs)))]
pub async fn notification_prefs_get(ctx: TenantCtx) -> Result<Json<Prefs>, ApiError> {
    let user = ctx.session.user_id();
    Ok(Json(prefs(
        ctx.blocking(move |t| t.notification_prefs(user)).await?,
    )))
}

/// Turn email on or off for the kinds listed; the others keep their setting.
#[utoipa::path(put, path = "/api/notifications/preferences", tag = "notifications",
    request_body = Prefs,
    responses((status = 200, body = Prefs),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn notification_prefs_put(
    ctx: TenantCtx<Write>,
    ApiJson(body): ApiJson<Prefs>,
) -> Result<Json<Prefs>, ApiError> {
    let user = ctx.session.user_id();
    let wanted: Vec<Pref> = body
        .items
        .iter()
        .map(|p| Pref {
            kind: p.kind,
            email: p.email,
        })
        .collect();
    Ok(Json(prefs(
        ctx.blocking(move |t| t.set_notification_prefs(user, &wanted))
            .await?,
    )))
}
