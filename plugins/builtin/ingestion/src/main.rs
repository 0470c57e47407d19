//! The built-in ingestion rules (ABI v1): turns requirement text and document texts into a
//! blueprint draft. Deterministic text rules, no model:
//! - systems: names from a known-systems list, in order of first mention;
//! - trigger: the first trigger phrase (schedule, email, webhook, new record, file upload) and the
//!   system named in the same sentence;
//! - steps: one per sentence that contains an action verb, with the sentence's system;
//! - volume: "about 2,000 invoices a month", "150 per day", "12k orders per year" → runs/month.
//!
//! Confidence grows with each part found; notes say what was found and what is missing.

use wrk_plugin_sdk::Error;
use wrk_plugin_sdk::blueprint::{Blueprint, Step, SystemRef, Trigger, Volume};
use wrk_plugin_sdk::ingestion::{IngestionInput, IngestionOutput};

const KNOWN_SYSTEMS: [&str; 30] = [
    "Salesforce",
    "HubSpot",
    "SAP",
    "NetSuite",
    "QuickBooks",
    "Xero",
    "DATEV",
    "Slack",
    "Microsoft Teams",
    "Gmail",
    "Outlook",
    "Google Sheets",
    "Google Drive",
    "Excel",
    "Shopify",
    "Stripe",
    "Zendesk",
    "Jira",
    "DocuSign",
    "SharePoint",
    "Dropbox",
    "Workday",
    "Airtable",
    "Notion",
    "Asana",
    "Trello",
    "Mailchimp",
    "Twilio",
    "Pipedrive",
    "Dynamics 365",
];

/// (phrase, trigger kind), checked in this order.
const TRIGGERS: [(&str, &str); 16] = [
    ("webhook", "webhook"),
    ("email arrives", "email"),
    ("emails arrive", "email"),
    ("receive an email", "email"),
    ("receive emails", "email"),
    ("inbox", "email"),
    ("is uploaded", "file"),
    ("are uploaded", "file"),
    ("every day", "schedule"),
    ("every morning", "schedule"),
    ("daily", "schedule"),
    ("every week", "schedule"),
    ("weekly", "schedule"),
    ("whenever", "event"),
    ("when a new", "event"),
    ("is created", "event"),
];

/// (verb stem, action name, human in the loop).
const ACTIONS: [(&str, &str, bool); 22] = [
    ("approv", "approve", true),
    ("review", "review", true),
    ("sign", "sign", true),
    ("extract", "extract", false),
    ("read", "read", false),
    ("parse", "extract", false),
    ("match", "match", false),
    ("reconcil", "reconcile", false),
    ("validat", "validate", false),
    ("check", "validate", false),
    ("creat", "create", false),
    ("enter", "create", false),
    ("book", "create", false),
    ("updat", "update", false),
    ("sync", "sync", false),
    ("copy", "sync", false),
    ("send", "send", false),
    ("email", "send", false),
    ("notif", "notify", false),
    ("post", "notify", false),
    ("generat", "generate", false),
    ("upload", "upload", false),
];

fn contains_word(haystack_lower: &str, needle_lower: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = haystack_lower[from..].find(needle_lower) {
        let start = from + pos;
        let end = start + needle_lower.len();
        let before_ok = start == 0
            || !haystack_lower[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric());
        let after_ok = end == haystack_lower.len()
            || !haystack_lower[end..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric());
        if before_ok && after_ok {
            return Some(start);
        }
        from = start + needle_lower.len().max(1);
    }
    None
}

fn systems_in(sentence_lower: &str) -> Vec<(usize, &'static str)> {
    let mut found: Vec<(usize, &'static str)> = KNOWN_SYSTEMS
        .iter()
        .filter_map(|s| contains_word(sentence_lower, &s.to_ascii_lowercase()).map(|p| (p, *s)))
        .collect();
    found.sort();
    found
}

fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next_is_space = chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        if c == '\n' || ((c == '.' || c == '!' || c == '?' || c == ';') && next_is_space) {
            if !cur.trim().is_empty() {
                out.push(cur.trim().to_string());
            }
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// Parses "2,000", "2.000", "2000", "12k", "1.5k" at the end of `before` (the words before a
/// unit phrase), allowing a few filler words like "invoices" in between.
fn number_before(before: &str) -> Option<u64> {
    let words: Vec<&str> = before.split_whitespace().rev().take(4).collect();
    for w in words {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '.' && c != ',');
        let (digits, mult) = match w.strip_suffix(['k', 'K']) {
            Some(d) => (d, 1000),
            None => (w, 1),
        };
        if digits.is_empty() || !digits.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            continue;
        }
        if mult == 1000 {
            if let Some((int, frac)) = digits.split_once('.') {
                let i: u64 = int.parse().ok()?;
                let f: u64 = frac.chars().take(3).collect::<String>().parse().ok()?;
                let scale = 10u64.pow(frac.len().min(3) as u32);
                return Some(i * 1000 + f * 1000 / scale);
            }
        }
        let cleaned: String = digits.chars().filter(|c| c.is_ascii_digit()).collect();
        if let Ok(n) = cleaned.parse::<u64>() {
            return Some(n.saturating_mul(mult));
        }
    }
    None
}

