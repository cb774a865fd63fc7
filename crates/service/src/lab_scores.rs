//! The risk lab's models in decisions (C9, third part): an institution puts one of its approved
//! scorecards in force as its admission rule (a bank for lending, an insurer for underwriting;
//! the zone decides only scheme eligibility and never with scores), with cut-offs that make a
//! score accept, refer or decline. Scoring a loan application stores the model version, the
//! inputs, the score, the decision and the top reasons, and is an event. A score belongs to
//! its model's owner: it is shown to that institution and to the scored enterprise (with the
//! reasons), never to another institution (rules.md §11.2). The score advises; the bank's
//! officer decides the loan, so no decision about anyone is left to the model alone
//! (个人信息保护法 Art 24). See `docs/lab.md`.

use crate::authz::{Action, Actor};
use crate::lab::{Model, ModelKind, ModelStatus};
use crate::{Result, Service, ServiceError};
use kebao_domain::event::EventDraft;
pub use kebao_domain::lab::{AdmissionDecision, Cutoffs, ScoreUse};
use kebao_domain::lab::{ExtractColumn, LOAN_COLUMNS};
use kebao_domain::org::OrgKind;
use kebao_domain::{FieldError, Invalid};
use kebao_store::lab_scores as store;
use std::collections::HashMap;

/// The columns a use can score on: a loan's and its borrower's for lending; the enterprise's
/// own for underwriting.
pub fn features(u: ScoreUse) -> Vec<&'static ExtractColumn> {
    const ENTERPRISE: [&str; 8] =
        ["industry", "stage", "age_years", "revenue_yuan", "rnd_ratio", "staff", "patents", "qualifications"];
    LOAN_COLUMNS
        .iter()
        .filter(|c| c.candidate && (u == ScoreUse::Lending || ENTERPRISE.contains(&c.name)))
        .collect()
}

/// A column's labels, by name.
pub fn column_label(name: &str) -> (&'static str, &'static str) {
    LOAN_COLUMNS.iter().find(|c| c.name == name).map_or(("", ""), |c| (c.zh, c.en))
}

/// An admission rule in force.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AdmissionRule {
    pub id: String,
    pub owner_org_id: String,
    pub score_use: ScoreUse,
    pub model: Model,
    pub accept_at: f64,
    pub decline_below: f64,
    pub set_by_name: String,
    pub set_at_us: i64,
}

/// One reason a score lost points.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScoreReason {
    pub variable: String,
    pub bin: String,
    pub points: f64,
    pub points_lost: f64,
}

/// A stored score as its readers see it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScoreRecord {
    pub id: String,
    pub model_id: String,
    pub model_name: String,
    pub model_version: i64,
    pub owner_org_id: String,
    pub owner_name: String,
    pub subject_org_id: String,
    pub score_use: ScoreUse,
    pub subject_ref: Option<String>,
    /// (column, value as scored).
    pub inputs: Vec<(String, String)>,
    pub score: f64,
    pub probability: f64,
    pub decision: Option<AdmissionDecision>,
    pub reasons: Vec<ScoreReason>,
    pub created_by_name: String,
    pub created_at_us: i64,
}

fn conflict(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> ServiceError {
    ServiceError::Conflict(FieldError::new("model", code, zh, en))
}

fn hundredths(x: f64) -> i64 {
    (x * 100.0).round().clamp(-1e15, 1e15) as i64
}

/// Scores one row of inputs with a scorecard: the score, the probability and the top reasons.
pub fn score_row(
    sc: &kebao_scorecard::Scorecard,
    inputs: &[(String, String)],
) -> std::result::Result<(f64, f64, Vec<ScoreReason>), String> {
    use kebao_scorecard::{Column, Frame};
    let get = |n: &str| inputs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()).unwrap_or("");
    let mut columns = Vec::new();
    for v in &sc.variables {
        let name = v.binning.name.as_str();
        let categorical = LOAN_COLUMNS.iter().find(|c| c.name == name).is_some_and(|c| c.categorical);
        let raw = get(name).trim();
        columns.push(if categorical {
            let value = (!raw.is_empty() && raw != "unknown").then(|| raw.to_owned());
            Column::Categorical { name: name.to_owned(), values: vec![value] }
        } else {
            Column::Numeric { name: name.to_owned(), values: vec![raw.parse::<f64>().unwrap_or(f64::NAN)] }
        });
    }
    let scored = sc.score(&Frame { columns }).map_err(|e| e.to_string())?;
    let s = scored.into_iter().next().ok_or("nothing scored")?;
    let reasons = s
        .reasons
        .into_iter()
        .map(|r| ScoreReason {
            variable: r.variable,
            bin: r.bin,
            points: r.points,
            points_lost: r.points_lost,
        })
        .collect();
    Ok((s.score, s.probability, reasons))
}

