//! Per-call staff: a partner invited as the manager of one call runs that call (screening, jury, ranking,
//! decisions) and is told nothing of the others; an observer reads the call and changes nothing; an
//! administrator grants the roles by invitation and takes them back.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// The criteria of the Expérimentation Montagne `written` stage, each scored 0–5.
const CRITERIA: [&str; 6] = [
    "need_relevance",
    "innovation",
    "feasibility",
    "territory_commitment",
    "replicability",
    "sustainability",
];

fn scores(value: f64) -> Value {
    Value::Object(
        CRITERIA
            .iter()
            .map(|c| ((*c).to_owned(), json!(value)))
            .collect(),
    )
}

/// Someone signed in, with their address and account id.
struct Someone {
    email: String,
    token: String,
    id: String,
}

async fn someone(app: &TestApp, email: &str) -> Someone {
    let token = app.applicant(email).await;
    let (status, me) = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    Someone {
        email: email.to_owned(),
        id: me["id"].as_str().unwrap().to_owned(),
        token,
    }
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

/// The joint call the partner runs, with two submitted applications, and another call (published, with a
/// submitted application, and a draft) the partner has no part in.
struct Calls {
    admin: String,
    joint: String,
    applications: [String; 2],
    founders: [String; 2],
    other: String,
    other_application: String,
    other_draft: String,
}

async fn two_calls(app: &TestApp) -> Calls {
    let admin = app.admin("admin@cordee.example").await;
    let joint = id_of(
        &app.open_call(&admin, "experimentation-montagne", "jo-2030")
            .await,
    );
    let (f0, a0) = submitted_territory(app, &joint, "maire@val.example", "Commune du Val").await;
    let (f1, a1) = submitted_territory(app, &joint, "maire@col.example", "Commune du Col").await;
    let other = id_of(
        &app.open_call(&admin, "experimentation-montagne", "exp-2026")
            .await,
    );
    let (_, other_application) =
        submitted_territory(app, &other, "maire@lac.example", "Commune du Lac").await;
    let now = app.clock.now();
    let (status, draft) = app
        .post(
            "/api/v1/calls",
            Some(&admin),
            json!({
                "template": "experimentation-montagne",
                "slug": "exp-2027",
                "opens_at": (now + chrono::Duration::days(30)).to_rfc3339(),
                "closes_at": (now + chrono::Duration::days(90)).to_rfc3339(),
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    Calls {
        admin,
        joint,
        applications: [a0, a1],
        founders: [f0, f1],
        other,
        other_application,
        other_draft: id_of(&draft),
    }
}

#[tokio::test]
async fn a_partner_invited_as_manager_runs_their_call_from_screening_to_decisions_and_sees_no_other(
) {
    let app = TestApp::spawn().await;
    let calls = two_calls(&app).await;
    let cojop = someone(&app, "appels@cojop.example").await;
    app.staff_role(
        &calls.admin,
        &cojop.token,
        &cojop.email,
        &calls.joint,
        "manager",
    )
    .await;
    let (status, me) = app.get("/api/v1/me", Some(&cojop.token)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        me["staff"],
        json!([{"call_id": calls.joint, "role": "manager"}])
    );
    let m = Some(cojop.token.as_str());
    let joint = &calls.joint;
    // An applicant's message reaches the call's managers, who answer it.
    let thread = format!("/api/v1/applications/{}/messages", calls.applications[0]);
    let (status, body) = app
        .post(
            &thread,
            Some(&calls.founders[0]),
            json!({"body": "Une question sur le budget"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.mailbox
        .wait_for_subject(&cojop.email, "Nouveau message")
        .await;
    let (status, body) = app
        .post(&thread, m, json!({"body": "Voici la réponse"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["author_side"], "staff", "{body}");

    // Screening, the jury, an assignment.
    for id in &calls.applications {
        let (status, body) = app
            .post(
                &format!("/api/v1/applications/{id}/screening"),
                m,
                json!({"outcome": "eligible"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let juror = someone(&app, "jure@jury.example").await;
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{joint}/jurors"),
            m,
            json!({"user_id": juror.id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for id in &calls.applications {
        let (status, body) = app
            .post(
                &format!("/api/v1/calls/{joint}/assignments"),
                m,
                json!({"application_id": id, "juror_id": juror.id, "stage": "written"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for (id, score) in calls.applications.iter().zip([4.0, 2.0]) {
        let review = format!("/api/v1/applications/{id}/reviews/mine");
        let (status, body) = app
            .send(
                Method::PUT,
                &review,
                Some(&juror.token),
                Some(json!({"stage": "written", "scores": scores(score)})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app
            .post(
                &format!("{review}/submit"),
                Some(&juror.token),
                json!({"stage": "written"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // The ranking, then the decisions, published to the applicants.
    let (status, ranking) = app
        .get(&format!("/api/v1/calls/{joint}/ranking?stage=written"), m)
        .await;
    assert_eq!(status, StatusCode::OK, "{ranking}");
    assert_eq!(ranking[0]["application_id"], calls.applications[0].as_str());
    assert_eq!(ranking[1]["application_id"], calls.applications[1].as_str());
    let decisions = json!([
        {"application_id": calls.applications[0], "outcome": "selected", "motivation": "Un besoin clair"},
        {"application_id": calls.applications[1], "outcome": "rejected", "motivation": "Trop tôt"},
    ]);
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{joint}/decisions"),
            m,
            Some(decisions),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{joint}/decisions/publish"),
            m,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.mailbox
        .wait_for_subject("maire@val.example", "Décision")
        .await;
    app.mailbox
        .wait_for_subject("maire@col.example", "Décision")
        .await;
    let (_, read) = app
        .get(
            &format!("/api/v1/applications/{}", calls.applications[0]),
            Some(&calls.founders[0]),
        )
        .await;
    assert_eq!(read["status"], "selected", "{read}");
    let (status, csv) = app
        .get(&format!("/api/v1/calls/{joint}/export/applications.csv"), m)
        .await;
    assert_eq!(status, StatusCode::OK, "{csv}");

    // Nothing of the other call: its application, its staff routes, its draft.
    let other = &calls.other;
    let other_app = &calls.other_application;
    for (method, path) in [
        (Method::GET, format!("/api/v1/applications/{other_app}")),
        (
            Method::GET,
            format!("/api/v1/applications/{other_app}/messages"),
        ),
        (Method::GET, format!("/api/v1/calls/{other}/ranking")),
        (Method::GET, format!("/api/v1/calls/{other}/jurors")),
        (Method::GET, format!("/api/v1/calls/{other}/staff")),
        (Method::GET, format!("/api/v1/calls/{other}/decisions")),
        (
            Method::GET,
            format!("/api/v1/calls/{other}/export/applications.csv"),
        ),
        (Method::GET, format!("/api/v1/calls/{}", calls.other_draft)),
        (
            Method::GET,
            format!("/api/v1/calls/{}/jurors", calls.other_draft),
        ),
    ] {
        let (status, body) = app.send(method.clone(), &path, m, None).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND);
    }
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{other_app}/screening"),
            m,
            json!({"outcome": "eligible"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{other}/jurors"),
            m,
            json!({"user_id": juror.id}),
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (_, list) = app
        .get(&format!("/api/v1/applications?call_id={other}"), m)
        .await;
    assert_eq!(list["items"], json!([]), "{list}");
    let (_, list) = app.get("/api/v1/applications", m).await;
    let seen: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(seen, [joint.as_str(), joint.as_str()], "{list}");
    let (_, listed) = app.get("/api/v1/calls", m).await;
    assert!(
        !listed.to_string().contains(&calls.other_draft),
        "another call's draft is listed: {listed}"
    );
}

#[tokio::test]
async fn an_observer_reads_the_call_changes_nothing_and_loses_access_when_removed() {
    let app = TestApp::spawn().await;
    let calls = two_calls(&app).await;
    let solideo = someone(&app, "suivi@solideo.example").await;
    app.staff_role(
        &calls.admin,
        &solideo.token,
        &solideo.email,
        &calls.joint,
        "observer",
    )
    .await;
    let o = Some(solideo.token.as_str());
    let joint = &calls.joint;
    let [first, second] = &calls.applications;
    // A draft in the call: no staff member reads it.
    let founder = app.applicant("maire@pic.example").await;
    let org = app
        .organization(&founder, "territory", "Commune du Pic")
        .await;
    let (status, draft) = app
        .post(
            &format!("/api/v1/calls/{joint}/applications"),
            Some(&founder),
            json!({"organization_id": org, "answers": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let draft = id_of(&draft);
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{first}/messages"),
            Some(&calls.founders[0]),
            json!({"body": "Notre délibération est jointe."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // What an observer reads.
    let (status, list) = app
        .get(&format!("/api/v1/applications?call_id={joint}"), o)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let mut ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected = [first.as_str(), second.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected, "the submitted applications, not the draft");
    let (status, read) = app.get(&format!("/api/v1/applications/{first}"), o).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    let attachment = read["attachments"][0]["id"].as_str().unwrap();
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/applications/{first}/attachments/{attachment}"),
            o,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (status, thread) = app
        .get(&format!("/api/v1/applications/{first}/messages"), o)
        .await;
    assert_eq!(status, StatusCode::OK, "{thread}");
    assert!(
        thread.to_string().contains("Notre délibération"),
        "{thread}"
    );
    for path in [
        format!("/api/v1/applications/{first}/reviews"),
        format!("/api/v1/calls/{joint}/ranking?stage=written"),
        format!("/api/v1/calls/{joint}/decisions"),
        format!("/api/v1/calls/{joint}/export/ranking.csv?stage=written"),
    ] {
        let response = app.request(Method::GET, &path, o).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let (status, body) = app.get(&format!("/api/v1/applications/{draft}"), o).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);

    // What an observer may not do: act, export personal data, see who else is staff.
    let refused = [
        (
            Method::POST,
            format!("/api/v1/applications/{second}/screening"),
            Some(json!({"outcome": "eligible"})),
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{first}/messages"),
            Some(json!({"body": "Bonjour"})),
        ),
        (
            Method::PUT,
            format!("/api/v1/calls/{joint}/decisions"),
            Some(json!([{"application_id": first, "outcome": "selected", "motivation": "Oui"}])),
        ),
        (
            Method::POST,
            format!("/api/v1/calls/{joint}/decisions/publish"),
            Some(json!({})),
        ),
        (
            Method::GET,
            format!("/api/v1/calls/{joint}/export/applications.csv"),
            None,
        ),
        (Method::GET, format!("/api/v1/calls/{joint}/jurors"), None),
        (Method::GET, format!("/api/v1/calls/{joint}/staff"), None),
    ];
    for (method, path, body) in refused {
        let (status, answer) = app.send(method.clone(), &path, o, body).await;
        assert_problem(status, &answer, StatusCode::FORBIDDEN);
        assert_eq!(answer["code"], "managers_only", "{method} {path}");
    }

    // Removed by an administrator: the access ends at once.
    let (status, body) = app
        .send(
            Method::DELETE,
            &format!("/api/v1/calls/{joint}/staff/{}", solideo.id),
            Some(&calls.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = app.get(&format!("/api/v1/applications/{first}"), o).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .get(&format!("/api/v1/calls/{joint}/ranking?stage=written"), o)
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (_, list) = app
        .get(&format!("/api/v1/applications?call_id={joint}"), o)
        .await;
    assert_eq!(list["items"], json!([]), "{list}");
    let (_, me) = app.get("/api/v1/me", o).await;
    assert_eq!(me["staff"], json!([]), "{me}");
    let (status, audit) = app
        .get(
            &format!("/api/v1/audit?entity_type=call&entity_id={joint}"),
            Some(&calls.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let actions = audit.to_string();
    assert!(
        actions.contains("staff.added") && actions.contains("staff.removed"),
        "{audit}"
    );
}

#[tokio::test]
async fn only_administrators_grant_and_remove_roles_and_a_call_role_names_its_call() {
    let app = TestApp::spawn().await;
    let calls = two_calls(&app).await;
    let manager = someone(&app, "appels@cojop.example").await;
    let observer = someone(&app, "suivi@solideo.example").await;
    let joint = &calls.joint;
    app.staff_role(
        &calls.admin,
        &manager.token,
        &manager.email,
        joint,
        "manager",
    )
    .await;
    let invitation = app
        .mailbox
        .wait_for_match(&manager.email, "with an invitation", |e| {
            e.text().contains("/invitations/accept?token=")
        })
        .await;
    let (_, call) = app.get(&format!("/api/v1/calls/{joint}"), None).await;
    let title = call["title"]["fr"].as_str().unwrap();
    assert!(
        invitation.text().contains(title) && invitation.text().contains("responsable"),
        "the invitation names the role and the call: {}",
        invitation.text()
    );
    app.staff_role(
        &calls.admin,
        &observer.token,
        &observer.email,
        joint,
        "observer",
    )
    .await;

    // A manager lists the staff, grants nothing and removes nobody.
    let (status, staff) = app
        .get(
            &format!("/api/v1/calls/{joint}/staff"),
            Some(&manager.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{staff}");
    let roles: Vec<(&str, &str)> = staff["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["email"].as_str().unwrap(), s["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles.len(), 2, "{staff}");
    assert!(
        roles.contains(&(manager.email.as_str(), "manager")),
        "{staff}"
    );
    assert!(
        roles.contains(&(observer.email.as_str(), "observer")),
        "{staff}"
    );
    let (status, body) = app
        .post(
            "/api/v1/invitations",
            Some(&manager.token),
            json!({"email": "ami@cojop.example", "role": "manager", "call_id": joint}),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    let (status, body) = app
        .send(
            Method::DELETE,
            &format!("/api/v1/calls/{joint}/staff/{}", observer.id),
            Some(&manager.token),
            None,
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);

    // A call role without a call, or with an unknown one, is refused.
    let (status, body) = app
        .post(
            "/api/v1/invitations",
            Some(&calls.admin),
            json!({"email": "ami@cojop.example", "role": "observer"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["call_id"], "{body}");
    let (status, body) = app
        .post(
            "/api/v1/invitations",
            Some(&calls.admin),
            json!({"email": "ami@cojop.example", "role": "manager", "call_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["call_id"], "{body}");

    // Personal tokens: staff actions need the `admin` scope, which a manager may give their own tokens.
    let token = |scopes: Value| {
        let app = &app;
        let session = manager.token.clone();
        async move {
            let (status, created) = app
                .post(
                    "/api/v1/me/tokens",
                    Some(&session),
                    json!({"name": "script", "scopes": scopes}),
                )
                .await;
            (
                status,
                created["token"].as_str().unwrap_or_default().to_owned(),
            )
        }
    };
    let ranking = format!("/api/v1/calls/{joint}/ranking?stage=written");
    let (status, reads) = token(json!(["applications:read"])).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = app.get(&ranking, Some(&reads)).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    let (status, staff_token) = token(json!(["admin"])).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = app.get(&ranking, Some(&staff_token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.get("/api/v1/audit", Some(&staff_token)).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    let someone_else = app.applicant("personne@ailleurs.example").await;
    let (status, body) = app
        .post(
            "/api/v1/me/tokens",
            Some(&someone_else),
            json!({"name": "script", "scopes": ["admin"]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn an_unverified_account_acts_as_staff_only_once_the_emailed_link_proves_its_address() {
    let app = TestApp::spawn().await;
    let calls = two_calls(&app).await;
    let email = "appels@cojop.example";
    app.register(email, "fr").await;
    let session = app.login(email, PASSWORD).await;
    let (status, invitation) = app
        .post(
            "/api/v1/invitations",
            Some(&calls.admin),
            json!({"email": email, "role": "manager", "call_id": calls.joint}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invitation}");
    let ranking = format!("/api/v1/calls/{}/ranking?stage=written", calls.joint);

    // Signed in but unverified, with no role yet: nothing.
    let (status, body) = app.get(&ranking, Some(&session)).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "email_not_verified");

    // The link reached the mailbox: the address is verified and the role taken.
    let token = app
        .mailbox
        .wait_for_match(email, "with an invitation", |e| {
            e.text().contains("/invitations/accept?token=")
        })
        .await
        .token();
    let (status, body) = app
        .post(
            "/api/v1/invitations/accept",
            Some(&session),
            json!({"token": token}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, me) = app.get("/api/v1/me", Some(&session)).await;
    assert_eq!(me["email_verified"], true, "{me}");
    assert_eq!(me["staff"][0]["role"], "manager", "{me}");
    let (status, body) = app.get(&ranking, Some(&session)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
