//! Scheme simulation (issue 20): the loss distribution of a 政银保 scheme for each party
//! before money is at stake.
//!
//! **Model.** One scheme year. Defaults follow the one-factor Gaussian copula: each loan `i`
//! has a probability of default `PD_i` and the pool an asset correlation `ρ`; in a scenario
//! one systematic factor `Z ~ N(0,1)` is drawn, and loan `i` defaults when
//! `√ρ·Z + √(1−ρ)·ε_i < Φ⁻¹(PD_i)` with its own `ε_i ~ N(0,1)` — the same event as a uniform
//! `U_i = Φ(ε_i)` falling below the conditional PD `p_i(Z) = Φ((Φ⁻¹(PD_i) − √ρ·Z)/√(1−ρ))`.
//! One draw per loan and scenario (a Ziggurat normal from one 64-bit uniform in all but about
//! 1 % of draws). A defaulted loan loses `principal × LGD` (LGD fixed per loan, or Beta
//! distributed with the loan's LGD as its mean); a share of the loss is recovered after a lag
//! (within the scheme year when the lag is under twelve months, else after it).
//!
//! **The scheme's own rules.** Each scenario's loss goes through the same domain code as a
//! live claim: [`split`] by the loss shares, the insurer's part against the year's earned
//! premium through [`excess_loss_due`] (or, for a pool, [`pool_compensation`] per defaulted
//! loan), the fund never beyond its size, the recoveries split pro rata, and [`guard`] for the
//! guards. Money is counted in fen as the live path counts it.
//!
//! Deterministic by seed: xoshiro256++ seeded through SplitMix64.

use kebao_domain::loan::{
    excess_loss_due, guard, pool_compensation, split, Backstop, Guard, Scheme, YearFigures, WHOLE_BP,
};
use kebao_domain::Money;
use serde::{Deserialize, Serialize};

/// The most scenarios × loans one run may ask for.
pub const MAX_WORK: u64 = 500_000_000;
/// The most loans in a pool.
pub const MAX_LOANS: usize = 1_000_000;
/// The most scenarios.
pub const MAX_SCENARIOS: u64 = 10_000_000;

/// Why a run cannot start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    #[error("{field}: {message_en}")]
    Invalid { field: String, code: &'static str, message_zh: String, message_en: String },
}

impl SimError {
    fn invalid(field: impl Into<String>, code: &'static str, zh: String, en: String) -> SimError {
        SimError::Invalid { field: field.into(), code, message_zh: zh, message_en: en }
    }

    /// The message in Chinese.
    pub fn message_zh(&self) -> &str {
        match self {
            SimError::Invalid { message_zh, .. } => message_zh,
        }
    }

    /// The field or line it names, and its code.
    pub fn field_code(&self) -> (&str, &'static str) {
        match self {
            SimError::Invalid { field, code, .. } => (field, *code),
        }
    }
}

/// One loan of the pool.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolLoan {
    /// Yuan.
    pub principal: f64,
    pub pd: f64,
    /// Loss given default, the mean when LGDs are Beta distributed.
    pub lgd: f64,
}

/// How LGD varies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Lgd {
    /// Each loan's LGD as given.
    Fixed,
    /// Beta with the loan's LGD as mean and this concentration `a + b` (larger: tighter).
    Beta { concentration: f64 },
}

/// The run's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub rho: f64,
    pub lgd: Lgd,
    /// Share of a loss recovered, and after how many months.
    pub recovery_rate: f64,
    pub recovery_lag_months: u32,
    /// Annual premium rate on principal (the year's earned premium), basis points.
    pub premium_rate_bp: i64,
    pub scenarios: u64,
    pub seed: u64,
}

