//! The home page and the dashboard.

use super::kit::{check_csrf, chrome, chrome_blank, error_page, html, Authed, Chrome, Page};
use super::{svg, Tr};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use kebao_domain::org::OrgKind;
use kebao_service::authz::{Action, Actor};
use std::collections::HashMap;

/// The home page and the dashboard.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/dashboard", get(dashboard))
        .route("/notifications/read", post(notifications_read))
        .layer(axum::middleware::from_fn(super::language))
}

// ---------------------------------------------------------------------------------------
// Home

#[derive(Template)]
#[template(path = "home.html")]
struct HomeTpl {
    c: Chrome,
    stats: Vec<(String, u64)>,
    chart: String,
}

async fn home(State(st): State<AppState>, Extension(tr): Extension<Tr>, headers: HeaderMap) -> Page {
    let (c, _) = chrome(&st, &headers, tr).await?;
    let (by_kind, by_industry) =
        st.svc.registry_stats().await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let count = |k: OrgKind| by_kind.iter().find(|(c, _)| c == k.code()).map_or(0, |x| x.1);
    let stats = vec![
        (tr.t("登记科技企业", "Tech enterprises").to_owned(), count(OrgKind::Enterprise)),
        (tr.t("保险机构（含分支）", "Insurers (with branches)").to_owned(), count(OrgKind::Insurer)),
        (tr.t("银行（含分支）", "Banks (with branches)").to_owned(), count(OrgKind::Bank)),
        (
            tr.t("担保、创投与服务机构", "Guarantors, investors, service bodies").to_owned(),
            count(OrgKind::Guarantor) + count(OrgKind::Investor) + count(OrgKind::ServiceBody),
        ),
    ];
    let items: Vec<(String, f64)> = st
        .svc
        .industries()
        .tags()
        .iter()
        .map(|t| {
            let n = by_industry.iter().find(|(id, _)| *id == t.id).map_or(0, |x| x.1);
            (tr.pick(t.name_zh.clone(), t.name_en.clone()), n as f64)
        })
        .collect();
    let chart = svg::hbar(&items, tr.t(" 家", ""));
    Ok(html(&HomeTpl { c, stats, chart }))
}

// ---------------------------------------------------------------------------------------
// Dashboard

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardTpl {
    c: Chrome,
    org_name: String,
    roles: String,
    links: Vec<(String, String)>,
    todos: Vec<(String, String, String)>,
    notes: Vec<(String, String, String, bool)>,
    /// The enterprise's own cases under way: (link, what, where it stands / what to do).
    underway: Vec<(String, String, String)>,
    enterprise: bool,
}

/// An enterprise's cases that wait on someone: applications with the insurer, premiums
/// unpaid, claims open, subsidy applications in review.
async fn underway(st: &AppState, actor: &Actor, tr: super::kit::Tr) -> Vec<(String, String, String)> {
    use kebao_domain::policy::ApplicationStatus;
    let mut out = Vec::new();
    if let Ok(apps) = st.svc.my_applications(actor).await {
        for a in apps {
            let what = match a.status {
                ApplicationStatus::Referred => tr
                    .t("保险机构核保中，请等待结果", "With the insurer's underwriter; wait for the decision"),
                ApplicationStatus::Accepted => {
                    tr.t("已承保，待保险机构出单", "Accepted; the insurer issues the policy")
                }
                _ => continue,
            };
            let product =
                st.svc.product(actor, &a.product_id).await.map(|v| v.shown.content.name).unwrap_or_default();
            out.push((
                "/policies".to_owned(),
                format!("{} {}", tr.t("投保申请", "Application:"), product),
                what.to_owned(),
            ));
        }
    }
    let q = kebao_service::worklists::ListQuery { status: "in_force".into(), ..Default::default() };
    if let Ok(list) = st.svc.policy_list(actor, &q).await {
        for i in list.rows {
            if let Ok(v) = st.svc.policy(actor, &i.policy.id).await {
                if v.paid < v.policy.premium {
                    let due = v.policy.premium.checked_sub(v.paid).unwrap_or(v.policy.premium);
                    out.push((
                        format!("/policies/{}", i.policy.id),
                        format!("{} {} · {}", tr.t("保单", "Policy"), i.policy.number, i.parties.product),
                        format!(
                            "{} {} {}",
                            tr.t("保费待缴", "Premium due:"),
                            due.display_yuan(),
                            tr.t(
                                "元，请按保单页的缴费说明付款并上传凭证",
                                "yuan: pay as the policy page says and upload the evidence"
                            )
                        ),
                    ));
                }
            }
        }
    }
    let q = kebao_service::worklists::ListQuery::default();
    if let Ok(list) = st.svc.claim_list(actor, &q).await {
        for i in list.rows.into_iter().filter(|i| i.claim.status != kebao_domain::claim::ClaimStatus::Closed)
        {
            out.push((
                format!("/claims/{}", i.claim.id),
                format!("{} {} · {}", tr.t("理赔", "Claim"), i.parties.policy_number, i.claim.loss_date),
                tr.t(i.claim.status.label_zh(), i.claim.status.label_en()).to_owned(),
            ));
        }
    }
    if let Ok(apps) = st.svc.subsidy_applications(actor).await {
        let programmes = st.svc.subsidy_programmes().await.unwrap_or_default();
        for a in apps.into_iter().filter(|a| !a.status.is_final()) {
            // Documents the programme lists that are not filed yet: the enterprise's to do.
            let missing: Vec<String> = match programmes
                .iter()
                .find(|p| p.id == a.programme_id && p.version == a.programme_version)
            {
                Some(p) if !p.documents.is_empty() => {
                    let owner = kebao_domain::attachment::Owner::subsidy_application(&a.id);
                    let filed = st.svc.attachments(actor, &owner).await.unwrap_or_default();
                    let labels: Vec<&str> = filed.iter().map(|f| f.label.as_str()).collect();
                    p.missing_documents(&labels)
                        .iter()
                        .map(|d| tr.pick(d.name_zh.clone(), d.name_en.clone()))
                        .collect()
                }
                _ => Vec::new(),
            };
            let state = tr.t(a.status.label_zh(), a.status.label_en()).to_owned();
            out.push((
                format!("/subsidies/{}#documents", a.id),
                format!(
                    "{} {} {}",
                    tr.t("补贴申请", "Subsidy application"),
                    a.amount.display_yuan(),
                    tr.t("元", "yuan")
                ),
                if missing.is_empty() {
                    state
                } else {
                    format!(
                        "{state}{}{}",
                        tr.t("；待补充材料：", "; documents to file: "),
                        missing.join(tr.t("、", ", "))
                    )
                },
            ));
        }
    }
    out
}

