use crate::factor;
use kebao_glm::{fit, Data, Factor, Family, GlmError, Spec};

fn levels(n: usize) -> Vec<String> {
    (0..n).map(|i| ["a", "b", "c"][i % 3].to_owned()).collect()
}

#[test]
fn response_outside_the_support() {
    let y = [1.0, -1.0, 2.0];
    let e = fit(&Data::new(&y), &Spec::new(Family::Poisson)).unwrap_err();
    assert_eq!(e, GlmError::Support { family: "poisson", support: "y ≥ 0", value: -1.0, row: 2 });
    let y = [1.0, 0.0, 2.0];
    let e = fit(&Data::new(&y), &Spec::new(Family::Gamma)).unwrap_err();
    assert!(matches!(e, GlmError::Support { row: 2, .. }), "{e}");
    let y = [0.5, 1.5];
    assert!(matches!(fit(&Data::new(&y), &Spec::new(Family::Binomial)), Err(GlmError::Support { .. })));
}

#[test]
fn missing_and_non_finite_cells() {
    let y = [1.0, f64::NAN, 2.0];
    assert_eq!(
        fit(&Data::new(&y), &Spec::new(Family::Poisson)).unwrap_err(),
        GlmError::NotFinite { column: "response".into(), row: 2 }
    );
    let y = [1.0, 2.0, 3.0];
    let x = [1.0, f64::INFINITY, 2.0];
    assert!(matches!(
        fit(&Data::new(&y).numeric("x", &x), &Spec::new(Family::Poisson)),
        Err(GlmError::NotFinite { row: 2, .. })
    ));
    let e = Factor::from_strings("f", &["a", "", "b"]).unwrap_err();
    assert_eq!(e, GlmError::NotFinite { column: "f".into(), row: 2 });
}

#[test]
fn exposure_must_be_positive_for_a_log_offset() {
    // The CLI takes log(exposure); a log of 0 is -inf and is refused here, naming the row.
    let y = [1.0, 2.0, 3.0];
    let off = [0.0, f64::NEG_INFINITY, 0.0];
    assert_eq!(
        fit(&Data::new(&y).offset(&off), &Spec::new(Family::Poisson)).unwrap_err(),
        GlmError::NotFinite { column: "offset".into(), row: 2 }
    );
    let w = [1.0, -2.0, 1.0];
    assert!(matches!(
        fit(&Data::new(&y).weights(&w), &Spec::new(Family::Poisson)),
        Err(GlmError::NegativeWeight { row: 2, .. })
    ));
}

#[test]
fn single_level_factors_and_bad_options() {
    let y = [1.0, 2.0, 3.0];
    let f = Factor::from_strings("f", &["a", "a", "a"]).unwrap();
    assert_eq!(
        fit(&Data::new(&y).factor(f), &Spec::new(Family::Poisson)).unwrap_err(),
        GlmError::SingleLevel("f".into())
    );
    assert!(matches!(
        Factor::from_strings("f", &["a", "b"]).unwrap().with_reference("z"),
        Err(GlmError::UnknownReference { .. })
    ));
    assert_eq!(
        fit(&Data::new(&y), &Spec::new(Family::Tweedie(2.5))).unwrap_err(),
        GlmError::TweediePower(2.5)
    );
    assert!(matches!(
        fit(&Data::new(&y), &Spec::new(Family::Poisson).link(kebao_glm::Link::Logit)),
        Err(GlmError::Link { .. })
    ));
    let short = [1.0];
    assert!(matches!(
        fit(&Data::new(&y).numeric("x", &short), &Spec::new(Family::Poisson)),
        Err(GlmError::Length { .. })
    ));
}

#[test]
fn non_convergence_is_reported() {
    let y: Vec<f64> = (0..30).map(|i| f64::from(i % 5)).collect();
    let f = factor("g", &levels(30));
    let mut spec = Spec::new(Family::Poisson);
    spec.max_iterations = 1;
    assert!(matches!(
        fit(&Data::new(&y).factor(f), &spec),
        Err(GlmError::NoConvergence { iterations: 1, .. })
    ));
}

#[test]
fn separation_breaks_down_or_is_reported_not_silent() {
    // Perfect separation: the logit MLE does not exist; R warns and reports huge
    // coefficients. We must not return a "converged" fit silently: either an error, or
    // coefficients whose size shows it.
    let y = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    match fit(&Data::new(&y).numeric("x", &x), &Spec::new(Family::Binomial)) {
        Err(e) => assert!(matches!(e, GlmError::NoConvergence { .. } | GlmError::Numerical(_)), "{e}"),
        Ok(f) => assert!(f.coefficient("x").unwrap().estimate.unwrap().abs() > 5.0),
    }
}

#[test]
fn predictions_refuse_unseen_levels() {
    let y = [1.0, 2.0, 3.0, 2.0];
    let f = Factor::from_strings("g", &["a", "b", "a", "b"]).unwrap();
    let m = fit(&Data::new(&y).factor(f), &Spec::new(Family::Poisson)).unwrap();
    let new = Factor::from_strings("g", &["a", "c"]).unwrap();
    let y2 = [0.0, 0.0];
    assert_eq!(
        m.predict(&Data::new(&y2).factor(new)).unwrap_err(),
        GlmError::UnknownLevel { factor: "g".into(), level: "c".into() }
    );
    let ok = Factor::from_strings("g", &["b", "a"]).unwrap();
    let mu = m.predict(&Data::new(&y2).factor(ok)).unwrap();
    assert!((mu[0] - 2.0).abs() < 1e-9 && (mu[1] - 2.0).abs() < 1e-9, "{mu:?}");
}

#[test]
fn a_factor_from_a_readers_codes_sorts_its_levels_as_r_does() {
    // A column reader codes levels in order of first appearance; the factor sorts them
    // (numerically when every level is a number) and renumbers, as from the strings.
    let text = ["10", "9", "10", "100", "9"];
    let from_codes =
        Factor::from_levels("n", vec![0, 1, 0, 2, 1], vec!["10".into(), "9".into(), "100".into()]).unwrap();
    assert_eq!(from_codes, Factor::from_strings("n", &text).unwrap());
    assert_eq!(from_codes.levels(), ["9", "10", "100"]);
    assert_eq!(from_codes.codes_slice(), [1, 0, 1, 2, 0]);
    let e = Factor::from_levels("n", vec![0, 3], vec!["a".into(), "b".into()]).unwrap_err();
    assert_eq!(e, GlmError::NotFinite { column: "n".into(), row: 2 });
}
