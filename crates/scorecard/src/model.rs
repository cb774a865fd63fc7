//! The scorecard: binning per variable, logistic regression on WoE, points, scoring.

use crate::binning::{bin_categorical, bin_coded, bin_numeric, BinningOptions, VariableBinning};
use crate::ScorecardError;
use kebao_glm::{fit, Data, Family, Spec};
use serde::{Deserialize, Serialize};

/// A column of input data.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// NaN is missing.
    Numeric { name: String, values: Vec<f64> },
    /// `None` is missing.
    Categorical { name: String, values: Vec<Option<String>> },
    /// Categories as codes into `levels` (as a column reader gives them); a code outside
    /// `levels` is missing. Binned and scored exactly as the same values in `Categorical`.
    Coded { name: String, codes: Vec<u32>, levels: Vec<String> },
}

impl Column {
    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            Column::Numeric { name, .. } | Column::Categorical { name, .. } | Column::Coded { name, .. } => {
                name
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Column::Numeric { values, .. } => values.len(),
            Column::Categorical { values, .. } => values.len(),
            Column::Coded { codes, .. } => codes.len(),
        }
    }
}

/// The candidate variables.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Frame {
    pub columns: Vec<Column>,
}

/// What to build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorecardOptions {
    pub binning: BinningOptions,
    /// Variables with a lower IV are left out. The default, 0.005, drops only variables with
    /// no signal to speak of (the usual rule of thumb, 0.02, also drops weak but real ones);
    /// 0 keeps every variable with any IV.
    pub min_iv: f64,
    /// Of two variables whose WoE values correlate beyond this (absolute), the one with
    /// the lower IV is left out.
    pub max_correlation: Option<f64>,
    /// L2 penalty of the logistic regression.
    pub l2: f64,
    /// Points to double the odds.
    pub pdo: f64,
    /// The score at `base_odds`.
    pub base_score: f64,
    /// Good:bad odds at `base_score`.
    pub base_odds: f64,
}

impl Default for ScorecardOptions {
    fn default() -> Self {
        ScorecardOptions {
            binning: BinningOptions::default(),
            min_iv: 0.005,
            max_correlation: None,
            l2: 0.0,
            pdo: 20.0,
            base_score: 600.0,
            base_odds: 50.0,
        }
    }
}

/// A variable in the model, with its points per bin (regular bins, then special, missing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredVariable {
    pub binning: VariableBinning,
    pub coefficient: f64,
    /// Not defined under an L2 penalty (NaN, written as `null`).
    #[serde(deserialize_with = "nan_if_null")]
    pub std_error: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub p_value: f64,
    pub points: Vec<f64>,
    pub special_points: f64,
    pub missing_points: f64,
    /// Points for a value the model cannot place (an unseen category without a rare bin).
    pub neutral_points: f64,
}

/// A number that JSON writes as `null` when it is not a number (NaN): read back as NaN.
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// A fitted scorecard; serialises whole to JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    pub schema: String,
    pub options: ScorecardOptions,
    pub intercept: f64,
    pub variables: Vec<ScoredVariable>,
    /// Variables left out, with the reason.
    pub excluded: Vec<(String, String)>,
    /// All variables' binnings, for the IV ranking.
    pub all_binnings: Vec<VariableBinning>,
}

/// Why a record lost points on a variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    pub variable: String,
    pub bin: String,
    pub points: f64,
    /// Points below the variable's best bin.
    pub points_lost: f64,
}

/// A scored record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub score: f64,
    /// Probability of the event.
    pub probability: f64,
    /// The variables that cost the most points, worst first (at most three).
    pub reasons: Vec<Reason>,
}

fn check_target(y: &[f64]) -> Result<Vec<u8>, ScorecardError> {
    let mut out = Vec::with_capacity(y.len());
    for (row, &v) in y.iter().enumerate() {
        if v == 0.0 {
            out.push(0);
        } else if v == 1.0 {
            out.push(1);
        } else {
            return Err(ScorecardError::Target { row: row + 1, value: v });
        }
    }
    let events = out.iter().filter(|&&t| t == 1).count();
    if events == 0 {
        return Err(ScorecardError::OneClass(0));
    }
    if events == out.len() {
        return Err(ScorecardError::OneClass(1));
    }
    Ok(out)
}

