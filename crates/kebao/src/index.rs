//! `kebao index build`: a composite index from COINr-shaped files.

use anyhow::{bail, Context, Result};
use kebao_composite::{
    Aggregation, Build, BuildSpec, Framework, Imputation, Normalisation, Ties, TreatSpec, Treatment,
    UnitData, Weighting,
};
use kebao_service::tabular::{self, Table};
use std::path::PathBuf;

/// COINr's normalisation parameters, shared by `build` and `uncertainty`.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct NormArgs {
    /// Min-max lower bound (COINr `n_minmax` l_u[1]; default 0, or 1 with a geometric or
    /// harmonic mean, which need positive scores).
    #[arg(long, allow_negative_numbers = true)]
    pub minmax_lower: Option<f64>,
    /// Min-max upper bound (COINr l_u[2]; default 100).
    #[arg(long, allow_negative_numbers = true)]
    pub minmax_upper: Option<f64>,
    /// Z-score mean (COINr `n_zscore` m_sd[1]; default 0, or 10 with a geometric or harmonic mean).
    #[arg(long, allow_negative_numbers = true)]
    pub zscore_mean: Option<f64>,
    /// Z-score standard deviation (COINr m_sd[2]; default 1; must be > 0).
    #[arg(long, allow_negative_numbers = true)]
    pub zscore_sd: Option<f64>,
    /// How rank, prank and borda rank ties: min (COINr's default: 1, 2, 2, 4) | average (1, 2.5, 2.5, 4).
    #[arg(long)]
    pub ties: Option<String>,
    /// Outlier check: an indicator passes if |skew| < this … (COINr skew_thresh, default 2).
    #[arg(long)]
    pub skew_threshold: Option<f64>,
    /// … or kurtosis < this (COINr kurt_thresh, default 3.5).
    #[arg(long)]
    pub kurtosis_threshold: Option<f64>,
}

/// The same options from a `--config` file (its top-level keys).
#[derive(Debug, Default, Clone)]
struct NormConfig {
    minmax_lower: Option<f64>,
    minmax_upper: Option<f64>,
    zscore_mean: Option<f64>,
    zscore_sd: Option<f64>,
    ties: Option<String>,
    skew_threshold: Option<f64>,
    kurtosis_threshold: Option<f64>,
}

impl NormArgs {
    /// Command-line values over the config file's.
    fn or(&self, c: &NormConfig) -> NormArgs {
        NormArgs {
            minmax_lower: self.minmax_lower.or(c.minmax_lower),
            minmax_upper: self.minmax_upper.or(c.minmax_upper),
            zscore_mean: self.zscore_mean.or(c.zscore_mean),
            zscore_sd: self.zscore_sd.or(c.zscore_sd),
            ties: self.ties.clone().or_else(|| c.ties.clone()),
            skew_threshold: self.skew_threshold.or(c.skew_threshold),
            kurtosis_threshold: self.kurtosis_threshold.or(c.kurtosis_threshold),
        }
    }

    fn ties(&self) -> Result<Ties> {
        match self.ties.as_deref().map(str::trim) {
            None | Some("min") => Ok(Ties::Min),
            Some("average") => Ok(Ties::Average),
            Some(other) => bail!("--ties：未知的并列规则 `{other}`，请用 min 或 average / unknown tie rule `{other}`: use min or average"),
        }
    }

    /// The treatment check with these thresholds and `winmax`.
    fn treat(&self, winmax: usize) -> Result<TreatSpec> {
        let d = TreatSpec::default();
        let spec = TreatSpec {
            winmax,
            skew_threshold: self.skew_threshold.unwrap_or(d.skew_threshold),
            kurtosis_threshold: self.kurtosis_threshold.unwrap_or(d.kurtosis_threshold),
            ..d
        };
        for (name, v) in
            [("--skew-threshold", spec.skew_threshold), ("--kurtosis-threshold", spec.kurtosis_threshold)]
        {
            if !v.is_finite() {
                bail!("{name} 必须是有限的数 / {name} must be a finite number, not {v}");
            }
        }
        Ok(spec)
    }
}

