//! The composition root: the three scope routers, the host dispatcher in front of them with
//! every cross-cutting layer, the per-host OpenAPI documents and the job-kind table. [`build`] is
//! shared by `main` and the tests.
//!
//! Only this module (and `cli`, which starts the server) knows every route and job handler: the
//! state it wires them to lives in [`crate::state`], which imports none of them back.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::{InfoBuilder, OpenApi as OpenApiDoc};
use utoipa_axum::router::OpenApiRouter;
use wrk_core::slug::Slug;
use wrk_tenants::control::TenantRecord;

use crate::error::ApiError;
use crate::jobs::Registry;
use crate::middleware::{self, DEFAULT_BODY_LIMIT, MakeRequestUuidV7};
use crate::routes;
use crate::scope::{self, HostMatch, PeerAddr, Scope};
use crate::state::{AppState, Docs};
use crate::web;

#[derive(OpenApi)]
#[openapi(components(schemas(crate::error::Problem, crate::error::FieldError)))]
struct BaseDoc;

fn document(title: &str, description: &str, api: OpenApiDoc) -> String {
    let mut doc = BaseDoc::openapi().merge_from(api);
    doc.info = InfoBuilder::new()
        .title(title)
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(description))
        .build();
    let mut doc = serde_json::to_value(&doc).expect("an OpenAPI document serializes");
    crate::openapi::finish(&mut doc);
    serde_json::to_string_pretty(&doc).expect("an OpenAPI document serializes")
}

/// A scope's routes with the layers every scope shares, split into the router and its doc.
fn scope_router(routes: OpenApiRouter<AppState>) -> (OpenApiRouter<AppState>, OpenApiDoc) {
    let (router, doc) = routes.merge(routes::common::router()).split_for_parts();
    (OpenApiRouter::from(router), doc)
}

struct Dispatch {
    state: AppState,
    apex: Router,
    tenant: Router,
    ops: Router,
}

/// Builds the whole HTTP application for `state`.
pub fn build(state: AppState) -> Router {
    let finish = |r: OpenApiRouter<AppState>| -> Router {
        let (router, _) = r.split_for_parts();
        router
            .route("/assets/{*path}", get(web::asset))
            .fallback(web::fallback)
            .route_layer(axum::middleware::from_fn(middleware::label_route))
            .layer(axum::middleware::from_fn(move |req: Request, next| {
                // Routes that take files declare their own limit.
                let limit = routes::ops_plugins::body_limit(req.uri().path())
                    .or_else(|| routes::documents::body_limit_for(req.uri().path()))
                    .unwrap_or(DEFAULT_BODY_LIMIT);
                middleware::body_limit(limit, req, next)
            }))
            // Per-IP limit of /api/auth/* and /api/ops/auth/* on every host (WRK_AUTH_RATE_LIMIT).
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                crate::auth::rate_limit::layer,
            ))
            // Every error under /api/ is problem+json, whatever produced it.
            .layer(axum::middleware::from_fn(crate::error::problem_responses))
            .with_state(state.clone())
    };
    let (apex, _) = scope_router(routes::apex::router());
    let (tenant, _) = scope_router(routes::tenant::router());
    let (ops, _) = scope_router(routes::ops::router());
    let dispatch = Arc::new(Dispatch {
        state: state.clone(),
        apex: finish(apex),
        tenant: finish(tenant),
        ops: finish(ops),
    });

    let mut outer = Router::new()
        .route("/healthz", get(routes::common::healthz))
        .route("/readyz", get(routes::common::readyz))
        .route("/metrics", get(routes::common::metrics))
        .with_state(state.clone())
        .fallback(move |req: Request| {
            let dispatch = dispatch.clone();
            async move { dispatch_request(&dispatch, req).await }
        })
        .layer(DefaultBodyLimit::disable());
    if state.config.tls_enabled() {
        outer = outer.layer(axum::middleware::from_fn(middleware::hsts));
    }
    outer.layer(
        ServiceBuilder::new()
            .layer(axum::middleware::from_fn(middleware::sanitize_request_id))
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuidV7))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let id = req
                    .headers()
                    .get(middleware::REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                let host = req
                    .headers()
                    .get(http::header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!("request", request_id = %id, host = %host,
                        method = %req.method(), path = %req.uri().path())
            }))
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(axum::middleware::from_fn_with_state(
                state.metrics.clone(),
                crate::metrics::track,
            ))
            .layer(axum::middleware::from_fn(middleware::security_headers))
            .layer(axum::middleware::from_fn(
                middleware::close_after_error_with_body,
            ))
            .layer(CompressionLayer::new()),
    )
}

