//! Requirements documents of a version and the ingestion proposal built from them (flow 9).
//!
//! A document row is written together with its audit row and with the version's ingestion row
//! reset to `queued` under a new `job_key` (the key of the job that will ingest the whole current
//! document set). The job claims the row with that key ([`TenantStore::start_ingestion`]); a job
//! whose key was superseded by a later upload finds nothing to do. The bytes are stored by the
//! host under `DATA_DIR/files/<tenant>/<document id>`, never under the client's file name.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use wrk_core::ids::AutomationId;
use wrk_core::machine::VersionStatus;

use crate::audit::{AuditActor, AuditEntry, RequestMeta, record_audit, timestamp};
use crate::automations::load_automation;
use crate::automations::versions::{VersionRef, load_version, version_entity};
use crate::automations::{id_col, time_col};
use crate::error::{StoreError, StoreResult};
use crate::tenant::TenantStore;

/// One stored document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    pub id: Uuid,
    pub automation_id: AutomationId,
    pub version: u32,
    pub file_name: String,
    /// `txt`, `md`, `pdf` or `docx`.
    pub kind: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub uploaded_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A document to record (its bytes are already on disk under `id`).
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    pub id: Uuid,
    pub file_name: &'a str,
    pub kind: &'a str,
    pub content_type: &'a str,
    pub size_bytes: u64,
    pub sha256: &'a str,
}

/// Where a version's ingestion stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestionStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl IngestionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// A version's ingestion row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ingestion {
    pub automation_id: AutomationId,
    pub version: u32,
    pub status: IngestionStatus,
    pub job_key: String,
    /// The proposed blueprint, when done.
    pub proposal: Option<Value>,
    pub confidence: Option<f64>,
    pub notes: Vec<String>,
    pub error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// What a deletion removed, and the key of the ingestion job to enqueue when one was superseded.
#[derive(Debug, Clone)]
pub struct Deleted {
    pub document: Document,
    pub job_key: Option<String>,
}

/// What an upload recorded: the document and the key of the ingestion job to enqueue.
#[derive(Debug, Clone)]
pub struct Uploaded {
    pub document: Document,
    pub job_key: String,
}

const DOC_COLS: &str = "id, automation_id, version, file_name, kind, content_type, size_bytes, \
                        sha256, uploaded_by, created_at";

fn doc_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Document> {
    let id: String = r.get(0)?;
    Ok(Document {
        id: Uuid::parse_str(&id).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
        })?,
        automation_id: id_col(&r.get::<_, String>(1)?)?,
        version: r.get(2)?,
        file_name: r.get(3)?,
        kind: r.get(4)?,
        content_type: r.get(5)?,
        size_bytes: r.get::<_, i64>(6)?.max(0).unsigned_abs(),
        sha256: r.get(7)?,
        uploaded_by: r.get(8)?,
        created_at: time_col(&r.get::<_, String>(9)?)?,
    })
}

const ING_COLS: &str =
    "automation_id, version, status, job_key, proposal, confidence, notes, error, updated_at";

fn ing_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Ingestion> {
    let status: String = r.get(2)?;
    let proposal: Option<String> = r.get(4)?;
    let notes: String = r.get(6)?;
    Ok(Ingestion {
        automation_id: id_col(&r.get::<_, String>(0)?)?,
        version: r.get(1)?,
        status: IngestionStatus::parse(&status).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                "unknown ingestion status".into(),
            )
        })?,
        job_key: r.get(3)?,
        proposal: proposal.and_then(|p| serde_json::from_str(&p).ok()),
        confidence: r.get(5)?,
        notes: serde_json::from_str(&notes).unwrap_or_default(),
        error: r.get(7)?,
        updated_at: time_col(&r.get::<_, String>(8)?)?,
    })
}

