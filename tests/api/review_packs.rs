//! Review packs: a juror downloads their applications of a stage as one ZIP to read offline (a page of
//! answers and the attachments per application, the score sheet and a manifest with every file's SHA-256),
//! never with an application they are conflicted on or that was withdrawn; staff get the pack a juror sees.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::evaluation::{assign, save_review, scores, Call, Juror, Scenario, Template};
use crate::helpers::*;

/// The header of the Alpes Tourisme Lab written stage's score sheet.
pub(crate) const SHEET_HEADER: &str = "reference,stage,innovation (0–5),mountain_fit (0–5),market (0–5),team (0–5),impact (0–5),comment";

/// A downloaded pack: every file by its path, and the manifest.
pub(crate) struct Pack {
    pub(crate) files: BTreeMap<String, Vec<u8>>,
    pub(crate) manifest: Value,
}

impl Pack {
    /// A file of the pack, as text.
    pub(crate) fn text(&self, path: &str) -> String {
        let bytes = self
            .files
            .get(path)
            .unwrap_or_else(|| panic!("no {path} in {:?}", self.files.keys()));
        String::from_utf8(bytes.clone()).unwrap()
    }

    /// The references the manifest lists, in its order.
    pub(crate) fn references(&self) -> Vec<String> {
        self.manifest["applications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["reference"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// Asks for a pack; returns the answer as it came.
async fn ask(app: &TestApp, token: &str, query: &str) -> reqwest::Response {
    app.request(
        Method::GET,
        &format!("/api/v1/me/assignments/pack.zip?{query}"),
        Some(token),
    )
    .send()
    .await
    .unwrap()
}

/// Downloads the written-stage pack of `call` (as `juror_id` sees it, when given) and unzips it.
pub(crate) async fn download(
    app: &TestApp,
    token: &str,
    call: &Call,
    juror_id: Option<&str>,
) -> Pack {
    let mut query = format!("call_id={}&stage=written", call.id);
    if let Some(juror_id) = juror_id {
        query.push_str(&format!("&juror_id={juror_id}"));
    }
    let response = ask(app, token, &query).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/zip");
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("atl-jury-written-pack.zip"));
    let bytes = response.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).expect("a whole ZIP archive");
    let mut files = BTreeMap::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).unwrap();
        let mut content = Vec::new();
        file.read_to_end(&mut content).unwrap();
        files.insert(file.name().unwrap().into_owned(), content);
    }
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    Pack { files, manifest }
}

