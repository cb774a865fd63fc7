//! Applications, underwriting, binding and premiums (C4). An enterprise applies from the
//! insurer's quote; the insurer's own rules accept, refer or decline; an underwriter decides
//! referred applications within their authority; binding issues a policy with a number and
//! a schedule, and records the premium due in the ledger. Premium received is recorded by
//! the insurer, as a ledger transfer against the receivable (never more than is due).

use crate::authz::{Action, Actor, Basis, Case, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::event::EventDraft;
use kebao_domain::ledger::{AccountFlags, Transfer, TransferFlags, TransferResult};
use kebao_domain::org::parse_date;
use kebao_domain::policy::{
    check_start, codes, cover_period, policy_number, reason_text, within_authority, Application,
    ApplicationStatus, ApplicationStep, CoverPeriod, Decision, Policy, PolicySchedule, PolicyStatus,
    PolicyStep,
};
use kebao_domain::rating::QuoteInput;
use kebao_domain::subject::Subject;
use kebao_domain::user::Role;
use kebao_domain::{FieldError, Money};
use kebao_store::policies as store;
use kebao_store::todos::{self, Notification, Todo};
use kebao_store::{orgs, users, Tx};
use time::Date;

/// A policy with its parties and what has been paid.
#[derive(Debug, Clone)]
pub struct PolicyView {
    pub policy: Policy,
    pub insurer_name: String,
    pub enterprise_name: String,
    pub paid: Money,
}

/// The Cedar action that decides who may take a step on an application.
pub(crate) fn application_step_action(step: ApplicationStep) -> Action {
    match step {
        ApplicationStep::Accept | ApplicationStep::Decline | ApplicationStep::Bind => Action::Underwrite,
    }
}

/// The Cedar action that decides who may take a step on a policy.
pub(crate) fn policy_step_action(step: PolicyStep) -> Action {
    match step {
        PolicyStep::PayPremium => Action::RecordPremium,
        PolicyStep::Endorse => Action::EndorsePolicy,
        PolicyStep::Cancel => Action::CancelPolicy,
        PolicyStep::Refund => Action::RecordRefund,
        PolicyStep::Renew => Action::RenewPolicy,
        PolicyStep::Coinsure => Action::SetCoinsurance,
        PolicyStep::ReportClaim => Action::ReportClaim,
        PolicyStep::ConfirmRegistration | PolicyStep::RejectRegistration => Action::AnswerPolicyRegistration,
    }
}

/// The ledger accounts of a policy's premium: the policy's own receivable (credits may not
/// exceed debits: no more can be received than is due), the insurer's written premium and
/// cash received.
pub(crate) fn accounts(insurer: &str, policy: &str) -> (String, String, String) {
    (
        format!("pol:{policy}:premium_receivable"),
        format!("ins:{insurer}:premium_written"),
        format!("ins:{insurer}:cash"),
    )
}

/// An application rated by its insurer's plan and decided by its rules, before it is stored.
pub(crate) struct RatedApplication {
    pub row: Application,
    pub quote: crate::rating::QuoteView,
    pub decision: Decision,
}

impl Service {
    /// An enterprise applies for a published product at the insurer's quote. The insurer's
    /// rules decide at once: accept (and bind), refer to an underwriter, or decline.
    pub async fn apply_for_policy(
        &self,
        actor: &Actor,
        product_id: &str,
        input: &QuoteInput,
        start: &str,
    ) -> Result<Application> {
        self.apply_for_policy_with(actor, product_id, input, start, &Subject::default()).await
    }

    /// As [`Service::apply_for_policy`], naming what the policy insures and its parties
    /// besides the policyholder (the insured, the beneficiary).
    pub async fn apply_for_policy_with(
        &self,
        actor: &Actor,
        product_id: &str,
        input: &QuoteInput,
        start: &str,
        subject: &Subject,
    ) -> Result<Application> {
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        self.require(actor, Action::ApplyForPolicy, &Resource::Zone, &Basis::None)?;
        let start_date = parse_date("start_date", start)?;
        // Before the quote: a start outside the window needs no plan to be refused.
        check_start(start_date, self.today())?;
        self.submit_application(actor, product_id, input, start_date, None, subject).await
    }

    /// Rates, decides and stores an application (a new one, or a renewal of a policy).
    pub(crate) async fn submit_application(
        &self,
        actor: &Actor,
        product_id: &str,
        input: &QuoteInput,
        start_date: Date,
        renewal_of: Option<String>,
        subject: &Subject,
    ) -> Result<Application> {
        let mut rated =
            self.rate_application(actor, product_id, input, start_date, renewal_of, subject).await?;
        let mut tx = self.store.begin_write().await?;
        let draft = self.store_application(&mut tx, actor, &mut rated).await?;
        self.finish(tx, draft).await?;
        Ok(rated.row)
    }

    /// An application rated by its insurer's plan and decided by its rules, not yet stored.
    pub(crate) async fn rate_application(
        &self,
        actor: &Actor,
        product_id: &str,
        input: &QuoteInput,
        start_date: Date,
        renewal_of: Option<String>,
        subject: &Subject,
    ) -> Result<RatedApplication> {
        let user = actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        let start = start_date.to_string();
        let q = self.quote(actor, product_id, input, Some(&start)).await?;
        let CoverPeriod { end, .. } = cover_period(start_date, q.content.term_months, self.today())?;
        let decision = q.underwriting.decide(input.limit, input.claims_3y);
        let now = self.now_us();
        let row = Application {
            id: self.new_id(),
            product_id: product_id.to_owned(),
            product_version: q.product_version,
            insurer_id: q.insurer_id.clone(),
            enterprise_id: user.org_id.clone(),
            applicant: actor.log_name(),
            input: input.clone(),
            start_date,
            end_date: end,
            premium: q.quote.premium,
            plan_version: q.plan_version,
            trace: q.quote.steps.clone(),
            // Submitted referred; the insurer's rules accept or decline it at once.
            status: ApplicationStatus::Referred,
            reasons: Vec::new(),
            decided_by: None,
            decided_at_us: None,
            created_at_us: now,
            renewal_of,
            subject: subject.clone(),
        };
        Ok(RatedApplication { row, quote: q, decision })
    }

    /// Stores a rated application in the caller's write transaction: checks the renewal and
    /// the eligibility again, binds an accepted one, gives a referred one to an underwriter;
    /// the event to record with it.
    pub(crate) async fn store_application(
        &self,
        tx: &mut kebao_store::Tx,
        actor: &Actor,
        rated: &mut RatedApplication,
    ) -> Result<EventDraft> {
        let RatedApplication { row, quote: q, decision } = rated;
        let renewal_of = row.renewal_of.clone();
        let product_id = row.product_id.clone();
        let now = row.created_at_us;
        if let Some(old) = &renewal_of {
            // The renewed policy is checked again, locked, in the write transaction: a
            // cancellation or another renewal committed since the caller's read is seen.
            let backend = tx.backend();
            let p = store::policy_for_update(tx.conn(), old, backend).await?;
            p.status.apply(PolicyStep::Renew).map_err(ServiceError::Conflict)?;
            if store::renewal_of(tx.conn(), &p.id).await?.is_some() {
                return Err(ServiceError::Conflict(FieldError::new(
                    "policy",
                    "already_renewed",
                    "该保单已提交续保申请",
                    "a renewal of this policy has already been applied for",
                )));
            }
        }
        self.check_eligibility(tx, &row.enterprise_id, &q.content.eligibility).await?;
        let mut number = None;
        match &*decision {
            Decision::Accept => {
                row.status = row.status.apply(ApplicationStep::Accept).map_err(ServiceError::Conflict)?;
                row.decided_by = Some("rules:auto_accept".into());
                row.decided_at_us = Some(now);
                store::insert_application(tx.conn(), row).await?;
                number = Some(self.bind(tx, row, &q.content, "rules:auto_accept").await?);
            }
            Decision::Refer(reasons) => {
                row.reasons = reasons.clone();
                store::insert_application(tx.conn(), row).await?;
                todos::add_todo(
                    tx.conn(),
                    &Todo {
                        id: self.new_id(),
                        org_id: row.insurer_id.clone(),
                        role: Role::Underwriter.code().to_owned(),
                        kind: "underwrite".to_owned(),
                        subject: row.id.clone(),
                        title_zh: format!(
                            "核保：{}（{}）",
                            q.product_name,
                            reasons.iter().map(|r| reason_text(r, false)).collect::<Vec<_>>().join("；")
                        ),
                        title_en: format!(
                            "Underwrite an application for {} ({})",
                            q.product_name,
                            reasons.iter().map(|r| reason_text(r, true)).collect::<Vec<_>>().join("; ")
                        ),
                        link: "/underwriting".to_owned(),
                        created_at_us: now,
                        done_at_us: None,
                    },
                )
                .await?;
            }
            Decision::Decline(reasons) => {
                row.status = row.status.apply(ApplicationStep::Decline).map_err(ServiceError::Conflict)?;
                row.reasons = reasons.clone();
                row.decided_by = Some("rules:decline".into());
                row.decided_at_us = Some(now);
                store::insert_application(tx.conn(), row).await?;
            }
        }
        let draft = EventDraft::new(
            &actor.log_name(),
            "application.submitted",
            &row.id,
            serde_json::json!({"product": product_id, "status": row.status.code(), "premium_fen": row.premium.fen(),
                "plan_version": row.plan_version, "reasons": row.reasons, "policy": number, "renewal_of": renewal_of}),
        );
        Ok(draft)
    }

    /// Whether the actor's enterprise may apply for a product of this content today: the
    /// reasons it may not (as [`Service::apply_for_policy`] would refuse), read now.
    pub async fn eligibility_for(
        &self,
        actor: &Actor,
        eligibility: &kebao_domain::product::Eligibility,
    ) -> Result<()> {
        let org = actor.org_id().ok_or(ServiceError::Unauthenticated("sign in first"))?.to_owned();
        let mut tx = self.store.begin_read().await?;
        self.check_eligibility(&mut tx, &org, eligibility).await
    }

    /// Refuses an application, naming every reason, when the enterprise is outside the
    /// filing's eligibility (5+2 industries, life-cycle stages, qualifications held today)
    /// or its registration is not yet verified. Read in the application's write transaction.
    async fn check_eligibility(
        &self,
        tx: &mut impl kebao_store::Conn,
        enterprise_id: &str,
        eligibility: &kebao_domain::product::Eligibility,
    ) -> Result<()> {
        let org = orgs::get(tx.conn(), enterprise_id).await?;
        let today = self.today();
        let qualifications = orgs::qualifications(tx.conn(), enterprise_id)
            .await?
            .into_iter()
            .filter(|(_, q)| q.valid_on(today))
            .map(|(_, q)| q.kind)
            .collect();
        let facts = kebao_domain::product::EnterpriseFacts {
            verified: org.status == kebao_domain::org::OrgStatus::Verified,
            zone_industries: org.zone_industries,
            stage: org.lifecycle_stage,
            qualifications,
        };
        eligibility.check(&facts, &self.industries)?;
        Ok(())
    }

    /// Issues the policy of an accepted application (stored as accepted), records the
    /// premium due and marks the application bound.
    async fn bind(
        &self,
        tx: &mut Tx,
        a: &mut Application,
        content: &kebao_domain::product::ProductContent,
        by: &str,
    ) -> Result<String> {
        let from = a.status;
        a.status = a.status.apply(ApplicationStep::Bind).map_err(ServiceError::Conflict)?;
        let now = self.now_us();
        let seq = store::next_policy_seq(tx.conn(), self.today().year()).await?;
        let number = policy_number(self.today().year(), seq);
        let schedule = PolicySchedule {
            product: content.clone(),
            rated: a.input.clone(),
            plan_version: a.plan_version,
            trace: a.trace.clone(),
        };
        let policy = Policy {
            id: self.new_id(),
            number: number.clone(),
            application_id: a.id.clone(),
            product_id: a.product_id.clone(),
            insurer_id: a.insurer_id.clone(),
            enterprise_id: a.enterprise_id.clone(),
            start_date: a.start_date,
            end_date: a.end_date,
            premium: a.premium,
            schedule,
            bound_by: by.to_owned(),
            bound_at_us: now,
            status: PolicyStatus::InForce,
            cancelled_on: None,
            input: a.input.clone(),
            subject: a.subject.clone(),
            answer: None,
        };
        store::insert_policy(tx.conn(), &policy).await?;
        self.write_premium_due(tx, &a.insurer_id, &policy.id, a.premium).await?;
        store::decide(tx.conn(), a, from).await?;
        Ok(number)
    }

    /// Opens a policy's premium accounts and records its premium as due (written): at binding,
    /// and when an insurer confirms a policy registered from outside the platform.
    pub(crate) async fn write_premium_due(
        &self,
        tx: &mut Tx,
        insurer_id: &str,
        policy_id: &str,
        premium: Money,
    ) -> Result<()> {
        let (receivable, written, cash) = accounts(insurer_id, policy_id);
        let guard = AccountFlags { credits_must_not_exceed_debits: true, ..Default::default() };
        self.ensure_account(tx, &receivable, insurer_id, "premium_receivable", guard).await?;
        self.ensure_account(tx, &written, insurer_id, "premium_written", AccountFlags::default()).await?;
        self.ensure_account(tx, &cash, insurer_id, "cash_received", AccountFlags::default()).await?;
        if premium > Money::ZERO {
            let due = Transfer {
                id: format!("premium-due:{policy_id}"),
                debit_account_id: receivable,
                credit_account_id: written,
                amount: premium.fen(),
                pending_id: None,
                code: codes::PREMIUM_DUE,
                event_ref: policy_id.to_owned(),
                flags: TransferFlags::default(),
            };
            let r = self.apply_transfers(tx, &[due]).await?;
            match r.first() {
                Some(TransferResult::Ok) => {}
                Some(bad) => return Err(crate::ledger::unexpected(*bad, "premium due not recorded")),
                None => return Err(ServiceError::Internal("premium due not recorded".into())),
            }
        }
        Ok(())
    }

    /// Referred applications of the underwriter's insurer, oldest first.
    pub async fn underwriting_queue(&self, actor: &Actor) -> Result<Vec<Application>> {
        let user = actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        self.require(actor, Action::ReadUnderwritingQueue, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        Ok(store::applications_of_insurer(tx.conn(), &user.org_id, ApplicationStatus::Referred).await?)
    }

    /// An underwriter accepts (and binds) or declines a referred application.
    pub async fn decide_application(
        &self,
        actor: &Actor,
        id: &str,
        step: ApplicationStep,
        reason: &str,
    ) -> Result<Application> {
        let user = actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?.clone();
        let mut tx = self.store.begin_write().await?;
        let backend = tx.backend();
        let mut a = store::application_for_update(tx.conn(), id, backend).await?;
        self.require(actor, application_step_action(step), &application_resource(&a), &Basis::None)?;
        let from = a.status;
        a.status = a.status.apply(step).map_err(ServiceError::Conflict)?;
        let accept = step == ApplicationStep::Accept;
        let now = self.now_us();
        a.decided_by = Some(actor.log_name());
        a.decided_at_us = Some(now);
        let number = if accept {
            let authority = store::authority(tx.conn(), &user.id).await?.ok_or_else(|| {
                ServiceError::from(FieldError::new(
                    "authority",
                    "no_authority",
                    "您尚未获授核保权限，请联系机构管理员",
                    "you have no underwriting authority; ask your organisation's admin",
                ))
            })?;
            within_authority(a.input.limit, authority)?;
            let versions = kebao_store::products::versions(tx.conn(), &a.product_id).await?;
            let content = versions
                .into_iter()
                .find(|v| v.version == a.product_version)
                .map(|v| v.content)
                .ok_or(ServiceError::NotFound)?;
            store::decide(tx.conn(), &a, from).await?;
            Some(self.bind(&mut tx, &mut a, &content, &actor.log_name()).await?)
        } else {
            let r = reason.trim();
            if r.chars().count() < 2 {
                return Err(FieldError::new(
                    "reason",
                    "reason_required",
                    "拒保须写明理由",
                    "a decline states its reasons",
                )
                .into());
            }
            a.reasons = vec![r.to_owned()];
            store::decide(tx.conn(), &a, from).await?;
            None
        };
        todos::close_todo(tx.conn(), "underwrite", id, now).await?;
        for admin in users::with_role(tx.conn(), &a.enterprise_id, Role::EnterpriseAdmin).await? {
            let (zh, en) = match &number {
                Some(n) => {
                    (format!("投保已承保，保单号 {n}"), format!("Your application is accepted: policy {n}"))
                }
                None => ("投保申请被拒保".to_owned(), "Your application was declined".to_owned()),
            };
            todos::notify(
                tx.conn(),
                &Notification {
                    id: self.new_id(),
                    user_id: admin,
                    title_zh: zh,
                    title_en: en,
                    link: "/policies".into(),
                    created_at_us: now,
                    read_at_us: None,
                },
            )
            .await?;
        }
        let action = if accept { "application.accepted" } else { "application.declined" };
        self.finish(
            tx,
            Self::with_personal(
                EventDraft::new(&actor.log_name(), action, id, serde_json::json!({"policy": number})),
                serde_json::json!({"reason": reason}),
            )?,
        )
        .await?;
        let mut tx = self.store.begin_read().await?;
        Ok(store::application(tx.conn(), id).await?)
    }

    /// An insurer's admin sets an underwriter's authority (the largest limit they may accept).
    pub async fn set_underwriter_authority(
        &self,
        actor: &Actor,
        username: &str,
        max_limit_yuan: i64,
    ) -> Result<()> {
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        let target = self.find_user(username).await?;
        let resource = Resource::User {
            id: target.id.clone(),
            org_id: target.org_id.clone(),
            roles: target.roles.clone(),
            active: target.active,
        };
        self.require(actor, Action::SetUnderwriterAuthority, &resource, &Basis::None)?;
        if max_limit_yuan < 0 {
            return Err(FieldError::new(
                "max_limit_yuan",
                "negative",
                "权限不能为负",
                "the authority cannot be negative",
            )
            .into());
        }
        let mut tx = self.store.begin_write().await?;
        store::set_authority(tx.conn(), &target.id, max_limit_yuan).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "underwriter.authority_set",
            &target.id,
            serde_json::json!({"max_limit_yuan": max_limit_yuan}),
        );
        self.finish(tx, draft).await?;
        Ok(())
    }

    /// The insurer records premium received on a policy; `reference` (the bank's payment
    /// reference) makes the record idempotent. More than is due is refused.
    pub async fn record_premium_paid(
        &self,
        actor: &Actor,
        policy_id: &str,
        amount: Money,
        reference: &str,
    ) -> Result<()> {
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        let reference = crate::ledger::payment_input(reference, amount)?;
        let mut tx = self.store.begin_write().await?;
        let p = store::policy(tx.conn(), policy_id).await?;
        self.require(actor, policy_step_action(PolicyStep::PayPremium), &policy_resource(&p), &Basis::None)?;
        p.status.apply(PolicyStep::PayPremium).map_err(ServiceError::Conflict)?;
        let (receivable, _, cash) = accounts(&p.insurer_id, &p.id);
        let t = Transfer {
            id: format!("premium-paid:{}:{reference}", p.id),
            debit_account_id: cash,
            credit_account_id: receivable,
            amount: amount.fen(),
            pending_id: None,
            code: codes::PREMIUM_PAID,
            event_ref: p.id.clone(),
            flags: TransferFlags::default(),
        };
        if self.payment_replayed(&mut tx, &t).await? {
            return Ok(());
        }
        let r = self.apply_transfers(&mut tx, &[t]).await?;
        let recorded = crate::ledger::payment_outcome(
            r.first(),
            TransferResult::ExceedsDebits,
            "exceeds_due",
            "超过该保单尚未收取的保费",
            "more than the premium still due on the policy",
        )?;
        if !recorded {
            return Ok(());
        }
        if crate::payments::premium_due(&mut tx, &p).await? == Money::ZERO {
            todos::close_todo(tx.conn(), "premium_evidence", &p.id, self.now_us()).await?;
        }
        let draft = EventDraft::new(
            &actor.log_name(),
            "premium.paid",
            &p.id,
            serde_json::json!({"amount_fen": amount.fen(), "reference": reference}),
        );
        self.finish(tx, draft).await?;
        Ok(())
    }

    /// `NotFound` unless the actor may see the policy: its enterprise, its insurer or a
    /// co-insurer, the system, or a role with a statutory duty. Read in the caller's
    /// transaction (a write transaction's, where a command goes on to change things).
    pub(crate) async fn policy_visible(
        &self,
        tx: &mut impl kebao_store::Conn,
        actor: &Actor,
        p: &Policy,
    ) -> Result<()> {
        let coinsurer = match actor.org_id() {
            Some(o) => store::shares(tx.conn(), &p.id).await?.iter().any(|(s, _)| s == o),
            None => false,
        };
        // Not a party, a co-insurer or the zone: the policy is not shown to exist.
        if !(coinsurer || self.allows(actor, Action::ReadPolicy, &policy_resource(p))) {
            return Err(ServiceError::NotFound);
        }
        Ok(())
    }

    /// A policy, for its enterprise, its insurer and the zone.
    pub async fn policy(&self, actor: &Actor, id: &str) -> Result<PolicyView> {
        let mut tx = self.store.begin_read().await?;
        let p = store::policy(tx.conn(), id).await?;
        self.policy_visible(&mut tx, actor, &p).await?;
        let paid = kebao_store::ledger::sum_for_event(tx.conn(), &p.id, codes::PREMIUM_PAID).await?;
        let insurer = orgs::get(tx.conn(), &p.insurer_id).await?;
        let ent = orgs::get(tx.conn(), &p.enterprise_id).await?;
        Ok(PolicyView {
            insurer_name: insurer.name,
            enterprise_name: ent.name,
            paid: Money::from_fen(paid),
            policy: p,
        })
    }

    /// The id of the policy with this number (`DHKB-P-…`), if the actor may see it.
    pub async fn policy_id_by_number(&self, actor: &Actor, number: &str) -> Result<String> {
        let id = {
            let mut tx = self.store.begin_read().await?;
            store::policy_by_number(tx.conn(), number.trim()).await?.id
        };
        self.policy(actor, &id).await.map(|v| v.policy.id)
    }

    /// The actor's organisation's policies (as enterprise or insurer).
    pub async fn my_policies(&self, actor: &Actor) -> Result<Vec<Policy>> {
        let org = actor.org_id().ok_or(ServiceError::Unauthenticated("sign in first"))?.to_owned();
        let mut tx = self.store.begin_read().await?;
        Ok(store::policies_of(tx.conn(), &org).await?)
    }

    /// The actor's enterprise's applications.
    pub async fn my_applications(&self, actor: &Actor) -> Result<Vec<Application>> {
        let org = actor.org_id().ok_or(ServiceError::Unauthenticated("sign in first"))?.to_owned();
        let mut tx = self.store.begin_read().await?;
        Ok(store::applications_of_enterprise(tx.conn(), &org).await?)
    }

    /// The steps the actor may take on an application now: those its state allows that
    /// Cedar allows this actor. Empty when the actor may not see it.
    pub async fn application_actions(&self, actor: &Actor, id: &str) -> Result<Vec<ApplicationStep>> {
        let a = {
            let mut tx = self.store.begin_read().await?;
            store::application(tx.conn(), id).await?
        };
        let resource = application_resource(&a);
        Ok(a.status
            .steps()
            .into_iter()
            .filter(|s| self.allows(actor, application_step_action(*s), &resource))
            .collect())
    }

    /// The steps the actor may take on a policy now: those its state allows that Cedar
    /// allows this actor (co-insurance only while no shares are set, renewal only while none
    /// is applied for). Empty when the actor may not see the policy.
    pub async fn policy_actions(&self, actor: &Actor, id: &str) -> Result<Vec<PolicyStep>> {
        let mut tx = self.store.begin_read().await?;
        let p = store::policy(tx.conn(), id).await?;
        if self.policy_visible(&mut tx, actor, &p).await.is_err() {
            return Ok(Vec::new());
        }
        let resource = policy_resource(&p);
        let mut steps = Vec::new();
        for s in p.status.steps() {
            if !self.allows(actor, policy_step_action(s), &resource) {
                continue;
            }
            let open = match s {
                PolicyStep::Coinsure => store::shares(tx.conn(), &p.id).await?.is_empty(),
                PolicyStep::Renew => store::renewal_of(tx.conn(), &p.id).await?.is_none(),
                _ => true,
            };
            if open {
                steps.push(s);
            }
        }
        Ok(steps)
    }
}

/// What the policies see of an application.
pub(crate) fn application_resource(a: &Application) -> Resource {
    Resource::Application(Case {
        id: a.id.clone(),
        enterprise_id: a.enterprise_id.clone(),
        insurer_id: a.insurer_id.clone(),
        status: a.status.code().to_owned(),
        assignee: None,
    })
}

/// What the policies see of a policy.
pub fn policy_resource(p: &Policy) -> Resource {
    Resource::Policy(Case {
        id: p.id.clone(),
        enterprise_id: p.enterprise_id.clone(),
        insurer_id: p.insurer_id.clone(),
        status: p.status.code().to_owned(),
        assignee: None,
    })
}
