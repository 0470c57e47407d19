//! Route: `GET /api/ops/home`, the work queues of the ops console's home page in one answer.
//! Each queue has its count and its first items, each item a link away from the action. A queue
//! whose source does not exist on this installation yet is `available: false` with `count:
//! null` and says why: the console shows it as unavailable, never as 0.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::machine::VersionStatus;
use wrk_core::tasks::Assignee;
use wrk_core::threads::Side;
use wrk_tenants::automations::AutomationFilter;

use crate::auth::session::OpsSession;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ops_home))
}

/// Items listed per queue (the count covers them all).
const ITEMS_PER_QUEUE: u32 = 5;

/// The queues that list automations in one status, in the order the page shows them.
/// `intake`: new requests ops may help shape (flow 10) and send to pricing.
const STATUS_QUEUES: &[(&str, VersionStatus)] = &[
    ("intake", VersionStatus::IntakeInProgress),
    ("quotes", VersionStatus::NeedsPricing),
    ("qa", VersionStatus::QaTesting),
    ("deploys", VersionStatus::ReadyToLaunch),
    ("blocked", VersionStatus::Blocked),
];

/// The queues with no source on this installation yet, and why.
const UNAVAILABLE: &[(&str, &str)] = &[(
    "plugins",
    "Failed plugin runs are not recorded on this installation yet.",
)];

/// One thing waiting in a queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueItem {
    pub tenant_id: String,
    /// The workspace's name.
    pub workspace: String,
    pub automation_id: String,
    /// The automation's name.
    pub automation: String,
    /// The automation's status, for status queues.
    pub status: Option<String>,
    /// A task's title, for task queues.
    pub title: Option<String>,
    /// Since when it has been waiting.
    pub since: DateTime<Utc>,
}

/// One work queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueView {
    /// `intake`, `quotes`, `qa`, `deploys`, `blocked`, `overdue`, `emails`, `threads`, `plugins` or
    /// `events`.
    pub key: String,
    /// How many wait; `null` when the queue is not available.
    pub count: Option<u64>,
    pub available: bool,
    /// Why the queue is not available.
    pub unavailable_reason: Option<String>,
    /// The first few, oldest waiting first for tasks, newest first for automations.
    pub items: Vec<QueueItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpsHome {
    pub queues: Vec<QueueView>,
}

fn available(key: &str, count: u64, items: Vec<QueueItem>) -> QueueView {
    QueueView {
        key: key.to_owned(),
        count: Some(count),
        available: true,
        unavailable_reason: None,
        items,
    }
}

/// The work queues of the ops home: new requests, automations waiting for a quote, QA or a deploy, blocked
/// ones, overdue ops tasks and undelivered emails, each with its count and first items; queues
/// with no source yet are marked unavailable.
#[utoipa::path(get, path = "/api/ops/home", tag = "ops",
    responses((status = 200, body = OpsHome),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn ops_home(
    State(app): State<AppState>,
    _ops: OpsSession,
) -> Result<Json<OpsHome>, ApiError> {
    let queues = app
        .blocking(|s| {
            let now = Utc::now();
            let tenants = s.control().list_tenants()?;
            let mut status_counts = vec![0u64; STATUS_QUEUES.len()];
            let mut status_items: Vec<Vec<QueueItem>> =
                STATUS_QUEUES.iter().map(|_| Vec::new()).collect();
            let (mut overdue, mut overdue_items) = (0u64, Vec::new());
            let (mut threads, mut thread_items) = (0u64, Vec::new());
            for t in &tenants {
                let store = s.tenant(t.id)?;
                let item = |a: &wrk_tenants::automations::Automation| QueueItem {
                    tenant_id: t.id.to_string(),
                    workspace: t.name.clone(),
                    automation_id: a.id.to_string(),
                    automation: a.name.clone(),
                    status: Some(a.status.as_str().to_owned()),
                    title: None,
                    since: a.updated_at,
                };
                for (i, (_, status)) in STATUS_QUEUES.iter().enumerate() {
                    let n = store.count_automations_in(*status)?;
                    if n == 0 {
                        continue;
                    }
                    status_counts[i] += n;
                    let found = store.list_automations(&AutomationFilter {
                        status: Some(*status),
                        limit: ITEMS_PER_QUEUE,
                        ..AutomationFilter::default()
                    })?;
                    status_items[i].extend(found.iter().map(item));
                }
                // Threads with client messages ops have not read (flow 30).
                for (automation, unread, since) in store.unread_threads(Side::Ops)? {
                    threads += 1;
                    if thread_items.len() < ITEMS_PER_QUEUE as usize * 4 {
                        let a = store.automation(automation)?;
                        thread_items.push(QueueItem {
                            title: Some(if unread == 1 {
                                "1 unread message".to_owned()
                            } else {
                                format!("{unread} unread messages")
                            }),
                            status: None,
                            since,
                            ..item(&a)
                        });
                    }
                }
                let (n, tasks) = store.overdue_tasks(Assignee::Ops, now, ITEMS_PER_QUEUE)?;
                overdue += n;
                for task in tasks {
                    let a = store.automation(task.automation_id)?;
                    overdue_items.push(QueueItem {
                        title: Some(task.title.clone()),
                        status: None,
                        since: task.created_at,
                        ..item(&a)
                    });
                }
            }
            let emails = s.control().undelivered_emails()?;
            let mut queues = Vec::new();
            for (i, items) in status_items.into_iter().enumerate() {
                let mut items = items;
                items.sort_by_key(|x| std::cmp::Reverse(x.since));
                items.truncate(ITEMS_PER_QUEUE as usize);
                queues.push(available(STATUS_QUEUES[i].0, status_counts[i], items));
            }
            overdue_items.sort_by_key(|x| x.since);
            overdue_items.truncate(ITEMS_PER_QUEUE as usize);
            queues.push(available("overdue", overdue, overdue_items));
            queues.push(available("emails", emails, Vec::new()));
            let events = s.control().undelivered_platform_events()?;
            queues.push(available("events", events, Vec::new()));
            thread_items.sort_by_key(|x| std::cmp::Reverse(x.since));
            thread_items.truncate(ITEMS_PER_QUEUE as usize);
            queues.push(available("threads", threads, thread_items));
            for (key, why) in UNAVAILABLE {
                queues.push(QueueView {
                    key: (*key).to_owned(),
                    count: None,
                    available: false,
                    unavailable_reason: Some((*why).to_owned()),
                    items: Vec::new(),
                });
            }
            Ok(queues)
        })
        .await?;
    Ok(Json(OpsHome { queues }))
}