fn woe_column(b: &VariableBinning, col: &Column) -> Vec<f64> {
    match col {
        Column::Numeric { values, .. } => values
            .iter()
            .map(|&v| match b.numeric_bin(v) {
                Ok(k) => b.bins.get(k).map_or(0.0, |s| s.woe),
                Err(true) => b.special.woe,
                Err(false) => b.missing.woe,
            })
            .collect(),
        Column::Categorical { values, .. } => {
            let index = b.category_index();
            values
                .iter()
                .map(|v| match v {
                    None => b.missing.woe,
                    Some(s) => index
                        .get(s.as_str())
                        .copied()
                        .or(b.unseen_bin())
                        .and_then(|k| b.bins.get(k))
                        .map_or(0.0, |s| s.woe),
                })
                .collect()
        }
        Column::Coded { codes, levels, .. } => {
            let woe: Vec<f64> = b
                .level_bins(levels)
                .iter()
                .map(|k| k.and_then(|k| b.bins.get(k)).map_or(0.0, |s| s.woe))
                .collect();
            codes.iter().map(|&c| woe.get(c as usize).copied().unwrap_or(b.missing.woe)).collect()
        }
    }
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    sab / (saa * sbb).sqrt()
}

impl Scorecard {
    /// Bins every column, selects variables, fits the logistic regression and scales points.
    pub fn fit(frame: &Frame, target: &[f64], opts: &ScorecardOptions) -> Result<Scorecard, ScorecardError> {
        let y = check_target(target)?;
        for c in &frame.columns {
            if c.len() != y.len() {
                return Err(ScorecardError::Length {
                    column: c.name().to_owned(),
                    expected: y.len(),
                    found: c.len(),
                });
            }
            if let Column::Numeric { name, values } = c {
                if let Some((row, v)) = values.iter().enumerate().find(|(_, v)| v.is_infinite()) {
                    return Err(ScorecardError::NotFinite { column: name.clone(), row: row + 1, value: *v });
                }
            }
        }
        let all: Vec<VariableBinning> = frame
            .columns
            .iter()
            .map(|c| match c {
                Column::Numeric { name, values } => bin_numeric(name, values, &y, &opts.binning),
                Column::Categorical { name, values } => bin_categorical(name, values, &y, &opts.binning),
                Column::Coded { name, codes, levels } => bin_coded(name, codes, levels, &y, &opts.binning),
            })
            .collect();
        let mut excluded = Vec::new();
        let mut chosen: Vec<(usize, Vec<f64>)> = Vec::new();
        let mut order: Vec<usize> = (0..all.len()).collect();
        order.sort_by(|&a, &b| all.get(b).map_or(0.0, |x| x.iv).total_cmp(&all.get(a).map_or(0.0, |x| x.iv)));
        for i in order {
            let (Some(b), Some(col)) = (all.get(i), frame.columns.get(i)) else { continue };
            if b.iv <= 0.0 || b.iv < opts.min_iv {
                excluded.push((
                    b.name.clone(),
                    format!("IV {:.4} (constant, all missing or unpredictive)", b.iv),
                ));
                continue;
            }
            let w = woe_column(b, col);
            if let Some(limit) = opts.max_correlation {
                if let Some((j, r)) =
                    chosen.iter().map(|(j, v)| (*j, correlation(&w, v))).find(|(_, r)| r.abs() > limit)
                {
                    let other = all.get(j).map_or("", |x| x.name.as_str());
                    excluded.push((b.name.clone(), format!("correlation {r:.3} with `{other}`")));
                    continue;
                }
            }
            chosen.push((i, w));
        }
        if chosen.is_empty() {
            return Err(ScorecardError::NoVariables(
                excluded.iter().map(|(n, r)| format!("{n}: {r}")).collect::<Vec<_>>().join("; "),
            ));
        }
        chosen.sort_by_key(|(i, _)| *i);
        let yf: Vec<f64> = y.iter().map(|&t| f64::from(t)).collect();
        let names: Vec<String> =
            chosen.iter().filter_map(|(i, _)| all.get(*i).map(|b| b.name.clone())).collect();
        let mut data = Data::new(&yf);
        for (name, (_, w)) in names.iter().zip(&chosen) {
            data = data.numeric(name, w);
        }
        // Points are printed to a tenth: coefficients to 1e-6 are plenty.
        // Start where a WoE model usually ends: the intercept at the overall log-odds, and
        // every coefficient at −1 (WoE is already the log-odds contribution of the bin, with
        // the opposite sign).
        let mean = yf.iter().sum::<f64>() / yf.len() as f64;
        let mut start = vec![(mean / (1.0 - mean)).ln()];
        start.extend(std::iter::repeat_n(-1.0, names.len()));
        let spec =
            Spec { beta_tolerance: 1e-6, start: Some(start), ..Spec::new(Family::Binomial).l2(opts.l2) };
        let model = fit(&data, &spec).map_err(|e| ScorecardError::Fit(e.to_string()))?;
        let intercept = model.coefficient("(Intercept)").and_then(|c| c.estimate).unwrap_or(0.0);
        let factor = opts.pdo / std::f64::consts::LN_2;
        let offset = opts.base_score - factor * opts.base_odds.ln();
        let m = chosen.len() as f64;
        // score = offset + factor·ln(good:bad odds) = offset − factor·η, η = β₀ + Σβⱼ·WoEⱼ;
        // the intercept's share is spread evenly over the variables.
        let per_var_base = (offset - factor * intercept) / m;
        let variables = chosen
            .iter()
            .zip(&names)
            .filter_map(|((i, _), name)| {
                let b = all.get(*i)?.clone();
                let c = model.coefficient(name)?;
                let beta = c.estimate.unwrap_or(0.0);
                let pts = |woe: f64| per_var_base - factor * beta * woe;
                Some(ScoredVariable {
                    points: b.bins.iter().map(|s| pts(s.woe)).collect(),
                    special_points: pts(b.special.woe),
                    missing_points: pts(b.missing.woe),
                    neutral_points: pts(0.0),
                    coefficient: beta,
                    std_error: c.std_error.unwrap_or(f64::NAN),
                    p_value: c.p_value.unwrap_or(f64::NAN),
                    binning: b,
                })
            })
            .collect();
        Ok(Scorecard {
            schema: "kebao.scorecard/1".into(),
            options: opts.clone(),
            intercept,
            variables,
            excluded,
            all_binnings: all,
        })
    }

