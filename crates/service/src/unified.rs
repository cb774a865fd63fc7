//! The enterprise's unified view (360°, C3; the plan's 统一客户视图): one picture per
//! enterprise — profile and qualifications, yearly facts over time, patents, policies, claims,
//! disputes, subsidies, loans, consents, scores, who read its data, and a timeline of all
//! of it. The enterprise sees every section; anyone else only those their lawful basis opens
//! (the one check, [`Service::check_read`]), and each hidden section says why. A read by
//! anyone but the enterprise is recorded like a credit report's, so it appears in the
//! enterprise's access log. See `docs/advisor.md`.

use crate::authz::{Action, Actor, Basis};
use crate::consent::ReadCheck;
use crate::{Result, Service, ServiceError};
use kebao_domain::consent::{DataClass, DataScope, Purpose};
use kebao_domain::event::EventDraft;
use kebao_domain::org::{OrgKind, Organisation};
use kebao_domain::Money;
use kebao_store::orgs;
use std::collections::HashMap;
use time::Date;

/// One value as a person reads it, in both languages (data such as names is the same in both).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cell {
    pub zh: String,
    pub en: String,
}

impl Cell {
    fn data(s: impl Into<String>) -> Cell {
        let s = s.into();
        Cell { zh: s.clone(), en: s }
    }

    fn both(zh: impl Into<String>, en: impl Into<String>) -> Cell {
        Cell { zh: zh.into(), en: en.into() }
    }
}

fn money(m: Money) -> Cell {
    Cell::data(m.display_yuan())
}

/// One row of a section: its cells in the section's column order, where it leads, and its
/// date on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    pub cells: Vec<Cell>,
    pub link: Option<String>,
    pub on: Option<Date>,
}

/// One section of the view.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Section {
    /// A stable key (`policies`, `claims` …).
    pub key: &'static str,
    pub title_zh: &'static str,
    pub title_en: &'static str,
    /// Whether the reader may see it.
    pub allowed: bool,
    /// The lawful basis that opened it (`own`, `statutory_duty`, `consent` …; blank when hidden).
    pub basis: &'static str,
    /// Why not, when hidden.
    pub reason_zh: String,
    pub reason_en: String,
    /// Column headings (zh, en).
    pub columns: Vec<(&'static str, &'static str)>,
    pub rows: Vec<Row>,
    /// What the section says when it is open and empty.
    pub empty_zh: &'static str,
    pub empty_en: &'static str,
}

/// One entry of the timeline, from an open section.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TimelineEntry {
    pub on: Date,
    pub section_zh: &'static str,
    pub section_en: &'static str,
    pub what: Cell,
    pub link: Option<String>,
}

/// The unified view of one enterprise.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnifiedView {
    pub org_id: String,
    pub org_name: String,
    /// The reader is the enterprise itself.
    pub own: bool,
    /// The purpose the reader stated (others than the enterprise and the zone's officers).
    pub purpose: Option<Purpose>,
    pub sections: Vec<Section>,
    pub timeline: Vec<TimelineEntry>,
}

/// The most timeline entries shown (newest first).
const TIMELINE_MAX: usize = 200;

struct Spec {
    key: &'static str,
    title: (&'static str, &'static str),
    scope: DataScope,
    class: DataClass,
    columns: Vec<(&'static str, &'static str)>,
    empty: (&'static str, &'static str),
}

