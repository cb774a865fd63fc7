//! The risk lab's data (C9, second part): model-ready extracts of the zone's own experience —
//! claims per policy-year for an insurer's book, loan outcomes for a bank's loans, all of it
//! for the zone's supervision — each written by a job, with its basis, its purpose and, when
//! it holds personal data, the recorded impact assessment; and models fitted from an extract
//! inside the platform (a Poisson claim-frequency GLM, a default scorecard validated on a
//! held-out sample), stored in the registry awaiting a second person's approval. See
//! `docs/lab.md`.

use crate::authz::{Action, Actor, Resource};
use crate::jobs::{JobContext, JobFuture, JobHandler, JobStop};
use crate::{Result, Service, ServiceError};
use kebao_domain::event::EventDraft;
use kebao_domain::job::{ExtractParams, FitParams, Job, JobFailure, JobKind, JobParams, JobResult, JobState};
pub use kebao_domain::lab::{ExtractBasis, ExtractKind, ImpactAssessment};
use kebao_domain::lab::{ModelKind, ModelStatus, LAB_TEXT_MAX_CHARS};
use kebao_domain::org::OrgKind;
use kebao_domain::rating::QuoteInput;
use kebao_domain::{FieldError, Invalid, Money};
use kebao_store::lab_data as store;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use time::Date;

/// What a person asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtractRequest {
    pub kind: String,
    pub purpose: String,
    pub include_personal: bool,
    pub pia_purpose: String,
    pub pia_recipient: String,
    pub pia_necessity: String,
    pub pia_safeguards: String,
}

/// An extract as the lab shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Extract {
    pub id: String,
    pub owner_org_id: String,
    pub owner_name: String,
    pub kind: ExtractKind,
    pub basis: ExtractBasis,
    pub purpose: String,
    pub include_personal: bool,
    pub assessment: Option<ImpactAssessment>,
    pub job_id: String,
    pub rows: i64,
    pub left_personal: i64,
    pub left_unended: i64,
    pub sha256: String,
    pub created_by: String,
    pub created_by_name: String,
    pub created_at_us: i64,
}

/// A model fit as a person asks for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FitRequest {
    pub extract_id: String,
    pub name: String,
    /// Columns of the extract: categorical ones become factors, numeric ones numeric terms.
    pub variables: Vec<String>,
    /// An L2 (ridge) penalty, as typed (blank: none).
    pub l2: String,
}

/// A held-out validation of a scorecard fitted in the platform.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Validation {
    pub n_train: u64,
    pub n_valid: u64,
    pub bad_rate_train: f64,
    pub bad_rate_valid: f64,
    /// None when the held-out sample has a single class.
    pub auc: Option<f64>,
    pub ks: Option<f64>,
    pub gini: Option<f64>,
    /// The ROC curve: (false-positive rate, true-positive rate), from (0,0) to (1,1).
    pub roc: Vec<(f64, f64)>,
    /// Per score decile, worst first: (share of the held-out sample so far, share of its bads so far).
    pub lift: Vec<(f64, f64)>,
}

/// A lab job of the actor's organisation as the lab shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LabJob {
    pub id: String,
    pub kind: JobKind,
    pub state: JobState,
    pub percent: Option<u8>,
    pub requested_by_name: String,
    pub requested_at_us: i64,
    pub what_zh: String,
    pub what_en: String,
    pub failure: Option<JobFailure>,
}

fn invalid(field: &str, code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(Invalid(vec![FieldError::new(field, code, zh, en)]))
}

/// Whether a product type covers people (group health, accident): its claims are health data.
fn personal_line(catalogue: &kebao_domain::catalogue::Catalogue, type_id: &str) -> bool {
    use kebao_domain::catalogue::ProductLine;
    catalogue.get(type_id).is_some_and(|t| {
        matches!(t.product_line(), ProductLine::Health | ProductLine::Accident)
            || t.data_sensitivity.is_some()
    })
}

fn date(s: &str) -> Option<Date> {
    Date::parse(s, &time::format_description::well_known::Iso8601::DATE).ok()
}

fn reference(salt: &str, id: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0]);
    h.update(id.as_bytes());
    hex::encode(h.finalize()).chars().take(12).collect()
}

/// What one extract holds: the file and its counts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Built {
    pub csv: String,
    pub rows: i64,
    pub left_personal: i64,
    pub left_unended: i64,
}

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().from_writer(Vec::new())
}

