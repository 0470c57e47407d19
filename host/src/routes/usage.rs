//! Routes: the WRK Platform's run-event webhook (flow 27), the workspace's webhook secret, usage
//! (flow 28) and threshold alerts (flow 29) on a workspace host.

use axum::Json;
use axum::http::HeaderMap;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::ids::AlertId;
use wrk_core::signature::HEADER;
use wrk_core::usage::{AlertSettings, is_period, period_of};
use wrk_tenants::usage::{AlertRecord, DayRow, UsageRow};

use super::automations::parse_automation_id;
use crate::ctx::{Admin, TenantCtx};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, CurrentTenant, Cursor, Limit};
use crate::services::{paginate, usage as svc};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(platform_webhook))
        .routes(routes!(webhook_secret_get))
        .routes(routes!(webhook_secret_rotate))
        .routes(routes!(usage_get))
        .routes(routes!(usage_days))
        .routes(routes!(alerts_list))
        .routes(routes!(alert_settings_get, alert_settings_put))
}

/// A platform event (API.md "Platform event"), signed with the workspace's webhook secret in the
/// `WRK-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">` header.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PlatformEvent {
    /// The sender's event id: a replay of the same id changes nothing.
    #[schema(min_length = 1, max_length = 200)]
    pub id: String,
    #[serde(rename = "type")]
    #[schema(pattern = "^(run\\.started|run\\.succeeded|run\\.failed|credential\\.failed)$")]
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub data: PlatformEventData,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PlatformEventData {
    pub automation_id: String,
    pub version: Option<u32>,
    pub run_id: Option<String>,
    pub duration_ms: Option<u64>,
    pub credential_id: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Received {
    pub received: bool,
    /// True when an event with this id was received before (nothing changed).
    pub duplicate: bool,
}

/// Receive a run or credential event from the WRK Platform (flow 27). The signature is checked
/// over the raw body before anything else; the event is stored once per id and folded into usage
/// and alerts shortly after, off the request.
#[utoipa::path(post, path = "/webhooks/platform", tag = "usage",
    params(("WRK-Signature" = String, Header,
            description = "`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + \".\" + body)>`")),
    request_body = PlatformEvent,
    responses((status = 200, body = Received),
              (status = 401, description = "A missing, malformed, stale (over 5 minutes) or wrong signature (`invalid_signature`); nothing is stored", body = Problem, content_type = "application/problem+json"),
              (status = 413, body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "A genuine body that is not a platform event", body = Problem, content_type = "application/problem+json")))]
