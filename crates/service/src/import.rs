//! Bulk import and export of organisations. An import checks every row first; if any
//! row is bad it imports nothing (unless asked to skip bad rows) and reports row, column
//! and reason for each problem. What it imports, it imports in one transaction.

use crate::authz::{Action, Actor, Basis, Resource};
use crate::tabular::{Table, TableError};
use crate::{Result, Service};
use kebao_domain::event::EventDraft;
pub use kebao_domain::org::ImportRow;
use kebao_domain::org::OrgFilter;
use kebao_domain::org::{
    FactsInput, NewOrganisation, OrgStatus, OrganisationInput, Qualification, YearlyFacts,
};
use kebao_domain::{FieldError, Invalid};
use kebao_store::orgs;
use std::collections::HashMap;

/// A problem with one cell.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowProblem {
    pub row: usize,
    pub column: String,
    pub code: &'static str,
    pub reason_zh: String,
    pub reason_en: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportReport {
    pub rows: usize,
    pub imported: usize,
    pub skipped: usize,
    pub problems: Vec<RowProblem>,
}

/// Options for an import.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Import the good rows and report the bad ones, instead of importing nothing.
    pub skip_invalid: bool,
}

/// The columns of the organisation spreadsheet: code, Chinese header, required.
pub const COLUMNS: &[(&str, &str, bool)] = &[
    ("name", "名称", true),
    ("uscc", "统一社会信用代码", true),
    ("kind", "类型", true),
    ("industry_code", "行业代码", false),
    ("lifecycle_stage", "生命周期阶段", false),
    ("founded_on", "成立日期", false),
    ("address", "地址", false),
    ("park", "所在园区", false),
    ("institution_kind", "机构类别", false),
    ("parent_uscc", "上级机构代码", false),
    ("year", "年度", false),
    ("revenue_yuan", "营业收入(元)", false),
    ("rnd_expense_yuan", "研发费用(元)", false),
    ("staff", "职工人数", false),
    ("rnd_staff", "研发人员", false),
    ("patents_granted", "授权专利", false),
    ("patents_pending", "在审专利", false),
    ("export_share_percent", "出口占比(%)", false),
];

/// Turns a table into import rows; a missing required column fails the whole file.
pub fn rows_from_table(t: &Table) -> Result<Vec<ImportRow>, TableError> {
    let mut idx = HashMap::new();
    for (code, zh, required) in COLUMNS {
        let col = t.column(&[code, zh]);
        if col.is_none() && *required {
            return Err(TableError::MissingColumn((*code).to_owned()));
        }
        idx.insert(*code, col);
    }
    let get = |r: usize, c: &str| t.cell(r, idx.get(c).copied().flatten()).to_owned();
    Ok((0..t.rows.len())
        .filter(|&r| t.rows.get(r).is_some_and(|cells| cells.iter().any(|c| !c.is_empty())))
        .map(|r| {
            let year = get(r, "year");
            ImportRow {
                row: r + 2,
                org: OrganisationInput {
                    name: get(r, "name"),
                    uscc: get(r, "uscc"),
                    kind: get(r, "kind"),
                    industry_code: get(r, "industry_code"),
                    lifecycle_stage: get(r, "lifecycle_stage"),
                    founded_on: get(r, "founded_on"),
                    address: get(r, "address"),
                    parent_id: String::new(),
                    park: get(r, "park"),
                    institution_kind: get(r, "institution_kind"),
                },
                parent_uscc: get(r, "parent_uscc"),
                facts: if year.is_empty() {
                    Vec::new()
                } else {
                    vec![FactsInput {
                        year,
                        revenue_yuan: get(r, "revenue_yuan"),
                        rnd_expense_yuan: get(r, "rnd_expense_yuan"),
                        staff: get(r, "staff"),
                        rnd_staff: get(r, "rnd_staff"),
                        patents_granted: get(r, "patents_granted"),
                        patents_pending: get(r, "patents_pending"),
                        export_share_percent: get(r, "export_share_percent"),
                    }]
                },
                qualifications: Vec::new(),
            }
        })
        .collect())
}

