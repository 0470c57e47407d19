//! Flows 17, 19 and 20 end to end: pricing overrides (discount, pinned plugin version) and
//! their audit rows, subscriptions, committed-volume changes (preview, increase with its
//! proration, decrease next period, a declined charge), and billing periods (finalized twice
//! with one charge, a declined invoice, the invoice PDF). Usage here is zero: overage to the
//! cent is tested on the store with written usage counters (`wrk_tenants::billing`).

use chrono::{DateTime, Datelike, Utc};
use wrk_tests::{Method, Owner, StatusCode, TestApp, Value, json};

fn stripe_app() -> TestApp {
    TestApp::builder()
        .env("WRK_AUTH_RATE_LIMIT", "10000")
        .env("WRK_EMAIL_VERIFICATION", "false")
        .localstripe()
        .spawn()
}

fn override_path(owner: &Owner) -> String {
    format!("/api/ops/tenants/{}/pricing-override", owner.tenant_id)
}

fn subscription(app: &TestApp, owner: &Owner, automation: &str) -> Value {
    let (s, page) = app.get_as("acme", "/api/billing/subscriptions", &owner.token);
    assert_eq!(s, StatusCode::OK, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["automation_id"] == automation && x["status"] == "active")
        .cloned()
        .unwrap_or_else(|| panic!("no active subscription of {automation}: {page}"))
}

fn change_volume(
    app: &TestApp,
    owner: &Owner,
    automation: &str,
    runs: u64,
    dry_run: bool,
) -> (StatusCode, Value) {
    let path = if dry_run {
        "/api/billing/committed-volume?dry_run=true"
    } else {
        "/api/billing/committed-volume"
    };
    app.post_as(
        "acme",
        path,
        &owner.token,
        json!({"automation_id": automation, "monthly_runs": runs}),
    )
}

/// The day-based proration, transcribed from the doc comment of
/// `wrk_core::billing::prorate_rest_of_month`: `diff − R(diff × k / d)`, with `k` the days gone
/// and `R` rounding half away from zero.
fn expected_proration(diff: i64, at: DateTime<Utc>) -> i64 {
    let days = {
        let first = at.date_naive().with_day(1).unwrap();
        let next = first.checked_add_months(chrono::Months::new(1)).unwrap();
        (next - first).num_days()
    };
    let gone = i64::from(at.day()) - 1;
    let elapsed = (2 * diff * gone + days) / (2 * days);
    diff - elapsed
}

fn this_period() -> String {
    Utc::now().format("%Y-%m").to_string()
}

fn finalize(app: &TestApp, ops: &str, body: Value) -> (StatusCode, Value) {
    app.post_as("ops", "/api/ops/billing/finalize", ops, body)
}

fn guest(name: &str) -> Vec<u8> {
    let path = wrk_tests::target_dir()
        .join("wrk-plugin-guests")
        .join("wasm32-wasip1")
        .join("release")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn an_override_with_a_discount_and_a_pinned_plugin_version_changes_the_next_quote_and_is_audited() {
    let app = TestApp::spawn_open();
    let owner = app.owner_of("grace@example.com", "acme");
    let admin = app.ops_token("ops_admin");
    let ops = app.ops_token("ops");
    let before = app.quoted("acme", &owner.token, "Before", 2500);
    let before = app.current_quote(&owner, &before);

    let (s, none) = app.get_as("ops", &override_path(&owner), &ops);
    assert_eq!(s, StatusCode::OK, "{none}");
    assert_eq!(none["discount_percent"], Value::Null);
    let (s, p) = app.put_as(
        "ops",
        &override_path(&owner),
        &ops,
        json!({"discount_percent": 20}),
    );
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "an ops user is not an ops_admin: {p}"
    );
    let (s, set) = app.put_as(
        "ops",
        &override_path(&owner),
        &admin,
        json!({"discount_percent": 20}),
    );
    assert_eq!(s, StatusCode::OK, "{set}");
    assert_eq!(set["discount_percent"], 20);

    let after = app.quoted("acme", &owner.token, "After", 2500);
    let after = app.current_quote(&owner, &after);
    assert!(
        after["monthly_fee_cents"].as_i64() < before["monthly_fee_cents"].as_i64(),
        "{before}\n{after}"
    );
    assert!(
        after["line_items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["description"].as_str().unwrap().contains("20% discount")),
        "{after}"
    );
    let rows = app.audit_rows("acme", &owner.token, "pricing_override", "1");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["action"], "pricing_override.updated");
    assert_eq!(rows[0]["after"]["discount_percent"], 20);

    // Pin the workspace to another installed pricing plugin by its version.
    let res = app
        .request(Method::POST, "ops", "/api/ops/plugins")
        .bearer_auth(&admin)
        .header("content-type", "application/wasm")
        .body(guest("wrk-test-pricing-alt"))
        .send()
        .expect("upload");
    assert_eq!(res.status(), StatusCode::CREATED);
    let (s, p) = app.put_as(
        "ops",
        &override_path(&owner),
        &admin,
        json!({"discount_percent": 20, "plugin_version": "9.9.9"}),
    );
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (s, set) = app.put_as(
        "ops",
        &override_path(&owner),
        &admin,
        json!({"discount_percent": 20, "plugin_version": "2.0.0"}),
    );
    assert_eq!(s, StatusCode::OK, "{set}");
    assert_eq!(set["plugin_version"], "2.0.0");
    let (_, read) = app.get_as("ops", &override_path(&owner), &ops);
    assert_eq!(
        (&read["discount_percent"], &read["plugin_version"]),
        (&json!(20), &json!("2.0.0"))
    );
    let pinned = app.quoted("acme", &owner.token, "Pinned", 2500);
    let pinned = app.current_quote(&owner, &pinned);
    assert_eq!(pinned["plugin"]["version"], "2.0.0", "{pinned}");
    let rows = app.audit_rows("acme", &owner.token, "pricing_override", "1");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["after"]["plugin_version"], "2.0.0");
}

