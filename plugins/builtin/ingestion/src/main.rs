//! The built-in ingestion rules (ABI v1): turns requirement text and document texts into a
//! blueprint draft. Deterministic text rules, no model, linear in the text:
//! - the text is read as blocks: prose paragraphs and bullets are split into sentences;
//!   markdown headings, setext headings, labels ("Goal: …", "Subject: …"), table header and
//!   separator rows, e-mail headers, quoted replies, greetings and sign-offs never become steps;
//! - systems: names from a known-systems list, in order of first mention;
//! - trigger: the first sentence with a trigger phrase (schedule, e-mail, webhook, file, form,
//!   new record), preferring an explicit "Trigger: …" line, then prose, then headings; its
//!   system is the first system named in that sentence;
//! - steps: one per clause with an action verb (not one per line), outside the trigger's own
//!   phrase; table rows give the cell with the verb as the step and the row's system;
//! - volume: "about 2,000 invoices a month", "150 per day", "500 receipts weekly",
//!   "12k orders per year" → runs a month; a schedule alone ("every night") gives its runs.
//!
//! Confidence grows with each part found; notes say what was found and what is missing.

use wrk_plugin_sdk::Error;
use wrk_plugin_sdk::blueprint::{Blueprint, Step, SystemRef, Trigger, Volume};
use wrk_plugin_sdk::ingestion::{IngestionInput, IngestionOutput};

/// Most steps a draft proposes (a longer document is summarised by its first steps).
const MAX_STEPS: usize = 40;
/// Longest step name, in characters.
const MAX_NAME: usize = 80;

const KNOWN_SYSTEMS: [&str; 42] = [
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
    "Odoo",
    "Lexoffice",
    "Sage",
    "Freshdesk",
    "ServiceNow",
    "WooCommerce",
    "Magento",
    "Shopware",
    "Personio",
    "Google Calendar",
    "Power BI",
    "SFTP",
];

/// (phrase, trigger kind, needs a "when"-word before it in the sentence).
const TRIGGERS: [(&str, &str, bool); 72] = [
    ("webhook", "webhook", false),
    ("webhooks", "webhook", false),
    ("every night", "schedule", false),
    ("each night", "schedule", false),
    ("nightly", "schedule", false),
    ("every morning", "schedule", false),
    ("every evening", "schedule", false),
    ("every day", "schedule", false),
    ("each day", "schedule", false),
    ("daily", "schedule", false),
    ("every weekday", "schedule", false),
    ("every working day", "schedule", false),
    ("every business day", "schedule", false),
    ("every week", "schedule", false),
    ("each week", "schedule", false),
    ("weekly", "schedule", false),
    ("every monday", "schedule", false),
    ("every tuesday", "schedule", false),
    ("every wednesday", "schedule", false),
    ("every thursday", "schedule", false),
    ("every friday", "schedule", false),
    ("every saturday", "schedule", false),
    ("every sunday", "schedule", false),
    ("every month", "schedule", false),
    ("each month", "schedule", false),
    ("monthly", "schedule", false),
    ("month end", "schedule", false),
    ("monthend", "schedule", false),
    ("every hour", "schedule", false),
    ("hourly", "schedule", false),
    ("once a day", "schedule", false),
    ("once a week", "schedule", false),
    ("twice a day", "schedule", false),
    ("at midnight", "schedule", false),
    ("cron", "schedule", false),
    ("inbox", "email", false),
    ("mailbox", "email", false),
    ("email arrives", "email", false),
    ("emails arrive", "email", false),
    ("mail arrives", "email", false),
    ("email comes in", "email", false),
    ("emails come in", "email", false),
    ("incoming email", "email", false),
    ("incoming emails", "email", false),
    ("new email", "email", false),
    ("receive an email", "email", true),
    ("receives an email", "email", true),
    ("we receive", "email", true),
    ("new file", "file", false),
    ("is uploaded", "file", true),
    ("are uploaded", "file", true),
    ("lands in", "file", true),
    ("land in", "file", true),
    ("is dropped", "file", true),
    ("is submitted", "form", true),
    ("are submitted", "form", true),
    ("when a new", "event", false),
    ("whenever a new", "event", false),
    ("when new", "event", false),
    ("each new", "event", false),
    ("is created", "event", true),
    ("is added", "event", true),
    ("are added", "event", true),
    ("is marked", "event", true),
    ("are marked", "event", true),
    ("is updated", "event", true),
    ("is closed", "event", true),
    ("is signed", "event", true),
    ("is won", "event", true),
    ("is paid", "event", true),
    ("changes", "event", true),
    ("whenever", "event", false),
];

/// Words that make a conditional trigger phrase count ("when a ticket is created").
const WHEN_WORDS: [&str; 6] = ["when", "whenever", "once", "soon", "each", "every"];

/// Words a sentence starts with when its first clause is a condition ("If …, …").
const SUBORDINATORS: [&str; 9] = [
    "when", "whenever", "if", "once", "after", "before", "unless", "as", "every",
];

/// Labels of lines that describe rather than instruct: never steps ("Goal: …").
const DESCRIPTIVE_LABELS: [&str; 22] = [
    "goal",
    "goals",
    "objective",
    "purpose",
    "summary",
    "background",
    "context",
    "title",
    "project",
    "owner",
    "problem",
    "why",
    "subject",
    "re",
    "fwd",
    "fw",
    "overview",
    "description",
    "name",
    "department",
    "status",
    "priority",
];

/// E-mail header labels: the line is skipped entirely.
const HEADER_LABELS: [&str; 7] = ["from", "to", "cc", "bcc", "sent", "date", "reply-to"];

/// Labels whose text says what starts the automation.
const TRIGGER_LABELS: [&str; 5] = ["trigger", "start", "starts", "schedule", "frequency"];

/// Greetings and sign-offs (a short line starting with one of these is skipped).
const PLEASANTRIES: [&str; 14] = [
    "hi",
    "hello",
    "hey",
    "dear",
    "thanks",
    "thank",
    "best",
    "kind",
    "regards",
    "cheers",
    "sincerely",
    "br",
    "greetings",
    "morning",
];

