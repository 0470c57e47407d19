//! The route tables, one per scope. Each function returns an [`OpenApiRouter`] so the published
//! OpenAPI document is generated from the same `#[utoipa::path]` annotations the routes use and
//! can't drift from them.

pub mod account;
pub mod apex;
pub mod audit;
pub mod automations;
pub mod billing;
pub mod common;
pub mod credentials;
pub mod directory;
pub mod documents;
pub mod events;
pub mod messages;
pub mod notifications;
pub mod oidc;
pub mod ops;
pub mod ops_auth;
pub mod ops_automations;
pub mod ops_billing;
pub mod ops_clients;
pub mod ops_fences;
pub mod ops_home;
pub mod ops_outbox;
pub mod ops_platform;
pub mod ops_plugins;
pub mod ops_quotes;
pub mod pages;
pub mod quotes;
pub mod tasks;
pub mod team;
pub mod tenant;
pub mod usage;
pub mod workspace_settings;
