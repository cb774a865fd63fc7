//! The zone's development index (C11, plan 三（五）): the indicator framework as data
//! (`data/zone/index.toml`), the units it ranks, and the options of its build and of its
//! uncertainty analysis. The framework is written out as COINr's `iMeta` and the build options
//! as the `--config` file of `kebao index build`, so that a stored run can be rebuilt outside
//! the platform.

use crate::org::string_enum;
use std::collections::{HashMap, HashSet};

string_enum! {
    /// What an index run ranks.
    UnitKind {
        Park = "park", "园区", "Parks";
        Industry = "industry", "5+2 产业", "5+2 industries";
        Region = "region", "地区对比", "Regions compared";
    }
}

/// How the platform computes an indicator for a unit and a year from its own tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measure {
    /// Enterprises with a policy in force in the year ÷ enterprises registered × 100.
    InsuredShare,
    /// Premium written ÷ enterprises registered (yuan).
    PremiumPerFirm,
    /// Cover written ÷ R&D expense reported for the year.
    CoverPerRnd,
    /// Policies of these catalogue types written × 100 ÷ enterprises registered.
    FirstSetPer100(Vec<String>),
    /// Enterprises granted a subsidy ÷ enterprises insured × 100.
    SubsidyReach,
    /// Insurance-backed loan principal disbursed ÷ enterprises registered (yuan).
    LoansPerFirm,
    /// Mean days from a claim's report to its decision, for claims decided in the year.
    ClaimDays,
    /// Claims paid ÷ premium earned × 100.
    PayoutRatio,
    /// Disputes raised × 1000 ÷ policies in force.
    ComplaintsPerK,
    /// Only from imported official statistics.
    Official,
}

impl Measure {
    fn parse(code: &str, types: Vec<String>) -> Option<Measure> {
        Some(match code {
            "insured_share" => Measure::InsuredShare,
            "premium_per_firm" => Measure::PremiumPerFirm,
            "cover_per_rnd" => Measure::CoverPerRnd,
            "first_set_per_100" => Measure::FirstSetPer100(types),
            "subsidy_reach" => Measure::SubsidyReach,
            "loans_per_firm" => Measure::LoansPerFirm,
            "claim_days" => Measure::ClaimDays,
            "payout_ratio" => Measure::PayoutRatio,
            "complaints_per_k" => Measure::ComplaintsPerK,
            "official" => Measure::Official,
            _ => return None,
        })
    }

    /// Where the figures come from, in both languages.
    pub fn source_label(&self) -> (&'static str, &'static str) {
        match self {
            Measure::Official => ("导入的官方统计", "imported official statistics"),
            _ => ("平台业务数据", "the platform's own records"),
        }
    }
}

/// An indicator or an aggregate of the framework.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexNode {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// 1 for indicators; an aggregate is one above its highest child.
    pub level: u32,
    pub parent: Option<String>,
    /// +1 more is better, −1 less is better (indicators).
    pub direction: i32,
    pub weight: f64,
    /// `Some` for an indicator.
    pub measure: Option<Measure>,
    pub unit_zh: String,
    pub unit_en: String,
    pub definition_zh: String,
    pub definition_en: String,
    /// The plan paragraph it serves (`三（一）`).
    pub plan: String,
}

impl IndexNode {
    pub fn is_indicator(&self) -> bool {
        self.measure.is_some()
    }
}

/// A region compared with the zone.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
}

/// The nominal build.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildOptions {
    /// Keep units with at least this share of the indicators.
    pub screen: f64,
    /// Winsorise and log-transform outliers (COINr's default treatment).
    pub treat: bool,
    /// `minmax` (0–100) or `rank`.
    pub normalisation: String,
    /// `arithmetic` only (the geometric and harmonic means need positive scores, which
    /// min-max from 0 does not give).
    pub aggregation: String,
}

/// The uncertainty analysis.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UncertaintyOptions {
    pub runs: usize,
    pub weight_noise: f64,
    pub normalisations: Vec<String>,
    pub imputations: Vec<String>,
    pub seed: u64,
}

/// The most Monte Carlo runs a stored run does.
pub const MAX_RUNS: usize = 20_000;