async fn dashboard(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    let Actor::User { user, .. } = &s.actor else { return Err(Redirect::to("/login").into_response()) };
    let inbox = st.svc.inbox(&s.actor).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let org =
        st.svc.get_org(&s.actor, &user.org_id).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let mut links =
        vec![(format!("/orgs/{}", user.org_id), tr.t("本机构信息", "My organisation").to_owned())];
    let ab = st.svc.abilities(&s.actor).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    if ab.on_own_org(Action::WriteFacts) {
        links.push((
            format!("/orgs/{}#facts", user.org_id),
            tr.t("填报年度经营数据", "Report yearly facts").to_owned(),
        ));
    }
    if ab.on_own_org(Action::ManageStaff) {
        links.push((
            format!("/orgs/{}/staff", user.org_id),
            tr.t("管理本机构人员", "Manage my staff").to_owned(),
        ));
    }
    if ab.on_zone(Action::CreateOrg) && ab.on_zone(Action::Supervise) {
        links.push((
            "/orgs?status=pending".into(),
            tr.t("待核验的企业注册", "Registrations to verify").to_owned(),
        ));
        links.push(("/orgs/new".into(), tr.t("登记新机构", "Register an organisation").to_owned()));
        links.push(("/orgs/import".into(), tr.t("批量导入机构", "Import organisations").to_owned()));
    }
    if ab.on_zone(Action::ResetPassword) {
        links.push(("/admin/password".into(), tr.t("重置用户密码", "Reset a password").to_owned()));
    }
    // Enterprises apply for cover; every other party works with the enterprises.
    if !ab.on_zone(Action::ApplyForPolicy) && !ab.on_zone(Action::CreateOrg) {
        links.push((
            "/orgs?kind=enterprise".into(),
            tr.t("科技企业名录", "Tech enterprise directory").to_owned(),
        ));
    }
    if ab.on_zone(Action::Supervise) && !ab.on_zone(Action::CreateOrg) {
        links.push(("/orgs?kind=insurer".into(), tr.t("保险机构名录", "Insurers").to_owned()));
    }
    if ab.on_zone(Action::ReadAudit) {
        links.push(("/audit".into(), tr.t("审计日志", "Audit log").to_owned()));
    }
    links.push(("/orgs".into(), tr.t("机构名录", "Directory").to_owned()));
    let when = |us: i64| kebao_domain::time_zone::display_local(kebao_domain::time_zone::from_unix_us(us));
    let roles = user
        .roles
        .iter()
        .map(|r| {
            let (zh, en) = r.label_in(org.org.kind);
            tr.t(zh, en)
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let enterprise = ab.on_zone(Action::ApplyForPolicy);
    let underway = if enterprise { underway(&st, &s.actor, tr).await } else { Vec::new() };
    Ok(html(&DashboardTpl {
        c,
        underway,
        enterprise,
        org_name: org.org.name,
        roles,
        links,
        todos: inbox
            .todos
            .iter()
            .map(|t| (t.link.clone(), tr.pick(t.title_zh.clone(), t.title_en.clone()), when(t.created_at_us)))
            .collect(),
        notes: inbox
            .notifications
            .iter()
            .map(|n| {
                (
                    n.link.clone(),
                    tr.pick(n.title_zh.clone(), n.title_en.clone()),
                    when(n.created_at_us),
                    n.read_at_us.is_some(),
                )
            })
            .collect(),
    }))
}

async fn notifications_read(
    State(st): State<AppState>,
    Authed { c: _, s, tr }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    st.svc.mark_notifications_read(&s.actor).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    Ok(Redirect::to("/dashboard").into_response())
}
