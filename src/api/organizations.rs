//! Applicant organizations and their members.

use actix_web::http::{header, StatusCode};
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::etag;
use crate::api::extract::{Caller, PageQuery, Paginated};
use crate::api::idempotency::{self, Reply};
use crate::api::input::{Check, Input, Patch};
use crate::auth::permissions::{MemberRole, Scope};
use crate::db::types::{Ts, Uid};
use crate::domain::identifiers::{InseeCode, InvalidValue, PhoneNumber, Postcode, Siren, Siret};
use crate::domain::organization::{self, Identity, OrganizationKind};
use crate::error::{Error, FieldError, Problem};
use crate::service::organizations as use_case;
use crate::state::AppState;
use crate::store::organizations::{self, Organization};

/// An organization, with the caller's role in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationView {
    pub id: Uuid,
    /// `startup`, `company`, `territory` or `association`.
    pub kind: String,
    pub legal_name: String,
    pub siret: Option<String>,
    pub siren: Option<String>,
    pub insee_code: Option<String>,
    pub postcode: String,
    pub city: String,
    pub website: Option<String>,
    /// E.164, such as `+33450530024`.
    pub phone: Option<String>,
    pub version: i32,
    /// The caller's role (`owner` or `member`); null for an administrator who is not a member.
    pub my_role: Option<MemberRole>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrganizationView {
    fn new(org: Organization, my_role: Option<MemberRole>) -> Self {
        OrganizationView {
            id: *org.id,
            kind: org.kind,
            legal_name: org.legal_name,
            siret: org.siret,
            siren: org.siren,
            insee_code: org.insee_code,
            postcode: org.postcode,
            city: org.city,
            website: org.website,
            phone: org.phone,
            version: org.version,
            my_role,
            created_at: org.created_at.0,
            updated_at: org.updated_at.0,
        }
    }
}

/// `POST /organizations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganization {
    /// `startup`, `company`, `territory` or `association`.
    #[schema(required = true)]
    pub kind: Option<String>,
    #[schema(required = true)]
    pub legal_name: Option<String>,
    /// 14 digits; required for start-ups and companies.
    pub siret: Option<String>,
    /// 9 digits; a territory gives a SIREN or an INSEE code.
    pub siren: Option<String>,
    pub insee_code: Option<String>,
    #[schema(required = true)]
    pub postcode: Option<String>,
    #[schema(required = true)]
    pub city: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
}

fn legal_name(raw: &str) -> Result<String, InvalidValue> {
    organization::text(raw, 200)
}

fn city(raw: &str) -> Result<String, InvalidValue> {
    organization::text(raw, 100)
}

fn identity(
    check: &mut Check,
    kind: OrganizationKind,
    siret: Option<Siret>,
    siren: Option<Siren>,
    insee: Option<InseeCode>,
) -> Option<Identity> {
    match Identity::check(kind, siret, siren, insee) {
        Ok(identity) => Some(identity),
        Err(errors) => {
            for (field, err) in errors {
                check.push(FieldError::invalid(field, err));
            }
            None
        }
    }
}

