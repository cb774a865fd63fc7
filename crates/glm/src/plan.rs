//! A fitted log-link model as a multiplicative rating plan (JSON; `docs/rating-plan.md`).

use crate::{Family, Fit, GlmError, Link};
use serde::Serialize;

/// The schema name and version written into every plan.
pub const SCHEMA: &str = "kebao.rating_plan/1";

/// A rating plan: premium (or frequency) = base × Π relativities × exp(Σ bᵢ·xᵢ) × exposure.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RatingPlan {
    pub schema: &'static str,
    pub family: &'static str,
    /// Tweedie power, when the family is Tweedie.
    pub power: Option<f64>,
    pub link: &'static str,
    pub response: String,
    /// How exposure enters (e.g. `log(Holders)` as an offset), if it does.
    pub exposure: Option<String>,
    /// exp(intercept): the value at every factor's reference level and every numeric 0.
    pub base: f64,
    pub factors: Vec<FactorTable>,
    pub numeric: Vec<NumericTerm>,
    pub fit: FitSummary,
}

/// One factor's relativities.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FactorTable {
    pub name: String,
    pub reference: String,
    pub levels: Vec<LevelRelativity>,
}

/// One level: exp(coefficient); the reference has relativity 1. An aliased level has none.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LevelRelativity {
    pub level: String,
    pub coefficient: Option<f64>,
    pub relativity: Option<f64>,
}

/// A numeric term: relativity exp(coefficient × x), tabulated in bands for printed tables.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NumericTerm {
    pub name: String,
    pub coefficient: Option<f64>,
    /// Ten bands of equal counts over the fitted data; each band's relativity is taken at
    /// its midpoint (the exact rating uses x itself).
    pub bands: Vec<Band>,
}

/// A band [from, to] of a numeric term.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Band {
    pub from: f64,
    pub to: f64,
    pub relativity: Option<f64>,
}

/// Fit statistics kept with the plan, so a reviewer sees what it rests on.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FitSummary {
    pub n_obs: usize,
    pub deviance: f64,
    pub null_deviance: f64,
    pub df_residual: usize,
    pub aic: Option<f64>,
    pub dispersion: f64,
    pub l2: f64,
}

/// How many bands a numeric term is tabulated in.
pub const BANDS: usize = 10;

fn bands(values: &[f64], b: Option<f64>) -> Vec<Band> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<Band> = Vec::new();
    for k in 0..BANDS {
        let lo = v.get(k * v.len() / BANDS).copied().unwrap_or(0.0);
        let hi = v
            .get(((k + 1) * v.len() / BANDS).saturating_sub(1).max(k * v.len() / BANDS))
            .copied()
            .unwrap_or(lo);
        if out.last().is_some_and(|last| last.from == lo && last.to == hi) {
            continue;
        }
        out.push(Band { from: lo, to: hi, relativity: b.map(|b| (b * (lo + hi) / 2.0).exp()) });
    }
    out
}

impl RatingPlan {
    /// The plan of a log-link fit. `numeric_values` are the fitted data's numeric columns
    /// (for the bands), by name.
    pub fn from_fit(
        fit: &Fit,
        response: &str,
        exposure: Option<&str>,
        numeric_values: &[(&str, &[f64])],
    ) -> Result<RatingPlan, GlmError> {
        if fit.link != Link::Log {
            return Err(GlmError::Option(format!(
                "a multiplicative rating plan needs the log link; this model uses the {} link",
                fit.link.name()
            )));
        }
        let base = fit.coefficient("(Intercept)").and_then(|c| c.estimate).map_or(1.0, f64::exp);
        let factors = fit
            .factors
            .iter()
            .map(|(name, levels)| FactorTable {
                name: name.clone(),
                reference: levels.first().cloned().unwrap_or_default(),
                levels: levels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        let coef = if i == 0 {
                            Some(0.0)
                        } else {
                            fit.coefficient(&format!("{name}{l}")).and_then(|c| c.estimate)
                        };
                        LevelRelativity {
                            level: l.clone(),
                            coefficient: coef,
                            relativity: coef.map(f64::exp),
                        }
                    })
                    .collect(),
            })
            .collect();
        let numeric = fit
            .numerics
            .iter()
            .map(|name| {
                let b = fit.coefficient(name).and_then(|c| c.estimate);
                let values = numeric_values.iter().find(|(n, _)| n == name).map_or(&[][..], |(_, v)| *v);
                NumericTerm { name: name.clone(), coefficient: b, bands: bands(values, b) }
            })
            .collect();
        Ok(RatingPlan {
            schema: SCHEMA,
            family: fit.family.name(),
            power: match fit.family {
                Family::Tweedie(p) => Some(p),
                _ => None,
            },
            link: fit.link.name(),
            response: response.to_owned(),
            exposure: exposure.map(str::to_owned),
            base,
            factors,
            numeric,
            fit: FitSummary {
                n_obs: fit.n_obs,
                deviance: fit.deviance,
                null_deviance: fit.null_deviance,
                df_residual: fit.df_residual,
                aic: fit.aic,
                dispersion: fit.dispersion,
                l2: fit.l2,
            },
        })
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
