//! Runs the showcase (`kebao_sim::showcase`, data in `data/sim/showcase.toml`) through the
//! service: each step as the demo user it names, with that user's authorisation, the rules,
//! one event and the ledger, on the demo's clock. A step that fails stops the demo with the
//! step's number and the service's reason: the showcase is data every role's day relies on.

use anyhow::{anyhow, bail, Context, Result};
use kebao_domain::Money;
use kebao_service::authz::Actor;
use kebao_service::{FixedClock, Service};
use kebao_sim::showcase::{Showcase, Step, SubjectData};
use std::collections::HashMap;

const DAY_US: i64 = 86_400_000_000;

struct Run<'a> {
    svc: &'a Service,
    clock: &'a FixedClock,
    real_now_us: i64,
    actors: HashMap<String, Actor>,
    /// Label → id of what an earlier step made.
    saved: HashMap<String, String>,
}

fn yuan(y: i64) -> Money {
    Money::from_fen(y.saturating_mul(100))
}

fn quote(limit_yuan: i64, revenue_yuan: i64) -> kebao_domain::rating::QuoteInput {
    kebao_domain::rating::QuoteInput {
        limit: yuan(limit_yuan),
        revenue: yuan(revenue_yuan),
        ..Default::default()
    }
}

fn subject(d: &SubjectData) -> Result<kebao_domain::subject::Subject> {
    use kebao_domain::subject::{InsuredObject, ObjectKind, Party, Subject};
    let object = match &d.object_kind {
        Some(k) => Some(InsuredObject {
            kind: ObjectKind::from_code(k).ok_or_else(|| anyhow!("unknown object kind `{k}`"))?,
            identifier: d.identifier.clone(),
            catalogue_entry: d.catalogue.clone(),
        }),
        None => None,
    };
    Ok(Subject {
        object,
        insured: None,
        beneficiary: d.beneficiary.as_ref().map(|n| Party { name: n.clone(), uscc: None }),
    })
}

