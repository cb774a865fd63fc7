//! Background jobs: the list with progress, one job, starting and cancelling.

use super::{rfc3339, ApiJson, ApiPath, ApiQuery, SignedIn};
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kebao_domain::job::{JobKind, JobResult, JobState};
use kebao_domain::FieldError;
use kebao_service::jobs::{JobQuery, JobView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// One background job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobDto {
    pub id: String,
    /// `audit_verify` or `backup`.
    pub kind: String,
    pub kind_zh: String,
    pub kind_en: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub state: String,
    pub state_zh: String,
    pub state_en: String,
    /// The event log's name of who asked for it (`user:…`, `system:scheduler` …).
    pub requested_by: String,
    /// Who asked for it, named.
    pub requested_by_name: String,
    pub requested_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// How many times a runner started it (more than one: resumed after a restart).
    pub attempts: i64,
    /// Progress: `done` of `total` units (`total` 0 while unknown).
    pub done: i64,
    pub total: i64,
    pub percent: Option<u8>,
    /// For a scheduled run: its kind and business date.
    pub scheduled_for: Option<String>,
    /// Who asked a running job to stop.
    pub cancel_requested_by_name: Option<String>,
    /// What it found or made (its kind's fields), when it succeeded.
    #[schema(value_type = Option<Object>)]
    pub result: Option<JobResult>,
    pub outcome_zh: Option<String>,
    pub outcome_en: Option<String>,
    /// Whether the caller may cancel it now.
    pub can_cancel: bool,
}

impl From<JobView> for JobDto {
    fn from(v: JobView) -> JobDto {
        let j = v.job;
        let (outcome_zh, outcome_en) = match (&j.result, &j.failure) {
            (Some(r), _) => {
                let (zh, en) = r.summary();
                (Some(zh), Some(en))
            }
            (None, Some(f)) => (Some(f.message_zh.clone()), Some(f.message_en.clone())),
            _ => (None, None),
        };
        JobDto {
            percent: j.percent(),
            kind: j.kind.code().to_owned(),
            kind_zh: j.kind.label_zh().to_owned(),
            kind_en: j.kind.label_en().to_owned(),
            state: j.state.code().to_owned(),
            state_zh: j.state.label_zh().to_owned(),
            state_en: j.state.label_en().to_owned(),
            requested_by: j.requested_by,
            requested_by_name: v.requested_by_name,
            requested_at: rfc3339(j.requested_at_us),
            started_at: j.started_at_us.map(rfc3339),
            finished_at: j.finished_at_us.map(rfc3339),
            attempts: j.attempts,
            done: j.done,
            total: j.total,
            scheduled_for: j.params.scheduled_for,
            cancel_requested_by_name: v.cancel_requested_by_name,
            result: j.result,
            outcome_zh,
            outcome_en,
            can_cancel: v.can_cancel,
            id: j.id,
        }
    }
}

/// Which jobs: all optional.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct JobParamsQuery {
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub state: Option<String>,
    /// `audit_verify` or `backup`.
    pub kind: Option<String>,
    /// Requested before this time, in microseconds (the previous page's `next_before_us`).
    pub before_us: Option<i64>,
}

/// A page of jobs, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobPageDto {
    pub jobs: Vec<JobDto>,
    pub next_before_us: Option<i64>,
    /// The kinds the caller may start on this server.
    pub startable: Vec<String>,
}

/// A job to start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartJobDto {
    /// `audit_verify` (readers of the audit log) or `backup` (platform administrators, on a
    /// server with a backup directory).
    pub kind: String,
}

fn bad(field: &str, value: &str, known: &[&str]) -> ApiError {
    ApiError::from(kebao_service::ServiceError::from(FieldError::new(
        field,
        "unknown",
        format!("未知的取值“{value}”（可选：{}）", known.join("、")),
        format!("unknown value `{value}` (one of: {})", known.join(", ")),
    )))
}

fn kind_of(field: &str, s: &str) -> Result<JobKind, ApiError> {
    JobKind::from_code(s)
        .ok_or_else(|| bad(field, s, &JobKind::ALL.iter().map(|k| k.code()).collect::<Vec<_>>()))
}

/// The background jobs, newest first (readers of the audit log, platform administrators).
#[utoipa::path(get, path = "/api/v1/jobs", params(JobParamsQuery),
    responses((status = 200, body = JobPageDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "jobs")]
pub async fn list(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiQuery(q): ApiQuery<JobParamsQuery>,
) -> ApiResult<JobPageDto> {
    let state =
        match q.state.as_deref() {
            None | Some("") => None,
            Some(v) => Some(JobState::from_code(v).ok_or_else(|| {
                bad("state", v, &JobState::ALL.iter().map(|s| s.code()).collect::<Vec<_>>())
            })?),
        };
    let kind = match q.kind.as_deref() {
        None | Some("") => None,
        Some(v) => Some(kind_of("kind", v)?),
    };
    let page = s.svc.jobs(&actor, &JobQuery { state, kind, before_us: q.before_us }).await?;
    Ok(Json(JobPageDto {
        jobs: page.jobs.into_iter().map(JobDto::from).collect(),
        next_before_us: page.next_before_us,
        startable: page.startable.iter().map(|k| k.code().to_owned()).collect(),
    }))
}

/// One background job, with its progress.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", params(("id" = String, Path)),
    responses((status = 200, body = JobDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "jobs")]
pub async fn get(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<JobDto> {
    Ok(Json(s.svc.job(&actor, &id).await?.into()))
}

/// Queue a background job; the server's runner takes it. 409 while one of the same kind is
/// queued or running, or when this server cannot run the kind.
#[utoipa::path(post, path = "/api/v1/jobs", request_body = StartJobDto,
    responses((status = 201, body = JobDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "jobs")]
pub async fn start(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<StartJobDto>,
) -> Result<(StatusCode, Json<JobDto>), ApiError> {
    let j = s.svc.start_job(&actor, kind_of("kind", &b.kind)?).await?;
    Ok((StatusCode::CREATED, Json(s.svc.job(&actor, &j.id).await?.into())))
}

/// Cancel a queued job (it ends now), or ask a running one to stop (it ends, cancelled,
/// after its current step). Who asked for the job, or a platform administrator.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", params(("id" = String, Path)),
    responses((status = 200, body = JobDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "jobs")]
pub async fn cancel(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<JobDto> {
    s.svc.cancel_job(&actor, &id).await?;
    Ok(Json(s.svc.job(&actor, &id).await?.into()))
}
