//! The audit log for people and the quote document (issue 8, items 7 and 8), through the real
//! binary: every invitation action leaves exactly one row in the workspace's audit log, rows name
//! people and actions in words, quotes carry a stable number and who they are billed to; and in
//! headless Chromium at 1366 and 375 px (screenshots in `target/screenshots/`).

use std::time::Duration;

use wrk_tests::browser::Browser;
use wrk_tests::smtp::{SmtpSink, links, query_param};
use wrk_tests::{Method, TestApp, Value, eventually, json};

use crate::support::{account_with_workspace, log_in};

/// The workspace's audit rows about one entity, oldest first.
fn rows_about(app: &TestApp, token: &str, entity_type: &str, entity_id: &str) -> Vec<Value> {
    let mut rows = app.audit_rows("acme", token, entity_type, entity_id);
    rows.reverse();
    rows
}

fn actions(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|r| r["action"].as_str().unwrap()).collect()
}

/// The invitation token in the `n`-th (1-based) invitation email to `to`.
fn invitation_token(sink: &SmtpSink, to: &str, n: usize) -> String {
    let mails = eventually(
        Duration::from_secs(15),
        &format!("invitation email {n} to {to}"),
        || {
            let m = sink.mails_to(to);
            (m.len() >= n).then_some(m)
        },
    );
    let tokens: Vec<String> = mails
        .iter()
        .filter_map(|m| {
            links(m)
                .iter()
                .find_map(|l| query_param(l, "token").filter(|_| l.contains("/invite")))
        })
        .collect();
    assert_eq!(
        tokens.len(),
        mails.len(),
        "every mail has an invitation link"
    );
    // The sink lists mails in arrival order or not: the new token is the one not seen before.
    let mut distinct: Vec<String> = Vec::new();
    for t in tokens {
        if !distinct.contains(&t) {
            distinct.push(t);
        }
    }
    assert_eq!(distinct.len(), n, "{n} different links");
    distinct.pop().unwrap()
}

