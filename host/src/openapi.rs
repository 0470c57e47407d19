//! The conventions every published OpenAPI document follows, applied in one pass over the
//! document generated from the `#[utoipa::path]` annotations, so a new route gets them without
//! repeating them:
//! - security schemes (`bearer`: a JWT or a `wrk_` API key; `session`: the browser's session
//!   cookie) on every operation that is not in [`PUBLIC`];
//! - every error response is `application/problem+json` with the `Problem` schema;
//! - the errors the shared machinery can produce are documented where they can happen: 401/403 on
//!   authenticated operations, 404 and 400 where there are path parameters, 400/413/415/422 where
//!   there is a JSON body, 422 where there are query parameters, 429 on the rate-limited auth
//!   routes, 431 everywhere.
//!
//! Route-specific errors (409 `conflict`, 410, 422 `guard_failed`...) stay in the annotations.

use serde_json::{Map, Value, json};

/// Operations that need no credentials (by path prefix).
const PUBLIC: &[&str] = &[
    "/api/auth/",
    "/api/ops/auth/login",
    "/api/ops/auth/refresh",
    "/api/ops/auth/logout",
    "/auth/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/openapi.json",
    "/api/schemas/",
    // Authenticated by its WRK-Signature, not by a session.
    "/webhooks/",
];

/// Operations whose JSON body may be left out.
const OPTIONAL_BODY: &[&str] = &[
    "/api/auth/logout",
    "/api/ops/auth/logout",
    "/api/ops/plugins/{id}/shadow-run",
];

/// Operations under the per-IP auth rate limit (`WRK_AUTH_RATE_LIMIT`).
const RATE_LIMITED: &[&str] = &["/api/auth/", "/api/ops/auth/"];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];

