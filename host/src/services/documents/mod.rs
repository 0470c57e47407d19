//! Requirements documents and AI ingestion (flow 9).
//!
//! Upload: the bytes are sniffed ([`extract::sniff`]), written to
//! `DATA_DIR/files/<tenant id>/<document id>` (the client's file name is metadata only), then
//! one tenant transaction records the document, its audit row and the version's ingestion row
//! (`queued`, keyed by the current document set), and an `ingest_documents` job with that key is
//! enqueued. The job extracts every document's text, runs the workspace's ingestion plugin (or
//! the configured OpenAI-compatible endpoint, whose answer passes the same output check) and
//! stores a blueprint *proposal*; applying it goes through the blueprint-update service.
//!
//! Layout: this module (upload, download, delete, the ingestion's life), [`extract`] (type
//! sniffing and text extraction), [`ingest`] (the job). Errors are [`DocumentsError`], mapped to
//! problem documents in `crate::error`; nothing here knows HTTP.

pub mod extract;
pub mod ingest;

use std::path::PathBuf;

use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use wrk_core::ids::{AutomationId, TenantId};
use wrk_tenants::automations::Version;
use wrk_tenants::automations::versions::VersionRef;
use wrk_tenants::documents::{Document, Ingestion, IngestionStatus, NewDocument};
use wrk_tenants::jobs::NewJob;

use crate::services::Caller;
use crate::services::automations as automations_svc;
use crate::state::AppState;

pub use ingest::INGEST_JOB;

/// Why a documents call failed.
#[derive(Debug, thiserror::Error)]
pub enum DocumentsError {
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the file is empty")]
    Empty,
    #[error(
        "only text, Markdown, PDF and DOCX documents are accepted (the type is read from the \
         file's content)"
    )]
    UnsupportedType,
    /// Core refused the write (the automation is archived).
    #[error(transparent)]
    WriteRefused(#[from] wrk_core::automation::WriteRefused),
    #[error("version {number} is {status}: documents can be added only in intake_in_progress")]
    NotInIntake {
        number: u32,
        status: wrk_core::machine::VersionStatus,
    },
    #[error("the ingestion is {0}: there is no proposal to apply")]
    NoProposal(&'static str),
    /// No such document file, or no ingestion to read or discard.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Applying a proposal runs the blueprint update of the automations service; its refusal
    /// (stale revision, bounds, read-only) is passed on as that service's error.
    #[error(transparent)]
    Blueprint(Box<super::automations::AutomationError>),
    #[error(transparent)]
    Store(#[from] wrk_tenants::StoreError),
    #[error(transparent)]
    File(#[from] anyhow::Error),
    #[error("blocking task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Store work on the blocking pool, in this service's error type.
async fn store<T, F>(app: &AppState, f: F) -> Result<T, DocumentsError>
where
    F: FnOnce(&wrk_tenants::Storage) -> wrk_tenants::StoreResult<T> + Send + 'static,
    T: Send + 'static,
{
    crate::blocking::store(&app.storage, f).await
}

/// [`store`] on one workspace's store.
async fn in_tenant<T, F>(app: &AppState, tenant: TenantId, f: F) -> Result<T, DocumentsError>
where
    F: FnOnce(&wrk_tenants::tenant::TenantStore) -> wrk_tenants::StoreResult<T> + Send + 'static,
    T: Send + 'static,
{
    store(app, move |s| f(&*s.tenant(tenant)?)).await
}

/// Where a tenant's files live.
pub fn tenant_dir(data_dir: &std::path::Path, tenant: TenantId) -> PathBuf {
    data_dir.join("files").join(tenant.to_string())
}

/// A document's file: named by its id only.
pub fn document_path(data_dir: &std::path::Path, tenant: TenantId, id: Uuid) -> PathBuf {
    tenant_dir(data_dir, tenant).join(id.to_string())
}

/// Keeps a client file name as display metadata: no control characters, at most 255 chars.
fn clean_name(name: Option<&str>) -> String {
    let name: String = name
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(255)
        .collect();
    if name.trim().is_empty() {
        "document".into()
    } else {
        name
    }
}

/// Flow 9, upload: sniff, store, record, enqueue.
pub async fn upload(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    id: AutomationId,
    n: VersionRef,
    file_name: Option<&str>,
    bytes: bytes::Bytes,
) -> Result<(Document, String), DocumentsError> {
    if bytes.len() as u64 > extract::MAX_DOCUMENT_BYTES {
        return Err(DocumentsError::TooLarge {
            limit: extract::MAX_DOCUMENT_BYTES,
        });
    }
    let file_name = clean_name(file_name);
    if bytes.is_empty() {
        return Err(DocumentsError::Empty);
    }
    let kind = extract::sniff(&bytes, &file_name).ok_or(DocumentsError::UnsupportedType)?;
    // Fail fast (before writing a file) on a version that can't take documents; the write
    // transaction checks again.
    {
        let (a, v) = in_tenant(app, tenant, move |t| {
            Ok((t.automation(id)?, t.version(id, n)?))
        })
        .await?;
        wrk_core::automation::check_writable(a.status)?;
        if v.status != wrk_core::machine::VersionStatus::IntakeInProgress {
            return Err(DocumentsError::NotInIntake {
                number: v.number,
                status: v.status,
            });
        }
    }
    let doc_id = Uuid::now_v7();
    let sha = hex::encode(Sha256::digest(&bytes));
    let path = document_path(&app.config.data_dir, tenant, doc_id);
    let dir = tenant_dir(&app.config.data_dir, tenant);
    {
        let (path, bytes) = (path.clone(), bytes.clone());
        crate::blocking::run(move || -> anyhow::Result<()> {
            std::fs::create_dir_all(&dir)?;
            let tmp = dir.join(format!(".{doc_id}.part"));
            std::fs::write(&tmp, &bytes)?;
            Ok(std::fs::rename(&tmp, &path)?)
        })
        .await
        .map_err(|e| anyhow::anyhow!("cannot store document: {e}"))?;
    }
    let c = caller.clone();
    let size = bytes.len() as u64;
    let recorded = store(app, move |s| {
        let uploaded = s.tenant(tenant)?.add_document(
            id,
            n,
            &NewDocument {
                id: doc_id,
                file_name: &file_name,
                kind: kind.as_str(),
                content_type: kind.content_type(),
                size_bytes: size,
                sha256: &sha,
            },
            &c.audit,
            &c.request,
        )?;
        let job_id = enqueue(s, tenant, id, uploaded.document.version, &uploaded.job_key)?;
        Ok((uploaded.document, job_id))
    })
    .await;
    match recorded {
        Ok(r) => {
            app.jobs.wake();
            Ok(r)
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            Err(e)
        }
    }
}

/// Enqueues the `ingest_documents` job holding `key` (the version's ingestion row names it).
fn enqueue(
    s: &wrk_tenants::storage::Storage,
    tenant: TenantId,
    id: AutomationId,
    number: u32,
    key: &str,
) -> Result<String, wrk_tenants::StoreError> {
    let job = NewJob::new(
        INGEST_JOB,
        json!({
            "tenant_id": tenant.to_string(),
            "automation_id": id.to_string(),
            "version": number,
            "key": key,
        }),
    )
    .tenant(tenant)
    .unique_key(key.to_owned())
    .max_attempts(3);
    Ok(s.control().enqueue_job(&job)?.to_string())
}

/// Flow 9 without an upload: ingest the saved requirements text together with the version's
/// documents. Returns the job id.
pub async fn request_ingestion(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    id: AutomationId,
    n: VersionRef,
) -> Result<String, DocumentsError> {
    let c = caller.clone();
    let job_id = store(app, move |s| {
        let (number, key) = s
            .tenant(tenant)?
            .queue_ingestion(id, n, &c.audit, &c.request)?;
        enqueue(s, tenant, id, number, &key)
    })
    .await?;
    app.jobs.wake();
    Ok(job_id)
}

/// A document's record and bytes.
pub async fn download(
    app: &AppState,
    tenant: TenantId,
    id: AutomationId,
    n: VersionRef,
    doc: Uuid,
) -> Result<(Document, Vec<u8>), DocumentsError> {
    let d = in_tenant(app, tenant, move |t| t.document(id, n, doc)).await?;
    let path = document_path(&app.config.data_dir, tenant, d.id);
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            DocumentsError::NotFound("document")
        } else {
            anyhow::anyhow!("cannot read document {}: {e}", d.id).into()
        }
    })?;
    Ok((d, bytes))
}

/// Deletes a document (row and audit row in one transaction, then the file). An ingestion that
/// was still reading the old set is queued again for the remaining one.
pub async fn delete(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    id: AutomationId,
    n: VersionRef,
    doc: Uuid,
) -> Result<(), DocumentsError> {
    let c = caller.clone();
    let deleted = store(app, move |s| {
        let deleted = s
            .tenant(tenant)?
            .delete_document(id, n, doc, &c.audit, &c.request)?;
        if let Some(key) = &deleted.job_key {
            enqueue(s, tenant, id, deleted.document.version, key)?;
        }
        Ok(deleted)
    })
    .await?;
    if deleted.job_key.is_some() {
        app.jobs.wake();
    }
    let path = document_path(&app.config.data_dir, tenant, deleted.document.id);
    if let Err(e) = tokio::fs::remove_file(&path).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(document = %deleted.document.id, "cannot remove the document's file: {e}");
    }
    Ok(())
}

