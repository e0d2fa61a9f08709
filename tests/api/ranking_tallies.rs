//! The ranking kept current as reviews change: random sequences of what changes a ranking — reviews
//! submitted with random scores, reopened and submitted again, conflicts declared, conflicts detected after
//! the assignment and confirmed or dismissed by staff, withdrawals — made through the HTTP API, after which
//! the ranking route answers exactly (every field, to the bit, in the same order) what the full
//! recomputation from every submitted review gives (`service::reviews::full_ranking`), and rebuilding the
//! call's tallies from scratch finds the rows that were maintained.

use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::evaluation::{assign, save_review, scores, set_website, submit_review};
use crate::helpers::scenario::{account, add_eligible, Call, Juror, Scenario};
use crate::helpers::*;

/// One change made to the call.
#[derive(Debug, Clone)]
enum Step {
    /// The juror scores the application (saving a draft) and submits it.
    Review {
        application: usize,
        juror: usize,
        scores: [f64; 5],
    },
    /// Staff reopen the juror's submitted review (it stops counting until submitted again).
    Reopen { application: usize, juror: usize },
    /// Staff declare a conflict of the juror with the application.
    Declare { application: usize, juror: usize },
    /// The applicant takes the juror's domain as website: a conflict is flagged, then confirmed (it applies)
    /// or dismissed.
    Detect {
        application: usize,
        juror: usize,
        confirm: bool,
    },
    /// The applicant withdraws the application.
    Withdraw { application: usize },
}

/// A score on the 0–5 scale: often a half point (ties), sometimes any number in range.
fn score() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => (0u8..=10).prop_map(|half| f64::from(half) / 2.0),
        1 => 0.0f64..=5.0,
    ]
}

fn step(applications: usize, jurors: usize) -> impl Strategy<Value = Step> {
    let a = 0..applications;
    let j = 0..jurors;
    prop_oneof![
        8 => (a.clone(), j.clone(), prop::array::uniform5(score())).prop_map(
            |(application, juror, scores)| Step::Review { application, juror, scores }
        ),
        2 => (a.clone(), j.clone()).prop_map(|(application, juror)| Step::Reopen { application, juror }),
        1 => (a.clone(), j.clone()).prop_map(|(application, juror)| Step::Declare { application, juror }),
        1 => (a.clone(), j, any::<bool>()).prop_map(|(application, juror, confirm)| Step::Detect {
            application,
            juror,
            confirm
        }),
        1 => a.prop_map(|application| Step::Withdraw { application }),
    ]
}

/// A call size and a sequence of steps on it.
fn plan() -> impl Strategy<Value = (usize, usize, Vec<Step>)> {
    (3usize..=5, 2usize..=4).prop_flat_map(|(applications, jurors)| {
        (
            Just(applications),
            Just(jurors),
            prop::collection::vec(step(applications, jurors), 6..24),
        )
    })
}

