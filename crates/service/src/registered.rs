//! Policies bought outside the platform (issue 15.5). A zone officer must be able to check
//! an existing paper policy for a subsidy: its premium did not come from a rating plan on
//! the platform and its cover may have started years ago. The policyholder registers it
//! from the paper (a product the insurer publishes on the platform, the number as printed,
//! the period, the premium, the insured object and parties) and files the policy and the
//! invoice; the insurer named on it confirms the policy and the premium it received (which
//! then enter its ledger like any premium) or does not. Until it confirms, a subsidy
//! application on the policy may be made but cannot pass a review.

use crate::authz::{Action, Actor, Basis, Resource};
use crate::policies::{policy_resource, policy_step_action};
use crate::{Result, Service, ServiceError};
use kebao_domain::event::EventDraft;
use kebao_domain::ledger::{Transfer, TransferFlags, TransferResult};
use kebao_domain::policy::{
    codes, Answer, Application, ApplicationStatus, Policy, PolicySchedule, PolicyStatus, PolicyStep,
    Registration, RegistrationFields,
};
use kebao_domain::rating::{QuoteInput, Step};
use kebao_domain::subject::Subject;
use kebao_domain::user::Role;
use kebao_domain::{FieldError, Money};
use kebao_store::policies as store;
use kebao_store::todos::{self, Todo};

/// The longest note an insurer writes with its answer (characters).
pub const MAX_NOTE_CHARS: usize = 500;

/// The insurer's answer to a registration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AnswerFields {
    pub confirm: bool,
    /// The premium on the policy as the insurer books it (blank: as registered).
    pub premium_yuan: String,
    /// The premium it received (blank: all of it).
    pub received_yuan: String,
    pub note: String,
}

fn conflict(code: &'static str, zh: &str, en: &str) -> ServiceError {
    ServiceError::Conflict(FieldError::new("policy", code, zh, en))
}

