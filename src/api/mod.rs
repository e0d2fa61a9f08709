//! The HTTP API: handlers per resource, extractors, and the routing table that also builds the OpenAPI
//! document (every route served is a route documented).

pub mod accounts;
pub mod admin;
pub mod appeals;
pub mod applications;
pub mod assignments;
pub mod attachments;
pub mod calls;
pub mod catalogue;
pub mod conflicts;
pub mod decision_history;
pub mod decisions;
pub mod deliberation;
pub mod email_templates;
pub mod etag;
pub mod events;
pub mod exports;
pub mod extract;
pub mod idempotency;
pub mod input;
pub mod invitations;
pub mod jurors;
pub mod me;
pub mod meetings;
pub mod members;
pub mod messages;
pub mod ops;
pub mod organizations;
pub mod packs;
pub mod pages;
pub mod pairings;
pub mod patch;
pub mod personal;
pub mod pitch_slots;
pub mod ranking;
pub mod reviews;
pub mod staff;
pub mod stats;
pub mod timeline;
pub mod webhooks;

use actix_web::body::MessageBody;
use actix_web::dev::{AppService, HttpServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{from_fn, ErrorHandlerResponse, ErrorHandlers, Next};
use actix_web::{HttpResponse, ResponseError};
use utoipa::openapi::path::{Operation, ParameterIn, Paths};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{scope, service_config::ServiceConfig, OpenApiFactory};

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
        (name = "integrations", description = "Webhooks and the event feed"),
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
    cfg.service(Documented(ops::health))
        .service(Documented(ops::ready))
        .service(Documented(ops::metrics))
        .service(Documented(
            scope::scope("/api/v1")
                .wrap(from_fn(refuse_nul_characters))
                .service(accounts::register)
                .service(accounts::verify_email)
                .service(accounts::resend_verification)
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
                .service(invitations::decline)
                .service(organizations::list_mine)
                .service(organizations::create)
                .service(organizations::get_one)
                .service(organizations::update)
                .service(members::list)
                .service(members::invite)
                .service(members::remove)
                .service(calls::templates)
                .service(calls::list)
                .service(calls::create)
                .service(calls::get_one)
                .service(calls::update)
                .service(calls::publish)
                .service(calls::create_edition)
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
                .service(jurors::list_jurors)
                .service(jurors::add_juror)
                .service(jurors::remove_juror)
                .service(staff::list_staff)
                .service(staff::remove_staff)
                .service(conflicts::list_conflicts)
                .service(conflicts::declare_conflict)
                .service(conflicts::detect_conflicts)
                .service(conflicts::confirm_conflict)
                .service(conflicts::dismiss_conflict)
                .service(assignments::auto_assign)
                .service(assignments::list_assignments)
                .service(assignments::create_assignment)
                .service(assignments::my_assignments)
                .service(jurors::set_review_deadline)
                .service(reviews::save)
                .service(reviews::submit)
                .service(reviews::list)
                .service(reviews::reopen)
                .service(ranking::ranking)
                .service(deliberation::deliberation)
                .service(stats::call_stats)
                .service(stats::call_edition_stats)
                .service(decisions::shortlist)
                .service(decisions::record)
                .service(decisions::list)
                .service(decisions::publish)
                .service(meetings::open)
                .service(meetings::list)
                .service(meetings::get_one)
                .service(meetings::update)
                .service(meetings::set_attendance)
                .service(meetings::create_item)
                .service(meetings::replace_item)
                .service(meetings::close)
                .service(meetings::record)
                .service(decision_history::revise)
                .service(decision_history::history)
                .service(timeline::timeline)
                .service(appeals::file)
                .service(appeals::list)
                .service(appeals::resolve)
                .service(pitch_slots::set_slot)
                .service(pitch_slots::get_slot)
                .service(pitch_slots::delete_slot)
                .service(pitch_slots::confirm_slot)
                .service(pitch_slots::list_slots)
                .service(catalogue::give_consent)
                .service(catalogue::withdraw_consent)
                .service(catalogue::publish_entry)
                .service(catalogue::unpublish_entry)
                .service(catalogue::catalogue)
                .service(pairings::propose)
                .service(pairings::respond)
                .service(pairings::list)
                .service(exports::applications_csv)
                .service(exports::ranking_csv)
                .service(exports::my_assignments_csv)
                .service(packs::download_pack)
                .service(packs::upload_sheet)
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
        ));
}

