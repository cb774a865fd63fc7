//! The zone's development index from live data (C11, plan 三（五）; docs/index.md).
//!
//! The indicator framework is data (`data/zone/index.toml`, or a version the zone uploaded).
//! A run, queued as a background job for a kind of unit (parks, 5+2 industries, or the zone
//! against other regions) and a year, computes every indicator from the platform's own tables
//! and the imported official statistics, writes them as COINr's `iMeta` and `iData`, builds
//! the index with the composite engine, runs the uncertainty analysis (rank intervals) and
//! stores all of it as the next version. The stored files rebuild the same result with
//! `kebao index build`.

use crate::authz::{Action, Actor, Basis, Resource};
use crate::import::{ImportReport, RowProblem};
use crate::jobs::{JobContext, JobFuture, JobHandler, JobStop};
use crate::tabular::Table;
use crate::{Result, Service, ServiceError};
use kebao_composite::uncertainty::{self, Model, UncertaintySpec};
use kebao_composite::{
    Aggregation, Build, BuildSpec, Framework, Imputation, Normalisation, Ties, TreatSpec, UnitData, Weighting,
};
use kebao_domain::event::EventDraft;
use kebao_domain::index::{self as domain, csv_cell, num, IndexFramework, Measure, UnitKind, ZONE_UNIT};
use kebao_domain::job::{IndexRunParams, Job, JobFailure, JobKind, JobParams, JobResult};
use kebao_domain::{FieldError, Invalid};
use kebao_store::index as store;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};

/// The framework as shipped.
pub const FRAMEWORK: &str = include_str!("../../../data/zone/index.toml");

/// A unit an index ranks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexUnit {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
}

/// An indicator left out of a run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOut {
    pub code: String,
    pub reason_zh: String,
    pub reason_en: String,
}

/// One unit's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitResult {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// The rank on the index (1 = best).
    pub rank: Option<usize>,
    /// Per aggregate code of [`RunResults::codes`] (the index first).
    pub scores: Vec<Option<f64>>,
    /// Per indicator of [`RunResults::indicators`]: the value computed or imported.
    pub raw: Vec<Option<f64>>,
    /// … and normalised (0–100 after treatment).
    pub normalised: Vec<Option<f64>>,
    /// The rank over the uncertainty runs: median and the 5 %–95 % interval.
    pub median: f64,
    pub q05: f64,
    pub q95: f64,
}

/// What a run found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    pub framework_version: String,
    /// Aggregates, the index first.
    pub codes: Vec<String>,
    /// The indicators the run used.
    pub indicators: Vec<String>,
    /// Indicators without enough data.
    pub dropped: Vec<LeftOut>,
    /// Ranked units, best first.
    pub units: Vec<UnitResult>,
    /// Units without data, or removed by the data-availability screen.
    pub excluded: Vec<LeftOut>,
    pub runs: usize,
    pub seed: u64,
}

/// A stored run with its results.
#[derive(Debug, Clone)]
pub struct IndexRun {
    pub stored: store::StoredRun,
    pub results: RunResults,
    /// Who asked for it, named.
    pub created_by_name: String,
}

/// The inputs of a run, as files.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInputs {
    pub imeta: String,
    pub idata: String,
    pub config: String,
    pub units: Vec<IndexUnit>,
    pub dropped: Vec<LeftOut>,
    pub excluded: Vec<LeftOut>,
}

/// What the platform adds up per enterprise and then per unit for a year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Sums {
    registered: i64,
    insured: i64,
    in_force: i64,
    premium_fen: i64,
    cover_fen: i64,
    rnd_fen: i64,
    first_set: i64,
    subsidised: i64,
    loans_fen: i64,
    decided: i64,
    decided_days: i64,
    paid_fen: i64,
    earned_fen: i64,
    complaints: i64,
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.registered += o.registered;
        self.insured += o.insured;
        self.in_force += o.in_force;
        self.premium_fen += o.premium_fen;
        self.cover_fen += o.cover_fen;
        self.rnd_fen += o.rnd_fen;
        self.first_set += o.first_set;
        self.subsidised += o.subsidised;
        self.loans_fen += o.loans_fen;
        self.decided += o.decided;
        self.decided_days += o.decided_days;
        self.paid_fen += o.paid_fen;
        self.earned_fen += o.earned_fen;
        self.complaints += o.complaints;
    }

    /// An indicator's value, or NaN when its denominator is zero.
    fn value(&self, m: &Measure) -> f64 {
        let ratio = |a: i64, b: i64, scale: f64| if b > 0 { a as f64 * scale / b as f64 } else { f64::NAN };
        match m {
            Measure::InsuredShare => ratio(self.insured, self.registered, 100.0),
            Measure::PremiumPerFirm => ratio(self.premium_fen, self.registered, 0.01),
            Measure::CoverPerRnd => ratio(self.cover_fen, self.rnd_fen, 1.0),
            Measure::FirstSetPer100(_) => ratio(self.first_set, self.registered, 100.0),
            Measure::SubsidyReach => ratio(self.subsidised, self.insured, 100.0),
            Measure::LoansPerFirm => ratio(self.loans_fen, self.registered, 0.01),
            Measure::ClaimDays => ratio(self.decided_days, self.decided, 1.0),
            Measure::PayoutRatio => ratio(self.paid_fen, self.earned_fen, 100.0),
            Measure::ComplaintsPerK => ratio(self.complaints, self.in_force, 1000.0),
            Measure::Official => f64::NAN,
        }
    }
}

