//! A helper per endpoint on [`TestApp`], so a test reads as its story: `owner_of` signs up an
//! owner with a workspace, `ops_token` makes an ops user with the CLI, and the rest are the calls
//! every feature area repeats (automations and their versions, invitations, API keys, the audit
//! log, the ops outbox). Each helper asserts the status it needs and panics with the answer
//! otherwise; tests that check a refusal call [`TestApp::call`] directly.

use std::process::Command;
use std::time::Duration;

use crate::{Method, StatusCode, TestApp, Value, eventually, json};

/// The password of every account the helpers make.
pub const PASSWORD: &str = "correct horse battery staple";

/// An account that owns a workspace, as [`TestApp::owner_of`] made it.
#[derive(Debug, Clone)]
pub struct Owner {
    pub email: String,
    pub user_id: String,
    /// The workspace's host (its subdomain).
    pub slug: String,
    pub tenant_id: String,
    /// An account (apex) access token.
    pub account: String,
    /// A workspace access token.
    pub token: String,
}

/// A blueprint that validates and prices: an email trigger, two steps, `monthly_runs` a month.
pub fn blueprint(monthly_runs: u64) -> Value {
    json!({
        "trigger": {"kind": "email", "system": "Gmail"},
        "steps": [
            {"id": "read", "name": "Read the invoice", "system": "Gmail", "action": "fetch attachment"},
            {"id": "book", "name": "Book it", "system": "Xero", "action": "create bill"}
        ],
        "systems": [{"name": "Gmail"}, {"name": "Xero"}],
        "volume": {"monthly_runs": monthly_runs},
        "slas": {"max_latency_seconds": 600}
    })
}

/// The path of an automation's version 1.
pub fn version_path(automation: &str) -> String {
    format!("/api/automations/{automation}/versions/1")
}

impl TestApp {
    /// A server where a signup is verified at once and the auth rate limit is out of the way
    /// (these tests make many auth calls from one IP): what most API tests want.
    pub fn spawn_open() -> TestApp {
        TestApp::builder()
            .env("WRK_AUTH_RATE_LIMIT", "10000")
            .env("WRK_EMAIL_VERIFICATION", "false")
            .spawn()
    }

