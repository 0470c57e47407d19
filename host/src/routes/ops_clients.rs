//! Routes: clients (flow 33) and their health (flow 34) on the ops host, for any ops role. Ops
//! create and edit client records and link existing workspaces to them; nothing here creates a
//! workspace or an account. A client's page carries its workspaces, its health history and the
//! status `wrk_core::health::suggest` proposes from those workspaces' signals. The SQL is in
//! `wrk_tenants::clients`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::health::{Health, Signals, Suggestion, suggest};
use wrk_core::ids::{ClientId, TenantId};
use wrk_tenants::clients::{ClientFields, ClientPatch, ClientRecord, Contact, HealthEntry};

use crate::auth::session::OpsSession;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, ClientMeta, Cursor, Limit};
use crate::services::identity::normalize_email;
use crate::services::paginate;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(clients_list, client_create))
        .routes(routes!(client_get, client_update))
        .routes(routes!(client_workspace_link))
        .routes(routes!(client_health_put))
}

/// The most contacts one client carries.
pub const MAX_CONTACTS: usize = 20;
/// The longest client notes.
pub const MAX_NOTES_CHARS: usize = 5000;
/// The longest health note.
pub const MAX_HEALTH_NOTE_CHARS: usize = 1000;
/// How many health entries a client's page shows.
const HISTORY_SHOWN: u32 = 50;

// ----------------------------------------------------------------------------------------------
// Bodies and their checks

/// A person at the client, as given and as shown.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    /// 1 to 200 characters.
    pub name: String,
    pub email: Option<String>,
    /// At most 50 characters.
    pub phone: Option<String>,
    /// What they do at the client, at most 100 characters.
    pub role: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    /// The company name, 1 to 200 characters.
    pub name: String,
    /// At most 20 people.
    pub contacts: Option<Vec<ContactBody>>,
    /// Who at WRK looks after the client, at most 200 characters.
    pub account_manager: Option<String>,
    /// At most 5,000 characters.
    pub notes: Option<String>,
}

