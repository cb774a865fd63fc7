//! The evaluation of institutions through the API (C11): the same as the page and
//! `kebao stats evaluation`.

use super::{ApiQuery, SignedIn};
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Which year.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EvaluationParams {
    /// A calendar year (2000 to this year).
    pub year: String,
}

/// A standard.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceStandardDto {
    pub id: String,
    /// `insurer` or `bank`.
    pub applies_to: String,
    pub name_zh: String,
    pub name_en: String,
    pub target: f64,
    /// `at_least` or `at_most`.
    pub direction: String,
    pub weight: f64,
    pub unit_zh: String,
    pub unit_en: String,
    pub source: String,
    /// C, C-local or U.
    pub confidence: String,
    pub reading_zh: String,
    pub reading_en: String,
}

/// One standard's figure for an institution.
#[derive(Debug, Serialize, ToSchema)]
pub struct StandardFigureDto {
    pub standard_id: String,
    pub value: Option<f64>,
    pub score: Option<f64>,
    pub met: bool,
}

/// An institution's standing.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstitutionStandingDto {
    pub org_id: String,
    pub name: String,
    pub kind: String,
    pub score: Option<f64>,
    pub rank: Option<usize>,
    pub of: usize,
    pub figures: Vec<StandardFigureDto>,
}

/// A year's evaluation as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationDto {
    pub year: i32,
    pub version: String,
    pub method_zh: String,
    pub method_en: String,
    pub standards: Vec<ServiceStandardDto>,
    /// Every institution (the zone's officers, the regulator) or the caller's own.
    pub standings: Vec<InstitutionStandingDto>,
    /// Per kind, every institution's composite score, best first, without names.
    pub distributions: Vec<(String, Vec<f64>)>,
}

/// The evaluation of institutions against the service standards for a year (the zone's
/// officers and the regulator: every institution; an insurer or a bank: its own standing and
/// the scores of the others without names).
#[utoipa::path(get, path = "/api/v1/evaluation", params(EvaluationParams),
    responses((status = 200, body = EvaluationDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "statistics")]
pub async fn evaluation(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiQuery(p): ApiQuery<EvaluationParams>,
) -> Result<Json<EvaluationDto>, ApiError> {
    let e = s.svc.evaluation(&actor, &p.year).await?;
    Ok(Json(EvaluationDto {
        year: e.year,
        version: e.version,
        method_zh: kebao_domain::evaluation::METHOD_ZH.to_owned(),
        method_en: kebao_domain::evaluation::METHOD_EN.to_owned(),
        standards: e
            .standards
            .iter()
            .map(|x| ServiceStandardDto {
                id: x.id.clone(),
                applies_to: x.applies_to.code().to_owned(),
                name_zh: x.name_zh.clone(),
                name_en: x.name_en.clone(),
                target: x.target,
                direction: if x.at_least { "at_least" } else { "at_most" }.to_owned(),
                weight: x.weight,
                unit_zh: x.unit_zh.clone(),
                unit_en: x.unit_en.clone(),
                source: x.source.clone(),
                confidence: x.confidence.clone(),
                reading_zh: x.reading_zh.clone(),
                reading_en: x.reading_en.clone(),
            })
            .collect(),
        standings: e
            .standings
            .into_iter()
            .map(|r| InstitutionStandingDto {
                org_id: r.org_id,
                name: r.name,
                kind: r.kind.to_owned(),
                score: r.score,
                rank: r.rank,
                of: r.of,
                figures: r
                    .figures
                    .into_iter()
                    .map(|f| StandardFigureDto {
                        standard_id: f.standard_id,
                        value: f.value,
                        score: f.score,
                        met: f.met,
                    })
                    .collect(),
            })
            .collect(),
        distributions: e.distributions.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    }))
}