impl Run<'_> {
    async fn actor(&mut self, name: &str) -> Result<Actor> {
        if let Some(a) = self.actors.get(name) {
            return Ok(a.clone());
        }
        let u = self.svc.find_user(name).await.map_err(|e| anyhow!("demo user {name}: {e}"))?;
        let a = self.svc.actor_for(u).await.map_err(|e| anyhow!("demo user {name}: {e}"))?;
        self.actors.insert(name.to_owned(), a.clone());
        Ok(a)
    }

    async fn org_of(&mut self, name: &str) -> Result<String> {
        let a = self.actor(name).await?;
        a.org_id().map(str::to_owned).ok_or_else(|| anyhow!("demo user {name} has no organisation"))
    }

    fn get(&self, label: &str) -> Result<String> {
        self.saved.get(label).cloned().ok_or_else(|| anyhow!("nothing saved as `{label}`"))
    }

    fn save(&mut self, label: &Option<String>, id: String) {
        if let Some(l) = label {
            self.saved.insert(l.clone(), id);
        }
    }

    fn day(&self, offset: i64) -> String {
        (self.svc.today() + time::Duration::days(offset)).to_string()
    }

    /// Files a subsidy application with a scan of every document its programme lists.
    async fn apply_subsidy(
        &mut self,
        by: &str,
        policy: &str,
        programme: &str,
        stage: &str,
        contract: Option<i64>,
    ) -> Result<kebao_domain::subsidy::SubsidyApplication> {
        let who = self.actor(by).await?;
        let pol = self.get(policy)?;
        let decl =
            kebao_service::subsidies::Declarations { contract_amount_yuan: contract, ..Default::default() };
        let svc = self.svc;
        let a = svc.apply_subsidy(&who, &pol, programme, stage, &decl).await?;
        let programmes = svc.subsidy_programmes().await?;
        let docs = programmes
            .iter()
            .find(|p| p.id == a.programme_id && p.version == a.programme_version)
            .map(|p| p.documents.clone())
            .unwrap_or_default();
        for d in docs {
            let body = format!("%PDF-1.4\n% {} {}\n", d.code, a.id).into_bytes();
            svc.add_subsidy_document(&who, &a.id, &d.code, &format!("{}.pdf", d.name_zh), &body).await?;
        }
        Ok(a)
    }

    async fn step(&mut self, st: &Step) -> Result<()> {
        use kebao_domain::subsidy::SubsidyStep;
        let svc = self.svc;
        match st {
            Step::Advance { days } => self.clock.advance_us(i64::from(*days) * DAY_US),
            Step::AdvanceToNow { days_before } => {
                let now = kebao_service::Clock::now_us(self.clock);
                let target = self.real_now_us - i64::from(*days_before) * DAY_US;
                if target > now {
                    self.clock.advance_us(target - now);
                }
            }
            Step::AdvisorAnswers { by, answers, shortlist } => {
                let who = self.actor(by).await?;
                let form: HashMap<String, String> = answers.clone().into_iter().collect();
                svc.save_advisor_answers(&who, &form).await?;
                let view = svc.advisor(&who).await?;
                for (name, exposure) in shortlist {
                    let product = view
                        .exposures
                        .iter()
                        .filter(|e| &e.id == exposure)
                        .flat_map(|e| e.products.iter())
                        .find(|p| &p.name == name)
                        .ok_or_else(|| anyhow!("no product `{name}` under the exposure `{exposure}`"))?;
                    svc.shortlist_product(&who, &product.product_id, exposure).await?;
                }
            }
            Step::NameBroker { by, broker, licence_no, from_days, to_days } => {
                let who = self.actor(by).await?;
                let (org_id, _) = svc
                    .intermediaries(&who)
                    .await?
                    .into_iter()
                    .find(|(_, name)| name == broker)
                    .ok_or_else(|| anyhow!("no verified intermediary `{broker}`"))?;
                let today = svc.today();
                let input = kebao_service::advisor_broker::BrokerInput {
                    org_id,
                    licence_no: licence_no.clone(),
                    valid_from: (today + time::Duration::days(*from_days)).to_string(),
                    valid_to: (today + time::Duration::days(*to_days)).to_string(),
                };
                svc.name_advisor_broker(&who, &input).await?;
            }
            Step::Qualification { by, kind, from_days, to_days, certificate } => {
                let who = self.actor(by).await?;
                let org = self.org_of(by).await?;
                let today = svc.today();
                let q = kebao_domain::org::Qualification {
                    kind: kebao_domain::org::QualificationKind::from_code(kind)
                        .ok_or_else(|| anyhow!("unknown qualification `{kind}`"))?,
                    valid_from: today + time::Duration::days(*from_days),
                    valid_to: today + time::Duration::days(*to_days),
                    certificate_no: Some(certificate.clone()),
                };
                svc.add_qualification(&who, &org, q).await?;
            }
            Step::CreditRecords { source, of, records } => {
                let org = self.org_of(of).await?;
                let op = Actor::System { name: "demo".into() };
                let uscc = svc.get_org(&op, &org).await?.org.uscc;
                let rows = records
                    .iter()
                    .map(|r| kebao_service::consent::RecordInput {
                        uscc: uscc.clone(),
                        kind: r.kind.clone(),
                        title: r.title.clone(),
                        detail: r.detail.clone(),
                        occurred_on: r.on.clone(),
                        person_name: r.person.clone(),
                        ended_on: r.ended.clone(),
                    })
                    .collect();
                svc.import_external(&op, &Source(source.clone(), rows)).await?;
            }
            Step::Consent {
                by,
                grantee,
                kind,
                scopes,
                purpose,
                days,
                signer,
                signer_title,
                person,
                person_role,
                file,
                evidence,
                save,
            } => {
                let who = self.actor(by).await?;
                let org = self.org_of(by).await?;
                let grantee_id = self.org_of(grantee).await?;
                let today = svc.today();
                let input = kebao_domain::consent::ConsentInput {
                    grantee_id,
                    kind: kind.clone(),
                    scopes: scopes.clone(),
                    purpose: purpose.clone(),
                    valid_from: today.to_string(),
                    expires_on: (today + time::Duration::days(*days)).to_string(),
                    signer_name: signer.clone(),
                    signer_title: signer_title.clone(),
                    person_name: person.clone(),
                    person_role: person_role.clone(),
                };
                let c = svc.grant_consent(&who, &org, &input, file, evidence.as_bytes()).await?;
                self.save(save, c.consent.id);
            }
            Step::DataRequest { by, kind, details } => {
                let who = self.actor(by).await?;
                let k = kebao_domain::privacy::RequestKind::from_code(kind)
                    .ok_or_else(|| anyhow!("unknown kind of personal-data request `{kind}`"))?;
                svc.file_data_request(&who, k, details).await?;
            }
            Step::LoanApply {
                by,
                scheme,
                bank,
                insurer,
                amount_yuan,
                term_months,
                rate_pct,
                premium_rate_pct,
                method,
                funds_use,
                save,
            } => {
                let who = self.actor(by).await?;
                let org = self.org_of(by).await?;
                let input = kebao_service::loans::LoanInput {
                    scheme_id: scheme.clone(),
                    bank_id: self.org_of(bank).await?,
                    insurer_id: self.org_of(insurer).await?,
                    guarantor_id: String::new(),
                    amount_yuan: amount_yuan.to_string(),
                    term_months: term_months.to_string(),
                    rate_pct: rate_pct.clone(),
                    premium_rate_pct: premium_rate_pct.clone(),
                    method: method.clone(),
                    funds_use: funds_use.clone(),
                    pledges: Vec::new(),
                };
                let l = svc.apply_loan(&who, &org, &input).await?;
                self.save(&Some(save.clone()), l.id);
            }
            Step::LoanDecide { by, loan, approve, reason } => {
                let who = self.actor(by).await?;
                svc.decide_loan(&who, &self.get(loan)?, *approve, reason).await?;
            }
            Step::LoanPolicy { by, loan, number, reference, days } => {
                let who = self.actor(by).await?;
                let on = svc.today() + time::Duration::days(*days);
                svc.issue_loan_policy(&who, &self.get(loan)?, number, reference, &on.to_string()).await?;
            }
            Step::LoanDisburse { by, loan, days } => {
                let who = self.actor(by).await?;
                let on = svc.today() + time::Duration::days(*days);
                svc.disburse_loan(&who, &self.get(loan)?, &on.to_string()).await?;
            }
            Step::PersonDataRequest { by, person, identity_check, of, kind, details } => {
                let who = self.actor(by).await?;
                let input = kebao_service::privacy::PersonRequestInput {
                    person_name: person.clone(),
                    identity_check: identity_check.clone(),
                    org_id: self.org_of(of).await?,
                    kind: kind.clone(),
                    details: details.clone(),
                };
                svc.record_data_request(&who, &input).await?;
            }
            Step::ImpactAssessment {
                by,
                recipient,
                extract,
                purpose,
                data,
                recipients,
                days,
                reviewer,
                conclusion,
            } => {
                let who = self.actor(by).await?;
                let recipient_org_id =
                    if recipient.is_empty() { String::new() } else { self.org_of(recipient).await? };
                let input = kebao_domain::privacy::AssessmentInput {
                    target: if recipient.is_empty() { "extract" } else { "recipient" }.to_owned(),
                    recipient_org_id,
                    extract: extract.clone(),
                    purpose: purpose.clone(),
                    data: data.clone(),
                    recipients: recipients.clone(),
                    assessed_on: (svc.today() + time::Duration::days(*days)).to_string(),
                    reviewer: reviewer.clone(),
                    conclusion: conclusion.clone(),
                };
                svc.record_impact_assessment(&who, &input).await?;
            }
            Step::RevokeConsent { by, consent } => {
                let who = self.actor(by).await?;
                svc.revoke_consent(&who, &self.get(consent)?).await?;
            }
            Step::CreditQuery { by, of, purpose, refused } => {
                let who = self.actor(by).await?;
                let org = self.org_of(of).await?;
                let p = kebao_domain::consent::Purpose::from_code(purpose)
                    .ok_or_else(|| anyhow!("unknown purpose `{purpose}`"))?;
                match (svc.credit_report(&who, &org, p).await, refused) {
                    (Ok(_), false) | (Err(_), true) => {}
                    (Ok(_), true) => bail!("the query was expected to be refused, and was answered"),
                    (Err(e), false) => return Err(e.into()),
                }
            }
            Step::Product {
                by,
                reviewer,
                type_id,
                name,
                summary,
                limit_yuan,
                term_months,
                rate_text,
                contact_name,
                contact_phone,
                plan_from,
                save,
            } => {
                use kebao_domain::product::{CoverageInput, ProductInput, CHECKLIST};
                let filer = self.actor(by).await?;
                let reviewer = self.actor(reviewer).await?;
                let insurer = self.org_of(by).await?;
                let input = ProductInput {
                    type_id: type_id.clone(),
                    name: name.clone(),
                    summary: summary.clone(),
                    coverages: vec![CoverageInput {
                        name: "保险责任".into(),
                        limit_yuan: limit_yuan.to_string(),
                        ..Default::default()
                    }],
                    premium_basis: "limit".into(),
                    term_months: term_months.to_string(),
                    rate_text: rate_text.clone(),
                    contact_name: contact_name.clone(),
                    contact_phone: contact_phone.clone(),
                    stages: kebao_domain::org::LifecycleStage::ALL
                        .iter()
                        .map(|s| s.code().to_owned())
                        .collect(),
                    ..Default::default()
                };
                let items: Vec<String> = CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect();
                let id = svc.file_product(&filer, &insurer, &input).await?;
                svc.file_rating_plan(
                    &filer,
                    &id,
                    plan_from,
                    crate::demo::demo_plan(&svc.catalogue(), type_id),
                )
                .await?;
                svc.submit_product(&filer, &id).await?;
                svc.set_product_checklist(&reviewer, &id, &items).await?;
                svc.review_product(&reviewer, &id, &kebao_service::products::Review::Approve).await?;
                svc.publish_product(&filer, &id).await?;
                self.saved.insert(save.clone(), id);
            }
            Step::UnderwriterAuthority { by, user, limit_yuan } => {
                let who = self.actor(by).await?;
                svc.set_underwriter_authority(&who, user, *limit_yuan).await?;
            }
            Step::CollectionAccount { by, bank, account_no } => {
                let who = self.actor(by).await?;
                let insurer = self.org_of(by).await?;
                let account_name = svc.get_org(&who, &insurer).await?.org.name;
                let account = kebao_domain::policy::CollectionAccount {
                    bank: bank.clone(),
                    account_name,
                    account_no: account_no.clone(),
                    note: String::new(),
                };
                svc.set_collection_account(&who, &insurer, &account).await?;
            }
            Step::PickProduct { for_user, insurer_of, save } => {
                let ent = self.actor(for_user).await?;
                let insurer = self.org_of(insurer_of).await?;
                let op = Actor::System { name: "demo".into() };
                let mut page = 1;
                let found = loop {
                    let q =
                        kebao_service::products::PortalQuery { page, per_page: 100, ..Default::default() };
                    let p = svc.portal(&q).await?;
                    let mut hit = None;
                    for it in p.items.iter().filter(|it| it.product.insurer_id == insurer) {
                        let has_plan = svc.rating_plans(&op, &it.product.id).await.map(|p| !p.is_empty())?;
                        if has_plan
                            && svc.eligibility_for(&ent, &it.version.content.eligibility).await.is_ok()
                        {
                            hit = Some(it.product.id.clone());
                            break;
                        }
                    }
                    if hit.is_some() || page >= p.pages {
                        break hit;
                    }
                    page += 1;
                };
                let id = found
                    .ok_or_else(|| anyhow!("no product of {insurer_of}'s insurer {for_user} may buy"))?;
                self.saved.insert(save.clone(), id);
            }
            Step::Apply { by, product, limit_yuan, revenue_yuan, start_days, subject: s, bound, save } => {
                let who = self.actor(by).await?;
                let pid = self.get(product)?;
                let a = svc
                    .apply_for_policy_with(
                        &who,
                        &pid,
                        &quote(*limit_yuan, *revenue_yuan),
                        &self.day(*start_days),
                        &subject(s)?,
                    )
                    .await?;
                let policy = svc.my_policies(&who).await?.into_iter().find(|p| p.application_id == a.id);
                match (policy, bound) {
                    (Some(p), true) => self.save(save, p.id),
                    (None, false) => self.save(save, a.id),
                    (Some(_), false) => bail!("the application was bound; the showcase expects a referral"),
                    (None, true) => bail!("the application was not bound: {}", a.status.label_en()),
                }
            }
            Step::PayPremium { by, policy, percent, reference } => {
                let who = self.actor(by).await?;
                let p = svc.policy(&who, &self.get(policy)?).await?.policy;
                let amount = Money::from_fen(p.premium.fen().saturating_mul(*percent) / 100);
                let reference = reference.replace("{number}", &p.number);
                svc.record_premium_paid(&who, &p.id, amount, &reference).await?;
            }
            Step::Endorse { by, policy, limit_yuan, revenue_yuan, from_days, reason } => {
                let who = self.actor(by).await?;
                let pol = self.get(policy)?;
                svc.endorse_policy(
                    &who,
                    &pol,
                    &quote(*limit_yuan, *revenue_yuan),
                    &self.day(*from_days),
                    reason,
                )
                .await?;
            }
            Step::Coinsure { by, policy, share_bp } => {
                let who = self.actor(by).await?;
                let pol = self.get(policy)?;
                let op = Actor::System { name: "demo".into() };
                let filter = kebao_domain::org::OrgFilter {
                    kind: Some(kebao_domain::OrgKind::Insurer),
                    ..Default::default()
                };
                let other = svc
                    .list_orgs(&op, &filter, None, 100)
                    .await?
                    .items
                    .into_iter()
                    .find(|o| Some(o.id.as_str()) != who.org_id() && o.parent_id.is_none())
                    .ok_or_else(|| anyhow!("no other insurer to co-insure with"))?;
                svc.set_coinsurance(&who, &pol, &[(other.id, *share_bp)]).await?;
            }
            Step::ReportClaim { by, policy, occurred_days, description, amount_yuan, save } => {
                let who = self.actor(by).await?;
                let pol = self.get(policy)?;
                let input = kebao_domain::claim::ClaimInput::new(
                    &self.day(*occurred_days),
                    description,
                    yuan(*amount_yuan),
                );
                let c = svc.report_claim(&who, &pol, &input).await?;
                self.saved.insert(save.clone(), c.id);
            }
            Step::ClaimDocument { by, claim, file, text } => {
                let who = self.actor(by).await?;
                svc.add_claim_document(&who, &self.get(claim)?, file, text.as_bytes()).await?;
            }
            Step::AssignClaim { by, claim } => {
                let who = self.actor(by).await?;
                svc.assign_claim(&who, &self.get(claim)?).await?;
            }
            Step::ClaimReserve { by, claim, amount_yuan } => {
                let who = self.actor(by).await?;
                svc.set_claim_reserve(&who, &self.get(claim)?, yuan(*amount_yuan)).await?;
            }
            Step::DecideClaim { by, claim, outcome, amount_yuan, reason } => {
                let who = self.actor(by).await?;
                let o = kebao_domain::claim::ClaimOutcome::from_code(outcome)
                    .ok_or_else(|| anyhow!("unknown claim outcome `{outcome}`"))?;
                svc.decide_claim(&who, &self.get(claim)?, o, yuan(*amount_yuan), reason).await?;
            }
            Step::PayClaim { by, claim, amount_yuan, reference } => {
                let who = self.actor(by).await?;
                svc.pay_claim(&who, &self.get(claim)?, yuan(*amount_yuan), reference).await?;
            }
            Step::Complain { by, claim, text, save } => {
                let who = self.actor(by).await?;
                let d = svc.complain(&who, &self.get(claim)?, text).await?;
                self.saved.insert(save.clone(), d.id);
            }
            Step::TakeDispute { by, dispute } => {
                let who = self.actor(by).await?;
                svc.take_dispute(&who, &self.get(dispute)?).await?;
            }
            Step::MediationSession { by, dispute, on_days, notes } => {
                let who = self.actor(by).await?;
                svc.record_session(&who, &self.get(dispute)?, &self.day(*on_days), notes).await?;
            }
            Step::Cancel { by, policy, on_days, reason, refund_by, refund_reference } => {
                let who = self.actor(by).await?;
                let payer = self.actor(refund_by).await?;
                let pol = self.get(policy)?;
                let out = svc.cancel_policy(&who, &pol, &self.day(*on_days), reason).await?;
                if out.refund_fen > 0 {
                    svc.record_refund_paid(&payer, &pol, Money::from_fen(out.refund_fen), refund_reference)
                        .await?;
                }
            }
            Step::ApplySubsidy { by, policy, programme, stage, contract_amount_yuan, save } => {
                let a = self.apply_subsidy(by, policy, programme, stage, *contract_amount_yuan).await?;
                self.save(save, a.id);
            }
            Step::LocalReview { by, application, pass, note } => {
                let who = self.actor(by).await?;
                svc.subsidy_local_review(&who, &self.get(application)?, *pass, note).await?;
            }
            Step::DepartmentReview { by, application, pass, note } => {
                let who = self.actor(by).await?;
                svc.subsidy_department_review(&who, &self.get(application)?, *pass, note).await?;
            }
            Step::OfferAutoGrants { by, programme } => {
                let who = self.actor(by).await?;
                svc.offer_auto_grants(&who, programme).await?;
            }
            Step::NationalStep { by, application, step, pass, grant_applied, note } => {
                let who = self.actor(by).await?;
                let id = self.get(application)?;
                let s = SubsidyStep::from_code(step).ok_or_else(|| anyhow!("unknown step `{step}`"))?;
                let amount = if *grant_applied {
                    svc.subsidy_application(&who, &id).await?.0.amount
                } else {
                    Money::ZERO
                };
                svc.national_step(&who, &id, s, *pass, amount, note).await?;
            }
            Step::RegisterPolicy {
                by,
                product,
                number,
                start_days,
                end_days,
                premium_yuan,
                sum_insured_yuan,
                subject: s,
                scan_name,
                scan_text,
            } => {
                let who = self.actor(by).await?;
                let fields = kebao_domain::policy::RegistrationFields {
                    product_id: self.get(product)?,
                    number: number.clone(),
                    start_date: self.day(*start_days),
                    end_date: self.day(*end_days),
                    premium_yuan: premium_yuan.to_string(),
                    sum_insured_yuan: sum_insured_yuan.to_string(),
                    limit_yuan: String::new(),
                };
                let p = svc.register_policy(&who, &fields, &subject(s)?).await?;
                let owner = kebao_domain::attachment::Owner::registered_policy(&p.id);
                svc.attach(&who, &owner, scan_name, scan_text.as_bytes()).await?;
            }
            Step::ApproveSubsidy { by, application } => {
                let who = self.actor(by).await?;
                svc.approve_subsidy(&who, &self.get(application)?).await?;
            }
            Step::Disburse { by, application, reference } => {
                let who = self.actor(by).await?;
                svc.disburse_subsidy(&who, &self.get(application)?, reference).await?;
            }
            Step::ClawBack { by, application, fraud, reason } => {
                let who = self.actor(by).await?;
                svc.claw_back_subsidy(&who, &self.get(application)?, *fraud, reason).await?;
            }
            Step::Object { by, application, text } => {
                let who = self.actor(by).await?;
                svc.object_to_subsidy(&who, &self.get(application)?, text).await?;
            }
        }
        Ok(())
    }
}

