//! The isolation sweep (issue 13, deliverable 4): every operation of the workspace host's OpenAPI
//! document, not a hand-written list, is called with workspace B's token and API key on A's host
//! and with A's token and B's ids on A's host; every ops operation that addresses a workspace
//! through `{tid}` is called with A's `{tid}` and B's ids. No answer may carry B's data (searched
//! in the raw body), and B's objects read the same afterwards.
//!
//! No route is missed: a path parameter, a required query parameter or a body content type the
//! sweep cannot fill fails the test and names the operation, so a new route needs a case here.

use std::collections::BTreeMap;

use wrk_tests::{Method, Owner, PASSWORD, StatusCode, TestApp, Value, json, multipart_file};

/// The path parameters of the workspace host the sweep fills; each must occur in its document,
/// so that a renamed parameter cannot turn a case into a silent no-op.
const PATH_PARAMS: [&str; 11] = [
    "automations/{id}",
    "versions/{n}",
    "documents/{doc_id}",
    "api-keys/{id}",
    "invitations/{id}",
    "members/{user_id}",
    "quotes/{id}",
    "tasks/{id}",
    "invoices/{id}",
    "credentials/{id}",
    "notifications/{id}",
];

/// One workspace's objects: an automation still in intake (editable, with a document), one that
/// was priced (a quote, a project, a task), an API key and an invitation.
struct Workspace {
    owner: Owner,
    name: String,
    intake: String,
    intake_name: String,
    quoted: String,
    quoted_name: String,
    document: String,
    document_name: String,
    requirements: String,
    api_key: String,
    api_key_name: String,
    api_key_prefix: String,
    /// The API key itself (an admin key): B's second credential.
    key: String,
    invitation: String,
    invitee: String,
    quote: String,
    project: String,
    task: String,
    /// The setup-fee invoice of a second automation's quote, signed by invoice.
    invoice: String,
    /// A credential (for the workspace's own system name).
    credential: String,
    credential_system: String,
    /// The owner's notification of a message ops wrote on the quoted automation.
    notification: String,
    message: String,
}

fn first_id(app: &TestApp, w: &Owner, path: &str) -> String {
    let (s, list) = app.get_as(&w.slug, path, &w.token);
    assert_eq!(s, StatusCode::OK, "{path}: {list}");
    list["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{path} lists nothing: {list}"))
        .to_owned()
}

fn workspace(app: &TestApp, word: &str) -> Workspace {
    let name = format!("{word} Holdings");
    let owner = app.owner_named(
        &format!("owner@{}.example", word.to_lowercase()),
        &word.to_lowercase(),
        &name,
    );
    let (slug, token) = (owner.slug.clone(), owner.token.clone());

    let intake_name = format!("{word} intake flow");
    let intake = app.create_automation(&slug, &token, &intake_name);
    let document_name = format!("{word}-requirements.txt");
    let requirements = format!("{word} books every invoice in Xero.");
    let (s, doc) = app.upload_document(
        &slug,
        &token,
        &intake,
        &document_name,
        requirements.as_bytes(),
    );
    assert_eq!(s, StatusCode::ACCEPTED, "{doc}");
    app.ingestion_settled(&slug, &token, &intake);
    let (s, v) = app.put_as(
        &slug,
        &format!("{}/requirements", wrk_tests::version_path(&intake)),
        &token,
        json!({"text": requirements}),
    );
    assert_eq!(s, StatusCode::OK, "{v}");
    app.save_blueprint(&slug, &token, &intake, wrk_tests::blueprint(100));

    let quoted_name = format!("{word} quoted flow");
    let quoted = app.quoted(&slug, &token, &quoted_name, 2500);
    let signed = app.quoted(&slug, &token, &format!("{word} signed flow"), 100);
    let signed = app.signed_by_invoice(&slug, &token, &signed);
    let invoice = signed["invoices"][0]["id"]
        .as_str()
        .expect("a setup-fee invoice")
        .to_owned();

    let api_key_name = format!("{word} robot");
    let (s, key) = app.post_as(
        &slug,
        "/api/api-keys",
        &token,
        json!({"name": api_key_name, "scopes": ["admin"]}),
    );
    assert_eq!(s, StatusCode::CREATED, "{key}");
    let invitee = format!("invitee@{}.example", word.to_lowercase());
    let invitation = app.invite(&slug, &token, &invitee, "member");
    let credential_system = format!("{word} Ledger");
    let (s, credential) = app.post_as(
        &slug,
        "/api/credentials",
        &token,
        json!({"system": credential_system, "kind": "api_key",
               "fields": {"api_key": format!("{word}-isolation-secret-0001")}}),
    );
    assert_eq!(s, StatusCode::CREATED, "{credential}");
    let ops_email = format!("ops-{}@wrk.example", word.to_lowercase());
    let ops_password = app.create_ops_user(&ops_email, "ops", None);
    let ops = app.ops_login(&ops_email, &ops_password);
    let message = format!("{word} asks about the Xero ledger");
    let (s, m) = app.post_as(
        "ops",
        &format!(
            "/api/ops/tenants/{}/automations/{quoted}/messages",
            owner.tenant_id
        ),
        &ops,
        json!({"body": message}),
    );
    assert_eq!(s, StatusCode::CREATED, "{m}");
    Workspace {
        credential: credential["id"].as_str().expect("credential id").to_owned(),
        credential_system,
        notification: first_id(app, &owner, "/api/notifications"),
        message,
        name,
        intake,
        intake_name,
        quoted,
        quoted_name,
        document: doc["document_id"].as_str().expect("document_id").to_owned(),
        document_name,
        requirements,
        api_key: key["id"].as_str().expect("key id").to_owned(),
        api_key_name,
        api_key_prefix: key["prefix"].as_str().expect("prefix").to_owned(),
        key: key["key"].as_str().expect("key").to_owned(),
        invitation: invitation["id"].as_str().expect("invitation id").to_owned(),
        invitee,
        quote: first_id(app, &owner, "/api/quotes?status=sent"),
        invoice,
        project: first_id(app, &owner, "/api/projects"),
        task: first_id(app, &owner, "/api/tasks"),
        owner,
    }
}