    /// Scores every row of a frame (columns by name; extra columns ignored).
    pub fn score(&self, frame: &Frame) -> Result<Vec<Scored>, ScorecardError> {
        self.score_rows(frame, true)
    }

    /// Scores and probabilities of every row, without reason codes (for metrics over many
    /// rows: no text is made per row).
    pub fn score_values(&self, frame: &Frame) -> Result<Vec<Scored>, ScorecardError> {
        self.score_rows(frame, false)
    }

    fn score_rows(&self, frame: &Frame, with_reasons: bool) -> Result<Vec<Scored>, ScorecardError> {
        let n = frame.columns.first().map_or(0, Column::len);
        let cols: Vec<&Column> = self
            .variables
            .iter()
            .map(|v| {
                frame
                    .columns
                    .iter()
                    .find(|c| c.name() == v.binning.name)
                    .ok_or_else(|| ScorecardError::UnknownColumn(v.binning.name.clone()))
            })
            .collect::<Result<_, _>>()?;
        let factor = self.options.pdo / std::f64::consts::LN_2;
        let offset = self.options.base_score - factor * self.options.base_odds.ln();
        let indexes: Vec<std::collections::HashMap<&str, usize>> =
            self.variables.iter().map(|v| v.binning.category_index()).collect();
        // For coded columns, each level's bin, looked up once.
        let level_bins: Vec<Vec<Option<usize>>> = self
            .variables
            .iter()
            .zip(&cols)
            .map(|(v, col)| match col {
                Column::Coded { levels, .. } => v.binning.level_bins(levels),
                _ => Vec::new(),
            })
            .collect();
        let best: Vec<f64> = self
            .variables
            .iter()
            .map(|v| v.points.iter().copied().fold(f64::NEG_INFINITY, f64::max))
            .collect();
        /// Where a value fell, resolved to a label only for the reasons shown.
        enum Place {
            Bin(usize),
            Special,
            Missing,
            Unseen,
        }
        let mut parts: Vec<(usize, Place, f64)> = Vec::with_capacity(self.variables.len());
        Ok((0..n)
            .map(|r| {
                parts.clear();
                let mut total = 0.0;
                for (j, (v, col)) in self.variables.iter().zip(&cols).enumerate() {
                    let (place, pts) = match col {
                        Column::Numeric { values, .. } => match v
                            .binning
                            .numeric_bin(values.get(r).copied().unwrap_or(f64::NAN))
                        {
                            Ok(k) => (Place::Bin(k), v.points.get(k).copied().unwrap_or(v.neutral_points)),
                            Err(true) => (Place::Special, v.special_points),
                            Err(false) => (Place::Missing, v.missing_points),
                        },
                        Column::Categorical { values, .. } => {
                            match values.get(r).and_then(|x| x.as_deref()) {
                                None => (Place::Missing, v.missing_points),
                                Some(s) => match indexes
                                    .get(j)
                                    .and_then(|ix| ix.get(s))
                                    .copied()
                                    .or(v.binning.unseen_bin())
                                {
                                    Some(k) => {
                                        (Place::Bin(k), v.points.get(k).copied().unwrap_or(v.neutral_points))
                                    }
                                    None => (Place::Unseen, v.neutral_points),
                                },
                            }
                        }
                        Column::Coded { codes, levels, .. } => {
                            let c = codes.get(r).map_or(usize::MAX, |&c| c as usize);
                            if c >= levels.len() {
                                (Place::Missing, v.missing_points)
                            } else {
                                match level_bins.get(j).and_then(|b| b.get(c)).copied().flatten() {
                                    Some(k) => {
                                        (Place::Bin(k), v.points.get(k).copied().unwrap_or(v.neutral_points))
                                    }
                                    None => (Place::Unseen, v.neutral_points),
                                }
                            }
                        }
                    };
                    total += pts;
                    parts.push((j, place, pts));
                }
                // η = (offset − score) / factor.
                let eta = (offset - total) / factor;
                let probability = 1.0 / (1.0 + (-eta).exp());
                if !with_reasons {
                    return Scored { score: total, probability, reasons: Vec::new() };
                }
                let lost = |j: usize, pts: f64| (best.get(j).copied().unwrap_or(pts) - pts).max(0.0);
                parts.sort_by(|a, b| lost(b.0, b.2).total_cmp(&lost(a.0, a.2)));
                let reasons = parts
                    .iter()
                    .filter(|(j, _, pts)| lost(*j, *pts) > 0.0)
                    .take(3)
                    .filter_map(|(j, place, pts)| {
                        let v = self.variables.get(*j)?;
                        let bin = match place {
                            Place::Bin(k) => {
                                v.binning.bins.get(*k).map_or(String::new(), |s| s.label.clone())
                            }
                            Place::Special => "Special".to_owned(),
                            Place::Missing => "Missing".to_owned(),
                            Place::Unseen => match cols.get(*j) {
                                Some(Column::Categorical { values, .. }) => format!(
                                    "unseen `{}`",
                                    values.get(r).and_then(|x| x.as_deref()).unwrap_or("")
                                ),
                                Some(Column::Coded { codes, levels, .. }) => format!(
                                    "unseen `{}`",
                                    codes
                                        .get(r)
                                        .and_then(|&c| levels.get(c as usize))
                                        .map_or("", String::as_str)
                                ),
                                _ => "unseen".to_owned(),
                            },
                        };
                        Some(Reason {
                            variable: v.binning.name.clone(),
                            bin,
                            points: *pts,
                            points_lost: lost(*j, *pts),
                        })
                    })
                    .collect();
                Scored { score: total, probability, reasons }
            })
            .collect())
    }

