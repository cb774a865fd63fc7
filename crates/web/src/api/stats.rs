//! The tech-insurance statistics through the API (C11): the same report as the page and
//! `kebao stats nfra`.

use super::{ApiQuery, SignedIn};
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use kebao_domain::stats::Measures;
use kebao_domain::Money;
use kebao_service::stats::{StatsQuery, StatsReport};
use kebao_service::ServiceError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// What report to make.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    /// A year (`2025`) or a quarter (`2025Q3`).
    pub period: String,
    /// `1` (by product class) or `2` (by insured entity); default 1.
    pub part: Option<String>,
    /// class | entity | industry | stage | park | insurer; default the part's own rows.
    pub by: Option<String>,
    /// One insurer's id (its branches included); default the whole zone (an insurer: itself).
    pub insurer: Option<String>,
}

/// The measures of one row (amounts in yuan with two decimals, and in fen).
#[derive(Debug, Serialize, ToSchema)]
pub struct MeasuresDto {
    pub policies: u64,
    pub enterprises: u64,
    pub premium_written_yuan: String,
    pub premium_earned_yuan: String,
    pub cover_yuan: String,
    pub claims_reported: u64,
    pub claimed_yuan: String,
    pub claims_paid_yuan: String,
    pub premium_written_fen: i64,
    pub premium_earned_fen: i64,
    pub cover_fen: i64,
    pub claimed_fen: i64,
    pub claims_paid_fen: i64,
}

fn measures(m: &Measures) -> MeasuresDto {
    let y = |f: i64| Money::from_fen(f).to_yuan_string();
    MeasuresDto {
        policies: m.policies,
        enterprises: m.enterprises,
        premium_written_yuan: y(m.written_fen),
        premium_earned_yuan: y(m.earned_fen),
        cover_yuan: y(m.cover_fen),
        claims_reported: m.claims_reported,
        claimed_yuan: y(m.claimed_fen),
        claims_paid_yuan: y(m.paid_fen),
        premium_written_fen: m.written_fen,
        premium_earned_fen: m.earned_fen,
        cover_fen: m.cover_fen,
        claimed_fen: m.claimed_fen,
        claims_paid_fen: m.paid_fen,
    }
}

/// One row.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsRowDto {
    /// A class, product type, entity category, industry tag, stage, park or insurer id; `none`
    /// for enterprises without the attribute.
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    /// 0 for a heading (a class, a head office), 1 for the rows under it.
    pub depth: u8,
    pub measures: MeasuresDto,
}

/// A report arranged by the NFRA 《科技保险业务统计制度》 (the platform's arrangement of its
/// definitions, not the official form).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsReportDto {
    pub note_zh: String,
    pub note_en: String,
    pub period: String,
    pub period_zh: String,
    pub part: u8,
    pub by: String,
    pub insurer_id: Option<String>,
    pub scope_zh: String,
    pub scope_en: String,
    pub rows: Vec<StatsRowDto>,
    pub total: MeasuresDto,
    /// Whether an enterprise may be in several rows (industries), so rows add up to more than the total.
    pub rows_overlap: bool,
}

pub(crate) fn report_dto(r: &StatsReport) -> StatsReportDto {
    StatsReportDto {
        note_zh: kebao_domain::stats::LAYOUT_NOTE_ZH.to_owned(),
        note_en: kebao_domain::stats::LAYOUT_NOTE_EN.to_owned(),
        period: r.period.clone(),
        period_zh: r.period_zh.clone(),
        part: r.part,
        by: r.by.clone(),
        insurer_id: r.insurer_id.clone(),
        scope_zh: r.scope_zh.clone(),
        scope_en: r.scope_en.clone(),
        rows: r
            .rows
            .iter()
            .map(|row| StatsRowDto {
                key: row.key.clone(),
                label_zh: row.label_zh.clone(),
                label_en: row.label_en.clone(),
                depth: row.depth,
                measures: measures(&row.measures),
            })
            .collect(),
        total: measures(&r.total),
        rows_overlap: r.rows_overlap,
    }
}