#[test]
fn each_invitation_action_leaves_exactly_one_row_in_the_workspace_audit_log() {
    let sink = SmtpSink::start();
    let app = TestApp::builder()
        .env("WRK_AUTH_RATE_LIMIT", "10000")
        .env("WRK_EMAIL_VERIFICATION", "false")
        .env("WRK_SMTP_URL", sink.url())
        .spawn();
    let owner = account_with_workspace(&app, "grace@example.com", "acme", "Acme Inc").token;

    // Create: one row, by the owner, in words.
    let (s, inv) = app.post_as(
        "acme",
        "/api/invitations",
        &owner,
        json!({"email": "ada@example.com", "role": "admin"}),
    );
    assert_eq!(s, 201, "{inv}");
    let id = inv["id"].as_str().unwrap().to_owned();
    let rows = rows_about(&app, &owner, "invitation", &id);
    assert_eq!(actions(&rows), ["invitation.created"], "{rows:?}");
    let row = &rows[0];
    assert_eq!(
        row["actor"]["kind"], "user",
        "the stable fields stay: {row}"
    );
    assert!(row["actor"]["id"].is_string(), "{row}");
    assert_eq!(row["actor_name"], "Grace Hopper", "{row}");
    assert_eq!(row["actor_email"], "grace@example.com", "{row}");
    assert_eq!(row["action_label"], "Invitation sent", "{row}");
    assert_eq!(row["entity_label"], "Invitation", "{row}");
    let first = invitation_token(&sink, "ada@example.com", 1);

    // Resend: one more row.
    let (s, body) = app.post_as(
        "acme",
        &format!("/api/invitations/{id}/resend"),
        &owner,
        json!({}),
    );
    assert_eq!(s, 200, "{body}");
    let rows = rows_about(&app, &owner, "invitation", &id);
    assert_eq!(
        actions(&rows),
        ["invitation.created", "invitation.resent"],
        "{rows:?}"
    );
    let second = invitation_token(&sink, "ada@example.com", 2);
    assert_ne!(first, second);

    // A refused acceptance (the old link) changes nothing and writes nothing.
    app.signup("ada@example.com", "Ada Lovelace");
    let ada = app.token("", "ada@example.com");
    let (s, _) = app.post_as(
        "",
        "/api/account/invitations/accept",
        &ada,
        json!({"token": first}),
    );
    assert_eq!(s, 400);
    assert_eq!(rows_about(&app, &owner, "invitation", &id).len(), 2);

    // Accept: one more row, by the invitee, and her membership shows under her name.
    let (s, body) = app.post_as(
        "",
        "/api/account/invitations/accept",
        &ada,
        json!({"token": second}),
    );
    assert_eq!(s, 200, "{body}");
    let rows = rows_about(&app, &owner, "invitation", &id);
    assert_eq!(
        actions(&rows),
        [
            "invitation.created",
            "invitation.resent",
            "invitation.accepted"
        ],
        "{rows:?}"
    );
    assert_eq!(rows[2]["actor_name"], "Ada Lovelace", "{:?}", rows[2]);
    let (_, log) = app.get_as("acme", "/api/audit-logs?entity_type=membership", &owner);
    let joined: Vec<&Value> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["entity_name"] == "Ada Lovelace")
        .collect();
    assert_eq!(joined.len(), 1, "{log}");
    assert_eq!(joined[0]["action_label"], "Member added");

    // Revoke: one row; revoking again is a no-op and writes none.
    let (s, other) = app.post_as(
        "acme",
        "/api/invitations",
        &owner,
        json!({"email": "bob@example.com", "role": "member"}),
    );
    assert_eq!(s, 201, "{other}");
    let other = other["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let (s, body) = app.delete_as("acme", &format!("/api/invitations/{other}"), &owner);
        assert!(s.is_success(), "{s} {body}");
    }
    let rows = rows_about(&app, &owner, "invitation", &other);
    assert_eq!(
        actions(&rows),
        ["invitation.created", "invitation.revoked"],
        "{rows:?}"
    );
    assert_eq!(rows[1]["action_label"], "Invitation revoked");

    // Inviting an address again replaces its pending invitation: the replaced one gets exactly
    // one "revoked" row, the new one its "created" row.
    let (s, carol) = app.post_as(
        "acme",
        "/api/invitations",
        &owner,
        json!({"email": "carol@example.com", "role": "member"}),
    );
    assert_eq!(s, 201, "{carol}");
    let (s, again) = app.post_as(
        "acme",
        "/api/invitations",
        &owner,
        json!({"email": "carol@example.com", "role": "admin"}),
    );
    assert_eq!(s, 201, "{again}");
    let carol = carol["id"].as_str().unwrap();
    let again = again["id"].as_str().unwrap();
    assert_eq!(
        actions(&rows_about(&app, &owner, "invitation", carol)),
        ["invitation.created", "invitation.revoked"]
    );
    assert_eq!(
        actions(&rows_about(&app, &owner, "invitation", again)),
        ["invitation.created"]
    );

    // The whole log merges the workspace's own rows with these, newest first, across pages,
    // and no row is repeated or lost between pages. A change made with an API key names it.
    let (s, key) = app.post_as(
        "acme",
        "/api/api-keys",
        &owner,
        json!({"name": "ci", "scopes": ["write"]}),
    );
    assert_eq!(s, 201, "{key}");
    let (s, a) = app.post_as(
        "acme",
        "/api/automations",
        key["key"].as_str().unwrap(),
        json!({"name": "Invoice intake"}),
    );
    assert_eq!(s, 201, "{a}");
    let rows = rows_about(&app, &owner, "automation", a["id"].as_str().unwrap());
    assert_eq!(actions(&rows), ["automation.created"]);
    assert_eq!(rows[0]["actor"]["kind"], "api_key");
    assert_eq!(rows[0]["actor_name"], "API key “ci”", "{:?}", rows[0]);
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/audit-logs?limit=3&cursor={c}"),
            None => "/api/audit-logs?limit=3".to_owned(),
        };
        let (s, page) = app.get_as("acme", &path, &owner);
        assert_eq!(s, 200, "{page}");
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let ids: Vec<&str> = all.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(ids, sorted, "newest first, each row once");
    let all_actions: Vec<&str> = all.iter().map(|r| r["action"].as_str().unwrap()).collect();
    for expected in [
        "tenant.created",
        "membership.created",
        "automation.created",
        "invitation.accepted",
    ] {
        assert!(
            all_actions.contains(&expected),
            "{expected}: {all_actions:?}"
        );
    }
    assert!(
        all.iter()
            .all(|r| r["action_label"].as_str().is_some_and(|l| !l.contains('.'))),
        "every action in words"
    );

    // The CSV export has them too.
    let csv = app
        .request(Method::GET, "acme", "/api/audit-logs?format=csv")
        .bearer_auth(&owner)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(
        csv.matches(",invitation.created,invitation,").count(),
        4,
        "{csv}"
    );
}

fn quote_of(app: &TestApp, token: &str, automation: &str) -> Value {
    let (_, list) = app.get_as("acme", "/api/quotes?limit=200", token);
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["automation_id"] == automation)
        .expect("a quote")
        .clone();
    let (s, q) = app.get_as(
        "acme",
        &format!("/api/quotes/{}", item["id"].as_str().unwrap()),
        token,
    );
    assert_eq!(s, 200, "{q}");
    assert_eq!(q["number"], item["number"], "the list and the quote agree");
    q
}

