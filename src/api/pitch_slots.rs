//! Pitch slots: staff convene a shortlisted application to pitch at a stage, its members read and confirm
//! the slot, staff read a call's schedule. The rules are in [`crate::service::pitch_slots`].

use actix_web::{delete, get, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::extract::{Caller, Page, PageQuery, Paginated};
use crate::api::input::Input;
use crate::domain::call::parse_instant;
use crate::domain::finalists::{parse_duration_minutes, parse_place, parse_video_url};
use crate::error::{Error, Problem};
use crate::service::pitch_slots::{self as use_case, SlotChange, SlotRequest};
use crate::state::AppState;
use crate::store::pitch_slots::{PitchSlot, ScheduledSlot};

/// `PUT /applications/{id}/pitch-slot`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPitchSlot {
    /// The stage the application is shortlisted to, such as `pitch`.
    #[schema(required = true)]
    pub stage: Option<String>,
    /// When the pitch starts, RFC 3339; within the stage's dates when it has them.
    #[schema(required = true)]
    pub starts_at: Option<String>,
    /// 5 to 480.
    #[schema(required = true, minimum = 5, maximum = 480)]
    pub duration_minutes: Option<i64>,
    /// Where, in person. A place, a video link, or both.
    pub place: Option<String>,
    /// The video call's `https://` link.
    pub video_url: Option<String>,
}

/// `?stage=`: the stage of the slot (by default the stage the application is shortlisted to).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StageQuery {
    pub stage: Option<String>,
}

/// A finalist's pitch slot.
#[derive(Debug, Serialize, ToSchema)]
pub struct PitchSlotView {
    pub id: Uuid,
    pub call_id: Uuid,
    pub application_id: Uuid,
    pub stage: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub duration_minutes: i64,
    pub place: Option<String>,
    pub video_url: Option<String>,
    /// Whether the finalist confirmed this slot (a move asks again).
    pub confirmed: bool,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl From<&PitchSlot> for PitchSlotView {
    fn from(slot: &PitchSlot) -> Self {
        PitchSlotView {
            id: *slot.id,
            call_id: *slot.call_id,
            application_id: *slot.application_id,
            stage: slot.stage.clone(),
            starts_at: slot.starts_at.0,
            ends_at: slot.ends_at.0,
            duration_minutes: (slot.ends_at.0 - slot.starts_at.0).num_minutes(),
            place: slot.place.clone(),
            video_url: slot.video_url.clone(),
            confirmed: slot.confirmed_at.is_some(),
            confirmed_at: slot.confirmed_at.map(|t| t.0),
            updated_at: slot.updated_at.0,
            version: slot.version,
        }
    }
}

/// A slot of a call's schedule, with its application.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduledSlotView {
    #[serde(flatten)]
    pub slot: PitchSlotView,
    pub reference: Option<String>,
    pub organization_name: String,
}

