//! Calls for applications.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::permissions::VisibleDrafts;
use crate::db::schema::{call_staff, calls};
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::domain::call::{CallKind, CallStatus};
use crate::error::Error;

/// A call as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize)]
#[diesel(table_name = calls, treat_none_as_null = true)]
pub struct Call {
    pub id: Uid,
    pub slug: String,
    pub template: Option<String>,
    pub kind: CallKind,
    pub reference_prefix: String,
    pub title: Json,
    pub summary: Option<Json>,
    pub opens_at: Ts,
    pub closes_at: Ts,
    pub timezone: String,
    pub eligible_kinds: Json,
    pub form: Json,
    pub stages: Json,
    pub status: CallStatus,
    pub form_frozen_at: Option<Ts>,
    pub next_reference: i32,
    pub version: i32,
    pub created_by: Option<Uid>,
    pub created_at: Ts,
    pub updated_at: Ts,
    /// The edition's year, in its references (`ATL-2027-0001`).
    pub edition: i32,
    /// The call this one is the next edition of.
    pub previous_edition_id: Option<Uid>,
    /// What the call may publish in its catalogue (`domain::catalogue::Catalogue`), if it has one.
    pub catalogue: Option<Json>,
    /// How many of the call's jurors must be present to close a jury meeting; `None`: a majority of them.
    pub quorum: Option<i32>,
    /// How many days after a decision is told its applicant may appeal it; `None`: no appeals.
    pub appeal_window_days: Option<i32>,
    /// The days applicants have to make the changes screening asks for, when staff give no due date.
    pub changes_due_days: i32,
}

/// Stores a new call.
pub fn insert(conn: &mut DbConn, call: &Call) -> QueryResult<()> {
    diesel::insert_into(calls::table)
        .values(call)
        .execute(conn)
        .map(|_| ())
}

/// The call with this id.
pub fn find(conn: &mut DbConn, id: Uuid) -> QueryResult<Option<Call>> {
    calls::table
        .find(Uid(id))
        .select(Call::as_select())
        .first(conn)
        .optional()
}

/// The call with this id or slug.
pub fn find_by_id_or_slug(conn: &mut DbConn, id_or_slug: &str) -> QueryResult<Option<Call>> {
    match Uuid::parse_str(id_or_slug) {
        Ok(id) => find(conn, id),
        Err(_) => calls::table
            .filter(calls::slug.eq(id_or_slug))
            .select(Call::as_select())
            .first(conn)
            .optional(),
    }
}

/// Locks the call's row until the end of the transaction (PostgreSQL; SQLite's write transactions already
/// run one at a time): what is decided across the call's applications (pitch slots that must not overlap)
/// holds until the commit. Take it after the application's lock, as a publication does.
pub fn lock(conn: &mut DbConn, id: Uuid) -> QueryResult<()> {
    if let DbConn::Pg(c) = conn {
        calls::table
            .find(Uid(id))
            .select(calls::id)
            .for_update()
            .load::<Uid>(c)?;
    }
    Ok(())
}

/// Whether a call already uses this slug.
pub fn slug_taken(conn: &mut DbConn, slug: &str, except: Option<Uuid>) -> QueryResult<bool> {
    let mut query = calls::table
        .filter(calls::slug.eq(slug))
        .select(calls::id)
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(calls::id.ne(Uid(id)));
    }
    Ok(query.first::<Uid>(conn).optional()?.is_some())
}

/// The slug of the call other than `except` that already uses this reference prefix and edition, if any.
pub fn edition_holder(
    conn: &mut DbConn,
    prefix: &str,
    edition: i32,
    except: Option<Uuid>,
) -> QueryResult<Option<String>> {
    let mut query = calls::table
        .filter(calls::reference_prefix.eq(prefix))
        .filter(calls::edition.eq(edition))
        .select(calls::slug)
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(calls::id.ne(Uid(id)));
    }
    query.first(conn).optional()
}

/// Writes every field of `call` if its version is still `expected_version`; false when it changed.
pub fn update(conn: &mut DbConn, call: &Call, expected_version: i32) -> QueryResult<bool> {
    let changed = diesel::update(
        calls::table
            .find(call.id)
            .filter(calls::version.eq(expected_version)),
    )
    .set(call)
    .execute(conn)?;
    Ok(changed == 1)
}

