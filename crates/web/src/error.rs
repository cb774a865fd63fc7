//! `ApiError`: one error type for the JSON API, with a stable machine code. 5xx bodies are
//! opaque; the cause is logged once, here.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kebao_service::tabular::TableError;
use kebao_service::ServiceError;
use serde::Serialize;

/// A field-level problem in an error response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub field: String,
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

/// What went wrong: the object under `error` in every error response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorInfo {
    /// A stable machine code (`validation_failed`, `not_found`, `forbidden` …).
    pub code: String,
    /// English message.
    pub message: String,
    /// Chinese message.
    pub message_zh: String,
    pub details: Vec<ErrorDetail>,
}

/// The body of every error response: `{"error": {code, message, message_zh, details}}`.
/// The OpenAPI document names this schema for every 4xx and 5xx response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorInfo,
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorInfo,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: &'a ErrorInfo,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &str, en: impl Into<String>, zh: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ErrorInfo {
                code: code.into(),
                message: en.into(),
                message_zh: zh.into(),
                details: Vec::new(),
            },
        }
    }

    /// 422 with field details.
    pub fn invalid(details: Vec<ErrorDetail>) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "the input is invalid; see details",
            "输入有误，请查看各项说明",
        );
        e.body.details = details;
        e
    }

    /// A malformed body or query.
    pub fn bad_request(en: impl Into<String>) -> ApiError {
        let en = en.into();
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", en.clone(), format!("请求格式错误：{en}"))
    }
}

pub(crate) fn details_of(e: &kebao_domain::Invalid) -> Vec<ErrorDetail> {
    e.0.iter()
        .map(|f| ErrorDetail {
            field: f.field.clone(),
            code: f.code.to_owned(),
            message_zh: f.message_zh.clone(),
            message_en: f.message_en.clone(),
        })
        .collect()
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        match e {
            ServiceError::Invalid(inv) => ApiError::invalid(details_of(&inv)),
            ServiceError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", "not found", "未找到")
            }
            ServiceError::Unauthenticated(m) if m.contains("expired") => {
                ApiError::new(StatusCode::UNAUTHORIZED, "session_expired", m, "登录已过期，请重新登录")
            }
            ServiceError::Unauthenticated(m) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", m, "用户名或密码错误，或尚未登录")
            }
            ServiceError::Forbidden { action: "password_change_required", .. } => {
                crate::session::password_change_error()
            }
            ServiceError::Forbidden { action, reason } => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("you may not {action}: {reason}"),
                "无权执行此操作",
            ),
            ServiceError::Conflict(f) => {
                let mut e = ApiError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    f.message_en.clone(),
                    f.message_zh.clone(),
                );
                e.body.details = details_of(&kebao_domain::Invalid(vec![f]));
                e
            }
            ServiceError::Busy => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the database is busy; try again",
                "系统繁忙，请稍后重试",
            ),
            ServiceError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error", "系统内部错误")
            }
        }
    }
}

impl From<TableError> for ApiError {
    fn from(e: TableError) -> ApiError {
        let status = match e {
            TableError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, e.code(), e.to_string(), e.message_zh())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(Envelope { error: &self.body })).into_response()
    }
}