fn invalid(field: &str, code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(Invalid(vec![FieldError::new(field, code, zh, en)]))
}

/// The kind of unit, from a form or a query.
pub fn parse_unit_kind(text: &str) -> std::result::Result<UnitKind, FieldError> {
    UnitKind::from_code(text).ok_or_else(|| {
        FieldError::new(
            "unit_kind",
            "unknown_unit_kind",
            "请选择园区、5+2 产业或地区对比",
            "choose parks, industries or regions",
        )
    })
}

/// The nominal build the framework's options ask for — what `kebao index build` makes of the
/// exported `config.toml`.
pub fn build_spec(fw: &IndexFramework) -> BuildSpec {
    BuildSpec {
        imputation: Imputation::Mean,
        screen_threshold: fw.build.screen,
        treatment: fw.build.treat.then(TreatSpec::default),
        normalisation: normalisation(&fw.build.normalisation),
        aggregation: Aggregation::ArithmeticMean,
        weighting: Weighting::Given,
        ..BuildSpec::coinr_default("")
    }
}

fn normalisation(name: &str) -> Normalisation {
    match name {
        "rank" => Normalisation::Rank { ties: Ties::Min },
        _ => Normalisation::COINR_MINMAX,
    }
}

/// The uncertainty analysis the framework's options ask for (what `kebao index uncertainty`
/// makes of the exported `config.toml`).
pub fn uncertainty_spec(fw: &IndexFramework) -> UncertaintySpec {
    let base = build_spec(fw);
    UncertaintySpec {
        seed: fw.uncertainty.seed,
        weight_noise: fw.uncertainty.weight_noise,
        noise_levels: Vec::new(),
        normalisations: fw.uncertainty.normalisations.iter().map(|n| normalisation(n)).collect(),
        aggregations: vec![Aggregation::ArithmeticMean],
        imputations: fw
            .uncertainty
            .imputations
            .iter()
            .map(|i| if i == "median" { Imputation::Median } else { Imputation::Mean })
            .collect(),
        treatments: vec![base.treatment],
        winmax: Vec::new(),
    }
}

/// Builds the index from a run's files and runs its uncertainty analysis: the engine alone,
/// as the job and `kebao index build` run it. `progress(done, total)` after every ten runs;
/// it returns false to stop.
pub fn compute(
    fw: &IndexFramework,
    inputs: &RunInputs,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> std::result::Result<Option<RunResults>, String> {
    let engine = Framework::from_imeta_csv(&inputs.imeta).map_err(|e| e.to_string())?;
    let data = UnitData::from_idata_csv(&inputs.idata, &engine).map_err(|e| e.to_string())?;
    let build = Build::run(&engine, &data, &build_spec(fw)).map_err(|e| e.to_string())?;
    let model =
        Model::new(&engine, &data, &build_spec(fw), &uncertainty_spec(fw)).map_err(|e| e.to_string())?;
    let runs = fw.uncertainty.runs;
    let stop = AtomicBool::new(false);
    let stats = uncertainty::uncertainty(&model, runs, fw.uncertainty.seed, &mut |d, t| {
        if !progress(d, t) {
            stop.store(true, Ordering::Relaxed);
        }
    });
    if stop.load(Ordering::Relaxed) {
        return Ok(None);
    }
    let r = &build.results;
    let indicators: Vec<String> = engine.indicators().map(|n| n.code.clone()).collect();
    let normalised = build.stage("Normalised");
    let treated_units = normalised.map(|d| d.units.clone()).unwrap_or_default();
    let names: HashMap<&str, &IndexUnit> = inputs.units.iter().map(|u| (u.id.as_str(), u)).collect();
    let mut excluded = inputs.excluded.clone();
    for u in &build.removed_units {
        let (zh, en) = names.get(u.as_str()).map_or((u.as_str(), u.as_str()), |n| (&n.name_zh, &n.name_en));
        excluded.push(LeftOut {
            code: u.clone(),
            reason_zh: format!("{zh}：有数据的指标不足 {:.0}%，未参与排名", fw.build.screen * 100.0),
            reason_en: format!(
                "{en}: fewer than {:.0} % of the indicators have data; not ranked",
                fw.build.screen * 100.0
            ),
        });
    }
    let opt = |x: f64| x.is_finite().then_some(x);
    let mut units: Vec<UnitResult> = r
        .units
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let unit = names.get(id.as_str());
            let s = stats.iter().find(|s| &s.unit == id);
            let raw_col = |code: &str| {
                data.indicators
                    .get(code)
                    .and_then(|v| data.units.iter().position(|u| u == id).and_then(|j| v.get(j).copied()))
            };
            let norm_col = |code: &str| {
                normalised.and_then(|d| {
                    d.column(code).and_then(|v| {
                        treated_units.iter().position(|u| u == id).and_then(|j| v.get(j).copied())
                    })
                })
            };
            UnitResult {
                id: id.clone(),
                name_zh: unit.map_or_else(|| id.clone(), |u| u.name_zh.clone()),
                name_en: unit.map_or_else(|| id.clone(), |u| u.name_en.clone()),
                rank: r.ranks.get(i).copied().flatten(),
                scores: r.scores.iter().map(|c| c.get(i).copied().and_then(opt)).collect(),
                raw: indicators.iter().map(|c| raw_col(c).and_then(opt)).collect(),
                normalised: indicators.iter().map(|c| norm_col(c).and_then(opt)).collect(),
                median: s.map_or(f64::NAN, |s| s.median),
                q05: s.map_or(f64::NAN, |s| s.q05),
                q95: s.map_or(f64::NAN, |s| s.q95),
            }
        })
        .collect();
    units.sort_by_key(|u| (u.rank.unwrap_or(usize::MAX), u.id.clone()));
    Ok(Some(RunResults {
        framework_version: fw.version.clone(),
        codes: r.codes.clone(),
        indicators,
        dropped: inputs.dropped.clone(),
        units,
        excluded,
        runs,
        seed: fw.uncertainty.seed,
    }))
}

