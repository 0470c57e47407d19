//! The WRK Copilot server and command line.
//!
//! This crate owns everything that touches the outside world: configuration, the CLI, the HTTP
//! server (hyper through axum's router), host → tenant routing, the UI serving, metrics, and (as
//! features land) auth, workers, email, payments and secrets. Domain rules live in `wrk-core`,
//! SQL in `wrk-tenants`, the plugin sandbox in `wrk-plugins`; handlers here stay thin: parse,
//! call one service function, map the result.
//!
//! Layout. Only the composition root [`app`] (and [`cli`], which starts it) imports [`routes`];
//! handlers, extractors and services reach the shared handles through [`state`], never back
//! through the router.
//! - [`cli`]: the `wrk` command line; [`config`]: layered settings (defaults → TOML → env → flags).
//! - [`app`]: the composition root: scope routers, host dispatcher, OpenAPI documents, job kinds.
//! - [`state`]: [`state::AppState`], the handles every handler reaches, and the OpenAPI [`state::Docs`].
//! - [`routes`]: route tables and thin handlers, one module per resource.
//! - [`ctx`]: [`ctx::TenantCtx`], a workspace request's tenant, caller and access, resolved once.
//! - [`extract`]: JSON bodies, queries, pages and request metadata whose rejections are problems.
//! - [`error`]: [`error::ApiError`] → problem+json, and every service error mapped to it.
//! - [`services`]: automations, documents, identity and plugins; plain Rust, no HTTP.
//! - [`blocking`]: the one way to run synchronous work (SQLite, files, hashing) from async code.
//! - [`auth`]: session extractors, cookies and CSRF, JWT keys, password hashing, identity emails,
//!   the auth rate limit.
//! - [`oidc`]: OpenID Connect sign-in, protocol side.
//! - [`jobs`]: the background job runner over the durable queue.
//! - [`email`]: templates, the outbox job and SMTP delivery.
//! - [`events`]: the in-process bus of domain events published after commit.
//! - [`scope`]: host name → apex / ops / workspace.
//! - [`server`]: the accept loop, TLS and graceful shutdown.
//! - [`openapi`]: the conventions and constraints every published OpenAPI document gets.
//! - [`middleware`]: request ids, security headers, body limits, route labels.
//! - [`metrics`]: Prometheus metrics; [`telemetry`]: tracing set-up; [`web`]: the embedded UI.

pub mod app;
pub mod auth;
pub mod blocking;
pub mod cli;
pub mod config;
pub mod ctx;
pub mod email;
pub mod error;
pub mod events;
pub mod extract;
pub mod jobs;
pub mod markdown;
pub mod metrics;
pub mod middleware;
pub mod oidc;
pub mod openapi;
pub mod routes;
pub mod scope;
pub mod secrets;
pub mod server;
pub mod services;
pub mod state;
pub mod telemetry;
pub mod web;
