//! The joint call for the 2030 Winter Games, an expression of interest: no jury, staff triage the eligible
//! applications (retained, not retained), and the retained solutions whose applicants consent form a public
//! catalogue (JSON and a printable page) showing exactly the fields each applicant chose.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::browser::look_at;
use crate::helpers::*;

const TEMPLATE: &str = "ami-jeux-2030";

/// Answers that complete a 2030 Games expression of interest.
fn answers(name: &str, summary: &str) -> Value {
    json!({
        "solution_name": name,
        "public_summary": summary,
        "description": "Un service déployé sur les sites de compétition et dans les vallées d'accès, avec les transporteurs locaux.",
        "themes": ["mobility", "energy"],
        "programmes": ["low_carbon"],
        "sustainability": "Moins de voitures individuelles, des véhicules électriques réemployés après les Jeux.",
        "maturity": "trl_7_8",
        "deployments": "Vallée de la Tarentaise, hiver 2025-2026.",
        "budget_range": "50k_200k",
        "website": "https://solution.example",
        "contact_name": "Camille Martin",
        "contact_email": "camille.martin@solution.example"
    })
}

/// An applicant's submitted expression of interest.
struct Applicant {
    email: String,
    token: String,
    application: String,
}

/// `email` creates an organization of `kind` named `org` and submits `answers` to `call`.
async fn applies(
    app: &TestApp,
    call: &str,
    email: &str,
    kind: &str,
    org: &str,
    answers: Value,
) -> Applicant {
    let token = app.applicant(email).await;
    let organization = app.organization(&token, kind, org).await;
    let (status, created) = app
        .post(
            &format!("/api/v1/calls/{call}/applications"),
            Some(&token),
            json!({"organization_id": organization, "answers": answers}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let application = created["id"].as_str().unwrap().to_owned();
    let (status, submitted) = app
        .post(
            &format!("/api/v1/applications/{application}/submit"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    assert!(submitted["reference"].as_str().unwrap().starts_with("JOP-"));
    Applicant {
        email: email.to_owned(),
        token,
        application,
    }
}

async fn put(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    app.send(Method::PUT, path, token, Some(body)).await
}

async fn delete(app: &TestApp, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    app.send(Method::DELETE, path, token, None).await
}

/// The JSON catalogue's entries, read without an account: the fields each shows.
async fn catalogue_fields(app: &TestApp, slug: &str) -> Vec<Value> {
    let (status, page) = app
        .get(&format!("/api/v1/calls/{slug}/catalogue"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["fields"].clone())
        .collect()
}

/// The HTML catalogue as a browser asks for it (`Accept: text/html`), in `lang`.
async fn catalogue_page(app: &TestApp, slug: &str, lang: &str) -> String {
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/calls/{slug}/catalogue"),
            None,
        )
        .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .header("Accept-Language", lang)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        policy.starts_with("default-src 'none'; style-src 'sha256-"),
        "{policy}"
    );
    response.text().await.unwrap()
}

fn assert_refused(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["code"], code, "{body}");
}

#[tokio::test]
async fn the_2030_games_call_ends_in_a_catalogue_of_the_consenting_retained_solutions_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin("equipe@jeux2030.example").await;
    let call = app.open_call(&admin, TEMPLATE, "ami-jeux-2030").await;
    assert_eq!(call["kind"], "expression_of_interest");
    assert_eq!(call["stages"], json!([]));
    let call_id = call["id"].as_str().unwrap().to_owned();

    // Three organizations apply; one public summary tries to inject a script into the catalogue page.
    let script = "<script>document.title='pwned'</script>";
    let navette = applies(
        &app,
        &call_id,
        "navette@froide.example",
        "startup",
        "Navette Froide",
        answers(
            "Navette Froide",
            &format!("Des navettes électriques entre vallées et sites de compétition. {script}"),
        ),
    )
    .await;
    let refuge = applies(
        &app,
        &call_id,
        "refuge@circulaire.example",
        "company",
        "Refuge Circulaire",
        answers(
            "Refuge Circulaire",
            "Des hébergements temporaires démontables, réemployés par les communes après les Jeux.",
        ),
    )
    .await;
    let neige = applies(
        &app,
        &call_id,
        "neige@artificielle.example",
        "startup",
        "Neige Partout",
        answers(
            "Neige Partout",
            "Des canons à neige mobiles pour garantir l'enneigement de tous les sites des Jeux.",
        ),
    )
    .await;

    // Staff screen, then triage: no jury, no stages.
    for a in [&navette, &refuge, &neige] {
        let (status, body) = app
            .post(
                &format!("/api/v1/applications/{}/screening", a.application),
                Some(&admin),
                json!({"outcome": "eligible"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let decisions = format!("/api/v1/calls/{call_id}/decisions");
    let (status, body) = put(&app, &decisions, Some(&admin),
        json!([{"application_id": navette.application, "outcome": "selected", "motivation": "Jury ?"}])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "0.outcome");
    assert_eq!(body["errors"][0]["code"], "outcome_not_for_call");
    let (status, body) = put(&app, &decisions, Some(&admin), json!([
        {"application_id": navette.application, "outcome": "retained", "motivation": "Une mobilité bas carbone prête pour 2030."},
        {"application_id": refuge.application, "outcome": "retained", "motivation": "Un héritage concret pour les communes."},
        {"application_id": neige.application, "outcome": "not_retained", "motivation": "La neige de culture n'entre pas dans les programmes de transition."},
    ])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(&format!("{decisions}/publish"), Some(&admin), json!({}))
        .await;
    assert_eq!(
        (status, body["published"].clone()),
        (StatusCode::OK, json!(3)),
        "{body}"
    );

    // Each applicant is told, in words that fit an expression of interest.
    let told = app
        .mailbox
        .wait_for_subject(&navette.email, "Décision")
        .await;
    assert!(
        told.text().contains("l'appel à manifestation d'intérêt"),
        "{}",
        told.text()
    );
    assert!(told
        .text()
        .contains("votre manifestation d'intérêt a été retenue"));
    assert!(told.text().contains("catalogue public"));
    let told = app.mailbox.wait_for_subject(&neige.email, "Décision").await;
    assert!(told
        .text()
        .contains("votre manifestation d'intérêt n'a pas été retenue."));
    assert!(!told.text().contains("catalogue"));
    for (a, status) in [
        (&navette, "retained"),
        (&refuge, "retained"),
        (&neige, "not_retained"),
    ] {
        let (_, seen) = app
            .get(
                &format!("/api/v1/applications/{}", a.application),
                Some(&a.token),
            )
            .await;
        assert_eq!(seen["status"], status);
    }

    // Nobody consents for someone else; only publishable fields may be chosen.
    let consent =
        |a: &Applicant| format!("/api/v1/applications/{}/catalogue-consent", a.application);
    let stranger = app.applicant("curieux@ailleurs.example").await;
    let (status, body) = put(
        &app,
        &consent(&navette),
        Some(&stranger),
        json!({"fields": ["solution_name"]}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = put(
        &app,
        &consent(&navette),
        Some(&admin),
        json!({"fields": ["solution_name"]}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = put(
        &app,
        &consent(&navette),
        Some(&navette.token),
        json!({"fields": ["solution_name", "contact_email", "description"]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(failing_fields(&body), vec!["fields.1", "fields.2"]);

    // The first retained solution consents; the not-retained one consents too (it will never show).
    let (status, body) = put(
        &app,
        &consent(&navette),
        Some(&navette.token),
        json!({"fields": ["public_summary", "themes", "organization.legal_name", "solution_name"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["fields"],
        json!([
            "solution_name",
            "organization.legal_name",
            "public_summary",
            "themes"
        ])
    );
    let (status, body) = put(
        &app,
        &consent(&neige),
        Some(&neige.token),
        json!({"fields": ["solution_name"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Staff publish the retained ones only; the second has not consented yet.
    let publish = |a: &Applicant| format!("/api/v1/calls/{call_id}/catalogue/{}", a.application);
    let (status, body) = put(&app, &publish(&neige), Some(&admin), json!({})).await;
    assert_refused(status, &body, StatusCode::CONFLICT, "not_retained");
    for a in [&navette, &refuge] {
        let (status, body) = put(&app, &publish(a), Some(&admin), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body["consented"],
            json!(a.application == navette.application)
        );
    }
    // An applicant is no staff of the call: its staff side does not exist for them.
    let (status, body) = put(&app, &publish(&refuge), Some(&navette.token), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let navette_entry = json!({
        "solution_name": "Navette Froide",
        "organization.legal_name": "Navette Froide",
        "public_summary": format!("Des navettes électriques entre vallées et sites de compétition. {script}"),
        "themes": ["mobility", "energy"],
    });
    assert_eq!(
        catalogue_fields(&app, "ami-jeux-2030").await,
        vec![navette_entry.clone()]
    );

    // The second consents with other choices: its budget, not its name's organization.
    let (status, body) = put(
        &app,
        &consent(&refuge),
        Some(&refuge.token),
        json!({"fields": ["solution_name", "budget_range", "organization.city"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let refuge_entry = json!({
        "solution_name": "Refuge Circulaire",
        "organization.city": "Chamonix-Mont-Blanc",
        "budget_range": "50k_200k",
    });
    assert_eq!(
        catalogue_fields(&app, &call_id).await,
        vec![navette_entry, refuge_entry.clone()]
    );

    // The printable page shows the same, escaped, in the reader's language.
    let page = catalogue_page(&app, "ami-jeux-2030", "fr-FR,fr;q=0.9").await;
    assert!(page.contains("<html lang=\"fr\">"));
    assert!(page.contains("Navette Froide") && page.contains("Refuge Circulaire"));
    assert!(
        page.contains("Mobilité, Énergie"),
        "option labels, not values"
    );
    assert!(page.contains("De 50 000 à 200 000 €"));
    assert!(!page.contains("Neige Partout"));
    assert!(!page.contains(script));
    assert!(page.contains("&lt;script&gt;"));
    assert!(!page.contains("camille.martin@solution.example"));
    assert!(page.contains("@media print"));
    let english = catalogue_page(&app, "ami-jeux-2030", "en").await;
    assert!(
        english.contains("Catalogue of retained solutions") && english.contains("Mobility, Energy")
    );

    // Withdrawing the consent takes the solution out at once, from the JSON and from the page.
    let (status, _) = delete(&app, &consent(&navette), Some(&navette.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        catalogue_fields(&app, "ami-jeux-2030").await,
        vec![refuge_entry]
    );
    let page = catalogue_page(&app, "ami-jeux-2030", "fr").await;
    assert!(!page.contains("Navette Froide"));

    // The audit log keeps who consented and withdrew, and when.
    let (status, audit) = app
        .get(
            &format!(
                "/api/v1/audit?entity_type=application&entity_id={}",
                navette.application
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"catalogue.consent_given"), "{actions:?}");
    assert!(
        actions.contains(&"catalogue.consent_withdrawn"),
        "{actions:?}"
    );

    // As a person sees it in a browser.
    let url = format!(
        "{}/api/v1/calls/ami-jeux-2030/catalogue?format=html&lang=fr",
        app.base
    );
    let (dom, screenshot) = look_at(&url, "catalogue-jeux-2030").await;
    assert!(dom.contains("Refuge Circulaire"), "{dom}");
    assert!(!dom.contains("Navette Froide") && !dom.contains("Neige Partout"));
    assert!(dom.contains("Catalogue des solutions retenues"));
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 0);
}

#[tokio::test]
async fn an_expression_of_interest_has_no_jury_and_its_catalogue_is_public_only_once_published() {
    let app = TestApp::spawn().await;
    let admin = app.admin("equipe@jeux2030.example").await;
    let now = app.clock.now();
    let dates = json!({
        "opens_at": (now - chrono::Duration::days(1)).to_rfc3339(),
        "closes_at": (now + chrono::Duration::days(30)).to_rfc3339(),
    });
    // Stages of weighted criteria have no place in an expression of interest.
    let mut body = json!({"template": TEMPLATE, "slug": "ami-avec-jury", "stages": [{
        "key": "written", "label": {"fr": "Écrit"},
        "criteria": [{"key": "a", "label": {"fr": "A"}, "weight": 100, "min": 0, "max": 5}]
    }]});
    body.as_object_mut()
        .unwrap()
        .extend(dates.as_object().unwrap().clone());
    let (status, refused) = app.post("/api/v1/calls", Some(&admin), body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["errors"][0]["code"], "no_jury_scoring");

    // A draft's catalogue is not public.
    let mut body = json!({"template": TEMPLATE, "slug": "ami-brouillon"});
    body.as_object_mut()
        .unwrap()
        .extend(dates.as_object().unwrap().clone());
    let (status, draft) = app.post("/api/v1/calls", Some(&admin), body).await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    for who in [None, Some(admin.as_str())] {
        let (status, _) = app.get("/api/v1/calls/ami-brouillon/catalogue", who).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    // Jury routes answer 409 no_jury_scoring on a call without jury.
    let call = app.open_call(&admin, TEMPLATE, "ami-sans-jury").await;
    let id = call["id"].as_str().unwrap();
    let applicant = applies(
        &app,
        id,
        "candidat@solution.example",
        "company",
        "Solution SA",
        answers(
            "Solution",
            "Une solution numérique de gestion des flux de visiteurs entre les sites des Jeux.",
        ),
    )
    .await;
    let juror = app.applicant("juree@jury.example").await;
    let (_, me) = app.get("/api/v1/me", Some(&juror)).await;
    let juror_id = me["id"].as_str().unwrap();
    let app_id = applicant.application.as_str();
    let calls = [
        (Method::GET, format!("/api/v1/calls/{id}/jurors"), None),
        (
            Method::POST,
            format!("/api/v1/calls/{id}/jurors"),
            Some(json!({"user_id": juror_id})),
        ),
        (Method::GET, format!("/api/v1/calls/{id}/assignments"), None),
        (
            Method::POST,
            format!("/api/v1/calls/{id}/assignments"),
            Some(json!({"application_id": app_id, "juror_id": juror_id, "stage": "written"})),
        ),
        (
            Method::POST,
            format!("/api/v1/calls/{id}/assignments/auto"),
            Some(json!({"stage": "written", "reviews_per_application": 1})),
        ),
        (Method::GET, format!("/api/v1/calls/{id}/ranking"), None),
        (
            Method::GET,
            format!("/api/v1/applications/{app_id}/reviews"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/calls/{id}/shortlist"),
            Some(json!({"application_ids": [app_id], "next_stage": "written"})),
        ),
    ];
    for (method, path, body) in calls {
        let (status, answer) = app.send(method.clone(), &path, Some(&admin), body).await;
        assert_refused(status, &answer, StatusCode::CONFLICT, "no_jury_scoring");
    }

    // A call with a jury keeps its outcomes, has no catalogue, and refuses the triage's.
    let lab = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-sans-catalogue")
        .await;
    let lab_id = lab["id"].as_str().unwrap();
    assert_eq!(lab["catalogue"], Value::Null);
    let (status, _) = app
        .get(&format!("/api/v1/calls/{lab_id}/catalogue"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = put(
        &app,
        &format!("/api/v1/calls/{lab_id}/decisions"),
        Some(&admin),
        json!([{"application_id": app_id, "outcome": "retained", "motivation": "?"}]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        failing_fields(&body).contains(&"0.outcome".to_owned()),
        "{body}"
    );
}
