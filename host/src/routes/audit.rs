//! Routes: the workspace's audit log (admin/owner, or an API key with the `admin` scope), as
//! JSON pages or a streamed CSV export.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use hyper::body::Frame;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::machine::VersionStatus;
use wrk_tenants::audit::{ActorDirectory, ActorKind, AuditFilter, AuditRecord};

use crate::ctx::{Admin, TenantCtx};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiQuery, Cursor, Limit};
use crate::services::paginate;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(audit_logs))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActorView {
    /// `user`, `ops`, `api_key` or `system`.
    pub kind: String,
    pub id: Option<String>,
}

/// One audit row: `{id, at, actor:{kind,id}, action, entity_type, entity_id, before, after,
/// request_id}`, plus what people read: `actor_name`, `actor_email`, `action_label`,
/// `entity_label`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor: AuditActorView,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
    pub request_id: Option<String>,
    /// Who, for people: a member's name, "WRK team" for operators, "API key “name”", "System".
    pub actor_name: String,
    /// A user actor's email, when known.
    pub actor_email: Option<String>,
    /// The action in words, e.g. "Invitation sent" or "Status changed to Awaiting approval".
    pub action_label: String,
    /// The entity type in words, e.g. "API key".
    pub entity_label: String,
    /// The entity's name when the row alone does not say it (the member of a membership row).
    pub entity_name: Option<String>,
}

impl AuditView {
    fn new(r: &AuditRecord, actors: &ActorDirectory) -> Self {
        let (actor_name, actor_email) = actor_name(r, actors);
        Self {
            actor_name,
            actor_email,
            action_label: action_label(r),
            entity_label: entity_label(&r.entity_type),
            entity_name: entity_name(r, actors),
            id: r.id.to_string(),
            at: r.at,
            actor: AuditActorView {
                kind: r.actor.kind.as_str().to_owned(),
                id: r.actor.id.clone(),
            },
            action: r.action.clone(),
            entity_type: r.entity_type.clone(),
            entity_id: r.entity_id.clone(),
            before: r.before.clone(),
            after: r.after.clone(),
            request_id: r.request_id.clone(),
        }
    }
}

/// Who made a change, in words (and a user's email).
fn actor_name(r: &AuditRecord, actors: &ActorDirectory) -> (String, Option<String>) {
    let id = r.actor.id.as_deref().unwrap_or_default();
    match r.actor.kind {
        ActorKind::User => match actors.users.get(id) {
            Some((name, email)) if !name.trim().is_empty() => (name.clone(), Some(email.clone())),
            Some((_, email)) => (email.clone(), Some(email.clone())),
            None => ("A former member".to_owned(), None),
        },
        ActorKind::Ops => ("WRK team".to_owned(), None),
        ActorKind::ApiKey => match actors.api_keys.get(id) {
            Some(name) => (format!("API key “{name}”"), None),
            None => ("An API key".to_owned(), None),
        },
        ActorKind::System => ("System".to_owned(), None),
    }
}

fn entity_name(r: &AuditRecord, actors: &ActorDirectory) -> Option<String> {
    if r.entity_type != "membership" {
        return None;
    }
    let user = r
        .after
        .as_ref()
        .or(r.before.as_ref())?
        .get("user_id")?
        .as_str()?;
    let (name, email) = actors.users.get(user)?;
    Some(if name.trim().is_empty() { email } else { name }.clone())
}

/// Entity types in words: the one table the UI shows (`entity_type` stays the code).
fn entity_label(entity_type: &str) -> String {
    match entity_type {
        "tenant" => "Workspace".to_owned(),
        "membership" => "Member".to_owned(),
        "invitation" => "Invitation".to_owned(),
        "api_key" => "API key".to_owned(),
        "automation" => "Automation".to_owned(),
        "version" => "Version".to_owned(),
        "project" => "Project".to_owned(),
        "quote" => "Quote".to_owned(),
        "task" => "Task".to_owned(),
        "message" => "Message".to_owned(),
        "document" => "Document".to_owned(),
        "ingestion" => "Document reading".to_owned(),
        "credential" => "Credential".to_owned(),
        "plugin" => "Plugin".to_owned(),
        other => humanize(other),
    }
}