pub async fn list(
    app: &AppState,
    tenant: TenantId,
    id: AutomationId,
    n: VersionRef,
) -> Result<Vec<Document>, DocumentsError> {
    in_tenant(app, tenant, move |t| t.documents(id, n)).await
}

pub async fn ingestion(
    app: &AppState,
    tenant: TenantId,
    id: AutomationId,
    n: VersionRef,
) -> Result<Ingestion, DocumentsError> {
    in_tenant(app, tenant, move |t| t.ingestion(id, n))
        .await?
        .ok_or(DocumentsError::NotFound("ingestion"))
}

/// Applies the proposal as the blueprint through the blueprint-update service (validation,
/// issues, tasks, optimistic concurrency), then clears it.
pub async fn apply(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    id: AutomationId,
    n: VersionRef,
    revision: i64,
) -> Result<Version, DocumentsError> {
    let ing = ingestion(app, tenant, id, n).await?;
    let proposal = match (ing.status, ing.proposal) {
        (IngestionStatus::Done, Some(p)) => p,
        (status, _) => {
            return Err(DocumentsError::NoProposal(status.as_str()));
        }
    };
    let number = VersionRef::Number(ing.version);
    let version =
        automations_svc::update_blueprint(app, tenant, caller, id, number, proposal, revision)
            .await
            .map_err(|e| DocumentsError::Blueprint(Box::new(e)))?;
    let c = caller.clone();
    in_tenant(app, tenant, move |t| {
        t.clear_ingestion(id, number, "ingestion.applied", &c.audit, &c.request)
    })
    .await?;
    Ok(version)
}

pub async fn discard(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    id: AutomationId,
    n: VersionRef,
) -> Result<(), DocumentsError> {
    // 404 when there is nothing to discard (rather than the store's generic not-found).
    ingestion(app, tenant, id, n).await?;
    let c = caller.clone();
    in_tenant(app, tenant, move |t| {
        t.clear_ingestion(id, n, "ingestion.discarded", &c.audit, &c.request)
    })
    .await
}
