//! The audit log (regulator, platform admin, zone approver).

use super::kit::{chrome_blank, error_page, html, urlencode, Authed, Chrome, Page};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use kebao_domain::event::{action_kind_label, action_label, ACTION_KINDS};
use kebao_domain::job::JobKind;
use kebao_service::audit::AuditQuery;
use kebao_service::jobs::JobQuery;
use kebao_service::ServiceError;
use std::collections::HashMap;

/// The audit log's route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(audit_page))
}

// ---------------------------------------------------------------------------------------
// Audit log (regulator, platform admin, zone approver)

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditTpl {
    c: Chrome,
    count: u64,
    hash: String,
    /// The latest full verification (a background job).
    verification: Option<super::jobs::JobRowT>,
    /// The reader may start a new one here.
    can_verify: bool,
    /// What the retention rules erased, newest first (on the newest page only).
    erasures: Vec<ErasureRowT>,
    /// The retention rules, with their sources.
    rules: Vec<RuleRowT>,
    rows: Vec<AuditRowView>,
    /// (code, label) of each kind of event, for the filter.
    kinds: Vec<(String, String)>,
    kind: String,
    /// Whose actions or which object the list is narrowed to, named.
    narrowed: Vec<(String, String)>,
    /// The link to the next (older) page.
    older: Option<String>,
    /// Whether this is not the newest page.
    paged: bool,
    errors: Vec<String>,
    /// The narrowing kept when the kind filter changes (hidden fields).
    keep: Vec<(&'static str, String)>,
}

struct ErasureRowT {
    at: String,
    rule: String,
    what: String,
    fields: String,
}

struct RuleRowT {
    label: String,
    action: String,
    period: String,
    source: String,
    confidence: String,
    /// `C`, `R` or `U`: an unconfirmed rule is marked as such.
    tag: String,
}

struct AuditRowView {
    seq: u64,
    at: String,
    actor: String,
    /// Link narrowing the list to this user's actions.
    actor_link: Option<String>,
    action: String,
    subject: String,
    /// The object's own page, when there is one.
    subject_page: Option<String>,
    /// Link narrowing the list to this object.
    subject_link: String,
}

async fn audit_page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let head = match st.svc.audit_head(&s.actor).await {
        Ok(h) => h,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    // The full verification runs as a background job (it reads the whole log); the page shows
    // the latest one.
    let latest = st
        .svc
        .jobs(&s.actor, &JobQuery { kind: Some(JobKind::AuditVerify), ..JobQuery::default() })
        .await
        .map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let verification = latest.jobs.first().map(|v| super::jobs::job_row(&c, v));
    let can_verify = latest.startable.contains(&JobKind::AuditVerify);
    let when = |us: i64| kebao_domain::time_zone::display_local(kebao_domain::time_zone::from_unix_us(us));
    let nonempty = |k: &str| q.get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let mut errors = Vec::new();
    let before = match nonempty("before").map(|b| b.parse::<u64>()) {
        None => None,
        Some(Ok(b)) => Some(b),
        Some(Err(_)) => {
            errors.push(
                tr.t("页码无效，已显示最新的事件。", "Invalid page; the newest events are shown.").to_owned(),
            );
            None
        }
    };
    let aq =
        AuditQuery { kind: nonempty("kind"), user: nonempty("user"), subject: nonempty("subject"), before };
    let page = match st.svc.audit_events(&s.actor, &aq).await {
        Ok(p) => p,
        Err(ServiceError::Invalid(inv)) => {
            for e in &inv.0 {
                errors.push(tr.pick(e.message_zh.clone(), e.message_en.clone()));
            }
            st.svc
                .audit_events(&s.actor, &AuditQuery::default())
                .await
                .map_err(|e| error_page(tr, chrome_blank(tr), e))?
        }
        Err(e) => return Err(error_page(tr, chrome_blank(tr), e)),
    };
    let kind = if errors.is_empty() { aq.kind.clone().unwrap_or_default() } else { String::new() };
    let filter_link = |kind: &str, user: Option<&str>, subject: Option<&str>| {
        let mut l = format!("/audit?kind={}", urlencode(kind));
        if let Some(u) = user {
            l.push_str(&format!("&user={}", urlencode(u)));
        }
        if let Some(sj) = subject {
            l.push_str(&format!("&subject={}", urlencode(sj)));
        }
        l
    };
    let mut narrowed = Vec::new();
    let rows: Vec<AuditRowView> = page
        .rows
        .into_iter()
        .map(|r| {
            let e = &r.event;
            let action = match action_label(&e.action) {
                Some((zh, en)) => tr.t(zh, en).to_owned(),
                None => match action_kind_label(&e.action) {
                    Some((zh, en)) => tr.pick(format!("{zh}（其他操作）"), format!("{en} (other)")),
                    None => tr.t("其他操作", "Other action").to_owned(),
                },
            };
            let subject_page = match r.subject.kind {
                "org" => Some(format!("/orgs/{}", r.subject.id)),
                "policy" => Some(format!("/policies/{}", r.subject.id)),
                "claim" => Some(format!("/claims/{}", r.subject.id)),
                "dispute" => Some(format!("/disputes/{}", r.subject.id)),
                "subsidy" => Some(format!("/subsidies/{}", r.subject.id)),
                "product" => Some(format!("/products/{}", r.subject.id)),
                "consent" => Some(format!("/consents/{}", r.subject.id)),
                "job" => Some(format!("/jobs/{}", r.subject.id)),
                _ => None,
            };
            let subject_name = match (r.subject.kind, kebao_domain::job::JobKind::from_code(&r.subject.name))
            {
                ("job", Some(k)) => tr.t(k.label_zh(), k.label_en()).to_owned(),
                _ => r.subject.name.clone(),
            };
            AuditRowView {
                seq: e.seq,
                at: when(e.at_us),
                actor: r.actor_name.clone(),
                actor_link: r.actor_user.as_deref().map(|u| filter_link("", Some(u), None)),
                action,
                subject: subject_name,
                subject_page,
                subject_link: filter_link("", None, Some(&r.subject.id)),
            }
        })
        .collect();
    if errors.is_empty() {
        if let Some(u) = &aq.user {
            let name = rows
                .iter()
                .find(|r| r.actor_link.as_deref() == Some(filter_link("", Some(u), None).as_str()))
                .map(|r| r.actor.clone())
                .unwrap_or_else(|| u.clone());
            narrowed.push((tr.t("操作人", "Actor").to_owned(), name));
        }
        if let Some(sj) = &aq.subject {
            let name = rows
                .iter()
                .find(|r| r.subject_link == filter_link("", None, Some(sj)))
                .map(|r| r.subject.clone())
                .unwrap_or_else(|| sj.clone());
            narrowed.push((tr.t("对象", "Subject").to_owned(), name));
        }
    }
    let older = page.next_before.map(|b| {
        let mut l = filter_link(&kind, aq.user.as_deref(), aq.subject.as_deref());
        if !errors.is_empty() {
            l = "/audit?kind=".to_owned();
        }
        format!("{l}&before={b}")
    });
    let mut keep = Vec::new();
    if errors.is_empty() {
        if let Some(u) = &aq.user {
            keep.push(("user", u.clone()));
        }
        if let Some(sj) = &aq.subject {
            keep.push(("subject", sj.clone()));
        }
    }
    let (erasures, rules) = if before.is_none() {
        let list = st.svc.erasures(&s.actor, 20).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
        let erasures = list
            .into_iter()
            .map(|v| {
                let (fzh, fen) = kebao_domain::retention::fields_label(&v.erasure.fields);
                let (kzh, ken) = kebao_domain::retention::subject_label(&v.erasure.subject_kind);
                let org = v.org_name.map(|n| format!(" · {n}")).unwrap_or_default();
                ErasureRowT {
                    at: when(v.erasure.at_us),
                    rule: v.rule.map_or_else(|| v.erasure.rule.clone(), |r| tr.pick(r.label_zh, r.label_en)),
                    what: format!("{}{org}", tr.t(kzh, ken)),
                    fields: tr.pick(fzh, fen),
                }
            })
            .collect();
        let rules = st
            .svc
            .retention_rules()
            .0
            .into_iter()
            .map(|r| {
                let (czh, cen) = r.confidence_label();
                RuleRowT {
                    action: tr.t(r.action.label_zh(), r.action.label_en()).to_owned(),
                    period: match r.years {
                        Some(y) => tr.pick(format!("{y} 年"), format!("{y} years")),
                        None => tr.t("不删除", "never removed").to_owned(),
                    },
                    confidence: tr.t(czh, cen).to_owned(),
                    tag: r.confidence.clone(),
                    source: tr.pick(r.source.clone(), r.source_en.clone()),
                    label: tr.pick(r.label_zh, r.label_en),
                }
            })
            .collect();
        (erasures, rules)
    } else {
        (Vec::new(), Vec::new())
    };
    let kinds = ACTION_KINDS.iter().map(|k| (k.0.to_owned(), tr.t(k.1, k.2).to_owned())).collect();
    Ok(html(&AuditTpl {
        c,
        count: head.count,
        hash: head.hash.to_hex(),
        verification,
        can_verify,
        erasures,
        rules,
        rows,
        kinds,
        kind,
        narrowed,
        older,
        paged: before.is_some(),
        errors,
        keep,
    }))
}