fn list_docs(c: &Connection, id: AutomationId, number: u32) -> StoreResult<Vec<Document>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {DOC_COLS} FROM documents WHERE automation_id = ?1 AND version = ?2 ORDER BY id"
    ))?;
    let rows = stmt.query_map(params![id.to_string(), number], doc_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn load_ingestion(c: &Connection, id: AutomationId, number: u32) -> StoreResult<Option<Ingestion>> {
    Ok(c.query_row(
        &format!("SELECT {ING_COLS} FROM ingestions WHERE automation_id = ?1 AND version = ?2"),
        params![id.to_string(), number],
        ing_row,
    )
    .optional()?)
}

fn load_doc(c: &Connection, id: AutomationId, number: u32, doc: Uuid) -> StoreResult<Document> {
    c.query_row(
        &format!(
            "SELECT {DOC_COLS} FROM documents WHERE id = ?1 AND automation_id = ?2 AND version = ?3"
        ),
        params![doc.to_string(), id.to_string(), number],
        doc_row,
    )
    .optional()?
    .ok_or(StoreError::NotFound(crate::Entity::Document))
}

/// The version's number and requirements text, when its blueprint is editable
/// (`intake_in_progress`, automation not archived); else a conflict saying `what` can't happen.
fn editable_version(
    tx: &Transaction<'_>,
    id: AutomationId,
    n: VersionRef,
    what: &str,
) -> StoreResult<(u32, String)> {
    wrk_core::automation::check_writable(load_automation(tx, id)?.status)?;
    let version = load_version(tx, id, n)?;
    if version.status != VersionStatus::IntakeInProgress {
        return Err(StoreError::Conflict(format!(
            "version {} is {}: {what} only in intake_in_progress",
            version.number, version.status
        )));
    }
    Ok((version.number, version.requirements))
}

/// Resets the version's ingestion row to `queued` under `job_key`.
fn queue_ingestion_row(
    tx: &Transaction<'_>,
    id: AutomationId,
    number: u32,
    job_key: &str,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO ingestions (automation_id, version, status, job_key, proposal,
                                 confidence, notes, error, updated_at)
         VALUES (?1, ?2, 'queued', ?3, NULL, NULL, '[]', NULL, ?4)
         ON CONFLICT (automation_id, version) DO UPDATE SET status = 'queued',
             job_key = excluded.job_key, proposal = NULL, confidence = NULL,
             notes = '[]', error = NULL, updated_at = excluded.updated_at",
        params![id.to_string(), number, job_key, timestamp(Utc::now())],
    )?;
    Ok(())
}

/// The job key of a version's document set: one job per (version, set of documents).
pub fn ingestion_key(tenant: &str, id: AutomationId, number: u32, docs: &[Document]) -> String {
    let mut h = Sha256::new();
    for d in docs {
        h.update(d.id.as_bytes());
    }
    format!(
        "ingest_documents:{tenant}:{id}:{number}:{}",
        &hex::encode(h.finalize())[..32]
    )
}

#[allow(clippy::too_many_arguments)]
fn ingestion_audit(
    tx: &Transaction<'_>,
    action: &str,
    id: AutomationId,
    number: u32,
    before: Option<Value>,
    after: Option<Value>,
    actor: &AuditActor,
    request: &RequestMeta,
) -> StoreResult<()> {
    record_audit(
        tx,
        &AuditEntry {
            actor,
            action,
            entity_type: "ingestion",
            entity_id: Some(version_entity(id, number)),
            before,
            after,
            request,
        },
    )?;
    Ok(())
}

