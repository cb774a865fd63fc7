//! `kebao fit scorecard` and `kebao score`: credit scorecards from CSV files.

use anyhow::{bail, Context, Result};
use kebao_scorecard::{auc, confusion, ks, Column, Frame, Scorecard, ScorecardOptions};
use kebao_service::tabular::{self, Table};
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

/// Reads a CSV as text columns.
fn read_csv(path: &PathBuf) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let mut r = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers: Vec<String> = r.headers()?.iter().map(|h| h.trim().to_owned()).collect();
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: line {}", path.display(), i + 2))?;
        rows.push(rec.iter().map(|c| c.trim().to_owned()).collect());
    }
    Ok((headers, rows))
}

fn missing(v: &str) -> bool {
    v.is_empty() || v.eq_ignore_ascii_case("NA") || v.eq_ignore_ascii_case("NaN")
}

/// A column is numeric when every present value parses as a number.
fn column(name: &str, values: &[&str], numeric: bool) -> Result<Column> {
    if numeric {
        let mut out = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            if missing(v) {
                out.push(f64::NAN);
                continue;
            }
            let x: f64 = v
                .parse()
                .map_err(|_| anyhow::anyhow!("column `{name}`, row {}: `{v}` is not a number", i + 1))?;
            if !x.is_finite() {
                bail!("column `{name}`, row {}: `{v}` is not a finite number", i + 1);
            }
            out.push(x);
        }
        Ok(Column::Numeric { name: name.to_owned(), values: out })
    } else {
        Ok(Column::Categorical {
            name: name.to_owned(),
            values: values.iter().map(|v| (!missing(v)).then(|| (*v).to_owned())).collect(),
        })
    }
}

fn frame(headers: &[String], rows: &[&Vec<String>], numeric: &[bool], skip: &[usize]) -> Result<Frame> {
    let mut f = Frame::default();
    for (i, h) in headers.iter().enumerate() {
        if skip.contains(&i) {
            continue;
        }
        let vals: Vec<&str> = rows.iter().map(|r| r.get(i).map_or("", String::as_str)).collect();
        f.columns.push(column(h, &vals, numeric.get(i).copied().unwrap_or(false))?);
    }
    Ok(f)
}

/// Runs `kebao fit scorecard`.
pub fn fit(args: &FitArgs) -> Result<()> {
    let (headers, rows) = read_csv(&args.data)?;
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("no column `{name}` (columns: {})", headers.join(", ")))
    };
    let it = col(&args.target)?;
    let mut skip = vec![it];
    let is_ = match &args.split_col {
        Some(s) => {
            let i = col(s)?;
            skip.push(i);
            Some(i)
        }
        None => None,
    };
    for e in &args.exclude {
        skip.push(col(e)?);
    }
    let y: Vec<f64> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let v = r.get(it).map_or("", String::as_str);
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
    // Train/test: the split column, or a stratified 70/30 split with a fixed seed.
    let is_train: Vec<bool> = match is_ {
        Some(i) => rows
            .iter()
            .enumerate()
            .map(|(n, r)| match r.get(i).map(String::as_str) {
                Some("train") => Ok(true),
                Some("test") => Ok(false),
                other => {
                    bail!("row {}: the split column has `{}`, not train/test", n + 1, other.unwrap_or(""))
                }
            })
            .collect::<Result<_>>()?,
        None => {
            let mut flags = vec![false; rows.len()];
            for class in [0.0, 1.0] {
                let mut idx: Vec<usize> = (0..rows.len()).filter(|&i| y.get(i) == Some(&class)).collect();
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
    let numeric: Vec<bool> = (0..headers.len())
        .map(|i| rows.iter().all(|r| r.get(i).is_none_or(|v| missing(v) || v.parse::<f64>().is_ok())))
        .collect();
    let train_rows: Vec<&Vec<String>> =
        rows.iter().zip(&is_train).filter(|(_, t)| **t).map(|(r, _)| r).collect();
    let test_rows: Vec<&Vec<String>> =
        rows.iter().zip(&is_train).filter(|(_, t)| !**t).map(|(r, _)| r).collect();
    let y_train: Vec<f64> = y.iter().zip(&is_train).filter(|(_, t)| **t).map(|(v, _)| *v).collect();
    let y_test: Vec<u8> = y.iter().zip(&is_train).filter(|(_, t)| !**t).map(|(v, _)| *v as u8).collect();
    let train = frame(&headers, &train_rows, &numeric, &skip)?;
    let test = frame(&headers, &test_rows, &numeric, &skip)?;
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
    let scored = card.score(&test)?;
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
    let train_scores: Vec<f64> = card.score(&train)?.iter().map(|s| s.score).collect();
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
    let (headers, rows) = read_csv(&args.data)?;
    let refs: Vec<&Vec<String>> = rows.iter().collect();
    let numeric_names: Vec<&str> = card
        .variables
        .iter()
        .filter(|v| matches!(v.binning.binning, kebao_scorecard::Binning::Numeric { .. }))
        .map(|v| v.binning.name.as_str())
        .collect();
    let numeric: Vec<bool> = headers.iter().map(|h| numeric_names.contains(&h.as_str())).collect();
    let skip: Vec<usize> = (0..headers.len())
        .filter(|&i| !card.variables.iter().any(|v| headers.get(i) == Some(&v.binning.name)))
        .collect();
    let f = frame(&headers, &refs, &numeric, &skip)?;
    let scored = card.score(&f)?;
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
            outln!("scored {} records into {}", scored.len(), p.display());
        }
        // A closed pipe (`| head`) ends the output quietly, not with a panic.
        None => crate::out::write_all(&bytes),
    }
    Ok(())
}