/// Options of `kebao index build`.
#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// The framework: COINr's iMeta (.csv, or .toml with `[[iMeta]]` tables).
    #[arg(long)]
    pub framework: PathBuf,
    /// The data: COINr's iData (.csv, or .toml with `[[iData]]` tables).
    #[arg(long)]
    pub data: PathBuf,
    /// A TOML file of build options (`group`, `screen`, `treat`, `winmax`, `skew_threshold`,
    /// `kurtosis_threshold`, `normalisation`, `minmax_lower`, `minmax_upper`, `zscore_mean`,
    /// `zscore_sd`, `ties`, `weights`, `pca_level`, `pca_signed`, `aggregation`, and an
    /// `[uncertainty]` table for `kebao index uncertainty`); options given on the command line win.
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
    /// Most points winsorised per indicator before log_CT (COINr winmax, default 5).
    #[arg(long)]
    pub winmax: Option<usize>,
    /// Normalisation: minmax (default) | zscore | rank | prank | borda | distance.
    #[arg(long)]
    pub normalisation: Option<String>,
    #[command(flatten)]
    pub norm: NormArgs,
    /// Aggregation: arithmetic (default) | geometric | harmonic.
    #[arg(long)]
    pub aggregation: Option<String>,
    /// Weights: given (iMeta's, default) | equal | entropy (熵权法) | pca.
    #[arg(long)]
    pub weights: Option<String>,
    /// PCA weights: the level whose weights come from the first principal component of each
    /// group (COINr `get_PCA` Level, default 1 = the indicators); other levels keep iMeta's.
    #[arg(long)]
    pub pca_level: Option<u32>,
    /// PCA weights: keep the loadings' signs (COINr's raw loadings; a weight may be negative).
    /// Without it the absolute loadings are the weights. Refused with a geometric or harmonic mean.
    #[arg(long)]
    pub pca_signed: bool,
    /// The results table (CSV); an .xlsx is written beside it.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the weights the build used (code, level, parent, weight) as CSV here.
    #[arg(long)]
    pub weights_out: Option<PathBuf>,
    /// Also write every stage (Denominated … Aggregated) as CSV into this directory.
    #[arg(long)]
    pub stages: Option<PathBuf>,
}

/// The `--config` file of `kebao index build` and `kebao index uncertainty`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BuildConfig {
    group: Option<String>,
    screen: Option<f64>,
    treat: Option<bool>,
    winmax: Option<usize>,
    normalisation: Option<String>,
    weights: Option<String>,
    pca_level: Option<u32>,
    pca_signed: Option<bool>,
    aggregation: Option<String>,
    minmax_lower: Option<f64>,
    minmax_upper: Option<f64>,
    zscore_mean: Option<f64>,
    zscore_sd: Option<f64>,
    ties: Option<String>,
    skew_threshold: Option<f64>,
    kurtosis_threshold: Option<f64>,
    uncertainty: Option<UncertaintyConfig>,
}

impl BuildConfig {
    fn norm(&self) -> NormConfig {
        NormConfig {
            minmax_lower: self.minmax_lower,
            minmax_upper: self.minmax_upper,
            zscore_mean: self.zscore_mean,
            zscore_sd: self.zscore_sd,
            ties: self.ties.clone(),
            skew_threshold: self.skew_threshold,
            kurtosis_threshold: self.kurtosis_threshold,
        }
    }
}

/// The `[uncertainty]` table of a `--config` file.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct UncertaintyConfig {
    runs: Option<usize>,
    weight_noise: Option<f64>,
    /// Levels (`2`) or level=factor strings (`"2=0.25"`).
    noise_levels: Option<Vec<toml::Value>>,
    normalisations: Option<Vec<String>>,
    aggregations: Option<Vec<String>>,
    imputations: Option<Vec<String>>,
    winmax: Option<Vec<usize>>,
    treatments: Option<Vec<String>>,
    sensitivity: Option<usize>,
    seed: Option<u64>,
}