/// Checks a pool: principals positive and finite, PDs in (0, 1), LGDs in [0, 1].
pub fn check_pool(pool: &[PoolLoan]) -> Result<(), SimError> {
    if pool.is_empty() {
        return Err(SimError::invalid("pool", "empty", "贷款池为空".into(), "the pool holds no loan".into()));
    }
    if pool.len() > MAX_LOANS {
        return Err(SimError::invalid(
            "pool",
            "too_many",
            format!("贷款池最多 {MAX_LOANS} 笔"),
            format!("at most {MAX_LOANS} loans in a pool"),
        ));
    }
    for (i, l) in pool.iter().enumerate() {
        let at = |f: &str| format!("pool[{}].{f}", i + 1);
        if !(l.principal.is_finite() && l.principal > 0.0 && l.principal < 1e12) {
            return Err(SimError::invalid(
                at("principal"),
                "principal",
                format!("第 {} 笔贷款的本金应为正数", i + 1),
                format!("loan {}: the principal must be positive", i + 1),
            ));
        }
        if !(l.pd > 0.0 && l.pd < 1.0) {
            return Err(SimError::invalid(
                at("pd"),
                "pd",
                format!("第 {} 笔贷款的违约概率应在 (0, 1) 之间（现为 {}）", i + 1, l.pd),
                format!("loan {}: the PD must lie in (0, 1) (it is {})", i + 1, l.pd),
            ));
        }
        if !(0.0..=1.0).contains(&l.lgd) {
            return Err(SimError::invalid(
                at("lgd"),
                "lgd",
                format!("第 {} 笔贷款的违约损失率应在 [0, 1] 之间（现为 {}）", i + 1, l.lgd),
                format!("loan {}: the LGD must lie in [0, 1] (it is {})", i + 1, l.lgd),
            ));
        }
    }
    Ok(())
}

/// Checks the parameters against the pool: ρ in [0, 1), the recovery rate in [0, 1], at least
/// two scenarios, scenarios × loans within [`MAX_WORK`].
pub fn check_params(p: &Params, loans: usize) -> Result<(), SimError> {
    if !(p.rho >= 0.0 && p.rho < 1.0) {
        return Err(SimError::invalid(
            "rho",
            "rho",
            format!("资产相关系数 ρ 应在 [0, 1) 之间（现为 {}）", p.rho),
            format!("the asset correlation ρ must lie in [0, 1) (it is {})", p.rho),
        ));
    }
    if let Lgd::Beta { concentration } = p.lgd {
        if !(concentration.is_finite() && concentration > 0.0) {
            return Err(SimError::invalid(
                "lgd_concentration",
                "concentration",
                "Beta 分布的集中度应为正数".into(),
                "the Beta concentration must be positive".into(),
            ));
        }
    }
    if !(0.0..=1.0).contains(&p.recovery_rate) {
        return Err(SimError::invalid(
            "recovery_rate",
            "recovery_rate",
            format!("回收率应在 [0, 1] 之间（现为 {}）", p.recovery_rate),
            format!("the recovery rate must lie in [0, 1] (it is {})", p.recovery_rate),
        ));
    }
    if !(0..=WHOLE_BP).contains(&p.premium_rate_bp) {
        return Err(SimError::invalid(
            "premium_rate",
            "premium_rate",
            "保费率应在 0 与 100% 之间".into(),
            "the premium rate must lie between 0 and 100 %".into(),
        ));
    }
    if p.scenarios < 2 || p.scenarios > MAX_SCENARIOS {
        return Err(SimError::invalid(
            "scenarios",
            "scenarios",
            format!("情景数应在 2 与 {MAX_SCENARIOS} 之间"),
            format!("the scenarios must number between 2 and {MAX_SCENARIOS}"),
        ));
    }
    let work = p.scenarios.saturating_mul(loans as u64);
    if work > MAX_WORK {
        return Err(SimError::invalid(
            "scenarios",
            "too_large",
            format!("情景数 × 贷款笔数 = {work}，超过上限 {MAX_WORK}；请减少情景数或贷款笔数"),
            format!(
                "scenarios × loans = {work}, above the cap of {MAX_WORK}; ask for fewer scenarios or loans"
            ),
        ));
    }
    Ok(())
}