fn is_public(path: &str) -> bool {
    PUBLIC.iter().any(|p| path.starts_with(p))
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

fn names<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<String> {
    all.iter().map(|v| name(*v).to_owned()).collect()
}

/// The closed vocabularies of the API, from the types that parse them, and where they appear:
/// `(component schema, property)` or `(operation path, query parameter)`.
type Vocabulary = (Vec<String>, Vec<(&'static str, &'static str)>);

fn vocabularies() -> Vec<Vocabulary> {
    use wrk_core::health::{Health, Signal};
    use wrk_core::machine::VersionStatus;
    use wrk_core::quote::Recurrence;
    use wrk_core::roles::{ClientRole, OpsRole, Scope};
    use wrk_core::tasks::{Assignee, TaskKind};
    use wrk_core::validation::Severity;
    let version = names(VersionStatus::ALL, VersionStatus::as_str);
    let task = vec!["todo".into(), "in_progress".into(), "done".into()];
    let role = names(ClientRole::ALL, ClientRole::as_str);
    let invoice = names(
        wrk_core::invoice::InvoiceStatus::ALL,
        wrk_core::invoice::InvoiceStatus::as_str,
    );
    let line = names(
        wrk_core::billing::LineKind::ALL,
        wrk_core::billing::LineKind::as_str,
    );
    vec![
        (
            invoice,
            vec![("BillingInvoiceView", "status"), ("InvoiceView", "status")],
        ),
        (
            vec!["active".into(), "ended".into()],
            vec![("SubscriptionView", "status")],
        ),
        (
            vec!["now".into(), "next_period".into()],
            vec![("CommittedVolumeView", "applies")],
        ),
        (
            vec!["setup_fee".into(), "proration".into(), "period".into()],
            vec![("BillingInvoiceView", "kind"), ("InvoiceView", "kind")],
        ),
        (
            line.into_iter()
                .chain(std::iter::once("setup_fee".to_owned()))
                .collect(),
            vec![("InvoiceLineView", "code")],
        ),
        (
            version,
            vec![
                ("AutomationView", "status"),
                ("VersionView", "status"),
                ("TransitionBody", "to"),
                ("/api/automations", "status"),
                ("/api/ops/automations", "status"),
            ],
        ),
        (
            task,
            vec![
                ("TaskUpdate", "status"),
                ("TaskView", "status"),
                ("/api/tasks", "status"),
                ("/api/ops/tenants/{tid}/tasks", "status"),
            ],
        ),
        (
            crate::services::QUOTE_STATUSES
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            vec![
                ("QuoteView", "status"),
                ("/api/quotes", "status"),
                ("/api/ops/tenants/{tid}/quotes", "status"),
            ],
        ),
        (
            role,
            vec![
                ("AcceptedInvitation", "role"),
                ("CreatedWorkspace", "role"),
                ("SwitchResponse", "role"),
                ("WorkspaceView", "role"),
                ("MeView", "role"),
                ("MemberView", "role"),
                ("InvitationView", "role"),
                ("InviteRequest", "role"),
                ("RoleRequest", "role"),
            ],
        ),
        (
            names(Scope::ALL, Scope::as_str),
            vec![
                ("ApiKeyBrief", "scopes[]"),
                ("ApiKeyView", "scopes[]"),
                ("CreateApiKeyRequest", "scopes[]"),
                ("CreatedApiKey", "scopes[]"),
            ],
        ),
        (
            names(OpsRole::ALL, OpsRole::as_str),
            vec![("OpsUserView", "role")],
        ),
        (
            ["queued", "held", "sent", "failed"]
                .map(str::to_owned)
                .to_vec(),
            vec![("EmailView", "status"), ("/api/ops/outbox", "status")],
        ),
        (
            ["queued", "running", "done", "failed"]
                .map(str::to_owned)
                .to_vec(),
            vec![("JobView", "status"), ("/api/ops/jobs", "status")],
        ),
        (
            ["pricing", "validation", "ingestion"]
                .map(str::to_owned)
                .to_vec(),
            vec![
                ("RollbackBody", "kind"),
                ("PinBody", "kind"),
                ("PluginView", "kind"),
                ("ActivationView", "kind"),
                ("Installed", "kind"),
            ],
        ),
        (
            ["json", "csv"].map(str::to_owned).to_vec(),
            vec![("/api/audit-logs", "format")],
        ),
        (
            ["local", "sso"].map(str::to_owned).to_vec(),
            vec![("AccountView", "auth")],
        ),
        (
            ["pending", "accepted", "revoked", "expired"]
                .map(str::to_owned)
                .to_vec(),
            vec![("InvitationView", "status")],
        ),
        (
            names(Assignee::ALL, Assignee::as_str),
            vec![("TaskView", "assignee")],
        ),
        (
            names(TaskKind::ALL, TaskKind::as_str),
            vec![("TaskView", "kind")],
        ),
        (
            names(Severity::ALL, Severity::as_str),
            vec![("IssueView", "severity")],
        ),
        (
            names(Recurrence::ALL, Recurrence::as_str),
            vec![("LineItemView", "recurrence")],
        ),
        (
            names(Health::ALL, Health::as_str),
            vec![
                ("HealthBody", "status"),
                ("ClientView", "health"),
                ("ClientDetail", "health"),
                ("HealthEntryView", "status"),
                ("ReasonView", "status"),
                ("SuggestionView", "status"),
            ],
        ),
        (
            [
                "intake", "quotes", "qa", "deploys", "blocked", "overdue", "emails", "threads",
                "plugins", "events",
            ]
            .map(str::to_owned)
            .to_vec(),
            vec![("QueueView", "key")],
        ),
        (
            names(Signal::ALL, Signal::as_str),
            vec![("ReasonView", "signal"), ("NoDataView", "signal")],
        ),
    ]
}

/// Text that is not blank and holds no NUL (what every name field takes, trimmed).
const NOT_BLANK: &str = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$";
/// Text without NUL (the JSON extractor refuses NUL anywhere).
const NO_NUL: &str = "^[^\\u0000]*$";
/// No control character (what `char::is_control` refuses) and not blank: workspace names.
const NO_CONTROL_NOT_BLANK: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";
/// No control character, may be empty: optional one-line fields.
const NO_CONTROL: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";
/// No control character but line breaks and tabs: notes.
const MULTILINE: &str = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$";
/// As [`MULTILINE`], and not blank.
const MULTILINE_NOT_BLANK: &str = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$";
/// What the server takes as an email address (see `services::identity::normalize_email`).
const EMAIL: &str =
    "^\\s*[^@\\s\\u0000-\\u001f\\u007f-\\u009f]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+\\s*$";

use crate::routes::ops_quotes::{MAX_LINE_QUANTITY, MAX_LINE_UNIT_CENTS, MAX_QUOTE_LINES};

/// Constraints of request fields: `(schema, property, constraint keywords)`.
fn constraints() -> Vec<(&'static str, &'static str, Value)> {
    let password = json!({"minLength": crate::auth::password::MIN_LEN, "maxLength": crate::auth::password::MAX_LEN, "pattern": NO_NUL});
    // The pattern is the server's rule exactly (surrounding spaces are trimmed); `format: email`
    // would be stricter than the server in some places and looser in others.
    let email = json!({"maxLength": 254, "pattern": EMAIL, "description": "An email address"});
    let name = json!({"minLength": 1, "maxLength": 200, "pattern": NOT_BLANK});
    let client_name = json!({"minLength": 1, "maxLength": 200, "pattern": NO_CONTROL_NOT_BLANK});
    // A blank contact email means none (the server trims it away).
    let contact_email = json!({"maxLength": 254, "pattern": format!("^\\s*$|{EMAIL}")});
    let contacts = json!({"maxItems": crate::routes::ops_clients::MAX_CONTACTS});
    let manager = json!({"maxLength": 200, "pattern": NO_CONTROL});
    let notes =
        json!({"maxLength": crate::routes::ops_clients::MAX_NOTES_CHARS, "pattern": MULTILINE});
    let mut slug_not = wrk_core::slug::RESERVED_SLUGS.to_vec();
    slug_not.sort_unstable();
    vec![
        ("SignupRequest", "email", email.clone()),
        ("SignupRequest", "password", password.clone()),
        ("SignupRequest", "name", name.clone()),
        ("ResetConfirmRequest", "new_password", password),
        (
            "RefreshRequest",
            "refresh_token",
            json!({"pattern": NO_NUL}),
        ),
        ("InviteRequest", "email", email),
        ("CreateWorkspaceRequest", "name", name.clone()),
        (
            "CreateWorkspaceRequest",
            "subdomain",
            json!({"minLength": 3, "maxLength": 63, "pattern": "^[a-z0-9][a-z0-9-]*[a-z0-9]$", "not": {"enum": slug_not}}),
        ),
        ("CreateAutomation", "name", name.clone()),
        ("UpdateAutomation", "name", name.clone()),
        ("CreateApiKeyRequest", "name", name),
        (
            "RenameWorkspace",
            "name",
            json!({"minLength": 1, "maxLength": 200, "pattern": NO_CONTROL_NOT_BLANK}),
        ),
        ("CreateClient", "name", client_name.clone()),
        ("UpdateClient", "name", client_name.clone()),
        ("ContactBody", "name", client_name),
        ("ContactBody", "email", contact_email),
        (
            "ContactBody",
            "phone",
            json!({"maxLength": 50, "pattern": NO_CONTROL}),
        ),
        (
            "ContactBody",
            "role",
            json!({"maxLength": 100, "pattern": NO_CONTROL}),
        ),
        ("CreateClient", "contacts", contacts.clone()),
        ("UpdateClient", "contacts", contacts),
        ("CreateClient", "account_manager", manager.clone()),
        ("UpdateClient", "account_manager", manager),
        ("CreateClient", "notes", notes.clone()),
        ("UpdateClient", "notes", notes),
        (
            "HealthBody",
            "note",
            json!({"minLength": 1, "maxLength": crate::routes::ops_clients::MAX_HEALTH_NOTE_CHARS, "pattern": MULTILINE_NOT_BLANK}),
        ),
        ("LinkWorkspace", "tenant_id", json!({"format": "uuid"})),
        (
            "RejectBody",
            "reason",
            json!({"minLength": 1, "maxLength": 2000, "pattern": NOT_BLANK}),
        ),
        (
            "SignBody",
            "signer_name",
            json!({"minLength": 1, "maxLength": 200, "pattern": NO_CONTROL_NOT_BLANK}),
        ),
        (
            "SignBody",
            "signer_title",
            json!({"minLength": 1, "maxLength": 200, "pattern": NO_CONTROL_NOT_BLANK}),
        ),
        ("SignBody", "agree", json!({"enum": [true]})),
        (
            "SignBody",
            "payment_method",
            json!({"oneOf": [
                {"type": "object", "required": ["type"], "additionalProperties": false,
                 "properties": {"type": {"enum": ["manual"]}}},
                {"type": "object", "required": ["type", "payment_method_id"], "additionalProperties": false,
                 "properties": {"type": {"enum": ["stripe"]},
                                "payment_method_id": {"type": "string", "maxLength": 255, "pattern": "^pm_[A-Za-z0-9_]+$"}}}
            ]}),
        ),
        (
            "QuotePatch",
            "line_items",
            json!({"maxItems": MAX_QUOTE_LINES}),
        ),
        (
            "QuotePatch",
            "setup_fee_cents",
            json!({"minimum": 0, "maximum": MAX_LINE_UNIT_CENTS}),
        ),
        (
            "QuotePatch",
            "discount_percent",
            json!({"minimum": 0, "maximum": 100}),
        ),
        (
            "QuotePatch",
            "note",
            json!({"maxLength": 2000, "pattern": NO_NUL}),
        ),
        (
            "RevisedLineBody",
            "code",
            json!({"minLength": 1, "maxLength": 200, "pattern": NOT_BLANK}),
        ),
        (
            "RevisedLineBody",
            "description",
            json!({"minLength": 1, "maxLength": 200, "pattern": NOT_BLANK}),
        ),
        (
            "RevisedLineBody",
            "quantity",
            json!({"minimum": 0, "maximum": MAX_LINE_QUANTITY}),
        ),
        (
            "RevisedLineBody",
            "unit_cents",
            json!({"minimum": 0, "maximum": MAX_LINE_UNIT_CENTS}),
        ),
        (
            "RevisedLineBody",
            "amount_cents",
            json!({"minimum": 0, "maximum": MAX_LINE_QUANTITY * MAX_LINE_UNIT_CENTS}),
        ),
        (
            "RevisedLineBody",
            "recurrence",
            json!({"enum": ["one_time", "monthly"]}),
        ),
        (
            "MarkPaidBody",
            "reference",
            json!({"maxLength": 200, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"}),
        ),
        (
            "AlertSettingsBody",
            "volume_thresholds_percent",
            json!({"maxItems": wrk_core::usage::MAX_VOLUME_THRESHOLDS,
                   "items": {"type": "integer",
                             "minimum": wrk_core::usage::MIN_VOLUME_THRESHOLD,
                             "maximum": wrk_core::usage::MAX_VOLUME_THRESHOLD}}),
        ),
        ("CreateBody", "fields", credential_fields()),
        ("RotateBody", "fields", credential_fields()),
        (
            "BlueprintBody",
            "blueprint",
            json!({"propertyNames": {"pattern": NO_NUL}, "additionalProperties": {"$ref": "#/components/schemas/JsonWithoutNul"}}),
        ),
    ]
}

/// A credential's fields as `wrk_core::credentials::CredentialFields::parse` takes them: at most
/// 20, names of `a-z 0-9 _`, values of at most 8 KiB without NUL. The value bound is given in
/// characters of at most 4 bytes each, so a value within it is never refused for its size.
fn credential_fields() -> Value {
    use wrk_core::credentials::{MAX_FIELD_NAME, MAX_FIELD_VALUE, MAX_FIELDS};
    json!({
        "maxProperties": MAX_FIELDS,
        "propertyNames": {"pattern": format!("^[a-z0-9_]{{1,{MAX_FIELD_NAME}}}$")},
        "additionalProperties": {"type": "string", "maxLength": MAX_FIELD_VALUE / 4, "pattern": NO_NUL}
    })
}

/// Any JSON value whose strings (keys included) hold no NUL: what the JSON extractor takes.
fn json_without_nul() -> Value {
    let this = json!({"$ref": "#/components/schemas/JsonWithoutNul"});
    json!({
        "description": "Any JSON value; no string in it (keys included) may contain a NUL character",
        "anyOf": [
            {"type": ["null", "boolean", "number"]},
            {"type": "string", "pattern": NO_NUL},
            {"type": "array", "items": this},
            {"type": "object", "propertyNames": {"pattern": NO_NUL}, "additionalProperties": this}
        ]
    })
}

fn apply_vocabularies(doc: &mut Value) {
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.insert("JsonWithoutNul".into(), json_without_nul());
    }
    for (values, places) in vocabularies() {
        for (at, field) in places {
            if at.starts_with('/') {
                let Some(item) = doc.pointer_mut(&format!("/paths/{}", pointer_escape(at))) else {
                    continue;
                };
                for method in METHODS {
                    let Some(params) = item
                        .get_mut(*method)
                        .and_then(|op| op.get_mut("parameters"))
                        .and_then(Value::as_array_mut)
                    else {
                        continue;
                    };
                    for p in params.iter_mut() {
                        if p["name"] == field && p["in"] == "query" {
                            // An empty filter (`?status=`) means no filter.
                            let mut values = values.clone();
                            values.push(String::new());
                            p["schema"] = json!({"type": "string", "enum": values});
                        }
                    }
                }
            } else {
                let (field, items) = match field.strip_suffix("[]") {
                    Some(f) => (f, true),
                    None => (field, false),
                };
                let Some(prop) =
                    doc.pointer_mut(&format!("/components/schemas/{at}/properties/{field}"))
                else {
                    continue;
                };
                let target = if items { &mut prop["items"] } else { prop };
                let Some(obj) = target.as_object_mut() else {
                    continue;
                };
                let nullable = obj["type"]
                    .as_array()
                    .is_some_and(|t| t.contains(&json!("null")));
                let mut values: Vec<Value> = values.iter().map(|v| json!(v)).collect();
                if nullable {
                    values.push(Value::Null);
                }
                obj.insert("enum".into(), Value::Array(values));
            }
        }
    }
    for (schema, field, keywords) in constraints() {
        let Some(prop) = doc
            .pointer_mut(&format!("/components/schemas/{schema}/properties/{field}"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if let Some(k) = keywords.as_object() {
            for (key, value) in k {
                prop.insert(key.clone(), value.clone());
            }
        }
    }
}

fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Applies the conventions to a serialized OpenAPI document.
pub fn finish(doc: &mut Value) {
    apply_vocabularies(doc);
    let components = doc
        .as_object_mut()
        .expect("an OpenAPI document is an object")
        .entry("components")
        .or_insert_with(|| json!({}));
    let components = components.as_object_mut().expect("components is an object");
    components.insert(
        "securitySchemes".into(),
        json!({
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "An access token from a login (a JWT), or a `wrk_` API key"
            },
            "session": {
                "type": "apiKey",
                "in": "cookie",
                "name": crate::auth::session::SESSION_COOKIE,
                "description": "The browser session; unsafe methods also need the `X-CSRF-Token` header (the `wrk_csrf` cookie's value)"
            }
        }),
    );
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            if let Some(op) = item.get_mut(*method).and_then(Value::as_object_mut) {
                finish_operation(path, op);
            }
        }
    }
}

fn finish_operation(path: &str, op: &mut Map<String, Value>) {
    let params = op
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let has_in = |place: &str| params.iter().any(|p| p["in"] == place);
    let has_path = has_in("path");
    let has_query = has_in("query");
    let json_body = op
        .get("requestBody")
        .and_then(|b| b.get("content"))
        .and_then(Value::as_object)
        .is_some_and(|c| c.keys().any(|k| k.contains("json")));
    let other_body = op.contains_key("requestBody") && !json_body;
    let public = is_public(path);
    // The query extractor refuses NUL anywhere; free-text query parameters say so.
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params.iter_mut().filter(|p| p["in"] == "query") {
            if let Some(schema) = p.get_mut("schema").and_then(Value::as_object_mut) {
                let free_text = schema.get("type").is_some_and(|t| {
                    t == "string" || t.as_array().is_some_and(|a| a.contains(&json!("string")))
                }) && !["enum", "pattern", "format"]
                    .iter()
                    .any(|k| schema.contains_key(*k));
                if free_text {
                    schema.insert("pattern".into(), json!(NO_NUL));
                }
            }
        }
    }
    if OPTIONAL_BODY.contains(&path)
        && let Some(body) = op.get_mut("requestBody").and_then(Value::as_object_mut)
    {
        body.insert("required".into(), Value::Bool(false));
    }

    if !public {
        op.insert("security".into(), json!([{"bearer": []}, {"session": []}]));
    }
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("responses is an object");
    let mut add = |code: &str, description: &str| {
        responses
            .entry(code.to_owned())
            .or_insert_with(|| problem_response(description));
    };
    if !public {
        add("401", "No valid credentials (`unauthenticated`)");
        add(
            "403",
            "The credentials do not allow this (`forbidden`, wrong role, scope or workspace)",
        );
    }
    if has_path {
        add("400", "A path parameter could not be decoded");
        add("404", "Not found (`not_found`)");
    }
    if json_body {
        add("400", "The body is not valid JSON (`bad_request`)");
        add("413", "The body is too large (`payload_too_large`)");
        add(
            "415",
            "The body is not `application/json` (`unsupported_media_type`)",
        );
        add(
            "422",
            "The body is valid JSON of the wrong shape, or a value is refused (`validation_failed`)",
        );
    }
    if other_body {
        add("400", "The body could not be read (`bad_request`)");
        add("413", "The body is too large (`payload_too_large`)");
        add(
            "415",
            "The body has the wrong content type (`unsupported_media_type`)",
        );
    }
    if has_query {
        add(
            "422",
            "A query parameter is missing, repeated or refused (`validation_failed`)",
        );
    }
    if RATE_LIMITED.iter().any(|p| path.starts_with(p)) {
        add(
            "429",
            "Too many requests from this address (`rate_limited`)",
        );
    }
    add(
        "431",
        "The request headers are too large (`headers_too_large`)",
    );
    // Every error is a problem document, whatever the annotation said.
    for (code, response) in responses.iter_mut() {
        let is_error = code.starts_with('4') || code.starts_with('5');
        let Some(response) = response.as_object_mut() else {
            continue;
        };
        if is_error {
            response.insert(
                "content".into(),
                json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}),
            );
        }
    }
}
