//! Score sheets back: the `scores.csv` of a review pack, filled in a spreadsheet (`;` or `,`, decimal
//! commas, with or without a byte-order mark) and uploaded, saves or submits every row as the juror's review,
//! the same reviews the API saves; any bad row fails the whole sheet, naming every error by row and column.

use std::collections::BTreeMap;

use chrono::{Duration, DurationRound, Utc};
use cordee::clock::Clock;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::evaluation::{
    assign, save_review, scores, submit_review, Call, Juror, Scenario, Template,
};
use crate::helpers::*;
use crate::review_packs::{download, SHEET_HEADER};

/// Uploads a score sheet for the written stage of `call`.
async fn upload(
    app: &TestApp,
    juror: &Juror,
    call: &Call,
    sheet: impl Into<Vec<u8>>,
    submit: bool,
) -> (StatusCode, Value) {
    let response = app
        .request(
            Method::PUT,
            &format!(
                "/api/v1/me/reviews.csv?call_id={}&stage=written&submit={submit}",
                call.id
            ),
            Some(&juror.token),
        )
        .header("content-type", "text/csv")
        .body(sheet.into())
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// The sheet of a pack filled in as a French spreadsheet saves it: `;` between cells, decimal commas, a
/// byte-order mark; each row's scores and comment taken from `filled` by reference.
fn fill_in_spreadsheet(sheet: &str, filled: &BTreeMap<&str, ([f64; 5], &str)>) -> Vec<u8> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(sheet.trim_start_matches('\u{FEFF}').as_bytes());
    let mut out = "\u{FEFF}".as_bytes().to_vec();
    {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(&mut out);
        for (i, record) in reader.records().enumerate() {
            let record = record.unwrap();
            let mut cells: Vec<String> = record.iter().map(str::to_owned).collect();
            if i > 0 {
                let (values, comment) = filled[cells[0].as_str()];
                for (cell, value) in cells[2..7].iter_mut().zip(values) {
                    *cell = value.to_string().replace('.', ",");
                }
                cells[7] = comment.to_owned();
            }
            writer.write_record(&cells).unwrap();
        }
    }
    out
}

/// An Alpes Tourisme Lab call with `eligible` applications and one juror assigned the first `assigned`.
async fn one_juror_assigned(app: &TestApp, eligible: usize, assigned: usize) -> (Call, Juror) {
    let (call, [ana]) = Scenario::new(app)
        .call(Template::Atl)
        .eligible(eligible)
        .jurors(1)
        .build()
        .await
        .into_parts();
    for application in &call.applications[..assigned] {
        assign(app, &call, application, &ana).await;
    }
    (call, ana)
}

/// The field and code of each error of a 422, in its order.
fn errors_of(body: &Value) -> Vec<(&str, &str)> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("a 422 lists its errors: {body}"))
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect()
}