fn read_config(path: Option<&PathBuf>) -> Result<BuildConfig> {
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            toml::from_str(&text).with_context(|| format!("{}: not a build configuration", p.display()))
        }
        None => Ok(BuildConfig::default()),
    }
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
    /// The build's TOML options file (see `kebao index build --help`): its top-level keys
    /// set the nominal build, its `[uncertainty]` table these options; the command line wins.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Group column for imputation by group mean.
    #[arg(long)]
    pub group: Option<String>,
    /// Monte Carlo runs (default 1000).
    #[arg(long)]
    pub runs: Option<usize>,
    /// Relative noise on every weight (default 0.25), unless --noise-levels names levels.
    #[arg(long)]
    pub weight_noise: Option<f64>,
    /// Noise on the weights of these levels only (COINr's noise_specs): `2,3` (each with
    /// --weight-noise) or `2=0.25,3=0.1` (a noise factor per level).
    #[arg(long, value_delimiter = ',')]
    pub noise_levels: Option<Vec<String>>,
    /// Normalisation alternatives, the nominal first: minmax (default), zscore, rank, prank, borda.
    #[arg(long, value_delimiter = ',')]
    pub normalisations: Option<Vec<String>>,
    #[command(flatten)]
    pub norm: NormArgs,
    /// Aggregation alternatives, the nominal first: arithmetic (default), geometric, harmonic.
    #[arg(long, value_delimiter = ',')]
    pub aggregations: Option<Vec<String>>,
    /// Imputation alternatives, the nominal first: group (default; needs --group), mean, median.
    #[arg(long, value_delimiter = ',')]
    pub imputations: Option<Vec<String>>,
    /// Winsorisation-limit alternatives (COINr winmax), the nominal first (default 5; COINr's
    /// vignette varies it over 1–5: `5,1,2,3,4`).
    #[arg(long, value_delimiter = ',')]
    pub winmax: Option<Vec<usize>>,
    /// Treatment alternatives, the nominal first: default (winsorise, then log_CT: COINr's),
    /// winsorise (no log_CT: COINr's f2 = NULL), none.
    #[arg(long, value_delimiter = ',')]
    pub treatments: Option<Vec<String>>,
    /// Also estimate sensitivity indices with this many base samples (N·(k+2) runs).
    #[arg(long)]
    pub sensitivity: Option<usize>,
    /// Seed of the noisy weights and the samples (default 1).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Write the rank statistics here (CSV).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the noisy weight sets here (CSV: set, code, level, parent, weight).
    #[arg(long)]
    pub weights_out: Option<PathBuf>,
}

/// A normalisation by name with COINr's parameters (`positive`: a geometric or harmonic
/// mean follows, so unset lower bounds leave zero).
fn normalisation(name: &str, positive: bool, o: &NormArgs) -> Result<Normalisation> {
    let ties = o.ties()?;
    let n = match name.trim() {
        "minmax" => {
            let lo = o.minmax_lower.unwrap_or(if positive { 1.0 } else { 0.0 });
            let hi = o.minmax_upper.unwrap_or(100.0);
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                bail!(
                    "--minmax-lower/--minmax-upper：下限 {lo} 必须小于上限 {hi} 且均为有限数 / the lower bound {lo} must be below the upper bound {hi}, both finite"
                );
            }
            Normalisation::MinMax { lo, hi }
        }
        "zscore" => {
            let mean = o.zscore_mean.unwrap_or(if positive { 10.0 } else { 0.0 });
            let sd = o.zscore_sd.unwrap_or(1.0);
            if !(mean.is_finite() && sd.is_finite()) {
                bail!(
                    "--zscore-mean/--zscore-sd 必须是有限的数 / must be finite numbers, not {mean} and {sd}"
                );
            }
            if sd <= 0.0 {
                bail!("--zscore-sd：标准差必须大于 0 / the standard deviation must be > 0, not {sd}");
            }
            Normalisation::ZScore { mean, sd }
        }
        "rank" => Normalisation::Rank { ties },
        "prank" => Normalisation::PercentileRank { ties },
        "borda" => Normalisation::Borda { ties },
        "distance" => Normalisation::DistanceToTarget,
        other => bail!("unknown normalisation `{other}`: use minmax, zscore, rank, prank, borda or distance"),
    };
    n.check()?;
    Ok(n)
}

