//! Uncertainty and sensitivity analysis of a build (what COINr's `get_sensitivity` does).
//!
//! Each uncertain assumption is an input u ∈ [0, 1] (COINr's `SA_specs`, all of type
//! `"discrete"`): the weights (u picks one of [`WEIGHT_SETS`] noisy weight sets, each
//! weight × (1 + U(−noise, +noise)), fixed by the seed, on every level or only on chosen
//! levels with a noise factor each — COINr's `get_noisy_weights(w, noise_specs)`), and the
//! choice of normalisation, aggregation, imputation, the winsorisation limit (COINr's
//! `winmax`) and the outlier treatment (u picks one of the alternatives; the first is the
//! nominal one). A run maps u to the index's ranks.
//!
//! - **Uncertainty**: `runs` random u; per unit the nominal rank, the median rank and the
//!   5 % and 95 % quantiles (R's type 7).
//! - **Sensitivity** of the mean absolute rank shift (MARS, the mean over units of
//!   |rank − nominal rank|): Saltelli's design (matrices A, B and A with column i from B,
//!   N·(k + 2) runs), first-order indices by Saltelli (2010),
//!   Sᵢ = mean(f(B)·(f(A_Bⁱ) − f(A))) / V, total-order indices by Jansen (1999),
//!   STᵢ = mean((f(A) − f(A_Bⁱ))²) / (2V), V the variance of f over A and B; 90 %
//!   bootstrap intervals by resampling the N rows.

use crate::build::{Build, BuildSpec};
use crate::framework::{Framework, UnitData};
use crate::ops::{self, Aggregation, Dataset, Imputation, Normalisation, TreatSpec, Weighting};
use crate::CompositeError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

/// How many noisy weight sets the weights input chooses among.
pub const WEIGHT_SETS: usize = 100;

/// The most alternatives (or noise levels) one assumption may have.
pub const MAX_ALTERNATIVES: usize = 20;

/// The uncertain assumptions.
#[derive(Debug, Clone, PartialEq)]
pub struct UncertaintySpec {
    pub seed: u64,
    /// Relative noise on every weight (0 = none), unless `noise_levels` names levels.
    pub weight_noise: f64,
    /// COINr's `noise_specs`: (level, noise factor) pairs; only these levels' weights get
    /// noise. Empty: `weight_noise` on every level.
    pub noise_levels: Vec<(u32, f64)>,
    /// Alternatives, the nominal first; one entry = not uncertain.
    pub normalisations: Vec<Normalisation>,
    pub aggregations: Vec<Aggregation>,
    pub imputations: Vec<Imputation>,
    /// Outlier-treatment alternatives (`None` = no treatment), the nominal first.
    pub treatments: Vec<Option<TreatSpec>>,
    /// Alternatives for the `winmax` of every treatment (COINr's vignette varies it over
    /// 1:5), the nominal first; empty: each treatment keeps its own.
    pub winmax: Vec<usize>,
}

impl UncertaintySpec {
    /// Only the nominal build's choices, no noise.
    pub fn nominal(base: &BuildSpec) -> UncertaintySpec {
        UncertaintySpec {
            seed: 1,
            weight_noise: 0.0,
            noise_levels: Vec::new(),
            normalisations: vec![base.normalisation],
            aggregations: vec![base.aggregation],
            imputations: vec![base.imputation.clone()],
            treatments: vec![base.treatment],
            winmax: Vec::new(),
        }
    }

    /// The noise factor of a level's weights.
    fn noise(&self, level: u32) -> f64 {
        if self.noise_levels.is_empty() {
            self.weight_noise
        } else {
            self.noise_levels.iter().find(|(l, _)| *l == level).map_or(0.0, |(_, f)| *f)
        }
    }

    /// Refuses empty alternatives, noise outside [0, 1) and noise levels the framework lacks.
    fn check(&self, fw: &Framework) -> Result<(), CompositeError> {
        let bad = |option: &'static str, message: String| Err(CompositeError::BadOption { option, message });
        let counts = [
            self.normalisations.len(),
            self.aggregations.len(),
            self.imputations.len(),
            self.treatments.len(),
        ];
        if counts.contains(&0) {
            return bad("uncertainty", "every assumption needs at least its nominal alternative".into());
        }
        // Every combination is prepared in memory.
        if counts.iter().chain([&self.winmax.len(), &self.noise_levels.len()]).any(|n| *n > MAX_ALTERNATIVES)
        {
            return bad("uncertainty", format!("at most {MAX_ALTERNATIVES} alternatives per assumption"));
        }
        let mut levels: Vec<u32> = fw.nodes.iter().filter(|n| n.parent.is_some()).map(|n| n.level).collect();
        levels.sort_unstable();
        levels.dedup();
        for (i, (level, f)) in self.noise_levels.iter().enumerate() {
            if !levels.contains(level) {
                let levels = levels.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
                return bad("noise levels", format!("level {level} has no weights to vary; use {levels}"));
            }
            if self.noise_levels.iter().take(i).any(|(l, _)| l == level) {
                return bad("noise levels", format!("level {level} is given twice"));
            }
            if !(0.0..1.0).contains(f) {
                return bad("noise levels", format!("level {level}: the noise factor {f} must be in [0, 1)"));
            }
        }
        if !(0.0..1.0).contains(&self.weight_noise) {
            return bad("weight noise", format!("{} must be in [0, 1)", self.weight_noise));
        }
        for n in &self.normalisations {
            n.check()?;
        }
        Ok(())
    }
}

