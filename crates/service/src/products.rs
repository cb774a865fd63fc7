//! The product catalogue and regional registration (C2): product types from the catalogue,
//! insurers' filings, the zone's review, publication, the public portal and its search.
//!
//! The platform shows insurers' filed terms and never ranks products by price
//! (`rules.md` §11.1): the portal orders by relevance (search) or name.

use crate::authz::{Action, Actor, Basis, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::attachment::{Attachment, Owner, OwnerKind};
use kebao_domain::catalogue::{Catalogue, ProductLine};
use kebao_domain::event::EventDraft;
use kebao_domain::org::{LifecycleStage, OrgKind};
use kebao_domain::product::{
    registration_number, FilingStatus, Product, ProductContent, ProductInput, ProductVersion, ReviewComment,
    Transition, CHECKLIST,
};
use kebao_domain::user::Role;
use kebao_domain::{search, FieldError, Invalid};
use kebao_store::products::{self as store, ProductFilter, StatusChange};
use kebao_store::todos::{self, Notification, Todo};
use kebao_store::{orgs, users, Tx};
use std::sync::Arc;

/// A product as one actor sees it.
#[derive(Debug, Clone)]
pub struct ProductView {
    pub product: Product,
    /// The version shown: the public one for the public, the newest for its insurer and the zone.
    pub shown: ProductVersion,
    /// The published version, if any.
    pub public: Option<ProductVersion>,
    /// Every version the actor may see, newest first.
    pub versions: Vec<ProductVersion>,
    pub documents: Vec<Attachment>,
    /// Review comments (insurer and zone only).
    pub comments: Vec<ReviewComment>,
    pub can_edit: bool,
    pub can_review: bool,
    pub can_publish: bool,
    pub can_withdraw: bool,
    pub can_new_version: bool,
}

/// A row of a product list.
#[derive(Debug, Clone)]
pub struct ProductListItem {
    pub product: Product,
    /// The version the list shows (the public one on the portal; the newest for insurers).
    pub version: ProductVersion,
    pub type_name: String,
    pub line: ProductLine,
}

/// The portal's filters. Every field narrows.
#[derive(Debug, Clone, Default)]
pub struct PortalQuery {
    pub industry: Option<String>,
    pub stage: Option<LifecycleStage>,
    pub line: Option<ProductLine>,
    pub insurer_id: Option<String>,
    pub type_id: Option<String>,
    /// Full-text search.
    pub q: Option<String>,
    /// 1-based page.
    pub page: u32,
    pub per_page: u32,
}

/// One page of the portal.
#[derive(Debug, Clone)]
pub struct PortalPage {
    pub items: Vec<ProductListItem>,
    pub total: usize,
    pub page: u32,
    pub pages: u32,
}

/// The life-cycle × industry matrix of published products.
#[derive(Debug, Clone)]
pub struct Matrix {
    /// Industry tag ids and names, in configuration order.
    pub industries: Vec<(String, String)>,
    pub stages: Vec<LifecycleStage>,
    /// `counts[stage][industry]`: published products open to that cell.
    pub counts: Vec<Vec<usize>>,
}

/// A reviewer's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Review {
    RequestChanges { reason: String },
    Approve,
    Reject { reason: String },
}

/// A row of the registered-product roster.
#[derive(Debug, Clone)]
pub struct RosterRow {
    pub registration_no: String,
    pub product_name: String,
    pub insurer: String,
    pub type_name: String,
    pub nfra_class: String,
    pub version: i64,
    pub status: FilingStatus,
    pub approved_on: String,
    pub stages: String,
    pub industries: String,
}

pub(crate) fn product_resource(p: &Product, published: bool) -> Resource {
    Resource::Product { id: p.id.clone(), insurer_id: p.insurer_id.clone(), published }
}

fn conflict(e: FieldError) -> ServiceError {
    ServiceError::Conflict(e)
}

/// A product is approved, or published, for quoting only with a rating plan on file: the
/// platform quotes by the insurer's filed plan and has no price of its own (issue 16).
async fn require_rating_plan(tx: &mut Tx, product_id: &str) -> Result<()> {
    if kebao_store::rating::for_product(tx.conn(), product_id).await?.is_empty() {
        return Err(conflict(FieldError::new(
            "plan",
            "no_rating_plan",
            "尚未备案费率表：保险机构须先备案费率表，产品才能批准注册或发布报价",
            "no rating plan is filed: the insurer must file one before the product can be approved or published for quoting",
        )));
    }
    Ok(())
}

