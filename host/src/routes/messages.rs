//! Routes: an automation's thread (flow 30), on the workspace host and on the ops host.
//!
//! Each side reads the same messages; each has its own read marker, so `unread` counts the other
//! side's messages this side has not read. Bodies are markdown; `body_html` is the safe rendering
//! the UI shows (`crate::markdown`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::ids::{MessageId, TenantId};
use wrk_core::threads::{AuthorKind, MessageBody, Side};
use wrk_tenants::threads::{Author, Message};

use super::automations::parse_automation_id;
use super::ops_automations::tenant;
use crate::auth::session::{OpsSession, Principal};
use crate::ctx::{TenantCtx, Write};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, ClientMeta, Limit};
use crate::markdown;
use crate::services::threads::{self as svc, Poster};
use crate::services::{Caller, paginate};
use crate::state::AppState;

pub fn tenant_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(messages_list, message_post))
        .routes(routes!(messages_read))
}

pub fn ops_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ops_messages_list, ops_message_post))
        .routes(routes!(ops_messages_read))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorView {
    /// `user` (a member of the workspace), `ops` (WRK staff) or `system`.
    pub kind: String,
    pub name: String,
}

/// A message: `{id, author:{kind, name}, body, created_at}`, and its safe HTML.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: String,
    pub automation_id: String,
    pub author: AuthorView,
    /// The markdown as written.
    pub body: String,
    /// The body rendered to HTML from a small markdown subset; raw HTML in the body is escaped,
    /// unsafe links and images are dropped.
    pub body_html: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Message> for MessageView {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id.to_string(),
            automation_id: m.automation_id.to_string(),
            author: AuthorView {
                kind: m.author_kind.as_str().to_owned(),
                name: m.author_name.clone(),
            },
            body: m.body.clone(),
            body_html: markdown::render(&m.body),
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    /// Oldest first.
    pub items: Vec<MessageView>,
    /// Pass as `after` for the next page.
    pub next_cursor: Option<String>,
    /// The other side's messages this side has not read yet.
    pub unread: u64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// Only messages after this message id (empty: from the first).
    #[param(
        pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$"
    )]
    pub after: Option<String>,
    /// Page size: 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<Limit>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// Markdown: emphasis, strong, code, lists, quotes, links. At most 10000 characters.
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
}

async fn page(
    app: &AppState,
    tenant: TenantId,
    id: &str,
    query: MessageQuery,
    side: Side,
) -> Result<MessagePage, ApiError> {
    let id = parse_automation_id(id)?;
    let after = query
        .after
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            MessageId::parse(s).map_err(|_| ApiError::validation("after", "is not a message id"))
        })
        .transpose()?;
    let limit = Limit::or_default(query.limit);
    let (rows, unread) = app
        .blocking(move |s| {
            let t = s.tenant(tenant)?;
            Ok((
                t.messages(id, after, limit + 1)?,
                t.unread_messages(id, side)?,
            ))
        })
        .await?;
    let (rows, next_cursor) = paginate(rows, limit, |m| m.id.to_string());
    Ok(MessagePage {
        items: rows.iter().map(MessageView::from).collect(),
        next_cursor,
        unread,
    })
}

async fn mark_read(app: &AppState, tenant: TenantId, id: &str, side: Side) -> Result<(), ApiError> {
    let id = parse_automation_id(id)?;
    app.blocking(move |s| s.tenant(tenant)?.mark_thread_read(id, side))
        .await
}

/// The automation's thread with ops, oldest first, and how many of ops' messages are unread.
#[utoipa::path(get, path = "/api/automations/{id}/messages", tag = "messages",
    params(("id" = String, Path), MessageQuery),
    responses((status = 200, body = MessagePage),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn messages_list(
    ctx: TenantCtx,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<MessageQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    Ok(Json(
        page(&ctx.app, ctx.tenant_id(), &id, query, Side::Workspace).await?,
    ))
}

/// Write to ops in the automation's thread. Refused on an archived automation.
#[utoipa::path(post, path = "/api/automations/{id}/messages", tag = "messages",
    params(("id" = String, Path)), request_body = NewMessage,
    responses((status = 201, body = MessageView),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn message_post(
    ctx: TenantCtx<Write>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewMessage>,
) -> Result<(StatusCode, Json<MessageView>), ApiError> {
    let automation = parse_automation_id(&id)?;
    let body = MessageBody::parse(&body.body)?;
    let (author_id, name) = match &ctx.session.principal {
        Principal::User(u) => (u.id.to_string(), u.name.clone()),
        Principal::ApiKey(k) => (k.created_by.to_string(), k.name.clone()),
    };
    let poster = Poster {
        author: Author {
            kind: AuthorKind::User,
            id: Some(author_id),
            name,
        },
        caller: ctx.caller(),
    };
    let posted = svc::post(&ctx.app, ctx.tenant_id(), automation, poster, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(MessageView::from(&posted.message)),
    ))
}

/// The workspace has read the automation's thread up to its newest message.
#[utoipa::path(post, path = "/api/automations/{id}/messages/read", tag = "messages",
    params(("id" = String, Path)),
    responses((status = 204),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn messages_read(ctx: TenantCtx, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    mark_read(&ctx.app, ctx.tenant_id(), &id, Side::Workspace).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A workspace automation's thread, oldest first, and how many client messages ops have not read.
#[utoipa::path(get, path = "/api/ops/tenants/{tid}/automations/{id}/messages", tag = "ops",
    params(("tid" = String, Path), ("id" = String, Path), MessageQuery),
    responses((status = 200, body = MessagePage),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn ops_messages_list(
    State(app): State<AppState>,
    _ops: OpsSession,
    Path((tid, id)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<MessageQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    let tenant = tenant(&app, &tid).await?;
    Ok(Json(page(&app, tenant, &id, query, Side::Ops).await?))
}

/// Write to the workspace in an automation's thread; its members are notified.
#[utoipa::path(post, path = "/api/ops/tenants/{tid}/automations/{id}/messages", tag = "ops",
    params(("tid" = String, Path), ("id" = String, Path)), request_body = NewMessage,
    responses((status = 201, body = MessageView),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn ops_message_post(
    State(app): State<AppState>,
    ops: OpsSession,
    meta: ClientMeta,
    Path((tid, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<NewMessage>,
) -> Result<(StatusCode, Json<MessageView>), ApiError> {
    let tenant = tenant(&app, &tid).await?;
    let automation = parse_automation_id(&id)?;
    let body = MessageBody::parse(&body.body)?;
    let poster = Poster {
        author: Author {
            kind: AuthorKind::Ops,
            id: Some(ops.user.id.to_string()),
            name: format!("{} (WRK)", ops.user.email),
        },
        caller: Caller::ops(&ops, meta),
    };
    let posted = svc::post(&app, tenant, automation, poster, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(MessageView::from(&posted.message)),
    ))
}

/// Ops have read a workspace automation's thread up to its newest message.
#[utoipa::path(post, path = "/api/ops/tenants/{tid}/automations/{id}/messages/read", tag = "ops",
    params(("tid" = String, Path), ("id" = String, Path)),
    responses((status = 204),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn ops_messages_read(
    State(app): State<AppState>,
    _ops: OpsSession,
    Path((tid, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = tenant(&app, &tid).await?;
    mark_read(&app, tenant, &id, Side::Ops).await?;
    Ok(StatusCode::NO_CONTENT)
}