/// One page of calls in id order, with the drafts `drafts` names.
pub fn list(
    conn: &mut DbConn,
    drafts: VisibleDrafts,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Call>> {
    let mut query = calls::table
        .select(Call::as_select())
        .order(calls::id.asc())
        .limit(limit)
        .into_boxed();
    match drafts {
        VisibleDrafts::All => {}
        VisibleDrafts::None => query = query.filter(calls::status.ne(CallStatus::Draft)),
        VisibleDrafts::OfStaff(user_id) => {
            let staffed = call_staff::table
                .filter(call_staff::user_id.eq(Uid(user_id)))
                .select(call_staff::call_id);
            query = query.filter(
                calls::status
                    .ne(CallStatus::Draft)
                    .or(calls::id.eq_any(staffed)),
            );
        }
    }
    if let Some(after) = after {
        query = query.filter(calls::id.gt(Uid(after)));
    }
    query.load(conn)
}

/// Takes the next reference number of the call (1, 2, …) and freezes its form at the first submission.
/// The row lock (PostgreSQL) or the write lock (SQLite) makes the numbers unique and gapless.
pub fn take_reference_number(conn: &mut DbConn, id: Uuid, now: DateTime<Utc>) -> QueryResult<i32> {
    diesel::update(calls::table.find(Uid(id)))
        .set(calls::next_reference.eq(calls::next_reference + 1))
        .execute(conn)?;
    diesel::update(
        calls::table
            .find(Uid(id))
            .filter(calls::form_frozen_at.is_null()),
    )
    .set(calls::form_frozen_at.eq(Ts(now)))
    .execute(conn)?;
    let next: i32 = calls::table
        .find(Uid(id))
        .select(calls::next_reference)
        .first(conn)?;
    Ok(next - 1)
}

/// Moves the call to `status` if it is in `from`; false otherwise.
pub fn set_status(
    conn: &mut DbConn,
    id: Uuid,
    from: CallStatus,
    status: CallStatus,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = diesel::update(calls::table.find(Uid(id)).filter(calls::status.eq(from)))
        .set((
            calls::status.eq(status),
            calls::updated_at.eq(Ts(now)),
            calls::version.eq(calls::version + 1),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Published calls closing within (`now`, `until`].
pub fn closing_between(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> QueryResult<Vec<Call>> {
    calls::table
        .filter(calls::status.eq(CallStatus::Published))
        .filter(calls::closes_at.gt(Ts(now)))
        .filter(calls::closes_at.le(Ts(until)))
        .select(Call::as_select())
        .load(conn)
}

impl Call {
    /// A draft call built from a template, opening and closing at the given instants (an error when the
    /// template names an unknown kind of call).
    pub fn from_template(
        template: &crate::domain::form::CallTemplate,
        slug: &str,
        opens_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
        created_by: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Call, Error> {
        use serde_json::json;
        let timezone: chrono_tz::Tz = template
            .timezone
            .parse()
            .unwrap_or(chrono_tz::Europe::Paris);
        Ok(Call {
            id: Uid(Uuid::now_v7()),
            slug: slug.to_owned(),
            template: Some(template.template.clone()),
            kind: template_kind(template)?,
            reference_prefix: template.reference_prefix.clone(),
            title: Json(json!(template.title)),
            summary: Some(Json(json!(template.summary))),
            opens_at: Ts(opens_at),
            closes_at: Ts(closes_at),
            timezone: template.timezone.clone(),
            eligible_kinds: Json(json!(template.eligible_kinds)),
            form: Json(json!(template.form)),
            stages: Json(json!(template.stages)),
            status: CallStatus::Draft,
            form_frozen_at: None,
            next_reference: 1,
            version: 1,
            created_by: created_by.map(Uid),
            created_at: Ts(now),
            updated_at: Ts(now),
            edition: crate::domain::edition::edition_of(opens_at, timezone),
            previous_edition_id: None,
            catalogue: template.catalogue.as_ref().map(|c| Json(json!(c))),
            quorum: None,
            appeal_window_days: None,
            changes_due_days: crate::domain::finalists::DEFAULT_CHANGES_DUE_DAYS,
        })
    }
}

impl Call {
    /// What the call publishes in its catalogue; `None` when it has none.
    pub fn catalogue(&self) -> Result<Option<crate::domain::catalogue::Catalogue>, Error> {
        self.catalogue.as_ref().map(stored).transpose()
    }
}

/// The kind of call a template makes, read strictly.
pub fn template_kind(template: &crate::domain::form::CallTemplate) -> Result<CallKind, Error> {
    template.kind.parse().map_err(|e: String| {
        Error::Internal(anyhow::anyhow!("call template {}: {e}", template.template))
    })
}

impl Call {
    /// The call's form, as stored.
    pub fn form(&self) -> Result<crate::domain::form::Form, Error> {
        stored(&self.form)
    }

    /// The call's evaluation stages, as stored.
    pub fn stages(&self) -> Result<Vec<crate::domain::form::Stage>, Error> {
        stored(&self.stages)
    }

    /// The call's bilingual title (its slug if the stored title cannot be read).
    pub fn title_text(&self) -> crate::domain::form::Text {
        stored(&self.title).unwrap_or_else(|_| crate::domain::form::Text {
            fr: self.slug.clone(),
            en: None,
        })
    }
}

/// A JSON column of a call as the domain type it holds.
pub fn stored<T: serde::de::DeserializeOwned>(value: &Json) -> Result<T, Error> {
    serde_json::from_value(value.0.clone())
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored call JSON: {e}")))
}