/// A checked framework.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexFramework {
    pub version: String,
    pub name_zh: String,
    pub name_en: String,
    pub first_year: i32,
    pub last_year: i32,
    pub confidence: String,
    pub build: BuildOptions,
    pub uncertainty: UncertaintyOptions,
    pub regions: Vec<Region>,
    /// In file order; the root first by convention, not by need.
    pub nodes: Vec<IndexNode>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    code: String,
    name_zh: String,
    name_en: String,
    parent: Option<String>,
    #[serde(default = "one")]
    weight: f64,
    #[serde(default = "one_i")]
    direction: i32,
    measure: Option<String>,
    #[serde(default)]
    types: Vec<String>,
    #[serde(default)]
    unit_zh: String,
    #[serde(default)]
    unit_en: String,
    #[serde(default)]
    definition_zh: String,
    #[serde(default)]
    definition_en: String,
    #[serde(default)]
    plan: String,
}

fn one() -> f64 {
    1.0
}

fn one_i() -> i32 {
    1
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: String,
    name_zh: String,
    name_en: String,
    first_year: i32,
    last_year: i32,
    confidence: String,
    build: BuildOptions,
    uncertainty: UncertaintyOptions,
    #[serde(default)]
    region: Vec<Region>,
    node: Vec<RawNode>,
}

/// Why a framework was refused: every problem, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|(_, en)| en.as_str()).collect::<Vec<_>>().join("; "))]
pub struct FrameworkError(pub Vec<(String, String)>);

impl FrameworkError {
    pub fn message_zh(&self) -> String {
        self.0.iter().map(|(zh, _)| zh.as_str()).collect::<Vec<_>>().join("；")
    }
}

