//! Iteratively reweighted least squares with structured normal equations.

use crate::design::{Data, Factor, Layout};
use crate::family::{Family, Link};
use crate::stats::{p_normal, p_student};
use crate::GlmError;
use nalgebra::{DMatrix, DVector};

/// What to fit and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub family: Family,
    pub link: Link,
    /// L2 penalty λ: the fit minimises ½·deviance + ½·λ·Σβⱼ² over every coefficient but
    /// the intercept (0 = no penalty, R's fit).
    pub l2: f64,
    /// Convergence needs both R's rule, |D − D_prev| / (|D| + 0.1) < epsilon (R's default
    /// is 1e-8), and every coefficient's step, |Δβ| / (|β| + 0.1), below `beta_tolerance`.
    /// With a non-canonical link (Gamma or Tweedie with log) IRLS converges linearly, and a
    /// small deviance change alone still leaves coefficients off in the sixth digit.
    pub epsilon: f64,
    pub beta_tolerance: f64,
    pub max_iterations: usize,
}

impl Spec {
    /// A spec with the family's default link, no penalty, epsilon and β tolerance 1e-10,
    /// at most 100 iterations.
    pub fn new(family: Family) -> Spec {
        Spec {
            family,
            link: family.default_link(),
            l2: 0.0,
            epsilon: 1e-10,
            beta_tolerance: 1e-10,
            max_iterations: 100,
        }
    }

    /// Another link.
    pub fn link(mut self, link: Link) -> Spec {
        self.link = link;
        self
    }

    /// An L2 penalty.
    pub fn l2(mut self, lambda: f64) -> Spec {
        self.l2 = lambda;
        self
    }
}

/// How coefficients are tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKind {
    /// Dispersion fixed at 1: z statistics, normal p-values (Poisson, Binomial).
    Z,
    /// Dispersion estimated: t statistics on the residual degrees of freedom.
    T,
}

/// One coefficient. An aliased (collinear) one has no estimate, as R reports `NA`.
#[derive(Debug, Clone, PartialEq)]
pub struct Coefficient {
    pub name: String,
    pub estimate: Option<f64>,
    pub std_error: Option<f64>,
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub family: Family,
    pub link: Link,
    pub coefficients: Vec<Coefficient>,
    pub deviance: f64,
    pub null_deviance: f64,
    pub df_residual: usize,
    pub df_null: usize,
    /// R's AIC; `None` for Tweedie (no closed-form likelihood).
    pub aic: Option<f64>,
    pub dispersion: f64,
    pub iterations: usize,
    pub test: TestKind,
    /// Observations with a positive weight.
    pub n_obs: usize,
    pub l2: f64,
    /// Each factor's levels, the reference first.
    pub factors: Vec<(String, Vec<String>)>,
    pub numerics: Vec<String>,
    intercept: bool,
    beta: Vec<f64>,
}

/// Scratch state of one pass over the rows.
struct Normal {
    p: usize,
    a: Vec<f64>,
    b: Vec<f64>,
}

impl Normal {
    fn new(p: usize) -> Normal {
        Normal { p, a: vec![0.0; p * p], b: vec![0.0; p] }
    }

    fn clear(&mut self) {
        self.a.iter_mut().for_each(|v| *v = 0.0);
        self.b.iter_mut().for_each(|v| *v = 0.0);
    }

    fn at(&self, i: usize, j: usize) -> f64 {
        self.a.get(i * self.p + j).copied().unwrap_or(0.0)
    }
}

/// The columns one row touches: at most 1 + F + K, in increasing column order.
struct Active {
    cols: Vec<usize>,
    vals: Vec<f64>,
}

impl Active {
    fn fill(&mut self, data: &Data<'_>, layout: &Layout, i: usize) {
        self.cols.clear();
        self.vals.clear();
        if layout.intercept {
            self.cols.push(0);
            self.vals.push(1.0);
        }
        for (f, start) in data.factors.iter().zip(&layout.factor_start) {
            let c = f.codes.get(i).copied().unwrap_or(0) as usize;
            if c > 0 {
                self.cols.push(start + c - 1);
                self.vals.push(1.0);
            }
        }
        for (k, (_, x)) in data.numerics.iter().enumerate() {
            self.cols.push(layout.numeric_start + k);
            self.vals.push(x.get(i).copied().unwrap_or(0.0));
        }
    }