#[test]
fn a_committed_volume_increase_applies_now_with_its_proration_and_a_decrease_next_period() {
    let app = TestApp::spawn_open();
    let owner = app.owner_of("grace@example.com", "acme");
    let id = app.quoted("acme", &owner.token, "Invoices", 2500);
    app.signed_by_invoice("acme", &owner.token, &id);
    let sub = subscription(&app, &owner, &id);
    assert_eq!(sub["committed_monthly_runs"], 2500, "{sub}");
    assert_eq!(sub["currency"], "USD");

    // The preview prices the change and changes nothing.
    let (s, preview) = change_volume(&app, &owner, &id, 5000, true);
    assert_eq!(s, StatusCode::OK, "{preview}");
    assert_eq!(preview["quote_id"], Value::Null);
    assert_eq!(preview["applies"], "now");
    assert_eq!(subscription(&app, &owner, &id), sub);

    let (s, up) = change_volume(&app, &owner, &id, 5000, false);
    assert_eq!(s, StatusCode::OK, "{up}");
    let diff =
        up["monthly_fee_cents"].as_i64().unwrap() - sub["monthly_fee_cents"].as_i64().unwrap();
    assert!(diff > 0, "{up}");
    let at: DateTime<Utc> = up["effective_at"].as_str().unwrap().parse().unwrap();
    assert!((Utc::now() - at).num_seconds().abs() < 60, "{up}");
    assert_eq!(
        up["prorated_charge_cents"],
        expected_proration(diff, at),
        "{up}"
    );
    assert_eq!(
        up["prorated_charge_cents"],
        preview["prorated_charge_cents"]
    );
    let quote = up["quote_id"].as_str().expect("a re-quote");
    let (s, q) = app.get_as("acme", &format!("/api/quotes/{quote}"), &owner.token);
    assert_eq!(s, StatusCode::OK, "{q}");
    assert_eq!(
        (q["status"].as_str(), q["included_runs"].as_i64()),
        (Some("signed"), Some(5000))
    );
    assert_eq!(q["setup_fee_cents"], 0);
    let now = subscription(&app, &owner, &id);
    assert_eq!(now["committed_monthly_runs"], 5000);
    assert_eq!(now["monthly_fee_cents"], up["monthly_fee_cents"]);

    // The same commitment again is refused; a decrease waits for the next period.
    let (s, p) = change_volume(&app, &owner, &id, 5000, false);
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (s, down) = change_volume(&app, &owner, &id, 1000, false);
    assert_eq!(s, StatusCode::OK, "{down}");
    assert_eq!(
        (
            down["applies"].as_str(),
            down["prorated_charge_cents"].as_i64()
        ),
        (Some("next_period"), Some(0))
    );
    let first_of_next = {
        let today = Utc::now().date_naive().with_day(1).unwrap();
        today.checked_add_months(chrono::Months::new(1)).unwrap()
    };
    let effective: DateTime<Utc> = down["effective_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(effective.date_naive(), first_of_next);
    let later = subscription(&app, &owner, &id);
    assert_eq!(later["committed_monthly_runs"], 5000);
    assert_eq!(later["pending"]["committed_monthly_runs"], 1000);
    assert_eq!(
        later["pending"]["from"],
        first_of_next.format("%Y-%m").to_string()
    );

    // An automation without a subscription has no commitment to change.
    let (s, p) = change_volume(
        &app,
        &owner,
        &app.create_automation("acme", &owner.token, "New"),
        10,
        true,
    );
    assert_eq!(s, StatusCode::NOT_FOUND, "{p}");
}

#[test]
fn finalizing_a_period_twice_gives_the_same_invoice_and_charges_the_card_once() {
    let app = stripe_app();
    let owner = app.owner_of("grace@example.com", "acme");
    let ops = app.ops_token("ops");
    let id = app.quoted("acme", &owner.token, "Invoices", 2500);
    app.signed_with(
        "acme",
        &owner.token,
        &id,
        json!({"type": "stripe", "payment_method_id": "pm_card_visa"}),
    );
    let sub = subscription(&app, &owner, &id);
    let charged = || app.localstripe().payment_intents("succeeded").len();
    assert_eq!(charged(), 1, "the setup fee");

    let body = json!({"period": this_period(), "tenant_id": owner.tenant_id});
    let (s, first) = finalize(&app, &ops, body.clone());
    assert_eq!(s, StatusCode::OK, "{first}");
    let invoices = first["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), 1, "{first}");
    let inv = &invoices[0];
    assert_eq!(
        (inv["status"].as_str(), inv["created"].as_bool()),
        (Some("paid"), Some(true)),
        "{inv}"
    );
    assert_eq!(inv["kind"], "period");
    // Zero usage: the monthly fee alone, to the cent.
    let lines = inv["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{inv}");
    assert_eq!(lines[0]["code"], "monthly_fee");
    assert_eq!(inv["total_cents"], sub["monthly_fee_cents"]);
    assert_eq!(charged(), 2);

    let (s, again) = finalize(&app, &ops, body);
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["invoices"][0]["id"], inv["id"]);
    assert_eq!(again["invoices"][0]["created"], false);
    let (s, all) = finalize(&app, &ops, json!({"period": this_period()}));
    assert_eq!(s, StatusCode::OK, "{all}");
    assert_eq!(all["invoices"].as_array().unwrap().len(), 1, "{all}");
    assert_eq!(charged(), 2, "no second charge");

    let (s, list) = app.get_as("acme", "/api/billing/invoices", &owner.token);
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let path = format!("/api/billing/invoices/{}", inv["id"].as_str().unwrap());
    let (s, one) = app.get_as("acme", &path, &owner.token);
    assert_eq!(
        (s, &one["total_cents"]),
        (StatusCode::OK, &inv["total_cents"])
    );
    let pdf = app
        .request(Method::GET, "acme", &format!("{path}/pdf"))
        .bearer_auth(&owner.token)
        .send()
        .expect("pdf");
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().unwrap().starts_with(b"%PDF"));

    // The document says which statuses an invoice has.
    let doc: Value = app.get("acme", "/api/openapi.json").json().unwrap();
    let statuses =
        &doc["components"]["schemas"]["BillingInvoiceView"]["properties"]["status"]["enum"];
    assert_eq!(
        statuses,
        &json!(["draft", "finalized", "paid", "failed"]),
        "{statuses}"
    );

    let (s, p) = finalize(&app, &ops, json!({"period": "2999-01"}));
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (s, p) = finalize(&app, &ops, json!({"period": "2026-13"}));
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
}

