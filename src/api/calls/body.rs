//! The bodies that create and change a call, and how they become a stored call: fields left out of a
//! creation come from its template, fields left out of a change keep their stored value, and the whole
//! definition is checked at once so that one 422 lists every problem.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::input::{nested, Check, Patch};
use crate::db::types::{Json, Ts, Uid};
use crate::domain::call::{self, CallKind, CallStatus, Definition};
use crate::domain::catalogue::Catalogue;
use crate::domain::edition;
use crate::domain::finalists::{parse_changes_due_days, DEFAULT_CHANGES_DUE_DAYS};
use crate::domain::form::{builtin_template, CallTemplate, Form, Stage, Text};
use crate::error::{Error, FieldError};
use crate::store::calls::{stored, template_kind, Call};

/// `POST /calls`: fields left out come from the template.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCall {
    /// `alpes-tourisme-lab`, `experimentation-montagne` or `ami-jeux-2030`.
    pub template: Option<String>,
    #[schema(required = true)]
    pub slug: Option<String>,
    pub kind: Option<String>,
    pub reference_prefix: Option<String>,
    #[schema(value_type = Option<Text>)]
    pub title: Option<Value>,
    #[schema(value_type = Option<Text>)]
    pub summary: Option<Value>,
    #[schema(required = true)]
    pub opens_at: Option<String>,
    #[schema(required = true)]
    pub closes_at: Option<String>,
    /// IANA time zone; `Europe/Paris` by default.
    pub timezone: Option<String>,
    pub eligible_kinds: Option<Vec<String>>,
    #[schema(value_type = Option<Form>)]
    pub form: Option<Value>,
    /// The stages of weighted criteria; `[]` for an expression of interest (no jury scoring).
    #[schema(value_type = Option<Vec<Stage>>)]
    pub stages: Option<Value>,
    /// The edition's year, in references (`ATL-2027-0001`); by default the year the call opens, in its time
    /// zone. No other call may have the same reference prefix and edition (409 `edition_taken`).
    #[schema(minimum = 1000, maximum = 9999)]
    pub edition: Option<i64>,
    /// What the call may publish of retained applications in its public catalogue.
    #[schema(value_type = Option<Catalogue>)]
    pub catalogue: Option<Value>,
    /// How many of the call's jurors must be present to close a jury meeting (1 to 1000); left out or
    /// `null`: a majority of the jurors.
    #[schema(minimum = 1, maximum = 1000)]
    pub quorum: Option<i64>,
    /// How many days (1 to 365) after a decision is told its applicant may appeal it; left out or `null`:
    /// the call takes no appeals.
    #[schema(minimum = 1, maximum = 365)]
    pub appeal_window_days: Option<i64>,
    /// The days applicants have to make the changes screening asks for when staff give no due date: 1 to
    /// 90, 14 by default.
    #[schema(minimum = 1, maximum = 90)]
    pub changes_due_days: Option<i64>,
}

/// `PATCH /calls/{id}`: the fields to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCall {
    pub slug: Option<String>,
    pub reference_prefix: Option<String>,
    /// The edition's year; frozen, like the prefix, once references were given.
    #[schema(minimum = 1000, maximum = 9999)]
    pub edition: Option<i64>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    pub title: Patch<Value>,
    /// `null` removes the summary.
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    pub summary: Patch<Value>,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub timezone: Option<String>,
    pub eligible_kinds: Option<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<Form>)]
    pub form: Patch<Value>,
    /// Once an application is submitted, only the stages' dates and extra documents may change.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Stage>>)]
    pub stages: Patch<Value>,
    /// How many of the call's jurors must be present to close a jury meeting (1 to 1000); `null`: a majority
    /// of the jurors.
    #[serde(default)]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    pub quorum: Patch<i64>,
    /// Days (1 to 365) to appeal a decision once told; `null` stops appeals (an appeal already filed stays).
    #[serde(default)]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 365)]
    pub appeal_window_days: Patch<i64>,
    /// 1 to 90.
    #[schema(minimum = 1, maximum = 90)]
    pub changes_due_days: Option<i64>,
}

