//! Claims (C5): first notice by the enterprise; assignment, reserve, decision and payment
//! by the insurer's claims handler; close and reopen. Money moves in the ledger: the
//! reserve is a pending transfer from the insurer's claims expense to the claim's payable,
//! posted (in whole or part) or voided by the decision; payments go from the payable to the
//! insurer's cash, never more than was decided.

use crate::authz::{Action, Actor, Basis, Case, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::attachment::{Attachment, Owner, OwnerKind};
use kebao_domain::claim::{
    check_decision, check_within_cap, claim_cap, clocks, CapUse, Claim, ClaimInput, ClaimOutcome,
    ClaimStatus, ClaimStep, Clock, Deadlines, NewClaim,
};
use kebao_domain::event::EventDraft;
use kebao_domain::ledger::{AccountFlags, Transfer, TransferFlags, TransferResult};
use kebao_domain::user::Role;
use kebao_domain::{FieldError, Money};
use kebao_store::claims as store;
use kebao_store::todos::{self, Todo};
use kebao_store::Tx;

/// The most documents one claim may carry.
pub const MAX_CLAIM_DOCUMENTS: usize = kebao_domain::attachment::MAX_PER_CLAIM;

/// Ledger codes of claims.
pub mod codes {
    pub const RESERVE: u16 = 201;
    pub const PAYMENT: u16 = 202;
}

/// A claim with its clocks.
#[derive(Debug, Clone)]
pub struct ClaimView {
    pub claim: Claim,
    pub policy_number: String,
    pub clocks: Vec<Clock>,
    pub documents: Vec<Attachment>,
    /// The most this claim can be paid in all: the policy's limit net of the deductible, less
    /// what its other claims were decided or paid. A claim may ask for more; payment is
    /// capped here.
    pub cap: Money,
    /// The insured enterprise, the insurer and the product.
    pub parties: crate::worklists::Parties,
}

/// Claims metrics of one insurer, for the evaluation of institutions.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimMetrics {
    pub insurer_id: String,
    pub closed: usize,
    /// Mean days from report to close.
    pub mean_cycle_days: f64,
    /// Paid ÷ claimed over closed claims.
    pub payout_ratio: f64,
}

/// A policy's limit and deductible: the terms in force (as last endorsed), else the
/// schedule's (what was rated at binding).
fn cover_of(p: &kebao_domain::policy::Policy) -> (Money, Money) {
    (p.input.limit, p.input.deductible)
}

fn accounts(insurer: &str, claim: &str) -> (String, String, String) {
    (format!("ins:{insurer}:claims_expense"), format!("clm:{claim}:payable"), format!("ins:{insurer}:cash"))
}

/// The step refused by the claim's state (a conflict with what the claim is now).
fn refused(e: FieldError) -> ServiceError {
    ServiceError::Conflict(e)
}

/// The Cedar action that decides who may take a step of a claim (the one mapping).
pub(crate) fn claim_step_action(step: ClaimStep) -> Action {
    match step {
        ClaimStep::Assign
        | ClaimStep::Reserve
        | ClaimStep::Decide
        | ClaimStep::Pay
        | ClaimStep::Close
        | ClaimStep::Reopen => Action::HandleClaim,
        ClaimStep::Complain => Action::Complain,
    }
}

/// `NotFound` unless the actor may see the claim: its enterprise, its insurer, the system
/// or a role with a statutory duty.
impl Service {
    /// The deadlines in force (configuration; defaults recalled from the Insurance Law).
    pub fn claim_deadlines(&self) -> Deadlines {
        self.config.claim_deadlines
    }

    /// Not a party or the zone: the claim is not shown to exist.
    pub(crate) fn claim_visible(&self, actor: &Actor, c: &Claim) -> Result<()> {
        if self.allows(actor, Action::ReadClaim, &claim_resource(c)) {
            Ok(())
        } else {
            Err(ServiceError::NotFound)
        }
    }