impl Service {
    fn may_read_index(&self, actor: &Actor) -> Result<()> {
        self.require(actor, Action::ReadStatistics, &Resource::Zone, &Basis::None).map(|_| ())
    }

    /// The framework runs use: the newest the zone uploaded, else the shipped one.
    pub async fn current_index_framework(&self) -> Result<(IndexFramework, Option<store::StoredFramework>)> {
        let mut tx = self.store.begin_read().await?;
        let uploaded = store::frameworks(tx.conn()).await?.into_iter().next();
        drop(tx);
        let text = uploaded.as_ref().map_or(FRAMEWORK, |f| f.body.as_str());
        let fw = domain::parse(text).map_err(|e| ServiceError::Internal(format!("index framework: {e}")))?;
        Ok((fw, uploaded))
    }

    /// The framework in use and the versions uploaded (zone officers and the regulator).
    pub async fn index_framework(
        &self,
        actor: &Actor,
    ) -> Result<(IndexFramework, Vec<(store::StoredFramework, String)>)> {
        self.may_read_index(actor)?;
        let (fw, _) = self.current_index_framework().await?;
        let mut tx = self.store.begin_read().await?;
        let mut cache = HashMap::new();
        let mut all = Vec::new();
        for f in store::frameworks(tx.conn()).await? {
            let name = crate::audit::actor_name(&mut tx, &mut cache, &f.uploaded_by).await?;
            all.push((f, name));
        }
        Ok((fw, all))
    }

    /// Checks a framework file and stores it as the version runs use from now on: refused,
    /// with every reason, when the file is malformed, has a cycle or an aggregate whose
    /// children's weights sum to zero, or when its version exists.
    pub async fn load_index_framework(&self, actor: &Actor, text: &str) -> Result<IndexFramework> {
        self.require(actor, Action::BuildIndex, &Resource::Zone, &Basis::None)?;
        let fw = domain::parse(text)
            .map_err(|e| invalid("framework", "framework", e.message_zh(), e.to_string()))?;
        // The engine's own checks on the iMeta it will be given.
        Framework::from_imeta_csv(&fw.imeta_csv(&|_| true)).map_err(|e| {
            invalid("framework", "framework", format!("指标框架未通过引擎校验：{e}"), e.to_string())
        })?;
        let shipped = domain::parse(FRAMEWORK).map(|f| f.version).unwrap_or_default();
        let stored = store::StoredFramework {
            version: fw.version.clone(),
            body: text.to_owned(),
            uploaded_by: actor.log_name(),
            uploaded_at_us: self.now_us(),
        };
        let mut tx = self.store.begin_write().await?;
        if fw.version == shipped || !store::put_framework(tx.conn(), &stored).await? {
            return Err(ServiceError::Conflict(FieldError::new(
                "framework",
                "version_exists",
                format!("版本 {} 已存在，请在文件中使用新的版本号", fw.version),
                format!("version {} exists already; give the file a new version", fw.version),
            )));
        }
        let draft = EventDraft::new(
            &actor.log_name(),
            "index.framework_loaded",
            &fw.version,
            serde_json::json!({"version": fw.version, "indicators": fw.indicators().count()}),
        );
        self.finish(tx, draft).await?;
        Ok(fw)
    }