/// A unit's rank statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct RankStats {
    pub unit: String,
    pub nominal: usize,
    pub median: f64,
    pub q05: f64,
    pub q95: f64,
}

/// First- and total-order indices with 90 % bootstrap intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SobolEstimate {
    pub first: f64,
    pub first_ci: (f64, f64),
    pub total: f64,
    pub total_ci: (f64, f64),
}

/// One input's sensitivity indices.
#[derive(Debug, Clone, PartialEq)]
pub struct SensitivityIndex {
    pub input: String,
    pub first: f64,
    pub first_ci: (f64, f64),
    pub total: f64,
    pub total_ci: (f64, f64),
}

/// The prepared model: everything that does not change between runs is computed once.
pub struct Model<'a> {
    fw: &'a Framework,
    /// Normalised data per alternative, indexed (imputation, treatment, winmax,
    /// normalisation) in that nesting.
    normalised: Vec<Dataset>,
    /// How many alternatives: imputation, treatment, winmax, normalisation.
    dims: [usize; 4],
    aggregations: Vec<Aggregation>,
    weight_sets: Vec<HashMap<String, f64>>,
    inputs: Vec<&'static str>,
    units: Vec<String>,
    nominal: Vec<Option<usize>>,
    has_noise: bool,
}

fn pick(u: f64, n: usize) -> usize {
    ((u * n as f64) as usize).min(n.saturating_sub(1))
}

