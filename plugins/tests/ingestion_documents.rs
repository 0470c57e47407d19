//! The built-in ingestion plugin, through the real wasm, on a set of varied requirement
//! documents (`plugins/samples/documents`): prose, bullets, markdown with headings, an e-mail
//! thread, a table and a webhook description. Each document's trigger, systems, volume and
//! steps are checked, and so are the things that must not become steps (headings, labels, table
//! markup, mail headers, quoted replies, background text). Fuel: a chunk of the size the host
//! passes stays well within the per-call budget, the same input gives the same output.

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use wrk_plugins::sdk::ABI_VERSION;
use wrk_plugins::sdk::blueprint::Blueprint;
use wrk_plugins::sdk::ingestion::{Document, IngestionInput, IngestionOutput};
use wrk_plugins::{HostConfig, INGESTION_CHUNK_BYTES, Limits, PluginHost, Registry, builtin};

fn registry() -> Registry {
    let host = Arc::new(PluginHost::new(HostConfig::default()).unwrap());
    let registry = Registry::new(host);
    registry
        .ensure_builtins("test", Utc::now())
        .unwrap_or_else(|r| panic!("{}", r.render()));
    registry
}

fn document(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples/documents")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ingest(registry: &Registry, name: &str) -> IngestionOutput {
    let input = IngestionInput {
        abi: ABI_VERSION,
        requirements_text: String::new(),
        documents: vec![Document {
            name: name.into(),
            text: document(name),
        }],
    };
    registry.ingest(None, &input).unwrap().output
}

fn trigger(bp: &Blueprint) -> Option<(&str, &str)> {
    bp.trigger
        .as_ref()
        .map(|t| (t.kind.as_str(), t.system.as_str()))
}

fn systems(bp: &Blueprint) -> Vec<&str> {
    bp.systems.iter().map(|s| s.name.as_str()).collect()
}

fn runs(bp: &Blueprint) -> Option<u64> {
    bp.volume.as_ref().and_then(|v| v.monthly_runs)
}

/// (action, system, human, name) of every step.
fn steps(bp: &Blueprint) -> Vec<(&str, &str, bool, &str)> {
    bp.steps
        .iter()
        .map(|s| {
            (
                s.action.as_str(),
                s.system.as_str(),
                s.human,
                s.name.as_str(),
            )
        })
        .collect()
}

/// No step is markup, a heading, a label or a mail header.
fn assert_clean_steps(bp: &Blueprint, forbidden: &[&str]) {
    for s in &bp.steps {
        assert!(
            !s.name.contains('|') && !s.name.starts_with('#') && !s.name.starts_with('-'),
            "markup in a step: {:?}",
            s.name
        );
        for f in forbidden {
            assert!(
                !s.name.to_lowercase().contains(&f.to_lowercase()),
                "{f:?} became a step: {:?}",
                s.name
            );
        }
        assert!(s.name.chars().count() <= 80, "{:?}", s.name);
    }
    let ids: Vec<&str> = bp.steps.iter().map(|s| s.id.as_str()).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids, unique, "step ids are unique");
}

#[test]
fn prose_gives_the_email_trigger_its_system_the_steps_and_the_monthly_volume() {
    let out = ingest(&registry(), "prose.txt");
    let bp = &out.blueprint;
    assert_eq!(trigger(bp), Some(("email", "Outlook")));
    assert_eq!(systems(bp), ["Outlook", "NetSuite", "Slack"]);
    assert_eq!(runs(bp), Some(1_200));
    let s = steps(bp);
    let actions: Vec<&str> = s.iter().map(|s| s.0).collect();
    assert_eq!(actions, ["extract", "match", "approve", "create", "send"]);
    assert_eq!(s[2].1, "Slack");
    assert!(s[2].2, "the approval is a human step");
    assert_eq!(
        s[3],
        (
            "create",
            "NetSuite",
            false,
            "Approved invoices are booked in NetSuite"
        )
    );
    assert_clean_steps(bp, &["accounts payable team", "we receive"]);
    assert!((out.confidence - 1.0).abs() < f64::EPSILON);
}

