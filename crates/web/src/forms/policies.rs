//! Request parsing shared by the policy API and pages: workflow steps arrive as codes and
//! are parsed here into the domain's step enums (an unknown code names its field).

use kebao_domain::policy::{ApplicationStep, PolicyStep};
use kebao_domain::FieldError;

/// An underwriting decision (`accept`, `decline`) as a form or the API sends it.
pub fn application_step(field: &str, code: &str) -> Result<ApplicationStep, FieldError> {
    ApplicationStep::from_code(code).ok_or_else(|| {
        FieldError::new(
            field,
            "unknown_step",
            format!("未知操作 `{code}`：应为 {}", codes(ApplicationStep::ALL.iter().map(|s| s.code()))),
            format!("unknown step `{code}`: use {}", codes(ApplicationStep::ALL.iter().map(|s| s.code()))),
        )
    })
}

/// A step on a policy (`endorse`, `cancel`, `refund`, `renew`, `coinsure` …).
pub fn policy_step(field: &str, code: &str) -> Result<PolicyStep, FieldError> {
    PolicyStep::from_code(code).ok_or_else(|| {
        FieldError::new(
            field,
            "unknown_action",
            format!("未知操作 `{code}`"),
            format!("unknown action `{code}`: use {}", codes(PolicyStep::ALL.iter().map(|s| s.code()))),
        )
    })
}

fn codes<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.collect::<Vec<_>>().join(", ")
}