impl TenantStore {
    /// Records an uploaded document, while the version's blueprint is editable
    /// (`intake_in_progress`, automation not archived), and queues ingestion of the new set.
    #[allow(clippy::too_many_arguments)]
    pub fn add_document(
        &self,
        id: AutomationId,
        n: VersionRef,
        doc: &NewDocument<'_>,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<Uploaded> {
        let tenant = self.id().to_string();
        self.db().write(|tx| {
            wrk_core::automation::check_writable(load_automation(tx, id)?.status)?;
            let version = load_version(tx, id, n)?;
            if version.status != VersionStatus::IntakeInProgress {
                return Err(StoreError::Conflict(format!(
                    "version {} is {}: documents can be added only in intake_in_progress",
                    version.number, version.status
                )));
            }
            let number = version.number;
            let now = Utc::now();
            tx.execute(
                &format!("INSERT INTO documents ({DOC_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
                params![
                    doc.id.to_string(),
                    id.to_string(),
                    number,
                    doc.file_name,
                    doc.kind,
                    doc.content_type,
                    i64::try_from(doc.size_bytes).unwrap_or(i64::MAX),
                    doc.sha256,
                    actor.id,
                    timestamp(now),
                ],
            )?;
            let docs = list_docs(tx, id, number)?;
            let document = docs
                .iter()
                .find(|d| d.id == doc.id)
                .cloned()
                .ok_or_else(|| StoreError::Corrupt("inserted document vanished".into()))?;
            let job_key = ingestion_key(&tenant, id, number, &docs);
            tx.execute(
                "INSERT INTO ingestions (automation_id, version, status, job_key, proposal,
                                         confidence, notes, error, updated_at)
                 VALUES (?1, ?2, 'queued', ?3, NULL, NULL, '[]', NULL, ?4)
                 ON CONFLICT (automation_id, version) DO UPDATE SET status = 'queued',
                     job_key = excluded.job_key, proposal = NULL, confidence = NULL,
                     notes = '[]', error = NULL, updated_at = excluded.updated_at",
                params![id.to_string(), number, job_key, timestamp(now)],
            )?;
            record_audit(
                tx,
                &AuditEntry {
                    actor,
                    action: "document.uploaded",
                    entity_type: "document",
                    entity_id: Some(doc.id.to_string()),
                    before: None,
                    after: Some(json!({
                        "automation_id": id.to_string(),
                        "version": number,
                        "file_name": doc.file_name,
                        "kind": doc.kind,
                        "size_bytes": doc.size_bytes,
                        "sha256": doc.sha256,
                    })),
                    request,
                },
            )?;
            ingestion_audit(
                tx,
                "ingestion.queued",
                id,
                number,
                None,
                Some(json!({ "documents": docs.len() })),
                actor,
                request,
            )?;
            Ok(Uploaded { document, job_key })
        })
    }

    /// One of a version's documents.
    pub fn document(&self, id: AutomationId, n: VersionRef, doc: Uuid) -> StoreResult<Document> {
        self.db().read(|c| {
            let number = load_version(c, id, n)?.number;
            load_doc(c, id, number, doc)
        })
    }

