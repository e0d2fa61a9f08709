//! Applicant organizations and their members.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::permissions::MemberRole;
use crate::db::schema::{organization_members, organizations, users};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;

/// An organization as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize)]
#[diesel(table_name = organizations, treat_none_as_null = true)]
pub struct Organization {
    pub id: Uid,
    pub kind: String,
    pub legal_name: String,
    pub siret: Option<String>,
    pub siren: Option<String>,
    pub insee_code: Option<String>,
    pub postcode: String,
    pub city: String,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub version: i32,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// A member of an organization, with the account's public facts.
#[derive(Debug, Clone, Queryable)]
pub struct Member {
    pub user_id: Uid,
    pub email: String,
    pub display_name: String,
    pub role: MemberRole,
    pub created_at: Ts,
}

/// Stores a new organization.
pub fn insert(conn: &mut DbConn, organization: &Organization) -> QueryResult<()> {
    diesel::insert_into(organizations::table)
        .values(organization)
        .execute(conn)
        .map(|_| ())
}

/// The organization with this id.
pub fn find(conn: &mut DbConn, id: Uuid) -> QueryResult<Option<Organization>> {
    organizations::table
        .find(Uid(id))
        .select(Organization::as_select())
        .first(conn)
        .optional()
}

/// Writes every field of `organization` if its version is still `expected_version`; false when it changed.
pub fn update(
    conn: &mut DbConn,
    organization: &Organization,
    expected_version: i32,
) -> QueryResult<bool> {
    let changed = diesel::update(
        organizations::table
            .find(organization.id)
            .filter(organizations::version.eq(expected_version)),
    )
    .set(organization)
    .execute(conn)?;
    Ok(changed == 1)
}

/// The role of `user_id` in the organization, if a member.
pub fn membership(
    conn: &mut DbConn,
    organization_id: Uuid,
    user_id: Uuid,
) -> QueryResult<Option<MemberRole>> {
    organization_members::table
        .find((Uid(organization_id), Uid(user_id)))
        .select(organization_members::role)
        .first(conn)
        .optional()
}

/// Adds a member.
pub fn add_member(
    conn: &mut DbConn,
    organization_id: Uuid,
    user_id: Uuid,
    role: MemberRole,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(organization_members::table)
        .values((
            organization_members::organization_id.eq(Uid(organization_id)),
            organization_members::user_id.eq(Uid(user_id)),
            organization_members::role.eq(role.as_str()),
            organization_members::created_at.eq(Ts(now)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Changes a member's role.
pub fn set_member_role(
    conn: &mut DbConn,
    organization_id: Uuid,
    user_id: Uuid,
    role: MemberRole,
) -> QueryResult<()> {
    diesel::update(organization_members::table.find((Uid(organization_id), Uid(user_id))))
        .set(organization_members::role.eq(role.as_str()))
        .execute(conn)
        .map(|_| ())
}

/// The members of an organization, in the order they joined.
pub fn members(conn: &mut DbConn, organization_id: Uuid) -> QueryResult<Vec<Member>> {
    organization_members::table
        .inner_join(users::table)
        .filter(organization_members::organization_id.eq(Uid(organization_id)))
        .order((
            organization_members::created_at.asc(),
            organization_members::user_id.asc(),
        ))
        .select((
            organization_members::user_id,
            users::email,
            users::display_name,
            organization_members::role,
            organization_members::created_at,
        ))
        .load(conn)
}

/// One page of the organizations `user_id` belongs to, with their role, in id order after `after`
/// (one statement whatever the page size).
pub fn list_for_user(
    conn: &mut DbConn,
    user_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<(Organization, MemberRole)>> {
    let mut query = organizations::table
        .inner_join(organization_members::table)
        .filter(organization_members::user_id.eq(Uid(user_id)))
        .select((Organization::as_select(), organization_members::role))
        .order(organizations::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(organizations::id.gt(Uid(after)));
    }
    query.load(conn)
}

/// The ids of the organizations `user_id` belongs to.
pub fn ids_of_member(
    conn: &mut DbConn,
    user_id: Uuid,
) -> QueryResult<std::collections::HashSet<Uuid>> {
    let ids: Vec<Uid> = organization_members::table
        .filter(organization_members::user_id.eq(Uid(user_id)))
        .select(organization_members::organization_id)
        .load(conn)?;
    Ok(ids.into_iter().map(|id| id.0).collect())
}

/// Whether another organization than `except` already holds this identity: the same SIRET, or, for an
/// organization without SIRET, the same SIREN among those without SIRET.
pub fn identity_taken(
    conn: &mut DbConn,
    siret: Option<&str>,
    siren: Option<&str>,
    except: Option<Uuid>,
) -> QueryResult<bool> {
    let mut query = organizations::table.select(organizations::id).into_boxed();
    query = match (siret, siren) {
        (Some(siret), _) => query.filter(organizations::siret.eq(siret.to_owned())),
        (None, Some(siren)) => query
            .filter(organizations::siret.is_null())
            .filter(organizations::siren.eq(siren.to_owned())),
        (None, None) => return Ok(false),
    };
    if let Some(except) = except {
        query = query.filter(organizations::id.ne(Uid(except)));
    }
    Ok(query.first::<Uid>(conn).optional()?.is_some())
}

/// What became of a request to remove a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed,
    NotAMember,
    /// The member is the last owner: the organization would have nobody to manage it.
    LastOwner,
}

/// Removes a member unless they are the organization's last owner. The organization's row is written
/// first, so that two owners leaving at once are served one after the other (a row lock on PostgreSQL,
/// the single writer on SQLite) and cannot leave the organization without an owner.
pub fn remove_member(
    conn: &mut DbConn,
    organization_id: Uuid,
    user_id: Uuid,
) -> QueryResult<Removal> {
    diesel::update(organizations::table.find(Uid(organization_id)))
        .set(organizations::version.eq(organizations::version))
        .execute(conn)?;
    let Some(role) = membership(conn, organization_id, user_id)? else {
        return Ok(Removal::NotAMember);
    };
    let owners: i64 = organization_members::table
        .filter(organization_members::organization_id.eq(Uid(organization_id)))
        .filter(organization_members::role.eq(MemberRole::Owner.as_str()))
        .count()
        .get_result(conn)?;
    if !crate::domain::organization::may_lose_member(role == MemberRole::Owner, owners) {
        return Ok(Removal::LastOwner);
    }
    diesel::delete(organization_members::table.find((Uid(organization_id), Uid(user_id))))
        .execute(conn)?;
    Ok(Removal::Removed)
}
