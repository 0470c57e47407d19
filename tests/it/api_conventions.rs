//! API conventions every route shares (issue 8, item 10): every rejection is problem+json, JSON
//! bodies must be objects without NUL characters, type errors are 422 and syntax errors 400,
//! `limit` and `cursor` are validated, and the OpenAPI documents describe all of it.

use wrk_tests::{Method, StatusCode, TestApp, Value, json};

use crate::support::{PASSWORD, account_with_workspace};

fn workspace_token(app: &TestApp, email: &str, slug: &str) -> String {
    account_with_workspace(app, email, slug, "Conventions").token
}

/// The status and problem document of a response, asserting it is `application/problem+json`.
fn problem(r: wrk_tests::Response, what: &str) -> (StatusCode, Value) {
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = r.text().unwrap();
    assert!(
        ct.starts_with("application/problem+json"),
        "{what}: {status} with content type {ct:?}: {text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}: {text}"));
    assert_eq!(body["status"], status.as_u16(), "{what}: {body}");
    for key in ["type", "title", "detail", "code"] {
        assert!(body[key].is_string(), "{what}: no {key} in {body}");
    }
    (status, body)
}

fn get(app: &TestApp, host: &str, path: &str, token: &str) -> wrk_tests::Response {
    app.request(Method::GET, host, path)
        .bearer_auth(token)
        .send()
        .unwrap()
}