impl<'a> Model<'a> {
    /// Prepares the runs: every imputation × normalisation alternative, the weight sets.
    pub fn new(
        fw: &'a Framework,
        data: &UnitData,
        base: &BuildSpec,
        spec: &UncertaintySpec,
    ) -> Result<Model<'a>, CompositeError> {
        spec.check(fw)?;
        let nominal_build = Build::run(fw, data, base)?;
        let winmax: Vec<Option<usize>> =
            if spec.winmax.is_empty() { vec![None] } else { spec.winmax.iter().copied().map(Some).collect() };
        let dims = [spec.imputations.len(), spec.treatments.len(), winmax.len(), spec.normalisations.len()];
        let mut normalised = Vec::new();
        let mut units: Option<Vec<String>> = None;
        for imp in &spec.imputations {
            let b = Build::run(fw, data, &BuildSpec { imputation: imp.clone(), ..base.clone() })?;
            let screened = b.stage("Screened").cloned().unwrap_or_else(|| Dataset {
                units: Vec::new(),
                codes: Vec::new(),
                columns: Vec::new(),
            });
            if units.as_ref().is_some_and(|u| *u != screened.units) {
                return Err(CompositeError::Parse {
                    file: "uncertainty",
                    message: "imputation alternatives screen different units".into(),
                });
            }
            units.get_or_insert_with(|| screened.units.clone());
            for t in &spec.treatments {
                for w in &winmax {
                    let treated = match t {
                        Some(t) => {
                            ops::treat(&screened, &TreatSpec { winmax: w.unwrap_or(t.winmax), ..*t }).0
                        }
                        None => screened.clone(),
                    };
                    for n in &spec.normalisations {
                        let ds = ops::normalise(&treated, fw, *n)?;
                        // Every combination must aggregate (e.g. positive scores for a geometric
                        // mean); checked once here, so that runs cannot fail.
                        for a in &spec.aggregations {
                            ops::aggregate(&ds, fw, *a, &Weighting::Given)?;
                        }
                        normalised.push(ds);
                    }
                }
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let weight_sets = (0..WEIGHT_SETS)
            .map(|_| {
                fw.nodes
                    .iter()
                    .map(|n| {
                        let noise = spec.noise(n.level);
                        let w = if noise > 0.0 {
                            n.weight * (1.0 + noise * (2.0 * rng.random::<f64>() - 1.0))
                        } else {
                            n.weight
                        };
                        (n.code.clone(), w)
                    })
                    .collect()
            })
            .collect();
        let has_noise = fw.nodes.iter().any(|n| spec.noise(n.level) > 0.0);
        let mut inputs = Vec::new();
        if has_noise {
            inputs.push("weights");
        }
        if spec.normalisations.len() > 1 {
            inputs.push("normalisation");
        }
        if spec.aggregations.len() > 1 {
            inputs.push("aggregation");
        }
        if spec.imputations.len() > 1 {
            inputs.push("imputation");
        }
        if winmax.len() > 1 {
            inputs.push("winmax");
        }
        if spec.treatments.len() > 1 {
            inputs.push("treatment");
        }
        Ok(Model {
            fw,
            normalised,
            dims,
            aggregations: spec.aggregations.clone(),
            weight_sets,
            inputs,
            units: units.unwrap_or_default(),
            nominal: nominal_build.results.ranks,
            has_noise,
        })
    }

    /// The noisy weight sets the weights input chooses among (code → weight).
    pub fn weight_sets(&self) -> &[HashMap<String, f64>] {
        &self.weight_sets
    }

    /// The uncertain inputs, in the order `run` reads them.
    pub fn inputs(&self) -> &[&'static str] {
        &self.inputs
    }

    /// The index ranks for one point u (one value per input).
    pub fn run(&self, u: &[f64]) -> Vec<Option<usize>> {
        let mut it = u.iter().copied();
        let mut next = |on: bool| if on { it.next().unwrap_or(0.0) } else { 0.0 };
        let [n_imp, n_treat, n_win, n_norm] = self.dims;
        let w = next(self.has_noise);
        let norm = pick(next(n_norm > 1), n_norm);
        let agg = next(self.aggregations.len() > 1);
        let imp = pick(next(n_imp > 1), n_imp);
        let win = pick(next(n_win > 1), n_win);
        let treat = pick(next(n_treat > 1), n_treat);
        let Some(ds) = self.normalised.get(((imp * n_treat + treat) * n_win + win) * n_norm + norm) else {
            return Vec::new();
        };
        let weighting = if self.has_noise {
            self.weight_sets
                .get(pick(w, self.weight_sets.len()))
                .map_or(Weighting::Given, |s| Weighting::Custom(s.clone()))
        } else {
            Weighting::Given
        };
        let how = self
            .aggregations
            .get(pick(agg, self.aggregations.len()))
            .copied()
            .unwrap_or(Aggregation::ArithmeticMean);
        // INVARIANT: `Model::new` aggregated every normalisation × aggregation pair, and
        // weight noise keeps weights positive, so this cannot fail.
        let Ok(aggregated) = ops::aggregate(ds, self.fw, how, &weighting) else { return Vec::new() };
        let root = self.fw.root().map(|r| r.code.as_str()).unwrap_or("");
        ops::ranks(aggregated.column(root).unwrap_or(&[]))
    }

    /// Mean absolute rank shift from the nominal ranks.
    pub fn mars(&self, ranks: &[Option<usize>]) -> f64 {
        let shifts: Vec<f64> = ranks
            .iter()
            .zip(&self.nominal)
            .filter_map(|(r, n)| Some((r.as_ref()?.abs_diff(*n.as_ref()?)) as f64))
            .collect();
        if shifts.is_empty() {
            0.0
        } else {
            shifts.iter().sum::<f64>() / shifts.len() as f64
        }
    }
}

/// R's type-7 quantile of sorted values.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    let (a, b) = (sorted.get(lo).copied().unwrap_or(f64::NAN), sorted.get(hi).copied().unwrap_or(f64::NAN));
    a + (h - lo as f64) * (b - a)
}

/// Monte Carlo over the assumptions: rank statistics per unit.
pub fn uncertainty(
    model: &Model<'_>,
    runs: usize,
    seed: u64,
    progress: &mut dyn FnMut(usize, usize),
) -> Vec<RankStats> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let k = model.inputs.len();
    let mut all: Vec<Vec<f64>> = vec![Vec::with_capacity(runs); model.units.len()];
    for r in 0..runs {
        let u: Vec<f64> = (0..k).map(|_| rng.random::<f64>()).collect();
        for (slot, rank) in all.iter_mut().zip(model.run(&u)) {
            if let Some(rank) = rank {
                slot.push(rank as f64);
            }
        }
        if (r + 1) % 10 == 0 || r + 1 == runs {
            progress(r + 1, runs);
        }
    }
    model
        .units
        .iter()
        .zip(all.iter_mut())
        .zip(&model.nominal)
        .map(|((unit, ranks), nominal)| {
            ranks.sort_by(f64::total_cmp);
            RankStats {
                unit: unit.clone(),
                nominal: nominal.unwrap_or(0),
                median: quantile(ranks, 0.5),
                q05: quantile(ranks, 0.05),
                q95: quantile(ranks, 0.95),
            }
        })
        .collect()
}

