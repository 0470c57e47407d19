//! Routes: requirements documents of a version and their AI ingestion (flow 9).

use axum::Json;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_tenants::documents::{Document, Ingestion};

use super::automations::{VersionView, parse_automation_id, parse_version_ref};
use crate::ctx::{TenantCtx, Write};
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::services::documents::{self as svc, extract::MAX_DOCUMENT_BYTES};
use crate::state::AppState;

/// The body limit of an upload: one file plus room for the multipart framing.
pub const UPLOAD_BODY_LIMIT: u64 = MAX_DOCUMENT_BYTES + 64 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(documents_list, document_upload))
        .layer(axum::middleware::from_fn(|req: Request, next: Next| {
            crate::middleware::body_limit(UPLOAD_BODY_LIMIT, req, next)
        }))
        .layer(DefaultBodyLimit::disable());
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(document_download, document_delete))
        .routes(routes!(ingestion_get, ingestion_request))
        .routes(routes!(ingestion_apply))
        .routes(routes!(ingestion_discard))
}

/// The body limit the scope-wide layer applies to `path`: uploads carry their own (larger)
/// limit, which the 1 MiB default must not cut short.
pub fn body_limit_for(path: &str) -> Option<u64> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    matches!(
        segs.as_slice(),
        ["", "api", "automations", _, "versions", _, "documents"]
    )
    .then_some(UPLOAD_BODY_LIMIT)
}

/// A stored requirements document. The file name is the client's, kept for display only.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    pub id: String,
    pub file_name: String,
    /// `txt`, `md`, `pdf` or `docx`, sniffed from the content.
    pub kind: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Document> for DocumentView {
    fn from(d: &Document) -> Self {
        Self {
            id: d.id.to_string(),
            file_name: d.file_name.clone(),
            kind: d.kind.clone(),
            content_type: d.content_type.clone(),
            size_bytes: d.size_bytes,
            sha256: d.sha256.clone(),
            created_at: d.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentList {
    pub items: Vec<DocumentView>,
}

/// An ingestion job was queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestionAccepted {
    pub job_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UploadAccepted {
    pub document_id: String,
    /// The ingestion job of the version's new document set.
    pub job_id: String,
}

/// A version's ingestion: `queued`, `running`, `done` (with a proposal) or `failed` (with why).
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestionView {
    pub status: String,
    /// The proposed blueprint (not yet the version's): apply or discard it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub proposal: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<Ingestion> for IngestionView {
    fn from(i: Ingestion) -> Self {
        Self {
            status: i.status.as_str().to_owned(),
            proposal: i.proposal,
            error: i.error,
            confidence: i.confidence,
            notes: i.notes,
            updated_at: i.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyBody {
    /// The blueprint revision the proposal replaces; a stale one is `409 stale_revision`.
    #[serde(deserialize_with = "crate::extract::integer")]
    pub revision: i64,
}

/// The multipart form of an upload (documentation only).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The document: text, Markdown, PDF or DOCX, at most 20 MiB.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge {
            limit: MAX_DOCUMENT_BYTES,
        }
    } else {
        ApiError::BadRequest(format!("malformed multipart body: {}", e.body_text()))
    }
}

/// Upload a requirements document (flow 9): multipart field `file`. The type is read from the
/// content; the file is stored under its own id; ingestion of the version's documents is
/// queued.
#[utoipa::path(post, path = "/api/automations/{id}/versions/{n}/documents", tag = "documents",
    params(("id" = String, Path), ("n" = String, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 202, body = UploadAccepted),
              (status = 409, description = "archived, or the blueprint is not editable", body = Problem, content_type = "application/problem+json"),
              (status = 413, body = Problem, content_type = "application/problem+json"),
              (status = 415, body = Problem, content_type = "application/problem+json")))]
pub async fn document_upload(
    ctx: TenantCtx<Write>,
    Path((id, n)): Path<(String, String)>,
    mut form: Multipart,
) -> Result<(StatusCode, Json<UploadAccepted>), ApiError> {
    let (id, n) = (parse_automation_id(&id)?, parse_version_ref(&n)?);
    let caller = ctx.caller();
    let mut file = None;
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        if field.name() == Some("file") {
            let name = field.file_name().map(str::to_owned);
            let bytes = field.bytes().await.map_err(multipart_error)?;
            file = Some((name, bytes));
            break;
        }
    }
    let Some((name, bytes)) = file else {
        return Err(ApiError::validation(
            "file",
            "a multipart field `file` is required",
        ));
    };
    // The name is shown to people and sent back in Content-Disposition: no NUL, no line breaks.
    if name
        .as_deref()
        .is_some_and(|n| n.chars().any(char::is_control))
    {
        return Err(ApiError::validation(
            "file",
            "the file name must not contain control characters",
        ));
    }
    let (doc, job_id) = svc::upload(
        &ctx.app,
        ctx.tenant_id(),
        &caller,
        id,
        n,
        name.as_deref(),
        bytes,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(UploadAccepted {
            document_id: doc.id.to_string(),
            job_id,
        }),
    ))
}