/// `some_code` → "Some code".
fn humanize(code: &str) -> String {
    let words = code.replace(['_', '.'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn status_label(v: Option<&Value>) -> Option<&'static str> {
    let s = v?.get("status")?.as_str()?;
    VersionStatus::parse(s).ok().map(VersionStatus::label)
}

/// Actions in words: the one table of action labels (the `action` code stays as it is). An
/// action missing here reads as its humanized code, never as the raw code.
fn action_label(r: &AuditRecord) -> String {
    let label = match r.action.as_str() {
        "tenant.created" => "Workspace created",
        "tenant.renamed" => "Workspace renamed",
        "membership.created" => "Member added",
        "membership.removed" => "Member removed",
        "membership.role_changed" => "Member's role changed",
        "invitation.created" => "Invitation sent",
        "invitation.resent" => "Invitation sent again",
        "invitation.revoked" => "Invitation revoked",
        "invitation.accepted" => "Invitation accepted",
        "api_key.created" => "API key created",
        "api_key.revoked" => "API key revoked",
        "automation.created" => "Automation created",
        "automation.updated" => "Automation renamed or edited",
        "version.created" => "Version created",
        "version.requirements_updated" => "Requirements updated",
        "version.blueprint_updated" => "Blueprint updated",
        "version.transitioned" | "version.status_changed" => {
            return match status_label(r.after.as_ref()) {
                Some(to) => format!("Status changed to {to}"),
                None => "Status changed".to_owned(),
            };
        }
        "project.created" => "Project opened",
        "quote.created" => "Quote sent",
        "quote.superseded" => "Quote replaced by a new revision",
        "quote.accepted" => "Quote accepted",
        "quote.signed" => "Quote signed",
        "quote.rejected" => "Quote rejected",
        "quote.expired" => "Quote expired",
        "task.created" => "Task created",
        "task.updated" => "Task updated",
        "task.closed" => "Task closed",
        "message.created" => "Message posted",
        "document.uploaded" => "Document uploaded",
        "document.deleted" => "Document deleted",
        "ingestion.queued" => "Document reading started",
        "ingestion.proposed" => "Changes proposed from documents",
        "ingestion.applied" => "Proposed changes applied",
        "ingestion.discarded" => "Proposed changes discarded",
        "ingestion.failed" => "Document reading failed",
        "credential.created" => "Credential added",
        "credential.updated" => "Credential updated",
        "credential.deleted" => "Credential removed",
        other => return humanize(other),
    };
    label.to_owned()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    /// Keeps one automation's trail: its own rows and those of its versions, projects, quotes,
    /// tasks, messages and documents.
    pub automation_id: Option<String>,
    /// `json` (default) or `csv` (the whole filtered log, streamed, newest first).
    pub format: Option<String>,
    /// Page size: 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<Limit>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<String>, format = Uuid)]
    pub cursor: Option<Cursor>,
}

/// The audit log, newest first (admin only). `format=csv` streams every matching row.
#[utoipa::path(get, path = "/api/audit-logs", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "A page of the log (JSON, the default), or with `format=csv` the whole filtered log as CSV",
                content((AuditPage = "application/json"), (String = "text/csv"))),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn audit_logs(
    ctx: TenantCtx<Admin>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    let csv = match query.format.as_deref() {
        None | Some("") | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::validation("format", "must be json or csv")),
    };
    let limit = Limit::or_default(query.limit);
    let filter = AuditFilter {
        entity_type: query.entity_type.filter(|s| !s.is_empty()),
        entity_id: query.entity_id.filter(|s| !s.is_empty()),
        action: query.action.filter(|s| !s.is_empty()),
        automation_id: query.automation_id.filter(|s| !s.is_empty()),
        before_id: Cursor::into_inner(query.cursor),
        limit: limit + 1,
    };
    let tenant = ctx.tenant_id();
    if csv {
        return Ok(csv_export(&ctx.app, tenant, filter));
    }
    let (rows, actors) = ctx
        .app
        .blocking(move |s| {
            let rows = s.workspace_audit(tenant, &filter)?;
            let actors = s.audit_actors(tenant, &rows)?;
            Ok((rows, actors))
        })
        .await?;
    let (rows, next_cursor) = paginate(rows, limit, |r| r.id.to_string());
    Ok(Json(AuditPage {
        items: rows.iter().map(|r| AuditView::new(r, &actors)).collect(),
        next_cursor,
    })
    .into_response())
}

const CSV_HEADER: &str = "id,at,actor_kind,actor_id,action,entity_type,entity_id,before,after,request_id,ip,user_agent\r\n";
/// Rows read per page while streaming.
const CSV_PAGE: u32 = 500;

