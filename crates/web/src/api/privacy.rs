//! Personal-data rights: a person's own data and requests; the administrators' answers.

use super::{rfc3339, ApiJson, ApiPath, SignedIn};
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kebao_domain::privacy::{AssessmentInput, DataRequest, ImpactAssessment, RequestKind};
use kebao_domain::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type ApiResult<T> = Result<Json<T>, ApiError>;

/// A personal-data request.
#[derive(Debug, Serialize, ToSchema)]
pub struct DataRequestDto {
    pub id: String,
    /// `access`, `correct` or `delete`.
    pub kind: String,
    pub kind_zh: String,
    pub kind_en: String,
    pub details: String,
    pub filed_at: String,
    /// The day the answer is due (the platform's own deadline: the law says "promptly").
    pub due_on: String,
    /// `open`, `granted` or `refused`.
    pub state: String,
    pub answer: Option<String>,
    pub answered_at: Option<String>,
    /// The person, named (the administrators' list only).
    pub person: Option<String>,
    /// Recorded by an administrator for a person who is not a user.
    pub for_non_user: bool,
    /// How that person's identity was checked (the administrators only).
    pub identity_check: Option<String>,
    pub overdue: bool,
}

fn dto(r: DataRequest, person: Option<String>, overdue: bool) -> DataRequestDto {
    let admin = person.is_some();
    DataRequestDto {
        for_non_user: r.user_id.is_none(),
        identity_check: r.identity_check.filter(|_| admin),
        kind: r.kind.code().to_owned(),
        kind_zh: r.kind.label_zh().to_owned(),
        kind_en: r.kind.label_en().to_owned(),
        details: r.details,
        filed_at: rfc3339(r.filed_at_us),
        due_on: r.due_on.to_string(),
        state: r.state.code().to_owned(),
        answer: r.answer,
        answered_at: r.answered_at_us.map(rfc3339),
        person,
        overdue,
        id: r.id,
    }
}

/// What the platform holds about the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyDataDto {
    pub username: String,
    pub display_name: String,
    pub organisation: String,
    pub roles: Vec<String>,
    pub active: bool,
    pub open_sessions: i64,
    pub api_tokens_in_force: i64,
    pub sign_in_attempts_recorded: i64,
    pub requests: Vec<DataRequestDto>,
}

/// What the platform holds about the caller, and their personal-data requests.
#[utoipa::path(get, path = "/api/v1/me/data", responses((status = 200, body = MyDataDto), (status = 401, body = ErrorBody)), tag = "privacy")]
pub async fn my_data(State(s): State<AppState>, SignedIn(actor): SignedIn) -> ApiResult<MyDataDto> {
    let d = s.svc.my_data(&actor).await?;
    let today = s.svc.today();
    Ok(Json(MyDataDto {
        username: d.username,
        display_name: d.display_name,
        organisation: d.org_name,
        roles: d.roles.iter().map(|r| r.code().to_owned()).collect(),
        active: d.active,
        open_sessions: d.sessions,
        api_tokens_in_force: d.api_tokens,
        sign_in_attempts_recorded: d.sign_in_attempts,
        requests: d
            .requests
            .into_iter()
            .map(|r| {
                let late = r.overdue(today);
                dto(r, None, late)
            })
            .collect(),
    }))
}

/// A request about the caller's own data.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRequestDto {
    /// `access`, `correct` or `delete`.
    pub kind: String,
    /// Which data to correct or delete (required for those), at most 2,000 characters.
    #[serde(default)]
    pub details: String,
}

/// Ask to see, correct or delete your personal data; answered by the due date.
#[utoipa::path(post, path = "/api/v1/me/data-requests", request_body = FileRequestDto,
    responses((status = 201, body = DataRequestDto), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "privacy")]
pub async fn file(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<FileRequestDto>,
) -> Result<(StatusCode, Json<DataRequestDto>), ApiError> {
    let kind = RequestKind::from_code(&b.kind).ok_or_else(|| {
        ApiError::from(kebao_service::ServiceError::from(FieldError::new(
            "kind",
            "unknown",
            "请求种类应为 access、correct 或 delete",
            "kind must be access, correct or delete",
        )))
    })?;
    let r = s.svc.file_data_request(&actor, kind, &b.details).await?;
    Ok((StatusCode::CREATED, Json(dto(r, None, false))))
}

