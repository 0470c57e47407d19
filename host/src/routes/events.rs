//! Routes: the live event streams (server-sent events), `GET /api/events` on a workspace host and
//! `GET /api/ops/events` on the ops host.
//!
//! - The caller is authenticated when the stream opens (a browser's `EventSource` sends the
//!   session cookie; API clients send `Authorization`), like any other request: a refused stream
//!   is a problem document, never an empty stream.
//! - A workspace stream carries only its own workspace's events, and of the per-person ones
//!   (`notification.created`) only the caller's; an ops stream carries every workspace's, except
//!   members' notifications.
//! - Every event has an `id:`. The workspace stream's ids are the workspace's event numbers; the
//!   ops stream's are `<tenant id>:<number>`. A reconnect sends the last one as `Last-Event-ID`
//!   and is first replayed everything recorded after it from the durable log, then continues
//!   live, so it never has a gap. A fresh stream starts at the present.
//! - A comment line is sent at once (so proxies and clients see the stream open) and then every
//!   15 seconds, so idle connections are not closed by proxies.
//! - Streams end when the server shuts down, so they never hold up a graceful stop.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::ids::{TenantId, UserId};
use wrk_tenants::live_events::{LiveEvent, RETAINED};

use crate::auth::session::OpsSession;
use crate::ctx::TenantCtx;
use crate::error::{ApiError, Problem};
use crate::events::{Event, Presence, bus};
use crate::state::AppState;

pub fn tenant_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events_stream))
}

pub fn ops_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ops_events_stream))
}

/// How often an idle stream gets a comment line.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// Events replayed per read of the log.
const PAGE: u32 = 500;

fn closer() -> &'static watch::Sender<bool> {
    static CLOSER: std::sync::OnceLock<watch::Sender<bool>> = std::sync::OnceLock::new();
    CLOSER.get_or_init(|| watch::channel(false).0)
}

/// Changes to `true` once every stream should end (the server is stopping).
fn closing() -> watch::Receiver<bool> {
    closer().subscribe()
}

/// Ends every open stream (called when the server starts its graceful shutdown).
pub fn close_all() {
    closer().send_replace(true);
}

/// Who a stream is for.
#[derive(Debug, Clone, Copy)]
enum Audience {
    Member { tenant: TenantId, user: UserId },
    Ops,
}

impl Audience {
    fn sees(self, e: &LiveEvent) -> bool {
        match self {
            Self::Member { tenant, user } => e.tenant_id == tenant && e.visible_to_user(user),
            Self::Ops => e.visible_to_ops(),
        }
    }

    fn event_id(self, e: &LiveEvent) -> String {
        match self {
            Self::Member { .. } => e.id.to_string(),
            Self::Ops => format!("{}:{}", e.tenant_id, e.id),
        }
    }
}

struct Feed {
    app: AppState,
    audience: Audience,
    rx: broadcast::Receiver<Event>,
    /// Read from the log, to send before anything live.
    backlog: VecDeque<Event>,
    /// The newest event sent, per workspace: replay and live overlap, and this drops repeats.
    last: HashMap<TenantId, i64>,
    opened: bool,
    closing: watch::Receiver<bool>,
    _presence: Option<Presence>,
}

impl Feed {
    /// Whether to send `e` now (and remember it as sent).
    fn take(&mut self, e: &LiveEvent) -> bool {
        if !self.audience.sees(e) {
            return false;
        }
        let last = self.last.entry(e.tenant_id).or_insert(0);
        if e.id <= *last {
            return false;
        }
        *last = e.id;
        true
    }

    fn sse(&self, e: &LiveEvent) -> SseEvent {
        let mut data = e.data.clone();
        if let Some(o) = data.as_object_mut() {
            o.insert("tenant_id".into(), e.tenant_id.to_string().into());
        }
        SseEvent::default()
            .id(self.audience.event_id(e))
            .event(e.kind.clone())
            .data(data.to_string())
    }

    /// The stream fell behind the bus: re-read what it missed from each workspace's log.
    async fn catch_up(&mut self) {
        let from: Vec<(TenantId, i64)> = self.last.iter().map(|(t, n)| (*t, *n)).collect();
        match self
            .app
            .blocking(move |s| {
                let mut all = Vec::new();
                for (t, n) in from {
                    all.extend(replay_after(&*s.tenant(t)?, n)?);
                }
                Ok(all)
            })
            .await
        {
            Ok(events) => self.backlog.extend(events),
            Err(e) => tracing::warn!(error = %e, "event stream could not catch up"),
        }
    }

