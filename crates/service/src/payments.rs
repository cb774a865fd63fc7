//! Paying a premium: the insurer's collection account and the payment reference shown on a
//! policy with premium due, the policyholder's payment evidence, and the insurer's to-do to
//! confirm it (by recording the premium, which closes the to-do once all is paid).

use crate::authz::{org_resource, Action, Actor};
use crate::policies::policy_resource;
use crate::{Result, Service, ServiceError};
use kebao_domain::attachment::{Attachment, Owner, OwnerKind};
use kebao_domain::event::EventDraft;
use kebao_domain::org::OrgKind;
use kebao_domain::policy::codes;
use kebao_domain::policy::{CollectionAccount, Policy};
use kebao_domain::user::Role;
use kebao_domain::{FieldError, Money};
use kebao_store::todos::{self, Todo};
use kebao_store::{orgs, Tx};

/// How the policyholder pays what is due on a policy.
#[derive(Debug, Clone)]
pub struct PaymentInstructions {
    /// The insurer's account, if the insurer has given one.
    pub account: Option<CollectionAccount>,
    /// The payment reference to quote: the policy number.
    pub reference: String,
    /// The premium still due.
    pub due: Money,
    /// The evidence uploaded so far, oldest first.
    pub evidence: Vec<Attachment>,
    /// Whether the actor may upload evidence (the policyholder, while premium is due).
    pub can_submit: bool,
}

/// The owner of a policy's payment evidence.
pub fn evidence_owner(policy_id: &str) -> Owner {
    Owner { kind: OwnerKind::PremiumPayment, id: policy_id.to_owned(), version: None }
}

/// The premium still due on a policy: its premium less what the ledger records as paid.
pub(crate) async fn premium_due(tx: &mut impl kebao_store::Conn, p: &Policy) -> Result<Money> {
    let paid = kebao_store::ledger::sum_for_event(tx.conn(), &p.id, codes::PREMIUM_PAID).await?;
    Ok(p.premium.checked_sub(Money::from_fen(paid)).unwrap_or(Money::ZERO))
}

impl Service {
    /// Sets an insurer's collection account (its own administrator, or the zone for it).
    pub async fn set_collection_account(
        &self,
        actor: &Actor,
        org_id: &str,
        account: &CollectionAccount,
    ) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        let org = orgs::get(tx.conn(), org_id).await?;
        self.require(actor, Action::UpdateOrg, &org_resource(&org), &self.basis_for(actor, &org))?;
        if org.kind != OrgKind::Insurer {
            return Err(ServiceError::Conflict(FieldError::new(
                "kind",
                "not_insurer",
                "只有保险机构登记收款账户",
                "only insurers give a collection account",
            )));
        }
        let account = CollectionAccount::parse(
            &account.bank,
            &account.account_name,
            &account.account_no,
            &account.note,
        )?;
        orgs::set_collection_account(tx.conn(), org_id, &account, self.now_us()).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "org.collection_account_set",
            org_id,
            serde_json::to_value(&account).map_err(|e| ServiceError::Internal(e.to_string()))?,
        );
        self.finish(tx, draft).await?;
        Ok(())
    }

    /// An insurer's collection account (given to its payers: any signed-in user may read it).
    pub async fn collection_account(&self, actor: &Actor, org_id: &str) -> Result<Option<CollectionAccount>> {
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        let mut tx = self.store.begin_read().await?;
        orgs::get(tx.conn(), org_id).await?;
        Ok(orgs::collection_account(tx.conn(), org_id).await?)
    }

    /// How to pay what is due on a policy, for whoever may see the policy.
    pub async fn payment_instructions(&self, actor: &Actor, policy_id: &str) -> Result<PaymentInstructions> {
        let mut tx = self.store.begin_read().await?;
        let p = kebao_store::policies::policy(tx.conn(), policy_id).await?;
        self.policy_visible(&mut tx, actor, &p).await?;
        let due = premium_due(&mut tx, &p).await?;
        Ok(PaymentInstructions {
            account: orgs::collection_account(tx.conn(), &p.insurer_id).await?,
            reference: p.number.clone(),
            due,
            evidence: kebao_store::attachments::of_owner(tx.conn(), &evidence_owner(&p.id)).await?,
            can_submit: due > Money::ZERO
                && self.allows(actor, Action::SubmitPaymentEvidence, &policy_resource(&p)),
        })
    }

    /// After payment evidence is uploaded: the insurer's underwriters, who record premiums,
    /// are asked to confirm the payment (one open to-do per policy).
    pub(crate) async fn payment_evidence_todo(&self, tx: &mut Tx, p: &Policy) -> Result<()> {
        let now = self.now_us();
        todos::close_todo(tx.conn(), "premium_evidence", &p.id, now).await?;
        let holder = orgs::get(tx.conn(), &p.enterprise_id).await.map(|o| o.name).unwrap_or_default();
        let due = premium_due(tx, p).await?;
        todos::add_todo(
            tx.conn(),
            &Todo {
                id: self.new_id(),
                org_id: p.insurer_id.clone(),
                role: Role::Underwriter.code().to_owned(),
                kind: "premium_evidence".into(),
                subject: p.id.clone(),
                title_zh: format!(
                    "缴费凭证待确认：{holder}（保单 {}，应收 {} 元）",
                    p.number,
                    due.display_yuan()
                ),
                title_en: format!(
                    "Payment evidence to confirm: {holder} (policy {}, {} yuan due)",
                    p.number,
                    due.display_yuan()
                ),
                link: format!("/policies/{}", p.id),
                created_at_us: now,
                done_at_us: None,
            },
        )
        .await?;
        Ok(())
    }
}