fn code_ok(c: &str) -> bool {
    (1..=40).contains(&c.len())
        && c.starts_with(|ch: char| ch.is_ascii_alphabetic())
        && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The largest framework file taken (256 KiB).
pub const MAX_FRAMEWORK_BYTES: usize = 256 * 1024;

/// Reads and checks a framework: the shape, unique codes, one root, parents that are
/// aggregates, no cycle, every aggregate with children whose weights sum to more than zero,
/// directions ±1, measures the platform knows, a sensible year range and options.
pub fn parse(text: &str) -> Result<IndexFramework, FrameworkError> {
    if text.len() > MAX_FRAMEWORK_BYTES {
        return Err(FrameworkError(vec![(
            "框架文件过大（上限 256 KB）".into(),
            "the framework file is too large (at most 256 KB)".into(),
        )]));
    }
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        FrameworkError(vec![(
            format!("框架文件格式有误：{}", e.message()),
            format!("not a framework file: {e}"),
        )])
    })?;
    let mut errs: Vec<(String, String)> = Vec::new();
    let mut err = |zh: String, en: String| errs.push((zh, en));
    if raw.version.trim().is_empty() || raw.version.len() > 40 {
        err("版本号须为 1–40 个字符".into(), "the version must be 1–40 characters".into());
    }
    if !(2000..=2100).contains(&raw.first_year) || raw.last_year < raw.first_year || raw.last_year > 2100 {
        err(
            format!("年份范围 {}–{} 无效（2000–2100）", raw.first_year, raw.last_year),
            format!("the years {}–{} are not a range within 2000–2100", raw.first_year, raw.last_year),
        );
    }
    if !["C", "C-local", "U"].contains(&raw.confidence.as_str()) {
        err(
            format!("可信度 `{}` 须为 C、C-local 或 U", raw.confidence),
            format!("confidence `{}` must be C, C-local or U", raw.confidence),
        );
    }
    let b = &raw.build;
    if !(0.0..=1.0).contains(&b.screen) {
        err(
            format!("build.screen {} 须在 0 到 1 之间", b.screen),
            format!("build.screen {} must be between 0 and 1", b.screen),
        );
    }
    if !["minmax", "rank"].contains(&b.normalisation.as_str()) {
        err(
            format!("build.normalisation `{}` 须为 minmax 或 rank", b.normalisation),
            format!("build.normalisation `{}` must be minmax or rank", b.normalisation),
        );
    }
    if b.aggregation != "arithmetic" {
        err(
            format!("build.aggregation `{}` 须为 arithmetic（算术平均）", b.aggregation),
            format!("build.aggregation `{}` must be arithmetic", b.aggregation),
        );
    }
    let u = &raw.uncertainty;
    if !(1..=MAX_RUNS).contains(&u.runs) {
        err(
            format!("uncertainty.runs 须在 1 到 {MAX_RUNS} 之间"),
            format!("uncertainty.runs must be 1 to {MAX_RUNS}"),
        );
    }
    if !(0.0..1.0).contains(&u.weight_noise) {
        err(
            format!("uncertainty.weight_noise {} 须在 [0, 1) 之间", u.weight_noise),
            format!("uncertainty.weight_noise {} must be in [0, 1)", u.weight_noise),
        );
    }
    if u.normalisations.first() != Some(&b.normalisation)
        || u.normalisations.iter().any(|n| !["minmax", "rank"].contains(&n.as_str()))
        || u.normalisations.len() > 4
    {
        err(
            "uncertainty.normalisations 须以名义方法开头，且只含 minmax、rank".into(),
            "uncertainty.normalisations must start with the nominal one and list only minmax and rank".into(),
        );
    }
    if u.imputations.first().map(String::as_str) != Some("mean")
        || u.imputations.iter().any(|n| !["mean", "median"].contains(&n.as_str()))
        || u.imputations.len() > 2
    {
        err(
            "uncertainty.imputations 须以 mean 开头，且只含 mean、median".into(),
            "uncertainty.imputations must start with mean and list only mean and median".into(),
        );
    }
    let mut codes = HashSet::new();
    for r in &raw.region {
        if !code_ok(&r.id) || r.id == ZONE_UNIT || !codes.insert(r.id.clone()) {
            err(
                format!("对比地区 `{}` 的代码无效或重复", r.id),
                format!("region `{}`: the id is malformed or repeated", r.id),
            );
        }
    }
    let mut codes = HashSet::new();
    let aggregates: HashSet<&str> =
        raw.node.iter().filter(|n| n.measure.is_none()).map(|n| n.code.as_str()).collect();
    let mut nodes = Vec::new();
    for n in &raw.node {
        let c = &n.code;
        if !code_ok(c) {
            err(
                format!("代码 `{c}` 须为字母开头的 1–40 个字母、数字或下划线"),
                format!("code `{c}` must be 1–40 letters, digits or `_`, starting with a letter"),
            );
        }
        if !codes.insert(c.clone()) {
            err(format!("代码 `{c}` 重复"), format!("the code `{c}` is defined twice"));
        }
        if n.name_zh.trim().is_empty() || n.name_en.trim().is_empty() {
            err(format!("`{c}` 缺少中文或英文名称"), format!("`{c}` needs a Chinese and an English name"));
        }
        if !n.weight.is_finite() || n.weight < 0.0 {
            err(
                format!("`{c}` 的权重 {} 须为不小于 0 的有限数", n.weight),
                format!("`{c}` has weight {}; weights must be finite and ≥ 0", n.weight),
            );
        }
        if let Some(p) = &n.parent {
            if !aggregates.contains(p.as_str()) {
                err(
                    format!("`{c}` 的上级 `{p}` 不是框架中的汇总项"),
                    format!("`{c}` has the parent `{p}`, which is not an aggregate in the framework"),
                );
            }
        }
        let measure = match &n.measure {
            None => None,
            Some(m) => match Measure::parse(m, n.types.clone()) {
                Some(Measure::FirstSetPer100(t)) if t.is_empty() => {
                    err(
                        format!("`{c}` 须以 types 列出计入的产品类型"),
                        format!("`{c}` must list the product types it counts in `types`"),
                    );
                    None
                }
                Some(m) => Some(m),
                None => {
                    err(
                        format!("`{c}` 的计算口径 `{m}` 不是平台提供的指标"),
                        format!("`{c}`: the measure `{m}` is not one the platform computes"),
                    );
                    None
                }
            },
        };
        if n.measure.is_some() && n.parent.is_none() {
            err(format!("指标 `{c}` 须有上级"), format!("the indicator `{c}` needs a parent"));
        }
        if n.measure.is_some() && n.direction != 1 && n.direction != -1 {
            err(format!("`{c}` 的方向须为 1 或 -1"), format!("`{c}`: the direction must be 1 or -1"));
        }
        nodes.push(IndexNode {
            code: c.clone(),
            name_zh: n.name_zh.clone(),
            name_en: n.name_en.clone(),
            level: 1,
            parent: n.parent.clone(),
            direction: if n.measure.is_some() { n.direction } else { 1 },
            weight: n.weight,
            measure: if n.measure.is_some() { Some(measure.unwrap_or(Measure::Official)) } else { None },
            unit_zh: n.unit_zh.clone(),
            unit_en: n.unit_en.clone(),
            definition_zh: n.definition_zh.clone(),
            definition_en: n.definition_en.clone(),
            plan: n.plan.clone(),
        });
    }
    let roots: Vec<&str> = nodes.iter().filter(|n| n.parent.is_none()).map(|n| n.code.as_str()).collect();
    if roots.len() != 1 {
        err(
            format!("框架须恰有一个根（无上级的汇总项），现有：{}", roots.join("、")),
            format!(
                "the framework needs exactly one root (an aggregate without a parent); found {}",
                roots.join(", ")
            ),
        );
    }
    // Cycles: follow each node's parents; a walk longer than the framework went round.
    let parent: HashMap<&str, &str> =
        nodes.iter().filter_map(|n| n.parent.as_deref().map(|p| (n.code.as_str(), p))).collect();
    let mut in_cycle = None;
    for n in &nodes {
        let mut at = n.code.as_str();
        let mut steps = 0;
        while let Some(p) = parent.get(at) {
            at = p;
            steps += 1;
            if steps > nodes.len() {
                in_cycle = Some(n.code.clone());
                break;
            }
        }
        if in_cycle.is_some() {
            break;
        }
    }
    if let Some(c) = &in_cycle {
        err(format!("框架存在循环（经过 `{c}`）"), format!("the framework has a cycle through `{c}`"));
    }
    for a in nodes.iter().filter(|n| !n.is_indicator()) {
        let children: Vec<&IndexNode> =
            nodes.iter().filter(|n| n.parent.as_deref() == Some(a.code.as_str())).collect();
        if children.is_empty() {
            err(format!("汇总项 `{}` 没有下级", a.code), format!("aggregate `{}` has no children", a.code));
        } else if children.iter().map(|c| c.weight).sum::<f64>() <= 0.0 {
            err(
                format!("汇总项 `{}` 的下级权重之和为零", a.code),
                format!("aggregate `{}`: its children's weights sum to zero", a.code),
            );
        }
    }
    if !nodes.iter().any(IndexNode::is_indicator) {
        err("框架没有指标".into(), "the framework has no indicators".into());
    }
    if !errs.is_empty() {
        return Err(FrameworkError(errs));
    }
    // Levels, bottom-up: an aggregate sits one above its highest child (no cycle here).
    let mut level: HashMap<String, u32> = HashMap::new();
    for _ in 0..nodes.len() {
        for n in &nodes {
            let l = if n.is_indicator() {
                1
            } else {
                1 + nodes
                    .iter()
                    .filter(|c| c.parent.as_deref() == Some(n.code.as_str()))
                    .map(|c| level.get(&c.code).copied().unwrap_or(1))
                    .max()
                    .unwrap_or(1)
            };
            level.insert(n.code.clone(), l);
        }
    }
    for n in nodes.iter_mut() {
        n.level = level.get(&n.code).copied().unwrap_or(1);
    }
    Ok(IndexFramework {
        version: raw.version,
        name_zh: raw.name_zh,
        name_en: raw.name_en,
        first_year: raw.first_year,
        last_year: raw.last_year,
        confidence: raw.confidence,
        build: raw.build,
        uncertainty: raw.uncertainty,
        regions: raw.region,
        nodes,
    })
}

