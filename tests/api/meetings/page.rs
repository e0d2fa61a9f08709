//! The printable record of a closed meeting: escaped, without script, as Chromium shows and prints it.

use reqwest::header::ACCEPT;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{deliberated_call, patch, send};
use crate::helpers::browser::{look_at, pdf};
use crate::helpers::*;

#[tokio::test]
async fn the_record_page_prints_what_the_meeting_decided() {
    let app = TestApp::spawn().await;
    let (call, [anne, bruno, chloe]) = deliberated_call(&app).await;
    let admin = call.admin.as_str();
    let call_path = format!("/api/v1/calls/{}", call.id);
    let (_, meeting) = app
        .post(&format!("{call_path}/meetings"), Some(admin), json!({"stage": "written", "held_at": "2026-12-10T09:00:00Z", "place": "Grenoble <i>salle 2</i>", "agenda": "Classement"}))
        .await;
    let path = format!("{call_path}/meetings/{}", meeting["id"].as_str().unwrap());
    send(
        &app,
        Method::PUT,
        &format!("{path}/attendance"),
        admin,
        json!({"present": [anne.id, bruno.id], "apologies": [chloe.id]}),
    )
    .await;
    let (status, body) = app
        .post(&format!("{path}/items"), Some(admin), json!({"application_id": call.applications[0], "kind": "vote", "outcome": "shortlisted", "votes": [{"juror_id": anne.id, "vote": "for"}, {"juror_id": bruno.id, "vote": "against"}], "dissent": "<script>alert('dissent')</script>Trop tôt"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = patch(
        &app,
        &path,
        admin,
        json!({"minutes": "<img src=x onerror=alert(1)> Séance levée à 12 h."}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, closed) = app
        .post(&format!("{path}/close"), Some(admin), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    let digest = closed["digest"].as_str().unwrap();

    // The page a browser asks for: no script, its own CSP, every value escaped.
    let response = app
        .request(Method::GET, &format!("{path}/record?lang=en"), Some(admin))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let html = response.text().await.unwrap();
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
    assert!(
        html.contains("&lt;script&gt;") && html.contains("&lt;i&gt;salle 2"),
        "escaped values"
    );

    // Chromium opens it (saved as served: the page needs a staff token) and prints it.
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/ci-artifacts/meeting-record.html");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, &html).unwrap();
    let url = format!("file://{}", file.display());
    let (dom, screenshot) = look_at(&url, "meeting-record").await;
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 0);
    for shown in [
        "Anne Alpage",
        "Bruno Bergerie",
        "Chloé Crête",
        "apologies",
        "1 for, 1 against",
        digest,
        &call.references[0],
        "Séance levée",
    ] {
        assert!(dom.contains(shown), "the page shows {shown}");
    }
    assert!(dom.contains("<svg"), "the ranking as a chart");
    let printed = tokio::task::spawn_blocking(move || pdf(&url, "meeting-record"))
        .await
        .unwrap();
    let bytes = std::fs::read(&printed).unwrap();
    assert!(bytes.starts_with(b"%PDF"), "a PDF at {}", printed.display());

    // In French by default, the same record.
    let (status, french) = app
        .get(&format!("{path}/record?format=html"), Some(admin))
        .await;
    assert_eq!(status, StatusCode::OK);
    let french = french.as_str().unwrap();
    assert!(
        french.contains("Procès-verbal") && french.contains("excusé·e") && french.contains(digest)
    );
}
