//! The lists of the jury's and staff's work in the documented wrapper (`{items, next_cursor}`): each is read
//! in full pages with `limit` and `cursor`, every item once and in the list's order, and a bad `limit` or
//! `cursor` is a 422 naming it.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::evaluation::save_review;
use crate::helpers::scenario::{account, Scenario, Template};
use crate::helpers::*;

/// `ids`, sorted: the order of a list keyed by id.
fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// The id of a created item.
fn id_of(body: &Value) -> String {
    body["id"]
        .as_str()
        .unwrap_or_else(|| panic!("an id: {body}"))
        .to_owned()
}

#[tokio::test]
async fn the_call_templates_come_one_page_at_a_time_in_name_order() {
    let app = TestApp::spawn().await;

    let pages = app.pages("/api/v1/call-templates", None, 1).await;

    assert_eq!(pages.len(), 3, "{pages:?}");
    assert_eq!(
        keys_of(&pages, "template"),
        [
            "alpes-tourisme-lab",
            "ami-jeux-2030",
            "experimentation-montagne"
        ]
    );
    app.assert_rejects_bad_pages("/api/v1/call-templates", None)
        .await;
}

#[tokio::test]
async fn the_jurors_of_a_call_come_in_full_pages_in_user_id_order() {
    let app = TestApp::spawn().await;
    let built = Scenario::new(&app)
        .call(Template::Atl)
        .jurors(5)
        .build()
        .await;
    let path = format!("/api/v1/calls/{}/jurors", built.call.id);

    let pages = app.pages(&path, Some(&built.call.admin), 2).await;

    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    let expected = sorted(built.jurors.iter().map(|j| j.id.clone()).collect());
    assert_eq!(keys_of(&pages, "user_id"), expected);
    app.assert_rejects_bad_pages(&path, Some(&built.call.admin))
        .await;
}

