//! The registry of parties (C1): organisations, branches, qualifications, yearly facts.

use crate::authz::{org_resource, Action, Actor, Basis, Decided, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::event::EventDraft;
use kebao_domain::org::OrgFilter;
use kebao_domain::org::{
    NewOrganisation, OrgKind, OrgStatus, Organisation, OrganisationInput, Qualification, YearlyFacts,
};
use kebao_domain::user::Role;
use kebao_domain::{FieldError, Invalid};
use kebao_store::orgs::{self, OrgCursor};
use kebao_store::todos::{self, Notification, Todo};
use kebao_store::{users, Tx};

/// One page of a list, with an opaque cursor for the next.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    /// How many match the filter in all.
    pub total: u64,
}

/// The largest page the API hands out.
pub const MAX_PAGE: u32 = 200;

/// An organisation with what the actor may see of it.
#[derive(Debug, Clone)]
pub struct OrgView {
    pub org: Organisation,
    pub parent: Option<Organisation>,
    pub branches: Vec<Organisation>,
    pub qualifications: Vec<(String, Qualification)>,
    /// Yearly facts, newest first; `None` when the actor has no lawful basis to see them.
    pub facts: Option<Vec<YearlyFacts>>,
    /// The basis on which facts were shown.
    pub facts_basis: &'static str,
    /// What the actor may do here.
    pub can_edit: bool,
    pub can_write_facts: bool,
    pub can_verify: bool,
    pub can_manage_staff: bool,
}

fn encode_cursor(c: &OrgCursor) -> String {
    hex::encode(format!("{}\u{1f}{}", c.name, c.id))
}

