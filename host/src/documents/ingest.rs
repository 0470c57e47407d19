//! The `ingest_documents` job: extract the text of a version's documents, ask the ingestion
//! plugin (or the configured OpenAI-compatible endpoint) for a blueprint draft, store it as the
//! version's proposal. A failure is stored with its reason, so `GET …/ingestion` can say why.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use wrk_core::ids::{AutomationId, TenantId};
use wrk_plugins::sdk::ABI_VERSION;
use wrk_plugins::sdk::ingestion::{Document as InputDocument, IngestionInput, IngestionOutput};
use wrk_tenants::automations::versions::VersionRef;

use super::extract::{self, Kind};
use crate::config::Config;
use crate::jobs::{JobContext, JobError, blocking};

/// The job kind; payload `{tenant_id, automation_id, version, key}`.
pub const INGEST_JOB: &str = "ingest_documents";

/// Longest a document's text extraction may take.
const EXTRACT_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Deserialize)]
struct Payload {
    tenant_id: String,
    automation_id: String,
    version: u32,
    key: String,
}

pub async fn ingest_documents_job(ctx: JobContext) -> Result<(), JobError> {
    let p: Payload = serde_json::from_value(ctx.job.payload.clone())
        .map_err(|e| JobError::permanent(format!("bad payload: {e}")))?;
    let tenant = TenantId::parse(&p.tenant_id).map_err(JobError::permanent)?;
    let id = AutomationId::parse(&p.automation_id).map_err(JobError::permanent)?;
    let storage = ctx.storage.clone();
    let key = p.key.clone();
    let number = p.version;
    let started = blocking(move || {
        let t = storage.tenant(tenant)?;
        let Some(docs) = t.start_ingestion(id, number, &key)? else {
            return Ok(None);
        };
        let requirements = t.version(id, VersionRef::Number(number))?.requirements;
        Ok(Some((docs, requirements)))
    })
    .await?;
    let Some((docs, requirements)) = started else {
        // Superseded by a later upload, or already settled.
        return Ok(());
    };

    let outcome = run(&ctx, tenant, docs, requirements).await;
    let stored = match outcome {
        Ok(out) => {
            let proposal = serde_json::to_value(&out.blueprint)
                .map_err(|e| JobError::permanent(format!("proposal: {e}")))?;
            Ok((proposal, out.confidence, out.notes))
        }
        Err(Failure::Retry(e)) if !ctx.last_attempt() => return Err(JobError::Retry(e)),
        Err(Failure::Retry(e) | Failure::Permanent(e)) => Err(e),
    };
    let failed = stored.as_ref().err().cloned();
    let storage = ctx.storage.clone();
    let key = p.key.clone();
    blocking(move || {
        storage
            .tenant(tenant)?
            .finish_ingestion(id, number, &key, stored)?;
        Ok(())
    })
    .await?;
    match failed {
        Some(e) => Err(JobError::Permanent(e)),
        None => Ok(()),
    }
}

enum Failure {
    Retry(String),
    Permanent(String),
}