fn reason_text(reason: &str, field: &str) -> Result<String> {
    let r = reason.trim();
    let n = r.chars().count();
    if !(2..=2000).contains(&n) {
        return Err(FieldError::new(
            field,
            "reason_length",
            "请写明理由（2–2000 个字符）",
            "give the reasons (2 to 2,000 characters)",
        )
        .into());
    }
    Ok(r.to_owned())
}

impl Service {
    /// The catalogue in force.
    pub fn catalogue(&self) -> Arc<Catalogue> {
        match self.catalogue.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set_catalogue(&self, c: Catalogue) {
        match self.catalogue.write() {
            Ok(mut g) => *g = Arc::new(c),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(c),
        }
    }

    /// Takes the catalogue last loaded into the store, if any; changes nothing. Returns
    /// whether one was stored.
    pub async fn use_stored_catalogue(&self) -> Result<bool> {
        let mut tx = self.store.begin_read().await?;
        match store::current_catalogue(tx.conn()).await? {
            Some(file) => {
                let c = Catalogue::from_toml(&file.body)
                    .map_err(|e| ServiceError::Internal(format!("stored catalogue #{}: {e}", file.seq)))?;
                self.set_catalogue(c);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// At start of a server: takes the catalogue last loaded into the store, or records
    /// the embedded one (so that what the zone runs on is on the record).
    pub async fn restore_catalogue(&self) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        match store::current_catalogue(tx.conn()).await? {
            Some(file) => {
                let c = Catalogue::from_toml(&file.body)
                    .map_err(|e| ServiceError::Internal(format!("stored catalogue #{}: {e}", file.seq)))?;
                self.set_catalogue(c);
                Ok(())
            }
            None => {
                let c = self.catalogue();
                store::insert_catalogue(tx.conn(), c.hash(), "embedded", crate::CATALOGUE, self.now_us())
                    .await?;
                let draft = EventDraft::new(
                    "system:start",
                    "catalogue.loaded",
                    c.hash(),
                    serde_json::json!({"source": "embedded", "types": c.types().len()}),
                );
                self.finish(tx, draft).await?;
                Ok(())
            }
        }
    }

    /// Loads a new catalogue file (platform admins, the operator). Refused, with nothing
    /// changed, when it does not parse or drops a type that filings use.
    pub async fn load_catalogue(&self, actor: &Actor, text: &str, source: &str) -> Result<Arc<Catalogue>> {
        self.require(actor, Action::LoadCatalogue, &Resource::Zone, &Basis::None)?;
        let c = Catalogue::from_toml(text).map_err(|e| {
            Invalid(vec![FieldError::new(
                "catalogue",
                "catalogue_invalid",
                format!("产品目录文件有误：{e}"),
                format!("the catalogue file is invalid: {e}"),
            )])
        })?;
        let mut tx = self.store.begin_write().await?;
        let missing: Vec<String> =
            store::used_type_ids(tx.conn()).await?.into_iter().filter(|t| c.get(t).is_none()).collect();
        if !missing.is_empty() {
            return Err(conflict(FieldError::new(
                "catalogue",
                "type_in_use",
                format!("新目录缺少已有备案使用的产品类型：{}", missing.join("、")),
                format!("the new catalogue drops product types that filings use: {}", missing.join(", ")),
            )));
        }
        store::insert_catalogue(tx.conn(), c.hash(), source, text, self.now_us()).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "catalogue.loaded",
            c.hash(),
            serde_json::json!({"source": source, "types": c.types().len()}),
        );
        self.finish(tx, draft).await?;
        self.set_catalogue(c);
        Ok(self.catalogue())
    }

    async fn load_product(
        &self,
        tx: &mut impl kebao_store::Conn,
        id: &str,
    ) -> Result<(Product, Vec<ProductVersion>)> {
        let p = store::get_product(tx.conn(), id).await?;
        let vs = store::versions(tx.conn(), id).await?;
        if vs.is_empty() {
            return Err(ServiceError::Internal(format!("product {id} has no versions")));
        }
        Ok((p, vs))
    }

    /// The newest version (every product has one).
    fn newest(vs: &[ProductVersion]) -> Result<&ProductVersion> {
        vs.first().ok_or_else(|| ServiceError::Internal("product without versions".into()))
    }

    /// An insurer files a new product (a draft, version 1).
    pub async fn file_product(
        &self,
        actor: &Actor,
        insurer_id: &str,
        input: &ProductInput,
    ) -> Result<String> {
        let mut tx = self.store.begin_write().await?;
        let insurer = orgs::get(tx.conn(), insurer_id).await.map_err(|e| match e {
            kebao_store::StoreError::NotFound => Invalid(vec![FieldError::new(
                "insurer_id",
                "unknown_insurer",
                "保险机构不存在",
                format!("insurer `{insurer_id}` does not exist"),
            )])
            .into(),
            other => ServiceError::from(other),
        })?;
        self.require(
            actor,
            Action::FileProduct,
            &crate::authz::org_resource(&insurer),
            &self.basis_for(actor, &insurer),
        )?;
        if insurer.kind != OrgKind::Insurer {
            return Err(Invalid(vec![FieldError::new(
                "insurer_id",
                "not_insurer",
                "只有保险机构可以备案产品",
                "only insurers file products",
            )])
            .into());
        }
        let content = ProductContent::parse(input, &self.catalogue(), &self.industries)?;
        let id = self.new_id();
        let now = self.now_us();
        store::insert_product(tx.conn(), &id, insurer_id, &content, &actor.log_name(), now).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "product.filed",
            &id,
            serde_json::json!({"insurer": insurer_id, "type": content.type_id, "version": 1}),
        );
        self.finish(tx, draft).await?;
        Ok(id)
    }

    /// Changes the content of the product's open version (draft or changes requested).
    pub async fn update_product(&self, actor: &Actor, id: &str, input: &ProductInput) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        let (p, vs) = self.load_product(&mut tx, id).await?;
        self.require(actor, Action::EditProduct, &product_resource(&p, false), &Basis::Own)?;
        let v = Self::newest(&vs)?;
        if !v.status.is_editable() {
            return Err(conflict(not_editable(v.status)));
        }
        let content = ProductContent::parse(input, &self.catalogue(), &self.industries)?;
        if content.type_id != p.type_id {
            return Err(Invalid(vec![FieldError::new(
                "type_id",
                "type_fixed",
                "产品类型在备案后不能更改；如需其他类型请新建产品",
                "a product's type cannot change after filing; file a new product instead",
            )])
            .into());
        }
        store::update_content(tx.conn(), id, v.version, &content, self.now_us()).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "product.updated",
            id,
            serde_json::json!({"version": v.version}),
        );
        self.finish(tx, draft).await?;
        Ok(())
    }

    /// Attaches a document to the open (newest) version; stored once per content hash.
    pub async fn add_product_document(
        &self,
        actor: &Actor,
        id: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<Attachment> {
        let newest = {
            let mut tx = self.store.begin_read().await?;
            let (_, vs) = self.load_product(&mut tx, id).await?;
            Self::newest(&vs)?.version
        };
        self.attach(actor, &Owner::product_version(id, newest), file_name, bytes).await
    }

    /// A document and its body, if the actor may see the version it belongs to.
    pub async fn product_document(&self, actor: &Actor, doc_id: &str) -> Result<(Attachment, Vec<u8>)> {
        let (a, body) = self.attachment(actor, doc_id).await?;
        if a.owner.kind != OwnerKind::ProductVersion {
            return Err(ServiceError::NotFound);
        }
        Ok((a, body))
    }

    /// The insurer submits the open version for review; zone reviewers get a to-do.
    pub async fn submit_product(&self, actor: &Actor, id: &str) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        let (p, vs) = self.load_product(&mut tx, id).await?;
        self.require(actor, Action::EditProduct, &product_resource(&p, false), &Basis::Own)?;
        let v = Self::newest(&vs)?;
        let to = v.status.apply(Transition::Submit).map_err(conflict)?;
        let now = self.now_us();
        let change = StatusChange { submitted: true, ..Default::default() };
        store::set_status(tx.conn(), id, v.version, v.status, to, &change, now).await?;
        let mut zone_orgs: Vec<String> =
            users::any_with_role(tx.conn(), Role::ZoneReviewer).await?.into_iter().map(|(_, o)| o).collect();
        zone_orgs.sort();
        zone_orgs.dedup();
        todos::close_todo(tx.conn(), "review_product", id, now).await?;
        for zone_org in zone_orgs {
            todos::add_todo(
                tx.conn(),
                &Todo {
                    id: self.new_id(),
                    org_id: zone_org,
                    role: Role::ZoneReviewer.code().to_owned(),
                    kind: "review_product".to_owned(),
                    subject: id.to_owned(),
                    title_zh: format!("审核产品备案：{}（{}，第 {} 版）", p.name, p.insurer_name, v.version),
                    title_en: format!(
                        "Review the filing {} ({}, version {})",
                        p.name, p.insurer_name, v.version
                    ),
                    link: format!("/filings/{id}"),
                    created_at_us: now,
                    done_at_us: None,
                },
            )
            .await?;
        }
        let draft = EventDraft::new(
            &actor.log_name(),
            "product.submitted",
            id,
            serde_json::json!({"version": v.version}),
        );
        self.finish(tx, draft).await?;
        Ok(())
    }

    async fn comment_row(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        p: &Product,
        version: i64,
        kind: &str,
        body: &str,
    ) -> Result<()> {
        let author_name = match actor.user() {
            Some(u) => {
                let org = orgs::get(tx.conn(), &u.org_id).await?;
                format!("{}（{}）", u.display_name, org.name)
            }
            None => actor.log_name(),
        };
        store::insert_comment(
            tx.conn(),
            &ReviewComment {
                id: self.new_id(),
                product_id: p.id.clone(),
                version,
                author: actor.log_name(),
                author_name,
                kind: kind.to_owned(),
                body: body.to_owned(),
                created_at_us: self.now_us(),
            },
        )
        .await?;
        Ok(())
    }

    /// A comment on the newest version, by the zone's reviewers or the filing insurer.
    pub async fn comment_product(&self, actor: &Actor, id: &str, body: &str) -> Result<()> {
        let body = reason_text(body, "body")?;
        let mut tx = self.store.begin_write().await?;
        let (p, vs) = self.load_product(&mut tx, id).await?;
        let res = product_resource(&p, false);
        let reviewer = self.authz.decide(actor, Action::ReviewProduct, &res, &Basis::None).allowed;
        if !reviewer {
            self.require(actor, Action::EditProduct, &res, &Basis::Own)?;
        }
        let v = Self::newest(&vs)?;
        let kind = if reviewer { "comment" } else { "reply" };
        self.comment_row(&mut tx, actor, &p, v.version, kind, &body).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "product.commented",
            id,
            serde_json::json!({"version": v.version, "kind": kind}),
        );
        self.finish(tx, draft).await?;
        Ok(())
    }

    /// The reviewer ticks checklist items on the version in review.
    pub async fn set_product_checklist(&self, actor: &Actor, id: &str, items: &[String]) -> Result<()> {
        let mut ticked: Vec<String> = Vec::new();
        for i in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            if !CHECKLIST.iter().any(|(c, _, _)| *c == i) {
                return Err(Invalid(vec![FieldError::new(
                    "checklist",
                    "unknown_item",
                    format!("核查项 `{i}` 不存在"),
                    format!("checklist item `{i}` does not exist"),
                )])
                .into());
            }
            if !ticked.iter().any(|t| t == i) {
                ticked.push(i.to_owned());
            }
        }
        let mut tx = self.store.begin_write().await?;
        let (p, vs) = self.load_product(&mut tx, id).await?;
        self.require(
            actor,
            Action::ReviewProduct,
            &product_resource(&p, false),
            &Basis::StatutoryDuty { purpose: "product_registration".into() },
        )?;
        let v = Self::newest(&vs)?;
        if v.status != FilingStatus::InReview {
            return Err(conflict(FieldError::new(
                "status",
                "not_in_review",
                format!("该版本状态为「{}」，不在审核中", v.status.label_zh()),
                format!("the version is `{}`, not in review", v.status.code()),
            )));
        }
        store::set_checklist(tx.conn(), id, v.version, &ticked).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "product.checklist",
            id,
            serde_json::json!({"version": v.version, "ticked": ticked}),
        );
        self.finish(tx, draft).await?;
        Ok(())
    }

    /// The zone decides on the version in review: changes requested, approved (with a
    /// registration number) or rejected. Approval needs the whole checklist ticked.
    pub async fn review_product(&self, actor: &Actor, id: &str, review: &Review) -> Result<ProductVersion> {
        let reason = match review {
            Review::RequestChanges { reason } | Review::Reject { reason } => {
                Some(reason_text(reason, "reason")?)
            }
            Review::Approve => None,
        };
        let mut tx = self.store.begin_write().await?;
        let (p, vs) = self.load_product(&mut tx, id).await?;
        self.require(
            actor,
            Action::ReviewProduct,
            &product_resource(&p, false),
            &Basis::StatutoryDuty { purpose: "product_registration".into() },
        )?;
        let v = Self::newest(&vs)?.clone();
        let (t, action, kind) = match review {
            Review::RequestChanges { .. } => {
                (Transition::RequestChanges, "product.changes_requested", "request_changes")
            }
            Review::Approve => (Transition::Approve, "product.approved", "approve"),
            Review::Reject { .. } => (Transition::Reject, "product.rejected", "reject"),
        };
        let to = v.status.apply(t).map_err(conflict)?;
        if *review == Review::Approve {
            let missing: Vec<&str> = CHECKLIST
                .iter()
                .filter(|(c, _, _)| !v.checklist.iter().any(|t| t == c))
                .map(|(_, zh, _)| *zh)
                .collect();
            if !missing.is_empty() {
                return Err(Invalid(vec![FieldError::new(
                    "checklist",
                    "checklist_incomplete",
                    format!("核查清单未完成：{}", missing.join("；")),
                    format!("{} checklist item(s) are not ticked", missing.len()),
                )])
                .into());
            }
            require_rating_plan(&mut tx, id).await?;
        }
        let now = self.now_us();
        let mut change = StatusChange { reason: reason.clone(), ..Default::default() };
        if to != FilingStatus::ChangesRequested {
            change.decided = true;
        }
        if to == FilingStatus::Approved {
            let year = self.today().year();
            let seq = store::next_registration_seq(tx.conn(), year).await?;
            change.registration_no = Some(registration_number(year, seq));
        }
        store::set_status(tx.conn(), id, v.version, v.status, to, &change, now).await?;
        let note = match (&reason, &change.registration_no) {
            (Some(r), _) => r.clone(),
            (None, Some(no)) => format!("批准注册，登记号 {no}"),
            _ => String::new(),
        };
        self.comment_row(&mut tx, actor, &p, v.version, kind, &note).await?;
        todos::close_todo(tx.conn(), "review_product", id, now).await?;
        let mut filers = users::with_role(tx.conn(), &p.insurer_id, Role::ProductFiler).await?;
        filers.extend(users::with_role(tx.conn(), &p.insurer_id, Role::OrgAdmin).await?);
        filers.sort();
        filers.dedup();
        let (zh, en) = match to {
            FilingStatus::Approved => (
                format!(
                    "产品「{}」已批准注册（{}），可以发布",
                    p.name,
                    change.registration_no.clone().unwrap_or_default()
                ),
                format!(
                    "{} is registered ({}); you may publish it",
                    p.name,
                    change.registration_no.clone().unwrap_or_default()
                ),
            ),
            FilingStatus::Rejected => {
                (format!("产品「{}」未获注册", p.name), format!("{} was not registered", p.name))
            }
            _ => (format!("产品「{}」被退回修改", p.name), format!("Changes are requested on {}", p.name)),
        };
        for user_id in filers {
            todos::notify(
                tx.conn(),
                &Notification {
                    id: self.new_id(),
                    user_id,
                    title_zh: zh.clone(),
                    title_en: en.clone(),
                    link: format!("/filings/{id}"),
                    created_at_us: now,
                    read_at_us: None,
                },
            )
            .await?;
        }
        let draft = EventDraft::new(
            &actor.log_name(),
            action,
            id,
            serde_json::json!({"version": v.version, "registration_no": change.registration_no}),
        );
        let draft = Self::with_personal(draft, serde_json::json!({"reason": reason}))?;
        self.finish(tx, draft).await?;
        let mut tx = self.store.begin_read().await?;
        let vs = store::versions(tx.conn(), id).await?;
        vs.into_iter().find(|x| x.version == v.version).ok_or(ServiceError::NotFound)
    }

    /// The insurer publishes its newest approved (or withdrawn) version; an earlier
    /// published version is superseded.
    pub async fn publish_product(&self, actor: &Actor, id: &str) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        let (p, vs) = self.load_product(&mut tx, id).await?;
        self.require(actor, Action::EditProduct, &product_resource(&p, false), &Basis::Own)?;
        let target = vs
            .iter()
            .find(|v| matches!(v.status, FilingStatus::Approved | FilingStatus::Withdrawn))
            .cloned()
            .ok_or_else(|| {
                conflict(FieldError::new(
                    "status",
                    "nothing_to_publish",
                    "没有已批准注册、可以发布的版本",
                    "no registered version is waiting to be published",
                ))
            })?;
        if vs.iter().any(|v| v.version > target.version && v.status == FilingStatus::Published) {
            return Err(conflict(FieldError::new(
                "status",
                "newer_published",
                "已有更新的版本在发布中",
                "a newer version is already published",
            )));
        }
        let to = target.status.apply(Transition::Publish).map_err(conflict)?;
        require_rating_plan(&mut tx, id).await?;
        let now = self.now_us();
        for old in vs.iter().filter(|v| v.status == FilingStatus::Published && v.version < target.version) {
            store::set_status(
                tx.conn(),
                id,
                old.version,
                FilingStatus::Published,
                FilingStatus::Superseded,
                &StatusChange::default(),
                now,
            )
            .await?;
        }
        let change = StatusChange { published: true, ..Default::default() };
        store::set_status(tx.conn(), id, target.version, target.status, to, &change, now).await?;
        store::set_public_version(tx.conn(), id, Some(target.version), now).await?;
        let insurer = orgs::get(tx.conn(), &p.insurer_id).await?;
        let terms = self.search_terms(&target.content, &insurer.name);
        store::index_product(tx.conn(), id, &terms, self.store.backend()).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "product.published",
            id,
            serde_json::json!({"version": target.version, "registration_no": target.registration_no}),
        );
        self.finish(tx, draft).await?;
        Ok(())
    }

    fn search_terms(&self, c: &ProductContent, insurer_name: &str) -> String {
        let mut text = format!("{} {} {}", c.name, insurer_name, c.summary);
        if let Some(t) = self.catalogue().get(&c.type_id) {
            text.push(' ');
            text.push_str(&t.search_text());
        }
        for cov in &c.coverages {
            text.push(' ');
            text.push_str(&cov.name);
        }
        search::index_text(&text)
    }

    /// The insurer takes its published version off the portal. It stays registered.
    pub async fn withdraw_product(&self, actor: &Actor, id: &str) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        let (p, vs) = self.load_product(&mut tx, id).await?;
        self.require(actor, Action::EditProduct, &product_resource(&p, false), &Basis::Own)?;
        let v = vs.iter().find(|v| v.status == FilingStatus::Published).cloned().ok_or_else(|| {
            conflict(FieldError::new(
                "status",
                "not_published",
                "该产品未在发布中",
                "the product is not published",
            ))
        })?;
        let to = v.status.apply(Transition::Withdraw).map_err(conflict)?;
        let now = self.now_us();
        store::set_status(tx.conn(), id, v.version, v.status, to, &StatusChange::default(), now).await?;
        store::set_public_version(tx.conn(), id, None, now).await?;
        store::unindex_product(tx.conn(), id).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "product.withdrawn",
            id,
            serde_json::json!({"version": v.version}),
        );
        self.finish(tx, draft).await?;
        Ok(())
    }

    /// Starts a new version (a draft copied from the newest, with its documents). Only one
    /// version may be open at a time.
    pub async fn new_product_version(&self, actor: &Actor, id: &str) -> Result<i64> {
        let mut tx = self.store.begin_write().await?;
        let (p, vs) = self.load_product(&mut tx, id).await?;
        self.require(actor, Action::EditProduct, &product_resource(&p, false), &Basis::Own)?;
        let newest = Self::newest(&vs)?.clone();
        if newest.status.is_open() {
            return Err(conflict(FieldError::new(
                "status",
                "version_open",
                format!("第 {} 版仍在「{}」，请先完成该版本", newest.version, newest.status.label_zh()),
                format!("version {} is still `{}`; finish it first", newest.version, newest.status.code()),
            )));
        }
        let version = newest.version + 1;
        let now = self.now_us();
        store::insert_version(tx.conn(), id, version, &newest.content, &actor.log_name(), now).await?;
        kebao_store::attachments::copy(
            tx.conn(),
            &Owner::product_version(id, newest.version),
            &Owner::product_version(id, version),
            &|| self.new_id(),
        )
        .await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "product.version_created",
            id,
            serde_json::json!({"version": version, "from": newest.version}),
        );
        self.finish(tx, draft).await?;
        Ok(version)
    }

    /// A product as the actor may see it. Others' unpublished products are not found.
    pub async fn product(&self, actor: &Actor, id: &str) -> Result<ProductView> {
        let mut tx = self.store.begin_read().await?;
        let (p, vs) = self.load_product(&mut tx, id).await?;
        let public = p.public_version.and_then(|pv| vs.iter().find(|v| v.version == pv).cloned());
        let all =
            self.authz.decide(actor, Action::ReadProduct, &product_resource(&p, false), &Basis::None).allowed;
        let (shown, versions) = if all {
            (Self::newest(&vs)?.clone(), vs.clone())
        } else {
            let public_ok = public.is_some()
                && self
                    .authz
                    .decide(actor, Action::ReadProduct, &product_resource(&p, true), &Basis::None)
                    .allowed;
            match (&public, public_ok) {
                (Some(v), true) => (v.clone(), vec![v.clone()]),
                _ => return Err(ServiceError::NotFound),
            }
        };
        let documents =
            kebao_store::attachments::of_owner(tx.conn(), &Owner::product_version(id, shown.version)).await?;
        let comments = if all { store::comments(tx.conn(), id).await? } else { Vec::new() };
        let res = product_resource(&p, false);
        let can_edit_any = self.authz.decide(actor, Action::EditProduct, &res, &Basis::Own).allowed;
        let newest = Self::newest(&vs)?;
        let can_review = self.authz.decide(actor, Action::ReviewProduct, &res, &Basis::None).allowed
            && newest.status == FilingStatus::InReview;
        Ok(ProductView {
            can_edit: can_edit_any && newest.status.is_editable(),
            can_publish: can_edit_any
                && vs.iter().any(|v| matches!(v.status, FilingStatus::Approved | FilingStatus::Withdrawn))
                && !vs.iter().any(|v| v.status == FilingStatus::Published && v.version > newest.version),
            can_withdraw: can_edit_any && vs.iter().any(|v| v.status == FilingStatus::Published),
            can_new_version: can_edit_any && !newest.status.is_open(),
            can_review,
            product: p,
            shown,
            public,
            versions,
            documents,
            comments,
        })
    }

    fn list_item(&self, product: Product, version: ProductVersion) -> ProductListItem {
        let cat = self.catalogue();
        let t = cat.get(&product.type_id);
        ProductListItem {
            type_name: t.map(|t| t.name_zh.clone()).unwrap_or_else(|| product.type_id.clone()),
            line: t.map(|t| t.product_line()).unwrap_or(ProductLine::Composite),
            product,
            version,
        }
    }

    /// The actor's insurer's products, newest version each (drafts included).
    pub async fn my_products(&self, actor: &Actor) -> Result<Vec<ProductListItem>> {
        let Some(org_id) = actor.org_id() else { return Err(ServiceError::Unauthenticated("sign in first")) };
        let mut tx = self.store.begin_read().await?;
        let org = orgs::get(tx.conn(), org_id).await?;
        if org.kind != OrgKind::Insurer {
            return Ok(Vec::new());
        }
        let rows = store::list(
            tx.conn(),
            &ProductFilter { insurer_id: Some(org_id.to_owned()), published_only: false },
        )
        .await?;
        Ok(rows.into_iter().map(|(p, v, _)| self.list_item(p, v)).collect())
    }

    /// Filings waiting for the zone (in review first, then those sent back).
    pub async fn review_queue(&self, actor: &Actor) -> Result<Vec<ProductListItem>> {
        actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        self.require(actor, Action::ReviewProductQueue, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        let mut rows = store::review_queue(tx.conn()).await?;
        rows.sort_by_key(|(_, v)| (v.status != FilingStatus::InReview, v.submitted_at_us));
        Ok(rows.into_iter().map(|(p, v)| self.list_item(p, v)).collect())
    }

    pub(crate) async fn published(&self) -> Result<Vec<ProductListItem>> {
        let mut tx = self.store.begin_read().await?;
        let rows = store::list(tx.conn(), &ProductFilter { insurer_id: None, published_only: true }).await?;
        Ok(rows.into_iter().filter_map(|(p, _, public)| public.map(|v| self.list_item(p, v))).collect())
    }

    /// The public portal: published products, filtered, searched, paged. Never sorted by price.
    pub async fn portal(&self, q: &PortalQuery) -> Result<PortalPage> {
        let mut items = self.published().await?;
        items.retain(|it| {
            it.version.content.covers(q.industry.as_deref(), q.stage)
                && q.line.is_none_or(|l| it.line == l)
                && q.insurer_id.as_deref().is_none_or(|i| it.product.insurer_id == i)
                && q.type_id.as_deref().is_none_or(|t| it.product.type_id == t)
        });
        if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let phrases = search::query_phrases(text).map_err(|e| Invalid(vec![e]))?;
            let mut tx = self.store.begin_read().await?;
            let hits = store::search(tx.conn(), &phrases, self.store.backend()).await?;
            let mut ranked = Vec::new();
            for id in hits {
                if let Some(pos) = items.iter().position(|it| it.product.id == id) {
                    ranked.push(items.swap_remove(pos));
                }
            }
            items = ranked;
        }
        let per_page = q.per_page.clamp(1, 100);
        let total = items.len();
        let pages = u32::try_from(total.div_ceil(per_page as usize)).unwrap_or(u32::MAX).max(1);
        let page = q.page.clamp(1, pages);
        let start = (page as usize - 1) * per_page as usize;
        let items = items.into_iter().skip(start).take(per_page as usize).collect();
        Ok(PortalPage { items, total, page, pages })
    }

    /// Insurers with published products (for the portal's filter).
    pub async fn portal_insurers(&self) -> Result<Vec<(String, String)>> {
        let mut out: Vec<(String, String)> = self
            .published()
            .await?
            .into_iter()
            .map(|it| (it.product.insurer_id, it.product.insurer_name))
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out.dedup();
        Ok(out)
    }

    /// Where registered products exist, by life-cycle stage × industry, and where the gaps are.
    pub async fn product_matrix(&self) -> Result<Matrix> {
        let items = self.published().await?;
        let industries: Vec<(String, String)> =
            self.industries.tags().iter().map(|t| (t.id.clone(), t.name_zh.clone())).collect();
        let stages = LifecycleStage::ALL.to_vec();
        let counts = stages
            .iter()
            .map(|s| {
                industries
                    .iter()
                    .map(|(i, _)| {
                        items.iter().filter(|it| it.version.content.covers(Some(i), Some(*s))).count()
                    })
                    .collect()
            })
            .collect();
        Ok(Matrix { industries, stages, counts })
    }

    /// Every registered version (approved, published, withdrawn or superseded), by
    /// registration number: the roster the zone publishes. Public data.
    pub async fn registered_roster(&self) -> Result<Vec<RosterRow>> {
        let mut tx = self.store.begin_read().await?;
        let rows = store::list(tx.conn(), &ProductFilter::default()).await?;
        let cat = self.catalogue();
        let mut out = Vec::new();
        for (p, _, _) in rows {
            for v in store::versions(tx.conn(), &p.id).await? {
                let Some(no) = v.registration_no.clone() else { continue };
                let t = cat.get(&p.type_id);
                out.push(RosterRow {
                    registration_no: no,
                    product_name: v.content.name.clone(),
                    insurer: p.insurer_name.clone(),
                    type_name: t.map(|t| t.name_zh.clone()).unwrap_or_else(|| p.type_id.clone()),
                    nfra_class: t.map(|t| t.nfra().label_zh().to_owned()).unwrap_or_default(),
                    version: v.version,
                    status: v.status,
                    approved_on: v
                        .decided_at_us
                        .map(|us| {
                            kebao_domain::time_zone::business_date(kebao_domain::time_zone::from_unix_us(us))
                                .to_string()
                        })
                        .unwrap_or_default(),
                    stages: v
                        .content
                        .eligibility
                        .stages
                        .iter()
                        .map(|s| s.label_zh())
                        .collect::<Vec<_>>()
                        .join("、"),
                    industries: if v.content.eligibility.industries.is_empty() {
                        "不限".to_owned()
                    } else {
                        v.content
                            .eligibility
                            .industries
                            .iter()
                            .map(|i| {
                                self.industries.tag(i).map(|t| t.name_zh.clone()).unwrap_or_else(|| i.clone())
                            })
                            .collect::<Vec<_>>()
                            .join("、")
                    },
                });
            }
        }
        out.sort_by(|a, b| a.registration_no.cmp(&b.registration_no));
        Ok(out)
    }

    /// Counts of filed versions by status (dashboards).
    pub async fn filing_stats(&self) -> Result<Vec<(FilingStatus, u64)>> {
        let mut tx = self.store.begin_read().await?;
        Ok(store::count_by_status(tx.conn())
            .await?
            .into_iter()
            .filter_map(|(s, n)| FilingStatus::from_code(&s).map(|s| (s, n)))
            .collect())
    }
}

pub(crate) fn not_editable(s: FilingStatus) -> FieldError {
    FieldError::new(
        "status",
        "not_editable",
        format!("该版本状态为「{}」，不能修改；如需修改请新建版本", s.label_zh()),
        format!("a version that is `{}` cannot be changed; start a new version", s.code()),
    )
}
