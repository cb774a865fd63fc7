//! `kebao index build`: a composite index from COINr-shaped files.

use anyhow::{bail, Context, Result};
use kebao_composite::{
    Aggregation, Build, BuildSpec, Framework, Imputation, Normalisation, Treatment, UnitData, Weighting,
};
use kebao_service::tabular::{self, Table};
use std::path::PathBuf;

/// Options of `kebao index build`.
#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// The framework: COINr's iMeta (.csv, or .toml with `[[iMeta]]` tables).
    #[arg(long)]
    pub framework: PathBuf,
    /// The data: COINr's iData (.csv, or .toml with `[[iData]]` tables).
    #[arg(long)]
    pub data: PathBuf,
    /// A TOML file of build options (`group`, `screen`, `treat`, `normalisation`,
    /// `weights`, `aggregation`); options given on the command line win.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Group column for imputation by group mean (COINr's `i_mean_grp`); without one,
    /// missing values take the indicator's mean.
    #[arg(long)]
    pub group: Option<String>,
    /// Minimum share of indicators a unit needs (0–1; default 0.9).
    #[arg(long)]
    pub screen: Option<f64>,
    /// Skip the outlier treatment.
    #[arg(long)]
    pub no_treat: bool,
    /// Normalisation: minmax (0–100, default) | zscore | rank | prank | borda | distance.
    #[arg(long)]
    pub normalisation: Option<String>,
    /// Aggregation: arithmetic (default) | geometric | harmonic.
    #[arg(long)]
    pub aggregation: Option<String>,
    /// Weights: given (iMeta's, default) | equal | entropy (熵权法) | pca.
    #[arg(long)]
    pub weights: Option<String>,
    /// The results table (CSV); an .xlsx is written beside it.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write every stage (Denominated … Aggregated) as CSV into this directory.
    #[arg(long)]
    pub stages: Option<PathBuf>,
}

/// The `--config` file of `kebao index build`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BuildConfig {
    group: Option<String>,
    screen: Option<f64>,
    treat: Option<bool>,
    normalisation: Option<String>,
    weights: Option<String>,
    aggregation: Option<String>,
}

