//! The tech-insurance statistics (C11): reports arranged by the NFRA 《科技保险业务统计制度》
//! (see [`kebao_domain::stats`] for what every measure counts), per quarter or year, for the
//! zone or one insurer (a head office with its branches, or a branch), with rows by product
//! class, kind of insured entity, 5+2 industry, life-cycle stage, park or insurer.
//!
//! The store adds up per (insurer, product, enterprise) within the period; this module maps
//! those keys to the rows asked for. Earned premium is added up in the store by the same
//! arithmetic as the one domain definition ([`kebao_domain::policy::earned_premium`]); the
//! reconciliation test recomputes it with that function.

use crate::authz::{Action, Actor, Basis, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::catalogue::{Catalogue, NfraClass};
use kebao_domain::org::{LifecycleStage, OrgKind, OrgStatus, QualificationKind};
use kebao_domain::stats::{Breakdown, EntityCategory, Measures, Part, Period};
use kebao_domain::{FieldError, IndustryMap, Invalid};
use kebao_store::stats::{self as store, EnterpriseDims, Key};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What a report is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatsQuery {
    pub period: Period,
    pub part: Part,
    pub by: Breakdown,
    /// One insurer (its branches included); `None` for the whole zone.
    pub insurer_id: Option<String>,
}

impl StatsQuery {
    /// Reads a query as typed (a page's form, the API's parameters, the command line); every
    /// problem at once, each naming its field. `by` blank means the part's own rows.
    pub fn parse(
        period: &str,
        part: &str,
        by: &str,
        insurer: &str,
    ) -> std::result::Result<StatsQuery, Invalid> {
        let mut errors = Vec::new();
        let period = Period::parse(period).map_err(|e| errors.push(e)).ok();
        let part =
            Part::parse(if part.trim().is_empty() { "1" } else { part }).map_err(|e| errors.push(e)).ok();
        let by = if by.trim().is_empty() {
            part.map(Part::default_breakdown)
        } else {
            Breakdown::parse(by).map_err(|e| errors.push(e)).ok()
        };
        let insurer = insurer.trim();
        if insurer.len() > 64 {
            errors.push(FieldError::new(
                "insurer",
                "too_long",
                "保险机构标识过长",
                "the insurer's id is too long",
            ));
        }
        match (period, part, by, errors.is_empty()) {
            (Some(period), Some(part), Some(by), true) => Ok(StatsQuery {
                period,
                part,
                by,
                insurer_id: (!insurer.is_empty()).then(|| insurer.to_owned()),
            }),
            _ => Err(Invalid(errors)),
        }
    }
}

/// One row of a report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StatsRow {
    /// The row's code (a class, a product type, a category, an industry, a stage, a park, an
    /// insurer's id); `none` for enterprises without the attribute.
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    /// 0 for a heading row (a class, a head office), 1 for the rows under it.
    pub depth: u8,
    pub measures: Measures,
}

/// A report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StatsReport {
    pub period: String,
    pub period_zh: String,
    pub period_en: String,
    pub part: u8,
    pub by: String,
    /// The insurer reported on, or `None` for the zone.
    pub insurer_id: Option<String>,
    /// The insurer's name, or the zone's words.
    pub scope_zh: String,
    pub scope_en: String,
    pub rows: Vec<StatsRow>,
    /// The whole report (enterprises counted once however many rows they are in).
    pub total: Measures,
    /// Whether an enterprise may be in more than one row (industries), so rows add up to more
    /// than the total.
    pub rows_overlap: bool,
}

/// The insurers a reader may choose between: (id, name, depth 0 head office or 1 branch).
pub type InsurerChoice = (String, String, u8);

/// The zone's insurers as a tree: every insurer's head office, and each head office's members.
struct Insurers {
    names: HashMap<String, String>,
    parents: HashMap<String, Option<String>>,
    head: HashMap<String, String>,
    /// Head offices in name order, each with its branches in name order.
    tree: Vec<(String, Vec<String>)>,
}

impl Insurers {
    fn new(rows: Vec<(String, Option<String>, String)>) -> Insurers {
        let parent: HashMap<String, Option<String>> =
            rows.iter().map(|(i, p, _)| (i.clone(), p.clone())).collect();
        let mut head = HashMap::new();
        for (id, _, _) in &rows {
            // Walk up at most a few levels (总公司 → 分公司 → 支公司); a loop cannot be stored, but
            // the walk is bounded anyway.
            let mut at = id.clone();
            for _ in 0..8 {
                match parent.get(&at).cloned().flatten() {
                    Some(p) if parent.contains_key(&p) => at = p,
                    _ => break,
                }
            }
            head.insert(id.clone(), at);
        }
        let mut tree: Vec<(String, Vec<String>)> = Vec::new();
        for (id, _, _) in &rows {
            if head.get(id) == Some(id) {
                let members =
                    rows.iter().filter(|(m, _, _)| m != id && head.get(m) == Some(id)).map(|r| r.0.clone());
                tree.push((id.clone(), members.collect()));
            }
        }
        Insurers { names: rows.into_iter().map(|(i, _, n)| (i, n)).collect(), parents: parent, head, tree }
    }

