//! The operations of a build, each from one data set to the next.

use crate::framework::{Framework, UnitData};
use crate::CompositeError;
use std::collections::HashMap;

/// Units × columns, column-major; NaN is a missing value.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub units: Vec<String>,
    pub codes: Vec<String>,
    pub columns: Vec<Vec<f64>>,
}

impl Dataset {
    /// A column by code.
    pub fn column(&self, code: &str) -> Option<&[f64]> {
        self.codes.iter().position(|c| c == code).and_then(|i| self.columns.get(i)).map(Vec::as_slice)
    }

    /// One value.
    pub fn value(&self, unit: &str, code: &str) -> Option<f64> {
        let u = self.units.iter().position(|x| x == unit)?;
        self.column(code)?.get(u).copied()
    }
}

/// How missing values are filled.
#[derive(Debug, Clone, PartialEq)]
pub enum Imputation {
    /// The mean of the unit's group (a group column), per indicator (COINr `i_mean_grp`).
    GroupMean(String),
    /// The median of the unit's group (`i_median_grp`).
    GroupMedian(String),
    /// The indicator's mean over all units (`i_mean`).
    Mean,
    /// The indicator's median (`i_median`).
    Median,
    /// Leave missing values missing.
    None,
}

/// How indicators are brought to a common scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Normalisation {
    /// (x − min) / (max − min) · (hi − lo) + lo, after multiplying by the direction.
    MinMax { lo: f64, hi: f64 },
    /// (x − mean) / sd · sd_target + mean_target (sample sd), after the direction.
    ZScore { mean: f64, sd: f64 },
    /// Rank, 1 = lowest (COINr `n_rank`, R's `rank`); ties by `ties`.
    Rank { ties: Ties },
    /// Percentile rank in [0, 1]: (rank − 1) / (n − 1), n the present values (COINr `n_prank`).
    PercentileRank { ties: Ties },
    /// Borda score: rank − 1 (COINr `n_borda`); with `Ties::Min`, how many units score lower.
    Borda { ties: Ties },
    /// Goalposts: (x − lower) / (upper − lower) clipped to [0, 1], · scale; the indicator's
    /// `Target` is the upper goalpost and its minimum the lower one.
    Goalposts { scale: f64 },
    /// Distance to target: (x − min) / (target − min), capped at 1, · 100; needs `Target`.
    DistanceToTarget,
}

/// How rank-based normalisations rank tied values (R's `ties.method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ties {
    /// Ties share the lowest of their ranks (COINr's default, `ties.method = "min"`):
    /// 1, 2, 2, 4.
    #[default]
    Min,
    /// Ties share the average of their ranks (R's default, `"average"`): 1, 2.5, 2.5, 4.
    Average,
}

impl Normalisation {
    /// COINr's `n_minmax` default: `l_u = c(0, 100)`.
    pub const COINR_MINMAX: Normalisation = Normalisation::MinMax { lo: 0.0, hi: 100.0 };
    /// COINr's `n_zscore` default: `m_sd = c(0, 1)`.
    pub const COINR_ZSCORE: Normalisation = Normalisation::ZScore { mean: 0.0, sd: 1.0 };

    /// Refuses parameters that cannot normalise (COINr's `stopifnot`s and more): finite
    /// numbers, lower < upper, sd > 0, scale > 0.
    pub fn check(&self) -> Result<(), CompositeError> {
        let bad = |option: &'static str, message: String| Err(CompositeError::BadOption { option, message });
        match *self {
            Normalisation::MinMax { lo, hi } => {
                if !(lo.is_finite() && hi.is_finite()) {
                    return bad("minmax", format!("the range [{lo}, {hi}] must be finite numbers"));
                }
                if lo >= hi {
                    return bad("minmax", format!("the lower bound {lo} must be below the upper bound {hi}"));
                }
            }
            Normalisation::ZScore { mean, sd } => {
                if !(mean.is_finite() && sd.is_finite()) {
                    return bad("zscore", format!("the mean {mean} and sd {sd} must be finite numbers"));
                }
                if sd <= 0.0 {
                    return bad("zscore", format!("the standard deviation must be > 0, not {sd}"));
                }
            }
            Normalisation::Goalposts { scale } => {
                if !(scale.is_finite() && scale > 0.0) {
                    return bad("goalposts", format!("the scale must be a finite number > 0, not {scale}"));
                }
            }
            Normalisation::Rank { .. }
            | Normalisation::PercentileRank { .. }
            | Normalisation::Borda { .. }
            | Normalisation::DistanceToTarget => {}
        }
        Ok(())
    }
}

