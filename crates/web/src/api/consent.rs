//! The consent and credit API: consents and their receipts, credit reports, "who looked at
//! my data", the verifiable log (tree heads, inclusion and consistency proofs) and scoped
//! API keys for third-party applications.

use super::rfc3339;
use super::{ApiJson, ApiMultipart, ApiPath, ApiQuery, SignedIn};
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::session::ApiActor;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kebao_domain::consent::Purpose;
use kebao_domain::merkle::{ConsistencyProof, InclusionProof, PublishedHead};
use kebao_service::consent::{AccessEntry, ConsentView, CreditReport};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

type ApiResult<T> = Result<Json<T>, ApiError>;

pub(crate) use crate::forms::consent::{consent_input, read_form};

/// A consent, as its receipt states it: who, what, why, until when.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentDto {
    pub id: String,
    pub enterprise_id: String,
    pub enterprise_name: String,
    pub grantee_id: String,
    pub grantee_name: String,
    /// enterprise | personal
    pub kind: String,
    pub scopes: Vec<String>,
    pub purpose: String,
    pub valid_from: String,
    pub expires_on: String,
    /// valid | not_yet_valid | expired | revoked
    pub state: String,
    pub signer_name: String,
    pub signer_title: String,
    pub person_name: Option<String>,
    pub person_role: Option<String>,
    pub evidence_file_name: String,
    /// SHA-256 of the signed authorisation.
    pub evidence_sha256: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

pub(crate) fn consent_dto(v: &ConsentView) -> ConsentDto {
    let c = &v.consent;
    ConsentDto {
        id: c.id.clone(),
        enterprise_id: c.enterprise_id.clone(),
        enterprise_name: v.enterprise_name.clone(),
        grantee_id: c.grantee_id.clone(),
        grantee_name: v.grantee_name.clone(),
        kind: c.kind.code().to_owned(),
        scopes: c.scopes.iter().map(|s| s.code().to_owned()).collect(),
        purpose: c.purpose.code().to_owned(),
        valid_from: c.valid_from.to_string(),
        expires_on: c.expires_on.to_string(),
        state: v.state.code().to_owned(),
        signer_name: c.signer_name.clone(),
        signer_title: c.signer_title.clone(),
        person_name: c.person_name.clone(),
        person_role: c.person_role.map(|r| r.code().to_owned()),
        evidence_file_name: v.evidence.file_name.clone(),
        evidence_sha256: c.evidence_sha256.clone(),
        created_at: rfc3339(c.created_at_us),
        revoked_at: c.revoked_at_us.map(rfc3339),
    }
}

/// Give a consent (an enterprise admin): multipart fields `grantee_id`, `scopes` (repeated
/// or comma-separated), `purpose`, `valid_from`, `expires_on`, `signer_name`,
/// `signer_title`, optionally `kind=personal` with `person_name` and `person_role`, and the
/// signed authorisation as the file field `evidence`.
#[utoipa::path(post, path = "/api/v1/consents", request_body(content_type = "multipart/form-data"),
    responses((status = 201, body = ConsentDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "consent")]
pub async fn grant(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiMultipart(m): ApiMultipart,
) -> Result<(StatusCode, Json<ConsentDto>), ApiError> {
    let (fields, file) = read_form(m, "evidence").await?;
    let Some((name, bytes)) = file else {
        return Err(ApiError::invalid(vec![ErrorDetail {
            field: "evidence".into(),
            code: "required".into(),
            message_zh: "请上传签署的授权书".into(),
            message_en: "attach the signed authorisation as `evidence`".into(),
        }]));
    };
    let enterprise = actor.org_id().unwrap_or_default().to_owned();
    let v = s.svc.grant_consent(&actor, &enterprise, &consent_input(&fields), &name, &bytes).await?;
    Ok((StatusCode::CREATED, Json(consent_dto(&v))))
}

/// Consents the caller's organisation gave (an enterprise) or was given (anyone else).
#[utoipa::path(get, path = "/api/v1/consents", responses((status = 200, body = Vec<ConsentDto>), (status = 401, body = ErrorBody)), tag = "consent")]
pub async fn mine(State(s): State<AppState>, SignedIn(actor): SignedIn) -> ApiResult<Vec<ConsentDto>> {
    Ok(Json(s.svc.my_consents(&actor).await?.iter().map(consent_dto).collect()))
}