/// First- and total-order indices from model outputs on Saltelli's design:
/// `f_a[j]`, `f_b[j]`, and `f_ab[i][j]` = f(A with column i from B), j = 1..N.
pub fn sobol_indices(
    f_a: &[f64],
    f_b: &[f64],
    f_ab: &[Vec<f64>],
    bootstrap: usize,
    seed: u64,
) -> Vec<SobolEstimate> {
    let estimate = |rows: &[usize]| -> Vec<(f64, f64)> {
        let n = rows.len() as f64;
        let all: Vec<f64> = rows
            .iter()
            .flat_map(|&j| [f_a.get(j).copied().unwrap_or(0.0), f_b.get(j).copied().unwrap_or(0.0)])
            .collect();
        let mean = all.iter().sum::<f64>() / all.len() as f64;
        let var = all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / all.len() as f64;
        f_ab.iter()
            .map(|fi| {
                if var <= 0.0 {
                    return (0.0, 0.0);
                }
                let (mut s, mut t) = (0.0, 0.0);
                for &j in rows {
                    let (a, b, ab) = (
                        f_a.get(j).copied().unwrap_or(0.0),
                        f_b.get(j).copied().unwrap_or(0.0),
                        fi.get(j).copied().unwrap_or(0.0),
                    );
                    s += b * (ab - a);
                    t += (a - ab).powi(2);
                }
                (s / n / var, t / (2.0 * n) / var)
            })
            .collect()
    };
    let n = f_a.len();
    let rows: Vec<usize> = (0..n).collect();
    let point = estimate(&rows);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut boots: Vec<Vec<(f64, f64)>> = Vec::with_capacity(bootstrap);
    for _ in 0..bootstrap {
        let sample: Vec<usize> = (0..n).map(|_| rng.random_range(0..n.max(1))).collect();
        boots.push(estimate(&sample));
    }
    point
        .iter()
        .enumerate()
        .map(|(i, &(s, t))| {
            let mut bs: Vec<f64> = boots.iter().filter_map(|b| b.get(i).map(|x| x.0)).collect();
            let mut bt: Vec<f64> = boots.iter().filter_map(|b| b.get(i).map(|x| x.1)).collect();
            bs.sort_by(f64::total_cmp);
            bt.sort_by(f64::total_cmp);
            SobolEstimate {
                first: s,
                first_ci: (quantile(&bs, 0.05), quantile(&bs, 0.95)),
                total: t,
                total_ci: (quantile(&bt, 0.05), quantile(&bt, 0.95)),
            }
        })
        .collect()
}

/// Saltelli's design over [0, 1]^k: returns (A, B) with N rows each.
pub fn saltelli_design(n: usize, k: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut draw =
        || (0..n).map(|_| (0..k).map(|_| rng.random::<f64>()).collect::<Vec<f64>>()).collect::<Vec<_>>();
    let a = draw();
    let b = draw();
    (a, b)
}

/// Sensitivity of the mean absolute rank shift to each uncertain input.
pub fn sensitivity(
    model: &Model<'_>,
    n: usize,
    seed: u64,
    progress: &mut dyn FnMut(usize, usize),
) -> Vec<SensitivityIndex> {
    let k = model.inputs.len();
    let (a, b) = saltelli_design(n, k, seed);
    let total = n * (k + 2);
    let mut done = 0;
    let mut eval = |u: &[f64]| {
        done += 1;
        if done % 10 == 0 || done == total {
            progress(done, total);
        }
        model.mars(&model.run(u))
    };
    let f_a: Vec<f64> = a.iter().map(|u| eval(u)).collect();
    let f_b: Vec<f64> = b.iter().map(|u| eval(u)).collect();
    let f_ab: Vec<Vec<f64>> = (0..k)
        .map(|i| {
            a.iter()
                .zip(&b)
                .map(|(ra, rb)| {
                    let mut u = ra.clone();
                    if let (Some(t), Some(v)) = (u.get_mut(i), rb.get(i)) {
                        *t = *v;
                    }
                    eval(&u)
                })
                .collect()
        })
        .collect();
    sobol_indices(&f_a, &f_b, &f_ab, 500, seed.wrapping_add(1))
        .into_iter()
        .zip(&model.inputs)
        .map(|(e, input)| SensitivityIndex {
            input: (*input).to_owned(),
            first: e.first,
            first_ci: e.first_ci,
            total: e.total,
            total_ci: e.total_ci,
        })
        .collect()
}
