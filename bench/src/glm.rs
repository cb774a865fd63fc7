//! GLM benchmark, Kebao's side: load the freMTPL-like CSV, fit the three models of
//! `bench/glm/README.md` single-threaded, print one JSON line per model with the fit time,
//! the load time and the coefficients, and the process's peak memory.
//!
//! `glm-bench DATA.csv`

use anyhow::{Context, Result};
use kebao_glm::{fit, Data, Factor, Family, LevelCoder, Spec};
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

fn load(path: &str) -> Result<Frame> {
    let mut rdr = csv::Reader::from_path(path).with_context(|| format!("reading {path}"))?;
    let headers: Vec<String> = rdr.headers()?.iter().map(str::to_owned).collect();
    let col = |n: &str| headers.iter().position(|h| h == n).with_context(|| format!("no column {n}"));
    let (ic, ie, ia) = (col("ClaimNb")?, col("Exposure")?, col("ClaimAmount")?);
    let inum: Vec<usize> = NUMERIC.iter().map(|n| col(n)).collect::<Result<_>>()?;
    let ifac: Vec<usize> = FACTORS.iter().map(|n| col(n)).collect::<Result<_>>()?;
    let mut f = Frame {
        claims: Vec::new(),
        exposure: Vec::new(),
        amount: Vec::new(),
        numeric: vec![Vec::new(); 3],
        factors: Vec::new(),
    };
    let mut coders: Vec<LevelCoder> = (0..5).map(|_| LevelCoder::default()).collect();
    let mut codes: Vec<Vec<u32>> = vec![Vec::new(); 5];
    let mut rec = csv::StringRecord::new();
    let mut line = 1;
    while rdr.read_record(&mut rec)? {
        line += 1;
        let num = |i: usize| -> Result<f64> {
            rec.get(i).unwrap_or("").parse::<f64>().with_context(|| format!("line {line}"))
        };
        f.claims.push(num(ic)?);
        f.exposure.push(num(ie)?);
        f.amount.push(num(ia)?);
        for (k, &i) in inum.iter().enumerate() {
            let v = num(i)?;
            if let Some(c) = f.numeric.get_mut(k) {
                c.push(v);
            }
        }
        for (k, &i) in ifac.iter().enumerate() {
            if let (Some(coder), Some(cs)) = (coders.get_mut(k), codes.get_mut(k)) {
                cs.push(coder.code(FACTORS.get(k).copied().unwrap_or(""), rec.get(i).unwrap_or(""), line)?);
            }
        }
    }
    f.factors = coders.into_iter().zip(codes).zip(FACTORS).map(|((c, cs), n)| c.finish(n, cs)).collect();
    Ok(f)
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

fn report(model: &str, load_s: f64, fit_s: f64, f: &kebao_glm::Fit) {
    let coefs: serde_json::Map<String, serde_json::Value> =
        f.coefficients.iter().map(|c| (c.name.clone(), serde_json::json!(c.estimate))).collect();
    let line = serde_json::json!({"library": "kebao", "model": model, "load_s": load_s, "fit_s": fit_s,
        "iterations": f.iterations, "deviance": f.deviance, "coefficients": coefs});
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
    report("poisson", load_s, t.elapsed().as_secs_f64(), &m);

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
    report("gamma", load_s, t.elapsed().as_secs_f64(), &m);

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
    report("tweedie", load_s, t.elapsed().as_secs_f64(), &m);
    println!("{}", serde_json::json!({"library": "kebao", "peak_rss_mb": peak_rss_mb()}));
    Ok(())
}