    /// Deletes a document of a version whose blueprint is editable, with its audit row; the
    /// caller removes the file after the commit. A queued or running ingestion of the old set
    /// is superseded: it is reset to `queued` under the key of the remaining set (the caller
    /// enqueues that job), or cleared when no document and no requirements text remain.
    pub fn delete_document(
        &self,
        id: AutomationId,
        n: VersionRef,
        doc: Uuid,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<Deleted> {
        let tenant = self.id().to_string();
        self.db().write(|tx| {
            let (number, requirements) = editable_version(tx, id, n, "documents can be deleted")?;
            let document = load_doc(tx, id, number, doc)?;
            tx.execute(
                "DELETE FROM documents WHERE id = ?1",
                params![doc.to_string()],
            )?;
            record_audit(
                tx,
                &AuditEntry {
                    actor,
                    action: "document.deleted",
                    entity_type: "document",
                    entity_id: Some(doc.to_string()),
                    before: Some(json!({
                        "automation_id": id.to_string(),
                        "version": number,
                        "file_name": document.file_name,
                        "kind": document.kind,
                        "size_bytes": document.size_bytes,
                        "sha256": document.sha256,
                    })),
                    after: None,
                    request,
                },
            )?;
            // An ingestion still working on the old set would read a file that is gone.
            let requeue = match load_ingestion(tx, id, number)? {
                Some(ing)
                    if matches!(
                        ing.status,
                        IngestionStatus::Queued | IngestionStatus::Running
                    ) =>
                {
                    let docs = list_docs(tx, id, number)?;
                    if docs.is_empty() && requirements.trim().is_empty() {
                        tx.execute(
                            "DELETE FROM ingestions WHERE automation_id = ?1 AND version = ?2",
                            params![id.to_string(), number],
                        )?;
                        ingestion_audit(
                            tx,
                            "ingestion.discarded",
                            id,
                            number,
                            Some(json!({ "status": ing.status.as_str() })),
                            None,
                            actor,
                            request,
                        )?;
                        return Ok(Deleted {
                            document,
                            job_key: None,
                        });
                    }
                    let key = ingestion_key(&tenant, id, number, &docs)
                        + &format!(":{}", Uuid::now_v7().simple());
                    queue_ingestion_row(tx, id, number, &key)?;
                    ingestion_audit(
                        tx,
                        "ingestion.queued",
                        id,
                        number,
                        None,
                        Some(json!({ "documents": docs.len(), "reason": "document deleted" })),
                        actor,
                        request,
                    )?;
                    Some(key)
                }
                _ => None,
            };
            Ok(Deleted {
                document,
                job_key: requeue,
            })
        })
    }

    /// Queues ingestion of the version's saved requirements text together with its documents
    /// (flow 9 without an upload), while the blueprint is editable. Each request gets its own
    /// job key, so a second request supersedes the first. Returns the version number and key.
    pub fn queue_ingestion(
        &self,
        id: AutomationId,
        n: VersionRef,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<(u32, String)> {
        let tenant = self.id().to_string();
        self.db().write(|tx| {
            let (number, requirements) = editable_version(tx, id, n, "ingestion can run")?;
            let docs = list_docs(tx, id, number)?;
            if requirements.trim().is_empty() && docs.is_empty() {
                return Err(StoreError::Conflict(
                    "there is nothing to read yet: save the requirements text or upload a \
                     document first"
                        .into(),
                ));
            }
            let key = ingestion_key(&tenant, id, number, &docs)
                + &format!(":{}", Uuid::now_v7().simple());
            queue_ingestion_row(tx, id, number, &key)?;
            ingestion_audit(
                tx,
                "ingestion.queued",
                id,
                number,
                None,
                Some(json!({
                    "documents": docs.len(),
                    "requirements_chars": requirements.chars().count(),
                })),
                actor,
                request,
            )?;
            Ok((number, key))
        })
    }

    /// A version's documents, oldest first.
    pub fn documents(&self, id: AutomationId, n: VersionRef) -> StoreResult<Vec<Document>> {
        self.db().read(|c| {
            let number = load_version(c, id, n)?.number;
            list_docs(c, id, number)
        })
    }

    /// A version's ingestion row, if any document was ever uploaded (and it was not cleared).
    pub fn ingestion(&self, id: AutomationId, n: VersionRef) -> StoreResult<Option<Ingestion>> {
        self.db().read(|c| {
            let number = load_version(c, id, n)?.number;
            load_ingestion(c, id, number)
        })
    }

    /// The job holding `job_key` starts: `queued` (or a `running` left by a dead worker) becomes
    /// `running`. `None` when the key was superseded or the work is already settled.
    pub fn start_ingestion(
        &self,
        id: AutomationId,
        number: u32,
        job_key: &str,
    ) -> StoreResult<Option<Vec<Document>>> {
        self.db().write(|tx| {
            let changed = tx.execute(
                "UPDATE ingestions SET status = 'running', updated_at = ?4
                 WHERE automation_id = ?1 AND version = ?2 AND job_key = ?3
                   AND status IN ('queued', 'running')",
                params![id.to_string(), number, job_key, timestamp(Utc::now())],
            )?;
            if changed == 0 {
                return Ok(None);
            }
            Ok(Some(list_docs(tx, id, number)?))
        })
    }

    /// Stores the outcome of the job holding `job_key` (a proposal, or why it failed), with an
    /// audit row. Returns false when the key was superseded meanwhile (nothing written).
    #[allow(clippy::too_many_arguments)]
    pub fn finish_ingestion(
        &self,
        id: AutomationId,
        number: u32,
        job_key: &str,
        outcome: Result<(Value, f64, Vec<String>), String>,
    ) -> StoreResult<bool> {
        self.db().write(|tx| {
            let now = timestamp(Utc::now());
            let (changed, action, after) = match &outcome {
                Ok((proposal, confidence, notes)) => (
                    tx.execute(
                        "UPDATE ingestions SET status = 'done', proposal = ?4, confidence = ?5,
                             notes = ?6, error = NULL, updated_at = ?7
                         WHERE automation_id = ?1 AND version = ?2 AND job_key = ?3",
                        params![
                            id.to_string(),
                            number,
                            job_key,
                            proposal.to_string(),
                            confidence,
                            serde_json::to_string(notes).unwrap_or_else(|_| "[]".into()),
                            now,
                        ],
                    )?,
                    "ingestion.proposed",
                    json!({ "proposal": proposal, "confidence": confidence, "notes": notes }),
                ),
                Err(error) => (
                    tx.execute(
                        "UPDATE ingestions SET status = 'failed', proposal = NULL,
                             confidence = NULL, error = ?4, updated_at = ?5
                         WHERE automation_id = ?1 AND version = ?2 AND job_key = ?3",
                        params![id.to_string(), number, job_key, error, now],
                    )?,
                    "ingestion.failed",
                    json!({ "error": error }),
                ),
            };
            if changed == 0 {
                return Ok(false);
            }
            ingestion_audit(
                tx,
                action,
                id,
                number,
                None,
                Some(after),
                &AuditActor::system(),
                &RequestMeta::default(),
            )?;
            Ok(true)
        })
    }

    /// Clears a version's ingestion row (after the proposal was applied, or to discard it).
    /// `action` names the audit row: `ingestion.applied` or `ingestion.discarded`.
    pub fn clear_ingestion(
        &self,
        id: AutomationId,
        n: VersionRef,
        action: &str,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<()> {
        self.db().write(|tx| {
            let number = load_version(tx, id, n)?.number;
            let Some(before) = load_ingestion(tx, id, number)? else {
                return Err(StoreError::NotFound(crate::Entity::Version));
            };
            tx.execute(
                "DELETE FROM ingestions WHERE automation_id = ?1 AND version = ?2",
                params![id.to_string(), number],
            )?;
            ingestion_audit(
                tx,
                action,
                id,
                number,
                Some(json!({
                    "status": before.status.as_str(),
                    "proposal": before.proposal,
                    "confidence": before.confidence,
                })),
                None,
                actor,
                request,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    #[test]
    fn upload_queues_ingestion_and_a_stale_key_is_ignored() {
        let (_dir, t) = store();
        let a = automation(&t, "Invoices");
        let first = t
            .add_document(
                a.id,
                VersionRef::Latest,
                &NewDocument {
                    id: Uuid::now_v7(),
                    file_name: "../../etc/passwd",
                    kind: "txt",
                    content_type: "text/plain",
                    size_bytes: 3,
                    sha256: "00",
                },
                &who(),
                &req(),
            )
            .expect("upload");
        assert_eq!(first.document.file_name, "../../etc/passwd");
        let second = t
            .add_document(
                a.id,
                VersionRef::Latest,
                &NewDocument {
                    id: Uuid::now_v7(),
                    file_name: "b.md",
                    kind: "md",
                    content_type: "text/markdown",
                    size_bytes: 3,
                    sha256: "01",
                },
                &who(),
                &req(),
            )
            .expect("upload");
        assert_ne!(first.job_key, second.job_key);
        assert!(
            t.start_ingestion(a.id, 1, &first.job_key)
                .unwrap()
                .is_none()
        );
        let docs = t
            .start_ingestion(a.id, 1, &second.job_key)
            .unwrap()
            .unwrap();
        assert_eq!(docs.len(), 2);
        assert!(
            t.finish_ingestion(a.id, 1, &second.job_key, Ok((json!({}), 0.5, vec![])))
                .unwrap()
        );
        let ing = t.ingestion(a.id, VersionRef::Latest).unwrap().unwrap();
        assert_eq!(ing.status, IngestionStatus::Done);
        t.clear_ingestion(
            a.id,
            VersionRef::Latest,
            "ingestion.discarded",
            &who(),
            &req(),
        )
        .unwrap();
        assert!(t.ingestion(a.id, VersionRef::Latest).unwrap().is_none());
    }
}
