//! The deliberation view as a use case: load the stage's ranking through the one code path every ranking
//! takes ([`reviews::stage_ranking`]), add the organizations' names, the jury and the last shortlist, and
//! derive the figures ([`crate::domain::deliberation::derive`]). The page (`deliberation/page.rs`) and its
//! charts (`deliberation/charts.rs`) are drawn from these figures alone, the JSON twin is these figures.
//!
//! Other views may embed the ranking chart: [`figures`] then [`charts::ranking_charts`], or the
//! `ranking` macro of `templates/deliberation/charts.html`.

pub mod charts;
pub mod page;

use std::collections::HashMap;

use anyhow::Context;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::permissions::{can_read_deliberation, Principal};
use crate::db::DbConn;
use crate::domain::deliberation::profile::{LEAN_POINTS, MIN_REVIEWS, NARROW_RANGE, NARROW_STDDEV};
use crate::domain::deliberation::{derive, CriterionInput, Figures, Input, Ranked};
use crate::error::Error;
use crate::notify::applications::localized;
use crate::service::reviews::{self, DISAGREEMENT_THRESHOLD};
use crate::service::staff::load_call_access;
use crate::store::{calls, deliberation, jurors, users};

/// Whether the view names the jurors beside their `J1`…`Jn` labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JurorNames {
    /// `J1`…`Jn` only (the default).
    #[default]
    Anonymous,
    /// Their names too, for administrators and the call's managers (an observer still sees labels only).
    Named,
}

/// What the caller asked to see.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The stage (the first one by default).
    pub stage: Option<String>,
    /// Jurors named or not.
    pub jurors: JurorNames,
    /// Where to draw the line when no shortlist to the next stage exists.
    pub line: Option<usize>,
    /// `fr` or `en`; the caller's own language by default.
    pub lang: Option<&'static str>,
}

/// The stage the view is about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StageHeading {
    pub key: String,
    /// Its name, in the view's language.
    pub label: String,
}

/// The thresholds the view applies, so that the page's legend and any reader of the JSON agree with it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Thresholds {
    /// An application's jurors disagree above this standard deviation (0–100).
    pub disagreement_stddev: f64,
    /// A juror scores high (low) from this many points above (below) the jury's mean.
    pub lean_points: f64,
    /// A juror does not use the scale under this standard deviation…
    pub narrow_stddev: f64,
    /// …or under this range.
    pub narrow_range: f64,
    /// Fewer reviews give a juror no tendency.
    pub min_reviews: usize,
}

/// The deliberation view of a stage: what the page shows, number for number.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Deliberation {
    pub call_id: Uuid,
    /// The call's title, in the view's language.
    pub call_title: String,
    pub stage: StageHeading,
    /// `fr` or `en`.
    pub lang: String,
    /// Whether jurors are named.
    pub jurors_named: bool,
    pub thresholds: Thresholds,
    #[serde(flatten)]
    pub figures: Figures,
}

/// The deliberation view of a stage of call `call_id`, for `caller` ([`can_read_deliberation`]: 404 for
/// whoever may not read the call's ranking; jurors named only if asked and allowed). Same errors as the
/// ranking: 409 for a call without a jury, 422 `unknown_stage`.
pub fn figures(
    conn: &mut DbConn,
    caller: &Principal,
    call_id: Uuid,
    options: &Options,
) -> Result<Deliberation, Error> {
    let call = calls::find(conn, call_id)?.ok_or(Error::NotFound)?;
    let access = can_read_deliberation(caller, &load_call_access(conn, caller, call_id)?)?;
    let lang = match options.lang {
        Some(lang) => lang,
        None => match users::find(conn, caller.user_id)?.map(|u| u.locale) {
            Some(locale) if locale.starts_with("en") => "en",
            _ => "fr",
        },
    };
    let stage_ranking = reviews::stage_ranking(conn, call_id, options.stage.as_deref())?;
    let mut names = deliberation::organization_names(conn, call_id)
        .context("loading the organizations' names")?;
    let shortlist = match &stage_ranking.next_stage {
        Some(next) => deliberation::last_shortlist(conn, call_id, next)
            .context("loading the last shortlist")?,
        None => None,
    };
    let jury = jurors::jurors(conn, call_id).context("loading the jury")?;
    let ranking: Vec<Ranked> = stage_ranking
        .ranking
        .into_iter()
        .map(|(line, reference)| Ranked {
            organization: names.remove(&line.application),
            reference,
            line,
        })
        .collect();
    let criteria: Vec<CriterionInput> = stage_ranking
        .stage
        .criteria
        .iter()
        .map(|c| CriterionInput {
            key: c.key.clone(),
            label: localized(&c.label, lang),
            weight: c.weight,
            min: c.min,
            max: c.max,
        })
        .collect();
    let jury_ids: Vec<Uuid> = jury.iter().map(|j| j.user_id.0).collect();
    let mut figures = derive(&Input {
        call_id,
        ranking: &ranking,
        reviews: &stage_ranking.reviews,
        conflicts: &stage_ranking.conflicted,
        jury: &jury_ids,
        criteria: &criteria,
        shortlist: shortlist.as_ref(),
        requested_line: options.line,
    });
    let named = options.jurors == JurorNames::Named && access.juror_names;
    if named {
        let mut known: HashMap<Uuid, String> = jury
            .into_iter()
            .map(|j| (j.user_id.0, j.display_name))
            .collect();
        for (juror, id) in figures.jurors.iter_mut().zip(&figures.juror_ids) {
            let name = match known.remove(id) {
                Some(name) => Some(name),
                // A juror who left the jury: their reviews still count, their account may be gone.
                None => users::find(conn, *id)?.map(|u| u.display_name),
            };
            juror.user_id = Some(*id);
            juror.name = name;
        }
    }
    Ok(Deliberation {
        call_id,
        call_title: localized(&call.title_text(), lang),
        stage: StageHeading {
            key: stage_ranking.stage.key.clone(),
            label: localized(&stage_ranking.stage.label, lang),
        },
        lang: lang.to_owned(),
        jurors_named: named,
        thresholds: Thresholds {
            disagreement_stddev: DISAGREEMENT_THRESHOLD,
            lean_points: LEAN_POINTS,
            narrow_stddev: NARROW_STDDEV,
            narrow_range: NARROW_RANGE,
            min_reviews: MIN_REVIEWS,
        },
        figures,
    })
}