impl Workspace {
    /// Strings that only this workspace's answers contain.
    fn markers(&self) -> Vec<&str> {
        let o = &self.owner;
        vec![
            &o.email,
            &o.user_id,
            &o.slug,
            &o.tenant_id,
            &self.name,
            &self.intake,
            &self.intake_name,
            &self.quoted,
            &self.quoted_name,
            &self.document,
            &self.document_name,
            &self.requirements,
            &self.api_key,
            &self.api_key_name,
            &self.api_key_prefix,
            &self.invitation,
            &self.invitee,
            &self.quote,
            &self.project,
            &self.task,
            &self.invoice,
            &self.credential,
            &self.credential_system,
            &self.notification,
            &self.message,
        ]
    }

    /// The values a path parameter takes, keyed by `collection/{name}` (one of [`PATH_PARAMS`]);
    /// `None` when the sweep does not know the parameter (the test then fails, naming the
    /// operation).
    fn path_values(&self, key: &str) -> Option<Vec<String>> {
        Some(match key {
            "automations/{id}" => vec![self.intake.clone(), self.quoted.clone()],
            "versions/{n}" => vec!["1".to_owned()],
            "documents/{doc_id}" => vec![self.document.clone()],
            "api-keys/{id}" => vec![self.api_key.clone()],
            "invitations/{id}" => vec![self.invitation.clone()],
            "members/{user_id}" => vec![self.owner.user_id.clone()],
            "quotes/{id}" => vec![self.quote.clone()],
            "tasks/{id}" => vec![self.task.clone()],
            "notifications/{id}" => vec![self.notification.clone()],
            // The workspace's invoice (and its PDF) and the ops mark-paid.
            "credentials/{id}" => vec![self.credential.clone()],
            // Ops only (mark-paid); the workspace host has no invoice path of its own yet.
            "invoices/{id}" => vec![self.invoice.clone()],
            _ => return None,
        })
    }

    /// The value of a query parameter or a body field the sweep aims at this workspace.
    fn field(&self, name: &str) -> Option<String> {
        Some(match name {
            "automation_id" | "entity_id" => self.quoted.clone(),
            "entity_type" => "automation".to_owned(),
            "q" => self.quoted_name.clone(),
            "email" => self.owner.email.clone(),
            "password" => PASSWORD.to_owned(),
            "tenant_id" => self.owner.tenant_id.clone(),
            "subdomain" => self.owner.slug.clone(),
            "code" => "isolation-probe".to_owned(),
            _ => return None,
        })
    }