/// Resolves the host to a scope and hands the request to that scope's router.
async fn dispatch_request(d: &Dispatch, mut req: Request) -> Response {
    let config = &d.state.config;
    let peer = req.extensions().get::<PeerAddr>().map(|p| p.0.ip());
    let host = scope::effective_host(req.headers(), req.uri(), peer, &config.trusted_proxies)
        .unwrap_or_default()
        .to_owned();
    let (router, scope) = match scope::classify(&host, config.base_host()) {
        HostMatch::Apex => (&d.apex, Scope::Apex),
        HostMatch::Ops => (&d.ops, Scope::Ops),
        HostMatch::Slug(slug) => match lookup_tenant(&d.state, slug).await {
            Ok(Some(t)) => match d.state.storage.fenced(t.id) {
                Some(fence) if !is_asset(&req) => {
                    return web::workspace_moving(req.headers(), fence.retry_after_secs);
                }
                _ => (&d.tenant, Scope::Tenant(t)),
            },
            // The not-found page needs its stylesheet, script and logo from this very host.
            Ok(None) if is_asset(&req) => (&d.apex, Scope::Apex),
            Ok(None) => return web::workspace_not_found(req.headers()),
            Err(e) => return e.into_response(),
        },
        HostMatch::Foreign if is_asset(&req) => (&d.apex, Scope::Apex),
        HostMatch::Foreign => return web::unknown_host(&config.base_domain),
    };
    req.extensions_mut().insert(scope);
    match router.clone().oneshot(req).await {
        Ok(res) => res,
        Err(never) => match never {},
    }
}

/// A request for an embedded UI file: served the same on every host, known or not.
fn is_asset(req: &Request) -> bool {
    req.uri().path().starts_with("/assets/")
}

/// The workspace at `slug`: from the cache on the hot path, from `control.db` otherwise.
async fn lookup_tenant(state: &AppState, slug: String) -> Result<Option<TenantRecord>, ApiError> {
    if Slug::parse(&slug).is_err() {
        return Ok(None);
    }
    if let Some(hit) = state.storage.cached_slug(&slug) {
        return Ok(Some(hit));
    }
    state.blocking(move |s| s.tenant_by_slug(&slug)).await
}

/// Builds the per-host OpenAPI documents.
pub fn docs() -> Docs {
    let (_, apex) = scope_router(routes::apex::router());
    let (_, tenant) = scope_router(routes::tenant::router());
    let (_, ops) = scope_router(routes::ops::router());
    Docs {
        apex: document(
            "WRK Copilot — apex API",
            "Accounts, signup, login and workspaces, served on the base domain.",
            apex,
        ),
        tenant: document(
            "WRK Copilot — workspace API",
            "The API of one workspace, served on {slug}.{base}.",
            tenant,
        ),
        ops: document(
            "WRK Copilot — ops API",
            "The ops console API, served on ops.{base}.",
            ops,
        ),
    }
}

/// Every job kind this binary runs, with its handler. Features add their handlers here.
pub fn job_registry() -> Registry {
    let mut r = Registry::new();
    r.register(
        wrk_tenants::outbox::SEND_EMAIL_JOB,
        crate::email::send_email_job,
    );
    r.register(
        crate::services::documents::INGEST_JOB,
        crate::services::documents::ingest::ingest_documents_job,
    );
    r.register(
        wrk_tenants::platform_events::PLATFORM_EVENT_JOB,
        crate::services::platform_events::deliver_job,
    );
    r.register(
        crate::services::quotes::EXPIRE_JOB,
        crate::services::quotes::expire_quotes_job,
    );
    r.register(
        crate::services::threads::DIGEST_JOB,
        crate::services::threads::digest_job,
    );
    r.register(
        crate::services::billing::periods::FINALIZE_JOB,
        crate::services::billing::periods::finalize_job_handler,
    );
    r.register(
        crate::services::billing::periods::DUNNING_JOB,
        crate::services::billing::periods::dunning_job_handler,
    );
    r.register(
        crate::services::usage::FOLD_JOB,
        crate::services::usage::fold_job_handler,
    );
    r.register(
        crate::services::usage::SWEEP_JOB,
        crate::services::usage::sweep_job,
    );
    r
}