    fn dot(&self, beta: &[f64]) -> f64 {
        self.cols.iter().zip(&self.vals).map(|(&c, &v)| beta.get(c).copied().unwrap_or(0.0) * v).sum()
    }
}

/// Adds one row to the normal equations: the upper triangle of X'WX and X'Wz. This is the
/// hot loop; between two factors it adds to one cell of their count table.
#[expect(clippy::indexing_slicing, reason = "columns come from the layout and are < p by construction")]
fn accumulate(ne: &mut Normal, act: &Active, ww: f64, z: f64) {
    let p = ne.p;
    let n = act.cols.len();
    for a in 0..n {
        let (ca, va) = (act.cols[a], act.vals[a] * ww);
        ne.b[ca] += va * z;
        let row = ca * p;
        for b in a..n {
            ne.a[row + act.cols[b]] += va * act.vals[b];
        }
    }
}

/// Flags columns that are linear combinations of earlier ones (R's rule: the column's
/// remaining norm below 1e-7 of its own), by an in-order Cholesky of X'WX.
fn aliased_columns(ne: &Normal) -> Vec<bool> {
    const TOL: f64 = 1e-7;
    let p = ne.p;
    let mut l = vec![0.0; p * p];
    let mut aliased = vec![false; p];
    for j in 0..p {
        let ajj = ne.at(j, j);
        let mut d = ajj;
        for k in (0..j).filter(|&k| !aliased.get(k).copied().unwrap_or(true)) {
            let ljk = l.get(j * p + k).copied().unwrap_or(0.0);
            d -= ljk * ljk;
        }
        if ajj <= 0.0 || d <= TOL * TOL * ajj {
            if let Some(a) = aliased.get_mut(j) {
                *a = true;
            }
            continue;
        }
        let ljj = d.sqrt();
        if let Some(v) = l.get_mut(j * p + j) {
            *v = ljj;
        }
        for i in j + 1..p {
            let mut s = ne.at(j.min(i), j.max(i));
            for k in (0..j).filter(|&k| !aliased.get(k).copied().unwrap_or(true)) {
                s -= l.get(i * p + k).copied().unwrap_or(0.0) * l.get(j * p + k).copied().unwrap_or(0.0);
            }
            if let Some(v) = l.get_mut(i * p + j) {
                *v = s / ljj;
            }
        }
    }
    aliased
}

/// The kept block of the normal equations as a full symmetric matrix, with the penalty.
fn reduced(ne: &Normal, keep: &[usize], l2: f64, intercept: bool) -> (DMatrix<f64>, DVector<f64>) {
    let m = keep.len();
    let a = DMatrix::from_fn(m, m, |r, c| {
        let (i, j) = (keep.get(r).copied().unwrap_or(0), keep.get(c).copied().unwrap_or(0));
        let v = ne.at(i.min(j), i.max(j));
        if r == c && l2 > 0.0 && !(intercept && i == 0) {
            v + l2
        } else {
            v
        }
    });
    let b = DVector::from_fn(m, |r, _| ne.b.get(keep.get(r).copied().unwrap_or(0)).copied().unwrap_or(0.0));
    (a, b)
}

struct Pass {
    dev: f64,
    valid: bool,
}

/// η and μ for every row from β; the deviance.
fn evaluate(
    data: &Data<'_>,
    layout: &Layout,
    spec: &Spec,
    beta: &[f64],
    eta: &mut [f64],
    mu: &mut [f64],
    act: &mut Active,
) -> Pass {
    let (family, link) = (spec.family, spec.link);
    let mut dev = 0.0;
    let mut valid = true;
    for (i, (e, m)) in eta.iter_mut().zip(mu.iter_mut()).enumerate() {
        act.fill(data, layout, i);
        *e = data.offset_at(i) + act.dot(beta);
        *m = link.inverse(*e);
        let w = data.weight(i);
        if w > 0.0 {
            if !family.valid_mu(*m) {
                valid = false;
            }
            dev += family.unit_deviance(data.y.get(i).copied().unwrap_or(0.0), *m, w);
        }
    }
    Pass { dev, valid: valid && dev.is_finite() }
}

fn penalty(beta: &[f64], l2: f64, intercept: bool) -> f64 {
    if l2 == 0.0 {
        return 0.0;
    }
    l2 * beta.iter().skip(usize::from(intercept)).map(|b| b * b).sum::<f64>()
}