/// (phrase, numerator, denominator) converting "per X" to per month.
const PERIODS: [(&str, u64, u64); 12] = [
    ("a month", 1, 1),
    ("per month", 1, 1),
    ("each month", 1, 1),
    ("monthly", 1, 1),
    ("/month", 1, 1),
    ("a day", 30, 1),
    ("per day", 30, 1),
    ("daily", 30, 1),
    ("a week", 13, 3),
    ("per week", 13, 3),
    ("a year", 1, 12),
    ("per year", 1, 12),
];

fn volume_in(sentence_lower: &str) -> Option<(u64, String)> {
    for (phrase, num, den) in PERIODS {
        if let Some(pos) = sentence_lower.find(phrase) {
            if let Some(n) = number_before(&sentence_lower[..pos]) {
                return Some((
                    n * num / den,
                    format!(
                        "\"{}\"",
                        sentence_lower[..pos + phrase.len()]
                            .split_whitespace()
                            .rev()
                            .take(6)
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                ));
            }
        }
    }
    None
}

fn ingest(input: IngestionInput) -> Result<IngestionOutput, Error> {
    let mut text = input.requirements_text.clone();
    for d in &input.documents {
        text.push('\n');
        text.push_str(&d.text);
    }
    if text.trim().is_empty() {
        return Err(Error::new(
            "empty_input",
            "no requirement text and no documents",
        ));
    }
    let sents = sentences(&text);
    let mut notes = Vec::new();

    let mut systems: Vec<&'static str> = Vec::new();
    for s in &sents {
        for (_, name) in systems_in(&s.to_ascii_lowercase()) {
            if !systems.contains(&name) {
                systems.push(name);
            }
        }
    }

    let mut trigger = None;
    'outer: for s in &sents {
        let lower = s.to_ascii_lowercase();
        for (phrase, kind) in TRIGGERS {
            if lower.contains(phrase) {
                let system = systems_in(&lower)
                    .first()
                    .map(|(_, n)| *n)
                    .or(systems.first().copied());
                trigger = Some(Trigger {
                    kind: kind.to_string(),
                    system: system.unwrap_or("manual").to_string(),
                });
                notes.push(format!("Trigger ({kind}) from: \"{s}\""));
                break 'outer;
            }
        }
    }

    let mut steps = Vec::new();
    let mut last_system = trigger.as_ref().map(|t| t.system.clone());
    let mut volume = None;
    for s in &sents {
        let lower = s.to_ascii_lowercase();
        if volume.is_none() {
            if let Some((runs, phrase)) = volume_in(&lower) {
                notes.push(format!("Volume of about {runs} runs/month from {phrase}."));
                volume = Some(Volume {
                    monthly_runs: Some(runs),
                });
            }
        }
        let action = lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .find_map(|w| ACTIONS.iter().find(|(stem, _, _)| w.starts_with(stem)));
        let Some((_, action, human)) = action else {
            continue;
        };
        let system = systems_in(&lower)
            .first()
            .map(|(_, n)| n.to_string())
            .or(last_system.clone());
        let system = system.unwrap_or_else(|| "manual".to_string());
        last_system = Some(system.clone());
        let mut name: String = s.chars().take(80).collect();
        if s.chars().count() > 80 {
            name.push('…');
        }
        steps.push(Step {
            id: format!("step-{}", steps.len() + 1),
            name,
            system,
            action: action.to_string(),
            human: *human,
        });
    }

    let mut system_refs: Vec<SystemRef> = systems
        .iter()
        .map(|n| SystemRef {
            name: n.to_string(),
        })
        .collect();
    let uses_manual = trigger.as_ref().is_some_and(|t| t.system == "manual")
        || steps.iter().any(|s| s.system == "manual");
    if uses_manual {
        system_refs.push(SystemRef {
            name: "manual".to_string(),
        });
        notes.push(
            "Some work names no known system; it is marked \"manual\" for ops to clarify."
                .to_string(),
        );
    }

    let mut score = 20;
    if trigger.is_some() {
        score += 20
    } else {
        notes.push("No trigger found: say what starts the automation.".into())
    }
    if !steps.is_empty() {
        score += 20
    } else {
        notes.push("No steps found: describe what should happen.".into())
    }
    if !systems.is_empty() {
        score += 20
    } else {
        notes.push("No known system named.".into())
    }
    if volume.is_some() {
        score += 20
    } else {
        notes.push("No volume found: e.g. \"about 2,000 invoices a month\".".into())
    }
    notes.push(format!(
        "{} system(s), {} step(s) from {} sentence(s).",
        systems.len(),
        steps.len(),
        sents.len()
    ));

    Ok(IngestionOutput {
        blueprint: Blueprint {
            trigger,
            steps,
            systems: system_refs,
            volume,
        },
        confidence: f64::from(score) / 100.0,
        notes,
    })
}

wrk_plugin_sdk::export_plugin!(
    ingestion,
    name = "builtin-ingestion",
    version = "1.0.0",
    description = "WRK built-in ingestion: requirement text to a blueprint draft with deterministic text rules",
    handler = ingest
);
