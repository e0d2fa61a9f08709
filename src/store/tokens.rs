//! Bearer tokens: login sessions and personal API tokens, stored by their SHA-256.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::permissions::{Principal, Role, Scope, TokenKind};
use crate::db::schema::{api_tokens, users};
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::error::Error;

/// A token as stored (its hash, never the secret).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct Token {
    pub id: Uid,
    pub user_id: Uid,
    pub kind: String,
    pub name: Option<String>,
    pub scopes: Json,
    pub token_hash: String,
    pub expires_at: Option<Ts>,
    pub revoked_at: Option<Ts>,
    pub last_used_at: Option<Ts>,
    pub created_at: Ts,
}

impl Token {
    /// The scopes stored with the token (unknown names are ignored: they grant nothing).
    pub fn scope_list(&self) -> Vec<Scope> {
        self.scopes
            .as_array()
            .map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.as_str().and_then(Scope::parse))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Stores a new token.
pub fn insert(conn: &mut DbConn, token: &Token) -> QueryResult<()> {
    diesel::insert_into(api_tokens::table)
        .values(token)
        .execute(conn)
        .map(|_| ())
}

/// A live token's caller, and when the token expires (never when `None`).
pub type Authenticated = (Principal, Option<DateTime<Utc>>);

/// The caller presenting the token with this hash, if it is live.
pub fn authenticate(
    conn: &mut DbConn,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Authenticated>, Error> {
    let found: Option<(Token, Role, Option<Ts>)> = api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(hash))
        .filter(api_tokens::revoked_at.is_null())
        // A session created by a login that raced the account's deletion is refused too.
        .filter(users::deleted_at.is_null())
        .select((Token::as_select(), users::role, users::email_verified_at))
        .first(conn)
        .optional()?;
    Ok(found
        .filter(|(token, _, _)| token.expires_at.is_none_or(|at| at.0 > now))
        .map(|(token, role, verified_at)| {
            let scopes = token.scope_list();
            let principal = Principal {
                user_id: *token.user_id,
                role,
                token_id: *token.id,
                token_kind: if token.kind == "session" {
                    TokenKind::Session
                } else {
                    TokenKind::Personal
                },
                scopes,
                email_verified: verified_at.is_some(),
            };
            (principal, token.expires_at.map(|at| at.0))
        }))
}

/// Revokes one token.
pub fn revoke(conn: &mut DbConn, id: Uuid, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(
        api_tokens::table
            .find(Uid(id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Ts(now)))
    .execute(conn)
    .map(|_| ())
}

/// Revokes every live token of a user; returns how many.
pub fn revoke_all_for_user(
    conn: &mut DbConn,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::user_id.eq(Uid(user_id)))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Ts(now)))
    .execute(conn)
}

/// One page of the personal tokens of a user that are not revoked, oldest first.
pub fn list_personal(
    conn: &mut DbConn,
    user_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Token>> {
    let mut query = api_tokens::table
        .filter(api_tokens::user_id.eq(Uid(user_id)))
        .filter(api_tokens::kind.eq("personal"))
        .filter(api_tokens::revoked_at.is_null())
        .order(api_tokens::id.asc())
        .limit(limit)
        .select(Token::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(api_tokens::id.gt(Uid(after)));
    }
    query.load(conn)
}

/// Revokes a personal token of this user; false when there is no such live token.
pub fn revoke_personal(
    conn: &mut DbConn,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = diesel::update(
        api_tokens::table
            .find(Uid(id))
            .filter(api_tokens::user_id.eq(Uid(user_id)))
            .filter(api_tokens::kind.eq("personal"))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Ts(now)))
    .execute(conn)?;
    Ok(changed == 1)
}