    /// The units of a kind, in configuration order.
    pub fn index_units(&self, fw: &IndexFramework, kind: UnitKind) -> Vec<IndexUnit> {
        let unit = |id: &str, zh: &str, en: &str| IndexUnit {
            id: id.into(),
            name_zh: zh.into(),
            name_en: en.into(),
        };
        match kind {
            UnitKind::Park => {
                self.industries().parks().iter().map(|p| unit(&p.id, &p.name_zh, &p.name_en)).collect()
            }
            UnitKind::Industry => {
                self.industries().tags().iter().map(|t| unit(&t.id, &t.name_zh, &t.name_en)).collect()
            }
            UnitKind::Region => std::iter::once(unit(ZONE_UNIT, "本示范区", "This zone"))
                .chain(fw.regions.iter().map(|r| unit(&r.id, &r.name_zh, &r.name_en)))
                .collect(),
        }
    }

    /// Every indicator of every unit for a year, from the platform's tables and the imported
    /// official statistics, as the run's `iMeta`, `iData` and `config.toml`. Units without any
    /// value and indicators with fewer than two different values are left out, each named.
    pub async fn index_inputs(&self, fw: &IndexFramework, kind: UnitKind, year: i32) -> Result<RunInputs> {
        let (first, last, from_us, to_us) = crate::stats::bounds(kebao_domain::stats::Period::Year(year));
        let first_set_types: HashSet<&str> = fw
            .indicators()
            .filter_map(|n| match &n.measure {
                Some(Measure::FirstSetPer100(t)) => Some(t.iter().map(String::as_str)),
                _ => None,
            })
            .flatten()
            .collect();
        let mut tx = self.store.begin_read().await?;
        let backend = tx.backend();
        let mut per: HashMap<String, Sums> = HashMap::new();
        for id in store::registered(tx.conn(), to_us).await? {
            per.entry(id).or_default().registered = 1;
        }
        for (id, n) in store::in_force(tx.conn(), first, last).await? {
            let s = per.entry(id).or_default();
            s.insured = 1;
            s.in_force = n;
        }
        for (id, ty, n, cover) in store::written_by_type(tx.conn(), from_us, to_us).await? {
            let s = per.entry(id).or_default();
            s.cover_fen += cover;
            if first_set_types.contains(ty.as_str()) {
                s.first_set += n;
            }
        }
        let grain = kebao_store::stats::Grain::Enterprise;
        for (k, v) in kebao_store::stats::premium_written(tx.conn(), grain, from_us, to_us).await? {
            per.entry(k.enterprise_id).or_default().premium_fen += v;
        }
        for (k, v) in kebao_store::stats::earned(tx.conn(), backend, grain, first, last).await? {
            per.entry(k.enterprise_id).or_default().earned_fen += v;
        }
        for (k, v) in kebao_store::stats::claims_paid(tx.conn(), grain, from_us, to_us).await? {
            per.entry(k.enterprise_id).or_default().paid_fen += v;
        }
        for (id, v) in store::rnd_expense(tx.conn(), year).await? {
            per.entry(id).or_default().rnd_fen += v;
        }
        for (id, n, days) in store::claims_decided(tx.conn(), backend, first, last).await? {
            let s = per.entry(id).or_default();
            s.decided += n;
            s.decided_days += days;
        }
        for id in store::subsidised(tx.conn(), from_us, to_us).await? {
            per.entry(id).or_default().subsidised = 1;
        }
        for (id, v) in store::loans_disbursed(tx.conn(), first, last).await? {
            per.entry(id).or_default().loans_fen += v;
        }
        for (id, n) in store::complaints(tx.conn(), first, last).await? {
            per.entry(id).or_default().complaints += n;
        }
        let dims = kebao_store::stats::enterprise_dims(tx.conn(), last).await?;
        let official = store::official_values(tx.conn(), kind.code(), Some(year)).await?;
        drop(tx);
        // Each enterprise's sums added to every unit it belongs to.
        let units = self.index_units(fw, kind);
        let mut sums: HashMap<&str, Sums> = HashMap::new();
        for (id, s) in &per {
            // Only enterprises count (the registry's other organisations own no policies).
            let Some(d) = dims.get(id) else { continue };
            match kind {
                UnitKind::Park => {
                    if let Some(p) = &d.park {
                        sums.entry(p.as_str()).or_default().add(s);
                    }
                }
                UnitKind::Industry => {
                    for t in &d.tags {
                        sums.entry(t.as_str()).or_default().add(s);
                    }
                }
                UnitKind::Region => sums.entry(ZONE_UNIT).or_default().add(s),
            }
        }
        let imported: HashMap<(&str, &str), f64> = official
            .iter()
            .filter_map(|v| {
                v.value.parse::<f64>().ok().map(|x| ((v.unit_id.as_str(), v.indicator.as_str()), x))
            })
            .collect();
        let platform_unit = |u: &str| kind != UnitKind::Region || u == ZONE_UNIT;
        let indicators: Vec<&domain::IndexNode> = fw.indicators().collect();
        let value = |u: &str, n: &domain::IndexNode| -> f64 {
            match &n.measure {
                Some(Measure::Official) | None => {
                    imported.get(&(u, n.code.as_str())).copied().unwrap_or(f64::NAN)
                }
                Some(m) if platform_unit(u) => sums.get(u).map_or(f64::NAN, |s| s.value(m)),
                Some(_) => imported.get(&(u, n.code.as_str())).copied().unwrap_or(f64::NAN),
            }
        };
        let mut table: Vec<(IndexUnit, Vec<f64>)> = Vec::new();
        let mut excluded = Vec::new();
        for u in units {
            let row: Vec<f64> = indicators.iter().map(|n| value(&u.id, n)).collect();
            if row.iter().all(|x| x.is_nan()) {
                excluded.push(LeftOut {
                    code: u.id.clone(),
                    reason_zh: format!("{}：{year} 年无任何指标数据，未参与排名", u.name_zh),
                    reason_en: format!("{}: no figure for {year}; not ranked", u.name_en),
                });
            } else {
                table.push((u, row));
            }
        }
        let mut dropped = Vec::new();
        let mut keep: HashSet<String> = HashSet::new();
        for (j, n) in indicators.iter().enumerate() {
            let mut distinct: Vec<f64> =
                table.iter().filter_map(|(_, r)| r.get(j).copied()).filter(|x| x.is_finite()).collect();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            if distinct.len() >= 2 {
                keep.insert(n.code.clone());
            } else {
                dropped.push(LeftOut {
                    code: n.code.clone(),
                    reason_zh: format!(
                        "{}：{year} 年有数据的单元不足两个或数值全部相同，本次不计入",
                        n.name_zh
                    ),
                    reason_en: format!(
                        "{}: fewer than two units with data for {year}, or all equal; left out of this run",
                        n.name_en
                    ),
                });
            }
        }
        if table.len() < 2 || keep.is_empty() {
            return Err(invalid(
                "year",
                "too_little_data",
                format!("{year} 年{}有数据的单元不足两个或没有可比较的指标，无法排名", kind.label_zh()),
                format!(
                    "{year}: fewer than two {} with data, or no indicator to compare; nothing to rank",
                    kind.label_en().to_lowercase()
                ),
            ));
        }
        let imeta = fw.imeta_csv(&|c| keep.contains(c));
        let kept: Vec<(usize, &&domain::IndexNode)> =
            indicators.iter().enumerate().filter(|(_, n)| keep.contains(&n.code)).collect();
        let mut idata = String::from("uCode,uName");
        for (_, n) in &kept {
            idata.push(',');
            idata.push_str(&n.code);
        }
        idata.push('\n');
        for (u, row) in &table {
            idata.push_str(&format!("{},{}", u.id, csv_cell(&u.name_zh)));
            for (j, _) in &kept {
                idata.push(',');
                idata.push_str(&num(row.get(*j).copied().unwrap_or(f64::NAN)));
            }
            idata.push('\n');
        }
        Ok(RunInputs {
            imeta,
            idata,
            config: fw.config_toml(),
            units: table.into_iter().map(|(u, _)| u).collect(),
            dropped,
            excluded,
        })
    }