/// The caller's own review of `application` (their view of its reviews), without what differs between two
/// jurors' copies of the same review.
async fn my_review(app: &TestApp, juror: &Juror, application: &str) -> Value {
    let (status, reviews) = app
        .get(
            &format!("/api/v1/applications/{application}/reviews"),
            Some(&juror.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reviews}");
    let mut review = reviews["items"]
        .as_array()
        .unwrap()
        .first()
        .cloned()
        .unwrap_or(Value::Null);
    if let Some(fields) = review.as_object_mut() {
        for field in ["id", "juror_id", "updated_at", "submitted_at"] {
            fields.remove(field);
        }
    }
    review
}

#[tokio::test]
async fn a_sheet_filled_in_a_spreadsheet_saves_the_same_reviews_as_the_api() {
    let app = TestApp::spawn().await;
    let (call, [ana, ben]) = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(3)
        .jurors(2)
        .build()
        .await
        .into_parts();
    for application in &call.applications {
        assign(&app, &call, application, &ana).await;
        assign(&app, &call, application, &ben).await;
    }
    let filled = BTreeMap::from([
        (
            call.references[0].as_str(),
            ([4.5, 3.0, 2.5, 5.0, 0.5], "=Très bien; à suivre"),
        ),
        (
            call.references[1].as_str(),
            ([1.0, 2.0, 3.0, 4.0, 5.0], "Équipe \"solide\",\nmarché flou"),
        ),
        (
            call.references[2].as_str(),
            ([0.0, 0.0, 0.0, 0.25, 0.0], ""),
        ),
    ]);
    let pack = download(&app, &ana.token, &call, None).await;
    let sheet = fill_in_spreadsheet(&pack.text("scores.csv"), &filled);
    assert!(String::from_utf8_lossy(&sheet).contains("4,5;3;2,5;5;0,5"));

    let (status, summary) = upload(&app, &ana, &call, sheet.clone(), false).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["saved"], 3, "{summary}");
    assert_eq!(summary["rows"][0]["row"], 2);
    assert_eq!(summary["rows"][0]["review_status"], "draft");
    // Ben saves the same through the API.
    for (i, application) in call.applications.iter().enumerate() {
        let (values, comment) = filled[call.references[i].as_str()];
        let mut body = json!({"stage": "written", "scores": scores(values)});
        if !comment.is_empty() {
            body["comment"] = json!(comment);
        }
        let (status, saved) = save_review(&app, &ben, application, body).await;
        assert_eq!(status, StatusCode::OK, "{saved}");
    }
    let mut through_sheet = Vec::new();
    for application in &call.applications {
        let (by_sheet, by_api) = (
            my_review(&app, &ana, application).await,
            my_review(&app, &ben, application).await,
        );
        assert_eq!(by_sheet, by_api);
        assert_eq!(by_sheet["status"], "draft");
        through_sheet.push(by_sheet);
    }
    assert_eq!(through_sheet[0]["comment"], "=Très bien; à suivre");
    assert!(through_sheet[2]["comment"].is_null());

    // The same sheet again changes nothing; so does the sheet of a new pack (its comment quoted against
    // formulas, its decimals with points), uploaded as it is.
    let (status, summary) = upload(&app, &ana, &call, sheet, false).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(
        (summary["saved"].clone(), summary["unchanged"].clone()),
        (json!(0), json!(3))
    );
    let pack = download(&app, &ana.token, &call, None).await;
    let sheet = pack.text("scores.csv");
    assert!(sheet.contains(",'=Très bien; à suivre\r\n"), "{sheet}");
    let (status, summary) = upload(&app, &ana, &call, sheet, false).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["unchanged"], 3, "{summary}");
    for (application, before) in call.applications.iter().zip(&through_sheet) {
        assert_eq!(&my_review(&app, &ana, application).await, before);
    }
}

#[tokio::test]
async fn a_sheet_with_three_bad_rows_names_all_three_and_saves_nothing() {
    let app = TestApp::spawn().await;
    let (call, ana) = one_juror_assigned(&app, 4, 3).await;
    let r = &call.references;
    let header = SHEET_HEADER.replace(',', ";");
    let sheet = format!(
        "{header}\n{};written;4;4;4;4;4;Bien\n{};written;9;4;4;4;4;\n{};written;4;4;beaucoup;4;4;\n{};written;1;1;1;1;1;\n",
        r[0], r[1], r[2], r[3]
    );

    let (status, body) = upload(&app, &ana, &call, sheet, false).await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = errors_of(&body);
    assert_eq!(
        errors,
        [
            ("rows.3.innovation", "out_of_range"),
            ("rows.4.market", "not_a_number"),
            ("rows.5.reference", "not_assigned"),
        ]
    );
    // Not even the good row was kept.
    for application in &call.applications[..3] {
        assert!(my_review(&app, &ana, application).await.is_null());
    }
    let (status, mine) = app.get("/api/v1/me/assignments", Some(&ana.token)).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert!(
        mine.to_string().contains("pending") && !mine.to_string().contains("draft"),
        "{mine}"
    );
}