/// The unit that stands for the whole zone in a comparison of regions.
pub const ZONE_UNIT: &str = "zone";

/// A number as the CSV files write it: the shortest text that reads back as the same `f64`,
/// `NA` when missing.
pub fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "NA".to_owned()
    }
}

impl IndexFramework {
    /// The indicators, in framework order.
    pub fn indicators(&self) -> impl Iterator<Item = &IndexNode> {
        self.nodes.iter().filter(|n| n.is_indicator())
    }

    pub fn node(&self, code: &str) -> Option<&IndexNode> {
        self.nodes.iter().find(|n| n.code == code)
    }

    /// The root's code.
    pub fn root(&self) -> &str {
        self.nodes.iter().find(|n| n.parent.is_none()).map_or("", |n| n.code.as_str())
    }

    /// Whether the framework covers the year.
    pub fn covers(&self, year: i32) -> bool {
        (self.first_year..=self.last_year).contains(&year)
    }

    /// COINr's `iMeta` for the indicators kept (`keep`) and every aggregate above them
    /// (an aggregate left without indicators is dropped too, and its weight with it).
    pub fn imeta_csv(&self, keep: &dyn Fn(&str) -> bool) -> String {
        let kept = self.kept(keep);
        let mut out = String::from("iCode,iName,Level,Parent,Direction,Weight,Type\n");
        for n in self.nodes.iter().filter(|n| kept.contains(n.code.as_str())) {
            out.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                n.code,
                csv_cell(&n.name_en),
                n.level,
                n.parent.as_deref().unwrap_or(""),
                n.direction,
                num(n.weight),
                if n.is_indicator() { "Indicator" } else { "Aggregate" }
            ));
        }
        out
    }

    /// The codes kept when only these indicators are: each kept indicator and every
    /// aggregate with a kept node below it.
    pub fn kept(&self, keep: &dyn Fn(&str) -> bool) -> HashSet<&str> {
        let mut kept: HashSet<&str> =
            self.indicators().filter(|n| keep(&n.code)).map(|n| n.code.as_str()).collect();
        for _ in 0..self.nodes.len() {
            for n in &self.nodes {
                if kept.contains(n.code.as_str()) {
                    if let Some(p) = &n.parent {
                        kept.insert(p.as_str());
                    }
                }
            }
        }
        kept
    }

    /// The `--config` file of `kebao index build` and `kebao index uncertainty` for this
    /// framework's options.
    pub fn config_toml(&self) -> String {
        let list = |v: &[String]| v.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ");
        let (b, u) = (&self.build, &self.uncertainty);
        format!(
            "# The options of a Kebao index run (framework {version}): rebuild it with\n\
             # kebao index build --framework iMeta.csv --data iData.csv --config config.toml --out results.csv\n\
             screen = {screen}\ntreat = {treat}\nnormalisation = \"{norm}\"\naggregation = \"{agg}\"\nweights = \"given\"\n\n\
             [uncertainty]\nruns = {runs}\nweight_noise = {noise}\nnormalisations = [{norms}]\nimputations = [{imps}]\nseed = {seed}\n",
            version = self.version,
            screen = num(b.screen),
            treat = b.treat,
            norm = b.normalisation,
            agg = b.aggregation,
            runs = u.runs,
            noise = num(u.weight_noise),
            norms = list(&u.normalisations),
            imps = list(&u.imputations),
            seed = u.seed,
        )
    }
}

