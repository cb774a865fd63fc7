//! Consents and credit reports (C10): who may read what of an enterprise, the one check
//! every such read passes, the credit report assembled from the allowed scopes only,
//! external credit sources, and the enterprise's view of who looked at its data.

use crate::authz::{org_resource, Action, Actor, Basis, ReadContext, Resource, SUPERVISION};
use crate::{Result, Service, ServiceError};
use kebao_domain::attachment::{Attachment, NewAttachment, Owner};
use kebao_domain::consent::{
    date_number, Consent, ConsentInput, ConsentKind, ConsentState, DataClass, DataScope, NewConsent, Purpose,
    REPORT_FIELDS,
};
use kebao_domain::event::{EventDraft, EventRecord};
use kebao_domain::org::{OrgKind, Organisation};
use kebao_domain::{FieldError, Invalid};
use kebao_store::consents::{self as store, Evidence, ExternalRecord};
use kebao_store::{events, orgs};

/// The outcome of the one check: allowed or not, on which basis, with which consent, by
/// which policies, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadCheck {
    pub allowed: bool,
    pub basis: &'static str,
    pub purpose: String,
    pub consent_id: Option<String>,
    pub policies: Vec<String>,
    pub reason_zh: String,
    pub reason_en: String,
}

/// One section of a credit report.
#[derive(Debug, Clone)]
pub struct ReportSection {
    pub scope: DataScope,
    pub class: DataClass,
    pub check: ReadCheck,
    /// (field key, label zh, label en, value lines) — empty when refused.
    pub fields: Vec<(String, String, String, Vec<ReportLine>)>,
}

/// One line of a credit report's field, in both languages (data such as names and
/// external records' text stay as recorded in both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLine {
    pub zh: String,
    pub en: String,
}

impl ReportLine {
    /// A line that is data only (the same in both languages).
    fn data(s: String) -> ReportLine {
        ReportLine { zh: s.clone(), en: s }
    }
}

/// A credit report: what the reader was allowed to see, and what not and why.
#[derive(Debug, Clone)]
pub struct CreditReport {
    pub org: Organisation,
    pub purpose: Purpose,
    pub sections: Vec<ReportSection>,
    /// The event that recorded this read.
    pub event_seq: u64,
    pub generated_at_us: i64,
}

/// A consent with what the enterprise and the grantee need to see.
#[derive(Debug, Clone)]
pub struct ConsentView {
    pub consent: Consent,
    pub evidence: Evidence,
    pub enterprise_name: String,
    pub grantee_name: String,
    pub state: ConsentState,
}

/// An entry of "who looked at my data".
#[derive(Debug, Clone)]
pub struct AccessEntry {
    pub event: EventRecord,
    pub reader_org: String,
    pub reader_name: String,
    pub purpose: String,
    pub basis: String,
    pub consent_id: Option<String>,
    pub outcome: String,
    pub scopes: Vec<String>,
}

/// What a source is (the connectors the platform knows).
pub const SOURCES: &[(&str, &str, &str)] = &[
    ("provincial_credit", "湖北省公共信用信息平台", "Hubei public credit information platform"),
    ("tax", "税务部门（纳税信用）", "Tax authority (tax credit)"),
    ("ip_office", "知识产权局", "Intellectual property office"),
    ("personal_credit", "个人征信（经本人授权查询的结果）", "Personal credit (results of consented queries)"),
];

/// The kinds of record each source may deliver, with their scope and data class.
pub const RECORD_KINDS: &[(&str, &str, DataScope, DataClass)] = &[
    ("provincial_credit", "legal_representative", DataScope::Profile, DataClass::Public),
    ("provincial_credit", "administrative_penalty", DataScope::Profile, DataClass::Public),
    ("provincial_credit", "court_judgment", DataScope::Profile, DataClass::Public),
    ("provincial_credit", "dishonest_debtor", DataScope::Profile, DataClass::Public),
    ("provincial_credit", "honour", DataScope::Profile, DataClass::Public),
    ("provincial_credit", "loan", DataScope::Loans, DataClass::Enterprise),
    ("provincial_credit", "loan_default", DataScope::Loans, DataClass::Enterprise),
    ("provincial_credit", "guarantee", DataScope::Loans, DataClass::Enterprise),
    ("tax", "tax_rating", DataScope::FinancialFacts, DataClass::Enterprise),
    ("tax", "tax_arrears", DataScope::FinancialFacts, DataClass::Enterprise),
    ("ip_office", "patent_grant", DataScope::Ip, DataClass::Public),
    ("ip_office", "trademark", DataScope::Ip, DataClass::Public),
    ("ip_office", "ip_pledge", DataScope::Ip, DataClass::Public),
    ("personal_credit", "person_credit_record", DataScope::Personal, DataClass::Personal),
];