/// How children's scores are combined into their parent's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    /// Σwx / Σw.
    ArithmeticMean,
    /// Π x^(w/Σw); needs positive values.
    GeometricMean,
    /// Σw / Σ(w/x); needs positive values.
    HarmonicMean,
    /// (Σw·x^r / Σw)^(1/r), r ≠ 0 (r = 1 arithmetic, r = −1 harmonic); needs positive values.
    GeneralisedMean(i32),
}

/// Step 1: x / denominator where the framework names one.
pub fn denominate(data: &UnitData, fw: &Framework) -> Dataset {
    let mut ds = Dataset { units: data.units.clone(), codes: Vec::new(), columns: Vec::new() };
    for ind in fw.indicators() {
        let x = data.indicators.get(&ind.code).cloned().unwrap_or_default();
        let col = match ind.denominator.as_ref().and_then(|d| data.denominators.get(d)) {
            Some(den) => x.iter().zip(den).map(|(a, b)| a / b).collect(),
            None => x,
        };
        ds.codes.push(ind.code.clone());
        ds.columns.push(col);
    }
    ds
}

fn mean(v: &[f64]) -> f64 {
    let (s, n) = v.iter().filter(|x| !x.is_nan()).fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        s / n as f64
    }
}

fn median(v: &[f64]) -> f64 {
    let mut x: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if x.is_empty() {
        return f64::NAN;
    }
    x.sort_by(f64::total_cmp);
    let n = x.len();
    if n % 2 == 1 {
        x.get(n / 2).copied().unwrap_or(f64::NAN)
    } else {
        (x.get(n / 2 - 1).copied().unwrap_or(f64::NAN) + x.get(n / 2).copied().unwrap_or(f64::NAN)) / 2.0
    }
}

/// Step 2: fills missing values.
pub fn impute(ds: &Dataset, how: &Imputation, data: &UnitData) -> Result<Dataset, CompositeError> {
    let mut out = ds.clone();
    let groups = match how {
        Imputation::GroupMean(g) | Imputation::GroupMedian(g) => {
            Some(data.groups.get(g).ok_or_else(|| CompositeError::MissingGroup(g.clone()))?)
        }
        _ => None,
    };
    for col in &mut out.columns {
        if !col.iter().any(|x| x.is_nan()) {
            continue;
        }
        let fill: Vec<f64> = match (how, groups) {
            (Imputation::None, _) => continue,
            (Imputation::Mean, _) => vec![mean(col); col.len()],
            (Imputation::Median, _) => vec![median(col); col.len()],
            (Imputation::GroupMean(_) | Imputation::GroupMedian(_), Some(groups)) => {
                let mut by_group: HashMap<&str, Vec<f64>> = HashMap::new();
                for (g, x) in groups.iter().zip(col.iter()) {
                    by_group.entry(g.as_str()).or_default().push(*x);
                }
                let stat: HashMap<&str, f64> = by_group
                    .into_iter()
                    .map(|(g, v)| {
                        (g, if matches!(how, Imputation::GroupMean(_)) { mean(&v) } else { median(&v) })
                    })
                    .collect();
                groups.iter().map(|g| stat.get(g.as_str()).copied().unwrap_or(f64::NAN)).collect()
            }
            _ => continue,
        };
        for (x, f) in col.iter_mut().zip(fill) {
            if x.is_nan() {
                *x = f;
            }
        }
    }
    Ok(out)
}

/// Step 3: keeps the units with at least `threshold` (0–1) of their indicators present.
/// Returns the screened data and the removed units.
pub fn screen(ds: &Dataset, threshold: f64) -> Result<(Dataset, Vec<String>), CompositeError> {
    let k = ds.columns.len().max(1) as f64;
    let keep: Vec<bool> = (0..ds.units.len())
        .map(|u| {
            ds.columns.iter().filter(|c| c.get(u).is_some_and(|x| !x.is_nan())).count() as f64 / k
                >= threshold
        })
        .collect();
    if !keep.iter().any(|k| *k) {
        return Err(CompositeError::NoUnits(threshold));
    }
    let pick = |v: &[f64]| v.iter().zip(&keep).filter(|(_, k)| **k).map(|(x, _)| *x).collect::<Vec<f64>>();
    let removed = ds.units.iter().zip(&keep).filter(|(_, k)| !**k).map(|(u, _)| u.clone()).collect();
    Ok((
        Dataset {
            units: ds.units.iter().zip(&keep).filter(|(_, k)| **k).map(|(u, _)| u.clone()).collect(),
            codes: ds.codes.clone(),
            columns: ds.columns.iter().map(|c| pick(c)).collect(),
        },
        removed,
    ))
}

