//! The arrange steps of the jury tests, as a builder: an open call, its eligible applications and its
//! jurors, made through the same HTTP routes a test would call by hand.
//!
//! ```ignore
//! let s = Scenario::new(&app).call(Template::Atl).eligible(3).jurors(2).build().await;
//! // s.call.admin, s.call.id, s.call.applications, s.call.founders, s.jurors[0].token…
//! ```

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::app::TestApp;
use super::fixtures::{atl_answers, pdf_bytes};

/// The call template a scenario opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// Alpes Tourisme Lab: start-ups apply with a pitch deck.
    Atl,
}

impl Template {
    fn key(self) -> &'static str {
        match self {
            Template::Atl => "alpes-tourisme-lab",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Template::Atl => "atl-jury",
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Template::Atl => "startup",
        }
    }

    fn organization_name(self, i: usize) -> String {
        match self {
            Template::Atl => format!("Startup {i}"),
        }
    }

    fn answers(self) -> Value {
        match self {
            Template::Atl => atl_answers(),
        }
    }

    /// The required file: its form field and file name.
    fn file(self) -> (&'static str, &'static str) {
        match self {
            Template::Atl => ("pitch_deck", "pitch.pdf"),
        }
    }
}

/// What a scenario is to set up; [`Scenario::build`] does it.
pub struct Scenario<'a> {
    app: &'a TestApp,
    template: Template,
    eligible: usize,
    jurors: Vec<String>,
}

/// What a scenario set up: the call (admin token, id, applications and their founders) and the jurors, in
/// the order they were asked for.
pub struct Built {
    pub call: Call,
    pub jurors: Vec<Juror>,
}

impl Built {
    /// The call and exactly `N` jurors.
    pub fn into_parts<const N: usize>(self) -> (Call, [Juror; N]) {
        let count = self.jurors.len();
        let jurors = <[Juror; N]>::try_from(self.jurors)
            .unwrap_or_else(|_| panic!("the scenario has {count} jurors, not {N}"));
        (self.call, jurors)
    }
}

impl<'a> Scenario<'a> {
    /// An Alpes Tourisme Lab call with no application and no juror yet.
    pub fn new(app: &'a TestApp) -> Scenario<'a> {
        Scenario {
            app,
            template: Template::Atl,
            eligible: 0,
            jurors: Vec::new(),
        }
    }

    /// The template of the call.
    pub fn call(mut self, template: Template) -> Self {
        self.template = template;
        self
    }

    /// `n` applications, each from its own organization, submitted and screened eligible.
    pub fn eligible(mut self, n: usize) -> Self {
        self.eligible = n;
        self
    }

    /// `n` more jurors with addresses of their own (`juror{i}@jury-{i}.example`).
    pub fn jurors(mut self, n: usize) -> Self {
        let first = self.jurors.len();
        self.jurors
            .extend((first..first + n).map(|i| format!("juror{i}@jury-{i}.example")));
        self
    }

    /// One more juror, registered as `email`.
    pub fn juror(mut self, email: &str) -> Self {
        self.jurors.push(email.to_owned());
        self
    }

    /// The admin opens the call, the applicants apply and are screened eligible, then the jurors join the
    /// jury.
    pub async fn build(self) -> Built {
        let app = self.app;
        let admin = app.admin("staff@example.org").await;
        let opened = app
            .open_call(&admin, self.template.key(), self.template.slug())
            .await;
        let mut call = Call {
            admin,
            id: opened["id"].as_str().unwrap().to_owned(),
            applications: Vec::new(),
            references: Vec::new(),
            founders: Vec::new(),
            organizations: Vec::new(),
        };
        for i in 0..self.eligible {
            add_eligible_to(app, &mut call, self.template, i).await;
        }
        let mut jurors = Vec::new();
        for email in &self.jurors {
            jurors.push(juror(app, &call, email).await);
        }
        Built { call, jurors }
    }
}

/// An open Alpes Tourisme Lab call and its eligible applications.
pub(crate) struct Call {
    pub(crate) admin: String,
    pub(crate) id: String,
    /// The eligible applications, in creation order.
    pub(crate) applications: Vec<String>,
    /// Their references.
    pub(crate) references: Vec<String>,
    /// The session token of each application's founder (the owner of its organization).
    pub(crate) founders: Vec<String>,
    /// Each application's organization.
    pub(crate) organizations: Vec<String>,
}

/// The founder of the `i`th start-up; each start-up has its own email domain.
pub(crate) fn founder_email(i: usize) -> String {
    format!("founder{i}@startup{i}.example")
}

/// An open Alpes Tourisme Lab call with `n` applications, each from its own start-up, submitted and screened
/// eligible by the admin.
pub(crate) async fn call_with_eligible(app: &TestApp, n: usize) -> Call {
    Scenario::new(app)
        .call(Template::Atl)
        .eligible(n)
        .build()
        .await
        .call
}

/// Adds the `i`th start-up's eligible application to `call`.
pub(crate) async fn add_eligible(app: &TestApp, call: &mut Call, i: usize) {
    add_eligible_to(app, call, Template::Atl, i).await;
}

/// Adds the `i`th organization's eligible application to `call`, made from `template`.
async fn add_eligible_to(app: &TestApp, call: &mut Call, template: Template, i: usize) {
    let founder = app.applicant(&founder_email(i)).await;
    let org = app
        .organization(&founder, template.kind(), &template.organization_name(i))
        .await;
    let (status, created) = app
        .post(
            &format!("/api/v1/calls/{}/applications", call.id),
            Some(&founder),
            json!({"organization_id": org, "answers": template.answers()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (field, filename) = template.file();
    let (status, file) = app
        .upload(&founder, &id, field, filename, pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let (status, submitted) = app
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&founder),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    let (status, screened) = app
        .post(
            &format!("/api/v1/applications/{id}/screening"),
            Some(&call.admin),
            json!({"outcome": "eligible"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{screened}");
    call.references
        .push(submitted["reference"].as_str().unwrap().to_owned());
    call.applications.push(id);
    call.founders.push(founder);
    call.organizations.push(org);
}

/// A juror: their session token and account id.
pub(crate) struct Juror {
    pub(crate) email: String,
    pub(crate) token: String,
    pub(crate) id: String,
}

/// Registers `email` and returns the account, not yet on any jury.
pub(crate) async fn account(app: &TestApp, email: &str) -> Juror {
    let token = app.applicant(email).await;
    let (status, me) = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    Juror {
        email: email.to_owned(),
        token,
        id: me["id"].as_str().unwrap().to_owned(),
    }
}

/// Registers `email` and adds the account to the call's jury.
pub(crate) async fn juror(app: &TestApp, call: &Call, email: &str) -> Juror {
    let juror = account(app, email).await;
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/jurors", call.id),
            Some(&call.admin),
            json!({"user_id": juror.id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    juror
}
