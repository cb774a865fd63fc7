//! The zone's development index through the API (C11): the framework, the runs (queued as
//! jobs), their results and files, and the import of official statistics — the same as the
//! index page and `kebao index …`.

use super::{rfc3339, ApiJson, ApiMultipart, ApiPath, SignedIn};
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kebao_service::index::{IndexRun, LeftOut, UnitResult, STATISTICS_COLUMNS};
use kebao_service::tabular::{self, Format};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type ApiResult<T> = Result<Json<T>, ApiError>;

/// An indicator or aggregate of the framework.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndexNodeDto {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub level: u32,
    pub parent: Option<String>,
    /// 1 more is better, -1 less is better.
    pub direction: i32,
    pub weight: f64,
    /// Indicators: `platform` or `official`; aggregates: none.
    pub source: Option<String>,
    pub unit_zh: String,
    pub unit_en: String,
    pub definition_zh: String,
    pub definition_en: String,
    pub plan: String,
}

/// The framework runs use now.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndexFrameworkDto {
    pub version: String,
    pub name_zh: String,
    pub name_en: String,
    pub first_year: i32,
    pub last_year: i32,
    /// C, C-local or U.
    pub confidence: String,
    pub nodes: Vec<IndexNodeDto>,
    /// The units of each kind: (kind, id, Chinese name, English name).
    pub units: Vec<(String, String, String, String)>,
}

/// The indicator framework in use, with the units of each kind (zone officers and the regulator).
#[utoipa::path(get, path = "/api/v1/index/framework", responses((status = 200, body = IndexFrameworkDto), (status = 403, body = ErrorBody)), tag = "index")]
pub async fn framework(State(s): State<AppState>, SignedIn(actor): SignedIn) -> ApiResult<IndexFrameworkDto> {
    let (fw, _) = s.svc.index_framework(&actor).await?;
    let units = kebao_domain::index::UnitKind::ALL
        .iter()
        .flat_map(|k| {
            s.svc.index_units(&fw, *k).into_iter().map(|u| (k.code().to_owned(), u.id, u.name_zh, u.name_en))
        })
        .collect();
    Ok(Json(IndexFrameworkDto {
        nodes: fw
            .nodes
            .iter()
            .map(|n| IndexNodeDto {
                code: n.code.clone(),
                name_zh: n.name_zh.clone(),
                name_en: n.name_en.clone(),
                level: n.level,
                parent: n.parent.clone(),
                direction: n.direction,
                weight: n.weight,
                source: n.measure.as_ref().map(|m| {
                    if *m == kebao_domain::index::Measure::Official { "official" } else { "platform" }
                        .to_owned()
                }),
                unit_zh: n.unit_zh.clone(),
                unit_en: n.unit_en.clone(),
                definition_zh: n.definition_zh.clone(),
                definition_en: n.definition_en.clone(),
                plan: n.plan.clone(),
            })
            .collect(),
        version: fw.version,
        name_zh: fw.name_zh,
        name_en: fw.name_en,
        first_year: fw.first_year,
        last_year: fw.last_year,
        confidence: fw.confidence,
        units,
    }))
}

/// A new version of the framework, as TOML text (the shape of `data/zone/index.toml`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadFrameworkDto {
    pub toml: String,
}

/// Load a new version of the framework (zone officers). 422 with every reason when it is
/// malformed, has a cycle or an aggregate whose children's weights sum to zero; 409 when the
/// version exists.
#[utoipa::path(post, path = "/api/v1/index/framework", request_body = LoadFrameworkDto,
    responses((status = 201, body = IndexFrameworkDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "index")]
pub async fn load_framework(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<LoadFrameworkDto>,
) -> Result<(StatusCode, Json<IndexFrameworkDto>), ApiError> {
    s.svc.load_index_framework(&actor, &b.toml).await?;
    let Json(dto) = framework(State(s), SignedIn(actor)).await?;
    Ok((StatusCode::CREATED, Json(dto)))
}

/// What to run.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRunDto {
    /// `park`, `industry` or `region`.
    pub unit_kind: String,
    pub year: i32,
}