/// (word, action, human in the loop, also a common noun). A noun-like word counts as a verb only
/// at the start of a clause or after a subject/modal word ("we book", "then email").
const VERBS: [(&str, &str, bool, bool); 131] = [
    ("approve", "approve", true, false),
    ("approves", "approve", true, false),
    ("approved", "approve", true, false),
    ("approving", "approve", true, false),
    ("approval", "approve", true, false),
    ("review", "review", true, false),
    ("reviews", "review", true, false),
    ("reviewed", "review", true, false),
    ("reviewing", "review", true, false),
    ("confirm", "review", true, false),
    ("confirms", "review", true, false),
    ("sign", "sign", true, true),
    ("signs", "sign", true, false),
    ("signed", "sign", true, false),
    ("countersign", "sign", true, false),
    ("extract", "extract", false, false),
    ("extracts", "extract", false, false),
    ("extracted", "extract", false, false),
    ("parse", "extract", false, false),
    ("parses", "extract", false, false),
    ("parsed", "extract", false, false),
    ("scan", "extract", false, true),
    ("scans", "extract", false, true),
    ("scanned", "extract", false, false),
    ("read", "read", false, false),
    ("reads", "read", false, false),
    ("download", "read", false, true),
    ("downloads", "read", false, true),
    ("downloaded", "read", false, false),
    ("fetch", "read", false, false),
    ("fetches", "read", false, false),
    ("pull", "read", false, false),
    ("pulls", "read", false, false),
    ("collect", "read", false, false),
    ("collects", "read", false, false),
    ("retrieve", "read", false, false),
    ("retrieves", "read", false, false),
    ("import", "read", false, true),
    ("imports", "read", false, true),
    ("imported", "read", false, false),
    ("export", "sync", false, true),
    ("exports", "sync", false, true),
    ("exported", "sync", false, false),
    ("match", "match", false, true),
    ("matches", "match", false, true),
    ("matched", "match", false, false),
    ("compare", "match", false, false),
    ("compares", "match", false, false),
    ("reconcile", "reconcile", false, false),
    ("reconciles", "reconcile", false, false),
    ("reconciled", "reconcile", false, false),
    ("validate", "validate", false, false),
    ("validates", "validate", false, false),
    ("validated", "validate", false, false),
    ("check", "validate", false, true),
    ("checks", "validate", false, true),
    ("checked", "validate", false, false),
    ("verify", "validate", false, false),
    ("verifies", "validate", false, false),
    ("verified", "validate", false, false),
    ("create", "create", false, false),
    ("creates", "create", false, false),
    ("enter", "create", false, false),
    ("enters", "create", false, false),
    ("entered", "create", false, false),
    ("book", "create", false, true),
    ("books", "create", false, true),
    ("booked", "create", false, false),
    ("add", "create", false, false),
    ("adds", "create", false, false),
    ("register", "create", false, true),
    ("open", "create", false, true),
    ("opens", "create", false, true),
    ("update", "update", false, true),
    ("updates", "update", false, true),
    ("updated", "update", false, false),
    ("mark", "update", false, true),
    ("marks", "update", false, true),
    ("marked", "update", false, false),
    ("assign", "update", false, false),
    ("assigns", "update", false, false),
    ("assigned", "update", false, false),
    ("sync", "sync", false, false),
    ("syncs", "sync", false, false),
    ("synced", "sync", false, false),
    ("synchronise", "sync", false, false),
    ("synchronize", "sync", false, false),
    ("copy", "sync", false, true),
    ("copies", "sync", false, false),
    ("copied", "sync", false, false),
    ("push", "sync", false, false),
    ("pushes", "sync", false, false),
    ("transfer", "sync", false, true),
    ("transfers", "sync", false, true),
    ("move", "sync", false, false),
    ("moves", "sync", false, false),
    ("upload", "upload", false, true),
    ("uploads", "upload", false, true),
    ("send", "send", false, false),
    ("sends", "send", false, false),
    ("sent", "send", false, false),
    ("email", "send", false, true),
    ("emails", "send", false, true),
    ("emailed", "send", false, false),
    ("forward", "send", false, false),
    ("forwards", "send", false, false),
    ("reply", "send", false, true),
    ("notify", "notify", false, false),
    ("notifies", "notify", false, false),
    ("notified", "notify", false, false),
    ("alert", "notify", false, true),
    ("alerts", "notify", false, true),
    ("inform", "notify", false, false),
    ("informs", "notify", false, false),
    ("remind", "notify", false, false),
    ("reminds", "notify", false, false),
    ("post", "notify", false, true),
    ("posts", "notify", false, true),
    ("generate", "generate", false, false),
    ("generates", "generate", false, false),
    ("prepare", "generate", false, false),
    ("prepares", "generate", false, false),
    ("calculate", "calculate", false, false),
    ("calculates", "calculate", false, false),
    ("archive", "archive", false, true),
    ("archives", "archive", false, true),
    ("store", "archive", false, true),
    ("pay", "pay", false, true),
    ("look", "read", false, true),
    ("order", "create", false, true),
    ("orders", "create", false, true),
];

/// Words after which a noun-like verb is read as a verb ("we book", "then email").
const VERB_CONTEXT: [&str; 19] = [
    "we",
    "i",
    "they",
    "you",
    "it",
    "bot",
    "to",
    "will",
    "should",
    "must",
    "can",
    "then",
    "and",
    "please",
    "automatically",
    "also",
    "finally",
    "first",
    "next",
];

/// Clause openers stripped from step names.
const OPENERS: [&str; 9] = [
    "please",
    "then",
    "and",
    "finally",
    "first",
    "next",
    "afterwards",
    "also",
    "lastly",
];

