//! The in-process event bus: every live event (`message.created`, `version.status_changed`,
//! `task.created`, `task.updated`, `notification.created`) is written by the store inside the
//! change's transaction (`wrk_tenants::live_events`), and once that transaction commits the store
//! hands it here ([`install`]); the server-sent-events streams (`routes::events`) subscribe and
//! filter by workspace and user.
//!
//! Why a process-wide bus rather than a field of `AppState`: events are a fact of the process
//! (one binary, one bus), and the store announces commits from whatever thread wrote them. A
//! `tokio::sync::broadcast` channel drops events for subscribers that lag behind; a stream that
//! lags re-reads what it missed from the durable log, exactly as a reconnecting browser does.
//!
//! The bus also counts who has a stream open ([`Presence`]): a person with none is offline, and
//! gets their message notifications by email, batched.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use tokio::sync::broadcast;
use wrk_core::ids::{TenantId, UserId};
use wrk_tenants::live_events::{self, LiveEvent};

/// How many events a slow subscriber may lag behind before it re-reads from the log.
const CAPACITY: usize = 1024;

/// One committed event, shared by every subscriber.
pub type Event = Arc<LiveEvent>;

#[derive(Debug)]
pub struct Events {
    tx: broadcast::Sender<Event>,
    presence: Mutex<HashMap<(TenantId, UserId), usize>>,
}

impl Events {
    fn new() -> Self {
        Self {
            tx: broadcast::channel(CAPACITY).0,
            presence: Mutex::new(HashMap::new()),
        }
    }

    /// Publishes to whoever listens now; nobody listening is fine.
    pub fn publish(&self, event: Event) {
        let _ = self.tx.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// Whether `user` has a stream of workspace `tenant` open now.
    pub fn is_online(&self, tenant: TenantId, user: UserId) -> bool {
        self.presence.lock().contains_key(&(tenant, user))
    }

    /// Counts a stream of `user` as open until the returned guard drops.
    pub fn present(&'static self, tenant: TenantId, user: UserId) -> Presence {
        *self.presence.lock().entry((tenant, user)).or_default() += 1;
        Presence {
            events: self,
            key: (tenant, user),
        }
    }
}

/// An open stream of one person; dropping it closes it.
#[derive(Debug)]
pub struct Presence {
    events: &'static Events,
    key: (TenantId, UserId),
}

impl Drop for Presence {
    fn drop(&mut self) {
        let mut p = self.events.presence.lock();
        if let Some(n) = p.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                p.remove(&self.key);
            }
        }
    }
}

/// The process's bus.
pub fn bus() -> &'static Events {
    static BUS: OnceLock<Events> = OnceLock::new();
    BUS.get_or_init(Events::new)
}

/// Has the store announce every committed live event on the bus. Idempotent.
pub fn install() {
    live_events::set_listener(|events| {
        for e in events {
            bus().publish(Arc::new(e.clone()));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_receive_what_is_published_after_they_subscribe() {
        let mut rx = bus().subscribe();
        let tenant = TenantId::new();
        bus().publish(Arc::new(LiveEvent {
            tenant_id: tenant,
            id: 1,
            kind: "version.status_changed".into(),
            data: serde_json::json!({"to": "needs_pricing"}),
            user_id: None,
            created_at: chrono::Utc::now(),
        }));
        let got = loop {
            let e = rx.recv().await.unwrap();
            if e.tenant_id == tenant {
                break e;
            }
        };
        assert_eq!(got.kind, "version.status_changed");
    }

    #[test]
    fn a_person_is_online_while_one_of_their_streams_is_open() {
        let (t, u) = (TenantId::new(), UserId::new());
        assert!(!bus().is_online(t, u));
        let a = bus().present(t, u);
        let b = bus().present(t, u);
        drop(a);
        assert!(bus().is_online(t, u));
        drop(b);
        assert!(!bus().is_online(t, u));
    }
}