    pub fn get_as(&self, host: &str, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, host, path, Some(token), None)
    }

    pub fn post_as(&self, host: &str, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, host, path, Some(token), Some(body))
    }

    pub fn put_as(&self, host: &str, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, host, path, Some(token), Some(body))
    }

    pub fn patch_as(
        &self,
        host: &str,
        path: &str,
        token: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        self.call(Method::PATCH, host, path, Some(token), Some(body))
    }

    pub fn delete_as(&self, host: &str, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, host, path, Some(token), None)
    }

    /// A POST without credentials.
    pub fn post_anon(&self, host: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, host, path, None, Some(body))
    }

    /// Signs `email` up (password [`PASSWORD`]); returns the user id.
    pub fn signup(&self, email: &str, name: &str) -> String {
        let (s, b) = self.post_anon(
            "",
            "/api/auth/signup",
            json!({"email": email, "password": PASSWORD, "name": name}),
        );
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["user_id"].as_str().expect("user_id").to_owned()
    }

    /// Logs `email` in on `host` (`""` for the account); returns the whole token answer.
    pub fn login(&self, host: &str, email: &str) -> Value {
        let (s, b) = self.post_anon(
            host,
            "/api/auth/login",
            json!({"email": email, "password": PASSWORD}),
        );
        assert_eq!(s, StatusCode::OK, "{b}");
        b
    }

    /// The access token of a login of `email` on `host`.
    pub fn token(&self, host: &str, email: &str) -> String {
        access_token(&self.login(host, email))
    }

    /// Creates the workspace `slug` named `name` with an account token; returns its answer.
    pub fn create_workspace(&self, account: &str, slug: &str, name: &str) -> Value {
        let (s, b) = self.post_as(
            "",
            "/api/account/workspaces",
            account,
            json!({"name": name, "subdomain": slug}),
        );
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b
    }

    /// Signs up `email` (verification off) and creates the workspace `slug` named in capitals.
    pub fn owner_of(&self, email: &str, slug: &str) -> Owner {
        self.owner_named(email, slug, &slug.to_uppercase())
    }

    /// Signs up `email` (verification off) and creates the workspace `slug` named `name`.
    pub fn owner_named(&self, email: &str, slug: &str, name: &str) -> Owner {
        let user_id = self.signup(email, "Grace Hopper");
        let account = self.token("", email);
        let ws = self.create_workspace(&account, slug, name);
        Owner {
            email: email.to_owned(),
            user_id,
            slug: slug.to_owned(),
            tenant_id: ws["tenant_id"].as_str().expect("tenant_id").to_owned(),
            token: self.token(slug, email),
            account,
        }
    }

    /// Makes an ops user `email` with the CLI (`wrk ops create-user`); returns its password
    /// (`password`, or the one the CLI generated).
    pub fn create_ops_user(&self, email: &str, role: &str, password: Option<&str>) -> String {
        let mut cmd = Command::new(crate::wrk_bin());
        cmd.args(["ops", "create-user", "--email", email, "--role", role]);
        if let Some(p) = password {
            cmd.args(["--password", p]);
        }
        let out = cmd
            .env("WRK_DATA_DIR", self.data_dir())
            .output()
            .expect("wrk ops create-user");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if let Some(p) = password {
            return p.to_owned();
        }
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .lines()
            .find_map(|l| l.strip_prefix("password: "))
            .expect("a generated password")
            .trim()
            .to_owned()
    }

    /// Logs an ops user in on the ops host; returns the access token.
    pub fn ops_login(&self, email: &str, password: &str) -> String {
        let (s, b) = self.post_anon(
            "ops",
            "/api/ops/auth/login",
            json!({"email": email, "password": password}),
        );
        assert_eq!(s, StatusCode::OK, "{b}");
        access_token(&b)
    }

    /// A fresh ops user `{role}@wrk.example` (`ops` or `ops_admin`), logged in on the ops host.
    pub fn ops_token(&self, role: &str) -> String {
        let email = format!("{role}@wrk.example");
        let password = self.create_ops_user(&email, role, None);
        self.ops_login(&email, &password)
    }

    /// The id of the workspace a token is for (`/api/me`).
    pub fn tenant_id(&self, slug: &str, token: &str) -> String {
        let (s, me) = self.get_as(slug, "/api/me", token);
        assert_eq!(s, StatusCode::OK, "{me}");
        me["tenant"]["id"].as_str().expect("tenant id").to_owned()
    }

    /// An API key with `scopes`; returns the key itself.
    pub fn api_key(&self, slug: &str, token: &str, scopes: &[&str]) -> String {
        let (s, b) = self.post_as(
            slug,
            "/api/api-keys",
            token,
            json!({"name": format!("key {}", scopes.join("+")), "scopes": scopes}),
        );
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["key"].as_str().expect("key").to_owned()
    }

    /// Invites `email` as `role`; returns the invitation.
    pub fn invite(&self, slug: &str, token: &str, email: &str, role: &str) -> Value {
        let (s, b) = self.post_as(
            slug,
            "/api/invitations",
            token,
            json!({"email": email, "role": role}),
        );
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b
    }

    /// Accepts an invitation with an account token.
    pub fn accept_invitation(&self, account: &str, invitation_token: &str) -> Value {
        let (s, b) = self.post_as(
            "",
            "/api/account/invitations/accept",
            account,
            json!({"token": invitation_token}),
        );
        assert_eq!(s, StatusCode::OK, "{b}");
        b
    }

    /// Creates an automation named `name`; returns its id.
    pub fn create_automation(&self, slug: &str, token: &str, name: &str) -> String {
        self.create_automation_with(slug, token, json!({"name": name}))
    }

    /// Creates an automation from a whole body (`name`, `description`, …); returns its id.
    pub fn create_automation_with(&self, slug: &str, token: &str, body: Value) -> String {
        let (s, b) = self.post_as(slug, "/api/automations", token, body);
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["id"].as_str().expect("automation id").to_owned()
    }

    /// Saves `bp` on version 1 from its current revision; returns the version.
    pub fn save_blueprint(&self, slug: &str, token: &str, automation: &str, bp: Value) -> Value {
        let path = version_path(automation);
        let (s, v) = self.get_as(slug, &path, token);
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = self.put_as(
            slug,
            &format!("{path}/blueprint"),
            token,
            json!({"blueprint": bp, "revision": v["revision"]}),
        );
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    }

    /// Asks to move version 1 to `to`; the status and answer, whatever they are.
    pub fn transition(
        &self,
        slug: &str,
        token: &str,
        automation: &str,
        to: &str,
    ) -> (StatusCode, Value) {
        self.post_as(
            slug,
            &format!("{}/transitions", version_path(automation)),
            token,
            json!({"to": to}),
        )
    }

    /// The newest quote (highest revision) of automation `id` in `owner`'s workspace.
    pub fn current_quote(&self, owner: &Owner, id: &str) -> Value {
        let (s, page) = self.get_as(&owner.slug, "/api/quotes", &owner.token);
        assert_eq!(s, StatusCode::OK, "{page}");
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|q| q["automation_id"] == id)
            .max_by_key(|q| q["revision"].as_u64())
            .cloned()
            .expect("a quote")
    }

    /// An automation whose version 1 holds [`blueprint`]`(monthly_runs)`, was priced and waits
    /// for the client's approval; returns its id.
    pub fn quoted(&self, slug: &str, token: &str, name: &str, monthly_runs: u64) -> String {
        let id = self.create_automation(slug, token, name);
        self.save_blueprint(slug, token, &id, blueprint(monthly_runs));
        let (s, v) = self.transition(slug, token, &id, "needs_pricing");
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "awaiting_client_approval", "{v}");
        id
    }

    /// Accepts and signs (paying by invoice, the manual provider) the quote of an automation that
    /// [`TestApp::quoted`] made; returns the signed quote, whose `invoices` hold its setup-fee
    /// invoice.
    pub fn signed_by_invoice(&self, slug: &str, token: &str, automation: &str) -> Value {
        self.signed_with(slug, token, automation, json!({"type": "manual"}))
    }

    /// Accepts and signs the sent quote of `automation`, paying with `payment_method` (the
    /// sign body's, e.g. `{"type":"stripe","payment_method_id":"pm_card_visa"}`); returns the
    /// signed quote.
    pub fn signed_with(
        &self,
        slug: &str,
        token: &str,
        automation: &str,
        payment_method: Value,
    ) -> Value {
        let (s, page) = self.get_as(slug, "/api/quotes?status=sent", token);
        assert_eq!(s, StatusCode::OK, "{page}");
        let quote = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|q| q["automation_id"] == automation)
            .unwrap_or_else(|| panic!("no sent quote for {automation}: {page}"))["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let (s, q) = self.post_as(
            slug,
            &format!("/api/quotes/{quote}/accept"),
            token,
            json!({}),
        );
        assert_eq!(s, StatusCode::OK, "{q}");
        let (s, q) = self.post_as(
            slug,
            &format!("/api/quotes/{quote}/sign"),
            token,
            json!({"signer_name": "Grace Hopper", "signer_title": "CEO", "agree": true,
                   "payment_method": payment_method}),
        );
        assert_eq!(s, StatusCode::OK, "{q}");
        q
    }

    /// Uploads a requirements document (`multipart/form-data`, one field `file`) to version 1;
    /// the status and answer, whatever they are.
    pub fn upload_document(
        &self,
        slug: &str,
        token: &str,
        automation: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> (StatusCode, Value) {
        let (content_type, body) = multipart_file(file_name, bytes);
        let res = self
            .request(
                Method::POST,
                slug,
                &format!("{}/documents", version_path(automation)),
            )
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .expect("upload");
        let status = res.status();
        (status, res.json().unwrap_or(Value::Null))
    }

    /// Polls version 1's ingestion until it is `done` or `failed`; returns it.
    pub fn ingestion_settled(&self, slug: &str, token: &str, automation: &str) -> Value {
        let path = format!("{}/ingestion", version_path(automation));
        eventually(Duration::from_secs(60), "ingestion settles", || {
            let (s, b) = self.get_as(slug, &path, token);
            assert_eq!(s, StatusCode::OK, "{b}");
            matches!(b["status"].as_str(), Some("done" | "failed")).then_some(b)
        })
    }

    /// The workspace audit log's rows about one entity, newest first.
    pub fn audit_rows(
        &self,
        slug: &str,
        token: &str,
        entity_type: &str,
        entity_id: &str,
    ) -> Vec<Value> {
        let (s, log) = self.get_as(
            slug,
            &format!("/api/audit-logs?entity_type={entity_type}&entity_id={entity_id}&limit=200"),
            token,
        );
        assert_eq!(s, StatusCode::OK, "{log}");
        log["items"].as_array().expect("items").clone()
    }

    /// The sorted actions of the audit rows about one entity.
    pub fn audit_actions(
        &self,
        slug: &str,
        token: &str,
        entity_type: &str,
        entity_id: &str,
    ) -> Vec<String> {
        let mut actions: Vec<String> = self
            .audit_rows(slug, token, entity_type, entity_id)
            .iter()
            .map(|r| r["action"].as_str().expect("action").to_owned())
            .collect();
        actions.sort();
        actions
    }

    /// The emails to `to` in the ops outbox, newest first (their links masked, as ops see them).
    pub fn outbox_to(&self, ops: &str, to: &str) -> Vec<Value> {
        let (s, b) = self.get_as("ops", &format!("/api/ops/outbox?to={to}&limit=200"), ops);
        assert_eq!(s, StatusCode::OK, "{b}");
        b["items"].as_array().expect("items").clone()
    }

    /// How many emails of `kind` to `to` the ops outbox holds.
    pub fn outbox_count(&self, ops: &str, to: &str, kind: &str) -> usize {
        self.outbox_to(ops, to)
            .iter()
            .filter(|e| e["kind"] == kind)
            .count()
    }

    /// Whether every job of `kind` has ended (`done` or `failed`): nothing of that kind is
    /// queued or running, so nothing more can come of it until something enqueues another.
    pub fn jobs_settled(&self, ops: &str, kind: &str) -> bool {
        self.jobs_of_kind(ops, kind)
            .iter()
            .all(|j| j["status"] == "done" || j["status"] == "failed")
    }

    /// The ops job queue's jobs of `kind`, newest first.
    pub fn jobs_of_kind(&self, ops: &str, kind: &str) -> Vec<Value> {
        let (s, b) = self.get_as("ops", &format!("/api/ops/jobs?kind={kind}&limit=200"), ops);
        assert_eq!(s, StatusCode::OK, "{b}");
        b["items"].as_array().expect("items").clone()
    }
}

/// A `multipart/form-data` body of one field `file` holding `bytes` as `file_name`: its
/// content type and bytes.
pub fn multipart_file(file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "wrk-test-boundary-7d1f0c";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The `access_token` of a token answer.
pub fn access_token(answer: &Value) -> String {
    answer["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}
