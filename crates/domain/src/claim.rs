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

/// Checks a decision: the amount paid is positive, at most what was claimed and at most
/// the limit less the deductible; partial and deny need a reason.
pub fn check_decision(
    outcome: ClaimOutcome,
    amount: Money,
    claimed: Money,
    limit: Money,
    deductible: Money,
    reason: &str,
) -> Result<Money, FieldError> {
    let cap = limit.checked_sub(deductible).unwrap_or(Money::ZERO);
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
            if a > cap {
                return Err(FieldError::new(
                    "amount_yuan",
                    "above_limit",
                    format!("赔付金额不能超过责任限额减免赔额（{} 元）", cap.display_yuan()),
                    format!(
                        "the amount cannot exceed the limit less the deductible ({})",
                        cap.display_yuan()
                    ),
                ));
            }
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
        assert_eq!(
            check_decision(ClaimOutcome::Pay, Money::ZERO, claimed, limit, ded, ""),
            Ok(Money::from_fen(750_000))
        );
        assert_eq!(
            check_decision(ClaimOutcome::Partial, Money::from_fen(100), claimed, limit, ded, "")
                .err()
                .map(|e| e.code),
            Some("reason_required")
        );
        assert_eq!(
            check_decision(ClaimOutcome::Pay, Money::from_fen(760_000), claimed, limit, ded, "")
                .err()
                .map(|e| e.code),
            Some("above_limit")
        );
        assert_eq!(
            check_decision(ClaimOutcome::Deny, Money::ZERO, claimed, limit, ded, "免责").map(|m| m.fen()),
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
}
