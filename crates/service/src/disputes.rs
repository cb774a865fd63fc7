//! Disputes (C5): the insured enterprise complains about a claim decision; a mediator takes
//! the case, records sessions and concludes it — settled, or escalated to arbitration or a
//! court. Every step is an event; deadlines are configuration.

use crate::authz::{Action, Actor, Basis, Case, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::claim::ClaimStatus;
use kebao_domain::dispute::{DisputeDeadlines, DisputeStatus, Forum};
use kebao_domain::event::EventDraft;
use kebao_domain::user::Role;
use kebao_domain::FieldError;
use kebao_store::disputes::{self as store, DisputeRow, Session};
use kebao_store::todos::{self, Todo};

/// A dispute with its deadlines.
#[derive(Debug, Clone)]
pub struct DisputeView {
    pub dispute: DisputeRow,
    /// (label zh, label en, due date, met).
    pub deadlines: Vec<(&'static str, &'static str, String, bool)>,
}

fn text(field: &str, s: &str, min: usize) -> Result<String> {
    let t = s.trim();
    let n = t.chars().count();
    if n < min || n > 4000 {
        return Err(FieldError::new(
            field,
            "length",
            format!("请填写 {min}–4000 个字符"),
            format!("write {min} to 4,000 characters"),
        )
        .into());
    }
    Ok(t.to_owned())
}

impl Service {
    /// The deadlines in force.
    pub fn dispute_deadlines(&self) -> DisputeDeadlines {
        DisputeDeadlines::default()
    }

    /// The insured enterprise complains about a decided or closed claim.
    pub async fn complain(&self, actor: &Actor, claim_id: &str, complaint: &str) -> Result<DisputeRow> {
        let complaint = text("complaint", complaint, 5)?;
        // The claim is read, locked and checked in the write transaction that opens the
        // dispute: a reopening committed meanwhile is seen.
        let mut tx = self.store.begin_write().await?;
        let backend = tx.backend();
        let c = kebao_store::claims::get_for_update(tx.conn(), claim_id, backend).await?;
        self.claim_visible(actor, &c)?;
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        self.require(actor, Action::Complain, &crate::claims::claim_resource(&c), &Basis::None)?;
        if !matches!(c.status, ClaimStatus::Decided | ClaimStatus::Closed) {
            return Err(ServiceError::Conflict(FieldError::new(
                "claim",
                "not_decided",
                "理赔尚未作出决定，暂不能投诉",
                "the claim has no decision to complain about yet",
            )));
        }
        if store::open_for_claim(tx.conn(), claim_id).await? {
            return Err(ServiceError::Conflict(FieldError::new(
                "claim",
                "already_open",
                "该理赔已有进行中的纠纷",
                "a dispute about this claim is already open",
            )));
        }
        let now = self.now_us();
        let d = DisputeRow {
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
            complained_on: self.today().to_string(),
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
    pub async fn take_dispute(&self, actor: &Actor, id: &str) -> Result<DisputeRow> {
        let (who, org) = self.mediator(actor)?;
        let mut tx = self.store.begin_write().await?;
        let mut d = store::get(tx.conn(), id).await?;
        if d.status != DisputeStatus::Complained {
            return Err(ServiceError::Conflict(FieldError::new(
                "status",
                "not_open",
                "该纠纷已被受理或已结束",
                "the dispute was already taken or concluded",
            )));
        }
        d.status = DisputeStatus::Mediating;
        d.mediator = Some(who);
        d.mediator_org = Some(org);
        d.accepted_on = Some(self.today().to_string());
        store::update(tx.conn(), &d, DisputeStatus::Complained).await?;
        todos::close_todo(tx.conn(), "mediate", id, self.now_us()).await?;
        self.finish(tx, EventDraft::new(&actor.log_name(), "dispute.taken", id, serde_json::json!({})))
            .await?;
        Ok(d)
    }

    /// The mediator records a session.
    pub async fn record_session(&self, actor: &Actor, id: &str, on: &str, notes: &str) -> Result<DisputeRow> {
        self.mediator(actor)?;
        let notes = text("notes", notes, 2)?;
        let on = time::Date::parse(on.trim(), time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| {
                ServiceError::from(FieldError::new(
                    "on",
                    "date_format",
                    "日期应为 YYYY-MM-DD",
                    "the date is YYYY-MM-DD",
                ))
            })?;
        let mut tx = self.store.begin_write().await?;
        let mut d = store::get(tx.conn(), id).await?;
        self.require(actor, Action::MediateDispute, &dispute_resource(&d), &Basis::None)?;
        d.sessions.push(Session { on: on.to_string(), notes });
        store::update(tx.conn(), &d, DisputeStatus::Mediating).await?;
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
    ) -> Result<DisputeRow> {
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
        let mut d = store::get(tx.conn(), id).await?;
        self.require(actor, Action::MediateDispute, &dispute_resource(&d), &Basis::None)?;
        d.status = if settled { DisputeStatus::Settled } else { DisputeStatus::Escalated };
        d.forum = if settled { None } else { forum };
        d.outcome = Some(outcome);
        d.concluded_on = Some(self.today().to_string());
        store::update(tx.conn(), &d, DisputeStatus::Mediating).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            if settled { "dispute.settled" } else { "dispute.escalated" },
            id,
            serde_json::json!({"forum": d.forum.map(|f| f.code())}),
        );
        self.finish(tx, draft).await?;
        Ok(d)
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
        let parse =
            |s: &str| time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok();
        let mut deadlines = Vec::new();
        if let Some(c) = parse(&d.complained_on) {
            deadlines.push((
                "受理投诉",
                "Take the complaint",
                (c + time::Duration::days(dl.accept_days)).to_string(),
                d.accepted_on.is_some(),
            ));
        }
        if let Some(a) = d.accepted_on.as_deref().and_then(parse) {
            deadlines.push((
                "完成调解",
                "Conclude the mediation",
                (a + time::Duration::days(dl.mediate_days)).to_string(),
                d.concluded_on.is_some(),
            ));
        }
        Ok(DisputeView { dispute: d, deadlines })
    }

    /// Disputes the actor may see: mediators and the zone see all; parties their own.
    pub async fn disputes(&self, actor: &Actor) -> Result<Vec<DisputeRow>> {
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
fn dispute_resource(d: &DisputeRow) -> Resource {
    Resource::Dispute(Case {
        id: d.id.clone(),
        enterprise_id: d.enterprise_id.clone(),
        insurer_id: d.insurer_id.clone(),
        status: d.status.code().to_owned(),
        assignee: d.mediator.as_deref().and_then(|m| m.strip_prefix("user:")).map(str::to_owned),
    })
}