/// (phrase, numerator, denominator) converting "per X" to per month.
const PERIODS: [(&str, u64, u64); 38] = [
    ("a month", 1, 1),
    ("per month", 1, 1),
    ("each month", 1, 1),
    ("every month", 1, 1),
    ("monthly", 1, 1),
    ("a mo", 1, 1),
    ("per mo", 1, 1),
    ("a business day", 21, 1),
    ("per business day", 21, 1),
    ("per working day", 21, 1),
    ("each working day", 21, 1),
    ("every working day", 21, 1),
    ("per workday", 21, 1),
    ("a day", 30, 1),
    ("per day", 30, 1),
    ("each day", 30, 1),
    ("every day", 30, 1),
    ("daily", 30, 1),
    ("a night", 30, 1),
    ("per night", 30, 1),
    ("nightly", 30, 1),
    ("every night", 30, 1),
    ("a week", 13, 3),
    ("per week", 13, 3),
    ("each week", 13, 3),
    ("every week", 13, 3),
    ("weekly", 13, 3),
    ("per wk", 13, 3),
    ("a year", 1, 12),
    ("per year", 1, 12),
    ("each year", 1, 12),
    ("annually", 1, 12),
    ("yearly", 1, 12),
    ("per annum", 1, 12),
    ("an hour", 720, 1),
    ("per hour", 720, 1),
    ("hourly", 720, 1),
    ("per quarter", 1, 3),
];

/// Words between a number and its period that mean it is not a count of runs.
const NOT_A_COUNT: [&str; 24] = [
    "eur",
    "usd",
    "gbp",
    "chf",
    "euro",
    "euros",
    "dollars",
    "percent",
    "hours",
    "hour",
    "minutes",
    "minute",
    "min",
    "mins",
    "days",
    "weeks",
    "months",
    "years",
    "am",
    "pm",
    "at",
    "people",
    "staff",
    "employees",
];

/// Counts written as words.
const NUMBER_WORDS: [&str; 12] = [
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve",
];

/// Runs a month of a schedule phrase, when the text gives no count.
const SCHEDULE_RUNS: [(&str, u64); 12] = [
    ("hourly", 720),
    ("hour", 720),
    ("night", 30),
    ("nightly", 30),
    ("day", 30),
    ("daily", 30),
    ("morning", 30),
    ("evening", 30),
    ("weekday", 21),
    ("week", 4),
    ("weekly", 4),
    ("month", 1),
];

// ---------------------------------------------------------------------------------------------
// Tokens and phrase tables

/// A lower-cased word with its byte range in the sentence.
#[derive(Debug, Clone)]
struct Tok {
    w: String,
    start: usize,
    end: usize,
}

fn is_number(w: &str) -> bool {
    w.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// Words: alphanumeric runs; `-` inside a word is dropped ("e-mail" → "email"), `'` kept, `,`
/// `.` `:` kept between digits ("2,000", "1.5k", "6:00"); `/` is the word "per" ("500/week").
fn tokens(s: &str) -> Vec<Tok> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 5);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' {
            out.push(Tok {
                w: "per".into(),
                start: i,
                end: i + 1,
            });
            i += 1;
            continue;
        }
        if !(c.is_ascii_alphanumeric() || c >= 0x80 && word_char_at(s, i)) {
            i += 1;
            continue;
        }
        let start = i;
        let mut w = String::new();
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_alphanumeric() {
                w.push(char::from(c.to_ascii_lowercase()));
                i += 1;
            } else if c >= 0x80 {
                let ch = s[i..].chars().next().unwrap_or(' ');
                if ch.is_alphanumeric() {
                    w.extend(ch.to_lowercase());
                    i += ch.len_utf8();
                } else if ch == '\u{2019}' && b.get(i + 3).is_some_and(u8::is_ascii_alphabetic) {
                    w.push('\'');
                    i += ch.len_utf8();
                } else {
                    break;
                }
            } else {
                let next = b.get(i + 1).copied().unwrap_or(b' ');
                let prev = b[i - 1];
                if c == b'-' && (next.is_ascii_alphanumeric() || next >= 0x80) {
                    i += 1;
                } else if c == b'\'' && next.is_ascii_alphabetic() {
                    w.push('\'');
                    i += 1;
                } else if matches!(c, b',' | b'.' | b':')
                    && prev.is_ascii_digit()
                    && next.is_ascii_digit()
                {
                    w.push(char::from(c));
                    i += 1;
                } else {
                    break;
                }
            }
        }
        out.push(Tok { w, start, end: i });
    }
    out
}

fn word_char_at(s: &str, i: usize) -> bool {
    s.get(i..)
        .and_then(|r| r.chars().next())
        .is_some_and(char::is_alphanumeric)
}

/// Phrases split into words, sorted by first word for a binary search per token.
struct Phrases<T> {
    items: Vec<(Vec<String>, T)>,
    first: WordMask,
}

/// A cheap pre-filter over a word set: (first byte, length) pairs that occur.
struct WordMask([u32; 128]);

impl WordMask {
    fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut m = [0u32; 128];
        for w in words {
            if let Some(&b) = w.as_bytes().first() {
                m[usize::from(b & 0x7f)] |= 1 << w.len().min(31);
            }
        }
        Self(m)
    }

    fn may_contain(&self, w: &str) -> bool {
        w.as_bytes()
            .first()
            .is_some_and(|&b| b >= 0x80 || self.0[usize::from(b)] & (1 << w.len().min(31)) != 0)
    }
}

