//! The public catalogue of a call's retained solutions: applicants' consent (`PUT`/`DELETE
//! /applications/{id}/catalogue-consent`), staff's publications (`PUT`/`DELETE
//! /calls/{id}/catalogue/{application_id}`), and the catalogue itself, as JSON or as a printable HTML page
//! (`GET /calls/{id-or-slug}/catalogue`). The rules are in [`crate::service::catalogue`].

use actix_web::http::header::{self, HeaderMap};
use actix_web::{delete, get, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::extract::{Caller, PageQuery, Paginated};
use crate::api::input::Input;
use crate::domain::catalogue::as_object;
use crate::error::{Error, Problem};
use crate::service::catalogue::{self as use_case, page, ConsentRecord, Entry, PublicationRecord};
use crate::state::AppState;

/// `PUT /applications/{id}/catalogue-consent`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// The fields the catalogue may show, among those the call publishes (its `catalogue.fields`).
    #[schema(required = true)]
    pub fields: Option<Vec<String>>,
}

/// The applicant's consent to appear in the catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    pub application_id: Uuid,
    /// The fields the catalogue shows, in the call's order.
    pub fields: Vec<String>,
    /// Who gave it.
    pub given_by: Option<Uuid>,
    pub given_at: DateTime<Utc>,
}

impl From<ConsentRecord> for ConsentView {
    fn from(c: ConsentRecord) -> Self {
        ConsentView {
            application_id: c.application_id,
            fields: c.fields,
            given_by: c.given_by,
            given_at: c.given_at,
        }
    }
}

/// Consents to show the chosen fields of the application in its call's public catalogue, once staff
/// publish it (members of the applicant organization; replaces an earlier consent). Revocable at any time
/// with `DELETE`.
#[utoipa::path(
    operation_id = "giveCatalogueConsent",
    tag = "applications",
    params(("id" = Uuid, Path)),
    request_body = ConsentRequest,
    responses(
        (status = 200, body = ConsentView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "The call has no catalogue", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[put("/applications/{id}/catalogue-consent")]
pub async fn give_consent(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Input<ConsentRequest>,
) -> Result<HttpResponse, Error> {
    let (caller, id) = (caller.0, id.into_inner());
    let (body, mut check) = input.into_parts();
    let Some(fields) = check.required("fields", body.fields, Ok) else {
        return Err(check.into_error());
    };
    check.finish()?;
    let now = state.clock.now();
    let consent = state
        .db
        .write(move |conn| use_case::give_consent(conn, &caller, id, &fields, now))
        .await?;
    Ok(HttpResponse::Ok().json(ConsentView::from(consent)))
}

/// Withdraws the consent: the application leaves the public catalogue at once (members of the applicant
/// organization; nothing changes when no consent was given).
#[utoipa::path(
    operation_id = "withdrawCatalogueConsent",
    tag = "applications",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Withdrawn"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "The call has no catalogue", body = Problem),
    ),
    security(("bearer" = []))
)]
#[delete("/applications/{id}/catalogue-consent")]
pub async fn withdraw_consent(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let (caller, id) = (caller.0, id.into_inner());
    let now = state.clock.now();
    state
        .db
        .write(move |conn| use_case::withdraw_consent(conn, &caller, id, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A retained application published in the catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicationView {
    pub application_id: Uuid,
    pub published_at: DateTime<Utc>,
    /// Whether its members consent: the catalogue shows it only then.
    pub consented: bool,
}

impl From<PublicationRecord> for PublicationView {
    fn from(p: PublicationRecord) -> Self {
        PublicationView {
            application_id: p.application_id,
            published_at: p.published_at,
            consented: p.consented,
        }
    }
}

/// Publishes a retained application in the call's catalogue (administrators); it shows there while its
/// members consent. Publishing again changes nothing.
#[utoipa::path(
    operation_id = "publishCatalogueEntry",
    tag = "calls",
    params(("id" = Uuid, Path), ("application_id" = Uuid, Path)),
    responses(
        (status = 200, body = PublicationView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "No catalogue, or the application is not retained", body = Problem),
    ),
    security(("bearer" = []))
)]
#[put("/calls/{id}/catalogue/{application_id}")]
pub async fn publish_entry(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Error> {
    let (call_id, application_id) = path.into_inner();
    let now = state.clock.now();
    let published = state
        .db
        .write(move |conn| use_case::publish(conn, &caller, call_id, application_id, now))
        .await?;
    Ok(HttpResponse::Ok().json(PublicationView::from(published)))
}

/// Takes an application out of the call's catalogue (administrators and the call's managers).
#[utoipa::path(
    operation_id = "unpublishCatalogueEntry",
    tag = "calls",
    params(("id" = Uuid, Path), ("application_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Not in the catalogue any more"), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The call has no catalogue", body = Problem),
    ),
    security(("bearer" = []))
)]
#[delete("/calls/{id}/catalogue/{application_id}")]
pub async fn unpublish_entry(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Error> {
    let (call_id, application_id) = path.into_inner();
    let now = state.clock.now();
    state
        .db
        .write(move |conn| use_case::unpublish(conn, &caller, call_id, application_id, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `?format=&lang=` of the catalogue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogueQuery {
    /// `json` or `html` (the printable page); without it, `Accept: text/html` asks for the page.
    pub format: Option<String>,
    /// `fr` or `en` for the page; without it, the first of them in `Accept-Language`, else French.
    pub lang: Option<String>,
}

/// One solution of the catalogue: exactly the fields its applicant consented to show.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueEntryView {
    /// Field name → value (answers as stored: option values, not labels; see the call's form).
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    pub published_at: DateTime<Utc>,
}

impl From<&Entry> for CatalogueEntryView {
    fn from(e: &Entry) -> Self {
        CatalogueEntryView {
            fields: as_object(&e.values),
            published_at: e.published_at,
        }
    }
}

/// Whether the client asked for the HTML page: `?format=html`, else an `Accept` naming `text/html`
/// (`?format=json` forces JSON). 422 for another format.
pub(crate) fn wants_html(format: Option<&str>, headers: &HeaderMap) -> Result<bool, Error> {
    match format {
        Some("html") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(Error::field("format", "invalid_format", "json or html")),
        None => Ok(headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))),
    }
}

/// The page's language: `?lang=`, else the first of `fr`/`en` in `Accept-Language`, else French.
fn language(lang: Option<&str>, headers: &HeaderMap) -> Result<&'static str, Error> {
    match lang {
        Some("fr") => Ok("fr"),
        Some("en") => Ok("en"),
        Some(_) => Err(Error::field("lang", "invalid_lang", "fr or en")),
        None => Ok(headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.split(',')
                    .map(|part| {
                        part.trim()
                            .get(..2)
                            .unwrap_or_default()
                            .to_ascii_lowercase()
                    })
                    .find(|code| code == "fr" || code == "en")
            })
            .map_or("fr", |code| if code == "en" { "en" } else { "fr" })),
    }
}

