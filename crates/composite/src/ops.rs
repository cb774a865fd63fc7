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
    /// Rank, 1 = lowest, ties averaged (R's `rank`).
    Rank,
    /// Percentile rank: (rank − 1) / (n − 1) · 100, ties averaged.
    PercentileRank,
    /// Borda score: how many units score lower (ties count half).
    Borda,
    /// Goalposts: (x − lower) / (upper − lower) clipped to [0, 1], · scale; the indicator's
    /// `Target` is the upper goalpost and its minimum the lower one.
    Goalposts { scale: f64 },
    /// Distance to target: (x − min) / (target − min), capped at 1, · 100; needs `Target`.
    DistanceToTarget,
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

/// Thresholds of the treatment check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TreatSpec {
    pub winmax: usize,
    pub skew_threshold: f64,
    pub kurtosis_threshold: f64,
}

impl Default for TreatSpec {
    fn default() -> Self {
        TreatSpec { winmax: 5, skew_threshold: 2.0, kurtosis_threshold: 3.5 }
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
        if ok {
            *col = w;
            what.push(Treatment::Winsorised(n));
        } else {
            *col = log_ct(col);
            what.push(Treatment::LogCt { winsorised_tried: n });
        }
    }
    (out, what)
}

/// Average ranks (1 = lowest) of the present values; NaN stays NaN. O(n log n).
fn average_ranks(x: &[f64]) -> Vec<f64> {
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
        // Positions i..=j (0-based) share the average of ranks i+1..=j+1.
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in order.get(i..=j).unwrap_or(&[]) {
            if let Some(o) = out.get_mut(k) {
                *o = avg;
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
            Normalisation::Rank => average_ranks(&x),
            Normalisation::PercentileRank => {
                let n = present.len() as f64;
                if n < 2.0 {
                    return Err(CompositeError::Degenerate(code.clone()));
                }
                average_ranks(&x).iter().map(|r| (r - 1.0) / (n - 1.0) * 100.0).collect()
            }
            Normalisation::Borda => average_ranks(&x).iter().map(|r| r - 1.0).collect(),
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
    /// PCA weights per parent: the squared loadings of the first principal component of
    /// the children's correlation matrix (they sum to 1), as the OECD/JRC Handbook derives
    /// weights from a one-factor structure.
    Pca,
    /// Explicit weights by code (uncertainty runs); codes not listed keep the framework's.
    Custom(HashMap<String, f64>),
}

/// Step 6: adds a column per aggregate, bottom-up. Means other than the arithmetic one
/// refuse non-positive scores, naming the aggregate, unit and child.
pub fn aggregate(
    ds: &Dataset,
    fw: &Framework,
    how: Aggregation,
    weighting: &Weighting,
) -> Result<Dataset, CompositeError> {
    let mut out = ds.clone();
    let n = ds.units.len();
    for agg in fw.aggregates_bottom_up() {
        let mut kids: Vec<(f64, Vec<f64>)> = fw
            .children(&agg.code)
            .filter_map(|k| {
                let w = match weighting {
                    Weighting::Given | Weighting::Entropy | Weighting::Pca => k.weight,
                    Weighting::Equal => 1.0,
                    Weighting::Custom(m) => m.get(&k.code).copied().unwrap_or(k.weight),
                };
                out.column(&k.code).map(|c| (w, c.to_vec()))
            })
            .collect();
        if matches!(weighting, Weighting::Entropy | Weighting::Pca) {
            let cols: Vec<&[f64]> = kids.iter().map(|(_, c)| c.as_slice()).collect();
            let derived =
                if *weighting == Weighting::Entropy { entropy_weights(&cols) } else { pca_weights(&cols) };
            if let Some(w) = derived {
                for ((kw, _), w) in kids.iter_mut().zip(w) {
                    *kw = w;
                }
            }
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
    Ok(out)
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

/// PCA weights of a parent's children: the squared first-component loadings of their
/// correlation matrix over the units with every child present. `None` with fewer than
/// two children or three complete units, or a child without spread.
pub fn pca_weights(columns: &[&[f64]]) -> Option<Vec<f64>> {
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
    let v = eig.eigenvectors.column(top);
    let w: Vec<f64> = v.iter().map(|x| x * x).collect();
    let sum: f64 = w.iter().sum();
    (sum > 0.0).then(|| w.iter().map(|x| x / sum).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_and_ties() {
        let nan = f64::NAN;
        assert_eq!(ranks(&[3.0, 5.0, 3.0, nan, 1.0]), vec![Some(2), Some(1), Some(2), None, Some(4)]);
        let r = average_ranks(&[3.0, 5.0, 3.0, nan, 1.0]);
        assert_eq!((r[0], r[1], r[2], r[4]), (2.5, 4.0, 2.5, 1.0));
        assert!(r[3].is_nan());
    }
}
