//! `POST /calls/{id}/editions`: the next edition of a call in one request (the rules live in
//! [`crate::service::editions`]).

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::views::CallView;
use crate::api::etag;
use crate::api::extract::Admin;
use crate::api::idempotency::{self, Reply};
use crate::api::input::{Check, Input};
use crate::auth::permissions::Principal;
use crate::domain::call;
use crate::domain::edition::{parse_edition, EditionPart};
use crate::error::{Error, Problem};
use crate::service::editions::{self as use_case, NewEdition};
use crate::state::AppState;

/// `POST /calls/{id}/editions`: title, summary, kind, time zone, eligibility and reference prefix always come
/// from the previous edition; the rest as `copy` says.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEdition {
    #[schema(required = true)]
    pub slug: Option<String>,
    /// One year after the previous edition's opening, in its time zone, when left out.
    pub opens_at: Option<String>,
    /// One year after the previous edition's closing, in its time zone, when left out.
    pub closes_at: Option<String>,
    /// The edition's year (in references); the previous edition's plus one when left out.
    #[schema(minimum = 1000, maximum = 9999)]
    pub edition: Option<i64>,
    /// What to copy from the previous edition (every part when left out); a part not copied comes from the
    /// call's template.
    #[schema(value_type = Option<Vec<EditionPart>>)]
    pub copy: Option<Vec<String>>,
}

impl CreateEdition {
    /// The parsed request; a 422 listing every problem otherwise.
    fn parse(self, mut check: Check) -> Result<NewEdition, Error> {
        let slug = check.required("slug", self.slug.as_deref(), call::parse_slug);
        let opens_at = check.optional("opens_at", self.opens_at.as_deref(), call::parse_instant);
        let closes_at = check.optional("closes_at", self.closes_at.as_deref(), call::parse_instant);
        let edition = check.optional("edition", self.edition, parse_edition);
        let copy: BTreeSet<EditionPart> = match self.copy {
            None => EditionPart::ALL.into_iter().collect(),
            Some(parts) => parts
                .iter()
                .enumerate()
                .filter_map(|(i, raw)| {
                    check.optional(&format!("copy.{i}"), Some(raw.as_str()), EditionPart::parse)
                })
                .collect(),
        };
        let Some(slug) = slug else {
            return Err(check.into_error());
        };
        check.finish()?;
        Ok(NewEdition {
            slug,
            opens_at,
            closes_at,
            edition,
            copy,
        })
    }
}

/// Starts the next edition of a call: a draft linked to it (`previous_edition_id`), dates one year later in
/// the call's time zone unless given, the parts in `copy` copied. The call itself is left as it was.
#[utoipa::path(
    operation_id = "createCallEdition",
    tag = "calls",
    params(("id" = Uuid, Path, description = "The previous edition"), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CreateEdition,
    responses(
        (status = 201, body = CallView, headers(("ETag" = String))), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "Another call has this reference prefix and edition (`edition_taken`)", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/calls/{id}/editions")]
pub async fn create(
    state: web::Data<AppState>,
    Admin(caller): Admin,
    req: HttpRequest,
    id: web::Path<Uuid>,
    input: Input<CreateEdition>,
) -> Result<HttpResponse, Error> {
    let body_hash = input.body_hash.clone();
    let user_id = caller.user_id;
    idempotency::once(&state, &req, user_id, &body_hash, || {
        create_edition(&state, caller, id.into_inner(), input)
    })
    .await
}

async fn create_edition(
    state: &AppState,
    caller: Principal,
    source_id: Uuid,
    input: Input<CreateEdition>,
) -> Result<Reply, Error> {
    let (body, check) = input.into_parts();
    let new = body.parse(check)?;
    let now = state.clock.now();
    let call = state
        .db
        .write(move |conn| use_case::create(conn, &caller, source_id, new, now))
        .await?;
    let view = CallView::new(&call, now)?;
    let etag = etag::of_version(view.version);
    Ok(Reply::json(StatusCode::CREATED, view)?.with_etag(etag))
}