    /// Checks the kind of unit and the year and queues the run (zone officers).
    pub async fn start_index_run(&self, actor: &Actor, unit_kind: &str, year: &str) -> Result<Job> {
        self.require(actor, Action::BuildIndex, &Resource::Zone, &Basis::None)?;
        let (fw, _) = self.current_index_framework().await?;
        let mut errs = Vec::new();
        let kind = parse_unit_kind(unit_kind).map_err(|e| errs.push(e)).ok();
        let this_year = self.today().year();
        let y = match year.trim().parse::<i32>() {
            Ok(y) if fw.covers(y) && y <= this_year => Some(y),
            _ => {
                errs.push(FieldError::new(
                    "year",
                    "year",
                    format!("年份须在 {}–{} 之间", fw.first_year, fw.last_year.min(this_year)),
                    format!("the year must be {}–{}", fw.first_year, fw.last_year.min(this_year)),
                ));
                None
            }
        };
        let (Some(kind), Some(year), true) = (kind, y, errs.is_empty()) else {
            return Err(Invalid(errs).into());
        };
        let params = JobParams {
            index: Some(IndexRunParams { unit_kind: kind.code().to_owned(), year }),
            ..JobParams::default()
        };
        self.queue_job(actor, JobKind::IndexRun, params).await
    }

    /// The newest stored runs (zone officers and the regulator).
    pub async fn index_runs(&self, actor: &Actor) -> Result<Vec<IndexRun>> {
        self.may_read_index(actor)?;
        let mut tx = self.store.begin_read().await?;
        let mut cache = HashMap::new();
        let mut out = Vec::new();
        for s in store::runs(tx.conn(), 100).await? {
            let Ok(results) = serde_json::from_str(&s.results) else { continue };
            let created_by_name = crate::audit::actor_name(&mut tx, &mut cache, &s.created_by).await?;
            out.push(IndexRun { stored: s, results, created_by_name });
        }
        Ok(out)
    }