fn decode_cursor(s: &str) -> Result<OrgCursor> {
    let bad = || {
        ServiceError::Invalid(Invalid(vec![FieldError::new(
            "cursor",
            "cursor_invalid",
            "分页游标无效，请从第一页重新开始",
            "the page cursor is invalid; start again from the first page",
        )]))
    };
    let bytes = hex::decode(s.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (name, id) = text.split_once('\u{1f}').ok_or_else(bad)?;
    Ok(OrgCursor { name: name.to_owned(), id: id.to_owned() })
}

impl Service {
    fn allowed(&self, actor: &Actor, action: Action, org: &Organisation) -> Decided {
        self.authz.decide(actor, action, &org_resource(org), &self.basis_for(actor, org))
    }

    async fn check_parent(&self, tx: &mut Tx, new: &NewOrganisation) -> Result<()> {
        let Some(pid) = &new.parent_id else { return Ok(()) };
        let parent = match orgs::get(tx.conn(), pid).await {
            Ok(p) => p,
            Err(kebao_store::StoreError::NotFound) => {
                return Err(Invalid(vec![FieldError::new(
                    "parent_id",
                    "parent_unknown",
                    "上级机构不存在",
                    format!("the parent organisation `{pid}` does not exist"),
                )])
                .into())
            }
            Err(e) => return Err(e.into()),
        };
        if parent.kind != new.kind {
            return Err(Invalid(vec![FieldError::new(
                "parent_id",
                "parent_kind",
                format!("分支机构须与上级同类（上级为{}）", parent.kind.label_zh()),
                format!(
                    "a branch must be of its parent's kind (the parent is a {})",
                    parent.kind.label_en().to_lowercase()
                ),
            )])
            .into());
        }
        Ok(())
    }

    pub(crate) fn duplicate_uscc(uscc: &str, existing_name: &str) -> FieldError {
        FieldError::new(
            "uscc",
            "duplicate",
            format!("统一社会信用代码 {uscc} 已登记（{existing_name}）"),
            format!("unified social credit code `{uscc}` is already registered (`{existing_name}`)"),
        )
    }

    /// Registers an organisation (zone officers, platform admins, the operator); it is
    /// verified at once.
    pub async fn create_org(&self, actor: &Actor, input: &OrganisationInput) -> Result<Organisation> {
        self.require(actor, Action::CreateOrg, &Resource::Zone, &Basis::None)?;
        let new = NewOrganisation::parse(input, &self.industries)?;
        let mut tx = self.store.begin_write().await?;
        self.check_parent(&mut tx, &new).await?;
        if let Some(existing) = orgs::find_by_uscc(tx.conn(), new.uscc.as_str()).await? {
            return Err(ServiceError::Conflict(Self::duplicate_uscc(new.uscc.as_str(), &existing.name)));
        }
        let id = self.new_id();
        let now = self.now_us();
        orgs::insert(tx.conn(), &id, &new, OrgStatus::Verified, now).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "org.created",
            &id,
            serde_json::json!({"kind": new.kind.code(), "status": "verified"}),
        );
        self.finish(tx, draft).await?;
        let mut tx = self.store.begin_read().await?;
        Ok(orgs::get(tx.conn(), &id).await?)
    }

    /// An enterprise registers itself with its first admin; it stays pending until a zone
    /// officer verifies it. Zone reviewers get a to-do.
    pub async fn register_self(
        &self,
        input: &OrganisationInput,
        admin: &crate::users::NewUserInput,
    ) -> Result<(Organisation, kebao_domain::User)> {
        self.require(&Actor::Anonymous, Action::RegisterSelf, &Resource::Zone, &Basis::None)?;
        let mut input = input.clone();
        input.kind = OrgKind::Enterprise.code().to_owned();
        input.parent_id.clear();
        let org_result = NewOrganisation::parse(&input, &self.industries);
        let user_result = crate::users::parse_new_user(admin, OrgKind::Enterprise, &[Role::EnterpriseAdmin]);
        let (new, (username, display_name, password)) = match (org_result, user_result) {
            (Ok(o), Ok(u)) => (o, u),
            (Err(Invalid(mut a)), Err(Invalid(b))) => {
                a.extend(b.into_iter().map(|e| {
                    let f = format!("admin.{}", e.field);
                    e.at(f)
                }));
                return Err(Invalid(a).into());
            }
            (Err(e), Ok(_)) => return Err(e.into()),
            (Ok(_), Err(Invalid(b))) => {
                return Err(Invalid(
                    b.into_iter()
                        .map(|e| {
                            let f = format!("admin.{}", e.field);
                            e.at(f)
                        })
                        .collect(),
                )
                .into())
            }
        };
        let hash = crate::auth::hash_password(&password)?;
        let mut tx = self.store.begin_write().await?;
        if let Some(existing) = orgs::find_by_uscc(tx.conn(), new.uscc.as_str()).await? {
            return Err(ServiceError::Conflict(Self::duplicate_uscc(new.uscc.as_str(), &existing.name)));
        }
        if users::find_for_login(tx.conn(), username.as_str()).await?.is_some() {
            return Err(ServiceError::Conflict(
                crate::users::duplicate_username(username.as_str()).at("admin.username"),
            ));
        }
        let id = self.new_id();
        let now = self.now_us();
        orgs::insert(tx.conn(), &id, &new, OrgStatus::Pending, now).await?;
        let user = kebao_domain::User {
            id: self.new_id(),
            org_id: id.clone(),
            username: username.as_str().to_owned(),
            display_name,
            roles: vec![Role::EnterpriseAdmin],
            active: true,
            // The applicant chose this password themselves.
            must_change_password: false,
        };
        users::insert(tx.conn(), &user, &hash, now).await?;
        let mut zone_orgs: Vec<String> = users::any_with_role(tx.conn(), Role::ZoneReviewer)
            .await?
            .into_iter()
            .map(|(_, org)| org)
            .collect();
        zone_orgs.dedup();
        for zone_org in zone_orgs {
            todos::add_todo(
                tx.conn(),
                &Todo {
                    id: self.new_id(),
                    org_id: zone_org,
                    role: Role::ZoneReviewer.code().to_owned(),
                    kind: "verify_org".to_owned(),
                    subject: id.clone(),
                    title_zh: format!("核验企业注册：{}", new.name),
                    title_en: format!("Verify the registration of {}", new.name),
                    link: format!("/orgs/{id}"),
                    created_at_us: now,
                    done_at_us: None,
                },
            )
            .await?;
        }
        let draft = EventDraft::new(
            "anonymous",
            "org.self_registered",
            &id,
            serde_json::json!({"kind": "enterprise", "status": "pending", "admin_user": user.id}),
        );
        self.finish(tx, draft).await?;
        let mut tx = self.store.begin_read().await?;
        Ok((orgs::get(tx.conn(), &id).await?, user))
    }

    /// A zone officer verifies (or rejects) a pending registration.
    pub async fn verify_org(&self, actor: &Actor, id: &str, approve: bool) -> Result<Organisation> {
        let mut tx = self.store.begin_write().await?;
        let org = orgs::get(tx.conn(), id).await?;
        self.require(actor, Action::VerifyOrg, &org_resource(&org), &self.basis_for(actor, &org))?;
        if org.status != OrgStatus::Pending {
            return Err(ServiceError::Conflict(FieldError::new(
                "status",
                "not_pending",
                format!("该机构状态为“{}”，无需核验", org.status.label_zh()),
                format!("the organisation is `{}`, not pending", org.status.code()),
            )));
        }
        let status = if approve { OrgStatus::Verified } else { OrgStatus::Rejected };
        let now = self.now_us();
        orgs::set_status(tx.conn(), id, status, now).await?;
        todos::close_todo(tx.conn(), "verify_org", id, now).await?;
        for admin in users::with_role(tx.conn(), id, Role::EnterpriseAdmin).await? {
            let (zh, en) = if approve {
                ("您的企业注册已通过核验", "Your registration has been verified")
            } else {
                (
                    "您的企业注册未通过核验，请联系管委会",
                    "Your registration was rejected; contact the zone office",
                )
            };
            todos::notify(
                tx.conn(),
                &Notification {
                    id: self.new_id(),
                    user_id: admin,
                    title_zh: zh.to_owned(),
                    title_en: en.to_owned(),
                    link: format!("/orgs/{id}"),
                    created_at_us: now,
                    read_at_us: None,
                },
            )
            .await?;
        }
        let action = if approve { "org.verified" } else { "org.rejected" };
        self.finish(tx, EventDraft::new(&actor.log_name(), action, id, serde_json::json!({}))).await?;
        let mut tx = self.store.begin_read().await?;
        Ok(orgs::get(tx.conn(), id).await?)
    }

    /// Edits an organisation's registered details. Its kind and parent do not change.
    pub async fn update_org(
        &self,
        actor: &Actor,
        id: &str,
        input: &OrganisationInput,
    ) -> Result<Organisation> {
        let mut tx = self.store.begin_write().await?;
        let org = orgs::get(tx.conn(), id).await?;
        self.require(actor, Action::UpdateOrg, &org_resource(&org), &self.basis_for(actor, &org))?;
        let mut input = input.clone();
        input.kind = org.kind.code().to_owned();
        input.parent_id = org.parent_id.clone().unwrap_or_default();
        let new = NewOrganisation::parse(&input, &self.industries)?;
        if let Some(existing) = orgs::find_by_uscc(tx.conn(), new.uscc.as_str()).await? {
            if existing.id != id {
                return Err(ServiceError::Conflict(Self::duplicate_uscc(new.uscc.as_str(), &existing.name)));
            }
        }
        orgs::update(tx.conn(), id, &new, self.now_us()).await?;
        let changed: Vec<&str> = [
            ("name", org.name != new.name),
            ("uscc", org.uscc != new.uscc.as_str()),
            ("industry_code", org.industry_code.as_deref() != new.industry_code.as_ref().map(|c| c.as_str())),
            ("lifecycle_stage", org.lifecycle_stage != new.lifecycle_stage),
            ("founded_on", org.founded_on != new.founded_on),
            ("address", org.address != new.address),
        ]
        .into_iter()
        .filter_map(|(f, c)| c.then_some(f))
        .collect();
        self.finish(
            tx,
            EventDraft::new(&actor.log_name(), "org.updated", id, serde_json::json!({"fields": changed})),
        )
        .await?;
        let mut tx = self.store.begin_read().await?;
        Ok(orgs::get(tx.conn(), id).await?)
    }

    /// Whether the actor may list registrations that are not verified.
    fn sees_unverified(&self, actor: &Actor) -> bool {
        let probe =
            Resource::Org { id: String::new(), kind: OrgKind::Enterprise, status: OrgStatus::Pending };
        self.authz.decide(actor, Action::ReadProfile, &probe, &Basis::None).allowed
    }

    /// A page of organisations. Visitors and most users see verified ones; the zone sees all.
    pub async fn list_orgs(
        &self,
        actor: &Actor,
        filter: &OrgFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Organisation>> {
        let mut filter = filter.clone();
        if !self.sees_unverified(actor) {
            filter.status = Some(OrgStatus::Verified);
        }
        filter.today = Some(self.today());
        let cursor = cursor.filter(|c| !c.trim().is_empty()).map(decode_cursor).transpose()?;
        let limit = limit.clamp(1, MAX_PAGE);
        let mut tx = self.store.begin_read().await?;
        let mut items = orgs::list(tx.conn(), &filter, cursor.as_ref(), limit + 1).await?;
        let total = orgs::count(tx.conn(), &filter).await?;
        let more = items.len() > usize::try_from(limit).unwrap_or(usize::MAX);
        items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next_cursor = if more {
            items.last().map(|o| encode_cursor(&OrgCursor { name: o.name.clone(), id: o.id.clone() }))
        } else {
            None
        };
        Ok(Page { items, next_cursor, total })
    }

    /// One organisation with what the actor may see. A read of another organisation's
    /// facts on a statutory basis is recorded in the event log with its basis.
    pub async fn get_org(&self, actor: &Actor, id: &str) -> Result<OrgView> {
        self.get_org_for(actor, id, None).await
    }

    /// One organisation; its facts on the reader's lawful basis, which for a consent needs
    /// the purpose of the read.
    pub async fn get_org_for(
        &self,
        actor: &Actor,
        id: &str,
        purpose: Option<kebao_domain::consent::Purpose>,
    ) -> Result<OrgView> {
        let mut tx = self.store.begin_read().await?;
        let org = orgs::get(tx.conn(), id).await?;
        if !self.allowed(actor, Action::ReadProfile, &org).allowed {
            // Do not tell strangers that a pending registration exists.
            return Err(ServiceError::NotFound);
        }
        let parent = match &org.parent_id {
            Some(p) => Some(orgs::get(tx.conn(), p).await?),
            None => None,
        };
        let branch_filter = OrgFilter { parent_id: Some(org.id.clone()), ..OrgFilter::default() };
        let branches = orgs::list(tx.conn(), &branch_filter, None, MAX_PAGE).await?;
        let qualifications = orgs::qualifications(tx.conn(), id).await?;
        drop(tx);
        let facts_decision = if org.kind == OrgKind::Enterprise {
            Some(
                self.check_read(
                    actor,
                    &org,
                    kebao_domain::consent::DataScope::FinancialFacts,
                    kebao_domain::consent::DataClass::Enterprise,
                    purpose,
                )
                .await?,
            )
        } else {
            None
        };
        let allowed = facts_decision.as_ref().is_some_and(|d| d.allowed);
        let facts = if allowed {
            let mut tx = self.store.begin_read().await?;
            Some(orgs::facts(tx.conn(), id).await?)
        } else {
            None
        };
        if let Some(d) = facts_decision.as_ref().filter(|d| d.allowed && d.basis != "own") {
            self.record_read(actor, &org, d, "facts").await?;
        }
        let facts_basis = facts_decision.as_ref().filter(|d| d.allowed).map_or("none", |d| d.basis);
        Ok(OrgView {
            can_edit: self.allowed(actor, Action::UpdateOrg, &org).allowed,
            can_write_facts: self.allowed(actor, Action::WriteFacts, &org).allowed,
            can_verify: org.status == OrgStatus::Pending
                && self.allowed(actor, Action::VerifyOrg, &org).allowed,
            can_manage_staff: self.allowed(actor, Action::ManageStaff, &org).allowed,
            facts_basis,
            org,
            parent,
            branches,
            qualifications,
            facts,
        })
    }

    /// Records that `actor` read `what` of another organisation, with the basis, purpose,
    /// consent and policies.
    pub(crate) async fn record_read(
        &self,
        actor: &Actor,
        org: &Organisation,
        d: &crate::consent::ReadCheck,
        what: &str,
    ) -> Result<()> {
        let tx = self.store.begin_write().await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "enterprise_data.read",
            &org.id,
            serde_json::json!({
                "data": what, "reader_org": actor.org_id(), "basis": d.basis, "purpose": d.purpose,
                "consent": d.consent_id, "policies": d.policies,
            }),
        );
        self.finish(tx, draft).await?;
        Ok(())
    }

    /// Reports (or corrects) one year of an enterprise's facts.
    pub async fn put_facts(&self, actor: &Actor, org_id: &str, facts: YearlyFacts) -> Result<YearlyFacts> {
        let facts = facts.check()?;
        let mut tx = self.store.begin_write().await?;
        let org = orgs::get(tx.conn(), org_id).await?;
        self.require(actor, Action::WriteFacts, &org_resource(&org), &self.basis_for(actor, &org))?;
        if org.kind != OrgKind::Enterprise {
            return Err(Invalid(vec![FieldError::new(
                "org",
                "not_enterprise",
                "只有科技企业填报年度数据",
                "only enterprises report yearly facts",
            )])
            .into());
        }
        orgs::upsert_facts(tx.conn(), org_id, &facts, self.now_us()).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "facts.reported",
            org_id,
            serde_json::json!({"year": facts.year}),
        );
        self.finish(tx, draft).await?;
        Ok(facts)
    }

    /// Adds a qualification to an enterprise.
    pub async fn add_qualification(&self, actor: &Actor, org_id: &str, q: Qualification) -> Result<String> {
        let mut tx = self.store.begin_write().await?;
        let org = orgs::get(tx.conn(), org_id).await?;
        self.require(actor, Action::WriteFacts, &org_resource(&org), &self.basis_for(actor, &org))?;
        let id = self.new_id();
        orgs::add_qualification(tx.conn(), &id, org_id, &q).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "qualification.added",
            org_id,
            serde_json::json!({"qualification": id, "kind": q.kind.code(), "valid_to": q.valid_to.to_string()}),
        );
        self.finish(tx, draft).await?;
        Ok(id)
    }

    /// Whether the actor may do a zone-wide action (to show or hide forms; the action
    /// itself is authorised again when it runs).
    pub fn may(&self, actor: &Actor, action: Action) -> bool {
        self.authz.decide(actor, action, &Resource::Zone, &Basis::None).allowed
    }

    /// The names of the organisations among `ids` whose profile the actor may read, so that a
    /// work list names its parties; the others are left out.
    pub async fn org_names(
        &self,
        actor: &Actor,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, String>> {
        let mut tx = self.store.begin_read().await?;
        let mut out = std::collections::HashMap::new();
        for id in ids {
            if out.contains_key(*id) {
                continue;
            }
            match orgs::get(tx.conn(), id).await {
                Ok(org) => {
                    if self.allowed(actor, Action::ReadProfile, &org).allowed {
                        out.insert(org.id, org.name);
                    }
                }
                Err(kebao_store::StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }

    /// The id of the organisation registered with this USCC, if the actor may see it.
    pub async fn org_id_by_uscc(&self, actor: &Actor, uscc: &str) -> Result<Option<String>> {
        let mut tx = self.store.begin_read().await?;
        let Some(org) = orgs::find_by_uscc(tx.conn(), &uscc.trim().to_ascii_uppercase()).await? else {
            return Ok(None);
        };
        Ok(self.allowed(actor, Action::ReadProfile, &org).allowed.then_some(org.id))
    }

    /// Counts for the public home page and dashboards: by kind and by zone industry.
    pub async fn registry_stats(&self) -> Result<(Vec<(String, u64)>, Vec<(String, u64)>)> {
        let mut tx = self.store.begin_read().await?;
        Ok((orgs::count_by_kind(tx.conn()).await?, orgs::count_by_industry(tx.conn()).await?))
    }
}