#[test]
fn bullets_give_one_step_per_action_and_the_trigger_line() {
    let bp = ingest(&registry(), "bullets.md").blueprint;
    assert_eq!(trigger(&bp), Some(("event", "Personio")));
    assert_eq!(runs(&bp), Some(40));
    let s = steps(&bp);
    let names: Vec<&str> = s.iter().map(|s| s.3).collect();
    assert_eq!(
        names,
        [
            "Create the user account in Microsoft Teams",
            "Add them to their team channel",
            "Order a laptop by opening a ticket in Jira for IT",
            "HR reviews the welcome pack before it goes out",
            "Send the welcome email with the first-day schedule via Gmail",
            "Post a short introduction in the #general Slack channel",
        ]
    );
    assert_eq!(s[3].0, "review");
    assert!(s[3].2);
    assert_eq!(s[5].1, "Slack");
    assert_clean_steps(&bp, &["Employee onboarding", "new hire is created"]);
}

#[test]
fn markdown_headings_and_labels_are_not_steps_and_the_schedule_is_the_trigger() {
    let out = ingest(&registry(), "headings.md");
    let bp = &out.blueprint;
    // "# Nightly stock sync" and "Goal: …" are not steps; the background section (today's
    // manual process, "about once a week") gives neither steps nor the trigger.
    assert_eq!(trigger(bp), Some(("schedule", "SAP")));
    assert_eq!(systems(bp), ["SAP", "Shopify", "Slack"]);
    // "one run per night", not the 8,000 articles.
    assert_eq!(runs(bp), Some(30));
    let s = steps(bp);
    assert_eq!(
        s,
        [
            (
                "read",
                "SAP",
                false,
                "Read the stock levels of all active articles from SAP"
            ),
            (
                "match",
                "Shopify",
                false,
                "Compare them with the stock levels in Shopify"
            ),
            (
                "update",
                "Shopify",
                false,
                "Update every article whose level differs in Shopify"
            ),
            (
                "notify",
                "Slack",
                false,
                "Post a summary of the changes to Slack"
            ),
        ]
    );
    assert_clean_steps(
        bp,
        &[
            "Nightly stock sync",
            "Goal",
            "keep the web shop",
            "exports a CSV",
            "Volume",
        ],
    );
    assert!(out.notes.iter().any(|n| n.contains("Not read as steps")));
}

#[test]
fn an_email_thread_reads_the_latest_mail_not_headers_greetings_or_quotes() {
    let bp = ingest(&registry(), "email-thread.txt").blueprint;
    assert_eq!(trigger(&bp), Some(("file", "Google Drive")));
    assert_eq!(systems(&bp), ["Google Drive", "Xero"]);
    // 500 receipts weekly = 500 × 13/3 a month.
    assert_eq!(runs(&bp), Some(2_166));
    let s = steps(&bp);
    assert_eq!(
        s.iter().map(|s| (s.0, s.1)).collect::<Vec<_>>(),
        [
            ("read", "Google Drive"),
            ("create", "Xero"),
            ("review", "Xero")
        ]
    );
    assert_eq!(s[0].3, "Read the amount, the date and the merchant from it");
    assert!(s[2].2);
    assert_clean_steps(
        &bp,
        &[
            "Anna",
            "Subject",
            "Expense receipts",
            "Following up",
            "Could you",
            "fewer manual",
        ],
    );
}

#[test]
fn a_table_gives_the_cell_with_the_verb_and_the_row_system_not_the_markup() {
    let bp = ingest(&registry(), "table.md").blueprint;
    assert_eq!(trigger(&bp), Some(("event", "Shopify")));
    assert_eq!(runs(&bp), Some(4_500));
    let s = steps(&bp);
    assert_eq!(
        s,
        [
            (
                "read",
                "Shopify",
                false,
                "Fetch the paid order and its line items"
            ),
            (
                "create",
                "Lexoffice",
                false,
                "Create the customer if it does not exist yet"
            ),
            ("generate", "Lexoffice", false, "Generate the invoice"),
            (
                "review",
                "Lexoffice",
                true,
                "Review invoices over 10,000 EUR"
            ),
            (
                "send",
                "Gmail",
                false,
                "Email the invoice PDF to the customer"
            ),
        ]
    );
    assert_clean_steps(&bp, &["Step", "System", "Who", "Order to invoice", "---"]);
}