/// A CSV cell, quoted when it needs to be.
pub fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../../data/zone/index.toml");

    #[test]
    fn the_shipped_framework_loads_with_levels_and_writes_imeta() {
        let f = parse(SHIPPED).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.root(), "KBI");
        assert_eq!(f.node("KBI").map(|n| n.level), Some(3));
        assert_eq!(f.node("P_cover").map(|n| n.level), Some(2));
        assert_eq!(f.indicators().count(), 10);
        assert_eq!(f.node("claim_days").map(|n| n.direction), Some(-1));
        let imeta = f.imeta_csv(&|c| c != "rnd_intensity");
        assert!(imeta.starts_with("iCode,iName,Level,Parent,Direction,Weight,Type\n"));
        assert!(!imeta.contains("rnd_intensity"));
        assert!(imeta.contains("claim_days,Days to decide a claim,1,P_service,-1,1,Indicator"));
        assert!(f.config_toml().contains("normalisations = [\"minmax\", \"rank\"]"));
    }

    #[test]
    fn a_cycle_zero_weights_and_unknown_measures_are_refused_with_the_reason() {
        let cycle = SHIPPED
            .replace("code = \"P_cover\"\nparent = \"KBI\"", "code = \"P_cover\"\nparent = \"P_service\"")
            .replace("code = \"P_service\"\nparent = \"KBI\"", "code = \"P_service\"\nparent = \"P_cover\"");
        let e = parse(&cycle).unwrap_err();
        assert!(e.to_string().contains("cycle"), "{e}");
        assert!(e.message_zh().contains("循环"), "{e}");
        let zero =
            SHIPPED.replace("parent = \"P_service\"\nweight = 1", "parent = \"P_service\"\nweight = 0");
        let e = parse(&zero).unwrap_err();
        assert!(e.to_string().contains("`P_service`: its children's weights sum to zero"), "{e}");
        let e = parse(&SHIPPED.replace("measure = \"claim_days\"", "measure = \"wishes\"")).unwrap_err();
        assert!(e.to_string().contains("`wishes`"), "{e}");
        let e = parse(&SHIPPED.replace("first_year = 2020", "first_year = 2040")).unwrap_err();
        assert!(e.to_string().contains("2040"), "{e}");
        assert!(parse("not toml [").is_err());
    }
}