    /// Cedar's answer to the actor taking `step` on the claim ([`claim_step_action`]).
    pub(crate) fn may_take(&self, actor: &Actor, c: &Claim, step: ClaimStep) -> Result<()> {
        self.require(actor, claim_step_action(step), &claim_resource(c), &Basis::None).map(|_| ())
    }

    /// The most this claim may still be reserved, decided or paid ([`claim_cap`]): the
    /// policy's limit net of the deductible, less what its other claims were decided or paid
    /// and what this claim paid before a reopening. Read in the caller's write transaction,
    /// so that two claims on one policy cannot both use the same remainder.
    /// A write path (`lock`) locks the policy until its commit (on PostgreSQL; SQLite has
    /// one writer), so that the remainder it reads is not used concurrently.
    async fn cap_of(&self, tx: &mut impl kebao_store::Conn, c: &Claim, lock: bool) -> Result<Money> {
        let p = if lock {
            let backend = tx.backend();
            kebao_store::policies::policy_for_update(tx.conn(), &c.policy_id, backend).await?
        } else {
            kebao_store::policies::policy(tx.conn(), &c.policy_id).await?
        };
        let (limit, deductible) = cover_of(&p);
        let mut committed = c.paid;
        for o in store::of_org(tx.conn(), &c.enterprise_id).await? {
            if o.policy_id == c.policy_id && o.id != c.id {
                committed = committed
                    .checked_add(o.decided.max(o.paid))
                    .ok_or_else(crate::ledger::amount_overflow)?;
            }
        }
        Ok(claim_cap(limit, deductible, committed))
    }

    async fn ledger(&self, tx: &mut Tx, t: Transfer) -> Result<TransferResult> {
        Ok(self.apply_transfers(tx, &[t]).await?.into_iter().next().unwrap_or(TransferResult::Overflow))
    }