    fn name(&self, id: &str) -> String {
        self.names.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }

    /// The insurers a report covers: `None` for the whole zone, else the one asked for (or the
    /// reader's own) with everything below it. The one asked for must be registered, and for an
    /// insurer's reader (`scope`, which Cedar let read its own organisation's figures) be its own
    /// organisation or below it — the choices `stats_insurers` lists.
    fn chosen(&self, scope: Option<&str>, asked: Option<&str>) -> Result<Option<HashSet<String>>> {
        let Some(a) = asked else { return Ok(None) };
        let refuse = |code: &'static str, zh: String, en: String| {
            ServiceError::Invalid(Invalid(vec![FieldError::new("insurer", code, zh, en)]))
        };
        if !self.names.contains_key(a) {
            return Err(refuse(
                "unknown_insurer",
                format!("`{a}` 不是登记的保险机构"),
                format!("`{a}` is not a registered insurer"),
            ));
        }
        if scope.is_some_and(|own| !self.subtree(own).contains(a)) {
            return Err(refuse(
                "outside_own_organisation",
                "只能选择本机构或下属分支机构".into(),
                "choose your own organisation or one of its branches".into(),
            ));
        }
        Ok(Some(self.subtree(a)))
    }

    /// The insurer and every organisation below it.
    fn subtree(&self, id: &str) -> HashSet<String> {
        let mut out: HashSet<String> = HashSet::from([id.to_owned()]);
        // Branches of branches: repeat until nothing is added (the tree is shallow).
        loop {
            let below: Vec<String> = self
                .parents
                .iter()
                .filter(|(m, p)| !out.contains(*m) && p.as_ref().is_some_and(|p| out.contains(p)))
                .map(|(m, _)| m.clone())
                .collect();
            if below.is_empty() {
                return out;
            }
            out.extend(below);
        }
    }
}

impl Service {
    /// Whether the actor sees every insurer's figures (the zone's officers, the regulator).
    pub fn reads_zone_statistics(&self, actor: &Actor) -> bool {
        self.allows(actor, Action::ReadStatistics, &Resource::Zone)
    }

    /// Who the actor may report on: `None` for the whole zone (and any insurer in it), or the
    /// one insurer whose figures it sees.
    async fn stats_scope(&self, actor: &Actor) -> Result<Option<String>> {
        if self.reads_zone_statistics(actor) {
            self.require(actor, Action::ReadStatistics, &Resource::Zone, &Basis::None)?;
            return Ok(None);
        }
        let own = actor.org_id().map(str::to_owned).unwrap_or_default();
        let mut tx = self.store.begin_read().await?;
        let org = kebao_store::orgs::get(tx.conn(), &own).await;
        drop(tx);
        let resource = match org {
            Ok(o) => crate::authz::org_resource(&o),
            Err(_) => {
                Resource::Org { id: own.clone(), kind: OrgKind::Enterprise, status: OrgStatus::Pending }
            }
        };
        self.require(actor, Action::ReadStatistics, &resource, &Basis::None)?;
        Ok(Some(own))
    }

    /// The insurers the actor may choose a report for (all for the zone's officers; its own
    /// organisation and branches for an insurer).
    pub async fn stats_insurers(&self, actor: &Actor) -> Result<Vec<InsurerChoice>> {
        let scope = self.stats_scope(actor).await?;
        let mut tx = self.store.begin_read().await?;
        let ins = Insurers::new(store::insurers(tx.conn()).await?);
        let allowed = scope.as_deref().map(|s| ins.subtree(s));
        let mut out = Vec::new();
        for (h, members) in &ins.tree {
            for (id, depth) in std::iter::once((h, 0u8)).chain(members.iter().map(|m| (m, 1u8))) {
                if allowed.as_ref().is_none_or(|a| a.contains(id)) {
                    out.push((id.clone(), ins.name(id), depth));
                }
            }
        }
        Ok(out)
    }

