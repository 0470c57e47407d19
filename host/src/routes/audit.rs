//! Routes: the workspace's audit log (admin/owner, or an API key with the `admin` scope), as
//! JSON pages or a streamed CSV export.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
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
use wrk_core::roles::Access;
use wrk_tenants::audit::{AuditFilter, AuditRecord, list_audit};

use crate::app::AppState;
use crate::auth::session::WorkspaceSession;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiQuery, Cursor, Limit};
use crate::services::paginate;

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
/// request_id}`.
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
}

impl From<&AuditRecord> for AuditView {
    fn from(r: &AuditRecord) -> Self {
        Self {
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
    State(app): State<AppState>,
    session: WorkspaceSession,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    session.require(Access::Admin)?;
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
        before_id: Cursor::into_inner(query.cursor),
        limit: limit + 1,
    };
    let tenant = session.tenant_id();
    if csv {
        return Ok(csv_export(&app, tenant, filter));
    }
    let rows = app
        .blocking(move |s| s.tenant(tenant)?.db().read(|c| list_audit(c, &filter)))
        .await?;
    let (rows, next_cursor) = paginate(rows, limit, |r| r.id.to_string());
    Ok(Json(AuditPage {
        items: rows.iter().map(AuditView::from).collect(),
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
    tokio::task::spawn_blocking(move || {
        if tx
            .blocking_send(Bytes::from_static(CSV_HEADER.as_bytes()))
            .is_err()
        {
            return;
        }
        let store = match storage.tenant(tenant) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "audit export: cannot open the tenant");
                return;
            }
        };
        loop {
            let rows = match store.db().read(|c| list_audit(c, &filter)) {
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
}