    /// First notice of loss, by the insured enterprise.
    pub async fn report_claim(&self, actor: &Actor, policy_id: &str, input: &ClaimInput) -> Result<Claim> {
        // The policy is read, locked, checked and the claim written in one write
        // transaction: a cancellation committed meanwhile is seen (it waits, or is waited for).
        let mut tx = self.store.begin_write().await?;
        let backend = tx.backend();
        let p = kebao_store::policies::policy_for_update(tx.conn(), policy_id, backend).await?;
        self.policy_visible(&mut tx, actor, &p).await?;
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        self.require(actor, Action::ReportClaim, &crate::policies::policy_resource(&p), &Basis::None)?;
        let (start, end) = (p.start_date, p.last_day());
        let new = NewClaim::parse(input, start, end, self.today())?;
        let now = self.now_us();
        let c = Claim {
            id: self.new_id(),
            policy_id: p.id.clone(),
            insurer_id: p.insurer_id.clone(),
            enterprise_id: p.enterprise_id.clone(),
            loss_date: new.loss_date,
            description: new.description,
            claimed: new.claimed,
            status: ClaimStatus::Reported,
            handler: None,
            reserve: Money::ZERO,
            reserve_seq: 0,
            outcome: None,
            decided: Money::ZERO,
            reason: None,
            paid: Money::ZERO,
            reported_on: self.today(),
            decided_on: None,
            reported_at_us: now,
            closed_at_us: None,
            reopened: 0,
        };
        store::insert(tx.conn(), &c).await?;
        todos::add_todo(
            tx.conn(),
            &Todo {
                id: self.new_id(),
                org_id: c.insurer_id.clone(),
                role: Role::ClaimsHandler.code().to_owned(),
                kind: "claim".to_owned(),
                subject: c.id.clone(),
                title_zh: format!("新报案：保单 {}，索赔 {} 元", p.number, c.claimed.display_yuan()),
                title_en: format!("New claim on policy {}", p.number),
                link: format!("/claims/{}", c.id),
                created_at_us: now,
                done_at_us: None,
            },
        )
        .await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "claim.reported",
            &c.id,
            serde_json::json!({"policy": p.id, "claimed_fen": c.claimed.fen()}),
        );
        self.finish(tx, draft).await?;
        Ok(c)
    }

    /// A claims handler takes the claim and starts the investigation.
    pub async fn assign_claim(&self, actor: &Actor, id: &str) -> Result<Claim> {
        let mut tx = self.store.begin_write().await?;
        let backend = tx.backend();
        let mut c = store::get_for_update(tx.conn(), id, backend).await?;
        self.may_take(actor, &c, ClaimStep::Assign)?;
        let from = c.status;
        c.status = c.apply(ClaimStep::Assign).map_err(refused)?;
        c.handler = Some(actor.log_name());
        store::update(tx.conn(), &c, from).await?;
        self.finish(tx, EventDraft::new(&actor.log_name(), "claim.assigned", id, serde_json::json!({})))
            .await?;
        Ok(c)
    }

    /// Sets (or changes) the reserve: the previous pending reserve is voided and a new one made.
    pub async fn set_claim_reserve(&self, actor: &Actor, id: &str, amount: Money) -> Result<Claim> {
        if amount.fen() <= 0 {
            return Err(FieldError::new(
                "amount_yuan",
                "not_positive",
                "准备金须大于零",
                "the reserve must be above zero",
            )
            .into());
        }
        let mut tx = self.store.begin_write().await?;
        let backend = tx.backend();
        let mut c = store::get_for_update(tx.conn(), id, backend).await?;
        self.may_take(actor, &c, ClaimStep::Reserve)?;
        let from = c.status;
        c.status = c.apply(ClaimStep::Reserve).map_err(refused)?;
        let cap = self.cap_of(&mut tx, &c, true).await?;
        check_within_cap(CapUse::Reserve, amount, cap)?;
        let (expense, payable, _) = accounts(&c.insurer_id, &c.id);
        self.ensure_account(&mut tx, &expense, &c.insurer_id, "claims_expense", AccountFlags::default())
            .await?;
        self.ensure_account(
            &mut tx,
            &payable,
            &c.insurer_id,
            "claim_payable",
            AccountFlags { debits_must_not_exceed_credits: true, ..Default::default() },
        )
        .await?;
        // A live reserve (pending) is released before the new one is made.
        if c.reserve.fen() > 0 {
            let void = Transfer {
                id: format!("claim-reserve:{}:{}:void", c.id, c.reserve_seq),
                debit_account_id: expense.clone(),
                credit_account_id: payable.clone(),
                amount: 0,
                pending_id: Some(format!("claim-reserve:{}:{}", c.id, c.reserve_seq)),
                code: codes::RESERVE,
                event_ref: c.id.clone(),
                flags: TransferFlags { void_pending: true, ..Default::default() },
            };
            let r = self.ledger(&mut tx, void).await?;
            if r != TransferResult::Ok {
                return Err(crate::ledger::unexpected(r, "reserve not released"));
            }
        }
        c.reserve_seq += 1;
        let t = Transfer {
            id: format!("claim-reserve:{}:{}", c.id, c.reserve_seq),
            debit_account_id: expense,
            credit_account_id: payable,
            amount: amount.fen(),
            pending_id: None,
            code: codes::RESERVE,
            event_ref: c.id.clone(),
            flags: TransferFlags { pending: true, ..Default::default() },
        };
        let r = self.ledger(&mut tx, t).await?;
        if r != TransferResult::Ok {
            return Err(crate::ledger::unexpected(r, "reserve not recorded"));
        }
        c.reserve = amount;
        store::update(tx.conn(), &c, from).await?;
        self.finish(
            tx,
            EventDraft::new(
                &actor.log_name(),
                "claim.reserved",
                id,
                serde_json::json!({"reserve_fen": amount.fen()}),
            ),
        )
        .await?;
        Ok(c)
    }

    /// Decides the claim: pay (in full: amount 0 means the claim capped by limit less
    /// deductible), partial or deny, with a reason. Posts or voids the reserve.
    pub async fn decide_claim(
        &self,
        actor: &Actor,
        id: &str,
        outcome: ClaimOutcome,
        amount: Money,
        reason: &str,
    ) -> Result<Claim> {
        let mut tx = self.store.begin_write().await?;
        let backend = tx.backend();
        let mut c = store::get_for_update(tx.conn(), id, backend).await?;
        self.may_take(actor, &c, ClaimStep::Decide)?;
        let from = c.status;
        let to = c.apply(ClaimStep::Decide).map_err(refused)?;
        let cap = self.cap_of(&mut tx, &c, true).await?;
        let pay = check_decision(outcome, amount, c.claimed, cap, reason)?;
        let (expense, payable, _) = accounts(&c.insurer_id, &c.id);
        if outcome != ClaimOutcome::Deny && pay > c.reserve {
            return Err(FieldError::new(
                "amount_yuan",
                "above_reserve",
                format!("赔付金额超过准备金（{} 元），请先调整准备金", c.reserve.display_yuan()),
                "the amount exceeds the reserve; raise the reserve first",
            )
            .into());
        }
        if c.reserve.fen() > 0 {
            let t = Transfer {
                id: format!("claim-decision:{}:{}", c.id, c.reserve_seq),
                debit_account_id: expense,
                credit_account_id: payable,
                amount: pay.fen(),
                pending_id: Some(format!("claim-reserve:{}:{}", c.id, c.reserve_seq)),
                code: codes::RESERVE,
                event_ref: c.id.clone(),
                flags: if outcome == ClaimOutcome::Deny {
                    TransferFlags { void_pending: true, ..Default::default() }
                } else {
                    TransferFlags { post_pending: true, ..Default::default() }
                },
            };
            let t = if outcome == ClaimOutcome::Deny { Transfer { amount: 0, ..t } } else { t };
            let r = self.ledger(&mut tx, t).await?;
            if r != TransferResult::Ok {
                return Err(crate::ledger::unexpected(r, "decision not recorded in the ledger"));
            }
        }
        c.status = to;
        // The reserve is now posted (or voided): none is pending.
        c.reserve = Money::ZERO;
        c.outcome = Some(outcome);
        c.decided = pay;
        c.reason = Some(reason.trim().to_owned()).filter(|r| !r.is_empty());
        c.decided_on = Some(self.today());
        store::update(tx.conn(), &c, from).await?;
        todos::close_todo(tx.conn(), "claim", id, self.now_us()).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "claim.decided",
            id,
            serde_json::json!({"outcome": outcome.code(), "amount_fen": pay.fen()}),
        );
        let draft = Self::with_personal(draft, serde_json::json!({"reason": c.reason}))?;
        self.finish(tx, draft).await?;
        Ok(c)
    }

    /// Records a payment of the decided amount (by reference; the same reference once).
    /// When all is paid the claim closes.
    pub async fn pay_claim(&self, actor: &Actor, id: &str, amount: Money, reference: &str) -> Result<Claim> {
        let reference = crate::ledger::payment_input(reference, amount)?;
        let mut tx = self.store.begin_write().await?;
        let backend = tx.backend();
        let mut c = store::get_for_update(tx.conn(), id, backend).await?;
        self.may_take(actor, &c, ClaimStep::Pay)?;
        let (_, payable, cash) = accounts(&c.insurer_id, &c.id);
        let t = Transfer {
            id: format!("claim-paid:{}:{reference}", c.id),
            debit_account_id: payable,
            credit_account_id: cash.clone(),
            amount: amount.fen(),
            pending_id: None,
            code: codes::PAYMENT,
            event_ref: c.id.clone(),
            flags: TransferFlags::default(),
        };
        // A replay answers as the first time, even once the payment has closed the claim.
        if self.payment_replayed(&mut tx, &t).await? {
            return Ok(c);
        }
        let from = c.status;
        c.status = c.apply(ClaimStep::Pay).map_err(refused)?;
        let cap = self.cap_of(&mut tx, &c, true).await?;
        self.ensure_account(&mut tx, &cash, &c.insurer_id, "cash_received", AccountFlags::default()).await?;
        let r = self.ledger(&mut tx, t).await?;
        let recorded = crate::ledger::payment_outcome(
            Some(&r),
            TransferResult::ExceedsCredits,
            "exceeds_decided",
            "超过尚未支付的赔款",
            "more than the decided amount still unpaid",
        )?;
        if !recorded {
            return Ok(c);
        }
        // The ledger keeps payments within the decision; the decision was within the cap.
        // INVARIANT: what is paid on the policy never exceeds its limit net of the deductible.
        check_within_cap(CapUse::Payment, amount, cap)?;
        self.coinsurance_claim(&mut tx, &c.policy_id, &c.id, amount.fen(), reference).await?;
        c.paid = c.paid.checked_add(amount).ok_or_else(crate::ledger::amount_overflow)?;
        // All that was decided is paid: the claim closes.
        if let Ok(closed) = c.apply(ClaimStep::Close) {
            c.status = closed;
            c.closed_at_us = Some(self.now_us());
        }
        store::update(tx.conn(), &c, from).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "claim.paid",
            id,
            serde_json::json!({"amount_fen": amount.fen(), "reference": reference}),
        );
        self.finish(tx, draft).await?;
        Ok(c)
    }

    /// Closes a denied claim (after the refusal notice).
    pub async fn close_claim(&self, actor: &Actor, id: &str) -> Result<Claim> {
        let mut tx = self.store.begin_write().await?;
        let backend = tx.backend();
        let mut c = store::get_for_update(tx.conn(), id, backend).await?;
        self.may_take(actor, &c, ClaimStep::Close)?;
        let from = c.status;
        c.status = c.apply(ClaimStep::Close).map_err(refused)?;
        c.closed_at_us = Some(self.now_us());
        store::update(tx.conn(), &c, from).await?;
        self.finish(tx, EventDraft::new(&actor.log_name(), "claim.closed", id, serde_json::json!({})))
            .await?;
        Ok(c)
    }

    /// Reopens a closed claim for further investigation.
    pub async fn reopen_claim(&self, actor: &Actor, id: &str, reason: &str) -> Result<Claim> {
        let mut tx = self.store.begin_write().await?;
        let backend = tx.backend();
        let mut c = store::get_for_update(tx.conn(), id, backend).await?;
        self.may_take(actor, &c, ClaimStep::Reopen)?;
        let from = c.status;
        let to = c.apply(ClaimStep::Reopen).map_err(refused)?;
        if reason.trim().chars().count() < 2 {
            return Err(FieldError::new(
                "reason",
                "reason_required",
                "重开须写明理由",
                "a reopening states its reasons",
            )
            .into());
        }
        c.status = to;
        c.reopened += 1;
        c.closed_at_us = None;
        // A new decision needs a new reserve.
        c.reserve = Money::ZERO;
        c.outcome = None;
        store::update(tx.conn(), &c, from).await?;
        self.finish(
            tx,
            Self::with_personal(
                EventDraft::new(&actor.log_name(), "claim.reopened", id, serde_json::json!({})),
                serde_json::json!({"reason": reason.trim()}),
            )?,
        )
        .await?;
        Ok(c)
    }

    /// What the actor may do to the claim now: the steps its state allows (no complaint while
    /// a dispute about it is open) that Cedar allows this actor. Nothing when the actor may
    /// not see it.
    pub async fn claim_actions(&self, actor: &Actor, id: &str) -> Result<Vec<ClaimStep>> {
        let mut tx = self.store.begin_read().await?;
        let c = store::get(tx.conn(), id).await?;
        let resource = claim_resource(&c);
        if !self.allows(actor, Action::ReadClaim, &resource) {
            return Ok(Vec::new());
        }
        let disputed = kebao_store::disputes::open_for_claim(tx.conn(), id).await?;
        Ok(c.steps()
            .into_iter()
            .filter(|s| !(disputed && *s == ClaimStep::Complain))
            .filter(|s| self.allows(actor, claim_step_action(*s), &resource))
            .collect())
    }

    /// Whether the actor may attach a document to the claim (the claim page's upload form).
    pub fn may_attach_claim_document(&self, actor: &Actor, c: &Claim) -> bool {
        self.allows(actor, Action::AttachClaimDocument, &claim_resource(c))
    }

    /// A claim with its clocks, for the enterprise, the insurer and the zone.
    pub async fn claim(&self, actor: &Actor, id: &str) -> Result<ClaimView> {
        let mut tx = self.store.begin_read().await?;
        let c = store::get(tx.conn(), id).await?;
        self.claim_visible(actor, &c)?;
        let p = kebao_store::policies::policy(tx.conn(), &c.policy_id).await?;
        let decided = c.decided_on.zip(c.outcome);
        let clocks = clocks(
            &self.claim_deadlines(),
            c.reported_on,
            decided,
            c.status == ClaimStatus::Closed,
            self.today(),
        );
        let documents = kebao_store::attachments::of_owner(tx.conn(), &Owner::claim(&c.id)).await?;
        let left = self.cap_of(&mut tx, &c, false).await?;
        let cap = left.checked_add(c.paid).unwrap_or(left);
        let parties = crate::worklists::parties_of_policy(&mut tx, &p).await?;
        Ok(ClaimView { claim: c, policy_number: p.number, clocks, documents, cap, parties })
    }

    /// The insured enterprise or the insurer's claims handler attaches a document to a
    /// claim (at most ten MiB, twenty per claim; stored once per content hash).
    pub async fn add_claim_document(
        &self,
        actor: &Actor,
        claim_id: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<Attachment> {
        self.attach(actor, &Owner::claim(claim_id), file_name, bytes).await
    }

    /// A claim document with its body, for whoever may see the claim.
    pub async fn claim_document(&self, actor: &Actor, doc_id: &str) -> Result<(Attachment, Vec<u8>)> {
        let (a, body) = self.attachment(actor, doc_id).await?;
        if a.owner.kind != OwnerKind::Claim {
            return Err(ServiceError::NotFound);
        }
        Ok((a, body))
    }

    /// Claims of the actor's organisation.
    pub async fn my_claims(&self, actor: &Actor) -> Result<Vec<Claim>> {
        let org = actor.org_id().ok_or(ServiceError::Unauthenticated("sign in first"))?.to_owned();
        let mut tx = self.store.begin_read().await?;
        Ok(store::of_org(tx.conn(), &org).await?)
    }

    /// Cycle time and payout ratio per insurer over closed claims.
    pub async fn claim_metrics(&self) -> Result<Vec<ClaimMetrics>> {
        let mut tx = self.store.begin_read().await?;
        let all = store::all(tx.conn()).await?;
        let mut out: Vec<ClaimMetrics> = Vec::new();
        for c in all.iter().filter(|c| c.status == ClaimStatus::Closed) {
            let days = c.closed_at_us.map_or(0.0, |t| (t - c.reported_at_us) as f64 / 86_400_000_000.0);
            match out.iter_mut().find(|m| m.insurer_id == c.insurer_id) {
                Some(m) => {
                    m.mean_cycle_days += days;
                    m.payout_ratio += c.paid.fen() as f64;
                    m.closed += 1;
                }
                None => out.push(ClaimMetrics {
                    insurer_id: c.insurer_id.clone(),
                    closed: 1,
                    mean_cycle_days: days,
                    payout_ratio: c.paid.fen() as f64,
                }),
            }
        }
        for m in &mut out {
            let claimed: i64 = all
                .iter()
                .filter(|c| c.status == ClaimStatus::Closed && c.insurer_id == m.insurer_id)
                .map(|c| c.claimed.fen())
                .sum();
            m.mean_cycle_days /= m.closed as f64;
            m.payout_ratio = if claimed > 0 { m.payout_ratio / claimed as f64 } else { 0.0 };
        }
        Ok(out)
    }
}

/// What the policies see of a claim.
pub(crate) fn claim_resource(c: &Claim) -> Resource {
    Resource::Claim(Case {
        id: c.id.clone(),
        enterprise_id: c.enterprise_id.clone(),
        insurer_id: c.insurer_id.clone(),
        status: c.status.code().to_owned(),
        assignee: None,
    })
}