    /// The index jobs not yet stored as runs (queued, running, failed), newest first.
    pub async fn index_jobs(&self, actor: &Actor) -> Result<Vec<Job>> {
        self.may_read_index(actor)?;
        let mut tx = self.store.begin_read().await?;
        Ok(kebao_store::jobs::list(tx.conn(), None, Some(JobKind::IndexRun), None, 10).await?)
    }

    /// One stored run with its files (zone officers and the regulator).
    pub async fn index_run(&self, actor: &Actor, id: &str) -> Result<IndexRun> {
        self.may_read_index(actor)?;
        let mut tx = self.store.begin_read().await?;
        let stored = store::get_run(tx.conn(), id).await?.ok_or(ServiceError::NotFound)?;
        let results = serde_json::from_str(&stored.results)
            .map_err(|e| ServiceError::Internal(format!("index run {id}: {e}")))?;
        let created_by_name =
            crate::audit::actor_name(&mut tx, &mut HashMap::new(), &stored.created_by).await?;
        Ok(IndexRun { stored, results, created_by_name })
    }

    /// The imported official figures of a kind of unit (zone officers and the regulator).
    pub async fn index_official(&self, actor: &Actor, kind: UnitKind) -> Result<Vec<store::OfficialValue>> {
        self.may_read_index(actor)?;
        let mut tx = self.store.begin_read().await?;
        Ok(store::official_values(tx.conn(), kind.code(), None).await?)
    }

    /// Imports official statistics (`.xlsx` or `.csv`, one figure per row: kind of unit, unit,
    /// year, indicator, value, source). Every row is checked first; with any problem nothing
    /// is imported and the report names each row and column.
    pub async fn import_index_statistics(&self, actor: &Actor, t: &Table) -> Result<ImportReport> {
        self.require(actor, Action::BuildIndex, &Resource::Zone, &Basis::None)?;
        let (fw, _) = self.current_index_framework().await?;
        let mut report = ImportReport { rows: t.rows.len(), ..ImportReport::default() };
        let mut problems: Vec<RowProblem> = Vec::new();
        let problem = |row: usize, column: &str, code: &'static str, zh: String, en: String| RowProblem {
            row,
            column: column.to_owned(),
            code,
            reason_zh: zh,
            reason_en: en,
        };
        let cols: Vec<(&str, Option<usize>)> =
            STATISTICS_COLUMNS.iter().map(|(code, zh)| (*code, t.column(&[code, zh]))).collect();
        for (code, i) in &cols {
            if i.is_none() {
                let zh = STATISTICS_COLUMNS.iter().find(|(c, _)| c == code).map_or("", |(_, z)| *z);
                problems.push(problem(
                    1,
                    code,
                    "missing_column",
                    format!("缺少“{zh}”列"),
                    format!("the column `{code}` ({zh}) is missing"),
                ));
            }
        }
        if !problems.is_empty() {
            report.problems = problems;
            report.skipped = report.rows;
            return Ok(report);
        }
        let col = |name: &str| cols.iter().find(|(c, _)| *c == name).and_then(|(_, i)| *i);
        let mut seen: HashMap<(String, String, i32, String), usize> = HashMap::new();
        let mut values = Vec::new();
        let import_id = self.new_id();
        let now = self.now_us();
        for i in 0..t.rows.len() {
            let row = i + 2;
            let cell = |name: &str| t.cell(i, col(name)).trim().to_owned();
            let before = problems.len();
            let kind = UnitKind::from_code(&cell("unit_kind"));
            if kind.is_none() {
                problems.push(problem(
                    row,
                    "unit_kind",
                    "unknown_unit_kind",
                    format!("单元类型“{}”无效，请填园区、5+2 产业或地区对比", cell("unit_kind")),
                    format!("`{}` is not a kind of unit: park, industry or region", cell("unit_kind")),
                ));
            }
            let unit_text = cell("unit");
            let unit = kind.and_then(|k| {
                self.index_units(&fw, k).into_iter().find(|u| {
                    u.id == unit_text || u.name_zh == unit_text || u.name_en.eq_ignore_ascii_case(&unit_text)
                })
            });
            if kind.is_some() && unit.is_none() {
                problems.push(problem(
                    row,
                    "unit",
                    "unknown_unit",
                    format!("单元“{unit_text}”不存在"),
                    format!("there is no unit `{unit_text}` of this kind"),
                ));
            }
            let year = cell("year").parse::<i32>().ok().filter(|y| fw.covers(*y));
            if year.is_none() {
                problems.push(problem(
                    row,
                    "year",
                    "year",
                    format!("年份“{}”须在指标框架的 {}–{} 年之内", cell("year"), fw.first_year, fw.last_year),
                    format!(
                        "`{}`: the year must be within the framework's {}–{}",
                        cell("year"),
                        fw.first_year,
                        fw.last_year
                    ),
                ));
            }
            let ind_text = cell("indicator");
            let node = fw.indicators().find(|n| n.code == ind_text || n.name_zh == ind_text);
            match (node, &unit) {
                (None, _) => problems.push(problem(
                    row,
                    "indicator",
                    "unknown_indicator",
                    format!("指标“{ind_text}”不在指标框架中"),
                    format!("`{ind_text}` is not an indicator of the framework"),
                )),
                (Some(n), Some(u))
                    if n.measure != Some(Measure::Official) && (kind != Some(UnitKind::Region) || u.id == ZONE_UNIT) =>
                {
                    problems.push(problem(
                        row,
                        "indicator",
                        "computed_indicator",
                        format!("“{}”由平台业务数据计算，不能为本示范区的单元导入", n.name_zh),
                        format!("`{}` is computed from the platform's own records; it is not imported for the zone's units", n.code),
                    ))
                }
                _ => {}
            }
            let value_text = cell("value").replace([',', '，'], "");
            let value = value_text.parse::<f64>().ok().filter(|v| v.is_finite());
            if value.is_none() {
                problems.push(problem(
                    row,
                    "value",
                    "not_a_number",
                    format!("数值“{}”不是数字", cell("value")),
                    format!("`{}` is not a number", cell("value")),
                ));
            }
            let source = cell("source");
            if source.is_empty() || source.chars().count() > 200 {
                problems.push(problem(
                    row,
                    "source",
                    "source",
                    "请填写数据来源（不超过 200 字）".into(),
                    "give the source of the figure (at most 200 characters)".into(),
                ));
            }
            if problems.len() > before {
                continue;
            }
            let (Some(kind), Some(unit), Some(year), Some(node), Some(value)) =
                (kind, unit, year, node, value)
            else {
                continue;
            };
            let key = (kind.code().to_owned(), unit.id.clone(), year, node.code.clone());
            if let Some(first) = seen.get(&key) {
                problems.push(problem(
                    row,
                    "indicator",
                    "duplicate_row",
                    format!("与第 {first} 行重复（同一单元、年份和指标）"),
                    format!("the same unit, year and indicator as row {first}"),
                ));
                continue;
            }
            seen.insert(key, row);
            values.push(store::OfficialValue {
                unit_kind: kind.code().to_owned(),
                unit_id: unit.id,
                year,
                indicator: node.code.clone(),
                value: num(value),
                source,
                import_id: import_id.clone(),
                imported_by: actor.log_name(),
                imported_at_us: now,
            });
        }
        if !problems.is_empty() || values.is_empty() {
            if problems.is_empty() {
                problems.push(problem(
                    1,
                    "",
                    "empty",
                    "文件中没有数据行".into(),
                    "the file has no rows".into(),
                ));
            }
            report.problems = problems;
            report.skipped = report.rows;
            return Ok(report);
        }
        let mut tx = self.store.begin_write().await?;
        store::put_official(tx.conn(), &values).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "index.statistics_imported",
            &import_id,
            serde_json::json!({"rows": values.len()}),
        );
        self.finish(tx, draft).await?;
        report.imported = values.len();
        Ok(report)
    }
}

