//! Claims: a claims handler's step.

use crate::error::ApiError;
use crate::AppState;
use kebao_domain::Money;
use kebao_service::authz::Actor;
use serde::Deserialize;
use utoipa::ToSchema;

/// A claims handler's step: `assign`, `reserve` (amount), `decide` (outcome, amount, reason),
/// `pay` (amount, reference), `close`, `reopen` (reason).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ClaimStepDto {
    pub step: String,
    pub amount_yuan: String,
    /// pay | partial | deny
    pub outcome: String,
    pub reason: String,
    pub reference: String,
}

pub(crate) async fn claim_step_run(
    s: &AppState,
    actor: &Actor,
    id: &str,
    b: &ClaimStepDto,
) -> Result<(), ApiError> {
    let amount = || {
        if b.amount_yuan.trim().is_empty() {
            Ok(Money::ZERO)
        } else {
            money(&b.amount_yuan, "amount_yuan")
        }
    };
    match b.step.as_str() {
        "assign" => s.svc.assign_claim(actor, id).await.map(|_| ())?,
        "reserve" => s.svc.set_claim_reserve(actor, id, amount()?).await.map(|_| ())?,
        "decide" => {
            let outcome = kebao_domain::claim::ClaimOutcome::from_code(&b.outcome).ok_or_else(|| {
                ApiError::invalid(vec![crate::error::ErrorDetail {
                    field: "outcome".into(),
                    code: "unknown_outcome".into(),
                    message_zh: "理赔结论应为 pay、partial 或 deny".into(),
                    message_en: "the outcome is pay, partial or deny".into(),
                }])
            })?;
            s.svc.decide_claim(actor, id, outcome, amount()?, &b.reason).await.map(|_| ())?
        }
        "pay" => s.svc.pay_claim(actor, id, amount()?, &b.reference).await.map(|_| ())?,
        "close" => s.svc.close_claim(actor, id).await.map(|_| ())?,
        "reopen" => s.svc.reopen_claim(actor, id, &b.reason).await.map(|_| ())?,
        other => {
            return Err(ApiError::invalid(vec![crate::error::ErrorDetail {
                field: "step".into(),
                code: "unknown_step".into(),
                message_zh: format!("步骤 `{other}` 不存在"),
                message_en: format!(
                    "step `{other}` does not exist: use assign, reserve, decide, pay, close or reopen"
                ),
            }]))
        }
    }
    Ok(())
}

pub(crate) fn money(v: &str, field: &str) -> Result<Money, ApiError> {
    Money::parse_yuan(v, field)
        .map_err(|e| ApiError::invalid(crate::error::details_of(&kebao_domain::Invalid(vec![e]))))
}