struct Checked {
    org: NewOrganisation,
    parent_uscc: Option<String>,
    facts: Vec<YearlyFacts>,
    qualifications: Vec<Qualification>,
}

fn problem(row: usize, e: FieldError) -> RowProblem {
    RowProblem { row, column: e.field, code: e.code, reason_zh: e.message_zh, reason_en: e.message_en }
}

impl Service {
    /// Refuses an actor who may not import organisations. Callers check it BEFORE they
    /// read or parse an upload: reading a spreadsheet costs memory and time, and only
    /// those who may import should be able to spend them.
    pub fn authorize_import(&self, actor: &Actor) -> Result<()> {
        self.require(actor, Action::CreateOrg, &Resource::Zone, &Basis::None).map(|_| ())
    }

    /// Imports organisations. `progress(done, total)` is called as rows are written.
    pub async fn import_orgs(
        &self,
        actor: &Actor,
        rows: Vec<ImportRow>,
        opts: ImportOptions,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<ImportReport> {
        self.authorize_import(actor)?;
        let mut report = ImportReport { rows: rows.len(), ..ImportReport::default() };
        let mut checked: Vec<(usize, Checked)> = Vec::with_capacity(rows.len());
        let mut seen: HashMap<String, usize> = HashMap::new();
        for r in &rows {
            let mut problems = Vec::new();
            let org = NewOrganisation::parse(&r.org, &self.industries);
            let facts: Vec<_> = r.facts.iter().map(YearlyFacts::parse).collect();
            let quals: Vec<_> =
                r.qualifications.iter().map(|[k, f, t, c]| Qualification::parse(k, f, t, c)).collect();
            if let Err(Invalid(es)) = &org {
                problems.extend(es.iter().cloned().map(|e| problem(r.row, e)));
            }
            for res in &facts {
                if let Err(Invalid(es)) = res {
                    problems.extend(es.iter().cloned().map(|e| problem(r.row, e)));
                }
            }
            for res in &quals {
                if let Err(Invalid(es)) = res {
                    problems.extend(es.iter().cloned().map(|e| {
                        let f = format!("qualification.{}", e.field);
                        problem(r.row, e.at(f))
                    }));
                }
            }
            if let Ok(o) = &org {
                if let Some(first) = seen.get(o.uscc.as_str()) {
                    problems.push(problem(
                        r.row,
                        FieldError::new(
                            "uscc",
                            "duplicate_in_file",
                            format!("与第 {first} 行的统一社会信用代码重复"),
                            format!("the same unified social credit code as row {first}"),
                        ),
                    ));
                }
            }
            if problems.is_empty() {
                if let Ok(o) = org {
                    seen.insert(o.uscc.as_str().to_owned(), r.row);
                    let parent = r.parent_uscc.trim().to_ascii_uppercase();
                    checked.push((
                        r.row,
                        Checked {
                            org: o,
                            parent_uscc: (!parent.is_empty()).then_some(parent),
                            facts: facts.into_iter().filter_map(Result::ok).collect(),
                            qualifications: quals.into_iter().filter_map(Result::ok).collect(),
                        },
                    ));
                }
            } else {
                report.problems.extend(problems);
            }
        }
        let mut tx = self.store.begin_write().await?;
        // Against the registry: duplicates and parents.
        let usccs: Vec<String> = checked.iter().map(|(_, c)| c.org.uscc.as_str().to_owned()).collect();
        let existing: std::collections::HashSet<String> =
            orgs::existing_usccs(tx.conn(), &usccs).await?.into_iter().collect();
        let mut ids: HashMap<String, (String, kebao_domain::OrgKind)> = HashMap::new();
        let mut good: Vec<(usize, String, Checked)> = Vec::with_capacity(checked.len());
        for (row, c) in checked {
            let uscc = c.org.uscc.as_str().to_owned();
            if existing.contains(&uscc) {
                report.problems.push(problem(
                    row,
                    FieldError::new(
                        "uscc",
                        "duplicate",
                        format!("统一社会信用代码 {uscc} 已登记"),
                        format!("unified social credit code `{uscc}` is already registered"),
                    ),
                ));
                continue;
            }
            let mut c = c;
            if let Some(p) = &c.parent_uscc {
                let parent = match ids.get(p) {
                    Some((id, kind)) => Some((id.clone(), *kind)),
                    None => orgs::find_by_uscc(tx.conn(), p).await?.map(|o| (o.id, o.kind)),
                };
                match parent {
                    Some((pid, kind)) if kind == c.org.kind && c.org.kind.has_branches() => {
                        c.org.parent_id = Some(pid)
                    }
                    Some(_) => {
                        report.problems.push(problem(
                            row,
                            FieldError::new(
                                "parent_uscc",
                                "parent_kind",
                                "上级机构类型不符，或该类机构不设分支",
                                "the parent is of another kind, or this kind has no branches",
                            ),
                        ));
                        continue;
                    }
                    None => {
                        report.problems.push(problem(
                            row,
                            FieldError::new(
                                "parent_uscc",
                                "parent_unknown",
                                format!("上级机构 {p} 未登记，且不在本文件此行之前"),
                                format!("parent `{p}` is not registered, nor earlier in this file"),
                            ),
                        ));
                        continue;
                    }
                }
            }
            let id = self.new_id();
            ids.insert(uscc, (id.clone(), c.org.kind));
            good.push((row, id, c));
        }
        report.problems.sort_by_key(|p| p.row);
        if !report.problems.is_empty() && !opts.skip_invalid {
            report.skipped = report.rows;
            return Ok(report);
        }
        let total = u64::try_from(good.len()).unwrap_or(u64::MAX);
        let now = self.now_us();
        let batch = self.new_id();
        let actor_name = actor.log_name();
        let mut log = kebao_store::events::Appender::start(&mut tx).await?;
        for (i, (_, id, c)) in good.iter().enumerate() {
            orgs::insert(tx.conn(), id, &c.org, OrgStatus::Verified, now).await?;
            for f in &c.facts {
                orgs::upsert_facts(tx.conn(), id, f, now).await?;
            }
            for q in &c.qualifications {
                orgs::add_qualification(tx.conn(), &self.new_id(), id, q).await?;
            }
            let years: Vec<i32> = c.facts.iter().map(|f| f.year).collect();
            let draft = EventDraft::new(
                &actor_name,
                "org.created",
                id,
                serde_json::json!({"kind": c.org.kind.code(), "status": "verified", "via": "import", "batch": batch, "facts_years": years, "qualifications": c.qualifications.len()}),
            );
            log.push(&mut tx, draft, now).await?;
            let done = u64::try_from(i + 1).unwrap_or(u64::MAX);
            if done % 1000 == 0 || done == total {
                progress(done, total);
            }
        }
        if good.is_empty() && total == 0 {
            progress(0, 0);
        }
        log.finish(&mut tx).await?;
        if !good.is_empty() {
            // One event per organisation created; with none, nothing was written.
            tx.commit().await?;
        }
        report.imported = good.len();
        report.skipped = report.rows - report.imported;
        Ok(report)
    }

    /// Exports organisations matching `filter` as a table. With `with_facts`, each row
    /// carries the newest year of facts, only where the actor has a lawful basis to see
    /// them; reads on a statutory basis are recorded, one event per enterprise.
    pub async fn export_orgs(
        &self,
        actor: &Actor,
        filter: &OrgFilter,
        with_facts: bool,
    ) -> Result<(Table, usize)> {
        self.export_orgs_for(actor, filter, with_facts, None).await
    }

    /// The same, for a stated purpose: facts of other enterprises appear only under a consent
    /// covering that purpose (or a statutory duty), through the same check as every read.
    pub async fn export_orgs_for(
        &self,
        actor: &Actor,
        filter: &OrgFilter,
        with_facts: bool,
        purpose: Option<kebao_domain::consent::Purpose>,
    ) -> Result<(Table, usize)> {
        let headers: Vec<String> = COLUMNS
            .iter()
            .filter(|(c, _, _)| with_facts || !FACT_COLUMNS.contains(c))
            .map(|(c, _, _)| (*c).to_owned())
            .collect();
        let mut table = Table { headers, rows: Vec::new() };
        let mut cursor: Option<String> = None;
        let mut uscc_of: HashMap<String, String> = HashMap::new();
        let mut withheld = 0usize;
        loop {
            let page = self.list_orgs(actor, filter, cursor.as_deref(), crate::registry::MAX_PAGE).await?;
            for o in &page.items {
                uscc_of.insert(o.id.clone(), o.uscc.clone());
            }
            for o in page.items {
                let parent_uscc = match &o.parent_id {
                    Some(p) => match uscc_of.get(p) {
                        Some(u) => u.clone(),
                        None => {
                            let mut tx = self.store.begin_read().await?;
                            orgs::get(tx.conn(), p).await.map(|p| p.uscc).unwrap_or_default()
                        }
                    },
                    None => String::new(),
                };
                let mut row = vec![
                    o.name.clone(),
                    o.uscc.clone(),
                    o.kind.code().to_owned(),
                    o.industry_code.clone().unwrap_or_default(),
                    o.lifecycle_stage.map(|s| s.code().to_owned()).unwrap_or_default(),
                    o.founded_on.map(|d| d.to_string()).unwrap_or_default(),
                    o.address.clone().unwrap_or_default(),
                    o.park.clone().unwrap_or_default(),
                    o.institution_kind.map(|k| k.code().to_owned()).unwrap_or_default(),
                    parent_uscc,
                ];
                if with_facts {
                    let d = if o.kind == kebao_domain::OrgKind::Enterprise {
                        Some(
                            self.check_read(
                                actor,
                                &o,
                                kebao_domain::consent::DataScope::FinancialFacts,
                                kebao_domain::consent::DataClass::Enterprise,
                                purpose,
                            )
                            .await?,
                        )
                    } else {
                        None
                    };
                    let latest = if let Some(d) = d.filter(|d| d.allowed) {
                        let mut tx = self.store.begin_read().await?;
                        let f = orgs::facts(tx.conn(), &o.id).await?.into_iter().next();
                        drop(tx);
                        if f.is_some() && d.basis != "own" {
                            self.record_read(actor, &o, &d, "facts.export").await?;
                        }
                        f
                    } else {
                        if o.kind == kebao_domain::OrgKind::Enterprise {
                            withheld += 1;
                        }
                        None
                    };
                    match latest {
                        Some(f) => row.extend([
                            f.year.to_string(),
                            f.revenue.to_yuan_string(),
                            f.rnd_expense.to_yuan_string(),
                            f.staff.to_string(),
                            f.rnd_staff.to_string(),
                            f.patents_granted.to_string(),
                            f.patents_pending.to_string(),
                            kebao_domain::Money::from_fen(i64::from(f.export_share_bp)).to_yuan_string(),
                        ]),
                        None => row.extend(std::iter::repeat_n(String::new(), FACT_COLUMNS.len())),
                    }
                }
                table.rows.push(row);
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok((table, withheld))
    }
}

const FACT_COLUMNS: &[&str] = &[
    "year",
    "revenue_yuan",
    "rnd_expense_yuan",
    "staff",
    "rnd_staff",
    "patents_granted",
    "patents_pending",
    "export_share_percent",
];
