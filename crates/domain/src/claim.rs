//! Claims (C5): first notice by the enterprise, assignment and investigation by the
//! insurer's claims handler, a reserve, a decision (pay, partial or deny, with a reason),
//! payment through the ledger, close and reopen — with deadline clocks whose lengths are
//! configuration.

use crate::error::{Collector, FieldError, Invalid};
use crate::money::Money;
use crate::org::{parse_date, string_enum};
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

string_enum! {
    /// A step of a claim's workflow (the codes are what the API and the forms send).
    /// `complain` opens a dispute about the decision; the claim's status stays.
    ClaimStep {
        Assign = "assign", "接案并开始查勘", "Take the claim";
        Reserve = "reserve", "设定准备金", "Set the reserve";
        Decide = "decide", "作出理赔决定", "Decide";
        Pay = "pay", "登记赔款支付", "Record a payment";
        Close = "close", "结案", "Close";
        Reopen = "reopen", "重开", "Reopen";
        Complain = "complain", "投诉并申请调解", "Complain";
    }
}

impl ClaimStatus {
    /// The status after `step`, or why `step` is not possible from here. Guards that depend on
    /// more than the status (the outcome, what is paid) are [`Claim::apply`]'s.
    pub fn apply(self, step: ClaimStep) -> Result<ClaimStatus, FieldError> {
        use ClaimStatus as S;
        use ClaimStep as T;
        let next = match (self, step) {
            (S::Reported, T::Assign) => S::Investigating,
            (S::Investigating, T::Reserve) => S::Investigating,
            (S::Investigating, T::Decide) => S::Decided,
            (S::Decided, T::Pay) => S::Decided,
            (S::Decided, T::Close) => S::Closed,
            (S::Closed, T::Reopen) => S::Investigating,
            (S::Decided | S::Closed, T::Complain) => self,
            (from, t) => {
                return Err(FieldError::new(
                    "status",
                    "bad_transition",
                    format!("该理赔状态为「{}」，不能执行「{}」", from.label_zh(), t.label_zh()),
                    format!("a claim that is `{}` cannot take the step `{}`", from.code(), t.code()),
                ))
            }
        };
        Ok(next)
    }

    /// The steps possible from this status.
    pub fn steps(self) -> Vec<ClaimStep> {
        ClaimStep::ALL.iter().copied().filter(|s| self.apply(*s).is_ok()).collect()
    }
}

/// A claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub id: String,
    pub policy_id: String,
    pub insurer_id: String,
    pub enterprise_id: String,
    pub loss_date: Date,
    pub description: String,
    pub claimed: Money,
    pub status: ClaimStatus,
    /// The claims handler who took it (`user:…`).
    pub handler: Option<String>,
    /// The reserve pending in the ledger (zero once decided).
    pub reserve: Money,
    /// How many reserves were made (the ledger ids of the reserves count with it).
    pub reserve_seq: i64,
    pub outcome: Option<ClaimOutcome>,
    pub decided: Money,
    pub reason: Option<String>,
    pub paid: Money,
    pub reported_on: Date,
    pub decided_on: Option<Date>,
    pub reported_at_us: i64,
    pub closed_at_us: Option<i64>,
    pub reopened: i64,
}

impl Claim {
    /// The status after `step`, with the guards that depend on the outcome: a denied claim
    /// has nothing to pay and closes; a paid claim closes once all it was decided is paid.
    /// Refusals keep the claim's codes: `not_decided` (a complaint before a decision),
    /// `wrong_status` (any other step the state does not allow).
    pub fn apply(&self, step: ClaimStep) -> Result<ClaimStatus, FieldError> {
        let next = self.status.apply(step).map_err(|e| {
            if step == ClaimStep::Complain {
                FieldError::new(
                    "claim",
                    "not_decided",
                    "理赔尚未作出决定，暂不能投诉",
                    "the claim has no decision to complain about yet",
                )
            } else {
                FieldError { code: "wrong_status", ..e }
            }
        })?;
        let refuse = |zh: &str, en: &str| {
            Err(FieldError::new(
                "status",
                "wrong_status",
                format!("该理赔状态为「{}」，{zh}", self.status.label_zh()),
                format!("the claim is `{}`: {en}", self.status.code()),
            ))
        };
        match step {
            ClaimStep::Pay if self.outcome == Some(ClaimOutcome::Deny) || self.paid >= self.decided => {
                refuse("没有待支付的赔款", "nothing is left to pay")
            }
            ClaimStep::Close if self.outcome != Some(ClaimOutcome::Deny) && self.paid < self.decided => {
                refuse("只有拒赔或已全部支付的案件可结案", "only a denied or fully paid claim closes")
            }
            _ => Ok(next),
        }
    }