/// COINr's sample-adjusted skewness G₁ (missing values ignored).
pub fn skew(v: &[f64]) -> f64 {
    let x: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let m2 = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n;
    let m3 = x.iter().map(|v| (v - m).powi(3)).sum::<f64>() / n;
    m3 / m2.powf(1.5) * (n * (n - 1.0)).sqrt() / (n - 2.0)
}

/// COINr's sample-adjusted excess kurtosis G₂ (missing values ignored).
pub fn kurtosis(v: &[f64]) -> f64 {
    let x: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let s2 = x.iter().map(|v| (v - m).powi(2)).sum::<f64>();
    let s4 = x.iter().map(|v| (v - m).powi(4)).sum::<f64>();
    n * (n + 1.0) * (n - 1.0) * s4 / ((n - 2.0) * (n - 3.0) * s2 * s2)
        - 3.0 * (n - 1.0).powi(2) / ((n - 2.0) * (n - 3.0))
}

/// The outlier treatment: COINr `Treat`'s `global_specs` (`f1 = "winsorise"`,
/// `f1_para = list(winmax, skew_thresh, kurt_thresh)`, `f2 = "log_CT"`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TreatSpec {
    /// The most points winsorised per indicator (COINr default 5).
    pub winmax: usize,
    pub skew_threshold: f64,
    pub kurtosis_threshold: f64,
    /// Whether an indicator that winsorising does not bring to pass is log_CT-transformed
    /// instead (COINr's `f2 = "log_CT"`, the default); without it the winsorised values are
    /// kept (`f2 = NULL`).
    pub log_fallback: bool,
}

impl Default for TreatSpec {
    fn default() -> Self {
        TreatSpec { winmax: 5, skew_threshold: 2.0, kurtosis_threshold: 3.5, log_fallback: true }
    }
}

impl TreatSpec {
    /// COINr's `check_SkewKurt`: passes unless both |skew| and kurtosis are too high.
    pub fn passes(&self, x: &[f64]) -> bool {
        skew(x).abs() < self.skew_threshold || kurtosis(x) < self.kurtosis_threshold
    }
}

/// What treatment did to one indicator.
#[derive(Debug, Clone, PartialEq)]
pub enum Treatment {
    /// It passed as it was.
    None,
    /// Winsorised this many points.
    Winsorised(usize),
    /// Winsorising did not make it pass; log_CT was applied to the raw values.
    LogCt { winsorised_tried: usize },
}

/// Winsorises one point at a time (COINr `winsorise`, `winchange = TRUE`).
fn winsorise(x: &[f64], spec: &TreatSpec) -> (Vec<f64>, usize, bool) {
    let mut y = x.to_vec();
    let mut n = 0;
    for _ in 0..spec.winmax {
        if spec.passes(&y) {
            return (y, n, true);
        }
        let present = y.iter().copied().filter(|v| !v.is_nan());
        let (target, replacement) = if skew(&y) >= 0.0 {
            let max = present.clone().fold(f64::NEG_INFINITY, f64::max);
            (max, y.iter().copied().filter(|v| !v.is_nan() && *v != max).fold(f64::NEG_INFINITY, f64::max))
        } else {
            let min = present.clone().fold(f64::INFINITY, f64::min);
            (min, y.iter().copied().filter(|v| !v.is_nan() && *v != min).fold(f64::INFINITY, f64::min))
        };
        if !replacement.is_finite() {
            break;
        }
        for v in &mut y {
            if *v == target {
                *v = replacement;
            }
        }
        n += 1;
    }
    let ok = spec.passes(&y);
    (y, n, ok)
}

