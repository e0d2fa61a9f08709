//! The HTTP API: handlers per resource, extractors, and the routing table that also builds the OpenAPI
//! document (every route served is a route documented).

pub mod accounts;
pub mod admin;
pub mod applications;
pub mod attachments;
pub mod calls;
pub mod decisions;
pub mod email_templates;
pub mod etag;
pub mod events;
pub mod exports;
pub mod extract;
pub mod idempotency;
pub mod input;
pub mod invitations;
pub mod jury;
pub mod me;
pub mod messages;
pub mod ops;
pub mod organizations;
pub mod pairings;
pub mod personal;
pub mod reviews;
pub mod webhooks;

use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpResponse, ResponseError};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{scope, service_config::ServiceConfig};

use crate::error::{Error, FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cordée",
        description = "Runs calls for applications end to end: applications, screening, jury evaluation, decisions and email.",
        version = "1"
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "operations", description = "Health, readiness, metrics"),
        (name = "accounts", description = "Registration, login, tokens, invitations"),
        (name = "organizations", description = "Who applies"),
        (name = "calls", description = "Calls for applications"),
        (name = "applications", description = "Applications, attachments, submission, screening"),
        (name = "evaluation", description = "Juries, conflicts, assignments, reviews, ranking, decisions"),
        (name = "admin", description = "Staff tools"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The base of the OpenAPI document; the routes add their paths.
pub fn openapi_base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Every route of the service.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(ops::health)
        .service(ops::ready)
        .service(ops::metrics)
        .service(
            scope::scope("/api/v1")
                .service(accounts::register)
                .service(accounts::verify_email)
                .service(accounts::login)
                .service(accounts::logout)
                .service(accounts::password_reset)
                .service(accounts::password_reset_confirm)
                .service(me::me)
                .service(me::list_tokens)
                .service(me::create_token)
                .service(me::delete_token)
                .service(invitations::create)
                .service(invitations::accept)
                .service(organizations::list_mine)
                .service(organizations::create)
                .service(organizations::get_one)
                .service(organizations::update)
                .service(organizations::list_members)
                .service(organizations::add_member)
                .service(calls::templates)
                .service(calls::list)
                .service(calls::create)
                .service(calls::get_one)
                .service(calls::update)
                .service(calls::publish)
                .service(applications::create)
                .service(applications::list)
                .service(applications::get_one)
                .service(applications::update)
                .service(applications::submit)
                .service(applications::withdraw)
                .service(applications::screen)
                .service(attachments::upload)
                .service(attachments::download)
                .service(attachments::remove)
                .service(messages::list)
                .service(messages::create)
                .service(jury::list_jurors)
                .service(jury::add_juror)
                .service(jury::remove_juror)
                .service(jury::list_conflicts)
                .service(jury::declare_conflict)
                .service(jury::auto_assign)
                .service(jury::list_assignments)
                .service(jury::create_assignment)
                .service(jury::my_assignments)
                .service(jury::set_review_deadline)
                .service(reviews::save)
                .service(reviews::submit)
                .service(reviews::list)
                .service(reviews::reopen)
                .service(reviews::ranking)
                .service(decisions::shortlist)
                .service(decisions::record)
                .service(decisions::list)
                .service(decisions::publish)
                .service(pairings::propose)
                .service(pairings::respond)
                .service(pairings::list)
                .service(exports::applications_csv)
                .service(exports::ranking_csv)
                .service(exports::my_assignments_csv)
                .service(admin::list_outbox)
                .service(admin::retry_outbox)
                .service(admin::list_audit)
                .service(personal::export)
                .service(personal::delete_me)
                .service(personal::get_retention_consent)
                .service(personal::set_retention_consent)
                .service(personal::run_retention)
                .service(email_templates::get_one)
                .service(email_templates::update)
                .service(email_templates::reset)
                .service(email_templates::preview)
                .service(events::feed)
                .service(webhooks::create)
                .service(webhooks::list)
                .service(webhooks::get_one)
                .service(webhooks::remove)
                .service(webhooks::enable)
                .service(webhooks::send_test)
                .service(webhooks::deliveries),
        );
}

/// Answers for unknown routes: a problem+json 404.
pub async fn not_found() -> HttpResponse {
    Error::NotFound.error_response()
}

/// Turns every error answer that is not already problem+json (from the framework: 404, 405, 413, bad
/// path or query) into one, so that clients never see HTML or plain text.
pub fn problem_json_errors<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        let is_problem = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/problem+json"));
        if is_problem {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let status = res.status();
        let error = match status.as_u16() {
            400 => Error::BadRequest("the request is malformed".into()),
            401 => Error::Unauthorized("authentication required".into()),
            404 => Error::NotFound,
            413 => Error::PayloadTooLarge("the body is too large".into()),
            415 => Error::UnsupportedMediaType("unsupported content type".into()),
            s if s < 500 => Error::BadRequest(
                status
                    .canonical_reason()
                    .unwrap_or("bad request")
                    .to_lowercase(),
            ),
            _ => Error::Internal(anyhow::anyhow!("framework error {status}")),
        };
        let mut problem = error.problem();
        problem.status = status.as_u16();
        problem.title = status.canonical_reason().unwrap_or("Error").to_owned();
        let body = HttpResponse::build(status)
            .content_type("application/problem+json")
            .json(problem);
        let (req, _) = res.into_parts();
        Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(req, body).map_into_right_body(),
        ))
    })
}