#[tokio::test]
async fn submitting_a_sheet_locks_its_reviews_and_the_same_sheet_again_changes_nothing() {
    let app = TestApp::spawn().await;
    let (call, ana) = one_juror_assigned(&app, 3, 3).await;
    let r = &call.references;
    let header = SHEET_HEADER.replace(',', ";");
    // Submitting needs every criterion scored: the third row lacks two; the blank fourth is left alone.
    let incomplete = format!(
        "{header}\n{};written;4;4;4;4;4;\n{};written;3;3;;3;;\n{};;;;;;;\n",
        r[0], r[1], r[2]
    );
    let (status, body) = upload(&app, &ana, &call, incomplete, true).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["rows.3.impact", "rows.3.market"]);
    assert!(my_review(&app, &ana, &call.applications[0]).await.is_null());

    let complete = format!(
        "{header}\n{};written;4;4;4;4;4;\n{};written;3;3;3;3;3;\n{};;;;;;;\n",
        r[0], r[1], r[2]
    );
    let (status, summary) = upload(&app, &ana, &call, complete.clone(), true).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    let outcomes: Vec<&str> = summary["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["submitted", "submitted", "skipped"]);
    for application in &call.applications[..2] {
        assert_eq!(
            my_review(&app, &ana, application).await["status"],
            "submitted"
        );
    }
    assert!(my_review(&app, &ana, &call.applications[2]).await.is_null());
    let (status, body) = save_review(
        &app,
        &ana,
        &call.applications[0],
        json!({"stage": "written", "scores": scores([1.0; 5])}),
    )
    .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "review_submitted");

    let (status, summary) = upload(&app, &ana, &call, complete, true).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["unchanged"], 2, "{summary}");
    let changed = format!("{header}\n{};written;5;4;4;4;4;\n", r[0]);
    let (status, body) = upload(&app, &ana, &call, changed, false).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "rows.2");
    assert_eq!(body["errors"][0]["code"], "review_submitted");
    let (status, body) = submit_review(&app, &ana, &call.applications[1]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[tokio::test]
async fn a_sheet_after_the_stage_deadline_is_refused_row_by_row_and_nothing_is_saved() {
    let app = TestApp::spawn_with(Options {
        clock: Clock::manual(Utc::now()),
        ..Default::default()
    })
    .await;
    let (call, ana) = one_juror_assigned(&app, 2, 2).await;
    let due = (app.clock.now() + Duration::days(2))
        .duration_trunc(Duration::seconds(1))
        .unwrap();
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{}/stages/written/deadline", call.id),
            Some(&call.admin),
            Some(json!({"due_at": due.to_rfc3339()})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.clock.advance(Duration::days(3));
    let header = SHEET_HEADER.replace(',', ";");
    let sheet = format!(
        "{header}\n{};written;4;4;4;4;4;\n{};written;3;3;3;3;3;\n",
        call.references[0], call.references[1]
    );

    let (status, body) = upload(&app, &ana, &call, sheet, false).await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = errors_of(&body);
    assert_eq!(
        errors,
        [
            ("rows.2", "review_deadline_passed"),
            ("rows.3", "review_deadline_passed")
        ]
    );
    assert!(my_review(&app, &ana, &call.applications[0]).await.is_null());
}

#[tokio::test]
async fn a_sheet_is_for_a_juror_of_the_call_with_a_token_that_writes_reviews() {
    let app = TestApp::spawn().await;
    let (call, ana) = one_juror_assigned(&app, 1, 1).await;
    let sheet = format!(
        "{SHEET_HEADER}\n{},written,1,1,1,1,1,\n",
        call.references[0]
    );
    let founder = Juror {
        email: String::new(),
        token: call.founders[0].clone(),
        id: String::new(),
    };
    let (status, body) = upload(&app, &founder, &call, sheet.clone(), false).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, created) = app
        .post(
            "/api/v1/me/tokens",
            Some(&ana.token),
            json!({"name": "lecture", "scopes": ["reviews:read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let reader = Juror {
        token: created["token"].as_str().unwrap().to_owned(),
        ..founder
    };
    let (status, body) = upload(&app, &reader, &call, sheet.clone(), false).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    // Not CSV; not UTF-8.
    let response = app
        .request(
            Method::PUT,
            &format!("/api/v1/me/reviews.csv?call_id={}&stage=written", call.id),
            Some(&ana.token),
        )
        .json(&json!({"rows": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let latin1 = [
        SHEET_HEADER.as_bytes(),
        b"\nATL-1,written,1,1,1,1,1,tr\xe8s bien\n",
    ]
    .concat();
    let (status, body) = upload(&app, &ana, &call, latin1, false).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["body"]);
    let (status, body) = upload(&app, &ana, &call, sheet, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