/// A queued run.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedRunDto {
    /// The background job that computes it; once done, the run is listed under
    /// `/api/v1/index/runs` with this `job_id`.
    pub job_id: String,
    pub unit_kind: String,
    pub year: i32,
    /// `queued`.
    pub state: String,
    pub state_zh: String,
    pub state_en: String,
}

/// Queue an index run (zone officers); when it is done it is listed among the runs with its
/// job's id. 409 while another run is queued or running.
#[utoipa::path(post, path = "/api/v1/index/runs", request_body = StartRunDto,
    responses((status = 201, body = QueuedRunDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "index")]
pub async fn start(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<StartRunDto>,
) -> Result<(StatusCode, Json<QueuedRunDto>), ApiError> {
    let j = s.svc.start_index_run(&actor, &b.unit_kind, &b.year.to_string()).await?;
    let p = j
        .params
        .index
        .clone()
        .unwrap_or(kebao_domain::job::IndexRunParams { unit_kind: b.unit_kind, year: b.year });
    Ok((
        StatusCode::CREATED,
        Json(QueuedRunDto {
            job_id: j.id,
            unit_kind: p.unit_kind,
            year: p.year,
            state: j.state.code().to_owned(),
            state_zh: j.state.label_zh().to_owned(),
            state_en: j.state.label_en().to_owned(),
        }),
    ))
}

/// A stored run, without its files.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndexRunSummaryDto {
    pub id: String,
    pub job_id: String,
    pub unit_kind: String,
    pub year: i32,
    pub version: i64,
    pub framework_version: String,
    pub units_ranked: usize,
    pub created_by: String,
    pub created_at: String,
}

fn summary(r: &IndexRun) -> IndexRunSummaryDto {
    IndexRunSummaryDto {
        id: r.stored.id.clone(),
        job_id: r.stored.job_id.clone(),
        unit_kind: r.stored.unit_kind.clone(),
        year: r.stored.year,
        version: r.stored.version,
        framework_version: r.stored.framework_version.clone(),
        units_ranked: r.results.units.len(),
        created_by: r.stored.created_by.clone(),
        created_at: rfc3339(r.stored.created_at_us),
    }
}

/// The stored runs, newest first (zone officers and the regulator).
#[utoipa::path(get, path = "/api/v1/index/runs", responses((status = 200, body = Vec<IndexRunSummaryDto>), (status = 403, body = ErrorBody)), tag = "index")]
pub async fn runs(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
) -> ApiResult<Vec<IndexRunSummaryDto>> {
    Ok(Json(s.svc.index_runs(&actor).await?.iter().map(summary).collect()))
}

/// One unit's results.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndexUnitDto {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub rank: Option<usize>,
    /// Per aggregate of `codes` (the index first).
    pub scores: Vec<Option<f64>>,
    /// Per indicator of `indicators`: the value, and normalised 0–100.
    pub raw: Vec<Option<f64>>,
    pub normalised: Vec<Option<f64>>,
    /// The rank over the uncertainty runs: median, 5 % and 95 % quantiles.
    pub median_rank: Option<f64>,
    pub rank_q05: Option<f64>,
    pub rank_q95: Option<f64>,
}

/// What a run left out, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeftOutDto {
    pub code: String,
    pub reason_zh: String,
    pub reason_en: String,
}

/// A stored run's results.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndexRunDto {
    pub run: IndexRunSummaryDto,
    pub codes: Vec<String>,
    pub indicators: Vec<String>,
    pub units: Vec<IndexUnitDto>,
    pub dropped_indicators: Vec<LeftOutDto>,
    pub excluded_units: Vec<LeftOutDto>,
    pub uncertainty_runs: usize,
    pub seed: u64,
}

fn left_out(x: &LeftOut) -> LeftOutDto {
    LeftOutDto { code: x.code.clone(), reason_zh: x.reason_zh.clone(), reason_en: x.reason_en.clone() }
}

fn unit(u: &UnitResult) -> IndexUnitDto {
    let f = |x: f64| x.is_finite().then_some(x);
    IndexUnitDto {
        id: u.id.clone(),
        name_zh: u.name_zh.clone(),
        name_en: u.name_en.clone(),
        rank: u.rank,
        scores: u.scores.clone(),
        raw: u.raw.clone(),
        normalised: u.normalised.clone(),
        median_rank: f(u.median),
        rank_q05: f(u.q05),
        rank_q95: f(u.q95),
    }
}