/// True when no two visible elements matching `css` overlap (or touch) on screen.
fn no_overlap(browser: &Browser, css: &str) -> Value {
    browser.eval(&format!(
        "const r = [...document.querySelectorAll('{css}')].map((e) => e.getBoundingClientRect()).filter((b) => b.width > 1 && b.height > 1);
         for (let i = 1; i < r.length; i++) {{ if (r[i].left < r[i - 1].right + 2 && r[i].top < r[i - 1].bottom) return {{ i, a: r[i - 1].right, b: r[i].left }}; }}
         return true;"
    ))
}

/// Nothing on the page is wider than the window (no sideways scrolling, nothing shifted).
fn fits(browser: &Browser) -> Value {
    browser.eval(
        "const main = document.querySelector('[data-page-root]').getBoundingClientRect();
         const ok = document.documentElement.scrollWidth <= window.innerWidth && window.scrollX === 0 && main.left >= 0 && main.right <= window.innerWidth + 0.5;
         return ok || [document.documentElement.scrollWidth, window.innerWidth, window.scrollX, main.left, main.right];",
    )
}

/// Resizes and waits until the layout settled (the navigation drawer slid away).
fn narrow(browser: &Browser) {
    browser.resize(375, 812);
    browser.wait_until(
        "window.innerWidth <= 400 && document.querySelector('.app-sidebar').getBoundingClientRect().right <= 0",
        "the narrow layout with the drawer closed",
    );
}

