//! The account pages: logging in and out, confirming an address, asking for and using a password-reset
//! link. Every form goes through the API's own functions (`api::accounts`).

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use minijinja::context;

use super::session::{local_path, t, Form, Visit};
use crate::api::accounts::{
    check_password, confirm_address, end_session, login_address, open_session, reset_password,
    send_reset_link,
};
use crate::api::input::Check;
use crate::auth::token;
use crate::domain::account::EmailAddress;
use crate::error::{Error, FieldError};
use crate::service::accounts;

/// The `token` of a link's query string.
fn query_token(req: &HttpRequest) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// The `next` of a query string, when it is a local path.
fn query_next(req: &HttpRequest) -> Option<String> {
    let next = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(key, _)| key == "next")
        .map(|(_, value)| value.into_owned());
    local_path(next.as_deref())
}

/// The login form, with `errors` and the address typed.
fn login_form(
    visit: &Visit,
    status: StatusCode,
    next: Option<String>,
    email: &str,
    problem: Option<&str>,
) -> HttpResponse<BoxBody> {
    visit.page(
        status,
        "login.html",
        context! { next => next, email => email, problem => problem },
    )
}

/// `GET /login`: the login form, or who is signed in (with a logout button).
pub async fn login_page(visit: Visit, req: HttpRequest) -> HttpResponse {
    login_form(&visit, StatusCode::OK, query_next(&req), "", None)
}

/// `POST /login`: opens a session (the API's login: same throttle, same token) and sets its cookie, then
/// goes to `next` (or back to the login page, which says who is signed in).
pub async fn login(visit: Visit, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = Form::parse(&body);
    if let Err(refused) = visit.check_form(&form) {
        return *refused;
    }
    let next = local_path(form.get("next"));
    let typed = form.get("email").unwrap_or_default().to_owned();
    let (Some(email), Some(password)) = (form.filled("email"), form.filled("password")) else {
        let problem = t(
            visit.lang,
            "Indiquez votre adresse e-mail et votre mot de passe.",
            "Enter your email address and your password.",
        );
        return login_form(
            &visit,
            StatusCode::UNPROCESSABLE_ENTITY,
            next,
            &typed,
            Some(problem),
        );
    };
    let email = login_address(email).unwrap_or_default();
    match open_session(&visit.state, &req, &email, password).await {
        Ok((secret, _, _)) => {
            let seconds = visit.state.settings.auth.session_ttl_hours * 3600;
            let mut response = visit.redirect(next.as_deref().unwrap_or("/login"));
            let _ = response.add_cookie(&visit.session_cookie(secret, seconds));
            response
        }
        Err(Error::Unauthorized(_)) => {
            let problem = t(
                visit.lang,
                "Adresse e-mail ou mot de passe incorrect.",
                "Wrong email address or password.",
            );
            login_form(
                &visit,
                StatusCode::UNAUTHORIZED,
                next,
                &typed,
                Some(problem),
            )
        }
        Err(other) => visit.error(other),
    }
}

/// `POST /logout`: ends the session of the cookie (the API's logout) and removes the cookie.
pub async fn logout(visit: Visit, body: web::Bytes) -> HttpResponse {
    let form = Form::parse(&body);
    if let Err(refused) = visit.check_form(&form) {
        return *refused;
    }
    if let Some(principal) = visit.principal() {
        if let Err(e) = end_session(&visit.state, principal).await {
            return visit.error(e);
        }
    }
    let lang = visit.lang;
    let mut response = visit.message(
        StatusCode::OK,
        t(lang, "Vous êtes déconnecté·e", "You are logged out"),
        &[t(
            lang,
            "Votre session est terminée sur cet appareil.",
            "Your session on this device has ended.",
        )],
        Some(("/login", t(lang, "Se connecter de nouveau", "Log in again"))),
    );
    let _ = response.add_removal_cookie(&visit.session_cookie(String::new(), 0));
    response
}

/// `GET /verify-email?token=`: a button that confirms the address. Opening the link consumes nothing
/// (mail scanners open links): only the button's POST does.
pub async fn verify_page(visit: Visit, req: HttpRequest) -> HttpResponse {
    let Some(secret) = query_token(&req) else {
        return visit.error(Error::BadRequest("no token".into()));
    };
    let now = visit.state.clock.now();
    let hash = token::hash(&secret);
    let live = visit
        .state
        .db
        .read(move |conn| accounts::peek_verification(conn, &hash, now))
        .await;
    match live {
        Ok(()) => visit.page(
            StatusCode::OK,
            "verify_email.html",
            context! { token => secret },
        ),
        Err(e) => visit.error(e),
    }
}