    /// The query as the actor may have it: the insurer reported on filled in (an insurer's
    /// reader gets its own organisation when it names none) and checked against what the actor
    /// may see. What the report then counts depends on this query alone.
    pub(crate) async fn stats_authorise(&self, actor: &Actor, q: &StatsQuery) -> Result<StatsQuery> {
        let scope = self.stats_scope(actor).await?;
        let asked = q.insurer_id.clone().or(scope.clone());
        let mut tx = self.store.begin_read().await?;
        let ins = Insurers::new(store::insurers(tx.conn()).await?);
        drop(tx);
        ins.chosen(scope.as_deref(), asked.as_deref())?;
        Ok(StatsQuery { insurer_id: asked, ..q.clone() })
    }

    /// One report (see the module's words for what it counts).
    pub async fn stats_report(&self, actor: &Actor, q: &StatsQuery) -> Result<StatsReport> {
        let q = self.stats_authorise(actor, q).await?;
        self.stats_report_of(&q, false).await
    }

    /// The report for a query [`Service::stats_authorise`] has passed; `background`: on one
    /// core (see [`kebao_store::Store::begin_background_read`]).
    pub(crate) async fn stats_report_of(&self, q: &StatsQuery, background: bool) -> Result<StatsReport> {
        let asked = q.insurer_id.clone();
        let period = q.period;
        let (first, last) = (period.first_day(), period.last_day());
        let from_us = day_start_us(first);
        let to_us = day_start_us(last.next_day().unwrap_or(last));
        let mut tx = if background {
            self.store.begin_background_read().await?
        } else {
            self.store.begin_read().await?
        };
        let ins = Insurers::new(store::insurers(tx.conn()).await?);
        let members = ins.chosen(None, asked.as_deref())?;
        let in_scope = |k: &Key| members.as_ref().is_none_or(|m| m.contains(&k.insurer_id));
        // Distinct enterprises need the policyholder of every policy written; the sums need it
        // only when the rows depend on it.
        let grain = match q.by {
            Breakdown::Class | Breakdown::Insurer => store::Grain::Product,
            _ => store::Grain::Enterprise,
        };
        let written = store::written(tx.conn(), from_us, to_us).await?;
        let backend = tx.backend();
        let earned = store::earned(tx.conn(), backend, grain, first, last).await?;
        let premium = store::premium_written(tx.conn(), grain, from_us, to_us).await?;
        let reported = store::claims_reported(tx.conn(), grain, first, last).await?;
        let paid = store::claims_paid(tx.conn(), grain, from_us, to_us).await?;
        let dims = store::enterprise_dims(tx.conn(), last).await?;
        let types: HashMap<String, String> = store::product_types(tx.conn()).await?.into_iter().collect();
        drop(tx);
        let catalogue = self.catalogue();
        let rows = Rows {
            part: q.part,
            by: q.by,
            catalogue: &catalogue,
            industries: self.industries(),
            types: &types,
            dims: &dims,
            insurers: &ins,
        };
        // Every source of figures as (key, what it adds), one way of adding them up.
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        let figures = written
            .iter()
            .map(|(k, n, cover)| {
                (k, Measures { policies: count(*n), cover_fen: *cover, ..Measures::default() })
            })
            .chain(earned.iter().map(|(k, v)| (k, Measures { earned_fen: *v, ..Measures::default() })))
            .chain(premium.iter().map(|(k, v)| (k, Measures { written_fen: *v, ..Measures::default() })))
            .chain(reported.iter().map(|(k, n, claimed)| {
                (k, Measures { claims_reported: count(*n), claimed_fen: *claimed, ..Measures::default() })
            }))
            .chain(paid.iter().map(|(k, v)| (k, Measures { paid_fen: *v, ..Measures::default() })));
        let mut acc = Acc::default();
        let mut total = Measures::default();
        for (k, m) in figures.filter(|(k, _)| in_scope(k)) {
            for r in rows.keys(k) {
                acc.cell(&r).add_sums(&m);
                // Enterprises are those of the policies written.
                if m.policies > 0 {
                    acc.enterprises.entry(r).or_default().insert(k.enterprise_id.clone());
                }
            }
            if rows.counted(k) {
                total.add_sums(&m);
                if m.policies > 0 {
                    acc.all.insert(k.enterprise_id.clone());
                }
            }
        }
        total.enterprises = acc.all.len() as u64;
        let rows_out = rows.layout(&acc);
        let (scope_zh, scope_en) = match &asked {
            Some(a) => (ins.name(a), ins.name(a)),
            None => {
                ("东湖科技保险创新示范区（全部保险机构）".to_owned(), "The zone (all insurers)".to_owned())
            }
        };
        Ok(StatsReport {
            period: period.code(),
            period_zh: period.label_zh(),
            period_en: period.label_en(),
            part: q.part.number(),
            by: q.by.code().to_owned(),
            insurer_id: asked,
            scope_zh,
            scope_en,
            rows: rows_out,
            total,
            rows_overlap: q.by.overlaps(),
        })
    }
}

