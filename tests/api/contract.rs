//! The OpenAPI document as a contract (schemathesis checks it against the live server in `.ci/schemathesis`):
//! error answers are listed as problem+json, as they are sent, with the refusals of a JSON body; a NUL
//! character in a query or a body is refused at the edge, never a 500 (PostgreSQL cannot store one).

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn the_document_lists_every_error_answer_as_problem_json_and_the_refusals_of_a_body() {
    let app = TestApp::spawn().await;

    let (status, doc) = app.get("/api-docs/openapi.json", None).await;

    assert_eq!(status, StatusCode::OK, "{doc}");
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().expect("the document has paths") {
        for (method, operation) in item.as_object().unwrap() {
            let Some(responses) = operation["responses"].as_object() else {
                continue;
            };
            operations += 1;
            for (code, response) in responses {
                if !(code.starts_with('4') || code.starts_with('5')) {
                    continue;
                }
                if let Some(content) = response["content"].as_object() {
                    assert!(
                        content.keys().all(|k| k == "application/problem+json"),
                        "{method} {path} {code} is documented as {:?}",
                        content.keys().collect::<Vec<_>>()
                    );
                }
            }
            if operation.get("requestBody").is_some() {
                for code in ["400", "413", "415"] {
                    assert!(
                        responses.contains_key(code),
                        "{method} {path} takes a body but does not list {code}"
                    );
                }
            }
        }
    }
    assert!(operations > 50, "only {operations} operations documented");
}

#[tokio::test]
async fn every_operation_has_a_unique_operation_id_and_a_declared_tag() {
    let app = TestApp::spawn().await;

    let (status, doc) = app.get("/api-docs/openapi.json", None).await;

    assert_eq!(status, StatusCode::OK, "{doc}");
    let declared: BTreeSet<&str> = doc["tags"]
        .as_array()
        .expect("the document declares its tags")
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut owners: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("the document has paths") {
        for (method, operation) in item.as_object().unwrap() {
            let operation_name = format!("{} {path}", method.to_uppercase());
            match operation["operationId"].as_str() {
                Some(id) if is_lower_camel_case(id) => {
                    owners.entry(id).or_default().push(operation_name.clone())
                }
                Some(id) => problems.push(format!("{operation_name}: {id} is not lowerCamelCase")),
                None => problems.push(format!("{operation_name}: no operationId")),
            }
            let tags: Vec<&str> = operation["tags"]
                .as_array()
                .map(|tags| tags.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if tags.is_empty() {
                problems.push(format!("{operation_name}: no tag"));
            }
            for tag in tags.iter().filter(|t| !declared.contains(*t)) {
                problems.push(format!("{operation_name}: the tag {tag} is not declared"));
            }
        }
    }
    for (id, operations) in &owners {
        if operations.len() > 1 {
            problems.push(format!("{id} names {}", operations.join(", ")));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(owners.len() > 80, "only {} operations", owners.len());
    for id in [
        "listMyAssignments",
        "saveMyReview",
        "submitMyReview",
        "getApplication",
    ] {
        assert!(owners.contains_key(id), "{id} is missing");
    }
}

/// `listMyAssignments`: a lower-case ASCII letter, then letters and digits.
fn is_lower_camel_case(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_alphanumeric())
}

#[tokio::test]
async fn a_nul_character_in_a_query_or_any_body_is_refused_and_never_a_server_error() {
    let app = TestApp::spawn().await;
    let token = app.applicant("lea@example.org").await;

    let (status, body) = app
        .get("/api/v1/applications?q=neige%00mobilite", Some(&token))
        .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST);

    let (status, body) = app
        .post(
            "/api/v1/me/tokens",
            Some(&token),
            json!({"name": "jury\u{0}script", "scopes": ["applications:read"]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["name".to_owned()], "{body}");

    // Anywhere in any body, nested or not: 422 naming where, and nothing created.
    let (status, body) = app
        .post(
            "/api/v1/organizations",
            Some(&token),
            json!({"kind": "territory", "legal_name": "Commune", "insee_code": "74056", "postcode": "74400",
                   "city": "Chamonix", "contacts": [{"note": "a\u{0}b"}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        failing_fields(&body),
        vec!["contacts.0.note".to_owned()],
        "{body}"
    );
    let (status, mine) = app.get("/api/v1/me/organizations", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["items"], Value::Array(vec![]), "{mine}");

    // The same search without the NUL is an ordinary, empty one.
    let (status, body) = app.get("/api/v1/applications?q=neige", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"], Value::Array(vec![]), "{body}");
}
