//! The figures of a call: how many applied, in which status, from where, what they answered, how far the
//! jury is, which emails have not gone out. The rules and the counting are in [`service::stats`].

use actix_web::{get, web, HttpResponse};
use uuid::Uuid;

use crate::api::extract::Caller;
use crate::domain::figures::{CallFigures, EditionFigures};
use crate::error::{Error, Problem};
use crate::service;
use crate::state::AppState;

/// The figures of a call (administrators, the call's managers and observers; 404 for anyone else). Anonymised applications are counted
/// with the others; answers are counted over submitted applications only.
#[utoipa::path(
    operation_id = "getCallStats",
    tag = "calls",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CallFigures), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/stats")]
pub async fn call_stats(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let now = state.clock.now();
    let Caller(caller) = caller;
    let figures = state
        .db
        .read(move |conn| service::stats::read(conn, &caller, id, now))
        .await?;
    Ok(HttpResponse::Ok().json(figures))
}

/// The figures of a call and of its earlier editions side by side, oldest first (as `getCallStats`, for each
/// edition the caller may read; at most 20 editions).
#[utoipa::path(
    operation_id = "getCallEditionStats",
    tag = "calls",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = EditionFigures), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/stats/editions")]
pub async fn call_edition_stats(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let now = state.clock.now();
    let figures = state
        .db
        .read(move |conn| service::stats::read_editions(conn, &caller, id, now))
        .await?;
    Ok(HttpResponse::Ok().json(figures))
}
