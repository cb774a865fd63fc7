//! Claims (C5): first notice by the enterprise, assignment and investigation by the
//! insurer's claims handler, a reserve, a decision (pay, partial or deny, with a reason),
//! payment through the ledger, close and reopen — with deadline clocks whose lengths are
//! configuration.

use crate::error::FieldError;
use crate::money::Money;
use crate::org::string_enum;
use time::Date;

string_enum! {
    /// Where a claim stands.
    ClaimStatus {
        Reported = "reported", "已报案", "Reported";
        Investigating = "investigating", "查勘定损中", "Investigating";
        Decided = "decided", "已作出理赔决定", "Decided";
        Closed = "closed", "已结案", "Closed";
    }
}

string_enum! {
    /// The insurer's decision.
    ClaimOutcome {
        Pay = "pay", "全额赔付", "Pay in full";
        Partial = "partial", "部分赔付", "Pay in part";
        Deny = "deny", "拒赔", "Deny";
    }
}

/// Deadline lengths in days. The defaults are recalled from the Insurance Law (保险法
/// Art. 23–25: decide within 30 days of a complete claim; pay within 10 days of the
/// agreement; notify a refusal within 3 days; pay the part that can be determined within
/// 60 days) and are **unconfirmed** until checked against the text — hence configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Deadlines {
    pub decide_days: i64,
    pub pay_days: i64,
    pub refusal_notice_days: i64,
    pub advance_payment_days: i64,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines { decide_days: 30, pay_days: 10, refusal_notice_days: 3, advance_payment_days: 60 }
    }
}

/// The confidence of the default deadlines (`R`: recalled law text, not re-verified).
pub const DEADLINES_CONFIDENCE: &str = "R";

/// A clock: what is due by when, and whether it has run out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    pub label_zh: &'static str,
    pub label_en: &'static str,
    pub due: Date,
    /// Days left (negative: overdue); none once met.
    pub days_left: Option<i64>,
}

/// The clocks of a claim on `today`.
pub fn clocks(
    d: &Deadlines,
    reported: Date,
    decided: Option<(Date, ClaimOutcome)>,
    paid: bool,
    today: Date,
) -> Vec<Clock> {
    let left = |due: Date, met: bool| if met { None } else { Some((due - today).whole_days()) };
    let mut out = vec![
        Clock {
            label_zh: "核定（作出赔付决定）",
            label_en: "Decide the claim",
            due: reported + time::Duration::days(d.decide_days),
            days_left: left(reported + time::Duration::days(d.decide_days), decided.is_some()),
        },
        Clock {
            label_zh: "先行赔付可确定部分",
            label_en: "Pay the part that can be determined",
            due: reported + time::Duration::days(d.advance_payment_days),
            days_left: left(reported + time::Duration::days(d.advance_payment_days), decided.is_some()),
        },
    ];
    if let Some((on, outcome)) = decided {
        if outcome == ClaimOutcome::Deny {
            let due = on + time::Duration::days(d.refusal_notice_days);
            out.push(Clock {
                label_zh: "发出拒赔通知",
                label_en: "Notify the refusal",
                due,
                days_left: None,
            });
        } else {
            let due = on + time::Duration::days(d.pay_days);
            out.push(Clock { label_zh: "支付赔款", label_en: "Pay", due, days_left: left(due, paid) });
        }
    }
    out
}

/// Checks a claimed amount: above zero and at most the largest limit a policy can have
/// ([`crate::rating::MAX_QUOTE_FEN`], 10^12 yuan), so that sums over claims cannot overflow.
/// A claim above its own policy's limit is accepted: payment is capped ([`claim_cap`]).
pub fn check_claimed(claimed: Money) -> Result<(), FieldError> {
    if claimed.fen() <= 0 {
        return Err(FieldError::new(
            "claimed_yuan",
            "not_positive",
            "索赔金额须大于零",
            "the claimed amount must be above zero",
        ));
    }
    let max = Money::from_fen(crate::rating::MAX_QUOTE_FEN);
    if claimed > max {
        return Err(FieldError::new(
            "claimed_yuan",
            "too_large",
            format!("索赔金额过大：最多 {} 元", max.display_yuan()),
            format!("the claimed amount is too large: at most {} yuan", max.display_yuan()),
        ));
    }
    Ok(())
}