/// A pool from CSV text with the columns `principal,pd,lgd` (any order, others ignored), or
/// from segments with `count,principal,pd,lgd` (each segment expands to `count` loans).
pub fn parse_pool(text: &str) -> Result<Vec<PoolLoan>, SimError> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(SimError::invalid(
            "pool",
            "empty",
            "贷款池文件为空".into(),
            "the pool file is empty".into(),
        ));
    };
    let cols: Vec<String> =
        header.split(',').map(|c| c.trim().trim_start_matches('\u{feff}').to_ascii_lowercase()).collect();
    let find = |name: &str| cols.iter().position(|c| c == name);
    let (Some(cp), Some(cd), Some(cl)) = (find("principal"), find("pd"), find("lgd")) else {
        return Err(SimError::invalid(
            "pool",
            "columns",
            "贷款池文件须有 principal、pd、lgd 三列（分组格式另加 count 列）".into(),
            "the pool file needs the columns principal, pd and lgd (segments add count)".into(),
        ));
    };
    let cc = find("count");
    let mut pool = Vec::new();
    for (n, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let num = |c: usize, name: &str| -> Result<f64, SimError> {
            cells.get(c).and_then(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite()).ok_or_else(|| {
                SimError::invalid(
                    format!("line {}.{name}", n + 1),
                    "number",
                    format!("第 {} 行的 {name} 不是数字", n + 1),
                    format!("line {}: {name} is not a number", n + 1),
                )
            })
        };
        let loan = PoolLoan { principal: num(cp, "principal")?, pd: num(cd, "pd")?, lgd: num(cl, "lgd")? };
        let count = match cc {
            Some(c) => {
                let v = num(c, "count")?;
                if v < 0.0 || v.fract() != 0.0 || v > MAX_LOANS as f64 {
                    return Err(SimError::invalid(
                        format!("line {}.count", n + 1),
                        "count",
                        format!("第 {} 行的 count 应为不超过 {MAX_LOANS} 的非负整数", n + 1),
                        format!("line {}: count must be a whole number up to {MAX_LOANS}", n + 1),
                    ));
                }
                v as usize
            }
            None => 1,
        };
        if let Err(SimError::Invalid { code, message_zh, message_en, .. }) = check_pool(&[loan]) {
            // The row's own words, without the one-loan pool's numbering.
            let strip = |m: &str| m.split_once(": ").map_or(m.to_owned(), |(_, rest)| rest.to_owned());
            let strip_zh = |m: &str| m.split_once("的").map_or(m.to_owned(), |(_, rest)| rest.to_owned());
            return Err(SimError::invalid(
                format!("line {}", n + 1),
                code,
                format!("第 {} 行：{}", n + 1, strip_zh(&message_zh)),
                format!("line {}: {}", n + 1, strip(&message_en)),
            ));
        }
        if pool.len() + count > MAX_LOANS {
            return Err(SimError::invalid(
                "pool",
                "too_many",
                format!("贷款池最多 {MAX_LOANS} 笔"),
                format!("at most {MAX_LOANS} loans in a pool"),
            ));
        }
        pool.extend(std::iter::repeat_n(loan, count));
    }
    check_pool(&pool)?;
    Ok(pool)
}

// ---------------------------------------------------------------------------------------
// Random numbers