/// Routes whose OpenAPI operations are completed with what every route shares, so that the document lists
/// every answer a client can get: error answers are `application/problem+json`, and the refusals of the
/// extractors are listed wherever they can happen (400 for a malformed body or query, 408 for a body that
/// stops arriving, 413 and 415 for a body too large or not in the expected type, 404 for a malformed path,
/// 403 wherever a bearer token is used: an account whose address is not verified is refused there).
struct Documented<T>(T);

impl<T: HttpServiceFactory> HttpServiceFactory for Documented<T> {
    fn register(self, config: &mut AppService) {
        self.0.register(config);
    }
}

impl<T: OpenApiFactory> OpenApiFactory for Documented<T> {
    fn paths(&self) -> Paths {
        let mut paths = self.0.paths();
        for item in paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                complete(operation);
            }
        }
        paths
    }

    fn schemas(&self, schemas: &mut Vec<(String, RefOr<Schema>)>) {
        self.0.schemas(schemas);
    }
}

/// Adds the shared answers to one operation and gives its error answers their real content type.
fn complete(operation: &mut Operation) {
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let has_query = parameters
        .iter()
        .any(|p| p.parameter_in == ParameterIn::Query);
    let has_path = parameters
        .iter()
        .any(|p| p.parameter_in == ParameterIn::Path);
    let has_body = operation.request_body.is_some();
    let has_bearer = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let responses = &mut operation.responses.responses;
    let mut shared = |status: &str, description: &str| {
        responses.entry(status.to_owned()).or_insert_with(|| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
                .into()
        });
    };
    if has_body || has_query {
        shared("400", "The body or a query parameter is malformed");
    }
    if has_body {
        shared(
            "408",
            "The body stopped arriving (server.client_body_timeout_ms)",
        );
        shared("413", "The body is over the size limit");
        shared("415", "The body is not of the expected content type");
    }
    if has_path {
        shared("404", "Not found, or a malformed identifier in the path");
    }
    if has_bearer {
        shared(
            "403",
            "Not allowed; `code` is `email_not_verified` while the account's address is not verified",
        );
    }
    for (status, response) in responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let (true, RefOr::T(response)) = (is_error, response) {
            if let Some(content) = response.content.shift_remove("application/json") {
                response
                    .content
                    .insert("application/problem+json".to_owned(), content);
            }
        }
    }
}

/// Refuses, with a 400, a path or query string that decodes to a NUL character: no identifier or filter holds
/// one, and PostgreSQL cannot compare text with it (it would fail the request with a 500).
async fn refuse_nul_characters(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // A NUL arrives percent-encoded: `%00`, the only spelling that decodes to it.
    let has_nul = [req.uri().path(), req.query_string()]
        .iter()
        .any(|part| part.contains('\0') || part.contains("%00"));
    if has_nul {
        let error = Error::BadRequest("the path or the query string holds a NUL character".into());
        return Ok(req.error_response(error).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// Answers for unknown routes: a problem+json 404.
pub async fn not_found() -> HttpResponse {
    Error::NotFound.error_response()
}

/// Turns every error answer that is not already problem+json (from the framework: 404, 405, 413, bad
/// path or query) into one, so that API clients never see HTML or plain text; the error pages of
/// `api::pages` stay HTML.
pub fn problem_json_errors<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        // Problems pass as they are, and so do the pages' own error pages (`api::pages`: HTML on purpose).
        let is_problem_or_page = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.starts_with("application/problem+json") || v.starts_with("text/html")
            });
        if is_problem_or_page {
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