fn aggregation(name: &str) -> Result<Aggregation> {
    Ok(match name.trim() {
        "arithmetic" => Aggregation::ArithmeticMean,
        "geometric" => Aggregation::GeometricMean,
        "harmonic" => Aggregation::HarmonicMean,
        other => bail!("unknown aggregation `{other}`: use arithmetic, geometric or harmonic"),
    })
}

/// `2,3` or `2=0.25,3=0.1` → (level, factor).
fn noise_levels(items: &[String], noise: f64) -> Result<Vec<(u32, f64)>> {
    items
        .iter()
        .map(|item| {
            let (level, factor) = match item.split_once('=') {
                Some((l, f)) => (l.trim(), Some(f.trim())),
                None => (item.trim(), None),
            };
            let level: u32 = level.parse().map_err(|_| {
                anyhow::anyhow!("--noise-levels：`{item}` 不是层级 / `{item}` is not a level (write 2 or 2=0.25)")
            })?;
            let factor = match factor {
                Some(f) => f.parse::<f64>().map_err(|_| {
                    anyhow::anyhow!("--noise-levels：`{item}` 的噪声不是数字 / `{item}`: the noise factor is not a number")
                })?,
                None => noise,
            };
            Ok((level, factor))
        })
        .collect()
}

fn treatment(name: &str, spec: TreatSpec) -> Result<Option<TreatSpec>> {
    Ok(match name.trim() {
        "default" => Some(spec),
        "winsorise" => Some(TreatSpec { log_fallback: false, ..spec }),
        "none" => None,
        other => bail!(
            "--treatments：未知的处理 `{other}` / unknown treatment `{other}`: use default, winsorise or none"
        ),
    })
}

/// The most Monte Carlo runs or sensitivity base samples.
const MAX_RUNS: usize = 1_000_000;