impl Service {
    /// The use an organisation's scores serve: a bank lends, an insurer underwrites.
    fn score_use_of(kind: OrgKind) -> Result<ScoreUse> {
        match kind {
            OrgKind::Bank => Ok(ScoreUse::Lending),
            OrgKind::Insurer => Ok(ScoreUse::Underwriting),
            _ => Err(ServiceError::Invalid(Invalid(vec![FieldError::new(
                "model",
                "no_admission",
                "只有银行（贷款准入）和保险机构（承保准入）以评分卡作准入决定；示范区只决定方案资格，不以评分决定",
                "only a bank (lending) and an insurer (underwriting) decide admission with a scorecard; the zone decides only scheme eligibility, never with scores",
            )]))),
        }
    }

    /// One of the organisation's scorecards that may score now: its own, a scorecard, approved,
    /// and using only inputs the platform provides for `inputs` (refusals name the reason).
    async fn usable_scorecard(
        &self,
        actor: &Actor,
        owner: &str,
        model_id: &str,
        inputs: ScoreUse,
    ) -> Result<(Model, kebao_scorecard::Scorecard)> {
        let m = match self.model(actor, model_id).await {
            Ok(m) if m.owner_org_id == owner => m,
            Ok(_) | Err(ServiceError::NotFound) => return Err(ServiceError::NotFound),
            Err(e) => return Err(e),
        };
        if m.kind != ModelKind::Scorecard {
            return Err(ServiceError::Invalid(Invalid(vec![FieldError::new(
                "model",
                "wrong_kind",
                "准入规则和批量评分须使用评分卡",
                "admission rules and batch scoring use a scorecard",
            )])));
        }
        m.require_approved()?;
        let doc = {
            let mut tx = self.store.begin_read().await?;
            kebao_store::lab::get(tx.conn(), model_id).await?.document
        };
        let sc = kebao_scorecard::Scorecard::from_json(&doc)
            .map_err(|e| ServiceError::Internal(format!("stored scorecard: {e}")))?;
        let known = features(inputs);
        let missing: Vec<String> = sc
            .variables
            .iter()
            .map(|v| v.binning.name.clone())
            .filter(|n| !known.iter().any(|c| c.name == n))
            .collect();
        if !missing.is_empty() {
            return Err(ServiceError::Invalid(Invalid(vec![FieldError::new(
                "model",
                "unknown_inputs",
                format!("评分卡使用了平台在此用途下无法提供的变量：{}", missing.join("、")),
                format!(
                    "the scorecard uses variables the platform cannot provide for this use: {}",
                    missing.join(", ")
                ),
            )])));
        }
        Ok((m, sc))
    }