/// Fits a model.
pub fn fit(data: &Data<'_>, spec: &Spec) -> Result<Fit, GlmError> {
    let (family, link) = (spec.family, spec.link);
    family.check(link)?;
    if !(spec.l2 >= 0.0 && spec.l2.is_finite()) {
        return Err(GlmError::Option(format!("the L2 penalty must be ≥ 0, not {}", spec.l2)));
    }
    data.check()?;
    let n = data.n();
    let mut n_obs = 0usize;
    for (i, &y) in data.y.iter().enumerate() {
        if data.weight(i) > 0.0 {
            family.check_y(y, i + 1)?;
            n_obs += 1;
        }
    }
    if n_obs == 0 {
        return Err(GlmError::Empty);
    }
    let layout = Layout::new(data);
    let p = layout.p;
    let mut act = Active { cols: Vec::with_capacity(p), vals: Vec::with_capacity(p) };

    // Start from R's μ₀, not from β.
    let mut mu: Vec<f64> =
        (0..n).map(|i| family.mu_start(data.y.get(i).copied().unwrap_or(0.0), data.weight(i))).collect();
    let mut eta: Vec<f64> = mu.iter().map(|&m| link.link(m)).collect();
    let mut dev_old: f64 = (0..n)
        .filter(|&i| data.weight(i) > 0.0)
        .map(|i| {
            family.unit_deviance(
                data.y.get(i).copied().unwrap_or(0.0),
                mu.get(i).copied().unwrap_or(0.0),
                data.weight(i),
            )
        })
        .sum();
    let mut ne = Normal::new(p);
    let mut aliased: Option<Vec<bool>> = None;
    let mut beta = vec![0.0; p];
    let mut last_a = DMatrix::zeros(0, 0);
    let mut last_ww = vec![0.0; n];
    let mut converged = false;
    let mut iterations = 0;
    let mut change = f64::INFINITY;
    let mut dev = dev_old;
    for iter in 1..=spec.max_iterations {
        iterations = iter;
        ne.clear();
        for i in 0..n {
            let w = data.weight(i);
            let (e, m) = (eta.get(i).copied().unwrap_or(0.0), mu.get(i).copied().unwrap_or(0.0));
            let d = link.mu_eta(e);
            let var = family.variance(m);
            let ww = if w > 0.0 { w * d * d / var } else { 0.0 };
            if let Some(slot) = last_ww.get_mut(i) {
                *slot = if ww.is_finite() && ww > 0.0 { ww } else { 0.0 };
            }
            if !(ww.is_finite() && ww > 0.0) {
                continue;
            }
            let z = e - data.offset_at(i) + (data.y.get(i).copied().unwrap_or(0.0) - m) / d;
            act.fill(data, &layout, i);
            accumulate(&mut ne, &act, ww, z);
        }
        let alias = aliased.get_or_insert_with(|| aliased_columns(&ne));
        let keep: Vec<usize> = (0..p).filter(|&j| !alias.get(j).copied().unwrap_or(true)).collect();
        if keep.len() > n_obs {
            return Err(GlmError::TooFewRows { n: n_obs, p: keep.len() });
        }
        let (a, b) = reduced(&ne, &keep, spec.l2, layout.intercept);
        let chol = a
            .clone()
            .cholesky()
            .ok_or_else(|| GlmError::Numerical("the weighted design is singular".into()))?;
        let sol = chol.solve(&b);
        let mut beta_new = vec![0.0; p];
        for (k, &j) in keep.iter().enumerate() {
            if let (Some(t), Some(v)) = (beta_new.get_mut(j), sol.get(k)) {
                *t = *v;
            }
        }
        let mut pass = evaluate(data, &layout, spec, &beta_new, &mut eta, &mut mu, &mut act);
        // Step halving when the step leaves the family's range (R does the same).
        let mut halvings = 0;
        while !pass.valid {
            if iter == 1 || halvings >= 30 {
                return Err(GlmError::Numerical(format!(
                    "no valid fitted values at iteration {iter}; the {} link may not suit this data",
                    link.name()
                )));
            }
            for (nb, ob) in beta_new.iter_mut().zip(&beta) {
                *nb = (*nb + ob) / 2.0;
            }
            pass = evaluate(data, &layout, spec, &beta_new, &mut eta, &mut mu, &mut act);
            halvings += 1;
        }
        let beta_change =
            beta_new.iter().zip(&beta).map(|(n, o)| (n - o).abs() / (n.abs() + 0.1)).fold(0.0f64, f64::max);
        beta = beta_new;
        dev = pass.dev;
        last_a = a;
        let objective = dev + penalty(&beta, spec.l2, layout.intercept);
        let objective_old = dev_old;
        change = (objective - objective_old).abs() / (objective.abs() + 0.1);
        dev_old = objective;
        if change < spec.epsilon && beta_change < spec.beta_tolerance {
            converged = true;
            break;
        }
    }
    if !converged {
        return Err(GlmError::NoConvergence { iterations, change });
    }
    let alias = aliased.unwrap_or_default();
    let rank = alias.iter().filter(|a| !**a).count();
    let df_residual = n_obs.saturating_sub(rank);
    // Pearson dispersion as R computes it: the last iteration's working weights times the
    // squared working residuals at the final fit.
    let dispersion = if family.fixed_dispersion() {
        1.0
    } else if df_residual == 0 {
        f64::NAN
    } else {
        let chi2: f64 = (0..n)
            .filter(|&i| last_ww.get(i).copied().unwrap_or(0.0) > 0.0)
            .map(|i| {
                let (e, m) = (eta.get(i).copied().unwrap_or(0.0), mu.get(i).copied().unwrap_or(0.0));
                let r = (data.y.get(i).copied().unwrap_or(0.0) - m) / link.mu_eta(e);
                last_ww.get(i).copied().unwrap_or(0.0) * r * r
            })
            .sum();
        chi2 / df_residual as f64
    };
    let cov = last_a
        .try_inverse()
        .ok_or_else(|| GlmError::Numerical("the information matrix is singular".into()))?;
    let test = if family.fixed_dispersion() { TestKind::Z } else { TestKind::T };
    let mut coefficients = Vec::with_capacity(p);
    let mut k = 0;
    for (j, name) in layout.names.iter().enumerate() {
        if alias.get(j).copied().unwrap_or(true) {
            coefficients.push(Coefficient {
                name: name.clone(),
                estimate: None,
                std_error: None,
                statistic: None,
                p_value: None,
            });
            continue;
        }
        let est = beta.get(j).copied().unwrap_or(0.0);
        let se = (dispersion * cov.get((k, k)).copied().unwrap_or(f64::NAN)).sqrt();
        let stat = est / se;
        let pv = match test {
            TestKind::Z => p_normal(stat),
            TestKind::T => p_student(stat, df_residual as f64),
        };
        coefficients.push(Coefficient {
            name: name.clone(),
            estimate: Some(est),
            std_error: Some(se),
            statistic: Some(stat),
            p_value: Some(pv),
        });
        k += 1;
    }
    let null_deviance = null_deviance(data, family, link, spec)?;
    let (ys, mus, ws): (Vec<f64>, Vec<f64>, Vec<f64>) = (0..n)
        .filter(|&i| data.weight(i) > 0.0)
        .map(|i| (data.y.get(i).copied().unwrap_or(0.0), mu.get(i).copied().unwrap_or(0.0), data.weight(i)))
        .fold((Vec::new(), Vec::new(), Vec::new()), |(mut a, mut b, mut c), (y, m, w)| {
            a.push(y);
            b.push(m);
            c.push(w);
            (a, b, c)
        });
    let aic = family.aic_part(&ys, &mus, &ws, dev).map(|a| a + 2.0 * rank as f64);
    Ok(Fit {
        family,
        link,
        coefficients,
        deviance: dev,
        null_deviance,
        df_residual,
        df_null: n_obs.saturating_sub(usize::from(layout.intercept)),
        aic,
        dispersion,
        iterations,
        test,
        n_obs,
        l2: spec.l2,
        factors: data.factors.iter().map(|f| (f.name.clone(), f.levels.clone())).collect(),
        numerics: data.numerics.iter().map(|(n, _)| n.clone()).collect(),
        intercept: layout.intercept,
        beta,
    })
}