/// One external record as a source delivers it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordInput {
    pub uscc: String,
    pub kind: String,
    pub title: String,
    pub detail: String,
    pub occurred_on: String,
    pub person_name: String,
    /// The day the event ended (`YYYY-MM-DD`; empty: it has not, or the source does not say).
    /// A negative record is deleted five years after it (`data/retention.toml`).
    pub ended_on: String,
}

/// A connector to an external credit source. The platform consumes sources; it is not a
/// credit bureau itself. Live connections are configured per deployment; the file
/// importer below reads the files these sources export.
pub trait CreditSource {
    /// The source's code (see [`SOURCES`]).
    fn source(&self) -> &str;
    /// The records the source delivers.
    fn records(&self) -> std::result::Result<Vec<RecordInput>, String>;
}

/// A source read from an exported CSV or .xlsx file (columns `uscc, kind, title, detail,
/// occurred_on, person_name`).
#[derive(Debug, Clone)]
pub struct FileSource {
    pub source: String,
    pub table: crate::tabular::Table,
}

impl CreditSource for FileSource {
    fn source(&self) -> &str {
        &self.source
    }

    fn records(&self) -> std::result::Result<Vec<RecordInput>, String> {
        let col = |names: &[&str]| self.table.column(names);
        let uscc = col(&["uscc", "统一社会信用代码"]).ok_or("missing column `uscc`")?;
        let kind = col(&["kind", "类型"]).ok_or("missing column `kind`")?;
        let title = col(&["title", "标题"]).ok_or("missing column `title`")?;
        let detail = col(&["detail", "内容"]);
        let on = col(&["occurred_on", "日期"]).ok_or("missing column `occurred_on`")?;
        let person = col(&["person_name", "姓名"]);
        let ended = col(&["ended_on", "终止日期"]);
        Ok((0..self.table.rows.len())
            .map(|r| RecordInput {
                uscc: self.table.cell(r, Some(uscc)).to_owned(),
                kind: self.table.cell(r, Some(kind)).to_owned(),
                title: self.table.cell(r, Some(title)).to_owned(),
                detail: self.table.cell(r, detail).to_owned(),
                occurred_on: self.table.cell(r, Some(on)).to_owned(),
                person_name: self.table.cell(r, person).to_owned(),
                ended_on: self.table.cell(r, ended).to_owned(),
            })
            .collect())
    }
}

fn reason(zh: impl Into<String>, en: impl Into<String>) -> (String, String) {
    (zh.into(), en.into())
}

impl Service {
    /// The one check for reading one scope (of one data class) of an enterprise's data.
    /// The basis follows from who asks: the enterprise itself, a statutory duty, or — for
    /// anyone else who states a purpose — the best-fitting consent.
    pub async fn check_read(
        &self,
        actor: &Actor,
        org: &Organisation,
        scope: DataScope,
        class: DataClass,
        purpose: Option<Purpose>,
    ) -> Result<ReadCheck> {
        self.check_read_with(actor, org, scope, class, purpose, None).await
    }

    /// The same check with the consents between the enterprise and the reader already
    /// loaded (a report checks many scopes against the same consents).
    pub(crate) async fn check_read_with(
        &self,
        actor: &Actor,
        org: &Organisation,
        scope: DataScope,
        class: DataClass,
        purpose: Option<Purpose>,
        preloaded: Option<&[Consent]>,
    ) -> Result<ReadCheck> {
        let today = self.today();
        let mut chosen: Option<Consent> = None;
        // Personal data of named people: only the person's consent opens it to others, the
        // zone's officers included.
        let own_basis = match self.basis_for(actor, org) {
            Basis::StatutoryDuty { .. } if class == DataClass::Personal => Basis::None,
            b => b,
        };
        let basis = match own_basis {
            Basis::None => match (actor.org_id(), purpose) {
                (Some(reader), Some(p)) => {
                    let want = if class == DataClass::Personal {
                        ConsentKind::Personal
                    } else {
                        ConsentKind::Enterprise
                    };
                    let loaded = match preloaded {
                        Some(c) => c.to_vec(),
                        None => {
                            let mut tx = self.store.begin_read().await?;
                            store::between(tx.conn(), &org.id, reader).await?
                        }
                    };
                    let mut all: Vec<Consent> = loaded.into_iter().filter(|c| c.kind == want).collect();
                    all.sort_by_key(|c| c.distance(scope, p, today));
                    chosen = all.into_iter().next();
                    match &chosen {
                        Some(c) => Basis::Consent { purpose: p.code().to_owned(), consent_id: c.id.clone() },
                        None => Basis::None,
                    }
                }
                _ => Basis::None,
            },
            other => other,
        };
        let purpose_code = match (&basis, purpose) {
            (Basis::StatutoryDuty { purpose }, _) => purpose.clone(),
            (_, Some(p)) => p.code().to_owned(),
            _ => String::new(),
        };
        let ctx = ReadContext {
            scope: scope.code(),
            data_class: class.code(),
            purpose: &purpose_code,
            today: date_number(today),
            consent: chosen.as_ref(),
        };
        let d = self.authz.decide_read(actor, &org_resource(org), &basis, &ctx);
        let (zh, en) = if d.allowed {
            reason("", "")
        } else if class == DataClass::SensitivePersonal {
            reason("敏感个人信息（健康）不纳入信用报告", "sensitive personal data (health) is never included")
        } else if matches!(basis, Basis::None) && purpose.is_none() {
            reason("未说明查询用途，无可依据的授权", "no purpose stated and no other lawful basis")
        } else {
            match &chosen {
                None if class == DataClass::Personal => reason(
                    "具名个人的信息须经本人单独同意",
                    "personal data needs the person's separate consent",
                ),
                None => {
                    reason("该企业未向贵机构授权", "the enterprise has given your organisation no consent")
                }
                Some(c) => match c.state(today) {
                    ConsentState::Revoked => reason("授权已被企业撤回", "the consent was revoked"),
                    ConsentState::Expired => reason("授权已过期", "the consent has expired"),
                    ConsentState::NotYetValid => reason("授权尚未生效", "the consent is not valid yet"),
                    ConsentState::Valid if purpose.is_some_and(|p| p != c.purpose) => reason(
                        format!("授权用途为「{}」，与本次查询用途不符", c.purpose.label_zh()),
                        format!("the consent is for `{}`, not for this purpose", c.purpose.code()),
                    ),
                    ConsentState::Valid if !c.scopes.contains(&scope) => {
                        reason("授权未覆盖此数据范围", "the consent does not cover this data scope")
                    }
                    ConsentState::Valid => {
                        reason("授权不适用于本次查询", "the consent does not apply to this read")
                    }
                },
            }
        };
        Ok(ReadCheck {
            allowed: d.allowed,
            basis: basis.code(),
            purpose: purpose_code,
            consent_id: chosen.filter(|_| matches!(basis, Basis::Consent { .. })).map(|c| c.id),
            policies: d.policies,
            reason_zh: zh,
            reason_en: en,
        })
    }