fn finish_csv(w: csv::Writer<Vec<u8>>) -> std::result::Result<String, String> {
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

fn yuan(fen: i64) -> String {
    Money::from_fen(fen).to_yuan_string()
}

/// The claims extract: one row per policy and policy-year up to `today`, claims counted by
/// loss date (denied ones not counted), incurred = decided amount, or the reserve (at least
/// what was paid) while open. Industry and stage as rated, else as the registry has them.
/// Personal lines are left out unless asked for.
pub fn claims_extract(
    salt: &str,
    policies: &[store::PolicyExperience],
    claims: &[store::ClaimExperience],
    registry: &HashMap<String, store::BorrowerFacts>,
    catalogue: &kebao_domain::catalogue::Catalogue,
    include_personal: bool,
    today: Date,
) -> std::result::Result<Built, String> {
    let mut by_policy: HashMap<&str, Vec<&store::ClaimExperience>> = HashMap::new();
    for c in claims {
        by_policy.entry(c.policy_id.as_str()).or_default().push(c);
    }
    let mut w = writer();
    w.write_record(kebao_domain::lab::CLAIMS_COLUMNS.iter().map(|c| c.name)).map_err(|e| e.to_string())?;
    let mut out = Built::default();
    for p in policies {
        let personal = personal_line(catalogue, &p.product_type);
        if personal && !include_personal {
            out.left_personal += 1;
            continue;
        }
        let (Some(start), Some(end)) = (date(&p.start_date), date(&p.end_date)) else {
            out.left_unended += 1;
            continue;
        };
        let mut stop = end.min(today);
        if let Some(c) = p.cancelled_on.as_deref().and_then(date) {
            stop = stop.min(c);
        }
        if stop <= start {
            // Not started yet (or cancelled from its start): no exposure to learn from.
            out.left_unended += 1;
            continue;
        }
        let input: QuoteInput = serde_json::from_str(&p.input).unwrap_or_default();
        let registered = registry.get(&p.enterprise_id);
        let industry = input
            .industry
            .clone()
            .or_else(|| registered.and_then(|r| r.industry.clone()))
            .unwrap_or_else(|| "unknown".into());
        let stage = input
            .stage
            .map(|s| s.code().to_owned())
            .or_else(|| registered.and_then(|r| r.lifecycle_stage.clone()))
            .unwrap_or_else(|| "unknown".into());
        let term_days = (end - start).whole_days().max(1);
        let policy_claims = by_policy.get(p.id.as_str()).cloned().unwrap_or_default();
        let mut from = start;
        let mut year = 1;
        while from < stop {
            let next =
                from.replace_year(from.year() + 1).unwrap_or_else(|_| from + time::Duration::days(365));
            let to = next.min(stop);
            let days = (to - from).whole_days();
            let (mut count, mut incurred) = (0i64, 0i64);
            for c in &policy_claims {
                let Some(loss) = date(&c.loss_date) else { continue };
                if loss < from || loss >= to || c.outcome.as_deref() == Some("deny") {
                    continue;
                }
                count += 1;
                incurred += match c.outcome.as_deref() {
                    Some(_) => c.decided_fen.max(c.paid_fen),
                    None => c.reserve_fen.max(c.paid_fen),
                };
            }
            let earned = i64::try_from(i128::from(p.premium_fen) * i128::from(days) / i128::from(term_days))
                .unwrap_or(i64::MAX);
            w.write_record([
                reference(salt, &p.id),
                year.to_string(),
                from.to_string(),
                to.to_string(),
                p.product_type.clone(),
                industry.clone(),
                stage.clone(),
                if personal { "1" } else { "0" }.into(),
                format!("{:.6}", days as f64 / 365.0),
                yuan(input.limit.fen()),
                yuan(input.sum_insured.fen()),
                yuan(input.revenue.fen()),
                input.claims_3y.to_string(),
                yuan(earned),
                count.to_string(),
                yuan(incurred),
            ])
            .map_err(|e| e.to_string())?;
            out.rows += 1;
            from = next;
            year += 1;
        }
    }
    out.csv = finish_csv(w)?;
    Ok(out)
}

/// The loan-outcome extract: one row per loan that has ended (repaid: 0; claimed from the
/// insurer: 1), with the borrower's facts of the year before it applied. Loans without an
/// outcome yet are counted, not written.
pub fn loans_extract(
    salt: &str,
    loans: &[store::LoanExperience],
    borrowers: &HashMap<String, store::BorrowerFacts>,
) -> std::result::Result<Built, String> {
    let mut w = writer();
    w.write_record(kebao_domain::lab::LOAN_COLUMNS.iter().map(|c| c.name)).map_err(|e| e.to_string())?;
    let mut out = Built::default();
    for l in loans {
        let (outcome, bad) = match l.status.as_str() {
            "repaid" => ("repaid", "0"),
            "claimed" | "claim_paid" => ("defaulted", "1"),
            _ => {
                out.left_unended += 1;
                continue;
            }
        };
        let b = borrowers.get(&l.enterprise_id).cloned().unwrap_or_default();
        let mut row = vec![reference(salt, &l.id)];
        row.extend(loan_features(l, &b).into_iter().map(|(_, v)| v));
        row.push(outcome.to_owned());
        row.push(bad.to_owned());
        w.write_record(&row).map_err(|e| e.to_string())?;
        out.rows += 1;
    }
    out.csv = finish_csv(w)?;
    Ok(out)
}

/// A loan's and its borrower's facts at application, as the loan extract writes them and as
/// a scorecard scores them (the columns of `LOAN_COLUMNS` between the reference and the
/// outcome; blank where unknown).
pub fn loan_features(l: &store::LoanExperience, b: &store::BorrowerFacts) -> Vec<(String, String)> {
    let applied =
        kebao_domain::time_zone::business_date(kebao_domain::time_zone::from_unix_us(l.applied_at_us));
    let mut out: Vec<(String, String)> = [
        ("applied_year", applied.year().to_string()),
        ("scheme", l.scheme_id.clone()),
        ("amount_yuan", yuan(l.amount_fen)),
        ("term_months", l.term_months.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    out.extend(enterprise_features(b, applied));
    out
}

/// An enterprise's facts on a day, as a scorecard scores them: industry and stage as
/// registered, years since founding, the last year's figures before that day's year, and the
/// qualifications valid on it (blank where unknown).
pub fn enterprise_features(b: &store::BorrowerFacts, on: Date) -> Vec<(String, String)> {
    let age = b
        .founded_on
        .as_deref()
        .and_then(date)
        .map(|f| format!("{:.1}", (on - f).whole_days().max(0) as f64 / 365.25))
        .unwrap_or_default();
    let before = b.facts.iter().filter(|f| f.0 < i64::from(on.year())).max_by_key(|f| f.0);
    let (revenue, rnd, staff, patents) = match before {
        Some(&(_, rev, rnd, staff, pat)) => (
            yuan(rev),
            if rev > 0 { format!("{:.4}", rnd as f64 / rev as f64) } else { String::new() },
            staff.to_string(),
            pat.to_string(),
        ),
        None => Default::default(),
    };
    let quals = b
        .qualifications
        .iter()
        .filter(|(from, to)| date(from).is_some_and(|f| f <= on) && date(to).is_some_and(|t| t >= on))
        .count();
    [
        ("industry", b.industry.clone().unwrap_or_else(|| "unknown".into())),
        ("stage", b.lifecycle_stage.clone().unwrap_or_else(|| "unknown".into())),
        ("age_years", age),
        ("revenue_yuan", revenue),
        ("rnd_ratio", rnd),
        ("staff", staff),
        ("patents", patents),
        ("qualifications", quals.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

impl Service {
    /// On what footing the actor's organisation may extract `kind`, and whose business it
    /// reads (`None`: all of it). An insurer extracts its own claims, a bank its own loans,
    /// the zone's officers either for supervision; nothing else has a lawful basis.
    async fn extract_scope(
        &self,
        actor: &Actor,
        kind: ExtractKind,
    ) -> Result<(String, ExtractBasis, Option<String>)> {
        let org = self.lab_owner(actor, Action::ManageModels).await?;
        if self.allows(actor, Action::ReadModels, &Resource::Zone) && org.kind == OrgKind::Government {
            return Ok((org.id, ExtractBasis::Supervision, None));
        }
        match (org.kind, kind) {
            (OrgKind::Insurer, ExtractKind::Claims) | (OrgKind::Bank, ExtractKind::Loans) => {
                Ok((org.id.clone(), ExtractBasis::OwnBook, Some(org.id)))
            }
            _ => Err(invalid(
                "kind",
                "no_basis",
                format!(
                    "本机构没有提取「{}」的合法依据：保险机构只能提取自有保单的理赔经验，银行只能提取自有贷款的结果",
                    kind.label_zh()
                ),
                format!(
                    "your organisation has no lawful basis to extract “{}”: an insurer extracts its own policies' claims, a bank its own loans' outcomes",
                    kind.label_en()
                ),
            )),
        }
    }

    /// Queues an experience extract for the actor's organisation.
    pub async fn request_extract(&self, actor: &Actor, r: &ExtractRequest) -> Result<Job> {
        let kind = ExtractKind::from_code(r.kind.trim())
            .ok_or_else(|| invalid("kind", "unknown_kind", "请选择要提取的数据", "choose what to extract"))?;
        let (owner, basis, _) = self.extract_scope(actor, kind).await?;
        let mut errs = Vec::new();
        let purpose = match kebao_domain::org::text_field("purpose", &r.purpose, true, LAB_TEXT_MAX_CHARS) {
            Ok(p) => p.unwrap_or_default(),
            Err(e) => {
                errs.push(FieldError::new(
                    "purpose",
                    e.code,
                    format!("请写明提取用途（不超过 {LAB_TEXT_MAX_CHARS} 字）"),
                    format!("write what the extract is for (at most {LAB_TEXT_MAX_CHARS} characters)"),
                ));
                String::new()
            }
        };
        if r.include_personal && kind != ExtractKind::Claims {
            errs.push(FieldError::new(
                "include_personal",
                "no_personal_lines",
                "贷款结果不含人身险种，无需勾选",
                "loan outcomes have no personal lines to include",
            ));
        }
        let assessment = if r.include_personal {
            match ImpactAssessment::parse(
                &r.pia_purpose,
                &r.pia_recipient,
                &r.pia_necessity,
                &r.pia_safeguards,
            ) {
                Ok(a) => Some(a),
                Err(Invalid(es)) => {
                    errs.push(FieldError::new(
                        "include_personal",
                        "assessment_required",
                        "含个人信息（团体健康、意外险种）的提取须先记录个人信息保护影响评估：用途、接收方、必要性和保护措施",
                        "an extract with personal data (group health and accident lines) needs a recorded impact assessment first: purpose, recipient, necessity and safeguards",
                    ));
                    errs.extend(es);
                    None
                }
            }
        } else {
            None
        };
        if !errs.is_empty() {
            return Err(Invalid(errs).into());
        }
        let params = JobParams {
            extract: Some(ExtractParams {
                owner_org_id: owner.clone(),
                kind: kind.code().to_owned(),
                basis: basis.code().to_owned(),
                purpose,
                include_personal: r.include_personal,
                assessment,
            }),
            ..JobParams::default()
        };
        self.enqueue_job(actor, JobKind::LabExtract, params, Some(&owner)).await
    }

    async fn extract_of(
        &self,
        tx: &mut kebao_store::ReadTx,
        names: &mut HashMap<String, String>,
        r: store::ExtractRow,
    ) -> Result<Extract> {
        let created_by_name = crate::audit::actor_name(tx, names, &r.created_by).await?;
        let owner_name =
            kebao_store::orgs::get(tx.conn(), &r.owner_org_id).await.map(|o| o.name).unwrap_or_default();
        let kind = ExtractKind::from_code(&r.kind)
            .ok_or_else(|| ServiceError::Internal(format!("stored extract kind `{}`", r.kind)))?;
        let basis = ExtractBasis::from_code(&r.basis)
            .ok_or_else(|| ServiceError::Internal(format!("stored extract basis `{}`", r.basis)))?;
        Ok(Extract {
            id: r.id,
            owner_org_id: r.owner_org_id,
            owner_name,
            kind,
            basis,
            purpose: r.purpose,
            include_personal: r.include_personal,
            assessment: r.assessment.map(|[purpose, recipient, necessity, safeguards]| ImpactAssessment {
                purpose,
                recipient,
                necessity,
                safeguards,
            }),
            job_id: r.job_id,
            rows: r.rows_written,
            left_personal: r.left_personal,
            left_unended: r.left_unended,
            sha256: r.sha256,
            created_by: r.created_by,
            created_by_name,
            created_at_us: r.created_at_us,
        })
    }

    /// Who reads the lab's extracts and jobs: the organisation's own, or all for the zone.
    async fn lab_reader(&self, actor: &Actor) -> Result<Option<String>> {
        if self.allows(actor, Action::ReadModels, &Resource::Zone) {
            return Ok(None);
        }
        Ok(Some(self.lab_owner(actor, Action::ReadModels).await?.id))
    }

    /// The extracts the actor may see, newest first.
    pub async fn extracts(&self, actor: &Actor) -> Result<Vec<Extract>> {
        let owner = self.lab_reader(actor).await?;
        let mut tx = self.store.begin_read().await?;
        let mut names = HashMap::new();
        let mut out = Vec::new();
        for r in store::list(tx.conn(), owner.as_deref()).await? {
            out.push(self.extract_of(&mut tx, &mut names, r).await?);
        }
        Ok(out)
    }

    /// One extract with its file; each download is recorded as an event (data leaving).
    pub async fn extract_file(&self, actor: &Actor, id: &str) -> Result<(Extract, String)> {
        let owner = self.lab_reader(actor).await?;
        let mut tx = self.store.begin_read().await?;
        let mut r = store::get(tx.conn(), id).await?;
        if owner.as_deref().is_some_and(|o| o != r.owner_org_id) {
            return Err(ServiceError::NotFound);
        }
        let csv = std::mem::take(&mut r.csv);
        let e = self.extract_of(&mut tx, &mut HashMap::new(), r).await?;
        drop(tx);
        let tx = self.store.begin_write().await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "lab.extract_downloaded",
            &e.id,
            serde_json::json!({"owner": e.owner_org_id, "kind": e.kind.code(), "basis": e.basis.code(), "sha256": e.sha256}),
        );
        self.finish(tx, draft).await?;
        Ok((e, csv))
    }

    /// One extract (without its file).
    pub async fn extract(&self, actor: &Actor, id: &str) -> Result<Extract> {
        let owner = self.lab_reader(actor).await?;
        let mut tx = self.store.begin_read().await?;
        let mut r = store::get(tx.conn(), id).await?;
        if owner.as_deref().is_some_and(|o| o != r.owner_org_id) {
            return Err(ServiceError::NotFound);
        }
        r.csv.clear();
        self.extract_of(&mut tx, &mut HashMap::new(), r).await
    }

    /// The lab jobs of the actor's organisation (all for the zone), newest first.
    pub async fn lab_jobs(&self, actor: &Actor) -> Result<Vec<LabJob>> {
        let owner = self.lab_reader(actor).await?;
        let mut tx = self.store.begin_read().await?;
        let mut names = HashMap::new();
        let mut out = Vec::new();
        for kind in [JobKind::LabExtract, JobKind::LabFit, JobKind::LabScore] {
            for j in kebao_store::jobs::list(tx.conn(), None, Some(kind), None, 200).await? {
                if owner.as_deref().is_some_and(|o| crate::jobs::job_owner(&j) != Some(o)) {
                    continue;
                }
                let (what_zh, what_en) = match (&j.params.extract, &j.params.fit) {
                    (Some(e), _) => {
                        let k = ExtractKind::from_code(&e.kind);
                        (
                            k.map_or_else(String::new, |k| k.label_zh().to_owned()),
                            k.map_or_else(String::new, |k| k.label_en().to_owned()),
                        )
                    }
                    (_, Some(f)) => (format!("拟合「{}」", f.name), format!("fit “{}”", f.name)),
                    _ => match &j.params.score {
                        Some(s) => {
                            let name = kebao_store::lab::get(tx.conn(), &s.model_id)
                                .await
                                .map(|m| format!("{} v{}", m.name, m.version))
                                .unwrap_or_default();
                            (format!("以「{name}」批量评分"), format!("batch scoring with “{name}”"))
                        }
                        None => (String::new(), String::new()),
                    },
                };
                out.push(LabJob {
                    id: j.id.clone(),
                    kind: j.kind,
                    state: j.state,
                    percent: j.percent(),
                    requested_by_name: crate::audit::actor_name(&mut tx, &mut names, &j.requested_by).await?,
                    requested_at_us: j.requested_at_us,
                    what_zh,
                    what_en,
                    failure: j.failure.clone(),
                });
            }
        }
        out.sort_by_key(|j| std::cmp::Reverse(j.requested_at_us));
        out.truncate(20);
        Ok(out)
    }

    /// Queues a fit of a model from one of the organisation's extracts: a Poisson
    /// claim-frequency GLM from a claims extract, a default scorecard from a loan extract.
    pub async fn request_fit(&self, actor: &Actor, r: &FitRequest) -> Result<Job> {
        let org = self.lab_owner(actor, Action::ManageModels).await?;
        let e = match self.extract(actor, r.extract_id.trim()).await {
            Ok(e) if e.owner_org_id == org.id => e,
            Ok(_) | Err(ServiceError::NotFound) => {
                return Err(invalid(
                    "extract_id",
                    "unknown_extract",
                    "请选择本机构的一份提取数据",
                    "choose one of your organisation's extracts",
                ))
            }
            Err(e) => return Err(e),
        };
        let mut errs = Vec::new();
        let name = match kebao_domain::org::text_field("name", &r.name, true, 60) {
            Ok(n) => n.unwrap_or_default(),
            Err(e) => {
                errs.push(e);
                String::new()
            }
        };
        let columns = e.kind.columns();
        let (mut factors, mut numeric) = (Vec::new(), Vec::new());
        for v in &r.variables {
            let v = v.trim();
            if v.is_empty() || factors.iter().chain(numeric.iter()).any(|x: &String| x == v) {
                continue;
            }
            match columns.iter().find(|c| c.name == v && c.candidate) {
                Some(c) if c.categorical => factors.push(v.to_owned()),
                Some(_) => numeric.push(v.to_owned()),
                None => errs.push(FieldError::new(
                    "variables",
                    "unknown_variable",
                    format!("「{v}」不是该提取数据中可入模的变量"),
                    format!("`{v}` is not a variable of this extract a model may use"),
                )),
            }
        }
        let l2 = match r.l2.trim() {
            "" => String::new(),
            t => match t.parse::<f64>() {
                Ok(x) if (0.0..=1000.0).contains(&x) => {
                    if x == 0.0 {
                        String::new()
                    } else {
                        t.to_owned()
                    }
                }
                _ => {
                    errs.push(FieldError::new(
                        "l2",
                        "l2",
                        "L2 惩罚须为 0 至 1000 之间的数",
                        "the L2 penalty is a number from 0 to 1000",
                    ));
                    String::new()
                }
            },
        };
        if factors.is_empty() && numeric.is_empty() && !errs.iter().any(|e| e.field == "variables") {
            errs.push(FieldError::new(
                "variables",
                "no_variables",
                "请至少选择一个变量",
                "choose at least one variable",
            ));
        }
        if !errs.is_empty() {
            return Err(Invalid(errs).into());
        }
        let params = JobParams {
            fit: Some(FitParams {
                owner_org_id: org.id.clone(),
                extract_id: e.id,
                model_kind: e.kind.model_kind().code().to_owned(),
                name,
                factors,
                numeric,
                l2,
            }),
            ..JobParams::default()
        };
        self.enqueue_job(actor, JobKind::LabFit, params, Some(&org.id)).await
    }
}

fn failed(zh: impl Into<String>, en: impl Into<String>) -> JobStop {
    JobStop::Failed(JobFailure::new(zh, en))
}

/// Writes an experience extract.
pub struct ExtractJob;

impl JobHandler for ExtractJob {
    fn run<'a>(&'a self, svc: &'a Service, ctx: &'a mut JobContext) -> JobFuture<'a> {
        Box::pin(async move {
            let Some(p) = ctx.job.params.extract.clone() else {
                return Err(failed("任务缺少提取参数", "the job holds no extract settings"));
            };
            let kind = ExtractKind::from_code(&p.kind)
                .ok_or_else(|| failed("提取类型无效", "unknown extract kind"))?;
            let scope = match ExtractBasis::from_code(&p.basis) {
                Some(ExtractBasis::Supervision) => None,
                Some(ExtractBasis::OwnBook) => Some(p.owner_org_id.clone()),
                None => return Err(failed("提取依据无效", "unknown extract basis")),
            };
            let id = svc.new_id();
            ctx.progress(0, 0, None).await?;
            let mut tx = svc.store.begin_read().await.map_err(ServiceError::from)?;
            let built = match kind {
                ExtractKind::Claims => {
                    let policies =
                        store::policies(tx.conn(), scope.as_deref()).await.map_err(ServiceError::from)?;
                    let claims =
                        store::claims(tx.conn(), scope.as_deref()).await.map_err(ServiceError::from)?;
                    let registry = store::borrowers(tx.conn(), store::Borrowers::Policies(scope.as_deref()))
                        .await
                        .map_err(ServiceError::from)?;
                    drop(tx);
                    let total = i64::try_from(policies.len()).unwrap_or(i64::MAX);
                    ctx.progress(0, total, None).await?;
                    let (catalogue, today, salt, personal) =
                        (svc.catalogue(), svc.today(), id.clone(), p.include_personal);
                    ctx.run_blocking(total, move |_| {
                        claims_extract(&salt, &policies, &claims, &registry, &catalogue, personal, today)
                    })
                    .await?
                }
                ExtractKind::Loans => {
                    let loans =
                        store::loans(tx.conn(), scope.as_deref()).await.map_err(ServiceError::from)?;
                    let borrowers = store::borrowers(tx.conn(), store::Borrowers::Loans(scope.as_deref()))
                        .await
                        .map_err(ServiceError::from)?;
                    drop(tx);
                    let total = i64::try_from(loans.len()).unwrap_or(i64::MAX);
                    ctx.progress(0, total, None).await?;
                    let salt = id.clone();
                    ctx.run_blocking(total, move |_| loans_extract(&salt, &loans, &borrowers)).await?
                }
            };
            let built = match built {
                Ok(Ok(b)) => b,
                Ok(Err(e)) => {
                    return Err(failed("生成提取文件失败", format!("writing the extract failed: {e}")))
                }
                Err(e) => return Err(failed("提取运行出错", format!("the extract failed: {e}"))),
            };
            ctx.check()?;
            let done = built.rows + built.left_personal + built.left_unended;
            ctx.progress(done, done, None).await?;
            let sha256 = hex::encode(Sha256::digest(built.csv.as_bytes()));
            let row = store::ExtractRow {
                id: id.clone(),
                owner_org_id: p.owner_org_id.clone(),
                kind: kind.code().to_owned(),
                basis: p.basis.clone(),
                purpose: p.purpose.clone(),
                include_personal: p.include_personal,
                assessment: p.assessment.clone().map(|a| [a.purpose, a.recipient, a.necessity, a.safeguards]),
                job_id: ctx.job.id.clone(),
                rows_written: built.rows,
                left_personal: built.left_personal,
                left_unended: built.left_unended,
                sha256: sha256.clone(),
                csv: built.csv,
                created_by: ctx.job.requested_by.clone(),
                created_at_us: svc.now_us(),
            };
            let mut tx = svc.store.begin_write().await.map_err(ServiceError::from)?;
            store::insert(tx.conn(), &row).await.map_err(ServiceError::from)?;
            let draft = EventDraft::new(
                &ctx.job.requested_by,
                "lab.extract_written",
                &id,
                serde_json::json!({"job": ctx.job.id, "owner": p.owner_org_id, "kind": kind.code(),
                    "basis": p.basis, "purpose": p.purpose, "include_personal": p.include_personal,
                    "impact_assessment": p.assessment, "rows": built.rows,
                    "left_out": {"personal_lines": built.left_personal, "without_outcome": built.left_unended},
                    "sha256": sha256}),
            );
            svc.finish(tx, draft).await?;
            Ok(JobResult::ExtractWritten {
                extract_id: id,
                rows: u64::try_from(built.rows).unwrap_or(0),
                left_out: u64::try_from(built.left_personal + built.left_unended).unwrap_or(0),
            })
        })
    }
}

/// The extract's columns, read back from its file: numbers (blank: NaN) and text.
struct Table {
    numbers: HashMap<String, Vec<f64>>,
    texts: HashMap<String, Vec<String>>,
    rows: usize,
}

/// Why a fit did not complete, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitError {
    pub zh: String,
    pub en: String,
}

fn fit_error(zh: impl Into<String>, en: impl Into<String>) -> FitError {
    FitError { zh: zh.into(), en: en.into() }
}

/// An engine's own message (English, technical), with a Chinese lead.
fn engine(e: impl std::fmt::Display) -> FitError {
    fit_error(format!("模型引擎未能完成拟合（{e}）"), format!("the engine could not fit the model: {e}"))
}

fn read_table(csv_text: &str, numeric: &[&str], text: &[&str]) -> std::result::Result<Table, FitError> {
    let mut r = csv::ReaderBuilder::new().from_reader(csv_text.as_bytes());
    let head = r.headers().map_err(engine)?.clone();
    let pos = |n: &str| {
        head.iter().position(|h| h == n).ok_or_else(|| {
            fit_error(format!("提取数据没有「{n}」列"), format!("the extract has no column `{n}`"))
        })
    };
    let num_at: Vec<(String, usize)> = numeric
        .iter()
        .map(|n| pos(n).map(|p| ((*n).to_owned(), p)))
        .collect::<std::result::Result<_, _>>()?;
    let text_at: Vec<(String, usize)> =
        text.iter().map(|n| pos(n).map(|p| ((*n).to_owned(), p))).collect::<std::result::Result<_, _>>()?;
    let mut t = Table { numbers: HashMap::new(), texts: HashMap::new(), rows: 0 };
    for rec in r.records() {
        let rec = rec.map_err(engine)?;
        for (n, p) in &num_at {
            let v = rec.get(*p).unwrap_or("").trim();
            let x = if v.is_empty() {
                f64::NAN
            } else {
                v.parse::<f64>().map_err(|_| {
                    fit_error(
                        format!("「{n}」列的值「{v}」不是数字"),
                        format!("`{n}`: `{v}` is not a number"),
                    )
                })?
            };
            t.numbers.entry(n.clone()).or_default().push(x);
        }
        for (n, p) in &text_at {
            t.texts.entry(n.clone()).or_default().push(rec.get(*p).unwrap_or("").to_owned());
        }
        t.rows += 1;
    }
    Ok(t)
}

/// What a fit makes: the model file, its observations and (scorecards) its validation.
#[derive(Debug)]
struct Fitted {
    document: String,
    n_obs: u64,
    validation: Option<Validation>,
}

/// A Poisson claim-frequency GLM with log(exposure) as offset.
fn fit_glm(
    csv_text: &str,
    factors: &[String],
    numeric: &[String],
    l2: f64,
) -> std::result::Result<Fitted, FitError> {
    let mut nums: Vec<&str> = vec!["claim_count", "exposure"];
    nums.extend(numeric.iter().map(String::as_str));
    let texts: Vec<&str> = factors.iter().map(String::as_str).collect();
    let t = read_table(csv_text, &nums, &texts)?;
    if t.rows < 10 {
        return Err(fit_error(
            format!("提取数据只有 {} 行，样本太少（至少 10 行）", t.rows),
            format!("the extract has {} rows: too few to fit (at least 10)", t.rows),
        ));
    }
    let y = t.numbers.get("claim_count").cloned().unwrap_or_default();
    let offset: Vec<f64> =
        t.numbers.get("exposure").map(|e| e.iter().map(|x| x.max(1e-9).ln()).collect()).unwrap_or_default();
    for n in numeric {
        if t.numbers.get(n).is_some_and(|v| v.iter().any(|x| !x.is_finite())) {
            return Err(fit_error(
                format!("「{n}」有空值，请换用其他变量"),
                format!("`{n}` has blank cells: choose another variable"),
            ));
        }
    }
    let mut data = kebao_glm::Data::new(&y).offset(&offset);
    for f in factors {
        let values = t.texts.get(f).cloned().unwrap_or_default();
        data = data.factor(kebao_glm::Factor::from_strings(f, &values).map_err(engine)?);
    }
    for n in numeric {
        data = data.numeric(n, t.numbers.get(n).map_or(&[][..], Vec::as_slice));
    }
    let spec = kebao_glm::Spec::new(kebao_glm::Family::Poisson).l2(l2);
    let model = kebao_glm::fit(&data, &spec).map_err(|e| match e {
        kebao_glm::GlmError::NoConvergence { .. } => fit_error(
            format!("迭代未收敛（{e}）：常见原因是某些因子水平没有赔案或数据过少；可减少变量、合并水平，或设置较小的 L2 惩罚（如 0.01）后重试"),
            format!("the fit did not converge ({e}): usually a factor level without any claim, or too little data; use fewer variables, merge levels, or set a small L2 penalty (say 0.01) and try again"),
        ),
        other => engine(other),
    })?;
    let values: Vec<(&str, &[f64])> =
        numeric.iter().map(|n| (n.as_str(), t.numbers.get(n).map_or(&[][..], Vec::as_slice))).collect();
    let plan = kebao_glm::plan::RatingPlan::from_fit(
        &model,
        "claim_count",
        Some("log(exposure) as offset"),
        &values,
    )
    .map_err(engine)?;
    Ok(Fitted { document: plan.to_json(), n_obs: u64::try_from(t.rows).unwrap_or(0), validation: None })
}

/// Whether a row is held out for validation (three in ten, by its reference).
fn held_out(reference: &str) -> bool {
    Sha256::digest(reference.as_bytes()).first().is_some_and(|b| *b < 77)
}

/// A default scorecard, fitted on seven rows in ten and validated on the rest.
fn fit_scorecard(
    csv_text: &str,
    factors: &[String],
    numeric: &[String],
    l2: f64,
) -> std::result::Result<Fitted, FitError> {
    use kebao_scorecard::{Column, Frame, Scorecard, ScorecardOptions};
    let mut nums: Vec<&str> = vec!["bad"];
    nums.extend(numeric.iter().map(String::as_str));
    let mut texts: Vec<&str> = vec!["loan_ref"];
    texts.extend(factors.iter().map(String::as_str));
    let t = read_table(csv_text, &nums, &texts)?;
    let refs = t.texts.get("loan_ref").cloned().unwrap_or_default();
    let y = t.numbers.get("bad").cloned().unwrap_or_default();
    let hold: Vec<bool> = refs.iter().map(|r| held_out(r)).collect();
    let frame = |valid: bool| -> Frame {
        let pick = |i: usize| hold.get(i).copied() == Some(valid);
        let mut columns = Vec::new();
        for n in numeric {
            let v = t.numbers.get(n).cloned().unwrap_or_default();
            columns.push(Column::Numeric {
                name: n.clone(),
                values: v.into_iter().enumerate().filter(|(i, _)| pick(*i)).map(|(_, x)| x).collect(),
            });
        }
        for f in factors {
            let v = t.texts.get(f).cloned().unwrap_or_default();
            columns.push(Column::Categorical {
                name: f.clone(),
                values: v
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| pick(*i))
                    .map(|(_, x)| if x.is_empty() || x == "unknown" { None } else { Some(x) })
                    .collect(),
            });
        }
        Frame { columns }
    };
    let split = |valid: bool| -> Vec<f64> {
        y.iter().enumerate().filter(|(i, _)| hold.get(*i).copied() == Some(valid)).map(|(_, v)| *v).collect()
    };
    let (y_train, y_valid) = (split(false), split(true));
    let bads = y_train.iter().filter(|v| **v == 1.0).count();
    if y_train.len() < 20 || bads == 0 || bads == y_train.len() {
        return Err(fit_error(
            format!("训练样本 {} 笔贷款中违约 {bads} 笔：评分卡至少需要 20 笔且同时有违约和正常结清的贷款", y_train.len()),
            format!(
                "the training sample has {} loans of which {bads} defaulted: a scorecard needs at least 20 loans with both outcomes",
                y_train.len()
            ),
        ));
    }
    let opts = ScorecardOptions { l2, ..ScorecardOptions::default() };
    let sc = Scorecard::fit(&frame(false), &y_train, &opts).map_err(engine)?;
    let rate = |v: &[f64]| if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 };
    let mut validation = Validation {
        n_train: y_train.len() as u64,
        n_valid: y_valid.len() as u64,
        bad_rate_train: rate(&y_train),
        bad_rate_valid: rate(&y_valid),
        auc: None,
        ks: None,
        gini: None,
        roc: Vec::new(),
        lift: Vec::new(),
    };
    if !y_valid.is_empty() {
        let scored = sc.score_values(&frame(true)).map_err(engine)?;
        // A higher probability of default ranks first.
        let p: Vec<f64> = scored.iter().map(|s| s.probability).collect();
        let yv: Vec<u8> = y_valid.iter().map(|v| u8::from(*v == 1.0)).collect();
        let auc = kebao_scorecard::auc(&p, &yv);
        if auc.is_finite() {
            validation.auc = Some(auc);
            validation.gini = Some(2.0 * auc - 1.0);
            validation.ks = Some(kebao_scorecard::ks(&p, &yv)).filter(|k| k.is_finite());
            let (roc, lift) = curves(&p, &yv);
            validation.roc = roc;
            validation.lift = lift;
        }
    }
    Ok(Fitted { document: sc.to_json(), n_obs: y_train.len() as u64, validation: Some(validation) })
}

