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
use crate::blocking;
use crate::config::Config;
use crate::jobs::{JobContext, JobError};

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
    let started = blocking::run(move || -> Result<_, JobError> {
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
    blocking::run(move || -> Result<_, JobError> {
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
    let mut extract_notes = Vec::new();
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
        if text.chars().count() >= extract::MAX_TEXT_CHARS {
            extract_notes.push(format!(
                "\"{name}\" is long ({}): only its first {} characters of text were extracted.",
                kib(usize::try_from(d.size_bytes).unwrap_or(usize::MAX)),
                extract::MAX_TEXT_CHARS
            ));
        }
        documents.push(InputDocument { name, text });
    }
    let mut plan = plan(requirements, documents);
    plan.cut.splice(0..0, extract_notes);
    if let Some(url) = &ctx.config.ingestion_url {
        let input = IngestionInput {
            abi: ABI_VERSION,
            requirements_text: plan
                .chunks
                .iter()
                .map(|c| c.requirements_text.as_str())
                .collect(),
            documents: plan.chunks.into_iter().flat_map(|c| c.documents).collect(),
        };
        let mut out = llm(&ctx.config, url, &input).await?;
        out.notes.splice(0..0, plan.cut);
        return Ok(out);
    }
    let plugins = ctx
        .services
        .plugins
        .get()
        .cloned()
        .ok_or_else(|| Failure::Retry("the plugin engine is not started yet".into()))?;
    let parts = plan.chunks.len();
    let mut outputs = Vec::with_capacity(parts);
    for (i, chunk) in plan.chunks.into_iter().enumerate() {
        let out = plugins.ingest(tenant, chunk).await.map_err(|e| {
            Failure::Permanent(if parts > 1 {
                format!(
                    "the ingestion plugin failed on part {} of {parts}: {e}",
                    i + 1
                )
            } else {
                format!("the ingestion plugin failed: {e}")
            })
        })?;
        outputs.push(out.output);
    }
    let mut out = merge(outputs);
    out.notes.splice(0..0, plan.cut);
    Ok(out)
}

/// Most text read per ingestion, in bytes: this many plugin calls of
/// [`wrk_plugins::INGESTION_CHUNK_BYTES`] each.
pub const MAX_INGEST_CHUNKS: usize = 16;
pub const MAX_INGEST_BYTES: usize = MAX_INGEST_CHUNKS * wrk_plugins::INGESTION_CHUNK_BYTES;

/// What reaches the plugin: chunks of at most [`wrk_plugins::INGESTION_CHUNK_BYTES`] of text
/// (requirements first, then each document, in order), and a note for the user per text that
/// was cut or left out because the total passed [`MAX_INGEST_BYTES`].
#[derive(Debug)]
pub struct Plan {
    pub chunks: Vec<IngestionInput>,
    pub cut: Vec<String>,
}

fn kib(bytes: usize) -> String {
    let k = bytes.div_ceil(1024);
    if k >= 1024 {
        format!("{:.1} MB", k as f64 / 1024.0)
    } else {
        format!("{k} KB")
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends at a paragraph break, else a
/// line break, else a space, else a character boundary (but not shorter than half of `max`).
fn cut_at(text: &str, max: usize) -> usize {
    if text.len() <= max {
        return text.len();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    for sep in ["\n\n", "\n", ". ", " "] {
        if let Some(p) = head.rfind(sep)
            && p + sep.len() > max / 2
        {
            return p + sep.len();
        }
    }
    end
}

/// Splits and caps the texts for the plugin (see [`Plan`]): texts are packed in order into at
/// most [`MAX_INGEST_CHUNKS`] chunks, each cut at a paragraph, line or word where it must be.
pub fn plan(requirements: String, documents: Vec<InputDocument>) -> Plan {
    let chunk = wrk_plugins::INGESTION_CHUNK_BYTES;
    let new_chunk = || IngestionInput {
        abi: ABI_VERSION,
        requirements_text: String::new(),
        documents: Vec::new(),
    };
    let mut chunks: Vec<IngestionInput> = Vec::new();
    let mut size = 0usize;
    let mut cut = Vec::new();
    let sources = std::iter::once((None, requirements))
        .chain(documents.into_iter().map(|d| (Some(d.name), d.text)));
    for (name, text) in sources {
        if text.trim().is_empty() {
            continue;
        }
        let label = name.as_deref().map_or_else(
            || "The requirements text".to_owned(),
            |n| format!("\"{n}\""),
        );
        let mut read = 0usize;
        while read < text.len() {
            // A new chunk when there is none or the current one has little room left.
            if chunks.is_empty() || chunk - size < 256 {
                if chunks.len() == MAX_INGEST_CHUNKS {
                    break;
                }
                chunks.push(new_chunk());
                size = 0;
            }
            let n = cut_at(&text[read..], chunk - size);
            if n == 0 {
                size = chunk;
                continue;
            }
            let piece = &text[read..read + n];
            let c = chunks.last_mut().expect("a chunk was pushed");
            match &name {
                None => c.requirements_text.push_str(piece),
                Some(name) => match c.documents.last_mut() {
                    Some(d) if &d.name == name => d.text.push_str(piece),
                    _ => c.documents.push(InputDocument {
                        name: name.clone(),
                        text: piece.to_owned(),
                    }),
                },
            }
            size += n;
            read += n;
        }
        if read == 0 {
            cut.push(format!(
                "{label} ({}) was not read: at most {} of text are read per proposal.",
                kib(text.len()),
                kib(MAX_INGEST_BYTES)
            ));
        } else if read < text.len() {
            cut.push(format!(
                "{label} was cut: only its first {} of {} were read (at most {} of text are read per proposal).",
                kib(read),
                kib(text.len()),
                kib(MAX_INGEST_BYTES)
            ));
        }
    }
    if chunks.is_empty() {
        chunks.push(new_chunk());
    }
    Plan { chunks, cut }
}

/// Most steps a merged proposal keeps.
const MAX_MERGED_STEPS: usize = 40;

/// One proposal from the answers for each chunk, in order: the first trigger and volume, the
/// systems and steps of all (repeated steps once, ids renumbered), the best confidence, every
/// distinct note (per part when there are several).
pub fn merge(mut outputs: Vec<IngestionOutput>) -> IngestionOutput {
    if outputs.len() == 1 {
        return outputs.pop().expect("one output");
    }
    let parts = outputs.len();
    let mut merged = IngestionOutput {
        blueprint: wrk_plugins::sdk::blueprint::Blueprint::default(),
        confidence: 0.0,
        notes: vec![format!(
            "The text was long, so it was read in {parts} parts of up to {} each.",
            kib(wrk_plugins::INGESTION_CHUNK_BYTES)
        )],
    };
    let mut dropped = 0usize;
    let mut notes = Vec::new();
    for out in outputs {
        let bp = out.blueprint;
        if merged.blueprint.trigger.is_none() {
            merged.blueprint.trigger = bp.trigger;
        }
        if merged.blueprint.volume.is_none() {
            merged.blueprint.volume = bp.volume;
        }
        for sys in bp.systems {
            if !merged.blueprint.systems.iter().any(|s| s.name == sys.name) {
                merged.blueprint.systems.push(sys);
            }
        }
        for mut step in bp.steps {
            let seen = merged.blueprint.steps.iter().any(|s| {
                s.action == step.action
                    && s.system == step.system
                    && s.name.eq_ignore_ascii_case(&step.name)
            });
            if seen {
                continue;
            }
            if merged.blueprint.steps.len() == MAX_MERGED_STEPS {
                dropped += 1;
                continue;
            }
            step.id = format!("step-{}", merged.blueprint.steps.len() + 1);
            merged.blueprint.steps.push(step);
        }
        merged.confidence = merged.confidence.max(out.confidence);
        notes.extend(out.notes);
    }
    // Every distinct note once; "No … found" only when no part found it.
    let bp = &merged.blueprint;
    let found = |n: &str| {
        (n.starts_with("No trigger found") && bp.trigger.is_some())
            || (n.starts_with("No steps found") && !bp.steps.is_empty())
            || (n.starts_with("No volume found") && bp.volume.is_some())
            || (n.starts_with("No known system") && !bp.systems.is_empty())
    };
    for note in notes {
        if !found(&note) && !merged.notes.contains(&note) && merged.notes.len() < 30 {
            merged.notes.push(note);
        }
    }
    // "manual" goes last, as the plugin puts it.
    if let Some(p) = merged
        .blueprint
        .systems
        .iter()
        .position(|s| s.name == "manual")
    {
        let m = merged.blueprint.systems.remove(p);
        merged.blueprint.systems.push(m);
    }
    if dropped > 0 {
        merged.notes.push(format!(
            "Only the first {MAX_MERGED_STEPS} steps are proposed; {dropped} more were left out."
        ));
    }
    merged
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

    fn doc(name: &str, text: String) -> InputDocument {
        InputDocument {
            name: name.into(),
            text,
        }
    }

    #[test]
    fn short_texts_go_in_one_chunk_unchanged() {
        let p = plan(
            "Every night sync SAP.".into(),
            vec![doc("a.txt", "Send it to Slack.".into())],
        );
        assert_eq!(p.chunks.len(), 1);
        assert!(p.cut.is_empty());
        assert_eq!(p.chunks[0].requirements_text, "Every night sync SAP.");
        assert_eq!(p.chunks[0].documents[0].text, "Send it to Slack.");
    }

    #[test]
    fn two_megabytes_are_capped_and_chunked_and_the_cut_is_named() {
        let chunk = wrk_plugins::INGESTION_CHUNK_BYTES;
        let para = "Then book the invoice in DATEV and send it to Slack.\n\n";
        let big = para.repeat(2 * 1024 * 1024 / para.len());
        let p = plan(
            "Every night.".into(),
            vec![doc("big.txt", big.clone()), doc("later.md", "More.".into())],
        );
        assert!(p.chunks.len() <= MAX_INGEST_CHUNKS, "{}", p.chunks.len());
        let total: usize = p
            .chunks
            .iter()
            .map(|c| {
                let n = c.requirements_text.len()
                    + c.documents.iter().map(|d| d.text.len()).sum::<usize>();
                assert!(n <= chunk, "a chunk of {n} bytes");
                n
            })
            .sum();
        assert!(
            total <= MAX_INGEST_BYTES && total > MAX_INGEST_BYTES - chunk,
            "{total}"
        );
        // Cut at a paragraph, never mid-word.
        let last = p.chunks.last().unwrap().documents.last().unwrap();
        assert!(
            last.text.ends_with("\n\n"),
            "{:?}",
            &last.text[last.text.len() - 20..]
        );
        assert_eq!(p.cut.len(), 2, "{:?}", p.cut);
        assert!(p.cut[0].contains("\"big.txt\" was cut") && p.cut[0].contains("2.0 MB"));
        assert!(p.cut[1].contains("\"later.md\"") && p.cut[1].contains("not read"));
    }

    #[test]
    fn merged_parts_keep_the_first_trigger_and_every_step_once() {
        use wrk_plugins::sdk::blueprint::{Blueprint, Step, SystemRef, Trigger};
        let step = |id: &str, name: &str| Step {
            id: id.into(),
            name: name.into(),
            system: "SAP".into(),
            action: "sync".into(),
            human: false,
        };
        let a = IngestionOutput {
            blueprint: Blueprint {
                trigger: Some(Trigger {
                    kind: "schedule".into(),
                    system: "SAP".into(),
                }),
                steps: vec![step("step-1", "Sync stock")],
                systems: vec![SystemRef { name: "SAP".into() }],
                volume: None,
            },
            confidence: 0.8,
            notes: vec!["a".into()],
        };
        let b = IngestionOutput {
            blueprint: Blueprint {
                trigger: None,
                steps: vec![step("step-1", "Sync stock"), step("step-2", "Sync prices")],
                systems: vec![SystemRef { name: "SAP".into() }],
                volume: None,
            },
            confidence: 0.6,
            notes: vec!["b".into()],
        };
        let m = merge(vec![a, b]);
        assert_eq!(m.blueprint.trigger.unwrap().kind, "schedule");
        let ids: Vec<(&str, &str)> = m
            .blueprint
            .steps
            .iter()
            .map(|s| (s.id.as_str(), s.name.as_str()))
            .collect();
        assert_eq!(ids, [("step-1", "Sync stock"), ("step-2", "Sync prices")]);
        assert_eq!(m.blueprint.systems.len(), 1);
        assert!((m.confidence - 0.8).abs() < 1e-9);
        assert!(m.notes.iter().any(|n| n == "b"), "{:?}", m.notes);
    }

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
