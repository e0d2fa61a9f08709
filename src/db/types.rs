//! The three portable SQL types of Cordée's schema — UUID, JSON and instants — and the Rust values that
//! bind to them.
//!
//! PostgreSQL stores them natively (`uuid`, `jsonb`, `timestamptz`); SQLite stores them as TEXT
//! (hyphenated UUIDs, JSON checked by `json_valid`, fixed-width RFC 3339 UTC so that text order is time
//! order). Diesel's blanket impls forbid binding foreign types (`uuid::Uuid`, …) to local SQL types, so
//! each has a thin local wrapper: [`Uid`], [`Json`], [`Ts`]. Store structs use the wrappers; the rest of
//! the code sees the plain types.

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{HasSqlType, SqlType};
use diesel::sqlite::Sqlite;
use diesel::{AsExpression, FromSqlRow};
use serde::{Deserialize, Serialize};

use super::MultiBackend;

/// A UUID column: Postgres `uuid`, SQLite TEXT.
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 2950, array_oid = 2951))]
#[diesel(sqlite_type(name = "Text"))]
pub struct DbUuid;

/// A JSON column: Postgres `jsonb`, SQLite TEXT checked with `json_valid`.
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 3802, array_oid = 3807))]
#[diesel(sqlite_type(name = "Text"))]
pub struct DbJson;

/// An instant: Postgres `timestamptz`, SQLite RFC 3339 text in UTC.
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 1184, array_oid = 1185))]
#[diesel(sqlite_type(name = "Text"))]
pub struct DbTime;

/// A UUID as bound to a [`DbUuid`] column.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    AsExpression,
    FromSqlRow,
    Serialize,
    Deserialize,
)]
#[diesel(sql_type = DbUuid)]
#[serde(transparent)]
pub struct Uid(pub uuid::Uuid);

/// A JSON document as bound to a [`DbJson`] column.
#[derive(Debug, Clone, PartialEq, AsExpression, FromSqlRow, Serialize, Deserialize)]
#[diesel(sql_type = DbJson)]
#[serde(transparent)]
pub struct Json(pub serde_json::Value);

/// An instant as bound to a [`DbTime`] column.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    AsExpression,
    FromSqlRow,
    Serialize,
    Deserialize,
)]
#[diesel(sql_type = DbTime)]
#[serde(transparent)]
pub struct Ts(pub DateTime<Utc>);

/// Renders an instant the way SQLite stores it: fixed width, so that comparing text compares time.
pub fn sqlite_time(value: &DateTime<Utc>) -> String {
    value.to_rfc3339_opts(SecondsFormat::Micros, true)
}

macro_rules! multi_backend_type {
    ($sql:ident, $wrapper:ident, $inner:ty) => {
        impl HasSqlType<$sql> for MultiBackend {
            fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
                MultiBackend::lookup_sql_type::<$sql>(lookup)
            }
        }

        impl FromSql<$sql, MultiBackend> for $wrapper {
            fn from_sql(
                bytes: <MultiBackend as Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                bytes.from_sql::<$wrapper, $sql>()
            }
        }

        impl ToSql<$sql, MultiBackend> for $wrapper {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value(($sql, self));
                Ok(IsNull::No)
            }
        }

        impl From<$inner> for $wrapper {
            fn from(value: $inner) -> Self {
                $wrapper(value)
            }
        }

        impl From<$wrapper> for $inner {
            fn from(value: $wrapper) -> Self {
                value.0
            }
        }

        impl std::ops::Deref for $wrapper {
            type Target = $inner;
            fn deref(&self) -> &$inner {
                &self.0
            }
        }
    };
}

multi_backend_type!(DbUuid, Uid, uuid::Uuid);
multi_backend_type!(DbJson, Json, serde_json::Value);
multi_backend_type!(DbTime, Ts, DateTime<Utc>);

impl std::fmt::Display for Uid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

// --- PostgreSQL: delegate to diesel's native implementations.

impl ToSql<DbUuid, Pg> for Uid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <uuid::Uuid as ToSql<diesel::sql_types::Uuid, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<DbUuid, Pg> for Uid {
    fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <uuid::Uuid as FromSql<diesel::sql_types::Uuid, Pg>>::from_sql(bytes).map(Uid)
    }
}

