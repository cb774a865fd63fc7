//! The audit trail: the head of the event log and a full verification of its chain.

use crate::authz::{Action, Actor, Basis, Resource};
use crate::{Result, Service};
use kebao_domain::event::{ChainBreak, EventRecord, Head, Verifier};
use kebao_store::events::{self, EventFilter};
use kebao_store::ReadTx;
use kebao_store::{claims, consents, disputes, orgs, policies, products, subsidies, users, StoreError};
use std::collections::HashMap;

/// The result of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every link holds; the head.
    Sound(Head),
    /// The first broken link.
    Broken(ChainBreak),
}

/// What the audit page asks for.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// The kind of action (one of [`kebao_domain::event::ACTION_KINDS`]).
    pub kind: Option<String>,
    /// Only what this user did (a user id).
    pub user: Option<String>,
    /// Only events about this subject (an id).
    pub subject: Option<String>,
    /// Older than this sequence number (the next page).
    pub before: Option<u64>,
}

/// What an event is about, named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRef {
    /// `org`, `user`, `product`, `policy`, `claim`, `dispute`, `subsidy`, `consent`, `job` (named by its kind's code), or
    /// `other` (the web links the known ones).
    pub kind: &'static str,
    pub id: String,
    /// A name a person recognises (organisation name, policy number …), or the short id.
    pub name: String,
}

/// One row of the audit page: the event with its actor and subject named.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub event: EventRecord,
    /// The user's display name and organisation, or the system process's name.
    pub actor_name: String,
    /// The acting user's id, when a user acted.
    pub actor_user: Option<String>,
    pub subject: SubjectRef,
}

/// One page of the audit log, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// The `before` of the next (older) page, if there is one.
    pub next_before: Option<u64>,
}

/// Events per audit page.
pub const AUDIT_PAGE: u32 = 50;

fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