fn specs() -> Vec<Spec> {
    use DataClass::{Enterprise, Public};
    use DataScope::*;
    let s = |key, title, scope, class, columns, empty| Spec { key, title, scope, class, columns, empty };
    vec![
        s(
            "profile",
            ("登记信息", "Registration"),
            Profile,
            Public,
            vec![("项目", "Item"), ("内容", "Value")],
            ("无", "None"),
        ),
        s(
            "qualifications",
            ("资质", "Qualifications"),
            Profile,
            Public,
            vec![("资质", "Qualification"), ("有效期", "Valid"), ("证书编号", "Certificate")],
            ("未登记资质", "No qualification recorded"),
        ),
        s(
            "facts",
            ("年度经营数据", "Yearly facts"),
            FinancialFacts,
            Enterprise,
            vec![
                ("年度", "Year"),
                ("营业收入（元）", "Revenue (yuan)"),
                ("研发投入（元）", "R&D (yuan)"),
                ("员工（研发）", "Staff (R&D)"),
                ("出口占比", "Exports"),
            ],
            ("未填报年度数据", "No yearly facts reported"),
        ),
        s(
            "ip",
            ("知识产权", "Intellectual property"),
            Ip,
            Enterprise,
            vec![("年度", "Year"), ("授权专利", "Granted"), ("申请中", "Pending")],
            ("未填报", "None reported"),
        ),
        s(
            "policies",
            ("保单", "Policies"),
            PoliciesClaims,
            Enterprise,
            vec![
                ("保单号", "Policy no."),
                ("产品", "Product"),
                ("保险机构", "Insurer"),
                ("保险期间", "Cover"),
                ("保费（元）", "Premium (yuan)"),
                ("状态", "Status"),
            ],
            ("没有保单", "No policy"),
        ),
        s(
            "claims",
            ("理赔", "Claims"),
            PoliciesClaims,
            Enterprise,
            vec![
                ("报案日", "Reported"),
                ("保单号", "Policy no."),
                ("索赔（元）", "Claimed (yuan)"),
                ("已赔付（元）", "Paid (yuan)"),
                ("状态", "Status"),
            ],
            ("没有理赔", "No claim"),
        ),
        s(
            "disputes",
            ("纠纷调解", "Disputes"),
            PoliciesClaims,
            Enterprise,
            vec![("投诉日", "Filed"), ("保险机构", "Insurer"), ("状态", "Status")],
            ("没有纠纷", "No dispute"),
        ),
        s(
            "subsidies",
            ("保费补贴", "Subsidies"),
            Subsidies,
            Enterprise,
            vec![
                ("申请日", "Applied"),
                ("方案", "Programme"),
                ("金额（元）", "Amount (yuan)"),
                ("状态", "Status"),
            ],
            ("没有补贴申请", "No subsidy application"),
        ),
        s(
            "loans",
            ("贷款", "Loans"),
            Loans,
            Enterprise,
            vec![
                ("申请日", "Applied"),
                ("银行", "Bank"),
                ("保险机构", "Insurer"),
                ("金额（元）", "Amount (yuan)"),
                ("状态", "Status"),
            ],
            ("没有贷款", "No loan"),
        ),
        s(
            "scores",
            ("评分", "Scores"),
            Scores,
            Enterprise,
            vec![("评分日期", "Scored on"), ("机构与模型", "Institution and model"), ("分数", "Score"), ("建议", "Advice")],
            ("没有可向您显示的评分（各机构的评分只对其本机构和被评企业可见）", "No score you may see (an institution's scores are seen by that institution and the scored enterprise only)"),
        ),
    ]
}