/// The deviance of the model with the intercept (and offset) only, as R reports it.
fn null_deviance(data: &Data<'_>, family: Family, link: Link, spec: &Spec) -> Result<f64, GlmError> {
    let n = data.n();
    let dev_at = |mu_of: &dyn Fn(usize) -> f64| -> f64 {
        (0..n)
            .filter(|&i| data.weight(i) > 0.0)
            .map(|i| family.unit_deviance(data.y.get(i).copied().unwrap_or(0.0), mu_of(i), data.weight(i)))
            .sum()
    };
    if !data.intercept {
        return Ok(dev_at(&|i| link.inverse(data.offset_at(i))));
    }
    if data.offset.is_none() {
        let (sw, swy) = (0..n).fold((0.0, 0.0), |(sw, swy), i| {
            let w = data.weight(i);
            (sw + w, swy + w * data.y.get(i).copied().unwrap_or(0.0))
        });
        let mean = swy / sw;
        return Ok(dev_at(&|_| mean));
    }
    // With an offset, R fits the intercept-only model.
    let only = Data {
        y: data.y,
        weights: data.weights,
        offset: data.offset,
        factors: Vec::new(),
        numerics: Vec::new(),
        intercept: true,
    };
    let spec = Spec { l2: 0.0, ..spec.clone() };
    fit_deviance_only(&only, family, link, &spec)
}

