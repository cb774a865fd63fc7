//! Attachments: one download path for every file the platform keeps (product, claim and
//! subsidy documents, consent evidence), for whoever may read the file's owner.

use super::ApiPath;
use crate::error::{ApiError, ErrorBody};
use crate::session::ApiActor;
use crate::AppState;
use axum::extract::State;
use axum::response::Response;

/// Download an attachment: a product version's document, a claim's or a subsidy
/// application's document, or a consent's signed authorisation (whoever may read its owner;
/// others get 404).
#[utoipa::path(get, path = "/api/v1/attachments/{id}", security((), ("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = ErrorBody)), tag = "attachments")]
pub async fn download(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let (a, body) = s.svc.attachment(&actor, &id).await?;
    Ok(crate::forms::attachments::attachment_response(&a, body))
}