/// xoshiro256++ (Blackman & Vigna), seeded through SplitMix64.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng { s: [next(), next(), next(), next()] }
    }

    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform in (0, 1): 53 random bits, never 0.
    #[inline(always)]
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// A standard normal (Ziggurat, Marsaglia & Tsang 2000, 256 layers).
    #[inline(always)]
    #[expect(clippy::indexing_slicing, reason = "i is at most 255 and the tables hold 257 entries")]
    pub fn normal(&mut self, z: &Ziggurat) -> f64 {
        loop {
            let bits = self.next_u64();
            let i = (bits & 0xff) as usize;
            // A uniform in (-1, 1) from the top 53 bits.
            let u = ((bits >> 11) as f64 + 0.5) * (2.0 / (1u64 << 53) as f64) - 1.0;
            let x = u * z.x[i];
            if x.abs() < z.x[i + 1] {
                return x;
            }
            if i == 0 {
                // The tail beyond R.
                loop {
                    let a = -self.uniform().ln() / ZIG_R;
                    let b = -self.uniform().ln();
                    if 2.0 * b >= a * a {
                        return if u < 0.0 { -(ZIG_R + a) } else { ZIG_R + a };
                    }
                }
            }
            if z.f[i + 1] + (z.f[i] - z.f[i + 1]) * self.uniform() < (-0.5 * x * x).exp() {
                return x;
            }
        }
    }
}

const ZIG_R: f64 = 3.654_152_885_361_009;
const ZIG_V: f64 = 0.004_928_673_233_99;

/// The Ziggurat's layers.
#[derive(Debug, Clone)]
pub struct Ziggurat {
    x: [f64; 257],
    f: [f64; 257],
}

impl Default for Ziggurat {
    fn default() -> Self {
        Self::new()
    }
}

impl Ziggurat {
    #[expect(clippy::indexing_slicing, reason = "indexes within the 257 entries by construction")]
    pub fn new() -> Ziggurat {
        let f = |x: f64| (-0.5 * x * x).exp();
        let mut x = [0.0; 257];
        x[0] = ZIG_V / f(ZIG_R);
        x[1] = ZIG_R;
        for i in 2..256 {
            let prev = x[i - 1];
            x[i] = (-2.0 * (ZIG_V / prev + f(prev)).ln()).sqrt();
        }
        x[256] = 0.0;
        let mut fx = [0.0; 257];
        for i in 0..257 {
            fx[i] = f(x[i]);
        }
        Ziggurat { x, f: fx }
    }
}

/// Φ, the standard normal distribution function.
pub fn phi(x: f64) -> f64 {
    0.5 * puruspe::erfc(-x / std::f64::consts::SQRT_2)
}

/// Φ⁻¹ for p in (0, 1).
pub fn phi_inv(p: f64) -> f64 {
    -std::f64::consts::SQRT_2 * puruspe::inverfc(2.0 * p)
}

/// A Beta(a, b) draw by inversion (only for defaulted loans).
fn beta(rng: &mut Rng, a: f64, b: f64) -> f64 {
    puruspe::invbetai(rng.uniform(), a, b).clamp(0.0, 1.0)
}

// ---------------------------------------------------------------------------------------
// The simulation

/// One scenario's outcome, in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scenario {
    pub defaults: u32,
    /// The pool's gross loss before recoveries.
    pub gross: i64,
    /// What each party bears at the end (after the fund and all recoveries).
    pub insurer: i64,
    pub bank: i64,
    pub guarantor: i64,
    pub fund: i64,
    /// What the fund would owe without its cap (to tell a fund run dry).
    pub fund_owed: i64,
    pub guard: Option<GuardHit>,
}

/// Which guard a scenario trips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardHit {
    LossRatio,
    OverdueRate,
}

/// What every scenario shares: the pool's thresholds and the scheme.
struct Prepared<'a> {
    scheme: &'a Scheme,
    /// Per loan: `Φ⁻¹(PD_i)/√(1−ρ)`, its exposure `principal·LGD` in yuan, principal, LGD.
    a: Vec<f64>,
    exposure: Vec<f64>,
    principal: Vec<f64>,
    lgd: Vec<f64>,
    b: f64,
    premium: Money,
    outstanding: Money,
    fund_size: Money,
}

fn fen(yuan: f64) -> i64 {
    (yuan * 100.0).round() as i64
}

