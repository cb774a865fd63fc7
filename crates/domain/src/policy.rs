//! Applications, underwriting and policies (C4). Binding is the insurer's act: its own
//! auto-accept rules, or an underwriter within their authority. Premium due and premium
//! paid are ledger transfers between the insurer's accounts, as evidence.

use crate::error::FieldError;
use crate::money::Money;
use crate::org::string_enum;

string_enum! {
    /// Where an application stands.
    ApplicationStatus {
        Referred = "referred", "待核保", "Referred to an underwriter";
        Accepted = "accepted", "已承保（待出单）", "Accepted";
        Declined = "declined", "拒保", "Declined";
        Bound = "bound", "已出单", "Bound";
    }
}

string_enum! {
    /// Whether a policy still runs.
    PolicyStatus {
        InForce = "in_force", "有效", "In force";
        Cancelled = "cancelled", "已退保/解除", "Cancelled";
    }
}

/// The insurer's own underwriting rules, filed with its rating plan.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct UnderwritingRules {
    /// Accept without an underwriter up to this limit (yuan); none: always refer.
    #[serde(default)]
    pub auto_accept_max_limit_yuan: Option<i64>,
    /// Decline when the enterprise had at least this many claims in three years.
    #[serde(default)]
    pub decline_claims_3y: Option<u32>,
    /// Refer instead of accepting when the enterprise had any claim in three years.
    #[serde(default)]
    pub refer_if_claims: bool,
}

/// The outcome of the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Refer(Vec<String>),
    Decline(Vec<String>),
}

impl UnderwritingRules {
    /// Applies the rules to an application's limit and claims history; reasons in zh-CN.
    pub fn decide(&self, limit: Money, claims_3y: u32) -> Decision {
        if let Some(n) = self.decline_claims_3y {
            if claims_3y >= n {
                return Decision::Decline(vec![format!("近三年出险 {claims_3y} 次，达到拒保标准（{n} 次）")]);
            }
        }
        let mut refer = Vec::new();
        match self.auto_accept_max_limit_yuan {
            None => refer.push("保险机构未设自动承保规则，须人工核保".to_owned()),
            Some(max) if limit.fen() > max.saturating_mul(100) => {
                refer.push(format!("责任限额 {} 元超过自动承保上限 {max} 元", limit.to_yuan_string()))
            }
            _ => {}
        }
        if self.refer_if_claims && claims_3y > 0 {
            refer.push(format!("近三年出险 {claims_3y} 次"));
        }
        if refer.is_empty() {
            Decision::Accept
        } else {
            Decision::Refer(refer)
        }
    }
}

/// An underwriter may accept an application whose limit is within their authority.
pub fn within_authority(limit: Money, authority_yuan: i64) -> Result<(), FieldError> {
    if limit.fen() <= authority_yuan.saturating_mul(100) {
        Ok(())
    } else {
        Err(FieldError::new(
            "authority",
            "over_authority",
            format!("责任限额 {} 元超出您的核保权限（{authority_yuan} 元）", limit.to_yuan_string()),
            format!(
                "the limit {} exceeds your underwriting authority ({authority_yuan} yuan)",
                limit.to_yuan_string()
            ),
        ))
    }
}

/// The policy number of the `seq`-th policy bound in `year`: `DHKB-P-2026-000042`.
pub fn policy_number(year: i32, seq: u32) -> String {
    format!("DHKB-P-{year}-{seq:06}")
}

/// Ledger codes of the premium transfers.
pub mod codes {
    /// Premium due at binding: the insurer's receivable against its written premium.
    pub const PREMIUM_DUE: u16 = 101;
    /// Premium received: cash against the receivable.
    pub const PREMIUM_PAID: u16 = 102;
    /// Additional premium due on an endorsement.
    pub const PREMIUM_ADDITIONAL: u16 = 103;
    /// Premium no longer due (an endorsement lowering the premium, or a cancellation):
    /// written premium against the receivable.
    pub const PREMIUM_RETURNED: u16 = 104;
    /// Premium paid that is owed back: written premium against the policy's refund payable.
    pub const REFUND_DUE: u16 = 105;
    /// A refund paid to the policyholder: the refund payable against cash.
    pub const REFUND_PAID: u16 = 106;
    /// A co-insurer's share of written premium (lead's written premium against the follower's).
    pub const COINSURANCE_PREMIUM: u16 = 111;
    /// A co-insurer's share of a claim payment (follower's claims expense against the lead's).
    pub const COINSURANCE_CLAIM: u16 = 112;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_accept_refer_and_decline_with_reasons() {
        let rules = UnderwritingRules {
            auto_accept_max_limit_yuan: Some(5_000_000),
            decline_claims_3y: Some(3),
            refer_if_claims: true,
        };
        assert_eq!(rules.decide(Money::from_fen(100_000_000), 0), Decision::Accept);
        assert!(
            matches!(rules.decide(Money::from_fen(1_000_000_000), 0), Decision::Refer(r) if r[0].contains("超过自动承保上限"))
        );
        assert!(matches!(rules.decide(Money::from_fen(100), 1), Decision::Refer(r) if r.len() == 1));
        assert!(matches!(rules.decide(Money::from_fen(100), 3), Decision::Decline(_)));
        assert!(matches!(UnderwritingRules::default().decide(Money::from_fen(1), 0), Decision::Refer(_)));
        assert!(within_authority(Money::from_fen(100_000), 1_000).is_ok());
        assert_eq!(
            within_authority(Money::from_fen(100_001), 1_000).err().map(|e| e.code),
            Some("over_authority")
        );
        assert_eq!(policy_number(2026, 42), "DHKB-P-2026-000042");
    }
}