impl<T: Copy> Phrases<T> {
    fn new(list: impl IntoIterator<Item = (&'static str, T)>) -> Self {
        let mut items: Vec<(Vec<String>, T)> = list
            .into_iter()
            .map(|(p, t)| {
                (
                    p.to_ascii_lowercase()
                        .split(' ')
                        .map(str::to_string)
                        .collect(),
                    t,
                )
            })
            .collect();
        // Stable: equal first words keep the table's order.
        items.sort_by(|a, b| a.0[0].cmp(&b.0[0]));
        let first = WordMask::new(items.iter().map(|(p, _)| p[0].as_str()));
        Self { items, first }
    }

    /// Every match as (first token, token count, value), in token order; at one token the
    /// longest phrase first.
    fn find(&self, toks: &[Tok]) -> Vec<(usize, usize, T)> {
        let mut out = Vec::new();
        for i in 0..toks.len() {
            let w = toks[i].w.as_str();
            if !self.first.may_contain(w) {
                continue;
            }
            let lo = self.items.partition_point(|(p, _)| p[0].as_str() < w);
            let mut best: Option<(usize, T)> = None;
            for (p, t) in self.items[lo..].iter().take_while(|(p, _)| p[0] == w) {
                let fits = p.len() <= toks.len() - i
                    && p.iter().zip(&toks[i..]).all(|(pw, tok)| *pw == tok.w);
                if fits && best.is_none_or(|(l, _)| p.len() > l) {
                    best = Some((p.len(), *t));
                }
            }
            if let Some((len, t)) = best {
                out.push((i, len, t));
            }
        }
        out
    }
}

struct Rules {
    systems: Phrases<&'static str>,
    triggers: Phrases<(&'static str, bool)>,
    periods: Phrases<(u64, u64)>,
}

impl Rules {
    fn new() -> Self {
        Self {
            systems: Phrases::new(KNOWN_SYSTEMS.iter().map(|s| (*s, *s))),
            triggers: Phrases::new(TRIGGERS.iter().map(|(p, k, c)| (*p, (*k, *c)))),
            periods: Phrases::new(PERIODS.iter().map(|(p, n, d)| (*p, (*n, *d)))),
        }
    }
}

/// (action, human, noun-like) of a verb form, by binary search in the sorted [`VERBS`].
fn verb(w: &str) -> Option<(&'static str, bool, bool)> {
    type Table = (Vec<(&'static str, &'static str, bool, bool)>, WordMask);
    static SORTED: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
    let (sorted, mask) = SORTED.get_or_init(|| {
        let mut v = VERBS.to_vec();
        v.sort_by_key(|e| e.0);
        let mask = WordMask::new(v.iter().map(|e| e.0));
        (v, mask)
    });
    if !mask.may_contain(w) {
        return None;
    }
    sorted
        .binary_search_by(|(v, ..)| (*v).cmp(w))
        .ok()
        .map(|i| (sorted[i].1, sorted[i].2, sorted[i].3))
}

// ---------------------------------------------------------------------------------------------
// Blocks: what each piece of text is

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A sentence of prose or of a bullet.
    Prose,
    /// A heading or a descriptive label line: may name a trigger or a volume, never a step.
    Heading,
    /// "Trigger: …": the preferred trigger sentence.
    TriggerLabel,
    /// A table data row; `cells` holds its cells.
    Row,
}

#[derive(Debug)]
struct Unit {
    text: String,
    kind: Kind,
    cells: Vec<String>,
}

#[derive(Default)]
struct Skipped {
    headings: usize,
    table_headers: usize,
    mail_lines: usize,
}

/// Drops emphasis (`**`, `__`), code ticks and task boxes (`[ ] `, `[x] `) in one pass.
fn strip_markup(line: &str) -> std::borrow::Cow<'_, str> {
    let b = line.as_bytes();
    if !b.iter().any(|&c| matches!(c, b'*' | b'_' | b'`' | b'[')) {
        return line.into();
    }
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"**") || rest.starts_with(b"__") {
            i += 2;
        } else if rest.starts_with(b"[ ] ") || rest.starts_with(b"[x] ") {
            i += 4;
        } else if rest[0] == b'`' {
            i += 1;
        } else {
            let n = line[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&line[i..i + n]);
            i += n;
        }
    }
    out.into()
}

/// `line` ends with `suffix`, ASCII case-insensitively.
fn ends_with_ci(line: &str, suffix: &str) -> bool {
    line.len() >= suffix.len()
        && line.as_bytes()[line.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// `line` starts with `prefix`, ASCII case-insensitively.
fn starts_with_ci(line: &str, prefix: &str) -> bool {
    line.len() >= prefix.len()
        && line.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// "- x", "* x", "1. x", "2) x", "a) x" → Some("x").
fn bullet(line: &str) -> Option<&str> {
    for p in ["- ", "* ", "+ ", "\u{2022} ", "\u{2013} "] {
        if let Some(rest) = line.strip_prefix(p) {
            return Some(rest.trim_start());
        }
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let alpha = usize::from(line.as_bytes().first().is_some_and(u8::is_ascii_lowercase));
    for n in [digits, alpha] {
        if n > 0 && n <= 3 {
            let rest = &line[n..];
            if let Some(r) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
                return Some(r.trim_start());
            }
        }
    }
    None
}

fn is_table_separator(line: &str) -> bool {
    line.contains('-')
        && line
            .chars()
            .all(|c| matches!(c, '|' | '-' | ':' | ' ' | '+'))
}

fn is_rule(line: &str) -> bool {
    line.len() >= 3
        && (line.chars().all(|c| c == '=')
            || line.chars().all(|c| c == '-')
            || line.chars().all(|c| c == '*')
            || line.chars().all(|c| c == '_'))
}

fn table_cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_string())
        .collect()
}

/// "Label: rest" with a label of at most three words.
fn label(line: &str) -> Option<(String, &str)> {
    let (l, rest) = line.split_once(':')?;
    let words = l.split_whitespace().count();
    if words == 0 || words > 3 || l.len() > 30 || l.starts_with(char::is_whitespace) {
        return None;
    }
    if !l
        .chars()
        .all(|c| c.is_alphanumeric() || c == ' ' || c == '-')
    {
        return None;
    }
    Some((l.trim().to_ascii_lowercase(), rest.trim()))
}

/// Splits a paragraph into sentences at `.`, `!`, `?` (followed by a space or the end), leaving
/// abbreviations ("e.g.", "approx.") and numbers ("5.000") whole.
fn sentences_of(par: &str, out: &mut Vec<Unit>) {
    let b = par.as_bytes();
    let mut from = 0;
    for i in 0..b.len() {
        let c = b[i];
        if !(c == b'.' || c == b'!' || c == b'?') {
            continue;
        }
        if b.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()) {
            continue;
        }
        if c == b'.' {
            let word_start = par[..i]
                .rfind(|ch: char| ch.is_whitespace())
                .map_or(0, |p| p + 1);
            let word = par[word_start..i].to_ascii_lowercase();
            if matches!(
                word.as_str(),
                "e.g" | "i.e" | "etc" | "approx" | "ca" | "vs" | "mr" | "mrs" | "ms" | "dr" | "no"
            ) {
                continue;
            }
        }
        push_sentence(&par[from..=i], out);
        from = i + 1;
    }
    push_sentence(&par[from..], out);
}