    /// What the owner reads of the workspace: it must not change while others probe it.
    fn snapshot(&self, app: &TestApp) -> BTreeMap<String, Value> {
        let mut paths: Vec<String> = [
            "/api/me",
            "/api/workspace",
            "/api/members",
            "/api/invitations",
            "/api/api-keys",
            "/api/automations",
            "/api/tasks",
            "/api/quotes",
            "/api/projects",
            "/api/audit-logs?limit=200",
            "/api/credentials",
            "/api/notifications",
            "/api/notifications/preferences",
        ]
        .map(str::to_owned)
        .to_vec();
        for a in [&self.intake, &self.quoted] {
            for tail in [
                "",
                "/versions",
                "/versions/1",
                "/versions/1/history",
                "/versions/1/documents",
                "/versions/1/ingestion",
                "/messages",
            ] {
                paths.push(format!("/api/automations/{a}{tail}"));
            }
        }
        paths
            .into_iter()
            .map(|p| {
                let (s, body) = app.get_as(&self.owner.slug, &p, &self.owner.token);
                assert!(matches!(s.as_u16(), 200 | 404), "{p}: {s} {body}");
                (p, json!({"status": s.as_u16(), "body": body}))
            })
            .collect()
    }
}

/// One operation of an OpenAPI document.
struct Operation<'d> {
    method: Method,
    path: &'d str,
    spec: &'d Value,
}

impl Operation<'_> {
    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    fn secured(&self) -> bool {
        self.spec["security"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    }

    /// The path parameters as `collection/{name}` (the segment before names what the id is of).
    fn path_keys(&self) -> Vec<String> {
        let segments: Vec<&str> = self.path.split('/').collect();
        segments
            .windows(2)
            .filter(|w| w[1].starts_with('{'))
            .map(|w| format!("{}/{}", w[0], w[1]))
            .collect()
    }
}

fn operations(doc: &Value) -> Vec<Operation<'_>> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, spec) in item.as_object().expect("path item") {
            let method = match method.as_str() {
                "get" => Method::GET,
                "post" => Method::POST,
                "put" => Method::PUT,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                "parameters" | "summary" | "description" => continue,
                other => panic!("{other} {path}: the sweep has no case for this method"),
            };
            ops.push(Operation { method, path, spec });
        }
    }
    ops
}

/// A schema with its `$ref` followed (and a nullable `oneOf` reduced to its non-null variant).
fn resolve<'d>(doc: &'d Value, schema: &'d Value) -> &'d Value {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().expect("ref name");
        return resolve(doc, &doc["components"]["schemas"][name]);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(variants) = schema[key].as_array()
            && let Some(v) = variants.iter().find(|v| v["type"] != "null")
        {
            return resolve(doc, v);
        }
    }
    schema
}

/// A minimal valid value of `schema`: required fields only, aimed at `ws` where a field names
/// one of its objects.
fn sample(doc: &Value, schema: &Value, field: Option<&str>, ws: &Workspace) -> Value {
    let schema = resolve(doc, schema);
    let ty = match &schema["type"] {
        Value::Array(types) => types
            .iter()
            .find(|t| *t != "null")
            .and_then(Value::as_str)
            .unwrap_or("null"),
        t => t.as_str().unwrap_or("object"),
    };
    if ty == "string"
        && let Some(v) = field.and_then(|f| ws.field(f))
    {
        return json!(v);
    }
    if !schema["example"].is_null() {
        return schema["example"].clone();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    match ty {
        "object" => {
            let mut out = serde_json::Map::new();
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().expect("required name");
                let prop = &schema["properties"][name];
                out.insert(name.to_owned(), sample(doc, prop, Some(name), ws));
            }
            Value::Object(out)
        }
        "array" if schema["items"].is_object() => json!([sample(doc, &schema["items"], None, ws)]),
        "array" => json!([]),
        "string" if schema["format"] == "date-time" => json!("2030-01-01T00:00:00Z"),
        "string" => json!("isolation probe"),
        "integer" | "number" => schema["minimum"].as_i64().map_or(json!(1), |m| json!(m)),
        "boolean" => json!(true),
        _ => Value::Null,
    }
}

