//! Disputes (C5): the insured enterprise complains about a claim decision; a mediator takes
//! the case, records sessions and concludes it — settled, or escalated to arbitration or a
//! court. Every step is an event; deadlines are configuration.

use crate::authz::{Action, Actor, Basis, Case, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::claim::ClaimStep;
use kebao_domain::dispute::{
    text, ComplaintInput, Dispute, DisputeDeadlines, DisputeStatus, DisputeStep, Forum, NewComplaint, Session,
};
use kebao_domain::event::EventDraft;
use kebao_domain::user::Role;
use kebao_domain::FieldError;
use kebao_store::disputes as store;
use kebao_store::todos::{self, Todo};

/// A dispute with its deadlines.
#[derive(Debug, Clone)]
pub struct DisputeView {
    pub dispute: Dispute,
    /// (label zh, label en, due date, met).
    pub deadlines: Vec<(&'static str, &'static str, String, bool)>,
    /// The claim complained of (its amounts, outcome and reason).
    pub claim: Option<kebao_domain::claim::Claim>,
    /// The complainant, the insurer, the policy and its product.
    pub parties: crate::worklists::Parties,
}

/// The Cedar action that decides who may take a step of a dispute (the one mapping): taking
/// a complaint is for any mediator; the rest for the dispute's own mediator while mediating.
fn dispute_step_action(step: DisputeStep) -> (Action, bool) {
    match step {
        DisputeStep::Take => (Action::Mediate, false),
        DisputeStep::Session | DisputeStep::Settle | DisputeStep::Escalate => (Action::MediateDispute, true),
    }
}

impl Service {
    /// The deadlines in force.
    pub fn dispute_deadlines(&self) -> DisputeDeadlines {
        DisputeDeadlines::default()
    }

    /// The insured enterprise complains about a decided or closed claim.
    pub async fn complain(&self, actor: &Actor, claim_id: &str, complaint: &str) -> Result<Dispute> {
        let complaint = NewComplaint::parse(&ComplaintInput { complaint: complaint.to_owned() })?.complaint;
        // The claim is read, locked and checked in the write transaction that opens the
        // dispute: a reopening committed meanwhile is seen.
        let mut tx = self.store.begin_write().await?;
        let backend = tx.backend();
        let c = kebao_store::claims::get_for_update(tx.conn(), claim_id, backend).await?;
        self.claim_visible(actor, &c)?;
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        self.may_take(actor, &c, ClaimStep::Complain)?;
        // A complaint leaves the claim as it is; its state must allow one (decided or closed).
        c.apply(ClaimStep::Complain).map_err(ServiceError::Conflict)?;
        if store::open_for_claim(tx.conn(), claim_id).await? {
            return Err(ServiceError::Conflict(FieldError::new(
                "claim",
                "already_open",
                "该理赔已有进行中的纠纷",
                "a dispute about this claim is already open",
            )));
        }
        let now = self.now_us();
        let d = Dispute {
            id: self.new_id(),
            claim_id: c.id.clone(),
            enterprise_id: c.enterprise_id.clone(),
            insurer_id: c.insurer_id.clone(),
            complaint,
            status: DisputeStatus::Complained,
            mediator: None,
            mediator_org: None,
            sessions: Vec::new(),
            outcome: None,
            forum: None,
            complained_on: self.today(),
            accepted_on: None,
            concluded_on: None,
            created_at_us: now,
        };
        store::insert(tx.conn(), &d).await?;
        let mut orgs: Vec<String> = kebao_store::users::any_with_role(tx.conn(), Role::Mediator)
            .await?
            .into_iter()
            .map(|(_, o)| o)
            .collect();
        orgs.sort();
        orgs.dedup();
        for org in orgs {
            todos::add_todo(
                tx.conn(),
                &Todo {
                    id: self.new_id(),
                    org_id: org,
                    role: Role::Mediator.code().to_owned(),
                    kind: "mediate".into(),
                    subject: d.id.clone(),
                    title_zh: "新的保险纠纷投诉待受理".into(),
                    title_en: "A new insurance complaint to take".into(),
                    link: format!("/disputes/{}", d.id),
                    created_at_us: now,
                    done_at_us: None,
                },
            )
            .await?;
        }
        self.finish(
            tx,
            EventDraft::new(
                &actor.log_name(),
                "dispute.complained",
                &d.id,
                serde_json::json!({"claim": claim_id}),
            ),
        )
        .await?;
        Ok(d)
    }

    fn mediator(&self, actor: &Actor) -> Result<(String, String)> {
        self.require(actor, Action::Mediate, &Resource::Zone, &Basis::None)?;
        // Mediators are users; the operator, whom the policies allow everything, has no
        // organisation to record as the mediating centre.
        let u = actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        Ok((actor.log_name(), u.org_id.clone()))
    }

    /// A mediator takes the complaint.
    pub async fn take_dispute(&self, actor: &Actor, id: &str) -> Result<Dispute> {
        let (who, org) = self.mediator(actor)?;
        let mut tx = self.store.begin_write().await?;
        let backend = tx.backend();
        let mut d = store::get_for_update(tx.conn(), id, backend).await?;
        let from = d.status;
        d.status = d.status.apply(DisputeStep::Take).map_err(ServiceError::Conflict)?;
        d.mediator = Some(who);
        d.mediator_org = Some(org.clone());
        d.accepted_on = Some(self.today());
        store::update(tx.conn(), &d, from).await?;
        todos::close_todo(tx.conn(), "mediate", id, self.now_us()).await?;
        // While the mediation runs, it is the mediating centre's work.
        let holder =
            kebao_store::orgs::get(tx.conn(), &d.enterprise_id).await.map(|o| o.name).unwrap_or_default();
        todos::add_todo(
            tx.conn(),
            &Todo {
                id: self.new_id(),
                org_id: org,
                role: Role::Mediator.code().to_owned(),
                kind: "mediating".into(),
                subject: d.id.clone(),
                title_zh: format!("调解进行中：{holder}的投诉（记录调解或结束调解）"),
                title_en: format!(
                    "Mediation under way: the complaint of {holder} (record a session or conclude)"
                ),
                link: format!("/disputes/{}", d.id),
                created_at_us: self.now_us(),
                done_at_us: None,
            },
        )
        .await?;
        self.finish(tx, EventDraft::new(&actor.log_name(), "dispute.taken", id, serde_json::json!({})))
            .await?;
        Ok(d)
    }

    /// The mediator records a session.
    pub async fn record_session(&self, actor: &Actor, id: &str, on: &str, notes: &str) -> Result<Dispute> {
        self.mediator(actor)?;
        let session = Session::parse(on, notes)?;
        let mut tx = self.store.begin_write().await?;
        let backend = tx.backend();
        let mut d = store::get_for_update(tx.conn(), id, backend).await?;
        self.require(
            actor,
            dispute_step_action(DisputeStep::Session).0,
            &dispute_resource(&d),
            &Basis::None,
        )?;
        let from = d.status;
        d.status = d.status.apply(DisputeStep::Session).map_err(ServiceError::Conflict)?;
        let on = session.on;
        d.sessions.push(session);
        store::update(tx.conn(), &d, from).await?;
        self.finish(
            tx,
            EventDraft::new(
                &actor.log_name(),
                "dispute.session",
                id,
                serde_json::json!({"on": on.to_string()}),
            ),
        )
        .await?;
        Ok(d)
    }

    /// The mediator concludes: settled (with the terms) or escalated to a forum.
    pub async fn conclude_dispute(
        &self,
        actor: &Actor,
        id: &str,
        settled: bool,
        forum: Option<Forum>,
        outcome: &str,
    ) -> Result<Dispute> {
        self.mediator(actor)?;
        let outcome = text("outcome", outcome, 2)?;
        if !settled && forum.is_none() {
            return Err(FieldError::new(
                "forum",
                "required",
                "未调解成功的须选择仲裁或诉讼",
                "an unsettled dispute goes to arbitration or a court",
            )
            .into());
        }
        let mut tx = self.store.begin_write().await?;
        let backend = tx.backend();
        let mut d = store::get_for_update(tx.conn(), id, backend).await?;
        let step = if settled { DisputeStep::Settle } else { DisputeStep::Escalate };
        self.require(actor, dispute_step_action(step).0, &dispute_resource(&d), &Basis::None)?;
        let from = d.status;
        d.status = d.status.apply(step).map_err(ServiceError::Conflict)?;
        d.forum = if settled { None } else { forum };
        d.outcome = Some(outcome);
        d.concluded_on = Some(self.today());
        store::update(tx.conn(), &d, from).await?;
        todos::close_todo(tx.conn(), "mediating", id, self.now_us()).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            if settled { "dispute.settled" } else { "dispute.escalated" },
            id,
            serde_json::json!({"forum": d.forum.map(|f| f.code())}),
        );
        self.finish(tx, draft).await?;
        Ok(d)
    }

    /// What the actor may do to the dispute now: the steps its state allows that Cedar allows
    /// this actor. Nothing when the actor may not see it.
    pub async fn dispute_actions(&self, actor: &Actor, id: &str) -> Result<Vec<DisputeStep>> {
        let mut tx = self.store.begin_read().await?;
        let d = store::get(tx.conn(), id).await?;
        let resource = dispute_resource(&d);
        if !self.allows(actor, Action::ReadDispute, &resource) {
            return Ok(Vec::new());
        }
        Ok(d.status
            .steps()
            .into_iter()
            .filter(|s| {
                // Taking is asked of the zone (any mediator, who must be a user to record
                // the centre); the rest of the dispute as it stands (its own mediator).
                let (action, on_dispute) = dispute_step_action(*s);
                if on_dispute {
                    self.allows(actor, action, &resource)
                } else {
                    actor.user().is_some() && self.allows(actor, action, &Resource::Zone)
                }
            })
            .collect())
    }

    /// A dispute with its deadlines, for its parties, its mediator's centre and the zone.
    pub async fn dispute(&self, actor: &Actor, id: &str) -> Result<DisputeView> {
        let mut tx = self.store.begin_read().await?;
        let d = store::get(tx.conn(), id).await?;
        // Not a party, a mediator or the zone: the dispute is not shown to exist.
        if !self.allows(actor, Action::ReadDispute, &dispute_resource(&d)) {
            return Err(ServiceError::NotFound);
        }
        let dl = self.dispute_deadlines();
        let mut deadlines = vec![(
            "受理投诉",
            "Take the complaint",
            (d.complained_on + time::Duration::days(dl.accept_days)).to_string(),
            d.accepted_on.is_some(),
        )];
        if let Some(a) = d.accepted_on {
            deadlines.push((
                "完成调解",
                "Conclude the mediation",
                (a + time::Duration::days(dl.mediate_days)).to_string(),
                d.concluded_on.is_some(),
            ));
        }
        // The claim complained of, as the dispute's readers (its mediator too) see it.
        let claim = match kebao_store::claims::get(tx.conn(), &d.claim_id).await {
            Ok(c) => Some(c),
            Err(kebao_store::StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        let parties = crate::worklists::parties_of_dispute(&mut tx, &d, claim.as_ref()).await?;
        Ok(DisputeView { dispute: d, deadlines, claim, parties })
    }

    /// Disputes the actor may see: mediators and the zone see all; parties their own.
    pub async fn disputes(&self, actor: &Actor) -> Result<Vec<Dispute>> {
        let all = self.allows(actor, Action::ReadAllDisputes, &Resource::Zone);
        let mut tx = self.store.begin_read().await?;
        if all {
            Ok(store::list(tx.conn(), None).await?)
        } else {
            let org = actor.org_id().ok_or(ServiceError::Unauthenticated("sign in first"))?;
            Ok(store::list(tx.conn(), Some(org)).await?)
        }
    }
}

/// What the policies see of a dispute: its parties, its state and its mediator (a user).
fn dispute_resource(d: &Dispute) -> Resource {
    Resource::Dispute(Case {
        id: d.id.clone(),
        enterprise_id: d.enterprise_id.clone(),
        insurer_id: d.insurer_id.clone(),
        status: d.status.code().to_owned(),
        assignee: d.mediator.as_deref().and_then(|m| m.strip_prefix("user:")).map(str::to_owned),
    })
}
