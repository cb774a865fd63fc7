//! Replays the demo zone's generated activity (`kebao_sim::activity`) through the service:
//! each command as the person who does it (an enterprise's staff, the insurer's underwriter
//! and claims handler, the zone's mediator), with its authorisation, rules, event and ledger
//! transfers, on the demo's clock, one simulated day after another.

use anyhow::Result;
use kebao_domain::claim::{ClaimInput, ClaimOutcome};
use kebao_domain::dispute::Forum;
use kebao_domain::org::{Qualification, YearlyFacts};
use kebao_domain::policy::ApplicationStatus;
use kebao_domain::rating::QuoteInput;
use kebao_domain::user::Role;
use kebao_domain::Money;
use kebao_service::authz::Actor;
use kebao_service::products::Review;
use kebao_service::users::{AddUserOptions, NewUserInput};
use kebao_service::{FixedClock, Service};
use kebao_sim::activity::{Buyer, Command, Decision, Offer, Outcome, Plan, Rates};
use std::collections::{BTreeMap, HashMap};

const DAY_US: i64 = 86_400_000_000;

/// The reason given for a command on something an earlier refused command did not create.
const NOT_CREATED: &str = "what it acts on was not created";

/// What the replay did.
#[derive(Debug, Default)]
pub struct Summary {
    pub commands: usize,
    /// Commands the service refused (an enterprise not eligible for a product, a step that
    /// no longer applies), by kind: the zone's rules at work, not errors of the replay.
    pub refused: BTreeMap<&'static str, usize>,
    /// The first reason the service gave for each kind refused.
    pub reasons: BTreeMap<&'static str, String>,
    pub policies: usize,
    pub claims: usize,
    pub disputes: usize,
    pub subsidies: usize,
    pub consents: usize,
    pub loans: usize,
}

struct PolicyRef {
    id: Option<String>,
    application: Option<String>,
    enterprise: usize,
    insurer: usize,
    limit: Money,
    premium: Money,
    paid: Money,
    start: time::Date,
}

struct ClaimRef {
    id: String,
    policy: u32,
    claimed: Money,
}

/// The loan-premium programme the generated borrowers apply under (data/subsidy/programmes.toml).
const LOAN_PROGRAMME: &str = "loan_guarantee_premium";

struct Replay<'a> {
    svc: &'a Service,
    op: Actor,
    enterprises: Vec<(String, Money)>,
    insurer_ids: Vec<String>,
    product_ids: Vec<String>,
    staff: HashMap<String, Actor>,
    policies: HashMap<u32, PolicyRef>,
    claims: HashMap<u32, ClaimRef>,
    disputes: HashMap<u32, String>,
    mediator: Option<Actor>,
    /// The zone's reviewer and approver (the demo's own, for maker-checker).
    reviewer: Option<Actor>,
    approver: Option<Actor>,
    programme: String,
    /// The documents the programme lists (code).
    documents: Vec<String>,
    applications: HashMap<u32, String>,
    /// The amount each application asks for (fen).
    amounts: HashMap<u32, i64>,
    /// What the approver may still reserve in the programme's budget, beyond the share it
    /// keeps back (none: the programme has no budget).
    reservable_fen: Option<i64>,
    bank_ids: Vec<String>,
    /// The zone's financing guarantors (the organisations, and who acts for each).
    guarantor_ids: Vec<String>,
    /// Consent handle → (consent id, enterprise, bank).
    consents: HashMap<u32, (String, usize, usize)>,
    /// The last facts each enterprise reported.
    facts: HashMap<usize, YearlyFacts>,
    /// New enterprises ready to register, and the ids of those that did.
    newcomers: Vec<kebao_domain::org::OrganisationInput>,
    registered: HashMap<u32, String>,
    /// New product filings ready to file, and (product id, filer) of those filed.
    filing_templates: Vec<kebao_sim::products::DemoFiling>,
    filed: HashMap<u32, (String, Actor)>,
    /// Loan handle → (loan id, bank, insurer).
    loans: HashMap<u32, (String, usize, usize)>,
    /// Loan handle → the borrowing enterprise.
    borrowers: HashMap<u32, usize>,
    /// Applications for a loan's premium subsidy (their own programme and budget).
    loan_applications: std::collections::HashSet<u32>,
}