    /// Characteristic stability index per variable: the PSI of the share of rows in each bin
    /// (regular, special, missing), `actual` against `expected` (shares floored at 1e-4).
    pub fn csi(&self, expected: &Frame, actual: &Frame) -> Result<Vec<(String, f64)>, ScorecardError> {
        let shares = |frame: &Frame, v: &ScoredVariable| -> Result<Vec<f64>, ScorecardError> {
            let col = frame
                .columns
                .iter()
                .find(|c| c.name() == v.binning.name)
                .ok_or_else(|| ScorecardError::UnknownColumn(v.binning.name.clone()))?;
            let k = v.binning.bins.len();
            let mut counts = vec![0.0; k + 3];
            match col {
                Column::Numeric { values, .. } => {
                    for &x in values {
                        let slot = match v.binning.numeric_bin(x) {
                            Ok(b) => b,
                            Err(true) => k,
                            Err(false) => k + 1,
                        };
                        if let Some(c) = counts.get_mut(slot) {
                            *c += 1.0;
                        }
                    }
                }
                Column::Categorical { values, .. } => {
                    let index = v.binning.category_index();
                    for x in values {
                        let slot = match x {
                            None => k + 1,
                            Some(s) => {
                                index.get(s.as_str()).copied().or(v.binning.unseen_bin()).unwrap_or(k + 2)
                            }
                        };
                        if let Some(c) = counts.get_mut(slot) {
                            *c += 1.0;
                        }
                    }
                }
                Column::Coded { codes, levels, .. } => {
                    let slots: Vec<usize> =
                        v.binning.level_bins(levels).iter().map(|b| b.unwrap_or(k + 2)).collect();
                    for &x in codes {
                        let slot = slots.get(x as usize).copied().unwrap_or(k + 1);
                        if let Some(c) = counts.get_mut(slot) {
                            *c += 1.0;
                        }
                    }
                }
            }
            let n: f64 = counts.iter().sum();
            Ok(counts.iter().map(|c| (c / n.max(1.0)).max(1e-4)).collect())
        };
        self.variables
            .iter()
            .map(|v| {
                let (e, a) = (shares(expected, v)?, shares(actual, v)?);
                Ok((v.binning.name.clone(), e.iter().zip(&a).map(|(e, a)| (a - e) * (a / e).ln()).sum()))
            })
            .collect()
    }

    /// The model as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A model from JSON.
    pub fn from_json(text: &str) -> Result<Scorecard, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}
