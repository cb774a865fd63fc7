//! `kebao fit glm`: read a CSV, fit a GLM, print R-style output, write a rating plan.

use anyhow::{bail, Context, Result};
use kebao_glm::plan::RatingPlan;
use kebao_glm::{fit, Data, Factor, Family, Fit, Link, Spec, TestKind};
use kebao_table::{Kind, Spec as Columns, Values};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Options of `kebao fit glm`.
#[derive(clap::Args, Debug)]
pub struct GlmArgs {
    /// A CSV file with a header row.
    #[arg(long)]
    pub data: PathBuf,
    /// poisson | gamma | tweedie | binomial | gaussian
    #[arg(long)]
    pub family: String,
    /// The response column.
    #[arg(long)]
    pub response: String,
    /// Link: log | logit | identity (default: log for poisson, gamma, tweedie; logit for
    /// binomial; identity for gaussian).
    #[arg(long)]
    pub link: Option<String>,
    /// Tweedie variance power, 1 < p < 2.
    #[arg(long)]
    pub power: Option<f64>,
    /// Offset: `log:COL` (log of an exposure column, which must be > 0) or `COL` (already
    /// on the linear-predictor scale).
    #[arg(long)]
    pub offset: Option<String>,
    /// Prior weights column.
    #[arg(long)]
    pub weights: Option<String>,
    /// Categorical rating factors, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub factors: Vec<String>,
    /// Numeric terms, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub numeric: Vec<String>,
    /// Reference levels, `FACTOR=LEVEL` (default: the first level in sorted order).
    #[arg(long = "reference", value_delimiter = ',')]
    pub references: Vec<String>,
    /// L2 penalty λ on every coefficient but the intercept.
    #[arg(long, default_value_t = 0.0)]
    pub l2: f64,
    /// Write the model as a JSON rating plan (log link only; see docs/rating-plan.md).
    #[arg(long)]
    pub plan: Option<PathBuf>,
}

enum Col {
    Num(Vec<f64>),
    Fac(Factor),
}

fn family(args: &GlmArgs) -> Result<Family> {
    Ok(match args.family.trim().to_ascii_lowercase().as_str() {
        "poisson" => Family::Poisson,
        "gamma" => Family::Gamma,
        "binomial" => Family::Binomial,
        "gaussian" | "normal" => Family::Gaussian,
        "tweedie" => Family::Tweedie(args.power.context("--family tweedie needs --power P with 1 < P < 2")?),
        other => bail!("unknown family `{other}`: use poisson, gamma, tweedie, binomial or gaussian"),
    })
}

/// Reads the named columns: numbers, or factors. Every cell must be present (an empty or
/// `NA` cell is an error); errors name the line and the column.
fn read(path: &Path, numeric: &[String], factors: &[String]) -> Result<HashMap<String, Col>> {
    let wanted: Vec<(&String, Kind)> = numeric
        .iter()
        .map(|n| (n, Kind::Number))
        .chain(factors.iter().map(|f| (f, Kind::Category)))
        .collect();
    let spec = Columns::columns(&wanted).missing(&["", "NA"]).required(true);
    let table = kebao_table::read_csv(path, &spec)?;
    let mut cols = HashMap::new();
    for c in table.columns {
        let col = match c.values {
            Values::Number(v) => Col::Num(v),
            Values::Category { codes, levels } => Col::Fac(Factor::from_levels(&c.name, codes, levels)?),
        };
        cols.insert(c.name, col);
    }
    Ok(cols)
}

