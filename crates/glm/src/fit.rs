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
    /// Starting coefficients in the order of the fit's coefficients (R's `start`); a good
    /// start saves iterations. `None` starts from μ₀.
    pub start: Option<Vec<f64>>,
}

impl Spec {
    /// A spec with the family's default link, no penalty, epsilon 1e-10, β tolerance 1e-8,
    /// at most 100 iterations.
    pub fn new(family: Family) -> Spec {
        Spec {
            family,
            link: family.default_link(),
            l2: 0.0,
            epsilon: 1e-10,
            beta_tolerance: 1e-10,
            max_iterations: 100,
            start: None,
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

/// The rows as the hot loop reads them: prior weights and offsets materialised, and each
/// row's factor columns precomputed (treatment coding: the reference level has none).
struct Rows<'d> {
    y: &'d [f64],
    w: Vec<f64>,
    off: Vec<f64>,
    /// n × F column indices, row-major; `NONE` for a reference level.
    fcols: Vec<u32>,
    nf: usize,
    intercept: bool,
    numerics: Vec<&'d [f64]>,
    numeric_start: usize,
    /// The rows grouped by their combination of factor levels, when there are many more rows
    /// than combinations.
    cells: Option<Cells>,
}

/// Rows grouped by cell (one combination of the factors' levels). Rows of a cell share
/// their factor columns, so a pass adds each row's weight, weighted response and weighted
/// numeric values to its cell (2 + K additions), and the count tables between factors are
/// built from the cells afterwards — instead of adding every row to every pair of its
/// factor columns.
struct Cells {
    /// Per row, its cell.
    of_row: Vec<u32>,
    /// Per cell, its factor columns (`NONE` for a reference level), `nf` a cell.
    cols: Vec<u32>,
    count: usize,
}

/// The most cells the grouped pass uses, and the fewest rows per cell on average.
const MAX_CELLS: usize = 1 << 22;
const ROWS_PER_CELL: usize = 8;

impl Cells {
    fn new(data: &Data<'_>, fcols_of: impl Fn(usize, u32) -> u32) -> Option<Cells> {
        let n = data.n();
        let nf = data.factors.len();
        if nf == 0 {
            return None;
        }
        let mut count: usize = 1;
        for f in &data.factors {
            count = count.checked_mul(f.levels.len().max(1))?;
            if count > MAX_CELLS || count.saturating_mul(ROWS_PER_CELL) > n {
                return None;
            }
        }
        let mut of_row = vec![0u32; n];
        let mut stride = 1usize;
        for f in &data.factors {
            for (cell, &c) in of_row.iter_mut().zip(&f.codes) {
                *cell += u32::try_from(stride * c as usize).ok()?;
            }
            stride *= f.levels.len().max(1);
        }
        let mut cols = vec![NONE; count * nf];
        for cell in 0..count {
            let mut rest = cell;
            for (k, f) in data.factors.iter().enumerate() {
                let levels = f.levels.len().max(1);
                let code = u32::try_from(rest % levels).ok()?;
                rest /= levels;
                if let Some(slot) = cols.get_mut(cell * nf + k) {
                    *slot = fcols_of(k, code);
                }
            }
        }
        Some(Cells { of_row, cols, count })
    }
}

const NONE: u32 = u32::MAX;

impl<'d> Rows<'d> {
    fn new(data: &Data<'d>, layout: &Layout, grouped: bool) -> Rows<'d> {
        let n = data.n();
        let nf = data.factors.len();
        let mut fcols = vec![NONE; n * nf];
        for (f, (fac, start)) in data.factors.iter().zip(&layout.factor_start).enumerate() {
            for (i, &c) in fac.codes.iter().enumerate() {
                if c > 0 {
                    if let Some(slot) = fcols.get_mut(i * nf + f) {
                        *slot = u32::try_from(start + c as usize - 1).unwrap_or(NONE);
                    }
                }
            }
        }
        Rows {
            y: data.y,
            w: (0..n).map(|i| data.weight(i)).collect(),
            off: (0..n).map(|i| data.offset_at(i)).collect(),
            fcols,
            nf,
            intercept: layout.intercept,
            numerics: data.numerics.iter().map(|(_, x)| *x).collect(),
            numeric_start: layout.numeric_start,
            cells: if grouped {
                Cells::new(data, |f, c| match layout.factor_start.get(f) {
                    Some(start) if c > 0 => u32::try_from(start + c as usize - 1).unwrap_or(NONE),
                    _ => NONE,
                })
            } else {
                None
            },
        }
    }
}

/// Which information the IRLS weights come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Weights {
    /// Expected (Fisher scoring, R's IRLS).
    Fisher,
    /// Observed (Newton–Raphson): for Gamma and Tweedie with the log link it converges
    /// quadratically where Fisher scoring converges linearly. Same maximum.
    Newton,
}

impl Weights {
    fn for_model(family: Family, link: Link) -> Weights {
        match (family, link) {
            (Family::Gamma | Family::Tweedie(_), Link::Log) => Weights::Newton,
            _ => Weights::Fisher,
        }
    }
}

/// The outcome of one pass over the rows.
struct Pass {
    dev: f64,
    valid: bool,
}

/// One pass over the rows. With `beta`, first sets η = offset + Xβ and μ = g⁻¹(η);
/// otherwise uses η and μ as they are. Sums the deviance, and adds every row to the
/// normal equations at μ (the next IRLS step), keeping each row's working weight in `ww`.
/// Between two factors a row adds its weight to one cell of their count table, so the
/// pass costs O(n·(F+K)²), whatever the number of levels.
#[expect(clippy::indexing_slicing, reason = "every index is < n or < p by construction of Rows and Layout")]
#[expect(clippy::too_many_arguments, reason = "the hot loop's state, kept flat on purpose")]
fn pass(
    rows: &Rows<'_>,
    family: Family,
    link: Link,
    mode: Weights,
    beta: Option<&[f64]>,
    eta: &mut [f64],
    mu: &mut [f64],
    ww: &mut [f64],
    ne: &mut Normal,
) -> Pass {
    ne.clear();
    let p = ne.p;
    let nf = rows.nf;
    let ns = rows.numeric_start;
    let mut dev = 0.0;
    let mut valid = true;
    let mut ones: Vec<usize> = vec![0; nf + 1];
    let k = rows.numerics.len();
    let mut xs: Vec<f64> = vec![0.0; k];
    // Per cell: Σ weight, Σ weight·z, Σ weight·x for each numeric column.
    let stride = 2 + k;
    let mut sums: Vec<f64> = match &rows.cells {
        Some(c) => vec![0.0; c.count * stride],
        None => Vec::new(),
    };
    for i in 0..rows.y.len() {
        let fc = &rows.fcols[i * nf..(i + 1) * nf];
        for (x, col) in xs.iter_mut().zip(&rows.numerics) {
            *x = col[i];
        }
        if let Some(beta) = beta {
            let mut e = rows.off[i];
            if rows.intercept {
                e += beta[0];
            }
            for &c in fc {
                if c != NONE {
                    e += beta[c as usize];
                }
            }
            for (j, x) in xs.iter().enumerate() {
                e += beta[ns + j] * x;
            }
            eta[i] = e;
            mu[i] = link.inverse(e);
        }
        let (e, m, w, y) = (eta[i], mu[i], rows.w[i], rows.y[i]);
        ww[i] = 0.0;
        if w <= 0.0 {
            continue;
        }
        if !family.valid_mu(m) {
            valid = false;
            continue;
        }
        let (unit, var) = family.deviance_and_variance(y, m, w);
        dev += unit;
        let (wt, step) = match (mode, family) {
            // Observed information, log link: −∂²ℓ/∂η² = w·μ^(1−p)·((2−p)μ + (p−1)y) and
            // ∂ℓ/∂η = w·μ^(1−p)·(y − μ); μ^(1−p) = μ/V(μ).
            (Weights::Newton, Family::Tweedie(p)) => {
                let h = (2.0 - p) * m + (p - 1.0) * y;
                (w * m / var * h, (y - m) / h)
            }
            (Weights::Newton, Family::Gamma) => (w * y / m, (y - m) / y),
            _ => {
                let d = link.mu_eta_at(e, m);
                (w * d * d / var, (y - m) / d)
            }
        };
        if !(wt.is_finite() && wt > 0.0) {
            continue;
        }
        ww[i] = wt;
        let z = e - rows.off[i] + step;
        let wz = wt * z;
        if let Some(cells) = &rows.cells {
            let at = cells.of_row[i] as usize * stride;
            let cell = &mut sums[at..at + stride];
            cell[0] += wt;
            cell[1] += wz;
            for (s, x) in cell[2..].iter_mut().zip(&xs) {
                *s += wt * x;
            }
            numeric_block(ne, ns, k, &xs, wt, z);
            continue;
        }
        let mut m = 0;
        if rows.intercept {
            ones[0] = 0;
            m = 1;
        }
        for &c in fc {
            if c != NONE {
                ones[m] = c as usize;
                m += 1;
            }
        }
        // Intercept and factor columns (value 1): count tables.
        let active = &ones[..m];
        for (a, &ca) in active.iter().enumerate() {
            ne.b[ca] += wz;
            let arow = &mut ne.a[ca * p..(ca + 1) * p];
            for &cb in &active[a..] {
                arow[cb] += wt;
            }
            for (a, x) in arow[ns..ns + k].iter_mut().zip(&xs) {
                *a += wt * x;
            }
        }
        numeric_block(ne, ns, k, &xs, wt, z);
    }
    if let Some(cells) = &rows.cells {
        // The count tables from the cells: each cell adds its sums to every pair of its
        // columns, as each of its rows would have.
        for (cell, sum) in sums.chunks_exact(stride).enumerate() {
            let (w, wz) = (sum[0], sum[1]);
            if w == 0.0 {
                continue;
            }
            let mut m = 0;
            if rows.intercept {
                ones[0] = 0;
                m = 1;
            }
            for &c in &cells.cols[cell * nf..(cell + 1) * nf] {
                if c != NONE {
                    ones[m] = c as usize;
                    m += 1;
                }
            }
            let active = &ones[..m];
            for (a, &ca) in active.iter().enumerate() {
                ne.b[ca] += wz;
                let arow = &mut ne.a[ca * p..(ca + 1) * p];
                for &cb in &active[a..] {
                    arow[cb] += w;
                }
                for (a, s) in arow[ns..ns + k].iter_mut().zip(&sum[2..]) {
                    *a += s;
                }
            }
        }
    }
    Pass { dev, valid: valid && dev.is_finite() }
}

/// A row's additions to the numeric columns' block of the normal equations. Numeric columns
/// come after every factor column; slices let the compiler drop the bounds checks and
/// vectorise.
#[expect(clippy::indexing_slicing, reason = "every index is < p by construction of Layout")]
fn numeric_block(ne: &mut Normal, ns: usize, k: usize, xs: &[f64], wt: f64, z: f64) {
    let p = ne.p;
    for (j, x) in xs.iter().enumerate() {
        let v = wt * x;
        ne.b[ns + j] += v * z;
        let row = (ns + j) * p + ns;
        for (a, x2) in ne.a[row + j..row + k].iter_mut().zip(&xs[j..]) {
            *a += v * x2;
        }
    }
}

/// η and μ at β for prediction.
#[expect(clippy::indexing_slicing, reason = "every index is < n or < p by construction of Rows and Layout")]
fn linear_predictor(rows: &Rows<'_>, beta: &[f64], i: usize) -> f64 {
    let mut e = rows.off[i];
    if rows.intercept {
        e += beta[0];
    }
    for &c in &rows.fcols[i * rows.nf..(i + 1) * rows.nf] {
        if c != NONE {
            e += beta[c as usize];
        }
    }
    for (j, col) in rows.numerics.iter().enumerate() {
        e += beta[rows.numeric_start + j] * col[i];
    }
    e
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

/// The weighted mean of y, the intercept-only fit of a logit model without an offset
/// (R starts each row at (wy + ½)/(w + 1), which is further from it on rare events).
fn start_mean(data: &Data<'_>, family: Family, link: Link) -> Option<f64> {
    if family != Family::Binomial || link != Link::Logit || data.offset.is_some() {
        return None;
    }
    let (mut swy, mut sw) = (0.0, 0.0);
    for (i, &y) in data.y.iter().enumerate() {
        let w = data.weight(i);
        swy += w * y;
        sw += w;
    }
    let mean = swy / sw;
    (mean > 0.0 && mean < 1.0).then_some(mean)
}

/// Σwy / Σw·exp(offset): the intercept-only rate of a log-link model, when it is positive.
fn start_rate(data: &Data<'_>, link: Link) -> Option<f64> {
    if link != Link::Log {
        return None;
    }
    let (mut swy, mut swe) = (0.0, 0.0);
    for (i, &y) in data.y.iter().enumerate() {
        let w = data.weight(i);
        if w > 0.0 {
            swy += w * y;
            swe += w * data.offset_at(i).exp();
        }
    }
    let rate = swy / swe;
    (rate.is_finite() && rate > 0.0).then_some(rate)
}

fn penalty(beta: &[f64], l2: f64, intercept: bool) -> f64 {
    if l2 == 0.0 {
        return 0.0;
    }
    l2 * beta.iter().skip(usize::from(intercept)).map(|b| b * b).sum::<f64>()
}

/// Fits a model.
pub fn fit(data: &Data<'_>, spec: &Spec) -> Result<Fit, GlmError> {
    fit_with(data, spec, true)
}

/// Fits a model; `grouped` lets a pass group the rows by cell when that is cheaper (the
/// same sums in another order).
fn fit_with(data: &Data<'_>, spec: &Spec, grouped: bool) -> Result<Fit, GlmError> {
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
    let rows = Rows::new(data, &layout, grouped);

    // Start from μ₀, not from β, and accumulate the first step's normal equations. With
    // the log link, μ₀ is the intercept-and-offset-only fit (the overall rate times each
    // row's exposure), which saves iterations on sparse counts; otherwise R's μ₀. The
    // maximum-likelihood estimate, where both arrive, is the same.
    let mut mu: Vec<f64> = match (start_rate(data, link), start_mean(data, family, link)) {
        (Some(rate), _) => (0..n).map(|i| rate * data.offset_at(i).exp()).collect(),
        (None, Some(mean)) => vec![mean; n],
        (None, None) => {
            (0..n).map(|i| family.mu_start(data.y.get(i).copied().unwrap_or(0.0), data.weight(i))).collect()
        }
    };
    let mut eta: Vec<f64> = mu.iter().map(|&m| link.link(m)).collect();
    let mut ww = vec![0.0; n];
    let mut ww_next = vec![0.0; n];
    let mut ne = Normal::new(p);
    let mut ne_next = Normal::new(p);
    let mut mode = Weights::for_model(family, link);
    let mut beta = vec![0.0; p];
    let initial = spec.start.as_ref().map(|_| (mu.clone(), eta.clone()));
    let first = match &spec.start {
        Some(b0) if b0.len() == p && b0.iter().all(|b| b.is_finite()) => {
            let at_start = pass(&rows, family, link, mode, Some(b0), &mut eta, &mut mu, &mut ww, &mut ne);
            if at_start.valid {
                beta.clone_from(b0);
                Some(at_start)
            } else {
                None
            }
        }
        Some(b0) => {
            return Err(GlmError::Option(format!(
                "`start` has {} values; the model has {p} coefficients",
                b0.len()
            )));
        }
        None => None,
    };
    let start = match first {
        Some(s) => s,
        None => {
            // No start, or one whose fitted values are invalid: μ₀ as usual.
            if let Some((m0, e0)) = initial {
                mu = m0;
                eta = e0;
            }
            pass(&rows, family, link, mode, None, &mut eta, &mut mu, &mut ww, &mut ne)
        }
    };
    let mut dev_old = start.dev;
    let mut aliased: Option<Vec<bool>> = None;
    let mut converged = false;
    let mut iterations = 0;
    let mut change = f64::INFINITY;
    let mut dev = dev_old;
    for iter in 1..=spec.max_iterations {
        iterations = iter;
        let alias = aliased.get_or_insert_with(|| aliased_columns(&ne));
        let keep: Vec<usize> = (0..p).filter(|&j| !alias.get(j).copied().unwrap_or(true)).collect();
        if keep.len() > n_obs {
            return Err(GlmError::TooFewRows { n: n_obs, p: keep.len() });
        }
        let (a, b) = reduced(&ne, &keep, spec.l2, layout.intercept);
        let chol =
            a.cholesky().ok_or_else(|| GlmError::Numerical("the weighted design is singular".into()))?;
        let sol = chol.solve(&b);
        let mut beta_new = vec![0.0; p];
        for (k, &j) in keep.iter().enumerate() {
            if let (Some(t), Some(v)) = (beta_new.get_mut(j), sol.get(k)) {
                *t = *v;
            }
        }
        // One pass: the fit at the new β, and the normal equations of the next step.
        let mut step =
            pass(&rows, family, link, mode, Some(&beta_new), &mut eta, &mut mu, &mut ww_next, &mut ne_next);
        // Step halving when the step leaves the family's range (R does the same).
        let mut halvings = 0;
        while !step.valid {
            if iter == 1 || halvings >= 30 {
                return Err(GlmError::Numerical(format!(
                    "no valid fitted values at iteration {iter}; the {} link may not suit this data",
                    link.name()
                )));
            }
            for (nb, ob) in beta_new.iter_mut().zip(&beta) {
                *nb = (*nb + ob) / 2.0;
            }
            step = pass(
                &rows,
                family,
                link,
                mode,
                Some(&beta_new),
                &mut eta,
                &mut mu,
                &mut ww_next,
                &mut ne_next,
            );
            halvings += 1;
        }
        let beta_change =
            beta_new.iter().zip(&beta).map(|(n, o)| (n - o).abs() / (n.abs() + 0.1)).fold(0.0f64, f64::max);
        let objective = step.dev + penalty(&beta_new, spec.l2, layout.intercept);
        if mode == Weights::Newton && iter > 1 && objective > dev_old * (1.0 + 1e-12) + 1e-12 {
            // Newton overshot (far from the maximum the observed information can mislead):
            // take the step back and go on by Fisher scoring, which R uses throughout.
            mode = Weights::Fisher;
            pass(&rows, family, link, mode, Some(&beta), &mut eta, &mut mu, &mut ww, &mut ne);
            continue;
        }
        beta = beta_new;
        dev = step.dev;
        change = (objective - dev_old).abs() / (objective.abs() + 0.1);
        dev_old = objective;
        if change < spec.epsilon && beta_change < spec.beta_tolerance {
            converged = true;
            break;
        }
        std::mem::swap(&mut ne, &mut ne_next);
        std::mem::swap(&mut ww, &mut ww_next);
    }
    if !converged {
        return Err(GlmError::NoConvergence { iterations, change });
    }
    // Standard errors and the Pearson dispersion come from the expected (Fisher)
    // information at the final fit, as R's do. The last pass accumulated it already
    // unless the steps were Newton steps.
    if mode == Weights::Newton {
        pass(&rows, family, link, Weights::Fisher, None, &mut eta, &mut mu, &mut ww_next, &mut ne_next);
    }
    let last_ww = ww_next;
    let alias_now = aliased.clone().unwrap_or_default();
    let keep: Vec<usize> = (0..p).filter(|&j| !alias_now.get(j).copied().unwrap_or(true)).collect();
    let (last_a, _) = reduced(&ne_next, &keep, spec.l2, layout.intercept);
    let alias = aliased.unwrap_or_default();
    let rank = alias.iter().filter(|a| !**a).count();
    let df_residual = n_obs.saturating_sub(rank);
    // Pearson dispersion: Fisher working weights times squared working residuals, both at
    // the final fit.
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
        encoded.check()?;
        let layout = Layout::new(&encoded);
        let rows = Rows::new(&encoded, &layout, false);
        Ok((0..encoded.n()).map(|i| self.link.inverse(linear_predictor(&rows, &self.beta, i))).collect())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;

    /// Rows grouped by cell give the fit of rows added one by one (the same sums in another
    /// order), for every family, with weights, an offset and numeric columns.
    #[test]
    fn grouping_rows_by_cell_is_the_same_fit() {
        let n = 20_000;
        let mut state: u64 = 0x853c_49e6_748f_ea9b;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let levels = |k: usize, u: f64| ((u * k as f64) as usize).min(k - 1);
        let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        let (mut x1, mut x2, mut expo) = (Vec::new(), Vec::new(), Vec::new());
        let (mut count, mut size, mut share) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..n {
            let (fa, fb, fc) = (levels(4, next()), levels(6, next()), levels(3, next()));
            let (u1, u2, e) = (next() * 2.0 - 1.0, next() * 3.0, 0.1 + 0.9 * next());
            let eta = -1.0 + 0.2 * fa as f64 - 0.1 * fb as f64 + 0.3 * fc as f64 + 0.4 * u1 - 0.2 * u2;
            let mu = e * eta.exp();
            // Counts by inversion of the Poisson distribution function.
            let (mut k, mut p, mut cdf, u) = (0.0, (-mu).exp(), (-mu).exp(), next());
            while u > cdf && k < 50.0 {
                k += 1.0;
                p *= mu / k;
                cdf += p;
            }
            a.push(format!("a{fa}"));
            b.push(format!("b{fb}"));
            c.push(format!("c{fc}"));
            x1.push(u1);
            x2.push(u2);
            expo.push(e);
            count.push(k);
            size.push((eta + 5.0).exp() * (0.2 + 1.6 * next()));
            share.push(if next() < 1.0 / (1.0 + (-eta).exp()) { 1.0 } else { 0.0 });
        }
        let offset: Vec<f64> = expo.iter().map(|e| e.ln()).collect();
        let factors = || {
            vec![
                Factor::from_strings("a", &a).unwrap(),
                Factor::from_strings("b", &b).unwrap(),
                Factor::from_strings("c", &c).unwrap(),
            ]
        };
        let with = |y: &[f64]| -> Vec<f64> { y.to_vec() };
        let (count, size, share) = (with(&count), with(&size), with(&share));
        let cases: Vec<(Family, &[f64], bool, bool)> = vec![
            (Family::Poisson, &count, true, false),
            (Family::Gamma, &size, false, true),
            (Family::Tweedie(1.5), &size, false, true),
            (Family::Binomial, &share, false, false),
            (Family::Gaussian, &x2, false, true),
        ];
        for (family, y, use_offset, use_weights) in cases {
            let mut d = Data::new(y);
            if use_offset {
                d = d.offset(&offset);
            }
            if use_weights {
                d = d.weights(&expo);
            }
            for f in factors() {
                d = d.factor(f);
            }
            let d = d.numeric("x1", &x1);
            let spec = Spec::new(family);
            let layout = Layout::new(&d);
            assert!(Rows::new(&d, &layout, true).cells.is_some(), "the grouped pass is used");
            let (g, r) = (fit_with(&d, &spec, true).unwrap(), fit_with(&d, &spec, false).unwrap());
            let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * y.abs().max(1e-3);
            assert!(close(g.deviance, r.deviance), "{family:?}: {} vs {}", g.deviance, r.deviance);
            assert!(close(g.dispersion, r.dispersion), "{family:?}");
            assert_eq!(g.iterations, r.iterations, "{family:?}");
            for (x, y) in g.coefficients.iter().zip(&r.coefficients) {
                assert_eq!(x.name, y.name);
                assert!(close(x.estimate.unwrap(), y.estimate.unwrap()), "{family:?} {}", x.name);
                assert!(close(x.std_error.unwrap(), y.std_error.unwrap()), "{family:?} {}", x.name);
            }
        }
    }
}
