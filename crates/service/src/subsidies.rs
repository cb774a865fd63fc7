//! Premium subsidies and insurance compensation (C6).
//!
//! Zone programmes: the enterprise applies from a policy (the application is filled in from
//! it) → local review (a zone reviewer) → department review (a zone approver who is not the
//! local reviewer) reserves the amount in the programme's budget with a pending ledger
//! transfer → public notice for so many working days, open to objections → approval →
//! disbursement (posted) or rejection (voided) → clawback on surrender or fraud (fraud bans
//! the enterprise). The budget account may never be debited beyond what was appropriated, so
//! the budget can never be overspent, whatever races.
//!
//! The auto-grant flow (免申即享) puts eligible policies on a notice list; the enterprise
//! confirms within the programme's working days, or the offer lapses.
//!
//! National compensation (first-set, new material): qualification first, then funding. The
//! zone recommends and forwards; the ministries' decision is recorded when it comes back; the
//! money is central, not the zone's budget.

use crate::authz::{self, Action, Actor, Basis, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::event::EventDraft;
use kebao_domain::ledger::{AccountFlags, Transfer, TransferFlags, TransferResult};
use kebao_domain::loan::{Loan, SchemeKind};
use kebao_domain::policy::PolicyStatus;
use kebao_domain::subsidy::LoanFacts;
use kebao_domain::subsidy::{
    assess, codes, parse_programmes, parse_reason, Calendar, CapYear, Case, Failure, Grant, Objection,
    Programme, ProgrammeKind, Resolution, Stage, SubsidyApplication, SubsidyStatus, SubsidyStep, Track,
    SHIPPED, SHIPPED_CALENDAR,
};
use kebao_domain::user::Role;
use kebao_domain::{FieldError, Invalid, Money};
use kebao_store::loans as loan_store;
use kebao_store::subsidies as store;
use kebao_store::{ledger, orgs, policies, Tx};
use std::collections::BTreeMap;
use time::Date;

/// A loan's repayment record as the loan-premium rules read it: the day it was repaid in
/// full, and the most days any payment came after its instalment fell due (up to today
/// while the loan is open).
fn loan_facts(
    l: &Loan,
    disbursed_on: Date,
    repayments: &[loan_store::Repayment],
    today: Date,
    claimed: bool,
) -> LoanFacts {
    let mut s = kebao_domain::loan::Servicing::new(l.schedule.clone());
    let mut late = 0;
    let mut repaid_on = None;
    for p in repayments {
        late = late.max(s.days_past_due(p.paid_on));
        if s.apply(p.amount, p.paid_on).is_ok() && repaid_on.is_none() && s.repaid() {
            repaid_on = Some(p.paid_on);
        }
    }
    if repaid_on.is_none() {
        late = late.max(s.days_past_due(today));
    }
    LoanFacts { disbursed_on, repaid_on, max_days_past_due: late, claimed }
}

/// What the applicant declares (a domain type; named here too for the service's callers).
pub use kebao_domain::subsidy::Declarations;

/// What else a reader may do on an application's page, besides its steps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubsidyRights {
    /// Attach documents (the applicant, before the application is finished).
    pub attach: bool,
    /// Resolve objections (a zone approver).
    pub resolve_objections: bool,
    /// Object (anyone signed in, while the notice is open).
    pub object: bool,
}

/// What a zone officer may do across the programmes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubsidyZoneRights {
    /// The dashboard and what-if runs.
    pub statistics: bool,
    /// Auto-grant offers (and the other decisions).
    pub decide: bool,
}

/// A programme's money and applications, for the dashboard.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProgrammeStats {
    pub programme_id: String,
    pub name_zh: String,
    pub budget_fen: Option<i64>,
    pub reserved_fen: i64,
    pub disbursed_fen: i64,
    pub by_status: BTreeMap<String, u64>,
    /// Amount approved or paid by zone industry tag (yuan).
    pub by_industry: BTreeMap<String, i64>,
}

/// The result of a what-if run: nothing is written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WhatIf {
    pub policies_assessed: usize,
    pub eligible: usize,
    pub cost_fen: i64,
    pub enterprises: usize,
    pub by_industry: BTreeMap<String, i64>,
    /// How often each rule failed.
    pub failures: BTreeMap<String, usize>,
}

/// Parameters a what-if run may change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WhatIfParams {
    pub share_bp: Option<u32>,
    pub per_enterprise_year_cap_yuan: Option<i64>,
    pub per_policy_cap_yuan: Option<i64>,
    pub rate_cap_bp: Option<u32>,
}

fn budget_account(p: &Programme) -> String {
    format!("sub:{}:{}:budget", p.id, p.version)
}

const APPROPRIATION: &str = "gov:zone:subsidy_appropriation";

