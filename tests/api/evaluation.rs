//! The jury's side of a call: jurors, conflicts of interest, assignments, blind reviews and the ranking,
//! seen from the jurors' and the staff's clients, with the digest emails checked where they arrive.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub(crate) use crate::helpers::scenario::{
    account, add_eligible, call_with_eligible, juror, Call, Juror, Scenario, Template,
};
use crate::helpers::*;

/// The criteria of the Alpes Tourisme Lab `written` stage with their weights (each scored 0–5).
pub(crate) const CRITERIA: [(&str, f64); 5] = [
    ("innovation", 25.0),
    ("mountain_fit", 20.0),
    ("market", 20.0),
    ("team", 20.0),
    ("impact", 15.0),
];

/// Assigns `application` to `juror` for the written stage.
pub(crate) async fn assign(app: &TestApp, call: &Call, application: &str, juror: &Juror) {
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/assignments", call.id),
            Some(&call.admin),
            json!({"application_id": application, "juror_id": juror.id, "stage": "written"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// The written-stage scores, in the order of [`CRITERIA`].
pub(crate) fn scores(values: [f64; 5]) -> Value {
    let map: serde_json::Map<String, Value> = CRITERIA
        .iter()
        .zip(values)
        .map(|((key, _), v)| ((*key).to_owned(), json!(v)))
        .collect();
    Value::Object(map)
}

/// The weighted score on 0–100 of one review, computed by hand: Σ weight · score / 5.
pub(crate) fn weighted(values: [f64; 5]) -> f64 {
    CRITERIA
        .iter()
        .zip(values)
        .map(|((_, weight), v)| weight * v / 5.0)
        .sum()
}

/// Saves the juror's review of `application` as a draft.
pub(crate) async fn save_review(
    app: &TestApp,
    juror: &Juror,
    application: &str,
    body: Value,
) -> (StatusCode, Value) {
    app.send(
        Method::PUT,
        &format!("/api/v1/applications/{application}/reviews/mine"),
        Some(&juror.token),
        Some(body),
    )
    .await
}

/// Submits the juror's review of `application`.
pub(crate) async fn submit_review(
    app: &TestApp,
    juror: &Juror,
    application: &str,
) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/applications/{application}/reviews/mine/submit"),
        Some(&juror.token),
        json!({"stage": "written"}),
    )
    .await
}

/// Scores every criterion of `application` and submits the review.
pub(crate) async fn review(app: &TestApp, juror: &Juror, application: &str, values: [f64; 5]) {
    let (status, body) = save_review(
        app,
        juror,
        application,
        json!({"stage": "written", "scores": scores(values)}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = submit_review(app, juror, application).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The subject part of an assignment digest (French).
const DIGEST: &str = "à évaluer";

/// Waits until `count` digests have arrived for `to`, and returns them.
async fn wait_for_digests(app: &TestApp, to: &str, count: usize) -> Vec<ReceivedEmail> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let digests: Vec<ReceivedEmail> = app
            .mailbox
            .emails_to(to)
            .into_iter()
            .filter(|e| e.subject().contains(DIGEST))
            .collect();
        if digests.len() >= count {
            return digests;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "expected {count} digests for {to}, got {}",
            digests.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// How many assignment digests the outbox holds for each recipient (queued in the same transaction as the
/// assignments, so counting them needs no waiting).
async fn queued_digests(app: &TestApp, admin: &str) -> BTreeMap<String, usize> {
    let (status, outbox) = app.get("/api/v1/admin/outbox?limit=200", Some(admin)).await;
    assert_eq!(status, StatusCode::OK, "{outbox}");
    assert!(outbox["next_cursor"].is_null(), "one page holds the outbox");
    let mut counts = BTreeMap::new();
    for email in outbox["items"].as_array().unwrap() {
        if email["event"] == "assignment_digest" {
            *counts
                .entry(email["recipient"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    counts
}

/// The call's written-stage assignments as `(application, juror)` pairs.
async fn assignments(app: &TestApp, call: &Call) -> Vec<(String, String)> {
    let (status, list) = app
        .get(
            &format!("/api/v1/calls/{}/assignments?stage=written", call.id),
            Some(&call.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["application_id"].as_str().unwrap().to_owned(),
                a["juror_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The call's conflicts as `(juror, application, reason, source)`.
pub(crate) async fn conflicts(
    app: &TestApp,
    call: &Call,
) -> BTreeSet<(String, String, String, String)> {
    let (status, list) = app
        .get(
            &format!("/api/v1/calls/{}/conflicts", call.id),
            Some(&call.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["juror_id"].as_str().unwrap().to_owned(),
                c["application_id"].as_str().unwrap().to_owned(),
                c["reason"].as_str().unwrap().to_owned(),
                c["source"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The ids of the applications `token` sees in its list.
pub(crate) async fn listed(app: &TestApp, token: &str) -> Vec<String> {
    let (status, list) = app.get("/api/v1/applications", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

// --- Jurors ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_admin_manages_the_jury_and_a_juror_sees_the_call_among_their_juries() {
    let app = TestApp::spawn().await;
    let call = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(0)
        .build()
        .await
        .call;
    let marie = account(&app, "marie@conseil-alpin.example").await;
    let path = format!("/api/v1/calls/{}/jurors", call.id);

    let (status, added) = app
        .post(
            &path,
            Some(&call.admin),
            json!({"user_id": marie.id, "affiliations": [{"name": "Cluster Montagne", "siren": "552100554"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["user_id"], marie.id.as_str());
    assert_eq!(added["email"], "marie@conseil-alpin.example");

    let (status, body) = app
        .post(&path, Some(&call.admin), json!({"user_id": marie.id}))
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let outsider = app.applicant("outsider@example.net").await;
    let (status, body) = app
        .post(&path, Some(&outsider), json!({"user_id": marie.id}))
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);

    let (status, jury) = app.get(&path, Some(&call.admin)).await;
    assert_eq!(status, StatusCode::OK, "{jury}");
    let jury = jury["items"].as_array().unwrap();
    assert_eq!(jury.len(), 1, "{jury:?}");
    assert_eq!(jury[0]["user_id"], marie.id.as_str());
    assert_eq!(
        jury[0]["affiliations"],
        json!([{"name": "Cluster Montagne", "siren": "552100554"}])
    );
    let (_, me) = app.get("/api/v1/me", Some(&marie.token)).await;
    assert_eq!(me["juries"], json!([call.id]));

    let response = app
        .request(
            Method::DELETE,
            &format!("{path}/{}", marie.id),
            Some(&call.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (_, jury) = app.get(&path, Some(&call.admin)).await;
    assert_eq!(jury, json!({"items": [], "next_cursor": null}));
    let (_, me) = app.get("/api/v1/me", Some(&marie.token)).await;
    assert_eq!(me["juries"], json!([]));
}

// --- Conflicts ------------------------------------------------------------------------------------------

#[tokio::test]
async fn conflicts_are_declared_by_jurors_for_themselves_and_detected_from_memberships_sirens_and_email_domains(
) {
    let app = TestApp::spawn().await;
    let call = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(3)
        .build()
        .await
        .call;
    let (a0, a1, a2) = (
        &call.applications[0],
        &call.applications[1],
        &call.applications[2],
    );
    // A member of start-up 0.
    let member = juror(&app, &call, "marc@jury-marc.example").await;
    app.add_member(
        &call.founders[0],
        &call.organizations[0],
        &member.email,
        "member",
    )
    .await;
    // Tied to the SIREN every start-up here shares (their SIRET is 73282932000074).
    let tied = account(&app, "sophie@jury-sophie.example").await;
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/jurors", call.id),
            Some(&call.admin),
            json!({"user_id": tied.id, "affiliations": [{"name": "Ancien employeur", "siren": "732829320"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Same email domain as start-up 1's founder.
    let colleague = juror(&app, &call, "dana@startup1.example").await;
    // A webmail address, shared with a member of start-up 2: no conflict.
    let webmail = juror(&app, &call, "gil@gmail.com").await;
    account(&app, "tresorier@gmail.com").await;
    app.add_member(
        &call.founders[2],
        &call.organizations[2],
        "tresorier@gmail.com",
        "member",
    )
    .await;
    let path = format!("/api/v1/calls/{}/conflicts", call.id);

    let (status, declared) = app
        .post(
            &path,
            Some(&colleague.token),
            json!({"juror_id": colleague.id, "application_id": a2, "reason": "Ancien associé du fondateur"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{declared}");
    assert_eq!(declared["source"], "declared");
    assert_eq!(declared["reason"], "Ancien associé du fondateur");
    assert_eq!(declared["juror_id"], colleague.id.as_str());
    assert_eq!(declared["application_id"], a2.as_str());
    let (status, body) = app
        .post(
            &path,
            Some(&colleague.token),
            json!({"juror_id": webmail.id, "application_id": a0, "reason": "Je le soupçonne"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    let (status, body) = app.get(&path, Some(&colleague.token)).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    // Detected conflicts are records: listing them detects nothing; staff ask, and asking again finds
    // nothing new.
    let before = conflicts(&app, &call).await;
    assert!(
        before.iter().all(|(_, _, _, source)| source == "declared"),
        "{before:?}"
    );
    let (status, found) = app
        .post(&format!("{path}/detect"), Some(&call.admin), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    // Six: the member of start-up 0 also shares its members' email domain (his own address).
    assert_eq!(found.as_array().map(Vec::len), Some(6), "{found}");
    assert!(
        found
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "active" && c["source_fact"].is_string()),
        "nobody is assigned yet: every conflict applies at once: {found}"
    );
    let (status, again) = app
        .post(&format!("{path}/detect"), Some(&call.admin), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, json!([]));

    let all = conflicts(&app, &call).await;
    let has = |juror: &Juror, application: &str, reason: &str, source: &str| {
        all.contains(&(
            juror.id.clone(),
            application.to_owned(),
            reason.to_owned(),
            source.to_owned(),
        ))
    };
    assert!(has(&member, a0, "member", "detected"), "{all:?}");
    for application in [a0, a1, a2] {
        assert!(has(&tied, application, "same_siren", "detected"), "{all:?}");
    }
    assert!(
        has(&colleague, a1, "same_email_domain", "detected"),
        "{all:?}"
    );
    assert!(
        has(&colleague, a2, "Ancien associé du fondateur", "declared"),
        "{all:?}"
    );
    let pairs: BTreeSet<(String, String)> = all
        .iter()
        .map(|(juror, application, _, _)| (juror.clone(), application.clone()))
        .collect();
    let expected: BTreeSet<(String, String)> = [
        (&member, a0),
        (&tied, a0),
        (&tied, a1),
        (&tied, a2),
        (&colleague, a1),
        (&colleague, a2),
    ]
    .into_iter()
    .map(|(j, a)| (j.id.clone(), a.clone()))
    .collect();
    assert_eq!(pairs, expected, "nothing for the webmail juror: {all:?}");
}

// --- Manual assignment ----------------------------------------------------------------------------------

#[tokio::test]
async fn a_manual_assignment_refuses_conflicts_drafts_and_unknown_stages_and_emails_the_juror() {
    let app = TestApp::spawn().await;
    let call = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(1)
        .build()
        .await
        .call;
    let application = &call.applications[0];
    let late = app.applicant("late@retard.example").await;
    let org = app.organization(&late, "startup", "Retard SAS").await;
    let (status, draft) = app
        .post(
            &format!("/api/v1/calls/{}/applications", call.id),
            Some(&late),
            json!({"organization_id": org, "answers": atl_answers()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let juror_ok = juror(&app, &call, "paul@jury-paul.example").await;
    let conflicted = juror(&app, &call, "zoe@jury-zoe.example").await;
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/conflicts", call.id),
            Some(&conflicted.token),
            json!({"juror_id": conflicted.id, "application_id": application, "reason": "Ma sœur y travaille"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let path = format!("/api/v1/calls/{}/assignments", call.id);

    let (status, body) = app
        .post(
            &path,
            Some(&call.admin),
            json!({"application_id": application, "juror_id": conflicted.id, "stage": "written"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (status, body) = app
        .post(
            &path,
            Some(&call.admin),
            json!({"application_id": draft["id"], "juror_id": juror_ok.id, "stage": "written"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (status, body) = app
        .post(
            &path,
            Some(&call.admin),
            json!({"application_id": application, "juror_id": juror_ok.id, "stage": "final"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["stage"]);
    assert!(
        queued_digests(&app, &call.admin).await.is_empty(),
        "refused assignments email no one"
    );

    let (status, created) = app
        .post(
            &path,
            Some(&call.admin),
            json!({"application_id": application, "juror_id": juror_ok.id, "stage": "written"}),
        )
        .await;

    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["application_id"], application.as_str());
    assert_eq!(created["juror_id"], juror_ok.id.as_str());
    assert_eq!(created["stage"], "written");
    let digests = wait_for_digests(&app, &juror_ok.email, 1).await;
    let text = digests[0].text();
    assert!(text.contains(&call.references[0]), "{text}");
    assert!(text.contains("Startup 0"), "{text}");
    let (status, body) = app
        .post(
            &path,
            Some(&call.admin),
            json!({"application_id": application, "juror_id": juror_ok.id, "stage": "written"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(
        assignments(&app, &call).await,
        [(application.clone(), juror_ok.id.clone())]
    );
}

// --- Automatic assignment -------------------------------------------------------------------------------

#[tokio::test]
async fn automatic_assignment_balances_the_jurors_avoids_conflicts_fills_gaps_only_and_sends_one_digest_per_run(
) {
    let app = TestApp::spawn().await;
    let (mut call, jurors) = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(6)
        .juror("ana@jury-ana.example")
        .juror("ben@jury-ben.example")
        .juror("cleo@jury-cleo.example")
        .build()
        .await
        .into_parts::<3>();
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/conflicts", call.id),
            Some(&jurors[0].token),
            json!({"juror_id": jurors[0].id, "application_id": call.applications[0], "reason": "Client de mon cabinet"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let path = format!("/api/v1/calls/{}/assignments/auto", call.id);
    let run = json!({"stage": "written", "reviews_per_application": 2});

    let (status, first) = app.post(&path, Some(&call.admin), run.clone()).await;

    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["created"].as_array().unwrap().len(), 12, "{first}");
    assert_eq!(first["short"], json!([]));
    let pairs = assignments(&app, &call).await;
    assert_eq!(pairs.len(), 12);
    let distinct: BTreeSet<&(String, String)> = pairs.iter().collect();
    assert_eq!(distinct.len(), 12, "no pair twice: {pairs:?}");
    for application in &call.applications {
        assert_eq!(
            pairs.iter().filter(|(a, _)| a == application).count(),
            2,
            "{pairs:?}"
        );
    }
    for juror in &jurors {
        assert_eq!(
            pairs.iter().filter(|(_, j)| *j == juror.id).count(),
            4,
            "{pairs:?}"
        );
    }
    let conflicted: BTreeSet<(String, String)> = conflicts(&app, &call)
        .await
        .into_iter()
        .map(|(juror, application, _, _)| (application, juror))
        .collect();
    assert!(conflicted.contains(&(call.applications[0].clone(), jurors[0].id.clone())));
    assert!(
        pairs.iter().all(|pair| !conflicted.contains(pair)),
        "{pairs:?}"
    );
    let queued = queued_digests(&app, &call.admin).await;
    for juror in &jurors {
        assert_eq!(queued.get(&juror.email), Some(&1), "{queued:?}");
        let digest = &wait_for_digests(&app, &juror.email, 1).await[0];
        assert!(
            digest.subject().contains("4 nouvelles candidatures"),
            "{}",
            digest.subject()
        );
    }

    // Re-running with nothing missing creates nothing and emails no one.
    let (status, second) = app.post(&path, Some(&call.admin), run.clone()).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["created"], json!([]));
    assert_eq!(assignments(&app, &call).await.len(), 12);
    assert_eq!(queued_digests(&app, &call.admin).await, queued);

    // A new eligible application: only its gap is filled, and only its two jurors are emailed again.
    add_eligible(&app, &mut call, 6).await;
    let (status, third) = app.post(&path, Some(&call.admin), run).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    let created = third["created"].as_array().unwrap();
    assert_eq!(created.len(), 2, "{third}");
    assert!(created
        .iter()
        .all(|a| a["application_id"] == call.applications[6].as_str()));
    let loads: Vec<usize> = jurors
        .iter()
        .map(|juror| {
            created
                .iter()
                .filter(|a| a["juror_id"] == juror.id.as_str())
                .count()
        })
        .collect();
    let queued = queued_digests(&app, &call.admin).await;
    for (juror, new) in jurors.iter().zip(&loads) {
        assert_eq!(queued.get(&juror.email), Some(&(1 + new)), "{queued:?}");
    }
    for (juror, new) in jurors.iter().zip(&loads) {
        if *new == 1 {
            let digests = wait_for_digests(&app, &juror.email, 2).await;
            let latest = digests
                .iter()
                .find(|d| d.text().contains(&call.references[6]))
                .expect("the new digest lists the new application");
            assert!(
                !latest.text().contains(&call.references[1]),
                "a digest lists new assignments only"
            );
        }
    }
}

// --- A juror's assignments and blind review -------------------------------------------------------------

#[tokio::test]
async fn a_jurors_assignments_go_from_pending_to_draft_to_submitted() {
    let app = TestApp::spawn().await;
    let (call, [juror]) = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(1)
        .juror("ines@jury-ines.example")
        .build()
        .await
        .into_parts();
    let application = &call.applications[0];
    assign(&app, &call, application, &juror).await;
    let path = format!("/api/v1/me/assignments?call_id={}", call.id);
    let status_now = || async {
        let (status, mine) = app.get(&path, Some(&juror.token)).await;
        assert_eq!(status, StatusCode::OK, "{mine}");
        let mine = mine["items"].as_array().unwrap().clone();
        assert_eq!(mine.len(), 1, "{mine:?}");
        assert_eq!(mine[0]["application_id"], application.as_str());
        assert_eq!(mine[0]["stage"], "written");
        mine[0]["review_status"].as_str().unwrap().to_owned()
    };

    assert_eq!(status_now().await, "pending");
    let (status, body) = save_review(
        &app,
        &juror,
        application,
        json!({"stage": "written", "scores": {"innovation": 4}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(status_now().await, "draft");
    review(&app, &juror, application, [4.0, 3.0, 3.0, 4.0, 2.0]).await;
    assert_eq!(status_now().await, "submitted");
}

#[tokio::test]
async fn a_juror_pages_through_their_assignments_with_due_dates_without_withdrawn_or_conflicted_ones(
) {
    let app = TestApp::spawn().await;
    let (call, [juror]) = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(5)
        .juror("ines@jury-ines.example")
        .build()
        .await
        .into_parts();
    for application in &call.applications {
        assign(&app, &call, application, &juror).await;
    }
    let due = "2031-06-30T16:00:00Z";
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{}/stages/written/deadline", call.id),
            Some(&call.admin),
            Some(json!({"due_at": due})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The second application is withdrawn, the fourth's start-up turns out to share the juror's domain.
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{}/withdraw", call.applications[1]),
            Some(&call.founders[1]),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    domain_conflict(&app, &call, 3, &juror, "https://jury-ines.example/").await;

    let first = format!("/api/v1/me/assignments?call_id={}&limit=2", call.id);
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut path = first.clone();
    loop {
        let (status, page) = app.get(&path, Some(&juror.token)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let items = page["items"].as_array().unwrap();
        for item in items {
            assert_eq!(item["review_due_at"], due, "{item}");
            assert_eq!(item["review_status"], "pending", "{item}");
        }
        pages.push(
            items
                .iter()
                .map(|a| a["application_id"].as_str().unwrap().to_owned())
                .collect(),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{first}&cursor={cursor}"),
            None => break,
        }
        assert!(pages.len() < 10, "the cursor moves on: {pages:?}");
    }

    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 1], "full pages: {pages:?}");
    let seen: BTreeSet<&String> = pages.iter().flatten().collect();
    let expected: BTreeSet<&String> = [0, 2, 4].iter().map(|&i| &call.applications[i]).collect();
    assert_eq!(seen, expected, "each visible assignment once: {pages:?}");
    for query in ["limit=0", "limit=201", "limit=many", "cursor=not-a-cursor"] {
        let path = format!("/api/v1/me/assignments?{query}");
        let (status, body) = app.get(&path, Some(&juror.token)).await;
        assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        let field = query.split('=').next().unwrap();
        assert_eq!(failing_fields(&body), [field], "{query}: {body}");
    }
}

#[tokio::test]
async fn an_assigned_juror_reads_the_application_and_an_unassigned_one_does_not_know_it_exists() {
    let app = TestApp::spawn().await;
    let (call, [assigned, unassigned]) = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(2)
        .juror("alix@jury-alix.example")
        .juror("remi@jury-remi.example")
        .build()
        .await
        .into_parts();
    let (mine, other) = (&call.applications[0], &call.applications[1]);
    assign(&app, &call, mine, &assigned).await;

    let (status, seen) = app
        .get(
            &format!("/api/v1/applications/{mine}"),
            Some(&assigned.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["answers"]["solution_name"], "Navette Neige");
    let attachment = seen["attachments"][0]["id"].as_str().unwrap().to_owned();
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/applications/{mine}/attachments/{attachment}"),
            Some(&assigned.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        listed(&app, &assigned.token).await,
        std::slice::from_ref(mine)
    );
    let (status, body) = app
        .get(
            &format!("/api/v1/applications/{other}"),
            Some(&assigned.token),
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);

    let (status, body) = app
        .get(
            &format!("/api/v1/applications/{mine}"),
            Some(&unassigned.token),
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .get(
            &format!("/api/v1/applications/{mine}/reviews"),
            Some(&unassigned.token),
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    assert!(listed(&app, &unassigned.token).await.is_empty());
}

/// Sets the website of an organization as its owner would (read, then PATCH with If-Match).
pub(crate) async fn set_website(app: &TestApp, token: &str, organization: &str, website: &str) {
    let path = format!("/api/v1/organizations/{organization}");
    let response = app
        .request(Method::GET, &path, Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let response = app
        .request(Method::PATCH, &path, Some(token))
        .header("if-match", etag)
        .json(&json!({"website": website}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// A juror assigned an application, who becomes conflicted with it afterwards (see [`domain_conflict`]).
async fn conflicted_after_assignment(app: &TestApp, call: &Call) -> (Juror, String) {
    let application = call.applications[0].clone();
    let juror = juror(app, call, "hugo@cabinet-hugo.example").await;
    assign(app, call, &application, &juror).await;
    let (status, _) = app
        .get(
            &format!("/api/v1/applications/{application}"),
            Some(&juror.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "readable before the conflict");
    domain_conflict(app, call, 0, &juror, "https://www.cabinet-hugo.example/").await;
    (juror, application)
}

/// The `i`th applying start-up takes the juror's firm's address as its website (same email domain): the
/// conflict is flagged, and staff confirm it.
async fn domain_conflict(app: &TestApp, call: &Call, i: usize, juror: &Juror, website: &str) {
    let application = &call.applications[i];
    set_website(app, &call.founders[i], &call.organizations[i], website).await;
    let (status, list) = app
        .get(
            &format!("/api/v1/calls/{}/conflicts", call.id),
            Some(&call.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let flagged = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["juror_id"] == juror.id.as_str() && c["application_id"] == application.as_str())
        .unwrap_or_else(|| panic!("flagged: {list}"))
        .clone();
    assert_eq!(flagged["status"], "flagged", "{flagged}");
    assert_eq!(flagged["reason"], "same_email_domain", "{flagged}");
    let (status, confirmed) = app
        .post(
            &format!(
                "/api/v1/calls/{}/conflicts/{}/confirm",
                call.id,
                flagged["id"].as_str().unwrap()
            ),
            Some(&call.admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    assert_eq!(confirmed["status"], "active", "{confirmed}");
}

#[tokio::test]
async fn a_conflicted_juror_gets_404_on_the_application_its_attachments_and_its_reviews() {
    let app = TestApp::spawn().await;
    let call = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(1)
        .build()
        .await
        .call;
    let (_, admin_view) = app
        .get(
            &format!("/api/v1/applications/{}", call.applications[0]),
            Some(&call.admin),
        )
        .await;
    let attachment = admin_view["attachments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (juror, application) = conflicted_after_assignment(&app, &call).await;

    let (status, body) = app
        .get(
            &format!("/api/v1/applications/{application}"),
            Some(&juror.token),
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/applications/{application}/attachments/{attachment}"),
            Some(&juror.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let (status, body) = app
        .get(
            &format!("/api/v1/applications/{application}/reviews"),
            Some(&juror.token),
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = save_review(
        &app,
        &juror,
        &application,
        json!({"stage": "written", "scores": {"innovation": 5}}),
    )
    .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_conflicted_juror_does_not_see_the_application_in_their_lists() {
    let app = TestApp::spawn().await;
    let call = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(1)
        .build()
        .await
        .call;
    let (juror, application) = conflicted_after_assignment(&app, &call).await;

    let seen = listed(&app, &juror.token).await;

    assert!(!seen.contains(&application), "{seen:?}");
}

#[tokio::test]
async fn reviews_are_blind_staff_see_every_review_and_a_juror_only_their_own() {
    let app = TestApp::spawn().await;
    let (call, [first, second]) = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(1)
        .juror("lou@jury-lou.example")
        .juror("noe@jury-noe.example")
        .build()
        .await
        .into_parts();
    let application = &call.applications[0];
    assign(&app, &call, application, &first).await;
    assign(&app, &call, application, &second).await;
    review(&app, &first, application, [5.0, 4.0, 4.0, 3.0, 2.0]).await;
    review(&app, &second, application, [1.0, 2.0, 2.0, 1.0, 1.0]).await;
    let path = format!("/api/v1/applications/{application}/reviews");

    let (status, all) = app.get(&path, Some(&call.admin)).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let authors: BTreeSet<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["juror_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        authors,
        BTreeSet::from([first.id.as_str(), second.id.as_str()])
    );
    for (juror, innovation) in [(&first, 5.0), (&second, 1.0)] {
        let (status, own) = app.get(&path, Some(&juror.token)).await;
        assert_eq!(status, StatusCode::OK, "{own}");
        let own = own["items"].as_array().unwrap();
        assert_eq!(own.len(), 1, "blind: {own:?}");
        assert_eq!(own[0]["juror_id"], juror.id.as_str());
        assert_eq!(own[0]["scores"]["innovation"], innovation);
        assert_eq!(own[0]["status"], "submitted");
    }
}

// --- Reviews --------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_review_is_checked_saved_as_a_draft_then_submitted_and_locked() {
    let app = TestApp::spawn().await;
    let (call, [juror]) = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(1)
        .juror("eva@jury-eva.example")
        .build()
        .await
        .into_parts();
    let application = &call.applications[0];
    assign(&app, &call, application, &juror).await;

    let (status, body) = save_review(
        &app,
        &juror,
        application,
        json!({"stage": "written", "scores": {"innovation": 6, "market": -1, "charisma": 3, "team": 2}}),
    )
    .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        failing_fields(&body),
        ["scores.charisma", "scores.innovation", "scores.market"]
    );

    let (status, draft) = save_review(
        &app,
        &juror,
        application,
        json!({"stage": "written", "scores": {"innovation": 4, "mountain_fit": 5, "market": 2.5, "team": 3}, "comment": "Solide, marché à préciser."}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["scores"]["market"], 2.5);
    assert_eq!(draft["comment"], "Solide, marché à préciser.");

    let (status, body) = submit_review(&app, &juror, application).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["scores.impact"]);

    let (status, body) = save_review(
        &app,
        &juror,
        application,
        json!({"stage": "written", "scores": scores([4.0, 5.0, 2.5, 3.0, 0.0]), "comment": "Solide, marché à préciser."}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, submitted) = submit_review(&app, &juror, application).await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    assert_eq!(submitted["status"], "submitted");
    assert!(submitted["submitted_at"].is_string(), "{submitted}");
    assert_eq!(submitted["scores"], scores([4.0, 5.0, 2.5, 3.0, 0.0]));

    let (status, body) = save_review(
        &app,
        &juror,
        application,
        json!({"stage": "written", "scores": scores([5.0, 5.0, 5.0, 5.0, 5.0])}),
    )
    .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (status, body) = submit_review(&app, &juror, application).await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (_, own) = app
        .get(
            &format!("/api/v1/applications/{application}/reviews"),
            Some(&juror.token),
        )
        .await;
    assert_eq!(own["items"][0]["scores"], scores([4.0, 5.0, 2.5, 3.0, 0.0]));
}

// --- Ranking --------------------------------------------------------------------------------------------

/// The sample standard deviation (divisor n − 1).
fn sample_sd(values: &[f64]) -> f64 {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    (squares / (values.len() - 1) as f64).sqrt()
}

#[track_caller]
fn close(actual: &Value, expected: f64) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{actual} is not a number"));
    assert!(
        (actual - expected).abs() < 1e-6,
        "{actual} is not {expected}"
    );
}

#[tokio::test]
async fn the_ranking_weighs_the_criteria_orders_best_first_flags_disagreement_and_ignores_conflicted_jurors(
) {
    let app = TestApp::spawn().await;
    let (call, [j1, j2, j3]) = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(3)
        .juror("j1@jury-un.example")
        .juror("j2@jury-deux.example")
        .juror("j3@jury-trois.example")
        .build()
        .await
        .into_parts();
    let (a, b, c) = (
        &call.applications[0],
        &call.applications[1],
        &call.applications[2],
    );
    // Scores in the order innovation, mountain_fit, market, team, impact.
    let given: Vec<(&Juror, &String, [f64; 5])> = vec![
        (&j1, a, [5.0, 5.0, 5.0, 5.0, 5.0]),
        (&j2, a, [4.0, 4.0, 4.0, 4.0, 4.0]),
        (&j1, b, [5.0, 0.0, 5.0, 0.0, 5.0]),
        (&j2, b, [1.0, 1.0, 1.0, 1.0, 1.0]),
        (&j1, c, [3.0, 4.0, 2.0, 5.0, 1.0]),
        (&j2, c, [3.0, 3.0, 3.0, 3.0, 3.0]),
    ];
    for (juror, application, values) in &given {
        assign(&app, &call, application, juror).await;
        review(&app, juror, application, *values).await;
    }
    // The third juror scores b at the top, then declares a conflict with it: that review must not count.
    assign(&app, &call, b, &j3).await;
    review(&app, &j3, b, [5.0, 5.0, 5.0, 5.0, 5.0]).await;
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/conflicts", call.id),
            Some(&j3.token),
            json!({"juror_id": j3.id, "application_id": b, "reason": "Je connais le fondateur"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let path = format!("/api/v1/calls/{}/ranking", call.id);

    let (status, ranking) = app
        .get(&format!("{path}?stage=written"), Some(&call.admin))
        .await;

    assert_eq!(status, StatusCode::OK, "{ranking}");
    let ranking = ranking.as_array().unwrap().clone();
    let order: Vec<&str> = ranking
        .iter()
        .map(|l| l["application_id"].as_str().unwrap())
        .collect();
    assert_eq!(order, [a.as_str(), c.as_str(), b.as_str()], "{ranking:?}");
    for line in &ranking {
        let application = line["application_id"].as_str().unwrap();
        let own: Vec<[f64; 5]> = given
            .iter()
            .filter(|(_, app_id, _)| app_id.as_str() == application)
            .map(|(_, _, values)| *values)
            .collect();
        let weights: Vec<f64> = own.iter().copied().map(weighted).collect();
        let mean = weights.iter().sum::<f64>() / weights.len() as f64;
        assert_eq!(line["n_reviews"], 2, "{line}");
        close(&line["score"], mean);
        close(&line["stddev"], sample_sd(&weights));
        assert_eq!(line["disagreement"], sample_sd(&weights) > 15.0, "{line}");
        for (i, (key, _)) in CRITERIA.iter().enumerate() {
            close(
                &line["criteria"][key],
                own.iter().map(|v| v[i]).sum::<f64>() / own.len() as f64,
            );
        }
        let reference = &call.references[call
            .applications
            .iter()
            .position(|id| id == application)
            .unwrap()];
        assert_eq!(line["reference"], reference.as_str());
    }
    // By hand: a = (100 + 80) / 2, c = (62 + 60) / 2, b = (60 + 20) / 2 with a spread of 28.3 points.
    close(&ranking[0]["score"], 90.0);
    close(&ranking[1]["score"], 61.0);
    close(&ranking[2]["score"], 40.0);
    assert_eq!(ranking[0]["disagreement"], false);
    assert_eq!(ranking[2]["disagreement"], true);

    // Normalised per juror: each juror's weighted scores become z-scores, averaged, shown as 50 + 10·z.
    let (status, normalized) = app
        .get(
            &format!("{path}?stage=written&normalize=zscore"),
            Some(&call.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{normalized}");
    let mut z_by_application: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for juror in [&j1, &j2] {
        let own: Vec<(&String, f64)> = given
            .iter()
            .filter(|(j, _, _)| j.id == juror.id)
            .map(|(_, application, values)| (*application, weighted(*values)))
            .collect();
        let values: Vec<f64> = own.iter().map(|(_, w)| *w).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let sd = sample_sd(&values);
        for (application, w) in own {
            z_by_application
                .entry(application.as_str())
                .or_default()
                .push((w - mean) / sd);
        }
    }
    let normalized = normalized.as_array().unwrap();
    assert_eq!(normalized.len(), 3);
    for line in normalized {
        let z = &z_by_application[line["application_id"].as_str().unwrap()];
        close(
            &line["normalized_score"],
            50.0 + 10.0 * z.iter().sum::<f64>() / z.len() as f64,
        );
    }
    let scores: Vec<f64> = normalized
        .iter()
        .map(|l| l["normalized_score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
}

#[tokio::test]
async fn the_ranking_is_for_staff_and_known_stages_only() {
    let app = TestApp::spawn().await;
    let call = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(1)
        .build()
        .await
        .call;
    let path = format!("/api/v1/calls/{}/ranking", call.id);

    let (status, body) = app
        .get(&format!("{path}?stage=written"), Some(&call.founders[0]))
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .get(&format!("{path}?stage=final"), Some(&call.admin))
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["stage"]);
    let (status, body) = app
        .get(
            &format!("{path}?stage=written&normalize=zscore"),
            Some(&call.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_conflicted_juror_does_not_see_the_application_among_their_assignments() {
    let app = TestApp::spawn().await;
    let call = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(1)
        .build()
        .await
        .call;
    let (juror, application) = conflicted_after_assignment(&app, &call).await;

    let (status, mine) = app.get("/api/v1/me/assignments", Some(&juror.token)).await;

    assert_eq!(status, StatusCode::OK, "{mine}");
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["application_id"] != application.as_str()),
        "{mine}"
    );
}

#[tokio::test]
async fn a_juror_removed_from_the_jury_no_longer_reads_their_assigned_applications() {
    let app = TestApp::spawn().await;
    let (call, [juror]) = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(1)
        .jurors(1)
        .build()
        .await
        .into_parts();
    let application = &call.applications[0];
    assign(&app, &call, application, &juror).await;
    let response = app
        .request(
            Method::DELETE,
            &format!("/api/v1/calls/{}/jurors/{}", call.id, juror.id),
            Some(&call.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let (status, body) = app
        .get(
            &format!("/api/v1/applications/{application}"),
            Some(&juror.token),
        )
        .await;

    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = save_review(
        &app,
        &juror,
        application,
        json!({"stage": "written", "scores": {"innovation": 5}}),
    )
    .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    assert!(listed(&app, &juror.token).await.is_empty());
}