/// One consent: its receipt.
#[utoipa::path(get, path = "/api/v1/consents/{id}", security((), ("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ConsentDto), (status = 404, body = ErrorBody)), tag = "consent")]
pub async fn get_consent(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ConsentDto> {
    Ok(Json(consent_dto(&s.svc.consent(&actor, &id).await?)))
}

/// The signed authorisation file.
#[utoipa::path(get, path = "/api/v1/consents/{id}/evidence", security((), ("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = ErrorBody)), tag = "consent")]
pub async fn evidence(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let (a, body) = s.svc.consent_evidence(&actor, &id).await?;
    Ok(crate::forms::attachments::attachment_response(&a, body))
}

/// Revoke a consent (the enterprise); reads under it stop at once.
#[utoipa::path(post, path = "/api/v1/consents/{id}/revoke", params(("id" = String, Path)),
    responses((status = 200, body = ConsentDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "consent")]
pub async fn revoke(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ConsentDto> {
    s.svc.revoke_consent(&actor, &id).await?;
    Ok(Json(consent_dto(&s.svc.consent(&actor, &id).await?)))
}

/// The purpose of a read.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct PurposeParams {
    /// loan_review | underwriting | guarantee_review | investment_due_diligence | subsidy_review
    pub purpose: String,
}

pub(crate) fn parse_purpose(p: &str) -> Result<Purpose, ApiError> {
    Purpose::from_code(p).ok_or_else(|| {
        ApiError::invalid(vec![ErrorDetail {
            field: "purpose".into(),
            code: if p.trim().is_empty() { "required".into() } else { "unknown_purpose".into() },
            message_zh: "请说明查询用途：loan_review、underwriting、guarantee_review、investment_due_diligence 或 subsidy_review".into(),
            message_en: format!(
                "state the purpose (`{p}` is not one): {}",
                Purpose::ALL.iter().map(|x| x.code()).collect::<Vec<_>>().join(", ")
            ),
        }])
    })
}

/// A section of a credit report.
#[derive(Debug, Serialize, ToSchema)]
pub struct SectionDto {
    pub scope: String,
    pub data_class: String,
    pub allowed: bool,
    pub basis: String,
    pub consent_id: Option<String>,
    pub reason: String,
    pub reason_zh: String,
    pub fields: Vec<FieldDto>,
}

/// A field of a credit report.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldDto {
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    /// The lines in Chinese.
    pub values: Vec<String>,
    /// The same lines in English (data such as names and records' text as recorded).
    pub values_en: Vec<String>,
}

/// A credit report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportDto {
    pub org_id: String,
    pub name: String,
    pub uscc: String,
    pub purpose: String,
    /// The event that recorded this read (ask the enterprise for its inclusion proof).
    pub event_seq: u64,
    pub generated_at: String,
    pub sections: Vec<SectionDto>,
}