impl Service {
    /// The unified view of an enterprise for the actor. `purpose`: why a reader other than the
    /// enterprise and the zone's officers reads (the consent it relies on must be for it).
    pub async fn unified_view(
        &self,
        actor: &Actor,
        org_id: &str,
        purpose: Option<Purpose>,
    ) -> Result<UnifiedView> {
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        let mut tx = self.store.begin_read().await?;
        let org = match orgs::get(tx.conn(), org_id).await {
            Ok(o) if o.kind == OrgKind::Enterprise => o,
            Ok(_) | Err(kebao_store::StoreError::NotFound) => return Err(ServiceError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let own = actor.org_id() == Some(org.id.as_str());
        let consents = match actor.org_id() {
            Some(reader) if !own => kebao_store::consents::between(tx.conn(), &org.id, reader).await?,
            _ => Vec::new(),
        };
        drop(tx);
        let mut sections = Vec::new();
        let mut checks: Vec<(&'static str, ReadCheck)> = Vec::new();
        for spec in specs() {
            let check =
                self.check_read_with(actor, &org, spec.scope, spec.class, purpose, Some(&consents)).await?;
            let rows = if check.allowed {
                self.unified_rows(&org, spec.key, actor.org_id(), own).await?
            } else {
                Vec::new()
            };
            sections.push(Section {
                key: spec.key,
                title_zh: spec.title.0,
                title_en: spec.title.1,
                allowed: check.allowed,
                basis: if check.allowed { check.basis } else { "" },
                reason_zh: check.reason_zh.clone(),
                reason_en: check.reason_en.clone(),
                columns: spec.columns,
                rows,
                empty_zh: spec.empty.0,
                empty_en: spec.empty.1,
            });
            checks.push((spec.key, check));
        }
        sections.push(self.unified_consents(actor, &org, own).await?);
        sections.push(self.unified_access_log(actor, &org).await?);
        let mut timeline: Vec<TimelineEntry> = sections
            .iter()
            // Monthly assessments would crowd the timeline out: scores stay in their section.
            .filter(|s| s.allowed && !matches!(s.key, "profile" | "access_log" | "scores"))
            .flat_map(|s| {
                s.rows.iter().filter_map(move |r| {
                    let on = r.on?;
                    let summary = |en: bool| {
                        r.cells
                            .iter()
                            .skip(1)
                            .take(3)
                            .map(|c| if en { c.en.as_str() } else { c.zh.as_str() })
                            .filter(|t| !t.is_empty())
                            .collect::<Vec<_>>()
                    };
                    Some(TimelineEntry {
                        on,
                        section_zh: s.title_zh,
                        section_en: s.title_en,
                        what: Cell::both(summary(false).join(" · "), summary(true).join(" · ")),
                        link: r.link.clone(),
                    })
                })
            })
            .collect();
        timeline.sort_by_key(|t| std::cmp::Reverse(t.on));
        timeline.truncate(TIMELINE_MAX);
        if !own {
            // Recorded like a credit report: the enterprise sees who looked, on what basis.
            let allowed: Vec<String> =
                checks.iter().filter(|c| c.1.allowed).map(|c| c.0.to_owned()).collect();
            let refused: Vec<serde_json::Value> = checks
                .iter()
                .filter(|c| !c.1.allowed)
                .map(|c| serde_json::json!({"section": c.0, "reason": c.1.reason_en}))
                .collect();
            let mut consent_ids: Vec<String> = checks.iter().filter_map(|c| c.1.consent_id.clone()).collect();
            consent_ids.sort();
            consent_ids.dedup();
            let basis = checks.iter().find(|c| c.1.allowed).map(|c| c.1.basis).unwrap_or("none");
            let action = if allowed.is_empty() { "unified_view.refused" } else { "unified_view.read" };
            let tx = self.store.begin_write().await?;
            self.finish(
                tx,
                EventDraft::new(
                    &actor.log_name(),
                    action,
                    &org.id,
                    serde_json::json!({"reader_org": actor.org_id(),
                        "purpose": purpose.map(|p| p.code()).unwrap_or(crate::authz::SUPERVISION),
                        "basis": basis, "consents": consent_ids, "allowed": allowed, "refused": refused}),
                ),
            )
            .await?;
        }
        Ok(UnifiedView {
            org_id: org.id.clone(),
            org_name: org.name.clone(),
            own,
            purpose,
            sections,
            timeline,
        })
    }

    /// The rows of one section. `reader`: the reading organisation; `own`: the enterprise reads
    /// about itself.
    async fn unified_rows(
        &self,
        org: &Organisation,
        key: &str,
        reader: Option<&str>,
        own: bool,
    ) -> Result<Vec<Row>> {
        let mut tx = self.store.begin_read().await?;
        let mut names: HashMap<String, String> = HashMap::new();
        let row = |cells: Vec<Cell>, link: Option<String>, on: Option<Date>| Row { cells, link, on };
        let rows = match key {
            "profile" => {
                let line = |zh: &str, en: &str, v: Cell| row(vec![Cell::both(zh, en), v], None, None);
                let tags: Vec<(String, String)> = org
                    .zone_industries
                    .iter()
                    .filter_map(|t| self.industries().tag(t).map(|z| (z.name_zh.clone(), z.name_en.clone())))
                    .collect();
                vec![
                    line("名称", "Name", Cell::data(org.name.clone())),
                    line("统一社会信用代码", "Unified social credit code", Cell::data(org.uscc.clone())),
                    line(
                        "行业",
                        "Industry",
                        Cell::both(
                            format!(
                                "{} {}",
                                org.industry_code.clone().unwrap_or_default(),
                                tags.iter().map(|t| t.0.as_str()).collect::<Vec<_>>().join("、")
                            ),
                            format!(
                                "{} {}",
                                org.industry_code.clone().unwrap_or_default(),
                                tags.iter().map(|t| t.1.as_str()).collect::<Vec<_>>().join(", ")
                            ),
                        ),
                    ),
                    line(
                        "生命周期阶段",
                        "Life-cycle stage",
                        org.lifecycle_stage.map_or_else(
                            || Cell::both("未登记", "not registered"),
                            |s| Cell::both(s.label_zh(), s.label_en()),
                        ),
                    ),
                    line(
                        "成立日期",
                        "Founded on",
                        Cell::data(org.founded_on.map(|d| d.to_string()).unwrap_or_default()),
                    ),
                    line("地址", "Address", Cell::data(org.address.clone().unwrap_or_default())),
                    line(
                        "登记状态",
                        "Registration",
                        Cell::both(org.status.label_zh(), org.status.label_en()),
                    ),
                ]
            }
            "qualifications" => orgs::qualifications(tx.conn(), &org.id)
                .await?
                .into_iter()
                .map(|(_, q)| {
                    row(
                        vec![
                            Cell::both(q.kind.label_zh(), q.kind.label_en()),
                            Cell::data(format!("{} – {}", q.valid_from, q.valid_to)),
                            Cell::data(q.certificate_no.unwrap_or_default()),
                        ],
                        None,
                        Some(q.valid_from),
                    )
                })
                .collect(),
            "facts" => orgs::facts(tx.conn(), &org.id)
                .await?
                .into_iter()
                .map(|f| {
                    row(
                        vec![
                            Cell::data(f.year.to_string()),
                            money(f.revenue),
                            money(f.rnd_expense),
                            Cell::data(format!("{} ({})", f.staff, f.rnd_staff)),
                            Cell::data(format!("{:.1}%", f64::from(f.export_share_bp) / 100.0)),
                        ],
                        None,
                        None,
                    )
                })
                .collect(),
            "ip" => orgs::facts(tx.conn(), &org.id)
                .await?
                .into_iter()
                .map(|f| {
                    row(
                        vec![
                            Cell::data(f.year.to_string()),
                            Cell::data(f.patents_granted.to_string()),
                            Cell::data(f.patents_pending.to_string()),
                        ],
                        None,
                        None,
                    )
                })
                .collect(),
            "policies" => {
                let mut out = Vec::new();
                for p in kebao_store::policies::policies_of(tx.conn(), &org.id).await? {
                    if p.enterprise_id != org.id {
                        continue;
                    }
                    let insurer = self.name_of(&mut tx, &mut names, &p.insurer_id).await?;
                    out.push(row(
                        vec![
                            Cell::data(p.number.clone()),
                            Cell::data(p.schedule.product.name.clone()),
                            Cell::data(insurer),
                            Cell::data(format!("{} – {}", p.start_date, p.end_date)),
                            money(p.premium),
                            Cell::both(p.status.label_zh(), p.status.label_en()),
                        ],
                        Some(format!("/policies/{}", p.id)),
                        Some(p.start_date),
                    ));
                }
                out
            }
            "claims" => {
                let numbers: HashMap<String, String> = kebao_store::policies::policies_of(tx.conn(), &org.id)
                    .await?
                    .into_iter()
                    .map(|p| (p.id, p.number))
                    .collect();
                kebao_store::claims::of_org(tx.conn(), &org.id)
                    .await?
                    .into_iter()
                    .filter(|c| c.enterprise_id == org.id)
                    .map(|c| {
                        row(
                            vec![
                                Cell::data(c.reported_on.to_string()),
                                Cell::data(numbers.get(&c.policy_id).cloned().unwrap_or_default()),
                                money(c.claimed),
                                money(c.paid),
                                Cell::both(c.status.label_zh(), c.status.label_en()),
                            ],
                            Some(format!("/claims/{}", c.id)),
                            Some(c.reported_on),
                        )
                    })
                    .collect()
            }
            "disputes" => {
                let mut out = Vec::new();
                for d in kebao_store::disputes::list(tx.conn(), Some(&org.id)).await? {
                    if d.enterprise_id != org.id {
                        continue;
                    }
                    let insurer = self.name_of(&mut tx, &mut names, &d.insurer_id).await?;
                    out.push(row(
                        vec![
                            Cell::data(d.complained_on.to_string()),
                            Cell::data(insurer),
                            Cell::both(d.status.label_zh(), d.status.label_en()),
                        ],
                        Some(format!("/disputes/{}", d.id)),
                        Some(d.complained_on),
                    ));
                }
                out
            }
            "subsidies" => {
                let progs = self.subsidy_programmes().await?;
                kebao_store::subsidies::list(tx.conn(), Some(&org.id))
                    .await?
                    .into_iter()
                    .filter(|a| a.enterprise_id == org.id)
                    .map(|a| {
                        let name = progs.iter().find(|p| p.id == a.programme_id).map_or_else(
                            || Cell::data(a.programme_id.clone()),
                            |p| Cell::both(p.name_zh.clone(), p.name_en.clone()),
                        );
                        row(
                            vec![
                                Cell::data(a.applied_on.to_string()),
                                name,
                                money(a.amount),
                                Cell::both(a.status.label_zh(), a.status.label_en()),
                            ],
                            Some(format!("/subsidies/{}", a.id)),
                            Some(a.applied_on),
                        )
                    })
                    .collect()
            }
            "loans" => {
                kebao_store::loans::list(tx.conn(), &kebao_store::loans::Party::Of(&org.id), None, 500)
                    .await?
                    .into_iter()
                    .filter(|l| l.loan.enterprise_id == org.id)
                    .map(|l| {
                        let applied = kebao_domain::time_zone::from_unix_us(l.loan.applied_at_us).date();
                        row(
                            vec![
                                Cell::data(applied.to_string()),
                                Cell::data(l.bank_name.clone()),
                                Cell::data(l.insurer_name.clone()),
                                money(l.loan.amount),
                                Cell::both(l.loan.status.label_zh(), l.loan.status.label_en()),
                            ],
                            Some(format!("/loans/{}", l.loan.id)),
                            Some(applied),
                        )
                    })
                    .collect()
            }
            // A score belongs to its model's owner (rules.md §11.2): the enterprise sees every
            // score about it, an institution only its own.
            "scores" => {
                let mut out = Vec::new();
                for sc in kebao_store::lab_scores::scores_of_subject(tx.conn(), &org.id, 100).await? {
                    if !own && reader != Some(sc.owner_org_id.as_str()) {
                        continue;
                    }
                    let m = kebao_store::lab::get(tx.conn(), &sc.model_id).await?;
                    let owner =
                        orgs::get(tx.conn(), &sc.owner_org_id).await.map(|o| o.name).unwrap_or_default();
                    let on = kebao_domain::time_zone::business_date(kebao_domain::time_zone::from_unix_us(
                        sc.created_at_us,
                    ));
                    let advice = match sc
                        .decision
                        .as_deref()
                        .and_then(kebao_domain::lab::AdmissionDecision::from_code)
                    {
                        Some(d) => Cell::both(d.label_zh(), d.label_en()),
                        None => Cell::both("批量风险评估", "Batch risk assessment"),
                    };
                    out.push(row(
                        vec![
                            Cell::data(on.to_string()),
                            Cell::both(
                                format!("{owner} · {} 第 {} 版", m.name, m.version),
                                format!("{owner} · {} version {}", m.name, m.version),
                            ),
                            Cell::data(format!("{:.0}", sc.score_c as f64 / 100.0)),
                            advice,
                        ],
                        sc.subject_ref.as_ref().map(|l| format!("/loans/{l}")),
                        Some(on),
                    ));
                }
                out
            }
            _ => Vec::new(),
        };
        Ok(rows)
    }

    async fn name_of(
        &self,
        tx: &mut impl kebao_store::Conn,
        names: &mut HashMap<String, String>,
        id: &str,
    ) -> Result<String> {
        if let Some(n) = names.get(id) {
            return Ok(n.clone());
        }
        let n = orgs::get(tx.conn(), id).await.map(|o| o.name).unwrap_or_else(|_| id.to_owned());
        names.insert(id.to_owned(), n.clone());
        Ok(n)
    }

    /// The consents the enterprise gave: all of them to the enterprise and the zone's
    /// officers; to anyone else, those given to its own organisation (it is a party to them).
    async fn unified_consents(&self, actor: &Actor, org: &Organisation, own: bool) -> Result<Section> {
        let statutory = matches!(self.basis_for(actor, org), Basis::StatutoryDuty { .. });
        let today = self.today();
        let mut tx = self.store.begin_read().await?;
        let mut names = HashMap::new();
        let mut rows = Vec::new();
        for (c, _) in kebao_store::consents::for_enterprise(tx.conn(), &org.id).await? {
            if !(own || statutory || actor.org_id() == Some(c.grantee_id.as_str())) {
                continue;
            }
            let grantee = self.name_of(&mut tx, &mut names, &c.grantee_id).await?;
            let state = c.state(today);
            rows.push(Row {
                cells: vec![
                    Cell::data(c.valid_from.to_string()),
                    Cell::data(grantee),
                    Cell::both(c.purpose.label_zh(), c.purpose.label_en()),
                    Cell::both(
                        c.scopes.iter().map(|s| s.label_zh()).collect::<Vec<_>>().join("、"),
                        c.scopes.iter().map(|s| s.label_en()).collect::<Vec<_>>().join(", "),
                    ),
                    Cell::data(c.expires_on.to_string()),
                    Cell::both(state.label_zh(), state.label_en()),
                ],
                link: Some(format!("/consents/{}", c.id)),
                on: Some(c.valid_from),
            });
        }
        Ok(Section {
            key: "consents",
            title_zh: if own || statutory { "数据授权" } else { "向贵机构的数据授权" },
            title_en: if own || statutory { "Consents given" } else { "Consents given to your organisation" },
            allowed: true,
            basis: if own {
                "own"
            } else if statutory {
                "statutory_duty"
            } else {
                "consent"
            },
            reason_zh: String::new(),
            reason_en: String::new(),
            columns: vec![
                ("生效日", "From"),
                ("被授权机构", "Grantee"),
                ("用途", "Purpose"),
                ("数据范围", "Scopes"),
                ("到期日", "Expires"),
                ("状态", "State"),
            ],
            rows,
            empty_zh: "没有数据授权",
            empty_en: "No consent",
        })
    }

    /// Who read the enterprise's data: the enterprise itself and the zone's officers.
    async fn unified_access_log(&self, actor: &Actor, org: &Organisation) -> Result<Section> {
        let allowed = self.allows(actor, Action::ReadAccessLog, &crate::authz::org_resource(org));
        let rows = if allowed {
            self.access_log(actor, &org.id)
                .await?
                .into_iter()
                .take(100)
                .map(|e| {
                    let at = kebao_domain::time_zone::from_unix_us(e.event.at_us);
                    let outcome = if e.outcome == "refused" {
                        Cell::both("被拒绝", "refused")
                    } else {
                        Cell::both("已查询", "read")
                    };
                    let purpose = Purpose::from_code(&e.purpose).map_or_else(
                        || Cell::both("监管职责", "Statutory duty"),
                        |p| Cell::both(p.label_zh(), p.label_en()),
                    );
                    Row {
                        cells: vec![
                            Cell::data(kebao_domain::time_zone::display_local(at)),
                            Cell::data(e.reader_name),
                            purpose,
                            outcome,
                        ],
                        link: None,
                        on: Some(at.date()),
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(Section {
            key: "access_log",
            title_zh: "谁查询过本企业数据",
            title_en: "Who read the enterprise's data",
            allowed,
            basis: if !allowed {
                ""
            } else if actor.org_id() == Some(org.id.as_str()) {
                "own"
            } else {
                "statutory_duty"
            },
            reason_zh: if allowed {
                String::new()
            } else {
                "仅企业本身和示范区监管人员可见".into()
            },
            reason_en: if allowed {
                String::new()
            } else {
                "only the enterprise itself and the zone's officers see it".into()
            },
            columns: vec![("时间", "When"), ("查询机构", "Reader"), ("用途", "Purpose"), ("结果", "Outcome")],
            rows,
            empty_zh: "尚无他人查询",
            empty_en: "No one else has read it",
        })
    }
}