/// Every personal-data request, open ones first (the platform's administrators).
#[utoipa::path(get, path = "/api/v1/data-requests", responses((status = 200, body = Vec<DataRequestDto>), (status = 403, body = ErrorBody)), tag = "privacy")]
pub async fn list(State(s): State<AppState>, SignedIn(actor): SignedIn) -> ApiResult<Vec<DataRequestDto>> {
    Ok(Json(
        s.svc
            .data_requests(&actor)
            .await?
            .into_iter()
            .map(|v| dto(v.request, Some(v.person), v.overdue))
            .collect(),
    ))
}

/// An answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerDto {
    /// Done (true) or refused (false).
    pub grant: bool,
    /// What was done, or why not (required, at most 2,000 characters).
    pub answer: String,
    /// Granting a deletion: the events whose words naming the person are erased (their
    /// numbers, as `GET /api/v1/data-requests/{id}` lists them; at most 200).
    #[serde(default)]
    pub erase: Vec<u64>,
}

/// Answer a personal-data request (the platform's administrators); the person is notified.
#[utoipa::path(post, path = "/api/v1/data-requests/{id}/answer", params(("id" = String, Path)), request_body = AnswerDto,
    responses((status = 200, body = DataRequestDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "privacy")]
pub async fn answer(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<AnswerDto>,
) -> ApiResult<DataRequestDto> {
    if b.erase.len() > MAX_ERASE {
        return Err(ApiError::from(kebao_service::ServiceError::from(FieldError::new(
            "erase",
            "too_many",
            format!("一次最多删除 {MAX_ERASE} 处文字"),
            format!("at most {MAX_ERASE} erasures at once"),
        ))));
    }
    let r = s.svc.answer_data_request(&actor, &id, b.grant, &b.answer, &b.erase).await?;
    Ok(Json(dto(r, Some(String::new()), false)))
}

/// The most erasures one answer may ask for (a request's page lists at most 200 texts).
const MAX_ERASE: usize = 200;

/// A request recorded for a person who is not a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonRequestDto {
    /// The person's name (an enterprise's legal representative, a guarantor named in a consent).
    pub person_name: String,
    /// How their identity was checked (an identity card seen, by whom).
    pub identity_check: String,
    /// The enterprise that named the person, if any.
    #[serde(default)]
    pub org_id: String,
    /// `access`, `correct` or `delete`.
    pub kind: String,
    #[serde(default)]
    pub details: String,
}

/// Record the request of a person who is not a user (the platform's administrators); it is
/// answered like any other, by the due date.
#[utoipa::path(post, path = "/api/v1/data-requests", request_body = PersonRequestDto,
    responses((status = 201, body = DataRequestDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "privacy")]
pub async fn record(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<PersonRequestDto>,
) -> Result<(StatusCode, Json<DataRequestDto>), ApiError> {
    let input = kebao_service::privacy::PersonRequestInput {
        person_name: b.person_name,
        identity_check: b.identity_check,
        org_id: b.org_id,
        kind: b.kind,
        details: b.details,
    };
    let r = s.svc.record_data_request(&actor, &input).await?;
    let person = r.person_name.clone();
    Ok((StatusCode::CREATED, Json(dto(r, person, false))))
}

/// A record that names the person.
#[derive(Debug, Serialize, ToSchema)]
pub struct NamedDto {
    /// The stored field (`consents.signer_name`, `policies.insured_name`, …).
    pub field: String,
    pub field_zh: String,
    pub field_en: String,
    pub record_id: String,
    pub organisation: String,
    /// A date or a policy number that identifies the record.
    pub reference: String,
}

/// Words kept beside an event that name the person.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonTextDto {
    /// The event's number: give it in `erase` to erase these words.
    pub event: u64,
    pub at: String,
    pub action: String,
    pub action_zh: String,
    pub action_en: String,
    /// What the event is about (an id).
    pub subject: String,
    /// `reason`, `note` or `file_name`.
    pub field: String,
    pub text: String,
}

/// One request with what the platform holds about its person.
#[derive(Debug, Serialize, ToSchema)]
pub struct DataRequestDetailDto {
    pub request: DataRequestDto,
    pub named: Vec<NamedDto>,
    pub texts: Vec<PersonTextDto>,
}

/// One personal-data request with what the platform holds about its person: the records
/// that name them and the words kept beside events that do (the platform's administrators).
#[utoipa::path(get, path = "/api/v1/data-requests/{id}", params(("id" = String, Path)),
    responses((status = 200, body = DataRequestDetailDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "privacy")]
