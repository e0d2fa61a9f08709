//! The pages behind the links Cordée emails (`/verify-email`, `/invitations/accept`, `/password-reset`,
//! `/login`, `/applications/{id}` and its forms, `/me/assignments`): server-rendered HTML, no script, in French or
//! English, for people without a front end. They are not the API: no OpenAPI entry, HTML answers (errors
//! included), a session cookie instead of a bearer token, and a CSRF check on every form. Each form goes
//! through the same functions as the JSON API (`api::accounts`, `api::invitations`), so the rules are the
//! API's.
//!
//! `session.rs`: who is visiting (the session cookie), the language, the CSRF token; `render.rs`: templates
//! and headers; `accounts.rs`, `invitations.rs`, `follow.rs`, `status_forms.rs`: the pages.

mod accounts;
mod follow;
mod invitations;
pub mod render;
mod session;
mod status_forms;

use actix_web::web;

pub use session::{Visit, CSRF_FIELD};

/// The pages' routes (plain actix routes: they stay out of the OpenAPI document).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(accounts::login_page))
        .route("/login", web::post().to(accounts::login))
        .route("/logout", web::post().to(accounts::logout))
        .route("/verify-email", web::get().to(accounts::verify_page))
        .route("/verify-email", web::post().to(accounts::verify))
        .route(
            "/password-reset",
            web::get().to(accounts::reset_request_page),
        )
        .route("/password-reset", web::post().to(accounts::reset_request))
        .route(
            "/password-reset/confirm",
            web::get().to(accounts::reset_confirm_page),
        )
        .route(
            "/password-reset/confirm",
            web::post().to(accounts::reset_confirm),
        )
        .route(
            "/invitations/accept",
            web::get().to(invitations::accept_page),
        )
        .route("/invitations/accept", web::post().to(invitations::accept))
        .route("/invitations/decline", web::post().to(invitations::decline))
        .route("/applications/{id}", web::get().to(follow::application))
        .route(
            "/applications/{id}/appeal",
            web::post().to(status_forms::appeal),
        )
        .route(
            "/applications/{id}/pitch-slot/confirm",
            web::post().to(status_forms::confirm_pitch_slot),
        )
        .route("/me/assignments", web::get().to(follow::assignments));
}