fn push_sentence(s: &str, out: &mut Vec<Unit>) {
    let s = s.trim();
    if s.chars().any(char::is_alphanumeric) {
        out.push(Unit {
            text: s.to_string(),
            kind: Kind::Prose,
            cells: Vec::new(),
        });
    }
}

/// The text as units: sentences, headings, label lines and table rows, in reading order.
fn units(text: &str, skipped: &mut Skipped) -> Vec<Unit> {
    let mut out = Vec::new();
    let mut par = String::new();
    // Lines in `par`, and whether it is one plain (non-bullet) line: a setext heading candidate.
    let mut par_lines = 0;
    let mut par_plain = true;
    let mut last_row: Option<usize> = None;

    let flush = |par: &mut String, out: &mut Vec<Unit>, lines: &mut usize| {
        if !par.trim().is_empty() {
            sentences_of(par, out);
        }
        par.clear();
        *lines = 0;
    };

    for raw in text.lines() {
        let line = strip_markup(raw.trim());
        let line = line.trim();
        let was_row = last_row.take();
        if line.is_empty() {
            flush(&mut par, &mut out, &mut par_lines);
            continue;
        }
        // Quoted replies repeat earlier mails; signatures and "On … wrote:" are not content.
        if line.starts_with('>')
            || line == "--"
            || ends_with_ci(line, " wrote:")
            || (line.starts_with("--") && line.to_ascii_lowercase().contains("original message"))
            || starts_with_ci(line, "sent from my")
        {
            flush(&mut par, &mut out, &mut par_lines);
            skipped.mail_lines += 1;
            continue;
        }
        // Tables.
        if line.starts_with('|') || line.bytes().filter(|&c| c == b'|').count() >= 2 {
            flush(&mut par, &mut out, &mut par_lines);
            if is_table_separator(line) {
                // The row above was the header.
                if let Some(i) = was_row
                    && i + 1 == out.len()
                {
                    out.pop();
                    skipped.table_headers += 1;
                }
                continue;
            }
            let cells = table_cells(line);
            out.push(Unit {
                text: cells.join(" ; "),
                kind: Kind::Row,
                cells,
            });
            last_row = Some(out.len() - 1);
            continue;
        }
        // Setext underline or a horizontal rule.
        if is_rule(line) {
            if par_lines == 1 && par_plain && (line.starts_with('=') || line.starts_with('-')) {
                out.push(Unit {
                    text: std::mem::take(&mut par).trim().to_string(),
                    kind: Kind::Heading,
                    cells: Vec::new(),
                });
                par_lines = 0;
                skipped.headings += 1;
            } else {
                flush(&mut par, &mut out, &mut par_lines);
            }
            continue;
        }
        // ATX headings.
        if line.starts_with('#') {
            flush(&mut par, &mut out, &mut par_lines);
            let h = line
                .trim_start_matches('#')
                .trim()
                .trim_end_matches('#')
                .trim();
            if !h.is_empty() {
                out.push(Unit {
                    text: h.to_string(),
                    kind: Kind::Heading,
                    cells: Vec::new(),
                });
                skipped.headings += 1;
            }
            continue;
        }
        // Greetings and sign-offs.
        let first = line
            .split(|c: char| !c.is_alphanumeric())
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if PLEASANTRIES.contains(&first.as_str()) && line.split_whitespace().nth(5).is_none() {
            flush(&mut par, &mut out, &mut par_lines);
            skipped.mail_lines += 1;
            continue;
        }
        let (body, is_bullet) = match bullet(line) {
            Some(rest) => (rest, true),
            None => (line, false),
        };
        // Labels.
        if let Some((l, rest)) = label(body) {
            if HEADER_LABELS.contains(&l.as_str()) {
                flush(&mut par, &mut out, &mut par_lines);
                skipped.mail_lines += 1;
                continue;
            }
            if DESCRIPTIVE_LABELS.contains(&l.as_str()) || TRIGGER_LABELS.contains(&l.as_str()) {
                flush(&mut par, &mut out, &mut par_lines);
                if !rest.is_empty() {
                    let trigger = TRIGGER_LABELS.contains(&l.as_str());
                    out.push(Unit {
                        text: rest.to_string(),
                        kind: if trigger {
                            Kind::TriggerLabel
                        } else {
                            Kind::Heading
                        },
                        cells: Vec::new(),
                    });
                    if !trigger {
                        skipped.headings += 1;
                    }
                }
                continue;
            }
            // "Step 1: Extract …": the label is a number, the rest is the instruction.
            if l.starts_with("step") || l.chars().all(|c| c.is_ascii_digit()) {
                flush(&mut par, &mut out, &mut par_lines);
                par.push_str(rest);
                par_lines = 1;
                par_plain = false;
                continue;
            }
        }
        if is_bullet {
            flush(&mut par, &mut out, &mut par_lines);
            par.push_str(body);
            par_lines = 1;
            par_plain = false;
            continue;
        }
        if par_lines == 0 {
            par_plain = true;
        } else {
            par.push(' ');
        }
        par.push_str(body);
        par_lines += 1;
    }
    flush(&mut par, &mut out, &mut par_lines);
    out
}

// ---------------------------------------------------------------------------------------------
// Extraction