/// The juror's review of the application, as staff list it.
async fn review_of(app: &TestApp, call: &Call, application: &str, juror: &Juror) -> Option<Value> {
    let (status, list) = app
        .get(
            &format!("/api/v1/applications/{application}/reviews"),
            Some(&call.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["juror_id"] == juror.id.as_str())
        .cloned()
}

/// Makes one step through the API. Refusals are part of the game (a review locked or conflicted, an
/// application withdrawn); a server error is not.
async fn apply(app: &TestApp, call: &Call, jurors: &[Juror], step: &Step) {
    let refused = |status: StatusCode, body: &Value| {
        assert!(!status.is_server_error(), "{step:?}: {status} {body}");
    };
    match step {
        Step::Review {
            application,
            juror,
            scores: given,
        } => {
            let (application, juror) = (&call.applications[*application], &jurors[*juror]);
            let body = json!({"stage": "written", "scores": scores(*given)});
            let (status, saved) = save_review(app, juror, application, body).await;
            refused(status, &saved);
            if status == StatusCode::OK {
                let (status, submitted) = submit_review(app, juror, application).await;
                refused(status, &submitted);
            }
        }
        Step::Reopen { application, juror } => {
            let application = &call.applications[*application];
            let Some(review) = review_of(app, call, application, &jurors[*juror]).await else {
                return;
            };
            let path = format!(
                "/api/v1/applications/{application}/reviews/{}/reopen",
                review["id"].as_str().unwrap()
            );
            let (status, body) = app.post(&path, Some(&call.admin), json!({})).await;
            refused(status, &body);
        }
        Step::Declare { application, juror } => {
            let (status, body) = app
                .post(
                    &format!("/api/v1/calls/{}/conflicts", call.id),
                    Some(&call.admin),
                    json!({
                        "juror_id": jurors[*juror].id,
                        "application_id": call.applications[*application],
                        "reason": "déclaré par le secrétariat",
                    }),
                )
                .await;
            refused(status, &body);
        }
        Step::Detect {
            application,
            juror,
            confirm,
        } => {
            let domain = jurors[*juror].email.split('@').nth(1).unwrap().to_owned();
            set_website(
                app,
                &call.founders[*application],
                &call.organizations[*application],
                &format!("https://{domain}"),
            )
            .await;
            let (status, list) = app
                .get(
                    &format!("/api/v1/calls/{}/conflicts?limit=100", call.id),
                    Some(&call.admin),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{list}");
            let flagged: Vec<String> = list["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["status"] == "flagged")
                .map(|c| c["id"].as_str().unwrap().to_owned())
                .collect();
            let decision = if *confirm { "confirm" } else { "dismiss" };
            for id in flagged {
                let path = format!("/api/v1/calls/{}/conflicts/{id}/{decision}", call.id);
                let (status, body) = app.post(&path, Some(&call.admin), json!({})).await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
        }
        Step::Withdraw { application } => {
            let (status, body) = app
                .post(
                    &format!(
                        "/api/v1/applications/{}/withdraw",
                        call.applications[*application]
                    ),
                    Some(&call.founders[*application]),
                    json!({"reason": "nous renonçons"}),
                )
                .await;
            refused(status, &body);
        }
    }
}

/// JSON as a client reads it: written, then parsed (both sides of a comparison go through the same parse).
fn as_read(value: &Value) -> Value {
    serde_json::from_str(&value.to_string()).unwrap()
}

/// Runs plan number `n` on a new call of its own (on the test's one application and database), then
/// compares the served ranking with the full recomputation and the maintained tallies with rebuilt ones.
async fn run(
    app: &TestApp,
    admin: &str,
    pool: &[Juror],
    n: usize,
    applications: usize,
    jurors: usize,
    steps: &[Step],
) {
    let opened = app
        .open_call(admin, "alpes-tourisme-lab", &format!("tallies-{n}"))
        .await;
    let mut call = Call {
        admin: admin.to_owned(),
        id: opened["id"].as_str().unwrap().to_owned(),
        applications: Vec::new(),
        references: Vec::new(),
        founders: Vec::new(),
        organizations: Vec::new(),
    };
    for i in 0..applications {
        add_eligible(app, &mut call, n * 10 + i).await;
    }
    let jurors = &pool[..jurors];
    for juror in jurors {
        let (status, body) = app
            .post(
                &format!("/api/v1/calls/{}/jurors", call.id),
                Some(admin),
                json!({"user_id": juror.id}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for application in &call.applications {
        for juror in jurors {
            assign(app, &call, application, juror).await;
        }
    }
    for step in steps {
        apply(app, &call, jurors, step).await;
    }

    for normalize in ["none", "zscore"] {
        let (status, served) = app
            .get(
                &format!(
                    "/api/v1/calls/{}/ranking?stage=written&normalize={normalize}",
                    call.id
                ),
                Some(&call.admin),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{served}");
        let settings = app.settings.database.clone();
        let call_id: uuid::Uuid = call.id.parse().unwrap();
        let expected = tokio::task::spawn_blocking(move || {
            let db = cordee::db::Db::connect(&settings).unwrap();
            let mut conn = db.write_connection().unwrap();
            let full = cordee::service::reviews::full_ranking(&mut conn, call_id, Some("written"))
                .unwrap();
            let order = cordee::api::ranking::RankingOrder::parse(Some(normalize)).unwrap();
            let entries: Vec<cordee::api::ranking::RankingEntry> = full
                .into_iter()
                .map(|(r, reference)| cordee::api::ranking::RankingEntry {
                    application_id: r.application,
                    reference,
                    n_reviews: r.n_reviews,
                    score: r.score,
                    normalized_score: r.normalized_score,
                    criteria: r.criteria,
                    stddev: r.stddev,
                    disagreement: r.disagreement,
                })
                .collect();
            serde_json::to_value(order.apply(entries)).unwrap()
        })
        .await
        .unwrap();
        assert_eq!(
            as_read(&served),
            as_read(&expected),
            "normalize={normalize}, steps {steps:#?}"
        );
    }

    let settings = app.settings.database.clone();
    let call_id: uuid::Uuid = call.id.parse().unwrap();
    tokio::task::spawn_blocking(move || {
        let db = cordee::db::Db::connect(&settings).unwrap();
        let mut conn = db.write_connection().unwrap();
        let maintained = cordee::store::ranking_tallies::of_call(&mut conn, call_id).unwrap();
        cordee::db::write_tx(&mut conn, |conn| {
            cordee::store::ranking_tallies::rebuild_call(conn, call_id)
        })
        .unwrap();
        let rebuilt = cordee::store::ranking_tallies::of_call(&mut conn, call_id).unwrap();
        assert_eq!(
            maintained, rebuilt,
            "the maintained tallies are the rebuilt ones"
        );
    })
    .await
    .unwrap();
}

/// Random plans, each on a call of its own in one running application (a fresh database per plan would
/// cost more than the plan).
#[test]
fn the_maintained_ranking_is_the_full_recomputation() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = runtime.block_on(TestApp::spawn());
    let admin = runtime.block_on(app.admin("staff@example.org"));
    // The jurors sit on every plan's call (each plan's applicants are its own).
    let pool: Vec<Juror> = runtime.block_on(async {
        let mut pool = Vec::new();
        for k in 0..4 {
            pool.push(account(&app, &format!("juror{k}@jury-{k}.example")).await);
        }
        pool
    });
    let plans = std::cell::Cell::new(0);
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 12,
        max_shrink_iters: 20,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let outcome = runner.run(&plan(), |(applications, jurors, steps)| {
        let n = plans.get();
        plans.set(n + 1);
        runtime.block_on(run(&app, &admin, &pool, n, applications, jurors, &steps));
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

/// Reviews written before the tallies existed (as a database migrated from an earlier version holds them):
/// the step after the migrations builds the call's tallies once, and the ranking is what it was.
#[tokio::test]
async fn tallies_missing_after_an_upgrade_are_built_at_start_up() {
    let app = TestApp::spawn().await;
    let built = Scenario::new(&app).eligible(3).jurors(2).build().await;
    let (call, jurors) = (built.call, built.jurors);
    for (i, application) in call.applications.iter().enumerate() {
        for (k, juror) in jurors.iter().enumerate() {
            assign(&app, &call, application, juror).await;
            let given = [i as f64, k as f64 + 1.0, 2.5, 4.0, 0.5];
            let (status, body) = save_review(
                &app,
                juror,
                application,
                json!({"stage": "written", "scores": scores(given)}),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let (status, body) = submit_review(&app, juror, application).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }
    let ranking = format!("/api/v1/calls/{}/ranking", call.id);
    let (_, before) = app.get(&ranking, Some(&call.admin)).await;
    assert_eq!(before.as_array().unwrap().len(), 3, "{before}");

    // As after the migration on a database with reviews: no tallies, the call listed as pending.
    let settings = app.settings.database.clone();
    let call_id: uuid::Uuid = call.id.parse().unwrap();
    let built = tokio::task::spawn_blocking(move || {
        use diesel::connection::SimpleConnection;
        let db = cordee::db::Db::connect(&settings).unwrap();
        {
            let mut conn = db.write_connection().unwrap();
            conn.batch_execute(&format!(
                "DELETE FROM ranking_tallies; \
                 INSERT INTO ranking_tallies_pending (call_id) VALUES ('{call_id}')"
            ))
            .unwrap();
        }
        cordee::service::upgrade::migrate(&db).unwrap();
        let mut conn = db.write_connection().unwrap();
        let rows = cordee::store::ranking_tallies::of_call(&mut conn, call_id).unwrap();
        // Running it again finds nothing to do.
        let again = cordee::service::upgrade::build_pending_tallies(&mut conn).unwrap();
        (rows.len(), again)
    })
    .await
    .unwrap();
    assert_eq!(built, (3, 0));
    let (_, after) = app.get(&ranking, Some(&call.admin)).await;
    assert_eq!(after, before);
}

/// Jurors submitting their reviews of one application at the same moment: every submission succeeds and the
/// application's tally counts every review (the second refresh waits for the first, then reads both).
#[tokio::test]
async fn reviews_submitted_at_once_all_count() {
    let app = TestApp::spawn().await;
    let built = Scenario::new(&app).eligible(1).jurors(4).build().await;
    let (call, jurors) = (built.call, built.jurors);
    let application = &call.applications[0];
    for (k, juror) in jurors.iter().enumerate() {
        assign(&app, &call, application, juror).await;
        let given = [k as f64, 1.0, 2.0, 3.0, 4.5];
        let (status, body) = save_review(
            &app,
            juror,
            application,
            json!({"stage": "written", "scores": scores(given)}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let submitted = futures_util::future::join_all(
        jurors
            .iter()
            .map(|juror| submit_review(&app, juror, application)),
    )
    .await;
    for (status, body) in submitted {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, ranking) = app
        .get(
            &format!("/api/v1/calls/{}/ranking", call.id),
            Some(&call.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ranking}");
    assert_eq!(ranking[0]["n_reviews"], 4, "{ranking}");
}