impl Service {
    /// The policyholder registers a policy bought outside the platform. It is kept with the
    /// status "awaiting the insurer's confirmation", and the insurer's underwriters get a to-do.
    pub async fn register_policy(
        &self,
        actor: &Actor,
        fields: &RegistrationFields,
        subject: &Subject,
    ) -> Result<Policy> {
        let user = actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?.clone();
        self.require(actor, Action::RegisterPolicy, &Resource::Zone, &Basis::None)?;
        let r = Registration::parse(fields, self.today())?;
        let mut tx = self.store.begin_write().await?;
        let product = match kebao_store::products::get_product(tx.conn(), &r.product_id).await {
            Ok(p) if p.public_version.is_some() => p,
            Ok(_) | Err(kebao_store::StoreError::NotFound) => {
                return Err(ServiceError::from(FieldError::new(
                    "product_id",
                    "not_published",
                    "请选择保险机构在平台公开的产品",
                    "choose a product its insurer publishes on the platform",
                )))
            }
            Err(e) => return Err(e.into()),
        };
        let versions = kebao_store::products::versions(tx.conn(), &product.id).await?;
        let shown = versions
            .into_iter()
            .find(|v| Some(v.version) == product.public_version)
            .ok_or_else(|| ServiceError::Internal("published version missing".into()))?;
        match store::policy_by_number(tx.conn(), &r.number).await {
            Ok(_) => {
                return Err(ServiceError::Conflict(FieldError::new(
                    "number",
                    "taken",
                    format!("保单号 {} 已在平台登记或出单", r.number),
                    format!("policy number {} is already on the platform", r.number),
                )))
            }
            Err(kebao_store::StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        let now = self.now_us();
        let input = QuoteInput {
            limit: r.limit,
            deductible: Money::ZERO,
            sum_insured: r.sum_insured,
            revenue: Money::ZERO,
            industry: None,
            stage: None,
            claims_3y: 0,
        };
        let trace = vec![Step {
            label_zh: "保单所载保费（线下购买，投保人登记）".into(),
            label_en: "Premium as printed on the policy (bought outside the platform, registered by the policyholder)".into(),
            detail: String::new(),
            factor: None,
            running: r.premium.to_yuan_string(),
        }];
        let app = Application {
            id: self.new_id(),
            product_id: product.id.clone(),
            product_version: shown.version,
            insurer_id: product.insurer_id.clone(),
            enterprise_id: user.org_id.clone(),
            applicant: actor.log_name(),
            input: input.clone(),
            start_date: r.start,
            end_date: r.end,
            premium: r.premium,
            plan_version: 0,
            trace: trace.clone(),
            status: ApplicationStatus::Bound,
            reasons: Vec::new(),
            decided_by: Some("registered".into()),
            decided_at_us: Some(now),
            created_at_us: now,
            renewal_of: None,
            subject: subject.clone(),
        };
        store::insert_application(tx.conn(), &app).await?;
        let policy = Policy {
            id: self.new_id(),
            number: r.number.clone(),
            application_id: app.id.clone(),
            product_id: product.id.clone(),
            insurer_id: product.insurer_id.clone(),
            enterprise_id: user.org_id.clone(),
            start_date: r.start,
            end_date: r.end,
            premium: r.premium,
            schedule: PolicySchedule {
                product: shown.content.clone(),
                rated: input.clone(),
                plan_version: 0,
                trace,
            },
            bound_by: actor.log_name(),
            bound_at_us: now,
            status: PolicyStatus::Unconfirmed,
            cancelled_on: None,
            input,
            subject: subject.clone(),
            answer: None,
        };
        store::insert_policy(tx.conn(), &policy).await?;
        let org = kebao_store::orgs::get(tx.conn(), &user.org_id).await?;
        todos::add_todo(
            tx.conn(),
            &Todo {
                id: self.new_id(),
                org_id: policy.insurer_id.clone(),
                role: Role::Underwriter.code().to_owned(),
                kind: "confirm_registration".to_owned(),
                subject: policy.id.clone(),
                title_zh: format!("确认线下保单：{} 登记的保单 {}", org.name, policy.number),
                title_en: format!(
                    "Confirm a registered policy: {} registered policy {}",
                    org.name, policy.number
                ),
                link: format!("/policies/{}", policy.id),
                created_at_us: now,
                done_at_us: None,
            },
        )
        .await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "policy.registered",
            &policy.id,
            serde_json::json!({"number": policy.number, "product": product.id, "premium_fen": policy.premium.fen(),
                "start": policy.start_date.to_string(), "end": policy.end_date.to_string(),
                "object": policy.subject.object_key()}),
        );
        self.finish(tx, draft).await?;
        Ok(policy)
    }

    /// The insurer named on a registered policy answers: it confirms the policy with the
    /// premium it books and the premium it received (both then enter its ledger), or it does
    /// not recognise the policy (a note says why).
    pub async fn answer_registration(
        &self,
        actor: &Actor,
        policy_id: &str,
        f: &AnswerFields,
    ) -> Result<Policy> {
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        let note = f.note.trim().to_owned();
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(FieldError::new(
                "note",
                "too_long",
                format!("说明最多 {MAX_NOTE_CHARS} 个字"),
                format!("the note is at most {MAX_NOTE_CHARS} characters"),
            )
            .into());
        }
        let mut tx = self.store.begin_write().await?;
        let backend = tx.backend();
        let mut p = store::policy_for_update(tx.conn(), policy_id, backend).await?;
        self.policy_visible(&mut tx, actor, &p).await?;
        let step = if f.confirm { PolicyStep::ConfirmRegistration } else { PolicyStep::RejectRegistration };
        self.require(actor, policy_step_action(step), &policy_resource(&p), &Basis::None)?;
        p.status = p.status.apply(step).map_err(ServiceError::Conflict)?;
        let mut received = Money::ZERO;
        if f.confirm {
            if !f.premium_yuan.trim().is_empty() {
                let premium = Money::parse_yuan(&f.premium_yuan, "premium_yuan")?;
                if premium.fen() <= 0 || premium.fen() > kebao_domain::rating::MAX_QUOTE_FEN {
                    return Err(FieldError::new(
                        "premium_yuan",
                        "range",
                        "保费应大于零且不超过 1 万亿元",
                        "the premium must be above zero and at most a trillion yuan",
                    )
                    .into());
                }
                p.premium = premium;
            }
            received = if f.received_yuan.trim().is_empty() {
                p.premium
            } else {
                Money::parse_yuan(&f.received_yuan, "received_yuan")?
            };
            if received.fen() < 0 || received > p.premium {
                return Err(FieldError::new(
                    "received_yuan",
                    "range",
                    format!("已收保费应在 0 至保单保费 {} 元之间", p.premium.to_yuan_string()),
                    format!(
                        "the premium received is between 0 and the policy's premium of {} yuan",
                        p.premium.to_yuan_string()
                    ),
                )
                .into());
            }
        } else if note.is_empty() {
            return Err(FieldError::new(
                "note",
                "required",
                "不予确认时请说明原因",
                "say why the policy is not confirmed",
            )
            .into());
        }
        p.answer = Some(Answer { by: actor.log_name(), at_us: self.now_us(), note: note.clone() });
        store::answer_registration(tx.conn(), &p).await?;
        if f.confirm {
            self.write_premium_due(&mut tx, &p.insurer_id, &p.id, p.premium).await?;
            if received > Money::ZERO {
                let (receivable, _, cash) = crate::policies::accounts(&p.insurer_id, &p.id);
                let t = Transfer {
                    id: format!("premium-paid:{}:registration", p.id),
                    debit_account_id: cash,
                    credit_account_id: receivable,
                    amount: received.fen(),
                    pending_id: None,
                    code: codes::PREMIUM_PAID,
                    event_ref: p.id.clone(),
                    flags: TransferFlags::default(),
                };
                match self.apply_transfers(&mut tx, &[t]).await?.first() {
                    Some(TransferResult::Ok) => {}
                    Some(bad) => {
                        return Err(crate::ledger::unexpected(*bad, "premium received not recorded"))
                    }
                    None => return Err(ServiceError::Internal("premium received not recorded".into())),
                }
            }
        }
        todos::close_todo(tx.conn(), "confirm_registration", &p.id, self.now_us()).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            if f.confirm { "policy.registration_confirmed" } else { "policy.registration_rejected" },
            &p.id,
            serde_json::json!({"premium_fen": p.premium.fen(), "received_fen": received.fen()}),
        );
        let draft = Self::with_personal(draft, serde_json::json!({"note": note}))?;
        self.finish(tx, draft).await?;
        Ok(p)
    }

    /// The products a registered policy may name: those published on the platform, as
    /// (id, insurer, product name), by insurer.
    pub async fn registrable_products(&self) -> Result<Vec<(String, String, String)>> {
        let mut out: Vec<(String, String, String)> = self
            .published()
            .await?
            .into_iter()
            .map(|it| {
                (it.product.id.clone(), it.product.insurer_name.clone(), it.version.content.name.clone())
            })
            .collect();
        out.sort_by(|a, b| (&a.1, &a.2).cmp(&(&b.1, &b.2)));
        Ok(out)
    }

    /// Refuses a review step on a subsidy while the policy it rests on is a registered one
    /// its insurer has not confirmed (or did not recognise).
    pub(crate) fn require_confirmed(p: &Policy) -> Result<()> {
        match p.status {
            PolicyStatus::Unconfirmed => Err(conflict(
                "unconfirmed",
                "该保单为线下保单，保险公司尚未确认保单及所收保费，暂不能通过审核",
                "the policy was registered from outside the platform and its insurer has not yet confirmed it and the premium received",
            )),
            PolicyStatus::Unrecognised => Err(conflict(
                "unrecognised",
                "保险公司不予确认该线下保单",
                "the insurer named on this registered policy did not confirm it",
            )),
            _ => Ok(()),
        }
    }
}