impl Prepared<'_> {
    /// One scenario, its draws from `rng`.
    #[expect(clippy::indexing_slicing, reason = "i < a.len(), and every per-loan vector is as long")]
    fn scenario(&self, p: &Params, rng: &mut Rng, zig: &Ziggurat, defaulted: &mut Vec<usize>) -> Scenario {
        let z = rng.normal(zig);
        let shift = self.b * z;
        defaulted.clear();
        let mut gross_yuan = 0.0;
        let fixed = matches!(p.lgd, Lgd::Fixed);
        for i in 0..self.a.len() {
            let e = rng.normal(zig);
            // Default when ε_i < (Φ⁻¹(PD_i) − √ρ·Z)/√(1−ρ).
            if e < self.a[i] - shift {
                defaulted.push(i);
                if fixed {
                    gross_yuan += self.exposure[i];
                }
            }
        }
        let mut losses_yuan: Vec<f64> = Vec::new();
        if let Lgd::Beta { concentration } = p.lgd {
            gross_yuan = 0.0;
            for &i in defaulted.iter() {
                let m = self.lgd[i].clamp(1e-9, 1.0 - 1e-9);
                let l = self.principal[i] * beta(rng, m * concentration, (1.0 - m) * concentration);
                gross_yuan += l;
                losses_yuan.push(l);
            }
        }
        self.apply_scheme(p, gross_yuan, defaulted, &losses_yuan)
    }

    /// The scheme's rules on one scenario's loss: the domain's split, backstop and guards.
    #[expect(clippy::indexing_slicing, reason = "defaulted holds indexes of the per-loan vectors")]
    fn apply_scheme(&self, p: &Params, gross_yuan: f64, defaulted: &[usize], losses: &[f64]) -> Scenario {
        let s = self.scheme;
        let gross = Money::from_fen(fen(gross_yuan));
        let shares = split(gross, &s.shares);
        let recovered = Money::from_fen(fen(gross_yuan * p.recovery_rate));
        let rec = split(recovered, &s.shares);
        let in_year = p.recovery_lag_months < 12;
        // The insurer's net loss in the scheme year, as the backstop and the guard read it.
        let insurer_year = shares.insurer.fen() - if in_year { rec.insurer.fen() } else { 0 };
        let y = YearFigures {
            earned_premium: self.premium,
            insurer_losses: Money::from_fen(insurer_year.max(0)),
            fund_paid: Money::ZERO,
            outstanding: self.outstanding,
            overdue: Money::from_fen(fen(defaulted.iter().map(|&i| self.principal[i]).sum::<f64>())),
        };
        let (mut fund_to_insurer, mut fund_to_bank, mut owed) = (0i64, 0i64, 0i64);
        match &s.backstop {
            Backstop::ExcessLoss { .. } => {
                owed = excess_loss_due(&s.backstop, &y, Money::from_fen(i64::MAX / 4)).fen();
                fund_to_insurer = excess_loss_due(&s.backstop, &y, self.fund_size).fen();
            }
            Backstop::Pool { .. } => {
                // Per defaulted loan, to the bank: its share of the principal lost, within the
                // ceiling of its retained loss; the fund pays in turn until it is spent.
                let mut left = self.fund_size.fen();
                for (k, &i) in defaulted.iter().enumerate() {
                    let loss_i = losses.get(k).copied().unwrap_or(self.exposure[i]);
                    let loan_loss = Money::from_fen(fen(loss_i));
                    let retained = split(loan_loss, &s.shares).bank;
                    let bad = Money::from_fen(fen(self.principal[i]));
                    let want = pool_compensation(
                        &s.backstop,
                        bad,
                        false,
                        false,
                        retained,
                        Money::from_fen(i64::MAX / 4),
                    );
                    let pay =
                        pool_compensation(&s.backstop, bad, false, false, retained, Money::from_fen(left));
                    owed += want.fen();
                    fund_to_bank += pay.fen();
                    left -= pay.fen();
                }
            }
        }
        let guard = guard(&s.guards, &y).map(|g| match g {
            Guard::LossRatio { .. } => GuardHit::LossRatio,
            Guard::OverdueRate { .. } => GuardHit::OverdueRate,
        });
        Scenario {
            defaults: u32::try_from(defaulted.len()).unwrap_or(u32::MAX),
            gross: gross.fen(),
            insurer: shares.insurer.fen() - rec.insurer.fen() - fund_to_insurer,
            bank: shares.bank.fen() - rec.bank.fen() - fund_to_bank,
            guarantor: shares.guarantor.fen() - rec.guarantor.fen(),
            fund: fund_to_insurer + fund_to_bank,
            fund_owed: owed,
            guard,
        }
    }
}