/// A credit source that delivers the step's records.
struct Source(String, Vec<kebao_service::consent::RecordInput>);

impl kebao_service::consent::CreditSource for Source {
    fn source(&self) -> &str {
        &self.0
    }
    fn records(&self) -> std::result::Result<Vec<kebao_service::consent::RecordInput>, String> {
        Ok(self.1.clone())
    }
}

/// Runs the shipped showcase on `clock`; `real_now_us` is the real time the demo ends at.
pub(crate) async fn run(svc: &Service, clock: &FixedClock, real_now_us: i64) -> Result<usize> {
    let showcase = Showcase::parse(kebao_sim::showcase::SHOWCASE).map_err(|e| anyhow!(e))?;
    let mut r = Run { svc, clock, real_now_us, actors: HashMap::new(), saved: HashMap::new() };
    for (i, st) in showcase.step.iter().enumerate() {
        r.step(st).await.with_context(|| format!("showcase step {} ({st:?})", i + 1)).map_err(|e| {
            // The service's reason in both languages, as the CLI prints it.
            match e.downcast_ref::<kebao_service::ServiceError>() {
                Some(se) => anyhow!("showcase step {}: {}", i + 1, crate::cli_error(se)),
                None => e,
            }
        })?;
    }
    Ok(showcase.step.len())
}
