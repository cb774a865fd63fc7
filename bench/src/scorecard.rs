//! Scorecard benchmark, Kebao's side: the same data and split as `optbinning_bench.py`;
//! times binning + WoE + fit + scoring on data in memory, loading apart. Prints JSON.
//!
//! `scorecard-bench DATA.csv`

use anyhow::{Context, Result};
use kebao_scorecard::{auc, Column, Frame, Scorecard, ScorecardOptions};
use std::time::Instant;

fn main() -> Result<()> {
    let path = std::env::args().nth(1).context("usage: scorecard-bench DATA.csv")?;
    let t = Instant::now();
    let mut r = csv::Reader::from_path(&path)?;
    let headers: Vec<String> = r.headers()?.iter().map(str::to_owned).collect();
    let ib = headers.iter().position(|h| h == "bad").context("no `bad` column")?;
    let mut nums: Vec<Vec<f64>> = vec![Vec::new(); headers.len()];
    let mut cats: Vec<Vec<Option<String>>> = vec![Vec::new(); headers.len()];
    let mut y = Vec::new();
    let numeric: Vec<bool> = headers.iter().map(|h| h.starts_with('x')).collect();
    let mut rec = csv::StringRecord::new();
    while r.read_record(&mut rec)? {
        for (i, v) in rec.iter().enumerate() {
            if i == ib {
                y.push(if v == "1" { 1.0 } else { 0.0 });
            } else if numeric.get(i).copied().unwrap_or(false) {
                if let Some(c) = nums.get_mut(i) {
                    c.push(if v.is_empty() { f64::NAN } else { v.parse().unwrap_or(f64::NAN) });
                }
            } else if let Some(c) = cats.get_mut(i) {
                c.push((!v.is_empty()).then(|| v.to_owned()));
            }
        }
    }
    let load_s = t.elapsed().as_secs_f64();
    let n = y.len();
    let n_train = n * 7 / 10;
    let split = |lo: usize, hi: usize| -> Frame {
        let mut f = Frame::default();
        for (i, h) in headers.iter().enumerate() {
            if i == ib {
                continue;
            }
            f.columns.push(if numeric.get(i).copied().unwrap_or(false) {
                Column::Numeric {
                    name: h.clone(),
                    values: nums.get(i).map(|c| c.get(lo..hi).unwrap_or(&[]).to_vec()).unwrap_or_default(),
                }
            } else {
                Column::Categorical {
                    name: h.clone(),
                    values: cats.get(i).map(|c| c.get(lo..hi).unwrap_or(&[]).to_vec()).unwrap_or_default(),
                }
            });
        }
        f
    };
    let (train, test) = (split(0, n_train), split(n_train, n));
    let t = Instant::now();
    let card = Scorecard::fit(&train, y.get(..n_train).unwrap_or(&[]), &ScorecardOptions::default())?;
    let fit_s = t.elapsed().as_secs_f64();
    for b in &card.all_binnings {
        eprintln!("{}\t{:.6}\t{}\t{:?}", b.name, b.iv, b.bins.len(), b.trend);
    }
    let t = Instant::now();
    let scored = card.score(&test)?;
    let score_s = t.elapsed().as_secs_f64();
    let p: Vec<f64> = scored.iter().map(|s| s.probability).collect();
    let yt: Vec<u8> = y.get(n_train..).unwrap_or(&[]).iter().map(|v| *v as u8).collect();
    println!(
        "{}",
        serde_json::json!({"library": "kebao", "load_s": load_s, "fit_s": fit_s, "score_s": score_s, "test_auc": auc(&p, &yt)})
    );
    Ok(())
}
