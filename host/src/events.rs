//! The in-process event bus: domain events (`version.status_changed`, `task.created`, ...) are
//! published here after their transaction commits, and the server-sent-events endpoint
//! (`GET /api/events`, a later issue) subscribes and filters by tenant.
//!
//! Why a process-wide bus rather than a field of `AppState`: events are a fact of the process
//! (one binary, one bus), and publishing must work from any service without threading a handle
//! through every call. A `tokio::sync::broadcast` channel drops events for subscribers that lag
//! behind, which is right for live UI updates: the UI re-reads on reconnect.

use std::sync::OnceLock;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;
use wrk_core::ids::TenantId;

/// How many events a slow subscriber may lag behind before it misses some.
const CAPACITY: usize = 1024;

/// One event, scoped to the workspace it happened in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub tenant_id: TenantId,
    /// e.g. `version.status_changed`.
    pub kind: &'static str,
    pub data: Value,
}

#[derive(Debug)]
pub struct Events {
    tx: broadcast::Sender<Event>,
}

impl Events {
    fn new() -> Self {
        Self {
            tx: broadcast::channel(CAPACITY).0,
        }
    }

    /// Publishes to whoever listens now; nobody listening is fine.
    pub fn publish(&self, event: Event) {
        let _ = self.tx.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}

/// The process's bus.
pub fn bus() -> &'static Events {
    static BUS: OnceLock<Events> = OnceLock::new();
    BUS.get_or_init(Events::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_receive_what_is_published_after_they_subscribe() {
        let mut rx = bus().subscribe();
        let tenant = TenantId::new();
        bus().publish(Event {
            tenant_id: tenant,
            kind: "version.status_changed",
            data: serde_json::json!({"to": "needs_pricing"}),
        });
        let got = loop {
            let e = rx.recv().await.unwrap();
            if e.tenant_id == tenant {
                break e;
            }
        };
        assert_eq!(got.kind, "version.status_changed");
    }
}