/// A stored run: the ranking, every score, the rank intervals (zone officers and the regulator).
#[utoipa::path(get, path = "/api/v1/index/runs/{id}", params(("id" = String, Path)),
    responses((status = 200, body = IndexRunDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "index")]
pub async fn run(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<IndexRunDto> {
    let r = s.svc.index_run(&actor, &id).await?;
    let res = &r.results;
    Ok(Json(IndexRunDto {
        run: summary(&r),
        codes: res.codes.clone(),
        indicators: res.indicators.clone(),
        units: res.units.iter().map(unit).collect(),
        dropped_indicators: res.dropped.iter().map(left_out).collect(),
        excluded_units: res.excluded.iter().map(left_out).collect(),
        uncertainty_runs: res.runs,
        seed: res.seed,
    }))
}

/// A stored run's file: `iMeta.csv`, `iData.csv` or `config.toml` — what `kebao index build`
/// reads to rebuild the run.
#[utoipa::path(get, path = "/api/v1/index/runs/{id}/files/{name}", params(("id" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "the file: text/csv (iMeta.csv, iData.csv) or application/toml (config.toml)"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "index")]
pub async fn file(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath((id, name)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let r = s.svc.index_run(&actor, &id).await?;
    let (text, ty) = match name.as_str() {
        "iMeta.csv" => (r.stored.imeta, "text/csv; charset=utf-8"),
        "iData.csv" => (r.stored.idata, "text/csv; charset=utf-8"),
        "config.toml" => (r.stored.config, "application/toml; charset=utf-8"),
        _ => return Err(kebao_service::ServiceError::NotFound.into()),
    };
    Ok(([(header::CONTENT_TYPE, ty)], text).into_response())
}

/// How an import went.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatisticsImportDto {
    pub rows: usize,
    pub imported: usize,
}

/// Import official statistics (multipart field `file`, `.xlsx` or `.csv`; columns
/// unit_kind/单元类型, unit/单元, year/年份, indicator/指标, value/数值, source/来源). All or
/// nothing: with any bad row, 422 names each row and column and nothing is imported.
#[utoipa::path(post, path = "/api/v1/index/statistics", request_body(content_type = "multipart/form-data"),
    responses((status = 200, body = StatisticsImportDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "index")]
pub async fn import_statistics(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiMultipart(m): ApiMultipart,
) -> ApiResult<StatisticsImportDto> {
    s.svc.index_framework(&actor).await?;
    let (_, file) = crate::forms::consent::read_form(m, "file").await?;
    let Some((name, bytes)) = file else {
        let cols = STATISTICS_COLUMNS.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ");
        return Err(ApiError::invalid(vec![ErrorDetail {
            field: "file".into(),
            code: "required".into(),
            message_zh: "请上传统计文件（.xlsx 或 .csv）".into(),
            message_en: format!(
                "attach the figures as the file field `file` (.xlsx or .csv; columns {cols})"
            ),
        }]));
    };
    let format = Format::from_name(&name).unwrap_or_else(|| Format::sniff(&bytes));
    let table = tabular::read(&bytes, format).map_err(|e| {
        ApiError::invalid(vec![ErrorDetail {
            field: "file".into(),
            code: e.code().into(),
            message_zh: e.message_zh(),
            message_en: e.to_string(),
        }])
    })?;
    let r = s.svc.import_index_statistics(&actor, &table).await?;
    if !r.problems.is_empty() {
        return Err(ApiError::invalid(
            r.problems
                .iter()
                .map(|p| ErrorDetail {
                    field: format!("rows[{}].{}", p.row, p.column),
                    code: p.code.into(),
                    message_zh: format!("第 {} 行：{}", p.row, p.reason_zh),
                    message_en: format!("row {}: {}", p.row, p.reason_en),
                })
                .collect(),
        ));
    }
    Ok(Json(StatisticsImportDto { rows: r.rows, imported: r.imported }))
}
