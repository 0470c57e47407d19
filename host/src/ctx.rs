//! [`TenantCtx`]: everything a workspace-host handler needs, resolved once per request.
//!
//! The tenant comes from the host name (the dispatcher put it in the request's extensions; never
//! from input), the caller from the session or API key ([`WorkspaceSession`]), and the access the
//! route needs is part of the type: `TenantCtx<Write>` refuses a read-only API key with 403
//! before the handler runs, `TenantCtx<Admin>` a plain member. A handler then runs its store
//! work on the request's own tenant with [`TenantCtx::blocking`]:
//!
//! ```ignore
//! async fn quote_get(ctx: TenantCtx, Path(id): Path<String>) -> Result<Json<QuoteView>, ApiError> {
//!     let q = ctx.blocking(move |t| t.quote(id)).await?;
//!     Ok(Json(QuoteView::from(&q)))
//! }
//! ```
//!
//! Refusals keep the codes of [`WorkspaceSession`]: 401 without credentials, 403 (or 404 on
//! object paths) for a session of another workspace, 403 `forbidden` for too little access.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use wrk_core::ids::TenantId;
use wrk_core::machine::Actor;
use wrk_core::roles::Access;
use wrk_tenants::StoreResult;
use wrk_tenants::audit::{AuditActor, RequestMeta};
use wrk_tenants::tenant::TenantStore;

use crate::auth::session::WorkspaceSession;
use crate::error::ApiError;
use crate::extract::ClientMeta;
use crate::services::Caller;
use crate::state::AppState;

/// The access a route needs, as a type: [`Read`], [`Write`] or [`Admin`].
pub trait Needs: Send + Sync + 'static {
    const ACCESS: Access;
}

/// Safe methods: any member, any API key.
#[derive(Debug)]
pub struct Read;
/// Changes: any member, API keys with the `write` scope.
#[derive(Debug)]
pub struct Write;
/// Team, API keys, audit log: owners and admins, API keys with the `admin` scope.
#[derive(Debug)]
pub struct Admin;

impl Needs for Read {
    const ACCESS: Access = Access::Read;
}
impl Needs for Write {
    const ACCESS: Access = Access::Write;
}
impl Needs for Admin {
    const ACCESS: Access = Access::Admin;
}

/// A workspace-host request whose caller is authenticated, belongs to this host's workspace and
/// holds access `A`.
#[derive(Debug)]
pub struct TenantCtx<A: Needs = Read> {
    pub app: AppState,
    pub session: WorkspaceSession,
    /// Request id, client IP and user agent, for audit rows.
    pub meta: RequestMeta,
    access: PhantomData<fn() -> A>,
}

impl<A: Needs> FromRequestParts<AppState> for TenantCtx<A> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let session = WorkspaceSession::from_request_parts(parts, app).await?;
        session.require(A::ACCESS)?;
        let Ok(ClientMeta(meta)) = ClientMeta::from_request_parts(parts, app).await;
        Ok(Self {
            app: app.clone(),
            session,
            meta,
            access: PhantomData,
        })
    }
}

impl<A: Needs> TenantCtx<A> {
    /// The host's workspace.
    pub fn tenant_id(&self) -> TenantId {
        self.session.tenant_id()
    }

    /// The state-machine actor: a client with the caller's role.
    pub fn actor(&self) -> Actor {
        self.session.actor()
    }

    /// Who to name in audit rows.
    pub fn audit_actor(&self) -> AuditActor {
        self.session.audit_actor()
    }

    /// The caller as services take it (actor, audit actor, request metadata).
    pub fn caller(&self) -> Caller {
        Caller {
            actor: self.actor(),
            audit: self.audit_actor(),
            request: self.meta.clone(),
        }
    }

    /// Runs `f` on this workspace's store on the blocking pool ([`crate::blocking::run`]).
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&TenantStore) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let id = self.tenant_id();
        self.app.blocking(move |s| f(&*s.tenant(id)?)).await
    }
}
