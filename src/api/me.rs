//! The caller's own account and personal API tokens.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::accounts::UserView;
use crate::api::extract::{Caller, PageQuery, Paginated, SignedIn};
use crate::api::input::{Check, Input};
use crate::auth::permissions::{Role, Scope};
use crate::auth::token;
use crate::db::types::{Json, Ts, Uid};
use crate::domain::account::CallRole;
use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, FieldError, Problem};
use crate::service::accounts;
use crate::state::AppState;
use crate::store::{tokens, users};

/// The caller, with the calls they sit on the jury of and the calls where they are staff.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub locale: String,
    pub role: Role,
    pub email_verified: bool,
    /// Ids of the calls whose jury the caller sits on.
    pub juries: Vec<Uuid>,
    /// The calls where the caller has a staff role (manager or observer), with that role.
    pub staff: Vec<StaffSeat>,
}

/// A call where the caller has a staff role.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffSeat {
    pub call_id: Uuid,
    pub role: CallRole,
}

/// Who am I?
#[utoipa::path(
    operation_id = "getMe",
    tag = "accounts",
    responses((status = 200, body = MeView), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, caller: SignedIn) -> Result<HttpResponse, Error> {
    let user_id = caller.0.user_id;
    let (user, juries, staff) = state
        .db
        .read(move |conn| {
            let user = users::find(conn, user_id)?.ok_or(Error::NotFound)?;
            let juries = crate::store::jurors::juries_of(conn, user_id)?;
            Ok((user, juries, crate::store::staff::roles_of(conn, user_id)?))
        })
        .await?;
    let view = UserView::from(&user);
    Ok(HttpResponse::Ok().json(MeView {
        id: view.id,
        email: view.email,
        display_name: view.display_name,
        locale: view.locale,
        role: view.role,
        email_verified: view.email_verified,
        juries,
        staff: staff
            .into_iter()
            .map(|(call_id, role)| StaffSeat { call_id, role })
            .collect(),
    }))
}

/// A personal API token, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<&tokens::Token> for TokenView {
    fn from(token: &tokens::Token) -> Self {
        TokenView {
            id: *token.id,
            name: token.name.clone().unwrap_or_default(),
            scopes: token.scope_list(),
            expires_at: token.expires_at.map(|t| t.0),
            created_at: token.created_at.0,
        }
    }
}

/// A personal API token just created: the only answer that shows its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The secret: shown once, never again.
    pub token: String,
}

/// `POST /me/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    #[schema(required = true)]
    pub name: Option<String>,
    /// Some of `applications:read`, `applications:write`, `reviews:read`, `reviews:write`, `admin`.
    #[schema(required = true)]
    pub scopes: Option<Vec<String>>,
    /// When the token stops working (RFC 3339, in the future); never when absent.
    pub expires_at: Option<String>,
}

