//! Distribution functions for tests, from puruspe's special functions.

/// ln Γ(x) for x > 0 (NaN elsewhere).
pub(crate) fn ln_gamma(x: f64) -> f64 {
    if x > 0.0 && x.is_finite() {
        puruspe::ln_gamma(x)
    } else {
        f64::NAN
    }
}

/// Two-sided p-value of a standard normal statistic.
pub(crate) fn p_normal(z: f64) -> f64 {
    puruspe::erfc(z.abs() / std::f64::consts::SQRT_2)
}

/// Two-sided p-value of a Student t statistic with `df` degrees of freedom.
pub(crate) fn p_student(t: f64, df: f64) -> f64 {
    // puruspe asserts on arguments outside its domain; keep them inside.
    if !(df > 0.0 && df.is_finite()) || t.is_nan() {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    puruspe::betai(df / 2.0, 0.5, (df / (df + t * t)).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn against_r() {
        // R: 2*pnorm(-1.96) = 0.0499957902964409, 2*pt(-2.1, 10) = 0.0620772442022185
        assert!((p_normal(1.96) - 0.049_995_790_296_440_9).abs() < 1e-12);
        assert!((p_student(-2.1, 10.0) - 0.062_077_244_202_218_5).abs() < 1e-10);
        assert!(p_student(f64::NAN, 3.0).is_nan() && p_student(1.0, 0.0).is_nan());
        let err = (ln_gamma(10.0) - 362_880f64.ln()).abs();
        assert!(err < 1e-10, "{err}");
    }
}
