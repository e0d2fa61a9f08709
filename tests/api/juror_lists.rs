//! A juror's list of applications: the ones assigned to them, without the ones a conflict keeps them away
//! from, in full pages whatever the conflicts' place in the list.

use std::collections::BTreeSet;

use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn a_juror_pages_through_the_applications_assigned_to_them_in_full_pages_without_the_conflicted_ones(
) {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let call = app
        .open_call(&admin, "experimentation-montagne", "exp-paging")
        .await;
    let call_id = call["id"].as_str().unwrap().to_owned();
    let stage = call["stages"][0]["key"].as_str().unwrap().to_owned();
    let mut applications = Vec::new();
    for i in 0..5 {
        let email = format!("territoire{i}@example.org");
        let name = format!("Commune {i}");
        applications.push(eligible_territory(&app, &admin, &call_id, &email, &name).await);
    }
    // The list runs in id order: the conflicts are with the first two applications it would show.
    applications.sort();
    let token = app.applicant("lea@jury-paging.example").await;
    let (status, me) = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let juror_id = me["id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{call_id}/jurors"),
            Some(&admin),
            json!({"user_id": juror_id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for application in &applications {
        let (status, body) = app
            .post(
                &format!("/api/v1/calls/{call_id}/assignments"),
                Some(&admin),
                json!({"application_id": application, "juror_id": juror_id, "stage": stage}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // Assignments from before a declaration withdrew them: kept aside, put back after the declarations.
    run_sql(
        &app,
        "CREATE TABLE kept_assignments AS SELECT * FROM assignments",
    )
    .await;
    for application in &applications[..2] {
        let (status, body) = app
            .post(
                &format!("/api/v1/calls/{call_id}/conflicts"),
                Some(&token),
                json!({"juror_id": juror_id, "application_id": application, "reason": "Mon frère y est élu"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    run_sql(
        &app,
        "INSERT INTO assignments SELECT * FROM kept_assignments \
         WHERE id NOT IN (SELECT id FROM assignments)",
    )
    .await;

    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut path = "/api/v1/applications?limit=2".to_owned();
    loop {
        let (status, page) = app.get(&path, Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages.push(ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/applications?limit=2&cursor={cursor}"),
            None => break,
        }
        assert!(pages.len() < 10, "the cursor moves on: {pages:?}");
    }

    let expected: Vec<String> = applications[2..].to_vec();
    assert_eq!(
        pages,
        vec![expected[..2].to_vec(), expected[2..].to_vec()],
        "full pages of the applications without a conflict, each once"
    );
    let seen: BTreeSet<&String> = pages.iter().flatten().collect();
    assert!(applications[..2].iter().all(|a| !seen.contains(a)));
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {page}"))
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Runs one statement on the test's database, behind the application's back.
async fn run_sql(app: &TestApp, sql: &'static str) {
    let url = app.db.url.clone();
    tokio::task::spawn_blocking(move || {
        if url.starts_with("postgres") {
            let mut conn = PgConnection::establish(&url).unwrap();
            diesel::sql_query(sql).execute(&mut conn).unwrap();
        } else {
            let mut conn = SqliteConnection::establish(cordee::db::sqlite_path(&url)).unwrap();
            // The application's workers write too: wait for them rather than fail.
            diesel::sql_query("PRAGMA busy_timeout = 10000")
                .execute(&mut conn)
                .unwrap();
            diesel::sql_query(sql).execute(&mut conn).unwrap();
        }
    })
    .await
    .unwrap();
}