/// COINr's `log_CT`: ln(x − min + 0.01·(max − min)).
fn log_ct(x: &[f64]) -> Vec<f64> {
    let present = x.iter().copied().filter(|v| !v.is_nan());
    let min = present.clone().fold(f64::INFINITY, f64::min);
    let max = present.fold(f64::NEG_INFINITY, f64::max);
    x.iter().map(|v| (v - min + 0.01 * (max - min)).ln()).collect()
}

/// Step 4: COINr's default outlier treatment, per indicator.
pub fn treat(ds: &Dataset, spec: &TreatSpec) -> (Dataset, Vec<Treatment>) {
    let mut out = ds.clone();
    let mut what = Vec::with_capacity(ds.columns.len());
    for col in &mut out.columns {
        if spec.passes(col) {
            what.push(Treatment::None);
            continue;
        }
        let (w, n, ok) = winsorise(col, spec);
        if ok || !spec.log_fallback {
            *col = w;
            what.push(Treatment::Winsorised(n));
        } else {
            *col = log_ct(col);
            what.push(Treatment::LogCt { winsorised_tried: n });
        }
    }
    (out, what)
}

/// Ranks (1 = lowest) of the present values, ties by `ties`; NaN stays NaN (R's
/// `rank(x, ties.method, na.last = "keep")`). O(n log n).
pub fn rank_values(x: &[f64], ties: Ties) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).filter(|&i| x.get(i).is_some_and(|v| !v.is_nan())).collect();
    order.sort_by(|&a, &b| x.get(a).copied().unwrap_or(0.0).total_cmp(&x.get(b).copied().unwrap_or(0.0)));
    let mut out = vec![f64::NAN; x.len()];
    let mut i = 0;
    while i < order.len() {
        let v = order.get(i).and_then(|&k| x.get(k)).copied();
        let mut j = i;
        while j + 1 < order.len() && order.get(j + 1).and_then(|&k| x.get(k)).copied() == v {
            j += 1;
        }
        // Positions i..=j (0-based) hold ranks i+1..=j+1: the lowest, or their average.
        let shared = match ties {
            Ties::Min => (i + 1) as f64,
            Ties::Average => (i + j) as f64 / 2.0 + 1.0,
        };
        for &k in order.get(i..=j).unwrap_or(&[]) {
            if let Some(o) = out.get_mut(k) {
                *o = shared;
            }
        }
        i = j + 1;
    }
    out
}

/// (x − min) / (target − min), clipped to [0, 1], times `scale`.
fn to_target(code: &str, x: &[f64], target: Option<f64>, scale: f64) -> Result<Vec<f64>, CompositeError> {
    let Some(t) = target else { return Err(CompositeError::NoTarget(code.to_owned())) };
    let min = x.iter().copied().filter(|v| !v.is_nan()).fold(f64::INFINITY, f64::min);
    if t.partial_cmp(&min) != Some(std::cmp::Ordering::Greater) {
        return Err(CompositeError::Degenerate(code.to_owned()));
    }
    Ok(x.iter().map(|v| ((v - min) / (t - min)).clamp(0.0, 1.0) * scale).collect())
}

/// Step 5: normalises every indicator, after multiplying by its direction.
pub fn normalise(ds: &Dataset, fw: &Framework, how: Normalisation) -> Result<Dataset, CompositeError> {
    how.check()?;
    let mut out = ds.clone();
    for (code, col) in out.codes.iter().zip(out.columns.iter_mut()) {
        let node = fw.nodes.iter().find(|n| &n.code == code);
        let dir = node.map_or(1.0, |n| n.direction);
        let target = node.and_then(|n| n.target).map(|t| t * dir);
        let x: Vec<f64> = col.iter().map(|v| v * dir).collect();
        let present: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
        *col = match how {
            Normalisation::MinMax { lo, hi } => {
                let min = present.iter().copied().fold(f64::INFINITY, f64::min);
                let max = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if max.partial_cmp(&min) != Some(std::cmp::Ordering::Greater) {
                    return Err(CompositeError::Degenerate(code.clone()));
                }
                x.iter().map(|v| (v - min) / (max - min) * (hi - lo) + lo).collect()
            }
            Normalisation::ZScore { mean: m0, sd: s0 } => {
                let n = present.len() as f64;
                let m = present.iter().sum::<f64>() / n;
                let sd = (present.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
                if sd.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                    return Err(CompositeError::Degenerate(code.clone()));
                }
                x.iter().map(|v| (v - m) / sd * s0 + m0).collect()
            }
            Normalisation::Rank { ties } => rank_values(&x, ties),
            Normalisation::PercentileRank { ties } => {
                let n = present.len() as f64;
                if n < 2.0 {
                    return Err(CompositeError::Degenerate(code.clone()));
                }
                rank_values(&x, ties).iter().map(|r| (r - 1.0) / (n - 1.0)).collect()
            }
            Normalisation::Borda { ties } => rank_values(&x, ties).iter().map(|r| r - 1.0).collect(),
            Normalisation::Goalposts { scale } => to_target(code, &x, target, scale)?,
            Normalisation::DistanceToTarget => to_target(code, &x, target, 100.0)?,
        };
    }
    Ok(out)
}