/// A version's documents, oldest first.
#[utoipa::path(get, path = "/api/automations/{id}/versions/{n}/documents", tag = "documents",
    params(("id" = String, Path), ("n" = String, Path)),
    responses((status = 200, body = DocumentList),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn documents_list(
    ctx: TenantCtx,
    Path((id, n)): Path<(String, String)>,
) -> Result<Json<DocumentList>, ApiError> {
    let (id, n) = (parse_automation_id(&id)?, parse_version_ref(&n)?);
    let docs = svc::list(&ctx.app, ctx.tenant_id(), id, n).await?;
    Ok(Json(DocumentList {
        items: docs.iter().map(DocumentView::from).collect(),
    }))
}

fn parse_document_id(s: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(s).map_err(|_| ApiError::not_found("document"))
}

/// A file name safe in a `Content-Disposition` header: ASCII letters, digits, `.`, `-`, `_`
/// (anything else becomes `_`), no leading dot, at most 100 characters, with the extension of
/// the sniffed kind.
pub fn safe_file_name(name: &str, kind: &str) -> String {
    let mut base: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    base = base.trim_start_matches(['.', '_']).to_owned();
    let ext = format!(".{kind}");
    if base.to_ascii_lowercase().ends_with(&ext) {
        base.truncate(base.len() - ext.len());
    }
    base.truncate(100);
    let base = base.trim_end_matches(['.', '_']);
    format!("{}{ext}", if base.is_empty() { "document" } else { base })
}

/// RFC 8187 `ext-value` of a UTF-8 file name (`filename*=UTF-8''…`).
fn rfc8187(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Download a document: its bytes as an attachment, with the sniffed type.
#[utoipa::path(get, path = "/api/automations/{id}/versions/{n}/documents/{doc_id}", tag = "documents",
    params(("id" = String, Path), ("n" = String, Path), ("doc_id" = String, Path)),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn document_download(
    ctx: TenantCtx,
    Path((id, n, doc)): Path<(String, String, String)>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let (id, n) = (parse_automation_id(&id)?, parse_version_ref(&n)?);
    let doc = parse_document_id(&doc)?;
    let (d, bytes) = svc::download(&ctx.app, ctx.tenant_id(), id, n, doc).await?;
    let text = matches!(d.kind.as_str(), "txt" | "md");
    let content_type = if text && std::str::from_utf8(&bytes).is_ok() {
        format!("{}; charset=utf-8", d.content_type)
    } else {
        d.content_type.clone()
    };
    let ascii = safe_file_name(&d.file_name, &d.kind);
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        rfc8187(&d.file_name)
    );
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// Delete a document (while the blueprint is editable); its file is removed.
#[utoipa::path(delete, path = "/api/automations/{id}/versions/{n}/documents/{doc_id}", tag = "documents",
    params(("id" = String, Path), ("n" = String, Path), ("doc_id" = String, Path)),
    responses((status = 204),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "archived, or the blueprint is not editable", body = Problem, content_type = "application/problem+json")))]
pub async fn document_delete(
    ctx: TenantCtx<Write>,
    Path((id, n, doc)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let (id, n) = (parse_automation_id(&id)?, parse_version_ref(&n)?);
    let doc = parse_document_id(&doc)?;
    let caller = ctx.caller();
    svc::delete(&ctx.app, ctx.tenant_id(), &caller, id, n, doc).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ingest the saved requirements text together with the version's documents (flow 9 without
/// an upload): the proposal appears at `GET …/ingestion`.
#[utoipa::path(post, path = "/api/automations/{id}/versions/{n}/ingestion", tag = "documents",
    params(("id" = String, Path), ("n" = String, Path)),
    responses((status = 202, body = IngestionAccepted),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "nothing to read, archived, or the blueprint is not editable", body = Problem, content_type = "application/problem+json")))]
