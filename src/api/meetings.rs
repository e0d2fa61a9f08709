//! The record of a call's jury meetings (`/calls/{id}/meetings`): opening one on a stage, its attendance,
//! what it decided on each application, its minutes, closing it (frozen, sealed by a digest), and its
//! record as JSON or as a printable page. The rules live in [`crate::service::meetings`].

mod body;

use actix_web::http::{header, StatusCode};
use actix_web::{get, patch, post, put, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::api::catalogue::{language, wants_html};
use crate::api::etag;
use crate::api::extract::{Caller, Page, PageQuery, Paginated};
use crate::api::idempotency::{self, Reply};
use crate::api::input::Input;
use crate::error::{Error, Problem};
use crate::service::meetings::items::{self, Write};
use crate::service::meetings::{self as use_case, page, Attendance, MeetingRecord};
use crate::state::AppState;
use crate::store::meetings::Meeting;

pub use body::{
    AttendanceBody, AttendanceView, ItemBody, ItemView, MeetingView, OpenMeeting, UpdateMeeting,
    VoteBody,
};

/// A meeting as an answer, with its `ETag`.
fn with_etag(status: StatusCode, meeting: &Meeting) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag::of_version(meeting.version)))
        .json(MeetingView::from(meeting))
}

/// Opens a jury meeting on a stage of the call, keeping the stage's ranking as it stands now (administrators
/// and the call's managers).
#[utoipa::path(
    operation_id = "openMeeting",
    tag = "evaluation",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = OpenMeeting,
    responses(
        (status = 201, body = MeetingView, headers(("ETag" = String))), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "A call without jury scoring (`no_jury_scoring`)", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/calls/{id}/meetings")]
pub async fn open(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    input: Input<OpenMeeting>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let body_hash = input.body_hash.clone();
    let user_id = caller.user_id;
    idempotency::once(&state, &req, user_id, &body_hash, || {
        open_meeting(&state, caller, id, input)
    })
    .await
}

async fn open_meeting(
    state: &AppState,
    caller: crate::auth::permissions::Principal,
    id: Uuid,
    input: Input<OpenMeeting>,
) -> Result<Reply, Error> {
    let (body, check) = input.into_parts();
    let new = body.parse(check)?;
    let now = state.clock.now();
    let meeting = state
        .db
        .write(move |conn| use_case::open(conn, &caller, id, new, now))
        .await?;
    Ok(
        Reply::json(StatusCode::CREATED, MeetingView::from(&meeting))?
            .with_etag(etag::of_version(meeting.version)),
    )
}

/// The jury meetings of a call in the order they were opened (administrators, the call's managers and
/// observers).
#[utoipa::path(
    operation_id = "listMeetings",
    tag = "evaluation",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = Paginated<MeetingView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/meetings")]
pub async fn list(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let page: Page = query.page()?;
    let meetings = state
        .db
        .read(move |conn| use_case::page(conn, &caller, id, page.after, page.fetch()))
        .await?;
    let views: Vec<MeetingView> = meetings.iter().map(MeetingView::from).collect();
    Ok(HttpResponse::Ok().json(Paginated::from_rows(views, page, |m| m.id)))
}

/// A jury meeting of the call, with its `ETag` (administrators, the call's managers and observers).
#[utoipa::path(
    operation_id = "getMeeting",
    tag = "evaluation",
    params(("id" = Uuid, Path), ("meeting_id" = Uuid, Path)),
    responses((status = 200, body = MeetingView, headers(("ETag" = String))), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/meetings/{meeting_id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Error> {
    let (id, meeting_id) = path.into_inner();
    let meeting = state
        .db
        .read(move |conn| use_case::read(conn, &caller, id, meeting_id))
        .await?;
    Ok(with_etag(StatusCode::OK, &meeting))
}

/// Changes the minutes, agenda, place or date of an open meeting (administrators and the call's managers,
/// with `If-Match`); 409 `meeting_closed` once closed.
#[utoipa::path(
    operation_id = "updateMeeting",
    tag = "evaluation",
    params(("id" = Uuid, Path), ("meeting_id" = Uuid, Path), ("If-Match" = String, Header)),
    request_body = UpdateMeeting,
    responses(
        (status = 200, body = MeetingView, headers(("ETag" = String))), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "Closed (`meeting_closed`)", body = Problem), (status = 412, body = Problem),
        (status = 422, body = Problem), (status = 428, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/calls/{id}/meetings/{meeting_id}")]
pub async fn update(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    input: Input<UpdateMeeting>,
) -> Result<HttpResponse, Error> {
    let (id, meeting_id) = path.into_inner();
    let if_match = etag::if_match(&req)?;
    let (body, check) = input.into_parts();
    let edit = body.parse(check, if_match)?;
    let now = state.clock.now();
    let meeting = state
        .db
        .write(move |conn| use_case::update(conn, &caller, id, meeting_id, edit, now))
        .await?;
    Ok(with_etag(StatusCode::OK, &meeting))
}

/// Records who of the call's jury attended an open meeting, replacing the attendance recorded before
/// (administrators and the call's managers): 422 naming the index of anyone not on the jury.
#[utoipa::path(
    operation_id = "setMeetingAttendance",
    tag = "evaluation",
    params(("id" = Uuid, Path), ("meeting_id" = Uuid, Path)),
    request_body = AttendanceBody,
    responses(
        (status = 200, body = AttendanceView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Closed (`meeting_closed`)", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[put("/calls/{id}/meetings/{meeting_id}/attendance")]
pub async fn set_attendance(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(Uuid, Uuid)>,
    input: Input<AttendanceBody>,
) -> Result<HttpResponse, Error> {
    let (id, meeting_id) = path.into_inner();
    let (body, mut check) = input.into_parts();
    let Some(present) = check.required("present", body.present, Ok) else {
        return Err(check.into_error());
    };
    let attendance = Attendance {
        present,
        apologies: body.apologies.unwrap_or_default(),
    };
    let now = state.clock.now();
    let recorded = state
        .db
        .write(move |conn| {
            use_case::set_attendance(conn, &caller, id, meeting_id, attendance, check, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(AttendanceView::from(recorded)))
}

/// Records what an open meeting decided on an application, by consensus or by a vote of the jurors present
/// (administrators and the call's managers); one item per application (409 `item_exists`: `PUT` replaces
/// it). A vote by a juror conflicted on the application is refused (422 `conflicted_juror`, naming them).
#[utoipa::path(
    operation_id = "recordMeetingItem",
    tag = "evaluation",
    params(("id" = Uuid, Path), ("meeting_id" = Uuid, Path)),
    request_body = ItemBody,
    responses(
        (status = 201, body = ItemView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Closed (`meeting_closed`), or already recorded (`item_exists`)", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/calls/{id}/meetings/{meeting_id}/items")]
pub async fn create_item(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(Uuid, Uuid)>,
    input: Input<ItemBody>,
) -> Result<HttpResponse, Error> {
    let (id, meeting_id) = path.into_inner();
    let (body, check) = input.into_parts();
    let (item, check) = body.parse(check, None)?;
    let now = state.clock.now();
    let recorded = state
        .db
        .write(move |conn| {
            items::record(
                conn,
                &caller,
                id,
                meeting_id,
                item,
                Write::Create,
                check,
                now,
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(ItemView::from(&recorded)))
}

/// Records or replaces what an open meeting decided on an application (administrators and the call's
/// managers); the same rules as `POST …/items`.
#[utoipa::path(
    operation_id = "replaceMeetingItem",
    tag = "evaluation",
    params(("id" = Uuid, Path), ("meeting_id" = Uuid, Path), ("application_id" = Uuid, Path)),
    request_body = ItemBody,
    responses(
        (status = 200, body = ItemView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Closed (`meeting_closed`)", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[put("/calls/{id}/meetings/{meeting_id}/items/{application_id}")]
pub async fn replace_item(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(Uuid, Uuid, Uuid)>,
    input: Input<ItemBody>,
) -> Result<HttpResponse, Error> {
    let (id, meeting_id, application_id) = path.into_inner();
    let (body, check) = input.into_parts();
    let (item, check) = body.parse(check, Some(application_id))?;
    let now = state.clock.now();
    let recorded = state
        .db
        .write(move |conn| {
            items::record(
                conn,
                &caller,
                id,
                meeting_id,
                item,
                Write::Replace,
                check,
                now,
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(ItemView::from(&recorded)))
}

/// Closes a meeting (administrators and the call's managers): 409 `below_quorum` (present vs required)
/// while fewer jurors are present than the call's quorum. Closing freezes the record, links the meeting to
/// the decisions of the applications it recorded, and seals the record with its SHA-256 `digest` (also in
/// the audit entry `meeting.closed`); every change after is 409 `meeting_closed`.
#[utoipa::path(
    operation_id = "closeMeeting",
    tag = "evaluation",
    params(("id" = Uuid, Path), ("meeting_id" = Uuid, Path)),
    responses(
        (status = 200, body = MeetingView, headers(("ETag" = String))), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "`below_quorum`, `absent_voter` or `meeting_closed`", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/calls/{id}/meetings/{meeting_id}/close")]
pub async fn close(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Error> {
    let (id, meeting_id) = path.into_inner();
    let now = state.clock.now();
    let meeting = state
        .db
        .write(move |conn| use_case::close(conn, &caller, id, meeting_id, now))
        .await?;
    Ok(with_etag(StatusCode::OK, &meeting))
}

/// `?format=&lang=` of a meeting record.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    /// `json` or `html` (the printable page); without it, `Accept: text/html` asks for the page.
    pub format: Option<String>,
    /// `fr` or `en` for the page; without it, the first of them in `Accept-Language`, else French.
    pub lang: Option<String>,
}

/// The record of a meeting (administrators, the call's managers and observers): the ranking snapshot,
/// attendance and quorum, the items with their votes and dissent, the minutes, the decisions linked at
/// closing and, once closed, the digest of the frozen record. JSON by default; a printable HTML page (no
/// script) with `?format=html` or `Accept: text/html`, in French or English.
#[utoipa::path(
    operation_id = "getMeetingRecord",
    tag = "evaluation",
    params(("id" = Uuid, Path), ("meeting_id" = Uuid, Path), RecordQuery),
    responses(
        (status = 200, description = "The record", content(
            (MeetingRecord = "application/json"),
            (String = "text/html"),
        )),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/calls/{id}/meetings/{meeting_id}/record")]
pub async fn record(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    request: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    query: web::Query<RecordQuery>,
) -> Result<HttpResponse, Error> {
    let (id, meeting_id) = path.into_inner();
    let html = wants_html(query.format.as_deref(), request.headers())?;
    let lang = language(query.lang.as_deref(), request.headers())?;
    let (record, timezone) = state
        .db
        .read(move |conn| use_case::read_record(conn, &caller, id, meeting_id))
        .await?;
    if !html {
        return Ok(HttpResponse::Ok().json(record));
    }
    let body = page::render(&record, lang, &timezone)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_LANGUAGE, lang))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            page::CONTENT_SECURITY_POLICY.as_str(),
        ))
        .body(body))
}
