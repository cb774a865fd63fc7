//! GLM benchmark, Kebao's side: read the freMTPL-like CSV into columns, fit the three models
//! of `bench/README.md` single-threaded, print one JSON line per model with the fit time, the
//! read time and the coefficients (the Poisson line also with the time to predict every row),
//! and the process's peak memory.
//!
//! `glm-bench DATA.csv`

use anyhow::{Context, Result};
use kebao_glm::{fit, Data, Factor, Family, Spec};
use kebao_table::{Kind, Spec as Columns, Values};
use std::time::Instant;

const FACTORS: [&str; 5] = ["Area", "VehPower", "VehBrand", "Region", "VehGas"];
const NUMERIC: [&str; 3] = ["DrivAge", "VehAge", "LogDensity"];

struct Frame {
    claims: Vec<f64>,
    exposure: Vec<f64>,
    amount: Vec<f64>,
    numeric: Vec<Vec<f64>>,
    factors: Vec<Factor>,
}

/// Reads the columns the models use, as `kebao fit glm` reads them (every cell present).
fn load(path: &str) -> Result<Frame> {
    let mut wanted: Vec<(&str, Kind)> =
        vec![("ClaimNb", Kind::Number), ("Exposure", Kind::Number), ("ClaimAmount", Kind::Number)];
    wanted.extend(NUMERIC.iter().map(|n| (*n, Kind::Number)));
    wanted.extend(FACTORS.iter().map(|n| (*n, Kind::Category)));
    let spec = Columns::columns(&wanted).missing(&["", "NA"]).required(true);
    let mut table = kebao_table::read_csv(std::path::Path::new(path), &spec)?;
    let mut number = |name: &str| -> Result<Vec<f64>> {
        match table.take(name).map(|c| c.values) {
            Some(Values::Number(v)) => Ok(v),
            _ => anyhow::bail!("no number column {name}"),
        }
    };
    let (claims, exposure, amount) = (number("ClaimNb")?, number("Exposure")?, number("ClaimAmount")?);
    let numeric = NUMERIC.iter().map(|n| number(n)).collect::<Result<_>>()?;
    let factors = FACTORS
        .iter()
        .map(|n| match table.take(n).map(|c| c.values) {
            Some(Values::Category { codes, levels }) => Ok(Factor::from_levels(n, codes, levels)?),
            _ => anyhow::bail!("no category column {n}"),
        })
        .collect::<Result<_>>()?;
    Ok(Frame { claims, exposure, amount, numeric, factors })
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn report(model: &str, load_s: f64, fit_s: f64, f: &kebao_glm::Fit, extra: serde_json::Value) {
    let coefs: serde_json::Map<String, serde_json::Value> =
        f.coefficients.iter().map(|c| (c.name.clone(), serde_json::json!(c.estimate))).collect();
    let mut line = serde_json::json!({"library": "kebao", "model": model, "load_s": load_s, "fit_s": fit_s,
        "iterations": f.iterations, "deviance": f.deviance, "coefficients": coefs});
    if let (Some(l), Some(e)) = (line.as_object_mut(), extra.as_object()) {
        l.extend(e.clone());
    }
    println!("{line}");
}

fn subset(f: &Frame, keep: &[usize]) -> (Vec<Vec<f64>>, Vec<Factor>) {
    let numeric =
        f.numeric.iter().map(|c| keep.iter().map(|&i| c.get(i).copied().unwrap_or(0.0)).collect()).collect();
    let factors = f
        .factors
        .iter()
        .map(|fac| {
            let codes: Vec<u32> = fac
                .codes_slice()
                .iter()
                .copied()
                .enumerate()
                .filter(|(i, _)| keep.binary_search(i).is_ok())
                .map(|(_, c)| c)
                .collect();
            Factor::from_codes(fac.name(), codes, fac.levels().to_vec()).unwrap_or_else(|_| fac.clone())
        })
        .collect();
    (numeric, factors)
}

fn main() -> Result<()> {
    let path = std::env::args().nth(1).context("usage: glm-bench DATA.csv")?;
    let t = Instant::now();
    let f = load(&path)?;
    let load_s = t.elapsed().as_secs_f64();

    // Poisson frequency: ClaimNb with a log(Exposure) offset.
    let offset: Vec<f64> = f.exposure.iter().map(|e| e.ln()).collect();
    let mut d = Data::new(&f.claims).offset(&offset);
    for fac in &f.factors {
        d = d.factor(fac.clone());
    }
    for (n, x) in NUMERIC.iter().zip(&f.numeric) {
        d = d.numeric(n, x);
    }
    let t = Instant::now();
    let m = fit(&d, &Spec::new(Family::Poisson))?;
    let fit_s = t.elapsed().as_secs_f64();
    // Scoring: the expected claim count of every policy.
    let t = Instant::now();
    let mu = m.predict(&d)?;
    let score_s = t.elapsed().as_secs_f64();
    let expected: f64 = mu.iter().sum();
    report(
        "poisson",
        load_s,
        fit_s,
        &m,
        serde_json::json!({"score_s": score_s, "expected_claims": expected}),
    );

    // Gamma severity on policies with claims, weighted by the claim count.
    let keep: Vec<usize> =
        (0..f.claims.len()).filter(|&i| f.claims.get(i).copied().unwrap_or(0.0) > 0.0).collect();
    let sev: Vec<f64> = keep
        .iter()
        .map(|&i| f.amount.get(i).copied().unwrap_or(0.0) / f.claims.get(i).copied().unwrap_or(1.0))
        .collect();
    let w: Vec<f64> = keep.iter().map(|&i| f.claims.get(i).copied().unwrap_or(0.0)).collect();
    let (num_s, fac_s) = subset(&f, &keep);
    let mut d = Data::new(&sev).weights(&w);
    for fac in fac_s {
        d = d.factor(fac);
    }
    for (n, x) in NUMERIC.iter().zip(&num_s) {
        d = d.numeric(n, x);
    }
    let t = Instant::now();
    let m = fit(&d, &Spec::new(Family::Gamma))?;
    report("gamma", load_s, t.elapsed().as_secs_f64(), &m, serde_json::json!({}));

    // Tweedie p = 1.5 pure premium, weighted by exposure.
    let pp: Vec<f64> = f.amount.iter().zip(&f.exposure).map(|(a, e)| a / e).collect();
    let mut d = Data::new(&pp).weights(&f.exposure);
    for fac in &f.factors {
        d = d.factor(fac.clone());
    }
    for (n, x) in NUMERIC.iter().zip(&f.numeric) {
        d = d.numeric(n, x);
    }
    let t = Instant::now();
    let m = fit(&d, &Spec::new(Family::Tweedie(1.5)))?;
    report("tweedie", load_s, t.elapsed().as_secs_f64(), &m, serde_json::json!({}));
    println!("{}", serde_json::json!({"library": "kebao", "peak_rss_mb": peak_rss_mb()}));
    Ok(())
}