/// The link to the next page of the HTML catalogue.
fn next_href(lang: &str, limit: i64, cursor: &str) -> String {
    format!("?format=html&lang={lang}&limit={limit}&cursor={cursor}")
}

/// The catalogue of a call's retained solutions (anyone, no account; 404 for a draft call or a call without
/// catalogue): the solutions staff published whose applicants consent, each with exactly the fields it
/// agreed to show. JSON by default; a printable HTML page (no script) with `?format=html` or
/// `Accept: text/html`, in French or English (`?lang=`, else `Accept-Language`).
#[utoipa::path(
    operation_id = "getCallCatalogue",
    tag = "calls",
    params(("id" = String, Path, description = "Id or slug"), PageQuery, CatalogueQuery),
    responses(
        (status = 200, description = "The catalogue", content(
            (Paginated<CatalogueEntryView> = "application/json"),
            (String = "text/html"),
        )),
        (status = 404, body = Problem), (status = 422, body = Problem),
    )
)]
#[get("/calls/{id}/catalogue")]
pub async fn catalogue(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
    page: web::Query<PageQuery>,
    query: web::Query<CatalogueQuery>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let page = page.page()?;
    let html = wants_html(query.format.as_deref(), request.headers())?;
    let lang = language(query.lang.as_deref(), request.headers())?;
    let mut found = state
        .db
        .read(move |conn| use_case::read(conn, &id, page.after, page.fetch()))
        .await?;
    let entries = Paginated::from_rows(std::mem::take(&mut found.entries), page, |e| e.key);
    if html {
        found.entries = entries.items;
        let next = entries
            .next_cursor
            .map(|cursor| next_href(lang, page.limit, &cursor));
        let body = page::render(&found, lang, next)?;
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CONTENT_LANGUAGE, lang))
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                page::CONTENT_SECURITY_POLICY.as_str(),
            ))
            .body(body));
    }
    Ok(HttpResponse::Ok().json(Paginated {
        items: entries.items.iter().map(CatalogueEntryView::from).collect(),
        next_cursor: entries.next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn the_format_comes_from_the_query_else_the_accept_header() {
        let browser = headers(&[(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")]);
        let client = headers(&[(header::ACCEPT, "application/json")]);
        assert!(wants_html(None, &browser).unwrap());
        assert!(!wants_html(None, &client).unwrap());
        assert!(!wants_html(None, &HeaderMap::new()).unwrap());
        assert!(wants_html(Some("html"), &client).unwrap());
        assert!(!wants_html(Some("json"), &browser).unwrap());
        assert!(wants_html(Some("pdf"), &browser).is_err());
    }

    #[test]
    fn the_language_comes_from_the_query_else_accept_language_else_french() {
        let english = headers(&[(header::ACCEPT_LANGUAGE, "de-CH, en-GB;q=0.8, fr;q=0.5")]);
        assert_eq!(language(None, &english).unwrap(), "en");
        assert_eq!(language(Some("fr"), &english).unwrap(), "fr");
        assert_eq!(language(None, &HeaderMap::new()).unwrap(), "fr");
        let other = headers(&[(header::ACCEPT_LANGUAGE, "de")]);
        assert_eq!(language(None, &other).unwrap(), "fr");
        assert!(language(Some("de"), &other).is_err());
    }
}
