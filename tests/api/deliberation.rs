//! Deliberation, end to end: whole calls run through the API alone, from the first application to the
//! published decisions — a jury with a conflict of interest, automatic assignment, blind reviews, the ranking
//! checked against an independent computation, decisions, their emails where they arrive, and the exports.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use cordee::clock::Clock;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

// --- The cast and the props ---------------------------------------------------------------------------------

/// An applicant's eligible application, as its applicant knows it.
struct Candidate {
    /// The organization's name.
    name: String,
    /// The applicant's email (the organization's only member).
    email: String,
    /// The applicant's session token.
    token: String,
    /// The application.
    id: String,
    /// Its reference, such as `EXP-2026-0003`.
    reference: String,
}

/// A juror: their email, session token and account id.
struct Juror {
    email: String,
    token: String,
    id: String,
}

/// A criterion of a stage, as the call publishes it.
struct Criterion {
    key: String,
    weight: f64,
    min: f64,
    max: f64,
}

/// A call from `template` that opened yesterday and closes in two days (the tests move the clock past it
/// without logging in again), published; returns its id.
async fn open_call(app: &TestApp, admin: &str, template: &str, slug: &str) -> String {
    let call = app
        .open_call_closing_in(admin, template, slug, chrono::Duration::days(2))
        .await;
    call["id"].as_str().unwrap().to_owned()
}