    /// Puts one of the organisation's approved scorecards in force as its admission rule.
    pub async fn set_admission_rule(
        &self,
        actor: &Actor,
        model_id: &str,
        accept_at: &str,
        decline_below: &str,
    ) -> Result<AdmissionRule> {
        let org = self.lab_owner(actor, Action::ManageModels).await?;
        let score_use = Self::score_use_of(org.kind)?;
        let cut = Cutoffs::parse(accept_at, decline_below)?;
        let (m, _) = self.usable_scorecard(actor, &org.id, model_id, score_use).await?;
        let row = store::RuleRow {
            id: self.new_id(),
            owner_org_id: org.id.clone(),
            score_use: score_use.code().to_owned(),
            model_id: model_id.to_owned(),
            accept_at_c: hundredths(cut.accept_at),
            decline_below_c: hundredths(cut.decline_below),
            in_force: true,
            set_by: actor.log_name(),
            set_at_us: self.now_us(),
        };
        let mut tx = self.store.begin_write().await?;
        store::set_rule(tx.conn(), &row).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "lab.admission_rule_set",
            &row.id,
            serde_json::json!({"owner": org.id, "use": score_use.code(), "model": model_id, "model_version": m.version,
                "sha256": m.sha256, "accept_at": cut.accept_at, "decline_below": cut.decline_below}),
        );
        self.finish(tx, draft).await?;
        self.admission_rule(actor).await?.ok_or(ServiceError::NotFound)
    }

    /// Ends the organisation's admission rule: scores no longer advise its decisions.
    pub async fn end_admission_rule(&self, actor: &Actor) -> Result<()> {
        let org = self.lab_owner(actor, Action::ManageModels).await?;
        let score_use = Self::score_use_of(org.kind)?;
        let mut tx = self.store.begin_write().await?;
        if !store::end_rule(tx.conn(), &org.id, score_use.code()).await? {
            return Err(conflict(
                "no_rule",
                "本机构没有生效的准入规则",
                "your organisation has no admission rule in force",
            ));
        }
        let draft = EventDraft::new(
            &actor.log_name(),
            "lab.admission_rule_ended",
            &org.id,
            serde_json::json!({"owner": org.id, "use": score_use.code()}),
        );
        self.finish(tx, draft).await.map(|_| ())
    }

    /// The organisation's admission rule in force, if any.
    pub async fn admission_rule(&self, actor: &Actor) -> Result<Option<AdmissionRule>> {
        let org = self.lab_owner(actor, Action::ReadModels).await?;
        let Ok(score_use) = Self::score_use_of(org.kind) else { return Ok(None) };
        self.rule_of(actor, &org.id, score_use).await
    }

    async fn rule_of(
        &self,
        actor: &Actor,
        owner: &str,
        score_use: ScoreUse,
    ) -> Result<Option<AdmissionRule>> {
        let mut tx = self.store.begin_read().await?;
        let Some(r) = store::rule_in_force(tx.conn(), owner, score_use.code()).await? else {
            return Ok(None);
        };
        let set_by_name = crate::audit::actor_name(&mut tx, &mut HashMap::new(), &r.set_by).await?;
        drop(tx);
        let model = self.model(actor, &r.model_id).await?;
        Ok(Some(AdmissionRule {
            id: r.id,
            owner_org_id: r.owner_org_id,
            score_use,
            model,
            accept_at: r.accept_at_c as f64 / 100.0,
            decline_below: r.decline_below_c as f64 / 100.0,
            set_by_name,
            set_at_us: r.set_at_us,
        }))
    }

    /// Scores a loan application under the bank's admission rule: stored with the model
    /// version, the inputs, the score, the decision and its reasons; an event. The bank's staff
    /// who review the loan ask for it; the officer still decides.
    pub async fn score_loan(&self, actor: &Actor, loan_id: &str) -> Result<ScoreRecord> {
        let loan = {
            let mut tx = self.store.begin_read().await?;
            kebao_store::loans::get(tx.conn(), loan_id).await?
        };
        let res = crate::loans::loan_resource(&loan);
        self.require(actor, Action::ReadLoan, &res, &crate::authz::Basis::None)?;
        if !self.allows(actor, Action::ReviewLoanAsBank, &res) {
            return Err(self.refused(actor, Action::ReviewLoanAsBank, &res));
        }
        if loan.status != kebao_domain::loan::LoanStatus::InReview {
            return Err(crate::loans::conflict(
                "wrong_status",
                format!("只在审查中评分（当前：{}）", loan.status.label_zh()),
                format!("a loan is scored only while in review (now: {})", loan.status.label_en()),
            ));
        }
        let rule = {
            let mut tx = self.store.begin_read().await?;
            store::rule_in_force(tx.conn(), &loan.bank_id, ScoreUse::Lending.code()).await?
        }
        .ok_or_else(|| {
            conflict(
                "no_rule",
                "本行没有生效的贷款准入规则：请先在风险实验室选择已批准的评分卡并设定分数线",
                "your bank has no lending admission rule in force: choose an approved scorecard and its cut-offs in the risk lab first",
            )
        })?;
        let (model, inputs) = {
            let mut tx = self.store.begin_read().await?;
            let model = kebao_store::lab::get(tx.conn(), &rule.model_id).await?;
            let b = kebao_store::lab_data::borrowers(
                tx.conn(),
                kebao_store::lab_data::Borrowers::One(&loan.enterprise_id),
            )
            .await?;
            let exp = kebao_store::lab_data::LoanExperience {
                id: loan.id.clone(),
                scheme_id: loan.scheme_id.clone(),
                enterprise_id: loan.enterprise_id.clone(),
                amount_fen: loan.amount.fen(),
                term_months: loan.term_months,
                status: loan.status.code().to_owned(),
                applied_at_us: loan.applied_at_us,
            };
            let facts = b.get(&loan.enterprise_id).cloned().unwrap_or_default();
            (model, crate::lab_data::loan_features(&exp, &facts))
        };
        if model.status != ModelStatus::Approved.code() {
            return Err(conflict(
                "not_approved",
                "准入规则所用的评分卡已不在批准状态（已停用），不能评分；请更换规则",
                "the rule's scorecard is no longer approved (retired): nothing is scored; change the rule",
            ));
        }
        let sc = kebao_scorecard::Scorecard::from_json(&model.document)
            .map_err(|e| ServiceError::Internal(format!("stored scorecard: {e}")))?;
        let (score, probability, reasons) =
            score_row(&sc, &inputs).map_err(|e| ServiceError::Internal(format!("scoring: {e}")))?;
        let cut = Cutoffs {
            accept_at: rule.accept_at_c as f64 / 100.0,
            decline_below: rule.decline_below_c as f64 / 100.0,
        };
        let decision = cut.decide(score);
        let input_json: serde_json::Map<String, serde_json::Value> =
            inputs.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
        let row = store::ScoreRow {
            id: self.new_id(),
            model_id: model.id.clone(),
            owner_org_id: loan.bank_id.clone(),
            subject_org_id: loan.enterprise_id.clone(),
            score_use: ScoreUse::Lending.code().to_owned(),
            subject_ref: Some(loan.id.clone()),
            rule_id: Some(rule.id.clone()),
            inputs: serde_json::Value::Object(input_json).to_string(),
            score_c: hundredths(score),
            probability_ppm: (probability * 1e6).round().clamp(0.0, 1e6) as i64,
            decision: Some(decision.code().to_owned()),
            reasons: serde_json::to_string(&reasons).map_err(|e| ServiceError::Internal(e.to_string()))?,
            job_id: None,
            created_by: actor.log_name(),
            created_at_us: self.now_us(),
        };
        let mut tx = self.store.begin_write().await?;
        store::insert_scores(tx.conn(), std::slice::from_ref(&row)).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "lab.scored",
            &row.id,
            serde_json::json!({"use": "lending", "loan": loan.id, "owner": loan.bank_id, "model": model.id,
                "model_version": model.version, "sha256": model.sha256, "score": score, "decision": decision.code(),
                "reasons": reasons.iter().map(|r| r.variable.clone()).collect::<Vec<_>>()}),
        );
        self.finish(tx, draft).await?;
        self.alert_on_drift(&model.id).await?;
        let mut tx = self.store.begin_read().await?;
        self.score_record(&mut tx, &mut HashMap::new(), row).await
    }

    async fn score_record(
        &self,
        tx: &mut kebao_store::ReadTx,
        names: &mut HashMap<String, String>,
        r: store::ScoreRow,
    ) -> Result<ScoreRecord> {
        let m = kebao_store::lab::get(tx.conn(), &r.model_id).await?;
        let owner_name =
            kebao_store::orgs::get(tx.conn(), &r.owner_org_id).await.map(|o| o.name).unwrap_or_default();
        let created_by_name = crate::audit::actor_name(tx, names, &r.created_by).await?;
        let inputs: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&r.inputs).unwrap_or_default();
        Ok(ScoreRecord {
            id: r.id,
            model_id: r.model_id,
            model_name: m.name,
            model_version: m.version,
            owner_org_id: r.owner_org_id,
            owner_name,
            subject_org_id: r.subject_org_id,
            score_use: ScoreUse::from_code(&r.score_use).unwrap_or(ScoreUse::Lending),
            subject_ref: r.subject_ref,
            inputs: inputs.into_iter().map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned())).collect(),
            score: r.score_c as f64 / 100.0,
            probability: r.probability_ppm as f64 / 1e6,
            decision: r.decision.as_deref().and_then(AdmissionDecision::from_code),
            reasons: serde_json::from_str(&r.reasons).unwrap_or_default(),
            created_by_name,
            created_at_us: r.created_at_us,
        })
    }

    /// The scores on a loan the actor may see: its owner's staff, and the scored enterprise's.
    /// Another institution on the same loan (the insurer, the guarantor, the zone) sees none.
    pub async fn loan_scores(&self, actor: &Actor, loan_id: &str) -> Result<Vec<ScoreRecord>> {
        let Some(own) = actor.org_id().map(str::to_owned) else { return Ok(Vec::new()) };
        let mut tx = self.store.begin_read().await?;
        let mut names = HashMap::new();
        let mut out = Vec::new();
        for r in store::scores_for_ref(tx.conn(), loan_id).await? {
            if r.owner_org_id == own || r.subject_org_id == own {
                out.push(self.score_record(&mut tx, &mut names, r).await?);
            }
        }
        Ok(out)
    }

    /// The scores of the actor's enterprise, with their reasons (its own staff).
    pub async fn my_scores(&self, actor: &Actor) -> Result<Vec<ScoreRecord>> {
        let Some(own) = actor.org_id().map(str::to_owned) else { return Ok(Vec::new()) };
        let mut tx = self.store.begin_read().await?;
        let mut names = HashMap::new();
        let mut out = Vec::new();
        for r in store::scores_of_subject(tx.conn(), &own, 100).await? {
            out.push(self.score_record(&mut tx, &mut names, r).await?);
        }
        Ok(out)
    }

    /// Whether the actor may put an admission rule in force (a bank's or an insurer's analysts).
    pub async fn may_set_admission_rule(&self, actor: &Actor) -> bool {
        match self.lab_owner(actor, Action::ManageModels).await {
            Ok(org) => Self::score_use_of(org.kind).is_ok(),
            Err(_) => false,
        }
    }

    /// Whether the actor's bank scores loans (has a lending rule in force) and may review this loan.
    pub async fn may_score_loan(&self, actor: &Actor, loan: &kebao_domain::loan::Loan) -> bool {
        if loan.status != kebao_domain::loan::LoanStatus::InReview
            || !self.allows(actor, Action::ReviewLoanAsBank, &crate::loans::loan_resource(loan))
        {
            return false;
        }
        let Ok(mut tx) = self.store.begin_read().await else { return false };
        matches!(store::rule_in_force(tx.conn(), &loan.bank_id, ScoreUse::Lending.code()).await, Ok(Some(_)))
    }
}

