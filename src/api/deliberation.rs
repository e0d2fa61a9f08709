//! The deliberation view of a stage: the ranking drawn for a jury meeting (where the jury agrees and where
//! it does not), as a printable HTML page with SVG charts or as the JSON figures the page is drawn from.
//! The figures come from [`service::deliberation::figures`], the drawing from its `page` and `charts`.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::api::catalogue::wants_html;
use crate::api::extract::Caller;
use crate::domain::check::Check;
use crate::error::{Error, FieldError, Problem};
use crate::service::deliberation::{self as use_case, page, Deliberation, JurorNames, Options};
use crate::state::AppState;

/// The largest shortlist line one may ask for.
const MAX_LINE: usize = 100_000;

/// `?stage=&jurors=&line=&format=&lang=` of the deliberation view.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliberationQuery {
    /// The stage (the first one by default).
    pub stage: Option<String>,
    /// `anonymous` (default: `J1`…`Jn`) or `named` (administrators and the call's managers; observers
    /// still see `J1`…`Jn`).
    pub jurors: Option<String>,
    /// Where to draw the shortlist line when no shortlist to the next stage exists: after this many
    /// applications.
    pub line: Option<String>,
    /// `json` or `html` (the printable page); without it, `Accept: text/html` asks for the page.
    pub format: Option<String>,
    /// `fr` or `en`; the caller's own language by default.
    pub lang: Option<String>,
}

impl DeliberationQuery {
    /// The options, or a 422 that lists every malformed parameter.
    fn options(self) -> Result<Options, Error> {
        let mut check = Check::default();
        let jurors = match self.jurors.as_deref() {
            None | Some("anonymous") => JurorNames::Anonymous,
            Some("named") => JurorNames::Named,
            Some(_) => {
                check.push(FieldError::new("jurors", "invalid", "anonymous or named"));
                JurorNames::Anonymous
            }
        };
        let line = match self.line.as_deref() {
            None => None,
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if n <= MAX_LINE => Some(n),
                _ => {
                    check.push(FieldError::new(
                        "line",
                        "invalid",
                        format!("a whole number from 0 to {MAX_LINE}"),
                    ));
                    None
                }
            },
        };
        let lang = match self.lang.as_deref() {
            None => None,
            Some("fr") => Some("fr"),
            Some("en") => Some("en"),
            Some(_) => {
                check.push(FieldError::new("lang", "invalid_lang", "fr or en"));
                None
            }
        };
        check.finish()?;
        Ok(Options {
            stage: self.stage,
            jurors,
            line,
            lang,
        })
    }
}

/// The deliberation view of a stage (administrators, the call's managers and observers; 404 for anyone
/// else, as the ranking): each application's raw and normalised scores (the ranking's own), each juror's
/// score on it, its spread and disagreement, the jurors kept away by a conflict, each juror's scores against
/// the jury's, each criterion's mean, and the shortlist line. JSON by default; a printable HTML page with SVG
/// charts and no script with `?format=html` or `Accept: text/html`.
#[utoipa::path(
    operation_id = "getCallDeliberation",
    tag = "evaluation",
    params(("id" = Uuid, Path), DeliberationQuery),
    responses(
        (status = 200, description = "The deliberation view", content(
            (Deliberation = "application/json"),
            (String = "text/html"),
        )),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/calls/{id}/deliberation")]
pub async fn deliberation(
    state: web::Data<AppState>,
    request: HttpRequest,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    query: web::Query<DeliberationQuery>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let query = query.into_inner();
    let html = wants_html(query.format.as_deref(), request.headers())?;
    let options = query.options()?;
    let view = state
        .db
        .read(move |conn| use_case::figures(conn, &caller, id, &options))
        .await?;
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::VARY, "Accept"));
    if html {
        let lang = view.lang.clone();
        let body = web::block(move || page::render(&view))
            .await
            .map_err(|e| {
                Error::Internal(anyhow::anyhow!("drawing the deliberation page: {e}"))
            })??;
        return Ok(response
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CONTENT_LANGUAGE, lang))
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                page::CONTENT_SECURITY_POLICY.as_str(),
            ))
            .body(body));
    }
    Ok(response.json(view))
}
