//! Policies bought outside the platform: the policyholder registers one from the paper,
//! files its documents, and the insurer named on it confirms it with the premium received
//! (or does not). The insured object and parties any policy names.

use super::policies::{policy_dto, PolicyDto};
use super::{ApiJson, ApiMultipart, ApiPath, SignedIn};
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kebao_domain::attachment::Owner;
use kebao_domain::policy::RegistrationFields;
use kebao_domain::subject::{Subject, SubjectFields};
use kebao_service::registered::AnswerFields;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a policy insures and whom it names besides the policyholder. All optional; an
/// object needs a kind and an identifier, a party a name.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SubjectDto {
    /// equipment | material | software | product_line
    pub object_kind: String,
    /// The model of the equipment, the grade of the material, the software's name and version.
    pub object_identifier: String,
    /// The catalogue entry it is listed in.
    pub object_catalogue: String,
    /// The insured, where not the policyholder.
    pub insured_name: String,
    pub insured_uscc: String,
    /// The beneficiary (for first-set and new-material cover: the user).
    pub beneficiary_name: String,
    pub beneficiary_uscc: String,
}

impl SubjectDto {
    pub(crate) fn parse(&self) -> Result<Subject, ApiError> {
        Subject::parse(&self.fields()).map_err(|e| kebao_service::ServiceError::Invalid(e).into())
    }

    pub(crate) fn fields(&self) -> SubjectFields {
        SubjectFields {
            object_kind: self.object_kind.clone(),
            object_identifier: self.object_identifier.clone(),
            object_catalogue: self.object_catalogue.clone(),
            insured_name: self.insured_name.clone(),
            insured_uscc: self.insured_uscc.clone(),
            beneficiary_name: self.beneficiary_name.clone(),
            beneficiary_uscc: self.beneficiary_uscc.clone(),
        }
    }

    pub(crate) fn of(s: &Subject) -> SubjectDto {
        let f = s.fields();
        SubjectDto {
            object_kind: f.object_kind,
            object_identifier: f.object_identifier,
            object_catalogue: f.object_catalogue,
            insured_name: f.insured_name,
            insured_uscc: f.insured_uscc,
            beneficiary_name: f.beneficiary_name,
            beneficiary_uscc: f.beneficiary_uscc,
        }
    }
}

/// A policy bought outside the platform, as printed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyRegistrationDto {
    /// A product its insurer publishes on the platform (`/api/v1/products`).
    pub product_id: String,
    /// The policy number as printed.
    pub number: String,
    /// YYYY-MM-DD; up to six years back.
    pub start_date: String,
    /// YYYY-MM-DD, the last day of cover.
    pub end_date: String,
    pub premium_yuan: String,
    #[serde(default)]
    pub sum_insured_yuan: String,
    #[serde(default)]
    pub limit_yuan: String,
    #[serde(default)]
    pub subject: SubjectDto,
}

/// Register a policy bought outside the platform (status `unconfirmed` until the insurer
/// named on it answers). Its underwriters get a to-do.
#[utoipa::path(post, path = "/api/v1/policies/registered", request_body = PolicyRegistrationDto,
    responses((status = 201, body = PolicyDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "policies")]
pub async fn register(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(body): ApiJson<PolicyRegistrationDto>,
) -> Result<(StatusCode, Json<PolicyDto>), ApiError> {
    let subject = body.subject.parse()?;
    let f = RegistrationFields {
        product_id: body.product_id,
        number: body.number,
        start_date: body.start_date,
        end_date: body.end_date,
        premium_yuan: body.premium_yuan,
        sum_insured_yuan: body.sum_insured_yuan,
        limit_yuan: body.limit_yuan,
    };
    let p = s.svc.register_policy(&actor, &f, &subject).await?;
    Ok((StatusCode::CREATED, Json(policy_dto(&p, None))))
}

/// The insurer's answer to a registered policy.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationAnswerDto {
    /// true: the policy is ours and the premium below was received; false: not recognised.
    pub confirm: bool,
    /// The premium as booked (blank: as registered).
    #[serde(default)]
    pub premium_yuan: String,
    /// The premium received (blank: all of it).
    #[serde(default)]
    pub received_yuan: String,
    /// Required when not confirming.
    #[serde(default)]
    pub note: String,
}

/// The insurer named on a registered policy confirms it with the premium received (which
/// enters its ledger) or does not recognise it.
#[utoipa::path(post, path = "/api/v1/policies/{id}/registration-answer", params(("id" = String, Path)), request_body = RegistrationAnswerDto,
    responses((status = 200, body = PolicyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "policies")]
pub async fn answer(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RegistrationAnswerDto>,
) -> Result<Json<PolicyDto>, ApiError> {
    let f = AnswerFields {
        confirm: body.confirm,
        premium_yuan: body.premium_yuan,
        received_yuan: body.received_yuan,
        note: body.note,
    };
    let p = s.svc.answer_registration(&actor, &id, &f).await?;
    Ok(Json(policy_dto(&p, None)))
}

/// File a document of a registered policy (the paper policy, the premium invoice), while
/// its insurer has not answered; read it back at `/api/v1/attachments/{id}`.
#[utoipa::path(post, path = "/api/v1/policies/{id}/registration-documents", params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 201), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "policies")]
pub async fn upload_document(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiMultipart(multipart): ApiMultipart,
) -> Result<StatusCode, ApiError> {
    let (name, bytes, _) = super::products::read_upload(multipart).await?;
    s.svc
        .attach(&actor, &Owner::registered_policy(&id), &name, &bytes)
        .await
        .map_err(super::products::too_large_is_413)?;
    Ok(StatusCode::CREATED)
}
