//! Routes: the plugin registry on the ops host (`/api/ops/plugins…`). Reads are for any ops
//! user; installs and every change of what runs are for `ops_admin`. The work is in
//! [`crate::services::plugins::Plugins`]; handlers only parse, authorize and shape.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::ids::TenantId;
use wrk_plugins::{Activation, PluginKind};

use crate::auth::session::OpsSession;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientMeta};
use crate::services::plugins::ChangeActor;
use crate::state::AppState;

/// The body limit of `POST /api/ops/plugins` (a plugin binary).
pub const UPLOAD_LIMIT: u64 = 16 * 1024 * 1024;

/// Shadow runs use at most this many recorded calls.
const SHADOW_MAX: u32 = 1000;

/// The body limit of a route that declares its own (the app's body-limit layer asks).
pub fn body_limit(path: &str) -> Option<u64> {
    (path == "/api/ops/plugins").then_some(UPLOAD_LIMIT)
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(plugins_list, plugins_upload))
        .routes(routes!(plugins_history))
        .routes(routes!(plugins_schemas))
        .routes(routes!(plugins_shadow_run))
        .routes(routes!(plugins_activate))
        .routes(routes!(plugins_rollback))
        .routes(routes!(tenant_plugin_pin))
}

fn actor(ops: &OpsSession, meta: ClientMeta) -> ChangeActor {
    ChangeActor {
        name: ops.user.email.clone(),
        audit: ops.audit_actor(),
        request: meta.0,
    }
}

fn parse_kind(field: &str, s: &str) -> Result<PluginKind, ApiError> {
    PluginKind::parse(s)
        .ok_or_else(|| ApiError::validation(field, "must be one of pricing, validation, ingestion"))
}