#[test]
fn a_webhook_is_the_trigger_and_its_delivery_is_not_a_step() {
    let bp = ingest(&registry(), "webhook.txt").blueprint;
    assert_eq!(trigger(&bp), Some(("webhook", "Stripe")));
    assert_eq!(runs(&bp), Some(300));
    let s = steps(&bp);
    assert_eq!(
        s.iter().map(|s| (s.0, s.1)).collect::<Vec<_>>(),
        [
            ("read", "HubSpot"),
            ("update", "HubSpot"),
            ("create", "HubSpot"),
            ("notify", "Slack")
        ]
    );
    assert_clean_steps(&bp, &["sends us a webhook", "300 times"]);
}

#[test]
fn volumes_per_day_week_month_and_year_become_monthly_runs() {
    let registry = registry();
    for (text, want) in [
        ("We get 500 receipts weekly.", Some(2_166)),
        ("About 2,000 invoices a month.", Some(2_000)),
        ("Roughly 150 orders per day.", Some(4_500)),
        ("12k orders per year.", Some(1_000)),
        ("1.5k tickets/month.", Some(1_500)),
        ("Around 40 requests each working day.", Some(840)),
        ("Invoices over 5,000 EUR need approval.", None),
        ("At 6 am every day we check the list.", Some(30)),
    ] {
        let input = IngestionInput {
            abi: ABI_VERSION,
            requirements_text: text.into(),
            documents: vec![],
        };
        let out = registry.ingest(None, &input).unwrap().output;
        assert_eq!(runs(&out.blueprint), want, "{text}");
    }
}

#[test]
fn the_same_input_gives_the_same_output() {
    let registry = registry();
    for name in ["prose.txt", "email-thread.txt", "table.md"] {
        let a = serde_json::to_string(&ingest(&registry, name)).unwrap();
        let b = serde_json::to_string(&ingest(&registry, name)).unwrap();
        assert_eq!(a, b, "{name}");
    }
}

/// A chunk of the size the host passes, of dense text (a step, a system and a clause split in
/// every few words) and of the sample documents, uses at most 80% of the per-call fuel; the
/// whole sample set at once is also fine.
#[test]
fn a_chunk_of_the_host_s_size_stays_within_the_fuel() {
    let host = PluginHost::new(HostConfig::default()).unwrap();
    let plugin = host.compile(builtin::INGESTION).unwrap();
    let all: String = [
        "prose.txt",
        "bullets.md",
        "headings.md",
        "email-thread.txt",
        "table.md",
        "webhook.txt",
    ]
    .iter()
    .map(|n| document(n) + "\n\n")
    .collect();
    let dense = "Then book it in SAP. If a is b, we sync it to Xero and send it to Slack; then \
                 check the SAP data. "
        .repeat(INGESTION_CHUNK_BYTES / 90 + 1);
    let fill = |t: &str| -> String {
        let mut s = t.repeat(INGESTION_CHUNK_BYTES / t.len() + 1);
        let mut cut = INGESTION_CHUNK_BYTES;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s
    };
    let budget = Limits::default().fuel;
    for (what, text) in [("dense", fill(&dense)), ("samples", fill(&all))] {
        let input = serde_json::to_vec(&IngestionInput {
            abi: ABI_VERSION,
            requirements_text: text,
            documents: vec![],
        })
        .unwrap();
        let run = host.run(&plugin, &input).unwrap();
        wrk_plugins::output::check_ingestion(&run.stdout).unwrap();
        assert!(
            run.stats.fuel_used <= budget / 10 * 8,
            "{what}: {} of {budget} fuel",
            run.stats.fuel_used
        );
    }
}
