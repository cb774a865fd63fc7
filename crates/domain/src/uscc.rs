//! 统一社会信用代码 (unified social credit code), GB 32100-2015.
//!
//! 18 characters from a 31-character alphabet (digits and capitals without I, O, S, V, Z):
//! 1 registration authority, 2 organisation category, 3–8 administrative division (digits),
//! 9–17 the organisation code (GB 11714), 18 a check character. The check character is
//! `31 − (Σ value(cᵢ)·wᵢ mod 31)` with weights `wᵢ = 3ⁱ mod 31`, and 31 written as `0`.

use crate::error::FieldError;
use std::fmt;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// A syntactically valid unified social credit code with a correct check character.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

fn value_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).and_then(|p| u32::try_from(p).ok())
}

/// The check character for the first 17 characters, or `None` if one is outside the alphabet.
pub fn check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in bytes.iter().zip(WEIGHTS) {
        sum += value_of(*c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    ALPHABET.get(usize::try_from(check).ok()?).map(|&b| char::from(b))
}

impl Uscc {
    /// Parses a code; surrounding spaces are ignored and lower case is accepted.
    pub fn parse(input: &str) -> Result<Uscc, FieldError> {
        let s = input.trim().to_ascii_uppercase();
        let err = |code, zh: String, en: String| Err(FieldError::new("uscc", code, zh, en));
        if s.is_empty() {
            return Err(FieldError::required("uscc"));
        }
        let n = s.chars().count();
        if n != 18 {
            return err(
                "uscc_length",
                format!("统一社会信用代码应为18位，`{s}` 为{n}位"),
                format!("a unified social credit code has 18 characters, `{s}` has {n}"),
            );
        }
        for (i, c) in s.chars().enumerate() {
            let ok = c.is_ascii() && value_of(c as u8).is_some();
            if !ok {
                return err(
                    "uscc_character",
                    format!("第{}位字符 `{c}` 不允许出现在统一社会信用代码中（不使用 I、O、S、V、Z）", i + 1),
                    format!(
                        "character {} (`{c}`) is not allowed in a unified social credit code (I, O, S, V and Z are never used)",
                        i + 1
                    ),
                );
            }
        }
        if let Some(bad) = s.get(2..8).filter(|d| !d.bytes().all(|b| b.is_ascii_digit())) {
            return err(
                "uscc_division",
                format!("第3–8位为行政区划码，应为数字，而非 `{bad}`"),
                format!(
                    "characters 3–8 are the administrative division code and must be digits, not `{bad}`"
                ),
            );
        }
        let (body, given) = s.split_at(17);
        let expected = check_char(body);
        if expected.map(String::from).as_deref() != Some(given) {
            let exp = expected.map(String::from).unwrap_or_default();
            return err(
                "uscc_check_digit",
                format!("校验位错误：第18位应为 `{exp}`，而非 `{given}`（请核对代码是否抄错）"),
                format!("wrong check character: the 18th character should be `{exp}`, not `{given}` (check the code for a typo)"),
            );
        }
        Ok(Uscc(s))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Completes 17 characters with their check character (for generators and tests).
    pub fn complete(first17: &str) -> Option<Uscc> {
        let c = check_char(first17)?;
        Some(Uscc(format!("{first17}{c}")))
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_codes_parse() {
        // Codes of Huawei Technologies, Tencent (Shenzhen) and Alibaba (China), as published
        // in the national enterprise credit publicity system.
        for code in ["914403001922038216", "91440300708461136T", "91330100799655058B"] {
            Uscc::parse(code).map_err(|e| e.to_string()).unwrap_or_else(|e| panic!("{code}: {e}"));
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let e = |s: &str| Uscc::parse(s).err().map(|e| e.code);
        assert_eq!(e("91440300708461136"), Some("uscc_length"));
        assert_eq!(e("9144030070846113OT"), Some("uscc_character"));
        assert_eq!(e("9144A300708461136T"), Some("uscc_division"));
        assert_eq!(e("91440300708461136X"), Some("uscc_check_digit"));
        assert_eq!(e(""), Some("required"));
        let msg = Uscc::parse("91440300708461136X").err().map(|e| e.message_en).unwrap_or_default();
        assert!(msg.contains("should be `T`"), "{msg}");
        assert_eq!(
            Uscc::parse(" 91440300708461136t ").map(|u| u.to_string()),
            Ok("91440300708461136T".into())
        );
    }
}