/// The count before a period phrase ending at token `at` (exclusive): up to four words back,
/// over filler words ("2,000 supplier invoices a month"), refusing amounts and times.
fn count_before(s: &str, toks: &[Tok], at: usize) -> Option<(u64, usize)> {
    for k in (at.saturating_sub(4)..at).rev() {
        // A comma between the number and the period starts another thought
        // ("8,000 articles, one run per night").
        if s[toks[k].end..toks[k + 1].start].contains([',', ';', '(']) {
            return None;
        }
        let w = toks[k].w.as_str();
        if NOT_A_COUNT.contains(&w) || w.contains(':') {
            return None;
        }
        if let Some(n) = NUMBER_WORDS.iter().position(|n| *n == w) {
            return Some((n as u64 + 1, k));
        }
        if !is_number(w) {
            continue;
        }
        let (digits, mult) = match w.strip_suffix('k') {
            Some(d) => (d, 1000),
            None => (w, 1),
        };
        if mult == 1000 {
            if let Some((int, frac)) = digits.split_once('.') {
                let i: u64 = int.parse().ok()?;
                let f: u64 = frac.chars().take(3).collect::<String>().parse().ok()?;
                let scale = 10u64.pow(frac.len().min(3) as u32);
                return Some((i * 1000 + f * 1000 / scale, k));
            }
        }
        if !digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b',' || b == b'.')
        {
            return None;
        }
        // "2,000" and "2.000" are thousands; "2.5" is not a count.
        let groups: Vec<&str> = digits.split([',', '.']).collect();
        if groups.len() > 1 && groups[1..].iter().any(|g| g.len() != 3) {
            return None;
        }
        let n: u64 = groups.concat().parse().ok()?;
        return Some((n.saturating_mul(mult), k));
    }
    None
}

/// A volume in a sentence: (runs a month, the words it came from, token range of the phrase).
fn volume_in(rules: &Rules, s: &str, toks: &[Tok]) -> Option<(u64, String, usize)> {
    for (i, len, (num, den)) in rules.periods.find(toks) {
        if let Some((n, k)) = count_before(s, toks, i) {
            let from = toks[k].start;
            let to = toks[i + len - 1].end;
            return Some((n.saturating_mul(num) / den, s[from..to].to_string(), i));
        }
    }
    None
}

/// The first trigger phrase in a sentence: (token, token count, kind).
fn trigger_in(
    rules: &Rules,
    toks: &[Tok],
    volume_at: Option<usize>,
) -> Option<(usize, usize, &'static str)> {
    rules
        .triggers
        .find(toks)
        .into_iter()
        .filter(|(i, _, _)| Some(*i) != volume_at)
        .filter(|(i, _, (_, conditional))| {
            !conditional
                || toks[..*i]
                    .iter()
                    .any(|t| WHEN_WORDS.contains(&t.w.as_str()))
        })
        // A specific kind ("is uploaded": file) wins over a generic event ("whenever").
        .min_by_key(|(i, _, (kind, _))| (*kind == "event", *i))
        .map(|(i, len, (kind, _))| (i, len, kind))
}

/// Section headings under which the text describes today's process, not the automation.
const BACKGROUND_SECTIONS: [&str; 13] = [
    "background",
    "context",
    "today",
    "current process",
    "current situation",
    "as is",
    "asis",
    "problem",
    "the problem",
    "motivation",
    "why",
    "history",
    "status quo",
];

/// Which units describe the current situation: everything under a background heading, and
/// sentences opening with "Today", "Currently", "At the moment", "Right now", "So far".
fn background(units: &[Unit], toks: &[Vec<Tok>]) -> Vec<bool> {
    let mut in_section = false;
    units
        .iter()
        .zip(toks)
        .map(|(u, t)| {
            if u.kind == Kind::Heading {
                let words: Vec<&str> = t.iter().map(|w| w.w.as_str()).collect();
                in_section = BACKGROUND_SECTIONS.contains(&words.join(" ").as_str());
                return in_section;
            }
            let w = |k: usize| t.get(k).map_or("", |w| w.w.as_str());
            let opener = match w(0) {
                "today" | "currently" => true,
                "at" => w(1) == "present" || (w(1) == "the" && w(2) == "moment"),
                "right" => w(1) == "now",
                "so" => w(1) == "far",
                "until" => w(1) == "now",
                _ => false,
            };
            in_section || opener
        })
        .collect()
}

/// The first known system in a token range.
fn first_system(rules: &Rules, toks: &[Tok]) -> Option<&'static str> {
    rules.systems.find(toks).first().map(|(_, _, s)| *s)
}

/// Words that follow an imperative verb ("update *their* deal", "email *the* invoice").
const DETERMINERS: [&str; 16] = [
    "the", "a", "an", "their", "his", "her", "its", "our", "them", "it", "all", "every", "each",
    "this", "these", "those",
];

/// Whether `toks[i]` reads as a verb opening a clause: a plain verb, or a noun-like one followed
/// by a determiner ("Order a laptop", not "order number").
fn opens_clause(toks: &[Tok], i: usize) -> bool {
    match verb(&toks[i].w) {
        Some((_, _, false)) => true,
        Some((_, _, true)) => toks
            .get(i + 1)
            .is_none_or(|n| DETERMINERS.contains(&n.w.as_str())),
        None => false,
    }
}

/// The first action verb in `toks[from..to]`, outside `skip` (the trigger phrase). A past
/// participle opening the clause ("Approved invoices are booked") gives way to a later verb.
fn verb_in(
    toks: &[Tok],
    from: usize,
    to: usize,
    skip: Option<(usize, usize)>,
) -> Option<(usize, &'static str, bool)> {
    let find = |from: usize| {
        (from..to).find_map(|i| {
            if skip.is_some_and(|(s, l)| i >= s && i < s + l) {
                return None;
            }
            let (action, human, noun) = verb(&toks[i].w)?;
            if noun {
                // A noun-like word is a verb opening the clause, or after a subject or modal.
                let at_start =
                    i == from || OPENERS.contains(&toks[i - 1].w.as_str()) && i - 1 == from;
                let after_subject = i > from && VERB_CONTEXT.contains(&toks[i - 1].w.as_str());
                if !(at_start && opens_clause(toks, i)) && !after_subject {
                    return None;
                }
            }
            Some((i, action, human))
        })
    };
    let first = find(from)?;
    if first.0 == from && toks[from].w.ends_with("ed") {
        if let Some(later) = find(from + 1) {
            return Some(later);
        }
    }
    Some(first)
}

