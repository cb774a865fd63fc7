//! The claims API: notices, steps, documents.

use super::rfc3339;
use super::{ApiJson, ApiMultipart, ApiPath, SignedIn};
use crate::error::{ApiError, ErrorBody};
use crate::session::ApiActor;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kebao_domain::claim::{Claim, ClaimInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type ApiResult<T> = Result<Json<T>, ApiError>;

pub(crate) use crate::forms::claims::claim_step_run;
pub use crate::forms::claims::ClaimStepDto;

/// A claim.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimDto {
    pub id: String,
    pub policy_id: String,
    /// reported | investigating | decided | closed
    pub status: String,
    pub loss_date: String,
    pub description: String,
    pub claimed_yuan: String,
    pub reserve_yuan: String,
    /// pay | partial | deny
    pub outcome: Option<String>,
    pub decided_yuan: String,
    pub paid_yuan: String,
    pub reason: Option<String>,
    pub reopened: i64,
    /// Deadline clocks (on `GET /claims/{id}`): label, due date, days left (none once met).
    #[schema(value_type = Vec<Object>)]
    pub clocks: Vec<serde_json::Value>,
}

pub(crate) fn claim_dto(c: &Claim, clocks: &[kebao_domain::claim::Clock]) -> ClaimDto {
    ClaimDto {
        id: c.id.clone(),
        policy_id: c.policy_id.clone(),
        status: c.status.code().to_owned(),
        loss_date: c.loss_date.to_string(),
        description: c.description.clone(),
        claimed_yuan: c.claimed.to_yuan_string(),
        reserve_yuan: c.reserve.to_yuan_string(),
        outcome: c.outcome.map(|o| o.code().to_owned()),
        decided_yuan: c.decided.to_yuan_string(),
        paid_yuan: c.paid.to_yuan_string(),
        reason: c.reason.clone(),
        reopened: c.reopened,
        clocks: clocks
            .iter()
            .map(|k| serde_json::json!({"label_zh": k.label_zh, "label_en": k.label_en, "due": k.due.to_string(), "days_left": k.days_left}))
            .collect(),
    }
}

/// A first notice of loss.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimInputDto {
    pub loss_date: String,
    pub description: String,
    pub claimed_yuan: String,
}

/// Report a claim on a policy (the insured enterprise).
#[utoipa::path(post, path = "/api/v1/policies/{id}/claims", params(("id" = String, Path)), request_body = ClaimInputDto,
    responses((status = 201, body = ClaimDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "claims")]
pub async fn report_claim(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ClaimInputDto>,
) -> Result<(StatusCode, Json<ClaimDto>), ApiError> {
    let input =
        ClaimInput { loss_date: b.loss_date, description: b.description, claimed_yuan: b.claimed_yuan };
    let c = s.svc.report_claim(&actor, &id, &input).await?;
    Ok((StatusCode::CREATED, Json(claim_dto(&c, &[]))))
}

/// The caller's organisation's claims (as enterprise or insurer).
#[utoipa::path(get, path = "/api/v1/claims", responses((status = 200, body = Vec<ClaimDto>)), tag = "claims")]
pub async fn my_claims(State(s): State<AppState>, SignedIn(actor): SignedIn) -> ApiResult<Vec<ClaimDto>> {
    Ok(Json(s.svc.my_claims(&actor).await?.iter().map(|c| claim_dto(c, &[])).collect()))
}

/// One claim with its deadline clocks.
#[utoipa::path(get, path = "/api/v1/claims/{id}", security((), ("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = ClaimDto), (status = 404, body = ErrorBody)), tag = "claims")]
pub async fn get_claim(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ClaimDto> {
    let v = s.svc.claim(&actor, &id).await?;
    Ok(Json(claim_dto(&v.claim, &v.clocks)))
}

/// Work a claim (the insurer's claims handlers).
#[utoipa::path(post, path = "/api/v1/claims/{id}/steps", params(("id" = String, Path)), request_body = ClaimStepDto,
    responses((status = 200, body = ClaimDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "claims")]
pub async fn claim_step(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ClaimStepDto>,
) -> ApiResult<ClaimDto> {
    claim_step_run(&s, &actor, &id, &b).await?;
    let v = s.svc.claim(&actor, &id).await?;
    Ok(Json(claim_dto(&v.claim, &v.clocks)))
}

/// A claim document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimDocumentDto {
    pub id: String,
    pub file_name: String,
    pub media_type: String,
    pub sha256: String,
    pub size: i64,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

pub(crate) fn claim_document_dto(d: &kebao_domain::attachment::Attachment) -> ClaimDocumentDto {
    ClaimDocumentDto {
        id: d.id.clone(),
        file_name: d.file_name.clone(),
        media_type: d.media_type.clone(),
        sha256: d.sha256.clone(),
        size: d.size,
        uploaded_by: d.uploaded_by.clone(),
        uploaded_at: rfc3339(d.uploaded_at_us),
    }
}

/// Attach a document to a claim (multipart field `file`; at most 10 MiB; the insured
/// enterprise or the insurer's claims handler).
#[utoipa::path(post, path = "/api/v1/claims/{id}/documents", params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 201, body = ClaimDocumentDto), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "claims")]
pub async fn upload_claim_document(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiMultipart(multipart): ApiMultipart,
) -> Result<(StatusCode, Json<ClaimDocumentDto>), ApiError> {
    let (name, bytes, _) = super::products::read_upload(multipart).await?;
    let d = s
        .svc
        .add_claim_document(&actor, &id, &name, &bytes)
        .await
        .map_err(super::products::too_large_is_413)?;
    Ok((StatusCode::CREATED, Json(claim_document_dto(&d))))
}

/// A claim's documents.
#[utoipa::path(get, path = "/api/v1/claims/{id}/documents", security((), ("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Vec<ClaimDocumentDto>), (status = 404, body = ErrorBody)), tag = "claims")]
pub async fn claim_documents(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Vec<ClaimDocumentDto>> {
    let v = s.svc.claim(&actor, &id).await?;
    Ok(Json(v.documents.iter().map(claim_document_dto).collect()))
}

/// Download a claim document (whoever may see the claim).
#[utoipa::path(get, path = "/api/v1/claim-documents/{id}", security((), ("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = ErrorBody)), tag = "claims")]
pub async fn download_claim_document(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::response::Response, ApiError> {
    let (d, body) = s.svc.claim_document(&actor, &id).await?;
    Ok(crate::forms::attachments::attachment_response(&d, body))
}
