//! Disputes: a mediator's step.

use crate::error::ApiError;
use crate::AppState;
use kebao_service::authz::Actor;
use serde::Deserialize;
use utoipa::ToSchema;

/// A mediator's step: `take`, `session` (on, notes), `settle` (outcome), `escalate` (forum, outcome).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DisputeStepDto {
    pub step: String,
    pub on: String,
    pub notes: String,
    pub outcome: String,
    /// arbitration | court
    pub forum: String,
}

pub(crate) async fn dispute_step_run(
    s: &AppState,
    actor: &Actor,
    id: &str,
    b: &DisputeStepDto,
) -> Result<(), ApiError> {
    use kebao_domain::dispute::Forum;
    match b.step.as_str() {
        "take" => s.svc.take_dispute(actor, id).await.map(|_| ())?,
        "session" => s.svc.record_session(actor, id, &b.on, &b.notes).await.map(|_| ())?,
        "settle" => s.svc.conclude_dispute(actor, id, true, None, &b.outcome).await.map(|_| ())?,
        "escalate" => s
            .svc
            .conclude_dispute(actor, id, false, Forum::from_code(&b.forum), &b.outcome)
            .await
            .map(|_| ())?,
        other => {
            return Err(ApiError::invalid(vec![crate::error::ErrorDetail {
                field: "step".into(),
                code: "unknown_step".into(),
                message_zh: format!("步骤 `{other}` 不存在"),
                message_en: format!("step `{other}` does not exist: use take, session, settle or escalate"),
            }]))
        }
    }
    Ok(())
}
