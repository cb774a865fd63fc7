//! Optimal binning: pre-bins, then the partition into contiguous bins that maximises the
//! information value under the constraints (minimum bin share, minimum events and
//! non-events per bin, maximum bins, monotonic event rate), found exactly by dynamic
//! programming over the pre-bins.

use serde::{Deserialize, Serialize};

/// The shape the event rate must take across bins (in increasing x, or for categories in
/// increasing event rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Ascending,
    Descending,
    /// Rises then falls.
    Peak,
    /// Falls then rises.
    Valley,
    /// The best (by IV) of ascending, descending, peak and valley.
    Auto,
}

/// Binning constraints (optbinning's defaults where it has them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinningOptions {
    /// At most this many pre-bins (quantiles for numeric variables).
    pub max_prebins: usize,
    /// Pre-bins and categories below this share of the rows are merged.
    pub min_prebin_share: f64,
    /// Every final bin holds at least this share of the rows (0 = no constraint beyond the
    /// pre-bins, optbinning's default).
    pub min_bin_share: f64,
    pub max_bins: Option<usize>,
    /// Every final bin holds at least this many events and this many non-events.
    pub min_events: u64,
    pub trend: Trend,
    /// Numeric values kept apart in their own bin (e.g. −999 "not applicable").
    pub special_values: Vec<f64>,
    /// Categories below this share are grouped into one bin of rare categories (which
    /// also takes unseen categories at scoring time); `None` keeps every category
    /// (optbinning's `cat_cutoff`, default none).
    pub cat_cutoff: Option<f64>,
}

impl Default for BinningOptions {
    fn default() -> Self {
        BinningOptions {
            max_prebins: 20,
            min_prebin_share: 0.05,
            min_bin_share: 0.0,
            max_bins: None,
            min_events: 1,
            trend: Trend::Auto,
            special_values: Vec::new(),
            cat_cutoff: None,
        }
    }
}

/// One bin's statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinStat {
    pub label: String,
    pub count: u64,
    pub events: u64,
    pub event_rate: f64,
    pub woe: f64,
    pub iv: f64,
}

/// How values map to bins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Binning {
    /// Bin k holds (edges[k−1], edges[k]]; the first and last are open.
    Numeric { edges: Vec<f64> },
    /// Each bin is a group of categories. Unseen categories go to `unseen_bin` when there is a
    /// bin of rare categories, and otherwise get WoE 0 (neutral).
    Categorical { groups: Vec<Vec<String>>, unseen_bin: Option<usize> },
}

/// A variable's binning: the regular bins, then the special and missing bins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariableBinning {
    pub name: String,
    pub binning: Binning,
    pub bins: Vec<BinStat>,
    pub special: BinStat,
    pub missing: BinStat,
    pub special_values: Vec<f64>,
    pub iv: f64,
    pub trend: Trend,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    n: u64,
    ev: u64,
}

impl Counts {
    fn add(self, o: Counts) -> Counts {
        Counts { n: self.n + o.n, ev: self.ev + o.ev }
    }
    fn rate(self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.ev as f64 / self.n as f64
        }
    }
}

/// WoE and IV of a bin given the totals; 0 when the bin lacks events or non-events.
fn woe_iv(c: Counts, total: Counts) -> (f64, f64) {
    let (ev, ne) = (c.ev as f64, (c.n - c.ev) as f64);
    let (tev, tne) = (total.ev as f64, (total.n - total.ev) as f64);
    if ev == 0.0 || ne == 0.0 || tev == 0.0 || tne == 0.0 {
        return (0.0, 0.0);
    }
    let (pe, pn) = (ev / tev, ne / tne);
    let woe = (pn / pe).ln();
    (woe, (pn - pe) * woe)
}

fn stat(label: String, c: Counts, total: Counts) -> BinStat {
    let (woe, iv) = woe_iv(c, total);
    BinStat { label, count: c.n, events: c.ev, event_rate: c.rate(), woe, iv }
}