#[test]
fn every_query_path_and_header_rejection_is_a_problem_document() {
    let app = TestApp::spawn_open();
    let token = workspace_token(&app, "q@example.com", "qstr");
    for (query, field) in [
        ("limit=-1", "limit"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("include_archived=maybe", "include_archived"),
        ("cursor=garbage", "cursor"),
        ("q=a%00b", "query"),
    ] {
        let what = format!("?{query}");
        let (status, body) = problem(
            get(&app, "qstr", &format!("/api/automations?{query}"), &token),
            &what,
        );
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
        assert_eq!(body["code"], "validation_failed", "{what}");
        assert_eq!(body["errors"][0]["field"], field, "{what}: {body}");
    }
    // A duplicated key is refused, not resolved silently either way.
    let (status, body) = problem(
        get(&app, "qstr", "/api/automations?limit=1&limit=2", &token),
        "duplicated limit",
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // The bounds themselves are accepted.
    for ok in ["limit=1", "limit=200", "include_archived=true"] {
        let r = get(&app, "qstr", &format!("/api/automations?{ok}"), &token);
        assert_eq!(r.status(), StatusCode::OK, "?{ok}: {}", r.text().unwrap());
    }
    // The handoff without its code.
    let (status, body) = problem(app.get("qstr", "/auth/handoff"), "handoff without code");
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "query", "{body}");
    // A path parameter that is not UTF-8.
    let (status, _) = problem(
        get(&app, "qstr", "/api/automations/%FF%FE", &token),
        "undecodable path parameter",
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A method the route does not have.
    let r = app
        .request(Method::PUT, "qstr", "/api/me")
        .bearer_auth(&token)
        .send()
        .unwrap();
    let (status, _) = problem(r, "method not allowed");
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    // A multipart body without a boundary.
    let created: Value = app
        .request(Method::POST, "qstr", "/api/automations")
        .bearer_auth(&token)
        .json(&json!({"name": "Docs"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = created["id"].as_str().expect("automation id");
    let r = app
        .request(
            Method::POST,
            "qstr",
            &format!("/api/automations/{id}/versions/1/documents"),
        )
        .bearer_auth(&token)
        .header("content-type", "multipart/form-data")
        .body("--x\r\n\r\n")
        .send()
        .unwrap();
    let (status, _) = problem(r, "multipart without boundary");
    assert!(status.is_client_error(), "{status}");
    // Too many header fields, and too many header bytes: 431 as a problem document.
    let mut many = app
        .request(Method::GET, "qstr", "/api/me")
        .bearer_auth(&token);
    for i in 0..150 {
        many = many.header(format!("x-filler-{i}"), "1");
    }
    let (status, body) = problem(many.send().unwrap(), "150 header fields");
    assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(body["code"], "headers_too_large");
    let big = app
        .request(Method::GET, "qstr", "/api/me")
        .bearer_auth(&token)
        .header("x-filler", "a".repeat(40 * 1024))
        .send()
        .unwrap();
    let (status, _) = problem(big, "40 KiB of headers");
    assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
}

#[test]
fn json_bodies_must_be_objects_of_the_right_shape_without_nul() {
    let app = TestApp::spawn_open();
    let token = workspace_token(&app, "j@example.com", "jsonb");
    let send = |method: Method, path: &str, body: &str| {
        app.request(method, "jsonb", path)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .unwrap()
    };
    let created: Value = send(Method::POST, "/api/automations", r#"{"name":"Original"}"#)
        .json()
        .unwrap();
    let id = created["id"].as_str().expect("automation id");
    let path = format!("/api/automations/{id}");

    // An array where an object is expected: refused, and nothing renamed.
    let (status, body) = problem(send(Method::PATCH, &path, r#"["Renamed","d"]"#), "array");
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let r = app
        .post_json("", "/api/auth/login", &json!(["j@example.com", PASSWORD]))
        .status();
    assert_eq!(r, StatusCode::UNPROCESSABLE_ENTITY, "login with an array");
    for scalar in ["\"Renamed\"", "42", "null"] {
        let (status, _) = problem(send(Method::PATCH, &path, scalar), scalar);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{scalar}");
    }
    let now: Value = get(&app, "jsonb", &path, &token).json().unwrap();
    assert_eq!(now["name"], "Original");

    // NUL characters, escaped in any string.
    let (status, body) = problem(
        send(Method::PATCH, &path, r#"{"name":"Re\u0000named"}"#),
        "NUL in a name",
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = problem(
        send(
            Method::POST,
            "/api/automations",
            r#"{"name":"x","description":"a\u0000"}"#,
        ),
        "NUL in a description",
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // An escaped backslash followed by `u0000` is text, not a NUL.
    let r = send(Method::PATCH, &path, r#"{"name":"back\\u0000slash"}"#);
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().unwrap());

    // A wrong type is 422 naming the field, for enums too; broken JSON is 400.
    let me: Value = get(&app, "jsonb", "/api/me", &token).json().unwrap();
    let user = me["user"]["id"].as_str().expect("user id");
    let members = format!("/api/members/{user}");
    for (body, field) in [
        (r#"{"role": 5}"#, "role"),
        (r#"{"role": "emperor"}"#, "role"),
        (r#"{"role": ["admin"]}"#, "role"),
    ] {
        let (status, p) = problem(send(Method::PATCH, &members, body), body);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
    }
    let (status, p) = problem(send(Method::PATCH, &path, r#"{"name": 5}"#), "number name");
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "name", "{p}");
    for broken in [r#"{"role":"#, "{", "nope", r#"{"name":"a"} trailing"#] {
        let (status, p) = problem(send(Method::PATCH, &members, broken), broken);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{broken}: {p}");
    }
    // Not JSON at all.
    let r = app
        .request(Method::PATCH, "jsonb", &path)
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .unwrap();
    let (status, _) = problem(r, "text/plain body");
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[test]
fn the_openapi_documents_describe_security_errors_and_parameters() {
    let app = TestApp::spawn_open();
    account_with_workspace(&app, "d@example.com", "apidocs", "Docs");
    for host in ["", "apidocs", "ops"] {
        let doc: Value = app.get(host, "/api/openapi.json").json().unwrap();
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3.1"),
            "{host}"
        );
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["bearer"]["scheme"], "bearer", "{host}");
        assert_eq!(schemes["session"]["in"], "cookie", "{host}");
        let mut secured = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if op.get("security").is_some() {
                    secured += 1;
                    assert!(
                        op["responses"].get("401").is_some(),
                        "{method} {path}: no 401"
                    );
                }
                for (code, response) in op["responses"].as_object().unwrap() {
                    if code.starts_with('4') || code.starts_with('5') {
                        let content = response["content"]
                            .as_object()
                            .unwrap_or_else(|| panic!("{host} {method} {path} {code}: no content"));
                        assert!(
                            content.keys().all(|k| k == "application/problem+json"),
                            "{host} {method} {path} {code}: {content:?}"
                        );
                    }
                }
                if let Some(params) = op["parameters"].as_array() {
                    for p in params {
                        if p["in"] == "path" {
                            assert!(
                                path.contains(&format!("{{{}}}", p["name"].as_str().unwrap())),
                                "{host} {method} {path}: path parameter {} is not in the path",
                                p["name"]
                            );
                        }
                    }
                }
            }
        }
        assert!(secured > 0, "{host}: no secured operation");
    }
    let ops: Value = app.get("ops", "/api/openapi.json").json().unwrap();
    for path in ["/api/ops/jobs", "/api/ops/outbox"] {
        let params = ops["paths"][path]["get"]["parameters"].as_array().unwrap();
        for p in params {
            assert_eq!(p["in"], "query", "{path}: {p}");
            assert_ne!(p["required"], true, "{path}: {p}");
        }
        let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
        assert_eq!(limit["schema"]["maximum"], 200, "{path}: {limit}");
    }
    let previous = &ops["components"]["schemas"]["ActivationView"]["properties"]["previous_plugin"];
    assert!(previous.to_string().contains("null"), "{previous}");
    let tenant: Value = app.get("apidocs", "/api/openapi.json").json().unwrap();
    let blueprint = &tenant["components"]["schemas"]["VersionView"]["properties"]["blueprint"];
    assert!(blueprint.to_string().contains("null"), "{blueprint}");
    let audit = &tenant["paths"]["/api/audit-logs"]["get"]["responses"]["200"]["content"];
    assert!(
        audit.get("application/json").is_some() && audit.get("text/csv").is_some(),
        "{audit}"
    );
    let status = &tenant["components"]["schemas"]["VersionView"]["properties"]["status"]["enum"];
    assert!(
        status
            .as_array()
            .is_some_and(|s| s.contains(&json!("live"))),
        "{status}"
    );
    let role = &tenant["components"]["schemas"]["InviteRequest"]["properties"]["role"]["enum"];
    assert_eq!(role, &json!(["owner", "admin", "member"]));
    let schemas = &tenant["components"]["schemas"];
    for (schema, field, values) in [
        ("TaskView", "assignee", json!(["client", "ops"])),
        (
            "TaskView",
            "kind",
            json!(["validation", "credentials", "quote", "build", "qa"]),
        ),
        ("IssueView", "severity", json!(["error", "warning"])),
        ("LineItemView", "recurrence", json!(["one_time", "monthly"])),
    ] {
        assert_eq!(
            schemas[schema]["properties"][field]["enum"], values,
            "{schema}.{field}"
        );
    }
    let apex: Value = app.get("", "/api/openapi.json").json().unwrap();
    let signup = &apex["components"]["schemas"]["SignupRequest"]["properties"];
    assert!(signup["email"]["pattern"].is_string(), "{signup}");
    assert_eq!(signup["password"]["minLength"], 12);
}
