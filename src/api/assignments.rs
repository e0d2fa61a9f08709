//! Assignments of applications to jurors: staff list them, assign by hand or automatically; a juror lists
//! their own. The rules (conflicts, stage → status, the call entering evaluation, emails) are in
//! [`service::assignments`].

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::extract::{Caller, Page, PageQuery, Paginated};
use crate::api::input::{Check, Input};
use crate::auth::permissions::{Principal, Scope};
use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, Problem};
use crate::service;
use crate::service::assignments::{AutoAssigned, Spread};
use crate::state::AppState;
use crate::store;
use crate::store::assignments::{Assignment, MyAssignment};

/// An assignment of an application to a juror for a stage.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentView {
    pub id: Uuid,
    pub application_id: Uuid,
    pub juror_id: Uuid,
    pub stage: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Assignment> for AssignmentView {
    fn from(a: &Assignment) -> Self {
        AssignmentView {
            id: *a.id,
            application_id: *a.application_id,
            juror_id: *a.juror_id,
            stage: a.stage.clone(),
            created_at: a.created_at.0,
        }
    }
}

/// `?stage=` of the assignment list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StageQuery {
    pub stage: Option<String>,
}

/// The assignments of a call, oldest first (administrators and the call's managers).
#[utoipa::path(
    operation_id = "listCallAssignments",
    tag = "evaluation",
    params(("id" = Uuid, Path), StageQuery, PageQuery),
    responses((status = 200, body = Paginated<AssignmentView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/assignments")]
pub async fn list_assignments(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    query: web::Query<StageQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let stage = query.into_inner().stage;
    let page: Page = page.page()?;
    let rows = state
        .db
        .read(move |conn| {
            service::staff::managed_call(conn, &caller, id)?
                .kind
                .allows_jury_work()?;
            Ok(store::assignments::page_of_call(
                conn,
                id,
                stage.as_deref(),
                page.after,
                page.fetch(),
            )?)
        })
        .await?;
    let views: Vec<AssignmentView> = rows.iter().map(AssignmentView::from).collect();
    Ok(HttpResponse::Ok().json(Paginated::from_rows(views, page, |a| a.id)))
}

/// `POST /calls/{id}/assignments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAssignment {
    #[schema(required = true)]
    pub application_id: Option<Uuid>,
    #[schema(required = true)]
    pub juror_id: Option<Uuid>,
    #[schema(required = true)]
    pub stage: Option<String>,
}

/// Assigns an application to a juror for a stage (administrators and the call's managers); 409 when the juror is conflicted.
#[utoipa::path(
    operation_id = "createAssignment",
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    request_body = CreateAssignment,
    responses(
        (status = 201, body = AssignmentView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Conflict of interest, or already assigned", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/calls/{id}/assignments")]
pub async fn create_assignment(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    input: Input<CreateAssignment>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let (body, mut check) = input.into_parts();
    let application_id = check.required("application_id", body.application_id, Ok);
    let juror_id = check.required("juror_id", body.juror_id, Ok);
    let stage = check.required("stage", body.stage, Ok);
    let (Some(application_id), Some(juror_id), Some(stage)) = (application_id, juror_id, stage)
    else {
        return Err(check.into_error());
    };
    check.finish()?;
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let row = state
        .db
        .write(move |conn| {
            service::staff::managed_call(conn, &caller, id)?;
            service::assignments::assign(
                conn,
                &state_for_tx,
                caller.user_id,
                id,
                application_id,
                juror_id,
                &stage,
                now,
            )
        })
        .await??;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Created().json(AssignmentView::from(&row)))
}

/// `POST /calls/{id}/assignments/auto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoAssign {
    #[schema(required = true)]
    pub stage: Option<String>,
    /// How many jurors review each application.
    #[schema(required = true)]
    pub reviews_per_application: Option<u32>,
    pub max_per_juror: Option<u32>,
}

/// What automatic assignment did.
#[derive(Debug, Serialize, ToSchema)]
pub struct AutoAssignResult {
    /// The assignments made now (re-running only fills gaps).
    pub created: Vec<AssignmentView>,
    /// Applications left with fewer jurors than asked (conflicts or loads left no one), with how many they have.
    pub short: Vec<ShortApplication>,
}

/// An application with fewer jurors than asked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShortApplication {
    pub application_id: Uuid,
    pub jurors: usize,
}