/// A request the sweep sends, with the text it carries (a marker echoed from it is no leak).
struct Probe {
    method: Method,
    path: String,
    body: Option<(String, Vec<u8>)>,
    /// B's object ids in the path: such a request must be refused.
    foreign_path: bool,
}

impl Probe {
    /// The text the request carries: path, query values and body.
    fn sent(&self) -> String {
        let body = self
            .body
            .as_ref()
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        format!("{} {body}", self.path.replace("%20", " "))
    }

    fn send(&self, app: &TestApp, host: &str, token: &str) -> (StatusCode, String) {
        let mut req = app
            .request(self.method.clone(), host, &self.path)
            .bearer_auth(token);
        if let Some((content_type, body)) = &self.body {
            req = req.header("content-type", content_type).body(body.clone());
        }
        let mut res = req.send().expect("request");
        let status = res.status();
        let stream = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if stream {
            // An event stream never ends: what it sends first is what there is to check (a
            // fresh stream starts at the present, so it carries nothing yet).
            let mut first = vec![0u8; 4096];
            let n = std::io::Read::read(&mut res, &mut first).unwrap_or(0);
            first.truncate(n);
            return (status, String::from_utf8_lossy(&first).into_owned());
        }
        (status, res.text().unwrap_or_default())
    }
}

/// Every request for `op` with its path parameters filled from `ids` (and, on the ops host,
/// `{tid}` with `tid`), or why the sweep cannot build one.
fn probes(
    doc: &Value,
    op: &Operation,
    ids: &Workspace,
    tid: Option<&str>,
) -> Result<Vec<Probe>, String> {
    let mut paths = vec![(op.path.to_owned(), false)];
    for key in op.path_keys() {
        let param = key.split('/').nth(1).expect("param");
        let (values, foreign) = match (key.as_str(), tid) {
            ("tenants/{tid}", Some(tid)) => (vec![tid.to_owned()], false),
            _ => (
                ids.path_values(&key)
                    .ok_or_else(|| format!("{}: no value for path parameter {key}", op.name()))?,
                key != "versions/{n}",
            ),
        };
        paths = paths
            .into_iter()
            .flat_map(|(p, f)| {
                values
                    .iter()
                    .map(move |v| (p.replacen(param, v, 1), f || foreign))
            })
            .collect();
    }
    let mut query = Vec::new();
    for p in op.spec["parameters"].as_array().into_iter().flatten() {
        let name = p["name"].as_str().expect("parameter name");
        match (p["in"].as_str(), ids.field(name)) {
            (Some("query"), Some(v)) => query.push(format!("{name}={v}")),
            (Some("query"), None) if p["required"] == true => {
                return Err(format!(
                    "{}: no value for query parameter {name}",
                    op.name()
                ));
            }
            _ => {}
        }
    }
    let body = match op.spec["requestBody"]["content"].as_object() {
        None => None,
        Some(content) if content.contains_key("application/json") => {
            let schema = &content["application/json"]["schema"];
            let body = sample(doc, schema, None, ids);
            Some(("application/json".to_owned(), body.to_string().into_bytes()))
        }
        Some(content) if content.contains_key("multipart/form-data") => {
            Some(multipart_file("probe.txt", b"isolation probe"))
        }
        Some(content) => {
            return Err(format!(
                "{}: no body for content types {:?}",
                op.name(),
                content.keys().collect::<Vec<_>>()
            ));
        }
    };
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&").replace(' ', "%20"))
    };
    Ok(paths
        .into_iter()
        .map(|(path, foreign_path)| Probe {
            method: op.method.clone(),
            path: format!("{path}{query}"),
            body: body.clone(),
            foreign_path,
        })
        .collect())
}

/// The markers of `of` in `text` that the request itself did not carry.
fn leaked<'w>(of: &'w Workspace, probe: &Probe, text: &str) -> Vec<&'w str> {
    let sent = probe.sent();
    of.markers()
        .into_iter()
        .filter(|m| text.contains(m) && !sent.contains(m))
        .collect()
}

