//! Conflicts of interest as records: the ones jurors or staff declare (table `conflicts`) and the ones
//! detected from facts (table `detected_conflicts`). Access checks, reviews and the ranking read these rows;
//! nothing here looks at an applicant's current data.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::dsl;
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{
    applications, conflicts, detected_conflicts, organization_members, organizations, users,
};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::application::ApplicationStatus;
use crate::domain::conflict::{ConflictReason, DetectedStatus};

/// A conflict detected from facts, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = detected_conflicts)]
pub struct DetectedConflict {
    pub id: Uid,
    pub call_id: Uid,
    pub juror_id: Uid,
    pub application_id: Uid,
    pub reason: String,
    pub source_fact: String,
    pub status: DetectedStatus,
    pub detected_at: Ts,
    pub decided_by: Option<Uid>,
    pub decided_at: Option<Ts>,
}

impl DetectedConflict {
    /// A new record of `reason` between the juror and the application.
    pub fn new(
        call_id: Uuid,
        juror_id: Uuid,
        application_id: Uuid,
        reason: ConflictReason,
        source_fact: String,
        status: DetectedStatus,
        now: DateTime<Utc>,
    ) -> DetectedConflict {
        DetectedConflict {
            id: Uid(Uuid::now_v7()),
            call_id: Uid(call_id),
            juror_id: Uid(juror_id),
            application_id: Uid(application_id),
            reason: reason.as_str().to_owned(),
            source_fact,
            status,
            detected_at: Ts(now),
            decided_by: None,
            decided_at: None,
        }
    }
}

/// Records a detected conflict; false when the same reason was already recorded for the pair (whatever its
/// status: a dismissed conflict is not raised again by the same fact).
pub fn record_detected(conn: &mut DbConn, conflict: &DetectedConflict) -> QueryResult<bool> {
    let insert = diesel::insert_into(detected_conflicts::table).values(conflict);
    let inserted = crate::on_backend!(conn, |c| insert.on_conflict_do_nothing().execute(c)?);
    Ok(inserted == 1)
}

/// A conflict on record: declared by a juror or staff, or detected from facts.
#[derive(Debug, Clone)]
pub enum RecordedConflict {
    Declared(Conflict),
    Detected(DetectedConflict),
}

impl RecordedConflict {
    /// The record's id (both tables draw from the same time-ordered ids).
    pub fn id(&self) -> Uuid {
        match self {
            RecordedConflict::Declared(c) => *c.id,
            RecordedConflict::Detected(c) => *c.id,
        }
    }
}

