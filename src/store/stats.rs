//! The counting behind a call's figures (`domain/figures.rs`): each function is one SQL statement that
//! aggregates in the database, so a call of any size costs the same few statements and the server never holds
//! its applications in memory. Answers are JSON, read per backend (`json_each` on SQLite,
//! `jsonb_each` and `jsonb_array_elements` on PostgreSQL); the median is exact on both, with window functions.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use uuid::Uuid;

use crate::db::schema::{applications, organizations, review_deadlines};
use crate::db::types::{DbUuid, Ts, Uid};
use crate::db::DbConn;
use crate::domain::application::ApplicationStatus;
use crate::domain::delivery::OutboxStatus;
use crate::domain::figures::{NumberSummary, ReviewTally};
use crate::domain::review::ReviewStatus;

/// A call's applications per status.
pub fn count_by_status(
    conn: &mut DbConn,
    call_id: Uuid,
) -> QueryResult<Vec<(ApplicationStatus, i64)>> {
    applications::table
        .filter(applications::call_id.eq(Uid(call_id)))
        .group_by(applications::status)
        .select((applications::status, count_star()))
        .load(conn)
}

/// How many of a call's applications were anonymised.
pub fn count_anonymised(conn: &mut DbConn, call_id: Uuid) -> QueryResult<i64> {
    applications::table
        .filter(applications::call_id.eq(Uid(call_id)))
        .filter(applications::anonymised_at.is_not_null())
        .count()
        .get_result(conn)
}

/// A call's applications per kind of applicant organization (the stored name of the kind).
pub fn count_by_organization_kind(
    conn: &mut DbConn,
    call_id: Uuid,
) -> QueryResult<Vec<(String, i64)>> {
    applications::table
        .inner_join(organizations::table)
        .filter(applications::call_id.eq(Uid(call_id)))
        .group_by(organizations::kind)
        .select((organizations::kind, count_star()))
        .load(conn)
}

#[derive(QueryableByName)]
struct MinuteCount {
    #[diesel(sql_type = Text)]
    minute: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    kept: i64,
}

/// Submitted applications in one minute (UTC): how many, and how many of them are not anonymised.
#[derive(Debug, Clone, Copy)]
pub struct Submissions {
    pub minute: NaiveDateTime,
    pub count: i64,
    pub not_anonymised: i64,
}

/// A call's submitted applications per minute of their (latest) submission, in UTC: at most one row per
/// minute of the call's life, whatever the number of applications.
pub fn count_submissions_per_minute(
    conn: &mut DbConn,
    call_id: Uuid,
) -> QueryResult<Vec<Submissions>> {
    let minute = if is_postgres(conn) {
        r#"to_char(submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI')"#
    } else {
        "substr(submitted_at, 1, 16)"
    };
    let sql = format!(
        "SELECT {minute} AS minute, COUNT(*) AS n, \
                SUM(CASE WHEN anonymised_at IS NULL THEN 1 ELSE 0 END) AS kept \
         FROM applications \
         WHERE call_id = {p1} AND submitted_at IS NOT NULL GROUP BY 1",
        p1 = param(conn, 1),
    );
    let rows: Vec<MinuteCount> = diesel::sql_query(sql)
        .bind::<DbUuid, _>(Uid(call_id))
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            NaiveDateTime::parse_from_str(&row.minute, "%Y-%m-%dT%H:%M")
                .map(|minute| Submissions {
                    minute,
                    count: row.n,
                    not_anonymised: row.kept,
                })
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
        })
        .collect()
}

/// The applications whose answers count: submitted once (whatever their status since) and not anonymised.
const COUNTED: &str = "a.submitted_at IS NOT NULL AND a.anonymised_at IS NULL";