/// An edit: a field left out stays as it is; an empty `account_manager` or `notes` clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClient {
    pub name: Option<String>,
    pub contacts: Option<Vec<ContactBody>>,
    pub account_manager: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkWorkspace {
    /// An existing workspace's id.
    pub tenant_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthBody {
    /// `green`, `yellow` or `red`.
    pub status: String,
    /// Why, 1 to 1,000 characters.
    pub note: String,
}

/// Trimmed text of at most `max` characters without control characters (`multiline` lets line
/// breaks and tabs through); `None` when blank.
fn text(field: &str, raw: &str, max: usize, multiline: bool) -> Result<Option<String>, ApiError> {
    let t = raw.trim();
    if t.chars().count() > max {
        return Err(ApiError::validation(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    let bad = |c: char| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'));
    if t.chars().any(bad) {
        return Err(ApiError::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok((!t.is_empty()).then(|| t.to_owned()))
}

fn required(field: &str, raw: &str, max: usize) -> Result<String, ApiError> {
    text(field, raw, max, false)?.ok_or_else(|| ApiError::validation(field, "is required"))
}

fn parse_contacts(contacts: Vec<ContactBody>) -> Result<Vec<Contact>, ApiError> {
    if contacts.len() > MAX_CONTACTS {
        return Err(ApiError::validation(
            "contacts",
            format!("at most {MAX_CONTACTS} contacts"),
        ));
    }
    contacts
        .into_iter()
        .map(|c| {
            let email = match c.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
                Some(e) => Some(normalize_email("contacts.email", e)?),
                None => None,
            };
            Ok(Contact {
                name: required("contacts.name", &c.name, 200)?,
                email,
                phone: text(
                    "contacts.phone",
                    c.phone.as_deref().unwrap_or(""),
                    50,
                    false,
                )?,
                role: text("contacts.role", c.role.as_deref().unwrap_or(""), 100, false)?,
            })
        })
        .collect()
}

fn parse_create(body: CreateClient) -> Result<ClientFields, ApiError> {
    Ok(ClientFields {
        name: required("name", &body.name, 200)?,
        contacts: parse_contacts(body.contacts.unwrap_or_default())?,
        account_manager: text(
            "account_manager",
            body.account_manager.as_deref().unwrap_or(""),
            200,
            false,
        )?,
        notes: text(
            "notes",
            body.notes.as_deref().unwrap_or(""),
            MAX_NOTES_CHARS,
            true,
        )?,
    })
}

fn parse_patch(body: UpdateClient) -> Result<ClientPatch, ApiError> {
    Ok(ClientPatch {
        name: body.name.map(|n| required("name", &n, 200)).transpose()?,
        contacts: body.contacts.map(parse_contacts).transpose()?,
        account_manager: body
            .account_manager
            .map(|m| text("account_manager", &m, 200, false))
            .transpose()?,
        notes: body
            .notes
            .map(|n| text("notes", &n, MAX_NOTES_CHARS, true))
            .transpose()?,
    })
}

fn parse_client_id(s: &str) -> Result<ClientId, ApiError> {
    ClientId::parse(s).map_err(|_| ApiError::not_found("client"))
}

// ----------------------------------------------------------------------------------------------
// Views

/// A client as lists show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientView {
    pub id: String,
    pub name: String,
    pub contacts: Vec<ContactBody>,
    pub account_manager: Option<String>,
    pub notes: Option<String>,
    /// The latest status ops set (`green`, `yellow`, `red`); `null` until one is set.
    pub health: Option<String>,
    /// How many workspaces are linked.
    pub workspace_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ClientView {
    fn new(c: &ClientRecord, workspace_count: u64) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.name.clone(),
            contacts: c
                .contacts
                .iter()
                .map(|k| ContactBody {
                    name: k.name.clone(),
                    email: k.email.clone(),
                    phone: k.phone.clone(),
                    role: k.role.clone(),
                })
                .collect(),
            account_manager: c.account_manager.clone(),
            notes: c.notes.clone(),
            health: c.health.map(|h| h.as_str().to_owned()),
            workspace_count,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientPage {
    pub items: Vec<ClientView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientWorkspaceView {
    pub id: String,
    pub name: String,
    pub subdomain: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthEntryView {
    pub id: String,
    /// `green`, `yellow` or `red`.
    pub status: String,
    pub note: String,
    /// The ops user who set it.
    pub set_by: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<&HealthEntry> for HealthEntryView {
    fn from(h: &HealthEntry) -> Self {
        Self {
            id: h.id.to_string(),
            status: h.status.as_str().to_owned(),
            note: h.note.clone(),
            set_by: h.set_by.clone(),
            at: h.at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonView {
    /// `alerts`, `failure_rate`, `overdue_tasks` or `payment_failures`.
    pub signal: String,
    /// What this signal alone suggests.
    pub status: String,
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoDataView {
    pub signal: String,
    /// The signal in words.
    pub label: String,
}

/// The status the console suggests, why, and which signals had no data.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionView {
    /// `null` when no signal has data: nothing is suggested.
    pub status: Option<String>,
    pub reasons: Vec<ReasonView>,
    pub no_data: Vec<NoDataView>,
}

impl From<&Suggestion> for SuggestionView {
    fn from(s: &Suggestion) -> Self {
        Self {
            status: s.status.map(|h| h.as_str().to_owned()),
            reasons: s
                .reasons
                .iter()
                .map(|r| ReasonView {
                    signal: r.signal.as_str().to_owned(),
                    status: r.status.as_str().to_owned(),
                    text: r.text.clone(),
                })
                .collect(),
            no_data: s
                .no_data
                .iter()
                .map(|n| NoDataView {
                    signal: n.as_str().to_owned(),
                    label: n.label().to_owned(),
                })
                .collect(),
        }
    }
}

/// A client with its workspaces, health history (newest first) and suggested status.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientDetail {
    #[serde(flatten)]
    pub client: ClientView,
    pub workspaces: Vec<ClientWorkspaceView>,
    pub health_history: Vec<HealthEntryView>,
    pub suggestion: SuggestionView,
}

/// Reads a client's page: its workspaces, history and the suggestion from their signals.
async fn detail(app: &AppState, id: ClientId) -> Result<ClientDetail, ApiError> {
    let (client, workspaces, history, suggestion) = app
        .blocking(move |s| {
            let c = s.control();
            let client = c.client(id)?;
            let workspaces = c.client_workspaces(id)?;
            let history = c.health_history(id, HISTORY_SHOWN)?;
            let now = Utc::now();
            let mut signals = Signals::default();
            for w in &workspaces {
                signals = signals.combine(s.tenant(w.id)?.health_signals(now)?);
            }
            Ok((client, workspaces, history, suggest(&signals)))
        })
        .await?;
    Ok(ClientDetail {
        client: ClientView::new(&client, workspaces.len() as u64),
        workspaces: workspaces
            .iter()
            .map(|w| ClientWorkspaceView {
                id: w.id.to_string(),
                name: w.name.clone(),
                subdomain: w.subdomain.to_string(),
            })
            .collect(),
        health_history: history.iter().map(HealthEntryView::from).collect(),
        suggestion: SuggestionView::from(&suggestion),
    })
}

// ----------------------------------------------------------------------------------------------
// Handlers

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientQuery {
    /// Page size: 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<Limit>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<String>, format = Uuid)]
    pub cursor: Option<Cursor>,
}

/// Every client, newest first, with its latest health and how many workspaces it has.
#[utoipa::path(get, path = "/api/ops/clients", tag = "ops", params(ClientQuery),
    responses((status = 200, body = ClientPage),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn clients_list(
    State(app): State<AppState>,
    _ops: OpsSession,
    ApiQuery(query): ApiQuery<ClientQuery>,
) -> Result<Json<ClientPage>, ApiError> {
    let limit = Limit::or_default(query.limit);
    let before = Cursor::into_inner(query.cursor)
        .map(|c| ClientId::parse(&c).map_err(|_| ApiError::validation("cursor", "is not valid")))
        .transpose()?;
    let (rows, counts) = app
        .blocking(move |s| {
            let c = s.control();
            Ok((c.clients(before, limit + 1)?, c.client_workspace_counts()?))
        })
        .await?;
    let (rows, next_cursor) = paginate(rows, limit, |c| c.id.to_string());
    Ok(Json(ClientPage {
        items: rows
            .iter()
            .map(|c| ClientView::new(c, counts.get(&c.id).copied().unwrap_or(0)))
            .collect(),
        next_cursor,
    }))
}

/// Creates a client record (any ops role). It starts with no workspace and no health status.
#[utoipa::path(post, path = "/api/ops/clients", tag = "ops", request_body = CreateClient,
    responses((status = 201, body = ClientDetail),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn client_create(
    State(app): State<AppState>,
    ops: OpsSession,
    meta: ClientMeta,
    ApiJson(body): ApiJson<CreateClient>,
) -> Result<(StatusCode, Json<ClientDetail>), ApiError> {
    let fields = parse_create(body)?;
    let actor = ops.audit_actor();
    let client = app
        .blocking(move |s| s.control().create_client(&fields, &actor, &meta.0))
        .await?;
    Ok((StatusCode::CREATED, Json(detail(&app, client.id).await?)))
}

/// One client with its workspaces, health history and the suggested status with its reasons.
#[utoipa::path(get, path = "/api/ops/clients/{id}", tag = "ops", params(("id" = String, Path)),
    responses((status = 200, body = ClientDetail),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn client_get(
    State(app): State<AppState>,
    _ops: OpsSession,
    Path(id): Path<String>,
) -> Result<Json<ClientDetail>, ApiError> {
    Ok(Json(detail(&app, parse_client_id(&id)?).await?))
}

/// Edits a client record: the fields given change, the others stay.
#[utoipa::path(patch, path = "/api/ops/clients/{id}", tag = "ops", params(("id" = String, Path)),
    request_body = UpdateClient,
    responses((status = 200, body = ClientDetail),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn client_update(
    State(app): State<AppState>,
    ops: OpsSession,
    meta: ClientMeta,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateClient>,
) -> Result<Json<ClientDetail>, ApiError> {
    let id = parse_client_id(&id)?;
    let patch = parse_patch(body)?;
    let actor = ops.audit_actor();
    app.blocking(move |s| s.control().update_client(id, &patch, &actor, &meta.0))
        .await?;
    Ok(Json(detail(&app, id).await?))
}

/// Links an existing workspace to the client (moving it from its previous client, if any).
#[utoipa::path(post, path = "/api/ops/clients/{id}/workspaces", tag = "ops",
    params(("id" = String, Path)), request_body = LinkWorkspace,
    responses((status = 200, body = ClientDetail),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn client_workspace_link(
    State(app): State<AppState>,
    ops: OpsSession,
    meta: ClientMeta,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LinkWorkspace>,
) -> Result<Json<ClientDetail>, ApiError> {
    let id = parse_client_id(&id)?;
    let tenant =
        TenantId::parse(body.tenant_id.trim()).map_err(|_| ApiError::not_found("workspace"))?;
    let actor = ops.audit_actor();
    app.blocking(move |s| s.control().link_workspace(id, tenant, &actor, &meta.0))
        .await?;
    Ok(Json(detail(&app, id).await?))
}

/// Sets the client's health with a note; every change is kept in the history.
#[utoipa::path(put, path = "/api/ops/clients/{id}/health", tag = "ops",
    params(("id" = String, Path)), request_body = HealthBody,
    responses((status = 200, body = ClientDetail),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn client_health_put(
    State(app): State<AppState>,
    ops: OpsSession,
    meta: ClientMeta,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HealthBody>,
) -> Result<Json<ClientDetail>, ApiError> {
    let id = parse_client_id(&id)?;
    let status = Health::parse(&body.status)
        .map_err(|_| ApiError::validation("status", "must be green, yellow or red"))?;
    let note = text("note", &body.note, MAX_HEALTH_NOTE_CHARS, true)?
        .ok_or_else(|| ApiError::validation("note", "is required"))?;
    let actor = ops.audit_actor();
    app.blocking(move |s| s.control().set_health(id, status, &note, &actor, &meta.0))
        .await?;
    Ok(Json(detail(&app, id).await?))
}
