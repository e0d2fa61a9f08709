//! The forms of the status page: filing an appeal and confirming a pitch slot, CSRF-checked like every page
//! form and through the same use cases as the API (`api::appeals::file_appeal`,
//! `service::pitch_slots::confirm`). A success leads back to the status page (303); a refused appeal shows
//! the page again with why.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use uuid::Uuid;

use super::follow::{signed_in, status_page};
use super::session::{t, Form, Visit};
use crate::api::appeals::{checked_grounds, file_appeal};
use crate::auth::permissions::Principal;
use crate::domain::check::Check;
use crate::error::Error;
use crate::service::pitch_slots;

/// What the appeal form says back after a failed attempt: why, and the grounds typed.
#[derive(Debug, Default, Serialize)]
pub struct AppealForm {
    pub error: Option<String>,
    pub grounds: String,
}

/// The application of the path and the signed-in person for a POST of the status page, once its CSRF
/// token checks; or the answer to give instead.
fn posted(
    visit: &Visit,
    req: &HttpRequest,
    id: &str,
    form: &Form,
) -> Result<(Uuid, Principal), Box<HttpResponse>> {
    visit.check_form(form)?;
    let id = Uuid::parse_str(id.trim()).map_err(|_| Box::new(visit.error(Error::NotFound)))?;
    let principal = signed_in(visit, req)?;
    Ok((id, principal))
}

/// Why an appeal was refused, in words; `None` for a refusal the page does not explain (the error page does).
fn appeal_refusal(code: &str, lang: &str) -> Option<&'static str> {
    Some(match code {
        "appeal_window_closed" => t(
            lang,
            "Le délai pour contester cette décision est écoulé : le recours n'a pas été déposé.",
            "The time to appeal this decision is over: the appeal was not filed.",
        ),
        "appeal_exists" => t(
            lang,
            "Un recours a déjà été déposé contre cette décision.",
            "An appeal of this decision was already filed.",
        ),
        "no_appeals" => t(
            lang,
            "Cet appel ne prévoit pas de recours.",
            "This call takes no appeals.",
        ),
        "no_published_decision" => t(
            lang,
            "Il n'y a pas de décision publiée à contester.",
            "There is no published decision to appeal.",
        ),
        _ => return None,
    })
}

/// `POST /applications/{id}/appeal`: files an appeal with the form's `grounds` (the API's rules), then back
/// to the status page; 422 with the field's error, 409 with why it was refused (the window closed…).
pub async fn appeal(
    visit: Visit,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let form = Form::parse(&body);
    let (id, principal) = match posted(&visit, &req, &id, &form) {
        Ok(found) => found,
        Err(answer) => return *answer,
    };
    let typed = form.get("grounds").unwrap_or_default().to_owned();
    let filed = match checked_grounds(Check::default(), Some(&typed)) {
        Ok(grounds) => file_appeal(&visit.state, principal.clone(), id, grounds).await,
        Err(e) => Err(e),
    };
    let (status, error) = match filed {
        Ok(_) => return visit.redirect(&format!("/applications/{id}")),
        Err(Error::Validation(errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            visit.field_errors(&errors).remove("grounds"),
        ),
        Err(Error::Refused { code, status, .. }) if appeal_refusal(code, visit.lang).is_some() => {
            (status, appeal_refusal(code, visit.lang).map(str::to_owned))
        }
        Err(e) => return visit.error(e),
    };
    let form = AppealForm {
        error,
        grounds: typed,
    };
    status_page(&visit, principal, id, status, form).await
}

/// `POST /applications/{id}/pitch-slot/confirm`: confirms the pitch slot (the API's use case; confirming
/// again changes nothing), then back to the status page.
pub async fn confirm_pitch_slot(
    visit: Visit,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let form = Form::parse(&body);
    let (id, principal) = match posted(&visit, &req, &id, &form) {
        Ok(found) => found,
        Err(answer) => return *answer,
    };
    let now = visit.state.clock.now();
    let confirmed = visit
        .state
        .db
        .write(move |conn| pitch_slots::confirm(conn, &principal, id, None, now))
        .await;
    match confirmed {
        Ok(_) => visit.redirect(&format!("/applications/{id}")),
        Err(e) => visit.error(e),
    }
}
