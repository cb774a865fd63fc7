//! Work lists: the policies, claims and disputes an actor may see, each naming its parties
//! and product, filtered by status and free text, in pages. The parties see their own; the
//! zone's statutory officers and the regulator see all (read-only), mediators all disputes.

use crate::authz::{Action, Actor, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::claim::{Claim, ClaimStatus};
use kebao_domain::dispute::{Dispute, DisputeStatus};
use kebao_domain::money::Money;
use kebao_domain::policy::{Policy, PolicyStatus};
use kebao_domain::FieldError;
use kebao_store::{claims, orgs, policies, products};
use std::collections::HashMap;

/// Rows per page of a work list.
pub const PAGE_SIZE: usize = 50;

/// Longest free-text filter kept (longer input is refused, never silently cut).
pub const MAX_QUERY_CHARS: usize = 100;

/// What a work list is asked for: free text (a number or a party's or product's name), a
/// status code (empty: any) and a page (from 1).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub q: String,
    pub status: String,
    pub page: u32,
}

/// One page of a work list.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    pub rows: Vec<T>,
    /// Rows matching the filter, on all pages.
    pub total: usize,
    /// This page (from 1) and the number of pages (at least 1).
    pub page: u32,
    pub pages: u32,
}

/// The parties and product a case names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parties {
    pub holder_id: String,
    pub holder: String,
    pub insurer_id: String,
    pub insurer: String,
    pub product_id: String,
    pub product: String,
    pub policy_number: String,
}

/// Where a policy stands for a person: in force, expired (its term ended) or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyState {
    InForce,
    Expired,
    Cancelled,
    /// Bought outside the platform, registered, awaiting the insurer's confirmation.
    Unconfirmed,
    /// Bought outside the platform and confirmed by its insurer.
    Registered,
    /// Bought outside the platform; the insurer did not confirm it.
    Unrecognised,
}

impl PolicyState {
    pub const ALL: [PolicyState; 6] = [
        PolicyState::InForce,
        PolicyState::Expired,
        PolicyState::Cancelled,
        PolicyState::Unconfirmed,
        PolicyState::Registered,
        PolicyState::Unrecognised,
    ];

    pub fn of(p: &Policy, today: time::Date) -> PolicyState {
        match p.status {
            PolicyStatus::Cancelled => PolicyState::Cancelled,
            PolicyStatus::InForce if p.last_day() < today => PolicyState::Expired,
            PolicyStatus::InForce => PolicyState::InForce,
            PolicyStatus::Unconfirmed => PolicyState::Unconfirmed,
            PolicyStatus::Registered => PolicyState::Registered,
            PolicyStatus::Unrecognised => PolicyState::Unrecognised,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            PolicyState::InForce => "in_force",
            PolicyState::Expired => "expired",
            PolicyState::Cancelled => "cancelled",
            PolicyState::Unconfirmed => "unconfirmed",
            PolicyState::Registered => "registered",
            PolicyState::Unrecognised => "unrecognised",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            PolicyState::InForce => "有效",
            PolicyState::Expired => "已到期",
            PolicyState::Cancelled => "已退保/解除",
            PolicyState::Unconfirmed => "线下保单·待保险公司确认",
            PolicyState::Registered => "线下保单·已确认",
            PolicyState::Unrecognised => "线下保单·不予确认",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            PolicyState::InForce => "In force",
            PolicyState::Expired => "Expired",
            PolicyState::Cancelled => "Cancelled",
            PolicyState::Unconfirmed => "Registered, awaiting the insurer",
            PolicyState::Registered => "Registered, confirmed",
            PolicyState::Unrecognised => "Registered, not confirmed",
        }
    }
}

/// A policy in a work list.
#[derive(Debug, Clone)]
pub struct PolicyItem {
    pub policy: Policy,
    pub state: PolicyState,
    pub parties: Parties,
}

/// A claim in a work list.
#[derive(Debug, Clone)]
pub struct ClaimItem {
    pub claim: Claim,
    pub parties: Parties,
}

/// A dispute in a work list, with the claim's amounts.
#[derive(Debug, Clone)]
pub struct DisputeItem {
    pub dispute: Dispute,
    pub claimed: Money,
    pub decided: Money,
    pub parties: Parties,
}

/// A user in the platform administrator's list.
#[derive(Debug, Clone)]
pub struct UserItem {
    pub user: kebao_domain::user::User,
    pub org_name: String,
}

/// The status filter of the user list.
pub const USER_STATES: [&str; 3] = ["active", "inactive", "must_change_password"];

impl ListQuery {
    /// The query checked: text trimmed and bounded, a known status code (checked by the
    /// caller's `known`), a page from 1.
    fn checked(&self, known: &[&str]) -> Result<(String, Option<String>, usize)> {
        let q = self.q.trim();
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(ServiceError::Invalid(
                FieldError::new(
                    "q",
                    "too_long",
                    format!("搜索词不超过 {MAX_QUERY_CHARS} 个字符"),
                    format!("at most {MAX_QUERY_CHARS} characters"),
                )
                .into(),
            ));
        }
        let status = self.status.trim();
        let status = if status.is_empty() {
            None
        } else if known.contains(&status) {
            Some(status.to_owned())
        } else {
            return Err(ServiceError::Invalid(
                FieldError::new("status", "unknown", "未知的状态", format!("unknown status `{status}`"))
                    .into(),
            ));
        };
        Ok((q.to_lowercase(), status, self.page.max(1) as usize))
    }
}

