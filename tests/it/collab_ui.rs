//! Flow 30 in two headless Chromium sessions: a client on the automation's Messages tab and an
//! ops user on the ops automation view. A message sent on one side appears on the other within a
//! second without a reload, hostile markup in it is shown as text, the bell's badge follows the
//! notifications live, the notifications page lists them, and the ops home's unread-threads queue
//! refreshes by itself. Screenshots at 1366 and 375 px in `target/screenshots/`.

use wrk_tests::browser::Browser;
use wrk_tests::{TestApp, json};

use crate::support::{account_with_workspace, log_in, ops_log_in, shots_at_two_widths};

/// Records, on the page, when the first message with `text` arrived in the thread.
const WATCH: &str = "
  window.__arrived = {};
  new MutationObserver(() => {
    for (const li of document.querySelectorAll('[data-messages] li')) {
      const t = li.textContent;
      for (const k of ['HOSTILE', 'REPLY']) if (t.includes(k) && !window.__arrived[k]) window.__arrived[k] = Date.now();
    }
  }).observe(document.body, { subtree: true, childList: true });
  return true;";

fn send(browser: &Browser, text: &str) -> i64 {
    browser.fill("[data-message-input]", text);
    let sent = browser.eval("window.__sent = Date.now(); document.querySelector('[data-message-send]').click(); return window.__sent;");
    sent.as_i64().expect("a time")
}

fn arrived(browser: &Browser, key: &str) -> i64 {
    browser.wait_until(
        &format!("!!(window.__arrived && window.__arrived['{key}'])"),
        &format!("the {key} message on the other side"),
    );
    browser
        .eval(&format!("return window.__arrived['{key}']"))
        .as_i64()
        .expect("a time")
}

#[test]
fn a_client_and_ops_talk_in_an_automation_thread_live_and_markup_stays_text() {
    let app = TestApp::spawn_open();
    let owner = account_with_workspace(&app, "grace@example.com", "acme", "Acme Inc");
    let automation = app.create_automation("acme", &owner.token, "Invoice sync");

    let client = Browser::with_size(1366, 900);
    log_in(&app, &client, "grace@example.com", "acme");
    client.goto(&app.url("acme", &format!("/app/automations/{automation}#messages")));
    client.wait_for("[data-thread] [data-message-input]");
    assert_eq!(client.eval(WATCH), json!(true));

    let ops = Browser::with_size(1366, 900);
    let path = format!("/ops/automations/{}/{automation}", owner.tenant_id);
    ops_log_in(&app, &ops, "ops@wrk.example", "ops", &path);
    ops.wait_until(
        &format!("location.pathname === '{path}'"),
        "the ops automation view",
    );
    ops.wait_for("[data-thread] [data-message-input]");
    assert_eq!(ops.eval(WATCH), json!(true));

    // Ops write, with markup that must stay text.
    let sent = send(
        &ops,
        "HOSTILE <script>window.__pwned = 1</script> <img src=x onerror=\"window.__pwned = 2\"> \
         [click](javascript:window.__pwned=3) and **bold**",
    );
    let at = arrived(&client, "HOSTILE");
    assert!(
        at - sent < 1000,
        "arrived {} ms after it was sent",
        at - sent
    );
    let inert = client.eval(
        "const t = document.querySelector('[data-messages]');
         return { pwned: window.__pwned ?? null,
                  elements: t.querySelectorAll('script, img, iframe, [onerror]').length,
                  links: [...t.querySelectorAll('.message-body a')].map(a => a.getAttribute('href')),
                  bold: t.querySelectorAll('.message-body strong').length,
                  text: t.textContent.includes('<script>') };",
    );
    assert_eq!(
        inert,
        json!({"pwned": null, "elements": 0, "links": [], "bold": 1, "text": true}),
        "the markup is shown as text"
    );
    // The bell counts the new notification, without a reload.
    client.wait_until(
        "document.querySelector('[data-unread]').dataset.count === '1'",
        "the bell's badge at 1",
    );
    shots_at_two_widths(&client, "thread-client");

    // The client answers; ops have it within a second.
    let sent = send(&client, "REPLY: the ledger is attached.");
    let at = arrived(&ops, "REPLY");
    assert!(
        at - sent < 1000,
        "arrived {} ms after it was sent",
        at - sent
    );
    assert_eq!(
        ops.eval("return window.__pwned ?? null"),
        json!(null),
        "ops are not affected by markup either"
    );
    shots_at_two_widths(&ops, "thread-ops");

    // The notifications page lists it; marking all read clears the badge.
    client.goto(&app.url("acme", "/app/notifications"));
    client.wait_for("[data-notifications] [data-notification-id]");
    let listed = client.text("[data-notifications]");
    assert!(listed.contains("wrote on Invoice sync"), "{listed}");
    shots_at_two_widths(&client, "notifications");
    client.click("[data-read-all]");
    client.wait_until(
        "document.querySelector('[data-unread]').dataset.count === '0'
         && !document.querySelector('.notification.is-unread')",
        "every notification read",
    );

    // The ops home: the unread-threads queue refreshes by itself when a client writes.
    let reader = app.ops_token("ops_admin");
    let (s, _) = app.post_as(
        "ops",
        &format!(
            "/api/ops/tenants/{}/automations/{automation}/messages/read",
            owner.tenant_id
        ),
        &reader,
        json!({}),
    );
    assert_eq!(s.as_u16(), 204);
    ops.goto(&app.url("ops", "/ops"));
    ops.wait_until(
        "document.querySelector('[data-queue=threads]')?.dataset.available === 'true'",
        "the threads queue",
    );
    assert!(!ops.text("[data-queue=threads]").contains("Invoice sync"));
    let (s, _) = app.post_as(
        "acme",
        &format!("/api/automations/{automation}/messages"),
        &owner.token,
        json!({"body": "One more question"}),
    );
    assert_eq!(s.as_u16(), 201);
    ops.wait_until(
        "document.querySelector('[data-queue=threads]').textContent.includes('Invoice sync')",
        "the unread thread on the ops home, without a reload",
    );
    shots_at_two_widths(&ops, "ops-home-threads");
}
