//! Appeals against a published decision: members file one, members and staff read them, staff resolve
//! them. The rules live in [`crate::service::appeals`] and [`crate::domain::appeal`].

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::Caller;
use crate::api::input::{Check, Input};
use crate::auth::permissions::Principal;
use crate::domain::appeal::{AppealOutcome, AppealStatus};
use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, Problem};
use crate::service::appeals as use_case;
use crate::state::AppState;
use crate::store::appeals::Appeal;

/// The longest grounds or motivation, in characters.
const MAX_TEXT: usize = 5000;

/// `POST /applications/{id}/appeals`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileAppeal {
    /// Why the decision should change (1 to 5000 characters).
    #[schema(required = true)]
    pub grounds: Option<String>,
}

/// `POST /applications/{id}/appeals/{appeal_id}/resolve`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveAppeal {
    /// `upheld` (then revise the decision, naming the appeal) or `dismissed`.
    #[schema(required = true)]
    pub outcome: Option<String>,
    /// Why; the applicant reads it (1 to 5000 characters).
    #[schema(required = true)]
    pub motivation: Option<String>,
}

/// An appeal.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppealView {
    pub id: Uuid,
    pub application_id: Uuid,
    /// The version of the decision appealed (`GET /applications/{id}/decision/history`).
    pub decision_version: i32,
    pub grounds: String,
    /// `open`, `upheld` or `dismissed`.
    pub status: AppealStatus,
    pub filed_at: DateTime<Utc>,
    /// Staff's motivation, once resolved.
    pub resolution: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl From<&Appeal> for AppealView {
    fn from(a: &Appeal) -> Self {
        AppealView {
            id: *a.id,
            application_id: *a.application_id,
            decision_version: a.decision_version,
            grounds: a.grounds.clone(),
            status: a.status,
            filed_at: a.filed_at.0,
            resolution: a.resolution.clone(),
            resolved_at: a.resolved_at.map(|t| t.0),
        }
    }
}

/// The appeals of an application.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppealList {
    pub items: Vec<AppealView>,
}

fn text(raw: &str) -> Result<String, InvalidValue> {
    let text = raw.trim();
    match text.chars().count() {
        0 => Err(InvalidValue::new("required", "this text is required")),
        n if n <= MAX_TEXT => Ok(text.to_owned()),
        _ => Err(InvalidValue::new("too_long", "at most 5000 characters")),
    }
}

/// Appeals the published decision (members of the applicant organization), within the call's window
/// counted from when the current version of the decision was told (`appeal_window_days` on the call).
/// One appeal per version of the decision, and none while another is open. The call's administrators and
/// managers are emailed the grounds.
#[utoipa::path(
    operation_id = "fileAppeal",
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    request_body = FileAppeal,
    responses(
        (status = 201, body = AppealView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "`no_published_decision`, `no_appeals`, `appeal_window_closed` or `appeal_exists`", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/appeals")]
pub async fn file(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    input: Input<FileAppeal>,
) -> Result<HttpResponse, Error> {
    let (body, check) = input.into_parts();
    let grounds = checked_grounds(check, body.grounds.as_deref())?;
    let appeal = file_appeal(&state, caller, id.into_inner(), grounds).await?;
    Ok(HttpResponse::Created().json(AppealView::from(&appeal)))
}

/// The grounds of an appeal as sent (`grounds`: required, 1 to 5000 characters), with what `check` already
/// holds; 422 listing every failing field otherwise. The pages' appeal form checks them here too.
pub fn checked_grounds(mut check: Check, raw: Option<&str>) -> Result<String, Error> {
    let grounds = check.required("grounds", raw, text);
    let Some(grounds) = grounds else {
        return Err(check.into_error());
    };
    check.finish()?;
    Ok(grounds)
}

/// Files `caller`'s appeal of application `id` ([`use_case::file`], in one transaction with its audit entry
/// and the staff's emails), then wakes the outbox. The API and the status page's form both go through it.
pub async fn file_appeal(
    state: &web::Data<AppState>,
    caller: Principal,
    id: Uuid,
    grounds: String,
) -> Result<Appeal, Error> {
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let appeal = state
        .db
        .write(move |conn| use_case::file(conn, &state_for_tx, &caller, id, grounds, now))
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(appeal)
}

/// The appeals of an application, oldest first (members of the applicant organization and the call's
/// staff; jurors and anyone else 404).
#[utoipa::path(
    operation_id = "listAppeals",
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = AppealList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/applications/{id}/appeals")]
pub async fn list(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let appeals = state
        .db
        .read(move |conn| use_case::of_application(conn, &caller, id))
        .await?;
    let items = appeals.iter().map(AppealView::from).collect();
    Ok(HttpResponse::Ok().json(AppealList { items }))
}

/// Upholds or dismisses an open appeal (administrators and the call's managers), with a motivation the
/// applicant's members are emailed. Upholding does not change the decision by itself: revise it with
/// `POST /applications/{id}/decision/revisions` and `appeal_id` (the history then links the two).
#[utoipa::path(
    operation_id = "resolveAppeal",
    tag = "evaluation",
    params(("id" = Uuid, Path), ("appeal_id" = Uuid, Path)),
    request_body = ResolveAppeal,
    responses(
        (status = 200, body = AppealView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Already resolved (`appeal_resolved`)", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/appeals/{appeal_id}/resolve")]
pub async fn resolve(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(Uuid, Uuid)>,
    input: Input<ResolveAppeal>,
) -> Result<HttpResponse, Error> {
    let (id, appeal_id) = path.into_inner();
    let (body, mut check) = input.into_parts();
    let outcome = check.required("outcome", body.outcome.as_deref(), |o| {
        o.parse::<AppealOutcome>()
            .map_err(|_| InvalidValue::new("invalid_outcome", "upheld or dismissed"))
    });
    let motivation = check.required("motivation", body.motivation.as_deref(), text);
    let (Some(outcome), Some(motivation)) = (outcome, motivation) else {
        return Err(check.into_error());
    };
    check.finish()?;
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let resolution = use_case::Resolution {
        outcome,
        motivation,
    };
    let appeal = state
        .db
        .write(move |conn| {
            use_case::resolve(conn, &state_for_tx, &caller, id, appeal_id, resolution, now)
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Ok().json(AppealView::from(&appeal)))
}