/// The prefix of references when neither the body nor a template gives one: the slug's first letters.
fn default_prefix(slug: &str) -> String {
    let letters: String = slug
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .take(3)
        .collect();
    if letters.len() >= 2 {
        letters.to_ascii_uppercase()
    } else {
        "APP".into()
    }
}

/// Takes a nested value from the body, else from the template; `required` notes it missing otherwise.
fn from_body_or<T: serde::de::DeserializeOwned>(
    check: &mut Check,
    field: &str,
    body: Option<Value>,
    template: Option<T>,
    required: bool,
) -> Option<T> {
    match body {
        Some(value) => nested(check, field, value),
        None if template.is_none() && required => {
            check.push(FieldError::new(
                field,
                "required",
                "this field is required without a template",
            ));
            None
        }
        None => template,
    }
}

/// The named template, noting an unknown name.
fn template_named(check: &mut Check, name: Option<&str>) -> Option<CallTemplate> {
    let found = builtin_template(name?);
    if found.is_none() {
        check.push(FieldError::new(
            "template",
            "unknown_template",
            "no such call template",
        ));
    }
    found
}

/// The parts of a call's definition a creation gives or takes from its template.
struct Parts {
    kind: Option<CallKind>,
    title: Option<Text>,
    summary: Option<Text>,
    opens_at: Option<DateTime<Utc>>,
    closes_at: Option<DateTime<Utc>>,
    timezone: Option<String>,
    form: Option<Form>,
    stages: Option<Vec<Stage>>,
    catalogue: Option<Catalogue>,
}