/// The columns of an official-statistics file: code, Chinese heading.
pub const STATISTICS_COLUMNS: &[(&str, &str)] = &[
    ("unit_kind", "单元类型"),
    ("unit", "单元"),
    ("year", "年份"),
    ("indicator", "指标"),
    ("value", "数值"),
    ("source", "来源"),
];

/// The job that computes, builds and stores an index run.
pub struct IndexRunJob;

fn failed(zh: impl Into<String>, en: impl Into<String>) -> JobStop {
    JobStop::Failed(JobFailure::new(zh, en))
}

impl JobHandler for IndexRunJob {
    fn run<'a>(&'a self, svc: &'a Service, ctx: &'a mut JobContext) -> JobFuture<'a> {
        Box::pin(async move {
            let Some(p) = ctx.job.params.index.clone() else {
                return Err(failed("任务缺少指数参数", "the job holds no index settings"));
            };
            let kind = UnitKind::from_code(&p.unit_kind)
                .ok_or_else(|| failed("单元类型无效", format!("unknown kind of unit `{}`", p.unit_kind)))?;
            let (fw, _) = svc.current_index_framework().await.map_err(JobStop::from)?;
            let inputs = match svc.index_inputs(&fw, kind, p.year).await {
                Ok(i) => i,
                Err(ServiceError::Invalid(Invalid(es))) => {
                    let e = es.into_iter().next();
                    return Err(failed(
                        e.as_ref().map_or_else(String::new, |e| e.message_zh.clone()),
                        e.map_or_else(String::new, |e| e.message_en),
                    ));
                }
                Err(e) => return Err(e.into()),
            };
            let runs = fw.uncertainty.runs;
            let total = i64::try_from(runs).unwrap_or(i64::MAX);
            ctx.progress(0, total, None).await?;
            let (fw2, inputs2) = (fw.clone(), inputs.clone());
            let outcome = ctx
                .run_blocking(total, move |at| compute(&fw2, &inputs2, &mut |k, _| at.at(k as u64)))
                .await?;
            let results = match outcome {
                Ok(Ok(Some(r))) => r,
                Ok(Ok(None)) => {
                    ctx.check()?;
                    return Err(failed("运行已停止", "the run stopped"));
                }
                Ok(Err(e)) => {
                    return Err(failed(format!("指数构建失败：{e}"), format!("the build failed: {e}")))
                }
                Err(e) => return Err(failed("指数运行出错", format!("the run failed: {e}"))),
            };
            ctx.progress(total, total, None).await?;
            let json = serde_json::to_string(&results).map_err(|e| failed("无法保存结果", e.to_string()))?;
            let mut run = store::StoredRun {
                id: svc.new_id(),
                job_id: ctx.job.id.clone(),
                unit_kind: kind.code().to_owned(),
                year: p.year,
                version: 0,
                framework_version: fw.version.clone(),
                imeta: inputs.imeta,
                idata: inputs.idata,
                config: inputs.config,
                results: json,
                created_by: ctx.job.requested_by.clone(),
                created_at_us: svc.now_us(),
            };
            let mut tx = svc.store.begin_write().await.map_err(ServiceError::from)?;
            run.version = store::insert_run(tx.conn(), &run).await.map_err(ServiceError::from)?;
            let draft = EventDraft::new(
                &ctx.job.requested_by,
                "index.run_stored",
                &run.id,
                serde_json::json!({"job": ctx.job.id, "unit_kind": run.unit_kind, "year": run.year,
                    "version": run.version, "framework": run.framework_version, "units": results.units.len()}),
            );
            svc.finish(tx, draft).await?;
            Ok(JobResult::IndexBuilt {
                run_id: run.id,
                unit_kind: run.unit_kind,
                year: run.year,
                version: run.version,
                units: u64::try_from(results.units.len()).unwrap_or(0),
                runs: u64::try_from(runs).unwrap_or(0),
            })
        })
    }
}