fn conflict(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> ServiceError {
    ServiceError::Conflict(FieldError::new("status", code, zh, en))
}

fn failures_error(f: &[Failure]) -> ServiceError {
    Invalid(
        f.iter()
            .map(|x| FieldError::new("eligibility", "ineligible", x.reason_zh.clone(), x.reason_en.clone()))
            .collect(),
    )
    .into()
}

/// The Cedar action that decides who may take a step: the one place steps meet actions.
fn step_action(step: SubsidyStep) -> Action {
    use SubsidyStep as T;
    match step {
        T::LocalReview | T::Recommend => Action::ReviewSubsidyLocally,
        T::DepartmentReview => Action::ReviewSubsidyForDepartment,
        T::Confirm => Action::ConfirmSubsidyOffer,
        T::Approve | T::Disburse | T::Reject | T::ClawBack | T::Lapse | T::Forward | T::Decision => {
            Action::DecideSubsidies
        }
    }
}

/// What the action is asked about: the application itself (the applicant's own steps and
/// maker-checker), or the zone (its officers' duties).
fn step_resource(action: Action, a: &SubsidyApplication) -> Resource {
    match action {
        Action::ReviewSubsidyForDepartment | Action::ConfirmSubsidyOffer => subsidy_resource(a),
        _ => Resource::Zone,
    }
}

/// What the policies see of a subsidy application: its applicant, its state and its local
/// reviewer.
pub(crate) fn subsidy_resource(a: &SubsidyApplication) -> Resource {
    Resource::Subsidy(authz::Case {
        id: a.id.clone(),
        enterprise_id: a.enterprise_id.clone(),
        insurer_id: String::new(),
        status: a.status.code().to_owned(),
        assignee: a.local_reviewer.clone(),
    })
}

impl Service {
    /// The signed-in zone officer, if the policies let them take this zone-wide step.
    fn zone_staff(&self, actor: &Actor, action: Action) -> Result<kebao_domain::user::User> {
        let u = actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        self.require(actor, action, &Resource::Zone, &Basis::None)?;
        Ok(u.clone())
    }

    /// What the actor may do to the application now: the steps its state and track allow,
    /// of those the ones Cedar allows this actor. Nothing when the actor may not see it.
    pub async fn subsidy_actions(&self, actor: &Actor, id: &str) -> Result<Vec<SubsidyStep>> {
        let mut tx = self.store.begin_read().await?;
        let a = store::get(tx.conn(), id).await?;
        let mut steps = self.steps_for(actor, &a);
        if steps.contains(&SubsidyStep::Approve) {
            // Approval waits for the end of the public notice and for every objection.
            let open = store::objections(tx.conn(), id).await?.iter().filter(|o| o.is_open()).count();
            if a.check_approval(self.today(), open).is_err() {
                steps.retain(|s| *s != SubsidyStep::Approve);
            }
        }
        Ok(steps)
    }

    fn steps_for(&self, actor: &Actor, a: &SubsidyApplication) -> Vec<SubsidyStep> {
        if actor.user().is_none() || !self.allows(actor, Action::ReadSubsidy, &subsidy_resource(a)) {
            return Vec::new();
        }
        a.steps()
            .into_iter()
            .filter(|t| t.is_manual())
            .filter(|t| {
                let action = step_action(*t);
                self.allows(actor, action, &step_resource(action, a))
            })
            .collect()
    }

    /// What else the actor may do on the application's page.
    pub fn subsidy_rights(&self, actor: &Actor, a: &SubsidyApplication) -> SubsidyRights {
        let signed_in = actor.user().is_some();
        SubsidyRights {
            attach: signed_in
                && !a.status.is_final()
                && self.allows(actor, Action::AttachSubsidyDocument, &subsidy_resource(a)),
            resolve_objections: signed_in && self.allows(actor, Action::DecideSubsidies, &Resource::Zone),
            object: signed_in && a.notice_open(self.today()),
        }
    }

    /// What the actor may do across the programmes.
    pub fn subsidy_zone_rights(&self, actor: &Actor) -> SubsidyZoneRights {
        SubsidyZoneRights {
            statistics: self.allows(actor, Action::ReadSubsidyStatistics, &Resource::Zone),
            decide: actor.user().is_some() && self.allows(actor, Action::DecideSubsidies, &Resource::Zone),
        }
    }

    /// Opens the write transaction of a step: the application read locked, the step
    /// authorised by Cedar, and the state it leads to (`pass`: the review passes, the
    /// decision grants) decided by the domain.
    async fn begin_step(
        &self,
        actor: &Actor,
        id: &str,
        step: SubsidyStep,
        pass: bool,
    ) -> Result<(Tx, SubsidyApplication, Programme, SubsidyStatus)> {
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        let mut tx = self.store.begin_write().await?;
        let (a, prog) = self.load_app(&mut tx, id).await?;
        let action = step_action(step);
        self.require(actor, action, &step_resource(action, &a), &Basis::None)?;
        let to = a.apply(step, pass).map_err(ServiceError::Conflict)?;
        Ok((tx, a, prog, to))
    }

    /// The programme versions: those loaded into the store, or the shipped ones before any load.
    pub async fn subsidy_programmes(&self) -> Result<Vec<Programme>> {
        let mut tx = self.store.begin_read().await?;
        let stored = store::programmes(tx.conn()).await?;
        if stored.is_empty() {
            return Ok(parse_programmes(SHIPPED)?);
        }
        Ok(stored)
    }

    /// The working-day calendar in force.
    pub async fn subsidy_calendar(&self) -> Result<Calendar> {
        let mut tx = self.store.begin_read().await?;
        match store::setting(tx.conn(), "calendar").await? {
            Some(t) => Ok(Calendar::parse(&t)?),
            None => Ok(Calendar::parse(SHIPPED_CALENDAR)?),
        }
    }

    /// The calendar, read in the caller's transaction (never a second connection while a
    /// write transaction holds one).
    pub(crate) async fn calendar_in(tx: &mut Tx) -> Result<Calendar> {
        match store::setting(tx.conn(), "calendar").await? {
            Some(t) => Ok(Calendar::parse(&t)?),
            None => Ok(Calendar::parse(SHIPPED_CALENDAR)?),
        }
    }

    /// Stores the shipped programmes on first use and appropriates their budgets.
    async fn ensure_programmes(&self, tx: &mut Tx) -> Result<Vec<Programme>> {
        let stored = store::programmes(tx.conn()).await?;
        if !stored.is_empty() {
            return Ok(stored);
        }
        let ps = parse_programmes(SHIPPED)?;
        for p in &ps {
            self.store_programme(tx, p, "system:shipped").await?;
        }
        Ok(ps)
    }

    async fn store_programme(&self, tx: &mut Tx, p: &Programme, by: &str) -> Result<()> {
        store::insert_programme(tx.conn(), p, by, self.now_us()).await.map_err(|e| match e {
            kebao_store::StoreError::Conflict(_) => conflict(
                "version_exists",
                format!("方案 {} 第 {} 版已存在", p.id, p.version),
                format!("programme {} version {} already exists", p.id, p.version),
            ),
            other => other.into(),
        })?;
        if let (ProgrammeKind::Zone, Some(b)) = (p.kind, p.budget_yuan) {
            let acc = budget_account(p);
            let zone = self.zone_office(tx).await?;
            self.ensure_account(tx, APPROPRIATION, &zone, "subsidy_appropriation", AccountFlags::default())
                .await?;
            let guard = AccountFlags { debits_must_not_exceed_credits: true, ..Default::default() };
            self.ensure_account(tx, &acc, &zone, "subsidy_budget", guard).await?;
            if b > 0 {
                let t = Transfer {
                    id: format!("subsidy-budget:{}:{}", p.id, p.version),
                    debit_account_id: APPROPRIATION.to_owned(),
                    credit_account_id: acc,
                    amount: b.saturating_mul(100),
                    pending_id: None,
                    code: codes::BUDGET,
                    event_ref: format!("{}:{}", p.id, p.version),
                    flags: TransferFlags::default(),
                };
                self.expect_ok(tx, &[t]).await?;
            }
        }
        Ok(())
    }

    /// The zone office: the organisation of the zone's approvers (it owns the budget accounts).
    async fn zone_office(&self, tx: &mut Tx) -> Result<String> {
        for role in [Role::ZoneApprover, Role::ZoneReviewer] {
            if let Some((_, org)) =
                kebao_store::users::any_with_role(tx.conn(), role).await?.into_iter().next()
            {
                return Ok(org);
            }
        }
        Err(conflict(
            "no_zone_office",
            "平台尚未登记示范区管委会的审批人员，无法设立补贴预算",
            "no zone approver is registered yet, so no budget can be set up",
        ))
    }

    async fn expect_ok(&self, tx: &mut Tx, ts: &[Transfer]) -> Result<TransferResult> {
        let r = self.apply_transfers(tx, ts).await?;
        match r.iter().find(|x| **x != TransferResult::Ok) {
            None => Ok(TransferResult::Ok),
            Some(TransferResult::ExceedsCredits) => Err(conflict(
                "budget_exhausted",
                "预算余额不足，无法为该申请预留资金",
                "the budget left cannot hold this application",
            )),
            Some(TransferResult::Overflow) => Err(crate::ledger::amount_overflow()),
            Some(bad) => Err(ServiceError::Conflict(FieldError::new(
                "ledger",
                bad.code(),
                bad.label_zh(),
                bad.label_en(),
            ))),
        }
    }

    /// Loads programme versions from TOML (zone approvers and platform admins); each new
    /// version's budget is appropriated. Nothing is stored if any version is bad or exists.
    pub async fn load_subsidy_programmes(&self, actor: &Actor, text: &str) -> Result<Vec<(String, u32)>> {
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        self.require(actor, Action::LoadSubsidyProgrammes, &Resource::Zone, &Basis::None)?;
        let ps = parse_programmes(text)?;
        let mut tx = self.store.begin_write().await?;
        self.ensure_programmes(&mut tx).await?;
        for p in &ps {
            self.store_programme(&mut tx, p, &actor.log_name()).await?;
        }
        let loaded: Vec<(String, u32)> = ps.iter().map(|p| (p.id.clone(), p.version)).collect();
        let draft = EventDraft::new(
            &actor.log_name(),
            "subsidy.programmes_loaded",
            "subsidy",
            serde_json::json!({"versions": loaded}),
        );
        self.finish(tx, draft).await?;
        Ok(loaded)
    }

    /// Confirms a programme version's numbers with the document they come from (zone
    /// approvers and platform admins): from then on the pages state the document instead of
    /// "demonstration parameters". The numbers do not change; one event records it.
    pub async fn confirm_subsidy_programme(
        &self,
        actor: &Actor,
        id: &str,
        version: u32,
        document: &str,
    ) -> Result<Programme> {
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        self.require(actor, Action::LoadSubsidyProgrammes, &Resource::Zone, &Basis::None)?;
        let document = document.trim();
        let n = document.chars().count();
        if !(4..=200).contains(&n) || document.chars().any(char::is_control) {
            return Err(FieldError::new(
                "document",
                "length",
                "请写明依据的文件（文号或名称，4–200 个字符）",
                "name the document the numbers come from (4–200 characters)",
            )
            .into());
        }
        let mut tx = self.store.begin_write().await?;
        self.ensure_programmes(&mut tx).await?;
        let mut p = store::programmes(tx.conn())
            .await?
            .into_iter()
            .find(|p| p.id == id && p.version == version)
            .ok_or(ServiceError::NotFound)?;
        if p.confidence.is_fact() {
            return Err(conflict(
                "confirmed",
                format!("方案 {} 第 {} 版已确认", p.name_zh, p.version),
                format!("{} version {} is confirmed already", p.name_en, p.version),
            ));
        }
        let before = p.confidence;
        p.confidence = kebao_domain::catalogue::Confidence::Confirmed;
        p.source = document.to_owned();
        p.label_zh = format!("管委会已确认，依据：{document}");
        p.label_en = format!("Confirmed by the zone committee: {document}");
        store::update_programme(tx.conn(), &p).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "subsidy.programme_confirmed",
            &format!("{}:{}", p.id, p.version),
            serde_json::json!({"programme": p.id, "version": p.version, "document": document, "was": before.code()}),
        );
        self.finish(tx, draft).await?;
        Ok(p)
    }

    /// Replaces the working-day calendar (zone approvers and platform admins).
    pub async fn set_subsidy_calendar(&self, actor: &Actor, text: &str) -> Result<Calendar> {
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        self.require(actor, Action::SetSubsidyCalendar, &Resource::Zone, &Basis::None)?;
        let cal = Calendar::parse(text)?;
        let mut tx = self.store.begin_write().await?;
        store::set_setting(tx.conn(), "calendar", text).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "subsidy.calendar_set",
            "calendar",
            serde_json::json!({"holidays": cal.holidays.len(), "workdays": cal.workdays.len()}),
        );
        self.finish(tx, draft).await?;
        Ok(cal)
    }

    /// Budget left in a programme version (none: no zone budget).
    async fn budget_left(&self, tx: &mut impl kebao_store::Conn, p: &Programme) -> Result<Option<i64>> {
        if p.kind != ProgrammeKind::Zone || p.budget_yuan.is_none() {
            return Ok(None);
        }
        let a = ledger::account(tx.conn(), &budget_account(p)).await?;
        Ok(a.map(|a| a.credits_posted - a.debits_posted - a.debits_pending))
    }

    /// A policy's premium as the subsidy rules count it: what is due in the ledger, or for a
    /// registered policy its insurer has not yet confirmed, the premium as printed (nothing
    /// for one the insurer did not recognise).
    async fn premium_of(
        &self,
        tx: &mut impl kebao_store::Conn,
        p: &kebao_domain::policy::Policy,
    ) -> Result<i64> {
        Ok(match p.status {
            PolicyStatus::Unconfirmed => p.premium.fen(),
            PolicyStatus::Unrecognised => 0,
            _ => self.premium_position(tx, &p.id).await?.due,
        })
    }

    /// Builds the case for a policy under a programme.
    async fn case_for(
        &self,
        tx: &mut impl kebao_store::Conn,
        programmes: &[Programme],
        programme_id: &str,
        policy_id: &str,
        decl: &Declarations,
        with_budget: bool,
    ) -> Result<(Programme, Case, kebao_domain::policy::Policy)> {
        let p = policies::policy(tx.conn(), policy_id).await?;
        if p.status == PolicyStatus::Unrecognised {
            Service::require_confirmed(&p)?;
        }
        let today = self.today();
        let start = p.start_date;
        let prog = kebao_domain::subsidy::version_for(programmes, programme_id, start, today)
            .cloned()
            .ok_or_else(|| {
                ServiceError::from(FieldError::new(
                    "programme",
                    "no_version",
                    format!("补贴方案 `{programme_id}` 没有适用于该保单的版本"),
                    format!("programme `{programme_id}` has no version that applies to this policy"),
                ))
            })?;
        let org = orgs::get(tx.conn(), &p.enterprise_id).await?;
        let quals = orgs::qualifications(tx.conn(), &p.enterprise_id).await?;
        let product_type = p.schedule.product.type_id.clone();
        let input = p.input.clone();
        let mut pos = self.premium_position(tx, &p.id).await?;
        if p.status == PolicyStatus::Unconfirmed {
            // Registered from outside the platform and not yet confirmed: the premium as
            // printed and, with the invoice filed, as paid; a review waits for the insurer.
            pos.due = p.premium.fen();
            pos.paid = p.premium.fen();
        }
        let refunded = pos.refund_paid;
        // Earlier applications of the enterprise in this programme.
        let mine = store::list(tx.conn(), Some(&p.enterprise_id)).await?;
        let live = |a: &&SubsidyApplication| a.programme_id == prog.id && a.counts();
        let cap_year = match prog.cap_year {
            CapYear::PolicyStart => start.year(),
            CapYear::Application => today.year(),
        };
        let granted_in_year: i64 = mine
            .iter()
            .filter(live)
            .filter(|a| a.cap_year == cap_year && a.policy_id.as_deref() != Some(&p.id))
            .map(|a| a.amount.fen())
            .sum();
        let app = policies::application(tx.conn(), &p.application_id).await?;
        let paid_for = |id: &str| mine.iter().filter(live).any(|a| a.policy_id.as_deref() == Some(id));
        let (earlier_years, continuous, cumulative) = match p.subject.object_key() {
            // Per enterprise and insured object, across policies and insurers (rules.md §3.1,
            // §4): the years the programme paid for, whether cover ran up to this start
            // without a gap, and the premium of every policy of the object so far.
            Some(key) => {
                let same: Vec<_> = policies::policies_of_object(tx.conn(), &p.enterprise_id, &key)
                    .await?
                    .into_iter()
                    .filter(|q| {
                        q.id != p.id && q.status != PolicyStatus::Unrecognised && q.start_date <= start
                    })
                    .collect();
                let years = same.iter().filter(|q| q.start_date < start && paid_for(&q.id)).count();
                let reached = same.iter().filter(|q| q.start_date < start).map(|q| q.last_day()).max();
                let continuous = reached.is_some_and(|d| d.next_day().is_some_and(|n| n >= start));
                let mut cumulative = self.premium_of(tx, &p).await?;
                for q in &same {
                    cumulative += self.premium_of(tx, q).await?;
                }
                (years, continuous, cumulative)
            }
            // No object named: the policy's renewal chain, and the enterprise's premium on
            // the same product.
            None => {
                let mut earlier_years = 0usize;
                let mut prev = app.renewal_of.clone();
                let mut hops = 0;
                while let Some(prev_id) = prev.take() {
                    hops += 1;
                    if hops > 50 {
                        break;
                    }
                    if paid_for(&prev_id) {
                        earlier_years += 1;
                    }
                    let pp = policies::policy(tx.conn(), &prev_id).await?;
                    prev = policies::application(tx.conn(), &pp.application_id).await?.renewal_of;
                }
                let continuous = match &app.renewal_of {
                    Some(prev) => {
                        let prev = policies::policy(tx.conn(), prev).await?;
                        prev.last_day().next_day() == Some(start)
                    }
                    None => false,
                };
                let all_pols = policies::policies_of(tx.conn(), &p.enterprise_id).await?;
                let mut cumulative = 0;
                for q in all_pols
                    .iter()
                    .filter(|q| q.enterprise_id == p.enterprise_id && q.product_id == p.product_id)
                {
                    cumulative += self.premium_of(tx, q).await?;
                }
                (earlier_years, continuous, cumulative)
            }
        };
        // Same group: two programmes of one level (zone, national) refuse each other; national
        // compensation applied for or granted is what a zone programme's `stacking` meets.
        let mut stacked = false;
        let mut national_in_group_fen: Option<i64> = None;
        if let Some(group) = &prog.no_stacking_group {
            let zone = |k: ProgrammeKind| k == ProgrammeKind::Zone;
            for a in mine.iter().filter(|a| {
                a.policy_id.as_deref() == Some(p.id.as_str())
                    && a.programme_id != prog.id
                    && !a.status.ended_without_money()
            }) {
                let Some(other) = programmes
                    .iter()
                    .find(|x| x.id == a.programme_id && x.no_stacking_group.as_ref() == Some(group))
                else {
                    continue;
                };
                if zone(other.kind) == zone(prog.kind) {
                    stacked = true;
                } else if zone(prog.kind) {
                    *national_in_group_fen.get_or_insert(0) += a.amount.fen();
                }
            }
        }
        // Already compensated: the platform's own grants on this policy under another programme,
        // whatever the applicant declares.
        let mut compensated_under: Vec<String> = Vec::new();
        for a in mine.iter().filter(|a| {
            a.policy_id.as_deref() == Some(p.id.as_str()) && a.programme_id != prog.id && a.compensated()
        }) {
            if !compensated_under.contains(&a.programme_id) {
                compensated_under.push(a.programme_id.clone());
            }
        }
        let banned_until = store::ban(tx.conn(), &p.enterprise_id, &prog.id).await?;
        let budget_left = if with_budget { self.budget_left(tx, &prog).await? } else { None };
        let case = Case {
            product_type,
            premium_invoiced_fen: pos.net(),
            premium_paid_fen: pos.paid - refunded,
            sum_insured_fen: if input.sum_insured.fen() > 0 {
                input.sum_insured.fen()
            } else {
                input.limit.fen()
            },
            limit_fen: input.limit.fen(),
            policy_start: Some(start),
            policy_end: Some(p.cancelled_on.unwrap_or(p.end_date)),
            applied_on: Some(today),
            qualifications: quals.iter().map(|(_, q)| (q.kind, q.valid_from, q.valid_to)).collect(),
            industries: org.zone_industries.clone(),
            uscc: org.uscc.clone(),
            object_kind: p.subject.object.as_ref().map(|o| o.kind),
            beneficiary_named: p.subject.beneficiary.is_some(),
            year_of_cover: u32::try_from(earlier_years + 1).unwrap_or(u32::MAX),
            continuous,
            cumulative_premium_fen: cumulative,
            granted_in_cap_year_fen: granted_in_year,
            budget_left_fen: budget_left,
            national_in_group_fen,
            stacked,
            contract_amount_fen: decl.contract_amount_yuan.map(|y| y.saturating_mul(100)),
            related_party: decl.related_party,
            already_compensated: decl.already_compensated,
            compensated_under,
            banned_until,
            loan: None,
        };
        Ok((prog, case, p))
    }

    fn may_see_policy(&self, actor: &Actor, p: &kebao_domain::policy::Policy) -> bool {
        self.allows(actor, Action::CheckSubsidy, &crate::policies::policy_resource(p))
    }

    /// The eligibility check for a policy: the amount with its trace, or every failed rule.
    pub async fn check_subsidy(
        &self,
        actor: &Actor,
        policy_id: &str,
        programme_id: &str,
        decl: &Declarations,
    ) -> Result<(Programme, std::result::Result<Grant, Vec<Failure>>)> {
        let programmes = self.subsidy_programmes().await?;
        let mut tx = self.store.begin_read().await?;
        let (prog, case, p) =
            self.case_for(&mut tx, &programmes, programme_id, policy_id, decl, true).await?;
        if !self.may_see_policy(actor, &p) {
            return Err(ServiceError::NotFound);
        }
        let r = assess(&prog, &case);
        Ok((prog, r))
    }

    /// The enterprise applies for a zone subsidy on one of its policies (or, for a national
    /// programme, files its qualification or funding application through the zone).
    pub async fn apply_subsidy(
        &self,
        actor: &Actor,
        policy_id: &str,
        programme_id: &str,
        stage: &str,
        decl: &Declarations,
    ) -> Result<SubsidyApplication> {
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        let mut tx = self.store.begin_write().await?;
        let programmes = self.ensure_programmes(&mut tx).await?;
        let (prog, case, p) =
            self.case_for(&mut tx, &programmes, programme_id, policy_id, decl, false).await?;
        self.require(actor, Action::ApplySubsidy, &crate::policies::policy_resource(&p), &Basis::None)?;
        let (track, stage) = Stage::parse_for(prog.kind, stage)?;
        let today = self.today();
        if stage == Stage::Funding {
            let since = today - time::Duration::days(3 * 365);
            let qualified = store::list(tx.conn(), Some(&p.enterprise_id))
                .await?
                .into_iter()
                .any(|a| a.programme_id == prog.id && a.qualified_since(since));
            if !qualified {
                return Err(conflict(
                    "not_qualified",
                    "须先通过资格审定（三年内有效），再申请补偿资金",
                    "the qualification must be granted first (valid three years)",
                ));
            }
        }
        let grant = if stage == Stage::Qualification {
            // The ministries qualify the product; the platform records the file.
            None
        } else {
            Some(assess(&prog, &case).map_err(|f| failures_error(&f))?)
        };
        let a = self.submitted(
            &prog,
            (track, stage),
            (Some(p.id.clone()), None),
            &p.enterprise_id,
            grant,
            Some(decl.clone()),
            &case,
        );
        store::insert(tx.conn(), &a).await.map_err(|e| match e {
            kebao_store::StoreError::Conflict(_) => conflict(
                "already_applied",
                "该保单已有进行中的申请",
                "the policy already has a live application in this programme",
            ),
            other => other.into(),
        })?;
        self.sync_subsidy_todo(&mut tx, &a, &prog).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "subsidy.applied",
            &a.id,
            serde_json::json!({"programme": prog.id, "version": prog.version, "stage": stage.code(), "policy": p.id, "amount_fen": a.amount.fen()}),
        );
        self.finish(tx, draft).await?;
        Ok(a)
    }

    /// A new application, submitted today for what it names — a catalogue policy or a loan
    /// (`subject`) — with the amount of its assessment; its cap year as the programme counts it.
    #[expect(clippy::too_many_arguments, reason = "one application's fields")]
    fn submitted(
        &self,
        prog: &Programme,
        (track, stage): (Track, Stage),
        (policy_id, loan_id): (Option<String>, Option<String>),
        enterprise_id: &str,
        grant: Option<Grant>,
        declarations: Option<Declarations>,
        case: &Case,
    ) -> SubsidyApplication {
        let today = self.today();
        let now = self.now_us();
        let cap_year = match prog.cap_year {
            CapYear::PolicyStart => case.policy_start.map_or(today.year(), |d| d.year()),
            CapYear::Application => today.year(),
        };
        SubsidyApplication {
            id: self.new_id(),
            programme_id: prog.id.clone(),
            programme_version: prog.version,
            track,
            stage,
            policy_id,
            loan_id,
            enterprise_id: enterprise_id.to_owned(),
            status: SubsidyStatus::Submitted,
            amount: Money::from_fen(grant.as_ref().map_or(0, |g| g.amount_fen)),
            grant,
            declarations,
            applied_on: today,
            cap_year,
            local_reviewer: None,
            dept_reviewer: None,
            notice_from: None,
            notice_to: None,
            confirm_by: None,
            reason: None,
            decision_ref: None,
            created_at_us: now,
            updated_at_us: now,
        }
    }

    /// Builds the case for a loan's guarantee policy under a loan-premium programme: the
    /// premium paid when the policy was issued, and the loan's repayment record.
    async fn case_for_loan(
        &self,
        tx: &mut impl kebao_store::Conn,
        programmes: &[Programme],
        programme_id: &str,
        loan_id: &str,
        with_budget: bool,
    ) -> Result<(Programme, Case, Loan)> {
        let l = loan_store::get(tx.conn(), loan_id).await?;
        let Some(policy) = loan_store::policy_of(tx.conn(), &l.id).await? else {
            return Err(conflict(
                "no_guarantee_policy",
                "该贷款尚无保证保险保单，无保费可补贴",
                "the loan has no guarantee policy: there is no premium to subsidise",
            ));
        };
        let today = self.today();
        let start = policy.start.or(l.disbursed_on).unwrap_or(policy.premium_paid_on);
        let prog = kebao_domain::subsidy::version_for(programmes, programme_id, start, today)
            .cloned()
            .ok_or_else(|| {
                ServiceError::from(FieldError::new(
                    "programme",
                    "no_version",
                    format!("补贴方案 `{programme_id}` 没有适用于该贷款的版本"),
                    format!("programme `{programme_id}` has no version that applies to this loan"),
                ))
            })?;
        let kind = loan_store::schemes(tx.conn())
            .await?
            .into_iter()
            .find(|s| s.id == l.scheme_id && s.version == l.scheme_version)
            .map(|s| s.kind);
        let product_type = match kind {
            Some(SchemeKind::IpPledge) => "ip_pledge_financing_guarantee",
            _ => "loan_guarantee",
        };
        let org = orgs::get(tx.conn(), &l.enterprise_id).await?;
        let quals = orgs::qualifications(tx.conn(), &l.enterprise_id).await?;
        let repayments = loan_store::repayments(tx.conn(), &l.id).await?;
        let claimed = loan_store::claim(tx.conn(), &l.id).await?.is_some();
        let facts = l.disbursed_on.map(|on| loan_facts(&l, on, &repayments, today, claimed));
        let mine = store::list(tx.conn(), Some(&l.enterprise_id)).await?;
        let live = |a: &&SubsidyApplication| a.programme_id == prog.id && a.counts();
        let cap_year = match prog.cap_year {
            CapYear::PolicyStart => start.year(),
            CapYear::Application => today.year(),
        };
        let granted_in_year: i64 = mine
            .iter()
            .filter(live)
            .filter(|a| a.cap_year == cap_year && a.loan_id.as_deref() != Some(&l.id))
            .map(|a| a.amount.fen())
            .sum();
        let on_loan = |a: &&SubsidyApplication| {
            a.loan_id.as_deref() == Some(l.id.as_str()) && a.programme_id != prog.id
        };
        let stacked = prog.no_stacking_group.as_ref().is_some_and(|group| {
            mine.iter().filter(on_loan).filter(|a| !a.status.ended_without_money()).any(|a| {
                programmes
                    .iter()
                    .any(|x| x.id == a.programme_id && x.no_stacking_group.as_ref() == Some(group))
            })
        });
        let mut compensated_under: Vec<String> = Vec::new();
        for a in mine.iter().filter(on_loan).filter(|a| a.compensated()) {
            if !compensated_under.contains(&a.programme_id) {
                compensated_under.push(a.programme_id.clone());
            }
        }
        let banned_until = store::ban(tx.conn(), &l.enterprise_id, &prog.id).await?;
        let budget_left = if with_budget { self.budget_left(tx, &prog).await? } else { None };
        let premium = policy.premium.fen();
        let case = Case {
            product_type: product_type.to_owned(),
            premium_invoiced_fen: premium,
            // The insurer issues the guarantee policy on the premium paid in full.
            premium_paid_fen: premium,
            sum_insured_fen: l.amount.fen(),
            limit_fen: l.amount.fen(),
            policy_start: Some(start),
            policy_end: policy.end,
            applied_on: Some(today),
            qualifications: quals.iter().map(|(_, q)| (q.kind, q.valid_from, q.valid_to)).collect(),
            industries: org.zone_industries.clone(),
            uscc: org.uscc.clone(),
            object_kind: None,
            beneficiary_named: true,
            year_of_cover: 1,
            continuous: false,
            cumulative_premium_fen: premium,
            granted_in_cap_year_fen: granted_in_year,
            budget_left_fen: budget_left,
            national_in_group_fen: None,
            stacked,
            contract_amount_fen: None,
            related_party: false,
            already_compensated: false,
            compensated_under,
            banned_until,
            loan: facts,
        };
        Ok((prog, case, l))
    }

    /// The programmes in force today that subsidise a loan's guarantee premium.
    pub async fn loan_subsidy_programmes(&self) -> Result<Vec<Programme>> {
        let today = self.today();
        let all = self.subsidy_programmes().await?;
        let mut ids: Vec<&str> = all.iter().filter(|p| p.loan.is_some()).map(|p| p.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(ids
            .into_iter()
            .filter_map(|id| kebao_domain::subsidy::version_for(&all, id, today, today).cloned())
            .collect())
    }

    /// The eligibility check of a loan's guarantee premium under a loan-premium programme:
    /// the amount with its trace, or every failed rule (the borrower, the zone's officers).
    pub async fn check_loan_subsidy(
        &self,
        actor: &Actor,
        loan_id: &str,
        programme_id: &str,
    ) -> Result<(Programme, std::result::Result<Grant, Vec<Failure>>)> {
        let programmes = self.subsidy_programmes().await?;
        let mut tx = self.store.begin_read().await?;
        let l = loan_store::get(tx.conn(), loan_id).await?;
        if !self.allows(actor, Action::CheckSubsidy, &crate::loans::loan_resource(&l)) {
            return Err(ServiceError::NotFound);
        }
        let (prog, case, _) = self.case_for_loan(&mut tx, &programmes, programme_id, loan_id, true).await?;
        let r = assess(&prog, &case);
        Ok((prog, r))
    }

    /// The borrower applies for the premium subsidy of its repaid loan's guarantee policy.
    pub async fn apply_loan_subsidy(
        &self,
        actor: &Actor,
        loan_id: &str,
        programme_id: &str,
    ) -> Result<SubsidyApplication> {
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        let mut tx = self.store.begin_write().await?;
        let l = loan_store::get(tx.conn(), loan_id).await?;
        self.require(actor, Action::ApplySubsidy, &crate::loans::loan_resource(&l), &Basis::None)?;
        let programmes = self.ensure_programmes(&mut tx).await?;
        let (prog, case, l) = self.case_for_loan(&mut tx, &programmes, programme_id, loan_id, false).await?;
        let grant = assess(&prog, &case).map_err(|f| failures_error(&f))?;
        let now = self.now_us();
        // Nothing is declared for a loan: the platform holds its record.
        let a = self.submitted(
            &prog,
            (Track::Zone, Stage::Subsidy),
            (None, Some(l.id.clone())),
            &l.enterprise_id,
            Some(grant),
            None,
            &case,
        );
        store::insert(tx.conn(), &a).await.map_err(|e| match e {
            kebao_store::StoreError::Conflict(_) => conflict(
                "already_applied",
                "该贷款已有进行中的补贴申请",
                "the loan already has a live application in this programme",
            ),
            other => other.into(),
        })?;
        self.sync_subsidy_todo(&mut tx, &a, &prog).await?;
        kebao_store::todos::close_todo(tx.conn(), "loan_subsidy_apply", &l.id, now).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "subsidy.applied",
            &a.id,
            serde_json::json!({"programme": prog.id, "version": prog.version, "stage": a.stage.code(), "loan": l.id, "amount_fen": a.amount.fen()}),
        );
        self.finish(tx, draft).await?;
        Ok(a)
    }

    /// Once a loan is repaid in full: if a loan-premium programme would subsidise its
    /// guarantee premium, the borrower's admin gets a to-do to apply (closed by the
    /// application). Returns the programme's name when there is one.
    pub(crate) async fn offer_loan_subsidy(&self, tx: &mut Tx, l: &Loan) -> Result<Option<(String, String)>> {
        let programmes = self.ensure_programmes(tx).await?;
        let today = self.today();
        let mut ids: Vec<&str> =
            programmes.iter().filter(|p| p.loan.is_some()).map(|p| p.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            if kebao_domain::subsidy::version_for(&programmes, id, today, today).is_none() {
                continue;
            }
            let (prog, case, _) = self.case_for_loan(tx, &programmes, id, &l.id, true).await?;
            let Ok(g) = assess(&prog, &case) else { continue };
            let amount = Money::from_fen(g.amount_fen).to_yuan_string();
            self.loan_todo(
                tx,
                l,
                &l.enterprise_id,
                Role::EnterpriseAdmin,
                "loan_subsidy_apply",
                ("申请贷款保证保险保费补贴", "Apply for the loan guarantee premium subsidy"),
                (
                    &format!("{}，可补贴 {amount} 元", prog.name_zh),
                    &format!("{}, {amount} yuan", prog.name_en),
                ),
            )
            .await?;
            return Ok(Some((prog.name_zh, prog.name_en)));
        }
        Ok(None)
    }

    /// Whether the actor may apply for the premium subsidy of the loan (the borrower's admin).
    pub fn may_apply_loan_subsidy(&self, actor: &Actor, l: &Loan) -> bool {
        self.allows(actor, Action::ApplySubsidy, &crate::loans::loan_resource(l))
    }

    /// The subsidy applications naming a loan (for whoever may see the loan).
    pub async fn loan_subsidies(&self, actor: &Actor, loan_id: &str) -> Result<Vec<SubsidyApplication>> {
        let mut tx = self.store.begin_read().await?;
        let l = loan_store::get(tx.conn(), loan_id).await?;
        self.require(actor, Action::ReadLoan, &crate::loans::loan_resource(&l), &Basis::None)?;
        Ok(store::of_loan(tx.conn(), loan_id).await?)
    }

    /// Attaches a document to an application (its enterprise, before the review ends).
    pub async fn add_subsidy_document(
        &self,
        actor: &Actor,
        id: &str,
        kind: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<()> {
        self.attach_as(
            actor,
            &kebao_domain::attachment::Owner::subsidy_application(id),
            kind,
            file_name,
            bytes,
        )
        .await?;
        Ok(())
    }

    /// The codes of the documents an application's programme asks for.
    pub(crate) async fn subsidy_documents_asked(&self, tx: &mut Tx, id: &str) -> Result<Vec<String>> {
        let a = store::get(tx.conn(), id).await?;
        let programmes = self.ensure_programmes(tx).await?;
        Ok(programmes
            .into_iter()
            .find(|p| p.id == a.programme_id && p.version == a.programme_version)
            .map(|p| p.documents.into_iter().map(|d| d.code).collect())
            .unwrap_or_default())
    }

    /// Refuses to pass a review while the policy is a registered one its insurer has not
    /// confirmed, or while a document the programme lists is missing.
    async fn require_review_ready(
        &self,
        tx: &mut Tx,
        a: &SubsidyApplication,
        prog: &Programme,
    ) -> Result<()> {
        if let Some(policy_id) = &a.policy_id {
            Service::require_confirmed(&policies::policy(tx.conn(), policy_id).await?)?;
        }
        let owner = kebao_domain::attachment::Owner::subsidy_application(&a.id);
        let filed = kebao_store::attachments::of_owner(tx.conn(), &owner).await?;
        let labels: Vec<&str> = filed.iter().map(|d| d.label.as_str()).collect();
        let missing = prog.missing_documents(&labels);
        if missing.is_empty() {
            return Ok(());
        }
        Err(conflict(
            "missing_documents",
            format!(
                "申报材料不全，缺少：{}",
                missing.iter().map(|d| d.name_zh.as_str()).collect::<Vec<_>>().join("、")
            ),
            format!(
                "documents are missing: {}",
                missing.iter().map(|d| d.name_en.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ))
    }

    /// The application, read locked in the write transaction, and its programme version.
    async fn load_app(&self, tx: &mut Tx, id: &str) -> Result<(SubsidyApplication, Programme)> {
        let a = store::get_for_update(tx.conn(), id, self.store.backend()).await?;
        let programmes = self.ensure_programmes(tx).await?;
        let p = programmes
            .into_iter()
            .find(|p| p.id == a.programme_id && p.version == a.programme_version)
            .ok_or_else(|| ServiceError::Internal("programme version missing".into()))?;
        Ok((a, p))
    }

    async fn save(
        &self,
        tx: Tx,
        actor: &Actor,
        a: &mut SubsidyApplication,
        from: SubsidyStatus,
        action: &str,
        mut extra: serde_json::Value,
    ) -> Result<SubsidyApplication> {
        let mut tx = tx;
        // A reason is a person's words: it goes in the event's erasable part.
        let reason = extra.as_object_mut().and_then(|o| o.remove("reason"));
        a.updated_at_us = self.now_us();
        store::update(tx.conn(), a, from).await?;
        let programmes = self.ensure_programmes(&mut tx).await?;
        if let Some(prog) =
            programmes.iter().find(|p| p.id == a.programme_id && p.version == a.programme_version)
        {
            self.sync_subsidy_todo(&mut tx, a, prog).await?;
        }
        let draft = EventDraft::new(
            &actor.log_name(),
            action,
            &a.id,
            serde_json::json!({"from": from.code(), "to": a.status.code(), "detail": extra}),
        );
        let draft = Self::with_personal(draft, serde_json::json!({ "reason": reason }))?;
        self.finish(tx, draft).await?;
        Ok(a.clone())
    }

    /// Makes the application's next step the to-do of whoever takes it: a submitted one the
    /// zone reviewers'; a reviewed one, one in notice, an approved one and the national file
    /// the approvers'; an offer the enterprise's administrator's. A finished one is no one's.
    pub(crate) async fn sync_subsidy_todo(
        &self,
        tx: &mut Tx,
        a: &SubsidyApplication,
        prog: &Programme,
    ) -> Result<()> {
        use kebao_store::todos::{self, Todo};
        let now = self.now_us();
        todos::close_todo(tx.conn(), "subsidy", &a.id, now).await?;
        if a.status == SubsidyStatus::ClawedBack {
            todos::close_todo(tx.conn(), "subsidy_stacking", &a.id, now).await?;
        }
        let (role, zh, en) = match a.status {
            SubsidyStatus::Submitted => (Role::ZoneReviewer, "属地初审", "local review"),
            SubsidyStatus::LocalReviewed => (Role::ZoneApprover, "部门复审", "department review"),
            SubsidyStatus::InNotice => {
                (Role::ZoneApprover, "公示期满后批准", "approval when the notice ends")
            }
            SubsidyStatus::Approved => (Role::ZoneApprover, "拨付", "disbursement"),
            SubsidyStatus::Recommended => (Role::ZoneApprover, "报送部委", "forwarding to the ministries"),
            SubsidyStatus::Forwarded => (Role::ZoneApprover, "登记部委决定", "the ministries' decision"),
            SubsidyStatus::Offered => (Role::EnterpriseAdmin, "确认享受免申即享补贴", "confirming the offer"),
            _ => return Ok(()),
        };
        let applicant = orgs::get(tx.conn(), &a.enterprise_id).await.map(|o| o.name).unwrap_or_default();
        let orgs_for: Vec<String> = if role == Role::EnterpriseAdmin {
            vec![a.enterprise_id.clone()]
        } else {
            let mut v: Vec<String> = kebao_store::users::any_with_role(tx.conn(), role)
                .await?
                .into_iter()
                .map(|(_, o)| o)
                .collect();
            v.sort();
            v.dedup();
            v
        };
        for org in orgs_for {
            todos::add_todo(
                tx.conn(),
                &Todo {
                    id: self.new_id(),
                    org_id: org,
                    role: role.code().to_owned(),
                    kind: "subsidy".into(),
                    subject: a.id.clone(),
                    title_zh: format!(
                        "补贴申请待{zh}：{applicant}（{}，{} 元）",
                        prog.name_zh,
                        a.amount.display_yuan()
                    ),
                    title_en: format!(
                        "Subsidy application awaiting {en}: {applicant} ({}, {} yuan)",
                        prog.name_en,
                        a.amount.display_yuan()
                    ),
                    link: format!("/subsidies/{}", a.id),
                    created_at_us: now,
                    done_at_us: None,
                },
            )
            .await?;
        }
        Ok(())
    }

    fn reserve_transfer(p: &Programme, a: &SubsidyApplication) -> Transfer {
        Transfer {
            id: format!("subsidy-reserve:{}", a.id),
            debit_account_id: budget_account(p),
            credit_account_id: format!("sub:app:{}:payable", a.id),
            amount: a.amount.fen(),
            pending_id: None,
            code: codes::RESERVE,
            event_ref: a.id.clone(),
            flags: TransferFlags { pending: true, ..Default::default() },
        }
    }

    async fn reserve(&self, tx: &mut Tx, p: &Programme, a: &SubsidyApplication) -> Result<()> {
        let payable = format!("sub:app:{}:payable", a.id);
        let guard = AccountFlags { debits_must_not_exceed_credits: true, ..Default::default() };
        self.ensure_account(tx, &payable, &a.enterprise_id, "subsidy_payable", guard).await?;
        self.expect_ok(tx, &[Self::reserve_transfer(p, a)]).await?;
        Ok(())
    }

    async fn release(&self, tx: &mut Tx, p: &Programme, a: &SubsidyApplication, post: bool) -> Result<()> {
        let r = Self::reserve_transfer(p, a);
        let t = Transfer {
            id: format!("subsidy-{}:{}", if post { "post" } else { "void" }, a.id),
            amount: 0,
            pending_id: Some(r.id.clone()),
            flags: TransferFlags { post_pending: post, void_pending: !post, ..Default::default() },
            ..r
        };
        self.expect_ok(tx, &[t]).await?;
        Ok(())
    }

    /// Reserves the amount in the budget and opens the public notice from today.
    async fn open_notice(&self, tx: &mut Tx, prog: &Programme, a: &mut SubsidyApplication) -> Result<()> {
        self.reserve(tx, prog, a).await?;
        let cal = Self::calendar_in(tx).await?;
        let today = self.today();
        a.notice_from = Some(today);
        a.notice_to = Some(cal.add_working_days(today, prog.notice_working_days));
        Ok(())
    }

    /// Local review by a zone reviewer: pass to the department, or reject with reasons.
    pub async fn subsidy_local_review(
        &self,
        actor: &Actor,
        id: &str,
        pass: bool,
        reason: &str,
    ) -> Result<SubsidyApplication> {
        let (mut tx, mut a, prog, to) = self.begin_step(actor, id, SubsidyStep::LocalReview, pass).await?;
        let from = a.status;
        a.local_reviewer = actor.user().map(|u| u.id.clone());
        if pass {
            self.require_review_ready(&mut tx, &a, &prog).await?;
        } else {
            a.reason = Some(parse_reason(reason)?);
        }
        a.status = to;
        let extra = serde_json::json!({"pass": pass, "reason": reason});
        self.save(tx, actor, &mut a, from, "subsidy.local_reviewed", extra).await
    }

    /// Department review by a zone approver who did not do the local review: re-runs the
    /// rules, reserves the amount in the budget (pending) and opens the public notice; or
    /// rejects. Refused when the budget cannot hold the amount.
    pub async fn subsidy_department_review(
        &self,
        actor: &Actor,
        id: &str,
        pass: bool,
        reason: &str,
    ) -> Result<SubsidyApplication> {
        let (mut tx, mut a, prog, to) =
            self.begin_step(actor, id, SubsidyStep::DepartmentReview, pass).await?;
        let from = a.status;
        a.dept_reviewer = actor.user().map(|u| u.id.clone());
        if !pass {
            a.reason = Some(parse_reason(reason)?);
            a.status = to;
            let extra = serde_json::json!({"pass": false, "reason": reason});
            return self.save(tx, actor, &mut a, from, "subsidy.department_reviewed", extra).await;
        }
        self.require_review_ready(&mut tx, &a, &prog).await?;
        // The caps may have moved since the application: assess again (without the budget,
        // which the reservation itself enforces).
        let programmes = self.ensure_programmes(&mut tx).await?;
        let decl = a.declarations.clone().unwrap_or_default();
        let case = match (&a.loan_id, &a.policy_id) {
            (Some(loan_id), _) => {
                self.case_for_loan(&mut tx, &programmes, &a.programme_id, loan_id, false).await?.1
            }
            (None, policy_id) => {
                let policy_id = policy_id.clone().unwrap_or_default();
                self.case_for(&mut tx, &programmes, &a.programme_id, &policy_id, &decl, false).await?.1
            }
        };
        let grant = assess(&prog, &case).map_err(|f| failures_error(&f))?;
        a.amount = Money::from_fen(grant.amount_fen);
        a.grant = Some(grant);
        self.open_notice(&mut tx, &prog, &mut a).await?;
        a.status = to;
        let notice_to = a.notice_to.map(|d| d.to_string());
        let extra = serde_json::json!({"pass": true, "amount_fen": a.amount.fen(), "notice_to": notice_to});
        self.save(tx, actor, &mut a, from, "subsidy.department_reviewed", extra).await
    }

    /// Anyone signed in may object during the public notice.
    pub async fn object_to_subsidy(&self, actor: &Actor, id: &str, text: &str) -> Result<Objection> {
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        let text = Objection::parse_text(text)?;
        let mut tx = self.store.begin_write().await?;
        let a = store::get_for_update(tx.conn(), id, self.store.backend()).await?;
        if !a.notice_open(self.today()) {
            return Err(conflict(
                "not_in_notice",
                "该申请不在公示期内",
                "the application is not in its public notice",
            ));
        }
        let o = Objection {
            id: self.new_id(),
            application_id: id.to_owned(),
            author: actor.log_name(),
            text,
            resolution: None,
            at_us: self.now_us(),
        };
        store::insert_objection(tx.conn(), &o).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "subsidy.objection",
            id,
            serde_json::json!({"objection": o.id}),
        );
        self.finish(tx, draft).await?;
        Ok(o)
    }

    /// A zone approver resolves an objection; an upheld one rejects the application and
    /// releases its reservation.
    pub async fn resolve_subsidy_objection(
        &self,
        actor: &Actor,
        id: &str,
        objection_id: &str,
        upheld: bool,
        resolution: &str,
    ) -> Result<SubsidyApplication> {
        self.zone_staff(actor, Action::DecideSubsidies)?;
        let resolution = Resolution { upheld, text: parse_reason(resolution)? };
        let mut tx = self.store.begin_write().await?;
        let (mut a, prog) = self.load_app(&mut tx, id).await?;
        if !store::objections(tx.conn(), id).await?.iter().any(|o| o.id == objection_id) {
            return Err(ServiceError::NotFound);
        }
        store::resolve_objection(tx.conn(), objection_id, &resolution).await.map_err(|e| match e {
            kebao_store::StoreError::Conflict(_) => {
                conflict("resolved", "该异议已处理", "the objection is already resolved")
            }
            other => other.into(),
        })?;
        let from = a.status;
        if upheld && from.holds_budget() {
            let to = a.apply(SubsidyStep::Reject, true).map_err(ServiceError::Conflict)?;
            self.release(&mut tx, &prog, &a, false).await?;
            a.status = to;
            a.reason = Some(format!("公示异议成立：{}", resolution.text));
        }
        let extra = serde_json::json!({"objection": objection_id, "upheld": upheld});
        self.save(tx, actor, &mut a, from, "subsidy.objection_resolved", extra).await
    }

    /// Approval after the notice period with no open objection.
    pub async fn approve_subsidy(&self, actor: &Actor, id: &str) -> Result<SubsidyApplication> {
        let (mut tx, mut a, _, to) = self.begin_step(actor, id, SubsidyStep::Approve, true).await?;
        let open = store::objections(tx.conn(), id).await?.iter().filter(|o| o.is_open()).count();
        a.check_approval(self.today(), open).map_err(ServiceError::Conflict)?;
        let from = a.status;
        a.status = to;
        let extra = serde_json::json!({});
        self.save(tx, actor, &mut a, from, "subsidy.approved", extra).await
    }

    /// Disbursement: the reservation is posted and paid to the enterprise (by reference).
    pub async fn disburse_subsidy(
        &self,
        actor: &Actor,
        id: &str,
        reference: &str,
    ) -> Result<SubsidyApplication> {
        let (mut tx, mut a, prog, to) = self.begin_step(actor, id, SubsidyStep::Disburse, true).await?;
        let reference = reference.trim();
        if reference.is_empty() || reference.len() > 64 {
            return Err(FieldError::new(
                "reference",
                "required",
                "请填写拨付凭证号（1–64 个字符）",
                "give the payment reference (1 to 64 characters)",
            )
            .into());
        }
        self.release(&mut tx, &prog, &a, true).await?;
        let received = format!("org:{}:subsidies_received", a.enterprise_id);
        self.ensure_account(
            &mut tx,
            &received,
            &a.enterprise_id,
            "subsidies_received",
            AccountFlags::default(),
        )
        .await?;
        let pay = Transfer {
            id: format!("subsidy-paid:{}", a.id),
            debit_account_id: format!("sub:app:{}:payable", a.id),
            credit_account_id: received,
            amount: a.amount.fen(),
            pending_id: None,
            code: codes::DISBURSE,
            event_ref: a.id.clone(),
            flags: TransferFlags::default(),
        };
        self.expect_ok(&mut tx, &[pay]).await?;
        let from = a.status;
        a.status = to;
        a.decision_ref = Some(reference.to_owned());
        let extra = serde_json::json!({"reference": reference, "amount_fen": a.amount.fen()});
        self.save(tx, actor, &mut a, from, "subsidy.disbursed", extra).await
    }

    /// Rejects a zone application before disbursement, releasing any reservation.
    pub async fn reject_subsidy(&self, actor: &Actor, id: &str, reason: &str) -> Result<SubsidyApplication> {
        let (mut tx, mut a, prog, to) = self.begin_step(actor, id, SubsidyStep::Reject, true).await?;
        let reason = parse_reason(reason)?;
        let from = a.status;
        if from.holds_budget() {
            self.release(&mut tx, &prog, &a, false).await?;
        }
        a.status = to;
        a.reason = Some(reason.clone());
        let extra = serde_json::json!({"reason": reason});
        self.save(tx, actor, &mut a, from, "subsidy.rejected", extra).await
    }

    /// Claws back a disbursed subsidy (the policy was surrendered, or fraud was found); fraud
    /// also bans the enterprise from the programme for the programme's ban period.
    pub async fn claw_back_subsidy(
        &self,
        actor: &Actor,
        id: &str,
        fraud: bool,
        reason: &str,
    ) -> Result<SubsidyApplication> {
        let (mut tx, mut a, prog, to) = self.begin_step(actor, id, SubsidyStep::ClawBack, true).await?;
        let reason = parse_reason(reason)?;
        let t = Transfer {
            id: format!("subsidy-clawback:{}", a.id),
            debit_account_id: format!("org:{}:subsidies_received", a.enterprise_id),
            credit_account_id: APPROPRIATION.to_owned(),
            amount: a.amount.fen(),
            pending_id: None,
            code: codes::CLAWBACK,
            event_ref: a.id.clone(),
            flags: TransferFlags::default(),
        };
        self.expect_ok(&mut tx, &[t]).await?;
        let mut ban = None;
        if fraud && prog.ban_years > 0 {
            let today = self.today();
            let until = Date::from_calendar_date(
                today.year() + i32::try_from(prog.ban_years).unwrap_or(3),
                today.month(),
                today.day().min(28),
            )
            .unwrap_or(today);
            store::set_ban(tx.conn(), &a.enterprise_id, &a.programme_id, until, &reason).await?;
            ban = Some(until.to_string());
        }
        let from = a.status;
        a.status = to;
        a.reason = Some(reason.clone());
        let extra = serde_json::json!({"fraud": fraud, "reason": reason, "banned_until": ban});
        self.save(tx, actor, &mut a, from, "subsidy.clawed_back", extra).await
    }

    /// The auto-grant flow: every in-force policy eligible under the programme and without an
    /// application goes onto the notice list as an offer the enterprise confirms. Offers past
    /// their confirmation date lapse. Returns the number of new offers.
    pub async fn offer_auto_grants(&self, actor: &Actor, programme_id: &str) -> Result<usize> {
        self.zone_staff(actor, Action::DecideSubsidies)?;
        let mut tx = self.store.begin_write().await?;
        let programmes = self.ensure_programmes(&mut tx).await?;
        let today = self.today();
        let Some(prog) = programmes
            .iter()
            .filter(|p| p.id == programme_id && p.in_force_on(today))
            .max_by_key(|p| p.version)
            .cloned()
        else {
            return Err(FieldError::new(
                "programme",
                "no_version",
                format!("方案 `{programme_id}` 今天没有有效版本"),
                format!("programme `{programme_id}` has no version in force today"),
            )
            .into());
        };
        let Some(auto) = prog.auto_grant else {
            return Err(conflict("no_auto_grant", "该方案未设免申即享", "the programme has no auto-grant"));
        };
        self.lapse_offers(&mut tx).await?;
        let cal = Self::calendar_in(&mut tx).await?;
        let mut n = 0;
        let all = policies::all_policies(tx.conn()).await?;
        let existing = store::list(tx.conn(), None).await?;
        // Only policies of a product type the programme covers can be offered anything: the
        // others would fail its `product_type` rule, after a dozen reads each.
        let offered: std::collections::HashSet<&str> = existing
            .iter()
            .filter(|a| a.programme_id == prog.id)
            .filter_map(|a| a.policy_id.as_deref())
            .collect();
        for p in all.iter().filter(|p| {
            p.status == kebao_domain::policy::PolicyStatus::InForce
                && programmes
                    .iter()
                    .filter(|v| v.id == prog.id)
                    .any(|v| v.group_of(&p.schedule.product.type_id).is_some())
                && !offered.contains(p.id.as_str())
        }) {
            if existing.iter().any(|a| {
                a.policy_id.as_deref() == Some(&p.id)
                    // One offer or application per policy: a lapsed offer was waived, a
                    // rejected application was decided.
                    && a.programme_id == prog.id
            }) {
                continue;
            }
            let Ok((_, case, _)) =
                self.case_for(&mut tx, &programmes, &prog.id, &p.id, &Declarations::default(), false).await
            else {
                continue;
            };
            let Ok(grant) = assess(&prog, &case) else { continue };
            let now = self.now_us();
            let a = SubsidyApplication {
                id: self.new_id(),
                programme_id: prog.id.clone(),
                programme_version: prog.version,
                track: Track::Auto,
                stage: Stage::Subsidy,
                policy_id: Some(p.id.clone()),
                loan_id: None,
                enterprise_id: p.enterprise_id.clone(),
                status: SubsidyStatus::Offered,
                amount: Money::from_fen(grant.amount_fen),
                grant: Some(grant),
                declarations: None,
                applied_on: today,
                cap_year: today.year(),
                local_reviewer: None,
                dept_reviewer: None,
                notice_from: None,
                notice_to: None,
                confirm_by: Some(cal.add_working_days(today, auto.confirm_working_days)),
                reason: None,
                decision_ref: None,
                created_at_us: now,
                updated_at_us: now,
            };
            store::insert(tx.conn(), &a).await?;
            self.sync_subsidy_todo(&mut tx, &a, &prog).await?;
            n += 1;
        }
        let draft = EventDraft::new(
            &actor.log_name(),
            "subsidy.auto_offered",
            &prog.id,
            serde_json::json!({"offers": n, "version": prog.version}),
        );
        self.finish(tx, draft).await?;
        Ok(n)
    }

    /// Offers past their confirmation date lapse (in the caller's transaction and event).
    async fn lapse_offers(&self, tx: &mut Tx) -> Result<()> {
        let today = self.today();
        for mut a in store::list(tx.conn(), None).await? {
            if a.offer_expired(today) {
                let from = a.status;
                a.status = a.apply(SubsidyStep::Lapse, true).map_err(ServiceError::Conflict)?;
                a.updated_at_us = self.now_us();
                store::update(tx.conn(), &a, from).await?;
                kebao_store::todos::close_todo(tx.conn(), "subsidy", &a.id, self.now_us()).await?;
            }
        }
        Ok(())
    }

    /// The enterprise confirms an offer in time: the amount is reserved and the public notice opens.
    pub async fn confirm_subsidy_offer(&self, actor: &Actor, id: &str) -> Result<SubsidyApplication> {
        let (mut tx, mut a, prog, to) = self.begin_step(actor, id, SubsidyStep::Confirm, true).await?;
        let from = a.status;
        if a.offer_expired(self.today()) {
            a.status = a.apply(SubsidyStep::Lapse, true).map_err(ServiceError::Conflict)?;
            let extra = serde_json::json!({});
            self.save(tx, actor, &mut a, from, "subsidy.lapsed", extra).await?;
            return Err(conflict(
                "lapsed",
                "已超过确认期限，视为放弃",
                "the confirmation period has passed; the offer lapsed",
            ));
        }
        self.open_notice(&mut tx, &prog, &mut a).await?;
        a.status = to;
        let extra = serde_json::json!({"amount_fen": a.amount.fen()});
        self.save(tx, actor, &mut a, from, "subsidy.confirmed", extra).await
    }

    /// National files: the zone recommends (a reviewer), forwards (an approver), and records
    /// the ministries' decision (an approver) with its reference and, for funding, the amount.
    pub async fn national_step(
        &self,
        actor: &Actor,
        id: &str,
        step: SubsidyStep,
        approved: bool,
        amount: Money,
        reference: &str,
    ) -> Result<SubsidyApplication> {
        if !matches!(step, SubsidyStep::Recommend | SubsidyStep::Forward | SubsidyStep::Decision) {
            return Err(FieldError::new(
                "step",
                "not_national",
                format!("「{}」不是国家补偿申报的步骤", step.label_zh()),
                format!("`{}` is not a step of a national file", step.code()),
            )
            .into());
        }
        let (mut tx, mut a, prog, to) = self.begin_step(actor, id, step, approved).await?;
        let from = a.status;
        let who = actor.user().map(|u| u.id.clone());
        match step {
            SubsidyStep::Recommend => {
                a.local_reviewer = who;
                if approved {
                    self.require_review_ready(&mut tx, &a, &prog).await?;
                } else {
                    a.reason = Some(parse_reason(reference)?);
                }
            }
            SubsidyStep::Forward => a.dept_reviewer = who,
            _ => {
                let r = reference.trim();
                if r.is_empty() || r.len() > 100 {
                    return Err(FieldError::new(
                        "reference",
                        "required",
                        "请填写部委批复文号",
                        "give the ministries' decision reference",
                    )
                    .into());
                }
                a.decision_ref = Some(r.to_owned());
                // Funding granted: the ministries' amount.
                if to.is_paid() {
                    if amount.fen() <= 0 {
                        return Err(FieldError::new(
                            "amount_yuan",
                            "not_positive",
                            "请填写核定的补偿金额",
                            "give the amount granted",
                        )
                        .into());
                    }
                    a.amount = amount;
                }
            }
        }
        a.status = to;
        // National money granted on a policy the zone already subsidised under the same
        // no-stacking group: the zone grant is flagged for clawback or netting.
        let mut flagged: Vec<String> = Vec::new();
        if to.is_paid() {
            flagged = self.flag_zone_grants(&mut tx, &a, &prog).await?;
        }
        let extra = serde_json::json!({"step": step.code(), "approved": approved, "reference": reference,
            "amount_fen": amount.fen(), "zone_grants_flagged": flagged});
        self.save(tx, actor, &mut a, from, "subsidy.national_step", extra).await
    }

    /// The zone grants (reserved, approved or paid) on the national application's policy under
    /// a zone programme of the same no-stacking group: each becomes a to-do of the zone's
    /// approvers, to claw back or net. Returns their ids.
    async fn flag_zone_grants(
        &self,
        tx: &mut Tx,
        national: &SubsidyApplication,
        prog: &Programme,
    ) -> Result<Vec<String>> {
        let Some(group) = &prog.no_stacking_group else { return Ok(Vec::new()) };
        let Some(policy) = national.policy_id.as_deref() else { return Ok(Vec::new()) };
        let programmes = self.ensure_programmes(tx).await?;
        let now = self.now_us();
        let mut out = Vec::new();
        for z in store::list(tx.conn(), Some(&national.enterprise_id)).await? {
            let zone_in_group = programmes.iter().any(|x| {
                x.id == z.programme_id
                    && x.kind == ProgrammeKind::Zone
                    && x.no_stacking_group.as_ref() == Some(group)
            });
            let money = matches!(
                z.status,
                SubsidyStatus::InNotice | SubsidyStatus::Approved | SubsidyStatus::Disbursed
            );
            if z.policy_id.as_deref() != Some(policy) || !zone_in_group || !money {
                continue;
            }
            let holder = orgs::get(tx.conn(), &z.enterprise_id).await.map(|o| o.name).unwrap_or_default();
            let approvers: Vec<String> = {
                let mut v: Vec<String> = kebao_store::users::any_with_role(tx.conn(), Role::ZoneApprover)
                    .await?
                    .into_iter()
                    .map(|(_, o)| o)
                    .collect();
                v.sort();
                v.dedup();
                v
            };
            for org in approvers {
                kebao_store::todos::add_todo(
                    tx.conn(),
                    &kebao_store::todos::Todo {
                        id: self.new_id(),
                        org_id: org,
                        role: Role::ZoneApprover.code().to_owned(),
                        kind: "subsidy_stacking".into(),
                        subject: z.id.clone(),
                        title_zh: format!(
                            "国家补偿已核定，示范区补贴须追回或抵扣：{holder}（{} 元）",
                            z.amount.display_yuan()
                        ),
                        title_en: format!(
                            "National compensation granted: claw back or net the zone subsidy of {holder} ({} yuan)",
                            z.amount.display_yuan()
                        ),
                        link: format!("/subsidies/{}", z.id),
                        created_at_us: now,
                        done_at_us: None,
                    },
                )
                .await?;
            }
            out.push(z.id.clone());
        }
        Ok(out)
    }

    /// Applications the actor may see: its enterprise's, or all for the zone.
    pub async fn subsidy_applications(&self, actor: &Actor) -> Result<Vec<SubsidyApplication>> {
        let all = self.allows(actor, Action::ReadAllSubsidies, &Resource::Zone);
        let mut tx = self.store.begin_read().await?;
        if all {
            Ok(store::list(tx.conn(), None).await?)
        } else {
            let org = actor.org_id().ok_or(ServiceError::Unauthenticated("sign in first"))?.to_owned();
            Ok(store::list(tx.conn(), Some(&org)).await?)
        }
    }

    /// One application with its objections and documents.
    pub async fn subsidy_application(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<(SubsidyApplication, Vec<Objection>, Vec<(String, String, String, i64)>)> {
        let mut tx = self.store.begin_read().await?;
        let a = store::get(tx.conn(), id).await?;
        let resource = subsidy_resource(&a);
        // In public notice the application is public to signed-in users (that is what a notice is).
        if !self.allows(actor, Action::ReadSubsidy, &resource) {
            return Err(ServiceError::NotFound);
        }
        let objections = store::objections(tx.conn(), id).await?;
        // The public sees what the notice publishes; the applicant's documents and declarations
        // stay with the applicant and the zone.
        let insider = self.allows(actor, Action::ReadSubsidyDetails, &resource);
        let docs = if insider {
            let owner = kebao_domain::attachment::Owner::subsidy_application(id);
            kebao_store::attachments::of_owner(tx.conn(), &owner)
                .await?
                .into_iter()
                .map(|d| (d.id, d.file_name, d.sha256, d.size))
                .collect()
        } else {
            Vec::new()
        };
        let mut a = a;
        if !insider {
            a.declarations = None;
        }
        Ok((a, objections, docs))
    }

    /// The enterprise's name and the policy's number of an application (shown on its page;
    /// the caller has already been allowed to see the application).
    pub async fn subsidy_parties(&self, a: &SubsidyApplication) -> Result<(String, String)> {
        let mut tx = self.store.begin_read().await?;
        let name = orgs::get(tx.conn(), &a.enterprise_id).await?.name;
        let number = Self::subsidy_subject_number(&mut tx, a).await?;
        Ok((name, number))
    }

    /// The number of the policy an application is for: the catalogue policy's, or the loan's
    /// guarantee policy's.
    async fn subsidy_subject_number(
        tx: &mut impl kebao_store::Conn,
        a: &SubsidyApplication,
    ) -> Result<String> {
        Ok(match (&a.policy_id, &a.loan_id) {
            (Some(p), _) => policies::policy(tx.conn(), p).await?.number,
            (None, Some(l)) => {
                loan_store::policy_of(tx.conn(), l).await?.map(|p| p.number).unwrap_or_default()
            }
            (None, None) => String::new(),
        })
    }

    /// The public notice roster: applications in notice (or of one status), with the enterprise's name.
    pub async fn subsidy_roster(
        &self,
        status: SubsidyStatus,
    ) -> Result<Vec<(SubsidyApplication, String, String)>> {
        let mut tx = self.store.begin_read().await?;
        let mut out = Vec::new();
        for a in store::list(tx.conn(), None).await?.into_iter().filter(|a| a.status == status) {
            let org = orgs::get(tx.conn(), &a.enterprise_id).await?;
            let number = Self::subsidy_subject_number(&mut tx, &a).await?;
            out.push((a, org.name, number));
        }
        Ok(out)
    }

    /// The programme dashboard: budget used, applications by state, amounts by industry.
    pub async fn subsidy_dashboard(&self, actor: &Actor) -> Result<Vec<ProgrammeStats>> {
        self.require(actor, Action::ReadSubsidyStatistics, &Resource::Zone, &Basis::None)?;
        let programmes = self.subsidy_programmes().await?;
        let mut tx = self.store.begin_read().await?;
        let apps = store::list(tx.conn(), None).await?;
        let mut out: Vec<ProgrammeStats> = Vec::new();
        for p in &programmes {
            if out.iter().any(|s| s.programme_id == p.id) {
                continue;
            }
            let versions: Vec<&Programme> = programmes.iter().filter(|x| x.id == p.id).collect();
            let latest = versions.iter().max_by_key(|x| x.version).copied().unwrap_or(p);
            let mut s = ProgrammeStats {
                programme_id: p.id.clone(),
                name_zh: latest.name_zh.clone(),
                budget_fen: versions
                    .iter()
                    .filter_map(|v| v.budget_yuan)
                    .map(|b| b.saturating_mul(100))
                    .reduce(|a, b| a + b),
                ..Default::default()
            };
            for a in apps.iter().filter(|a| a.programme_id == p.id) {
                *s.by_status.entry(a.status.code().to_owned()).or_default() += 1;
                if a.status.holds_budget() {
                    s.reserved_fen += a.amount.fen();
                }
                if a.status.is_paid() {
                    s.disbursed_fen += a.amount.fen();
                }
                if a.status.holds_budget() || a.status.is_paid() {
                    let org = orgs::get(tx.conn(), &a.enterprise_id).await?;
                    let tag = org.zone_industries.first().cloned().unwrap_or_else(|| "其他".into());
                    *s.by_industry.entry(tag).or_default() += a.amount.fen();
                }
            }
            out.push(s);
        }
        Ok(out)
    }

    /// Re-runs a programme's rules with other parameters over the zone's policies in force:
    /// the cost, the enterprises reached and the split by industry. Nothing is written.
    pub async fn subsidy_what_if(
        &self,
        actor: &Actor,
        programme_id: &str,
        params: &WhatIfParams,
    ) -> Result<WhatIf> {
        self.require(actor, Action::ReadSubsidyStatistics, &Resource::Zone, &Basis::None)?;
        let mut programmes = self.subsidy_programmes().await?;
        let today = self.today();
        let Some(base) =
            programmes.iter().filter(|p| p.id == programme_id).max_by_key(|p| p.version).cloned()
        else {
            return Err(FieldError::new(
                "programme",
                "unknown_programme",
                format!("补贴方案 `{programme_id}` 不存在"),
                format!("programme `{programme_id}` does not exist"),
            )
            .into());
        };
        let mut p = base.clone();
        if let Some(s) = params.share_bp {
            if s > 10_000 {
                return Err(FieldError::new(
                    "share",
                    "range",
                    "补贴比例须在 0–100% 之间",
                    "the share must lie between 0 and 100%",
                )
                .into());
            }
            for g in &mut p.groups {
                g.share_bp_by_year = vec![s];
            }
        }
        if params.per_enterprise_year_cap_yuan.is_some() {
            p.per_enterprise_year_cap_yuan = params.per_enterprise_year_cap_yuan;
        }
        if params.per_policy_cap_yuan.is_some() {
            p.per_policy_cap_yuan = params.per_policy_cap_yuan;
        }
        if params.rate_cap_bp.is_some() {
            p.rate_cap_bp = params.rate_cap_bp;
        }
        // The what-if version applies to every policy under review, whatever its dates.
        p.valid_from = Date::MIN;
        p.valid_to = None;
        p.windows.clear();
        programmes.retain(|x| x.id != programme_id);
        programmes.push(p.clone());
        let mut tx = self.store.begin_read().await?;
        let mut out = WhatIf::default();
        let mut granted: BTreeMap<String, i64> = BTreeMap::new();
        let mut per_year_enterprise: BTreeMap<(String, i32), i64> = BTreeMap::new();
        for pol in policies::all_policies(tx.conn())
            .await?
            .iter()
            .filter(|x| x.status == kebao_domain::policy::PolicyStatus::InForce)
        {
            out.policies_assessed += 1;
            let Ok((_, mut case, _)) = self
                .case_for(&mut tx, &programmes, programme_id, &pol.id, &Declarations::default(), false)
                .await
            else {
                continue;
            };
            let year = case.policy_start.map_or(today.year(), |d| d.year());
            // Caps count what this run grants, not what was granted before.
            case.granted_in_cap_year_fen =
                per_year_enterprise.get(&(pol.enterprise_id.clone(), year)).copied().unwrap_or(0);
            case.year_of_cover = 1;
            case.stacked = false;
            case.applied_on = case.policy_start;
            match assess(&p, &case) {
                Ok(g) => {
                    out.eligible += 1;
                    out.cost_fen += g.amount_fen;
                    *granted.entry(pol.enterprise_id.clone()).or_default() += g.amount_fen;
                    *per_year_enterprise.entry((pol.enterprise_id.clone(), year)).or_default() +=
                        g.amount_fen;
                    let org = orgs::get(tx.conn(), &pol.enterprise_id).await?;
                    let tag = org.zone_industries.first().cloned().unwrap_or_else(|| "其他".into());
                    *out.by_industry.entry(tag).or_default() += g.amount_fen;
                }
                Err(fs) => {
                    for f in fs {
                        *out.failures.entry(f.rule).or_default() += 1;
                    }
                }
            }
        }
        out.enterprises = granted.len();
        Ok(out)
    }
}

/// A policy the enterprise does not hold yet (the advisor's estimate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hypothetical {
    pub product_type: String,
    pub premium_fen: i64,
    /// Sum insured, or the limit where the cover has none.
    pub sum_insured_fen: i64,
    pub limit_fen: i64,
    pub start: Date,
    pub end: Date,
}

/// What a programme in force would give for a hypothetical policy: an estimate, never a
/// promise (the programme's own caveat goes with it).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SubsidyEstimate {
    pub programme_id: String,
    pub programme_version: u32,
    pub name_zh: String,
    pub name_en: String,
    /// The programme's caveat (e.g. an example from elsewhere, not a rule of this zone).
    pub label_zh: String,
    pub label_en: String,
    /// The confidence of the programme's numbers, in words.
    pub confidence_zh: String,
    pub confidence_en: String,
    /// The estimated amount (none: the enterprise would not qualify, see `reasons`).
    pub amount_fen: Option<i64>,
    /// Why it would not qualify, in both languages.
    pub reasons: Vec<(String, String)>,
}