async fn platform_webhook(
    CurrentTenant(tenant): CurrentTenant,
    axum::extract::State(app): axum::extract::State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Received>, ApiError> {
    let header = headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let r = svc::receive(&app, tenant.id, header, body).await?;
    Ok(Json(Received {
        received: true,
        duplicate: r.duplicate,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookSecret {
    /// The secret the WRK Platform signs this workspace's events with.
    pub secret: String,
}

/// The workspace's current webhook signing secret (owners and admins).
#[utoipa::path(get, path = "/api/webhook-secret", tag = "usage",
    responses((status = 200, body = WebhookSecret)))]
async fn webhook_secret_get(ctx: TenantCtx<Admin>) -> Result<Json<WebhookSecret>, ApiError> {
    let secret = ctx.blocking(|t| t.current_webhook_secret()).await?;
    Ok(Json(WebhookSecret { secret }))
}

/// Replace the webhook secret with a new random one (owners and admins). The old secret is still
/// accepted for 24 hours, so the platform can switch over. Audited as `webhook_secret.rotated`.
#[utoipa::path(post, path = "/api/webhook-secret/rotate", tag = "usage",
    responses((status = 200, body = WebhookSecret)))]
async fn webhook_secret_rotate(ctx: TenantCtx<Admin>) -> Result<Json<WebhookSecret>, ApiError> {
    let (actor, meta) = (ctx.audit_actor(), ctx.meta.clone());
    let secret = ctx
        .blocking(move |t| t.rotate_webhook_secret(&actor, &meta))
        .await?;
    Ok(Json(WebhookSecret { secret }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// One automation (empty: every automation of the workspace).
    #[param(
        pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$"
    )]
    pub automation_id: Option<String>,
    /// The UTC month, `YYYY-MM` (default: the current one).
    #[param(pattern = "^([0-9]{4}-(0[1-9]|1[0-2]))?$")]
    pub period: Option<String>,
}

fn period_param(p: Option<&str>) -> Result<String, ApiError> {
    match p.filter(|s| !s.is_empty()) {
        None => Ok(period_of(Utc::now())),
        Some(p) if is_period(p) => Ok(p.to_owned()),
        Some(_) => Err(ApiError::validation("period", "a month as YYYY-MM")),
    }
}

fn automation_param(s: Option<&str>) -> Result<Option<wrk_core::ids::AutomationId>, ApiError> {
    s.filter(|s| !s.is_empty())
        .map(|s| {
            parse_automation_id(s)
                .map_err(|_| ApiError::validation("automation_id", "is not an automation id"))
        })
        .transpose()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageItem {
    pub automation_id: String,
    /// Finished runs in the period.
    pub runs: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Total duration of the finished runs, in milliseconds.
    pub duration_ms: u64,
    /// The period's committed runs; null without an active subscription.
    pub committed: Option<u64>,
    /// `runs` as a rounded percentage of `committed`; null without a commitment.
    pub percent: Option<u32>,
}

impl From<UsageRow> for UsageItem {
    fn from(u: UsageRow) -> Self {
        Self {
            automation_id: u.automation_id.to_string(),
            runs: u.runs,
            succeeded: u.succeeded,
            failed: u.failed,
            duration_ms: u.duration_ms,
            committed: u.committed,
            percent: u.percent,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageView {
    pub period: String,
    pub items: Vec<UsageItem>,
}

/// Usage per automation in a UTC month (flow 28), counted from the platform's run events.
#[utoipa::path(get, path = "/api/usage", tag = "usage", params(UsageQuery),
    responses((status = 200, body = UsageView),
              (status = 404, description = "No such automation", body = Problem, content_type = "application/problem+json")))]
async fn usage_get(
    ctx: TenantCtx,
    ApiQuery(q): ApiQuery<UsageQuery>,
) -> Result<Json<UsageView>, ApiError> {
    let period = period_param(q.period.as_deref())?;
    let automation = automation_param(q.automation_id.as_deref())?;
    let p = period.clone();
    let rows = ctx.blocking(move |t| t.usage(&p, automation)).await?;
    Ok(Json(UsageView {
        period,
        items: rows.into_iter().map(UsageItem::from).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// The automation.
    #[param(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub automation_id: String,
    /// The UTC month, `YYYY-MM` (default: the current one).
    #[param(pattern = "^([0-9]{4}-(0[1-9]|1[0-2]))?$")]
    pub period: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayItem {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub runs: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub duration_ms: u64,
}

impl From<DayRow> for DayItem {
    fn from(d: DayRow) -> Self {
        Self {
            day: d.day,
            runs: d.runs,
            succeeded: d.succeeded,
            failed: d.failed,
            duration_ms: d.duration_ms,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageDaysView {
    pub automation_id: String,
    pub period: String,
    /// The period's totals (as `GET /api/usage` gives them).
    pub total: UsageItem,
    /// The workspace's volume alert thresholds, in percent of `committed`.
    pub thresholds_percent: Vec<u32>,
    /// Every day of the month, zeros included.
    pub items: Vec<DayItem>,
}

/// Runs per UTC day of one automation in a month, with the period's commitment and the alert
/// thresholds: the "Runs & usage" chart.
#[utoipa::path(get, path = "/api/usage/days", tag = "usage", params(DaysQuery),
    responses((status = 200, body = UsageDaysView),
              (status = 404, description = "No such automation", body = Problem, content_type = "application/problem+json")))]
async fn usage_days(
    ctx: TenantCtx,
    ApiQuery(q): ApiQuery<DaysQuery>,
) -> Result<Json<UsageDaysView>, ApiError> {
    let period = period_param(q.period.as_deref())?;
    let Some(automation) = automation_param(Some(&q.automation_id))? else {
        return Err(ApiError::validation("automation_id", "is required"));
    };
    let p = period.clone();
    let (total, days, settings) = ctx
        .blocking(move |t| {
            let total = t.usage(&p, Some(automation))?.remove(0);
            Ok((total, t.usage_by_day(automation, &p)?, t.alert_settings()?))
        })
        .await?;
    Ok(Json(UsageDaysView {
        automation_id: automation.to_string(),
        period,
        total: total.into(),
        thresholds_percent: settings.volume_thresholds_percent,
        items: days.into_iter().map(DayItem::from).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    pub id: String,
    /// `volume` (a share of the committed runs) or `failure_rate`.
    pub kind: String,
    pub automation_id: String,
    pub automation_name: String,
    /// The threshold crossed, in percent.
    pub threshold: u32,
    /// The UTC month, `YYYY-MM`.
    pub period: String,
    /// The percentage observed when it fired.
    pub observed: u32,
    /// One line for people.
    pub title: String,
    pub created_at: DateTime<Utc>,
}

impl From<&AlertRecord> for AlertView {
    fn from(a: &AlertRecord) -> Self {
        Self {
            id: a.id.to_string(),
            kind: a.kind.clone(),
            automation_id: a.automation_id.to_string(),
            automation_name: a.automation_name.clone(),
            threshold: a.threshold,
            period: a.period.clone(),
            observed: a.observed,
            title: a.title(),
            created_at: a.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertPage {
    pub items: Vec<AlertView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// One automation (empty: all).
    #[param(
        pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$"
    )]
    pub automation_id: Option<String>,
    /// Page size: 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<Limit>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<String>, format = Uuid)]
    pub cursor: Option<Cursor>,
}

/// Alerts fired in the workspace (flow 29), newest first.
#[utoipa::path(get, path = "/api/alerts", tag = "usage", params(AlertQuery),
    responses((status = 200, body = AlertPage)))]
async fn alerts_list(
    ctx: TenantCtx,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> Result<Json<AlertPage>, ApiError> {
    let automation = automation_param(q.automation_id.as_deref())?;
    let limit = Limit::or_default(q.limit);
    let cursor = Cursor::into_inner(q.cursor)
        .filter(|c| !c.is_empty())
        .map(|c| AlertId::parse(&c).map_err(|_| ApiError::validation("cursor", "is not a cursor")))
        .transpose()?;
    let rows = ctx
        .blocking(move |t| t.list_alerts(automation, cursor, limit + 1))
        .await?;
    let (rows, next_cursor) = paginate(rows, limit, |a| a.id.to_string());
    Ok(Json(AlertPage {
        items: rows.iter().map(AlertView::from).collect(),
        next_cursor,
    }))
}

/// The workspace's alert thresholds.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertSettingsBody {
    /// Percentages of the period's committed runs (1 to 1000 each, at most 5); one alert per
    /// threshold, automation and period.
    #[serde(deserialize_with = "crate::extract::integer_list")]
    pub volume_thresholds_percent: Vec<u32>,
    /// An alert when more than this percentage (1 to 100) of the last `failure_window_runs`
    /// finished runs failed.
    #[schema(minimum = 1, maximum = 100)]
    #[serde(deserialize_with = "crate::extract::integer")]
    pub failure_rate_percent: u32,
    /// How many of the latest finished runs the failure rate is taken over (1 to 1000); judged
    /// once that many runs exist.
    #[schema(minimum = 1, maximum = 1000)]
    #[serde(deserialize_with = "crate::extract::integer")]
    pub failure_window_runs: u32,
}

impl From<AlertSettings> for AlertSettingsBody {
    fn from(s: AlertSettings) -> Self {
        Self {
            volume_thresholds_percent: s.volume_thresholds_percent,
            failure_rate_percent: s.failure_rate_percent,
            failure_window_runs: s.failure_window_runs,
        }
    }
}

/// The workspace's alert thresholds (defaults: 80 and 100 % of the committed runs, and more than
/// 20 % of the last 50 runs failed).
#[utoipa::path(get, path = "/api/settings/alerts", tag = "usage",
    responses((status = 200, body = AlertSettingsBody)))]
async fn alert_settings_get(ctx: TenantCtx) -> Result<Json<AlertSettingsBody>, ApiError> {
    let s = ctx.blocking(|t| t.alert_settings()).await?;
    Ok(Json(s.into()))
}

/// Change the alert thresholds (owners and admins); audited as `alert_settings.updated`.
/// Thresholds are stored sorted, without repeats.
#[utoipa::path(put, path = "/api/settings/alerts", tag = "usage",
    request_body = AlertSettingsBody,
    responses((status = 200, body = AlertSettingsBody)))]
async fn alert_settings_put(
    ctx: TenantCtx<Admin>,
    ApiJson(body): ApiJson<AlertSettingsBody>,
) -> Result<Json<AlertSettingsBody>, ApiError> {
    let settings = AlertSettings {
        volume_thresholds_percent: body.volume_thresholds_percent,
        failure_rate_percent: body.failure_rate_percent,
        failure_window_runs: body.failure_window_runs,
    }
    .validated()
    .map_err(|e| ApiError::validation(e.field, e.message))?;
    let (actor, meta) = (ctx.audit_actor(), ctx.meta.clone());
    let s = ctx
        .blocking(move |t| t.set_alert_settings(&settings, &actor, &meta))
        .await?;
    Ok(Json(s.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_default_to_this_month_and_must_be_months() {
        assert_eq!(period_param(None).unwrap(), period_of(Utc::now()));
        assert_eq!(period_param(Some("")).unwrap(), period_of(Utc::now()));
        assert_eq!(period_param(Some("2026-02")).unwrap(), "2026-02");
        assert!(period_param(Some("2026-13")).is_err());
    }
}