    /// The steps possible now.
    pub fn steps(&self) -> Vec<ClaimStep> {
        ClaimStep::ALL.iter().copied().filter(|s| self.apply(*s).is_ok()).collect()
    }
}

/// A first notice of loss as received (form or API body): raw text.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct ClaimInput {
    pub loss_date: String,
    pub description: String,
    pub claimed_yuan: String,
}

impl ClaimInput {
    /// An input from typed values (the CLI, tests).
    pub fn new(loss_date: &str, description: &str, claimed: Money) -> ClaimInput {
        ClaimInput {
            loss_date: loss_date.to_owned(),
            description: description.to_owned(),
            claimed_yuan: claimed.to_yuan_string(),
        }
    }
}

/// A checked first notice of loss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClaim {
    pub loss_date: Date,
    pub description: String,
    pub claimed: Money,
}

impl NewClaim {
    /// Checks every field against the policy's cover (`start` to `end`, the cancellation
    /// included) and `today`, and reports every problem at once.
    pub fn parse(input: &ClaimInput, start: Date, end: Date, today: Date) -> Result<NewClaim, Invalid> {
        let mut c = Collector::default();
        let loss = c.take(parse_date("loss_date", &input.loss_date));
        if let Some(loss) = loss {
            if loss < start || loss > end || loss > today {
                c.push(FieldError::new(
                    "loss_date",
                    "outside_cover",
                    format!("出险日期须在保险期间内（{start} — {end}）且不晚于今天"),
                    format!(
                        "the loss date must be within the cover ({start} to {end}) and not in the future"
                    ),
                ));
            }
        }
        let d = input.description.trim();
        if d.chars().count() < 5 || d.chars().count() > 4000 {
            c.push(FieldError::new(
                "description",
                "length",
                "请描述出险经过（5–4000 字）",
                "describe the loss (5 to 4,000 characters)",
            ));
        }
        let claimed = c.take(Money::parse_yuan(&input.claimed_yuan, "claimed_yuan"));
        if let Some(m) = claimed {
            c.take(check_claimed(m));
        }
        c.finish()?;
        let (Some(loss_date), Some(claimed)) = (loss, claimed) else {
            return Err(Invalid(vec![FieldError::required("loss_date")]));
        };
        Ok(NewClaim { loss_date, description: d.to_owned(), claimed })
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

    #[test]
    fn every_status_and_step_against_the_table() {
        use ClaimStatus as S;
        use ClaimStep as T;
        let expected = |s: S, t: T| -> Option<S> {
            match (s, t) {
                (S::Reported, T::Assign) => Some(S::Investigating),
                (S::Investigating, T::Reserve) => Some(S::Investigating),
                (S::Investigating, T::Decide) => Some(S::Decided),
                (S::Decided, T::Pay) => Some(S::Decided),
                (S::Decided, T::Close) => Some(S::Closed),
                (S::Closed, T::Reopen) => Some(S::Investigating),
                (S::Decided, T::Complain) => Some(S::Decided),
                (S::Closed, T::Complain) => Some(S::Closed),
                _ => None,
            }
        };
        for &s in S::ALL {
            for &t in T::ALL {
                let got = s.apply(t);
                assert_eq!(got.as_ref().ok().copied(), expected(s, t), "{s} × {t}");
                if let Err(e) = got {
                    assert_eq!((e.field.as_str(), e.code), ("status", "bad_transition"));
                    assert!(
                        e.message_zh.contains(s.label_zh()) && e.message_zh.contains(t.label_zh()),
                        "{e:?}"
                    );
                    assert!(e.message_en.contains(s.code()) && e.message_en.contains(t.code()), "{e:?}");
                }
            }
            let steps: Vec<T> = T::ALL.iter().copied().filter(|t| expected(s, *t).is_some()).collect();
            assert_eq!(s.steps(), steps, "{s}");
        }
    }

    fn claim(status: ClaimStatus, outcome: Option<ClaimOutcome>, decided: i64, paid: i64) -> Claim {
        Claim {
            id: "c".into(),
            policy_id: "p".into(),
            insurer_id: "i".into(),
            enterprise_id: "e".into(),
            loss_date: d(2026, 11, 1),
            description: "样机起火受损".into(),
            claimed: Money::from_fen(1_000),
            status,
            handler: None,
            reserve: Money::ZERO,
            reserve_seq: 0,
            outcome,
            decided: Money::from_fen(decided),
            reason: None,
            paid: Money::from_fen(paid),
            reported_on: d(2026, 11, 1),
            decided_on: None,
            reported_at_us: 0,
            closed_at_us: None,
            reopened: 0,
        }
    }

    #[test]
    fn the_outcome_decides_pay_and_close() {
        use ClaimOutcome as O;
        use ClaimStatus as S;
        use ClaimStep as T;
        // Every status × step × kind of decision: the claim allows what its status allows,
        // except paying a denied (or fully paid) claim and closing one with money still owed.
        for &s in S::ALL {
            for (outcome, decided, paid) in
                [(None, 0, 0), (Some(O::Deny), 0, 0), (Some(O::Pay), 1_000, 0), (Some(O::Partial), 500, 200)]
            {
                let c = claim(s, outcome, decided, paid);
                for &t in T::ALL {
                    let owed = paid < decided;
                    let allowed = match t {
                        T::Pay => s.apply(t).is_ok() && outcome != Some(O::Deny) && owed,
                        T::Close => s.apply(t).is_ok() && (outcome == Some(O::Deny) || !owed),
                        _ => s.apply(t).is_ok(),
                    };
                    let got = c.apply(t);
                    assert_eq!(got.is_ok(), allowed, "{s} × {t} with {outcome:?} {decided}/{paid}");
                    match got {
                        Ok(next) => assert_eq!(Ok(next), s.apply(t)),
                        Err(e) if t == T::Complain => {
                            assert_eq!((e.field.as_str(), e.code), ("claim", "not_decided"))
                        }
                        Err(e) => assert_eq!((e.field.as_str(), e.code), ("status", "wrong_status")),
                    }
                }
                let steps: Vec<T> = T::ALL.iter().copied().filter(|t| c.apply(*t).is_ok()).collect();
                assert_eq!(c.steps(), steps);
            }
        }
        // Paid in full: closes; a denial closes at once.
        assert_eq!(claim(S::Decided, Some(O::Pay), 1_000, 1_000).apply(T::Close), Ok(S::Closed));
        assert_eq!(claim(S::Decided, Some(O::Deny), 0, 0).apply(T::Close), Ok(S::Closed));
        assert!(claim(S::Decided, Some(O::Deny), 0, 0).apply(T::Pay).is_err());
    }

    #[test]
    fn a_notice_is_parsed_at_the_edge() {
        let (start, end, today) = (d(2026, 11, 1), d(2027, 10, 31), d(2026, 11, 28));
        let ok = NewClaim::parse(
            &ClaimInput::new("2026-11-20", "研发样机起火受损", Money::from_fen(100)),
            start,
            end,
            today,
        );
        assert_eq!(ok.map(|n| (n.loss_date, n.claimed)), Ok((d(2026, 11, 20), Money::from_fen(100))));
        let input = ClaimInput {
            loss_date: "2026-11-29".into(),
            description: "火".into(),
            claimed_yuan: "-5".into(),
        };
        let e = NewClaim::parse(&input, start, end, today).unwrap_err();
        let fields: Vec<(&str, &str)> = e.0.iter().map(|f| (f.field.as_str(), f.code)).collect();
        assert_eq!(fields[0], ("loss_date", "outside_cover"));
        assert_eq!(fields[1], ("description", "length"));
        assert_eq!(fields[2].0, "claimed_yuan");
        let input = ClaimInput {
            loss_date: "28/11/2026".into(),
            ..ClaimInput::new("", "研发样机起火受损", Money::from_fen(1))
        };
        let e = NewClaim::parse(&input, start, end, today).unwrap_err();
        assert_eq!((e.0[0].field.as_str(), e.0[0].code), ("loss_date", "date_format"));
    }
}