/// Points of a curve on the unit square.
pub type Curve = Vec<(f64, f64)>;

/// The ROC curve (at most ~50 points) and the cumulative gains by decile of `p` (higher:
/// riskier).
pub fn curves(p: &[f64], y: &[u8]) -> (Curve, Curve) {
    let mut idx: Vec<usize> = (0..p.len().min(y.len())).collect();
    idx.sort_by(|&a, &b| p.get(b).copied().unwrap_or(0.0).total_cmp(&p.get(a).copied().unwrap_or(0.0)));
    let n = idx.len();
    let n1 = y.iter().filter(|v| **v == 1).count();
    let n0 = n - n1;
    if n1 == 0 || n0 == 0 {
        return (Vec::new(), Vec::new());
    }
    let step = (n / 50).max(1);
    let mut roc = vec![(0.0, 0.0)];
    let mut lift = Vec::new();
    let (mut tp, mut fp) = (0usize, 0usize);
    for (k, i) in idx.iter().enumerate() {
        if y.get(*i) == Some(&1) {
            tp += 1;
        } else {
            fp += 1;
        }
        let next_differs = idx.get(k + 1).is_none_or(|j| p.get(*j) != p.get(*i));
        if next_differs && ((k + 1) % step == 0 || k + 1 == n) {
            roc.push((fp as f64 / n0 as f64, tp as f64 / n1 as f64));
        }
        for d in 1..=10 {
            if k + 1 == (n * d).div_ceil(10) && lift.len() < d {
                lift.push(((k + 1) as f64 / n as f64, tp as f64 / n1 as f64));
            }
        }
    }
    if roc.last() != Some(&(1.0, 1.0)) {
        roc.push((1.0, 1.0));
    }
    (roc, lift)
}