/// One installed plugin.
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginView {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub version: String,
    pub description: String,
    pub sha256: String,
    pub size_bytes: u64,
    /// The globally active plugin of its kind (one per kind).
    pub active: bool,
    pub installed_at: DateTime<Utc>,
    pub installed_by: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PluginList {
    pub items: Vec<PluginView>,
    /// Per kind (`pricing`, `validation`, `ingestion`), the sha256 of the plugin a rollback would
    /// re-activate; `null` when there is nothing to roll back to.
    #[schema(value_type = Object)]
    pub rollback_to: std::collections::BTreeMap<String, Option<String>>,
}

/// `POST /api/ops/plugins` → 201.
#[derive(Debug, Serialize, ToSchema)]
pub struct Installed {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub version: String,
    pub sha256: String,
    /// Always `installed` (activation is a separate step).
    pub status: String,
    /// The validation report: manifest, sample runs with fuel, time and memory.
    #[schema(value_type = Object)]
    pub report: Value,
}

/// One change of what runs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivationView {
    pub kind: String,
    /// `activate`, `rollback`, `pin` or `unpin`.
    pub action: String,
    pub sha256: Option<String>,
    pub previous: Option<String>,
    /// The plugin now in effect (`null` after an unpin or when no longer installed).
    #[schema(value_type = Option<Object>)]
    pub plugin: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub previous_plugin: Option<Value>,
    /// The workspace, for pins.
    pub tenant: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryList {
    pub items: Vec<ActivationView>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShadowRunBody {
    /// How many of the latest recorded calls of the plugin's kind to replay (default 100,
    /// at most 1000).
    #[schema(minimum = 1, maximum = 1000)]
    #[serde(default, deserialize_with = "crate::extract::optional_integer")]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackBody {
    /// `pricing`, `validation` or `ingestion`.
    pub kind: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinBody {
    pub kind: String,
    /// The plugin to pin the workspace to; `null` removes the pin.
    pub plugin_id: Option<String>,
}

/// A short `{id, name, version}` for the plugin with this SHA-256.
fn brief(list: &[PluginView], sha: Option<&str>) -> Option<Value> {
    let p = list.iter().find(|p| Some(p.sha256.as_str()) == sha)?;
    Some(serde_json::json!({"id": p.id, "name": p.name, "version": p.version}))
}

async fn views(app: &AppState) -> Result<Vec<PluginView>, ApiError> {
    Ok(app
        .plugins
        .list()
        .await?
        .into_iter()
        .map(|(info, row)| PluginView {
            id: row.id,
            name: info.name,
            kind: info.kind.as_str().into(),
            version: info.version,
            description: info.description,
            sha256: info.sha256,
            size_bytes: info.size_bytes as u64,
            active: info.active,
            installed_at: row.installed_at,
            installed_by: row.installed_by,
        })
        .collect())
}

async fn activation_view(app: &AppState, a: &Activation) -> Result<ActivationView, ApiError> {
    let list = views(app).await?;
    Ok(ActivationView {
        kind: a.kind.as_str().into(),
        action: crate::services::plugins::to_record(a).action,
        plugin: brief(&list, a.sha256.as_deref()),
        previous_plugin: brief(&list, a.previous.as_deref()),
        sha256: a.sha256.clone(),
        previous: a.previous.clone(),
        tenant: a.tenant.clone(),
        actor: a.actor.clone(),
        at: a.at,
    })
}

/// Installed plugins, oldest first, with the active one of each kind marked.
#[utoipa::path(get, path = "/api/ops/plugins", tag = "ops",
    responses((status = 200, body = PluginList)))]
pub async fn plugins_list(
    State(app): State<AppState>,
    _ops: OpsSession,
) -> Result<Json<PluginList>, ApiError> {
    let registry = app.plugins.registry();
    let rollback_to = PluginKind::ALL
        .iter()
        .map(|k| (k.to_string(), registry.rollback_target(*k)))
        .collect();
    Ok(Json(PluginList {
        items: views(&app).await?,
        rollback_to,
    }))
}

/// Uploads a plugin (the raw `.wasm` bytes, at most 16 MiB): validated like every install path
/// and installed, not activated.
#[utoipa::path(post, path = "/api/ops/plugins", tag = "ops",
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    responses((status = 201, body = Installed),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 413, body = Problem, content_type = "application/problem+json"),
              (status = 415, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn plugins_upload(
    State(app): State<AppState>,
    ops: OpsSession,
    meta: ClientMeta,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Installed>), ApiError> {
    ops.require_admin()?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if !matches!(mime, "application/wasm" | "application/octet-stream") {
        return Err(ApiError::UnsupportedMediaType(
            "send the plugin as the raw body, Content-Type: application/wasm".into(),
        ));
    }
    let bytes = axum::body::to_bytes(body, UPLOAD_LIMIT as usize)
        .await
        .map_err(|_| ApiError::PayloadTooLarge {
            limit: UPLOAD_LIMIT,
        })?;
    let (row, report) = app
        .plugins
        .install(bytes.to_vec(), actor(&ops, meta))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Installed {
            id: row.id,
            name: row.name,
            kind: row.kind,
            version: row.version,
            sha256: row.sha256,
            status: "installed".into(),
            report: serde_json::to_value(&*report).unwrap_or(Value::Null),
        }),
    ))
}

/// Every change of what runs (activations, rollbacks, pins), newest first.
#[utoipa::path(get, path = "/api/ops/plugins/history", tag = "ops",
    responses((status = 200, body = HistoryList)))]
pub async fn plugins_history(
    State(app): State<AppState>,
    _ops: OpsSession,
) -> Result<Json<HistoryList>, ApiError> {
    let list = views(&app).await?;
    let items = app
        .plugins
        .history()
        .await?
        .into_iter()
        .map(|r| ActivationView {
            plugin: brief(&list, r.sha256.as_deref()),
            previous_plugin: brief(&list, r.previous.as_deref()),
            kind: r.kind,
            action: r.action,
            sha256: r.sha256,
            previous: r.previous,
            tenant: r.tenant,
            actor: r.actor,
            at: r.at,
        })
        .collect();
    Ok(Json(HistoryList { items }))
}

/// The JSON Schemas of the manifest and of each kind's input and output.
#[utoipa::path(get, path = "/api/ops/plugins/schemas", tag = "ops",
    responses((status = 200, body = Object)))]