#[test]
fn a_declined_proration_changes_nothing_and_a_declined_invoice_is_failed() {
    let app = stripe_app();
    let owner = app.owner_of("grace@example.com", "acme");
    let admin = app.ops_token("ops_admin");
    // No setup fee, so a card that attaches but declines every charge can sign.
    let (s, o) = app.put_as(
        "ops",
        &override_path(&owner),
        &admin,
        json!({"setup_fee_cents": 0}),
    );
    assert_eq!(s, StatusCode::OK, "{o}");
    let id = app.quoted("acme", &owner.token, "Invoices", 2500);
    let signed = app.signed_with(
        "acme",
        &owner.token,
        &id,
        json!({"type": "stripe", "payment_method_id": "pm_card_chargeCustomerFail"}),
    );
    assert_eq!(signed["setup_fee_cents"], 0, "{signed}");
    let sub = subscription(&app, &owner, &id);

    let (s, p) = change_volume(&app, &owner, &id, 5000, false);
    assert_eq!(s, StatusCode::PAYMENT_REQUIRED, "{p}");
    assert_eq!(p["code"], "payment_failed");
    assert_eq!(subscription(&app, &owner, &id), sub);
    assert_eq!(app.current_quote(&owner, &id)["id"], signed["id"]);

    let (s, f) = finalize(
        &app,
        &admin,
        json!({"period": this_period(), "tenant_id": owner.tenant_id}),
    );
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(f["invoices"][0]["status"], "failed", "{f}");
    assert!(app.localstripe().payment_intents("succeeded").is_empty());
}