impl Service {
    /// Runs the subsidy engine over hypothetical policies of an enterprise: for each, every
    /// programme version in force on its start whose product groups take its type (loan
    /// programmes aside). The enterprise's own record counts as it would for a real policy
    /// (qualifications, industries, registration, grants already counted against the yearly
    /// cap, bans, the budget left); the policy is assumed to be its first year of cover, paid
    /// in full, naming the insured object and beneficiary the programme asks for, with a
    /// purchase contract equal to the limit.
    pub(crate) async fn estimate_subsidies(
        &self,
        tx: &mut impl kebao_store::Conn,
        org: &kebao_domain::org::Organisation,
        policies: &[Hypothetical],
    ) -> Result<Vec<Vec<SubsidyEstimate>>> {
        let programmes = {
            let stored = store::programmes(tx.conn()).await?;
            if stored.is_empty() {
                parse_programmes(SHIPPED)?
            } else {
                stored
            }
        };
        let today = self.today();
        let quals = orgs::qualifications(tx.conn(), &org.id).await?;
        let mine = store::list(tx.conn(), Some(&org.id)).await?;
        let mut ids: Vec<&str> =
            programmes.iter().filter(|p| p.loan.is_none()).map(|p| p.id.as_str()).collect();
        ids.dedup();
        let mut bans: BTreeMap<String, Option<Date>> = BTreeMap::new();
        let mut budgets: BTreeMap<(String, u32), Option<i64>> = BTreeMap::new();
        let mut out = Vec::with_capacity(policies.len());
        for h in policies {
            let mut estimates = Vec::new();
            let mut seen: Vec<&str> = Vec::new();
            for id in &ids {
                if seen.contains(id) {
                    continue;
                }
                seen.push(id);
                let Some(prog) = kebao_domain::subsidy::version_for(&programmes, id, h.start, today) else {
                    continue;
                };
                if prog.group_of(&h.product_type).is_none() {
                    continue;
                }
                let cap_year = match prog.cap_year {
                    CapYear::PolicyStart => h.start.year(),
                    CapYear::Application => today.year(),
                };
                let granted_in_cap_year_fen: i64 = mine
                    .iter()
                    .filter(|a| a.programme_id == prog.id && a.counts() && a.cap_year == cap_year)
                    .map(|a| a.amount.fen())
                    .sum();
                let banned_until = match bans.get(&prog.id) {
                    Some(b) => *b,
                    None => {
                        let b = store::ban(tx.conn(), &org.id, &prog.id).await?;
                        bans.insert(prog.id.clone(), b);
                        b
                    }
                };
                let key = (prog.id.clone(), prog.version);
                let budget_left_fen = match budgets.get(&key) {
                    Some(b) => *b,
                    None => {
                        let b = self.budget_left(tx, prog).await?;
                        budgets.insert(key, b);
                        b
                    }
                };
                let case = Case {
                    product_type: h.product_type.clone(),
                    premium_invoiced_fen: h.premium_fen,
                    premium_paid_fen: h.premium_fen,
                    sum_insured_fen: h.sum_insured_fen,
                    limit_fen: h.limit_fen,
                    policy_start: Some(h.start),
                    policy_end: Some(h.end),
                    applied_on: Some(today),
                    qualifications: quals.iter().map(|(_, q)| (q.kind, q.valid_from, q.valid_to)).collect(),
                    industries: org.zone_industries.clone(),
                    uscc: org.uscc.clone(),
                    object_kind: prog.object_kinds.first().copied(),
                    beneficiary_named: true,
                    year_of_cover: 1,
                    continuous: false,
                    cumulative_premium_fen: h.premium_fen,
                    granted_in_cap_year_fen,
                    budget_left_fen,
                    stacked: false,
                    national_in_group_fen: None,
                    contract_amount_fen: Some(h.limit_fen.max(h.sum_insured_fen)),
                    related_party: false,
                    already_compensated: false,
                    compensated_under: Vec::new(),
                    banned_until,
                    loan: None,
                };
                let (amount_fen, reasons) = match assess(prog, &case) {
                    Ok(g) => (Some(g.amount_fen), Vec::new()),
                    Err(fs) => (None, fs.into_iter().map(|f| (f.reason_zh, f.reason_en)).collect()),
                };
                estimates.push(SubsidyEstimate {
                    programme_id: prog.id.clone(),
                    programme_version: prog.version,
                    name_zh: prog.name_zh.clone(),
                    name_en: prog.name_en.clone(),
                    label_zh: prog.label_zh.clone(),
                    label_en: prog.label_en.clone(),
                    confidence_zh: prog.confidence.label_zh().to_owned(),
                    confidence_en: prog.confidence.label_en().to_owned(),
                    amount_fen,
                    reasons,
                });
            }
            out.push(estimates);
        }
        Ok(out)
    }
}
