//! Disputes: a mediator's step, parsed into a [`DisputeStep`] and dispatched by it.

use crate::error::{ApiError, ErrorDetail};
use crate::AppState;
use kebao_domain::dispute::{DisputeStep, Forum};
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

/// The step the form or body names (unknown: 422 naming `step`).
pub(crate) fn dispute_step(b: &DisputeStepDto) -> Result<DisputeStep, ApiError> {
    DisputeStep::from_code(&b.step).ok_or_else(|| {
        ApiError::invalid(vec![ErrorDetail {
            field: "step".into(),
            code: "unknown_step".into(),
            message_zh: format!("步骤 `{}` 不存在", b.step),
            message_en: format!("step `{}` does not exist: use take, session, settle or escalate", b.step),
        }])
    })
}

pub(crate) async fn dispute_step_run(
    s: &AppState,
    actor: &Actor,
    id: &str,
    b: &DisputeStepDto,
) -> Result<(), ApiError> {
    match dispute_step(b)? {
        DisputeStep::Take => s.svc.take_dispute(actor, id).await.map(|_| ())?,
        DisputeStep::Session => s.svc.record_session(actor, id, &b.on, &b.notes).await.map(|_| ())?,
        DisputeStep::Settle => s.svc.conclude_dispute(actor, id, true, None, &b.outcome).await.map(|_| ())?,
        DisputeStep::Escalate => s
            .svc
            .conclude_dispute(actor, id, false, Forum::from_code(&b.forum), &b.outcome)
            .await
            .map(|_| ())?,
    }
    Ok(())
}