pub async fn plugins_schemas(_ops: OpsSession) -> Json<Value> {
    Json(wrk_plugins::schemas())
}

/// Runs the plugin over the latest recorded calls of its kind and reports, case by case, how
/// its outputs differ from what the plugin in use answered.
#[utoipa::path(post, path = "/api/ops/plugins/{id}/shadow-run", tag = "ops",
    params(("id" = String, Path)), request_body = ShadowRunBody,
    responses((status = 200, body = Object,
               description = "`{cases, changed, failed, max_delta_cents, diffs:[...]}`"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn plugins_shadow_run(
    State(app): State<AppState>,
    _ops: OpsSession,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    // The body is optional: empty means the defaults.
    let body: ShadowRunBody = if body.iter().all(u8::is_ascii_whitespace) {
        ShadowRunBody::default()
    } else {
        crate::extract::json_body(&body)?
    };
    let limit = body.limit.unwrap_or(100);
    if !(1..=SHADOW_MAX).contains(&limit) {
        return Err(ApiError::validation(
            "limit",
            format!("must be between 1 and {SHADOW_MAX}"),
        ));
    }
    let report = app.plugins.shadow_run(&id, limit).await?;
    Ok(Json(
        serde_json::to_value(report).map_err(anyhow::Error::from)?,
    ))
}

/// Makes the plugin the active one of its kind (atomic swap: calls in flight finish on the
/// version they started with).
#[utoipa::path(post, path = "/api/ops/plugins/{id}/activate", tag = "ops",
    params(("id" = String, Path)),
    responses((status = 200, body = ActivationView),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn plugins_activate(
    State(app): State<AppState>,
    ops: OpsSession,
    meta: ClientMeta,
    Path(id): Path<String>,
) -> Result<Json<ActivationView>, ApiError> {
    ops.require_admin()?;
    let a = app.plugins.activate(&id, actor(&ops, meta)).await?;
    Ok(Json(activation_view(&app, &a).await?))
}

/// Re-activates the plugin of `kind` that was active before the current one; answers the
/// re-activated plugin.
#[utoipa::path(post, path = "/api/ops/plugins/rollback", tag = "ops",
    request_body = RollbackBody,
    responses((status = 200, body = PluginView),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn plugins_rollback(
    State(app): State<AppState>,
    ops: OpsSession,
    meta: ClientMeta,
    ApiJson(body): ApiJson<RollbackBody>,
) -> Result<Json<PluginView>, ApiError> {
    ops.require_admin()?;
    let kind = parse_kind("kind", &body.kind)?;
    let a = app.plugins.rollback(kind, actor(&ops, meta)).await?;
    views(&app)
        .await?
        .into_iter()
        .find(|p| Some(&p.sha256) == a.sha256.as_ref())
        .map(Json)
        .ok_or_else(|| ApiError::not_found("plugin"))
}

/// Pins a workspace to an installed plugin of `kind` (or removes the pin with
/// `plugin_id: null`); its calls of that kind use the pinned plugin.
#[utoipa::path(put, path = "/api/ops/tenants/{tid}/plugin-pin", tag = "ops",
    params(("tid" = String, Path)), request_body = PinBody,
    responses((status = 200, body = ActivationView),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn tenant_plugin_pin(
    State(app): State<AppState>,
    ops: OpsSession,
    meta: ClientMeta,
    Path(tid): Path<String>,
    ApiJson(body): ApiJson<PinBody>,
) -> Result<Json<ActivationView>, ApiError> {
    ops.require_admin()?;
    let kind = parse_kind("kind", &body.kind)?;
    let id = TenantId::parse(&tid).map_err(|_| ApiError::not_found("workspace"))?;
    let tenant = app
        .blocking(move |s| s.control().tenant_by_id(id))
        .await?
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    let a = app
        .plugins
        .pin(
            tenant.id,
            kind,
            body.plugin_id.as_deref(),
            actor(&ops, meta),
        )
        .await?;
    Ok(Json(activation_view(&app, &a).await?))
}
