//! Money as integer fen (0.01 CNY). No float ever holds an amount.

use crate::error::FieldError;
use std::fmt;

/// An amount in fen. Arithmetic is checked; overflow is an error, never a wrap.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// From a count of fen.
    pub const fn from_fen(fen: i64) -> Money {
        Money(fen)
    }

    /// The count of fen.
    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Checked sum.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// Checked difference.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// Parses an amount in yuan with at most two decimals (`12345.6`, `1,234.56`, `-3`).
    /// `field` names the input in the error.
    pub fn parse_yuan(input: &str, field: &str) -> Result<Money, FieldError> {
        let s: String = input.trim().chars().filter(|c| *c != ',' && *c != '，').collect();
        let bad = || {
            FieldError::new(
                field,
                "money_format",
                format!("金额 `{}` 格式不正确：应为元，最多两位小数", input.trim()),
                format!("amount `{}` is malformed: give yuan with at most two decimals", input.trim()),
            )
        };
        if s.is_empty() {
            return Err(FieldError::required(field));
        }
        let (neg, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.as_str()),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if int.is_empty() || frac.len() > 2 || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let int: i64 = int.parse().map_err(|_| bad())?;
        let frac_fen: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
            _ => frac.parse::<i64>().map_err(|_| bad())?,
        };
        let fen = int.checked_mul(100).and_then(|v| v.checked_add(frac_fen)).ok_or_else(bad)?;
        Ok(Money(if neg { -fen } else { fen }))
    }

    /// Yuan with two decimals, no separators (`12345.60`), for forms and spreadsheets.
    pub fn to_yuan_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// Yuan with thousands separators (`12,345.60`), for display.
    pub fn display_yuan(self) -> String {
        let plain = self.to_yuan_string();
        let (int, frac) = plain.split_once('.').unwrap_or((&plain, "00"));
        let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        format!("{sign}{out}.{frac}")
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{}", self.display_yuan())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_round_trip() {
        let p = |s| Money::parse_yuan(s, "x").map(Money::fen);
        assert_eq!(p("12345.6"), Ok(1_234_560));
        assert_eq!(p("1,234.56"), Ok(123_456));
        assert_eq!(p("-3"), Ok(-300));
        assert!(p("1.234").is_err());
        assert!(p("abc").is_err());
        assert!(p("99999999999999999999").is_err());
        assert_eq!(Money::from_fen(123_456_789).display_yuan(), "1,234,567.89");
        assert_eq!(Money::from_fen(-5).to_yuan_string(), "-0.05");
        assert_eq!(Money::from_fen(i64::MAX).checked_add(Money::from_fen(1)), None);
    }
}