/// Scores many rows of inputs at once (one frame): per row, the score, the probability and the
/// top reasons.
pub fn score_rows(
    sc: &kebao_scorecard::Scorecard,
    rows: &[Vec<(String, String)>],
) -> std::result::Result<Vec<(f64, f64, Vec<ScoreReason>)>, String> {
    use kebao_scorecard::{Column, Frame};
    let mut columns = Vec::new();
    for v in &sc.variables {
        let name = v.binning.name.as_str();
        let categorical = LOAN_COLUMNS.iter().find(|c| c.name == name).is_some_and(|c| c.categorical);
        let get = |r: &Vec<(String, String)>| -> String {
            r.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
        };
        columns.push(if categorical {
            Column::Categorical {
                name: name.to_owned(),
                values: rows
                    .iter()
                    .map(|r| Some(get(r)).filter(|v| !v.is_empty() && v != "unknown"))
                    .collect(),
            }
        } else {
            Column::Numeric {
                name: name.to_owned(),
                values: rows.iter().map(|r| get(r).parse::<f64>().unwrap_or(f64::NAN)).collect(),
            }
        });
    }
    let scored = sc.score(&Frame { columns }).map_err(|e| e.to_string())?;
    Ok(scored
        .into_iter()
        .map(|s| {
            let reasons = s
                .reasons
                .into_iter()
                .map(|r| ScoreReason {
                    variable: r.variable,
                    bin: r.bin,
                    points: r.points,
                    points_lost: r.points_lost,
                })
                .collect();
            (s.score, s.probability, reasons)
        })
        .collect())
}

