//! The ranking of a stage, as JSON (the CSV export reads the same [`rank_stage`]): the numbers come from
//! [`service::reviews::rank_stage`], this file orders and presents them.

use std::collections::BTreeMap;

use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::extract::Caller;
use crate::db::DbConn;
use crate::error::{Error, Problem};
use crate::service;
use crate::state::AppState;

/// `?stage=&normalize=` of the ranking.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingQuery {
    /// The stage (the first one by default).
    pub stage: Option<String>,
    /// `none` (default) orders by the raw score, `zscore` by the score normalised per juror.
    pub normalize: Option<String>,
}

/// One line of a ranking.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankingEntry {
    pub application_id: Uuid,
    pub reference: Option<String>,
    pub n_reviews: usize,
    /// The mean of the submitted reviews' weighted scores, on 0–100.
    pub score: Option<f64>,
    /// The same with each juror's scores turned into z-scores first (harsh and lenient jurors cancel out),
    /// mapped to 50 + 10·z on 0–100.
    pub normalized_score: Option<f64>,
    /// Mean raw score per criterion.
    pub criteria: BTreeMap<String, f64>,
    pub stddev: Option<f64>,
    /// True when the jurors' scores spread more than 15 points.
    pub disagreement: bool,
}

/// The ranking of a stage, best first; conflicted jurors' scores never count (administrators, the call's
/// managers and observers).
#[utoipa::path(
    operation_id = "getCallRanking",
    tag = "evaluation",
    params(("id" = Uuid, Path), RankingQuery),
    responses((status = 200, body = Vec<RankingEntry>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/ranking")]
pub async fn ranking(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    query: web::Query<RankingQuery>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let query = query.into_inner();
    let order = RankingOrder::parse(query.normalize.as_deref())?;
    let entries = state
        .db
        .read(move |conn| {
            service::staff::observed_call(conn, &caller, id)?;
            rank_stage(conn, id, query.stage.as_deref())
        })
        .await?;
    let entries = order.apply(entries);
    Ok(HttpResponse::Ok().json(entries))
}

/// How a ranking is ordered: by raw score (the ranking's own order) or by the score normalised per juror.
#[derive(Debug, Clone, Copy)]
pub enum RankingOrder {
    Raw,
    Normalized,
}

impl RankingOrder {
    /// `none` (or absent) or `zscore`; 422 otherwise.
    pub fn parse(raw: Option<&str>) -> Result<RankingOrder, Error> {
        match raw {
            None | Some("none") => Ok(RankingOrder::Raw),
            Some("zscore") => Ok(RankingOrder::Normalized),
            Some(_) => Err(Error::field("normalize", "invalid", "none or zscore")),
        }
    }

    /// The entries in this order (ties by application id).
    pub fn apply(self, mut entries: Vec<RankingEntry>) -> Vec<RankingEntry> {
        if let RankingOrder::Normalized = self {
            entries.sort_by(|a, b| {
                b.normalized_score
                    .unwrap_or(f64::NEG_INFINITY)
                    .total_cmp(&a.normalized_score.unwrap_or(f64::NEG_INFINITY))
                    .then(a.application_id.cmp(&b.application_id))
            });
        }
        entries
    }
}

/// The ranking of a stage as the API shows it (see [`service::reviews::rank_stage`]), best first.
pub fn rank_stage(
    conn: &mut DbConn,
    call_id: Uuid,
    stage: Option<&str>,
) -> Result<Vec<RankingEntry>, Error> {
    Ok(service::reviews::rank_stage(conn, call_id, stage)?
        .into_iter()
        .map(|(r, reference)| RankingEntry {
            application_id: r.application,
            reference,
            n_reviews: r.n_reviews,
            score: r.score,
            normalized_score: r.normalized_score,
            criteria: r.criteria,
            stddev: r.stddev,
            disagreement: r.disagreement,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u128, score: f64, normalized: f64) -> RankingEntry {
        RankingEntry {
            application_id: Uuid::from_u128(n),
            reference: None,
            n_reviews: 2,
            score: Some(score),
            normalized_score: Some(normalized),
            criteria: BTreeMap::new(),
            stddev: None,
            disagreement: false,
        }
    }

    #[test]
    fn a_ranking_is_ordered_by_raw_or_normalized_score_as_asked() {
        let ranked = || {
            vec![
                entry(1, 90.0, 45.0),
                entry(2, 80.0, 60.0),
                entry(3, 70.0, 60.0),
            ]
        };
        let ids = |entries: Vec<RankingEntry>| {
            entries
                .iter()
                .map(|e| e.application_id.as_u128())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids(RankingOrder::parse(None).unwrap().apply(ranked())),
            [1, 2, 3]
        );
        assert_eq!(
            ids(RankingOrder::parse(Some("zscore")).unwrap().apply(ranked())),
            [2, 3, 1]
        );
        assert!(RankingOrder::parse(Some("rank")).is_err());
    }
}