#[tokio::test]
async fn declared_and_detected_conflicts_come_together_in_the_order_they_were_recorded() {
    let app = TestApp::spawn().await;
    let (call, [declaring]) = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(3)
        .jurors(1)
        .build()
        .await
        .into_parts();
    // Tied to the SIREN every start-up here shares: detection records one conflict per application.
    let tied = account(&app, "sophie@jury-sophie.example").await;
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/jurors", call.id),
            Some(&call.admin),
            json!({"user_id": tied.id, "affiliations": [{"name": "Ancien employeur", "siren": "732829320"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let path = format!("/api/v1/calls/{}/conflicts", call.id);
    let declare = |application: &str| json!({"juror_id": declaring.id, "application_id": application, "reason": "Ancien associé"});

    let (status, first) = app
        .post(&path, Some(&call.admin), declare(&call.applications[0]))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, detected) = app
        .post(&format!("{path}/detect"), Some(&call.admin), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{detected}");
    let (status, last) = app
        .post(&path, Some(&call.admin), declare(&call.applications[1]))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{last}");
    let detected: Vec<String> = detected.as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(detected.len(), 3, "{detected:?}");

    let pages = app.pages(&path, Some(&call.admin), 2).await;

    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    let mut expected = vec![id_of(&first)];
    expected.extend(sorted(detected));
    expected.push(id_of(&last));
    assert_eq!(keys_of(&pages, "id"), expected);
    let sources: Vec<&str> = pages
        .iter()
        .flatten()
        .map(|c| c["source"].as_str().unwrap())
        .collect();
    assert_eq!(
        sources,
        ["declared", "detected", "detected", "detected", "declared"]
    );
    app.assert_rejects_bad_pages(&path, Some(&call.admin)).await;
}

#[tokio::test]
async fn the_assignments_of_a_call_come_in_full_pages_oldest_first_for_a_stage_or_all() {
    let app = TestApp::spawn().await;
    let (call, jurors) = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(2)
        .jurors(3)
        .build()
        .await
        .into_parts::<3>();
    let path = format!("/api/v1/calls/{}/assignments", call.id);
    let mut created = Vec::new();
    for application in &call.applications {
        for juror in &jurors {
            let (status, body) = app
                .post(
                    &path,
                    Some(&call.admin),
                    json!({"application_id": application, "juror_id": juror.id, "stage": "written"}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            created.push(id_of(&body));
        }
    }

    let all = app.pages(&path, Some(&call.admin), 4).await;
    let written = app
        .pages(&format!("{path}?stage=written"), Some(&call.admin), 5)
        .await;
    let pitch = app
        .pages(&format!("{path}?stage=pitch"), Some(&call.admin), 5)
        .await;

    assert_eq!(all.iter().map(Vec::len).collect::<Vec<_>>(), [4, 2]);
    assert_eq!(keys_of(&all, "id"), sorted(created.clone()));
    assert_eq!(keys_of(&written, "id"), sorted(created));
    assert_eq!(written.iter().map(Vec::len).collect::<Vec<_>>(), [5, 1]);
    assert_eq!(pitch, [Vec::<Value>::new()]);
    app.assert_rejects_bad_pages(&path, Some(&call.admin)).await;
}

#[tokio::test]
async fn the_decisions_of_a_call_come_in_full_pages_in_application_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let call = app
        .open_call(&admin, "experimentation-montagne", "exp-decisions")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let mut applications = Vec::new();
    for i in 0..5 {
        let email = format!("mairie{i}@commune{i}.example");
        let name = format!("Commune {i}");
        applications.push(eligible_territory(&app, &admin, call_id, &email, &name).await);
    }
    let decisions: Vec<Value> = applications
        .iter()
        .map(|a| json!({"application_id": a, "outcome": "selected", "motivation": "Un besoin clair."}))
        .collect();
    let path = format!("/api/v1/calls/{call_id}/decisions");
    let (status, body) = app
        .send(Method::PUT, &path, Some(&admin), Some(json!(decisions)))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let pages = app.pages(&path, Some(&admin), 2).await;

    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    assert_eq!(keys_of(&pages, "application_id"), sorted(applications));
    app.assert_rejects_bad_pages(&path, Some(&admin)).await;
}

#[tokio::test]
async fn the_reviews_of_an_application_come_in_full_pages_and_a_juror_pages_through_their_own_only()
{
    let app = TestApp::spawn().await;
    let (call, jurors) = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(1)
        .jurors(3)
        .build()
        .await
        .into_parts::<3>();
    let application = &call.applications[0];
    let mut reviews = Vec::new();
    for (i, juror) in jurors.iter().enumerate() {
        crate::evaluation::assign(&app, &call, application, juror).await;
        let (status, body) = save_review(
            &app,
            juror,
            application,
            json!({"stage": "written", "scores": {"innovation": i}}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        reviews.push(id_of(&body));
    }
    let path = format!("/api/v1/applications/{application}/reviews");

    let all = app.pages(&path, Some(&call.admin), 2).await;
    let own = app.pages(&path, Some(&jurors[1].token), 1).await;

    assert_eq!(all.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(keys_of(&all, "id"), sorted(reviews.clone()));
    assert_eq!(keys_of(&own, "id"), [reviews[1].clone()], "blind: {own:?}");
    app.assert_rejects_bad_pages(&path, Some(&call.admin)).await;
    app.assert_rejects_bad_pages(&path, Some(&jurors[0].token))
        .await;
}

#[tokio::test]
async fn the_pairings_of_an_application_come_in_full_pages_and_a_partner_pages_through_its_own_only(
) {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let call = app
        .open_call(&admin, "experimentation-montagne", "exp-pairings")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let (territory, application) =
        submitted_territory(&app, call_id, "mairie@chamonix.example", "Chamonix").await;
    let first = app.applicant("founder@navette.example").await;
    let second = app.applicant("founder@capteurs.example").await;
    let stranger = app.applicant("stranger@example.org").await;
    let path = format!("/api/v1/applications/{application}/pairings");
    // The partners alternate between the two companies' founders.
    let (mut pairings, mut of_first, mut of_second) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..5 {
        let (owner, theirs) = if i % 2 == 0 {
            (&first, &mut of_first)
        } else {
            (&second, &mut of_second)
        };
        let company = app
            .organization(owner, "company", &format!("Entreprise {i}"))
            .await;
        let (status, body) = app
            .post(
                &path,
                Some(&admin),
                json!({"partner_organization_id": company}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        pairings.push(id_of(&body));
        theirs.push(id_of(&body));
    }

    let all = app.pages(&path, Some(&admin), 2).await;
    let territorys = app.pages(&path, Some(&territory), 5).await;
    let firsts = app.pages(&path, Some(&first), 1).await;
    let seconds = app.pages(&path, Some(&second), 1).await;

    assert_eq!(all.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    assert_eq!(keys_of(&all, "id"), sorted(pairings));
    assert_eq!(keys_of(&territorys, "id"), keys_of(&all, "id"));
    // Only their own company's, in full pages although the others' come between them.
    assert_eq!(keys_of(&firsts, "id"), sorted(of_first));
    assert_eq!(firsts.len(), 3, "{firsts:?}");
    assert_eq!(keys_of(&seconds, "id"), sorted(of_second));
    assert_eq!(seconds.len(), 2, "{seconds:?}");
    // Whoever sees none is told the application does not exist, whatever the cursor.
    let (_, page) = app.get(&format!("{path}?limit=1"), Some(&admin)).await;
    let cursor = page["next_cursor"].as_str().unwrap();
    for query in ["", "?limit=1", &format!("?cursor={cursor}")] {
        let (status, body) = app.get(&format!("{path}{query}"), Some(&stranger)).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND);
    }
    app.assert_rejects_bad_pages(&path, Some(&admin)).await;
}
