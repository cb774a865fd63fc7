//! Claims: a claims handler's step, parsed into a [`ClaimStep`] and dispatched by it.

use crate::error::{ApiError, ErrorDetail};
use crate::AppState;
use kebao_domain::claim::{ClaimOutcome, ClaimStep};
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

fn invalid(field: &str, code: &str, zh: String, en: String) -> ApiError {
    ApiError::invalid(vec![ErrorDetail {
        field: field.into(),
        code: code.into(),
        message_zh: zh,
        message_en: en,
    }])
}

/// A step the handlers' endpoint does not take (unknown, or a complaint, which has its own
/// form and endpoint): 422 naming `step`.
fn unknown_step(b: &ClaimStepDto) -> ApiError {
    invalid(
        "step",
        "unknown_step",
        format!("步骤 `{}` 不存在", b.step),
        format!("step `{}` does not exist: use assign, reserve, decide, pay, close or reopen", b.step),
    )
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
    let Some(step) = ClaimStep::from_code(&b.step) else {
        return Err(unknown_step(b));
    };
    match step {
        ClaimStep::Assign => s.svc.assign_claim(actor, id).await.map(|_| ())?,
        ClaimStep::Reserve => s.svc.set_claim_reserve(actor, id, amount()?).await.map(|_| ())?,
        ClaimStep::Decide => {
            let outcome = ClaimOutcome::from_code(&b.outcome).ok_or_else(|| {
                invalid(
                    "outcome",
                    "unknown_outcome",
                    "理赔结论应为 pay、partial 或 deny".into(),
                    "the outcome is pay, partial or deny".into(),
                )
            })?;
            s.svc.decide_claim(actor, id, outcome, amount()?, &b.reason).await.map(|_| ())?
        }
        ClaimStep::Pay => s.svc.pay_claim(actor, id, amount()?, &b.reference).await.map(|_| ())?,
        ClaimStep::Close => s.svc.close_claim(actor, id).await.map(|_| ())?,
        ClaimStep::Reopen => s.svc.reopen_claim(actor, id, &b.reason).await.map(|_| ())?,
        ClaimStep::Complain => return Err(unknown_step(b)),
    }
    Ok(())
}

pub(crate) fn money(v: &str, field: &str) -> Result<Money, ApiError> {
    Money::parse_yuan(v, field)
        .map_err(|e| ApiError::invalid(crate::error::details_of(&kebao_domain::Invalid(vec![e]))))
}
