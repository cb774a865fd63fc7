//! The risk lab's model registry through the API (C9): the same as `/lab`.

use super::{ApiJson, ApiMultipart, ApiPath, SignedIn};
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kebao_service::lab::{Model, ModelKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A model version.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelDto {
    pub id: String,
    pub owner_org_id: String,
    pub owner_name: String,
    /// `glm` or `scorecard`.
    pub kind: String,
    pub name: String,
    pub version: i64,
    pub sha256: String,
    /// `submitted`, `approved` or `retired`.
    pub status: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
    pub approved_by: Option<String>,
    pub retired_by: Option<String>,
    /// The model's contents as the lab reads them (in the detail only).
    #[schema(value_type = Option<Object>)]
    pub contents: Option<serde_json::Value>,
}

fn dto(m: Model) -> ModelDto {
    ModelDto {
        id: m.id,
        owner_org_id: m.owner_org_id,
        owner_name: m.owner_name,
        kind: m.kind.code().to_owned(),
        name: m.name,
        version: m.version,
        sha256: m.sha256,
        status: m.status.code().to_owned(),
        uploaded_by: m.uploaded_by,
        uploaded_at: super::rfc3339(m.uploaded_at_us),
        approved_by: m.approved_by,
        retired_by: m.retired_by,
        contents: m.contents.and_then(|c| serde_json::to_value(c).ok()),
    }
}

/// The models the caller may see (its organisation's; every institution's for the zone).
#[utoipa::path(get, path = "/api/v1/lab/models",
    responses((status = 200, body = Vec<ModelDto>), (status = 403, body = ErrorBody)), tag = "lab")]
pub async fn list(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
) -> Result<Json<Vec<ModelDto>>, ApiError> {
    Ok(Json(s.svc.models(&actor).await?.into_iter().map(dto).collect()))
}

/// Uploads a model file (multipart: `kind` glm|scorecard, `name`, `file`) as a new version
/// awaiting approval.
#[utoipa::path(post, path = "/api/v1/lab/models", request_body(content_type = "multipart/form-data"),
    responses((status = 201, body = ModelDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "lab")]
pub async fn upload(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiMultipart(m): ApiMultipart,
) -> Result<(StatusCode, Json<ModelDto>), ApiError> {
    let (_, bytes, _, fields) = crate::forms::attachments::read_upload_with(m, &["kind", "name"]).await?;
    let get = |k: &str| fields.iter().find(|f| f.0 == k).map(|f| f.1.clone()).unwrap_or_default();
    let kind = ModelKind::from_code(&get("kind")).ok_or_else(|| {
        ApiError::invalid(vec![ErrorDetail {
            field: "kind".into(),
            code: "unknown_kind".into(),
            message_zh: "模型类型须为 glm 或 scorecard".into(),
            message_en: "the kind must be glm or scorecard".into(),
        }])
    })?;
    let model = s.svc.upload_model(&actor, kind, &get("name"), &bytes).await?;
    Ok((StatusCode::CREATED, Json(dto(model))))
}

/// One model with its contents.
#[utoipa::path(get, path = "/api/v1/lab/models/{id}", params(("id" = String, Path)),
    responses((status = 200, body = ModelDto), (status = 404, body = ErrorBody)), tag = "lab")]
pub async fn get(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ModelDto>, ApiError> {
    Ok(Json(dto(s.svc.model(&actor, &id).await?)))
}

/// Approves a model for use (another person of its owner than the uploader).
#[utoipa::path(post, path = "/api/v1/lab/models/{id}/approve", params(("id" = String, Path)),
    responses((status = 200, body = ModelDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "lab")]
pub async fn approve(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ModelDto>, ApiError> {
    Ok(Json(dto(s.svc.approve_model(&actor, &id).await?)))
}

/// Retires a model (kept, never used again).
#[utoipa::path(post, path = "/api/v1/lab/models/{id}/retire", params(("id" = String, Path)),
    responses((status = 200, body = ModelDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "lab")]
pub async fn retire(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ModelDto>, ApiError> {
    Ok(Json(dto(s.svc.retire_model(&actor, &id).await?)))
}

/// How an approved GLM becomes a product's rating plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelPlanDto {
    pub product_id: String,
    /// YYYY-MM-DD.
    pub effective_from: String,
    /// GLM factor → platform rating variable (industry, stage, size_band, limit_band,
    /// deductible_band, claims_history).
    pub mapping: BTreeMap<String, String>,
    /// limit | sum_insured | revenue | flat
    pub basis: String,
    /// The multiplier of the GLM base (a decimal string).
    pub loading: String,
    #[serde(default)]
    #[schema(minimum = 0)]
    pub min_premium_yuan: u32,
}

/// Files an approved GLM as the rating plan of one of its owner's products.
#[utoipa::path(post, path = "/api/v1/lab/models/{id}/rating-plan", params(("id" = String, Path)), request_body = ModelPlanDto,
    responses((status = 201, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "lab")]
pub async fn rating_plan(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ModelPlanDto>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let mapping: Vec<(String, String)> = b.mapping.into_iter().collect();
    let plan = s
        .svc
        .glm_model_to_rating_plan(
            &actor,
            &id,
            &b.product_id,
            &b.effective_from,
            &mapping,
            &b.basis,
            &b.loading,
            i64::from(b.min_premium_yuan),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"product_id": b.product_id, "plan_version": plan.version,
            "effective_from": plan.effective_from.to_string()})),
    ))
}
