//! SQLite storage of WRK Copilot. All SQL of the product lives in this crate.
//!
//! The data directory holds `control.db` (workspaces, and as features land users, memberships,
//! the job queue, the plugin registry) and one `tenants/<tenant_id>.db` per workspace. Each file
//! has embedded, versioned migrations, a single writer and a read pool (see [`db`]). Tenant files
//! open lazily through a bounded LRU ([`storage::Storage`]).
//!
//! The API is synchronous: the host calls it from blocking threads. It depends on `wrk-core` for
//! domain types and on nothing of HTTP or plugins.
//!
//! Layout:
//! - [`db`]: one SQLite file (pragmas, writer, read pool).
//! - [`migrate`]: embedded migrations and `PRAGMA user_version`.
//! - [`storage`]: the data directory as a whole, with the tenant LRU, backup and restore.
//! - [`control`]: the control-plane store (workspaces and the host → tenant lookup).
//! - [`tenant`]: one tenant's store.
//! - [`audit`]: the audit log writer (always inside the change's transaction) and reader.
//! - [`identity`]: users, SSO identities, memberships, sessions, one-time tokens, invitations,
//!   the login lockout, ops users (control plane) and API keys (tenant).
//! - [`directory`]: lookups across a workspace (and for ops across workspaces): the workspace
//!   list with counts, search, renaming.
//! - [`automations`]: automations, versions and their history, projects, quotes, messages and
//!   tasks (tenant).
//! - [`billing`]: the pricing override, subscriptions, committed-volume changes, period
//!   invoices and dunning (tenant).
//! - [`documents`]: requirements documents and the ingestion proposal built from them (tenant).
//! - [`clients`]: client records, the workspaces linked to them and their health history
//!   (control plane), and the health signals of one workspace (tenant).
//! - [`credentials`]: credential references, hints and statuses, and what a credential provided
//!   or failing does to versions and tasks (flows 25, 26) (tenant).
//! - [`platform_events`]: the outbox of events for the WRK Platform, written with the
//!   transition that causes them, and their delivery log (tenant; jobs in the control plane).
//! - [`inbound_events`]: the webhook signing secrets and the platform events received, once per
//!   id (tenant).
//! - [`usage`]: run events folded exactly once into per-day and per-month usage, alert
//!   settings and the alerts fired (tenant).
//! - [`jobs`]: the durable job queue (control plane).
//! - [`live_events`]: the durable log behind the live event stream, written inside each change's
//!   transaction and announced once it commits (tenant).
//! - [`notifications`]: per-user in-app notifications, written inside the causing change's
//!   transaction (tenant).
//! - [`outbox`]: the email outbox, written inside the change's transaction (control plane).
//! - [`plugins`]: the plugin registry, activation history, pins and recorded calls (control
//!   plane).
//! - [`queues`]: the counts of the ops home queues that are not automation lists (overdue
//!   tasks, undelivered emails).
//! - [`threads`]: the automation threads between a workspace and ops: messages, read markers
//!   and unread counts per side (tenant).
//! - [`workspace_settings`]: per-workspace settings the control plane needs (invitees' email
//!   verification, flow 1B).
//! - [`error`]: [`StoreError`], the one error type of this layer.
//! - `testing` (tests only): shared set-up of the unit tests (a storage in a temp dir, actors, a
//!   workspace with its owner, an automation with a blueprint).

pub mod audit;
pub mod automations;
pub mod billing;
pub mod clients;
pub mod control;
pub mod credentials;
pub mod db;
pub mod directory;
pub mod documents;
pub mod error;
pub mod identity;
pub mod inbound_events;
pub mod jobs;
pub mod live_events;
pub mod migrate;
pub mod notifications;
pub mod outbox;
pub mod platform_events;
pub mod plugins;
pub mod queues;
pub mod storage;
pub mod tenant;
#[cfg(test)]
pub(crate) mod testing;
pub mod threads;
pub mod usage;
pub mod workspace_settings;

pub use error::{Entity, Refusal, StoreError, StoreResult};
pub use storage::{Fence, FenceOutcome, Storage, StorageConfig};