/// A statistic with its Monte Carlo standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub value: f64,
    pub se: f64,
}

/// A party's loss distribution, in yuan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    pub mean: Estimate,
    pub var_95: Estimate,
    pub var_99: Estimate,
    pub var_999: Estimate,
    pub es_95: Estimate,
    pub es_99: Estimate,
    pub es_999: Estimate,
    /// A histogram for the chart: `bins` equal bins from 0 to the largest loss, the share of
    /// scenarios in each.
    pub histogram: Vec<(f64, f64)>,
}

/// The run's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub scheme: String,
    pub scheme_version: i64,
    pub loans: usize,
    pub principal: f64,
    pub premium: f64,
    pub params: Params,
    pub defaults: Distribution,
    pub gross: Distribution,
    pub insurer: Distribution,
    pub bank: Distribution,
    pub guarantor: Distribution,
    pub fund: Distribution,
    pub p_fund_pays: Estimate,
    pub p_fund_exhausted: Estimate,
    pub p_guard_loss_ratio: Estimate,
    pub p_guard_overdue_rate: Estimate,
}

/// Empirical quantile with linear interpolation (numpy's default), of sorted values.
#[expect(clippy::indexing_slicing, reason = "lo and hi are within the non-empty slice")]
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[expect(clippy::indexing_slicing, reason = "the partition point is at most the length")]
fn tail_mean(sorted: &[f64], v: f64) -> f64 {
    let start = sorted.partition_point(|x| *x < v);
    let t = &sorted[start..];
    if t.is_empty() {
        v
    } else {
        t.iter().sum::<f64>() / t.len() as f64
    }
}

/// The number of batches the standard errors of quantiles and tail means are estimated from.
pub const BATCHES: usize = 20;

#[expect(clippy::indexing_slicing, reason = "k < bins and every row holds six values")]
fn distribution(xs: &[f64], bins: usize) -> Distribution {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0).max(1.0);
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    // Quantiles and tail means: the whole run's value; the standard error from batch means.
    let batch = (xs.len() / BATCHES).max(1);
    let mut per: Vec<[f64; 6]> = Vec::new();
    if xs.len() >= BATCHES * 20 {
        for c in xs.chunks(batch).take(BATCHES) {
            let mut s = c.to_vec();
            s.sort_by(f64::total_cmp);
            let mut row = [0.0; 6];
            for (k, q) in [0.95, 0.99, 0.999].iter().enumerate() {
                let v = quantile(&s, *q);
                row[k] = v;
                row[k + 3] = tail_mean(&s, v);
            }
            per.push(row);
        }
    }
    let se_of = |k: usize| -> f64 {
        if per.len() < 2 {
            return f64::NAN;
        }
        let m = per.iter().map(|r| r[k]).sum::<f64>() / per.len() as f64;
        let v = per.iter().map(|r| (r[k] - m) * (r[k] - m)).sum::<f64>() / (per.len() - 1) as f64;
        (v / per.len() as f64).sqrt()
    };
    let est = |k: usize, q: f64| {
        let v = quantile(&sorted, q);
        (Estimate { value: v, se: se_of(k) }, Estimate { value: tail_mean(&sorted, v), se: se_of(k + 3) })
    };
    let (var_95, es_95) = est(0, 0.95);
    let (var_99, es_99) = est(1, 0.99);
    let (var_999, es_999) = est(2, 0.999);
    let top = sorted.last().copied().unwrap_or(0.0).max(0.0);
    let mut histogram = Vec::new();
    if bins > 0 {
        let w = if top > 0.0 { top / bins as f64 } else { 1.0 };
        let mut counts = vec![0u64; bins];
        for x in &sorted {
            let k = ((x / w) as usize).min(bins - 1);
            counts[k] += 1;
        }
        histogram = counts.iter().enumerate().map(|(k, c)| (k as f64 * w, *c as f64 / n)).collect();
    }
    Distribution {
        mean: Estimate { value: mean, se: (var / n).sqrt() },
        var_95,
        var_99,
        var_999,
        es_95,
        es_99,
        es_999,
        histogram,
    }
}