    async fn next(mut self) -> Option<(Result<SseEvent, Infallible>, Self)> {
        if !self.opened {
            self.opened = true;
            let hello = SseEvent::default()
                .comment("connected")
                .retry(Duration::from_secs(2));
            return Some((Ok(hello), self));
        }
        loop {
            if *self.closing.borrow() {
                return None;
            }
            if let Some(e) = self.backlog.pop_front() {
                if self.take(&e) {
                    let out = self.sse(&e);
                    return Some((Ok(out), self));
                }
                continue;
            }
            tokio::select! {
                _ = self.closing.changed() => return None,
                got = self.rx.recv() => match got {
                    Ok(e) => if self.take(&e) {
                        let out = self.sse(&e);
                        return Some((Ok(out), self));
                    },
                    Err(RecvError::Lagged(_)) => self.catch_up().await,
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    }
}

/// Everything recorded after event `after` of one workspace, oldest first.
fn replay_after(
    t: &wrk_tenants::tenant::TenantStore,
    after: i64,
) -> wrk_tenants::StoreResult<Vec<Event>> {
    let mut out: Vec<Event> = Vec::new();
    let mut from = after;
    loop {
        let page = t.live_events_after(from, PAGE)?;
        let Some(newest) = page.last().map(|e| e.id) else {
            break;
        };
        from = newest;
        out.extend(page.into_iter().map(std::sync::Arc::new));
        if out.len() as i64 >= RETAINED {
            break;
        }
    }
    Ok(out)
}

fn last_event_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn respond(feed: Feed) -> Response {
    let body = Sse::new(stream::unfold(feed, Feed::next))
        .keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"));
    let mut res = body.into_response();
    // Tells buffering proxies (nginx) to pass events through at once.
    res.headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    res
}

fn feed(app: AppState, audience: Audience, presence: Option<Presence>) -> Feed {
    Feed {
        app,
        audience,
        rx: bus().subscribe(),
        backlog: VecDeque::new(),
        last: HashMap::new(),
        opened: false,
        closing: closing(),
        _presence: presence,
    }
}

/// The workspace's live events as server-sent events: `message.created`,
/// `version.status_changed`, `task.created`, `task.updated`, and the caller's own
/// `notification.created`. Send `Last-Event-ID` to resume after an event.
#[utoipa::path(get, path = "/api/events", tag = "events",
    params(("Last-Event-ID" = Option<String>, Header,
        description = "The id of the last event received; the stream resumes after it")),
    responses((status = 200, content_type = "text/event-stream", body = String,
                description = "An endless stream of events, one `id:`, `event:` and `data:` (JSON) each"),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn events_stream(ctx: TenantCtx, headers: HeaderMap) -> Result<Response, ApiError> {
    let (tenant, user) = (ctx.tenant_id(), ctx.session.user_id());
    let audience = Audience::Member { tenant, user };
    let presence = bus().present(tenant, user);
    let mut feed = feed(ctx.app.clone(), audience, Some(presence));
    let resume = last_event_id(&headers).and_then(|s| s.parse::<i64>().ok());
    let (start, backlog) = ctx
        .blocking(move |t| match resume {
            Some(after) => Ok((after, replay_after(t, after)?)),
            None => Ok((t.live_events_head()?, Vec::new())),
        })
        .await?;
    feed.last.insert(tenant, start);
    feed.backlog.extend(backlog);
    Ok(respond(feed))
}

/// Every workspace's live events as server-sent events, for the ops console (members'
/// notifications excepted). Ids are `<tenant id>:<number>`; send the last as `Last-Event-ID` to
/// resume after it.
#[utoipa::path(get, path = "/api/ops/events", tag = "ops",
    params(("Last-Event-ID" = Option<String>, Header,
        description = "The id of the last event received; the stream resumes after it")),
    responses((status = 200, content_type = "text/event-stream", body = String,
                description = "An endless stream of events, one `id:`, `event:` and `data:` (JSON) each"),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn ops_events_stream(
    State(app): State<AppState>,
    _ops: OpsSession,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mut feed = feed(app.clone(), Audience::Ops, None);
    let resume = last_event_id(&headers).and_then(|s| {
        let (t, n) = s.split_once(':')?;
        Some((TenantId::parse(t).ok()?, n.parse::<i64>().ok()?))
    });
    if let Some((at_tenant, after)) = resume {
        let (last, backlog) = app
            .blocking(move |s| {
                let mut last = HashMap::new();
                let mut backlog: Vec<Event> = Vec::new();
                let Some(store) = s
                    .control()
                    .tenant_by_id(at_tenant)?
                    .map(|t| s.tenant(t.id))
                    .transpose()?
                else {
                    return Ok((last, backlog));
                };
                let since = store.live_event_time(after)?;
                last.insert(at_tenant, after);
                backlog.extend(replay_after(&store, after)?);
                if let Some(since) = since {
                    for t in s.control().list_tenants()? {
                        if t.id == at_tenant {
                            continue;
                        }
                        backlog.extend(
                            s.tenant(t.id)?
                                .live_events_since(since, PAGE)?
                                .into_iter()
                                .map(std::sync::Arc::new),
                        );
                    }
                }
                backlog.sort_by_key(|e| e.created_at);
                Ok((last, backlog))
            })
            .await?;
        feed.last = last;
        feed.backlog.extend(backlog);
    }
    Ok(respond(feed))
}