/// Clauses of `toks[from..to]`: split before "then" (", then", "and then"), at ";", and before a
/// verb opening a new clause after a comma or "and" ("look up the customer, update the deal and
/// create a task").
fn clauses(s: &str, toks: &[Tok], from: usize, to: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = from;
    for i in from + 1..to {
        let gap = &s[toks[i - 1].end..toks[i].start];
        let prev = toks[i - 1].w.as_str();
        let joined = prev == "and" || prev == "or";
        let w = toks[i].w.as_str();
        let new_verb = (gap.contains(',') || joined)
            && !w.ends_with("ed")
            && w != "sent"
            && opens_clause(toks, i);
        let splits =
            w == "then" && (gap.contains(',') || prev == "and") || gap.contains(';') || new_verb;
        if splits {
            let end = if joined { i - 1 } else { i };
            if end > start {
                out.push((start, end));
            }
            start = i;
        }
    }
    if to > start {
        out.push((start, to));
    }
    out
}

/// A step name from a clause: openers dropped, first letter capitalised, trailing punctuation
/// removed, at most [`MAX_NAME`] characters (cut at a word).
fn step_name(s: &str, toks: &[Tok], from: usize, to: usize) -> String {
    let mut from = from;
    while from + 1 < to
        && (OPENERS.contains(&toks[from].w.as_str())
            || toks[from].w == "after" && toks[from + 1].w == "that")
    {
        from += if toks[from].w == "after" { 2 } else { 1 };
    }
    let end = if to < toks.len() {
        toks[to].start
    } else {
        s.len()
    };
    let raw = s[toks[from].start..end]
        .trim()
        .trim_end_matches([',', '.', ';', ':', '!', '-', ' ', '\u{2013}', '\u{2014}'])
        .trim();
    let mut name = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    if let Some(c) = chars.next() {
        name.extend(c.to_uppercase());
        name.push_str(chars.as_str());
    }
    if name.chars().count() > MAX_NAME {
        let cut: String = name.chars().take(MAX_NAME - 1).collect();
        let at = cut
            .rfind(' ')
            .filter(|&p| p > MAX_NAME / 2)
            .unwrap_or(cut.len());
        name = format!("{}\u{2026}", cut[..at].trim_end_matches([',', ' ']));
    }
    name
}

/// The trigger found: the trigger, its phrase, its kind, its unit and its token span there.
struct Found {
    trigger: Trigger,
    phrase: String,
    kind: &'static str,
    unit: usize,
    span: (usize, usize),
}