/// Runs `kebao index uncertainty`.
pub fn uncertainty(args: &UncertaintyArgs) -> Result<()> {
    use kebao_composite::uncertainty::{self, Model, UncertaintySpec};
    let (fw, data) = load(&args.framework, &args.data)?;
    let mut config = read_config(args.config.as_ref())?;
    if config.weights.as_deref().is_some_and(|w| w != "given") {
        bail!(
            "`kebao index uncertainty` varies iMeta's weights; the config's `weights` must be `given` / 不确定性分析只扰动 iMeta 的权重"
        );
    }
    let u = config.uncertainty.take().unwrap_or_default();
    let norm = args.norm.or(&config.norm());
    let group = args.group.clone().or(config.group.clone());
    let runs = args.runs.or(u.runs).unwrap_or(1000);
    let weight_noise = args.weight_noise.or(u.weight_noise).unwrap_or(0.25);
    let seed = args.seed.or(u.seed).unwrap_or(1);
    let sensitivity = args.sensitivity.or(u.sensitivity);
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    // Each run keeps a rank per unit, and each sensitivity sample a row of inputs.
    if runs > MAX_RUNS || sensitivity.is_some_and(|n| n > MAX_RUNS) {
        bail!("--runs 与 --sensitivity 最多 {MAX_RUNS} / --runs and --sensitivity are at most {MAX_RUNS}");
    }
    if !(0.0..1.0).contains(&weight_noise) {
        bail!("--weight-noise is a share between 0 and 1, not {weight_noise}");
    }
    let listed =
        |cli: &Option<Vec<String>>, file: Option<Vec<String>>, nominal: Option<String>, default: &str| {
            cli.clone().or(file).unwrap_or_else(|| vec![nominal.unwrap_or_else(|| default.to_owned())])
        };
    let aggregations = listed(&args.aggregations, u.aggregations, config.aggregation.clone(), "arithmetic")
        .iter()
        .map(|a| aggregation(a))
        .collect::<Result<Vec<_>>>()?;
    let positive = aggregations.iter().any(|a| !matches!(a, Aggregation::ArithmeticMean));
    let normalisations =
        listed(&args.normalisations, u.normalisations, config.normalisation.clone(), "minmax")
            .iter()
            .map(|n| match n.trim() {
                "distance" => {
                    bail!("unknown normalisation `distance` here: use minmax, zscore, rank, prank or borda")
                }
                other => normalisation(other, positive, &norm),
            })
            .collect::<Result<Vec<_>>>()?;
    let from_file = u.noise_levels.map(|v| {
        v.iter()
            .map(|x| match x {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                // Refused below as not a level.
                _ => "(not a level)".to_owned(),
            })
            .collect::<Vec<_>>()
    });
    let noise_levels = match args.noise_levels.clone().or(from_file) {
        Some(items) => noise_levels(&items, weight_noise)?,
        None => Vec::new(),
    };
    let nominal_winmax = config.winmax.unwrap_or(TreatSpec::default().winmax);
    let winmax = args.winmax.clone().or(u.winmax).unwrap_or_else(|| vec![nominal_winmax]);
    let treat = norm.treat(winmax.first().copied().unwrap_or(nominal_winmax))?;
    let nominal_treatment = if config.treat == Some(false) { "none" } else { "default" };
    let treatments = args
        .treatments
        .clone()
        .or(u.treatments)
        .unwrap_or_else(|| vec![nominal_treatment.to_owned()])
        .iter()
        .map(|t| treatment(t, treat))
        .collect::<Result<Vec<_>>>()?;
    let mut base = BuildSpec::coinr_default(group.as_deref().unwrap_or(""));
    if group.is_none() {
        base.imputation = Imputation::Mean;
    }
    if let Some(screen) = config.screen {
        if !(0.0..=1.0).contains(&screen) {
            bail!("the screen threshold is a share between 0 and 1, not {screen}");
        }
        base.screen_threshold = screen;
    }
    base.normalisation = normalisations.first().copied().unwrap_or(base.normalisation);
    base.aggregation = aggregations.first().copied().unwrap_or(base.aggregation);
    base.treatment = treatments.first().copied().unwrap_or(base.treatment);
    let imputations = listed(&args.imputations, u.imputations, None, "group")
        .iter()
        .map(|i| match (i.trim(), &group) {
            ("group", Some(g)) => Ok(Imputation::GroupMean(g.clone())),
            ("group", None) | ("mean", _) => Ok(Imputation::Mean),
            ("median", _) => Ok(Imputation::Median),
            (other, _) => Err(anyhow::anyhow!("unknown imputation `{other}`: use group, mean or median")),
        })
        .collect::<Result<Vec<_>>>()?;
    base.imputation = imputations.first().cloned().unwrap_or(base.imputation);
    let spec = UncertaintySpec {
        seed,
        weight_noise,
        noise_levels,
        normalisations,
        aggregations,
        imputations,
        treatments,
        winmax: if winmax.len() > 1 { winmax } else { Vec::new() },
    };
    let model = Model::new(&fw, &data, &base, &spec)?;
    let pb = crate::bar(runs as u64, "runs");
    let started = std::time::Instant::now();
    let stats = uncertainty::uncertainty(&model, runs, seed, &mut |d, t| {
        pb.set_length(t as u64);
        pb.set_position(d as u64);
    });
    pb.finish_and_clear();
    outln!("{} runs over {} in {:.2} s", runs, model.inputs().join(", "), started.elapsed().as_secs_f64());
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
    if let Some(path) = &args.weights_out {
        let mut rows = Vec::new();
        for (i, set) in model.weight_sets().iter().enumerate() {
            for n in fw.nodes.iter().filter(|n| n.parent.is_some()) {
                rows.push(vec![
                    (i + 1).to_string(),
                    n.code.clone(),
                    n.level.to_string(),
                    n.parent.clone().unwrap_or_default(),
                    set.get(&n.code).copied().unwrap_or(n.weight).to_string(),
                ]);
            }
        }
        let headers = ["set", "code", "level", "parent", "weight"].iter().map(|h| (*h).to_owned()).collect();
        std::fs::write(path, tabular::write_csv(&Table { headers, rows }).map_err(anyhow::Error::msg)?)
            .with_context(|| format!("writing {}", path.display()))?;
        outln!("weight sets written to {}", path.display());
    }
    if let Some(n) = sensitivity {
        let k = model.inputs().len();
        if k == 0 {
            bail!("nothing is uncertain: give --weight-noise, or several normalisations or aggregations");
        }
        if crate::out::closed() {
            // The indices would only be printed, and nobody reads standard output any more.
            return Ok(());
        }
        let pb = crate::bar((n * (k + 2)) as u64, "sensitivity");
        let idx = uncertainty::sensitivity(&model, n, seed, &mut |d, t| {
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
    let config = read_config(args.config.as_ref())?;
    let norm_args = args.norm.or(&config.norm());
    let group = args.group.clone().or(config.group);
    let screen = args.screen.or(config.screen).unwrap_or(0.9);
    if !(0.0..=1.0).contains(&screen) {
        bail!("the screen threshold is a share between 0 and 1, not {screen}");
    }
    let treat = !args.no_treat && config.treat.unwrap_or(true);
    let winmax = args.winmax.or(config.winmax).unwrap_or(TreatSpec::default().winmax);
    let treat_spec = norm_args.treat(winmax)?;
    let aggregation_name =
        args.aggregation.clone().or(config.aggregation).unwrap_or_else(|| "arithmetic".into());
    let agg = aggregation(&aggregation_name)?;
    let positive = agg != Aggregation::ArithmeticMean;
    let norm_name = args.normalisation.clone().or(config.normalisation).unwrap_or_else(|| "minmax".into());
    let norm = normalisation(&norm_name, positive, &norm_args)?;
    let weights_name = args.weights.clone().or(config.weights).unwrap_or_else(|| "given".into());
    let pca_level = args.pca_level.or(config.pca_level);
    let pca_signed = args.pca_signed || config.pca_signed.unwrap_or(false);
    if weights_name != "pca" && (pca_level.is_some() || pca_signed) {
        bail!("--pca-level 与 --pca-signed 只用于 --weights pca / --pca-level and --pca-signed apply to --weights pca only");
    }
    let weighting = match weights_name.as_str() {
        "given" => Weighting::Given,
        "equal" => Weighting::Equal,
        "entropy" => Weighting::Entropy,
        "pca" => {
            let level = pca_level.unwrap_or(1);
            if pca_signed && positive {
                bail!(
                    "--pca-signed：带符号的载荷可能是负权重，几何或调和平均无法使用 / signed loadings can be negative weights, which the {aggregation_name} mean cannot take"
                );
            }
            Weighting::Pca { level, signed: pca_signed }
        }
        other => bail!("unknown weights `{other}`: use given, equal, entropy or pca"),
    };
    let spec = BuildSpec {
        imputation: match &group {
            Some(g) => Imputation::GroupMean(g.clone()),
            None => Imputation::Mean,
        },
        screen_threshold: screen,
        treatment: if treat { Some(treat_spec) } else { None },
        normalisation: norm,
        aggregation: agg,
        weighting,
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
    if let Some(path) = &args.weights_out {
        let headers = ["code", "level", "parent", "weight"].iter().map(|h| (*h).to_owned()).collect();
        let rows = b
            .weights
            .iter()
            .map(|w| vec![w.code.clone(), w.level.to_string(), w.parent.clone(), w.weight.to_string()])
            .collect();
        std::fs::write(path, tabular::write_csv(&Table { headers, rows }).map_err(anyhow::Error::msg)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
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
    if let Some(path) = &args.weights_out {
        outln!("weights written to {}", path.display());
    }
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
