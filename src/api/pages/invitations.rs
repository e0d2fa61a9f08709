//! The invitation page: what the invitation is for, then accepting it (creating the account, or with the
//! existing one) or declining it, through the API's own functions (`api::invitations`).

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use minijinja::context;

use super::accounts::check_errors;
use super::session::{t, Form, Visit};
use crate::api::accounts::check_password;
use crate::api::input::Check;
use crate::api::invitations::{accept_invitation, decline_invitation, AcceptInvitation};
use crate::auth::token;
use crate::error::{Error, FieldError};
use crate::service::pages::invitation;

/// The `token` of the link's query string.
fn query_token(req: &HttpRequest) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// The invitation page for `secret`, with the form's `errors` and typed name.
async fn invitation_page(
    visit: &Visit,
    status: StatusCode,
    secret: &str,
    errors: Vec<FieldError>,
    display_name: &str,
) -> HttpResponse<BoxBody> {
    let now = visit.state.clock.now();
    let hash = token::hash(secret);
    let lang = visit.lang;
    let summary = visit
        .state
        .db
        .read(move |conn| invitation::describe(conn, &hash, now, lang))
        .await;
    let summary = match summary {
        Ok(summary) => summary,
        Err(e) => return visit.error(e),
    };
    let signed_in_as_invitee = visit
        .visitor
        .as_ref()
        .is_some_and(|v| v.email.eq_ignore_ascii_case(&summary.email));
    let login_next: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("next", &format!("/invitations/accept?token={secret}"))
        .finish();
    visit.page(
        status,
        "invitation.html",
        context! {
            token => secret,
            invitation => summary,
            signed_in_as_invitee => signed_in_as_invitee,
            login_href => format!("/login?{login_next}"),
            errors => visit.field_errors(&errors),
            display_name => display_name,
        },
    )
}

/// `GET /invitations/accept?token=`: what the invitation is for, and how to accept or decline it. Opening
/// the link changes nothing.
pub async fn accept_page(visit: Visit, req: HttpRequest) -> HttpResponse {
    let Some(secret) = query_token(&req) else {
        return visit.error(Error::BadRequest("no token".into()));
    };
    invitation_page(&visit, StatusCode::OK, &secret, Vec::new(), "").await
}

/// `POST /invitations/accept`: accepts (the API's acceptance: a new account, or the existing one when
/// signed in as it or with a new password), then offers to log in.
pub async fn accept(visit: Visit, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = Form::parse(&body);
    if let Err(refused) = visit.check_form(&form) {
        return *refused;
    }
    let Some(secret) = form.filled("token").or_else(|| query_token(&req)) else {
        return visit.error(Error::BadRequest("no token".into()));
    };
    let display_name = form.get("display_name").unwrap_or_default().to_owned();
    let password = form.filled("password");
    if password.as_deref().unwrap_or_default() != form.get("confirm").unwrap_or_default() {
        let mut check = Check::default();
        check_password(&mut check, password.as_deref(), None);
        let mut errors = check_errors(check);
        errors.push(FieldError::new(
            "confirm",
            "mismatch",
            "the two passwords differ",
        ));
        return invitation_page(
            &visit,
            StatusCode::UNPROCESSABLE_ENTITY,
            &secret,
            errors,
            &display_name,
        )
        .await;
    }
    let body = AcceptInvitation {
        token: Some(secret.clone()),
        display_name: form.filled("display_name"),
        password,
    };
    let caller = visit.principal().map(|p| p.user_id);
    match accept_invitation(&visit.state, caller, body, Check::default()).await {
        Ok(_) => {}
        Err(Error::Validation(errors)) if errors.iter().all(|e| e.code != "invalid_token") => {
            return invitation_page(
                &visit,
                StatusCode::UNPROCESSABLE_ENTITY,
                &secret,
                errors,
                &display_name,
            )
            .await
        }
        Err(e) => return visit.error(e),
    }
    let lang = visit.lang;
    visit.message(
        StatusCode::OK,
        t(lang, "Invitation acceptée", "Invitation accepted"),
        &[t(lang, "Bienvenue ! Votre compte est prêt : connectez-vous avec votre adresse e-mail et votre mot de passe.", "Welcome! Your account is ready: log in with your email address and your password.")],
        Some(("/login", t(lang, "Se connecter", "Log in"))),
    )
}

/// `POST /invitations/decline`: declines (the API's refusal): the link stops working, nothing is given.
pub async fn decline(visit: Visit, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = Form::parse(&body);
    if let Err(refused) = visit.check_form(&form) {
        return *refused;
    }
    let Some(secret) = form.filled("token").or_else(|| query_token(&req)) else {
        return visit.error(Error::BadRequest("no token".into()));
    };
    if let Err(e) = decline_invitation(&visit.state, secret.trim()).await {
        return visit.error(e);
    }
    let lang = visit.lang;
    visit.message(
        StatusCode::OK,
        t(lang, "Invitation déclinée", "Invitation declined"),
        &[t(
            lang,
            "C'est noté : l'invitation est déclinée et son lien ne fonctionne plus.",
            "Noted: the invitation is declined and its link no longer works.",
        )],
        None,
    )
}