/// Sets or moves a shortlisted application's pitch slot at a stage (administrators and the call's
/// managers): one per application and stage. The finalist's members are emailed the date and time (in the
/// call's time zone), the place or link and how to confirm; moving a slot asks for confirmation again.
/// 201 when created, 200 when moved or unchanged (an unchanged slot is not emailed again). 409
/// `not_shortlisted` unless the application is shortlisted to the stage; 409 `slot_overlap` (naming the
/// other application's reference) when it overlaps another slot of the stage; 422 `outside_stage` outside
/// the stage's dates, `required` on `place` without a place or link, `invalid_url` for a link that is not
/// https.
#[utoipa::path(
    operation_id = "setPitchSlot",
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    request_body = SetPitchSlot,
    responses(
        (status = 200, body = PitchSlotView), (status = 201, body = PitchSlotView),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "`not_shortlisted` or `slot_overlap`", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[put("/applications/{id}/pitch-slot")]
pub async fn set_slot(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    input: Input<SetPitchSlot>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let (body, mut check) = input.into_parts();
    let stage = check.required("stage", body.stage, Ok);
    let starts_at = check.required("starts_at", body.starts_at.as_deref(), parse_instant);
    let duration = check.required(
        "duration_minutes",
        body.duration_minutes,
        parse_duration_minutes,
    );
    let place = check.optional("place", body.place.as_deref(), parse_place);
    let video_url = check.optional("video_url", body.video_url.as_deref(), parse_video_url);
    let (Some(stage), Some(starts_at), Some(duration_minutes)) = (stage, starts_at, duration)
    else {
        return Err(check.into_error());
    };
    let request = SlotRequest {
        stage,
        starts_at,
        duration_minutes,
        place,
        video_url,
    };
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let (slot, change) = state
        .db
        .write(move |conn| use_case::set(conn, &state_for_tx, &caller, id, request, check, now))
        .await?;
    state.outbox_wakeup.notify_one();
    let view = PitchSlotView::from(&slot);
    Ok(match change {
        SlotChange::Created => HttpResponse::Created().json(view),
        SlotChange::Moved | SlotChange::Unchanged => HttpResponse::Ok().json(view),
    })
}

/// An application's pitch slot at a stage (by default the stage it is shortlisted to): its members,
/// administrators, the call's managers and observers. 404 when none is set.
#[utoipa::path(
    operation_id = "getPitchSlot",
    tag = "evaluation",
    params(("id" = Uuid, Path), StageQuery),
    responses((status = 200, body = PitchSlotView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/applications/{id}/pitch-slot")]
pub async fn get_slot(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    query: web::Query<StageQuery>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let stage = query.into_inner().stage;
    let slot = state
        .db
        .read(move |conn| use_case::read(conn, &caller, id, stage.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(PitchSlotView::from(&slot)))
}

/// Deletes an application's pitch slot at a stage (by default the stage it is shortlisted to):
/// administrators and the call's managers. 204, also when there was none.
#[utoipa::path(
    operation_id = "deletePitchSlot",
    tag = "evaluation",
    params(("id" = Uuid, Path), StageQuery),
    responses((status = 204, description = "Deleted (or there was none)"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[delete("/applications/{id}/pitch-slot")]
pub async fn delete_slot(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    query: web::Query<StageQuery>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let stage = query.into_inner().stage;
    let now = state.clock.now();
    state
        .db
        .write(move |conn| use_case::remove(conn, &caller, id, stage.as_deref(), now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Confirms an application's pitch slot (by default at the stage it is shortlisted to): its members.
/// Confirming again changes nothing. Staff see the confirmation in the schedule, the audit log and the
/// event feed (`pitch_slot.confirmed`). 409 `no_pitch_slot` when none is set.
#[utoipa::path(
    operation_id = "confirmPitchSlot",
    tag = "evaluation",
    params(("id" = Uuid, Path), StageQuery),
    responses((status = 200, body = PitchSlotView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, description = "`no_pitch_slot`", body = Problem)),
    security(("bearer" = []))
)]
#[post("/applications/{id}/pitch-slot/confirm")]
pub async fn confirm_slot(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    query: web::Query<StageQuery>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let stage = query.into_inner().stage;
    let now = state.clock.now();
    let slot = state
        .db
        .write(move |conn| use_case::confirm(conn, &caller, id, stage.as_deref(), now))
        .await?;
    Ok(HttpResponse::Ok().json(PitchSlotView::from(&slot)))
}

/// The pitch slots of a call (at `?stage=` when given), by start time, each with its application and
/// whether it is confirmed: administrators, the call's managers and observers.
#[utoipa::path(
    operation_id = "listPitchSlots",
    tag = "evaluation",
    params(("id" = Uuid, Path), StageQuery, PageQuery),
    responses((status = 200, body = Paginated<ScheduledSlotView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/pitch-slots")]
pub async fn list_slots(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    query: web::Query<StageQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let stage = query.into_inner().stage;
    let page: Page = page.page()?;
    let slots = state
        .db
        .read(move |conn| {
            use_case::schedule(
                conn,
                &caller,
                id,
                stage.as_deref(),
                page.after,
                page.fetch(),
            )
        })
        .await?;
    let views: Vec<ScheduledSlotView> = slots
        .iter()
        .map(|s: &ScheduledSlot| ScheduledSlotView {
            slot: PitchSlotView::from(&s.slot),
            reference: s.reference.clone(),
            organization_name: s.organization_name.clone(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(Paginated::from_rows(views, page, |v| v.slot.id)))
}