/// Creates an organization; the caller becomes its owner.
#[utoipa::path(
    operation_id = "createOrganization",
    tag = "organizations",
    request_body = CreateOrganization,
    responses(
        (status = 201, body = OrganizationView), (status = 401, body = Problem),
        (status = 409, description = "This SIRET (or SIREN) is already registered (`code`: `organization_exists`)", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/organizations")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    input: Input<CreateOrganization>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_scope(Scope::ApplicationsWrite)?;
    let body_hash = input.body_hash.clone();
    idempotency::once(&state, &req, caller.user_id, &body_hash, || {
        create_organization(&state, caller.user_id, input)
    })
    .await
}

async fn create_organization(
    state: &AppState,
    user_id: Uuid,
    input: Input<CreateOrganization>,
) -> Result<Reply, Error> {
    let (body, mut check) = input.into_parts();
    let kind = check.required("kind", body.kind.as_deref(), OrganizationKind::parse);
    let legal_name = check.required("legal_name", body.legal_name.as_deref(), legal_name);
    let siret = check.optional("siret", body.siret.as_deref(), Siret::parse);
    let siren = check.optional("siren", body.siren.as_deref(), Siren::parse);
    let insee = check.optional("insee_code", body.insee_code.as_deref(), InseeCode::parse);
    let postcode = check.required("postcode", body.postcode.as_deref(), Postcode::parse);
    let city = check.required("city", body.city.as_deref(), city);
    let website = check.optional("website", body.website.as_deref(), organization::website);
    let phone = check.optional("phone", body.phone.as_deref(), PhoneNumber::parse);
    let identity = match kind {
        Some(kind)
            if !check.failed("siret") && !check.failed("siren") && !check.failed("insee_code") =>
        {
            identity(&mut check, kind, siret, siren, insee)
        }
        _ => None,
    };
    let (Some(kind), Some(legal_name), Some(postcode), Some(city), Some(identity)) =
        (kind, legal_name, postcode, city, identity)
    else {
        return Err(check.into_error());
    };
    check.finish()?;

    let now = state.clock.now();
    let org = Organization {
        id: Uid(Uuid::now_v7()),
        kind: kind.as_str().into(),
        legal_name,
        siret: identity.siret.map(|s| s.as_str().to_owned()),
        siren: identity.siren.map(|s| s.as_str().to_owned()),
        insee_code: identity.insee_code.map(|s| s.as_str().to_owned()),
        postcode: postcode.as_str().into(),
        city,
        website,
        phone: phone.map(|p| p.as_str().to_owned()),
        version: 1,
        created_at: Ts(now),
        updated_at: Ts(now),
    };
    let created = org.clone();
    state
        .db
        .write(move |conn| use_case::create(conn, user_id, &org, now))
        .await?;
    let etag = etag::of_version(created.version);
    Ok(Reply::json(
        StatusCode::CREATED,
        OrganizationView::new(created, Some(MemberRole::Owner)),
    )?
    .with_etag(etag))
}

/// Reads an organization: members and administrators only (404 for anyone else).
#[utoipa::path(
    operation_id = "getOrganization",
    tag = "organizations",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = OrganizationView, headers(("ETag" = String))), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/organizations/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    let id = id.into_inner();
    let (org, role) = state
        .db
        .read(move |conn| use_case::load_readable(conn, &caller, id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::of_version(org.version)))
        .json(OrganizationView::new(org, role)))
}

/// `PATCH /organizations/{id}`: the fields to change; `null` clears an optional one. The kind is fixed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganization {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub legal_name: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub siret: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub siren: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub insee_code: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub postcode: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub city: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub website: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub phone: Patch<String>,
}

/// Changes an organization: owners and administrators, with `If-Match` from the last read.
#[utoipa::path(
    operation_id = "updateOrganization",
    tag = "organizations",
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "The ETag of the last read")),
    request_body = UpdateOrganization,
    responses(
        (status = 200, body = OrganizationView, headers(("ETag" = String))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "This SIRET (or SIREN) is already registered (`code`: `organization_exists`)", body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/organizations/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    input: Input<UpdateOrganization>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    let id = id.into_inner();
    let if_match = etag::if_match(&req);
    let now = state.clock.now();
    let (body, check) = input.into_parts();
    let state_for_tx = state.clone();
    let change = move |before: &Organization| {
        etag::check(&if_match?, before.version)?;
        apply_update(before, body, check, now)
    };
    let (org, role) = state
        .db
        .write(move |conn| use_case::update(conn, &state_for_tx, &caller, id, change, now))
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::of_version(org.version)))
        .json(OrganizationView::new(org, role)))
}

