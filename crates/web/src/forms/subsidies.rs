//! Subsidies: workflow steps and what-if parameters.

use crate::error::{ApiError, ErrorDetail};
use crate::AppState;
use kebao_domain::subsidy::SubsidyStep;
use kebao_domain::Money;
use kebao_service::authz::Actor;
use kebao_service::subsidies::WhatIfParams;
use serde::Deserialize;
use utoipa::ToSchema;

/// A workflow step: `local_review` and `department_review` (pass, reason), `approve`,
/// `disburse` (reference), `reject` (reason), `claw_back` (fraud, reason), `confirm` (an
/// auto-grant offer), and for national files `recommend` (pass, reason), `forward`,
/// `decision` (pass, reference, amount_yuan).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SubsidyStepDto {
    pub step: String,
    pub pass: bool,
    pub reason: String,
    pub reference: String,
    pub amount_yuan: String,
    pub fraud: bool,
}

/// The step a request names, parsed at the edge (unknown, or the clock's own lapse: 422 on
/// `step`).
pub(crate) fn parse_step(code: &str) -> Result<SubsidyStep, ApiError> {
    match SubsidyStep::from_code(code) {
        Some(s) if s.is_manual() && s.code() == code.trim() => Ok(s),
        _ => Err(unknown_step(code)),
    }
}

fn unknown_step(code: &str) -> ApiError {
    ApiError::invalid(vec![ErrorDetail {
        field: "step".into(),
        code: "unknown_step".into(),
        message_zh: format!("步骤 `{code}` 不存在"),
        message_en: format!("step `{code}` does not exist"),
    }])
}

pub(crate) async fn step_run(
    s: &AppState,
    actor: &Actor,
    id: &str,
    b: &SubsidyStepDto,
) -> Result<(), ApiError> {
    use SubsidyStep as T;
    let svc = &s.svc;
    let step = parse_step(&b.step)?;
    match step {
        T::LocalReview => svc.subsidy_local_review(actor, id, b.pass, &b.reason).await.map(|_| ())?,
        T::DepartmentReview => {
            svc.subsidy_department_review(actor, id, b.pass, &b.reason).await.map(|_| ())?
        }
        T::Approve => svc.approve_subsidy(actor, id).await.map(|_| ())?,
        T::Disburse => svc.disburse_subsidy(actor, id, &b.reference).await.map(|_| ())?,
        T::Reject => svc.reject_subsidy(actor, id, &b.reason).await.map(|_| ())?,
        T::ClawBack => svc.claw_back_subsidy(actor, id, b.fraud, &b.reason).await.map(|_| ())?,
        T::Confirm => svc.confirm_subsidy_offer(actor, id).await.map(|_| ())?,
        T::Recommend | T::Forward | T::Decision => {
            let amount = if b.amount_yuan.trim().is_empty() {
                Money::ZERO
            } else {
                Money::parse_yuan(&b.amount_yuan, "amount_yuan").map_err(|e| {
                    ApiError::invalid(crate::error::details_of(&kebao_domain::Invalid(vec![e])))
                })?
            };
            let reference = if step == T::Recommend { &b.reason } else { &b.reference };
            svc.national_step(actor, id, step, b.pass, amount, reference).await.map(|_| ())?
        }
        // Parsed away above: offers lapse by the clock.
        T::Lapse => return Err(unknown_step(step.code())),
    }
    Ok(())
}

/// Other parameters for a what-if run (omitted: as the programme has them).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct WhatIfDto {
    /// Percent of the premium, for every product group and year.
    pub share_percent: Option<f64>,
    pub per_enterprise_year_cap_yuan: Option<i64>,
    pub per_policy_cap_yuan: Option<i64>,
    /// Premium-rate cap, percent.
    pub rate_cap_percent: Option<f64>,
}

pub(crate) fn what_if_params(d: &WhatIfDto) -> Result<WhatIfParams, ApiError> {
    let bp = |v: Option<f64>, field: &str| -> Result<Option<u32>, ApiError> {
        match v {
            None => Ok(None),
            Some(p) if p.is_finite() && (0.0..=100.0).contains(&p) => Ok(Some((p * 100.0).round() as u32)),
            Some(p) => Err(ApiError::invalid(vec![ErrorDetail {
                field: field.into(),
                code: "range".into(),
                message_zh: format!("{p} 应在 0 到 100 之间"),
                message_en: format!("{p} must lie between 0 and 100"),
            }])),
        }
    };
    let neg = |v: Option<i64>, field: &str| -> Result<Option<i64>, ApiError> {
        match v {
            Some(x) if x < 0 => Err(ApiError::invalid(vec![ErrorDetail {
                field: field.into(),
                code: "negative".into(),
                message_zh: "上限不能为负".into(),
                message_en: "a cap cannot be negative".into(),
            }])),
            other => Ok(other),
        }
    };
    Ok(WhatIfParams {
        share_bp: bp(d.share_percent, "share_percent")?,
        per_enterprise_year_cap_yuan: neg(d.per_enterprise_year_cap_yuan, "per_enterprise_year_cap_yuan")?,
        per_policy_cap_yuan: neg(d.per_policy_cap_yuan, "per_policy_cap_yuan")?,
        rate_cap_bp: bp(d.rate_cap_percent, "rate_cap_percent")?,
    })
}