    /// An enterprise admin gives a consent, with the signed authorisation as evidence.
    pub async fn grant_consent(
        &self,
        actor: &Actor,
        enterprise_id: &str,
        input: &ConsentInput,
        evidence_name: &str,
        evidence: &[u8],
    ) -> Result<ConsentView> {
        let mut tx = self.store.begin_write().await?;
        let ent = orgs::get(tx.conn(), enterprise_id).await?;
        self.require(actor, Action::GrantConsent, &org_resource(&ent), &self.basis_for(actor, &ent))?;
        let new = NewConsent::parse(input, self.today())?;
        let file = NewAttachment::parse(evidence_name, evidence).map_err(|e| e.at("evidence"))?;
        let grantee = match orgs::get(tx.conn(), &new.grantee_id).await {
            Ok(g) => g,
            Err(kebao_store::StoreError::NotFound) => {
                return Err(Invalid(vec![FieldError::new(
                    "grantee_id",
                    "unknown_grantee",
                    "被授权机构不存在",
                    format!("organisation `{}` does not exist", new.grantee_id),
                )])
                .into())
            }
            Err(e) => return Err(e.into()),
        };
        if matches!(grantee.kind, OrgKind::Enterprise | OrgKind::Government) {
            return Err(Invalid(vec![FieldError::new(
                "grantee_id",
                "grantee_kind",
                "只能向银行、保险、担保、投资或服务机构授权",
                "consents go to banks, insurers, guarantors, investors or service bodies",
            )])
            .into());
        }
        // A person's data to a new recipient: the platform assesses the impact first
        // (个人信息保护法 Art 55(3)).
        if new.kind == ConsentKind::Personal
            && !kebao_store::privacy::recipient_assessed(tx.conn(), &grantee.id).await?
        {
            return Err(ServiceError::Conflict(FieldError::new(
                "grantee_id",
                "no_impact_assessment",
                format!("向「{}」提供个人信息前，平台须先完成个人信息保护影响评估；请联系平台管理员", grantee.name),
                format!(
                    "before personal data can go to {}, the platform records a personal-information impact assessment of it; ask the platform administrator",
                    grantee.name
                ),
            )));
        }
        let consent = Consent {
            id: self.new_id(),
            enterprise_id: ent.id.clone(),
            grantee_id: grantee.id.clone(),
            kind: new.kind,
            scopes: new.scopes,
            purpose: new.purpose,
            valid_from: new.valid_from,
            expires_on: new.expires_on,
            signer_name: new.signer_name,
            signer_title: new.signer_title,
            person_name: new.person_name,
            person_role: new.person_role,
            evidence_sha256: file.sha256.clone(),
            evidence_document_id: self.new_id(),
            revoked_at_us: None,
            created_at_us: self.now_us(),
            created_by: actor.log_name(),
        };
        let ev = Evidence { file_name: file.file_name.clone(), media_type: file.media_type.to_owned() };
        // The signed authorisation is an attachment owned by the consent, under the id the
        // consent names; the consent's event records its hash.
        let file = file.into_attachment(
            consent.evidence_document_id.clone(),
            Owner::consent(&consent.id),
            consent.created_by.clone(),
            consent.created_at_us,
        );
        kebao_store::attachments::insert(tx.conn(), &file, evidence, self.store.backend()).await?;
        store::insert(tx.conn(), &consent, &ev).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "consent.granted",
            &ent.id,
            serde_json::json!({
                "consent": consent.id, "grantee": grantee.id, "kind": consent.kind.code(),
                "scopes": consent.scopes.iter().map(|s| s.code()).collect::<Vec<_>>(),
                "purpose": consent.purpose.code(), "valid_from": consent.valid_from.to_string(),
                "expires_on": consent.expires_on.to_string(), "evidence_sha256": consent.evidence_sha256,
            }),
        );
        self.finish(tx, draft).await?;
        let state = consent.state(self.today());
        Ok(ConsentView {
            consent,
            evidence: ev,
            enterprise_name: ent.name,
            grantee_name: grantee.name,
            state,
        })
    }

    /// The enterprise revokes a consent; reads under it stop at once.
    pub async fn revoke_consent(&self, actor: &Actor, consent_id: &str) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        let (c, _) = store::get(tx.conn(), consent_id).await?;
        let ent = orgs::get(tx.conn(), &c.enterprise_id).await?;
        self.require(actor, Action::GrantConsent, &org_resource(&ent), &self.basis_for(actor, &ent))?;
        if c.revoked_at_us.is_some() {
            return Err(ServiceError::Conflict(FieldError::new(
                "consent",
                "already_revoked",
                "该授权已撤回",
                "the consent is already revoked",
            )));
        }
        store::revoke(tx.conn(), consent_id, self.now_us()).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "consent.revoked",
            &ent.id,
            serde_json::json!({"consent": consent_id}),
        );
        self.finish(tx, draft).await?;
        Ok(())
    }

    async fn consent_view(&self, c: Consent, e: Evidence) -> Result<ConsentView> {
        let mut tx = self.store.begin_read().await?;
        let ent = orgs::get(tx.conn(), &c.enterprise_id).await?;
        let grantee = orgs::get(tx.conn(), &c.grantee_id).await?;
        let state = c.state(self.today());
        Ok(ConsentView {
            consent: c,
            evidence: e,
            enterprise_name: ent.name,
            grantee_name: grantee.name,
            state,
        })
    }

    /// A consent, for the enterprise that gave it, the organisation it was given to, and
    /// the zone's officers.
    pub async fn consent(&self, actor: &Actor, id: &str) -> Result<ConsentView> {
        let mut tx = self.store.begin_read().await?;
        let (c, e) = store::get(tx.conn(), id).await?;
        drop(tx);
        let mine = actor.org_id().is_some_and(|o| o == c.enterprise_id || o == c.grantee_id)
            || matches!(actor, Actor::System { .. })
            || self.supervises(actor);
        if !mine {
            return Err(ServiceError::NotFound);
        }
        self.consent_view(c, e).await
    }

    /// The signed authorisation of a consent (the attachment the consent names).
    pub async fn consent_evidence(&self, actor: &Actor, id: &str) -> Result<(Attachment, Vec<u8>)> {
        let v = self.consent(actor, id).await?;
        let (a, body) = self.attachment(actor, &v.consent.evidence_document_id).await?;
        if a.owner != Owner::consent(id) {
            return Err(ServiceError::NotFound);
        }
        Ok((a, body))
    }

    /// Consents the actor's organisation gave (an enterprise) or was given (anyone else).
    pub async fn my_consents(&self, actor: &Actor) -> Result<Vec<ConsentView>> {
        let org_id = actor.org_id().ok_or(ServiceError::Unauthenticated("sign in first"))?.to_owned();
        let mut tx = self.store.begin_read().await?;
        let org = orgs::get(tx.conn(), &org_id).await?;
        let rows = if org.kind == OrgKind::Enterprise {
            store::for_enterprise(tx.conn(), &org_id).await?
        } else {
            store::for_grantee(tx.conn(), &org_id).await?
        };
        drop(tx);
        let mut out = Vec::with_capacity(rows.len());
        for (c, e) in rows {
            out.push(self.consent_view(c, e).await?);
        }
        Ok(out)
    }

    /// Assembles a credit report from the scopes the reader may see, and records the read
    /// (or the refused attempt) as one event. Nothing outside the allowed scopes is loaded.
    pub async fn credit_report(&self, actor: &Actor, org_id: &str, purpose: Purpose) -> Result<CreditReport> {
        let mut tx = self.store.begin_read().await?;
        let org = orgs::get(tx.conn(), org_id).await?;
        drop(tx);
        if org.kind != OrgKind::Enterprise {
            return Err(ServiceError::NotFound);
        }
        let mut pairs: Vec<(DataScope, DataClass)> = Vec::new();
        for f in REPORT_FIELDS {
            if !pairs.contains(&(f.scope, f.class)) {
                pairs.push((f.scope, f.class));
            }
        }
        let consents = match actor.org_id() {
            Some(reader) if reader != org.id => {
                let mut tx = self.store.begin_read().await?;
                store::between(tx.conn(), &org.id, reader).await?
            }
            _ => Vec::new(),
        };
        let mut sections = Vec::new();
        for (scope, class) in pairs {
            let check =
                self.check_read_with(actor, &org, scope, class, Some(purpose), Some(&consents)).await?;
            let fields = if check.allowed {
                self.report_fields(&org, scope, class, actor, purpose).await?
            } else {
                Vec::new()
            };
            sections.push(ReportSection { scope, class, check, fields });
        }
        let allowed: Vec<String> = sections
            .iter()
            .filter(|s| s.check.allowed)
            .map(|s| format!("{}:{}", s.scope.code(), s.class.code()))
            .collect();
        let refused: Vec<serde_json::Value> = sections
            .iter()
            .filter(|s| !s.check.allowed)
            .map(|s| {
                serde_json::json!({
                    "section": format!("{}:{}", s.scope.code(), s.class.code()),
                    "reason": s.check.reason_en, "policies": s.check.policies,
                })
            })
            .collect();
        let mut consents: Vec<String> = sections.iter().filter_map(|s| s.check.consent_id.clone()).collect();
        consents.sort();
        consents.dedup();
        let mut policies: Vec<String> = sections.iter().flat_map(|s| s.check.policies.clone()).collect();
        policies.sort();
        policies.dedup();
        let basis = sections.iter().find(|s| s.check.allowed).map(|s| s.check.basis).unwrap_or("none");
        let action = if allowed.is_empty() { "credit_report.refused" } else { "credit_report.read" };
        let tx = self.store.begin_write().await?;
        let rec = self
            .finish(
                tx,
                EventDraft::new(
                    &actor.log_name(),
                    action,
                    &org.id,
                    serde_json::json!({
                        "reader_org": actor.org_id(), "purpose": purpose.code(), "basis": basis,
                        "consents": consents, "allowed": allowed, "refused": refused, "policies": policies,
                    }),
                ),
            )
            .await?;
        if allowed.is_empty() {
            let first = sections.iter().find(|s| s.class != DataClass::SensitivePersonal);
            let why = first.map(|s| s.check.reason_en.clone()).unwrap_or_default();
            return Err(crate::authz::all_parts_refused("read this enterprise's credit report", why));
        }
        Ok(CreditReport { org, purpose, sections, event_seq: rec.seq, generated_at_us: rec.at_us })
    }

    async fn report_fields(
        &self,
        org: &Organisation,
        scope: DataScope,
        class: DataClass,
        actor: &Actor,
        purpose: Purpose,
    ) -> Result<Vec<(String, String, String, Vec<ReportLine>)>> {
        let mut tx = self.store.begin_read().await?;
        let mut out = Vec::new();
        let record_line = |r: &ExternalRecord| {
            let who = r.person_name.as_deref().map(|p| format!("[{p}] ")).unwrap_or_default();
            // The source by its name (the platform's connectors), never its code.
            let (src_zh, src_en) = SOURCES
                .iter()
                .find(|s| s.0 == r.source)
                .map_or((r.source.as_str(), r.source.as_str()), |s| (s.1, s.2));
            ReportLine {
                zh: format!("{} {who}{}：{}（{src_zh}）", r.occurred_on, r.title, r.detail),
                en: format!("{} {who}{}: {} ({src_en})", r.occurred_on, r.title, r.detail),
            }
        };
        let ext = |rs: &[ExternalRecord], kinds: &[&str]| -> Vec<ReportLine> {
            rs.iter()
                .filter(|r| r.class == class && (kinds.is_empty() || kinds.contains(&r.kind.as_str())))
                .map(record_line)
                .collect()
        };
        let records = store::records(tx.conn(), &org.id, scope).await?;
        for f in REPORT_FIELDS.iter().filter(|f| f.scope == scope && f.class == class) {
            let value: Vec<ReportLine> = match f.key {
                "name" => vec![ReportLine::data(org.name.clone())],
                "uscc" => vec![ReportLine::data(org.uscc.clone())],
                "industry" => {
                    let code = org.industry_code.clone().unwrap_or_default();
                    let names = |en: bool| {
                        org.zone_industries
                            .iter()
                            .filter_map(|t| {
                                self.industries.tag(t).map(|x| {
                                    if en {
                                        x.name_en.clone()
                                    } else {
                                        x.name_zh.clone()
                                    }
                                })
                            })
                            .collect::<Vec<_>>()
                    };
                    vec![ReportLine {
                        zh: format!("{code} {}", names(false).join("、")),
                        en: format!("{code} {}", names(true).join(", ")),
                    }]
                }
                "stage" => vec![org
                    .lifecycle_stage
                    .map(|s| ReportLine { zh: s.label_zh().to_owned(), en: s.label_en().to_owned() })
                    .unwrap_or_else(|| ReportLine::data(String::new()))],
                "founded_on" => {
                    vec![ReportLine::data(org.founded_on.map(|d| d.to_string()).unwrap_or_default())]
                }
                "address" => vec![ReportLine::data(org.address.clone().unwrap_or_default())],
                "legal_representative" => ext(&records, &["legal_representative"]),
                "qualifications" => orgs::qualifications(tx.conn(), &org.id)
                    .await?
                    .into_iter()
                    .map(|(_, q)| ReportLine {
                        zh: format!("{} {}–{}", q.kind.label_zh(), q.valid_from, q.valid_to),
                        en: format!("{} {}–{}", q.kind.label_en(), q.valid_from, q.valid_to),
                    })
                    .collect(),
                "public_credit_records" => {
                    ext(&records, &["administrative_penalty", "court_judgment", "dishonest_debtor", "honour"])
                }
                "facts" => orgs::facts(tx.conn(), &org.id)
                    .await?
                    .into_iter()
                    .map(|y| ReportLine {
                        zh: format!(
                            "{}年：营业收入 {} 元，研发投入 {} 元，员工 {} 人（研发 {} 人），出口占比 {:.1}%",
                            y.year,
                            y.revenue.display_yuan(),
                            y.rnd_expense.display_yuan(),
                            y.staff,
                            y.rnd_staff,
                            f64::from(y.export_share_bp) / 100.0
                        ),
                        en: format!(
                            "{}: revenue {} yuan, R&D {} yuan, {} staff ({} in R&D), exports {:.1}%",
                            y.year,
                            y.revenue.display_yuan(),
                            y.rnd_expense.display_yuan(),
                            y.staff,
                            y.rnd_staff,
                            f64::from(y.export_share_bp) / 100.0
                        ),
                    })
                    .collect(),
                "tax_records" => ext(&records, &["tax_rating", "tax_arrears"]),
                "patents" => orgs::facts(tx.conn(), &org.id)
                    .await?
                    .into_iter()
                    .take(1)
                    .map(|y| ReportLine {
                        zh: format!(
                            "{}年：授权 {} 件，申请中 {} 件",
                            y.year, y.patents_granted, y.patents_pending
                        ),
                        en: format!(
                            "{}: {} granted, {} pending",
                            y.year, y.patents_granted, y.patents_pending
                        ),
                    })
                    .collect(),
                "ip_office_records" => ext(&records, &[]),
                "loan_records" => ext(&records, &[]),
                "person_credit_records" => {
                    // Only the people whose own consent covers this reader and purpose.
                    let reader = actor.org_id().unwrap_or_default();
                    let today = self.today();
                    let people: Vec<String> = if reader == org.id || matches!(actor, Actor::System { .. }) {
                        records.iter().filter_map(|r| r.person_name.clone()).collect()
                    } else {
                        store::between(tx.conn(), &org.id, reader)
                            .await?
                            .into_iter()
                            .filter(|c| {
                                c.kind == ConsentKind::Personal
                                    && c.purpose == purpose
                                    && c.state(today) == ConsentState::Valid
                            })
                            .filter_map(|c| c.person_name)
                            .collect()
                    };
                    records
                        .iter()
                        .filter(|r| r.person_name.as_ref().is_some_and(|p| people.contains(p)))
                        .map(record_line)
                        .collect()
                }
                "policies" => {
                    let claims = kebao_store::claims::of_org(tx.conn(), &org.id).await?;
                    let mut lines = Vec::new();
                    for p in kebao_store::policies::policies_of(tx.conn(), &org.id).await? {
                        if p.enterprise_id != org.id {
                            continue;
                        }
                        let mine: Vec<_> = claims.iter().filter(|c| c.policy_id == p.id).collect();
                        let paid: i64 = mine.iter().map(|c| c.paid.fen()).sum();
                        let paid = kebao_domain::Money::from_fen(paid).display_yuan();
                        lines.push(ReportLine {
                            zh: format!(
                                "{} {}–{}，保费 {} 元，{}；理赔 {} 件，已赔付 {paid} 元",
                                p.number,
                                p.start_date,
                                p.end_date,
                                p.premium.display_yuan(),
                                p.status.label_zh(),
                                mine.len(),
                            ),
                            en: format!(
                                "{} {}–{}, premium {} yuan, {}; {} claims, {paid} yuan paid",
                                p.number,
                                p.start_date,
                                p.end_date,
                                p.premium.display_yuan(),
                                p.status.label_en(),
                                mine.len(),
                            ),
                        });
                    }
                    lines
                }
                "subsidy_records" => {
                    let progs = kebao_store::subsidies::programmes(tx.conn()).await?;
                    kebao_store::subsidies::list(tx.conn(), Some(&org.id))
                        .await?
                        .into_iter()
                        .filter(|a| {
                            use kebao_domain::subsidy::SubsidyStatus as S;
                            matches!(a.status, S::Approved | S::Disbursed | S::Granted | S::ClawedBack)
                        })
                        .map(|a| {
                            let (zh, en) = progs
                                .iter()
                                .find(|p| p.id == a.programme_id)
                                .map(|p| (p.name_zh.clone(), p.name_en.clone()))
                                .unwrap_or_else(|| (a.programme_id.clone(), a.programme_id.clone()));
                            ReportLine {
                                zh: format!(
                                    "{} {zh}：{}，{} 元",
                                    a.applied_on,
                                    a.status.label_zh(),
                                    a.amount.display_yuan()
                                ),
                                en: format!(
                                    "{} {en}: {}, {} yuan",
                                    a.applied_on,
                                    a.status.label_en(),
                                    a.amount.display_yuan()
                                ),
                            }
                        })
                        .collect()
                }
                // No module of the platform stores scores of enterprises yet (the scorecard
                // engine scores files): the report says so rather than show anything.
                // Only the zone lab's own assessment, and only once the zone has turned it on;
                // an institution's scores belong to it and never appear here (rules.md §11.2).
                "scores" => {
                    if kebao_store::lab_scores::switch(
                        tx.conn(),
                        kebao_domain::lab::ZoneSwitch::LabScoresInCreditReport.code(),
                    )
                    .await?
                    {
                        let mut lines = Vec::new();
                        for s in kebao_store::lab_scores::zone_scores_of(tx.conn(), &org.id).await? {
                            let m = kebao_store::lab::get(tx.conn(), &s.model_id).await?;
                            let owner = orgs::get(tx.conn(), &s.owner_org_id)
                                .await
                                .map(|o| o.name)
                                .unwrap_or_default();
                            let on = kebao_domain::time_zone::business_date(
                                kebao_domain::time_zone::from_unix_us(s.created_at_us),
                            );
                            let score = s.score_c as f64 / 100.0;
                            let pd = s.probability_ppm as f64 / 10_000.0;
                            lines.push(ReportLine {
                                zh: format!(
                                    "{score:.0} 分（违约概率 {pd:.2}%）：{owner}风险实验室「{}」第 {} 版，{on} 评估。此为示范区自有评估，非征信机构评分",
                                    m.name, m.version
                                ),
                                en: format!(
                                    "{score:.0} points (probability of default {pd:.2}%): {owner}'s risk lab, “{}” version {}, assessed {on}. The zone's own assessment, not a credit bureau's score",
                                    m.name, m.version
                                ),
                            });
                        }
                        lines
                    } else {
                        Vec::new()
                    }
                }
                _ => Vec::new(),
            };
            out.push((f.key.to_owned(), f.label_zh.to_owned(), f.label_en.to_owned(), value));
        }
        Ok(out)
    }

    /// Imports records from an external source, all or nothing. Health data is refused:
    /// 征信业管理条例 Art. 14 forbids collecting it.
    pub async fn import_external(&self, actor: &Actor, source: &dyn CreditSource) -> Result<usize> {
        self.require(actor, Action::ImportCreditData, &Resource::Zone, &Basis::None)?;
        let src = source.source().to_owned();
        if !SOURCES.iter().any(|(s, _, _)| *s == src) {
            return Err(Invalid(vec![FieldError::new(
                "source",
                "unknown_source",
                format!("数据来源 `{src}` 不存在"),
                format!(
                    "source `{src}` does not exist: use {}",
                    SOURCES.iter().map(|s| s.0).collect::<Vec<_>>().join(", ")
                ),
            )])
            .into());
        }
        let rows = source.records().map_err(|e| {
            Invalid(vec![FieldError::new(
                "file",
                "file_shape",
                format!("文件格式有误：{e}"),
                format!("the file is malformed: {e}"),
            )])
        })?;
        let mut tx = self.store.begin_write().await?;
        let batch = self.new_id();
        let now = self.now_us();
        let mut errs = Vec::new();
        let mut out = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let row = i + 2;
            let f = |k: &str| format!("row {row}.{k}");
            if r.kind.contains("health") || r.kind.contains("medical") {
                errs.push(FieldError::new(
                    f("kind"),
                    "sensitive_refused",
                    format!("第 {row} 行：健康、医疗信息不得采集（征信业管理条例第十四条）"),
                    format!(
                        "row {row}: health and medical data may not be collected (Credit Regulation Art. 14)"
                    ),
                ));
                continue;
            }
            let Some((_, _, scope, class)) =
                RECORD_KINDS.iter().find(|(s, k, _, _)| *s == src && *k == r.kind.trim())
            else {
                errs.push(FieldError::new(
                    f("kind"),
                    "unknown_kind",
                    format!("第 {row} 行：来源 {src} 没有 `{}` 类记录", r.kind.trim()),
                    format!("row {row}: source {src} has no record kind `{}`", r.kind.trim()),
                ));
                continue;
            };
            let org = orgs::find_by_uscc(tx.conn(), &r.uscc.trim().to_ascii_uppercase()).await?;
            let Some(org) = org else {
                errs.push(FieldError::new(
                    f("uscc"),
                    "unknown_uscc",
                    format!("第 {row} 行：统一社会信用代码 `{}` 未登记", r.uscc.trim()),
                    format!("row {row}: no registered organisation has code `{}`", r.uscc.trim()),
                ));
                continue;
            };
            let on = r.occurred_on.trim();
            if kebao_domain::org::parse_date("occurred_on", on).is_err() {
                errs.push(FieldError::new(
                    f("occurred_on"),
                    "date_format",
                    format!("第 {row} 行：日期 `{on}` 应为 YYYY-MM-DD"),
                    format!("row {row}: date `{on}` must be YYYY-MM-DD"),
                ));
                continue;
            }
            let ended = r.ended_on.trim();
            if !ended.is_empty() {
                match kebao_domain::org::parse_date("ended_on", ended) {
                    Err(_) => {
                        errs.push(FieldError::new(
                            f("ended_on"),
                            "date_format",
                            format!("第 {row} 行：终止日期 `{ended}` 应为 YYYY-MM-DD"),
                            format!("row {row}: end date `{ended}` must be YYYY-MM-DD"),
                        ));
                        continue;
                    }
                    Ok(_) if ended < on => {
                        errs.push(FieldError::new(
                            f("ended_on"),
                            "ends_before",
                            format!("第 {row} 行：终止日期早于发生日期"),
                            format!("row {row}: the event ends before it occurred"),
                        ));
                        continue;
                    }
                    Ok(_) => {}
                }
            }
            if *class == DataClass::Personal && r.person_name.trim().is_empty() {
                errs.push(FieldError::new(
                    f("person_name"),
                    "required",
                    format!("第 {row} 行：个人记录须写明姓名"),
                    format!("row {row}: a personal record names its person"),
                ));
                continue;
            }
            if r.title.trim().is_empty() {
                errs.push(FieldError::new(
                    f("title"),
                    "required",
                    format!("第 {row} 行：标题为必填"),
                    format!("row {row}: the title is required"),
                ));
                continue;
            }
            out.push(ExternalRecord {
                id: self.new_id(),
                org_id: org.id,
                source: src.clone(),
                kind: r.kind.trim().to_owned(),
                scope: *scope,
                class: *class,
                title: r.title.trim().to_owned(),
                detail: r.detail.trim().to_owned(),
                occurred_on: on.to_owned(),
                person_name: Some(r.person_name.trim().to_owned()).filter(|p| !p.is_empty()),
                ended_on: Some(ended.to_owned()).filter(|e| !e.is_empty()),
                batch_id: batch.clone(),
                imported_at_us: now,
            });
        }
        if !errs.is_empty() {
            return Err(Invalid(errs).into());
        }
        store::insert_records(tx.conn(), &out).await?;
        let n = out.len();
        self.finish(
            tx,
            EventDraft::new(
                &actor.log_name(),
                "credit_data.imported",
                &batch,
                serde_json::json!({"source": src, "records": n}),
            ),
        )
        .await?;
        Ok(n)
    }

    /// Who looked at an enterprise's data: every read and refused attempt by others, newest first.
    pub async fn access_log(&self, actor: &Actor, org_id: &str) -> Result<Vec<AccessEntry>> {
        let mut tx = self.store.begin_read().await?;
        let org = orgs::get(tx.conn(), org_id).await?;
        self.require(actor, Action::ReadAccessLog, &crate::authz::org_resource(&org), &Basis::None)?;
        let evs = events::for_subject(tx.conn(), &org.id, 1000).await?;
        let mut out = Vec::new();
        for e in evs {
            if !matches!(
                e.action.as_str(),
                "credit_report.read"
                    | "credit_report.refused"
                    | "enterprise_data.read"
                    | "unified_view.read"
                    | "unified_view.refused"
            ) {
                continue;
            }
            let p: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
            let g = |k: &str| p.get(k).cloned().unwrap_or_default();
            let reader_org = g("reader_org").as_str().unwrap_or_default().to_owned();
            let reader_name = if reader_org.is_empty() {
                e.actor.clone()
            } else {
                orgs::get(tx.conn(), &reader_org).await.map(|o| o.name).unwrap_or_else(|_| reader_org.clone())
            };
            let mut scopes: Vec<String> = g("allowed")
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            if let Some(d) = g("data").as_str() {
                scopes.push(d.to_owned());
            }
            out.push(AccessEntry {
                reader_org,
                reader_name,
                purpose: g("purpose").as_str().unwrap_or(SUPERVISION).to_owned(),
                basis: g("basis").as_str().unwrap_or_default().to_owned(),
                consent_id: g("consents")
                    .as_array()
                    .and_then(|a| a.first())
                    .and_then(|x| x.as_str())
                    .map(str::to_owned)
                    .or_else(|| g("consent").as_str().map(str::to_owned)),
                outcome: if e.action.ends_with(".refused") { "refused".into() } else { "read".into() },
                scopes,
                event: e,
            });
        }
        Ok(out)
    }
}