/// Microseconds at the start of a zone day (00:00 in Beijing time).
pub(crate) fn day_start_us(d: time::Date) -> i64 {
    kebao_domain::time_zone::to_unix_us(d.midnight().assume_offset(kebao_domain::time_zone::SHANGHAI))
}

/// A period's first and last day, and the microseconds `[from, to)` it spans in zone time.
pub(crate) fn bounds(p: Period) -> (time::Date, time::Date, i64, i64) {
    let (first, last) = (p.first_day(), p.last_day());
    (first, last, day_start_us(first), day_start_us(last.next_day().unwrap_or(last)))
}

/// The sums per row key (a row key is a path: a class then a type, a head office then a
/// branch, or one element), and the enterprises per row.
#[derive(Default)]
struct Acc {
    cells: BTreeMap<Vec<String>, Measures>,
    enterprises: HashMap<Vec<String>, HashSet<String>>,
    all: HashSet<String>,
}

impl Acc {
    fn cell(&mut self, k: &[String]) -> &mut Measures {
        self.cells.entry(k.to_vec()).or_default()
    }
}

/// How keys become rows.
struct Rows<'a> {
    part: Part,
    by: Breakdown,
    catalogue: &'a Catalogue,
    industries: &'a IndustryMap,
    types: &'a HashMap<String, String>,
    dims: &'a HashMap<String, EnterpriseDims>,
    insurers: &'a Insurers,
}

const NONE: &str = "none";

