//! The built-in validation rules (ABI v1): checks a blueprint's shape and the business rules
//! (a trigger, at least one step, every referenced system declared, volume present, credentials
//! per system) and derives the build checklist. Works on raw JSON so that a malformed blueprint
//! yields issues with JSON-pointer paths instead of a parse failure.

use serde_json::Value;
use wrk_plugin_sdk::Error;
use wrk_plugin_sdk::validation::{
    Assignee, ChecklistItem, Issue, Severity, Task, ValidationInput, ValidationOutput,
};

struct Out {
    issues: Vec<Issue>,
}

impl Out {
    fn push(
        &mut self,
        code: &str,
        severity: Severity,
        message: String,
        path: &str,
        task: Option<(String, Assignee)>,
    ) {
        self.issues.push(Issue {
            code: code.to_string(),
            severity,
            message,
            path: Some(path.to_string()),
            task: task.map(|(title, assignee)| Task { title, assignee }),
        });
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

fn validate(input: ValidationInput) -> Result<ValidationOutput, Error> {
    let bp = &input.version.blueprint;
    let mut out = Out { issues: Vec::new() };
    let mut checklist = Vec::new();
    if !bp.is_object() {
        out.push(
            "blueprint_not_object",
            Severity::Error,
            "The blueprint must be a JSON object.".into(),
            "",
            None,
        );
        return Ok(ValidationOutput {
            issues: out.issues,
            checklist,
        });
    }

    // Systems.
    let mut declared: Vec<String> = Vec::new();
    match bp.get("systems") {
        Some(Value::Array(systems)) => {
            for (i, s) in systems.iter().enumerate() {
                match text(s, "name") {
                    Some(name) if declared.iter().any(|d| d.eq_ignore_ascii_case(name)) => out
                        .push(
                            "duplicate_system",
                            Severity::Warning,
                            format!("System {name:?} is declared twice."),
                            &format!("/systems/{i}/name"),
                            None,
                        ),
                    Some(name) => declared.push(name.to_string()),
                    None => out.push(
                        "system_incomplete",
                        Severity::Error,
                        format!("System #{} has no name.", i + 1),
                        &format!("/systems/{i}/name"),
                        None,
                    ),
                }
            }
        }
        Some(_) => out.push(
            "systems_not_array",
            Severity::Error,
            "`systems` must be a list of {name}.".into(),
            "/systems",
            None,
        ),
        None => out.push(
            "missing_systems",
            Severity::Error,
            "The blueprint declares no systems.".into(),
            "/systems",
            Some((
                "List the systems the automation works with".into(),
                Assignee::Client,
            )),
        ),
    }
    let mut used: Vec<String> = Vec::new();
    let mut reference = |out: &mut Out, system: &str, path: &str| {
        if !used.iter().any(|u| u.eq_ignore_ascii_case(system)) {
            used.push(system.to_string());
        }
        if !declared.iter().any(|d| d.eq_ignore_ascii_case(system)) {
            out.push(
                "undeclared_system",
                Severity::Error,
                format!("System {system:?} is used but not declared in `systems`."),
                path,
                Some((
                    format!("Declare system {system} in the blueprint"),
                    Assignee::Ops,
                )),
            );
        }
    };

    // Trigger.
    match bp.get("trigger") {
        Some(t) if t.is_object() => {
            if text(t, "kind").is_none() {
                out.push(
                    "trigger_incomplete",
                    Severity::Error,
                    "The trigger has no kind.".into(),
                    "/trigger/kind",
                    None,
                );
            }
            match text(t, "system") {
                Some(system) => reference(&mut out, system, "/trigger/system"),
                None => out.push(
                    "trigger_incomplete",
                    Severity::Error,
                    "The trigger names no system.".into(),
                    "/trigger/system",
                    None,
                ),
            }
        }
        Some(_) => out.push(
            "trigger_not_object",
            Severity::Error,
            "`trigger` must be an object {kind, system}.".into(),
            "/trigger",
            None,
        ),
        None => out.push(
            "missing_trigger",
            Severity::Error,
            "The blueprint has no trigger: nothing would start it.".into(),
            "/trigger",
            Some((
                "Describe what starts the automation".into(),
                Assignee::Client,
            )),
        ),
    }

    // Steps.
    let mut step_ids: Vec<String> = Vec::new();
    let mut human_steps = 0;
    match bp.get("steps") {
        Some(Value::Array(steps)) if !steps.is_empty() => {
            for (i, s) in steps.iter().enumerate() {
                for field in ["id", "name", "system", "action"] {
                    if text(s, field).is_none() {
                        out.push(
                            "step_incomplete",
                            Severity::Error,
                            format!("Step #{} has no {field}.", i + 1),
                            &format!("/steps/{i}/{field}"),
                            None,
                        );
                    }
                }
                if let Some(id) = text(s, "id") {
                    if step_ids.iter().any(|x| x == id) {
                        out.push(
                            "duplicate_step_id",
                            Severity::Error,
                            format!("Step id {id:?} is used twice."),
                            &format!("/steps/{i}/id"),
                            None,
                        );
                    } else {
                        step_ids.push(id.to_string());
                    }
                }
                if let Some(system) = text(s, "system") {
                    reference(&mut out, system, &format!("/steps/{i}/system"));
                }
                let action = text(s, "action").unwrap_or("").to_ascii_lowercase();
                let human = s.get("human").and_then(Value::as_bool).unwrap_or(false)
                    || ["approve", "review", "manual", "sign"]
                        .iter()
                        .any(|w| action.contains(w));
                if human {
                    human_steps += 1;
                }
                let name = text(s, "name").unwrap_or("unnamed step");
                checklist.push(ChecklistItem {
                    code: format!(
                        "build_step_{}",
                        slug(text(s, "id").unwrap_or(&(i + 1).to_string()))
                    ),
                    title: format!("Build and test step {name:?}"),
                    assignee: Assignee::Ops,
                });
            }
        }
        Some(Value::Array(_)) | None => out.push(
            "no_steps",
            Severity::Error,
            "The blueprint has no steps.".into(),
            "/steps",
            Some((
                "Describe the steps the automation performs".into(),
                Assignee::Client,
            )),
        ),
        Some(_) => out.push(
            "steps_not_array",
            Severity::Error,
            "`steps` must be a list of {id, name, system, action}.".into(),
            "/steps",
            None,
        ),
    }
    for (i, d) in declared.iter().enumerate() {
        if !used.iter().any(|u| u.eq_ignore_ascii_case(d)) {
            out.push(
                "unused_system",
                Severity::Warning,
                format!("System {d:?} is declared but no step uses it."),
                &format!("/systems/{i}"),
                None,
            );
        }
    }

    // Volume.
    match bp.get("volume") {
        Some(v) if v.is_object() => match v.get("monthly_runs") {
            Some(n) if n.as_u64().is_some() => {
                if n.as_u64() == Some(0) {
                    out.push(
                        "zero_volume",
                        Severity::Warning,
                        "Expected monthly runs is 0.".into(),
                        "/volume/monthly_runs",
                        None,
                    );
                }
            }
            _ => out.push(
                "invalid_volume",
                Severity::Error,
                "`volume.monthly_runs` must be a whole number of runs per month.".into(),
                "/volume/monthly_runs",
                Some((
                    "Confirm the expected number of runs per month".into(),
                    Assignee::Client,
                )),
            ),
        },
        _ => out.push(
            "missing_volume",
            Severity::Error,
            "The blueprint has no expected volume.".into(),
            "/volume",
            Some((
                "Tell us the expected number of runs per month".into(),
                Assignee::Client,
            )),
        ),
    }

    // Credentials: one per system the automation touches.
    let mut systems_needing: Vec<String> = declared.clone();
    for u in &used {
        if !systems_needing.iter().any(|d| d.eq_ignore_ascii_case(u)) {
            systems_needing.push(u.clone());
        }
    }
    for system in &systems_needing {
        let system_path = match declared.iter().position(|d| d.eq_ignore_ascii_case(system)) {
            Some(i) => format!("/systems/{i}"),
            None => "/systems".to_string(),
        };
        let status = input
            .credentials
            .iter()
            .find(|c| c.system.eq_ignore_ascii_case(system))
            .map(|c| c.status.to_ascii_lowercase());
        let code = format!("connect_{}", slug(system));
        match status.as_deref() {
            Some("verified") | Some("provided") | Some("active") | Some("valid") => {
                checklist.push(ChecklistItem {
                    code,
                    title: format!("Verify access to {system}"),
                    assignee: Assignee::Ops,
                })
            }
            Some("pending") => {
                out.push(
                    "credentials_pending",
                    Severity::Warning,
                    format!("Credentials for {system} are waiting for verification."),
                    &system_path,
                    Some((
                        format!("Verify the credentials for {system}"),
                        Assignee::Ops,
                    )),
                );
                checklist.push(ChecklistItem {
                    code,
                    title: format!("Verify the credentials for {system}"),
                    assignee: Assignee::Ops,
                });
            }
            Some("expired") | Some("revoked") | Some("invalid") => {
                out.push(
                    "credentials_expired",
                    Severity::Warning,
                    format!("Credentials for {system} are no longer valid."),
                    &system_path,
                    Some((
                        format!("Renew the credentials for {system}"),
                        Assignee::Client,
                    )),
                );
                checklist.push(ChecklistItem {
                    code,
                    title: format!("Renew the credentials for {system}"),
                    assignee: Assignee::Client,
                });
            }
            _ => {
                out.push(
                    "credentials_missing",
                    Severity::Warning,
                    format!("No credentials for {system} yet."),
                    &system_path,
                    Some((
                        format!("Provide credentials for {system}"),
                        Assignee::Client,
                    )),
                );
                checklist.push(ChecklistItem {
                    code,
                    title: format!("Provide credentials for {system}"),
                    assignee: Assignee::Client,
                });
            }
        }
    }
    if human_steps > 0 {
        checklist.push(ChecklistItem {
            code: "train_reviewers".into(),
            title: format!("Name and brief the people for {human_steps} review step(s)"),
            assignee: Assignee::Client,
        });
    }
    if input.version.requirements.trim().is_empty() {
        out.push(
            "requirements_empty",
            Severity::Warning,
            "The version has no written requirements.".into(),
            "/requirements",
            None,
        );
    }
    checklist.push(ChecklistItem {
        code: "test_end_to_end".into(),
        title: "Run an end-to-end test with sample data".into(),
        assignee: Assignee::Ops,
    });
    Ok(ValidationOutput {
        issues: out.issues,
        checklist,
    })
}

wrk_plugin_sdk::export_plugin!(
    validation,
    name = "builtin-validation",
    version = "1.0.0",
    description =
        "WRK built-in blueprint validation: shape, business rules, credentials, build checklist",
    handler = validate
);