/// The most a claim may still be reserved, decided or paid: the policy's limit net of the
/// deductible, less what is already `committed` against the limit (what the policy's other
/// claims were decided or paid, and what this claim paid before it was reopened). Never
/// below zero. Pending reserves of other claims are estimates and do not count: each claim
/// may be reserved up to what is left, and decisions are what use the limit up.
pub fn claim_cap(limit: Money, deductible: Money, committed: Money) -> Money {
    limit
        .checked_sub(deductible)
        .and_then(|m| m.checked_sub(committed))
        .map_or(Money::ZERO, |m| m.max(Money::ZERO))
}

/// What an amount checked against the cap is: a reserve, a decision or a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapUse {
    Reserve,
    Decision,
    Payment,
}

/// Checks that `amount` (a reserve, a decided amount or a payment) is
/// within `cap` (see [`claim_cap`]). The error names `amount_yuan` with code `above_limit`.
pub fn check_within_cap(what: CapUse, amount: Money, cap: Money) -> Result<(), FieldError> {
    if amount <= cap {
        return Ok(());
    }
    let (zh, en) = match what {
        CapUse::Reserve => ("准备金", "the reserve"),
        CapUse::Decision => ("赔付金额", "the amount"),
        CapUse::Payment => ("本次赔款", "the payment"),
    };
    Err(FieldError::new(
        "amount_yuan",
        "above_limit",
        format!("{zh}不能超过保单剩余责任限额减免赔额（{} 元）", cap.display_yuan()),
        format!(
            "{en} cannot exceed the policy's remaining limit less the deductible ({} yuan)",
            cap.display_yuan()
        ),
    ))
}