/// A page of the conflicts of a call, declared and detected together in id order (the order they were
/// recorded): those after `after`, at most `limit`. One statement per table, each bounded by `limit`: the
/// first `limit` of their merge are the first `limit` of both, so a page is never short while more follow.
pub fn page_of_call(
    conn: &mut DbConn,
    call_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<RecordedConflict>> {
    let mut declared = conflicts::table
        .filter(conflicts::call_id.eq(Uid(call_id)))
        .order(conflicts::id.asc())
        .limit(limit)
        .select(Conflict::as_select())
        .into_boxed();
    let mut detected = detected_conflicts::table
        .filter(detected_conflicts::call_id.eq(Uid(call_id)))
        .order(detected_conflicts::id.asc())
        .limit(limit)
        .select(DetectedConflict::as_select())
        .into_boxed();
    if let Some(after) = after {
        declared = declared.filter(conflicts::id.gt(Uid(after)));
        detected = detected.filter(detected_conflicts::id.gt(Uid(after)));
    }
    let mut page: Vec<RecordedConflict> = declared
        .load(conn)?
        .into_iter()
        .map(RecordedConflict::Declared)
        .chain(
            detected
                .load(conn)?
                .into_iter()
                .map(RecordedConflict::Detected),
        )
        .collect();
    page.sort_by_key(RecordedConflict::id);
    page.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(page)
}

/// One detected conflict of a call.
pub fn find_detected(
    conn: &mut DbConn,
    call_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<DetectedConflict>> {
    detected_conflicts::table
        .find(Uid(id))
        .filter(detected_conflicts::call_id.eq(Uid(call_id)))
        .select(DetectedConflict::as_select())
        .first(conn)
        .optional()
}

/// Moves a detected conflict from `from` to `to`, as staff decided; false when it was no longer in `from`
/// (another decision came first).
pub fn decide(
    conn: &mut DbConn,
    id: Uuid,
    from: DetectedStatus,
    to: DetectedStatus,
    by: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = diesel::update(
        detected_conflicts::table
            .find(Uid(id))
            .filter(detected_conflicts::status.eq(from)),
    )
    .set((
        detected_conflicts::status.eq(to),
        detected_conflicts::decided_by.eq(Some(Uid(by))),
        detected_conflicts::decided_at.eq(Some(Ts(now))),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The one status of a detected conflict that keeps a juror away from an application
/// ([`DetectedStatus::applies`]), for the statements run on every read and review save: an equality keeps
/// them prepared once per connection, where SQLite's `IN (…)` of [`applying`] is prepared anew each time.
/// A test holds it to the domain's rule.
pub(crate) const APPLYING: DetectedStatus = DetectedStatus::Active;

/// The statuses of detected conflicts that keep a juror away from an application.
pub(crate) fn applying() -> Vec<DetectedStatus> {
    [
        DetectedStatus::Active,
        DetectedStatus::Flagged,
        DetectedStatus::Dismissed,
    ]
    .into_iter()
    .filter(|s| s.applies())
    .collect()
}

/// The applications of these calls that the juror is conflicted with (declared, or detected and active).
pub fn conflicted_applications(
    conn: &mut DbConn,
    juror_id: Uuid,
    call_ids: &[Uuid],
) -> QueryResult<HashSet<Uuid>> {
    let calls: Vec<Uid> = call_ids.iter().copied().map(Uid).collect();
    let declared: Vec<Uid> = conflicts::table
        .filter(conflicts::juror_id.eq(Uid(juror_id)))
        .filter(conflicts::call_id.eq_any(&calls))
        .select(conflicts::application_id)
        .load(conn)?;
    let detected: Vec<Uid> = detected_conflicts::table
        .filter(detected_conflicts::juror_id.eq(Uid(juror_id)))
        .filter(detected_conflicts::status.eq_any(applying()))
        .filter(detected_conflicts::call_id.eq_any(&calls))
        .select(detected_conflicts::application_id)
        .load(conn)?;
    Ok(declared
        .into_iter()
        .chain(detected)
        .map(|id| id.0)
        .collect())
}

/// The applications a conflict keeps the juror away from, as two subqueries of application ids to filter a
/// list with (`id.ne_all(declared).and(id.ne_all(detected))`): the declared conflicts, and the detected ones
/// that apply.
pub fn keeping_away(juror_id: Uuid) -> (DeclaredAgainst, DetectedAgainst) {
    let declared = conflicts::table
        .filter(conflicts::juror_id.eq(Uid(juror_id)))
        .select(conflicts::application_id);
    let detected = detected_conflicts::table
        .filter(detected_conflicts::juror_id.eq(Uid(juror_id)))
        .filter(detected_conflicts::status.eq_any(applying()))
        .select(detected_conflicts::application_id);
    (declared, detected)
}

/// The subquery of the applications with a conflict declared by or for a juror.
pub type DeclaredAgainst = dsl::Select<
    dsl::Filter<conflicts::table, dsl::Eq<conflicts::juror_id, Uid>>,
    conflicts::application_id,
>;

/// The subquery of the applications with a detected conflict that applies to a juror.
pub type DetectedAgainst = dsl::Select<
    dsl::Filter<
        dsl::Filter<detected_conflicts::table, dsl::Eq<detected_conflicts::juror_id, Uid>>,
        dsl::EqAny<detected_conflicts::status, Vec<DetectedStatus>>,
    >,
    detected_conflicts::application_id,
>;

/// The statuses of detected conflicts that hold back a new assignment of the pair.
fn blocking_assignment() -> Vec<DetectedStatus> {
    [
        DetectedStatus::Active,
        DetectedStatus::Flagged,
        DetectedStatus::Dismissed,
    ]
    .into_iter()
    .filter(|s| s.blocks_assignment())
    .collect()
}

/// Whether a conflict keeps the juror away from the application: a declared one, or an active detected one
/// (two indexed lookups: `conflicts (juror_id, application_id)` and `detected_conflicts (call_id, juror_id,
/// application_id, …)`).
pub fn is_conflicted(
    conn: &mut DbConn,
    call_id: Uuid,
    application_id: Uuid,
    juror_id: Uuid,
) -> QueryResult<bool> {
    let declared: Option<Uid> = conflicts::table
        .filter(conflicts::application_id.eq(Uid(application_id)))
        .filter(conflicts::juror_id.eq(Uid(juror_id)))
        .select(conflicts::id)
        .first(conn)
        .optional()?;
    if declared.is_some() {
        return Ok(true);
    }
    let detected: Option<Uid> = detected_conflicts::table
        .filter(detected_conflicts::call_id.eq(Uid(call_id)))
        .filter(detected_conflicts::juror_id.eq(Uid(juror_id)))
        .filter(detected_conflicts::application_id.eq(Uid(application_id)))
        .filter(detected_conflicts::status.eq_any(applying()))
        .select(detected_conflicts::id)
        .first(conn)
        .optional()?;
    Ok(detected.is_some())
}

/// The (application, juror) pairs of a call kept apart by a conflict: declared ones and active detected ones
/// (`for_assignment`: flagged ones too, since a new assignment waits for staff to decide them).
pub fn conflicted_pairs(
    conn: &mut DbConn,
    call_id: Uuid,
    for_assignment: bool,
) -> QueryResult<HashSet<(Uuid, Uuid)>> {
    let declared: Vec<(Uid, Uid)> = conflicts::table
        .filter(conflicts::call_id.eq(Uid(call_id)))
        .select((conflicts::application_id, conflicts::juror_id))
        .load(conn)?;
    let statuses = if for_assignment {
        blocking_assignment()
    } else {
        applying()
    };
    let detected: Vec<(Uid, Uid)> = detected_conflicts::table
        .filter(detected_conflicts::call_id.eq(Uid(call_id)))
        .filter(detected_conflicts::status.eq_any(statuses))
        .select((
            detected_conflicts::application_id,
            detected_conflicts::juror_id,
        ))
        .load(conn)?;
    Ok(declared
        .into_iter()
        .chain(detected)
        .map(|(a, j)| (a.0, j.0))
        .collect())
}

/// Whether a new assignment of the juror to the application must be refused: a declared conflict, or a
/// detected one that is active or still waiting for staff.
pub fn blocks_assignment(
    conn: &mut DbConn,
    call_id: Uuid,
    application_id: Uuid,
    juror_id: Uuid,
) -> QueryResult<bool> {
    if is_conflicted(conn, call_id, application_id, juror_id)? {
        return Ok(true);
    }
    let detected: Option<Uid> = detected_conflicts::table
        .filter(detected_conflicts::call_id.eq(Uid(call_id)))
        .filter(detected_conflicts::juror_id.eq(Uid(juror_id)))
        .filter(detected_conflicts::application_id.eq(Uid(application_id)))
        .filter(detected_conflicts::status.eq_any(blocking_assignment()))
        .select(detected_conflicts::id)
        .first(conn)
        .optional()?;
    Ok(detected.is_some())
}

/// The (call, application) pairs of the organization's applications that have at least one juror assigned.
pub fn assigned_applications_of(
    conn: &mut DbConn,
    organization_id: Uuid,
) -> QueryResult<Vec<(Uuid, Uuid)>> {
    use crate::db::schema::{applications, assignments};
    let rows: Vec<(Uid, Uid)> = assignments::table
        .inner_join(applications::table)
        .filter(applications::organization_id.eq(Uid(organization_id)))
        .select((assignments::call_id, assignments::application_id))
        .distinct()
        .order((
            assignments::call_id.asc(),
            assignments::application_id.asc(),
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(|(c, a)| (c.0, a.0)).collect())
}

/// A conflict of interest declared by a juror or by staff.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = conflicts)]
pub struct Conflict {
    pub id: Uid,
    pub call_id: Uid,
    pub juror_id: Uid,
    pub application_id: Uid,
    pub reason: String,
    pub declared_by: Option<Uid>,
    pub created_at: Ts,
}

/// Records a declared conflict; false when the pair was already declared.
pub fn declare_conflict(conn: &mut DbConn, conflict: &Conflict) -> QueryResult<bool> {
    let insert = diesel::insert_into(conflicts::table).values(conflict);
    let inserted = crate::on_backend!(conn, |c| insert.on_conflict_do_nothing().execute(c)?);
    Ok(inserted == 1)
}

/// What conflict detection needs to know about the applications of a call: organization, SIREN, website and
/// the emails of its members (two statements).
pub struct ApplicantFacts {
    pub application_id: Uuid,
    pub organization_id: Uuid,
    pub siren: Option<String>,
    pub website: Option<String>,
    pub member_emails: Vec<String>,
}

/// The facts of every application of a call that is past its draft (or of one application).
pub fn applicant_facts(
    conn: &mut DbConn,
    call_id: Uuid,
    only: Option<Uuid>,
) -> QueryResult<Vec<ApplicantFacts>> {
    let mut query = applications::table
        .inner_join(organizations::table)
        .filter(applications::call_id.eq(Uid(call_id)))
        .select((
            applications::id,
            organizations::id,
            organizations::siren,
            organizations::website,
        ))
        .order(applications::id.asc())
        .into_boxed();
    // Drafts are never in front of a juror (nor assigned, reviewed or ranked): a whole call's facts leave them
    // out, which on deadline day is most of the call.
    match only {
        Some(id) => query = query.filter(applications::id.eq(Uid(id))),
        None => query = query.filter(applications::status.ne(ApplicationStatus::Draft)),
    }
    let rows: Vec<(Uid, Uid, Option<String>, Option<String>)> = query.load(conn)?;
    // The whole call through a subquery rather than its organization ids bound one by one: SQLite allows
    // 32,766 bound values.
    let members_of = organization_members::table
        .inner_join(users::table)
        .select((organization_members::organization_id, users::email));
    let members: Vec<(Uid, String)> = if only.is_some() {
        let org_ids: Vec<Uid> = rows.iter().map(|r| r.1).collect();
        members_of
            .filter(organization_members::organization_id.eq_any(org_ids))
            .load(conn)?
    } else {
        let of_call = applications::table
            .filter(applications::call_id.eq(Uid(call_id)))
            .filter(applications::status.ne(ApplicationStatus::Draft))
            .select(applications::organization_id);
        members_of
            .filter(organization_members::organization_id.eq_any(of_call))
            .load(conn)?
    };
    let mut by_org: BTreeMap<Uid, Vec<String>> = BTreeMap::new();
    for (org, email) in members {
        by_org.entry(org).or_default().push(email);
    }
    Ok(rows
        .into_iter()
        .map(|(app, org, siren, website)| ApplicantFacts {
            application_id: app.0,
            organization_id: org.0,
            siren,
            website,
            member_emails: by_org.get(&org).cloned().unwrap_or_default(),
        })
        .collect())
}

/// The organizations each of these users belongs to.
pub fn organizations_of(
    conn: &mut DbConn,
    user_ids: &[Uuid],
) -> QueryResult<BTreeMap<Uuid, Vec<Uuid>>> {
    let ids: Vec<Uid> = user_ids.iter().copied().map(Uid).collect();
    let rows: Vec<(Uid, Uid)> = organization_members::table
        .filter(organization_members::user_id.eq_any(&ids))
        .select((
            organization_members::user_id,
            organization_members::organization_id,
        ))
        .load(conn)?;
    let mut map: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for (user, org) in rows {
        map.entry(user.0).or_default().push(org.0);
    }
    Ok(map)
}

#[cfg(test)]
mod applying_tests {
    use super::*;

    #[test]
    fn the_applying_status_is_the_one_the_domain_says_applies() {
        assert_eq!(applying(), vec![APPLYING]);
    }
}