fn page_of<T>(all: Vec<T>, page: usize) -> Listed<T> {
    let total = all.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = page.min(pages);
    let rows = all.into_iter().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE).collect();
    Listed {
        rows,
        total,
        page: u32::try_from(page).unwrap_or(u32::MAX),
        pages: u32::try_from(pages).unwrap_or(u32::MAX),
    }
}

fn matches(q: &str, texts: &[&str]) -> bool {
    q.is_empty() || texts.iter().any(|t| t.to_lowercase().contains(q))
}

/// Names of organisations and products, looked up once each.
#[derive(Default)]
struct Names {
    orgs: HashMap<String, String>,
    products: HashMap<String, String>,
    policies: HashMap<String, Policy>,
}

impl Names {
    async fn org(&mut self, conn: &mut impl kebao_store::Conn, id: &str) -> Result<String> {
        if let Some(n) = self.orgs.get(id) {
            return Ok(n.clone());
        }
        let name = match orgs::get(conn.conn(), id).await {
            Ok(o) => o.name,
            Err(kebao_store::StoreError::NotFound) => String::new(),
            Err(e) => return Err(e.into()),
        };
        self.orgs.insert(id.to_owned(), name.clone());
        Ok(name)
    }

    async fn product(&mut self, conn: &mut impl kebao_store::Conn, id: &str) -> Result<String> {
        if let Some(n) = self.products.get(id) {
            return Ok(n.clone());
        }
        let name = match products::get_product(conn.conn(), id).await {
            Ok(p) => p.name,
            Err(kebao_store::StoreError::NotFound) => String::new(),
            Err(e) => return Err(e.into()),
        };
        self.products.insert(id.to_owned(), name.clone());
        Ok(name)
    }