impl Rows<'_> {
    fn class_of(&self, k: &Key) -> Option<(NfraClass, String)> {
        let ty = self.types.get(&k.product_id)?;
        let class = self.catalogue.get(ty).map_or(NfraClass::ByEntity, |t| t.nfra());
        Some((class, ty.clone()))
    }

    /// Whether the key is in the part at all: Part 1 counts the products of the four classes,
    /// Part 2 every policy (a policyholder is always one of the zone's enterprises: only an
    /// enterprise applies for a policy or registers one).
    fn counted(&self, k: &Key) -> bool {
        match self.part {
            Part::Products => self.class_of(k).is_some_and(|(c, _)| c.part() == 1),
            Part::Entities => true,
        }
    }

    /// The rows a key counts in (the leaf rows; headings are summed from them).
    fn keys(&self, k: &Key) -> Vec<Vec<String>> {
        if !self.counted(k) {
            return Vec::new();
        }
        let d = self.dims.get(&k.enterprise_id);
        let one = |s: Option<&str>| vec![vec![s.unwrap_or(NONE).to_owned()]];
        match self.by {
            Breakdown::Class => match self.class_of(k) {
                Some((c, ty)) => vec![vec![c.code().to_owned(), ty]],
                None => Vec::new(),
            },
            Breakdown::Entity => {
                let held: Vec<QualificationKind> = d
                    .map(|d| {
                        d.qualifications.iter().filter_map(|q| QualificationKind::from_code(q)).collect()
                    })
                    .unwrap_or_default();
                one(Some(EntityCategory::of(&held).code()))
            }
            Breakdown::Industry => match d.map(|d| d.tags.as_slice()) {
                Some(tags) if !tags.is_empty() => tags.iter().map(|t| vec![t.clone()]).collect(),
                _ => one(None),
            },
            Breakdown::Stage => one(d.and_then(|d| d.stage.as_deref())),
            Breakdown::Park => one(d.and_then(|d| d.park.as_deref())),
            Breakdown::Insurer => {
                let head =
                    self.insurers.head.get(&k.insurer_id).cloned().unwrap_or_else(|| k.insurer_id.clone());
                vec![vec![head, k.insurer_id.clone()]]
            }
        }
    }

    fn label(&self, key: &str) -> (String, String) {
        let pair = |zh: &str, en: &str| (zh.to_owned(), en.to_owned());
        if key == NONE {
            return match self.by {
                Breakdown::Park => pair("未登记园区", "No park registered"),
                Breakdown::Stage => pair("未登记阶段", "No stage registered"),
                _ => pair("未归入 5+2 产业", "Outside the 5+2 industries"),
            };
        }
        match self.by {
            Breakdown::Class => match (NfraClass::from_code(key), self.catalogue.get(key)) {
                (Some(c), _) => pair(c.label_zh(), c.label_en()),
                (None, Some(t)) => pair(&t.name_zh, &t.name_en),
                (None, None) => pair(key, key),
            },
            Breakdown::Entity => EntityCategory::from_code(key)
                .map_or_else(|| pair(key, key), |c| pair(c.label_zh(), c.label_en())),
            Breakdown::Industry => {
                self.industries.tag(key).map_or_else(|| pair(key, key), |t| pair(&t.name_zh, &t.name_en))
            }
            Breakdown::Stage => LifecycleStage::from_code(key)
                .map_or_else(|| pair(key, key), |s| pair(s.label_zh(), s.label_en())),
            Breakdown::Park => {
                self.industries.park(key).map_or_else(|| pair(key, key), |p| pair(&p.name_zh, &p.name_en))
            }
            Breakdown::Insurer => {
                let n = self.insurers.name(key);
                (n.clone(), n)
            }
        }
    }

    /// The rows in the report's order, headings with their sums.
    fn layout(&self, acc: &Acc) -> Vec<StatsRow> {
        let distinct = |k: &[String]| acc.enterprises.get(k).map_or(0, |s| s.len() as u64);
        let row = |key: &str, depth: u8, mut m: Measures, n: u64| {
            let (zh, en) = self.label(key);
            m.enterprises = n;
            StatsRow { key: key.to_owned(), label_zh: zh, label_en: en, depth, measures: m }
        };
        let mut out = Vec::new();
        match self.by {
            Breakdown::Class | Breakdown::Insurer => {
                // Every heading in its order (classes as the regulator lists them, head offices by
                // name), even when empty, then its members that have figures.
                let heads: Vec<String> = match self.by {
                    Breakdown::Class => {
                        NfraClass::ALL.iter().filter(|c| c.part() == 1).map(|c| c.code().to_owned()).collect()
                    }
                    _ => self.insurers.tree.iter().map(|(h, _)| h.clone()).collect(),
                };
                for h in heads {
                    let members: Vec<(&Vec<String>, &Measures)> =
                        acc.cells.iter().filter(|(k, _)| k.first() == Some(&h)).collect();
                    if self.by == Breakdown::Insurer && members.is_empty() {
                        continue;
                    }
                    let mut sum = Measures::default();
                    let mut ents: HashSet<&String> = HashSet::new();
                    for (k, m) in &members {
                        sum.add_sums(m);
                        ents.extend(acc.enterprises.get(*k).into_iter().flatten());
                    }
                    out.push(row(&h, 0, sum, ents.len() as u64));
                    let mut leaves: Vec<(&Vec<String>, &Measures)> = members;
                    if self.by == Breakdown::Class {
                        // Types in catalogue order.
                        let order = |k: &Vec<String>| {
                            let t = k.get(1).map(String::as_str).unwrap_or_default();
                            self.catalogue.types().iter().position(|x| x.id == t).unwrap_or(usize::MAX)
                        };
                        leaves.sort_by_key(|(k, _)| order(k));
                    }
                    for (k, m) in leaves {
                        let leaf = k.get(1).map(String::as_str).unwrap_or_default();
                        if self.by == Breakdown::Insurer && leaf == h {
                            // The head office's own business, beside its branches'.
                            let mut own = row(leaf, 1, *m, distinct(k));
                            own.label_zh = format!("{}（本级）", own.label_zh);
                            own.label_en = format!("{} (own business)", own.label_en);
                            out.push(own);
                        } else {
                            out.push(row(leaf, 1, *m, distinct(k)));
                        }
                    }
                }
            }
            _ => {
                let order: Vec<String> = match self.by {
                    Breakdown::Entity => EntityCategory::ALL.iter().map(|c| c.code().to_owned()).collect(),
                    Breakdown::Industry => self.industries.tags().iter().map(|t| t.id.clone()).collect(),
                    Breakdown::Stage => LifecycleStage::ALL.iter().map(|s| s.code().to_owned()).collect(),
                    _ => self.industries.parks().iter().map(|p| p.id.clone()).collect(),
                };
                for key in order.iter().map(String::as_str).chain(std::iter::once(NONE)) {
                    let k = vec![key.to_owned()];
                    let m = acc.cells.get(&k).copied().unwrap_or_default();
                    if key == NONE && m.is_empty() {
                        continue;
                    }
                    out.push(row(key, 0, m, distinct(&k)));
                }
            }
        }
        out
    }
}