/// Checks a decision: the amount paid is positive, at most what was claimed and at most
/// `cap`, the policy's remaining limit net of the deductible ([`claim_cap`]); partial and
/// deny need a reason. Pay in full with amount 0 means the claim capped at `cap`.
pub fn check_decision(
    outcome: ClaimOutcome,
    amount: Money,
    claimed: Money,
    cap: Money,
    reason: &str,
) -> Result<Money, FieldError> {
    match outcome {
        ClaimOutcome::Deny => {
            if reason.trim().chars().count() < 2 {
                return Err(FieldError::new(
                    "reason",
                    "reason_required",
                    "拒赔须写明理由",
                    "a denial states its reasons",
                ));
            }
            Ok(Money::ZERO)
        }
        ClaimOutcome::Pay | ClaimOutcome::Partial => {
            let a = if outcome == ClaimOutcome::Pay && amount.fen() == 0 { claimed.min(cap) } else { amount };
            if a.fen() <= 0 && cap.fen() <= 0 && amount.fen() == 0 {
                // Pay in full when the limit is used up: say so rather than "not positive".
                check_within_cap(CapUse::Decision, claimed, cap)?;
            }
            if a.fen() <= 0 {
                return Err(FieldError::new(
                    "amount_yuan",
                    "not_positive",
                    "赔付金额须大于零",
                    "the amount must be above zero",
                ));
            }
            if a > claimed {
                return Err(FieldError::new(
                    "amount_yuan",
                    "above_claimed",
                    "赔付金额不能超过索赔金额",
                    "the amount cannot exceed the claim",
                ));
            }
            check_within_cap(CapUse::Decision, a, cap)?;
            if outcome == ClaimOutcome::Partial && reason.trim().chars().count() < 2 {
                return Err(FieldError::new(
                    "reason",
                    "reason_required",
                    "部分赔付须写明理由",
                    "a partial payment states its reasons",
                ));
            }
            Ok(a)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_calendar_date(y, time::Month::try_from(m).unwrap_or(time::Month::January), day)
            .unwrap_or(Date::MIN)
    }

    #[test]
    fn decisions_are_bounded_and_clocks_run() {
        let claimed = Money::from_fen(1_000_000);
        let limit = Money::from_fen(800_000);
        let ded = Money::from_fen(50_000);
        let cap = claim_cap(limit, ded, Money::ZERO);
        assert_eq!(
            check_decision(ClaimOutcome::Pay, Money::ZERO, claimed, cap, ""),
            Ok(Money::from_fen(750_000))
        );
        assert_eq!(
            check_decision(ClaimOutcome::Partial, Money::from_fen(100), claimed, cap, "")
                .err()
                .map(|e| e.code),
            Some("reason_required")
        );
        assert_eq!(
            check_decision(ClaimOutcome::Pay, Money::from_fen(760_000), claimed, cap, "")
                .err()
                .map(|e| e.code),
            Some("above_limit")
        );
        assert_eq!(
            check_decision(ClaimOutcome::Deny, Money::ZERO, claimed, cap, "免责").map(|m| m.fen()),
            Ok(0)
        );
        let c = clocks(&Deadlines::default(), d(2026, 11, 1), None, false, d(2026, 11, 28));
        assert_eq!(c[0].due, d(2026, 12, 1));
        assert_eq!(c[0].days_left, Some(3));
        let c = clocks(
            &Deadlines::default(),
            d(2026, 11, 1),
            Some((d(2026, 11, 20), ClaimOutcome::Pay)),
            false,
            d(2026, 12, 5),
        );
        assert_eq!(c[2].days_left, Some(-5), "payment overdue");
    }

    #[test]
    fn the_cap_is_the_remaining_limit_net_of_the_deductible() {
        let limit = Money::from_fen(800_000);
        let ded = Money::from_fen(50_000);
        assert_eq!(claim_cap(limit, ded, Money::ZERO), Money::from_fen(750_000));
        // Other claims' decisions use the limit up.
        assert_eq!(claim_cap(limit, ded, Money::from_fen(700_000)), Money::from_fen(50_000));
        assert_eq!(claim_cap(limit, ded, Money::from_fen(900_000)), Money::ZERO, "never negative");
        // A deductible above the limit, or extreme amounts, leave nothing and never overflow.
        assert_eq!(claim_cap(Money::from_fen(10), Money::from_fen(20), Money::ZERO), Money::ZERO);
        assert_eq!(claim_cap(Money::from_fen(i64::MIN), Money::from_fen(i64::MAX), Money::ZERO), Money::ZERO);
        assert_eq!(claim_cap(Money::from_fen(i64::MAX), Money::ZERO, Money::from_fen(i64::MIN)), Money::ZERO);
    }

    #[test]
    fn reserves_decisions_and_payments_stay_within_the_cap() {
        let cap = Money::from_fen(750_000);
        assert_eq!(check_within_cap(CapUse::Reserve, cap, cap), Ok(()));
        let e = check_within_cap(CapUse::Reserve, Money::from_fen(i64::MAX), cap).unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("amount_yuan", "above_limit"));
        assert!(e.message_zh.contains("7,500.00") && e.message_en.contains("7,500.00"), "{e:?}");
        assert!(e.message_zh.starts_with("准备金") && e.message_en.starts_with("the reserve"));
        let e = check_within_cap(CapUse::Payment, Money::from_fen(750_001), cap).unwrap_err();
        assert!(e.message_en.starts_with("the payment"), "{e:?}");
        // A claim above the cap may be made, up to 10^12 yuan; the decision is what is capped.
        assert_eq!(check_claimed(Money::from_fen(crate::rating::MAX_QUOTE_FEN)), Ok(()));
        assert_eq!(check_claimed(Money::from_fen(i64::MAX)).err().map(|e| e.code), Some("too_large"));
        assert_eq!(check_claimed(Money::ZERO).err().map(|e| e.code), Some("not_positive"));
        let claimed = Money::from_fen(5_000_000);
        assert_eq!(check_decision(ClaimOutcome::Pay, Money::ZERO, claimed, cap, ""), Ok(cap));
        assert_eq!(
            check_decision(ClaimOutcome::Partial, Money::from_fen(750_001), claimed, cap, "部分")
                .err()
                .map(|e| e.code),
            Some("above_limit")
        );
        // Nothing left: paying in full says the limit is used up.
        assert_eq!(
            check_decision(ClaimOutcome::Pay, Money::ZERO, claimed, Money::ZERO, "").err().map(|e| e.code),
            Some("above_limit")
        );
    }
}
