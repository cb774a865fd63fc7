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
    /// For a model fitted in the platform: the extract it learnt from and its SHA-256.
    pub extract_id: Option<String>,
    pub training_sha256: Option<String>,
    /// A scorecard's held-out validation: sample sizes, AUC, KS, Gini, ROC and gains curves.
    #[schema(value_type = Option<Object>)]
    pub validation: Option<serde_json::Value>,
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
        extract_id: m.extract_id,
        training_sha256: m.training_sha256,
        validation: m.validation.and_then(|v| serde_json::to_value(v).ok()),
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

/// An experience extract (its file at `/api/v1/lab/extracts/{id}/file`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtractDto {
    pub id: String,
    pub owner_org_id: String,
    pub owner_name: String,
    /// `claims` or `loans`.
    pub kind: String,
    /// `own_book` or `supervision`.
    pub basis: String,
    pub purpose: String,
    pub include_personal: bool,
    /// The recorded impact assessment (purpose, recipient, necessity, safeguards), when the
    /// extract holds personal data.
    #[schema(value_type = Option<Object>)]
    pub impact_assessment: Option<serde_json::Value>,
    pub job_id: String,
    pub rows: i64,
    /// Records left out: personal-line policies (not asked for); policies without exposure or
    /// loans without an outcome yet.
    pub left_out_personal: i64,
    pub left_out_without_outcome: i64,
    pub sha256: String,
    pub created_by: String,
    pub created_at: String,
}

fn extract_dto(e: kebao_service::lab_data::Extract) -> ExtractDto {
    ExtractDto {
        id: e.id,
        owner_org_id: e.owner_org_id,
        owner_name: e.owner_name,
        kind: e.kind.code().to_owned(),
        basis: e.basis.code().to_owned(),
        purpose: e.purpose,
        include_personal: e.include_personal,
        impact_assessment: e.assessment.and_then(|a| serde_json::to_value(a).ok()),
        job_id: e.job_id,
        rows: e.rows,
        left_out_personal: e.left_personal,
        left_out_without_outcome: e.left_unended,
        sha256: e.sha256,
        created_by: e.created_by,
        created_at: super::rfc3339(e.created_at_us),
    }
}

/// What to extract.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractRequestDto {
    /// `claims` (an insurer's own book, or the zone's) or `loans` (a bank's own, or the zone's).
    pub kind: String,
    /// Why the data is extracted.
    pub purpose: String,
    /// Include personal lines (group health, accident; aggregated per policy-year): needs the
    /// impact assessment.
    #[serde(default)]
    pub include_personal: bool,
    #[serde(default)]
    pub impact_assessment: Option<ImpactAssessmentDto>,
}

/// A personal-information impact assessment (个人信息保护法 Art 55–56).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactAssessmentDto {
    pub purpose: String,
    pub recipient: String,
    pub necessity: String,
    pub safeguards: String,
}

/// A queued lab job.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabJobDto {
    pub job_id: String,
    /// `lab_extract` or `lab_fit`.
    pub kind: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub state: String,
    pub percent: Option<u8>,
    pub requested_at: String,
    pub failure: Option<String>,
}

fn job_dto(j: kebao_domain::job::Job) -> LabJobDto {
    LabJobDto {
        percent: j.percent(),
        job_id: j.id,
        kind: j.kind.code().to_owned(),
        state: j.state.code().to_owned(),
        requested_at: super::rfc3339(j.requested_at_us),
        failure: j.failure.map(|f| f.message_en),
    }
}

/// The extracts the caller may see (its organisation's; every one for the zone).
#[utoipa::path(get, path = "/api/v1/lab/extracts",
    responses((status = 200, body = Vec<ExtractDto>), (status = 403, body = ErrorBody)), tag = "lab")]
pub async fn extracts(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
) -> Result<Json<Vec<ExtractDto>>, ApiError> {
    Ok(Json(s.svc.extracts(&actor).await?.into_iter().map(extract_dto).collect()))
}

/// Queues an experience extract for the caller's organisation (a job; its result names the extract).
#[utoipa::path(post, path = "/api/v1/lab/extracts", request_body = ExtractRequestDto,
    responses((status = 202, body = LabJobDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "lab")]
pub async fn request_extract(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<ExtractRequestDto>,
) -> Result<(StatusCode, Json<LabJobDto>), ApiError> {
    let a = b.impact_assessment;
    let pick = |f: fn(&ImpactAssessmentDto) -> &String| a.as_ref().map(|a| f(a).clone()).unwrap_or_default();
    let r = kebao_service::lab_data::ExtractRequest {
        kind: b.kind,
        purpose: b.purpose,
        include_personal: b.include_personal,
        pia_purpose: pick(|a| &a.purpose),
        pia_recipient: pick(|a| &a.recipient),
        pia_necessity: pick(|a| &a.necessity),
        pia_safeguards: pick(|a| &a.safeguards),
    };
    let job = s.svc.request_extract(&actor, &r).await?;
    Ok((StatusCode::ACCEPTED, Json(job_dto(job))))
}