/// A run's results as a workbook: the ranking with every aggregate's score and the rank
/// interval, then the indicators' values and normalised scores.
pub fn results_xlsx(r: &IndexRun) -> std::result::Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let res = &r.results;
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("排名 Ranking").map_err(e)?;
    sheet
        .write_string_with_format(
            0,
            0,
            format!(
                "{} {} v{} · 框架 framework {}",
                r.stored.unit_kind, r.stored.year, r.stored.version, r.stored.framework_version
            ),
            &bold,
        )
        .map_err(e)?;
    let mut head: Vec<String> = vec!["排名 Rank".into(), "代码 Code".into(), "单元 Unit".into()];
    head.extend(res.codes.iter().cloned());
    head.extend(["中位排名 Median rank".into(), "5% 排名 q05".into(), "95% 排名 q95".into()]);
    for (j, h) in head.iter().enumerate() {
        sheet.write_string_with_format(2, col(j), h, &bold).map_err(e)?;
    }
    let num_or_blank = |sheet: &mut rust_xlsxwriter::Worksheet, row: u32, c: u16, v: Option<f64>| match v
        .filter(|x| x.is_finite())
    {
        Some(x) => sheet.write_number(row, c, x).map(|_| ()),
        None => Ok(()),
    };
    for (i, u) in res.units.iter().enumerate() {
        let row = u32::try_from(i + 3).unwrap_or(u32::MAX);
        num_or_blank(sheet, row, 0, u.rank.map(|x| x as f64)).map_err(e)?;
        sheet.write_string(row, 1, &u.id).map_err(e)?;
        sheet.write_string(row, 2, &u.name_zh).map_err(e)?;
        for (j, s) in u.scores.iter().enumerate() {
            num_or_blank(sheet, row, col(3 + j), *s).map_err(e)?;
        }
        let k = 3 + u.scores.len();
        for (j, v) in [u.median, u.q05, u.q95].iter().enumerate() {
            num_or_blank(sheet, row, col(k + j), Some(*v)).map_err(e)?;
        }
    }
    let sheet = book.add_worksheet();
    sheet.set_name("指标 Indicators").map_err(e)?;
    sheet.write_string_with_format(0, 0, "单元 Unit", &bold).map_err(e)?;
    for (j, code) in res.indicators.iter().enumerate() {
        sheet.write_string_with_format(0, col(1 + 2 * j), code, &bold).map_err(e)?;
        sheet.write_string_with_format(0, col(2 + 2 * j), format!("{code} (0–100)"), &bold).map_err(e)?;
    }
    for (i, u) in res.units.iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        sheet.write_string(row, 0, &u.name_zh).map_err(e)?;
        for j in 0..res.indicators.len() {
            num_or_blank(sheet, row, col(1 + 2 * j), u.raw.get(j).copied().flatten()).map_err(e)?;
            num_or_blank(sheet, row, col(2 + 2 * j), u.normalised.get(j).copied().flatten()).map_err(e)?;
        }
    }
    book.save_to_buffer().map_err(e)
}

fn col(j: usize) -> u16 {
    u16::try_from(j).unwrap_or(u16::MAX)
}
