//! Personal-data rights: a person's own data and requests; the administrators' answers.

use super::{rfc3339, ApiJson, ApiPath, SignedIn};
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kebao_domain::privacy::{DataRequest, RequestKind};
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
    pub overdue: bool,
}

fn dto(r: DataRequest, person: Option<String>, overdue: bool) -> DataRequestDto {
    DataRequestDto {
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
    let r = s.svc.answer_data_request(&actor, &id, b.grant, &b.answer).await?;
    Ok(Json(dto(r, None, false)))
}
