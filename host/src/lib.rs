//! The WRK Copilot server and command line.
//!
//! This crate owns everything that touches the outside world: configuration, the CLI, the HTTP
//! server (hyper through axum's router), host → tenant routing, the UI serving, metrics, and (as
//! features land) auth, workers, email, payments and secrets. Domain rules live in `wrk-core`,
//! SQL in `wrk-tenants`, the plugin sandbox in `wrk-plugins`; handlers here stay thin: parse,
//! call one service function, map the result.
//!
//! Layout:
//! - [`cli`]: the `wrk` command line; [`config`]: layered settings.
//! - [`app`]: shared state, the scope routers and the host dispatcher; [`routes`]: route tables.
//! - [`server`]: the accept loop, TLS and graceful shutdown.
//! - [`scope`]: host name → apex / ops / workspace.
//! - [`error`]: [`error::ApiError`] → problem+json; [`extract`]: shared extractors.
//! - [`middleware`], [`metrics`], [`telemetry`], [`web`].

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
pub mod metrics;
pub mod middleware;
pub mod oidc;
pub mod openapi;
pub mod routes;
pub mod scope;
pub mod server;
pub mod services;
pub mod state;
pub mod telemetry;
pub mod web;