impl Replay<'_> {
    /// A person of `org_id` with `roles` who acts in the replay (added once; cannot sign in).
    async fn person(&mut self, key: String, org_id: &str, display: &str, roles: &[Role]) -> Result<Actor> {
        if let Some(a) = self.staff.get(&key) {
            return Ok(a.clone());
        }
        let user = match self.svc.find_user(&key).await {
            Ok(u) => u,
            Err(_) => {
                let input = NewUserInput {
                    username: key.clone(),
                    display_name: display.to_owned(),
                    password: "unused-no-sign-in".into(),
                };
                let opts = AddUserOptions { must_change_password: false, without_sign_in: true };
                self.svc
                    .add_user_with(&self.op, org_id, &input, roles, opts)
                    .await
                    .map_err(|e| anyhow::anyhow!("adding {key}: {e}"))?
            }
        };
        let a = self.svc.actor_for(user).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        self.staff.insert(key, a.clone());
        Ok(a)
    }

    /// The enterprise (acting), the product's id and the quote input for its cover of
    /// `limit_yuan` at its last reported revenue; none when the product was not created.
    async fn buyer_quote(
        &mut self,
        enterprise: usize,
        product: usize,
        limit_yuan: i64,
    ) -> Result<Option<(Actor, String, QuoteInput)>> {
        let who = self.enterprise(enterprise).await?;
        let revenue = self.enterprises.get(enterprise).map_or(Money::ZERO, |e| e.1);
        let q = QuoteInput { limit: Money::from_fen(limit_yuan * 100), revenue, ..Default::default() };
        Ok(self.product_ids.get(product).cloned().map(|pid| (who, pid, q)))
    }

    fn enterprises_id(&self, i: usize) -> Result<String> {
        self.enterprises.get(i).map(|e| e.0.clone()).ok_or_else(|| anyhow::anyhow!("no enterprise {i}"))
    }

    async fn enterprise(&mut self, i: usize) -> Result<Actor> {
        let org = self
            .enterprises
            .get(i)
            .map(|e| e.0.clone())
            .ok_or_else(|| anyhow::anyhow!("no enterprise {i}"))?;
        self.person(format!("sim.e{i}"), &org, "企业经办人", &[Role::EnterpriseAdmin]).await
    }

    async fn underwriter(&mut self, i: usize) -> Result<Actor> {
        let key = format!("sim.uw{i}");
        if let Some(a) = self.staff.get(&key) {
            return Ok(a.clone());
        }
        let org = self.insurer_ids.get(i).cloned().ok_or_else(|| anyhow::anyhow!("no insurer {i}"))?;
        let uw = self.person(key.clone(), &org, "核保员", &[Role::Underwriter, Role::OrgAdmin]).await?;
        // The insurer's admin gives its underwriter an authority above the largest limit.
        self.svc
            .set_underwriter_authority(&uw, &key, 100_000_000)
            .await
            .map_err(|e| anyhow::anyhow!("authority of {key}: {e}"))?;
        Ok(uw)
    }

    async fn bank_officer(&mut self, i: usize) -> Result<Actor> {
        let org = self.bank_ids.get(i).cloned().ok_or_else(|| anyhow::anyhow!("no bank {i}"))?;
        self.person(format!("sim.bank{i}"), &org, "银行客户经理", &[Role::BankOfficer]).await
    }

    async fn guarantee_officer(&mut self, org: &str) -> Result<Actor> {
        let i = self.guarantor_ids.iter().position(|g| g == org).unwrap_or(0);
        self.person(format!("sim.guarantor{i}"), org, "担保业务经理", &[Role::BankOfficer]).await
    }

    async fn handler(&mut self, i: usize) -> Result<Actor> {
        let org = self.insurer_ids.get(i).cloned().ok_or_else(|| anyhow::anyhow!("no insurer {i}"))?;
        self.person(format!("sim.claims{i}"), &org, "理赔员", &[Role::ClaimsHandler]).await
    }

    /// The policy an application bound, found among the enterprise's policies.
    async fn bound(&self, who: &Actor, application: &str) -> Option<kebao_domain::policy::Policy> {
        self.svc.my_policies(who).await.ok()?.into_iter().find(|p| p.application_id == application)
    }

    async fn record(&mut self, handle: u32, who: &Actor, a: kebao_domain::policy::Application) {
        let bound = if a.status == ApplicationStatus::Bound { self.bound(who, &a.id).await } else { None };
        if let Some(p) = self.policies.get_mut(&handle) {
            p.application = Some(a.id.clone());
            if let Some(b) = bound {
                p.id = Some(b.id);
                p.premium = b.premium;
                p.start = b.start_date;
            }
        }
    }

    /// Runs one command; `Ok(Some(reason))` when the service refused it.
    async fn run(&mut self, c: &Command) -> Result<Option<String>> {
        let today = self.svc.today();
        let refused = |e: kebao_service::ServiceError| -> Result<Option<String>> {
            match &e {
                kebao_service::ServiceError::Invalid(_)
                | kebao_service::ServiceError::Conflict(_)
                | kebao_service::ServiceError::NotFound
                | kebao_service::ServiceError::Forbidden { .. } => Ok(Some(format!("{today}: {e}"))),
                _ => Err(anyhow::anyhow!("{e}")),
            }
        };
        match c {
            Command::LoanApply { .. }
            | Command::LoanReview { .. }
            | Command::LoanApprove { .. }
            | Command::LoanPolicy { .. }
            | Command::LoanDisburse { .. }
            | Command::LoanRepay { .. }
            | Command::LoanClaim { .. }
            | Command::LoanClaimPay { .. }
            | Command::LoanGuaranteePay { .. }
            | Command::LoanRecover { .. }
            | Command::LoanSubsidy { .. }
            | Command::FundSettle => self.run_loan(c).await,
            Command::Quote { enterprise, product, limit_yuan } => {
                let Some((who, pid, q)) = self.buyer_quote(*enterprise, *product, *limit_yuan).await? else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                match self.svc.quote(&who, &pid, &q, None).await {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::Apply { enterprise, product, limit_yuan, policy } => {
                let Some((who, pid, q)) = self.buyer_quote(*enterprise, *product, *limit_yuan).await? else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                self.policies.insert(
                    *policy,
                    PolicyRef {
                        id: None,
                        application: None,
                        enterprise: *enterprise,
                        insurer: 0,
                        limit: q.limit,
                        premium: Money::ZERO,
                        paid: Money::ZERO,
                        start: today,
                    },
                );
                match self.svc.apply_for_policy(&who, &pid, &q, &today.to_string()).await {
                    Ok(a) => {
                        let insurer = self.insurer_ids.iter().position(|i| *i == a.insurer_id).unwrap_or(0);
                        if let Some(p) = self.policies.get_mut(policy) {
                            p.insurer = insurer;
                        }
                        self.record(*policy, &who, a).await;
                        Ok(None)
                    }
                    Err(e) => refused(e),
                }
            }
            Command::Renew { policy, renewal } => {
                let Some(old) = self.policies.get(policy) else { return Ok(Some(NOT_CREATED.into())) };
                let Some(old_id) = old.id.clone() else { return Ok(Some(NOT_CREATED.into())) };
                let (enterprise, insurer, limit) = (old.enterprise, old.insurer, old.limit);
                let who = self.enterprise(enterprise).await?;
                self.policies.insert(
                    *renewal,
                    PolicyRef {
                        id: None,
                        application: None,
                        enterprise,
                        insurer,
                        limit,
                        premium: Money::ZERO,
                        paid: Money::ZERO,
                        start: today,
                    },
                );
                match self.svc.renew_policy(&who, &old_id).await {
                    Ok(a) => {
                        self.record(*renewal, &who, a).await;
                        Ok(None)
                    }
                    Err(e) => refused(e),
                }
            }
            Command::Underwrite { policy } => {
                let Some(p) = self.policies.get(policy) else { return Ok(Some(NOT_CREATED.into())) };
                if p.id.is_some() {
                    return Ok(None);
                }
                let Some(app) = p.application.clone() else { return Ok(Some(NOT_CREATED.into())) };
                let (insurer, enterprise) = (p.insurer, p.enterprise);
                let uw = self.underwriter(insurer).await?;
                match self
                    .svc
                    .decide_application(&uw, &app, kebao_domain::policy::ApplicationStep::Accept, "")
                    .await
                {
                    Ok(a) => {
                        let who = self.enterprise(enterprise).await?;
                        self.record(*policy, &who, a).await;
                        Ok(None)
                    }
                    Err(e) => refused(e),
                }
            }
            Command::PayPremium { policy, share_bp, instalment } => {
                let Some(p) = self.policies.get(policy) else { return Ok(Some(NOT_CREATED.into())) };
                let Some(id) = p.id.clone() else { return Ok(Some(NOT_CREATED.into())) };
                let due = p.premium.fen() - p.paid.fen();
                let amount = Money::from_fen(due * i64::from(*share_bp) / 10_000);
                if amount <= Money::ZERO {
                    return Ok(None);
                }
                let uw = self.underwriter(p.insurer).await?;
                let reference = format!("SIM-{policy}-{instalment}");
                match self.svc.record_premium_paid(&uw, &id, amount, &reference).await {
                    Ok(()) => {
                        if let Some(p) = self.policies.get_mut(policy) {
                            p.paid = Money::from_fen(p.paid.fen() + amount.fen());
                        }
                        Ok(None)
                    }
                    Err(e) => refused(e),
                }
            }
            Command::Cancel { policy } => {
                let Some(p) = self.policies.get(policy) else { return Ok(Some(NOT_CREATED.into())) };
                let Some(id) = p.id.clone() else { return Ok(Some(NOT_CREATED.into())) };
                let (enterprise, insurer) = (p.enterprise, p.insurer);
                let who = self.enterprise(enterprise).await?;
                match self.svc.cancel_policy(&who, &id, &today.to_string(), "业务调整，不再需要该保障").await
                {
                    Ok(out) => {
                        if out.refund_fen > 0 {
                            let uw = self.underwriter(insurer).await?;
                            let r = self
                                .svc
                                .record_refund_paid(
                                    &uw,
                                    &id,
                                    Money::from_fen(out.refund_fen),
                                    &format!("SIM-R-{policy}"),
                                )
                                .await;
                            if let Err(e) = r {
                                return refused(e);
                            }
                        }
                        Ok(None)
                    }
                    Err(e) => refused(e),
                }
            }
            Command::Endorse { policy, limit_pct } => {
                let Some(p) = self.policies.get(policy) else { return Ok(Some(NOT_CREATED.into())) };
                let Some(id) = p.id.clone() else { return Ok(Some(NOT_CREATED.into())) };
                let (insurer, enterprise) = (p.insurer, p.enterprise);
                let limit = Money::from_fen(p.limit.fen() / 100 * i64::from(*limit_pct));
                let revenue = self.enterprises.get(enterprise).map_or(Money::ZERO, |e| e.1);
                let uw = self.underwriter(insurer).await?;
                let q = QuoteInput { limit, revenue, ..Default::default() };
                let reason = if *limit_pct > 100 {
                    "企业扩大生产规模，提高责任限额"
                } else {
                    "项目收缩，降低责任限额"
                };
                match self.svc.endorse_policy(&uw, &id, &q, &today.to_string(), reason).await {
                    Ok(_) => {
                        if let Some(p) = self.policies.get_mut(policy) {
                            p.limit = limit;
                        }
                        Ok(None)
                    }
                    Err(e) => refused(e),
                }
            }
            Command::ApplySubsidy { policy, application } => {
                let Some(p) = self.policies.get(policy) else { return Ok(Some(NOT_CREATED.into())) };
                let Some(id) = p.id.clone() else { return Ok(Some(NOT_CREATED.into())) };
                let who = self.enterprise(p.enterprise).await?;
                let decl = kebao_service::subsidies::Declarations::default();
                match self.svc.apply_subsidy(&who, &id, &self.programme, "", &decl).await {
                    Ok(a) => {
                        for code in &self.documents {
                            let body = format!("%PDF-1.4\n% {code} ({})\n", a.id).into_bytes();
                            if let Err(e) = self
                                .svc
                                .add_subsidy_document(&who, &a.id, code, &format!("{code}.pdf"), &body)
                                .await
                            {
                                return refused(e);
                            }
                        }
                        self.amounts.insert(*application, a.amount.fen());
                        self.applications.insert(*application, a.id);
                        Ok(None)
                    }
                    Err(e) => refused(e),
                }
            }
            Command::LocalReview { application, pass } => {
                let (Some(id), Some(r)) =
                    (self.applications.get(application).cloned(), self.reviewer.clone())
                else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let reason = if *pass {
                    ""
                } else {
                    "申请材料与保单信息不一致，请核对后重新申请"
                };
                match self.svc.subsidy_local_review(&r, &id, *pass, reason).await {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::DepartmentReview { application } => {
                let (Some(id), Some(a)) =
                    (self.applications.get(application).cloned(), self.approver.clone())
                else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                // Over what the zone office lets the approver reserve: turned down.
                let amount = self.amounts.get(application).copied().unwrap_or(0);
                let loan = self.loan_applications.contains(application);
                let pass = loan || !matches!(self.reservable_fen, Some(left) if left < amount);
                let reason = if pass { "" } else { "本期补贴预算已安排完毕，不予公示" };
                match self.svc.subsidy_department_review(&a, &id, pass, reason).await {
                    Ok(_) => {
                        if let (true, false, Some(left)) = (pass, loan, self.reservable_fen.as_mut()) {
                            *left -= amount;
                        }
                        Ok(None)
                    }
                    Err(e) => refused(e),
                }
            }
            Command::ApproveSubsidy { application } => {
                let (Some(id), Some(a)) =
                    (self.applications.get(application).cloned(), self.approver.clone())
                else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                match self.svc.approve_subsidy(&a, &id).await {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::DisburseSubsidy { application } => {
                let (Some(id), Some(a)) =
                    (self.applications.get(application).cloned(), self.approver.clone())
                else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                match self.svc.disburse_subsidy(&a, &id, &format!("SIM-S-{application}")).await {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::GrantConsent { enterprise, bank, consent } => {
                let Some(ent_id) = self.enterprises.get(*enterprise).map(|e| e.0.clone()) else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let Some(bank_id) = self.bank_ids.get(*bank).cloned() else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let who = self.enterprise(*enterprise).await?;
                let input = kebao_domain::consent::ConsentInput {
                    grantee_id: bank_id,
                    kind: "enterprise".into(),
                    scopes: ["profile", "financial_facts", "ip", "loans"]
                        .iter()
                        .map(|s| (*s).to_owned())
                        .collect(),
                    purpose: "loan_review".into(),
                    valid_from: today.to_string(),
                    expires_on: (today + time::Duration::days(180)).to_string(),
                    signer_name: "企业法定代表人".into(),
                    signer_title: "法定代表人".into(),
                    person_name: String::new(),
                    person_role: String::new(),
                };
                let evidence = "企业信用信息查询授权书\n授权银行为贷款审查查询本企业信用信息。".as_bytes();
                match self.svc.grant_consent(&who, &ent_id, &input, "查询授权书.txt", evidence).await {
                    Ok(v) => {
                        self.consents.insert(*consent, (v.consent.id, *enterprise, *bank));
                        Ok(None)
                    }
                    Err(e) => refused(e),
                }
            }
            Command::CreditQuery { consent } => {
                let Some((_, enterprise, bank)) = self.consents.get(consent).cloned() else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let Some(ent_id) = self.enterprises.get(enterprise).map(|e| e.0.clone()) else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let officer = self.bank_officer(bank).await?;
                match self
                    .svc
                    .credit_report(&officer, &ent_id, kebao_domain::consent::Purpose::LoanReview)
                    .await
                {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::ReportFacts { enterprise, year, revenue_pct, staff_pct } => {
                let Some(last) = self.facts.get(enterprise).cloned() else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let scale = |m: Money, pct: i32| Money::from_fen(m.fen() / 100 * i64::from(100 + pct));
                let count = |n: u32, pct: i32| {
                    u32::try_from(i64::from(n) * i64::from(100 + pct) / 100).unwrap_or(n).max(1)
                };
                let staff = count(last.staff, *staff_pct);
                let facts = YearlyFacts {
                    year: *year,
                    revenue: scale(last.revenue, *revenue_pct),
                    rnd_expense: scale(last.rnd_expense, *revenue_pct),
                    staff,
                    rnd_staff: count(last.rnd_staff, *staff_pct).min(staff),
                    patents_granted: last.patents_granted + u32::from(*revenue_pct > 10),
                    patents_pending: last.patents_pending,
                    export_share_bp: last.export_share_bp,
                };
                let who = self.enterprise(*enterprise).await?;
                match self.svc.put_facts(&who, &self.enterprises_id(*enterprise)?, facts).await {
                    Ok(f) => {
                        self.facts.insert(*enterprise, f);
                        Ok(None)
                    }
                    Err(e) => refused(e),
                }
            }
            Command::RenewQualification { enterprise, kind, from_year, to_year } => {
                let cert = format!(
                    "{}{from_year}{enterprise:06}",
                    kind.to_ascii_uppercase().get(..2).unwrap_or("QX")
                );
                let q = match Qualification::parse(
                    kind,
                    &format!("{from_year}-01-01"),
                    &format!("{to_year}-12-31"),
                    &cert,
                ) {
                    Ok(q) => q,
                    Err(e) => return refused(e.into()),
                };
                let who = self.enterprise(*enterprise).await?;
                match self.svc.add_qualification(&who, &self.enterprises_id(*enterprise)?, q).await {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::Register { registration } => {
                let Some(input) = usize::try_from(*registration).ok().and_then(|i| self.newcomers.get(i))
                else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let admin = NewUserInput {
                    username: format!("sim.new{registration}"),
                    display_name: "新入驻企业管理员".into(),
                    password: kebao_sim::DEMO_PASSWORD.into(),
                };
                match self.svc.register_self(input, &admin).await {
                    Ok((org, _)) => {
                        self.registered.insert(*registration, org.id);
                        Ok(None)
                    }
                    Err(e) => refused(e),
                }
            }
            Command::FileProduct { filing } => {
                let Some(f) =
                    usize::try_from(*filing).ok().and_then(|i| self.filing_templates.get(i)).cloned()
                else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let insurer = match self.svc.org_id_by_uscc(&self.op, &f.insurer_uscc).await {
                    Ok(Some(id)) => id,
                    Ok(None) => return Ok(Some(NOT_CREATED.into())),
                    Err(e) => return refused(e),
                };
                let key = format!(
                    "sim.filer.{}",
                    f.insurer_uscc.get(10..).unwrap_or_default().to_ascii_lowercase()
                );
                let filer = self.person(key, &insurer, "产品备案员", &[Role::ProductFiler]).await?;
                let mut input = f.input.clone();
                input.name = format!("{}（{}年版）", input.name, today.year());
                let plan = crate::demo::demo_plan(&self.svc.catalogue(), &input.type_id);
                let filed = async {
                    let id = self.svc.file_product(&filer, &insurer, &input).await?;
                    self.svc.add_product_document(&filer, &id, &f.document.0, &f.document.1).await?;
                    self.svc.file_rating_plan(&filer, &id, &today.to_string(), plan).await?;
                    self.svc.submit_product(&filer, &id).await?;
                    Ok::<_, kebao_service::ServiceError>(id)
                };
                match filed.await {
                    Ok(id) => {
                        self.filed.insert(*filing, (id, filer));
                        Ok(None)
                    }
                    Err(e) => refused(e),
                }
            }
            Command::ReviewFiling { filing, decision } => {
                let Some((id, _)) = self.filed.get(filing).cloned() else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let Some(reviewer) = self.reviewer.clone() else { return Ok(Some(NOT_CREATED.into())) };
                let reason = self
                    .filing_templates
                    .get(usize::try_from(*filing).unwrap_or(usize::MAX))
                    .map(|f| f.reason.clone())
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| "请补充费率厘定依据及免责条款的通俗解释".into());
                let review = match decision {
                    Decision::Approve => Review::Approve,
                    Decision::RequestChanges => Review::RequestChanges { reason },
                    Decision::Reject => Review::Reject { reason },
                };
                let items: Vec<String> =
                    kebao_domain::product::CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect();
                let reviewed = async {
                    if *decision == Decision::Approve {
                        self.svc.set_product_checklist(&reviewer, &id, &items).await?;
                    }
                    self.svc.review_product(&reviewer, &id, &review).await
                };
                match reviewed.await {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::ResubmitFiling { filing } | Command::PublishFiling { filing } => {
                let Some((id, filer)) = self.filed.get(filing).cloned() else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let done = if matches!(c, Command::ResubmitFiling { .. }) {
                    self.svc.submit_product(&filer, &id).await
                } else {
                    self.svc.publish_product(&filer, &id).await
                };
                match done {
                    Ok(()) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::Verify { registration, approve } => {
                let Some(id) = self.registered.get(registration).cloned() else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let Some(reviewer) = self.reviewer.clone() else { return Ok(Some(NOT_CREATED.into())) };
                match self.svc.verify_org(&reviewer, &id, *approve).await {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::RevokeConsent { consent } => {
                let Some((id, enterprise, _)) = self.consents.get(consent).cloned() else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let who = self.enterprise(enterprise).await?;
                match self.svc.revoke_consent(&who, &id).await {
                    Ok(()) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::ReportClaim { policy, claim, claimed_share_bp, days_ago } => {
                let Some(p) = self.policies.get(policy) else { return Ok(Some(NOT_CREATED.into())) };
                let Some(id) = p.id.clone() else { return Ok(Some(NOT_CREATED.into())) };
                let claimed =
                    Money::from_fen((p.limit.fen() * i64::from(*claimed_share_bp) / 10_000).max(10_000));
                let loss = (today - time::Duration::days(i64::from(*days_ago))).max(p.start);
                let who = self.enterprise(p.enterprise).await?;
                let input = ClaimInput::new(&loss.to_string(), "设备故障导致损失，详见出险报告", claimed);
                match self.svc.report_claim(&who, &id, &input).await {
                    Ok(c) => {
                        self.claims.insert(*claim, ClaimRef { id: c.id, policy: *policy, claimed });
                        Ok(None)
                    }
                    Err(e) => refused(e),
                }
            }
            Command::AssessClaim { claim } => {
                let Some((id, h, claimed)) = self.claim_parts(*claim) else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let handler = self.handler(h).await?;
                if let Err(e) = self.svc.assign_claim(&handler, &id).await {
                    return refused(e);
                }
                match self.svc.set_claim_reserve(&handler, &id, claimed).await {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::DecideClaim { claim, outcome, share_bp } => {
                let Some((id, h, claimed)) = self.claim_parts(*claim) else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let handler = self.handler(h).await?;
                let (o, amount, reason) = match outcome {
                    Outcome::Full => (ClaimOutcome::Pay, Money::ZERO, "属于保险责任，按条款足额赔付"),
                    Outcome::Partial => (
                        ClaimOutcome::Partial,
                        Money::from_fen(claimed.fen() * i64::from(*share_bp) / 10_000),
                        "部分损失不属保险责任，按核定金额赔付",
                    ),
                    Outcome::Denied => (ClaimOutcome::Deny, Money::ZERO, "损失原因属除外责任"),
                };
                match self.svc.decide_claim(&handler, &id, o, amount, reason).await {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::PayClaim { claim } => {
                let Some((id, h, _)) = self.claim_parts(*claim) else { return Ok(Some(NOT_CREATED.into())) };
                let handler = self.handler(h).await?;
                let view = match self.svc.claim(&handler, &id).await {
                    Ok(v) => v,
                    Err(e) => return refused(e),
                };
                let owed = Money::from_fen(view.claim.decided.fen() - view.claim.paid.fen());
                if owed <= Money::ZERO {
                    return Ok(None);
                }
                match self.svc.pay_claim(&handler, &id, owed, &format!("SIM-C-{claim}")).await {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::CloseClaim { claim } => {
                let Some((id, h, _)) = self.claim_parts(*claim) else { return Ok(Some(NOT_CREATED.into())) };
                let handler = self.handler(h).await?;
                match self.svc.close_claim(&handler, &id).await {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::Complain { claim, dispute } => {
                let Some(c) = self.claims.get(claim) else { return Ok(Some(NOT_CREATED.into())) };
                let (id, policy) = (c.id.clone(), c.policy);
                let Some(enterprise) = self.policies.get(&policy).map(|p| p.enterprise) else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let who = self.enterprise(enterprise).await?;
                match self.svc.complain(&who, &id, "对理赔决定有异议，请求调解").await {
                    Ok(d) => {
                        self.disputes.insert(*dispute, d.id);
                        Ok(None)
                    }
                    Err(e) => refused(e),
                }
            }
            Command::Mediate { dispute } => {
                let (Some(id), Some(m)) = (self.disputes.get(dispute).cloned(), self.mediator.clone()) else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                if let Err(e) = self.svc.take_dispute(&m, &id).await {
                    return refused(e);
                }
                match self
                    .svc
                    .record_session(&m, &id, &today.to_string(), "双方到场陈述，约定补充材料后再议")
                    .await
                {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::Conclude { dispute, settled } => {
                let (Some(id), Some(m)) = (self.disputes.get(dispute).cloned(), self.mediator.clone()) else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let (forum, outcome) = if *settled {
                    (None, "双方达成和解，保险机构补充赔付部分损失")
                } else {
                    (Some(Forum::Arbitration), "调解未成，当事人申请仲裁")
                };
                match self.svc.conclude_dispute(&m, &id, *settled, forum, outcome).await {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
        }
    }

    /// Runs a loan command (`run` hands them here).
    async fn run_loan(&mut self, c: &Command) -> Result<Option<String>> {
        let today = self.svc.today();
        let refused = |e: kebao_service::ServiceError| -> Result<Option<String>> {
            match &e {
                kebao_service::ServiceError::Invalid(_)
                | kebao_service::ServiceError::Conflict(_)
                | kebao_service::ServiceError::NotFound
                | kebao_service::ServiceError::Forbidden { .. } => Ok(Some(format!("{today}: {e}"))),
                _ => Err(anyhow::anyhow!("{e}")),
            }
        };
        let loan_of = |r: &Self, loan: &u32| r.loans.get(loan).cloned();
        match c {
            Command::LoanApply {
                loan,
                enterprise,
                bank,
                insurer,
                scheme,
                amount_yuan,
                term_months,
                rate_pct,
                premium_rate_pct,
                guarantor,
            } => {
                let guarantor_id = match guarantor {
                    Some(g) => match self.guarantor_ids.get(*g) {
                        Some(id) => id.clone(),
                        None => return Ok(Some(NOT_CREATED.into())),
                    },
                    None => String::new(),
                };
                let (Ok(ent_id), Some(bank_id), Some(insurer_id)) = (
                    self.enterprises_id(*enterprise),
                    self.bank_ids.get(*bank).cloned(),
                    self.insurer_ids.get(*insurer).cloned(),
                ) else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let who = self.enterprise(*enterprise).await?;
                for (to, purpose, text) in [
                    (&bank_id, "loan_review", "授权银行为贷款审查查询本企业信息。"),
                    (&insurer_id, "underwriting", "授权保险机构为贷款保证保险承保审核查询本企业信息。"),
                ] {
                    let input = kebao_domain::consent::ConsentInput {
                        grantee_id: to.clone(),
                        kind: "enterprise".into(),
                        scopes: ["profile", "financial_facts", "loans"]
                            .iter()
                            .map(|s| (*s).to_owned())
                            .collect(),
                        purpose: purpose.into(),
                        valid_from: today.to_string(),
                        expires_on: (today + time::Duration::days(365)).to_string(),
                        signer_name: "企业法定代表人".into(),
                        signer_title: "法定代表人".into(),
                        person_name: String::new(),
                        person_role: String::new(),
                    };
                    let evidence = format!("企业信息查询授权书\n{text}");
                    if let Err(e) =
                        self.svc.grant_consent(&who, &ent_id, &input, "授权书.txt", evidence.as_bytes()).await
                    {
                        return refused(e);
                    }
                }
                let input = kebao_service::loans::LoanInput {
                    scheme_id: scheme.clone(),
                    bank_id,
                    insurer_id,
                    guarantor_id,
                    amount_yuan: amount_yuan.to_string(),
                    term_months: term_months.to_string(),
                    rate_pct: rate_pct.clone(),
                    premium_rate_pct: premium_rate_pct.clone(),
                    method: "bullet".into(),
                    funds_use: "working_capital".into(),
                    pledges: Vec::new(),
                };
                match self.svc.apply_loan(&who, &ent_id, &input).await {
                    Ok(l) => {
                        self.loans.insert(*loan, (l.id, *bank, *insurer));
                        self.borrowers.insert(*loan, *enterprise);
                        Ok(None)
                    }
                    Err(e) => refused(e),
                }
            }
            Command::LoanReview { loan, bank: as_bank, approve } => {
                let Some((id, bank, insurer)) = loan_of(self, loan) else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let who =
                    if *as_bank { self.bank_officer(bank).await? } else { self.underwriter(insurer).await? };
                let reason = if *approve { "" } else { "经营现金流不足以覆盖还款（演示）" };
                match self.svc.decide_loan(&who, &id, *approve, reason).await {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::LoanApprove { loan } => {
                let (Some((id, _, _)), Some(a)) = (loan_of(self, loan), self.approver.clone()) else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                // Only where the scheme asks the zone to approve.
                match self.svc.loan(&a, &id).await {
                    Ok(v) if v.may_decide.is_some() => match self.svc.decide_loan(&a, &id, true, "").await {
                        Ok(_) => Ok(None),
                        Err(e) => refused(e),
                    },
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::LoanPolicy { loan } => {
                let Some((id, _, insurer)) = loan_of(self, loan) else { return Ok(Some(NOT_CREATED.into())) };
                let who = self.underwriter(insurer).await?;
                let number = format!("LGI-{}-{:06}", today.year(), loan);
                match self
                    .svc
                    .issue_loan_policy(&who, &id, &number, &format!("PREM-{number}"), &today.to_string())
                    .await
                {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::LoanDisburse { loan } => {
                let Some((id, bank, _)) = loan_of(self, loan) else { return Ok(Some(NOT_CREATED.into())) };
                let who = self.bank_officer(bank).await?;
                match self.svc.disburse_loan(&who, &id, &today.to_string()).await {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::LoanRepay { loan, n } => {
                let Some((id, bank, _)) = loan_of(self, loan) else { return Ok(Some(NOT_CREATED.into())) };
                let who = self.bank_officer(bank).await?;
                let due = match self.svc.loan(&who, &id).await {
                    Ok(v) => v.servicing.map_or(Money::ZERO, |s| {
                        // What has fallen due by today and is unpaid; the last payment clears the loan.
                        let owed: i64 = s
                            .schedule
                            .iter()
                            .zip(&s.paid)
                            .filter(|(i, _)| i.due_on <= today)
                            .map(|(i, a)| {
                                (i.interest.fen() - a.interest.fen())
                                    + (i.principal.fen() - a.principal.fen())
                            })
                            .sum();
                        Money::from_fen(owed)
                    }),
                    Err(e) => return refused(e),
                };
                if due.fen() <= 0 {
                    return Ok(None);
                }
                let reference = format!("SIM-{loan}-{n}");
                match self
                    .svc
                    .record_repayment(&who, &id, &reference, &due.to_yuan_string(), &today.to_string())
                    .await
                {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::LoanClaim { loan } => {
                let Some((id, bank, _)) = loan_of(self, loan) else { return Ok(Some(NOT_CREATED.into())) };
                let who = self.bank_officer(bank).await?;
                match self.svc.file_loan_claim(&who, &id, true).await {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::LoanClaimPay { loan } => {
                let Some((id, _, insurer)) = loan_of(self, loan) else { return Ok(Some(NOT_CREATED.into())) };
                let who = self.underwriter(insurer).await?;
                match self
                    .svc
                    .pay_loan_claim(&who, &id, &format!("CLAIMPAY-{loan}"), &today.to_string())
                    .await
                {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::LoanGuaranteePay { loan } => {
                let Some((id, _, _)) = loan_of(self, loan) else { return Ok(Some(NOT_CREATED.into())) };
                let guarantor = match self.svc.loan(&self.op, &id).await {
                    Ok(v) => v.loan.guarantor_id.unwrap_or_default(),
                    Err(e) => return refused(e),
                };
                let who = self.guarantee_officer(&guarantor).await?;
                match self
                    .svc
                    .pay_loan_guarantee(&who, &id, &format!("GUARANTEE-{loan}"), &today.to_string())
                    .await
                {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::LoanRecover { loan, share_bp } => {
                let Some((id, bank, _)) = loan_of(self, loan) else { return Ok(Some(NOT_CREATED.into())) };
                let who = self.bank_officer(bank).await?;
                let loss = match self.svc.loan(&who, &id).await {
                    Ok(v) => v.claim.map_or(0, |c| c.loss_base.fen()),
                    Err(e) => return refused(e),
                };
                let amount = Money::from_fen(loss * i64::from(*share_bp) / 10_000);
                if amount.fen() <= 0 {
                    return Ok(None);
                }
                match self
                    .svc
                    .record_recovery(
                        &who,
                        &id,
                        &format!("REC-{loan}"),
                        &amount.to_yuan_string(),
                        &today.to_string(),
                    )
                    .await
                {
                    Ok(_) => Ok(None),
                    Err(e) => refused(e),
                }
            }
            Command::LoanSubsidy { loan, application } => {
                let (Some((id, _, _)), Some(&e)) = (loan_of(self, loan), self.borrowers.get(loan)) else {
                    return Ok(Some(NOT_CREATED.into()));
                };
                let who = self.enterprise(e).await?;
                match self.svc.apply_loan_subsidy(&who, &id, LOAN_PROGRAMME).await {
                    Ok(a) => {
                        self.amounts.insert(*application, a.amount.fen());
                        self.applications.insert(*application, a.id);
                        self.loan_applications.insert(*application);
                        Ok(None)
                    }
                    Err(e) => refused(e),
                }
            }
            Command::FundSettle => {
                let Some(a) = self.approver.clone() else { return Ok(Some(NOT_CREATED.into())) };
                let funds = match self.svc.loan_funds(&a).await {
                    Ok(f) => f,
                    Err(e) => return refused(e),
                };
                for f in funds {
                    for (i, d) in f.due.iter().filter(|d| !d.provisional).enumerate() {
                        let input = kebao_service::loan_money::FundPaymentInput {
                            scheme_id: f.scheme.id.clone(),
                            year: d.year.to_string(),
                            loan_id: d.loan_id.clone().unwrap_or_default(),
                            payee_id: d.payee_id.clone(),
                            reference: format!("FUND-{}-{today}-{i}", f.scheme.id),
                            paid_on: today.to_string(),
                        };
                        if let Err(e) = self.svc.pay_loan_fund(&a, &input).await {
                            return refused(e);
                        }
                    }
                }
                Ok(None)
            }
            _ => Ok(Some("not a loan command".into())),
        }
    }

    fn claim_parts(&self, claim: u32) -> Option<(String, usize, Money)> {
        let c = self.claims.get(&claim)?;
        let p = self.policies.get(&c.policy)?;
        Some((c.id.clone(), p.insurer, c.claimed))
    }
}

fn kind(c: &Command) -> &'static str {
    match c {
        Command::Quote { .. } => "quote",
        Command::Apply { .. } => "apply",
        Command::Underwrite { .. } => "underwrite",
        Command::PayPremium { .. } => "premium",
        Command::Renew { .. } => "renew",
        Command::Cancel { .. } => "cancel",
        Command::Endorse { .. } => "endorse",
        Command::GrantConsent { .. } => "consent",
        Command::CreditQuery { .. } => "credit_query",
        Command::RevokeConsent { .. } => "revoke_consent",
        Command::ReportFacts { .. } => "report_facts",
        Command::RenewQualification { .. } => "renew_qualification",
        Command::Register { .. } => "register",
        Command::FileProduct { .. } => "file_product",
        Command::ReviewFiling { .. } => "review_filing",
        Command::ResubmitFiling { .. } => "resubmit_filing",
        Command::PublishFiling { .. } => "publish_filing",
        Command::LoanApply { .. } => "loan_apply",
        Command::LoanReview { .. } => "loan_review",
        Command::LoanApprove { .. } => "loan_approve",
        Command::LoanPolicy { .. } => "loan_policy",
        Command::LoanDisburse { .. } => "loan_disburse",
        Command::LoanRepay { .. } => "loan_repay",
        Command::LoanClaim { .. } => "loan_claim",
        Command::LoanClaimPay { .. } => "loan_claim_pay",
        Command::LoanRecover { .. } => "loan_recover",
        Command::FundSettle => "fund_settle",
        Command::LoanSubsidy { .. } => "loan_subsidy",
        Command::LoanGuaranteePay { .. } => "loan_guarantee_pay",
        Command::Verify { .. } => "verify",
        Command::ApplySubsidy { .. } => "apply_subsidy",
        Command::LocalReview { .. } => "local_review",
        Command::DepartmentReview { .. } => "department_review",
        Command::ApproveSubsidy { .. } => "approve_subsidy",
        Command::DisburseSubsidy { .. } => "disburse_subsidy",
        Command::ReportClaim { .. } => "claim",
        Command::AssessClaim { .. } => "assess",
        Command::DecideClaim { .. } => "decide",
        Command::PayClaim { .. } => "pay_claim",
        Command::CloseClaim { .. } => "close_claim",
        Command::Complain { .. } => "complain",
        Command::Mediate { .. } => "mediate",
        Command::Conclude { .. } => "conclude",
    }
}

/// Generates `years` of activity for the imported zone and replays it on `clock`, which
/// moves one day per simulated day. `progress` is told (done, total) as days pass.
pub async fn replay(
    svc: &Service,
    clock: &FixedClock,
    zone: &kebao_sim::Zone,
    seed: u64,
    years: u32,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Summary> {
    let op = Actor::System { name: "demo".into() };
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{e}");
    // The products on offer: every published one, with the stages its filing covers.
    let mut offers = Vec::new();
    let mut product_ids = Vec::new();
    let mut insurer_ids: Vec<String> = Vec::new();
    let mut page = 1;
    loop {
        let q = kebao_service::products::PortalQuery { page, per_page: 100, ..Default::default() };
        let p = svc.portal(&q).await.map_err(err)?;
        for it in &p.items {
            let insurer = match insurer_ids.iter().position(|i| *i == it.product.insurer_id) {
                Some(i) => i,
                None => {
                    insurer_ids.push(it.product.insurer_id.clone());
                    insurer_ids.len() - 1
                }
            };
            offers.push(Offer {
                type_id: it.product.type_id.clone(),
                stages: it.version.content.eligibility.stages.iter().map(|s| s.code().to_owned()).collect(),
                insurer,
                qualifications: it
                    .version
                    .content
                    .eligibility
                    .qualifications
                    .iter()
                    .map(|q| q.code().to_owned())
                    .collect(),
                industries: it.version.content.eligibility.industries.clone(),
            });
            product_ids.push(it.product.id.clone());
        }
        if page >= p.pages {
            break;
        }
        page += 1;
    }
    // The buyers: the zone's registered enterprises, with their stage, size and revenue.
    let mut buyers = Vec::new();
    let mut enterprises = Vec::new();
    let mut facts = HashMap::new();
    // The showcase's enterprises (those with demo logins) keep the history the showcase gives them.
    let showcase: Vec<&str> = zone.users.iter().map(|u| u.org_uscc.as_str()).collect();
    for row in
        zone.orgs.iter().filter(|r| r.org.kind == "enterprise" && !showcase.contains(&r.org.uscc.as_str()))
    {
        let Some(id) = svc.org_id_by_uscc(&op, &row.org.uscc).await.map_err(err)? else { continue };
        let last = row.facts.iter().max_by_key(|f| f.year.clone());
        let staff = last.and_then(|f| f.staff.parse::<f64>().ok()).unwrap_or(30.0);
        let revenue = last
            .and_then(|f| Money::parse_yuan(&f.revenue_yuan, "revenue").ok())
            .unwrap_or(Money::from_fen(3_000_000_000));
        let year = |d: &str| d.get(..4).and_then(|y| y.parse::<i32>().ok());
        let qualifications = row
            .qualifications
            .iter()
            .filter_map(|q| Some((q[0].clone(), year(&q[1])?, year(&q[2])?)))
            .collect();
        let industries = match kebao_domain::IndustryCode::parse(&row.org.industry_code) {
            Ok(code) => svc.industries().tags_for(&code).into_iter().map(str::to_owned).collect(),
            Err(_) => Vec::new(),
        };
        let reported = last.and_then(|f| YearlyFacts::parse(f).ok());
        let facts_year = reported.as_ref().map(|f| f.year);
        if let Some(f) = reported {
            facts.insert(enterprises.len(), f);
        }
        buyers.push(Buyer {
            stage: row.org.lifecycle_stage.clone(),
            staff,
            qualifications,
            industries,
            facts_year,
        });
        enterprises.push((id, revenue));
    }
    let rates = Rates::parse(kebao_sim::activity::RATES).map_err(|e| anyhow::anyhow!(e))?;
    // New products the Hubei branches file over the years.
    let filing_insurers: Vec<(String, String)> = zone
        .orgs
        .iter()
        .filter(|o| o.org.kind == "insurer" && o.org.name.ends_with("湖北分公司"))
        .map(|o| (o.org.uscc.clone(), o.org.name.clone()))
        .collect();
    let filing_templates =
        kebao_sim::products::filings(seed ^ 0x2EA2_F11E, &svc.catalogue(), &filing_insurers);
    // New enterprises that register themselves over the years.
    let wanted = rates.registry.registrations_share * buyers.len() as f64 * f64::from(years);
    let newcomers = kebao_sim::newcomers(
        &kebao_sim::Options {
            seed,
            last_year: kebao_sim::Options::default().last_year - i32::try_from(years).unwrap_or(0),
            ..Default::default()
        },
        svc.industries(),
        wanted.round() as usize,
    );
    let mut bank_ids = Vec::new();
    for row in zone.orgs.iter().filter(|r| r.org.kind == "bank" && r.parent_uscc.is_empty()) {
        if let Some(id) = svc.org_id_by_uscc(&op, &row.org.uscc).await.map_err(err)? {
            bank_ids.push(id);
        }
    }
    let mut guarantor_ids = Vec::new();
    for row in zone.orgs.iter().filter(|r| r.org.kind == "guarantor" && r.parent_uscc.is_empty()) {
        if let Some(id) = svc.org_id_by_uscc(&op, &row.org.uscc).await.map_err(err)? {
            guarantor_ids.push(id);
        }
    }
    let today = svc.today();
    let programme = svc
        .subsidy_programmes()
        .await
        .map_err(err)?
        .into_iter()
        .filter(|p| p.id == rates.subsidies.programme)
        .max_by_key(|p| p.version);
    let subsidy_types = programme
        .iter()
        .flat_map(|p| p.groups.iter().flat_map(|g| g.product_types.iter().cloned()))
        .collect();
    let subsidy_qualifications =
        programme.iter().flat_map(|p| p.qualifications_any.iter().map(|q| q.code().to_owned())).collect();
    let plan = Plan {
        seed,
        years,
        start_year: today.year(),
        start_day_of_year: u32::from(today.ordinal()).saturating_sub(1),
        buyers,
        offers,
        insurers: insurer_ids.len(),
        subsidy_types,
        subsidy_qualifications,
        banks: bank_ids.len(),
        guarantors: guarantor_ids.len(),
        newcomers: newcomers.len(),
        filings: filing_templates.len(),
    };
    let activity = kebao_sim::activity::generate(&plan, &rates);
    let demo_user = |name: &'static str| async move {
        match svc.find_user(name).await {
            Ok(u) => svc.actor_for(u).await.ok(),
            Err(_) => None,
        }
    };
    let mediator = demo_user("mediator").await;
    // The budget the approver may reserve (the activity starts before any application): what
    // is left beyond the share the zone office keeps back.
    let reservable_fen = programme.as_ref().and_then(|p| p.budget_yuan).map(|b| {
        let budget = b.saturating_mul(100);
        budget - (budget as f64 * rates.subsidies.reserve_share.clamp(0.0, 1.0)).round() as i64
    });
    let documents = programme.map(|p| p.documents.into_iter().map(|d| d.code).collect()).unwrap_or_default();
    let mut r = Replay {
        svc,
        op,
        enterprises,
        insurer_ids,
        product_ids,
        staff: HashMap::new(),
        policies: HashMap::new(),
        claims: HashMap::new(),
        disputes: HashMap::new(),
        mediator,
        reviewer: demo_user("zone.reviewer").await,
        approver: demo_user("zone.approver").await,
        programme: rates.subsidies.programme.clone(),
        documents,
        applications: HashMap::new(),
        amounts: HashMap::new(),
        reservable_fen,
        bank_ids,
        guarantor_ids,
        consents: HashMap::new(),
        facts,
        newcomers,
        registered: HashMap::new(),
        filing_templates,
        filed: HashMap::new(),
        loans: HashMap::new(),
        borrowers: HashMap::new(),
        loan_applications: std::collections::HashSet::new(),
    };
    let mut summary = Summary::default();
    let total_days = u64::from(years) * 365;
    // One durable transaction per simulated day, each command behind its own savepoint
    // (SQLite; on PostgreSQL each command commits on its own).
    let lab = zone_lab(svc, r.reviewer.as_ref(), r.approver.as_ref()).await?;
    let held = svc.hold_commits(true).is_ok();
    let days = replay_days(&mut r, &activity, clock, total_days, &mut summary, progress, lab.as_ref()).await;
    if held {
        let flushed = svc.flush_commits().await;
        let _ = svc.hold_commits(false);
        flushed.map_err(err)?;
    }
    days?;
    summary.policies = r.policies.values().filter(|p| p.id.is_some()).count();
    summary.claims = r.claims.len();
    summary.disputes = r.disputes.len();
    summary.subsidies = r.applications.len();
    summary.consents = r.consents.len();
    summary.loans = r.loans.len();
    Ok(summary)
}

/// The zone's lab as the living zone runs it: its assessment scorecard (the demo's, fitted on
/// synthetic records), uploaded by the zone's reviewer and approved by its approver when the
/// history begins; then scored over every registered enterprise each month (`replay_days`).
async fn zone_lab(
    svc: &Service,
    reviewer: Option<&Actor>,
    approver: Option<&Actor>,
) -> Result<Option<(Actor, String)>> {
    let (Some(reviewer), Some(approver)) = (reviewer, approver) else { return Ok(None) };
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{e}");
    // Fitted on the zone's enterprises as registered when the history begins, with the demo's
    // synthetic outcomes.
    let rows = registry_rows(svc).await?;
    let card = match kebao_sim::lab::zone_scorecard(&rows, 20_230_101) {
        Ok(c) => c,
        Err(e) => {
            // A zone of a few enterprises may not carry a scorecard: the lab starts without it.
            outln!("demo lab: no zone scorecard ({e}); the lab starts empty");
            return Ok(None);
        }
    };
    let m = svc
        .upload_model(
            reviewer,
            kebao_service::lab::ModelKind::Scorecard,
            kebao_sim::lab::DEMO_SCORECARD_NAME,
            card.as_bytes(),
        )
        .await
        .map_err(err)?;
    svc.approve_model(approver, &m.id).await.map_err(err)?;
    Ok(Some((reviewer.clone(), m.id)))
}

/// Every registered enterprise's (R&D share, years since founding, staff, industry) today, as
/// the platform scores them: what the demo's scorecards are fitted on.
pub(crate) async fn registry_rows(svc: &Service) -> Result<Vec<[String; 4]>> {
    let mut tx = svc.store().begin_read().await?;
    let facts =
        kebao_store::lab_data::borrowers(tx.conn(), kebao_store::lab_data::Borrowers::AllEnterprises).await?;
    let today = svc.today();
    let mut all: Vec<_> = facts.into_iter().collect();
    all.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(all
        .iter()
        .map(|(_, f)| {
            let v = kebao_service::lab_data::enterprise_features(f, today);
            let get = |n: &str| v.iter().find(|(k, _)| k == n).map(|(_, x)| x.clone()).unwrap_or_default();
            [get("rnd_ratio"), get("age_years"), get("staff"), get("industry")]
        })
        .collect())
}

/// The zone lab's monthly batch scoring, as its job runs on the server: queued, then taken by
/// a runner here (one step after another, like the day's commands).
async fn lab_month(svc: &Service, lab: &(Actor, String)) -> Result<()> {
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{e}");
    svc.request_batch_score(&lab.0, &lab.1).await.map_err(err)?;
    let ended = kebao_service::jobs::JobRunner::new(svc.clone()).run_once().await.map_err(err)?;
    match ended {
        Some(j) if j.state == kebao_domain::job::JobState::Succeeded => Ok(()),
        other => anyhow::bail!("the zone lab's monthly scoring did not run: {other:?}"),
    }
}

async fn replay_days(
    r: &mut Replay<'_>,
    activity: &kebao_sim::activity::Activity,
    clock: &FixedClock,
    total_days: u64,
    summary: &mut Summary,
    progress: &mut dyn FnMut(u64, u64),
    lab: Option<&(Actor, String)>,
) -> Result<()> {
    let mut day = 0u32;
    let month = |svc: &Service| {
        let d = svc.today();
        (d.year(), d.month())
    };
    let mut scored_month = None;
    for (d, cmds) in &activity.days {
        if u64::from(*d) >= total_days {
            break;
        }
        clock.advance_us(i64::from(d - day) * DAY_US);
        day = *d;
        if let Some(lab) = lab {
            let m = month(r.svc);
            if scored_month != Some(m) {
                lab_month(r.svc, lab).await?;
                scored_month = Some(m);
            }
        }
        for c in cmds {
            summary.commands += 1;
            if let Some(reason) = r.run(c).await? {
                *summary.refused.entry(kind(c)).or_default() += 1;
                let first = summary.reasons.entry(kind(c)).or_insert_with(|| reason.clone());
                // A reason of the service's own is worth more than a missing handle.
                if first.starts_with(NOT_CREATED) {
                    *first = reason;
                }
            }
        }
        r.svc.flush_commits().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        progress(u64::from(day), total_days);
    }
    clock.advance_us(i64::from(u32::try_from(total_days).unwrap_or(0).saturating_sub(day)) * DAY_US);
    Ok(())
}