/// The caller's personal API tokens.
#[utoipa::path(
    operation_id = "listMyTokens",
    tag = "accounts",
    params(PageQuery),
    responses((status = 200, body = Paginated<TokenView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/me/tokens")]
pub async fn list_tokens(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    caller.0.require_session()?;
    let page = query.page()?;
    let user_id = caller.0.user_id;
    let rows = state
        .db
        .read(move |conn| {
            Ok(tokens::list_personal(
                conn,
                user_id,
                page.after,
                page.limit + 1,
            )?)
        })
        .await?;
    let views: Vec<TokenView> = rows.iter().map(TokenView::from).collect();
    Ok(HttpResponse::Ok().json(Paginated::from_rows(views, page, |t| t.id)))
}

/// Creates a personal API token with some scopes, for scripts and API clients.
#[utoipa::path(
    operation_id = "createMyToken",
    tag = "accounts",
    request_body = CreateTokenRequest,
    responses(
        (status = 201, body = CreatedToken),
        (status = 401, body = Problem),
        (status = 403, description = "Only a login session may create tokens", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/me/tokens")]
pub async fn create_token(
    state: web::Data<AppState>,
    caller: Caller,
    input: Input<CreateTokenRequest>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_session()?;
    let now = state.clock.now();
    let (body, mut check) = input.into_parts();
    let user_id = caller.user_id;
    // The `admin` scope is for those who act as staff: administrators, and a call's managers and observers
    // (for them it reaches only their calls' staff routes).
    let may_act_as_staff = caller.role == Role::Admin
        || state
            .db
            .read(move |conn| Ok(!crate::store::staff::roles_of(conn, user_id)?.is_empty()))
            .await?;
    let name = check.required("name", body.name.as_deref(), token_name);
    let scopes = token_scopes(&mut check, body.scopes, may_act_as_staff);
    let expires_at = check.optional("expires_at", body.expires_at.as_deref(), |raw| {
        token_expiry(raw, now)
    });
    let (Some(name), Some(scopes)) = (name, scopes) else {
        return Err(check.into_error());
    };
    check.finish()?;
    let secret = token::generate();
    let row = tokens::Token {
        id: Uid(Uuid::now_v7()),
        user_id: Uid(caller.user_id),
        kind: "personal".into(),
        name: Some(name),
        scopes: Json(json!(scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>())),
        token_hash: token::hash(&secret),
        expires_at: expires_at.map(Ts),
        revoked_at: None,
        last_used_at: None,
        created_at: Ts(now),
    };
    let view = TokenView::from(&row);
    state
        .db
        .write(move |conn| accounts::create_token(conn, &row, now))
        .await?;
    Ok(HttpResponse::Created().json(CreatedToken {
        id: view.id,
        name: view.name,
        scopes: view.scopes,
        expires_at: view.expires_at,
        created_at: view.created_at,
        token: secret,
    }))
}

/// A token's name: 1 to 100 characters, trimmed, no control character.
fn token_name(raw: &str) -> Result<String, InvalidValue> {
    let n = raw.trim();
    if n.chars().any(char::is_control) {
        return Err(InvalidValue::new(
            "invalid_characters",
            "control characters are not allowed",
        ));
    }
    match n.chars().count() {
        0 => Err(InvalidValue::new("required", "a token needs a name")),
        1..=100 => Ok(n.to_owned()),
        _ => Err(InvalidValue::new(
            "too_long",
            "a token name has at most 100 characters",
        )),
    }
}

/// A token's scopes, without repeats: at least one, known, and `admin` only for who may act as staff.
fn token_scopes(
    check: &mut Check,
    names: Option<Vec<String>>,
    may_act_as_staff: bool,
) -> Option<Vec<Scope>> {
    let names = match names {
        None => {
            check.push(FieldError::new(
                "scopes",
                "required",
                "this field is required",
            ));
            return None;
        }
        Some(names) if names.is_empty() => {
            check.push(FieldError::new(
                "scopes",
                "required",
                "give at least one scope",
            ));
            return None;
        }
        Some(names) => names,
    };
    let mut scopes = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match Scope::parse(name) {
            Some(Scope::Admin) if !may_act_as_staff => check.push(FieldError::new(
                format!("scopes.{i}"),
                "not_allowed",
                "only administrators and a call's staff may create tokens with the admin scope",
            )),
            Some(scope) if !scopes.contains(&scope) => scopes.push(scope),
            Some(_) => {}
            None => check.push(FieldError::new(
                format!("scopes.{i}"),
                "unknown_scope",
                "unknown scope",
            )),
        }
    }
    Some(scopes)
}

/// A token's expiry: an RFC 3339 instant after `now`.
fn token_expiry(raw: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, InvalidValue> {
    let at = DateTime::parse_from_rfc3339(raw)
        .map_err(|_| {
            InvalidValue::new(
                "invalid_datetime",
                "an RFC 3339 instant such as 2027-01-06T08:00:00Z",
            )
        })?
        .with_timezone(&Utc);
    if at <= now {
        return Err(InvalidValue::new(
            "in_the_past",
            "the expiry must be in the future",
        ));
    }
    Ok(at)
}

/// Revokes one of the caller's personal tokens.
#[utoipa::path(
    operation_id = "deleteMyToken",
    tag = "accounts",
    params(("id" = Uuid, Path, description = "Token id")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[delete("/me/tokens/{id}")]
pub async fn delete_token(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    caller.0.require_session()?;
    let user_id = caller.0.user_id;
    let id = id.into_inner();
    let now = state.clock.now();
    state
        .db
        .write(move |conn| accounts::revoke_token(conn, user_id, id, now))
        .await?;
    state.token_cache.forget_user(user_id);
    Ok(HttpResponse::NoContent().finish())
}