impl CreateCall {
    /// The draft call this body creates, by `created_by` at `now`; a 422 listing every problem otherwise.
    pub fn into_call(
        mut self,
        mut check: Check,
        created_by: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Call, Error> {
        let template = template_named(&mut check, self.template.as_deref());
        let t = template.as_ref();
        let slug = check.required("slug", self.slug.as_deref(), call::parse_slug);
        let parts = self.parts(&mut check, t)?;
        let prefix = match self.reference_prefix.as_deref() {
            Some(raw) => {
                check.optional("reference_prefix", Some(raw), call::parse_reference_prefix)
            }
            None => t
                .map(|t| t.reference_prefix.clone())
                .or_else(|| slug.as_deref().map(default_prefix)),
        };
        let edition = check.optional("edition", self.edition, edition::parse_edition);
        let quorum = check.optional("quorum", self.quorum, call::parse_quorum);
        let appeal_window_days = check.optional(
            "appeal_window_days",
            self.appeal_window_days,
            call::parse_appeal_window,
        );
        let changes_due_days = check.optional(
            "changes_due_days",
            self.changes_due_days,
            parse_changes_due_days,
        );
        let definition = parts.definition(&mut check, self.eligible_kinds, t);
        let (Some(slug), Some(kind), Some(timezone), Some(prefix), Some(definition)) =
            (slug, parts.kind, parts.timezone, prefix, definition)
        else {
            return Err(check.into_error());
        };
        check.finish()?;
        let tz: chrono_tz::Tz = timezone.parse().unwrap_or(chrono_tz::Europe::Paris);
        let edition = edition.unwrap_or_else(|| edition::edition_of(definition.opens_at, tz));
        Ok(Call {
            id: Uid(Uuid::now_v7()),
            slug,
            template: template.map(|t| t.template),
            kind,
            reference_prefix: prefix,
            title: Json(json!(definition.title)),
            summary: definition.summary.as_ref().map(|s| Json(json!(s))),
            opens_at: Ts(definition.opens_at),
            closes_at: Ts(definition.closes_at),
            timezone,
            eligible_kinds: Json(json!(definition.eligible_kinds)),
            form: Json(json!(definition.form)),
            stages: Json(json!(definition.stages)),
            status: CallStatus::Draft,
            form_frozen_at: None,
            next_reference: 1,
            version: 1,
            created_by: Some(Uid(created_by)),
            created_at: Ts(now),
            updated_at: Ts(now),
            edition,
            previous_edition_id: None,
            catalogue: definition.catalogue.as_ref().map(|c| Json(json!(c))),
            quorum,
            appeal_window_days,
            changes_due_days: changes_due_days.unwrap_or(DEFAULT_CHANGES_DUE_DAYS),
        })
    }

    /// The kind, time zone and definition parts, from the body or the template `t`, in the order of the
    /// fields' problems in a 422.
    fn parts(&mut self, check: &mut Check, t: Option<&CallTemplate>) -> Result<Parts, Error> {
        // A named but unknown template already failed: its fields are not also "required without a template".
        let needs = self.template.is_none();
        let kind = match (self.kind.as_deref(), t) {
            (Some(raw), _) => check.optional("kind", Some(raw), call::parse_kind),
            (None, Some(t)) => Some(template_kind(t)?),
            (None, None) if needs => check.required("kind", None::<&str>, call::parse_kind),
            (None, None) => None,
        };
        let title = t.map(|t| t.title.clone());
        let title = from_body_or(check, "title", self.title.take(), title, needs);
        let summary = t.map(|t| t.summary.clone());
        let summary = from_body_or(check, "summary", self.summary.take(), summary, false);
        let opens_at = check.required("opens_at", self.opens_at.as_deref(), call::parse_instant);
        let closes_at = check.required("closes_at", self.closes_at.as_deref(), call::parse_instant);
        let timezone = match self.timezone.as_deref() {
            Some(raw) => check.optional("timezone", Some(raw), call::parse_timezone),
            None => Some(t.map_or_else(|| "Europe/Paris".to_owned(), |t| t.timezone.clone())),
        };
        let form = t.map(|t| t.form.clone());
        let form = from_body_or(check, "form", self.form.take(), form, needs);
        let stages = t.map(|t| t.stages.clone());
        let stages = from_body_or(check, "stages", self.stages.take(), stages, needs);
        let catalogue = t.and_then(|t| t.catalogue.clone());
        let catalogue = from_body_or(check, "catalogue", self.catalogue.take(), catalogue, false);
        Ok(Parts {
            kind,
            title,
            summary,
            opens_at,
            closes_at,
            timezone,
            form,
            stages,
            catalogue,
        })
    }
}

impl Parts {
    /// The definition once its own parts parsed, checked as a whole (its problems noted): the eligible
    /// kinds come from the body, else the template, else the call's kind.
    fn definition(
        &self,
        check: &mut Check,
        eligible_kinds: Option<Vec<String>>,
        t: Option<&CallTemplate>,
    ) -> Option<Definition> {
        let (Some(kind), Some(title), Some(opens_at), Some(closes_at), Some(form), Some(stages)) = (
            self.kind,
            &self.title,
            self.opens_at,
            self.closes_at,
            &self.form,
            &self.stages,
        ) else {
            return None;
        };
        let definition = Definition {
            kind,
            title: title.clone(),
            summary: self.summary.clone(),
            opens_at,
            closes_at,
            eligible_kinds: eligible_kinds
                .or_else(|| t.map(|t| t.eligible_kinds.clone()))
                .unwrap_or_else(|| kind.default_eligible()),
            form: form.clone(),
            stages: stages.clone(),
            catalogue: self.catalogue.clone(),
        };
        definition.check().into_iter().for_each(|e| check.push(e));
        Some(definition)
    }
}

/// A required part of a call in a PATCH: absent keeps it, `null` is refused, a value is decoded.
fn kept<T: serde::de::DeserializeOwned>(
    check: &mut Check,
    field: &str,
    patch: Patch<Value>,
) -> Option<T> {
    match patch {
        Patch::Keep => None,
        Patch::Clear => {
            check.push(FieldError::new(
                field,
                "required",
                "this part of a call cannot be removed",
            ));
            None
        }
        Patch::Set(value) => nested(check, field, value),
    }
}

/// A stored part of a call unless the change gives a new one.
fn or_stored<T: serde::de::DeserializeOwned>(
    new: Option<T>,
    stored_value: &Json,
) -> Result<T, Error> {
    match new {
        Some(value) => Ok(value),
        None => stored(stored_value),
    }
}

impl UpdateCall {
    /// Whether the change touches what freezes once an application is submitted: the form, the
    /// eligibility. A change of the stages is judged on what it changes (`service::calls::update`): their
    /// criteria freeze, their dates and extra documents do not.
    pub fn touches_definition(&self) -> bool {
        self.form.is_sent() || self.eligible_kinds.is_some()
    }

