//! The OpenAPI document as a contract (schemathesis checks it against the live server in `.ci/schemathesis`):
//! error answers are listed as problem+json, as they are sent, with the refusals of a JSON body; a NUL
//! character in a query or a body is refused at the edge, never a 500 (PostgreSQL cannot store one).

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
