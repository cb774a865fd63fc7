//! Mid-term changes to cover (C4): endorsements with pro-rata premium, cancellation with
//! the refund method the product filing sets, and co-insurance shares.
//!
//! Arithmetic is in integer fen with one rounding per amount, half away from zero (as the
//! rating plans round). Days are counted inclusively: a policy from 2026-01-01 to
//! 2026-12-31 runs 365 days, and cover ending on 2026-01-31 has run 31 of them.

use crate::error::FieldError;
use time::Date;

/// The refund of unearned premium when the policyholder ends cover early.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum RefundMethod {
    /// Premium is earned day by day.
    #[default]
    ProRata,
    /// Premium is earned by a short-rate table: `earned_percent` of the premium once the
    /// cover has run up to `months` months (a part month counts as a whole one).
    ShortRate { table: Vec<ShortRateStep> },
}

/// One row of a short-rate table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShortRateStep {
    pub months: u16,
    pub earned_percent: u8,
}

impl RefundMethod {
    /// Stable code for forms.
    pub fn code(&self) -> &'static str {
        match self {
            RefundMethod::ProRata => "pro_rata",
            RefundMethod::ShortRate { .. } => "short_rate",
        }
    }

    /// zh-CN label.
    pub fn label_zh(&self) -> &'static str {
        match self {
            RefundMethod::ProRata => "按日比例",
            RefundMethod::ShortRate { .. } => "短期费率表",
        }
    }

    /// The table as typed in a filing form: `1:10 2:20 … 12:100`.
    pub fn table_text(&self) -> String {
        match self {
            RefundMethod::ProRata => String::new(),
            RefundMethod::ShortRate { table } => table
                .iter()
                .map(|s| format!("{}:{}", s.months, s.earned_percent))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    /// Reads a filing's choice: `method` is `pro_rata` (or empty) or `short_rate`, and
    /// `table` then lists `months:percent` pairs, months rising, percents not falling, the
    /// last reaching 100 % and covering the whole `term_months`.
    pub fn parse(method: &str, table: &str, term_months: u16) -> Result<RefundMethod, FieldError> {
        match method.trim() {
            "" | "pro_rata" => Ok(RefundMethod::ProRata),
            "short_rate" => {
                let bad =
                    |zh: String, en: String| FieldError::new("short_rate_table", "short_rate_table", zh, en);
                let mut steps: Vec<ShortRateStep> = Vec::new();
                for part in table
                    .split(|c: char| c.is_whitespace() || c == ',' || c == '，')
                    .filter(|s| !s.is_empty())
                {
                    let parsed = part.split_once(':').or_else(|| part.split_once('：')).and_then(|(m, p)| {
                        Some((
                            m.trim().parse::<u16>().ok()?,
                            p.trim().trim_end_matches('%').parse::<u8>().ok()?,
                        ))
                    });
                    let Some((months, pct)) = parsed else {
                        return Err(bad(
                            format!("短期费率表项 `{part}` 应为「月数:已赚比例」，如 3:30"),
                            format!("short-rate entry `{part}` must be months:percent, e.g. 3:30"),
                        ));
                    };
                    if pct > 100 || months == 0 {
                        return Err(bad(
                            format!("短期费率表项 `{part}`：月数须大于零，比例不超过 100"),
                            format!("short-rate entry `{part}`: months above zero, percent at most 100"),
                        ));
                    }
                    if let Some(last) = steps.last() {
                        if months <= last.months || pct < last.earned_percent {
                            return Err(bad(
                                format!("短期费率表须按月数递增、比例不减（`{part}` 处不符）"),
                                format!("the short-rate table must have rising months and non-falling percents (at `{part}`)"),
                            ));
                        }
                    }
                    steps.push(ShortRateStep { months, earned_percent: pct });
                }
                match steps.last() {
                    Some(last) if last.earned_percent == 100 && last.months >= term_months => {
                        Ok(RefundMethod::ShortRate { table: steps })
                    }
                    _ => Err(bad(
                        format!("短期费率表须覆盖整个保险期间（{term_months} 个月）并以 100% 结束"),
                        format!("the short-rate table must cover the whole term ({term_months} months) and end at 100%"),
                    )),
                }
            }
            other => Err(FieldError::new(
                "refund_method",
                "unknown_method",
                format!("退保计算方式 `{other}` 不存在（pro_rata 或 short_rate）"),
                format!("refund method `{other}` does not exist (pro_rata or short_rate)"),
            )),
        }
    }
}

/// The short-rate table found in many Chinese property and liability clauses (1 month 10 %
/// … 12 months 100 %). Recalled from typical clause texts, not checked against a filed
/// clause: the demo's insurers file it as their own choice; nothing in the platform assumes it.
pub fn typical_short_rate_table() -> RefundMethod {
    let pts = [
        (1, 10),
        (2, 20),
        (3, 30),
        (4, 40),
        (5, 50),
        (6, 60),
        (7, 70),
        (8, 80),
        (9, 85),
        (10, 90),
        (11, 95),
        (12, 100),
    ];
    RefundMethod::ShortRate {
        table: pts.iter().map(|&(months, earned_percent)| ShortRateStep { months, earned_percent }).collect(),
    }
}

/// `num / den` rounded half away from zero (`den > 0`).
pub fn round_div(num: i128, den: i128) -> i64 {
    let q = (2 * num.abs() + den) / (2 * den);
    let q = i64::try_from(q).unwrap_or(i64::MAX);
    if num < 0 {
        -q
    } else {
        q
    }
}

/// Days from `a` to `b`, both counted.
pub fn days_inclusive(a: Date, b: Date) -> i64 {
    (b - a).whole_days() + 1
}

/// Whole calendar months begun from `start` up to `last_day` (both counted): 1 for any cover
/// within the first month.
pub fn months_begun(start: Date, last_day: Date) -> u16 {
    let mut months: i32 = (last_day.year() - start.year()) * 12 + i32::from(u8::from(last_day.month()))
        - i32::from(u8::from(start.month()));
    if last_day.day() >= start.day() {
        months += 1;
    }
    u16::try_from(months.max(1)).unwrap_or(u16::MAX)
}

/// How much of the premium was earned when cover ended early, with the words of the
/// computation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earned {
    pub earned_fen: i64,
    pub refund_fen: i64,
    pub explanation: String,
}