/// Assigns every application of a stage to `reviews_per_application` jurors, never a conflicted one, with
/// juror loads differing by at most one (within `max_per_juror`); deterministic; re-running fills gaps only.
/// Each juror with new assignments gets one email listing them.
#[utoipa::path(
    operation_id = "autoAssignApplications",
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    request_body = AutoAssign,
    responses((status = 200, body = AutoAssignResult), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[post("/calls/{id}/assignments/auto")]
pub async fn auto_assign(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    input: Input<AutoAssign>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let (body, check) = input.into_parts();
    let (stage, spread) = body.parse(check)?;
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let done = state
        .db
        .write(move |conn| {
            service::staff::managed_call(conn, &caller, id)?;
            service::assignments::auto_assign(
                conn,
                &state_for_tx,
                caller.user_id,
                id,
                &stage,
                spread,
                now,
            )
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Ok().json(AutoAssignResult::from(done)))
}

impl AutoAssign {
    /// The stage and how to spread its applications, or every field that is wrong.
    fn parse(self, mut check: Check) -> Result<(String, Spread), Error> {
        let stage = check.required("stage", self.stage, Ok);
        let per_application = check.required(
            "reviews_per_application",
            self.reviews_per_application,
            |n| match n {
                1..=50 => Ok(n as usize),
                _ => Err(InvalidValue::new("out_of_range", "1 to 50")),
            },
        );
        let max_per_juror = check.optional("max_per_juror", self.max_per_juror, |n| match n {
            1.. => Ok(n as usize),
            0 => Err(InvalidValue::new("out_of_range", "at least 1")),
        });
        let (Some(stage), Some(per_application)) = (stage, per_application) else {
            return Err(check.into_error());
        };
        check.finish()?;
        let spread = Spread {
            reviews_per_application: per_application,
            max_per_juror,
        };
        Ok((stage, spread))
    }
}

impl From<AutoAssigned> for AutoAssignResult {
    fn from(done: AutoAssigned) -> Self {
        AutoAssignResult {
            created: done.created.iter().map(AssignmentView::from).collect(),
            short: done
                .short
                .iter()
                .map(|&(application_id, jurors)| ShortApplication {
                    application_id,
                    jurors,
                })
                .collect(),
        }
    }
}

/// A juror's assignment.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyAssignmentView {
    pub application_id: Uuid,
    pub call_id: Uuid,
    pub reference: Option<String>,
    pub stage: String,
    /// `pending` (not started), `draft` or `submitted`.
    pub review_status: String,
    /// When the stage's reviews are due, if staff set a deadline: after it, the review can no longer be saved
    /// or submitted unless staff reopen it.
    pub review_due_at: Option<DateTime<Utc>>,
}

/// `?call_id=` of a juror's assignments.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyAssignmentsQuery {
    pub call_id: Option<Uuid>,
}

/// The caller's assignments as a juror, a page at a time in assignment order, with the state of their reviews
/// and the stage's review deadline; never an application they are conflicted with or that was withdrawn.
#[utoipa::path(
    operation_id = "listMyAssignments",
    tag = "evaluation",
    params(MyAssignmentsQuery, PageQuery),
    responses((status = 200, body = Paginated<MyAssignmentView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/me/assignments")]
pub async fn my_assignments(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<MyAssignmentsQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let caller: Principal = caller.0;
    caller.require_scope(Scope::ReviewsRead)?;
    let call_id = query.into_inner().call_id;
    let page = page.page()?;
    let rows = state
        .db
        .read(move |conn| {
            let (juror, after, limit) = (caller.user_id, page.after, page.limit + 1);
            service::assignments::visible_assignments_page(conn, juror, call_id, after, limit)
        })
        .await?;
    let Paginated { items, next_cursor } = Paginated::from_rows(rows, page, |r| *r.id);
    let items = items.into_iter().map(MyAssignmentView::from).collect();
    Ok(HttpResponse::Ok().json(Paginated::<MyAssignmentView> { items, next_cursor }))
}

impl From<MyAssignment> for MyAssignmentView {
    fn from(r: MyAssignment) -> Self {
        MyAssignmentView {
            application_id: *r.application_id,
            call_id: *r.call_id,
            reference: r.reference,
            stage: r.stage,
            review_status: r.review_status.map_or("pending", |s| s.as_str()).into(),
            review_due_at: r.review_due_at.map(|t| t.0),
        }
    }
}