pub async fn ingestion_request(
    ctx: TenantCtx<Write>,
    Path((id, n)): Path<(String, String)>,
) -> Result<(StatusCode, Json<IngestionAccepted>), ApiError> {
    let (id, n) = (parse_automation_id(&id)?, parse_version_ref(&n)?);
    let caller = ctx.caller();
    let job_id = svc::request_ingestion(&ctx.app, ctx.tenant_id(), &caller, id, n).await?;
    Ok((StatusCode::ACCEPTED, Json(IngestionAccepted { job_id })))
}

/// Where the version's ingestion stands, with its proposal when done or its error when failed.
#[utoipa::path(get, path = "/api/automations/{id}/versions/{n}/ingestion", tag = "documents",
    params(("id" = String, Path), ("n" = String, Path)),
    responses((status = 200, body = IngestionView),
              (status = 404, description = "no ingestion (no documents, or the proposal was applied or discarded)", body = Problem, content_type = "application/problem+json")))]
pub async fn ingestion_get(
    ctx: TenantCtx,
    Path((id, n)): Path<(String, String)>,
) -> Result<Json<IngestionView>, ApiError> {
    let (id, n) = (parse_automation_id(&id)?, parse_version_ref(&n)?);
    Ok(Json(
        svc::ingestion(&ctx.app, ctx.tenant_id(), id, n)
            .await?
            .into(),
    ))
}

/// Apply the proposal as the blueprint (validated and stored like `PUT …/blueprint`).
#[utoipa::path(post, path = "/api/automations/{id}/versions/{n}/ingestion/apply", tag = "documents",
    params(("id" = String, Path), ("n" = String, Path)), request_body = ApplyBody,
    responses((status = 200, body = VersionView),
              (status = 409, description = "`stale_revision`, no proposal, or not editable", body = Problem, content_type = "application/problem+json")))]
pub async fn ingestion_apply(
    ctx: TenantCtx<Write>,
    Path((id, n)): Path<(String, String)>,
    ApiJson(body): ApiJson<ApplyBody>,
) -> Result<Json<VersionView>, ApiError> {
    let (id, n) = (parse_automation_id(&id)?, parse_version_ref(&n)?);
    let caller = ctx.caller();
    let v = svc::apply(&ctx.app, ctx.tenant_id(), &caller, id, n, body.revision).await?;
    Ok(Json(VersionView::new(&v, &caller.actor)))
}

/// Discard the proposal (and the ingestion's status).
#[utoipa::path(post, path = "/api/automations/{id}/versions/{n}/ingestion/discard", tag = "documents",
    params(("id" = String, Path), ("n" = String, Path)),
    responses((status = 204),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn ingestion_discard(
    ctx: TenantCtx<Write>,
    Path((id, n)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (id, n) = (parse_automation_id(&id)?, parse_version_ref(&n)?);
    let caller = ctx.caller();
    svc::discard(&ctx.app, ctx.tenant_id(), &caller, id, n).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_upload_path_has_its_own_limit() {
        assert_eq!(
            body_limit_for("/api/automations/abc/versions/1/documents"),
            Some(UPLOAD_BODY_LIMIT)
        );
        assert_eq!(
            body_limit_for("/api/automations/abc/versions/1/blueprint"),
            None
        );
        assert_eq!(
            body_limit_for("/api/automations/abc/versions/1/documents/x"),
            None
        );
    }

    #[test]
    fn download_names_are_safe_ascii_with_the_kind_s_extension() {
        assert_eq!(safe_file_name("../../etc/passwd", "txt"), "passwd.txt");
        assert_eq!(
            safe_file_name("Anforderungen Büro.pdf", "pdf"),
            "Anforderungen_B_ro.pdf"
        );
        assert_eq!(safe_file_name("a\"; x=\"y.docx", "docx"), "a___x__y.docx");
        assert_eq!(safe_file_name("...", "md"), "document.md");
        assert_eq!(safe_file_name(".htaccess", "txt"), "htaccess.txt");
        assert_eq!(rfc8187("Büro \"x\".pdf"), "B%C3%BCro%20%22x%22.pdf");
    }
}