/// Options of `kebao index uncertainty`.
#[derive(clap::Args, Debug)]
pub struct UncertaintyArgs {
    /// The framework: COINr's iMeta (.csv, or .toml with `[[iMeta]]` tables).
    #[arg(long)]
    pub framework: PathBuf,
    /// The data: COINr's iData (.csv, or .toml with `[[iData]]` tables).
    #[arg(long)]
    pub data: PathBuf,
    /// Group column for imputation by group mean.
    #[arg(long)]
    pub group: Option<String>,
    /// Monte Carlo runs.
    #[arg(long, default_value_t = 1000)]
    pub runs: usize,
    /// Relative noise on every weight.
    #[arg(long, default_value_t = 0.25)]
    pub weight_noise: f64,
    /// Normalisation alternatives, the nominal first: minmax, zscore, rank, prank, borda.
    #[arg(long, value_delimiter = ',', default_value = "minmax")]
    pub normalisations: Vec<String>,
    /// Aggregation alternatives, the nominal first: arithmetic, geometric, harmonic.
    #[arg(long, value_delimiter = ',', default_value = "arithmetic")]
    pub aggregations: Vec<String>,
    /// Imputation alternatives, the nominal first: group (needs --group), mean, median.
    #[arg(long, value_delimiter = ',', default_value = "group")]
    pub imputations: Vec<String>,
    /// Also estimate sensitivity indices with this many base samples (N·(k+2) runs).
    #[arg(long)]
    pub sensitivity: Option<usize>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the rank statistics here (CSV).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn normalisation(name: &str, geometric: bool) -> Result<Normalisation> {
    // Geometric and harmonic means need positive scores: min-max then runs 1–100.
    let lo = if geometric { 1.0 } else { 0.0 };
    Ok(match name.trim() {
        "minmax" => Normalisation::MinMax { lo, hi: 100.0 },
        "zscore" => Normalisation::ZScore { mean: 10.0, sd: 1.0 },
        "rank" => Normalisation::Rank,
        "prank" => Normalisation::PercentileRank,
        "borda" => Normalisation::Borda,
        other => bail!("unknown normalisation `{other}`: use minmax, zscore, rank, prank or borda"),
    })
}

fn aggregation(name: &str) -> Result<Aggregation> {
    Ok(match name.trim() {
        "arithmetic" => Aggregation::ArithmeticMean,
        "geometric" => Aggregation::GeometricMean,
        "harmonic" => Aggregation::HarmonicMean,
        other => bail!("unknown aggregation `{other}`: use arithmetic, geometric or harmonic"),
    })
}

/// Runs `kebao index uncertainty`.
pub fn uncertainty(args: &UncertaintyArgs) -> Result<()> {
    use kebao_composite::uncertainty::{self, Model, UncertaintySpec};
    let (fw, data) = load(&args.framework, &args.data)?;
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    if !(0.0..1.0).contains(&args.weight_noise) {
        bail!("--weight-noise is a share between 0 and 1, not {}", args.weight_noise);
    }
    let aggregations = args.aggregations.iter().map(|a| aggregation(a)).collect::<Result<Vec<_>>>()?;
    let geometric = aggregations.iter().any(|a| !matches!(a, Aggregation::ArithmeticMean));
    let normalisations =
        args.normalisations.iter().map(|n| normalisation(n, geometric)).collect::<Result<Vec<_>>>()?;
    let mut base = BuildSpec::coinr_default(args.group.as_deref().unwrap_or(""));
    if args.group.is_none() {
        base.imputation = Imputation::Mean;
    }
    base.normalisation = normalisations.first().copied().unwrap_or(base.normalisation);
    base.aggregation = aggregations.first().copied().unwrap_or(base.aggregation);
    let imputations = args
        .imputations
        .iter()
        .map(|i| match (i.trim(), &args.group) {
            ("group", Some(g)) => Ok(Imputation::GroupMean(g.clone())),
            ("group", None) | ("mean", _) => Ok(Imputation::Mean),
            ("median", _) => Ok(Imputation::Median),
            (other, _) => Err(anyhow::anyhow!("unknown imputation `{other}`: use group, mean or median")),
        })
        .collect::<Result<Vec<_>>>()?;
    base.imputation = imputations.first().cloned().unwrap_or(base.imputation);
    let spec = UncertaintySpec {
        seed: args.seed,
        weight_noise: args.weight_noise,
        normalisations,
        aggregations,
        imputations,
    };
    let model = Model::new(&fw, &data, &base, &spec)?;
    let pb = crate::bar(args.runs as u64, "runs");
    let started = std::time::Instant::now();
    let stats = uncertainty::uncertainty(&model, args.runs, args.seed, &mut |d, t| {
        pb.set_length(t as u64);
        pb.set_position(d as u64);
    });
    pb.finish_and_clear();
    outln!(
        "{} runs over {} in {:.2} s",
        args.runs,
        model.inputs().join(", "),
        started.elapsed().as_secs_f64()
    );
    let mut sorted = stats.clone();
    sorted.sort_by_key(|s| s.nominal);
    outln!("{:<8} {:>7} {:>7} {:>7} {:>7}", "unit", "nominal", "median", "q05", "q95");
    for s in sorted.iter().take(15) {
        outln!("{:<8} {:>7} {:>7.1} {:>7.1} {:>7.1}", s.unit, s.nominal, s.median, s.q05, s.q95);
    }
    if let Some(path) = &args.out {
        let table = Table {
            headers: ["uCode", "nominal", "median", "q05", "q95"].iter().map(|h| (*h).to_owned()).collect(),
            rows: sorted
                .iter()
                .map(|s| {
                    vec![
                        s.unit.clone(),
                        s.nominal.to_string(),
                        s.median.to_string(),
                        s.q05.to_string(),
                        s.q95.to_string(),
                    ]
                })
                .collect(),
        };
        std::fs::write(path, tabular::write_csv(&table).map_err(anyhow::Error::msg)?)
            .with_context(|| format!("writing {}", path.display()))?;
        outln!("rank statistics written to {}", path.display());
    }
    if let Some(n) = args.sensitivity {
        let k = model.inputs().len();
        if k == 0 {
            bail!("nothing is uncertain: give --weight-noise, or several normalisations or aggregations");
        }
        if crate::out::closed() {
            // The indices would only be printed, and nobody reads standard output any more.
            return Ok(());
        }
        let pb = crate::bar((n * (k + 2)) as u64, "sensitivity");
        let idx = uncertainty::sensitivity(&model, n, args.seed, &mut |d, t| {
            pb.set_length(t as u64);
            pb.set_position(d as u64);
        });
        pb.finish_and_clear();
        outln!("sensitivity of the mean absolute rank shift ({} runs):", n * (k + 2));
        outln!(
            "{:<14} {:>8} {:>19} {:>8} {:>19}",
            "input",
            "first",
            "90 % interval",
            "total",
            "90 % interval"
        );
        for i in &idx {
            outln!(
                "{:<14} {:>8.3} [{:>7.3}, {:>7.3}] {:>8.3} [{:>7.3}, {:>7.3}]",
                i.input,
                i.first,
                i.first_ci.0,
                i.first_ci.1,
                i.total,
                i.total_ci.0,
                i.total_ci.1
            );
        }
    }
    Ok(())
}

/// Reads a framework and data, CSV or TOML by extension.
fn load(framework: &PathBuf, data: &PathBuf) -> Result<(Framework, UnitData)> {
    let read = |p: &PathBuf| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
    let is_toml = |p: &PathBuf| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let fw = if is_toml(framework) {
        Framework::from_imeta_toml(&read(framework)?)?
    } else {
        Framework::from_imeta_csv(&read(framework)?)?
    };
    let d = if is_toml(data) {
        UnitData::from_idata_toml(&read(data)?, &fw)?
    } else {
        UnitData::from_idata_csv(&read(data)?, &fw)?
    };
    Ok((fw, d))
}

/// Runs `kebao index build`.
pub fn build(args: &BuildArgs) -> Result<()> {
    let (fw, data) = load(&args.framework, &args.data)?;
    let config: BuildConfig = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            toml::from_str(&text).with_context(|| format!("{}: not a build configuration", p.display()))?
        }
        None => BuildConfig::default(),
    };
    let group = args.group.clone().or(config.group);
    let screen = args.screen.or(config.screen).unwrap_or(0.9);
    if !(0.0..=1.0).contains(&screen) {
        bail!("the screen threshold is a share between 0 and 1, not {screen}");
    }
    let treat = !args.no_treat && config.treat.unwrap_or(true);
    let aggregation_name =
        args.aggregation.clone().or(config.aggregation).unwrap_or_else(|| "arithmetic".into());
    let agg = aggregation(&aggregation_name)?;
    let positive = agg != Aggregation::ArithmeticMean;
    let norm_name = args.normalisation.clone().or(config.normalisation).unwrap_or_else(|| "minmax".into());
    let norm = match norm_name.as_str() {
        "distance" => Normalisation::DistanceToTarget,
        other => normalisation(other, positive)?,
    };
    let spec = BuildSpec {
        imputation: match &group {
            Some(g) => Imputation::GroupMean(g.clone()),
            None => Imputation::Mean,
        },
        screen_threshold: screen,
        treatment: if treat { BuildSpec::coinr_default("").treatment } else { None },
        normalisation: norm,
        aggregation: agg,
        weighting: match args.weights.clone().or(config.weights).unwrap_or_else(|| "given".into()).as_str() {
            "given" => Weighting::Given,
            "equal" => Weighting::Equal,
            "entropy" => Weighting::Entropy,
            "pca" => Weighting::Pca,
            other => bail!("unknown weights `{other}`: use given, equal, entropy or pca"),
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
    outln!(
        "{} units × {} indicators, {} aggregates; built in {:.2} ms",
        r.units.len(),
        fw.indicators().count(),
        r.codes.len(),
        secs * 1e3
    );
    if !b.removed_units.is_empty() {
        outln!("screened out ({}): {}", b.removed_units.len(), b.removed_units.join(", "));
    }
    outln!("treated ({}): {}", treated.len(), treated.join(", "));
    outln!("top units:");
    for row in table.rows.iter().take(10) {
        outln!(
            "  {:>3}. {:<8} {}",
            row.get(1).map_or("", String::as_str),
            row.first().map_or("", String::as_str),
            row.get(2).map_or("", String::as_str)
        );
    }
    outln!("results written to {} and {}", args.out.display(), xlsx.display());
    if let Some(dir) = &args.stages {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for (name, ds) in &b.stages {
            let mut headers = vec!["uCode".to_owned()];
            headers.extend(ds.codes.iter().cloned());
            let rows = ds
                .units
                .iter()
                .enumerate()
                .map(|(i, u)| {
                    let mut row = vec![u.clone()];
                    row.extend(ds.columns.iter().map(|c| {
                        c.get(i)
                            .map(|v| if v.is_nan() { String::new() } else { v.to_string() })
                            .unwrap_or_default()
                    }));
                    row
                })
                .collect();
            let path = dir.join(format!("dset_{name}.csv"));
            std::fs::write(&path, tabular::write_csv(&Table { headers, rows }).map_err(anyhow::Error::msg)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        outln!("stages written to {}", dir.display());
    }
    Ok(())
}
