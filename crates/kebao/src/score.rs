//! `kebao fit scorecard` and `kebao score`: credit scorecards from CSV files.

use anyhow::{bail, Context, Result};
use kebao_scorecard::{auc, confusion, ks, Column, Frame, Scorecard, ScorecardOptions};
use kebao_service::tabular::{self, Table};
use kebao_table::{Kind, Spec as Columns, Values};
use std::path::PathBuf;

/// Options of `kebao fit scorecard`.
#[derive(clap::Args, Debug)]
pub struct FitArgs {
    /// A CSV file with a header row.
    #[arg(long)]
    pub data: PathBuf,
    /// The target column: 0/1 (1 = event), or see --bad.
    #[arg(long)]
    pub target: String,
    /// The target value that marks an event (a bad); the others are non-events.
    #[arg(long)]
    pub bad: Option<String>,
    /// A column of `train`/`test`; without it a stratified 70/30 split with a fixed seed.
    #[arg(long)]
    pub split_col: Option<String>,
    /// Columns that are not candidate variables, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Leave out variables with a lower information value.
    #[arg(long, default_value_t = 0.005)]
    pub min_iv: f64,
    /// Of two variables whose WoE values correlate beyond this, keep the one with more IV.
    #[arg(long)]
    pub max_corr: Option<f64>,
    /// Group categories below this share into one bin of rare categories (which also takes
    /// unseen categories when scoring).
    #[arg(long)]
    pub cat_cutoff: Option<f64>,
    /// Numeric values kept in a bin of their own (e.g. -999), comma-separated.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub special: Vec<f64>,
    /// L2 penalty of the logistic regression.
    #[arg(long, default_value_t = 0.0)]
    pub l2: f64,
    /// Write the model (JSON).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Options of `kebao score`.
#[derive(clap::Args, Debug)]
pub struct ScoreArgs {
    /// A model written by `kebao fit scorecard --out`.
    #[arg(long)]
    pub model: PathBuf,
    /// The records to score (CSV with the model's variables).
    #[arg(long)]
    pub data: PathBuf,
    /// Where to write scores, probabilities and reason codes (CSV; default stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Cells read as missing: a NaN numeric value or a missing category.
const MISSING: [&str; 3] = ["", "NA", "NaN"];

/// A column of the file as the engine's column, keeping the rows where `keep` is true.
fn engine_column(c: &kebao_table::Column, keep: impl Fn(usize) -> bool) -> Column {
    let name = c.name.clone();
    match &c.values {
        Values::Number(v) => Column::Numeric {
            name,
            values: v.iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, x)| *x).collect(),
        },
        Values::Category { codes, levels } => Column::Coded {
            name,
            codes: codes.iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, x)| *x).collect(),
            levels: levels.clone(),
        },
    }
}

