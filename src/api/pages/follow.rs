//! The pages a signed-in person follows their work on: an application's status (its members and the call's
//! staff), a juror's assignments. Without a session, they lead to the login page and back.

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use minijinja::context;
use uuid::Uuid;

use super::session::Visit;
use super::status_forms::AppealForm;
use crate::auth::permissions::{Principal, Scope};
use crate::error::Error;
use crate::service::pages::{assignments, status};

/// The signed-in person (verified, as the API requires), or the answer to give instead: the login page
/// (coming back to this page), or the page asking to confirm the address.
pub(super) fn signed_in(
    visit: &Visit,
    req: &HttpRequest,
) -> Result<Principal, Box<HttpResponse<BoxBody>>> {
    let Some(principal) = visit.principal().cloned() else {
        let here = match req.query_string() {
            "" => req.path().to_owned(),
            query => format!("{}?{query}", req.path()),
        };
        let next: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", &here)
            .finish();
        return Err(Box::new(visit.redirect(&format!("/login?{next}"))));
    };
    let required = visit.state.settings.auth.require_verified_email;
    principal
        .require_verified_email(required)
        .map_err(|e| Box::new(visit.error(e)))?;
    Ok(principal)
}

/// The status page of application `id` for `principal`, answered with `status`; `appeal` carries what the
/// appeal form said back (its error, the grounds typed) when it failed.
pub(super) async fn status_page(
    visit: &Visit,
    principal: Principal,
    id: Uuid,
    status: StatusCode,
    appeal: AppealForm,
) -> HttpResponse {
    let lang = visit.lang;
    let now = visit.state.clock.now();
    let found = visit
        .state
        .db
        .read(move |conn| status::read(conn, &principal, id, lang, now))
        .await;
    match found {
        Ok(page) => visit.page(
            status,
            "application.html",
            context! { application => page, appeal_form => appeal },
        ),
        Err(e) => visit.error(e),
    }
}

/// `GET /applications/{id}`: the status of an application, for its members and the call's staff; the
/// not-found page for anyone else (jurors included: they have their assignments page).
pub async fn application(visit: Visit, req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    let Ok(id) = Uuid::parse_str(id.trim()) else {
        return visit.error(Error::NotFound);
    };
    let principal = match signed_in(&visit, &req) {
        Ok(principal) => principal,
        Err(answer) => return *answer,
    };
    status_page(&visit, principal, id, StatusCode::OK, AppealForm::default()).await
}

/// `GET /me/assignments`: the applications the signed-in juror is to review, and where each review stands
/// (read-only: reviews are written through the API).
pub async fn assignments(visit: Visit, req: HttpRequest) -> HttpResponse {
    let principal = match signed_in(&visit, &req) {
        Ok(principal) => principal,
        Err(answer) => return *answer,
    };
    if let Err(e) = principal.require_scope(Scope::ReviewsRead) {
        return visit.error(e);
    }
    let lang = visit.lang;
    let juror = principal.user_id;
    let found = visit
        .state
        .db
        .read(move |conn| assignments::read(conn, juror, lang))
        .await;
    match found {
        Ok(page) => visit.page(
            StatusCode::OK,
            "assignments.html",
            context! { assignments => page },
        ),
        Err(e) => visit.error(e),
    }
}