impl Service {
    /// Queues a batch scoring of the enterprises the owner has a footing for — the zone's lab:
    /// every enterprise; a bank: its borrowers; an insurer: its policyholders — with one of
    /// its approved scorecards that scores on the enterprise's own facts.
    pub async fn request_batch_score(&self, actor: &Actor, model_id: &str) -> Result<kebao_domain::job::Job> {
        let org = self.lab_owner(actor, Action::ManageModels).await?;
        if !matches!(org.kind, OrgKind::Government | OrgKind::Bank | OrgKind::Insurer) {
            return Err(ServiceError::NotFound);
        }
        // A batch scores on the enterprise's own registered facts: the underwriting inputs.
        let (m, _) = self.usable_scorecard(actor, &org.id, model_id, ScoreUse::Underwriting).await?;
        let params = kebao_domain::job::JobParams {
            score: Some(kebao_domain::job::BatchScoreParams { owner_org_id: org.id.clone(), model_id: m.id }),
            ..Default::default()
        };
        self.enqueue_job(actor, kebao_domain::job::JobKind::LabScore, params, Some(&org.id)).await
    }
}

/// Scores the owner's enterprises in one batch: read, score, then every score written in one
/// transaction with the job's one event (all or nothing).
pub struct BatchScoreJob;

impl crate::jobs::JobHandler for BatchScoreJob {
    fn run<'a>(
        &'a self,
        svc: &'a Service,
        ctx: &'a mut crate::jobs::JobContext,
    ) -> crate::jobs::JobFuture<'a> {
        use crate::jobs::JobStop;
        use kebao_domain::job::{JobFailure, JobResult};
        use kebao_store::lab_data::Borrowers;
        Box::pin(async move {
            let failed = |zh: &str, en: String| JobStop::Failed(JobFailure::new(zh, en));
            let Some(p) = ctx.job.params.score.clone() else {
                return Err(failed("任务缺少评分参数", "the job holds no scoring settings".into()));
            };
            let started = std::time::Instant::now();
            let mut tx = svc.store.begin_read().await.map_err(ServiceError::from)?;
            let model = kebao_store::lab::get(tx.conn(), &p.model_id).await.map_err(ServiceError::from)?;
            if model.status != ModelStatus::Approved.code() || model.owner_org_id != p.owner_org_id {
                return Err(failed(
                    "模型不在批准状态，未评分",
                    "the model is not approved: nothing scored".into(),
                ));
            }
            let owner =
                kebao_store::orgs::get(tx.conn(), &p.owner_org_id).await.map_err(ServiceError::from)?;
            let who = match owner.kind {
                OrgKind::Government => Borrowers::AllEnterprises,
                OrgKind::Bank => Borrowers::Loans(Some(&p.owner_org_id)),
                _ => Borrowers::Policies(Some(&p.owner_org_id)),
            };
            let facts = kebao_store::lab_data::borrowers(tx.conn(), who).await.map_err(ServiceError::from)?;
            drop(tx);
            let read_s = started.elapsed().as_secs_f64();
            let total = i64::try_from(facts.len()).unwrap_or(i64::MAX);
            ctx.progress(0, total, None).await?;
            let sc = kebao_scorecard::Scorecard::from_json(&model.document)
                .map_err(|e| failed("评分卡无法读取", e))?;
            let today = svc.today();
            let t = std::time::Instant::now();
            let outcome = ctx
                .run_blocking(total, move |at| {
                    let mut all: Vec<(String, kebao_store::lab_data::BorrowerFacts)> =
                        facts.into_iter().collect();
                    all.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                    let names: Vec<&str> = sc.variables.iter().map(|v| v.binning.name.as_str()).collect();
                    let rows: Vec<Vec<(String, String)>> = all
                        .iter()
                        .map(|(_, f)| {
                            crate::lab_data::enterprise_features(f, today)
                                .into_iter()
                                .filter(|(k, _)| names.contains(&k.as_str()))
                                .collect()
                        })
                        .collect();
                    let ids: Vec<String> = all.into_iter().map(|(id, _)| id).collect();
                    at.at(ids.len() as u64 / 2);
                    let scored = score_rows(&sc, &rows);
                    at.at(ids.len() as u64);
                    scored.map(|s| (ids, rows, s))
                })
                .await?;
            let (ids, rows, scored) = match outcome {
                Ok(Ok(x)) => x,
                Ok(Err(e)) => return Err(failed("评分未能完成", e)),
                Err(e) => return Err(failed("评分运行出错", e.to_string())),
            };
            let score_s = t.elapsed().as_secs_f64();
            ctx.check()?;
            let t = std::time::Instant::now();
            let now = svc.now_us();
            let by = ctx.job.requested_by.clone();
            let job_id = ctx.job.id.clone();
            let mut out = Vec::with_capacity(ids.len());
            for ((id, inputs), (score, probability, reasons)) in ids.iter().zip(rows).zip(scored) {
                let input_json: serde_json::Map<String, serde_json::Value> =
                    inputs.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
                out.push(store::ScoreRow {
                    id: svc.new_id(),
                    model_id: model.id.clone(),
                    owner_org_id: p.owner_org_id.clone(),
                    subject_org_id: id.clone(),
                    score_use: ScoreUse::Assessment.code().to_owned(),
                    subject_ref: None,
                    rule_id: None,
                    inputs: serde_json::Value::Object(input_json).to_string(),
                    score_c: hundredths(score),
                    probability_ppm: (probability * 1e6).round().clamp(0.0, 1e6) as i64,
                    decision: None,
                    reasons: serde_json::to_string(&reasons).unwrap_or_else(|_| "[]".into()),
                    job_id: Some(job_id.clone()),
                    created_by: by.clone(),
                    created_at_us: now,
                });
            }
            let mut tx = svc.store.begin_write().await.map_err(ServiceError::from)?;
            store::insert_scores(tx.conn(), &out).await.map_err(ServiceError::from)?;
            let draft = EventDraft::new(
                &by,
                "lab.batch_scored",
                &model.id,
                serde_json::json!({"job": job_id, "owner": p.owner_org_id, "model": model.id, "model_version": model.version,
                    "sha256": model.sha256, "scored": out.len()}),
            );
            svc.finish(tx, draft).await?;
            let write_s = t.elapsed().as_secs_f64();
            tracing::info!(read_s, score_s, write_s, scored = out.len(), "batch scoring");
            svc.alert_on_drift(&model.id).await?;
            let n = u64::try_from(out.len()).unwrap_or(0);
            ctx.progress(total, total, None).await?;
            let ms = |s: f64| (s * 1000.0).round() as u64;
            Ok(JobResult::BatchScored {
                model_id: model.id,
                scored: n,
                read_ms: ms(read_s),
                score_ms: ms(score_s),
                write_ms: ms(write_s),
            })
        })
    }
}