/// `POST /verify-email`: confirms the address (the API's verification), then offers to log in.
pub async fn verify(visit: Visit, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = Form::parse(&body);
    if let Err(refused) = visit.check_form(&form) {
        return *refused;
    }
    let Some(secret) = form.filled("token").or_else(|| query_token(&req)) else {
        return visit.error(Error::BadRequest("no token".into()));
    };
    if let Err(e) = confirm_address(&visit.state, secret.trim()).await {
        return visit.error(e);
    }
    let lang = visit.lang;
    visit.message(
        StatusCode::OK,
        t(lang, "Adresse e-mail confirmée", "Email address confirmed"),
        &[t(
            lang,
            "Merci : votre adresse est confirmée. Vous pouvez maintenant vous connecter.",
            "Thank you: your address is confirmed. You may now log in.",
        )],
        Some(("/login", t(lang, "Se connecter", "Log in"))),
    )
}

/// `GET /password-reset`: asks for the address to send a link to.
pub async fn reset_request_page(visit: Visit) -> HttpResponse {
    visit.page(
        StatusCode::OK,
        "password_reset.html",
        context! { email => "" },
    )
}

/// `POST /password-reset`: sends a link if the address has an account (the API's request); the page says
/// the same either way.
pub async fn reset_request(visit: Visit, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = Form::parse(&body);
    if let Err(refused) = visit.check_form(&form) {
        return *refused;
    }
    let typed = form.get("email").unwrap_or_default().to_owned();
    let mut check = Check::default();
    let email = check.required(
        "email",
        form.filled("email").as_deref(),
        EmailAddress::parse,
    );
    let Some(email) = email else {
        let errors = visit.field_errors(&check_errors(check));
        return visit.page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "password_reset.html",
            context! { email => typed, errors => errors },
        );
    };
    if let Err(e) = send_reset_link(&visit.state, &req, email).await {
        return visit.error(e);
    }
    let lang = visit.lang;
    visit.message(
        StatusCode::OK,
        t(lang, "Vérifiez votre messagerie", "Check your mailbox"),
        &[t(lang, "Si un compte existe pour cette adresse, un lien pour choisir un nouveau mot de passe vient de lui être envoyé. Il est valable peu de temps.", "If an account exists for this address, a link to choose a new password is on its way. It works for a short time only.")],
        Some(("/login", t(lang, "Retour à la connexion", "Back to login"))),
    )
}

/// The field errors a check gathered.
pub(super) fn check_errors(check: Check) -> Vec<FieldError> {
    match check.finish() {
        Err(Error::Validation(errors)) => errors,
        _ => Vec::new(),
    }
}

/// `GET /password-reset/confirm?token=`: the new-password form, once the link is known to work (nothing is
/// consumed).
pub async fn reset_confirm_page(visit: Visit, req: HttpRequest) -> HttpResponse {
    let Some(secret) = query_token(&req) else {
        return visit.error(Error::BadRequest("no token".into()));
    };
    let now = visit.state.clock.now();
    let hash = token::hash(&secret);
    let live = visit
        .state
        .db
        .read(move |conn| accounts::password_reset_account(conn, &hash, now))
        .await;
    match live {
        Ok(_) => visit.page(
            StatusCode::OK,
            "password_reset_confirm.html",
            context! { token => secret },
        ),
        Err(e) => visit.error(e),
    }
}

/// `POST /password-reset/confirm`: sets the new password (the API's confirmation, which ends every
/// session of the account), then offers to log in.
pub async fn reset_confirm(visit: Visit, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = Form::parse(&body);
    if let Err(refused) = visit.check_form(&form) {
        return *refused;
    }
    let Some(secret) = form.filled("token").or_else(|| query_token(&req)) else {
        return visit.error(Error::BadRequest("no token".into()));
    };
    let password = form.get("password").unwrap_or_default().to_owned();
    let confirm = form.get("confirm").unwrap_or_default();
    let form_again = |errors: Vec<FieldError>| {
        visit.page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "password_reset_confirm.html",
            context! { token => secret.clone(), errors => visit.field_errors(&errors) },
        )
    };
    if password != confirm {
        let mut check = Check::default();
        check_password(&mut check, Some(&password), None);
        let mut errors = check_errors(check);
        errors.push(FieldError::new(
            "confirm",
            "mismatch",
            "the two passwords differ",
        ));
        return form_again(errors);
    }
    match reset_password(&visit.state, secret.trim(), password).await {
        Ok(_) => {}
        Err(Error::Validation(errors)) if errors.iter().all(|e| e.code != "invalid_token") => {
            return form_again(errors)
        }
        Err(e) => return visit.error(e),
    }
    let lang = visit.lang;
    let mut response = visit.message(
        StatusCode::OK,
        t(lang, "Mot de passe changé", "Password changed"),
        &[t(lang, "Votre nouveau mot de passe est enregistré, et toutes vos sessions ouvertes ont été fermées. Connectez-vous avec ce nouveau mot de passe.", "Your new password is saved, and every open session has ended. Log in with the new password.")],
        Some(("/login", t(lang, "Se connecter", "Log in"))),
    );
    let _ = response.add_removal_cookie(&visit.session_cookie(String::new(), 0));
    response
}
