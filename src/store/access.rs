//! What is recorded about one person around one application, read in one statement: the facts the
//! permissions decide on when someone reads or reviews it (their role in the applicant organization, their
//! assignment, a conflict keeping them away, their role on the call's staff). Each fact is an indexed lookup
//! of its own table; together they are one round trip instead of five.

use diesel::dsl::exists;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use uuid::Uuid;

use crate::auth::permissions::MemberRole;
use crate::db::schema::{
    assignments, call_staff, conflicts, detected_conflicts, organization_members,
};
use crate::db::types::Uid;
use crate::db::DbConn;
use crate::domain::account::CallRole;
use crate::store::conflicts::APPLYING;

/// The application a fact is about, as its row gives it.
#[derive(Debug, Clone, Copy)]
pub struct Around {
    pub application_id: Uuid,
    pub call_id: Uuid,
    pub organization_id: Uuid,
}

/// What is recorded about a person around one application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// Their role in the applicant organization.
    pub membership: Option<MemberRole>,
    /// Assigned the application (at the stage asked, or at any stage).
    pub assigned: bool,
    /// A declared conflict with it, or a detected one whose status keeps them away.
    pub conflicted: bool,
    /// Their role on the staff of its call.
    pub staff: Option<CallRole>,
}

/// What is recorded about `user_id` around the application, in one statement; `stage` narrows the
/// assignment to one stage.
pub fn recorded(
    conn: &mut DbConn,
    around: Around,
    user_id: Uuid,
    stage: Option<&str>,
) -> QueryResult<Recorded> {
    let user = Uid(user_id);
    let application = Uid(around.application_id);
    let membership = organization_members::table
        .find((Uid(around.organization_id), user))
        .select(organization_members::role)
        .single_value();
    // One statement text whether a stage is asked or not (`stage = ? OR ?`), so that it is prepared once.
    let any_stage = stage.is_none();
    let assigned = exists(
        assignments::table
            .filter(assignments::application_id.eq(application))
            .filter(assignments::juror_id.eq(user))
            .filter(
                assignments::stage
                    .eq(stage.unwrap_or_default().to_owned())
                    .or(any_stage.into_sql::<Bool>()),
            ),
    );
    let declared = exists(
        conflicts::table
            .filter(conflicts::application_id.eq(application))
            .filter(conflicts::juror_id.eq(user)),
    );
    let detected = exists(
        detected_conflicts::table
            .filter(detected_conflicts::call_id.eq(Uid(around.call_id)))
            .filter(detected_conflicts::juror_id.eq(user))
            .filter(detected_conflicts::application_id.eq(application))
            .filter(detected_conflicts::status.eq(APPLYING)),
    );
    let staff = call_staff::table
        .find((Uid(around.call_id), user))
        .select(call_staff::role)
        .single_value();
    let (membership, assigned, declared, detected, staff): (
        Option<MemberRole>,
        bool,
        bool,
        bool,
        Option<CallRole>,
    ) = diesel::select((membership, assigned, declared, detected, staff)).get_result(conn)?;
    Ok(Recorded {
        membership,
        assigned,
        conflicted: declared || detected,
        staff,
    })
}
