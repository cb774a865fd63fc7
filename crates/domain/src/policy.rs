//! Applications, underwriting and policies (C4). Binding is the insurer's act: its own
//! auto-accept rules, or an underwriter within their authority. Premium due and premium
//! paid are ledger transfers between the insurer's accounts, as evidence.

use crate::error::FieldError;
use crate::money::Money;
use crate::org::string_enum;
use time::Date;

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

/// How far ahead cover may start: at most this many months after the day of application.
pub const MAX_START_AHEAD_MONTHS: u16 = 12;

/// The longest term of cover in months (a product's term is 1 to 120 months).
pub const MAX_TERM_MONTHS: u16 = 120;

/// How far ahead any cover may start, renewals included: a renewal starts where the cover it
/// renews ends, which may itself have started up to a year ahead and run the longest term.
pub const MAX_RENEWAL_AHEAD_MONTHS: u16 = MAX_START_AHEAD_MONTHS + MAX_TERM_MONTHS;

/// A policy's period of cover, both days included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoverPeriod {
    pub start: Date,
    pub end: Date,
}

/// The period of cover of a policy (or renewal) that starts on `start` for `term_months`,
/// asked for on `today`. Cover starts no earlier than today (no backdating) and at most
/// [`MAX_RENEWAL_AHEAD_MONTHS`] ahead (a new application keeps to the narrower
/// [`check_start`]); the term is 1 to [`MAX_TERM_MONTHS`] months; the last day is the day
/// before the same date `term_months` later (the month's last day where that date does not
/// exist), so the end always lies after the start.
pub fn cover_period(start: Date, term_months: u16, today: Date) -> Result<CoverPeriod, FieldError> {
    start_within(start, today, MAX_RENEWAL_AHEAD_MONTHS)?;
    if term_months == 0 || term_months > MAX_TERM_MONTHS {
        return Err(FieldError::new(
            "term_months",
            "range",
            format!("保险期间应为 1–{MAX_TERM_MONTHS} 个月（现为 {term_months}）"),
            format!("the term must be 1 to {MAX_TERM_MONTHS} months (it is {term_months})"),
        ));
    }
    let end = add_months(start, term_months).and_then(Date::previous_day).filter(|e| *e > start);
    let Some(end) = end else {
        return Err(FieldError::new(
            "start_date",
            "out_of_range",
            format!("起保日 {start} 加保险期间超出可表示的日期"),
            format!("cover from {start} for {term_months} months ends beyond the dates that can be kept"),
        ));
    };
    Ok(CoverPeriod { start, end })
}

/// The start of new cover asked for on `today`: not before today (no backdating) and at
/// most [`MAX_START_AHEAD_MONTHS`] ahead.
pub fn check_start(start: Date, today: Date) -> Result<(), FieldError> {
    start_within(start, today, MAX_START_AHEAD_MONTHS)
}

fn start_within(start: Date, today: Date, ahead_months: u16) -> Result<(), FieldError> {
    if start < today {
        return Err(FieldError::new(
            "start_date",
            "in_the_past",
            "起保日不能早于今天",
            "cover cannot start in the past",
        ));
    }
    let latest = add_months(today, ahead_months).unwrap_or(Date::MAX);
    if start > latest {
        return Err(FieldError::new(
            "start_date",
            "too_far_ahead",
            format!("起保日 {start} 过远：最晚为 {latest}（今天起 {ahead_months} 个月内）"),
            format!(
                "cover starting on {start} is too far ahead: it must start by {latest} (within {ahead_months} months)"
            ),
        ));
    }
    Ok(())
}

/// The same day `months` later, or the last day of that month where the day does not exist;
/// none beyond the last representable date.
pub fn add_months(d: Date, months: u16) -> Option<Date> {
    let total = i32::from(u8::from(d.month())) - 1 + i32::from(months);
    let year = d.year().checked_add(total / 12)?;
    let month = time::Month::try_from(u8::try_from(total % 12 + 1).ok()?).ok()?;
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, d.day().min(last)).ok()
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

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), day).unwrap()
    }

    #[test]
    fn cover_starts_within_a_year_and_ends_after_it_starts() {
        let today = d(2026, 11, 28);
        let p = cover_period(d(2026, 12, 1), 12, today).unwrap();
        assert_eq!((p.start, p.end), (d(2026, 12, 1), d(2027, 11, 30)));
        // Month ends: 31 January plus one month is 28 February; cover ends the day before.
        assert_eq!(cover_period(d(2027, 1, 31), 1, today).unwrap().end, d(2027, 2, 27));
        assert_eq!(cover_period(today, 120, today).unwrap().end, d(2036, 11, 27));
        // New cover: the last day a year ahead is allowed; the day after is not.
        assert_eq!(check_start(d(2027, 11, 28), today), Ok(()));
        let e = check_start(d(2027, 11, 29), today).unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("start_date", "too_far_ahead"));
        assert!(e.message_zh.contains("2027-11-28") && e.message_en.contains("2027-11-28"), "{e:?}");
        assert_eq!(check_start(d(2026, 11, 27), today).err().map(|e| e.code), Some("in_the_past"));
        // A renewal starts where the cover it renews ends: up to eleven years ahead.
        assert!(cover_period(d(2028, 11, 28), 12, today).is_ok());
        assert!(cover_period(d(2037, 11, 28), 12, today).is_ok());
        let e = cover_period(d(2037, 11, 29), 12, today).unwrap_err();
        assert_eq!((e.code, e.message_en.contains("2037-11-28")), ("too_far_ahead", true), "{e:?}");
        // The attacker's date, and the last date there is.
        let e = cover_period(d(9999, 12, 31), 12, today).unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("start_date", "too_far_ahead"));
        let e = cover_period(d(9999, 12, 31), 12, d(9999, 12, 31)).unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("start_date", "out_of_range"));
        assert_eq!(cover_period(d(2026, 11, 27), 12, today).err().map(|e| e.code), Some("in_the_past"));
        assert_eq!(cover_period(today, 0, today).err().map(|e| e.field), Some("term_months".into()));
        assert_eq!(cover_period(today, 121, today).err().map(|e| e.code), Some("range"));
        assert_eq!(add_months(d(9999, 12, 1), 1), None);
        assert_eq!(add_months(d(2024, 2, 29), 12), Some(d(2025, 2, 28)));
    }
}