    /// The call `before` with this change, at `now`; a 422 listing every problem otherwise.
    pub fn apply(self, before: &Call, mut check: Check, now: DateTime<Utc>) -> Result<Call, Error> {
        let slug = check.optional("slug", self.slug.as_deref(), call::parse_slug);
        let prefix = check.optional(
            "reference_prefix",
            self.reference_prefix.as_deref(),
            call::parse_reference_prefix,
        );
        if prefix.is_some() && before.next_reference > 1 {
            check.push(FieldError::new(
                "reference_prefix",
                "frozen",
                "references were already given with the current prefix",
            ));
        }
        let edition = check.optional("edition", self.edition, edition::parse_edition);
        if edition.is_some_and(|e| e != before.edition) && before.next_reference > 1 {
            check.push(FieldError::new(
                "edition",
                "frozen",
                "references were already given with the current edition",
            ));
        }
        let title: Option<Text> = kept(&mut check, "title", self.title);
        let summary: Option<Option<Text>> = match self.summary {
            Patch::Keep => None,
            Patch::Clear => Some(None),
            Patch::Set(v) => nested(&mut check, "summary", v).map(Some),
        };
        let opens_at = check.optional("opens_at", self.opens_at.as_deref(), call::parse_instant);
        let closes_at = check.optional("closes_at", self.closes_at.as_deref(), call::parse_instant);
        let timezone = check.optional("timezone", self.timezone.as_deref(), call::parse_timezone);
        let quorum = match self.quorum {
            Patch::Keep => Some(before.quorum),
            Patch::Clear => Some(None),
            Patch::Set(raw) => check
                .optional("quorum", Some(raw), call::parse_quorum)
                .map(Some),
        };
        let appeal_window_days = match self.appeal_window_days {
            Patch::Keep => before.appeal_window_days,
            Patch::Clear => None,
            Patch::Set(days) => {
                check.optional("appeal_window_days", Some(days), call::parse_appeal_window)
            }
        };
        let form: Option<Form> = kept(&mut check, "form", self.form);
        let stages: Option<Vec<Stage>> = kept(&mut check, "stages", self.stages);
        let changes_due_days = check.optional(
            "changes_due_days",
            self.changes_due_days,
            parse_changes_due_days,
        );
        let definition = Definition {
            kind: before.kind,
            title: or_stored(title, &before.title)?,
            summary: match summary {
                Some(s) => s,
                None => before.summary.as_ref().map(stored).transpose()?,
            },
            opens_at: opens_at.unwrap_or(before.opens_at.0),
            closes_at: closes_at.unwrap_or(before.closes_at.0),
            eligible_kinds: or_stored(self.eligible_kinds, &before.eligible_kinds)?,
            form: or_stored(form, &before.form)?,
            stages: or_stored(stages, &before.stages)?,
            catalogue: before.catalogue()?,
        };
        definition.check().into_iter().for_each(|e| check.push(e));
        check.finish()?;
        Ok(Call {
            slug: slug.unwrap_or_else(|| before.slug.clone()),
            reference_prefix: prefix.unwrap_or_else(|| before.reference_prefix.clone()),
            edition: edition.unwrap_or(before.edition),
            title: Json(json!(definition.title)),
            summary: definition.summary.as_ref().map(|s| Json(json!(s))),
            opens_at: Ts(definition.opens_at),
            closes_at: Ts(definition.closes_at),
            timezone: timezone.unwrap_or_else(|| before.timezone.clone()),
            eligible_kinds: Json(json!(definition.eligible_kinds)),
            form: Json(json!(definition.form)),
            stages: Json(json!(definition.stages)),
            quorum: quorum.unwrap_or(before.quorum),
            appeal_window_days,
            changes_due_days: changes_due_days.unwrap_or(before.changes_due_days),
            version: before.version + 1,
            updated_at: Ts(now),
            ..before.clone()
        })
    }
}