/// The statistics report for a period: the zone's officers and the regulator for the zone or
/// any insurer; an insurer for itself and its branches.
#[utoipa::path(get, path = "/api/v1/statistics/nfra", params(StatsParams), responses((status = 200, body = StatsReportDto), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "statistics")]
pub async fn nfra(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> ApiResult<StatsReportDto> {
    let q = StatsQuery::parse(
        &p.period,
        p.part.as_deref().unwrap_or_default(),
        p.by.as_deref().unwrap_or_default(),
        p.insurer.as_deref().unwrap_or_default(),
    )
    .map_err(ServiceError::Invalid)?;
    Ok(Json(report_dto(&s.svc.stats_report(&actor, &q).await?)))
}

/// One of the zone's targets and where the zone stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetDto {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// insured_enterprises | risk_cover_fen | institutions | products_published
    pub measure: String,
    /// The number asked for (fen for risk cover); absent where the plan sets none.
    pub value: Option<i64>,
    pub unit_zh: String,
    pub counts_from: String,
    pub due: String,
    pub source: String,
    pub url: String,
    /// C, C-local or U.
    pub confidence: String,
    pub reading_zh: String,
    pub reading_en: String,
    /// Today's figure (fen for risk cover).
    pub now: i64,
    pub percent: Option<f64>,
    /// (year, the figure at its end; this year: today).
    pub years: Vec<(i32, i64)>,
}

/// Where the zone stands against its plans' targets (the zone's officers and the regulator).
#[utoipa::path(get, path = "/api/v1/statistics/targets", responses((status = 200, body = Vec<TargetDto>), (status = 403, body = ErrorBody)), tag = "statistics")]
pub async fn targets(State(s): State<AppState>, SignedIn(actor): SignedIn) -> ApiResult<Vec<TargetDto>> {
    use kebao_domain::targets::Measure;
    let list = s.svc.zone_targets(&actor).await?;
    Ok(Json(
        list.into_iter()
            .map(|x| {
                let t = x.target;
                TargetDto {
                    id: t.id,
                    name_zh: t.name_zh,
                    name_en: t.name_en,
                    measure: match t.measure {
                        Measure::InsuredEnterprises => "insured_enterprises",
                        Measure::RiskCoverFen => "risk_cover_fen",
                        Measure::Institutions(_) => "institutions",
                        Measure::ProductsPublished => "products_published",
                    }
                    .to_owned(),
                    value: t.value,
                    unit_zh: t.unit_zh,
                    counts_from: t.counts_from.to_string(),
                    due: t.due.to_string(),
                    source: t.source,
                    url: t.url,
                    confidence: t.confidence,
                    reading_zh: t.reading_zh,
                    reading_en: t.reading_en,
                    now: x.now,
                    percent: x.percent,
                    years: x.years,
                }
            })
            .collect(),
    ))
}

/// One row or column of the grid.
#[derive(Debug, Serialize, ToSchema)]
pub struct GridLabelDto {
    /// An industry tag or a stage code; `none` for enterprises without one.
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
}

/// The 5+2 industry × life-cycle stage grid of a period: every policy of the zone's enterprises
/// (Part 2); an enterprise in two industries is in both rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct GridDto {
    pub rows: Vec<GridLabelDto>,
    pub cols: Vec<GridLabelDto>,
    /// Premium written (fen), rows × columns.
    pub premium_written_fen: Vec<Vec<i64>>,
    /// Distinct enterprises insured, rows × columns.
    pub enterprises: Vec<Vec<u64>>,
}

/// The industry × stage grid for a period (`part` and `by` are not used), with the same readers
/// and insurer choice as the report.
#[utoipa::path(get, path = "/api/v1/statistics/grid", params(StatsParams), responses((status = 200, body = GridDto), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "statistics")]
pub async fn grid(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> ApiResult<GridDto> {
    let q = StatsQuery::parse(&p.period, "2", "", p.insurer.as_deref().unwrap_or_default())
        .map_err(ServiceError::Invalid)?;
    let g = s.svc.stats_grid(&actor, &q).await?;
    let label = |v: Vec<(String, String, String)>| {
        v.into_iter().map(|(key, label_zh, label_en)| GridLabelDto { key, label_zh, label_en }).collect()
    };
    Ok(Json(GridDto {
        rows: label(g.rows),
        cols: label(g.cols),
        premium_written_fen: g.written_fen,
        enterprises: g.enterprises,
    }))
}