pub(crate) fn report_dto(r: &CreditReport) -> ReportDto {
    ReportDto {
        org_id: r.org.id.clone(),
        name: r.org.name.clone(),
        uscc: r.org.uscc.clone(),
        purpose: r.purpose.code().to_owned(),
        event_seq: r.event_seq,
        generated_at: rfc3339(r.generated_at_us),
        sections: r
            .sections
            .iter()
            .map(|s| SectionDto {
                scope: s.scope.code().to_owned(),
                data_class: s.class.code().to_owned(),
                allowed: s.check.allowed,
                basis: s.check.basis.to_owned(),
                consent_id: s.check.consent_id.clone(),
                reason: s.check.reason_en.clone(),
                reason_zh: s.check.reason_zh.clone(),
                fields: s
                    .fields
                    .iter()
                    .map(|(k, zh, en, v)| FieldDto {
                        key: k.clone(),
                        label_zh: zh.clone(),
                        label_en: en.clone(),
                        values: v.iter().map(|l| l.zh.clone()).collect(),
                        values_en: v.iter().map(|l| l.en.clone()).collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// A credit report of an enterprise, for a stated purpose: only the scopes a lawful basis
/// covers; the read is an event the enterprise can prove.
#[utoipa::path(get, path = "/api/v1/credit-reports/{org_id}", params(("org_id" = String, Path), PurposeParams),
    responses((status = 200, body = ReportDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "consent")]
pub async fn report(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(org_id): ApiPath<String>,
    ApiQuery(p): ApiQuery<PurposeParams>,
) -> ApiResult<ReportDto> {
    let purpose = parse_purpose(&p.purpose)?;
    Ok(Json(report_dto(&s.svc.credit_report(&actor, &org_id, purpose).await?)))
}

/// An entry of "who looked at my data".
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessDto {
    pub seq: u64,
    pub at: String,
    pub reader_org: String,
    pub reader_name: String,
    pub purpose: String,
    pub basis: String,
    pub consent_id: Option<String>,
    /// read | refused
    pub outcome: String,
    pub scopes: Vec<String>,
    /// Where to get its inclusion proof.
    pub proof_url: String,
}

pub(crate) fn access_dto(a: &AccessEntry) -> AccessDto {
    AccessDto {
        seq: a.event.seq,
        at: rfc3339(a.event.at_us),
        reader_org: a.reader_org.clone(),
        reader_name: a.reader_name.clone(),
        purpose: a.purpose.clone(),
        basis: a.basis.clone(),
        consent_id: a.consent_id.clone(),
        outcome: a.outcome.clone(),
        scopes: a.scopes.clone(),
        proof_url: format!("/api/v1/transparency/inclusion/{}", a.event.seq),
    }
}

/// Who looked at an enterprise's data (the enterprise itself, and the zone's auditors).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/access-log", params(("id" = String, Path)),
    responses((status = 200, body = Vec<AccessDto>), (status = 403, body = ErrorBody)), tag = "consent")]
pub async fn access_log(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Vec<AccessDto>> {
    Ok(Json(s.svc.access_log(&actor, &id).await?.iter().map(access_dto).collect()))
}

/// The published signed tree heads, newest first, and the platform's public key.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeadsDto {
    pub public_key: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub tree_heads: Vec<PublishedHead>,
}

/// Published signed tree heads (public).
#[utoipa::path(get, path = "/api/v1/transparency/tree-heads", security((), ("bearer" = [])), responses((status = 200, body = HeadsDto)), tag = "transparency")]
pub async fn tree_heads(State(s): State<AppState>) -> ApiResult<HeadsDto> {
    Ok(Json(HeadsDto {
        public_key: s.svc.public_key().map(hex_key),
        tree_heads: s.svc.tree_heads(100).await?,
    }))
}

fn hex_key(k: [u8; 32]) -> String {
    k.iter().map(|b| format!("{b:02x}")).collect()
}

/// The inclusion proof of an event (`kebao.inclusion/1`), for the enterprise it is about.
#[utoipa::path(get, path = "/api/v1/transparency/inclusion/{seq}", security((), ("bearer" = [])), params(("seq" = u64, Path)),
    responses((status = 200, description = "kebao.inclusion/1 JSON"), (status = 404, body = ErrorBody)), tag = "transparency")]
pub async fn inclusion(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(seq): ApiPath<u64>,
) -> Result<Response, ApiError> {
    let p: InclusionProof = s.svc.inclusion_proof(&actor, seq).await?;
    let body = serde_json::to_vec_pretty(&p)
        .map_err(|e| ApiError::from(kebao_service::ServiceError::Internal(e.to_string())))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"kebao-proof-{seq}.json\"")),
        ],
        body,
    )
        .into_response())
}

/// Consistency proof parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyParams {
    pub first: u64,
    pub second: u64,
}

/// A consistency proof between two tree sizes (public).
#[utoipa::path(get, path = "/api/v1/transparency/consistency", security((), ("bearer" = [])), params(ConsistencyParams),
    responses((status = 200, description = "kebao.consistency/1 JSON"), (status = 422, body = ErrorBody)), tag = "transparency")]
pub async fn consistency(
    State(s): State<AppState>,
    ApiQuery(p): ApiQuery<ConsistencyParams>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    Ok(Json(s.svc.consistency_proof(p.first, p.second).await?))
}

/// A request for an API key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyRequestDto {
    pub name: String,
    /// products:read | orgs:read | credit:read | consents:read | transparency:read
    pub scopes: Vec<String>,
    #[serde(default = "sixty")]
    pub rate_per_minute: u32,
}

fn sixty() -> u32 {
    60
}

/// An issued API key (the secret is shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyDto {
    pub id: String,
    pub key: String,
    pub scopes: Vec<String>,
    pub rate_per_minute: u32,
    pub expires_at: String,
}

/// Issue a scoped, rate-limited API key for a third-party application, acting as the caller.
#[utoipa::path(post, path = "/api/v1/api-keys", request_body = ApiKeyRequestDto,
    responses((status = 201, body = ApiKeyDto), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "auth")]
pub async fn issue_key(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(r): ApiJson<ApiKeyRequestDto>,
) -> Result<(StatusCode, Json<ApiKeyDto>), ApiError> {
    let (secret, row) = s.svc.issue_api_key(&actor, &r.name, &r.scopes, r.rate_per_minute).await?;
    Ok((
        StatusCode::CREATED,
        Json(ApiKeyDto {
            id: row.id,
            key: secret,
            scopes: row.scopes.unwrap_or_default().split(',').map(str::to_owned).collect(),
            rate_per_minute: r.rate_per_minute,
            expires_at: rfc3339(row.expires_at_us),
        }),
    ))
}
