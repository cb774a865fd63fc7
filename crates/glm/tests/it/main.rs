//! The GLM engine against published references and R 4.x. Each reference names its
//! source; R values were computed with `LC_COLLATE=C` (byte-order factor levels, as this
//! crate sorts them) and are printed to 15 digits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
// Reference values are copied as R printed them, digits and all.
#![allow(clippy::excessive_precision, clippy::type_complexity)]

mod bad_input;
mod references;

use kebao_glm::{Factor, Fit};
use std::collections::HashMap;

/// A CSV file of `../shared/data` as columns of text.
pub fn table(name: &str) -> HashMap<String, Vec<String>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/reference").join(name);
    let mut r = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    let mut cols: HashMap<String, Vec<String>> = headers.iter().map(|h| (h.clone(), Vec::new())).collect();
    for rec in r.records() {
        let rec = rec.unwrap();
        for (h, v) in headers.iter().zip(rec.iter()) {
            cols.get_mut(h).unwrap().push(v.to_owned());
        }
    }
    cols
}

pub fn num(v: &[String]) -> Vec<f64> {
    v.iter().map(|s| s.parse::<f64>().unwrap()).collect()
}

/// (name, estimate, standard error) from R.
pub type Reference<'a> = &'a [(&'a str, f64, f64)];

/// Asserts agreement to a relative 1e-6.
pub fn check(fit: &Fit, reference: Reference<'_>, deviance: f64) {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1e-12);
    assert!(close(fit.deviance, deviance), "deviance {} vs R {}", fit.deviance, deviance);
    assert_eq!(
        fit.coefficients.len(),
        reference.len(),
        "{:?}",
        fit.coefficients.iter().map(|c| &c.name).collect::<Vec<_>>()
    );
    for (c, (name, est, se)) in fit.coefficients.iter().zip(reference) {
        assert_eq!(&c.name, name);
        let (e, s) = (c.estimate.unwrap(), c.std_error.unwrap());
        assert!(close(e, *est), "{name}: estimate {e} vs R {est}");
        assert!(close(s, *se), "{name}: std. error {s} vs R {se}");
    }
}

pub fn factor(name: &str, v: &[String]) -> Factor {
    Factor::from_strings(name, v).unwrap()
}
