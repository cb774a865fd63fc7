//! The scheme simulation against its oracles: the mixed binomial integral for a homogeneous
//! pool, Vasicek's large-pool limit, the normal draws against Φ, and the scheme's own rules.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use kebao_domain::loan::{parse_schemes, Scheme, SHIPPED_SCHEMES};
use kebao_schemesim::*;

fn scheme(id: &str) -> Scheme {
    parse_schemes(SHIPPED_SCHEMES).unwrap().into_iter().find(|s| s.id == id).unwrap()
}

fn homogeneous(n: usize, pd: f64, lgd: f64) -> Vec<PoolLoan> {
    vec![PoolLoan { principal: 500_000.0, pd, lgd }; n]
}

fn params(rho: f64, scenarios: u64, seed: u64) -> Params {
    Params {
        rho,
        lgd: Lgd::Fixed,
        recovery_rate: 0.0,
        recovery_lag_months: 12,
        premium_rate_bp: 250,
        scenarios,
        seed,
    }
}

#[test]
fn the_normal_draws_follow_phi() {
    let zig = Ziggurat::new();
    let mut rng = Rng::new(7);
    let n = 2_000_000;
    let xs: Vec<f64> = (0..n).map(|_| rng.normal(&zig)).collect();
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    assert!(mean.abs() < 5.0 / (n as f64).sqrt(), "{mean}");
    assert!((var - 1.0).abs() < 5.0 * (2.0 / n as f64).sqrt(), "{var}");
    // Exceedance at several points, including the tail beyond the Ziggurat's base (3.65).
    for t in [-3.9, -2.326, -1.0, 0.0, 0.5, 1.645, 3.0, 3.8] {
        let p = phi(t);
        let got = xs.iter().filter(|x| **x < t).count() as f64 / n as f64;
        let se = (p * (1.0 - p) / n as f64).sqrt();
        assert!((got - p).abs() < 5.0 * se + 1e-9, "P(X < {t}) = {got}, Φ = {p}");
    }
    // Φ and Φ⁻¹ agree with known values.
    assert!((phi(1.959_963_984_540_054) - 0.975).abs() < 1e-12);
    assert!((phi_inv(0.02) + 2.053_748_910_631_823).abs() < 1e-9);
}