    async fn policy(&mut self, conn: &mut impl kebao_store::Conn, id: &str) -> Result<Option<Policy>> {
        if let Some(p) = self.policies.get(id) {
            return Ok(Some(p.clone()));
        }
        match policies::policy(conn.conn(), id).await {
            Ok(p) => {
                self.policies.insert(id.to_owned(), p.clone());
                Ok(Some(p))
            }
            Err(kebao_store::StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn parties(&mut self, conn: &mut impl kebao_store::Conn, p: &Policy) -> Result<Parties> {
        Ok(Parties {
            holder_id: p.enterprise_id.clone(),
            holder: self.org(conn, &p.enterprise_id).await?,
            insurer_id: p.insurer_id.clone(),
            insurer: self.org(conn, &p.insurer_id).await?,
            product_id: p.product_id.clone(),
            product: self.product(conn, &p.product_id).await?,
            policy_number: p.number.clone(),
        })
    }

    async fn parties_of_policy_id(
        &mut self,
        conn: &mut impl kebao_store::Conn,
        policy_id: &str,
        holder_id: &str,
        insurer_id: &str,
    ) -> Result<Parties> {
        match self.policy(conn, policy_id).await? {
            Some(p) => self.parties(conn, &p).await,
            None => Ok(Parties {
                holder_id: holder_id.to_owned(),
                holder: self.org(conn, holder_id).await?,
                insurer_id: insurer_id.to_owned(),
                insurer: self.org(conn, insurer_id).await?,
                ..Parties::default()
            }),
        }
    }
}

/// The parties a policy names.
pub(crate) async fn parties_of_policy(conn: &mut impl kebao_store::Conn, p: &Policy) -> Result<Parties> {
    Names::default().parties(conn, p).await
}

/// The parties a dispute names (from the claim's policy when there is one).
pub(crate) async fn parties_of_dispute(
    conn: &mut impl kebao_store::Conn,
    d: &Dispute,
    claim: Option<&Claim>,
) -> Result<Parties> {
    let mut names = Names::default();
    match claim {
        Some(c) => names.parties_of_policy_id(conn, &c.policy_id, &d.enterprise_id, &d.insurer_id).await,
        None => Ok(Parties {
            holder_id: d.enterprise_id.clone(),
            holder: names.org(conn, &d.enterprise_id).await?,
            insurer_id: d.insurer_id.clone(),
            insurer: names.org(conn, &d.insurer_id).await?,
            ..Parties::default()
        }),
    }
}

impl Service {
    /// Whether the actor sees every case of the zone (read-only): a statutory duty.
    fn sees_all_cases(&self, actor: &Actor) -> bool {
        self.allows(actor, Action::Supervise, &Resource::Zone)
    }

    /// The policies the actor may see, naming policyholder, insurer and product.
    pub async fn policy_list(&self, actor: &Actor, query: &ListQuery) -> Result<Listed<PolicyItem>> {
        let known: Vec<&str> = PolicyState::ALL.iter().map(|s| s.code()).collect();
        let (q, status, page) = query.checked(&known)?;
        let mut tx = self.store.begin_read().await?;
        let all = if self.sees_all_cases(actor) {
            policies::all_policies(tx.conn()).await?
        } else {
            let org = actor.org_id().ok_or(ServiceError::Unauthenticated("sign in first"))?.to_owned();
            policies::policies_of(tx.conn(), &org).await?
        };
        let today = self.today();
        let mut names = Names::default();
        let mut out = Vec::new();
        for p in all {
            let state = PolicyState::of(&p, today);
            if status.as_deref().is_some_and(|s| s != state.code()) {
                continue;
            }
            let parties = names.parties(&mut tx, &p).await?;
            if matches(&q, &[&p.number, &parties.holder, &parties.insurer, &parties.product]) {
                out.push(PolicyItem { policy: p, state, parties });
            }
        }
        Ok(page_of(out, page))
    }

    /// The claims the actor may see, naming the policy, its parties and product.
    pub async fn claim_list(&self, actor: &Actor, query: &ListQuery) -> Result<Listed<ClaimItem>> {
        let known: Vec<&str> = ClaimStatus::ALL.iter().map(|s| s.code()).collect();
        let (q, status, page) = query.checked(&known)?;
        let mut tx = self.store.begin_read().await?;
        let all = if self.sees_all_cases(actor) {
            claims::all(tx.conn()).await?
        } else {
            let org = actor.org_id().ok_or(ServiceError::Unauthenticated("sign in first"))?.to_owned();
            claims::of_org(tx.conn(), &org).await?
        };
        let mut names = Names::default();
        let mut out = Vec::new();
        for c in all {
            if status.as_deref().is_some_and(|s| s != c.status.code()) {
                continue;
            }
            let parties =
                names.parties_of_policy_id(&mut tx, &c.policy_id, &c.enterprise_id, &c.insurer_id).await?;
            if matches(&q, &[&parties.policy_number, &parties.holder, &parties.insurer, &parties.product]) {
                out.push(ClaimItem { claim: c, parties });
            }
        }
        Ok(page_of(out, page))
    }

    /// The disputes the actor may see (mediators and statutory officers: all), naming the
    /// complainant, the insurer, the policy and the claim's amounts.
    pub async fn dispute_list(&self, actor: &Actor, query: &ListQuery) -> Result<Listed<DisputeItem>> {
        let known: Vec<&str> = DisputeStatus::ALL.iter().map(|s| s.code()).collect();
        let (q, status, page) = query.checked(&known)?;
        let all = self.disputes(actor).await?;
        let mut tx = self.store.begin_read().await?;
        let mut names = Names::default();
        let mut out = Vec::new();
        for d in all {
            if status.as_deref().is_some_and(|s| s != d.status.code()) {
                continue;
            }
            let claim = match claims::get(tx.conn(), &d.claim_id).await {
                Ok(c) => Some(c),
                Err(kebao_store::StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            };
            let parties = match &claim {
                Some(c) => {
                    names.parties_of_policy_id(&mut tx, &c.policy_id, &d.enterprise_id, &d.insurer_id).await?
                }
                None => Parties {
                    holder_id: d.enterprise_id.clone(),
                    holder: names.org(&mut tx, &d.enterprise_id).await?,
                    insurer_id: d.insurer_id.clone(),
                    insurer: names.org(&mut tx, &d.insurer_id).await?,
                    ..Parties::default()
                },
            };
            if matches(&q, &[&parties.policy_number, &parties.holder, &parties.insurer, &d.complaint]) {
                out.push(DisputeItem {
                    claimed: claim.as_ref().map_or(Money::ZERO, |c| c.claimed),
                    decided: claim.as_ref().map_or(Money::ZERO, |c| c.decided),
                    dispute: d,
                    parties,
                });
            }
        }
        Ok(page_of(out, page))
    }
}

impl Service {
    /// Every user of the platform, named with their organisation, filtered by name, login
    /// name or organisation and by state (`active`, `inactive`, `must_change_password`):
    /// the platform administrator's list.
    pub async fn user_list(&self, actor: &Actor, query: &ListQuery) -> Result<Listed<UserItem>> {
        self.require(actor, Action::ListUsers, &Resource::Zone, &crate::authz::Basis::None)?;
        let (q, status, page) = query.checked(&USER_STATES)?;
        let mut tx = self.store.begin_read().await?;
        let all: Vec<UserItem> = kebao_store::users::all_with_org(tx.conn())
            .await?
            .into_iter()
            .filter(|(u, org)| {
                let state_ok = match status.as_deref() {
                    None => true,
                    Some("active") => u.active,
                    Some("inactive") => !u.active,
                    Some(_) => u.must_change_password,
                };
                state_ok && matches(&q, &[&u.username, &u.display_name, org])
            })
            .map(|(user, org_name)| UserItem { user, org_name })
            .collect();
        let mut listed = page_of(all, page);
        for item in &mut listed.rows {
            kebao_store::users::with_roles(tx.conn(), std::slice::from_mut(&mut item.user)).await?;
        }
        Ok(listed)
    }
}
