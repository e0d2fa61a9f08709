//! Test data and the arrange steps many tests share: valid identifiers, documents, complete answers, an
//! open call, organizations and their members, submitted and eligible applications.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::app::{TestApp, PASSWORD};
use super::mailbox::ReceivedEmail;

/// A valid SIRET not given out before in this run: an establishment of the SIREN 732829320 from number
/// 0100 on (tests that write 73282932000074 themselves keep it), so that every organization has its own
/// SIRET while all share one SIREN.
pub fn next_siret() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(100);
    let establishment = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let body = format!("732829320{establishment:04}");
    let check = (0..10)
        .find(|digit| luhn_valid(&format!("{body}{digit}")))
        .expect("one check digit fits");
    format!("{body}{check}")
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| match (i % 2 == 1, d * 2) {
            (true, doubled) if doubled > 9 => doubled - 9,
            (true, doubled) => doubled,
            (false, _) => d,
        })
        .sum();
    sum.is_multiple_of(10)
}

/// An edition year not given out before in this run, for a second call of a template in one test (the first
/// keeps the year it opens, so its references read as usual).
pub fn next_spare_edition() -> i64 {
    static NEXT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(3000);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A minimal but real PDF document (its magic bytes say PDF).
pub fn pdf_bytes() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

/// Answers that complete an Alpes Tourisme Lab application (the pitch deck is a file, uploaded apart).
pub fn atl_answers() -> Value {
    json!({
        "solution_name": "Navette Neige",
        "solution_description": "Une navette électrique à la demande entre les villages et les pieds de pistes, réservée par application.",
        "challenges": ["mobility_access", "energy_climate"],
        "problem": "Les stations saturent leurs parkings et les saisonniers n'ont pas de transport le soir.",
        "novelty": "Réservation dynamique et mutualisation avec le transport scolaire.",
        "maturity": "prototype",
        "business_model": "Abonnement payé par les communes, billet à l'unité pour les visiteurs.",
        "revenue_last_year": 42000,
        "funds_raised": 150000,
        "team_fte": 3.5,
        "impact": "Moins de voitures en station, des emplois locaux.",
        "rules_consent": true
    })
}

/// Answers that complete an Expérimentation Montagne application (the letter of support is uploaded apart).
pub fn exp_answers() -> Value {
    json!({
        "insee_code": "74056",
        "massif": "alpes_nord",
        "altitude_min": 1035,
        "altitude_max": 3842,
        "need": "Réduire la circulation automobile dans la vallée pendant les vacances scolaires d'hiver et d'été.",
        "solution_sought": "Un service de transport à la demande couplé aux remontées mécaniques.",
        "themes": ["mobility", "visitor_flows"],
        "season": "all_year",
        "test_site": "Vallée de Chamonix, entre Les Houches et Argentière.",
        "test_start": "2027-01-15",
        "test_end": "2027-04-15",
        "budget": 80000,
        "co_funding": 40000,
        "staff_committed": "Deux agents du service mobilité à mi-temps.",
        "elected_sponsor": "Adjointe aux mobilités",
        "success_indicators": "Fréquentation, report modal mesuré, satisfaction des habitants.",
        "rules_consent": true
    })
}

impl TestApp {
    /// Creates a call from `template` that opened yesterday and closes in 30 days, and publishes it.
    pub async fn open_call(&self, admin: &str, template: &str, slug: &str) -> Value {
        self.open_call_closing_in(admin, template, slug, chrono::Duration::days(30))
            .await
    }

    /// Creates a call from `template` that opened yesterday and closes after `closes_in`, and publishes it
    /// (tests that move the clock past the closing date keep it short: sessions last a week).
    pub async fn open_call_closing_in(
        &self,
        admin: &str,
        template: &str,
        slug: &str,
        closes_in: chrono::Duration,
    ) -> Value {
        let now = self.clock.now();
        let mut body = json!({
            "template": template,
            "slug": slug,
            "opens_at": (now - chrono::Duration::days(1)).to_rfc3339(),
            "closes_at": (now + closes_in).to_rfc3339(),
        });
        let (mut status, mut call) = self.post("/api/v1/calls", Some(admin), body.clone()).await;
        // A second call of a template in one test takes another edition: references are unique across calls.
        while status == StatusCode::CONFLICT && call["code"] == "edition_taken" {
            body["edition"] = json!(next_spare_edition());
            (status, call) = self.post("/api/v1/calls", Some(admin), body.clone()).await;
        }
        assert_eq!(status, StatusCode::CREATED, "{call}");
        let id = call["id"].as_str().unwrap();
        let (status, call) = self
            .post(
                &format!("/api/v1/calls/{id}/publish"),
                Some(admin),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{call}");
        call
    }

    /// Gives the signed-in person `session` (whose address is `email`) the staff `role` (`manager` or
    /// `observer`) on `call` the way partners get it: an administrator's invitation, accepted through the
    /// emailed link while signed in.
    pub async fn staff_role(
        &self,
        admin: &str,
        session: &str,
        email: &str,
        call: &str,
        role: &str,
    ) {
        let earlier: Vec<String> = self
            .mailbox
            .emails_to(email)
            .iter()
            .map(ReceivedEmail::message_id)
            .collect();
        let (status, invitation) = self
            .post(
                "/api/v1/invitations",
                Some(admin),
                json!({"email": email, "role": role, "call_id": call}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{invitation}");
        let token = self
            .mailbox
            .wait_for_match(email, "with a staff invitation", |e| {
                !earlier.contains(&e.message_id())
                    && e.text().contains("/invitations/accept?token=")
            })
            .await
            .token();
        let (status, accepted) = self
            .post(
                "/api/v1/invitations/accept",
                Some(session),
                json!({"token": token}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{accepted}");
    }

    /// Creates an organization of `kind` with valid identifiers; returns its id.
    pub async fn organization(&self, token: &str, kind: &str, name: &str) -> String {
        let body = match kind {
            "territory" => {
                json!({"kind": "territory", "legal_name": name, "insee_code": "74056", "postcode": "74400", "city": "Chamonix-Mont-Blanc"})
            }
            other => {
                json!({"kind": other, "legal_name": name, "siret": next_siret(), "postcode": "74400", "city": "Chamonix-Mont-Blanc"})
            }
        };
        let (status, org) = self.post("/api/v1/organizations", Some(token), body).await;
        assert_eq!(status, StatusCode::CREATED, "{org}");
        org["id"].as_str().unwrap().to_owned()
    }

    /// Makes the account of `email` (password [`PASSWORD`]) a member of `organization` the only way
    /// there is: `owner` invites the address, and the person, logged in, accepts the emailed invitation.
    pub async fn add_member(&self, owner: &str, organization: &str, email: &str, role: &str) {
        let invitations = || -> Vec<ReceivedEmail> {
            self.mailbox
                .emails_to(email)
                .into_iter()
                .filter(|e| e.text().contains("/invitations/accept?token="))
                .collect()
        };
        let before = invitations().len();
        let (status, body) = self
            .post(
                &format!("/api/v1/organizations/{organization}/members"),
                Some(owner),
                json!({"email": email, "role": role}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let session = self.login(email, PASSWORD).await;
        let deadline = Instant::now() + Duration::from_secs(15);
        let token = loop {
            if let Some(newest) = invitations().get(before) {
                break newest.token();
            }
            assert!(Instant::now() < deadline, "no invitation reached {email}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let (status, body) = self
            .post(
                "/api/v1/invitations/accept",
                Some(&session),
                json!({"token": token}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Uploads `bytes` as `filename` for the form's file field `field`.
    pub async fn upload(
        &self,
        token: &str,
        application_id: &str,
        field: &str,
        filename: &str,
        bytes: Vec<u8>,
    ) -> (StatusCode, Value) {
        let form = reqwest::multipart::Form::new()
            .text("field", field.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned()),
            );
        let response = self
            .request(
                Method::POST,
                &format!("/api/v1/applications/{application_id}/attachments"),
                Some(token),
            )
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// A territory's submitted application (with its letter of support) to an open Expérimentation Montagne
/// call; returns (the applicant's token, the application's id).
pub async fn submitted_territory(
    app: &TestApp,
    call_id: &str,
    email: &str,
    name: &str,
) -> (String, String) {
    let token = app.applicant(email).await;
    let org = app.organization(&token, "territory", name).await;
    let (status, created) = app
        .post(
            &format!("/api/v1/calls/{call_id}/applications"),
            Some(&token),
            json!({"organization_id": org, "answers": exp_answers()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, file) = app
        .upload(&token, &id, "support_letter", "lettre.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (token, id)
}

/// A territory's eligible application to an open Expérimentation Montagne call; returns its id.
pub async fn eligible_territory(
    app: &TestApp,
    admin: &str,
    call_id: &str,
    email: &str,
    name: &str,
) -> String {
    let (_, id) = submitted_territory(app, call_id, email, name).await;
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{id}/screening"),
            Some(admin),
            json!({"outcome": "eligible"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    id
}