impl ToSql<DbJson, Pg> for Json {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <serde_json::Value as ToSql<diesel::sql_types::Jsonb, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<DbJson, Pg> for Json {
    fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <serde_json::Value as FromSql<diesel::sql_types::Jsonb, Pg>>::from_sql(bytes).map(Json)
    }
}

impl ToSql<DbTime, Pg> for Ts {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <DateTime<Utc> as ToSql<diesel::sql_types::Timestamptz, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<DbTime, Pg> for Ts {
    fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <DateTime<Utc> as FromSql<diesel::sql_types::Timestamptz, Pg>>::from_sql(bytes).map(Ts)
    }
}

// --- SQLite: text.

impl ToSql<DbUuid, Sqlite> for Uid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.hyphenated().to_string());
        Ok(IsNull::No)
    }
}

impl FromSql<DbUuid, Sqlite> for Uid {
    fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<diesel::sql_types::Text, Sqlite>>::from_sql(bytes)?;
        Ok(Uid(uuid::Uuid::parse_str(&text)?))
    }
}

impl ToSql<DbJson, Sqlite> for Json {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(serde_json::to_string(&self.0)?);
        Ok(IsNull::No)
    }
}

impl FromSql<DbJson, Sqlite> for Json {
    fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<diesel::sql_types::Text, Sqlite>>::from_sql(bytes)?;
        Ok(Json(serde_json::from_str(&text)?))
    }
}

impl ToSql<DbTime, Sqlite> for Ts {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(sqlite_time(&self.0));
        Ok(IsNull::No)
    }
}

impl FromSql<DbTime, Sqlite> for Ts {
    fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<diesel::sql_types::Text, Sqlite>>::from_sql(bytes)?;
        Ok(Ts(DateTime::parse_from_rfc3339(&text)?.with_timezone(&Utc)))
    }
}

/// Life-cycle enums stored as TEXT under their API names, converted strictly both ways: a stored name the
/// enum does not know fails the read (it never falls back to a default).
macro_rules! stored_as_text {
    ($($status:ty),* $(,)?) => {$(
        impl FromSql<diesel::sql_types::Text, MultiBackend> for $status {
            fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let name = <String as FromSql<diesel::sql_types::Text, MultiBackend>>::from_sql(bytes)?;
                Ok(name.parse::<$status>()?)
            }
        }

        impl ToSql<diesel::sql_types::Text, MultiBackend> for $status {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                <str as ToSql<diesel::sql_types::Text, MultiBackend>>::to_sql(self.as_str(), out)
            }
        }

        impl ToSql<diesel::sql_types::Text, Pg> for $status {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<diesel::sql_types::Text, Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl ToSql<diesel::sql_types::Text, Sqlite> for $status {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                out.set_value(self.as_str());
                Ok(IsNull::No)
            }
        }

        impl FromSql<diesel::sql_types::Text, Pg> for $status {
            fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let name = <String as FromSql<diesel::sql_types::Text, Pg>>::from_sql(bytes)?;
                Ok(name.parse::<$status>()?)
            }
        }

        impl FromSql<diesel::sql_types::Text, Sqlite> for $status {
            fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let name = <String as FromSql<diesel::sql_types::Text, Sqlite>>::from_sql(bytes)?;
                Ok(name.parse::<$status>()?)
            }
        }
    )*};
}

stored_as_text!(
    crate::domain::application::ApplicationStatus,
    crate::domain::application::DecisionOutcome,
    crate::domain::call::CallStatus,
    crate::domain::call::CallKind,
    crate::domain::review::ReviewStatus,
    crate::domain::conflict::DetectedStatus,
    crate::domain::pairing::PairingStatus,
    crate::domain::pairing::Response,
    crate::domain::message::MessageSide,
    crate::domain::appeal::AppealStatus,
    crate::domain::decision::DecisionChange,
    crate::domain::delivery::OutboxStatus,
    crate::domain::delivery::DeliveryStatus,
    crate::domain::account::StaffRole,
    crate::domain::account::CallRole,
    crate::auth::permissions::Role,
    crate::auth::permissions::MemberRole,
    crate::domain::meeting::MeetingStatus,
    crate::domain::meeting::Presence,
    crate::domain::meeting::ItemKind,
);