/// The report as a workbook in its layout: the title, the note that the layout is the
/// platform's arrangement of the regulator's definitions, the period and whose figures, then
/// the table (headings in Chinese and English, amounts in yuan as numbers with two decimals,
/// product types indented under their class) and the total.
pub fn report_xlsx(r: &StatsReport) -> std::result::Result<Vec<u8>, String> {
    use kebao_domain::stats::{Part as P, COLUMNS, LAYOUT_NOTE_EN, LAYOUT_NOTE_ZH};
    use rust_xlsxwriter::{Format, Workbook};
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let part = if r.part == 1 { P::Products } else { P::Entities };
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(format!("{} 第{}部分", r.period, r.part)).map_err(e)?;
    let title = Format::new().set_bold().set_font_size(14);
    let bold = Format::new().set_bold().set_text_wrap();
    let money = Format::new().set_num_format("#,##0.00");
    let count = Format::new().set_num_format("#,##0");
    let bold_money = Format::new().set_bold().set_num_format("#,##0.00");
    let bold_count = Format::new().set_bold().set_num_format("#,##0");
    let indent = Format::new().set_indent(2);
    sheet
        .write_string_with_format(0, 0, format!("科技保险业务统计表 {}", part.title_zh()), &title)
        .map_err(e)?;
    sheet.write_string(1, 0, format!("{LAYOUT_NOTE_ZH}（{LAYOUT_NOTE_EN}）")).map_err(e)?;
    sheet
        .write_string(
            2,
            0,
            format!("统计期 Period：{}（{}）　填报范围 Scope：{}", r.period_zh, r.period_en, r.scope_zh),
        )
        .map_err(e)?;
    sheet.write_string(3, 0, "金额单位：元 Amounts in yuan").map_err(e)?;
    let header_row = 5u32;
    let by = kebao_domain::stats::Breakdown::parse(&r.by).unwrap_or(part.default_breakdown());
    sheet
        .write_string_with_format(header_row, 0, format!("{} {}", by.label_zh(), by.label_en()), &bold)
        .map_err(e)?;
    sheet.set_column_width(0, 42).map_err(e)?;
    for (i, (_, zh, en)) in COLUMNS.iter().enumerate() {
        let c = u16::try_from(i + 1).map_err(|_| "too many columns".to_owned())?;
        sheet.write_string_with_format(header_row, c, format!("{zh}\n{en}"), &bold).map_err(e)?;
        sheet.set_column_width(c, 18).map_err(e)?;
    }
    sheet.set_row_height(header_row, 32).map_err(e)?;
    let write_measures = |sheet: &mut rust_xlsxwriter::Worksheet,
                          row: u32,
                          m: &Measures,
                          strong: bool|
     -> std::result::Result<(), String> {
        let (fm, fc) = if strong { (&bold_money, &bold_count) } else { (&money, &count) };
        let yuan = |f: i64| f as f64 / 100.0;
        sheet.write_number_with_format(row, 1, m.policies as f64, fc).map_err(e)?;
        sheet.write_number_with_format(row, 2, m.enterprises as f64, fc).map_err(e)?;
        sheet.write_number_with_format(row, 3, yuan(m.written_fen), fm).map_err(e)?;
        sheet.write_number_with_format(row, 4, yuan(m.earned_fen), fm).map_err(e)?;
        sheet.write_number_with_format(row, 5, yuan(m.cover_fen), fm).map_err(e)?;
        sheet.write_number_with_format(row, 6, m.claims_reported as f64, fc).map_err(e)?;
        sheet.write_number_with_format(row, 7, yuan(m.claimed_fen), fm).map_err(e)?;
        sheet.write_number_with_format(row, 8, yuan(m.paid_fen), fm).map_err(e)?;
        Ok(())
    };
    let mut at = header_row + 1;
    for row in &r.rows {
        let label = format!("{} {}", row.label_zh, row.label_en);
        if row.depth == 0 {
            sheet.write_string_with_format(at, 0, label, &bold).map_err(e)?;
        } else {
            sheet.write_string_with_format(at, 0, label, &indent).map_err(e)?;
        }
        write_measures(sheet, at, &row.measures, row.depth == 0)?;
        at += 1;
    }
    sheet.write_string_with_format(at, 0, "合计 Total", &bold).map_err(e)?;
    write_measures(sheet, at, &r.total, true)?;
    if r.rows_overlap {
        sheet
            .write_string(
                at + 2,
                0,
                "注：一家企业可属多个产业，各行之和可大于合计。Note: an enterprise may belong to several industries; rows may add up to more than the total.",
            )
            .map_err(e)?;
    }
    sheet.set_freeze_panes(header_row + 1, 1).map_err(e)?;
    book.save_to_buffer().map_err(e)
}

/// The zone's targets, as shipped (`data/zone/targets.toml`).
pub const TARGETS: &str = include_str!("../../../data/zone/targets.toml");

/// One target with where the zone stands.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetStanding {
    pub target: kebao_domain::targets::Target,
    /// Today's figure.
    pub now: i64,
    /// The figure at each year's end from the year counting starts (or 2021) to this year
    /// (this year: today).
    pub years: Vec<(i32, i64)>,
    /// Today's figure as a share of the target, in per cent.
    pub percent: Option<f64>,
}