/// One extract.
#[utoipa::path(get, path = "/api/v1/lab/extracts/{id}", params(("id" = String, Path)),
    responses((status = 200, body = ExtractDto), (status = 404, body = ErrorBody)), tag = "lab")]
pub async fn extract(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ExtractDto>, ApiError> {
    Ok(Json(extract_dto(s.svc.extract(&actor, &id).await?)))
}

/// An extract's file (CSV); each download is recorded in the audit log.
#[utoipa::path(get, path = "/api/v1/lab/extracts/{id}/file", params(("id" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody)), tag = "lab")]
pub async fn extract_file(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let (_, csv) = s.svc.extract_file(&actor, &id).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

/// What to fit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FitRequestDto {
    /// One of the organisation's extracts: claims fit a Poisson frequency GLM, loans a scorecard.
    pub extract_id: String,
    /// The model's name in the registry.
    pub name: String,
    /// The extract's columns to use (categorical ones become factors).
    pub variables: Vec<String>,
    /// An L2 (ridge) penalty, as a decimal string (default none), for sparse data.
    #[serde(default)]
    pub l2: String,
}

/// Queues a fit from one of the organisation's extracts (a job; the model then awaits approval).
#[utoipa::path(post, path = "/api/v1/lab/fits", request_body = FitRequestDto,
    responses((status = 202, body = LabJobDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "lab")]
pub async fn request_fit(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<FitRequestDto>,
) -> Result<(StatusCode, Json<LabJobDto>), ApiError> {
    if b.variables.len() > 50 {
        return Err(ApiError::invalid(vec![ErrorDetail {
            field: "variables".into(),
            code: "too_many".into(),
            message_zh: "变量不能超过 50 个".into(),
            message_en: "at most 50 variables".into(),
        }]));
    }
    let r = kebao_service::lab_data::FitRequest {
        extract_id: b.extract_id,
        name: b.name,
        variables: b.variables,
        l2: b.l2,
    };
    let job = s.svc.request_fit(&actor, &r).await?;
    Ok((StatusCode::ACCEPTED, Json(job_dto(job))))
}

/// A stored score (its owner's staff and the scored enterprise only).
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreDto {
    pub id: String,
    pub model_id: String,
    pub model_name: String,
    pub model_version: i64,
    pub owner_org_id: String,
    pub owner_name: String,
    pub subject_org_id: String,
    /// `lending` or `underwriting`.
    pub score_use: String,
    /// The loan scored, if any.
    pub subject_ref: Option<String>,
    /// The inputs as scored, by column.
    pub inputs: BTreeMap<String, String>,
    pub score: f64,
    pub probability: f64,
    /// `accept`, `refer` or `decline`.
    pub decision: Option<String>,
    /// The variables that cost the most points, worst first.
    #[schema(value_type = Vec<Object>)]
    pub reasons: Vec<serde_json::Value>,
    pub created_at: String,
}

fn score_dto(s: kebao_service::lab_scores::ScoreRecord) -> ScoreDto {
    ScoreDto {
        id: s.id,
        model_id: s.model_id,
        model_name: s.model_name,
        model_version: s.model_version,
        owner_org_id: s.owner_org_id,
        owner_name: s.owner_name,
        subject_org_id: s.subject_org_id,
        score_use: s.score_use.code().to_owned(),
        subject_ref: s.subject_ref,
        inputs: s.inputs.into_iter().collect(),
        score: s.score,
        probability: s.probability,
        decision: s.decision.map(|d| d.code().to_owned()),
        reasons: s.reasons.iter().filter_map(|r| serde_json::to_value(r).ok()).collect(),
        created_at: super::rfc3339(s.created_at_us),
    }
}

/// An admission rule in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdmissionRuleDto {
    pub id: String,
    /// `lending` or `underwriting`.
    pub score_use: String,
    pub model_id: String,
    pub model_name: String,
    pub model_version: i64,
    pub accept_at: f64,
    pub decline_below: f64,
    pub set_at: String,
}

fn rule_dto(r: kebao_service::lab_scores::AdmissionRule) -> AdmissionRuleDto {
    AdmissionRuleDto {
        id: r.id,
        score_use: r.score_use.code().to_owned(),
        model_id: r.model.id,
        model_name: r.model.name,
        model_version: r.model.version,
        accept_at: r.accept_at,
        decline_below: r.decline_below,
        set_at: super::rfc3339(r.set_at_us),
    }
}

/// How to decide with a scorecard.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdmissionRuleInput {
    /// One of the organisation's approved scorecards.
    pub model_id: String,
    /// Accept at or above this score (points, as a decimal string).
    pub accept_at: String,
    /// Decline below this score; refer in between.
    pub decline_below: String,
}

/// `/lab/admission-rule`: read, set, end.
pub fn admission_rule_routes() -> axum::routing::MethodRouter<AppState> {
    axum::routing::get(admission_rule).put(set_admission_rule).delete(end_admission_rule)
}

/// The caller's organisation's admission rule in force (null: none).
#[utoipa::path(get, path = "/api/v1/lab/admission-rule",
    responses((status = 200, body = Option<AdmissionRuleDto>), (status = 403, body = ErrorBody)), tag = "lab")]