#[test]
fn the_quote_is_a_document_with_a_number_billed_to_and_terms_at_1366_and_375_px() {
    let app = TestApp::spawn_open();
    let token = account_with_workspace(&app, "grace@example.com", "acme", "Acme Inc").token;
    let id = app.quoted("acme", &token, "Invoice intake", 2500);
    let other = app.quoted("acme", &token, "Receipts", 1200);

    // Quote numbers: human, in order, stable across reads; billed to the workspace and owner.
    let q = quote_of(&app, &token, &id);
    let year = q["created_at"].as_str().unwrap()[..4].to_owned();
    assert_eq!(q["number"], format!("Q-{year}-0001"), "{q}");
    assert_eq!(
        quote_of(&app, &token, &other)["number"],
        format!("Q-{year}-0002")
    );
    assert_eq!(quote_of(&app, &token, &id)["number"], q["number"]);
    assert_eq!(
        q["billed_to"],
        json!({"workspace_name": "Acme Inc", "owner_name": "Grace Hopper", "owner_email": "grace@example.com"})
    );
    let codes: Vec<String> = q["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap().to_owned())
        .collect();
    assert!(!codes.is_empty());

    let browser = Browser::with_size(1366, 900);
    log_in(&app, &browser, "grace@example.com", "acme");
    browser.goto(&app.url("acme", &format!("/app/automations/{id}")));
    browser.click("#tab-quote");
    browser.wait_for("[data-quote] tr[data-line]");
    browser.wait_for("[data-billed-to]");
    let text = browser.text("[data-quote]");
    assert!(text.contains(&format!("Q-{year}-0001")), "{text}");
    assert!(
        text.contains("Acme Inc") && text.contains("Grace Hopper"),
        "{text}"
    );
    assert!(
        text.contains("Terms") && text.contains("valid until"),
        "{text}"
    );
    assert!(text.contains("2,500"), "thousands separators: {text}");
    for code in &codes {
        assert!(
            !text.contains(code.as_str()),
            "internal code {code} shown: {text}"
        );
    }
    // One name per status: the badge and the stepper agree.
    let badge = browser.text("[data-status-badge] .badge");
    assert_eq!(badge, "Awaiting approval");
    let step = browser.text(".timeline [aria-current=step] .timeline-label");
    assert_eq!(step, badge);
    assert_eq!(no_overlap(&browser, ".timeline-step .timeline-label"), true);
    assert_eq!(fits(&browser), true);
    browser.eval("document.querySelector('[data-quote]').scrollIntoView()");
    browser.screenshot("quote-document-1366");
    browser.eval("window.scrollTo(0, 0)");

    narrow(&browser);
    browser.wait_until(
        "getComputedStyle(document.querySelector('.quote-table .quote-unit')).display === 'none'",
        "the narrow quote layout",
    );
    assert_eq!(fits(&browser), true, "no sideways scrolling at 375 px");
    // Every amount is on screen, inside the card.
    let amounts = browser.eval(
        "const card = document.querySelector('[data-quote]').getBoundingClientRect();
         return [...document.querySelectorAll('[data-quote] tr[data-line] .quote-amount')].every((td) => { const b = td.getBoundingClientRect(); return b.width > 0 && b.right <= Math.min(card.right, window.innerWidth) + 0.5; });",
    );
    assert_eq!(amounts, true, "amounts on screen");
    let calc = browser.text("[data-quote] tr[data-line] .quote-calc");
    assert!(calc.contains('×'), "{calc}");
    // The tab bar is cut nowhere: every tab is whole and inside the bar and the window.
    let tabs = browser.eval(
        "const bar = document.querySelector('.tabs').getBoundingClientRect();
         const cut = [...document.querySelectorAll('.tabs .tab')].filter((t) => { const b = t.getBoundingClientRect(); return t.scrollWidth > t.clientWidth + 1 || b.left < bar.left - 0.5 || b.right > Math.min(bar.right, window.innerWidth) + 0.5; }).map((t) => t.textContent);
         return cut.length === 0 || cut;",
    );
    assert_eq!(tabs, true, "tabs");
    // The stepper: no two labels touch; the current step is named in words.
    assert_eq!(no_overlap(&browser, ".timeline-step .timeline-label"), true);
    let current = browser.eval(
        "return document.querySelector('.timeline').dataset.current + '|' + getComputedStyle(document.querySelector('.timeline'), '::after').content",
    );
    assert!(
        current.as_str().unwrap().contains("Awaiting approval"),
        "{current}"
    );
    browser.eval("document.querySelector('[data-quote] table').scrollIntoView()");
    browser.screenshot("quote-document-375");
    browser.eval("window.scrollTo(0, 0)");
    browser.screenshot("quote-stepper-375");
}

#[test]
fn the_audit_log_names_people_and_actions_in_a_browser_at_1366_and_375_px() {
    let app = TestApp::spawn_open();
    let token = account_with_workspace(&app, "grace@example.com", "acme", "Acme Inc").token;
    let (s, _) = app.post_as(
        "acme",
        "/api/invitations",
        &token,
        json!({"email": "ada@example.com", "role": "admin"}),
    );
    assert_eq!(s, 201);
    let (s, _) = app.post_as(
        "acme",
        "/api/automations",
        &token,
        json!({"name": "Invoice intake"}),
    );
    assert_eq!(s, 201);

    let browser = Browser::with_size(1366, 900);
    log_in(&app, &browser, "grace@example.com", "acme");
    browser.goto(&app.url("acme", "/app/audit-log"));
    browser.wait_for("[data-audit] tbody tr");
    let table = browser.text("[data-audit]");
    for words in [
        "Grace Hopper",
        "Invitation sent",
        "as admin",
        "Workspace created",
        "Member added",
        "Automation created",
        "ada@example.com",
        "Invoice intake",
    ] {
        assert!(table.contains(words), "{words}: {table}");
    }
    for code in [
        "invitation.created",
        "tenant.created",
        "automation.created",
        "user ",
    ] {
        assert!(!table.contains(code), "raw {code:?} shown: {table}");
    }
    // The Request column lines up with the others: every cell of a row starts at the same
    // height, and each column's cells share one left edge.
    let aligned = browser.eval(
        "const rows = [...document.querySelectorAll('[data-audit] tbody tr')];
         const tops = rows.every((tr) => { const t = [...tr.cells].map((c) => Math.round(c.getBoundingClientRect().top)); return t.every((x) => x === t[0]); });
         const lefts = [0, 1, 2, 3, 4].every((i) => { const l = rows.map((tr) => Math.round(tr.cells[i].getBoundingClientRect().left)); return l.every((x) => x === l[0]); });
         const head = document.querySelector('[data-audit] thead th:last-child').getBoundingClientRect().left;
         const cell = rows[0].cells[4].getBoundingClientRect().left;
         return tops && lefts && Math.abs(head - cell) < 1 || { tops, lefts, head, cell };",
    );
    assert_eq!(aligned, true, "the audit table's columns line up");
    // The action filter offers words; choosing one filters the log.
    browser.click("#audit-action option[value='invitation.created']");
    browser.wait_until(
        "document.querySelectorAll('[data-audit] tbody tr').length === 1 && document.querySelector('[data-audit] tbody tr').dataset.action === 'invitation.created'",
        "the filtered log",
    );
    let option = browser.text("#audit-action option[value='invitation.created']");
    assert_eq!(option, "Invitation sent");
    browser.click("#audit-action option[value='']");
    browser.wait_until(
        "document.querySelectorAll('[data-audit] tbody tr').length > 3",
        "the whole log again",
    );
    assert_eq!(fits(&browser), true);
    browser.screenshot("audit-log-1366");

    narrow(&browser);
    assert_eq!(fits(&browser), true, "no sideways scrolling at 375 px");
    browser.screenshot("audit-log-375");
    browser.eval("document.querySelector('[data-audit]').scrollIntoView()");
    browser.screenshot("audit-log-375-rows");
}