/// Runs `kebao fit glm`.
pub fn run(args: &GlmArgs) -> Result<()> {
    let family = family(args)?;
    let link = match &args.link {
        Some(l) => {
            Link::parse(l).with_context(|| format!("unknown link `{l}`: use log, logit or identity"))?
        }
        None => family.default_link(),
    };
    let (offset_col, offset_log) = match args.offset.as_deref() {
        Some(o) => match o.strip_prefix("log:") {
            Some(c) => (Some(c.to_owned()), true),
            None => (Some(o.to_owned()), false),
        },
        None => (None, false),
    };
    let mut numeric: Vec<String> = vec![args.response.clone()];
    numeric.extend(args.numeric.iter().cloned());
    numeric.extend(args.weights.iter().cloned());
    numeric.extend(offset_col.iter().cloned());
    let started = std::time::Instant::now();
    let mut cols = read(&args.data, &numeric, &args.factors)?;
    let load_s = started.elapsed().as_secs_f64();
    let num = |cols: &HashMap<String, Col>, n: &str| -> Vec<f64> {
        match cols.get(n) {
            Some(Col::Num(v)) => v.clone(),
            _ => Vec::new(),
        }
    };
    let y = num(&cols, &args.response);
    let weights = args.weights.as_ref().map(|w| num(&cols, w));
    let offset = match &offset_col {
        Some(c) => {
            let raw = num(&cols, c);
            if offset_log {
                if let Some(row) = raw.iter().position(|&e| e <= 0.0) {
                    bail!(
                        "line {}: exposure `{c}` is {} — log(exposure) needs exposure > 0",
                        row + 2,
                        raw.get(row).copied().unwrap_or(0.0)
                    );
                }
                Some(raw.iter().map(|e| e.ln()).collect::<Vec<f64>>())
            } else {
                Some(raw)
            }
        }
        None => None,
    };
    let refs: HashMap<&str, &str> = args
        .references
        .iter()
        .map(|r| r.split_once('=').with_context(|| format!("--reference `{r}`: write FACTOR=LEVEL")))
        .collect::<Result<_>>()?;
    let mut factors = Vec::new();
    for name in &args.factors {
        let Some(Col::Fac(mut f)) = cols.remove(name) else { continue };
        if let Some(level) = refs.get(name.as_str()) {
            f = f.with_reference(level)?;
        }
        factors.push(f);
    }
    if let Some(unknown) = refs.keys().find(|k| !args.factors.iter().any(|f| f == *k)) {
        bail!("--reference names `{unknown}`, which is not among --factors");
    }
    let numerics: Vec<(String, Vec<f64>)> = args.numeric.iter().map(|n| (n.clone(), num(&cols, n))).collect();
    let mut data = Data::new(&y);
    if let Some(w) = &weights {
        data = data.weights(w);
    }
    if let Some(o) = &offset {
        data = data.offset(o);
    }
    for f in factors {
        data = data.factor(f);
    }
    for (n, x) in &numerics {
        data = data.numeric(n, x);
    }
    let spec = Spec::new(family).link(link).l2(args.l2);
    let t = std::time::Instant::now();
    let model = fit(&data, &spec)?;
    let fit_s = t.elapsed().as_secs_f64();
    print_fit(&model);
    eprintln!("time: load {load_s:.3} s, fit {fit_s:.3} s");
    if let Some(path) = &args.plan {
        let values: Vec<(&str, &[f64])> = numerics.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
        let exposure = args.offset.as_deref().map(|o| match o.strip_prefix("log:") {
            Some(c) => format!("log({c}) as offset"),
            None => format!("{o} as offset"),
        });
        let plan = RatingPlan::from_fit(&model, &args.response, exposure.as_deref(), &values)?;
        std::fs::write(path, plan.to_json()).with_context(|| format!("writing {}", path.display()))?;
        outln!("rating plan written to {}", path.display());
    }
    Ok(())
}

fn p_text(p: f64) -> String {
    if p < 2e-16 {
        "< 2e-16".to_owned()
    } else if p < 1e-4 {
        format!("{p:.2e}")
    } else {
        format!("{p:.6}")
    }
}

/// Prints the fit as R's `summary.glm` lays it out.
pub fn print_fit(f: &Fit) {
    let power = match f.family {
        Family::Tweedie(p) => format!(", power {p}"),
        _ => String::new(),
    };
    outln!(
        "family: {}{power} ({} link); {} observations; {} iterations",
        f.family.name(),
        f.link.name(),
        f.n_obs,
        f.iterations
    );
    let (stat, pcol) = match f.test {
        TestKind::Z => ("z value", "Pr(>|z|)"),
        TestKind::T => ("t value", "Pr(>|t|)"),
    };
    let width = f.coefficients.iter().map(|c| c.name.chars().count()).max().unwrap_or(10).max(11);
    outln!("{:<width$} {:>14} {:>12} {:>10} {:>10}", "", "Estimate", "Std. Error", stat, pcol);
    for c in &f.coefficients {
        match (c.estimate, c.std_error, c.statistic, c.p_value) {
            (Some(e), Some(s), Some(z), Some(p)) => {
                outln!("{:<width$} {e:>14.8} {s:>12.8} {z:>10.4} {:>10}", c.name, p_text(p))
            }
            _ => outln!("{:<width$} {:>14} {:>12} {:>10} {:>10}", c.name, "aliased", "", "", ""),
        }
    }
    let aliased = f.coefficients.iter().filter(|c| c.estimate.is_none()).count();
    if aliased > 0 {
        outln!("({aliased} coefficient(s) not defined because of singularities)");
    }
    outln!(
        "dispersion: {}",
        if f.family.fixed_dispersion() {
            "1 (fixed)".to_owned()
        } else {
            format!("{:.8} (Pearson)", f.dispersion)
        }
    );
    outln!("null deviance: {:.7} on {} degrees of freedom", f.null_deviance, f.df_null);
    outln!("deviance: {:.7} on {} degrees of freedom", f.deviance, f.df_residual);
    match f.aic {
        Some(a) => outln!("AIC: {a:.5}"),
        None => outln!("AIC: not defined for this family"),
    }
    if f.l2 > 0.0 {
        outln!("L2 penalty: {}", f.l2);
    }
}