fn fit_deviance_only(data: &Data<'_>, family: Family, link: Link, spec: &Spec) -> Result<f64, GlmError> {
    let n = data.n();
    let mut mu: Vec<f64> =
        (0..n).map(|i| family.mu_start(data.y.get(i).copied().unwrap_or(0.0), data.weight(i))).collect();
    let mut eta: Vec<f64> = mu.iter().map(|&m| link.link(m)).collect();
    let mut dev_old = f64::INFINITY;
    for _ in 0..spec.max_iterations {
        let (mut swz, mut sw) = (0.0, 0.0);
        for i in 0..n {
            let w = data.weight(i);
            if w <= 0.0 {
                continue;
            }
            let (e, m) = (eta.get(i).copied().unwrap_or(0.0), mu.get(i).copied().unwrap_or(0.0));
            let d = link.mu_eta(e);
            let ww = w * d * d / family.variance(m);
            if ww.is_finite() && ww > 0.0 {
                swz += ww * (e - data.offset_at(i) + (data.y.get(i).copied().unwrap_or(0.0) - m) / d);
                sw += ww;
            }
        }
        let b0 = swz / sw;
        let mut dev = 0.0;
        for i in 0..n {
            let e = data.offset_at(i) + b0;
            let m = link.inverse(e);
            if let (Some(ei), Some(mi)) = (eta.get_mut(i), mu.get_mut(i)) {
                *ei = e;
                *mi = m;
            }
            let w = data.weight(i);
            if w > 0.0 {
                dev += family.unit_deviance(data.y.get(i).copied().unwrap_or(0.0), m, w);
            }
        }
        if !dev.is_finite() {
            return Err(GlmError::Numerical("the null model has no valid fit".into()));
        }
        if (dev - dev_old).abs() / (dev.abs() + 0.1) < spec.epsilon {
            return Ok(dev);
        }
        dev_old = dev;
    }
    Err(GlmError::NoConvergence { iterations: spec.max_iterations, change: f64::NAN })
}

impl Fit {
    /// The coefficient named `name`.
    pub fn coefficient(&self, name: &str) -> Option<&Coefficient> {
        self.coefficients.iter().find(|c| c.name == name)
    }

    /// The estimates with aliased coefficients as 0 (as R predicts from a rank-deficient fit).
    pub fn beta(&self) -> &[f64] {
        &self.beta
    }

    /// Fitted means for new data (factors by level name; the offset is applied).
    /// The response of `data` is not used except for its length.
    pub fn predict(&self, data: &Data<'_>) -> Result<Vec<f64>, GlmError> {
        if data.factors.len() != self.factors.len() || data.numerics.len() != self.numerics.len() {
            return Err(GlmError::Option("the data's terms differ from the model's".into()));
        }
        let mut factors = Vec::with_capacity(data.factors.len());
        for (f, (name, levels)) in data.factors.iter().zip(&self.factors) {
            let map: Vec<u32> = f
                .levels
                .iter()
                .map(|l| {
                    levels
                        .iter()
                        .position(|m| m == l)
                        .and_then(|p| u32::try_from(p).ok())
                        .ok_or_else(|| GlmError::UnknownLevel { factor: name.clone(), level: l.clone() })
                })
                .collect::<Result<_, _>>()?;
            let codes = f.codes.iter().map(|&c| map.get(c as usize).copied().unwrap_or(0)).collect();
            factors.push(Factor { name: name.clone(), levels: levels.clone(), codes });
        }
        let encoded = Data { factors, intercept: self.intercept, ..data.clone() };
        let layout = Layout::new(&encoded);
        let mut act = Active { cols: Vec::new(), vals: Vec::new() };
        Ok((0..encoded.n())
            .map(|i| {
                act.fill(&encoded, &layout, i);
                self.link.inverse(encoded.offset_at(i) + act.dot(&self.beta))
            })
            .collect())
    }
}
