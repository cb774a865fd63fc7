//! Mid-term changes to cover (C4): endorsements rated by the policy's own plan with
//! pro-rata premium, cancellation with the filing's refund method, refunds, renewals and
//! co-insurance shares. Every change of premium is a ledger transfer: additional premium
//! increases the policy's receivable; returned premium first reduces what is still unpaid
//! and the rest becomes a refund payable to the policyholder (never paid out twice).

use crate::authz::{Actor, Basis};
use crate::policies::{policy_resource, policy_step_action};
use crate::{Result, Service, ServiceError};
use kebao_domain::cover::{check_shares, earned, pro_rata_adjustment, split_by_shares, WHOLE_BP};
use kebao_domain::event::EventDraft;
use kebao_domain::ledger::{AccountFlags, Transfer, TransferFlags, TransferResult};
use kebao_domain::org::OrgKind;
use kebao_domain::policy::{
    codes, within_authority, Application, Endorsement, EndorsementKind, NewCancellation, NewEndorsement,
    Policy, PolicyStep,
};
use kebao_domain::rating::{Plan, QuoteInput};
use kebao_domain::{FieldError, Money};
use kebao_store::policies as store;
use kebao_store::{orgs, Tx};
use time::Date;

/// Where a policy's premium stands in the ledger (fen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PremiumPosition {
    /// Premium due now: at binding, plus endorsements, less returns.
    pub due: i64,
    pub paid: i64,
    /// Paid premium owed back to the policyholder, and how much of it has been paid.
    pub refund_due: i64,
    pub refund_paid: i64,
}

impl PremiumPosition {
    /// The policyholder's net position: premium still to be received, or (negative) owed back.
    pub fn outstanding(&self) -> i64 {
        self.due - self.refund_due - self.paid
    }

    /// What the policy's receivable account holds: premium due and not yet received.
    pub fn receivable(&self) -> i64 {
        self.due - self.paid
    }

    /// The premium for the term, net of everything returned (written off or refunded).
    pub fn net(&self) -> i64 {
        self.due - self.refund_due
    }
}

/// What an endorsement or cancellation did.
#[derive(Debug, Clone)]
pub struct EndorsementOutcome {
    pub endorsement: Endorsement,
    /// The premium no longer due (cancellations and reductions), split: unpaid part
    /// written off, paid part to refund.
    pub written_off_fen: i64,
    pub refund_fen: i64,
}

