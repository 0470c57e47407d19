//! Domain types and rules of WRK Copilot.
//!
//! This crate is pure: no IO, no async, no SQL, no HTTP. Everything that decides something about
//! the domain lives here so it can be tested as plain functions; the storage (`wrk-tenants`) and the
//! host (`wrk-host`) call into it and never decide on their own.
//!
//! Layout:
//! - [`automation`]: the name, description and requirements rules (`parse` constructors) and
//!   the read-only, editable-blueprint and new-version checks, each with a typed error.
//! - [`blueprint`]: the blueprint's published JSON Schema and small readers of blueprint JSON.
//! - [`credentials`]: credential kinds and their fields, the masked hint, credential status.
//! - [`host`]: which part of the product a host name names (apex, ops, a workspace slug).
//! - [`ids`]: UUID v7 newtypes (`TenantId`, `UserId`, ...).
//! - [`slug`]: workspace subdomain rules and the reserved list.
//! - [`roles`]: client and ops roles, API-key scopes and what they allow.
//! - [`machine`]: the automation version state machine (statuses, actors, guards, side effects,
//!   transitions), with PRODUCT.md's table as data.
//! - [`money`]: integer cents with a currency, checked arithmetic, discounts and proration, and
//!   the one way an amount is written for people (`Display`).
//! - [`quote`]: the quote lifecycle (draft, sent, accepted, signed; rejected, expired,
//!   superseded), with who may do what, as data; and what a line item is charged for
//!   (`Recurrence`).
//! - [`billing`]: billing periods (UTC months), day-based proration, overage, committed-volume
//!   changes and invoice lines.
//! - [`invoice`]: the invoice lifecycle (draft, finalized, paid, failed) and its dunning schedule.
//! - [`notifications`]: what an in-app notification is about (its kind).
//! - [`tasks`]: task kinds and assignees.
//! - [`threads`]: who writes in an automation thread, its two sides, and message bodies.
//! - [`validation`]: the severity of a validation issue.
//! - [`health`]: a client's health (green, yellow, red) and the status suggested from its
//!   workspaces' signals, with the reasons and the signals that have no data.
//! - [`signature`]: the `WRK-Signature` HMAC scheme of platform webhooks, both ways.
//! - [`redact`]: hiding tokens in text shown to people other than its recipient (ops outbox).

pub mod automation;
pub mod billing;
pub mod blueprint;
pub mod credentials;
pub mod health;
pub mod host;
pub mod ids;
pub mod invoice;
pub mod machine;
pub mod money;
pub mod notifications;
pub mod quote;
pub mod redact;
pub mod roles;
pub mod signature;
pub mod slug;
pub mod tasks;
pub mod threads;
pub mod usage;
pub mod validation;