#[test]
fn a_homogeneous_pool_matches_the_mixed_binomial_integral() {
    let (n, pd, rho) = (400usize, 0.02, 0.15);
    let pool = homogeneous(n, pd, 0.45);
    let scenarios = 200_000u64;
    let counts = default_counts(&pool, rho, scenarios, 11);
    let pmf = mixed_binomial_pmf(n as u32, pd, rho);
    let total: f64 = pmf.iter().sum();
    assert!((total - 1.0).abs() < 1e-9, "the oracle sums to {total}");
    // The mean number of defaults is n·pd exactly.
    let mean = counts.iter().map(|c| f64::from(*c)).sum::<f64>() / scenarios as f64;
    let oracle_mean: f64 = pmf.iter().enumerate().map(|(k, p)| k as f64 * p).sum();
    assert!((oracle_mean - n as f64 * pd).abs() < 1e-6, "{oracle_mean}");
    let var: f64 = pmf.iter().enumerate().map(|(k, p)| (k as f64 - oracle_mean).powi(2) * p).sum();
    let se = (var / scenarios as f64).sqrt();
    assert!((mean - oracle_mean).abs() < 4.0 * se, "mean {mean} vs {oracle_mean} (se {se})");
    // Exceedance probabilities at the oracle's tail quantiles, within Monte Carlo error.
    let mut cdf = 0.0;
    let mut checked = 0;
    for (k, p) in pmf.iter().enumerate() {
        cdf += p;
        for q in [0.5, 0.9, 0.95, 0.99, 0.999] {
            if cdf >= q && cdf - p < q {
                let exceed = 1.0 - cdf;
                let got = counts.iter().filter(|c| **c as usize > k).count() as f64 / scenarios as f64;
                let se = (exceed * (1.0 - exceed) / scenarios as f64).sqrt();
                assert!((got - exceed).abs() < 4.5 * se + 1e-6, "P(K > {k}) = {got} vs {exceed} (q {q})");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 5);
    // The simulated 99 % quantile of K is the oracle's, give or take one default.
    let mut sorted: Vec<f64> = counts.iter().map(|c| f64::from(*c)).collect();
    sorted.sort_by(f64::total_cmp);
    let mut acc = 0.0;
    let q99 = pmf.iter().position(|p| {
        acc += p;
        acc >= 0.99
    });
    let sim99 = quantile(&sorted, 0.99);
    assert!((sim99 - q99.unwrap() as f64).abs() <= 1.0, "{sim99} vs {q99:?}");
}

#[test]
fn a_large_pool_follows_vasicek() {
    let (n, pd, rho) = (20_000usize, 0.03, 0.2);
    let pool = homogeneous(n, pd, 0.45);
    let scenarios = 20_000u64;
    let counts = default_counts(&pool, rho, scenarios, 3);
    for q in [0.5, 0.9, 0.99] {
        let x = vasicek_quantile(q, pd, rho);
        // The share of scenarios whose defaulted fraction is at most Vasicek's quantile: q,
        // up to Monte Carlo error and the finite pool's own spread.
        let got = counts.iter().filter(|c| f64::from(**c) / n as f64 <= x).count() as f64 / scenarios as f64;
        let se = (q * (1.0 - q) / scenarios as f64).sqrt();
        assert!((got - q).abs() < 5.0 * se + 0.01, "q {q}: {got}");
        assert!((vasicek_cdf(x, pd, rho) - q).abs() < 1e-9);
    }
}

#[test]
fn the_scheme_splits_each_scenario_by_its_own_rules() {
    let t = scheme("tianmen_style");
    let pool = homogeneous(2_000, 0.03, 0.5);
    let p = params(0.25, 20_000, 5);
    let r = simulate(&t, &pool, &p, &mut |_, _| true).unwrap().unwrap();
    // Every fen of the gross loss is borne by someone: insurer + bank + fund (no recoveries).
    let sum = r.insurer.mean.value + r.bank.mean.value + r.fund.mean.value + r.guarantor.mean.value;
    assert!((sum - r.gross.mean.value).abs() < 1.0, "{sum} vs {}", r.gross.mean.value);
    // 7 : 3 before the fund: the bank bears 30 % of every scenario's loss.
    assert!((r.bank.mean.value - 0.3 * r.gross.mean.value).abs() < 1.0);
    // Expected loss: 2,000 × 3 % × 500,000 × 0.5 = 15,000,000 yuan, within Monte Carlo error.
    assert!((r.gross.mean.value - 15_000_000.0).abs() < 4.0 * r.gross.mean.se, "{:?}", r.gross.mean);
    // The fund (5 million yuan) pays in bad years and can be exhausted; never beyond its size.
    assert!(r.p_fund_pays.value > 0.0 && r.p_fund_exhausted.value > 0.0);
    assert!(r.fund.var_999.value <= 5_000_000.0 + 1e-6);
    // The loss-ratio guard (120 % of 25 million yuan of premium) trips in the bad years only:
    // exactly when 70 % of the gross loss reaches 30 million yuan.
    let bad = r.p_guard_loss_ratio.value;
    assert!(bad > 0.0 && bad < 0.5, "{:?}", r.p_guard_loss_ratio);
    assert!(
        r.insurer.var_99.value >= r.insurer.var_95.value && r.insurer.es_99.value >= r.insurer.var_99.value
    );
    assert!(r.insurer.var_99.se.is_finite() && r.insurer.var_99.se > 0.0);
    // Deterministic by seed.
    let again = simulate(&t, &pool, &p, &mut |_, _| true).unwrap().unwrap();
    assert_eq!(r, again);
    // Recoveries within the year lower everyone's loss pro rata; a pool scheme pays the bank.
    let mut with_rec = p.clone();
    with_rec.recovery_rate = 0.2;
    with_rec.recovery_lag_months = 6;
    let rr = simulate(&t, &pool, &with_rec, &mut |_, _| true).unwrap().unwrap();
    assert!(rr.bank.mean.value < r.bank.mean.value);
    let a = scheme("anhui_style_pool");
    let ra = simulate(&a, &pool, &p, &mut |_, _| true).unwrap().unwrap();
    assert!(
        ra.p_fund_pays.value > 0.5 && ra.fund.mean.value > 0.0,
        "{:?} {:?} {:?} {:?}",
        ra.p_fund_pays,
        ra.fund.mean,
        ra.defaults.mean,
        ra.bank.mean
    );
    let sum = ra.insurer.mean.value + ra.bank.mean.value + ra.fund.mean.value;
    assert!((sum - ra.gross.mean.value).abs() < 1.0);
    // Beta LGD with the same mean keeps the expected loss.
    let mut beta = p.clone();
    beta.lgd = Lgd::Beta { concentration: 4.0 };
    let rb = simulate(&t, &pool, &beta, &mut |_, _| true).unwrap().unwrap();
    assert!((rb.gross.mean.value - 15_000_000.0).abs() < 4.0 * rb.gross.mean.se, "{:?}", rb.gross.mean);
    // A run stopped by its job stops.
    assert!(simulate(&t, &pool, &p, &mut |done, _| done < 1_000).unwrap().is_none());
}

#[test]
fn bad_input_is_refused_with_its_field() {
    let t = scheme("tianmen_style");
    let ok = homogeneous(10, 0.02, 0.4);
    let run = |pool: &[PoolLoan], p: &Params| simulate(&t, pool, p, &mut |_, _| true).map(|_| ());
    let code = |r: Result<(), SimError>| r.unwrap_err().field_code().1;
    assert_eq!(code(run(&homogeneous(10, 0.0, 0.4), &params(0.1, 10, 1))), "pd");
    assert_eq!(code(run(&homogeneous(10, 1.0, 0.4), &params(0.1, 10, 1))), "pd");
    assert_eq!(code(run(&homogeneous(10, 0.02, 1.5), &params(0.1, 10, 1))), "lgd");
    assert_eq!(code(run(&ok, &params(1.0, 10, 1))), "rho");
    assert_eq!(code(run(&ok, &params(-0.1, 10, 1))), "rho");
    assert_eq!(code(run(&[], &params(0.1, 10, 1))), "empty");
    let big = homogeneous(5_001, 0.02, 0.4);
    let e = run(&big, &params(0.1, 100_000, 1)).unwrap_err();
    assert_eq!(e.field_code(), ("scenarios", "too_large"));
    assert!(e.message_zh().contains("上限"));
    // Pool files: a missing column, a negative principal, a word for a number.
    assert_eq!(parse_pool("principal,pd\n1,0.1").unwrap_err().field_code().1, "columns");
    assert_eq!(parse_pool("principal,pd,lgd\n-5,0.1,0.4").unwrap_err().field_code(), ("line 2", "principal"));
    assert_eq!(
        parse_pool("principal,pd,lgd\nabc,0.1,0.4").unwrap_err().field_code(),
        ("line 2.principal", "number")
    );
    let segs = parse_pool("count,principal,pd,lgd\n3,100000,0.02,0.45\n2,50000,0.05,0.6\n").unwrap();
    assert_eq!(segs.len(), 5);
    assert_eq!(parse_pool("count,principal,pd,lgd\n2000000,1,0.1,0.1").unwrap_err().field_code().1, "count");
}