fn conflict(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> ServiceError {
    ServiceError::Conflict(FieldError::new("policy", code, zh, en))
}

fn refund_payable(policy: &str) -> String {
    format!("pol:{policy}:refund_payable")
}

impl Service {
    /// The policy's premium in the ledger.
    pub(crate) async fn premium_position(
        &self,
        tx: &mut impl kebao_store::Conn,
        policy_id: &str,
    ) -> Result<PremiumPosition> {
        let due = kebao_store::ledger::sum_for_event(tx.conn(), policy_id, codes::PREMIUM_DUE).await?;
        let additional =
            kebao_store::ledger::sum_for_event(tx.conn(), policy_id, codes::PREMIUM_ADDITIONAL).await?;
        let returned =
            kebao_store::ledger::sum_for_event(tx.conn(), policy_id, codes::PREMIUM_RETURNED).await?;
        let refund_due = kebao_store::ledger::sum_for_event(tx.conn(), policy_id, codes::REFUND_DUE).await?;
        let paid = kebao_store::ledger::sum_for_event(tx.conn(), policy_id, codes::PREMIUM_PAID).await?;
        let refund_paid =
            kebao_store::ledger::sum_for_event(tx.conn(), policy_id, codes::REFUND_PAID).await?;
        Ok(PremiumPosition { due: due + additional - returned, paid, refund_due, refund_paid })
    }

    /// Applies one batch of transfers that must all succeed.
    async fn post_all(&self, tx: &mut Tx, ts: &[Transfer]) -> Result<()> {
        if ts.is_empty() {
            return Ok(());
        }
        let r = self.apply_transfers(tx, ts).await?;
        if r.contains(&TransferResult::Overflow) {
            return Err(crate::ledger::amount_overflow());
        }
        if let Some(bad) = r.iter().find(|x| **x != TransferResult::Ok) {
            return Err(ServiceError::Conflict(FieldError::new(
                "ledger",
                bad.code(),
                bad.label_zh(),
                bad.label_en(),
            )));
        }
        Ok(())
    }

    /// Co-insurers' shares of a change in written premium (`amount` of either sign).
    async fn coinsurance_premium(&self, tx: &mut Tx, p: &Policy, amount: i64, key: &str) -> Result<()> {
        let shares = store::shares(tx.conn(), &p.id).await?;
        if shares.is_empty() || amount == 0 {
            return Ok(());
        }
        let parts = split_by_shares(amount, &shares);
        let lead = format!("ins:{}:premium_written", p.insurer_id);
        let mut ts = Vec::new();
        for ((org, _), part) in shares.iter().zip(parts).skip(1) {
            let follower = format!("ins:{org}:premium_written");
            self.ensure_account(tx, &follower, org, "premium_written", AccountFlags::default()).await?;
            if part == 0 {
                continue;
            }
            let (debit, credit) = if part > 0 { (lead.clone(), follower) } else { (follower, lead.clone()) };
            ts.push(Transfer {
                id: format!("coinsurance-premium:{}:{key}:{org}", p.id),
                debit_account_id: debit,
                credit_account_id: credit,
                amount: part.abs(),
                pending_id: None,
                code: codes::COINSURANCE_PREMIUM,
                event_ref: p.id.clone(),
                flags: TransferFlags::default(),
            });
        }
        self.post_all(tx, &ts).await
    }

    /// Co-insurers' shares of a claim payment: each follower's claims expense against the lead's.
    pub(crate) async fn coinsurance_claim(
        &self,
        tx: &mut Tx,
        policy_id: &str,
        claim_id: &str,
        amount: i64,
        key: &str,
    ) -> Result<()> {
        let shares = store::shares(tx.conn(), policy_id).await?;
        let Some((lead, _)) = shares.first() else { return Ok(()) };
        let lead_acc = format!("ins:{lead}:claims_expense");
        let parts = split_by_shares(amount, &shares);
        let mut ts = Vec::new();
        for ((org, _), part) in shares.iter().zip(parts).skip(1) {
            let follower = format!("ins:{org}:claims_expense");
            self.ensure_account(tx, &follower, org, "claims_expense", AccountFlags::default()).await?;
            if part > 0 {
                ts.push(Transfer {
                    id: format!("coinsurance-claim:{claim_id}:{key}:{org}"),
                    debit_account_id: follower,
                    credit_account_id: lead_acc.clone(),
                    amount: part,
                    pending_id: None,
                    code: codes::COINSURANCE_CLAIM,
                    event_ref: claim_id.to_owned(),
                    flags: TransferFlags::default(),
                });
            }
        }
        self.post_all(tx, &ts).await
    }

    /// Changes the premium due by `delta` (fen): more is added to the receivable; less first
    /// writes off what is unpaid, and the rest becomes a refund payable. Returns (written
    /// off, refund).
    async fn change_premium_due(&self, tx: &mut Tx, p: &Policy, delta: i64, key: &str) -> Result<(i64, i64)> {
        let receivable = format!("pol:{}:premium_receivable", p.id);
        let written = format!("ins:{}:premium_written", p.insurer_id);
        let mk = |id: String, debit: &str, credit: &str, amount: i64, code: u16, linked: bool| Transfer {
            id,
            debit_account_id: debit.to_owned(),
            credit_account_id: credit.to_owned(),
            amount,
            pending_id: None,
            code,
            event_ref: p.id.clone(),
            flags: TransferFlags { linked, ..Default::default() },
        };
        let out = if delta > 0 {
            let t = mk(
                format!("premium-additional:{}:{key}", p.id),
                &receivable,
                &written,
                delta,
                codes::PREMIUM_ADDITIONAL,
                false,
            );
            self.post_all(tx, &[t]).await?;
            (0, 0)
        } else if delta < 0 {
            let back = -delta;
            let pos = self.premium_position(tx, &p.id).await?;
            // What the receivable still holds can be written off; the rest was paid and is owed back.
            let write_off = back.min(pos.receivable().max(0));
            let refund = back - write_off;
            let payable = refund_payable(&p.id);
            let guard = AccountFlags { debits_must_not_exceed_credits: true, ..Default::default() };
            self.ensure_account(tx, &payable, &p.insurer_id, "refund_payable", guard).await?;
            let mut ts = Vec::new();
            if write_off > 0 {
                ts.push(mk(
                    format!("premium-returned:{}:{key}", p.id),
                    &written,
                    &receivable,
                    write_off,
                    codes::PREMIUM_RETURNED,
                    refund > 0,
                ));
            }
            if refund > 0 {
                ts.push(mk(
                    format!("refund-due:{}:{key}", p.id),
                    &written,
                    &payable,
                    refund,
                    codes::REFUND_DUE,
                    false,
                ));
            }
            self.post_all(tx, &ts).await?;
            (write_off, refund)
        } else {
            (0, 0)
        };
        self.coinsurance_premium(tx, p, delta, key).await?;
        Ok(out)
    }

    async fn next_seq(&self, tx: &mut Tx, policy_id: &str) -> Result<(i64, Option<Date>)> {
        let all = store::endorsements(tx.conn(), policy_id).await?;
        let last = all.last().map(|e| e.effective_date);
        Ok((all.len() as i64 + 1, last))
    }

    /// The insurer changes the rated terms of a policy in force from `effective` on: the
    /// policy's own plan version rates the new terms, and the change of the full-term
    /// premium is due pro rata to the days left.
    pub async fn endorse_policy(
        &self,
        actor: &Actor,
        policy_id: &str,
        input: &QuoteInput,
        effective: &str,
        reason: &str,
    ) -> Result<EndorsementOutcome> {
        let NewEndorsement { effective_date: from, reason } = NewEndorsement::parse(effective, reason)?;
        let reason = reason.as_str();
        let mut tx = self.store.begin_write().await?;
        // Locked until the commit: its checks (in force, no claims yet) hold against a
        // cancellation or a claim running concurrently.
        let backend = tx.backend();
        let p = store::policy_for_update(tx.conn(), policy_id, backend).await?;
        let resource = policy_resource(&p);
        self.require(actor, policy_step_action(PolicyStep::Endorse), &resource, &Basis::None)?;
        p.status.apply(PolicyStep::Endorse).map_err(ServiceError::Conflict)?;
        let user = actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        if !self.allows(actor, crate::authz::Action::WaiveAuthority, &resource) {
            let authority = store::authority(tx.conn(), &user.id).await?.unwrap_or(0);
            within_authority(input.limit, authority)?;
        }
        let (start, end) = (p.start_date, p.end_date);
        let (seq, last) = self.next_seq(&mut tx, &p.id).await?;
        if last.is_some_and(|l| from < l) {
            return Err(FieldError::new(
                "effective_date",
                "before_last",
                "批改生效日不能早于上一次批改",
                "an endorsement cannot take effect before the previous one",
            )
            .into());
        }
        let app = store::application(tx.conn(), &p.application_id).await?;
        let plans = kebao_store::rating::for_product(tx.conn(), &p.product_id).await?;
        let row = plans
            .into_iter()
            .find(|r| r.version == app.plan_version)
            .ok_or_else(|| ServiceError::Internal("the policy's rating plan is missing".into()))?;
        let quote = Plan::parse(row.doc)?.quote(input)?;
        let new_fen = quote.premium.fen();
        let adjustment = pro_rata_adjustment(p.premium.fen(), new_fen, start, end, from)?;
        let explanation = format!(
            "（新年保费 {} − 原年保费 {}）× 剩余 {} / {} 天 / (new {} − old {}) × {} of {} days left",
            Money::from_fen(new_fen).to_yuan_string(),
            p.premium.to_yuan_string(),
            kebao_domain::cover::days_inclusive(from, end),
            kebao_domain::cover::days_inclusive(start, end),
            Money::from_fen(new_fen).to_yuan_string(),
            p.premium.to_yuan_string(),
            kebao_domain::cover::days_inclusive(from, end),
            kebao_domain::cover::days_inclusive(start, end),
        );
        let e = Endorsement {
            id: self.new_id(),
            policy_id: p.id.clone(),
            seq,
            kind: EndorsementKind::Change,
            effective_date: from,
            input: Some(input.clone()),
            old_premium: p.premium,
            new_premium: quote.premium,
            adjustment: Money::from_fen(adjustment),
            explanation,
            reason: reason.to_owned(),
            made_by: actor.log_name(),
            made_at_us: self.now_us(),
        };
        store::insert_endorsement(tx.conn(), &e).await?;
        store::update_terms(tx.conn(), &p.id, quote.premium, input).await?;
        let (written_off, refund) =
            self.change_premium_due(&mut tx, &p, adjustment, &seq.to_string()).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "policy.endorsed",
            &p.id,
            serde_json::json!({"seq": seq, "effective": e.effective_date.to_string(), "old_premium_fen": p.premium.fen(),
                "new_premium_fen": new_fen, "adjustment_fen": adjustment}),
        );
        let draft = Self::with_personal(draft, serde_json::json!({"reason": reason}))?;
        self.finish(tx, draft).await?;
        Ok(EndorsementOutcome { endorsement: e, written_off_fen: written_off, refund_fen: refund })
    }

    /// Ends a policy with `last_day` the last day of cover. The enterprise's own
    /// cancellation (退保) refunds by the filing's method; the insurer's (解除) pro rata.
    /// Refused while a claim on the policy is open.
    pub async fn cancel_policy(
        &self,
        actor: &Actor,
        policy_id: &str,
        last_day: &str,
        reason: &str,
    ) -> Result<EndorsementOutcome> {
        let NewCancellation { last_day: last, reason } = NewCancellation::parse(last_day, reason)?;
        let reason = reason.as_str();
        let mut tx = self.store.begin_write().await?;
        // Locked until the commit, so that a claim reported meanwhile is either seen among
        // the open claims below or sees this cancellation.
        let backend = tx.backend();
        let p = store::policy_for_update(tx.conn(), policy_id, backend).await?;
        let user = actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        let by_insurer = user.org_id == p.insurer_id;
        self.require(actor, policy_step_action(PolicyStep::Cancel), &policy_resource(&p), &Basis::None)?;
        let cancelled = p.status.apply(PolicyStep::Cancel).map_err(ServiceError::Conflict)?;
        if last < self.today().previous_day().unwrap_or(last) {
            return Err(FieldError::new(
                "last_day",
                "in_the_past",
                "保障终止日不能早于昨天（不能倒签）",
                "cover cannot be ended retroactively (the last day is before yesterday)",
            )
            .into());
        }
        let open = kebao_store::claims::of_org(tx.conn(), &p.enterprise_id)
            .await?
            .into_iter()
            .any(|c| c.policy_id == p.id && c.status != kebao_domain::claim::ClaimStatus::Closed);
        if open {
            return Err(conflict(
                "open_claim",
                "该保单有未结案的理赔，结案后方可退保",
                "a claim on the policy is open; close it first",
            ));
        }
        let (start, end) = (p.start_date, p.end_date);
        let (seq, prev) = self.next_seq(&mut tx, &p.id).await?;
        if prev.is_some_and(|d| last < d.previous_day().unwrap_or(d)) {
            return Err(FieldError::new(
                "last_day",
                "before_last",
                "保障终止日不能早于上一次批改的生效日",
                "cover cannot end before the last endorsement took effect",
            )
            .into());
        }
        let versions = kebao_store::products::versions(tx.conn(), &p.product_id).await?;
        let app = store::application(tx.conn(), &p.application_id).await?;
        let method = versions
            .into_iter()
            .find(|v| v.version == app.product_version)
            .map(|v| v.content.refund)
            .unwrap_or_default();
        let pos = self.premium_position(&mut tx, &p.id).await?;
        let e = earned(&method, pos.net(), p.premium.fen(), start, end, last, by_insurer)?;
        let kind_zh = if by_insurer {
            "保险人解除合同，按日比例"
        } else {
            "投保人退保，按备案方式"
        };
        let e_row = Endorsement {
            id: self.new_id(),
            policy_id: p.id.clone(),
            seq,
            kind: EndorsementKind::Cancel,
            effective_date: last.next_day().unwrap_or(last),
            input: None,
            old_premium: Money::from_fen(pos.net()),
            new_premium: Money::from_fen(e.earned_fen),
            adjustment: Money::from_fen(-e.refund_fen),
            explanation: format!("{kind_zh}：{}", e.explanation),
            reason: reason.to_owned(),
            made_by: actor.log_name(),
            made_at_us: self.now_us(),
        };
        store::insert_endorsement(tx.conn(), &e_row).await?;
        debug_assert_eq!(cancelled, kebao_domain::policy::PolicyStatus::Cancelled);
        store::cancel(tx.conn(), &p.id, last).await?;
        let (written_off, refund) =
            self.change_premium_due(&mut tx, &p, -e.refund_fen, &seq.to_string()).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "policy.cancelled",
            &p.id,
            serde_json::json!({"last_day": last.to_string(), "by_insurer": by_insurer, "method": method.code(),
                "earned_fen": e.earned_fen, "returned_fen": e.refund_fen, "refund_fen": refund}),
        );
        let draft = Self::with_personal(draft, serde_json::json!({"reason": reason}))?;
        self.finish(tx, draft).await?;
        Ok(EndorsementOutcome { endorsement: e_row, written_off_fen: written_off, refund_fen: refund })
    }

    /// The insurer records a refund paid to the policyholder (by payment reference, once);
    /// never more than is owed.
    pub async fn record_refund_paid(
        &self,
        actor: &Actor,
        policy_id: &str,
        amount: Money,
        reference: &str,
    ) -> Result<()> {
        let reference = crate::ledger::payment_input(reference, amount)?;
        let mut tx = self.store.begin_write().await?;
        let p = store::policy(tx.conn(), policy_id).await?;
        self.require(actor, policy_step_action(PolicyStep::Refund), &policy_resource(&p), &Basis::None)?;
        p.status.apply(PolicyStep::Refund).map_err(ServiceError::Conflict)?;
        let payable = refund_payable(&p.id);
        let cash = format!("ins:{}:cash", p.insurer_id);
        let guard = AccountFlags { debits_must_not_exceed_credits: true, ..Default::default() };
        self.ensure_account(&mut tx, &payable, &p.insurer_id, "refund_payable", guard).await?;
        self.ensure_account(&mut tx, &cash, &p.insurer_id, "cash_received", AccountFlags::default()).await?;
        let t = Transfer {
            id: format!("refund-paid:{}:{reference}", p.id),
            debit_account_id: payable,
            credit_account_id: cash,
            amount: amount.fen(),
            pending_id: None,
            code: codes::REFUND_PAID,
            event_ref: p.id.clone(),
            flags: TransferFlags::default(),
        };
        if self.payment_replayed(&mut tx, &t).await? {
            return Ok(());
        }
        let r = self.apply_transfers(&mut tx, &[t]).await?;
        let recorded = crate::ledger::payment_outcome(
            r.first(),
            TransferResult::ExceedsCredits,
            "exceeds_refund",
            "超过应退还投保人的保费",
            "more than the refund owed to the policyholder",
        )?;
        if !recorded {
            return Ok(());
        }
        let draft = EventDraft::new(
            &actor.log_name(),
            "premium.refunded",
            &p.id,
            serde_json::json!({"amount_fen": amount.fen(), "reference": reference}),
        );
        self.finish(tx, draft).await?;
        Ok(())
    }

    /// The enterprise asks to renew a policy: a new application for the next term on the
    /// same product at the terms now in force, with the claims of the last three years
    /// counted afresh; the insurer's rules decide it as any application.
    pub async fn renew_policy(&self, actor: &Actor, policy_id: &str) -> Result<Application> {
        let (p, input) = {
            let mut tx = self.store.begin_read().await?;
            let p = store::policy(tx.conn(), policy_id).await?;
            self.policy_visible(&mut tx, actor, &p).await?;
            actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
            self.require(actor, policy_step_action(PolicyStep::Renew), &policy_resource(&p), &Basis::None)?;
            p.status.apply(PolicyStep::Renew).map_err(ServiceError::Conflict)?;
            if store::renewal_of(tx.conn(), &p.id).await?.is_some() {
                return Err(conflict(
                    "already_renewed",
                    "该保单已提交续保申请",
                    "a renewal of this policy has already been applied for",
                ));
            }
            let mut input = p.input.clone();
            let since = self.today() - time::Duration::days(3 * 365);
            let claims = kebao_store::claims::of_org(tx.conn(), &p.enterprise_id).await?;
            input.claims_3y =
                u32::try_from(claims.iter().filter(|c| c.loss_date >= since).count()).unwrap_or(u32::MAX);
            (p, input)
        };
        let start = p.end_date.next_day().unwrap_or(self.today());
        let start = start.max(self.today());
        self.submit_application(actor, &p.product_id, &input, start, Some(p.id.clone()), &p.subject).await
    }

    /// The lead insurer shares a policy with co-insurers: `followers` are (insurer, basis
    /// points); the lead keeps the rest. Set once, before any claim. The written premium
    /// so far moves to the followers by share; later changes of premium and claim
    /// payments are shared the same way.
    pub async fn set_coinsurance(
        &self,
        actor: &Actor,
        policy_id: &str,
        followers: &[(String, u32)],
    ) -> Result<Vec<(String, u32)>> {
        let mut tx = self.store.begin_write().await?;
        // Locked until the commit: its checks (in force, no claims yet) hold against a
        // cancellation or a claim running concurrently.
        let backend = tx.backend();
        let p = store::policy_for_update(tx.conn(), policy_id, backend).await?;
        self.require(actor, policy_step_action(PolicyStep::Coinsure), &policy_resource(&p), &Basis::None)?;
        p.status.apply(PolicyStep::Coinsure).map_err(ServiceError::Conflict)?;
        if !store::shares(tx.conn(), &p.id).await?.is_empty() {
            return Err(conflict(
                "already_shared",
                "该保单已设定共保份额",
                "the co-insurance shares are already set",
            ));
        }
        if kebao_store::claims::of_org(tx.conn(), &p.enterprise_id).await?.iter().any(|c| c.policy_id == p.id)
        {
            return Err(conflict(
                "has_claims",
                "保单已有理赔，不能再设共保",
                "the policy has claims; shares can no longer be set",
            ));
        }
        let follower_bp: u32 = followers.iter().map(|f| f.1).sum();
        if follower_bp >= WHOLE_BP {
            return Err(FieldError::new(
                "shares",
                "shares",
                "共保方份额合计须小于 100%，其余为主承保人份额",
                "the followers' shares must sum to less than 100%; the lead keeps the rest",
            )
            .into());
        }
        let mut shares = vec![(p.insurer_id.clone(), WHOLE_BP - follower_bp)];
        shares.extend(followers.iter().cloned());
        check_shares(&shares)?;
        for (org, _) in followers {
            let o = orgs::get(tx.conn(), org).await.map_err(|_| {
                ServiceError::from(FieldError::new(
                    "shares",
                    "unknown_insurer",
                    format!("机构 `{org}` 不存在"),
                    format!("organisation `{org}` does not exist"),
                ))
            })?;
            if o.kind != OrgKind::Insurer {
                return Err(FieldError::new(
                    "shares",
                    "not_insurer",
                    format!("「{}」不是保险机构", o.name),
                    format!("`{}` is not an insurer", o.name),
                )
                .into());
            }
        }
        store::insert_shares(tx.conn(), &p.id, &shares).await?;
        let pos = self.premium_position(&mut tx, &p.id).await?;
        self.coinsurance_premium(&mut tx, &p, pos.net(), "0").await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "policy.coinsured",
            &p.id,
            serde_json::json!({"shares": shares.iter().map(|(o, bp)| serde_json::json!({"insurer": o, "share_bp": bp})).collect::<Vec<_>>()}),
        );
        self.finish(tx, draft).await?;
        Ok(shares)
    }

    /// The insurers the policy's lead may name as co-insurers (id, name): every other
    /// insurer the actor may list; empty unless the actor may set co-insurance now.
    pub async fn coinsurer_candidates(
        &self,
        actor: &Actor,
        policy_id: &str,
    ) -> Result<Vec<(String, String)>> {
        if !self.policy_actions(actor, policy_id).await?.contains(&PolicyStep::Coinsure) {
            return Ok(Vec::new());
        }
        let lead = self.policy(actor, policy_id).await?.policy.insurer_id;
        let f = kebao_domain::org::OrgFilter { kind: Some(OrgKind::Insurer), ..Default::default() };
        let page = self.list_orgs(actor, &f, None, 200).await?;
        Ok(page.items.into_iter().filter(|o| o.id != lead).map(|o| (o.id, o.name)).collect())
    }

    /// A policy's endorsements, co-insurance shares (with names) and premium position, for
    /// whoever may see the policy.
    pub async fn policy_changes(
        &self,
        actor: &Actor,
        policy_id: &str,
    ) -> Result<(Vec<Endorsement>, Vec<(String, String, u32)>, PremiumPosition)> {
        self.policy(actor, policy_id).await?;
        let mut tx = self.store.begin_read().await?;
        let ends = store::endorsements(tx.conn(), policy_id).await?;
        let mut named = Vec::new();
        for (org, bp) in store::shares(tx.conn(), policy_id).await? {
            let name = orgs::get(tx.conn(), &org).await.map(|o| o.name).unwrap_or_else(|_| org.clone());
            named.push((org, name, bp));
        }
        let pos = self.premium_position(&mut tx, policy_id).await?;
        Ok((ends, named, pos))
    }
}
