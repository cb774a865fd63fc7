//! Validation metrics.

/// Area under the ROC curve of `score` (higher = more likely an event) for 0/1 `y`;
/// ties count half (the Mann–Whitney statistic). NaN with a single class.
pub fn auc(score: &[f64], y: &[u8]) -> f64 {
    let mut idx: Vec<usize> = (0..score.len().min(y.len())).collect();
    idx.sort_by(|&a, &b| {
        score.get(a).copied().unwrap_or(0.0).total_cmp(&score.get(b).copied().unwrap_or(0.0))
    });
    // Average ranks with ties.
    let mut rank_sum_events = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let v = idx.get(i).and_then(|&k| score.get(k)).copied();
        let mut j = i;
        while j + 1 < idx.len() && idx.get(j + 1).and_then(|&k| score.get(k)).copied() == v {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in idx.get(i..=j).unwrap_or(&[]) {
            if y.get(k) == Some(&1) {
                rank_sum_events += avg;
            }
        }
        i = j + 1;
    }
    let n1 = y.iter().filter(|&&t| t == 1).count() as f64;
    let n0 = y.len() as f64 - n1;
    if n1 == 0.0 || n0 == 0.0 {
        return f64::NAN;
    }
    (rank_sum_events - n1 * (n1 + 1.0) / 2.0) / (n1 * n0)
}

/// Kolmogorov–Smirnov statistic: the largest gap between the score distributions of
/// events and non-events.
pub fn ks(score: &[f64], y: &[u8]) -> f64 {
    let mut idx: Vec<usize> = (0..score.len().min(y.len())).collect();
    idx.sort_by(|&a, &b| {
        score.get(a).copied().unwrap_or(0.0).total_cmp(&score.get(b).copied().unwrap_or(0.0))
    });
    let n1 = y.iter().filter(|&&t| t == 1).count() as f64;
    let n0 = y.len() as f64 - n1;
    if n1 == 0.0 || n0 == 0.0 {
        return f64::NAN;
    }
    let (mut c1, mut c0, mut best) = (0.0, 0.0, 0.0f64);
    let mut i = 0;
    while i < idx.len() {
        let v = idx.get(i).and_then(|&k| score.get(k)).copied();
        while i < idx.len() && idx.get(i).and_then(|&k| score.get(k)).copied() == v {
            if idx.get(i).and_then(|&k| y.get(k)) == Some(&1) {
                c1 += 1.0;
            } else {
                c0 += 1.0;
            }
            i += 1;
        }
        best = best.max((c1 / n1 - c0 / n0).abs());
    }
    best
}

/// A confusion matrix at a probability cutoff (event predicted when p ≥ cutoff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Confusion {
    pub true_positive: u64,
    pub false_positive: u64,
    pub true_negative: u64,
    pub false_negative: u64,
}

/// The confusion matrix of probabilities `p` at `cutoff`.
pub fn confusion(p: &[f64], y: &[u8], cutoff: f64) -> Confusion {
    let mut c = Confusion { true_positive: 0, false_positive: 0, true_negative: 0, false_negative: 0 };
    for (&pi, &t) in p.iter().zip(y) {
        match (pi >= cutoff, t == 1) {
            (true, true) => c.true_positive += 1,
            (true, false) => c.false_positive += 1,
            (false, false) => c.true_negative += 1,
            (false, true) => c.false_negative += 1,
        }
    }
    c
}

/// Population stability index of `actual` against `expected`, over `bins` quantile bins
/// of `expected`: Σ (a − e)·ln(a / e), shares floored at 1e-4.
pub fn psi(expected: &[f64], actual: &[f64], bins: usize) -> f64 {
    let mut e: Vec<f64> = expected.iter().copied().filter(|v| v.is_finite()).collect();
    e.sort_by(f64::total_cmp);
    if e.is_empty() || bins == 0 {
        return f64::NAN;
    }
    let mut edges: Vec<f64> = (1..bins).filter_map(|k| e.get(k * e.len() / bins).copied()).collect();
    edges.dedup();
    let share = |v: &[f64]| -> Vec<f64> {
        let mut c = vec![0.0; edges.len() + 1];
        let n = v.iter().filter(|x| x.is_finite()).count() as f64;
        for x in v.iter().filter(|x| x.is_finite()) {
            let k = edges.iter().take_while(|b| *x >= **b).count();
            if let Some(s) = c.get_mut(k) {
                *s += 1.0;
            }
        }
        c.iter().map(|s| (s / n).max(1e-4)).collect()
    };
    let (se, sa) = (share(expected), share(actual));
    se.iter().zip(&sa).map(|(e, a)| (a - e) * (a / e).ln()).sum()
}