/// The best partition of the pre-bins into contiguous bins under a trend. Returns the
/// bins as index ranges, or `None` when no partition satisfies the constraints.
fn optimal(
    pre: &[Counts],
    total: Counts,
    opts: &BinningOptions,
    trend: Trend,
) -> Option<(Vec<(usize, usize)>, f64)> {
    let p = pre.len();
    if p == 0 {
        return None;
    }
    // Phases: the sign the event rate must move by, in order.
    let phases: &[i8] = match trend {
        Trend::Ascending | Trend::Auto => &[1],
        Trend::Descending => &[-1],
        Trend::Peak => &[1, -1],
        Trend::Valley => &[-1, 1],
    };
    let mut prefix = vec![Counts::default(); p + 1];
    for (i, c) in pre.iter().enumerate() {
        if let (Some(prev), Some(slot)) = (prefix.get(i).copied(), prefix.get_mut(i + 1)) {
            *slot = prev.add(*c);
        }
    }
    let range = |i: usize, j: usize| -> Counts {
        let (a, b) =
            (prefix.get(i).copied().unwrap_or_default(), prefix.get(j + 1).copied().unwrap_or_default());
        Counts { n: b.n - a.n, ev: b.ev - a.ev }
    };
    let min_n = (opts.min_bin_share * total.n as f64).ceil() as u64;
    let ok = |c: Counts| c.n >= min_n.max(1) && c.ev >= opts.min_events && c.n - c.ev >= opts.min_events;
    let max_bins = opts.max_bins.unwrap_or(p).max(1);
    // best[(i, j, phase, nbins)] = best IV of a partition of 0..=j whose last bin is i..=j.
    let np = phases.len();
    let idx = |i: usize, j: usize, ph: usize, b: usize| ((i * p + j) * np + ph) * (max_bins + 1) + b;
    let size = p * p * np * (max_bins + 1);
    let mut best = vec![f64::NEG_INFINITY; size];
    let mut from: Vec<Option<(usize, usize, usize, usize)>> = vec![None; size];
    for j in 0..p {
        for i in 0..=j {
            let c = range(i, j);
            if !ok(c) {
                continue;
            }
            let (_, iv) = woe_iv(c, total);
            if i == 0 {
                if let Some(v) = best.get_mut(idx(0, j, 0, 1)) {
                    *v = iv;
                }
                continue;
            }
            let rate = c.rate();
            for k in 0..i {
                let prev_c = range(k, i - 1);
                let d = rate - prev_c.rate();
                for pph in 0..np {
                    for b in 1..max_bins {
                        let base = best.get(idx(k, i - 1, pph, b)).copied().unwrap_or(f64::NEG_INFINITY);
                        if base == f64::NEG_INFINITY {
                            continue;
                        }
                        for ph in pph..(pph + 2).min(np) {
                            let sign = phases.get(ph).copied().unwrap_or(1);
                            if (sign > 0 && d > 0.0) || (sign < 0 && d < 0.0) {
                                let cand = base + iv;
                                let t = idx(i, j, ph, b + 1);
                                if best.get(t).is_some_and(|v| cand > *v) {
                                    if let Some(v) = best.get_mut(t) {
                                        *v = cand;
                                    }
                                    if let Some(f) = from.get_mut(t) {
                                        *f = Some((k, i - 1, pph, b));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    // The best partition ending at the last pre-bin (peak/valley must reach their last phase).
    let mut end: Option<(usize, usize, usize, usize, f64)> = None;
    for i in 0..p {
        for ph in 0..np {
            if np > 1 && ph + 1 < np {
                continue;
            }
            for b in 1..=max_bins {
                let v = best.get(idx(i, p - 1, ph, b)).copied().unwrap_or(f64::NEG_INFINITY);
                if v > end.map_or(f64::NEG_INFINITY, |e| e.4) {
                    end = Some((i, p - 1, ph, b, v));
                }
            }
        }
    }
    let (mut i, mut j, mut ph, mut b, iv) = end?;
    let mut bins = vec![(i, j)];
    while let Some(Some((k, e, pph, pb))) = from.get(idx(i, j, ph, b)).copied() {
        bins.push((k, e));
        (i, j, ph, b) = (k, e, pph, pb);
    }
    bins.reverse();
    Some((bins, iv))
}

/// Bins as pre-bin index ranges, their IV, and the trend they follow.
type Partition = (Vec<(usize, usize)>, f64, Trend);

fn best_of(pre: &[Counts], total: Counts, opts: &BinningOptions) -> Partition {
    let trends: &[Trend] = match opts.trend {
        Trend::Auto => &[Trend::Ascending, Trend::Descending, Trend::Peak, Trend::Valley],
        t => match t {
            Trend::Ascending => &[Trend::Ascending],
            Trend::Descending => &[Trend::Descending],
            Trend::Peak => &[Trend::Peak],
            _ => &[Trend::Valley],
        },
    };
    let mut best: Option<Partition> = None;
    for &t in trends {
        if let Some((bins, iv)) = optimal(pre, total, opts, t) {
            if best.as_ref().is_none_or(|b| iv > b.1) {
                best = Some((bins, iv, t));
            }
        }
    }
    // No partition meets the constraints: one bin.
    best.unwrap_or_else(|| (vec![(0, pre.len().saturating_sub(1))], 0.0, opts.trend))
}

fn event_prefix(pairs: &[(f64, u8)]) -> Vec<u64> {
    let mut p = Vec::with_capacity(pairs.len() + 1);
    p.push(0u64);
    for &(_, t) in pairs {
        p.push(p.last().copied().unwrap_or(0) + u64::from(t));
    }
    p
}

/// Best-first Gini splits of sorted (value, event) pairs into at most `max_leaves`
/// segments of at least `min_leaf` rows; returns the cut values, ascending.
fn tree_cuts(pairs: &[(f64, u8)], max_leaves: usize, min_leaf: usize) -> Vec<f64> {
    let prefix = event_prefix(pairs);
    let ev = |a: usize, b: usize| {
        (prefix.get(b).copied().unwrap_or(0) - prefix.get(a).copied().unwrap_or(0)) as f64
    };
    // Weighted Gini impurity n·(1 − p² − (1 − p)²) = 2·e·(n − e)/n.
    let impurity = |a: usize, b: usize| {
        let n = (b - a) as f64;
        if n == 0.0 {
            0.0
        } else {
            let e = ev(a, b);
            2.0 * e * (n - e) / n
        }
    };
    let best_split = |a: usize, b: usize| -> Option<(f64, usize)> {
        if b - a < 2 * min_leaf {
            return None;
        }
        let parent = impurity(a, b);
        let mut best: Option<(f64, usize)> = None;
        for p in (a + min_leaf)..=(b - min_leaf) {
            let (lo, hi) = (pairs.get(p - 1).map(|x| x.0), pairs.get(p).map(|x| x.0));
            if lo == hi {
                continue;
            }
            let gain = parent - impurity(a, p) - impurity(p, b);
            if gain > 1e-12 && best.is_none_or(|(g, _)| gain > g) {
                best = Some((gain, p));
            }
        }
        best
    };
    /// A segment [start, end) and its best split (gain, position).
    type Leaf = (usize, usize, Option<(f64, usize)>);
    let mut leaves: Vec<Leaf> = vec![(0, pairs.len(), best_split(0, pairs.len()))];
    while leaves.len() < max_leaves {
        let Some((i, _)) = leaves
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.2.map(|(g, _)| (i, g)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
        else {
            break;
        };
        let (a, b, split) = leaves.swap_remove(i);
        let Some((_, p)) = split else { break };
        leaves.push((a, p, best_split(a, p)));
        leaves.push((p, b, best_split(p, b)));
    }
    let mut cuts: Vec<f64> = leaves
        .iter()
        .filter(|(a, _, _)| *a > 0)
        .filter_map(|&(a, _, _)| Some((pairs.get(a - 1)?.0 + pairs.get(a)?.0) / 2.0))
        .collect();
    cuts.sort_by(f64::total_cmp);
    cuts
}

/// Sorts (value, event) pairs by value in `f64::total_cmp` order: a radix sort on the
/// values' bits for long columns (six passes of 11 bits), the standard sort for short ones.
/// Pairs with equal values may end up in another order; nothing downstream looks inside a
/// run of equal values (cuts fall between distinct values).
fn sort_pairs(pairs: &mut Vec<(f64, u8)>) {
    if pairs.len() < 1 << 14 {
        pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        return;
    }
    // The bits as an unsigned key in total_cmp order.
    let key = |x: f64| {
        let b = x.to_bits() as i64;
        ((b ^ ((((b >> 63) as u64) >> 1) as i64)) as u64) ^ (1 << 63)
    };
    let value = |k: u64| {
        let b = (k ^ (1 << 63)) as i64;
        f64::from_bits((b ^ ((((b >> 63) as u64) >> 1) as i64)) as u64)
    };
    let mut a: Vec<(u64, u8)> = pairs.iter().map(|&(x, t)| (key(x), t)).collect();
    let mut b: Vec<(u64, u8)> = vec![(0, 0); a.len()];
    for shift in [0u32, 11, 22, 33, 44, 55] {
        let mut counts = vec![0usize; 1 << 11];
        for &(k, _) in &a {
            if let Some(c) = counts.get_mut(((k >> shift) & 0x7FF) as usize) {
                *c += 1;
            }
        }
        if counts.contains(&a.len()) {
            continue; // every key has the same digit here
        }
        let mut sum = 0;
        for c in counts.iter_mut() {
            let here = *c;
            *c = sum;
            sum += here;
        }
        for &(k, t) in &a {
            if let Some(c) = counts.get_mut(((k >> shift) & 0x7FF) as usize) {
                if let Some(slot) = b.get_mut(*c) {
                    *slot = (k, t);
                }
                *c += 1;
            }
        }
        std::mem::swap(&mut a, &mut b);
    }
    pairs.clear();
    pairs.extend(a.iter().map(|&(k, t)| (value(k), t)));
}

fn fmt_edge(x: f64) -> String {
    let s = format!("{x:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Bins a numeric variable (NaN = missing). `y` is 0/1.
pub fn bin_numeric(name: &str, x: &[f64], y: &[u8], opts: &BinningOptions) -> VariableBinning {
    let is_special = |v: f64| opts.special_values.contains(&v);
    let mut pairs: Vec<(f64, u8)> =
        x.iter().zip(y).filter(|(v, _)| !v.is_nan() && !is_special(**v)).map(|(v, t)| (*v, *t)).collect();
    sort_pairs(&mut pairs);
    let total = Counts { n: y.len() as u64, ev: y.iter().map(|&t| u64::from(t)).sum() };
    // Pre-bins: a classification tree's splits (optbinning's default pre-binning): the leaf
    // with the best Gini gain is split, at a midpoint between distinct values, until there are
    // `max_prebins` leaves or no split leaves both sides with the minimum share.
    let n = pairs.len();
    let min_leaf = ((opts.min_prebin_share * total.n as f64).ceil() as usize).max(1);
    let cuts = tree_cuts(&pairs, opts.max_prebins.max(1), min_leaf);
    // Counts in (lo, hi] by binary search over the sorted values and a prefix of events.
    let ev_prefix = event_prefix(&pairs);
    let count_between = |lo: Option<f64>, hi: Option<f64>| -> Counts {
        let a = lo.map_or(0, |l| pairs.partition_point(|(v, _)| *v <= l));
        let b = hi.map_or(n, |h| pairs.partition_point(|(v, _)| *v <= h));
        if b <= a {
            return Counts::default();
        }
        let ev = ev_prefix.get(b).copied().unwrap_or(0) - ev_prefix.get(a).copied().unwrap_or(0);
        Counts { n: (b - a) as u64, ev }
    };
    let min_pre = (opts.min_prebin_share * total.n as f64).ceil() as u64;
    // Drop cut points that leave a pre-bin smaller than the minimum.
    let mut kept: Vec<f64> = Vec::new();
    for &c in &cuts {
        let lo = kept.last().copied();
        if count_between(lo, Some(c)).n >= min_pre {
            kept.push(c);
        }
    }
    while let Some(&last) = kept.last() {
        if count_between(Some(last), None).n < min_pre {
            kept.pop();
        } else {
            break;
        }
    }
    let mut pre: Vec<Counts> = Vec::with_capacity(kept.len() + 1);
    for k in 0..=kept.len() {
        let lo = if k == 0 { None } else { kept.get(k - 1).copied() };
        pre.push(count_between(lo, kept.get(k).copied()));
    }
    let (ranges, iv_regular, trend) = best_of(&pre, total, opts);
    let edges: Vec<f64> = ranges
        .iter()
        .take(ranges.len().saturating_sub(1))
        .filter_map(|&(_, j)| kept.get(j).copied())
        .collect();
    let mut bins = Vec::new();
    for (k, &(i, j)) in ranges.iter().enumerate() {
        let c = (i..=j).fold(Counts::default(), |a, q| a.add(pre.get(q).copied().unwrap_or_default()));
        let lo =
            if k == 0 { "-inf".to_owned() } else { edges.get(k - 1).map_or("-inf".into(), |e| fmt_edge(*e)) };
        let hi = edges.get(k).map_or("inf".into(), |e| fmt_edge(*e));
        bins.push(stat(format!("({lo}, {hi}]"), c, total));
    }
    let special_c = x
        .iter()
        .zip(y)
        .filter(|(v, _)| is_special(**v))
        .fold(Counts::default(), |c, (_, t)| c.add(Counts { n: 1, ev: u64::from(*t) }));
    let missing_c = x
        .iter()
        .zip(y)
        .filter(|(v, _)| v.is_nan())
        .fold(Counts::default(), |c, (_, t)| c.add(Counts { n: 1, ev: u64::from(*t) }));
    let special = stat("Special".into(), special_c, total);
    let missing = stat("Missing".into(), missing_c, total);
    let iv = iv_regular + special.iv + missing.iv;
    VariableBinning {
        name: name.to_owned(),
        binning: Binning::Numeric { edges },
        bins,
        special,
        missing,
        special_values: opts.special_values.clone(),
        iv,
        trend,
    }
}

/// Bins a categorical variable (`None` = missing): categories ordered by event rate, rare
/// ones grouped, then merged optimally with an ascending event rate.
pub fn bin_categorical(name: &str, x: &[Option<String>], y: &[u8], opts: &BinningOptions) -> VariableBinning {
    let mut by_name: std::collections::HashMap<&str, Counts> = std::collections::HashMap::new();
    let mut missing_c = Counts::default();
    for (v, t) in x.iter().zip(y) {
        let one = Counts { n: 1, ev: u64::from(*t) };
        match v {
            Some(v) => {
                let e = by_name.entry(v.as_str()).or_default();
                *e = e.add(one);
            }
            None => missing_c = missing_c.add(one),
        }
    }
    categorical(name, by_name, missing_c, y, opts)
}

/// Bins a categorical variable given as codes into `levels` (a code outside them is missing),
/// exactly as [`bin_categorical`] bins the same values as text.
pub fn bin_coded(
    name: &str,
    codes: &[u32],
    levels: &[String],
    y: &[u8],
    opts: &BinningOptions,
) -> VariableBinning {
    let mut per_code = vec![Counts::default(); levels.len()];
    let mut missing_c = Counts::default();
    for (&c, t) in codes.iter().zip(y) {
        let one = Counts { n: 1, ev: u64::from(*t) };
        match per_code.get_mut(c as usize) {
            Some(e) => *e = e.add(one),
            None => missing_c = missing_c.add(one),
        }
    }
    let mut by_name: std::collections::HashMap<&str, Counts> = std::collections::HashMap::new();
    // Levels absent from these rows are not categories of them.
    for (l, c) in levels.iter().zip(per_code).filter(|(_, c)| c.n > 0) {
        let e = by_name.entry(l.as_str()).or_default();
        *e = e.add(c);
    }
    categorical(name, by_name, missing_c, y, opts)
}

fn categorical(
    name: &str,
    by_name: std::collections::HashMap<&str, Counts>,
    missing_c: Counts,
    y: &[u8],
    opts: &BinningOptions,
) -> VariableBinning {
    let total = Counts { n: y.len() as u64, ev: y.iter().map(|&t| u64::from(t)).sum() };
    let mut cats: Vec<(String, Counts)> = by_name.into_iter().map(|(k, c)| (k.to_owned(), c)).collect();
    cats.sort_by(|a, b| a.0.cmp(&b.0));
    let min_pre = opts.cat_cutoff.map_or(0, |c| (c * total.n as f64).ceil() as u64);
    type Categories = Vec<(String, Counts)>;
    let (mut common, rare): (Categories, Categories) = cats.into_iter().partition(|(_, c)| c.n >= min_pre);
    let mut groups: Vec<(Vec<String>, Counts)> = common.drain(..).map(|(k, c)| (vec![k], c)).collect();
    let rare_group = if rare.is_empty() {
        None
    } else {
        let c = rare.iter().fold(Counts::default(), |a, (_, c)| a.add(*c));
        let mut names: Vec<String> = rare.into_iter().map(|(k, _)| k).collect();
        names.sort();
        groups.push((names, c));
        Some(groups.len() - 1)
    };
    let rare_names = rare_group.and_then(|g| groups.get(g)).map(|(n, _)| n.clone());
    groups.sort_by(|a, b| a.1.rate().total_cmp(&b.1.rate()).then_with(|| a.0.cmp(&b.0)));
    let pre: Vec<Counts> = groups.iter().map(|(_, c)| *c).collect();
    let asc = BinningOptions { trend: Trend::Ascending, ..opts.clone() };
    let (ranges, iv_regular, _) = best_of(&pre, total, &asc);
    let mut out_groups = Vec::new();
    let mut bins = Vec::new();
    let mut unseen_bin = None;
    for (k, &(i, j)) in ranges.iter().enumerate() {
        let members: Vec<String> =
            (i..=j).filter_map(|q| groups.get(q)).flat_map(|(n, _)| n.clone()).collect();
        if let Some(r) = &rare_names {
            if r.iter().all(|n| members.contains(n)) {
                unseen_bin = Some(k);
            }
        }
        let c = (i..=j).fold(Counts::default(), |a, q| a.add(pre.get(q).copied().unwrap_or_default()));
        bins.push(stat(members.join(" | "), c, total));
        out_groups.push(members);
    }
    let missing = stat("Missing".into(), missing_c, total);
    let special = stat("Special".into(), Counts::default(), total);
    let iv = iv_regular + missing.iv;
    VariableBinning {
        name: name.to_owned(),
        binning: Binning::Categorical { groups: out_groups, unseen_bin },
        bins,
        special,
        missing,
        special_values: Vec::new(),
        iv,
        trend: Trend::Ascending,
    }
}

impl VariableBinning {
    /// The bin index of a numeric value: `Ok(k)` a regular bin, `Err(true)` special,
    /// `Err(false)` missing.
    pub fn numeric_bin(&self, v: f64) -> Result<usize, bool> {
        if v.is_nan() {
            return Err(false);
        }
        if self.special_values.contains(&v) {
            return Err(true);
        }
        match &self.binning {
            Binning::Numeric { edges } => Ok(edges.iter().take_while(|e| v > **e).count()),
            Binning::Categorical { .. } => Err(false),
        }
    }

    /// Category → bin, for scoring many rows.
    pub fn category_index(&self) -> std::collections::HashMap<&str, usize> {
        match &self.binning {
            Binning::Categorical { groups, .. } => {
                groups.iter().enumerate().flat_map(|(k, g)| g.iter().map(move |c| (c.as_str(), k))).collect()
            }
            Binning::Numeric { .. } => std::collections::HashMap::new(),
        }
    }

    /// For each of `levels`, its bin: `Some(k)`, or `None` for a category the model cannot
    /// place (unseen, without a bin of rare categories).
    pub fn level_bins(&self, levels: &[String]) -> Vec<Option<usize>> {
        let index = self.category_index();
        levels.iter().map(|l| index.get(l.as_str()).copied().or(self.unseen_bin())).collect()
    }

    /// The bin of an unseen category, if there is a bin of rare categories.
    pub fn unseen_bin(&self) -> Option<usize> {
        match &self.binning {
            Binning::Categorical { unseen_bin, .. } => *unseen_bin,
            Binning::Numeric { .. } => None,
        }
    }

    /// The bin index of a category: `Some(k)`, or `None` for missing or an unseen category
    /// without a rare bin.
    pub fn category_bin(&self, v: Option<&str>) -> Option<usize> {
        let v = v?;
        match &self.binning {
            Binning::Categorical { groups, unseen_bin } => {
                groups.iter().position(|g| g.iter().any(|c| c == v)).or(*unseen_bin)
            }
            Binning::Numeric { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// The radix sort orders values as `total_cmp` does, signs, zeros and extremes included,
    /// and keeps each value with its event.
    #[test]
    fn radix_sort_orders_as_total_cmp() {
        let mut state: u64 = 0x1234_5678_9abc_def1;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let specials = [0.0, -0.0, 1e-310, -1e-310, f64::MAX, f64::MIN, 1.0, -1.0, 0.5];
        let mut pairs: Vec<(f64, u8)> = (0..50_000)
            .map(|i| {
                let r = next();
                let x = match i % 4 {
                    0 => specials[(r % specials.len() as u64) as usize],
                    1 => (r % 100) as f64 - 50.0,
                    _ => f64::from_bits(r) % 1e6,
                };
                (if x.is_nan() { 0.25 } else { x }, u8::from(x > 0.0))
            })
            .collect();
        let mut want = pairs.clone();
        want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        sort_pairs(&mut pairs);
        assert!(pairs.windows(2).all(|w| w[0].0.total_cmp(&w[1].0).is_le()));
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let bits = |v: &[(f64, u8)]| v.iter().map(|&(x, t)| (x.to_bits(), t)).collect::<Vec<_>>();
        assert_eq!(bits(&pairs), bits(&want));
    }
}