#[derive(QueryableByName)]
struct OptionRow {
    #[diesel(sql_type = Text)]
    field: String,
    #[diesel(sql_type = Text)]
    value: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many counted applications of a call chose each value of each of `fields` (a `choice` answer is one
/// value, a `multi_choice` answer a list of them): (field, value, count).
pub fn count_choices(
    conn: &mut DbConn,
    call_id: Uuid,
    fields: &[String],
) -> QueryResult<Vec<(String, String, i64)>> {
    let sql = if is_postgres(conn) {
        format!(
            "SELECT f.key AS field, v.value #>> '{{}}' AS value, COUNT(*) AS n \
             FROM applications a \
             CROSS JOIN LATERAL jsonb_each(a.answers) f \
             CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(f.value) = 'array' \
                 THEN f.value ELSE jsonb_build_array(f.value) END) v \
             WHERE a.call_id = $1 AND {COUNTED} \
               AND f.key IN (SELECT jsonb_array_elements_text($2::jsonb)) \
               AND jsonb_typeof(v.value) = 'string' \
             GROUP BY f.key, v.value #>> '{{}}'"
        )
    } else {
        format!(
            "SELECT f.key AS field, v.value AS value, COUNT(*) AS n \
             FROM applications a, json_each(a.answers) f, \
                  json_each(CASE WHEN f.type = 'array' THEN f.value ELSE json_array(f.value) END) v \
             WHERE a.call_id = ?1 AND {COUNTED} \
               AND f.key IN (SELECT value FROM json_each(?2)) \
               AND v.type = 'text' \
             GROUP BY f.key, v.value"
        )
    };
    let rows: Vec<OptionRow> = diesel::sql_query(sql)
        .bind::<DbUuid, _>(Uid(call_id))
        .bind::<Text, _>(keys_json(fields))
        .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.field, r.value, r.n)).collect())
}

#[derive(QueryableByName)]
struct NumberRow {
    #[diesel(sql_type = Text)]
    field: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<Double>)]
    lowest: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    middle: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    highest: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    total: Option<f64>,
}

/// Count, min, exact median, max and sum of the numeric answers of counted applications of a call, for
/// each of `fields` that has any.
pub fn summarise_numbers(
    conn: &mut DbConn,
    call_id: Uuid,
    fields: &[String],
) -> QueryResult<Vec<NumberSummary>> {
    let values = if is_postgres(conn) {
        format!(
            "SELECT f.key AS field, (f.value #>> '{{}}')::double precision AS x \
             FROM applications a CROSS JOIN LATERAL jsonb_each(a.answers) f \
             WHERE a.call_id = $1 AND {COUNTED} \
               AND f.key IN (SELECT jsonb_array_elements_text($2::jsonb)) \
               AND jsonb_typeof(f.value) = 'number'"
        )
    } else {
        format!(
            "SELECT f.key AS field, CAST(f.value AS REAL) AS x \
             FROM applications a, json_each(a.answers) f \
             WHERE a.call_id = ?1 AND {COUNTED} \
               AND f.key IN (SELECT value FROM json_each(?2)) \
               AND f.type IN ('integer', 'real')"
        )
    };
    // The median: the middle value, or the mean of the two middle values, of each field's sorted answers.
    let sql = format!(
        "SELECT field, COUNT(*) AS n, MIN(x) AS lowest, MAX(x) AS highest, SUM(x) AS total, \
                AVG(CASE WHEN rn IN ((c + 1) / 2, (c + 2) / 2) THEN x END) AS middle \
         FROM (SELECT field, x, \
                      ROW_NUMBER() OVER (PARTITION BY field ORDER BY x) AS rn, \
                      COUNT(*) OVER (PARTITION BY field) AS c \
               FROM ({values}) v) ranked \
         GROUP BY field"
    );
    let rows: Vec<NumberRow> = diesel::sql_query(sql)
        .bind::<DbUuid, _>(Uid(call_id))
        .bind::<Text, _>(keys_json(fields))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| NumberSummary {
            field: r.field,
            count: r.n,
            min: r.lowest,
            median: r.middle,
            max: r.highest,
            sum: r.total,
        })
        .collect())
}

