//! Scorecard benchmark, Kebao's side: the same data and split as `optbinning_bench.py`
//! (first 70 % of the rows train, the rest test), timed end to end as the anchor is: reading
//! the CSV into the engine's columns, binning + WoE + logistic fit, scoring the test rows.
//! Prints one JSON line.
//!
//! `scorecard-bench DATA.csv`

use anyhow::{Context, Result};
use kebao_scorecard::{auc, Column, Frame, Scorecard, ScorecardOptions};
use kebao_table::{Kind, Spec, Values};
use std::time::Instant;

/// A column split at row `at` into the engine's training and test columns (the head stays
/// where it is, the tail is moved).
fn split_at(c: kebao_table::Column, at: usize) -> (Column, Column) {
    let name = c.name;
    match c.values {
        Values::Number(mut v) => {
            let tail = v.split_off(at.min(v.len()));
            (Column::Numeric { name: name.clone(), values: v }, Column::Numeric { name, values: tail })
        }
        Values::Category { mut codes, levels } => {
            let tail = codes.split_off(at.min(codes.len()));
            (
                Column::Coded { name: name.clone(), codes, levels: levels.clone() },
                Column::Coded { name, codes: tail, levels },
            )
        }
    }
}

fn main() -> Result<()> {
    let path = std::env::args().nth(1).context("usage: scorecard-bench DATA.csv")?;
    let started = Instant::now();
    // As `kebao fit scorecard` reads: the target as text, every other column typed by its cells.
    let spec =
        Spec::columns(&[("bad", Kind::Label)]).rest(Kind::Infer).missing(&["", "NA", "NaN"]).required(false);
    let mut table = kebao_table::read_csv(std::path::Path::new(&path), &spec)?;
    let n = table.rows;
    let target = table.take("bad").context("no `bad` column")?;
    let y: Vec<f64> = (0..n).map(|i| if target.level(i) == Some("1") { 1.0 } else { 0.0 }).collect();
    let n_train = n * 7 / 10;
    let (mut train, mut test) = (Frame::default(), Frame::default());
    for c in std::mem::take(&mut table.columns) {
        let (a, b) = split_at(c, n_train);
        train.columns.push(a);
        test.columns.push(b);
    }
    let read_s = started.elapsed().as_secs_f64();
    let t = Instant::now();
    let card = Scorecard::fit(&train, y.get(..n_train).unwrap_or(&[]), &ScorecardOptions::default())?;
    let fit_s = t.elapsed().as_secs_f64();
    for b in &card.all_binnings {
        eprintln!("{}\t{:.6}\t{}\t{:?}", b.name, b.iv, b.bins.len(), b.trend);
    }
    let t = Instant::now();
    // Scores and probabilities, as optbinning's `predict_proba` and `score` give them (no
    // reason codes).
    let scored = card.score_values(&test)?;
    let score_s = t.elapsed().as_secs_f64();
    let total_s = started.elapsed().as_secs_f64();
    let p: Vec<f64> = scored.iter().map(|s| s.probability).collect();
    let yt: Vec<u8> = y.get(n_train..).unwrap_or(&[]).iter().map(|v| *v as u8).collect();
    println!(
        "{}",
        serde_json::json!({"library": "kebao", "load_s": read_s, "fit_s": fit_s, "score_s": score_s,
            "total_s": total_s, "test_auc": auc(&p, &yt)})
    );
    Ok(())
}