fn found<T>(r: std::result::Result<T, StoreError>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn org_name(tx: &mut ReadTx, cache: &mut HashMap<String, String>, id: &str) -> Result<Option<String>> {
    if let Some(n) = cache.get(id) {
        return Ok(Some(n.clone()));
    }
    let n = found(orgs::get(tx.conn(), id).await)?.map(|o| o.name);
    if let Some(n) = &n {
        cache.insert(id.to_owned(), n.clone());
    }
    Ok(n)
}

pub(crate) async fn actor_name(
    tx: &mut ReadTx,
    cache: &mut HashMap<String, String>,
    actor: &str,
) -> Result<String> {
    if let Some(id) = actor.strip_prefix("user:") {
        if let Some(u) = found(users::get(tx.conn(), id).await)? {
            let org = org_name(tx, cache, &u.org_id).await?.unwrap_or_default();
            return Ok(if org.is_empty() { u.display_name } else { format!("{} · {org}", u.display_name) });
        }
        return Ok(short(id));
    }
    Ok(match actor.strip_prefix("system:") {
        Some(name) => format!("kebao {name}"),
        None => actor.to_owned(),
    })
}

async fn subject_ref(
    tx: &mut ReadTx,
    cache: &mut HashMap<String, String>,
    action: &str,
    id: &str,
) -> Result<SubjectRef> {
    let kind = action.split('.').next().unwrap_or("");
    let named = |kind: &'static str, name: String| SubjectRef { kind, id: id.to_owned(), name };
    let got = match kind {
        "org" | "qualification" | "facts" | "credit_report" | "credit_data" | "enterprise_data" => {
            org_name(tx, cache, id).await?.map(|n| named("org", n))
        }
        "user" | "session" | "api_token" | "api_key" | "underwriter" | "notifications" | "admin" => {
            found(users::get(tx.conn(), id).await)?
                .map(|u| named("user", format!("{} ({})", u.display_name, u.username)))
        }
        "product" | "rating_plan" => found(products::get_product(tx.conn(), id).await)?
            .map(|p| named("product", format!("{} · {}", p.name, p.insurer_name))),
        "policy" | "premium" => {
            found(policies::policy(tx.conn(), id).await)?.map(|p| named("policy", p.number))
        }
        "application" => match found(policies::application(tx.conn(), id).await)? {
            Some(a) => org_name(tx, cache, &a.enterprise_id).await?.map(|n| named("application", n)),
            None => None,
        },
        "claim" => match found(claims::get(tx.conn(), id).await)? {
            Some(c) => {
                let number = found(policies::policy(tx.conn(), &c.policy_id).await)?
                    .map(|p| p.number)
                    .unwrap_or_default();
                let org = org_name(tx, cache, &c.enterprise_id).await?.unwrap_or_default();
                Some(named("claim", format!("{org} · {number}")))
            }
            None => None,
        },
        "dispute" => match found(disputes::get(tx.conn(), id).await)? {
            Some(d) => org_name(tx, cache, &d.enterprise_id).await?.map(|n| named("dispute", n)),
            None => None,
        },
        "subsidy" => match found(subsidies::get(tx.conn(), id).await)? {
            Some(a) => org_name(tx, cache, &a.enterprise_id).await?.map(|n| named("subsidy", n)),
            None => None,
        },
        // The kind's code: a page names it in its own language.
        "job" => found(kebao_store::jobs::get(tx.conn(), id).await)?
            .map(|j| named("job", j.kind.code().to_owned())),
        "consent" => match found(consents::get(tx.conn(), id).await)? {
            Some((c, _)) => org_name(tx, cache, &c.enterprise_id).await?.map(|n| named("consent", n)),
            None => None,
        },
        _ => None,
    };
    Ok(match got {
        Some(r) => r,
        // Events about many objects (a catalogue, a batch of transfers) name none.
        None => SubjectRef { kind: "other", id: id.to_owned(), name: short(id) },
    })
}

impl Service {
    /// One page of the audit log, filtered, with the actors and subjects named.
    pub async fn audit_events(&self, actor: &Actor, q: &AuditQuery) -> Result<AuditPage> {
        self.require(actor, Action::ReadAudit, &Resource::Zone, &Basis::None)?;
        if let Some(k) = &q.kind {
            if !kebao_domain::event::ACTION_KINDS.iter().any(|x| x.0 == k) {
                return Err(kebao_domain::FieldError::new(
                    "kind",
                    "unknown",
                    format!("未知的事件类别“{k}”"),
                    format!("unknown kind of event `{k}`"),
                )
                .into());
            }
        }
        for (field, v) in [("user", &q.user), ("subject", &q.subject)] {
            if v.as_ref().is_some_and(|v| v.len() > 100) {
                return Err(kebao_domain::FieldError::new(
                    field,
                    "too_long",
                    "过长（最多 100 个字符）",
                    "too long (at most 100 characters)",
                )
                .into());
            }
        }
        let f = EventFilter {
            kind: q.kind.clone(),
            actor: q.user.as_ref().map(|u| format!("user:{u}")),
            subject: q.subject.clone(),
            before: q.before,
        };
        let mut tx = self.store.begin_read().await?;
        let mut events = events::search(tx.conn(), &f, AUDIT_PAGE + 1).await?;
        let next_before = if events.len() > AUDIT_PAGE as usize {
            events.truncate(AUDIT_PAGE as usize);
            events.last().map(|e| e.seq)
        } else {
            None
        };
        let mut cache = HashMap::new();
        let mut rows = Vec::with_capacity(events.len());
        for e in events {
            let actor_name = actor_name(&mut tx, &mut cache, &e.actor).await?;
            let subject = subject_ref(&mut tx, &mut cache, &e.action, &e.subject).await?;
            let actor_user = e.actor.strip_prefix("user:").map(str::to_owned);
            rows.push(AuditRow { event: e, actor_name, actor_user, subject });
        }
        Ok(AuditPage { rows, next_before })
    }

    /// How many events the log holds: whether the database answers, for the health check
    /// and the metrics page (a count, nothing of the events' content).
    pub async fn log_size(&self) -> Result<u64> {
        let mut tx = self.store.begin_read().await?;
        Ok(events::head(tx.conn()).await?.count)
    }

    /// The log's head row, for the platform's own checks (no reader to authorise).
    pub(crate) async fn log_head(&self) -> Result<Head> {
        let mut tx = self.store.begin_read().await?;
        Ok(events::head(tx.conn()).await?)
    }

    /// Up to `n` events after `after`, for the platform's own checks.
    pub(crate) async fn log_page(&self, after: u64, n: u32) -> Result<Vec<EventRecord>> {
        let mut tx = self.store.begin_read().await?;
        Ok(events::page(tx.conn(), after, n).await?)
    }

    /// The current head of the log.
    pub async fn audit_head(&self, actor: &Actor) -> Result<Head> {
        self.require(actor, Action::ReadAudit, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        Ok(events::head(tx.conn()).await?)
    }

    /// Walks the whole log from the first event, checking every hash and link, and the
    /// head row; with `expect`, also checks against a head recorded earlier. `progress`
    /// is called with the count checked so far.
    pub async fn audit_verify(
        &self,
        actor: &Actor,
        expect: Option<Head>,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<Verification> {
        self.require(actor, Action::ReadAudit, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        let recorded = events::head(tx.conn()).await?;
        let mut v = Verifier::new(expect);
        let mut after = 0u64;
        loop {
            let page = events::page(tx.conn(), after, 5_000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in &page {
                if let Err(b) = v.push(e) {
                    return Ok(Verification::Broken(b));
                }
            }
            progress(after, recorded.count);
        }
        match v.finish() {
            Err(b) => Ok(Verification::Broken(b)),
            Ok(head) if recorded.count > head.count => Ok(Verification::Broken(ChainBreak::Truncated {
                expected: recorded.count,
                found: head.count,
            })),
            Ok(head) if recorded.count == head.count && recorded.hash != head.hash => {
                Ok(Verification::Broken(ChainBreak::HeadMismatch { seq: head.count }))
            }
            Ok(head) => Ok(Verification::Sound(head)),
        }
    }

    /// The newest events about one subject (for an organisation's history).
    pub async fn history(&self, actor: &Actor, subject: &str, limit: u32) -> Result<Vec<EventRecord>> {
        self.require(actor, Action::ReadAudit, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        Ok(events::for_subject(tx.conn(), subject, limit).await?)
    }
}

impl Service {
    /// The newest events of the whole log (for auditors).
    pub async fn recent_events(&self, actor: &Actor, limit: u32) -> Result<Vec<EventRecord>> {
        self.require(actor, Action::ReadAudit, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        Ok(events::latest(tx.conn(), limit).await?)
    }
}

/// One total, counted twice: from the event log and from the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Both {
    pub from_events: i64,
    pub from_tables: i64,
}

impl Both {
    pub fn agree(&self) -> bool {
        self.from_events == self.from_tables
    }
}

/// Totals re-derived from the event log beside the same totals read from the tables: the
/// policies issued or registered, the premium received and the claims paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reconciliation {
    pub policies: Both,
    pub premium_received_fen: Both,
    pub claims_paid_fen: Both,
}

impl Reconciliation {
    pub fn agrees(&self) -> bool {
        self.policies.agree() && self.premium_received_fen.agree() && self.claims_paid_fen.agree()
    }
}

fn payload_i64(e: &EventRecord, key: &str) -> i64 {
    serde_json::from_str::<serde_json::Value>(&e.payload)
        .ok()
        .and_then(|v| v.get(key).and_then(|x| x.as_i64()))
        .unwrap_or(0)
}

fn payload_has(e: &EventRecord, key: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(&e.payload)
        .ok()
        .is_some_and(|v| v.get(key).is_some_and(|x| !x.is_null()))
}

impl Service {
    /// Re-derives totals from the whole event log and compares them with the tables (the
    /// auditors' check that what the pages count is what happened).
    pub async fn reconcile(&self, actor: &Actor) -> Result<Reconciliation> {
        self.require(actor, Action::ReadAudit, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        let (mut policies_ev, mut premium_ev, mut claims_ev) = (0i64, 0i64, 0i64);
        let mut after = 0u64;
        loop {
            let page = events::page(tx.conn(), after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in &page {
                match e.action.as_str() {
                    "application.submitted" | "application.accepted" if payload_has(e, "policy") => {
                        policies_ev += 1
                    }
                    "policy.registered" => policies_ev += 1,
                    "premium.paid" => premium_ev += payload_i64(e, "amount_fen"),
                    "policy.registration_confirmed" => premium_ev += payload_i64(e, "received_fen"),
                    "claim.paid" => claims_ev += payload_i64(e, "amount_fen"),
                    _ => {}
                }
            }
        }
        let all = policies::all_policies(tx.conn()).await?;
        let mut premium_tab = 0i64;
        for p in &all {
            premium_tab += kebao_store::ledger::sum_for_event(
                tx.conn(),
                &p.id,
                kebao_domain::policy::codes::PREMIUM_PAID,
            )
            .await?;
        }
        let claims_tab: i64 = claims::all(tx.conn()).await?.iter().map(|c| c.paid.fen()).sum();
        Ok(Reconciliation {
            policies: Both {
                from_events: policies_ev,
                from_tables: i64::try_from(all.len()).unwrap_or(i64::MAX),
            },
            premium_received_fen: Both { from_events: premium_ev, from_tables: premium_tab },
            claims_paid_fen: Both { from_events: claims_ev, from_tables: claims_tab },
        })
    }
}