fn proportion(hits: u64, n: u64) -> Estimate {
    let p = hits as f64 / n as f64;
    Estimate { value: p, se: (p * (1.0 - p) / n as f64).sqrt() }
}

/// Runs the simulation; `progress(done, total)` is called every so often (a job's progress;
/// return `false` to stop early: then `None`).
pub fn simulate(
    scheme: &Scheme,
    pool: &[PoolLoan],
    p: &Params,
    progress: &mut dyn FnMut(u64, u64) -> bool,
) -> Result<Option<Results>, SimError> {
    check_pool(pool)?;
    check_params(p, pool.len())?;
    let s1 = (1.0 - p.rho).sqrt();
    let prepared = Prepared {
        scheme,
        a: pool.iter().map(|l| phi_inv(l.pd) / s1).collect(),
        exposure: pool.iter().map(|l| l.principal * l.lgd).collect(),
        principal: pool.iter().map(|l| l.principal).collect(),
        lgd: pool.iter().map(|l| l.lgd).collect(),
        b: p.rho.sqrt() / s1,
        premium: Money::from_fen(fen(pool.iter().map(|l| l.principal).sum::<f64>()
            * p.premium_rate_bp as f64
            / 10_000.0)),
        outstanding: Money::from_fen(fen(pool.iter().map(|l| l.principal).sum::<f64>())),
        fund_size: Money::from_fen(scheme.fund.value.saturating_mul(100)),
    };
    let zig = Ziggurat::new();
    let mut rng = Rng::new(p.seed);
    let mut defaulted = Vec::with_capacity(pool.len().min(65_536));
    let n = usize::try_from(p.scenarios).unwrap_or(usize::MAX);
    let mut out: Vec<Scenario> = Vec::with_capacity(n);
    let step = (p.scenarios / 100).max(1);
    for k in 0..p.scenarios {
        out.push(prepared.scenario(p, &mut rng, &zig, &mut defaulted));
        if (k + 1) % step == 0 && !progress(k + 1, p.scenarios) {
            return Ok(None);
        }
    }
    Ok(Some(summarise(scheme, pool, p, &prepared, &out)))
}

fn summarise(
    scheme: &Scheme,
    pool: &[PoolLoan],
    p: &Params,
    prepared: &Prepared<'_>,
    out: &[Scenario],
) -> Results {
    let yuan = |f: fn(&Scenario) -> i64| out.iter().map(|s| f(s) as f64 / 100.0).collect::<Vec<_>>();
    let n = out.len() as u64;
    let count = |f: &dyn Fn(&Scenario) -> bool| out.iter().filter(|s| f(s)).count() as u64;
    Results {
        scheme: scheme.id.clone(),
        scheme_version: scheme.version,
        loans: pool.len(),
        principal: prepared.outstanding.fen() as f64 / 100.0,
        premium: prepared.premium.fen() as f64 / 100.0,
        params: p.clone(),
        defaults: distribution(&out.iter().map(|s| f64::from(s.defaults)).collect::<Vec<_>>(), 40),
        gross: distribution(&yuan(|s| s.gross), 40),
        insurer: distribution(&yuan(|s| s.insurer), 40),
        bank: distribution(&yuan(|s| s.bank), 40),
        guarantor: distribution(&yuan(|s| s.guarantor), 40),
        fund: distribution(&yuan(|s| s.fund), 40),
        p_fund_pays: proportion(count(&|s| s.fund > 0), n),
        p_fund_exhausted: proportion(
            count(&|s| s.fund_owed > 0 && s.fund_owed >= prepared.fund_size.fen()),
            n,
        ),
        p_guard_loss_ratio: proportion(count(&|s| s.guard == Some(GuardHit::LossRatio)), n),
        p_guard_overdue_rate: proportion(count(&|s| s.guard == Some(GuardHit::OverdueRate)), n),
    }
}