/// The premium earned by cover from `start` to `last_day` (inclusive) of a policy running to
/// `end`, out of `due_fen`, the premium due for the term (with endorsements' pro-rata
/// adjustments). Pro rata, the unearned part is the full-term premium now in force
/// (`current_fen`) times the days left ÷ the term's days (exact when the last endorsement
/// took effect before the end of cover); by the short-rate table, the earned part is the
/// table's percent of `due_fen`. `by_insurer`: the insurer ended the cover, which returns
/// the unearned premium pro rata whatever the filing says (the policyholder is not charged
/// a short-rate penalty for the insurer's act).
#[allow(clippy::too_many_arguments)]
pub fn earned(
    method: &RefundMethod,
    due_fen: i64,
    current_fen: i64,
    start: Date,
    end: Date,
    last_day: Date,
    by_insurer: bool,
) -> Result<Earned, FieldError> {
    if last_day < start.previous_day().unwrap_or(start) || last_day > end {
        return Err(FieldError::new(
            "effective_date",
            "outside_term",
            format!("生效日须在保险期间内（{start} 至 {end}）"),
            format!("the date must fall within the policy term ({start} to {end})"),
        ));
    }
    let term = days_inclusive(start, end);
    let run = days_inclusive(start, last_day).max(0);
    let premium_fen = due_fen;
    let (earned_fen, explanation) = match (method, by_insurer) {
        (RefundMethod::ShortRate { table }, false) => {
            let m = months_begun(start, last_day);
            let pct = if run == 0 {
                0
            } else {
                table.iter().find(|s| s.months >= m).map_or(100, |s| s.earned_percent)
            };
            (
                round_div(i128::from(premium_fen) * i128::from(pct), 100),
                format!("短期费率：已保 {m} 个月，已赚 {pct}% / short rate: {m} months begun, {pct}% earned"),
            )
        }
        _ => (
            premium_fen - round_div(i128::from(current_fen) * i128::from(term - run), i128::from(term)),
            format!(
                "按日比例：已保 {run}/{term} 天，未到期 {} 天 / pro rata: {run} of {term} days run",
                term - run
            ),
        ),
    };
    let earned_fen = earned_fen.clamp(0, premium_fen.max(0));
    Ok(Earned { earned_fen, refund_fen: premium_fen - earned_fen, explanation })
}