#[derive(QueryableByName)]
struct TallyRow {
    #[diesel(sql_type = Text)]
    stage: String,
    #[diesel(sql_type = DbUuid)]
    juror_id: Uid,
    #[diesel(sql_type = Text)]
    display_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    status: Option<ReviewStatus>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A call's assignments per stage, juror and status of their review (none yet: `None`); assignments of
/// withdrawn applications are left out (they are no longer reviewed).
pub fn review_tallies(conn: &mut DbConn, call_id: Uuid) -> QueryResult<Vec<ReviewTally>> {
    let sql = format!(
        "SELECT s.stage AS stage, s.juror_id AS juror_id, u.display_name AS display_name, \
                r.status AS status, COUNT(*) AS n \
         FROM assignments s \
         JOIN applications a ON a.id = s.application_id \
         JOIN users u ON u.id = s.juror_id \
         LEFT JOIN reviews r ON r.application_id = s.application_id \
              AND r.juror_id = s.juror_id AND r.stage = s.stage \
         WHERE s.call_id = {p1} AND a.status <> {p2} \
         GROUP BY s.stage, s.juror_id, u.display_name, r.status",
        p1 = param(conn, 1),
        p2 = param(conn, 2),
    );
    let rows: Vec<TallyRow> = diesel::sql_query(sql)
        .bind::<DbUuid, _>(Uid(call_id))
        .bind::<Text, _>(ApplicationStatus::Withdrawn)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| ReviewTally {
            stage: r.stage,
            juror_id: r.juror_id.0,
            display_name: r.display_name,
            status: r.status,
            count: r.n,
        })
        .collect())
}

/// The review deadlines of a call's stages: (stage, due at).
pub fn review_deadlines(
    conn: &mut DbConn,
    call_id: Uuid,
) -> QueryResult<Vec<(String, DateTime<Utc>)>> {
    let rows: Vec<(String, Ts)> = review_deadlines::table
        .filter(review_deadlines::call_id.eq(Uid(call_id)))
        .select((review_deadlines::stage, review_deadlines::due_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(stage, due)| (stage, due.0))
        .collect())
}

#[derive(QueryableByName)]
struct StatusCount {
    #[diesel(sql_type = Text)]
    status: OutboxStatus,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The emails about a call's applications that are waiting, being sent or failed, per status. An email
/// about an application carries its link (`/applications/{id}`), the same rule that finds them when an
/// application is anonymised; only the unsent emails are searched, a small part of the outbox.
pub fn count_unsent_emails(
    conn: &mut DbConn,
    call_id: Uuid,
) -> QueryResult<Vec<(OutboxStatus, i64)>> {
    let id_text = if is_postgres(conn) {
        "a.id::text"
    } else {
        "a.id"
    };
    let sql = format!(
        "SELECT o.status AS status, COUNT(*) AS n FROM outbox o \
         WHERE o.status IN ({p2}, {p3}, {p4}) AND EXISTS ( \
             SELECT 1 FROM applications a WHERE a.call_id = {p1} \
             AND o.body_text LIKE ('%/applications/' || {id_text} || '%')) \
         GROUP BY o.status",
        p1 = param(conn, 1),
        p2 = param(conn, 2),
        p3 = param(conn, 3),
        p4 = param(conn, 4),
    );
    let rows: Vec<StatusCount> = diesel::sql_query(sql)
        .bind::<DbUuid, _>(Uid(call_id))
        .bind::<Text, _>(OutboxStatus::Pending)
        .bind::<Text, _>(OutboxStatus::Sending)
        .bind::<Text, _>(OutboxStatus::Failed)
        .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.status, r.n)).collect())
}

fn is_postgres(conn: &DbConn) -> bool {
    matches!(conn, DbConn::Pg(_))
}

/// The `n`th bind parameter as the backend writes it.
fn param(conn: &DbConn, n: usize) -> String {
    if is_postgres(conn) {
        format!("${n}")
    } else {
        format!("?{n}")
    }
}

/// Field keys as the JSON array the statements read them from (one bind, whatever their number).
fn keys_json(fields: &[String]) -> String {
    serde_json::Value::from(fields.to_vec()).to_string()
}