/// The oracle for a homogeneous pool of `n` loans: the probability of exactly `k` defaults,
/// the binomial mixed over the Gaussian factor,
/// `P(K = k) = ∫ C(n,k) p(z)^k (1 − p(z))^(n−k) φ(z) dz`, `p(z) = Φ((Φ⁻¹(pd) − √ρ z)/√(1−ρ))`,
/// computed by the trapezoidal rule on z ∈ [−10, 10] (in logs, so large pools do not underflow).
#[expect(clippy::indexing_slicing, reason = "k and i are at most n and the vectors hold n + 1 entries")]
pub fn mixed_binomial_pmf(n: u32, pd: f64, rho: f64) -> Vec<f64> {
    let c = phi_inv(pd);
    let (sr, s1) = (rho.sqrt(), (1.0 - rho).sqrt());
    let steps = 4_000;
    let (lo, hi) = (-10.0f64, 10.0f64);
    let h = (hi - lo) / steps as f64;
    let lnfact: Vec<f64> = {
        let mut v = vec![0.0; n as usize + 1];
        for i in 1..=n as usize {
            v[i] = v[i - 1] + (i as f64).ln();
        }
        v
    };
    let mut pmf = vec![0.0; n as usize + 1];
    for j in 0..=steps {
        let z = lo + j as f64 * h;
        let w = if j == 0 || j == steps { 0.5 } else { 1.0 } * h * (-0.5 * z * z).exp()
            / (2.0 * std::f64::consts::PI).sqrt();
        let pz = phi((c - sr * z) / s1).clamp(1e-300, 1.0 - 1e-16);
        let (lp, lq) = (pz.ln(), (1.0 - pz).ln());
        for k in 0..=n as usize {
            let l = lnfact[n as usize] - lnfact[k] - lnfact[n as usize - k]
                + k as f64 * lp
                + (n as usize - k) as f64 * lq;
            pmf[k] += w * l.exp();
        }
    }
    pmf
}

/// Vasicek's large-pool limit: the probability that the defaulted fraction is at most `x`.
pub fn vasicek_cdf(x: f64, pd: f64, rho: f64) -> f64 {
    phi(((1.0 - rho).sqrt() * phi_inv(x) - phi_inv(pd)) / rho.sqrt())
}

/// Vasicek's quantile of the defaulted fraction at level `q`.
pub fn vasicek_quantile(q: f64, pd: f64, rho: f64) -> f64 {
    phi((phi_inv(pd) + rho.sqrt() * phi_inv(q)) / (1.0 - rho).sqrt())
}

/// Simulates only the number of defaults of each scenario (for the oracle tests and the
/// benchmark's counting), through the same draws as [`simulate`].
pub fn default_counts(pool: &[PoolLoan], rho: f64, scenarios: u64, seed: u64) -> Vec<u32> {
    let s1 = (1.0 - rho).sqrt();
    let a: Vec<f64> = pool.iter().map(|l| phi_inv(l.pd) / s1).collect();
    let b = rho.sqrt() / s1;
    let zig = Ziggurat::new();
    let mut rng = Rng::new(seed);
    (0..scenarios)
        .map(|_| {
            let shift = b * rng.normal(&zig);
            let mut d = 0u32;
            for ai in &a {
                if rng.normal(&zig) < ai - shift {
                    d += 1;
                }
            }
            d
        })
        .collect()
}