/// Where aggregation weights come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Weighting {
    /// The framework's `Weight` column.
    Given,
    /// Equal weights among siblings.
    Equal,
    /// The entropy-weight method (熵权法) on the children's scores, per parent.
    Entropy,
    /// COINr's PCA weights (`get_PCA`, `by_groups = TRUE`): at one `level`, the weights of
    /// each group of siblings are the loadings of the first principal component of their
    /// scores (correlation matrix, units with every sibling present); every other level
    /// keeps the framework's weights. COINr takes the loadings as they come, signs
    /// included; here their absolute values are taken unless `signed` is set. Signed
    /// loadings are oriented so that they sum to more than zero (a principal component's
    /// sign is arbitrary, and Σwx / Σw does not change when every sign flips), and refused
    /// with any mean but the arithmetic one (negative weights break the others). The PCA
    /// runs on the scores being aggregated (COINr's `dset = "Normalised"` at level 1).
    Pca { level: u32, signed: bool },
    /// Explicit weights by code (uncertainty runs); codes not listed keep the framework's.
    Custom(HashMap<String, f64>),
}

impl Weighting {
    /// COINr's `get_PCA` default: level 1 (the indicators), absolute loadings.
    pub const COINR_PCA: Weighting = Weighting::Pca { level: 1, signed: false };

    /// Refuses a PCA level without groups and signed loadings with a non-arithmetic mean.
    pub fn check(&self, fw: &Framework, how: Aggregation) -> Result<(), CompositeError> {
        let Weighting::Pca { level, signed } = *self else { return Ok(()) };
        let mut levels: Vec<u32> = fw.nodes.iter().filter(|n| n.parent.is_some()).map(|n| n.level).collect();
        levels.sort_unstable();
        levels.dedup();
        if !levels.contains(&level) {
            return Err(CompositeError::PcaLevel {
                level,
                levels: levels.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
            });
        }
        if signed && how != Aggregation::ArithmeticMean {
            return Err(CompositeError::SignedWeights(match how {
                Aggregation::GeometricMean => "geometric",
                Aggregation::HarmonicMean => "harmonic",
                _ => "generalised",
            }));
        }
        Ok(())
    }
}

/// A weight as a build used it: after entropy, PCA, equal or given weights, before the
/// aggregation divides by the siblings' sum.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveWeight {
    pub code: String,
    pub level: u32,
    pub parent: String,
    pub weight: f64,
}

/// Step 6: adds a column per aggregate, bottom-up. Means other than the arithmetic one
/// refuse non-positive scores, naming the aggregate, unit and child.
pub fn aggregate(
    ds: &Dataset,
    fw: &Framework,
    how: Aggregation,
    weighting: &Weighting,
) -> Result<Dataset, CompositeError> {
    aggregate_weighted(ds, fw, how, weighting).map(|(d, _)| d)
}