#[test]
fn no_route_of_a_workspace_or_ops_host_hands_one_workspace_the_data_of_another() {
    let app = TestApp::spawn_open();
    let a = workspace(&app, "Aardvark");
    let b = workspace(&app, "Zebra");
    let ops = app.ops_token("ops_admin");
    let b_before = b.snapshot(&app);
    let a_before = a.snapshot(&app);
    let host_a = a.owner.slug.as_str();

    let ws_doc: Value = app
        .get(host_a, "/api/openapi.json")
        .json()
        .expect("openapi");
    let mut failures = Vec::new();
    let mut counts = (0, 0);
    let mut seen = std::collections::BTreeSet::new();
    // (a) B's token on A's host, with A's ids and with B's: refused, neither A's nor B's data.
    for op in operations(&ws_doc) {
        counts.0 += 1;
        seen.extend(op.path_keys());
        // An operation without credentials ignores them: only B's ids are worth sending.
        let (id_sets, credentials): (&[&Workspace], &[(&str, &str)]) = if op.secured() {
            (
                &[&a, &b],
                &[("B's token", &b.owner.token), ("B's API key", &b.key)],
            )
        } else {
            (&[&b], &[("B's token", &b.owner.token)])
        };
        for &ids in id_sets {
            let probes = match probes(&ws_doc, &op, ids, None) {
                Ok(p) => p,
                Err(e) => {
                    failures.push(e);
                    break;
                }
            };
            for (probe, &(who, credential)) in probes
                .iter()
                .flat_map(|p| credentials.iter().map(move |c| (p, c)))
            {
                counts.1 += 1;
                let (status, text) = probe.send(&app, host_a, credential);
                let what = format!("{who} on A's host: {} {}", probe.method, probe.path);
                if op.secured() && !matches!(status.as_u16(), 401 | 403 | 404) {
                    failures.push(format!("{what}: {status} {text}"));
                }
                for of in [&a, &b] {
                    let found = leaked(of, probe, &text);
                    if !found.is_empty() {
                        failures.push(format!("{what}: {status} carries {found:?}: {text}"));
                    }
                }
            }
        }
    }
    if a.snapshot(&app) != a_before {
        failures.push("B's token on A's host changed what A's owner reads".to_owned());
    }
    // (b) A's token on A's host with B's ids: never B's data, never a B object.
    for op in operations(&ws_doc) {
        let Ok(probes) = probes(&ws_doc, &op, &b, None) else {
            continue; // reported above
        };
        for probe in probes {
            counts.1 += 1;
            let (status, text) = probe.send(&app, host_a, &a.owner.token);
            let what = format!("A's token with B's ids: {} {}", probe.method, probe.path);
            if probe.foreign_path && status.is_success() {
                failures.push(format!("{what}: {status} {text}"));
            }
            let found = leaked(&b, &probe, &text);
            if !found.is_empty() {
                failures.push(format!("{what}: {status} carries {found:?}: {text}"));
            }
        }
    }

    // The ops host: a route that addresses a workspace by `{tid}`, with A's `{tid}` and B's ids.
    let ops_doc: Value = app.get("ops", "/api/openapi.json").json().expect("openapi");
    let mut ops_counts = (0, 0, 0);
    for op in operations(&ops_doc) {
        ops_counts.0 += 1;
        if !op.path.contains("{tid}") {
            continue; // cross-workspace by design: an ops token sees every workspace
        }
        ops_counts.1 += 1;
        let probes = match probes(&ops_doc, &op, &b, Some(&a.owner.tenant_id)) {
            Ok(p) => p,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        for probe in probes {
            ops_counts.2 += 1;
            let (status, text) = probe.send(&app, "ops", &ops);
            let what = format!(
                "ops with A's tid and B's ids: {} {}",
                probe.method, probe.path
            );
            if probe.foreign_path && status.is_success() {
                failures.push(format!("{what}: {status} {text}"));
            }
            let found = leaked(&b, &probe, &text);
            if !found.is_empty() {
                failures.push(format!("{what}: {status} carries {found:?}: {text}"));
            }
        }
    }
    for key in PATH_PARAMS {
        if !seen.contains(key) {
            failures.push(format!(
                "no operation of the workspace host has {key} any more"
            ));
        }
    }
    eprintln!(
        "isolation sweep: workspace host {} operations ({} requests); ops host {} operations, \
         {} with {{tid}} ({} requests)",
        counts.0, counts.1, ops_counts.0, ops_counts.1, ops_counts.2
    );
    if b.snapshot(&app) != b_before {
        failures.push("the sweep changed what B's owner reads".to_owned());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