/// Every file the manifest lists is in the pack with that size and SHA-256, and the pack holds nothing else
/// but the manifest itself.
fn assert_manifest_holds(pack: &Pack) {
    let mut listed = vec![pack.manifest["scores"].clone()];
    for application in pack.manifest["applications"].as_array().unwrap() {
        listed.extend(application["files"].as_array().unwrap().iter().cloned());
    }
    for file in &listed {
        let path = file["path"].as_str().unwrap();
        let content = &pack.files[path];
        assert_eq!(file["size"], content.len(), "{path}");
        assert_eq!(
            file["sha256"],
            hex::encode(Sha256::digest(content)),
            "{path}"
        );
    }
    let mut paths: Vec<&str> = listed.iter().map(|f| f["path"].as_str().unwrap()).collect();
    paths.push("manifest.json");
    paths.sort();
    assert_eq!(
        paths,
        pack.files.keys().map(String::as_str).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_juror_s_pack_leaves_out_the_application_they_are_conflicted_on_and_the_withdrawn_one() {
    let app = TestApp::spawn().await;
    let (call, [lea]) = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(4)
        .juror("lea@jury-lea.example")
        .build()
        .await
        .into_parts();
    for application in &call.applications {
        assign(&app, &call, application, &lea).await;
    }
    let draft = json!({"stage": "written", "scores": scores([4.0, 3.5, 2.0, 5.0, 1.0]), "comment": "=Solide, à creuser"});
    let (status, body) = save_review(&app, &lea, &call.applications[0], draft).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Léa declares a tie with the second start-up; the third withdraws.
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/conflicts", call.id),
            Some(&lea.token),
            json!({"juror_id": lea.id, "application_id": call.applications[1], "reason": "Mon frère y travaille"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{}/withdraw", call.applications[2]),
            Some(&call.founders[2]),
            json!({"reason": "Projet arrêté"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let pack = download(&app, &lea.token, &call, None).await;

    let (kept, conflicted, withdrawn) = (
        [call.references[0].as_str(), call.references[3].as_str()],
        call.references[1].as_str(),
        call.references[2].as_str(),
    );
    assert_eq!(pack.references(), kept);
    for path in pack.files.keys() {
        assert!(
            !path.starts_with(conflicted) && !path.starts_with(withdrawn),
            "{path}"
        );
    }
    for reference in kept {
        assert!(pack
            .files
            .contains_key(&format!("{reference}/application.html")));
        assert_eq!(pack.files[&format!("{reference}/pitch.pdf")], pdf_bytes());
    }
    assert_manifest_holds(&pack);
    assert_eq!(pack.manifest["juror_id"], lea.id.as_str());
    assert_eq!(pack.manifest["stage"]["key"], "written");

    // The sheet: one row per application, the draft's scores and comment (quoted: not a formula) prefilled.
    let sheet = pack.text("scores.csv");
    let sheet = sheet.strip_prefix('\u{FEFF}').expect("a byte-order mark");
    let lines: Vec<&str> = sheet.split("\r\n").collect();
    assert_eq!(
        lines,
        [
            SHEET_HEADER,
            &format!("{},written,4,3.5,2,5,1,\"'=Solide, à creuser\"", kept[0]),
            &format!("{},written,,,,,,", kept[1]),
            "",
        ]
    );
    for text in [&sheet.to_owned(), &pack.text("manifest.json")] {
        assert!(!text.contains(conflicted) && !text.contains(withdrawn));
    }

    // The page reads in Léa's language: labels, option labels, never keys or stored values.
    let page = pack.text(&format!("{}/application.html", kept[0]));
    for shown in [
        "Réponses",
        "Nom de la solution",
        "Navette Neige",
        "Mobilité et accès aux stations",
        "Startup 0",
        "href=\"pitch.pdf\"",
    ] {
        assert!(page.contains(shown), "{shown} in {page}");
    }
    for hidden in ["solution_name", "mobility_access", "energy_climate"] {
        assert!(!page.contains(hidden), "{hidden} in {page}");
    }

    // The download is in the audit log.
    let (status, audit) = app
        .get(
            &format!("/api/v1/audit?entity_type=call&entity_id={}", call.id),
            Some(&call.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let downloads: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "review_pack.downloaded")
        .collect();
    assert_eq!(downloads.len(), 1, "{audit}");
    assert_eq!(downloads[0]["actor_id"], lea.id.as_str());
    assert_eq!(downloads[0]["after"]["applications"], 2);
}

/// A juror registered in English.
async fn english_juror(app: &TestApp, call: &Call, email: &str) -> Juror {
    app.register(email, "en").await;
    app.verify_address(email).await;
    let token = app.login(email, PASSWORD).await;
    let id = id_of(app, &token).await;
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/jurors", call.id),
            Some(&call.admin),
            json!({"user_id": id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Juror {
        email: email.to_owned(),
        token,
        id,
    }
}

#[tokio::test]
async fn staff_get_the_pack_a_juror_sees_and_nobody_else_does() {
    let app = TestApp::spawn().await;
    let (call, [tom]) = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(2)
        .juror("tom@jury-tom.example")
        .build()
        .await
        .into_parts();
    let ada = english_juror(&app, &call, "ada@jury-ada.example").await;
    assign(&app, &call, &call.applications[0], &ada).await;
    assign(&app, &call, &call.applications[1], &tom).await;

    // Staff get Ada's pack as she sees it: her application, in English.
    let pack = download(&app, &call.admin, &call, Some(&ada.id)).await;
    assert_eq!(pack.references(), [call.references[0].as_str()]);
    assert_eq!(pack.manifest["juror_id"], ada.id.as_str());
    let page = pack.text(&format!("{}/application.html", call.references[0]));
    for shown in [
        "Answers",
        "Name of the solution",
        "Mobility and access to resorts",
        "Attachments",
    ] {
        assert!(page.contains(shown), "{shown} in {page}");
    }
    assert_manifest_holds(&pack);
    // Tom, his own.
    let pack = download(&app, &tom.token, &call, Some(&tom.id)).await;
    assert_eq!(pack.references(), [call.references[1].as_str()]);

    let query = |juror: &str| format!("call_id={}&stage=written&juror_id={juror}", call.id);
    let own = format!("call_id={}&stage=written", call.id);
    let (status, body) = problem(ask(&app, &tom.token, &query(&ada.id)).await).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "admin_only");
    // Someone with no assignment in the call, staff included, is told it has no pack for them.
    for token in [&call.founders[0], &call.admin] {
        let (status, body) = problem(ask(&app, token, &own).await).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND);
    }
    let admin_id = id_of(&app, &call.admin).await;
    let (status, body) = problem(ask(&app, &call.admin, &query(&admin_id)).await).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    // A token that may only write reviews does not read packs.
    let (status, created) = app
        .post(
            "/api/v1/me/tokens",
            Some(&tom.token),
            json!({"name": "sheets", "scopes": ["reviews:write"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, body) = problem(ask(&app, created["token"].as_str().unwrap(), &own).await).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "missing_scope");
    // What is asked must make sense.
    let (status, body) = problem(ask(&app, &tom.token, "stage=written").await).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["call_id"]);
    let bad_stage = format!("call_id={}&stage=oral", call.id);
    let (status, body) = problem(ask(&app, &tom.token, &bad_stage).await).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["stage"]);
}

/// The status and problem+json body of an answer.
async fn problem(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// The id of the account behind `token`.
async fn id_of(app: &TestApp, token: &str) -> String {
    let (status, me) = app.get("/api/v1/me", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    me["id"].as_str().unwrap().to_owned()
}