pub async fn admission_rule(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
) -> Result<Json<Option<AdmissionRuleDto>>, ApiError> {
    Ok(Json(s.svc.admission_rule(&actor).await?.map(rule_dto)))
}

/// Puts an approved scorecard in force as the organisation's admission rule.
#[utoipa::path(put, path = "/api/v1/lab/admission-rule", request_body = AdmissionRuleInput,
    responses((status = 200, body = AdmissionRuleDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "lab")]
pub async fn set_admission_rule(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<AdmissionRuleInput>,
) -> Result<Json<AdmissionRuleDto>, ApiError> {
    Ok(Json(rule_dto(s.svc.set_admission_rule(&actor, &b.model_id, &b.accept_at, &b.decline_below).await?)))
}

/// Ends the organisation's admission rule.
#[utoipa::path(delete, path = "/api/v1/lab/admission-rule",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "lab")]
pub async fn end_admission_rule(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
) -> Result<StatusCode, ApiError> {
    s.svc.end_admission_rule(&actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Scores a loan in review under the bank's admission rule (its reviewers; stored and logged).
#[utoipa::path(post, path = "/api/v1/loans/{id}/score", params(("id" = String, Path)),
    responses((status = 201, body = ScoreDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "lab")]
pub async fn score_loan(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<ScoreDto>), ApiError> {
    Ok((StatusCode::CREATED, Json(score_dto(s.svc.score_loan(&actor, &id).await?))))
}

/// The scores on a loan the caller may see (the bank that owns them, the scored enterprise).
#[utoipa::path(get, path = "/api/v1/loans/{id}/scores", params(("id" = String, Path)),
    responses((status = 200, body = Vec<ScoreDto>)), tag = "lab")]
pub async fn loan_scores(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<ScoreDto>>, ApiError> {
    Ok(Json(s.svc.loan_scores(&actor, &id).await?.into_iter().map(score_dto).collect()))
}

/// The scores institutions computed on the caller's enterprise, with their reasons.
#[utoipa::path(get, path = "/api/v1/lab/my-scores",
    responses((status = 200, body = Vec<ScoreDto>)), tag = "lab")]
pub async fn my_scores(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
) -> Result<Json<Vec<ScoreDto>>, ApiError> {
    Ok(Json(s.svc.my_scores(&actor).await?.into_iter().map(score_dto).collect()))
}

/// A scorecard's monitoring: per month of scoring, PSI, CSI per variable, predicted and realised
/// default rates, and the level against the thresholds.
#[utoipa::path(get, path = "/api/v1/lab/models/{id}/monitoring", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "lab")]
pub async fn monitoring(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let m = s.svc.model_monitoring(&actor, &id).await?;
    Ok(Json(serde_json::json!({"model_id": m.model.id, "watch": m.watch, "alert": m.alert,
        "months": m.months.iter().map(|x| serde_json::json!({"month": x.month, "scored": x.scored,
            "mean_score": x.mean_score, "psi": x.psi, "csi": x.csi.iter().map(|(n, v)| serde_json::json!({"variable": n, "csi": v})).collect::<Vec<_>>(),
            "predicted": x.predicted, "ended": x.ended, "realised": x.realised, "level": x.level.code()})).collect::<Vec<_>>()})))
}

/// Monitoring thresholds.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdsInput {
    /// PSI/CSI to watch at (decimal string, default 0.10).
    pub watch: String,
    /// PSI/CSI to alert at (decimal string, default 0.25).
    pub alert: String,
}

/// Sets a model's monitoring thresholds (its owner's analysts).
#[utoipa::path(put, path = "/api/v1/lab/models/{id}/thresholds", params(("id" = String, Path)), request_body = ThresholdsInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "lab")]
pub async fn thresholds(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ThresholdsInput>,
) -> Result<StatusCode, ApiError> {
    s.svc.set_monitoring_thresholds(&actor, &id, &b.watch, &b.alert).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Queues a batch scoring with an approved scorecard (a job; one event when all is written).
#[utoipa::path(post, path = "/api/v1/lab/models/{id}/batch-score", params(("id" = String, Path)),
    responses((status = 202, body = LabJobDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "lab")]
pub async fn batch_score(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<LabJobDto>), ApiError> {
    let job = s.svc.request_batch_score(&actor, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(job_dto(job))))
}

/// A zone switch.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchDto {
    pub enabled: bool,
}

/// Turns a zone switch on or off (the zone's approvers): `lab_scores_in_credit_report`.
#[utoipa::path(put, path = "/api/v1/zone/switches/{key}", params(("key" = String, Path)), request_body = SwitchDto,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "lab")]
pub async fn set_switch(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(key): ApiPath<String>,
    ApiJson(b): ApiJson<SwitchDto>,
) -> Result<StatusCode, ApiError> {
    let k = kebao_domain::lab::ZoneSwitch::from_code(&key).ok_or(kebao_service::ServiceError::NotFound)?;
    s.svc.set_zone_switch(&actor, k, b.enabled).await?;
    Ok(StatusCode::NO_CONTENT)
}
