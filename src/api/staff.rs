//! The staff of a call: its managers and observers, listed and removed. Roles are granted by invitation
//! (`POST /invitations` with `role: manager|observer` and `call_id`); the rules are in [`service::staff`].

use actix_web::{delete, get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::{Admin, Caller, Page, PageQuery, Paginated};
use crate::domain::account::CallRole;
use crate::error::{Error, Problem};
use crate::service;
use crate::state::AppState;

/// A member of a call's staff.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffView {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: CallRole,
    /// Who invited them (`null` once that account is gone).
    pub added_by: Option<Uuid>,
    pub added_at: DateTime<Utc>,
}

/// The managers and observers of a call, in user-id order (administrators and the call's managers).
#[utoipa::path(
    operation_id = "listCallStaff",
    tag = "evaluation",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = Paginated<StaffView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/staff")]
pub async fn list_staff(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let page: Page = query.page()?;
    let members = state
        .db
        .read(move |conn| service::staff::page(conn, &caller, id, page.after, page.fetch()))
        .await?;
    let views = members
        .into_iter()
        .map(|m| StaffView {
            user_id: *m.user_id,
            email: m.email,
            display_name: m.display_name,
            role: m.role,
            added_by: m.added_by.map(|u| u.0),
            added_at: m.created_at.0,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Paginated::from_rows(views, page, |m: &StaffView| m.user_id)))
}

/// Removes someone from the staff of a call (administrators); their access ends at once.
#[utoipa::path(
    operation_id = "removeCallStaff",
    tag = "evaluation",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[delete("/calls/{id}/staff/{user_id}")]
pub async fn remove_staff(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Error> {
    let (id, user_id) = path.into_inner();
    let now = state.clock.now();
    state
        .db
        .write(move |conn| service::staff::remove(conn, admin.user_id, id, user_id, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