/// Runs `kebao fit scorecard`.
pub fn fit(args: &FitArgs) -> Result<()> {
    // The target and the split column as text; the excluded columns not at all; every other
    // column a number column when each present cell is a number, else a category.
    let mut wanted = vec![(args.target.clone(), Kind::Label)];
    wanted.extend(args.split_col.iter().map(|s| (s.clone(), Kind::Label)));
    wanted.extend(args.exclude.iter().map(|e| (e.clone(), Kind::Skip)));
    let spec = Columns::columns(&wanted).rest(Kind::Infer).missing(&MISSING).required(false);
    let mut table = kebao_table::read_csv(&args.data, &spec)?;
    let rows = table.rows;
    let target = table.take(&args.target).context("the target column")?;
    let y: Vec<f64> = (0..rows)
        .map(|i| {
            let v = target.level(i).unwrap_or("");
            match &args.bad {
                Some(bad) => Ok(f64::from(u8::from(v == bad))),
                None => match v {
                    "0" => Ok(0.0),
                    "1" => Ok(1.0),
                    other => bail!(
                        "row {}: the target `{}` is `{other}`, not 0/1 (name the event value with --bad)",
                        i + 1,
                        args.target
                    ),
                },
            }
        })
        .collect::<Result<_>>()?;
    drop(target);
    // Train/test: the split column, or a stratified 70/30 split with a fixed seed.
    let is_train: Vec<bool> = match &args.split_col {
        Some(s) => {
            let split = table.take(s).context("the split column")?;
            (0..rows)
                .map(|n| match split.level(n) {
                    Some("train") => Ok(true),
                    Some("test") => Ok(false),
                    other => {
                        bail!("row {}: the split column has `{}`, not train/test", n + 1, other.unwrap_or(""))
                    }
                })
                .collect::<Result<_>>()?
        }
        None => {
            let mut flags = vec![false; rows];
            for class in [0.0, 1.0] {
                let mut idx: Vec<usize> = (0..rows).filter(|&i| y.get(i) == Some(&class)).collect();
                // A fixed pseudo-random order (multiplicative hash), then 70 % to training.
                idx.sort_by_key(|&i| (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7);
                let cut = (idx.len() as f64 * 0.7).round() as usize;
                for &i in idx.iter().take(cut) {
                    if let Some(f) = flags.get_mut(i) {
                        *f = true;
                    }
                }
            }
            flags
        }
    };
    let y_train: Vec<f64> = y.iter().zip(&is_train).filter(|(_, t)| **t).map(|(v, _)| *v).collect();
    let y_test: Vec<u8> = y.iter().zip(&is_train).filter(|(_, t)| !**t).map(|(v, _)| *v as u8).collect();
    // Each column split into its training and test rows, one at a time (the file's copy is
    // dropped as soon as it is split).
    let (mut train, mut test) = (Frame::default(), Frame::default());
    for c in std::mem::take(&mut table.columns) {
        let flag = |i: usize| is_train.get(i).copied().unwrap_or(false);
        train.columns.push(engine_column(&c, flag));
        test.columns.push(engine_column(&c, |i| !flag(i)));
    }
    let mut opts = ScorecardOptions {
        min_iv: args.min_iv,
        l2: args.l2,
        max_correlation: args.max_corr,
        ..ScorecardOptions::default()
    };
    opts.binning.cat_cutoff = args.cat_cutoff;
    opts.binning.special_values.clone_from(&args.special);
    let started = std::time::Instant::now();
    let card = Scorecard::fit(&train, &y_train, &opts)?;
    let fit_s = started.elapsed().as_secs_f64();
    // Binning tables.
    for v in &card.variables {
        let b = &v.binning;
        outln!("\n{} (IV {:.4}, {:?})", b.name, b.iv, b.trend);
        outln!(
            "  {:<48} {:>7} {:>7} {:>7} {:>8} {:>7} {:>7}",
            "bin",
            "count",
            "events",
            "rate",
            "WoE",
            "IV",
            "points"
        );
        for (s, p) in b
            .bins
            .iter()
            .zip(&v.points)
            .chain([(&b.special, &v.special_points), (&b.missing, &v.missing_points)])
        {
            if s.count == 0 && (s.label == "Special" || s.label == "Missing") {
                continue;
            }
            let label: String = s.label.chars().take(48).collect();
            outln!(
                "  {:<48} {:>7} {:>7} {:>7.4} {:>8.4} {:>7.4} {:>7.1}",
                label,
                s.count,
                s.events,
                s.event_rate,
                s.woe,
                s.iv,
                p
            );
        }
    }
    let mut ranking: Vec<_> = card.all_binnings.iter().collect();
    ranking.sort_by(|a, b| b.iv.total_cmp(&a.iv));
    outln!("\nIV ranking:");
    for b in ranking {
        let used = card.variables.iter().any(|v| v.binning.name == b.name);
        outln!("  {:<58} {:>8.4} {}", b.name, b.iv, if used { "" } else { "(left out)" });
    }
    outln!(
        "\nscorecard: base {} points at odds {}:1, {} points to double the odds",
        opts.base_score,
        opts.base_odds,
        opts.pdo
    );
    outln!("  {:<58} {:>10} {:>10} {:>10}", "variable", "coef", "std.err", "p-value");
    for v in &card.variables {
        outln!("  {:<58} {:>10.4} {:>10.4} {:>10.4}", v.binning.name, v.coefficient, v.std_error, v.p_value);
    }
    // Scores and probabilities only: the reasons are for `kebao score`.
    let scored = card.score_values(&test)?;
    let p: Vec<f64> = scored.iter().map(|s| s.probability).collect();
    let a = auc(&p, &y_test);
    let c = confusion(&p, &y_test, 0.5);
    outln!(
        "\ntest rows: {} ({} events); fitted in {:.3} s",
        y_test.len(),
        y_test.iter().filter(|&&t| t == 1).count(),
        fit_s
    );
    outln!("test AUC: {a:.4}");
    outln!("test Gini: {:.4}", 2.0 * a - 1.0);
    outln!("test KS: {:.4}", ks(&p, &y_test));
    outln!(
        "confusion at p ≥ 0.5: TP {} FP {} TN {} FN {}",
        c.true_positive,
        c.false_positive,
        c.true_negative,
        c.false_negative
    );
    let train_scores: Vec<f64> = card.score_values(&train)?.iter().map(|s| s.score).collect();
    let test_scores: Vec<f64> = scored.iter().map(|s| s.score).collect();
    outln!("score PSI (test against training): {:.4}", kebao_scorecard::psi(&train_scores, &test_scores, 10));
    for (name, csi) in card.csi(&train, &test)? {
        outln!("  CSI {name:<56} {csi:.4}");
    }
    if let Some(path) = &args.out {
        std::fs::write(path, card.to_json()).with_context(|| format!("writing {}", path.display()))?;
        outln!("model written to {}", path.display());
    }
    Ok(())
}

/// Runs `kebao score`.
pub fn score(args: &ScoreArgs) -> Result<()> {
    let text =
        std::fs::read_to_string(&args.model).with_context(|| format!("reading {}", args.model.display()))?;
    let card = Scorecard::from_json(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a scorecard model: {e}", args.model.display()))?;
    let wanted: Vec<(String, Kind)> = card
        .variables
        .iter()
        .map(|v| {
            let kind = match v.binning.binning {
                kebao_scorecard::Binning::Numeric { .. } => Kind::Number,
                kebao_scorecard::Binning::Categorical { .. } => Kind::Category,
            };
            (v.binning.name.clone(), kind)
        })
        .collect();
    let spec = Columns::columns(&wanted).missing(&MISSING).required(false);
    let started = std::time::Instant::now();
    let table = kebao_table::read_csv(&args.data, &spec)?;
    let f = Frame { columns: table.columns.iter().map(|c| engine_column(c, |_| true)).collect() };
    let read_s = started.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let scored = card.score(&f)?;
    let score_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let table = Table {
        headers: ["row", "score", "probability", "reason_1", "reason_2", "reason_3"]
            .iter()
            .map(|h| (*h).to_owned())
            .collect(),
        rows: scored
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut row =
                    vec![(i + 1).to_string(), format!("{:.1}", s.score), format!("{:.6}", s.probability)];
                for k in 0..3 {
                    row.push(
                        s.reasons
                            .get(k)
                            .map(|r| format!("{} = {} (−{:.1})", r.variable, r.bin, r.points_lost))
                            .unwrap_or_default(),
                    );
                }
                row
            })
            .collect(),
    };
    let bytes = tabular::write_csv(&table).map_err(anyhow::Error::msg)?;
    match &args.out {
        Some(p) => {
            std::fs::write(p, bytes).with_context(|| format!("writing {}", p.display()))?;
            eprintln!(
                "time: read {read_s:.3} s, score {score_s:.3} s, write {:.3} s",
                t.elapsed().as_secs_f64()
            );
            outln!("scored {} records into {}", scored.len(), p.display());
        }
        // A closed pipe (`| head`) ends the output quietly, not with a panic.
        None => crate::out::write_all(&bytes),
    }
    Ok(())
}