/// The call as anyone reads it.
async fn call_view(app: &TestApp, call_id: &str) -> Value {
    let (status, call) = app.get(&format!("/api/v1/calls/{call_id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{call}");
    call
}

/// The criteria of `stage`, read from the published call.
async fn criteria_of(app: &TestApp, call_id: &str, stage: &str) -> Vec<Criterion> {
    let call = call_view(app, call_id).await;
    let stage = call["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == stage)
        .unwrap_or_else(|| panic!("the call has a {stage} stage: {call}"));
    stage["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Criterion {
            key: c["key"].as_str().unwrap().to_owned(),
            weight: c["weight"].as_f64().unwrap(),
            min: c["min"].as_f64().unwrap(),
            max: c["max"].as_f64().unwrap(),
        })
        .collect()
}

/// An organization of `kind` applies with complete answers and its required file, and submits.
async fn apply(app: &TestApp, call_id: &str, kind: &str, name: &str, email: &str) -> Candidate {
    let token = app.applicant(email).await;
    let org = app.organization(&token, kind, name).await;
    let (answers, file_field) = match kind {
        "territory" => (exp_answers(), "support_letter"),
        _ => (atl_answers(), "pitch_deck"),
    };
    let (status, created) = app
        .post(
            &format!("/api/v1/calls/{call_id}/applications"),
            Some(&token),
            json!({"organization_id": org, "answers": answers}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, file) = app
        .upload(&token, &id, file_field, "dossier.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let (status, submitted) = app
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    assert_eq!(submitted["status"], "submitted");
    Candidate {
        name: name.to_owned(),
        email: email.to_owned(),
        token,
        id,
        reference: submitted["reference"].as_str().unwrap().to_owned(),
    }
}

/// Staff screen the application eligible.
async fn screen_eligible(app: &TestApp, admin: &str, candidate: &Candidate) {
    let (status, screened) = app
        .post(
            &format!("/api/v1/applications/{}/screening", candidate.id),
            Some(admin),
            json!({"outcome": "eligible"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{screened}");
    assert_eq!(screened["status"], "eligible");
}

/// The status of the application as its applicant sees it.
async fn status_seen(app: &TestApp, candidate: &Candidate) -> String {
    let (status, seen) = app
        .get(
            &format!("/api/v1/applications/{}", candidate.id),
            Some(&candidate.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    seen["status"].as_str().unwrap().to_owned()
}

/// Registers `email` and adds the account to the call's jury.
async fn juror(app: &TestApp, admin: &str, call_id: &str, email: &str) -> Juror {
    let token = app.applicant(email).await;
    let (_, me) = app.get("/api/v1/me", Some(&token)).await;
    let id = me["id"].as_str().unwrap().to_owned();
    let (status, added) = app
        .post(
            &format!("/api/v1/calls/{call_id}/jurors"),
            Some(admin),
            json!({"user_id": id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    Juror {
        email: email.to_owned(),
        token,
        id,
    }
}

/// The call's assignments for `stage` as `(application, juror)` pairs.
async fn assignments(
    app: &TestApp,
    admin: &str,
    call_id: &str,
    stage: &str,
) -> Vec<(String, String)> {
    let (status, list) = app
        .get(
            &format!("/api/v1/calls/{call_id}/assignments?stage={stage}"),
            Some(admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert_eq!(a["stage"], stage, "{a}");
            (
                a["application_id"].as_str().unwrap().to_owned(),
                a["juror_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The juror's pending assignments in the call for `stage`, as they see them.
async fn my_assignments(app: &TestApp, juror: &Juror, call_id: &str, stage: &str) -> Vec<Value> {
    let (status, mine) = app
        .get(
            &format!("/api/v1/me/assignments?call_id={call_id}"),
            Some(&juror.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["stage"] == stage)
        .cloned()
        .collect()
}

/// A juror's scores: the application's merit, shifted by the juror's temper (the second juror is harsher on
/// the second criterion, the third more lenient on the third one), kept within `[min, max]`.
fn given_scores(merit: &[f64], juror: usize, criteria: &[Criterion]) -> Vec<f64> {
    let mut values = merit.to_vec();
    match juror {
        1 => values[1] -= 0.5,
        2 => values[2] += 0.5,
        _ => {}
    }
    values
        .iter()
        .zip(criteria)
        .map(|(v, c)| v.clamp(c.min, c.max))
        .collect()
}

/// The weighted score of one review on 0–100, computed by hand: Σ weight · (score − min) / (max − min).
fn weighted(criteria: &[Criterion], values: &[f64]) -> f64 {
    let total: f64 = criteria.iter().map(|c| c.weight).sum();
    criteria
        .iter()
        .zip(values)
        .map(|(c, v)| c.weight * (v - c.min) / (c.max - c.min))
        .sum::<f64>()
        * 100.0
        / total
}

/// The juror saves a draft of their review with a comment, then submits it.
async fn review(
    app: &TestApp,
    juror: &Juror,
    application: &str,
    stage: &str,
    criteria: &[Criterion],
    values: &[f64],
) {
    let scores: serde_json::Map<String, Value> = criteria
        .iter()
        .zip(values)
        .map(|(c, v)| (c.key.clone(), json!(v)))
        .collect();
    let (status, draft) = app
        .send(
            Method::PUT,
            &format!("/api/v1/applications/{application}/reviews/mine"),
            Some(&juror.token),
            Some(json!({"stage": stage, "scores": scores, "comment": "Lu et noté en séance."})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(draft["status"], "draft");
    let (status, submitted) = app
        .post(
            &format!("/api/v1/applications/{application}/reviews/mine/submit"),
            Some(&juror.token),
            json!({"stage": stage}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    assert_eq!(submitted["status"], "submitted");
}

/// The mean and the sample standard deviation (divisor n − 1; none for a single value).
fn mean_and_sd(values: &[f64]) -> (f64, Option<f64>) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.len() > 1)
        .then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    (mean, sd)
}

/// One expected line of a ranking, computed in the test.
struct Expected {
    application: String,
    score: f64,
    stddev: f64,
    normalized: f64,
    criteria: BTreeMap<String, f64>,
}

/// The ranking of a stage computed independently from the reviews the jurors gave:
/// `given` holds `(application, juror, values)` for every submitted review.
fn expected_ranking(criteria: &[Criterion], given: &[(String, String, Vec<f64>)]) -> Vec<Expected> {
    // Each juror's weighted scores, for the z-scores.
    let mut by_juror: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (_, juror, values) in given {
        by_juror
            .entry(juror.as_str())
            .or_default()
            .push(weighted(criteria, values));
    }
    let juror_stats: BTreeMap<&str, (f64, Option<f64>)> = by_juror
        .iter()
        .map(|(juror, values)| (*juror, mean_and_sd(values)))
        .collect();
    let applications: BTreeSet<&str> = given.iter().map(|(a, _, _)| a.as_str()).collect();
    let mut lines: Vec<Expected> = applications
        .into_iter()
        .map(|application| {
            let own: Vec<&(String, String, Vec<f64>)> =
                given.iter().filter(|(a, _, _)| a == application).collect();
            let weights: Vec<f64> = own.iter().map(|(_, _, v)| weighted(criteria, v)).collect();
            let (score, stddev) = mean_and_sd(&weights);
            let z: Vec<f64> = own
                .iter()
                .zip(&weights)
                .map(|((_, juror, _), w)| match juror_stats[juror.as_str()] {
                    (mean, Some(sd)) if sd > 1e-9 => (w - mean) / sd,
                    _ => 0.0,
                })
                .collect();
            let (mean_z, _) = mean_and_sd(&z);
            let criteria = criteria
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let (mean, _) =
                        mean_and_sd(&own.iter().map(|(_, _, v)| v[i]).collect::<Vec<_>>());
                    (c.key.clone(), mean)
                })
                .collect();
            Expected {
                application: application.to_owned(),
                score,
                stddev: stddev.expect("two reviews per application"),
                normalized: (50.0 + 10.0 * mean_z).clamp(0.0, 100.0),
                criteria,
            }
        })
        .collect();
    lines.sort_by(|a, b| b.score.total_cmp(&a.score));
    for pair in lines.windows(2) {
        assert!(
            pair[0].score - pair[1].score > 1.0,
            "the chosen scores leave no near tie"
        );
    }
    lines
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

/// Reads the stage's ranking and checks every line against the independent computation; returns it.
async fn check_ranking(
    app: &TestApp,
    admin: &str,
    call_id: &str,
    stage: &str,
    expected: &[Expected],
    candidates: &[Candidate],
) -> Vec<Value> {
    let (status, ranking) = app
        .get(
            &format!("/api/v1/calls/{call_id}/ranking?stage={stage}"),
            Some(admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ranking}");
    let ranking = ranking.as_array().unwrap().clone();
    let order: Vec<&str> = ranking
        .iter()
        .map(|l| l["application_id"].as_str().unwrap())
        .collect();
    let expected_order: Vec<&str> = expected.iter().map(|e| e.application.as_str()).collect();
    assert_eq!(order, expected_order, "best first: {ranking:?}");
    for (line, expected) in ranking.iter().zip(expected) {
        let candidate = candidates
            .iter()
            .find(|c| c.id == expected.application)
            .unwrap();
        assert_eq!(line["reference"], candidate.reference.as_str(), "{line}");
        assert_eq!(line["n_reviews"], 2, "{line}");
        close(&line["score"], expected.score);
        close(&line["stddev"], expected.stddev);
        close(&line["normalized_score"], expected.normalized);
        assert_eq!(line["disagreement"], expected.stddev > 15.0, "{line}");
        let keys: BTreeSet<&String> = line["criteria"].as_object().unwrap().keys().collect();
        assert_eq!(keys, expected.criteria.keys().collect(), "{line}");
        for (key, mean) in &expected.criteria {
            close(&line["criteria"][key], *mean);
        }
    }
    ranking
}

/// How many emails of `event` the outbox holds for each recipient (queued in the same transaction as what
/// they announce, so counting them needs no waiting).
async fn queued(app: &TestApp, admin: &str, event: &str) -> BTreeMap<String, usize> {
    let (status, outbox) = app.get("/api/v1/admin/outbox?limit=200", Some(admin)).await;
    assert_eq!(status, StatusCode::OK, "{outbox}");
    assert!(outbox["next_cursor"].is_null(), "one page holds the outbox");
    let mut counts = BTreeMap::new();
    for email in outbox["items"].as_array().unwrap() {
        if email["event"] == event {
            *counts
                .entry(email["recipient"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    counts
}

/// Waits until the outbox has delivered everything it holds.
async fn wait_until_delivered(app: &TestApp, admin: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, outbox) = app.get("/api/v1/admin/outbox?limit=200", Some(admin)).await;
        let items = outbox["items"].as_array().unwrap();
        if items.iter().all(|e| e["status"] == "sent") {
            app.mailbox.wait_for(items.len()).await;
            return;
        }
        assert!(Instant::now() < deadline, "undelivered: {outbox}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The emails received by `to` whose subject contains `part`.
fn received(app: &TestApp, to: &str, part: &str) -> Vec<ReceivedEmail> {
    app.mailbox
        .emails_to(to)
        .into_iter()
        .filter(|e| e.subject().contains(part))
        .collect()
}

/// The subject of a decision email (French).
const DECISION: &str = "Décision concernant votre candidature";

/// The call's decisions, published or not.
async fn decisions(app: &TestApp, admin: &str, call_id: &str) -> Vec<Value> {
    let (status, list) = app
        .get(&format!("/api/v1/calls/{call_id}/decisions"), Some(admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"].as_array().unwrap().clone()
}

async fn publish(app: &TestApp, admin: &str, call_id: &str) -> Value {
    let (status, published) = app
        .post(
            &format!("/api/v1/calls/{call_id}/decisions/publish"),
            Some(admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{published}");
    published
}

/// A test application on a clock that the story moves past the call's closing date.
async fn spawn_with_manual_clock() -> TestApp {
    TestApp::spawn_with(Options {
        clock: Clock::manual(chrono::Utc::now()),
        ..Default::default()
    })
    .await
}

// --- Expérimentation Montagne: one stage, six territories, three jurors, one conflict -----------------------

#[tokio::test]
async fn experimentation_montagne_runs_from_six_territories_to_published_decisions_with_a_conflicted_juror(
) {
    let app = spawn_with_manual_clock().await;
    let admin = app.admin("staff@example.org").await;
    let call_id = open_call(&app, &admin, "experimentation-montagne", "exp-montagne").await;

    // The grid, as the call publishes it: one `written` stage of six criteria scored 0–5.
    let call = call_view(&app, &call_id).await;
    let stages: Vec<&str> = call["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["written"]);
    let criteria = criteria_of(&app, &call_id, "written").await;
    let weights: Vec<f64> = criteria.iter().map(|c| c.weight).collect();
    assert_eq!(
        weights,
        [20.0, 20.0, 20.0, 15.0, 10.0, 15.0],
        "relevance, innovation, feasibility, territory commitment, replicability, sustainability"
    );
    assert!(criteria.iter().all(|c| c.min == 0.0 && c.max == 5.0));

    // Six territories apply while the call is open.
    let territories = [
        (
            "Commune de Chamonix-Mont-Blanc",
            "mobilite@chamonix.example",
        ),
        ("Commune des Houches", "mairie@leshouches.example"),
        ("Commune de Megève", "projets@megeve.example"),
        (
            "Commune de Saint-Gervais-les-Bains",
            "dgs@saintgervais.example",
        ),
        ("Commune de Vallorcine", "mairie@vallorcine.example"),
        ("Commune de Servoz", "secretariat@servoz.example"),
    ];
    let mut candidates = Vec::new();
    for (name, email) in territories {
        candidates.push(apply(&app, &call_id, "territory", name, email).await);
    }
    let references: BTreeSet<&str> = candidates.iter().map(|c| c.reference.as_str()).collect();
    assert_eq!(references.len(), 6, "one reference each");
    assert!(references.iter().all(|r| r.starts_with("EXP-")));

    // The call closes; staff screen the six applications eligible, and evaluation begins.
    app.clock.advance(chrono::Duration::days(3));
    assert_eq!(call_view(&app, &call_id).await["phase"], "closed");
    for candidate in &candidates {
        screen_eligible(&app, &admin, candidate).await;
    }
    let (_, call) = app
        .get(&format!("/api/v1/calls/{call_id}"), Some(&admin))
        .await;
    assert_eq!(call["status"], "evaluation");

    // Three jurors; the third one advised Vallorcine on its project and says so.
    let jurors = [
        juror(&app, &admin, &call_id, "claire@agence-alpine.example").await,
        juror(&app, &admin, &call_id, "yann@institut-montagne.example").await,
        juror(&app, &admin, &call_id, "nadia@parc-ecrins.example").await,
    ];
    let vallorcine = &candidates[4];
    let (status, declared) = app
        .post(
            &format!("/api/v1/calls/{call_id}/conflicts"),
            Some(&jurors[2].token),
            json!({"juror_id": jurors[2].id, "application_id": vallorcine.id, "reason": "J'ai conseillé la commune sur ce projet"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{declared}");
    let (_, conflicts) = app
        .get(&format!("/api/v1/calls/{call_id}/conflicts"), Some(&admin))
        .await;
    let conflicts: Vec<Value> = conflicts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| json!({"juror_id": c["juror_id"], "application_id": c["application_id"], "reason": c["reason"], "source": c["source"], "status": c["status"]}))
        .collect();
    assert_eq!(
        conflicts,
        [
            json!({"juror_id": jurors[2].id, "application_id": vallorcine.id, "reason": "J'ai conseillé la commune sur ce projet", "source": "declared", "status": "active"})
        ],
        "the one declared conflict, nothing detected"
    );

    // Automatic assignment: two jurors per application, never the conflicted one, four applications each.
    let (status, run) = app
        .post(
            &format!("/api/v1/calls/{call_id}/assignments/auto"),
            Some(&admin),
            json!({"stage": "written", "reviews_per_application": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["created"].as_array().unwrap().len(), 12, "{run}");
    assert_eq!(run["short"], json!([]));
    let pairs = assignments(&app, &admin, &call_id, "written").await;
    assert_eq!(pairs.len(), 12);
    assert_eq!(
        pairs.iter().collect::<BTreeSet<_>>().len(),
        12,
        "no pair twice"
    );
    for candidate in &candidates {
        assert_eq!(
            pairs.iter().filter(|(a, _)| *a == candidate.id).count(),
            2,
            "{} has two jurors: {pairs:?}",
            candidate.name
        );
    }
    let loads: Vec<usize> = jurors
        .iter()
        .map(|j| pairs.iter().filter(|(_, id)| *id == j.id).count())
        .collect();
    assert_eq!(loads, [4, 4, 4]);
    assert!(
        !pairs.contains(&(vallorcine.id.clone(), jurors[2].id.clone())),
        "never a conflicted juror"
    );

    // Each juror gets one digest listing their four applications, and only those.
    let digests = queued(&app, &admin, "assignment_digest").await;
    for juror in &jurors {
        assert_eq!(digests.get(&juror.email), Some(&1), "{digests:?}");
        let digest = app
            .mailbox
            .wait_for_subject(&juror.email, "à évaluer")
            .await;
        assert!(
            digest.subject().contains("4 nouvelles candidatures"),
            "{}",
            digest.subject()
        );
        for candidate in &candidates {
            let assigned = pairs.contains(&(candidate.id.clone(), juror.id.clone()));
            assert_eq!(
                digest.text().contains(&candidate.reference),
                assigned,
                "{}",
                digest.text()
            );
        }
    }

    // The conflicted juror cannot read or score Vallorcine.
    let (status, body) = app
        .get(
            &format!("/api/v1/applications/{}", vallorcine.id),
            Some(&jurors[2].token),
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/applications/{}/reviews/mine", vallorcine.id),
            Some(&jurors[2].token),
            Some(json!({"stage": "written", "scores": {}})),
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);

    // Every juror reviews every application on their list. Merit, per territory, in the grid's order.
    let merit: [[f64; 6]; 6] = [
        [4.0, 5.0, 4.0, 4.0, 3.0, 4.0], // Chamonix: 82
        [2.0, 1.0, 2.0, 1.0, 1.0, 2.0], // Les Houches: 31
        [2.0, 3.0, 2.0, 3.0, 2.0, 2.0], // Megève: 47
        [5.0, 5.0, 4.0, 5.0, 4.0, 5.0], // Saint-Gervais: 94
        [4.0, 3.0, 4.0, 4.0, 3.0, 3.0], // Vallorcine: 71
        [3.0, 3.0, 3.0, 4.0, 2.0, 3.0], // Servoz: 61
    ];
    let mut given = Vec::new();
    for (j, juror) in jurors.iter().enumerate() {
        let mine = my_assignments(&app, juror, &call_id, "written").await;
        assert_eq!(mine.len(), 4, "{mine:?}");
        assert!(
            mine.iter().all(|a| a["review_status"] == "pending"),
            "{mine:?}"
        );
        for assignment in mine {
            let id = assignment["application_id"].as_str().unwrap();
            let i = candidates.iter().position(|c| c.id == id).unwrap();
            let values = given_scores(&merit[i], j, &criteria);
            review(&app, juror, id, "written", &criteria, &values).await;
            given.push((id.to_owned(), juror.id.clone(), values));
        }
        let mine = my_assignments(&app, juror, &call_id, "written").await;
        assert!(
            mine.iter().all(|a| a["review_status"] == "submitted"),
            "{mine:?}"
        );
    }
    assert_eq!(given.len(), 12);

    // The ranking matches the computation from the weights, best first.
    let expected = expected_ranking(&criteria, &given);
    let ranking = check_ranking(&app, &admin, &call_id, "written", &expected, &candidates).await;
    let ranked: Vec<&Candidate> = ranking
        .iter()
        .map(|l| {
            candidates
                .iter()
                .find(|c| c.id == l["application_id"].as_str().unwrap())
                .unwrap()
        })
        .collect();
    let names: Vec<&str> = ranked.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Commune de Saint-Gervais-les-Bains",
            "Commune de Chamonix-Mont-Blanc",
            "Commune de Vallorcine",
            "Commune de Servoz",
            "Commune de Megève",
            "Commune des Houches",
        ]
    );

    // Staff deliberate: the first two are selected, the third waitlisted, the others rejected.
    let motivation = |rank: usize, candidate: &Candidate| {
        format!(
            "Classée {} sur 6 par le jury : {}.",
            rank + 1,
            match rank {
                0 | 1 => "un besoin clair et un portage politique fort",
                2 => "un projet solide, retenu si une place se libère",
                _ => "un projet encore trop peu mûr pour une expérimentation",
            }
        ) + &format!(" ({})", candidate.reference)
    };
    let outcome = |rank: usize| match rank {
        0 | 1 => "selected",
        2 => "waitlisted",
        _ => "rejected",
    };
    let items: Vec<Value> = ranked
        .iter()
        .enumerate()
        .map(|(rank, c)| json!({"application_id": c.id, "outcome": outcome(rank), "motivation": motivation(rank, c)}))
        .collect();
    let (status, recorded) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{call_id}/decisions"),
            Some(&admin),
            Some(Value::Array(items)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    assert_eq!(recorded.as_array().unwrap().len(), 6, "{recorded}");
    assert!(recorded
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["published_at"].is_null()));
    for candidate in &candidates {
        assert_eq!(
            status_seen(&app, candidate).await,
            "eligible",
            "pending decisions stay invisible to {}",
            candidate.name
        );
    }
    assert!(queued(&app, &admin, "decision_published").await.is_empty());

    // Publication: final statuses, one email per application to its member, with the motivation.
    let published = publish(&app, &admin, &call_id).await;
    assert_eq!(published["published"], 6);
    for (rank, candidate) in ranked.iter().enumerate() {
        assert_eq!(status_seen(&app, candidate).await, outcome(rank));
    }
    let (_, call) = app
        .get(&format!("/api/v1/calls/{call_id}"), Some(&admin))
        .await;
    assert_eq!(call["status"], "decided");
    let expected_emails: BTreeMap<String, usize> =
        candidates.iter().map(|c| (c.email.clone(), 1)).collect();
    assert_eq!(
        queued(&app, &admin, "decision_published").await,
        expected_emails
    );
    for (rank, candidate) in ranked.iter().enumerate() {
        let email = app
            .mailbox
            .wait_for_subject(&candidate.email, DECISION)
            .await;
        assert!(
            email.subject().contains(&candidate.reference),
            "{}",
            email.subject()
        );
        let text = email.text();
        assert!(text.contains(&motivation(rank, candidate)), "{text}");
        let says = match outcome(rank) {
            "selected" => "retenue !",
            "waitlisted" => "liste d'attente",
            _ => "n'a pas été retenue",
        };
        assert!(text.contains(says), "{text}");
    }

    // Publishing again publishes nothing and emails no one.
    let again = publish(&app, &admin, &call_id).await;
    assert_eq!(again["published"], 0);
    assert_eq!(
        queued(&app, &admin, "decision_published").await,
        expected_emails
    );
    wait_until_delivered(&app, &admin).await;
    for candidate in &candidates {
        assert_eq!(received(&app, &candidate.email, DECISION).len(), 1);
    }
    for juror in &jurors {
        assert_eq!(received(&app, &juror.email, "à évaluer").len(), 1);
    }
    assert!(decisions(&app, &admin, &call_id)
        .await
        .iter()
        .all(|d| d["published_at"].is_string()));

    // The ranking export, for the deliberation minutes: UTF-8 with BOM, the six references in ranking order.
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/calls/{call_id}/export/ranking.csv?stage=written"),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let bytes = response.bytes().await.unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 with a byte-order mark"
    );
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} column: {header:?}"))
    };
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let listed: Vec<&str> = rows.iter().map(|r| &r[column("reference")]).collect();
    let in_order: Vec<&str> = ranked.iter().map(|c| c.reference.as_str()).collect();
    assert_eq!(listed, in_order);
    for (i, (row, expected)) in rows.iter().zip(&expected).enumerate() {
        assert_eq!(&row[column("rank")], (i + 1).to_string());
        assert_eq!(&row[column("score")], format!("{:.2}", expected.score));
        assert_eq!(&row[column("n_reviews")], "2");
    }
}

// --- Alpes Tourisme Lab: a written stage, a shortlist, then the pitch -----------------------------------------

#[tokio::test]
async fn alpes_tourisme_lab_shortlists_two_startups_to_the_pitch_and_decides_between_them() {
    let app = spawn_with_manual_clock().await;
    let admin = app.admin("staff@example.org").await;
    let call_id = open_call(&app, &admin, "alpes-tourisme-lab", "atl-deliberation").await;
    let stages: Vec<String> = call_view(&app, &call_id).await["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(stages, ["written", "pitch"]);
    let written = criteria_of(&app, &call_id, "written").await;
    let pitch = criteria_of(&app, &call_id, "pitch").await;
    assert_eq!(written.iter().map(|c| c.weight).sum::<f64>(), 100.0);
    assert_eq!(pitch.iter().map(|c| c.weight).sum::<f64>(), 100.0);

    // Four start-ups apply; the call closes; all four are eligible.
    let startups = [
        ("Navette Neige SAS", "lea@navette-neige.example"),
        ("Refuge Connecté SAS", "tom@refuge-connecte.example"),
        ("Sentiers Vivants SAS", "ines@sentiers-vivants.example"),
        ("Glacier Data SAS", "omar@glacier-data.example"),
    ];
    let mut candidates = Vec::new();
    for (name, email) in startups {
        candidates.push(apply(&app, &call_id, "startup", name, email).await);
    }
    app.clock.advance(chrono::Duration::days(3));
    for candidate in &candidates {
        screen_eligible(&app, &admin, candidate).await;
    }

    // Two jurors read all four written applications.
    let jurors = [
        juror(&app, &admin, &call_id, "paul@capital-alpes.example").await,
        juror(&app, &admin, &call_id, "sara@office-tourisme.example").await,
    ];
    let (status, run) = app
        .post(
            &format!("/api/v1/calls/{call_id}/assignments/auto"),
            Some(&admin),
            json!({"stage": "written", "reviews_per_application": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["created"].as_array().unwrap().len(), 8, "{run}");
    let written_merit: [[f64; 5]; 4] = [
        [4.0, 4.0, 4.0, 4.0, 4.0], // Navette Neige: 80
        [5.0, 4.0, 5.0, 4.0, 5.0], // Refuge Connecté: 92
        [2.0, 3.0, 2.0, 2.0, 3.0], // Sentiers Vivants: 47
        [3.0, 3.0, 3.0, 4.0, 3.0], // Glacier Data: 64
    ];
    let mut given = Vec::new();
    for (j, juror) in jurors.iter().enumerate() {
        let mine = my_assignments(&app, juror, &call_id, "written").await;
        assert_eq!(mine.len(), 4, "{mine:?}");
        for assignment in mine {
            let id = assignment["application_id"].as_str().unwrap();
            let i = candidates.iter().position(|c| c.id == id).unwrap();
            let values = given_scores(&written_merit[i], j, &written);
            review(&app, juror, id, "written", &written, &values).await;
            given.push((id.to_owned(), juror.id.clone(), values));
        }
    }
    let expected = expected_ranking(&written, &given);
    let ranking = check_ranking(&app, &admin, &call_id, "written", &expected, &candidates).await;
    let (refuge, navette) = (&candidates[1], &candidates[0]);
    assert_eq!(ranking[0]["application_id"], refuge.id.as_str());
    assert_eq!(ranking[1]["application_id"], navette.id.as_str());

    // Staff shortlist the first two to the pitch; the other two are told nothing more but see where they stand.
    let (status, shortlisted) = app
        .post(
            &format!("/api/v1/calls/{call_id}/shortlist"),
            Some(&admin),
            json!({"application_ids": [refuge.id, navette.id], "next_stage": "pitch"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{shortlisted}");
    assert_eq!(shortlisted, json!({"shortlisted": 2, "not_shortlisted": 2}));
    for candidate in &candidates {
        let expected = if [&refuge.id, &navette.id].contains(&&candidate.id) {
            "shortlisted"
        } else {
            "not_shortlisted"
        };
        assert_eq!(
            status_seen(&app, candidate).await,
            expected,
            "{}",
            candidate.name
        );
    }

    // The pitch stage gets its own assignments: the two shortlisted start-ups, both jurors, one new digest each.
    let (status, run) = app
        .post(
            &format!("/api/v1/calls/{call_id}/assignments/auto"),
            Some(&admin),
            json!({"stage": "pitch", "reviews_per_application": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["short"], json!([]));
    let pitch_pairs: BTreeSet<(String, String)> = assignments(&app, &admin, &call_id, "pitch")
        .await
        .into_iter()
        .collect();
    let expected_pairs: BTreeSet<(String, String)> = [refuge, navette]
        .iter()
        .flat_map(|c| jurors.iter().map(|j| (c.id.clone(), j.id.clone())))
        .collect();
    assert_eq!(pitch_pairs, expected_pairs);
    let digests = queued(&app, &admin, "assignment_digest").await;
    for juror in &jurors {
        assert_eq!(digests.get(&juror.email), Some(&2), "{digests:?}");
        let digest = app
            .mailbox
            .wait_for_subject(&juror.email, "2 nouvelles candidatures")
            .await;
        assert!(
            digest.text().contains(&refuge.reference),
            "{}",
            digest.text()
        );
        assert!(
            digest.text().contains(&navette.reference),
            "{}",
            digest.text()
        );
    }

    // The pitch: Navette Neige convinces more than Refuge Connecté.
    let pitch_merit: BTreeMap<&str, [f64; 5]> = [
        (navette.id.as_str(), [5.0, 5.0, 4.0, 5.0, 4.0]), // 93
        (refuge.id.as_str(), [3.0, 4.0, 3.0, 4.0, 3.0]),  // 69
    ]
    .into_iter()
    .collect();
    let mut given_pitch = Vec::new();
    for (j, juror) in jurors.iter().enumerate() {
        let mine = my_assignments(&app, juror, &call_id, "pitch").await;
        assert_eq!(mine.len(), 2, "{mine:?}");
        assert!(
            mine.iter().all(|a| a["review_status"] == "pending"),
            "{mine:?}"
        );
        for assignment in mine {
            let id = assignment["application_id"].as_str().unwrap();
            let values = given_scores(&pitch_merit[id], j, &pitch);
            review(&app, juror, id, "pitch", &pitch, &values).await;
            given_pitch.push((id.to_owned(), juror.id.clone(), values));
        }
    }
    let expected_pitch = expected_ranking(&pitch, &given_pitch);
    let pitch_ranking = check_ranking(
        &app,
        &admin,
        &call_id,
        "pitch",
        &expected_pitch,
        &candidates,
    )
    .await;
    assert_eq!(pitch_ranking.len(), 2);
    assert_eq!(pitch_ranking[0]["application_id"], navette.id.as_str());

    // The written reviews are kept: staff see both stages, a juror only their own two reviews.
    let (status, reviews) = app
        .get(
            &format!("/api/v1/applications/{}/reviews", navette.id),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reviews}");
    let mut seen: Vec<(String, String)> = reviews["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["status"], "submitted", "{r}");
            (
                r["stage"].as_str().unwrap().to_owned(),
                r["juror_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    let mut expected_reviews: Vec<(String, String)> = ["pitch", "written"]
        .iter()
        .flat_map(|s| jurors.iter().map(|j| (s.to_string(), j.id.clone())))
        .collect();
    expected_reviews.sort();
    assert_eq!(seen, expected_reviews);
    let (status, own) = app
        .get(
            &format!("/api/v1/applications/{}/reviews", navette.id),
            Some(&jurors[0].token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{own}");
    let own = own["items"].as_array().unwrap();
    assert_eq!(own.len(), 2, "blind: {own:?}");
    assert!(own.iter().all(|r| r["juror_id"] == jurors[0].id.as_str()));

    // Decisions are for the shortlisted two only: a not-shortlisted start-up cannot be decided on.
    let sentiers = &candidates[2];
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{call_id}/decisions"),
            Some(&admin),
            Some(json!([
                {"application_id": navette.id, "outcome": "selected", "motivation": "Le pitch le plus convaincant."},
                {"application_id": sentiers.id, "outcome": "waitlisted", "motivation": "Repêchée."}
            ])),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["1.application_id"]);
    assert!(
        decisions(&app, &admin, &call_id).await.is_empty(),
        "nothing recorded"
    );

    let selected = "Le pitch le plus convaincant : un pilote prêt pour l'hiver.";
    let waitlisted = "Un très bon dossier écrit, un pilote encore à préciser.";
    let (status, recorded) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{call_id}/decisions"),
            Some(&admin),
            Some(json!([
                {"application_id": navette.id, "outcome": "selected", "motivation": selected},
                {"application_id": refuge.id, "outcome": "waitlisted", "motivation": waitlisted}
            ])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    assert_eq!(status_seen(&app, navette).await, "shortlisted");
    assert_eq!(status_seen(&app, refuge).await, "shortlisted");

    let published = publish(&app, &admin, &call_id).await;
    assert_eq!(published["published"], 2);
    assert_eq!(status_seen(&app, navette).await, "selected");
    assert_eq!(status_seen(&app, refuge).await, "waitlisted");
    assert_eq!(status_seen(&app, sentiers).await, "not_shortlisted");
    assert_eq!(status_seen(&app, &candidates[3]).await, "not_shortlisted");
    let (_, call) = app
        .get(&format!("/api/v1/calls/{call_id}"), Some(&admin))
        .await;
    assert_eq!(call["status"], "decided");
    let emails = queued(&app, &admin, "decision_published").await;
    let everyone: BTreeMap<String, usize> =
        candidates.iter().map(|c| (c.email.clone(), 1)).collect();
    assert_eq!(
        emails, everyone,
        "the ones left out at the shortlist are told too"
    );
    for (candidate, motivation) in [(navette, selected), (refuge, waitlisted)] {
        let email = app
            .mailbox
            .wait_for_subject(&candidate.email, DECISION)
            .await;
        assert!(email.subject().contains(&candidate.reference));
        assert!(email.text().contains(motivation), "{}", email.text());
    }
    assert_eq!(publish(&app, &admin, &call_id).await["published"], 0);
    wait_until_delivered(&app, &admin).await;
    for candidate in &candidates {
        assert_eq!(
            received(&app, &candidate.email, DECISION).len(),
            1,
            "{}",
            candidate.name
        );
    }
    let left_out = received(&app, &sentiers.email, DECISION);
    assert!(
        left_out[0].text().contains("étape suivante"),
        "{}",
        left_out[0].text()
    );
}
