//! Numbers from cell bytes: a fast path for plain decimals, exact, and Rust's parser for the
//! rest, so that every cell reads as `str::parse::<f64>` reads it.

/// Powers of ten that are exact in `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    1e19, 1e20, 1e21, 1e22,
];

/// The value of a trimmed cell as `str::parse::<f64>` gives it, or `None`.
///
/// Plain decimals (`-12.345`, `7`, `.5`) whose digits fit in 2^53 with at most 22 after the
/// point take the fast path: the integer of the digits and the power of ten are both exact,
/// so one division rounds correctly (Clinger's fast path) — the same value the full parser
/// returns. Everything else (exponents, `inf`, long mantissas, `+`, …) goes to the full parser.
pub fn parse_f64(cell: &[u8]) -> Option<f64> {
    fast(cell).or_else(|| std::str::from_utf8(cell).ok()?.trim().parse::<f64>().ok())
}

fn fast(cell: &[u8]) -> Option<f64> {
    let (negative, digits) = match cell.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, cell),
    };
    let mut mantissa: u64 = 0;
    let mut count = 0usize;
    let mut fraction: Option<usize> = None;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                // At most 19 digits fit in a u64 without overflow.
                if count >= 19 {
                    return None;
                }
                mantissa = mantissa * 10 + u64::from(b - b'0');
                count += 1;
                if let Some(f) = fraction.as_mut() {
                    *f += 1;
                }
            }
            b'.' if fraction.is_none() => fraction = Some(0),
            _ => return None,
        }
    }
    if count == 0 || mantissa > (1u64 << 53) {
        return None;
    }
    let scale = POW10.get(fraction.unwrap_or(0)).copied()?;
    let v = mantissa as f64 / scale;
    Some(if negative { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn std_parse(s: &str) -> Option<f64> {
        s.trim().parse::<f64>().ok()
    }

    fn same(s: &str) {
        let (a, b) = (parse_f64(s.as_bytes()), std_parse(s));
        match (a, b) {
            (Some(x), Some(y)) => assert!(x.to_bits() == y.to_bits(), "{s}: {x:e} vs {y:e}"),
            (None, None) => {}
            _ => panic!("{s}: {a:?} vs {b:?}"),
        }
    }

    #[test]
    fn reads_as_the_standard_parser_reads() {
        for s in [
            "0",
            "-0",
            "1",
            "-1",
            "0.5",
            ".5",
            "5.",
            "-.5",
            "+1",
            "1e5",
            "1E-3",
            "-2.5e+10",
            "inf",
            "-inf",
            "NaN",
            "nan",
            "infinity",
            "",
            ".",
            "-",
            "+",
            "1.2.3",
            "1,5",
            "abc",
            "12a",
            "0x10",
            "1_000",
            "00012.3400",
            "9007199254740992",
            "9007199254740993",
            "123456789012345678901234",
            "0.1234567890123456789012",
            "0.00000000000000000000001",
            "1.7976931348623157e308",
            "1e400",
            "4.9e-324",
            " 3.5",
            "3.5 ",
            "٣",
        ] {
            same(s);
        }
    }

    #[test]
    fn plain_decimals_of_every_shape_read_exactly() {
        // A fixed pseudo-random walk over digits, lengths and point positions.
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let len = 1 + (next() % 24) as usize;
            let mut s: String = (0..len).map(|_| char::from(b'0' + (next() % 10) as u8)).collect();
            let point = (next() % (len as u64 + 2)) as usize;
            if point <= len {
                s.insert(point, '.');
            }
            if next() % 2 == 0 {
                s.insert(0, '-');
            }
            same(&s);
        }
    }
}
