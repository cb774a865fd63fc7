//! Attachments (issue 14 §4): one upload path and one download path for the files of
//! product versions, claims, subsidy applications and consents. Who may attach or read is
//! the owner's rule: the owner's existing Cedar actions (edit or read a product, attach a
//! claim or subsidy document, read a claim or an application's details) and, for a
//! consent, the consent's own visibility.

use crate::authz::{Action, Actor, Basis, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::attachment::{Attachment, NewAttachment, Owner, OwnerKind};
use kebao_domain::event::EventDraft;
use kebao_domain::FieldError;
use kebao_store::{attachments as store, Tx};

impl Service {
    /// Attaches an uploaded file to its owner: checks the file, authorises the actor by the
    /// owner's rule, checks the owner's state and its limit, stores the file and records one
    /// event — in one write transaction.
    pub async fn attach(
        &self,
        actor: &Actor,
        owner: &Owner,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<Attachment> {
        self.attach_as(actor, owner, "", file_name, bytes).await
    }

    /// [`Service::attach`], the file filed as one of the documents its owner asks for
    /// (`label`: a subsidy programme's document code; required where the programme lists
    /// documents, refused elsewhere).
    pub async fn attach_as(
        &self,
        actor: &Actor,
        owner: &Owner,
        label: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<Attachment> {
        let new = NewAttachment::parse(file_name, bytes)?;
        let label = label.trim();
        let mut tx = self.store.begin_write().await?;
        let uploaded_by = self.may_attach(&mut tx, actor, owner).await?;
        let asked: Vec<String> = match owner.kind {
            OwnerKind::SubsidyApplication => self.subsidy_documents_asked(&mut tx, &owner.id).await?,
            _ => Vec::new(),
        };
        if (asked.is_empty() && !label.is_empty()) || (!asked.is_empty() && !asked.iter().any(|c| c == label))
        {
            return Err(FieldError::new(
                "kind",
                "unknown_document",
                "请从所列材料中选择该文件是哪一项",
                "say which of the listed documents the file is",
            )
            .into());
        }
        if let Some(max) = owner.kind.max_per_owner() {
            if store::count(tx.conn(), owner).await? >= max {
                return Err(owner.kind.too_many().into());
            }
        }
        let mut a = new.into_attachment(self.new_id(), owner.clone(), uploaded_by, self.now_us());
        a.label = label.to_owned();
        store::insert(tx.conn(), &a, bytes, self.store.backend()).await?;
        if owner.kind == OwnerKind::PremiumPayment {
            let p = kebao_store::policies::policy(tx.conn(), &owner.id).await?;
            self.payment_evidence_todo(&mut tx, &p).await?;
        }
        self.finish(tx, attached_event(actor, &a)?).await?;
        Ok(a)
    }

    /// An owner's attachments, oldest first, for whoever may read them.
    pub async fn attachments(&self, actor: &Actor, owner: &Owner) -> Result<Vec<Attachment>> {
        let mut tx = self.store.begin_read().await?;
        self.may_read_attachments(&mut tx, actor, owner).await?;
        Ok(store::of_owner(tx.conn(), owner).await?)
    }

    /// One attachment with its body, for whoever may read its owner's attachments; others
    /// are told it does not exist.
    pub async fn attachment(&self, actor: &Actor, id: &str) -> Result<(Attachment, Vec<u8>)> {
        let mut tx = self.store.begin_read().await?;
        let (a, body) = store::get_with_body(tx.conn(), id).await?;
        self.may_read_attachments(&mut tx, actor, &a.owner).await?;
        if body.is_empty() && a.size > 0 {
            return Err(ServiceError::Conflict(kebao_domain::FieldError::new(
                "",
                "erased",
                "该文件的内容已依保留规则删除（其哈希仍记于审计日志）",
                "the file's content was erased under the retention rules (its hash stays in the audit log)",
            )));
        }
        Ok((a, body))
    }

    /// Whether the actor may read the owner's attachments (`NotFound` when not).
    pub(crate) async fn may_read_attachments(
        &self,
        tx: &mut impl kebao_store::Conn,
        actor: &Actor,
        owner: &Owner,
    ) -> Result<()> {
        match owner.kind {
            OwnerKind::ProductVersion => {
                let p = kebao_store::products::get_product(tx.conn(), &owner.id).await?;
                let public = p.public_version.is_some() && p.public_version == owner.version;
                let res = crate::products::product_resource(&p, public);
                if !self.allows(actor, Action::ReadProduct, &res) {
                    return Err(ServiceError::NotFound);
                }
            }
            OwnerKind::Claim => {
                let c = kebao_store::claims::get(tx.conn(), &owner.id).await?;
                self.claim_visible(actor, &c)?;
            }
            OwnerKind::SubsidyApplication => {
                let s = kebao_store::subsidies::get(tx.conn(), &owner.id).await?;
                // The public sees what a notice publishes; the applicant's documents stay with
                // the applicant and the zone.
                if !self.allows(actor, Action::ReadSubsidyDetails, &crate::subsidies::subsidy_resource(&s)) {
                    return Err(ServiceError::NotFound);
                }
            }
            OwnerKind::Consent => {
                self.consent(actor, &owner.id).await?;
            }
            OwnerKind::PremiumPayment | OwnerKind::RegisteredPolicy => {
                let p = kebao_store::policies::policy(tx.conn(), &owner.id).await?;
                self.policy_visible(tx, actor, &p).await?;
            }
        }
        Ok(())
    }

    /// Whether the actor may attach a file to the owner now; returns how the uploader is
    /// recorded.
    async fn may_attach(&self, tx: &mut Tx, actor: &Actor, owner: &Owner) -> Result<String> {
        match owner.kind {
            OwnerKind::ProductVersion => {
                let p = kebao_store::products::get_product(tx.conn(), &owner.id).await?;
                self.require(
                    actor,
                    Action::EditProduct,
                    &crate::products::product_resource(&p, false),
                    &Basis::Own,
                )?;
                let vs = kebao_store::products::versions(tx.conn(), &owner.id).await?;
                let newest =
                    vs.first().ok_or_else(|| ServiceError::Internal("product without versions".into()))?;
                if Some(newest.version) != owner.version || !newest.status.is_editable() {
                    let status = match owner.version {
                        Some(v) => vs.iter().find(|x| x.version == v).map_or(newest.status, |x| x.status),
                        None => newest.status,
                    };
                    return Err(ServiceError::Conflict(crate::products::not_editable(status)));
                }
                Ok(actor.log_name())
            }
            OwnerKind::Claim => {
                let user = actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
                let c =
                    kebao_store::claims::get_for_update(tx.conn(), &owner.id, self.store.backend()).await?;
                self.require(
                    actor,
                    Action::AttachClaimDocument,
                    &crate::claims::claim_resource(&c),
                    &Basis::None,
                )?;
                Ok(format!("{}（{}）", user.display_name, user.username))
            }
            OwnerKind::SubsidyApplication => {
                let a = kebao_store::subsidies::get(tx.conn(), &owner.id).await?;
                let res = crate::subsidies::subsidy_resource(&a);
                self.require(actor, Action::AttachSubsidyDocument, &res, &Basis::None)?;
                if a.status.is_final() {
                    return Err(ServiceError::Conflict(FieldError::new(
                        "status",
                        "final",
                        "申请已办结，不能再补充材料",
                        "the application is finished",
                    )));
                }
                Ok(actor.log_name())
            }
            OwnerKind::PremiumPayment => {
                let user = actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
                let p = kebao_store::policies::policy(tx.conn(), &owner.id).await?;
                self.policy_visible(tx, actor, &p).await?;
                self.require(
                    actor,
                    Action::SubmitPaymentEvidence,
                    &crate::policies::policy_resource(&p),
                    &Basis::None,
                )?;
                if crate::payments::premium_due(tx, &p).await? == kebao_domain::Money::ZERO {
                    return Err(ServiceError::Conflict(FieldError::new(
                        "evidence",
                        "paid",
                        "该保单的保费已全部登记收讫，无需再上传凭证",
                        "the premium on this policy is recorded as paid in full",
                    )));
                }
                Ok(format!("{}（{}）", user.display_name, user.username))
            }
            OwnerKind::RegisteredPolicy => {
                let user = actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
                let p = kebao_store::policies::policy(tx.conn(), &owner.id).await?;
                self.policy_visible(tx, actor, &p).await?;
                // The policyholder's staff who may register policies file the paper policy
                // and the invoice, while the insurer has yet to answer.
                self.require(actor, Action::RegisterPolicy, &Resource::Zone, &Basis::None)?;
                if user.org_id != p.enterprise_id {
                    return Err(ServiceError::NotFound);
                }
                if p.status != kebao_domain::policy::PolicyStatus::Unconfirmed {
                    return Err(ServiceError::Conflict(FieldError::new(
                        "document",
                        "answered",
                        "保险公司已答复，不能再补充登记文件",
                        "the insurer has answered; documents can no longer be added",
                    )));
                }
                Ok(format!("{}（{}）", user.display_name, user.username))
            }
            OwnerKind::Consent => Err(ServiceError::Conflict(FieldError::new(
                "evidence",
                "given_with_consent",
                "授权书随授权一并提交，不能另行补充",
                "a consent's signed authorisation is given with the consent, not attached later",
            ))),
        }
    }
}

/// The one event of an upload (the kinds and fields the log has always had per owner).
/// The file's name may name a person: it goes in the event's erasable part.
fn attached_event(actor: &Actor, a: &Attachment) -> Result<EventDraft> {
    let (kind, payload) = match a.owner.kind {
        OwnerKind::ProductVersion => (
            "product.document_added",
            serde_json::json!({"version": a.owner.version, "document": a.id, "sha256": a.sha256, "size": a.size}),
        ),
        OwnerKind::Claim => (
            "claim.document_added",
            serde_json::json!({"document": a.id, "sha256": a.sha256, "size": a.size}),
        ),
        OwnerKind::SubsidyApplication if !a.label.is_empty() => (
            "subsidy.document_added",
            serde_json::json!({"document": a.id, "sha256": a.sha256, "kind": a.label}),
        ),
        OwnerKind::SubsidyApplication => {
            ("subsidy.document_added", serde_json::json!({"document": a.id, "sha256": a.sha256}))
        }
        OwnerKind::PremiumPayment => (
            "premium.evidence_added",
            serde_json::json!({"document": a.id, "sha256": a.sha256, "size": a.size}),
        ),
        OwnerKind::RegisteredPolicy => (
            "policy.document_added",
            serde_json::json!({"document": a.id, "sha256": a.sha256, "size": a.size}),
        ),
        OwnerKind::Consent => {
            ("consent.evidence_added", serde_json::json!({"document": a.id, "sha256": a.sha256}))
        }
    };
    Service::with_personal(
        EventDraft::new(&actor.log_name(), kind, &a.owner.id, payload),
        serde_json::json!({"file_name": a.file_name}),
    )
}