fn ingest(input: IngestionInput) -> Result<IngestionOutput, Error> {
    let mut text = input.requirements_text.clone();
    for d in &input.documents {
        text.push_str("\n\n");
        text.push_str(&d.text);
    }
    if text.trim().is_empty() {
        return Err(Error::new(
            "empty_input",
            "no requirement text and no documents",
        ));
    }
    let rules = Rules::new();
    let mut skipped = Skipped::default();
    let units = units(&text, &mut skipped);
    let toks: Vec<Vec<Tok>> = units.iter().map(|u| tokens(&u.text)).collect();
    let background = background(&units, &toks);
    let mut notes = Vec::new();

    // Systems, in order of first mention.
    let mut systems: Vec<&'static str> = Vec::new();
    for t in &toks {
        for (_, _, name) in rules.systems.find(t) {
            if !systems.contains(&name) {
                systems.push(name);
            }
        }
    }

    // Volume: the first count with a period, outside background text if there is one.
    let mut volume = None;
    let mut volume_at = vec![None; units.len()];
    for in_background in [false, true] {
        for (i, u) in units.iter().enumerate() {
            if background[i] != in_background {
                continue;
            }
            if let Some((runs, words, at)) = volume_in(&rules, &u.text, &toks[i]) {
                volume_at[i] = Some(at);
                if volume.is_none() {
                    notes.push(format!(
                        "Volume of about {runs} runs a month from \"{words}\"."
                    ));
                    volume = Some(runs);
                }
            }
        }
    }

    // Trigger: an explicit "Trigger:" line, then prose and bullets, then table rows, then
    // headings and labels.
    let mut found: Option<Found> = None;
    'rank: for rank in [Kind::TriggerLabel, Kind::Prose, Kind::Row, Kind::Heading] {
        for (i, u) in units
            .iter()
            .enumerate()
            .filter(|(i, u)| u.kind == rank && !background[*i])
        {
            let hit = trigger_in(&rules, &toks[i], volume_at[i]);
            let (at, len, kind) = match (hit, rank) {
                (Some(h), _) => h,
                (None, Kind::TriggerLabel) => (0, 0, "event"),
                (None, _) => continue,
            };
            let system = first_system(&rules, &toks[i])
                .or_else(|| {
                    (kind == "email")
                        .then(|| systems.iter().find(|s| matches!(**s, "Outlook" | "Gmail")))
                        .flatten()
                        .copied()
                })
                .or(systems.first().copied())
                .unwrap_or("manual");
            let phrase = if len > 0 {
                toks[i][at..at + len]
                    .iter()
                    .map(|t| t.w.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                String::new()
            };
            notes.push(format!("Trigger ({kind}, {system}) from: \"{}\"", u.text));
            found = Some(Found {
                trigger: Trigger {
                    kind: kind.to_string(),
                    system: system.to_string(),
                },
                phrase,
                kind,
                unit: i,
                // Where the phrase is, so it is not read as a step.
                span: (at, len),
            });
            break 'rank;
        }
    }
    let trigger_unit = found.as_ref().map(|f| f.unit);
    let trigger_span = found.as_ref().map(|f| f.span).filter(|&(_, len)| len > 0);

    if volume.is_none() {
        if let Some(Found {
            phrase,
            kind: "schedule",
            ..
        }) = &found
        {
            let runs = phrase
                .split(' ')
                .rev()
                .find_map(|w| SCHEDULE_RUNS.iter().find(|(k, _)| *k == w).map(|(_, r)| *r));
            if let Some(runs) = runs {
                notes.push(format!(
                    "Volume of {runs} runs a month from the schedule (\"{phrase}\"); say how many items each run handles if that is what is billed."
                ));
                volume = Some(runs);
            }
        }
    }

    // Steps.
    let mut steps: Vec<Step> = Vec::new();
    let mut more_steps = 0usize;
    let mut last_system = found.as_ref().map(|f| f.trigger.system.clone());
    for (i, u) in units.iter().enumerate() {
        let t = &toks[i];
        if t.is_empty() || background[i] {
            continue;
        }
        let mut candidates: Vec<(String, Option<&'static str>, &'static str, bool)> = Vec::new();
        match u.kind {
            Kind::Heading => continue,
            Kind::Row => {
                let row_system = first_system(&rules, t);
                for cell in &u.cells {
                    let ct = tokens(cell);
                    if let Some((_, action, human)) = verb_in(&ct, 0, ct.len(), None) {
                        let human = human
                            || ct
                                .iter()
                                .any(|w| matches!(w.w.as_str(), "manual" | "manually" | "human"));
                        candidates.push((
                            step_name(cell, &ct, 0, ct.len()),
                            row_system,
                            action,
                            human,
                        ));
                        break;
                    }
                }
            }
            Kind::Prose | Kind::TriggerLabel => {
                let is_trigger = trigger_unit == Some(i);
                let skip = if is_trigger { trigger_span } else { None };
                // A leading condition ("If …, …", "When an email arrives, …") is not the step.
                let comma = (1..t.len()).find(|&k| u.text[t[k - 1].end..t[k].start].contains(','));
                let conditional =
                    SUBORDINATORS.contains(&t[0].w.as_str()) || skip.is_some_and(|(a, _)| a <= 2);
                let (from, whole_name) = match (conditional, comma) {
                    (true, Some(c)) => (
                        c,
                        !is_trigger && trigger_in(&rules, t, volume_at[i]).is_none(),
                    ),
                    (true, None) if is_trigger => continue,
                    _ => (0, false),
                };
                let parts = clauses(&u.text, t, from, t.len());
                for &(a, b) in &parts {
                    let Some(mut v) = verb_in(t, a, b, skip) else {
                        continue;
                    };
                    // "Stripe sends a webhook …": delivering the trigger is not a step.
                    if let Some((s0, l0)) = skip
                        && v.0 < s0
                        && matches!(v.1, "send" | "notify")
                    {
                        match verb_in(t, (s0 + l0).max(a), b, skip) {
                            Some(later) => v = later,
                            None => continue,
                        }
                    }
                    let (_, action, human) = v;
                    let name = if whole_name && parts.len() == 1 {
                        step_name(&u.text, t, 0, t.len())
                    } else {
                        step_name(&u.text, t, a, b)
                    };
                    let system = first_system(&rules, &t[a..b]).or_else(|| first_system(&rules, t));
                    let human = human
                        || t[a..b]
                            .iter()
                            .any(|w| matches!(w.w.as_str(), "manual" | "manually"));
                    candidates.push((name, system, action, human));
                }
            }
        }
        for (name, system, action, human) in candidates {
            let system = system
                .map(str::to_string)
                .or(last_system.clone())
                .unwrap_or_else(|| "manual".to_string());
            last_system = Some(system.clone());
            let dup = steps.iter().any(|s| {
                s.action == action && s.system == system && s.name.eq_ignore_ascii_case(&name)
            });
            if dup || name.is_empty() {
                continue;
            }
            if steps.len() == MAX_STEPS {
                more_steps += 1;
                continue;
            }
            steps.push(Step {
                id: format!("step-{}", steps.len() + 1),
                name,
                system,
                action: action.to_string(),
                human,
            });
        }
    }
    if more_steps > 0 {
        notes.push(format!(
            "Only the first {MAX_STEPS} steps are proposed; {more_steps} more were left out."
        ));
    }
    let ignored = skipped.headings + skipped.table_headers + skipped.mail_lines;
    if ignored > 0 {
        let mut parts = Vec::new();
        if skipped.headings > 0 {
            parts.push(format!("{} heading or label line(s)", skipped.headings));
        }
        if skipped.table_headers > 0 {
            parts.push(format!("{} table header(s)", skipped.table_headers));
        }
        if skipped.mail_lines > 0 {
            parts.push(format!(
                "{} e-mail header, quote or greeting line(s)",
                skipped.mail_lines
            ));
        }
        notes.push(format!("Not read as steps: {}.", parts.join(", ")));
    }

    let trigger = found.map(|f| f.trigger);
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
        notes.push("No trigger found: say what starts the automation (e.g. \"every night\", \"when an email arrives in Outlook\").".into())
    }
    if !steps.is_empty() {
        score += 20
    } else {
        notes.push("No steps found: describe what should happen, one action per sentence.".into())
    }
    if !systems.is_empty() {
        score += 20
    } else {
        notes.push("No known system named.".into())
    }
    if volume.is_some() {
        score += 20
    } else {
        notes.push(
            "No volume found: e.g. \"about 2,000 invoices a month\" or \"500 receipts weekly\"."
                .into(),
        )
    }
    notes.push(format!(
        "{} system(s), {} step(s) from {} sentence(s).",
        systems.len(),
        steps.len(),
        units.len()
    ));

    Ok(IngestionOutput {
        blueprint: Blueprint {
            trigger,
            steps,
            systems: system_refs,
            volume: volume.map(|runs| Volume {
                monthly_runs: Some(runs),
            }),
        },
        confidence: f64::from(score) / 100.0,
        notes,
    })
}

wrk_plugin_sdk::export_plugin!(
    ingestion,
    name = "builtin-ingestion",
    version = "1.1.0",
    description = "WRK built-in ingestion: requirement text to a blueprint draft with deterministic text rules",
    handler = ingest
);
