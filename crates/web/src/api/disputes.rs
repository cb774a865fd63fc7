//! The disputes API: complaints about a claim, mediation steps.

use super::{ApiJson, ApiPath, SignedIn};
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kebao_domain::dispute::Dispute;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type ApiResult<T> = Result<Json<T>, ApiError>;

pub(crate) use crate::forms::disputes::dispute_step_run;
pub use crate::forms::disputes::DisputeStepDto;

/// A dispute.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeDto {
    pub id: String,
    pub claim_id: String,
    /// complained | mediating | settled | escalated
    pub status: String,
    pub complaint: String,
    pub mediator: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub sessions: Vec<SessionDto>,
    pub outcome: Option<String>,
    /// arbitration | court
    pub forum: Option<String>,
    pub complained_on: String,
}

/// A mediation session: its date (`YYYY-MM-DD`) and notes.
#[derive(Debug, Serialize)]
pub struct SessionDto {
    pub on: String,
    pub notes: String,
}

pub(crate) fn dispute_dto(d: &Dispute) -> DisputeDto {
    DisputeDto {
        id: d.id.clone(),
        claim_id: d.claim_id.clone(),
        status: d.status.code().to_owned(),
        complaint: d.complaint.clone(),
        mediator: d.mediator.clone(),
        sessions: d
            .sessions
            .iter()
            .map(|x| SessionDto { on: x.on.to_string(), notes: x.notes.clone() })
            .collect(),
        outcome: d.outcome.clone(),
        forum: d.forum.map(|f| f.code().to_owned()),
        complained_on: d.complained_on.to_string(),
    }
}

/// A complaint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintDto {
    pub complaint: String,
}

/// Complain about a claim decision (the insured enterprise).
#[utoipa::path(post, path = "/api/v1/claims/{id}/complaints", params(("id" = String, Path)), request_body = ComplaintDto,
    responses((status = 201, body = DisputeDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "disputes")]
pub async fn complain(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ComplaintDto>,
) -> Result<(StatusCode, Json<DisputeDto>), ApiError> {
    Ok((StatusCode::CREATED, Json(dispute_dto(&s.svc.complain(&actor, &id, &b.complaint).await?))))
}

/// Disputes the caller may see.
#[utoipa::path(get, path = "/api/v1/disputes", responses((status = 200, body = Vec<DisputeDto>)), tag = "disputes")]
pub async fn disputes(State(s): State<AppState>, SignedIn(actor): SignedIn) -> ApiResult<Vec<DisputeDto>> {
    Ok(Json(s.svc.disputes(&actor).await?.iter().map(dispute_dto).collect()))
}

/// Mediate a dispute (mediators).
#[utoipa::path(post, path = "/api/v1/disputes/{id}/steps", params(("id" = String, Path)), request_body = DisputeStepDto,
    responses((status = 200, body = DisputeDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "disputes")]
pub async fn dispute_step(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<DisputeStepDto>,
) -> ApiResult<DisputeDto> {
    dispute_step_run(&s, &actor, &id, &b).await?;
    Ok(Json(dispute_dto(&s.svc.dispute(&actor, &id).await?.dispute)))
}