/// The organization after the change, checked as a whole (every failing field listed).
fn apply_update(
    before: &Organization,
    body: UpdateOrganization,
    mut check: Check,
    now: DateTime<Utc>,
) -> Result<Organization, Error> {
    let kind = OrganizationKind::parse(&before.kind)
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored kind: {e}")))?;
    let legal_name = kept(&mut check, "legal_name", body.legal_name, legal_name);
    let postcode = kept(&mut check, "postcode", body.postcode, Postcode::parse);
    let city = kept(&mut check, "city", body.city, city);
    let siret = nullable(
        &mut check,
        "siret",
        body.siret,
        before.siret.as_deref(),
        Siret::parse,
    );
    let siren_given = body.siren.is_sent();
    let siren = nullable(
        &mut check,
        "siren",
        body.siren,
        before.siren.as_deref(),
        Siren::parse,
    );
    let insee = nullable(
        &mut check,
        "insee_code",
        body.insee_code,
        before.insee_code.as_deref(),
        InseeCode::parse,
    );
    let website = nullable(
        &mut check,
        "website",
        body.website,
        before.website.as_deref(),
        organization::website,
    );
    let phone = nullable(
        &mut check,
        "phone",
        body.phone,
        before.phone.as_deref(),
        PhoneNumber::parse,
    );
    let identity = if check.failed("siret") || check.failed("siren") || check.failed("insee_code") {
        None
    } else {
        let siret = siret.clone().flatten();
        // A stored SIREN derived from an old SIRET follows the new SIRET unless the SIREN is given too.
        let siren = if siren_given {
            siren.clone().flatten()
        } else {
            siret.as_ref().map(Siret::siren).or(siren.clone().flatten())
        };
        identity(&mut check, kind, siret, siren, insee.clone().flatten())
    };
    let (Some(identity), Some(website), Some(phone)) = (identity, website, phone) else {
        return Err(check.into_error());
    };
    check.finish()?;
    Ok(Organization {
        id: before.id,
        kind: before.kind.clone(),
        legal_name: legal_name.unwrap_or_else(|| before.legal_name.clone()),
        siret: identity.siret.map(|s| s.as_str().to_owned()),
        siren: identity.siren.map(|s| s.as_str().to_owned()),
        insee_code: identity.insee_code.map(|s| s.as_str().to_owned()),
        postcode: postcode
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| before.postcode.clone()),
        city: city.unwrap_or_else(|| before.city.clone()),
        website: website.map(|w| w.to_owned()),
        phone: phone.map(|p| p.as_str().to_owned()),
        version: before.version + 1,
        created_at: before.created_at,
        updated_at: Ts(now),
    })
}

/// A required field in a PATCH: absent keeps the stored value (`None`), null is refused, a value is parsed.
fn kept<T>(
    check: &mut Check,
    field: &str,
    raw: Patch<String>,
    parse: impl FnOnce(&str) -> Result<T, InvalidValue>,
) -> Option<T> {
    match raw {
        Patch::Keep => None,
        Patch::Clear => {
            check.push(FieldError::new(
                field,
                "required",
                "this field cannot be cleared",
            ));
            None
        }
        Patch::Set(raw) => check.optional(field, Some(raw.as_str()), parse),
    }
}

/// A nullable field after a PATCH: absent keeps the stored value, null clears, a value is parsed.
/// `None` when the given value fails (noted in `check`).
fn nullable<T>(
    check: &mut Check,
    field: &str,
    raw: Patch<String>,
    stored: Option<&str>,
    parse: impl Fn(&str) -> Result<T, InvalidValue>,
) -> Option<Option<T>> {
    match raw {
        Patch::Keep => match stored.map(&parse) {
            None => Some(None),
            Some(Ok(value)) => Some(Some(value)),
            Some(Err(err)) => {
                check.push(FieldError::invalid(field, err));
                None
            }
        },
        Patch::Clear => Some(None),
        Patch::Set(raw) => check.optional(field, Some(raw.as_str()), parse).map(Some),
    }
}

/// The organizations the caller belongs to.
#[utoipa::path(
    operation_id = "listMyOrganizations",
    tag = "organizations",
    params(PageQuery),
    responses((status = 200, body = Paginated<OrganizationView>), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/me/organizations")]
pub async fn list_mine(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    caller.0.require_scope(Scope::ApplicationsRead)?;
    let page = query.page()?;
    let user_id = caller.0.user_id;
    let rows = state
        .db
        .read(move |conn| {
            Ok(organizations::list_for_user(
                conn,
                user_id,
                page.after,
                page.limit + 1,
            )?)
        })
        .await?;
    let views: Vec<OrganizationView> = rows
        .into_iter()
        .map(|(org, role)| OrganizationView::new(org, Some(role)))
        .collect();
    Ok(HttpResponse::Ok().json(Paginated::from_rows(views, page, |o| o.id)))
}
