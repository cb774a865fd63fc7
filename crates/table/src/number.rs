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
    // The integer digits, then the fraction's after a point: two runs of digits, each
    // accumulated without a per-byte branch on which part it is in.
    let (mut mantissa, int_len) = digit_run(digits, 0);
    let mut fraction = 0usize;
    let mut end = int_len;
    if digits.get(end) == Some(&b'.') {
        let (m, len) = digit_run(digits.get(end + 1..).unwrap_or(&[]), mantissa);
        mantissa = m;
        fraction = len;
        end += 1 + len;
    }
    let count = int_len + fraction;
    // At most 19 digits fit in a u64 without overflow; the whole cell must be read.
    if end != digits.len() || count == 0 || count > 19 || mantissa > (1u64 << 53) {
        return None;
    }
    let scale = POW10.get(fraction).copied()?;
    let v = mantissa as f64 / scale;
    Some(if negative { -v } else { v })
}

/// The leading ASCII digits of `b` appended to `acc` (wrapping: the caller refuses more than
/// 19 digits in all), and how many there were.
fn digit_run(b: &[u8], mut acc: u64) -> (u64, usize) {
    let mut n = 0;
    // Eight digits at a time where the bytes allow (SWAR: all eight are '0'..='9').
    while let Some(chunk) = b.get(n..n + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let v = u64::from_le_bytes(w);
        let d = v.wrapping_sub(0x3030_3030_3030_3030);
        // Every byte a digit: no byte borrowed below '0' and none above '9'.
        if (d | d.wrapping_add(0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        // Combine pairs, then quads, then the two halves (little-endian: the first digit is
        // the lowest byte).
        let d = (d.wrapping_mul(10) + (d >> 8)) & 0x00ff_00ff_00ff_00ff;
        let d = (d.wrapping_mul(100) + (d >> 16)) & 0x0000_ffff_0000_ffff;
        let d = d.wrapping_mul(10_000) + (d >> 32);
        acc = acc.wrapping_mul(100_000_000).wrapping_add(d & 0xffff_ffff);
        n += 8;
    }
    while let Some(&c) = b.get(n) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        acc = acc.wrapping_mul(10).wrapping_add(u64::from(d));
        n += 1;
    }
    (acc, n)
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