/// Fits a model from an extract and stores it awaiting approval.
pub struct FitJob;

impl JobHandler for FitJob {
    fn run<'a>(&'a self, svc: &'a Service, ctx: &'a mut JobContext) -> JobFuture<'a> {
        Box::pin(async move {
            let Some(p) = ctx.job.params.fit.clone() else {
                return Err(failed("任务缺少拟合参数", "the job holds no fit settings"));
            };
            let kind = ModelKind::from_code(&p.model_kind)
                .ok_or_else(|| failed("模型类型无效", "unknown model kind"))?;
            ctx.progress(0, 3, None).await?;
            let mut tx = svc.store.begin_read().await.map_err(ServiceError::from)?;
            let extract = store::get(tx.conn(), &p.extract_id).await.map_err(ServiceError::from)?;
            drop(tx);
            if extract.owner_org_id != p.owner_org_id {
                return Err(failed("提取数据不属于本机构", "the extract is not the organisation's"));
            }
            ctx.progress(1, 3, None).await?;
            let (factors, numeric) = (p.factors.clone(), p.numeric.clone());
            let l2 = p.l2.trim().parse::<f64>().unwrap_or(0.0);
            let csv_text = extract.csv;
            let outcome = ctx
                .run_blocking(3, move |_| match kind {
                    ModelKind::Glm => fit_glm(&csv_text, &factors, &numeric, l2),
                    ModelKind::Scorecard => fit_scorecard(&csv_text, &factors, &numeric, l2),
                })
                .await?;
            let fitted = match outcome {
                Ok(Ok(f)) => f,
                Ok(Err(e)) => {
                    return Err(failed(
                        format!("拟合未能完成：{}", e.zh),
                        format!("the fit did not complete: {}", e.en),
                    ))
                }
                Err(e) => return Err(failed("拟合运行出错", format!("the fit failed: {e}"))),
            };
            // The stored model is read back as any upload is.
            crate::lab::parse_model(kind, fitted.document.as_bytes()).map_err(JobStop::from)?;
            ctx.progress(2, 3, None).await?;
            let validation = match &fitted.validation {
                Some(v) => {
                    Some(serde_json::to_string(v).map_err(|e| failed("无法保存验证结果", e.to_string()))?)
                }
                None => None,
            };
            let mut tx = svc.store.begin_write().await.map_err(ServiceError::from)?;
            let version = kebao_store::lab::next_version(tx.conn(), &p.owner_org_id, kind.code(), &p.name)
                .await
                .map_err(ServiceError::from)?;
            let row = kebao_store::lab::ModelRow {
                id: svc.new_id(),
                owner_org_id: p.owner_org_id.clone(),
                kind: kind.code().to_owned(),
                name: p.name.clone(),
                version,
                sha256: hex::encode(Sha256::digest(fitted.document.as_bytes())),
                document: fitted.document,
                status: ModelStatus::Submitted.code().to_owned(),
                uploaded_by: ctx.job.requested_by.clone(),
                uploaded_at_us: svc.now_us(),
                approved_by: None,
                approved_at_us: None,
                retired_by: None,
                retired_at_us: None,
                extract_id: Some(extract.id.clone()),
                training_sha256: Some(extract.sha256.clone()),
                validation,
            };
            kebao_store::lab::insert(tx.conn(), &row).await.map_err(ServiceError::from)?;
            let draft = EventDraft::new(
                &ctx.job.requested_by,
                "lab.model_fitted",
                &row.id,
                serde_json::json!({"job": ctx.job.id, "owner": p.owner_org_id, "kind": kind.code(), "name": p.name,
                    "version": version, "sha256": row.sha256, "extract": extract.id, "training_sha256": extract.sha256,
                    "factors": p.factors, "numeric": p.numeric}),
            );
            svc.finish(tx, draft).await?;
            ctx.progress(3, 3, None).await?;
            Ok(JobResult::ModelFitted { model_id: row.id, name: p.name, version, n_obs: fitted.n_obs })
        })
    }
}

