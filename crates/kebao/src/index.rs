//! `kebao index build`: a composite index from COINr-shaped files.

use anyhow::{bail, Context, Result};
use kebao_composite::{
    Aggregation, Build, BuildSpec, Framework, Imputation, Normalisation, Treatment, UnitData,
};
use kebao_service::tabular::{self, Table};
use std::path::PathBuf;

/// Options of `kebao index build`.
#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// The framework: COINr's iMeta (CSV).
    #[arg(long)]
    pub framework: PathBuf,
    /// The data: COINr's iData (CSV).
    #[arg(long)]
    pub data: PathBuf,
    /// Group column for imputation by group mean (COINr's `i_mean_grp`); without it,
    /// missing values take the indicator's mean.
    #[arg(long)]
    pub group: Option<String>,
    /// Minimum share of indicators a unit needs (0–1).
    #[arg(long, default_value_t = 0.9)]
    pub screen: f64,
    /// Skip the outlier treatment.
    #[arg(long)]
    pub no_treat: bool,
    /// Aggregation: arithmetic | geometric | harmonic.
    #[arg(long, default_value = "arithmetic")]
    pub aggregation: String,
    /// The results table (CSV); an .xlsx is written beside it.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `kebao index build`.
pub fn build(args: &BuildArgs) -> Result<()> {
    let read = |p: &PathBuf| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
    let fw = Framework::from_imeta_csv(&read(&args.framework)?)?;
    let data = UnitData::from_idata_csv(&read(&args.data)?, &fw)?;
    if !(0.0..=1.0).contains(&args.screen) {
        bail!("--screen is a share between 0 and 1, not {}", args.screen);
    }
    let spec = BuildSpec {
        imputation: match &args.group {
            Some(g) => Imputation::GroupMean(g.clone()),
            None => Imputation::Mean,
        },
        screen_threshold: args.screen,
        treatment: if args.no_treat { None } else { BuildSpec::coinr_default("").treatment },
        normalisation: Normalisation::MinMax { lo: 0.0, hi: 100.0 },
        aggregation: match args.aggregation.as_str() {
            "arithmetic" => Aggregation::ArithmeticMean,
            "geometric" => Aggregation::GeometricMean,
            "harmonic" => Aggregation::HarmonicMean,
            other => bail!("unknown aggregation `{other}`: use arithmetic, geometric or harmonic"),
        },
        ..BuildSpec::coinr_default("")
    };
    let started = std::time::Instant::now();
    let b = Build::run(&fw, &data, &spec)?;
    let secs = started.elapsed().as_secs_f64();
    let r = &b.results;
    let mut order: Vec<usize> = (0..r.units.len()).collect();
    order.sort_by_key(|&i| {
        (r.ranks.get(i).copied().flatten().unwrap_or(usize::MAX), r.units.get(i).cloned().unwrap_or_default())
    });
    let mut headers = vec!["uCode".to_owned(), "Rank".to_owned()];
    headers.extend(r.codes.iter().cloned());
    let rows: Vec<Vec<String>> = order
        .iter()
        .map(|&i| {
            let mut row = vec![
                r.units.get(i).cloned().unwrap_or_default(),
                r.ranks.get(i).copied().flatten().map(|x| x.to_string()).unwrap_or_default(),
            ];
            row.extend(r.scores.iter().map(|c| {
                c.get(i)
                    .map(|v| if v.is_nan() { String::new() } else { format!("{v:.10}") })
                    .unwrap_or_default()
            }));
            row
        })
        .collect();
    let table = Table { headers, rows };
    std::fs::write(&args.out, tabular::write_csv(&table).map_err(anyhow::Error::msg)?)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let xlsx = args.out.with_extension("xlsx");
    std::fs::write(&xlsx, tabular::write_xlsx(&table, "results").map_err(anyhow::Error::msg)?)
        .with_context(|| format!("writing {}", xlsx.display()))?;
    let treated: Vec<String> = b
        .treat_details
        .iter()
        .filter_map(|d| match d.treatment {
            Treatment::None => None,
            Treatment::Winsorised(n) => Some(format!("{} (winsorised {n})", d.code)),
            Treatment::LogCt { .. } => Some(format!("{} (log_CT)", d.code)),
        })
        .collect();
    println!(
        "{} units × {} indicators, {} aggregates; built in {:.2} ms",
        r.units.len(),
        fw.indicators().count(),
        r.codes.len(),
        secs * 1e3
    );
    if !b.removed_units.is_empty() {
        println!("screened out ({}): {}", b.removed_units.len(), b.removed_units.join(", "));
    }
    println!("treated ({}): {}", treated.len(), treated.join(", "));
    println!("top units:");
    for row in table.rows.iter().take(10) {
        println!(
            "  {:>3}. {:<8} {}",
            row.get(1).map_or("", String::as_str),
            row.first().map_or("", String::as_str),
            row.get(2).map_or("", String::as_str)
        );
    }
    println!("results written to {} and {}", args.out.display(), xlsx.display());
    Ok(())
}