impl Service {
    /// Where the zone stands against its plans' targets, today and at each year's end.
    pub async fn zone_targets(&self, actor: &Actor) -> Result<Vec<TargetStanding>> {
        use kebao_domain::targets::{parse, progress_percent, Measure};
        self.require(actor, Action::ReadStatistics, &Resource::Zone, &Basis::None)?;
        let targets = parse(TARGETS).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let today = self.today();
        let mut tx = self.store.begin_read().await?;
        let mut out = Vec::new();
        for t in targets {
            let first_year = t.counts_from.year().max(2021);
            let mut years = Vec::new();
            for y in first_year..=today.year() {
                let on = Period::Year(y).last_day().min(today);
                let end_us = day_start_us(on.next_day().unwrap_or(on));
                let from_us = day_start_us(t.counts_from);
                let v = match &t.measure {
                    Measure::InsuredEnterprises => store::insured(tx.conn(), from_us, end_us).await?.0,
                    Measure::RiskCoverFen => store::insured(tx.conn(), from_us, end_us).await?.1,
                    Measure::Institutions(kinds) => {
                        let codes: Vec<&str> = kinds.iter().map(|k| k.code()).collect();
                        store::institutions(tx.conn(), &codes, t.counts_from, on).await?
                    }
                    Measure::ProductsPublished => store::products_published(tx.conn(), end_us).await?,
                };
                years.push((y, v));
            }
            let now = years.last().map_or(0, |(_, v)| *v);
            let percent = t.value.and_then(|v| progress_percent(now, v));
            out.push(TargetStanding { target: t, now, years, percent });
        }
        Ok(out)
    }
}

/// The zone's business as a grid: 5+2 industry (rows) × life-cycle stage (columns), for a
/// period and a scope — premium written and distinct enterprises insured per cell, every policy
/// of an enterprise counted (Part 2). An enterprise in two industries is in both rows.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IndustryStageGrid {
    /// (key, zh, en) of the rows: the industries in configuration order, then `none`.
    pub rows: Vec<(String, String, String)>,
    /// (key, zh, en) of the columns: the stages, then `none`.
    pub cols: Vec<(String, String, String)>,
    /// Premium written (fen) per cell, rows × columns.
    pub written_fen: Vec<Vec<i64>>,
    /// Distinct enterprises with a policy written in the period, per cell.
    pub enterprises: Vec<Vec<u64>>,
}

impl Service {
    /// The industry × stage grid (see [`IndustryStageGrid`]); the same readers and scope as a
    /// report.
    pub async fn stats_grid(&self, actor: &Actor, q: &StatsQuery) -> Result<IndustryStageGrid> {
        // The report's checks (scope, insurer), and its keys per enterprise.
        let q = self.stats_authorise(actor, q).await?;
        self.stats_grid_of(&q, false).await
    }