impl Service {
    /// Whether the actor's organisation may ask for any extract.
    pub async fn may_extract(&self, actor: &Actor) -> bool {
        match self.lab_owner(actor, Action::ManageModels).await {
            Ok(org) => {
                (self.allows(actor, Action::ReadModels, &Resource::Zone) && org.kind == OrgKind::Government)
                    || matches!(org.kind, OrgKind::Insurer | OrgKind::Bank)
            }
            Err(_) => false,
        }
    }

    /// The kinds of extract the actor's organisation may ask for.
    pub async fn extract_kinds(&self, actor: &Actor) -> Vec<ExtractKind> {
        let Ok(org) = self.lab_owner(actor, Action::ManageModels).await else { return Vec::new() };
        if self.allows(actor, Action::ReadModels, &Resource::Zone) && org.kind == OrgKind::Government {
            return ExtractKind::ALL.to_vec();
        }
        match org.kind {
            OrgKind::Insurer => vec![ExtractKind::Claims],
            OrgKind::Bank => vec![ExtractKind::Loans],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(id: &str, type_id: &str, start: &str, end: &str) -> store::PolicyExperience {
        store::PolicyExperience {
            id: id.into(),
            enterprise_id: "e".into(),
            product_type: type_id.into(),
            start_date: start.into(),
            end_date: end.into(),
            cancelled_on: None,
            premium_fen: 36_500,
            input: r#"{"limit":100000000,"deductible":0,"sum_insured":0,"revenue":0,"industry":"bio","stage":"rnd","claims_3y":0}"#.into(),
        }
    }

    fn claim(policy: &str, loss: &str, outcome: Option<&str>, fen: i64) -> store::ClaimExperience {
        store::ClaimExperience {
            policy_id: policy.into(),
            loss_date: loss.into(),
            outcome: outcome.map(str::to_owned),
            decided_fen: if outcome.is_some() { fen } else { 0 },
            reserve_fen: if outcome.is_some() { 0 } else { fen },
            paid_fen: 0,
        }
    }

    #[test]
    fn a_two_year_policy_is_two_rows_and_personal_lines_stay_out_unless_asked() {
        let cat = kebao_domain::catalogue::Catalogue::from_toml(crate::CATALOGUE).unwrap();
        let personal = cat
            .types()
            .iter()
            .find(|t| {
                t.data_sensitivity.is_some()
                    || matches!(t.product_line(), kebao_domain::catalogue::ProductLine::Health)
            })
            .expect("the catalogue has a personal line")
            .id
            .clone();
        let policies = vec![
            policy("p1", "rd_liability", "2024-03-01", "2026-03-01"),
            policy("p2", &personal, "2024-03-01", "2025-03-01"),
            policy("p3", "rd_liability", "2027-01-01", "2028-01-01"),
        ];
        let claims = vec![
            claim("p1", "2024-05-01", Some("pay"), 100_000),
            claim("p1", "2025-04-01", Some("deny"), 900_000),
            claim("p1", "2025-06-01", None, 50_000),
        ];
        let today = time::macros::date!(2025 - 09 - 01);
        let b = claims_extract("salt", &policies, &claims, &HashMap::new(), &cat, false, today).unwrap();
        assert_eq!((b.rows, b.left_personal, b.left_unended), (2, 1, 1));
        let rows: Vec<Vec<String>> =
            b.csv.lines().skip(1).map(|l| l.split(',').map(str::to_owned).collect()).collect();
        // Year 1: a full year, one paid claim; year 2: to the extract date, the denied claim not counted.
        assert_eq!(&rows[0][1..4], ["1", "2024-03-01", "2025-03-01"]);
        assert_eq!(
            (rows[0][8].as_str(), rows[0][14].as_str(), rows[0][15].as_str()),
            ("1.000000", "1", "1000.00")
        );
        assert_eq!(&rows[1][1..4], ["2", "2025-03-01", "2025-09-01"]);
        assert_eq!((rows[1][14].as_str(), rows[1][15].as_str()), ("1", "500.00"));
        assert_eq!(rows[0][13], "182.50", "the first year earns half the two-year premium");
        let with = claims_extract("salt", &policies, &claims, &HashMap::new(), &cat, true, today).unwrap();
        assert_eq!((with.rows, with.left_personal), (3, 0));
    }

    #[test]
    fn a_loan_s_features_are_the_extract_s_columns_in_order() {
        let l = store::LoanExperience {
            id: "l".into(),
            scheme_id: "s".into(),
            enterprise_id: "e".into(),
            amount_fen: 1,
            term_months: 12,
            status: "in_review".into(),
            applied_at_us: 0,
        };
        let names: Vec<String> =
            loan_features(&l, &store::BorrowerFacts::default()).into_iter().map(|(k, _)| k).collect();
        let cols = kebao_domain::lab::LOAN_COLUMNS;
        let middle: Vec<&str> = cols[1..cols.len() - 2].iter().map(|c| c.name).collect();
        assert_eq!(names, middle);
    }

    #[test]
    fn loan_outcomes_fit_a_scorecard_that_validates_on_held_out_loans() {
        let mut loans = Vec::new();
        let mut borrowers = HashMap::new();
        for i in 0..600i64 {
            let id = format!("e{i}");
            // Low R&D intensity defaults more often.
            let rnd = i % 10;
            let bad = (rnd < 3 && i % 3 != 0) || i % 11 == 0;
            loans.push(store::LoanExperience {
                id: format!("l{i}"),
                scheme_id: "donghu".into(),
                enterprise_id: id.clone(),
                amount_fen: 100_000_000,
                term_months: 12,
                status: if bad { "claim_paid" } else { "repaid" }.into(),
                applied_at_us: 1_750_000_000_000_000,
            });
            borrowers.insert(
                id,
                store::BorrowerFacts {
                    lifecycle_stage: Some("rnd".into()),
                    founded_on: Some("2018-01-01".into()),
                    industry: Some("bio".into()),
                    facts: vec![(2024, 1_000_000_000, rnd * 10_000_000, 50, 3)],
                    qualifications: vec![],
                },
            );
        }
        loans.push(store::LoanExperience { status: "servicing".into(), ..loans[0].clone() });
        let b = loans_extract("salt", &loans, &borrowers).unwrap();
        assert_eq!((b.rows, b.left_unended), (600, 1));
        let f = fit_scorecard(&b.csv, &[], &["rnd_ratio".into()], 0.0).unwrap();
        let v = f.validation.unwrap();
        assert_eq!(v.n_train + v.n_valid, 600);
        assert!(v.n_valid > 120 && v.n_valid < 240, "about three in ten held out: {}", v.n_valid);
        let auc = v.auc.unwrap();
        assert!(auc > 0.75, "the signal is found on held-out loans: {auc}");
        assert!((v.gini.unwrap() - (2.0 * auc - 1.0)).abs() < 1e-12);
        assert_eq!(v.roc.first(), Some(&(0.0, 0.0)));
        assert_eq!(v.roc.last(), Some(&(1.0, 1.0)));
        assert_eq!(v.lift.len(), 10);
        assert!((v.lift[9].1 - 1.0).abs() < 1e-12);
        // One outcome only: refused with the reason.
        let all_good: Vec<_> =
            loans.iter().map(|l| store::LoanExperience { status: "repaid".into(), ..l.clone() }).collect();
        let b = loans_extract("salt", &all_good, &borrowers).unwrap();
        assert!(fit_scorecard(&b.csv, &[], &["rnd_ratio".into()], 0.0)
            .unwrap_err()
            .en
            .contains("both outcomes"));
    }
}