/// One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes doubled.
/// A leading `=`, `+`, `-` or `@` is prefixed with `'` so spreadsheets never run it as a formula.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn csv_line(r: &AuditRecord) -> String {
    let json = |v: &Option<Value>| v.as_ref().map(Value::to_string).unwrap_or_default();
    let cols = [
        r.id.to_string(),
        wrk_tenants::audit::timestamp(r.at),
        r.actor.kind.as_str().to_owned(),
        r.actor.id.clone().unwrap_or_default(),
        r.action.clone(),
        r.entity_type.clone(),
        r.entity_id.clone().unwrap_or_default(),
        json(&r.before),
        json(&r.after),
        r.request_id.clone().unwrap_or_default(),
        r.ip.clone().unwrap_or_default(),
        r.user_agent.clone().unwrap_or_default(),
    ];
    let mut line = cols.iter().map(|c| field(c)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// A response body fed by a channel: a blocking task reads the log page by page and sends CSV
/// chunks, so a large export never sits in memory whole.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
    }
}

fn csv_export(
    app: &AppState,
    tenant: wrk_core::ids::TenantId,
    mut filter: AuditFilter,
) -> Response {
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    let storage = app.storage.clone();
    filter.limit = CSV_PAGE;
    // Not `crate::blocking::run`: that awaits its closure, and this producer must keep running
    // after the handler returned, feeding the response body through the channel.
    tokio::task::spawn_blocking(move || {
        if tx
            .blocking_send(Bytes::from_static(CSV_HEADER.as_bytes()))
            .is_err()
        {
            return;
        }
        loop {
            let rows = match storage.workspace_audit(tenant, &filter) {
                Ok(rows) => rows,
                Err(e) => {
                    // The header is sent already: the export ends short, and the log says why.
                    tracing::error!(error = %e, "audit export failed midway");
                    return;
                }
            };
            let Some(last) = rows.last() else { return };
            filter.before_id = Some(last.id.to_string());
            let chunk: String = rows.iter().map(csv_line).collect();
            if tx.blocking_send(Bytes::from(chunk)).is_err() {
                return; // the client went away
            }
            if rows.len() < CSV_PAGE as usize {
                return;
            }
        }
    });
    let mut response = Body::new(ChannelBody(rx)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"audit-log.csv\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(field("=SUM(A1)"), "'=SUM(A1)");
    }

    /// The server's status names and the web UI's `STATUS_LABELS` are the same table.
    #[test]
    fn the_ui_and_the_server_name_every_status_alike() {
        let ui = wrk_web::asset("js/ui.js").expect("ui.js is embedded");
        let ui = String::from_utf8_lossy(&ui.bytes);
        for s in VersionStatus::ALL {
            let entry = format!("  {}: '{}',", s.as_str(), s.label());
            assert!(ui.contains(&entry), "ui.js lacks `{entry}`");
        }
    }

    #[test]
    fn actions_read_as_words_and_unknown_ones_are_humanized() {
        let rec = |action: &str, after: Option<Value>| AuditRecord {
            id: wrk_core::ids::AuditId::new(),
            at: Utc::now(),
            actor: wrk_tenants::audit::AuditActor::system(),
            action: action.into(),
            entity_type: "version".into(),
            entity_id: None,
            before: None,
            after,
            request_id: None,
            ip: None,
            user_agent: None,
        };
        assert_eq!(
            action_label(&rec("invitation.created", None)),
            "Invitation sent"
        );
        assert_eq!(
            action_label(&rec(
                "version.transitioned",
                Some(serde_json::json!({"status": "awaiting_client_approval"}))
            )),
            "Status changed to Awaiting approval"
        );
        assert_eq!(action_label(&rec("widget.frobbed", None)), "Widget frobbed");
        assert_eq!(entity_label("api_key"), "API key");
        let (name, _) = actor_name(&rec("x.y", None), &ActorDirectory::default());
        assert_eq!(name, "System");
        let by = |kind, id: &str| {
            let mut r = rec("x.y", None);
            r.actor = wrk_tenants::audit::AuditActor {
                kind,
                id: Some(id.into()),
            };
            r
        };
        let mut dir = ActorDirectory::default();
        dir.users
            .insert("u1".into(), ("".into(), "ada@example.com".into()));
        dir.api_keys.insert("k1".into(), "ci".into());
        assert_eq!(actor_name(&by(ActorKind::Ops, "o1"), &dir).0, "WRK team");
        assert_eq!(
            actor_name(&by(ActorKind::ApiKey, "k1"), &dir).0,
            "API key “ci”"
        );
        assert_eq!(
            actor_name(&by(ActorKind::ApiKey, "k2"), &dir).0,
            "An API key"
        );
        assert_eq!(
            actor_name(&by(ActorKind::User, "u1"), &dir).0,
            "ada@example.com",
            "a member without a name reads as their email"
        );
        assert_eq!(
            actor_name(&by(ActorKind::User, "gone"), &dir).0,
            "A former member"
        );
    }
}
