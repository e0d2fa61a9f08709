//! Creating, changing and publishing calls: the slug stays unique, a change is made against the version the
//! client read (`If-Match`), the form, criteria and eligibility freeze once an application is submitted, and
//! only a draft is published. Each change is journalled (audit log, and the feed for creation and
//! publication) in the caller's transaction.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::auth::permissions::Principal;
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::call::CallStatus;
use crate::domain::form::same_grids;
use crate::domain::refusal::Refusal;
use crate::domain::version as etag;
use crate::error::Error;
use crate::store::calls::{self, Call};
use crate::store::journal::{Entity, Feed, Happened};

/// 422 when another call than `except` already uses `slug`.
pub fn slug_is_free(conn: &mut DbConn, slug: &str, except: Option<Uuid>) -> Result<(), Error> {
    if calls::slug_taken(conn, slug, except)? {
        return Err(Error::field("slug", "taken", "another call uses this slug"));
    }
    Ok(())
}

/// 409 `edition_taken` when another call than `except` already has this reference prefix and edition (their
/// references would repeat), naming that call.
pub fn edition_is_free(
    conn: &mut DbConn,
    prefix: &str,
    edition: i32,
    except: Option<Uuid>,
) -> Result<(), Error> {
    match calls::edition_holder(conn, prefix, edition, except)? {
        Some(other) => Err(Refusal::EditionTaken {
            prefix: prefix.to_owned(),
            edition,
            other,
        }
        .into()),
        None => Ok(()),
    }
}

/// Stores a new draft call built by the caller, unless its slug (422) or its reference prefix and edition
/// (409) are taken, and returns it.
pub fn create(
    conn: &mut DbConn,
    actor: &Principal,
    call: Call,
    now: DateTime<Utc>,
) -> Result<Call, Error> {
    slug_is_free(conn, &call.slug, None)?;
    edition_is_free(conn, &call.reference_prefix, call.edition, None)?;
    calls::insert(conn, &call)?;
    Happened::new(Action::CallCreated, Some(actor.user_id), Entity::Call(*call.id))
        .after(json!({"slug": call.slug, "template": call.template, "edition": call.edition, "opens_at": call.opens_at, "closes_at": call.closes_at}))
        .on_feed(Feed::call(*call.id, json!({"slug": call.slug, "status": call.status})))
        .record(conn, now)?;
    Ok(call)
}

/// What a change to a call touches, and how it is made from the stored call.
pub struct CallEdit<F> {
    /// The client's `If-Match`: the version it read.
    pub if_match: String,
    /// Whether it changes the form or the eligibility (frozen once an application is submitted; the
    /// stages' criteria are compared once the change is applied).
    pub touches_definition: bool,
    /// The changed call from the stored one (its 422 when the change is invalid).
    pub apply: F,
}

/// Changes call `id`: 404 when there is none, 412 when it changed since the client read it, 409
/// `form_frozen` when the change touches a frozen definition, 422 when the slug is taken, 409 `edition_taken`
/// when another call has the new reference prefix and edition.
pub fn update<F>(
    conn: &mut DbConn,
    actor: &Principal,
    id: Uuid,
    edit: CallEdit<F>,
    now: DateTime<Utc>,
) -> Result<Call, Error>
where
    F: FnOnce(&Call) -> Result<Call, Error>,
{
    let before = calls::find(conn, id)
        .context("loading the call to change")?
        .ok_or(Error::NotFound)?;
    etag::check(&edit.if_match, before.version)?;
    if edit.touches_definition && before.form_frozen_at.is_some() {
        return Err(Refusal::FormFrozen.into());
    }
    let after = (edit.apply)(&before)?;
    if before.form_frozen_at.is_some() && !same_grids(&before.stages()?, &after.stages()?) {
        return Err(Refusal::FormFrozen.into());
    }
    if after.slug != before.slug {
        slug_is_free(conn, &after.slug, Some(id))?;
    }
    if (&after.reference_prefix, after.edition) != (&before.reference_prefix, before.edition) {
        edition_is_free(conn, &after.reference_prefix, after.edition, Some(id))?;
    }
    if !calls::update(conn, &after, before.version)? {
        return Err(Error::PreconditionFailed);
    }
    // Criteria or weights freeze with the first submitted application, so reviews rarely exist here; if some
    // do, the call's ranking tallies follow the new grid.
    if !same_grids(&before.stages()?, &after.stages()?) {
        crate::store::ranking_tallies::rebuild_call(conn, id)?;
    }
    Happened::new(Action::CallUpdated, Some(actor.user_id), Entity::Call(id))
        .before(serde_json::to_value(&before).map_err(anyhow::Error::from)?)
        .after(serde_json::to_value(&after).map_err(anyhow::Error::from)?)
        .record(conn, now)?;
    Ok(after)
}

/// Publishes draft call `id` (404 when there is none, 409 `call_not_draft` otherwise, also when a concurrent
/// publication came first) and returns it published.
pub fn publish(
    conn: &mut DbConn,
    actor: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Call, Error> {
    let before = calls::find(conn, id)
        .context("loading the call to publish")?
        .ok_or(Error::NotFound)?;
    let published = before.status.publish()?;
    if !calls::set_status(conn, id, before.status, published, now)? {
        return Err(Refusal::CallNotDraft.into());
    }
    Happened::new(Action::CallPublished, Some(actor.user_id), Entity::Call(id))
        .before(json!({"status": CallStatus::Draft}))
        .after(json!({"status": published}))
        .on_feed(Feed::call(id, json!({"status": published})))
        .record(conn, now)?;
    calls::find(conn, id)
        .context("reading the published call")?
        .ok_or(Error::NotFound)
}