/// As [`aggregate`], also returning the weights it used, child by child, lowest level first.
pub fn aggregate_weighted(
    ds: &Dataset,
    fw: &Framework,
    how: Aggregation,
    weighting: &Weighting,
) -> Result<(Dataset, Vec<EffectiveWeight>), CompositeError> {
    weighting.check(fw, how)?;
    let mut out = ds.clone();
    let mut used = Vec::new();
    let n = ds.units.len();
    for agg in fw.aggregates_bottom_up() {
        let mut kids: Vec<(f64, Vec<f64>)> = fw
            .children(&agg.code)
            .filter_map(|k| {
                let w = match weighting {
                    Weighting::Given | Weighting::Entropy | Weighting::Pca { .. } => k.weight,
                    Weighting::Equal => 1.0,
                    Weighting::Custom(m) => m.get(&k.code).copied().unwrap_or(k.weight),
                };
                out.column(&k.code).map(|c| (w, c.to_vec()))
            })
            .collect();
        let derived = match *weighting {
            Weighting::Entropy => {
                let cols: Vec<&[f64]> = kids.iter().map(|(_, c)| c.as_slice()).collect();
                entropy_weights(&cols)
            }
            Weighting::Pca { level, signed } if fw.children(&agg.code).all(|k| k.level == level) => {
                let cols: Vec<&[f64]> = kids.iter().map(|(_, c)| c.as_slice()).collect();
                pca_loadings(&cols).map(|l| if signed { l } else { l.iter().map(|v| v.abs()).collect() })
            }
            _ => None,
        };
        if let Some(w) = derived {
            for ((kw, _), w) in kids.iter_mut().zip(w) {
                *kw = w;
            }
        }
        if matches!(weighting, Weighting::Pca { signed: true, .. }) {
            let sum: f64 = kids.iter().map(|(w, _)| w).sum();
            let size: f64 = kids.iter().map(|(w, _)| w.abs()).sum();
            if sum <= 1e-12 * size {
                return Err(CompositeError::ZeroWeights(agg.code.clone()));
            }
        }
        for (child, (w, _)) in fw.children(&agg.code).zip(&kids) {
            used.push(EffectiveWeight {
                code: child.code.clone(),
                level: child.level,
                parent: agg.code.clone(),
                weight: *w,
            });
        }
        let needs_positive = match how {
            Aggregation::ArithmeticMean => false,
            Aggregation::GeometricMean | Aggregation::HarmonicMean => true,
            Aggregation::GeneralisedMean(r) => r < 0,
        };
        if needs_positive {
            let mean = match how {
                Aggregation::GeometricMean => "geometric",
                Aggregation::HarmonicMean => "harmonic",
                _ => "generalised",
            };
            for (child, (_, c)) in fw.children(&agg.code).zip(&kids) {
                if let Some((u, v)) = c.iter().enumerate().find(|(_, v)| !v.is_nan() && **v <= 0.0) {
                    return Err(CompositeError::NonPositive {
                        aggregate: agg.code.clone(),
                        unit: out.units.get(u).cloned().unwrap_or_default(),
                        child: child.code.clone(),
                        value: *v,
                        mean,
                    });
                }
            }
        }
        let col: Vec<f64> = (0..n)
            .map(|u| {
                let present: Vec<(f64, f64)> = kids
                    .iter()
                    .filter_map(|(w, c)| c.get(u).copied().filter(|x| !x.is_nan()).map(|x| (*w, x)))
                    .collect();
                let sw: f64 = present.iter().map(|(w, _)| w).sum();
                if present.is_empty() || sw <= 0.0 {
                    return f64::NAN;
                }
                match how {
                    Aggregation::ArithmeticMean => present.iter().map(|(w, x)| w * x).sum::<f64>() / sw,
                    Aggregation::GeometricMean => {
                        (present.iter().map(|(w, x)| w * x.ln()).sum::<f64>() / sw).exp()
                    }
                    Aggregation::HarmonicMean => sw / present.iter().map(|(w, x)| w / x).sum::<f64>(),
                    Aggregation::GeneralisedMean(r) => {
                        let r = f64::from(r);
                        (present.iter().map(|(w, x)| w * x.powf(r)).sum::<f64>() / sw).powf(1.0 / r)
                    }
                }
            })
            .collect();
        out.codes.push(agg.code.clone());
        out.columns.push(col);
    }
    Ok((out, used))
}

/// COINr's ranks: highest first, ties share the lowest rank; missing scores get none.
/// O(n log n).
pub fn ranks(scores: &[f64]) -> Vec<Option<usize>> {
    let mut order: Vec<usize> =
        (0..scores.len()).filter(|&i| scores.get(i).is_some_and(|v| !v.is_nan())).collect();
    order.sort_by(|&a, &b| {
        scores.get(b).copied().unwrap_or(0.0).total_cmp(&scores.get(a).copied().unwrap_or(0.0))
    });
    let mut out = vec![None; scores.len()];
    let mut prev: Option<(f64, usize)> = None;
    for (pos, &k) in order.iter().enumerate() {
        let v = scores.get(k).copied().unwrap_or(f64::NAN);
        let rank = match prev {
            Some((pv, pr)) if pv == v => pr,
            _ => pos + 1,
        };
        prev = Some((v, rank));
        if let Some(o) = out.get_mut(k) {
            *o = Some(rank);
        }
    }
    out
}