pub async fn get(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<DataRequestDetailDto> {
    let d = s.svc.data_request(&actor, &id).await?;
    Ok(Json(DataRequestDetailDto {
        named: d
            .named
            .into_iter()
            .map(|n| {
                let (zh, en) = kebao_domain::privacy::field_label(n.field);
                NamedDto {
                    field: n.field.to_owned(),
                    field_zh: zh.to_owned(),
                    field_en: en.to_owned(),
                    record_id: n.record_id,
                    organisation: n.org_name,
                    reference: n.reference,
                }
            })
            .collect(),
        texts: d
            .texts
            .into_iter()
            .map(|t| {
                let (zh, en) =
                    kebao_domain::event::action_label(&t.action).unwrap_or(("其他事件", "Another event"));
                PersonTextDto {
                    event: t.seq,
                    at: rfc3339(t.at_us),
                    action_zh: zh.to_owned(),
                    action_en: en.to_owned(),
                    action: t.action,
                    subject: t.subject,
                    field: t.field,
                    text: t.text,
                }
            })
            .collect(),
        request: dto(d.view.request, Some(d.view.person), d.view.overdue),
    }))
}

/// A personal-information protection impact assessment.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentDto {
    pub id: String,
    /// `recipient` or `extract`.
    pub target: String,
    pub target_zh: String,
    pub target_en: String,
    pub recipient_org_id: Option<String>,
    pub recipient_name: Option<String>,
    /// `api_credit_read` or `api_consents_read`.
    pub extract: Option<String>,
    pub purpose: String,
    pub data: String,
    pub recipients: String,
    pub assessed_on: String,
    pub reviewer: String,
    pub conclusion: String,
    pub recorded_at: String,
}

fn assessment_dto(a: ImpactAssessment, recipient_name: Option<String>) -> AssessmentDto {
    AssessmentDto {
        id: a.id,
        target: a.target.code().to_owned(),
        target_zh: a.target.label_zh().to_owned(),
        target_en: a.target.label_en().to_owned(),
        recipient_org_id: a.recipient_org_id,
        recipient_name,
        extract: a.extract.map(|e| e.code().to_owned()),
        purpose: a.purpose,
        data: a.data,
        recipients: a.recipients,
        assessed_on: a.assessed_on.to_string(),
        reviewer: a.reviewer,
        conclusion: a.conclusion,
        recorded_at: rfc3339(a.recorded_at_us),
    }
}

/// The impact assessments on record, newest first (the platform's administrators, and
/// readers of the audit log).
#[utoipa::path(get, path = "/api/v1/impact-assessments", responses((status = 200, body = Vec<AssessmentDto>), (status = 403, body = ErrorBody)), tag = "privacy")]
pub async fn assessments(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
) -> ApiResult<Vec<AssessmentDto>> {
    Ok(Json(s.svc.impact_assessments(&actor).await?.into_iter().map(|(a, n)| assessment_dto(a, n)).collect()))
}

/// An impact assessment to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentBody {
    /// `recipient` (personal data to a new recipient) or `extract`.
    pub target: String,
    /// For `recipient`: the organisation that receives personal data.
    #[serde(default)]
    pub recipient_org_id: String,
    /// For `extract`: `api_credit_read` or `api_consents_read` (API keys with the scope
    /// `credit:read` or `consents:read`).
    #[serde(default)]
    pub extract: String,
    pub purpose: String,
    /// Which personal data.
    pub data: String,
    /// Who receives it, and how it is protected.
    pub recipients: String,
    /// `YYYY-MM-DD`, not in the future.
    pub assessed_on: String,
    /// Who reviewed it (name and post).
    pub reviewer: String,
    /// The risks and the measures taken.
    pub conclusion: String,
}

/// Record an impact assessment (the platform's administrators): personal data may then go to
/// its recipient, or into its extract.
#[utoipa::path(post, path = "/api/v1/impact-assessments", request_body = AssessmentBody,
    responses((status = 201, body = AssessmentDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "privacy")]
pub async fn record_assessment(
    State(s): State<AppState>,
    SignedIn(actor): SignedIn,
    ApiJson(b): ApiJson<AssessmentBody>,
) -> Result<(StatusCode, Json<AssessmentDto>), ApiError> {
    let input = AssessmentInput {
        target: b.target,
        recipient_org_id: b.recipient_org_id,
        extract: b.extract,
        purpose: b.purpose,
        data: b.data,
        recipients: b.recipients,
        assessed_on: b.assessed_on,
        reviewer: b.reviewer,
        conclusion: b.conclusion,
    };
    let a = s.svc.record_impact_assessment(&actor, &input).await?;
    Ok((StatusCode::CREATED, Json(assessment_dto(a, None))))
}