async fn run(
    ctx: &JobContext,
    tenant: TenantId,
    docs: Vec<wrk_tenants::documents::Document>,
    requirements: String,
) -> Result<IngestionOutput, Failure> {
    let mut documents = Vec::with_capacity(docs.len());
    for d in docs {
        let path = super::document_path(&ctx.config.data_dir, tenant, d.id);
        let kind = Kind::parse(&d.kind).unwrap_or(Kind::Txt);
        let name = d.file_name.clone();
        // A dedicated thread (not a pool thread) with a deadline: a PDF that makes the parser
        // spin can't hold the worker, and the job fails saying which document.
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("wrk-extract".into())
            .spawn(move || {
                let r = std::fs::read(&path)
                    .map_err(|e| format!("cannot read the stored file: {e}"))
                    .and_then(|bytes| extract::extract_text(kind, &bytes));
                let _ = tx.send(r);
            })
            .map_err(|e| Failure::Retry(format!("cannot start extraction: {e}")))?;
        let text = match tokio::time::timeout(EXTRACT_TIMEOUT, rx).await {
            Ok(Ok(Ok(text))) => text,
            Ok(Ok(Err(e))) => return Err(Failure::Permanent(format!("{name}: {e}"))),
            Ok(Err(_)) => {
                return Err(Failure::Permanent(format!(
                    "{name}: text extraction crashed"
                )));
            }
            Err(_) => {
                return Err(Failure::Permanent(format!(
                    "{name}: text extraction took longer than {} s",
                    EXTRACT_TIMEOUT.as_secs()
                )));
            }
        };
        documents.push(InputDocument { name, text });
    }
    let input = IngestionInput {
        abi: ABI_VERSION,
        requirements_text: requirements,
        documents,
    };
    if let Some(url) = &ctx.config.ingestion_url {
        return llm(&ctx.config, url, &input).await;
    }
    let plugins = ctx
        .services
        .plugins
        .get()
        .cloned()
        .ok_or_else(|| Failure::Retry("the plugin engine is not started yet".into()))?;
    plugins
        .ingest(tenant, input)
        .await
        .map(|a| a.output)
        .map_err(|e| Failure::Permanent(format!("the ingestion plugin failed: {e}")))
}

const SYSTEM_PROMPT: &str = "You turn business-process requirements into an automation \
blueprint draft. Answer with one JSON object only, exactly of the form \
{\"blueprint\": <blueprint>, \"confidence\": <number 0..1>, \"notes\": [<string>...]}. The \
blueprint has the fields of the WRK blueprint schema (summary, systems, triggers, steps with \
unique non-empty ids, volume, ...); leave out what the text does not reveal.";

/// Calls an OpenAI-compatible chat-completions endpoint and checks its answer exactly as a
/// plugin's output is checked.
async fn llm(
    config: &Config,
    url: &str,
    input: &IngestionInput,
) -> Result<IngestionOutput, Failure> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| Failure::Retry(e.to_string()))?;
    let body = json!({
        "model": config.ingestion_model,
        "response_format": {"type": "json_object"},
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": serde_json::to_string(input).unwrap_or_default()},
        ],
    });
    let mut req = client.post(url).json(&body);
    if let Some(key) = &config.ingestion_api_key {
        req = req.bearer_auth(key);
    }
    let res = req
        .send()
        .await
        .map_err(|e| Failure::Retry(format!("the ingestion endpoint is unreachable: {e}")))?;
    let status = res.status();
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(Failure::Retry(format!(
            "the ingestion endpoint answered {status}"
        )));
    }
    if !status.is_success() {
        return Err(Failure::Permanent(format!(
            "the ingestion endpoint answered {status}"
        )));
    }
    let answer: Value = res
        .json()
        .await
        .map_err(|e| Failure::Permanent(format!("the ingestion endpoint's answer: {e}")))?;
    let content = answer
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Failure::Permanent("the ingestion endpoint's answer has no message content".into())
        })?;
    check_llm_content(content).map_err(Failure::Permanent)
}

/// The model's message content through the plugin output check (fenced code blocks allowed).
pub fn check_llm_content(content: &str) -> Result<IngestionOutput, String> {
    let trimmed = content.trim();
    let json = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|s| s.strip_suffix("```"))
        .unwrap_or(trimmed);
    wrk_plugins::output::check_ingestion(json.trim().as_bytes())
        .map_err(|e| format!("the ingestion model's answer was refused: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llm_answers_pass_the_plugin_output_check() {
        let ok = check_llm_content(
            "```json\n{\"blueprint\": {}, \"confidence\": 0.7, \"notes\": [\"x\"]}\n```",
        )
        .unwrap();
        assert_eq!(ok.notes, vec!["x".to_owned()]);
        assert!(check_llm_content("{\"blueprint\": {}, \"confidence\": 7}").is_err());
        assert!(check_llm_content("{\"blueprint\": {}, \"confidence\": 0.5, \"x\": 1}").is_err());
        assert!(check_llm_content("not json").is_err());
    }
}