/// Entropy weights (熵权法) of a parent's children from their normalised scores: with
/// p_ij = x_ij / Σ_i x_ij over the n units, e_j = −Σ_i p_ij·ln p_ij / ln n (0·ln 0 = 0),
/// the weight is (1 − e_j) / Σ_k (1 − e_k). Scores must be ≥ 0 (min-max to [0, 100] is);
/// a child with no spread gets weight 0. Returns `None` when no child has any spread.
pub fn entropy_weights(columns: &[&[f64]]) -> Option<Vec<f64>> {
    let d: Vec<f64> = columns
        .iter()
        .map(|c| {
            let x: Vec<f64> = c.iter().copied().filter(|v| !v.is_nan()).collect();
            let n = x.len() as f64;
            let total: f64 = x.iter().sum();
            if n < 2.0 || total <= 0.0 {
                return 0.0;
            }
            let e =
                -x.iter().map(|v| v / total).filter(|p| *p > 0.0).map(|p| p * p.ln()).sum::<f64>() / n.ln();
            (1.0 - e).max(0.0)
        })
        .collect();
    let sum: f64 = d.iter().sum();
    (sum > 0.0).then(|| d.iter().map(|v| v / sum).collect())
}

/// The first principal component's loadings of a parent's children (COINr's
/// `prcomp(center = TRUE, scale = TRUE)$rotation[, 1]`): the unit eigenvector of the
/// largest eigenvalue of their correlation matrix over the units with every child
/// present, its sign chosen so that the loadings sum to ≥ 0 (R's sign is arbitrary).
/// `None` with fewer than two children or three complete units, or a child without spread.
pub fn pca_loadings(columns: &[&[f64]]) -> Option<Vec<f64>> {
    let k = columns.len();
    if k < 2 {
        return None;
    }
    let n = columns.first()?.len();
    let rows: Vec<usize> =
        (0..n).filter(|&i| columns.iter().all(|c| c.get(i).is_some_and(|v| !v.is_nan()))).collect();
    if rows.len() < 3 {
        return None;
    }
    let m = rows.len() as f64;
    let z: Vec<Vec<f64>> = columns
        .iter()
        .map(|c| {
            let x: Vec<f64> = rows.iter().filter_map(|&i| c.get(i).copied()).collect();
            let mean = x.iter().sum::<f64>() / m;
            let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (m - 1.0)).sqrt();
            x.iter().map(|v| (v - mean) / sd).collect()
        })
        .collect();
    if z.iter().flatten().any(|v| !v.is_finite()) {
        return None;
    }
    let corr = nalgebra::DMatrix::from_fn(k, k, |a, b| {
        let (za, zb) = (z.get(a), z.get(b));
        match (za, zb) {
            (Some(za), Some(zb)) => za.iter().zip(zb).map(|(x, y)| x * y).sum::<f64>() / (m - 1.0),
            _ => 0.0,
        }
    });
    let eig = corr.symmetric_eigen();
    let top = eig.eigenvalues.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i)?;
    let v: Vec<f64> = eig.eigenvectors.column(top).iter().copied().collect();
    let sign = if v.iter().sum::<f64>() < 0.0 { -1.0 } else { 1.0 };
    Some(v.iter().map(|x| x * sign).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_and_ties() {
        let nan = f64::NAN;
        assert_eq!(ranks(&[3.0, 5.0, 3.0, nan, 1.0]), vec![Some(2), Some(1), Some(2), None, Some(4)]);
        let r = rank_values(&[3.0, 5.0, 3.0, nan, 1.0], Ties::Average);
        assert_eq!((r[0], r[1], r[2], r[4]), (2.5, 4.0, 2.5, 1.0));
        assert!(r[3].is_nan());
        // COINr's default: R's rank(c(3, 5, 3, NA, 1), ties.method = "min", na.last = "keep").
        let r = rank_values(&[3.0, 5.0, 3.0, nan, 1.0], Ties::Min);
        assert_eq!((r[0], r[1], r[2], r[4]), (2.0, 4.0, 2.0, 1.0));
        assert!(r[3].is_nan());
    }
}