/// The premium change of an endorsement effective `from` (inclusive) to `end`: the change
/// of the full-term premium times the share of the term still to run.
pub fn pro_rata_adjustment(
    old_fen: i64,
    new_fen: i64,
    start: Date,
    end: Date,
    from: Date,
) -> Result<i64, FieldError> {
    if from < start || from > end {
        return Err(FieldError::new(
            "effective_date",
            "outside_term",
            format!("批改生效日须在保险期间内（{start} 至 {end}）"),
            format!("the endorsement must take effect within the policy term ({start} to {end})"),
        ));
    }
    let term = days_inclusive(start, end);
    let left = days_inclusive(from, end);
    Ok(round_div(i128::from(new_fen - old_fen) * i128::from(left), i128::from(term)))
}

/// Basis points in a whole.
pub const WHOLE_BP: u32 = 10_000;

/// Checks co-insurance shares (insurer, basis points): the lead first, each share above
/// zero, no insurer twice, summing to exactly 100 %.
pub fn check_shares(shares: &[(String, u32)]) -> Result<(), FieldError> {
    let bad = |zh: String, en: String| FieldError::new("shares", "shares", zh, en);
    if shares.len() < 2 {
        return Err(bad("共保至少两家保险机构".into(), "co-insurance needs at least two insurers".into()));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (org, bp) in shares {
        if *bp == 0 || *bp >= WHOLE_BP {
            return Err(bad(
                format!("份额须在 0% 与 100% 之间（{org}）"),
                format!("each share must lie between 0% and 100% ({org})"),
            ));
        }
        if !seen.insert(org.as_str()) {
            return Err(bad(format!("保险机构 {org} 重复"), format!("insurer {org} is listed twice")));
        }
    }
    let total: u32 = shares.iter().map(|s| s.1).sum();
    if total != WHOLE_BP {
        return Err(bad(
            format!("共保份额合计须为 100%（现为 {}.{:02}%）", total / 100, total % 100),
            format!("the shares must sum to 100% (they sum to {}.{:02}%)", total / 100, total % 100),
        ));
    }
    Ok(())
}

/// Splits `amount` (fen, either sign) by shares so that the parts sum exactly to it: each
/// follower gets its share rounded half away from zero, the lead (first) the remainder.
pub fn split_by_shares(amount: i64, shares: &[(String, u32)]) -> Vec<i64> {
    let mut parts: Vec<i64> = shares
        .iter()
        .skip(1)
        .map(|(_, bp)| round_div(i128::from(amount) * i128::from(*bp), i128::from(WHOLE_BP)))
        .collect();
    let followers: i64 = parts.iter().sum();
    parts.insert(0, amount - followers);
    parts
}

#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)] // amounts written yuan_fen
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn pro_rata_and_short_rate_refunds() {
        let (s, e) = (date!(2026 - 01 - 01), date!(2026 - 12 - 31));
        let r = earned(&RefundMethod::ProRata, 365_00, 365_00, s, e, date!(2026 - 01 - 31), false).unwrap();
        assert_eq!((r.earned_fen, r.refund_fen), (31_00, 334_00));
        // A cancellation before cover starts earns nothing.
        let r = earned(&RefundMethod::ProRata, 365_00, 365_00, s, e, date!(2025 - 12 - 31), false).unwrap();
        assert_eq!(r.refund_fen, 365_00);
        let t = typical_short_rate_table();
        // 45 days: two months begun, 20 % earned.
        let r = earned(&t, 1_000_00, 1_000_00, s, e, date!(2026 - 02 - 14), false).unwrap();
        assert_eq!((r.earned_fen, r.refund_fen), (200_00, 800_00));
        // The insurer's own cancellation is pro rata whatever the filing says.
        let r = earned(&t, 365_00, 365_00, s, e, date!(2026 - 01 - 31), true).unwrap();
        assert_eq!(r.earned_fen, 31_00);
        // After an endorsement the unearned part is the premium now in force, pro rata:
        // 365 yuan a year raised to 730 from 1 July (184 days left: +184 yuan due), then
        // cancelled with 30 September the last day (92 days left): 181 days at one yuan and
        // 92 at two are earned.
        let due = 365_00 + 184_00;
        let r = earned(&RefundMethod::ProRata, due, 730_00, s, e, date!(2026 - 09 - 30), false).unwrap();
        assert_eq!(r.refund_fen, 184_00);
        assert_eq!(r.earned_fen, 181_00 + 92_00 * 2);
        // Exactly one month is one month begun; a day more is two.
        assert_eq!(months_begun(s, date!(2026 - 01 - 31)), 1);
        assert_eq!(months_begun(s, date!(2026 - 02 - 01)), 2);
        assert_eq!(months_begun(date!(2026 - 01 - 15), date!(2026 - 02 - 14)), 1);
        assert!(earned(&t, 1, 1, s, e, date!(2027 - 01 - 01), false).is_err());
    }

    #[test]
    fn endorsements_are_pro_rata_and_round_once() {
        let (s, e) = (date!(2026 - 01 - 01), date!(2026 - 12 - 31));
        assert_eq!(pro_rata_adjustment(1_000_00, 2_000_00, s, e, s), Ok(1_000_00));
        // 184 of 365 days left: 100,000 × 184 / 365 = 50,410.958… → 50,411 fen.
        assert_eq!(pro_rata_adjustment(1_000_00, 2_000_00, s, e, date!(2026 - 07 - 01)), Ok(50_411));
        assert_eq!(pro_rata_adjustment(2_000_00, 1_000_00, s, e, date!(2026 - 07 - 01)), Ok(-50_411));
        assert!(pro_rata_adjustment(1, 2, s, e, date!(2027 - 01 - 01)).is_err());
        assert_eq!(round_div(5, 2), 3);
        assert_eq!(round_div(-5, 2), -3);
    }

    #[test]
    fn short_rate_tables_are_checked() {
        assert_eq!(RefundMethod::parse("", "", 12), Ok(RefundMethod::ProRata));
        let t = RefundMethod::parse("short_rate", &typical_short_rate_table().table_text(), 12);
        assert_eq!(t, Ok(typical_short_rate_table()));
        for bad in ["1:10 1:20 12:100", "1:30 2:20 12:100", "1:10 6:100", "x", "1:101 12:100", "0:0 12:100"] {
            assert!(RefundMethod::parse("short_rate", bad, 12).is_err(), "{bad}");
        }
        assert_eq!(RefundMethod::parse("monthly", "", 12).err().map(|e| e.code), Some("unknown_method"));
    }

    #[test]
    fn shares_split_exactly() {
        let s = vec![("lead".to_owned(), 6_000), ("b".to_owned(), 2_500), ("c".to_owned(), 1_500)];
        assert!(check_shares(&s).is_ok());
        assert_eq!(split_by_shares(100_01, &s), vec![60_01, 25_00, 15_00]);
        assert_eq!(split_by_shares(-3, &s), vec![-2, -1, 0]);
        assert_eq!(split_by_shares(-3, &s).iter().sum::<i64>(), -3);
        let bad = vec![("lead".to_owned(), 6_000), ("b".to_owned(), 3_000)];
        assert!(check_shares(&bad).is_err());
        let dup = vec![("a".to_owned(), 5_000), ("a".to_owned(), 5_000)];
        assert!(check_shares(&dup).is_err());
    }
}