    /// The grid for a query [`Service::stats_authorise`] has passed.
    pub(crate) async fn stats_grid_of(&self, q: &StatsQuery, background: bool) -> Result<IndustryStageGrid> {
        let (first, last) = (q.period.first_day(), q.period.last_day());
        let (from_us, to_us) = (day_start_us(first), day_start_us(last.next_day().unwrap_or(last)));
        let mut tx = if background {
            self.store.begin_background_read().await?
        } else {
            self.store.begin_read().await?
        };
        let ins = Insurers::new(store::insurers(tx.conn()).await?);
        let members = ins.chosen(None, q.insurer_id.as_deref())?;
        let in_scope = |k: &Key| members.as_ref().is_none_or(|m| m.contains(&k.insurer_id));
        let written = store::written(tx.conn(), from_us, to_us).await?;
        let premium = store::premium_written(tx.conn(), store::Grain::Enterprise, from_us, to_us).await?;
        let dims = store::enterprise_dims(tx.conn(), last).await?;
        drop(tx);
        let industries = self.industries();
        let mut rows: Vec<(String, String, String)> =
            industries.tags().iter().map(|t| (t.id.clone(), t.name_zh.clone(), t.name_en.clone())).collect();
        rows.push((NONE.into(), "未归入 5+2 产业".into(), "Outside the 5+2 industries".into()));
        let mut cols: Vec<(String, String, String)> = LifecycleStage::ALL
            .iter()
            .map(|s| (s.code().to_owned(), s.label_zh().to_owned(), s.label_en().to_owned()))
            .collect();
        cols.push((NONE.into(), "未登记阶段".into(), "No stage registered".into()));
        let cells = |e: &str| -> Vec<(usize, usize)> {
            let d = dims.get(e);
            let col = d
                .and_then(|d| d.stage.as_deref())
                .and_then(|s| cols.iter().position(|c| c.0 == s))
                .unwrap_or(cols.len() - 1);
            let tags: Vec<usize> = d
                .map(|d| d.tags.iter().filter_map(|t| rows.iter().position(|r| &r.0 == t)).collect())
                .unwrap_or_default();
            if tags.is_empty() {
                vec![(rows.len() - 1, col)]
            } else {
                tags.into_iter().map(|r| (r, col)).collect()
            }
        };
        let mut written_fen = vec![vec![0i64; cols.len()]; rows.len()];
        let mut ents: Vec<Vec<HashSet<&str>>> = vec![vec![HashSet::new(); cols.len()]; rows.len()];
        for (k, amount) in premium.iter().filter(|(k, _)| in_scope(k)) {
            for (r, c) in cells(&k.enterprise_id) {
                if let Some(v) = written_fen.get_mut(r).and_then(|row| row.get_mut(c)) {
                    *v += amount;
                }
            }
        }
        for (k, _, _) in written.iter().filter(|(k, _, _)| in_scope(k)) {
            for (r, c) in cells(&k.enterprise_id) {
                if let Some(set) = ents.get_mut(r).and_then(|row| row.get_mut(c)) {
                    set.insert(k.enterprise_id.as_str());
                }
            }
        }
        let enterprises = ents.iter().map(|row| row.iter().map(|s| s.len() as u64).collect()).collect();
        Ok(IndustryStageGrid { rows, cols, written_fen, enterprises })
    }
}

/// Premium written by product class, quarter by quarter: the eight quarters up to the chosen
/// period's last (none after today's), in the chosen insurer's scope.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClassTrend {
    /// The quarters, earliest first: (code, Chinese label, English label).
    pub quarters: Vec<(String, String, String)>,
    /// The classes: (code, Chinese label, English label).
    pub classes: Vec<(String, String, String)>,
    /// Premium written (fen) per class, per quarter.
    pub written_fen: Vec<Vec<i64>>,
}

impl Service {
    /// See [`ClassTrend`]; the same access as the report.
    pub async fn stats_class_trend(&self, actor: &Actor, q: &StatsQuery) -> Result<ClassTrend> {
        let q = self.stats_authorise(actor, q).await?;
        let mut reports = Vec::new();
        for p in trend_quarters(self.today(), q.period) {
            reports.push((p, self.stats_report_of(&class_query(&q, p), false).await?));
        }
        Ok(class_trend(&reports))
    }
}

/// The eight quarters up to the period's last (none after today's), earliest first.
pub(crate) fn trend_quarters(today: time::Date, period: Period) -> Vec<Period> {
    let end = period.last_day().min(today);
    let mut quarters: Vec<Period> = Vec::new();
    let (mut y, mut n) = (end.year(), (u8::from(end.month()) - 1) / 3 + 1);
    for _ in 0..8 {
        quarters.push(Period::Quarter(y, n));
        if n == 1 {
            (y, n) = (y - 1, 4);
        } else {
            n -= 1;
        }
        if y < kebao_domain::stats::MIN_YEAR {
            break;
        }
    }
    quarters.reverse();
    quarters
}

/// Part 1 by class for one quarter, in the query's scope.
pub(crate) fn class_query(q: &StatsQuery, p: Period) -> StatsQuery {
    StatsQuery { period: p, part: Part::Products, by: Breakdown::Class, insurer_id: q.insurer_id.clone() }
}

/// The trend from each quarter's Part 1 report by class.
pub(crate) fn class_trend(reports: &[(Period, StatsReport)]) -> ClassTrend {
    let mut classes: Vec<(String, String, String)> = Vec::new();
    let mut columns: Vec<HashMap<String, i64>> = Vec::new();
    for (_, r) in reports {
        let mut col = HashMap::new();
        for row in r.rows.iter().filter(|r| r.depth == 0) {
            if !classes.iter().any(|c| c.0 == row.key) {
                classes.push((row.key.clone(), row.label_zh.clone(), row.label_en.clone()));
            }
            col.insert(row.key.clone(), row.measures.written_fen);
        }
        columns.push(col);
    }
    let written_fen = classes
        .iter()
        .map(|(k, _, _)| columns.iter().map(|c| c.get(k).copied().unwrap_or(0)).collect())
        .collect();
    ClassTrend {
        quarters: reports.iter().map(|(p, _)| (p.code(), p.label_zh(), p.label_en())).collect(),
        classes,
        written_fen,
    }
}
