//! UI pages and form handlers.

use super::kit::{
    check_csrf, chrome, chrome_any, chrome_blank, csrf_page, current, error_page, forbidden_page,
    form_errors, html, signed_in, urlencode, with_status, Authed, Chrome, Page, SimpleTpl, OWN_PASSWORD_PAGE,
};
use super::{svg, Tr};
use crate::forms::registry::OrgQuery;
use crate::session::{cookie, expired_cookie, same_secret, ClientAddr, PRE_CSRF_COOKIE, SESSION_COOKIE};
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use kebao_domain::org::{
    FactsInput, LifecycleStage, OrgKind, OrgStatus, Organisation, OrganisationInput, Qualification,
    QualificationKind, YearlyFacts,
};
use kebao_domain::user::Role;
use kebao_domain::{FieldError, Invalid, Money};
use kebao_service::auth::SessionInfo;
use kebao_service::authz::Actor;
use kebao_service::import::{rows_from_table, ImportOptions, ImportReport, COLUMNS};
use kebao_service::tabular::{self, Format, Table};
use kebao_service::users::NewUserInput;
use kebao_service::ServiceError;
use std::collections::HashMap;

/// The UI's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login_post))
        .route("/logout", post(logout))
        .route("/register", get(register_form).post(register_post))
        .route("/dashboard", get(dashboard))
        .route("/notifications/read", post(notifications_read))
        .route("/orgs", get(orgs_list).post(org_create))
        .route("/orgs/new", get(org_new))
        .route("/orgs/export.csv", get(export_csv))
        .route("/orgs/export.xlsx", get(export_xlsx))
        .route("/orgs/import", get(import_form).post(import_post))
        .route("/orgs/import/template.xlsx", get(import_template))
        .route("/orgs/{id}", get(org_detail))
        .route("/orgs/{id}/edit", get(org_edit).post(org_update))
        .route("/orgs/{id}/facts", post(facts_post))
        .route("/orgs/{id}/qualifications", post(qual_post))
        .route("/orgs/{id}/verify", post(verify_post))
        .route("/orgs/{id}/staff", get(staff_page).post(staff_add))
        .route("/users/{id}", post(staff_update))
        .route("/admin/password", get(password_form).post(password_post))
        .route(OWN_PASSWORD_PAGE, get(own_password_form).post(own_password_post))
        .route("/audit", get(audit_page))
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
// Sign-in

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTpl {
    c: Chrome,
    error: Option<String>,
    pre_csrf: String,
    next: String,
    username: String,
}

fn safe_next(next: Option<&String>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") => n.clone(),
        _ => "/dashboard".to_owned(),
    }
}

fn pre_csrf_response(st: &AppState, body: Response, token: &str) -> Response {
    let mut resp = body;
    let c =
        cookie(PRE_CSRF_COOKIE, token.to_owned(), st.settings.secure_cookies, Some(time::Duration::hours(2)));
    if let Ok(v) = c.to_string().parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

fn pre_csrf_token(headers: &HeaderMap) -> Option<String> {
    axum_extra::extract::cookie::CookieJar::from_headers(headers)
        .get(PRE_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
}

fn now_s(st: &AppState) -> u64 {
    u64::try_from(st.svc.now_us() / 1_000_000).unwrap_or(0)
}

/// A fresh server-issued token for a pre-sign-in form (login, registration): whatever
/// cookie the browser brought, it gets a new one.
fn fresh_pre_csrf(st: &AppState) -> String {
    st.form_tokens.issue(now_s(st)).unwrap_or_default()
}

/// The pre-sign-in form's token, when the form and the cookie carry the same one and the
/// server issued it (a cookie an attacker planted is refused).
fn checked_pre_csrf(
    st: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<String, Response> {
    let sent = form.get("csrf").map_or("", String::as_str);
    match pre_csrf_token(headers) {
        Some(t) if !sent.is_empty() && same_secret(sent, &t) && st.form_tokens.verify(&t, now_s(st)) => Ok(t),
        _ => Err(csrf_page()),
    }
}

async fn login_form(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let (mut c, s) = chrome(&st, &headers, tr).await?;
    if s.is_some() {
        return Ok(Redirect::to("/dashboard").into_response());
    }
    if q.contains_key("expired") {
        c.notice = Some((
            "info",
            tr.t("登录已过期，请重新登录。", "Your session has expired; please sign in again.").to_owned(),
        ));
    }
    let token = fresh_pre_csrf(&st);
    let page = html(&LoginTpl {
        c,
        error: None,
        pre_csrf: token.clone(),
        next: safe_next(q.get("next")),
        username: String::new(),
    });
    Ok(pre_csrf_response(&st, page, &token))
}

async fn login_post(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let token = match checked_pre_csrf(&st, &headers, &form) {
        Ok(t) => t,
        Err(r) => return Ok(r),
    };
    let username = form.get("username").cloned().unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let next = safe_next(form.get("next"));
    let again = |error: String, status: StatusCode| {
        let token = token.clone();
        with_status(
            status,
            html(&LoginTpl {
                c: chrome_blank(tr),
                error: Some(error),
                pre_csrf: token,
                next: next.clone(),
                username: username.clone(),
            }),
        )
    };
    if let Err(t) = st.throttle.check(&address, &username) {
        let s = t.retry_after_s();
        tracing::warn!(address = %address, "sign-in throttled");
        return Ok(again(
            tr.pick(
                format!("登录失败次数过多，请 {s} 秒后再试。"),
                format!("Too many failed sign-ins; try again in {s} seconds."),
            ),
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let attempt = kebao_service::auth::Attempt { address: address.clone() };
    match st.svc.login_from(&username, &password, &attempt).await {
        Ok(s) => {
            st.throttle.succeeded(&address, &username);
            let next = if s.user.must_change_password { OWN_PASSWORD_PAGE.to_owned() } else { next.clone() };
            let mut resp = Redirect::to(&next).into_response();
            let ttl = time::Duration::microseconds(s.expires_at_us - st.svc.now_us());
            for c in [
                cookie(SESSION_COOKIE, s.token, st.settings.secure_cookies, Some(ttl)),
                expired_cookie(PRE_CSRF_COOKIE),
            ] {
                if let Ok(v) = c.to_string().parse() {
                    resp.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            Ok(resp)
        }
        Err(ServiceError::Unauthenticated(_)) => {
            st.throttle.failed(&address, &username);
            Ok(again(
                tr.t("用户名或密码错误。", "Wrong user name or password.").to_owned(),
                StatusCode::UNAUTHORIZED,
            ))
        }
        Err(e) => Err(error_page(tr, chrome_blank(tr), e)),
    }
}

async fn logout(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let s = current(&st, &headers).await?;
    if let Some(s) = s {
        check_csrf(&form, &s)?;
        if let Some(c) = axum_extra::extract::cookie::CookieJar::from_headers(&headers).get(SESSION_COOKIE) {
            st.svc.logout(c.value()).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
        }
    }
    let mut resp = Redirect::to("/").into_response();
    if let Ok(v) = expired_cookie(SESSION_COOKIE).to_string().parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
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
}

async fn dashboard(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    let Actor::User { user, .. } = &s.actor else { return Err(Redirect::to("/login").into_response()) };
    let inbox = st.svc.inbox(&s.actor).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let org =
        st.svc.get_org(&s.actor, &user.org_id).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let mut links =
        vec![(format!("/orgs/{}", user.org_id), tr.t("本机构信息", "My organisation").to_owned())];
    let has = |r: Role| user.has(r);
    if has(Role::EnterpriseAdmin) || has(Role::EnterpriseStaff) {
        links.push((
            format!("/orgs/{}#facts", user.org_id),
            tr.t("填报年度经营数据", "Report yearly facts").to_owned(),
        ));
    }
    if user.roles.iter().any(|r| r.is_admin()) {
        links.push((
            format!("/orgs/{}/staff", user.org_id),
            tr.t("管理本机构人员", "Manage my staff").to_owned(),
        ));
    }
    if has(Role::ZoneReviewer) || has(Role::ZoneApprover) {
        links.push((
            "/orgs?status=pending".into(),
            tr.t("待核验的企业注册", "Registrations to verify").to_owned(),
        ));
        links.push(("/orgs/new".into(), tr.t("登记新机构", "Register an organisation").to_owned()));
        links.push(("/orgs/import".into(), tr.t("批量导入机构", "Import organisations").to_owned()));
    }
    if has(Role::PlatformAdmin) {
        links.push(("/admin/password".into(), tr.t("重置用户密码", "Reset a password").to_owned()));
    }
    if has(Role::BankOfficer)
        || has(Role::Underwriter)
        || has(Role::ProductFiler)
        || has(Role::ClaimsHandler)
        || has(Role::Mediator)
    {
        links.push((
            "/orgs?kind=enterprise".into(),
            tr.t("科技企业名录", "Tech enterprise directory").to_owned(),
        ));
    }
    if has(Role::Regulator) {
        links.push(("/orgs?kind=insurer".into(), tr.t("保险机构名录", "Insurers").to_owned()));
    }
    if has(Role::Regulator) || has(Role::PlatformAdmin) || has(Role::ZoneApprover) {
        links.push(("/audit".into(), tr.t("审计日志", "Audit log").to_owned()));
    }
    links.push(("/orgs".into(), tr.t("机构名录", "Directory").to_owned()));
    let when = |us: i64| kebao_domain::time_zone::display_local(kebao_domain::time_zone::from_unix_us(us));
    let roles = user.roles.iter().map(|r| tr.t(r.label_zh(), r.label_en())).collect::<Vec<_>>().join(" · ");
    Ok(html(&DashboardTpl {
        c,
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

// ---------------------------------------------------------------------------------------
// Directory

struct OrgRow {
    id: String,
    name: String,
    uscc: String,
    kind: String,
    industries: Vec<String>,
    stage: String,
    status: String,
    status_code: String,
}

#[derive(Template)]
#[template(path = "orgs.html")]
struct OrgsTpl {
    c: Chrome,
    q: String,
    kinds: Vec<(String, String, bool)>,
    industries: Vec<(String, String, bool)>,
    stages: Vec<(String, String, bool)>,
    quals: Vec<(String, String, bool)>,
    statuses: Vec<(String, String, bool)>,
    show_status: bool,
    rows: Vec<OrgRow>,
    total: u64,
    next: Option<String>,
    has_cursor: bool,
    query: String,
    error: Option<String>,
}

fn industry_labels(st: &AppState, tr: Tr, tags: &[String]) -> Vec<String> {
    tags.iter()
        .map(|t| {
            st.svc
                .industries()
                .tag(t)
                .map_or_else(|| t.clone(), |z| tr.pick(z.name_zh.clone(), z.name_en.clone()))
        })
        .collect()
}

fn org_row(st: &AppState, tr: Tr, o: &Organisation) -> OrgRow {
    OrgRow {
        id: o.id.clone(),
        name: o.name.clone(),
        uscc: o.uscc.clone(),
        kind: tr.t(o.kind.label_zh(), o.kind.label_en()).to_owned(),
        industries: industry_labels(st, tr, &o.zone_industries),
        stage: o.lifecycle_stage.map(|s| tr.t(s.label_zh(), s.label_en()).to_owned()).unwrap_or_default(),
        status: tr.t(o.status.label_zh(), o.status.label_en()).to_owned(),
        status_code: o.status.code().to_owned(),
    }
}

fn options<T: Copy>(
    all: &[T],
    selected: Option<&str>,
    code: fn(T) -> &'static str,
    label: impl Fn(T) -> String,
) -> Vec<(String, String, bool)> {
    all.iter().map(|&v| (code(v).to_owned(), label(v), selected == Some(code(v)))).collect()
}

fn query_string(q: &OrgQuery) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("q", &q.q),
        ("kind", &q.kind),
        ("industry", &q.industry),
        ("stage", &q.stage),
        ("qualification", &q.qualification),
        ("status", &q.status),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", urlencode(v)));
        }
    }
    parts.join("&")
}

async fn orgs_list(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Query(q): Query<OrgQuery>,
) -> Page {
    let (c, s) = chrome(&st, &headers, tr).await?;
    let actor = s.map_or(Actor::Anonymous, |s| s.actor);
    let (page, error) = match q.to_filter() {
        Ok(filter) => match st.svc.list_orgs(&actor, &filter, q.cursor.as_deref(), 50).await {
            Ok(p) => (Some(p), None),
            Err(ServiceError::Invalid(Invalid(e))) => (
                None,
                Some(
                    e.iter()
                        .map(|f| tr.pick(f.message_zh.clone(), f.message_en.clone()))
                        .collect::<Vec<_>>()
                        .join("；"),
                ),
            ),
            Err(e) => return Err(error_page(tr, c, e)),
        },
        Err(Invalid(e)) => (
            None,
            Some(
                e.iter()
                    .map(|f| format!("{}: {}", f.field, tr.pick(f.message_zh.clone(), f.message_en.clone())))
                    .collect::<Vec<_>>()
                    .join("；"),
            ),
        ),
    };
    let show_status = matches!(&actor, Actor::User { user, .. } if user.roles.iter().any(|r| r.has_statutory_duty() || *r == Role::PlatformAdmin));
    let ind_sel = q.industry.as_deref();
    let industries = st
        .svc
        .industries()
        .tags()
        .iter()
        .map(|t| {
            (t.id.clone(), tr.pick(t.name_zh.clone(), t.name_en.clone()), ind_sel == Some(t.id.as_str()))
        })
        .collect();
    let (rows, total, next) = match page {
        Some(p) => (p.items.iter().map(|o| org_row(&st, tr, o)).collect(), p.total, p.next_cursor),
        None => (Vec::new(), 0, None),
    };
    Ok(html(&OrgsTpl {
        q: q.q.clone().unwrap_or_default(),
        kinds: options(OrgKind::ALL, q.kind.as_deref(), OrgKind::code, |k| {
            tr.t(k.label_zh(), k.label_en()).to_owned()
        }),
        industries,
        stages: options(LifecycleStage::ALL, q.stage.as_deref(), LifecycleStage::code, |k| {
            tr.t(k.label_zh(), k.label_en()).to_owned()
        }),
        quals: options(QualificationKind::ALL, q.qualification.as_deref(), QualificationKind::code, |k| {
            tr.t(k.label_zh(), k.label_en()).to_owned()
        }),
        statuses: options(OrgStatus::ALL, q.status.as_deref(), OrgStatus::code, |k| {
            tr.t(k.label_zh(), k.label_en()).to_owned()
        }),
        show_status,
        rows,
        total,
        next,
        has_cursor: q.cursor.is_some(),
        query: query_string(&q),
        error,
        c,
    }))
}

async fn export(st: AppState, tr: Tr, headers: HeaderMap, q: OrgQuery, format: Format) -> Page {
    let (c, s) = signed_in(&st, &headers, tr, "/orgs").await?;
    let filter = q.to_filter().map_err(|e| error_page(tr, chrome_blank(tr), ServiceError::Invalid(e)))?;
    let purpose = q.purpose.as_deref().and_then(kebao_domain::consent::Purpose::from_code);
    let (table, _) =
        st.svc.export_orgs_for(&s.actor, &filter, true, purpose).await.map_err(|e| error_page(tr, c, e))?;
    let (bytes, ctype, ext) = match format {
        Format::Csv => (tabular::write_csv(&table), "text/csv; charset=utf-8", "csv"),
        Format::Xlsx => (
            tabular::write_xlsx(&table, "organisations"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    let bytes = bytes.map_err(|e| error_page(tr, chrome_blank(tr), ServiceError::Internal(e)))?;
    let disposition = format!("attachment; filename=\"kebao-organisations.{ext}\"");
    Ok(([(header::CONTENT_TYPE, ctype.to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response())
}

async fn export_csv(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Query(q): Query<OrgQuery>,
) -> Page {
    export(st, tr, headers, q, Format::Csv).await
}

async fn export_xlsx(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Query(q): Query<OrgQuery>,
) -> Page {
    export(st, tr, headers, q, Format::Xlsx).await
}

// ---------------------------------------------------------------------------------------
// Organisation detail

struct OrgShow {
    id: String,
    name: String,
    uscc: String,
    kind: String,
    status: String,
    status_code: String,
    industry_code: String,
    industries: Vec<String>,
    stage: String,
    founded_on: String,
    address: String,
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgTpl {
    c: Chrome,
    o: OrgShow,
    parent: Option<(String, String)>,
    branches: Vec<(String, String)>,
    is_enterprise: bool,
    quals: Vec<(String, String, String, bool)>,
    qual_kinds: Vec<(String, String)>,
    qual_errors: Vec<String>,
    facts: Option<Vec<Vec<String>>>,
    facts_chart: String,
    basis_note: String,
    fact_fields: Vec<(String, String, String, String)>,
    can_edit: bool,
    can_write_facts: bool,
    can_verify: bool,
    can_staff: bool,
}

const FACT_FIELDS: &[(&str, &str, &str)] = &[
    ("year", "年度", "Year"),
    ("revenue_yuan", "营业收入（元）", "Revenue (yuan)"),
    ("rnd_expense_yuan", "研发费用（元）", "R&D expense (yuan)"),
    ("staff", "职工人数", "Staff"),
    ("rnd_staff", "研发人员数", "R&D staff"),
    ("patents_granted", "授权专利数", "Patents granted"),
    ("patents_pending", "在审专利数", "Patents pending"),
    ("export_share_percent", "出口占比（%）", "Export share (%)"),
];

fn facts_input(form: &HashMap<String, String>) -> FactsInput {
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    FactsInput {
        year: g("year"),
        revenue_yuan: g("revenue_yuan"),
        rnd_expense_yuan: g("rnd_expense_yuan"),
        staff: g("staff"),
        rnd_staff: g("rnd_staff"),
        patents_granted: g("patents_granted"),
        patents_pending: g("patents_pending"),
        export_share_percent: g("export_share_percent"),
    }
}

async fn render_org(
    st: &AppState,
    tr: Tr,
    c: Chrome,
    actor: &Actor,
    id: &str,
    form: Option<(&HashMap<String, String>, &[FieldError])>,
    qual_errors: Vec<String>,
) -> Page {
    render_org_for(st, tr, c, actor, id, form, qual_errors, None).await
}

#[allow(clippy::too_many_arguments, reason = "the page's inputs")]
async fn render_org_for(
    st: &AppState,
    tr: Tr,
    c: Chrome,
    actor: &Actor,
    id: &str,
    form: Option<(&HashMap<String, String>, &[FieldError])>,
    qual_errors: Vec<String>,
    purpose: Option<kebao_domain::consent::Purpose>,
) -> Page {
    let v = match st.svc.get_org_for(actor, id, purpose).await {
        Ok(v) => v,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let o = &v.org;
    let today = st.svc.today();
    let wan = |m: Money| m.fen() as f64 / 1_000_000.0;
    let (facts, facts_chart) = match &v.facts {
        Some(rows) => {
            let mut asc: Vec<&YearlyFacts> = rows.iter().collect();
            asc.sort_by_key(|f| f.year);
            let cats: Vec<String> = asc.iter().map(|f| f.year.to_string()).collect();
            let chart = svg::grouped(
                &cats,
                &[
                    (
                        tr.t("营业收入（万元）", "Revenue (¥10k)").to_owned(),
                        asc.iter().map(|f| wan(f.revenue)).collect(),
                        "#2f6fb8",
                    ),
                    (
                        tr.t("研发费用（万元）", "R&D (¥10k)").to_owned(),
                        asc.iter().map(|f| wan(f.rnd_expense)).collect(),
                        "#e0a526",
                    ),
                ],
                "",
            );
            let table = rows
                .iter()
                .map(|f| {
                    vec![
                        f.year.to_string(),
                        f.revenue.display_yuan(),
                        f.rnd_expense.display_yuan(),
                        f.rnd_intensity().map_or_else(|| "—".to_owned(), |x| format!("{:.1}%", x * 100.0)),
                        f.staff.to_string(),
                        f.rnd_staff.to_string(),
                        f.patents_granted.to_string(),
                        f.patents_pending.to_string(),
                        format!("{}%", Money::from_fen(i64::from(f.export_share_bp)).to_yuan_string()),
                    ]
                })
                .collect();
            (Some(table), chart)
        }
        None => (None, String::new()),
    };
    let basis_note = match v.facts_basis {
        "own" => tr.t("本机构数据。", "Your own organisation's data.").to_owned(),
        "statutory_duty" => tr
            .t(
                "依法定职责（监管、管委会履职）查看；本次查看已记入审计日志。",
                "Shown on a statutory basis (supervision); this read has been recorded in the audit log.",
            )
            .to_owned(),
        _ => String::new(),
    };
    let errors: HashMap<&str, String> = form
        .map(|(_, errs)| {
            errs.iter()
                .map(|e| (e.field.as_str(), tr.pick(e.message_zh.clone(), e.message_en.clone())))
                .collect()
        })
        .unwrap_or_default();
    let fact_fields = FACT_FIELDS
        .iter()
        .map(|(name, zh, en)| {
            let value = form.and_then(|(f, _)| f.get(*name).cloned()).unwrap_or_else(|| {
                if *name == "year" {
                    (today.year() - 1).to_string()
                } else {
                    String::new()
                }
            });
            (
                (*name).to_owned(),
                tr.t(zh, en).to_owned(),
                value,
                errors.get(name).cloned().unwrap_or_default(),
            )
        })
        .collect();
    let tpl = OrgTpl {
        o: OrgShow {
            id: o.id.clone(),
            name: o.name.clone(),
            uscc: o.uscc.clone(),
            kind: tr.t(o.kind.label_zh(), o.kind.label_en()).to_owned(),
            status: tr.t(o.status.label_zh(), o.status.label_en()).to_owned(),
            status_code: o.status.code().to_owned(),
            industry_code: o.industry_code.clone().unwrap_or_default(),
            industries: industry_labels(st, tr, &o.zone_industries),
            stage: o.lifecycle_stage.map(|s| tr.t(s.label_zh(), s.label_en()).to_owned()).unwrap_or_default(),
            founded_on: o.founded_on.map(|d| d.to_string()).unwrap_or_default(),
            address: o.address.clone().unwrap_or_default(),
        },
        parent: v.parent.as_ref().map(|p| (p.id.clone(), p.name.clone())),
        branches: v.branches.iter().map(|b| (b.id.clone(), b.name.clone())).collect(),
        is_enterprise: o.kind == OrgKind::Enterprise,
        quals: v
            .qualifications
            .iter()
            .map(|(_, q)| {
                (
                    tr.t(q.kind.label_zh(), q.kind.label_en()).to_owned(),
                    format!("{} — {}", q.valid_from, q.valid_to),
                    q.certificate_no.clone().unwrap_or_default(),
                    q.valid_on(today),
                )
            })
            .collect(),
        qual_kinds: QualificationKind::ALL
            .iter()
            .map(|k| (k.code().to_owned(), tr.t(k.label_zh(), k.label_en()).to_owned()))
            .collect(),
        qual_errors,
        facts,
        facts_chart,
        basis_note,
        fact_fields,
        can_edit: v.can_edit,
        can_write_facts: v.can_write_facts,
        can_verify: v.can_verify,
        can_staff: v.can_manage_staff,
        c,
    };
    let status = if form.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(with_status(status, html(&tpl)))
}

async fn org_detail(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let (mut c, s) = chrome(&st, &headers, tr).await?;
    let actor = s.map_or(Actor::Anonymous, |s| s.actor);
    if q.contains_key("saved") {
        c.notice = Some(("ok", tr.t("已保存。", "Saved.").to_owned()));
    }
    let purpose = q.get("purpose").and_then(|p| kebao_domain::consent::Purpose::from_code(p));
    render_org_for(&st, tr, c, &actor, &id, None, Vec::new(), purpose).await
}

async fn facts_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let result = match YearlyFacts::parse(&facts_input(&form)) {
        Ok(f) => st.svc.put_facts(&s.actor, &id, f).await.map(|_| ()),
        Err(e) => Err(ServiceError::Invalid(e)),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/orgs/{id}?saved=1#facts")).into_response()),
        Err(ServiceError::Invalid(Invalid(errs))) => {
            render_org(&st, tr, c, &s.actor, &id, Some((&form, &errs)), Vec::new()).await
        }
        Err(e) => Err(error_page(tr, c, e)),
    }
}

async fn qual_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let result =
        match Qualification::parse(&g("kind"), &g("valid_from"), &g("valid_to"), &g("certificate_no")) {
            Ok(q) => st.svc.add_qualification(&s.actor, &id, q).await.map(|_| ()),
            Err(e) => Err(ServiceError::Invalid(e)),
        };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/orgs/{id}?saved=1")).into_response()),
        Err(ServiceError::Invalid(Invalid(errs))) => {
            let msgs = texts(tr, &errs);
            render_org(&st, tr, c, &s.actor, &id, None, msgs)
                .await
                .map(|r| with_status(StatusCode::UNPROCESSABLE_ENTITY, r))
        }
        Err(e) => Err(error_page(tr, c, e)),
    }
}

async fn verify_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let approve = form.get("decision").is_some_and(|d| d == "approve");
    match st.svc.verify_org(&s.actor, &id, approve).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{id}?saved=1")).into_response()),
        Err(e) => Err(error_page(tr, c, e)),
    }
}

// ---------------------------------------------------------------------------------------
// Organisation forms

struct Field {
    name: String,
    label: String,
    value: String,
    error: String,
    required: bool,
    options: Vec<(String, String)>,
    hint: String,
    type_: String,
}

#[derive(Template)]
#[template(path = "org_form.html")]
struct FormTpl {
    c: Chrome,
    heading: String,
    action: String,
    csrf: String,
    fields: Vec<Field>,
    errors: Vec<String>,
    general_errors: Vec<String>,
    submit: String,
    cancel: String,
}

fn org_fields(
    st: &AppState,
    tr: Tr,
    input: &OrganisationInput,
    errs: &[FieldError],
    kind_choice: bool,
) -> Vec<Field> {
    let err = |name: &str| {
        errs.iter()
            .filter(|e| e.field == name)
            .map(|e| tr.pick(e.message_zh.clone(), e.message_en.clone()))
            .collect::<Vec<_>>()
            .join("；")
    };
    let f = |name: &str,
             zh: &str,
             en: &str,
             value: &str,
             required: bool,
             options: Vec<(String, String)>,
             hint: &str| Field {
        name: name.to_owned(),
        label: tr.t(zh, en).to_owned(),
        value: value.to_owned(),
        error: err(name),
        required,
        options,
        hint: hint.to_owned(),
        type_: "text".to_owned(),
    };
    let mut fields = vec![
        f("name", "机构名称", "Name", &input.name, true, vec![], ""),
        f(
            "uscc",
            "统一社会信用代码",
            "Unified social credit code",
            &input.uscc,
            true,
            vec![],
            "91420100MA4K…",
        ),
    ];
    if kind_choice {
        let kinds = OrgKind::ALL
            .iter()
            .map(|k| (k.code().to_owned(), tr.t(k.label_zh(), k.label_en()).to_owned()))
            .collect();
        fields.push(f("kind", "机构类型", "Kind", &input.kind, true, kinds, ""));
    }
    let _ = st;
    fields.push(f(
        "industry_code",
        "行业代码（GB/T 4754-2017）",
        "Industry code (GB/T 4754-2017)",
        &input.industry_code,
        input.kind == "enterprise",
        vec![],
        "C3976",
    ));
    let stages = LifecycleStage::ALL
        .iter()
        .map(|k| (k.code().to_owned(), tr.t(k.label_zh(), k.label_en()).to_owned()))
        .collect();
    fields.push(f(
        "lifecycle_stage",
        "生命周期阶段",
        "Life-cycle stage",
        &input.lifecycle_stage,
        input.kind == "enterprise",
        stages,
        "",
    ));
    fields.push(f("founded_on", "成立日期", "Founded on", &input.founded_on, false, vec![], "2018-06-01"));
    fields.push(f("address", "地址", "Address", &input.address, false, vec![], ""));
    if kind_choice {
        fields.push(f(
            "parent_uscc",
            "上级机构统一社会信用代码（仅分支机构填写）",
            "Parent's USCC (branches only)",
            &input.parent_id,
            false,
            vec![],
            "",
        ));
    }
    fields
}

fn org_input(form: &HashMap<String, String>) -> OrganisationInput {
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    OrganisationInput {
        name: g("name"),
        uscc: g("uscc"),
        kind: g("kind"),
        industry_code: g("industry_code"),
        lifecycle_stage: g("lifecycle_stage"),
        founded_on: g("founded_on"),
        address: g("address"),
        // The form asks for the parent's USCC; `org_create` resolves it to an id.
        parent_id: g("parent_uscc"),
    }
}

fn form_page(
    c: Chrome,
    heading: String,
    action: String,
    fields: Vec<Field>,
    errs: &[FieldError],
    submit: String,
    cancel: String,
) -> Response {
    let tr = c.tr;
    let known: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    let general_errors = errs
        .iter()
        .filter(|e| !known.contains(&e.field.as_str()))
        .map(|e| tr.pick(e.message_zh.clone(), e.message_en.clone()))
        .collect();
    let csrf = c.csrf.clone();
    let status = if errs.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    with_status(
        status,
        html(&FormTpl {
            c,
            heading,
            action,
            csrf,
            fields,
            errors: errs.iter().map(|e| e.field.clone()).collect(),
            general_errors,
            submit,
            cancel,
        }),
    )
}

async fn org_new(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    if !st.svc.may(&s.actor, kebao_service::authz::Action::CreateOrg) {
        return Err(forbidden_page(tr, c));
    }
    let input = OrganisationInput { kind: "enterprise".into(), ..OrganisationInput::default() };
    let fields = org_fields(&st, tr, &input, &[], true);
    Ok(form_page(
        c,
        tr.t("登记机构", "Register an organisation").into(),
        "/orgs".into(),
        fields,
        &[],
        tr.t("登记", "Register").into(),
        "/orgs".into(),
    ))
}

fn new_org_page(st: &AppState, c: Chrome, input: &OrganisationInput, errs: &[FieldError]) -> Response {
    let tr = c.tr;
    let fields = org_fields(st, tr, input, errs, true);
    let heading = tr.t("登记机构", "Register an organisation").into();
    form_page(c, heading, "/orgs".into(), fields, errs, tr.t("登记", "Register").into(), "/orgs".into())
}

async fn org_create(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let input = org_input(&form);
    // The form names a branch's parent by USCC; the service takes the parent's id.
    let mut to_create = input.clone();
    if !input.parent_id.trim().is_empty() {
        match st.svc.org_id_by_uscc(&s.actor, &input.parent_id).await {
            Ok(Some(id)) => to_create.parent_id = id,
            Ok(None) => {
                let e = FieldError::new(
                    "parent_uscc",
                    "parent_unknown",
                    "上级机构未登记",
                    "no organisation is registered with this code",
                );
                return Ok(new_org_page(&st, c, &input, &[e]));
            }
            Err(e) => return Err(error_page(tr, c, e)),
        }
    }
    match st.svc.create_org(&s.actor, &to_create).await {
        Ok(o) => Ok(Redirect::to(&format!("/orgs/{}?saved=1", o.id)).into_response()),
        Err(e) => match form_errors(e) {
            Ok(errs) => {
                let errs: Vec<FieldError> = errs
                    .into_iter()
                    .map(|e| if e.field == "parent_id" { e.at("parent_uscc") } else { e })
                    .collect();
                Ok(new_org_page(&st, c, &input, &errs))
            }
            Err(e) => Err(error_page(tr, c, e)),
        },
    }
}

async fn org_edit(State(st): State<AppState>, Authed { c, s, tr }: Authed, Path(id): Path<String>) -> Page {
    let v = st.svc.get_org(&s.actor, &id).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    if !v.can_edit {
        return Err(error_page(tr, c, ServiceError::Forbidden { action: "edit", reason: String::new() }));
    }
    let input = v.org.to_input();
    let fields = org_fields(&st, tr, &input, &[], false);
    Ok(form_page(
        c,
        format!("{} · {}", tr.t("编辑", "Edit"), v.org.name),
        format!("/orgs/{id}/edit"),
        fields,
        &[],
        tr.t("保存", "Save").into(),
        format!("/orgs/{id}"),
    ))
}

async fn org_update(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let mut input = org_input(&form);
    match st.svc.update_org(&s.actor, &id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{id}?saved=1")).into_response()),
        Err(e) => match form_errors(e) {
            Ok(errs) => {
                // The kind decides which fields are required; it is not on the edit form.
                if let Ok(v) = st.svc.get_org(&s.actor, &id).await {
                    input.kind = v.org.kind.code().to_owned();
                }
                let fields = org_fields(&st, tr, &input, &errs, false);
                let (heading, submit) = (tr.t("编辑", "Edit").into(), tr.t("保存", "Save").into());
                Ok(form_page(
                    c,
                    heading,
                    format!("/orgs/{id}/edit"),
                    fields,
                    &errs,
                    submit,
                    format!("/orgs/{id}"),
                ))
            }
            Err(e) => Err(error_page(tr, c, e)),
        },
    }
}

// ---------------------------------------------------------------------------------------
// Self-registration

fn register_fields(st: &AppState, tr: Tr, form: &HashMap<String, String>, errs: &[FieldError]) -> Vec<Field> {
    let mut input = org_input(form);
    input.kind = "enterprise".into();
    let mut fields = org_fields(st, tr, &input, errs, false);
    let err = |name: &str| {
        errs.iter()
            .filter(|e| e.field == name)
            .map(|e| tr.pick(e.message_zh.clone(), e.message_en.clone()))
            .collect::<Vec<_>>()
            .join("；")
    };
    for (name, zh, en, ty) in [
        ("admin.username", "管理员用户名", "Admin user name", "text"),
        ("admin.display_name", "管理员姓名", "Admin name", "text"),
        ("admin.password", "密码（至少10位）", "Password (10+ characters)", "password"),
    ] {
        fields.push(Field {
            name: name.to_owned(),
            label: tr.t(zh, en).to_owned(),
            value: if ty == "password" { String::new() } else { form.get(name).cloned().unwrap_or_default() },
            error: err(name),
            required: true,
            options: Vec::new(),
            hint: String::new(),
            type_: ty.to_owned(),
        });
    }
    fields
}

fn register_page(st: &AppState, c: Chrome, form: &HashMap<String, String>, errs: &[FieldError]) -> Response {
    let tr = c.tr;
    let fields = register_fields(st, tr, form, errs);
    let heading = tr.t("企业注册", "Register your enterprise").into();
    form_page(c, heading, "/register".into(), fields, errs, tr.t("提交注册", "Register").into(), "/".into())
}

async fn register_form(State(st): State<AppState>, Extension(tr): Extension<Tr>, headers: HeaderMap) -> Page {
    let (mut c, _) = chrome(&st, &headers, tr).await?;
    let token = fresh_pre_csrf(&st);
    c.csrf = token.clone();
    c.notice = Some(("info", tr.t("注册后，企业信息须经管委会核验方可在名录中公开。", "After you register, the zone office verifies your enterprise before it appears in the directory.").to_owned()));
    let page = register_page(&st, c, &HashMap::new(), &[]);
    Ok(pre_csrf_response(&st, page, &token))
}

async fn register_post(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let token = match checked_pre_csrf(&st, &headers, &form) {
        Ok(t) => t,
        Err(r) => return Ok(r),
    };
    let (mut c, _) = chrome(&st, &headers, tr).await?;
    c.csrf = token;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let admin = NewUserInput {
        username: g("admin.username"),
        display_name: g("admin.display_name"),
        password: g("admin.password"),
    };
    match st.svc.register_self(&org_input(&form), &admin).await {
        Ok(_) => {
            c.notice = Some((
                "ok",
                tr.t(
                    "注册已提交，待管委会核验。现在可以用管理员账号登录。",
                    "Registered. The zone office will verify it; you can sign in with the admin account now.",
                )
                .to_owned(),
            ));
            Ok(html(&SimpleTpl {
                c,
                heading: tr.t("注册已提交", "Registration received").into(),
                body: "<p><a class=\"button\" href=\"/login\">登录 Sign in</a></p>".into(),
            }))
        }
        Err(e) => match form_errors(e) {
            Ok(errs) => Ok(register_page(&st, c, &form, &errs)),
            Err(e) => Err(error_page(tr, c, e)),
        },
    }
}

// ---------------------------------------------------------------------------------------
// Staff

struct StaffRow {
    id: String,
    username: String,
    display_name: String,
    roles: Vec<(String, String, bool)>,
    active: bool,
}

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffTpl {
    c: Chrome,
    org_id: String,
    org_name: String,
    users: Vec<StaffRow>,
    role_choices: Vec<(String, String)>,
    errors: Vec<String>,
    new_username: String,
    new_display: String,
}

fn roles_from_form(form: &HashMap<String, String>) -> Vec<Role> {
    Role::ALL.iter().copied().filter(|r| form.contains_key(&format!("role_{}", r.code()))).collect()
}

async fn render_staff(
    st: &AppState,
    tr: Tr,
    c: Chrome,
    actor: &Actor,
    org_id: &str,
    errors: Vec<String>,
    form: Option<&HashMap<String, String>>,
) -> Page {
    let v = st.svc.get_org(actor, org_id).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let users = match st.svc.list_staff(actor, org_id).await {
        Ok(u) => u,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let fitting: Vec<Role> = Role::ALL.iter().copied().filter(|r| r.fits(v.org.kind)).collect();
    let label = |r: Role| tr.t(r.label_zh(), r.label_en()).to_owned();
    let rows = users
        .iter()
        .map(|u| StaffRow {
            id: u.id.clone(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            roles: fitting.iter().map(|r| (r.code().to_owned(), label(*r), u.roles.contains(r))).collect(),
            active: u.active,
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(with_status(
        status,
        html(&StaffTpl {
            c,
            org_id: org_id.to_owned(),
            org_name: v.org.name,
            users: rows,
            role_choices: fitting.iter().map(|r| (r.code().to_owned(), label(*r))).collect(),
            errors,
            new_username: form.and_then(|f| f.get("username").cloned()).unwrap_or_default(),
            new_display: form.and_then(|f| f.get("display_name").cloned()).unwrap_or_default(),
        }),
    ))
}

async fn staff_page(
    State(st): State<AppState>,
    Authed { mut c, s, tr }: Authed,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    if q.contains_key("saved") {
        c.notice = Some(("ok", tr.t("已保存。", "Saved.").to_owned()));
    }
    render_staff(&st, tr, c, &s.actor, &id, Vec::new(), None).await
}

/// The messages of field errors, in the visitor's language.
fn texts(tr: Tr, errs: &[FieldError]) -> Vec<String> {
    errs.iter().map(|f| tr.pick(f.message_zh.clone(), f.message_en.clone())).collect()
}

async fn staff_add(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let input =
        NewUserInput { username: g("username"), display_name: g("display_name"), password: g("password") };
    match st.svc.add_user(&s.actor, &id, &input, &roles_from_form(&form)).await {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{id}/staff?saved=1")).into_response()),
        Err(e) => match form_errors(e) {
            Ok(errs) => render_staff(&st, tr, c, &s.actor, &id, texts(tr, &errs), Some(&form)).await,
            Err(e) => Err(error_page(tr, c, e)),
        },
    }
}

async fn staff_update(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(user_id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let org_id = form.get("org_id").cloned().unwrap_or_default();
    check_csrf(&form, &s)?;
    match st.svc.update_staff(&s.actor, &user_id, &roles_from_form(&form), form.contains_key("active")).await
    {
        Ok(u) => Ok(Redirect::to(&format!("/orgs/{}/staff?saved=1", u.org_id)).into_response()),
        Err(e) => match form_errors(e) {
            Ok(errs) => render_staff(&st, tr, c, &s.actor, &org_id, texts(tr, &errs), None).await,
            Err(e) => Err(error_page(tr, c, e)),
        },
    }
}

// ---------------------------------------------------------------------------------------
// Password reset (platform admin)

async fn password_form(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    if !st.svc.may(&s.actor, kebao_service::authz::Action::ResetPassword) {
        return Err(forbidden_page(tr, c));
    }
    let fields = password_fields(tr, "", &[]);
    Ok(form_page(
        c,
        tr.t("重置用户密码", "Reset a user's password").into(),
        "/admin/password".into(),
        fields,
        &[],
        tr.t("重置", "Reset").into(),
        "/dashboard".into(),
    ))
}

fn password_fields(tr: Tr, username: &str, errs: &[FieldError]) -> Vec<Field> {
    let err = |name: &str| {
        errs.iter()
            .filter(|e| e.field == name)
            .map(|e| tr.pick(e.message_zh.clone(), e.message_en.clone()))
            .collect::<Vec<_>>()
            .join("；")
    };
    vec![
        Field {
            name: "username".into(),
            label: tr.t("用户名", "User name").into(),
            value: username.into(),
            error: err("username"),
            required: true,
            options: vec![],
            hint: String::new(),
            type_: "text".into(),
        },
        Field {
            name: "password".into(),
            label: tr.t("新密码（至少10位）", "New password (10+ characters)").into(),
            value: String::new(),
            error: err("password"),
            required: true,
            options: vec![],
            hint: String::new(),
            type_: "password".into(),
        },
    ]
}

async fn password_post(
    State(st): State<AppState>,
    Authed { mut c, s, tr }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let username = form.get("username").cloned().unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let errs = match st.svc.reset_password(&s.actor, &username, &password).await {
        Ok(u) => {
            c.notice = Some((
                "ok",
                tr.pick(
                    format!("已重置 {} 的密码，其现有会话已失效。", u.username),
                    format!("The password of {} was reset; their sessions were ended.", u.username),
                ),
            ));
            Vec::new()
        }
        Err(ServiceError::Invalid(Invalid(errs))) => errs,
        Err(ServiceError::NotFound) => {
            vec![FieldError::new("username", "not_found", "该用户不存在", "no such user")]
        }
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let fields = password_fields(tr, if errs.is_empty() { "" } else { &username }, &errs);
    Ok(form_page(
        c,
        tr.t("重置用户密码", "Reset a user's password").into(),
        "/admin/password".into(),
        fields,
        &errs,
        tr.t("重置", "Reset").into(),
        "/dashboard".into(),
    ))
}

// ---------------------------------------------------------------------------------------
// One's own password

fn own_password_fields(tr: Tr, errs: &[FieldError]) -> Vec<Field> {
    let err = |name: &str| {
        errs.iter()
            .filter(|e| e.field == name)
            .map(|e| tr.pick(e.message_zh.clone(), e.message_en.clone()))
            .collect::<Vec<_>>()
            .join("；")
    };
    let field = |name: &str, label: &str| Field {
        name: name.into(),
        label: label.into(),
        value: String::new(),
        error: err(name),
        required: true,
        options: vec![],
        hint: String::new(),
        type_: "password".into(),
    };
    vec![
        field("current_password", tr.t("当前密码", "Current password")),
        field("new_password", tr.t("新密码（至少10位）", "New password (10+ characters)")),
        field("new_password_again", tr.t("再次输入新密码", "New password again")),
    ]
}

fn own_password_page(c: Chrome, errs: &[FieldError]) -> Response {
    let tr = c.tr;
    form_page(
        c,
        tr.t("修改密码", "Change your password").into(),
        OWN_PASSWORD_PAGE.into(),
        own_password_fields(tr, errs),
        errs,
        tr.t("修改", "Change").into(),
        "/dashboard".into(),
    )
}

/// The signed-in user's session for the password page (which a user who must change their
/// password may see), or a redirect to sign in.
async fn own_session(st: &AppState, headers: &HeaderMap, tr: Tr) -> Result<(Chrome, SessionInfo), Response> {
    match chrome_any(st, headers, tr).await? {
        (c, Some(s)) => Ok((c, s)),
        (_, None) => {
            Err(Redirect::to(&format!("/login?next={}", urlencode(OWN_PASSWORD_PAGE))).into_response())
        }
    }
}

async fn own_password_form(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
) -> Page {
    let (mut c, s) = own_session(&st, &headers, tr).await?;
    if s.must_change_password() {
        c.notice = Some((
            "info",
            tr.t(
                "您的密码由管理员设置，请先修改密码后再继续使用。",
                "An administrator set your password: change it before you go on.",
            )
            .to_owned(),
        ));
    }
    Ok(own_password_page(c, &[]))
}

async fn own_password_post(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let (mut c, s) = own_session(&st, &headers, tr).await?;
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (current_pw, new_pw) = (g("current_password"), g("new_password"));
    if new_pw != g("new_password_again") {
        let errs = [FieldError::new(
            "new_password_again",
            "mismatch",
            "两次输入的新密码不一致",
            "the two new passwords differ",
        )];
        return Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, own_password_page(c, &errs)));
    }
    let cookie = axum_extra::extract::cookie::CookieJar::from_headers(&headers)
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let in_use = kebao_service::auth::InUse::Session(&cookie);
    match st.svc.change_own_password(&s.actor, in_use, &current_pw, &new_pw).await {
        Ok(_) => {
            c.notice = Some((
                "ok",
                tr.t(
                    "密码已修改；您在其他地方的登录和 API 令牌均已失效。",
                    "Your password was changed; your other sessions and API tokens were ended.",
                )
                .to_owned(),
            ));
            Ok(own_password_page(c, &[]))
        }
        Err(ServiceError::Invalid(Invalid(errs))) => {
            Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, own_password_page(c, &errs)))
        }
        Err(e) => Err(error_page(tr, c, e)),
    }
}

// ---------------------------------------------------------------------------------------
// Import

#[derive(Template)]
#[template(path = "import.html")]
struct ImportTpl {
    c: Chrome,
    report: Option<ImportReport>,
    problems: Vec<(usize, String, String)>,
}

async fn import_form(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    if !st.svc.may(&s.actor, kebao_service::authz::Action::CreateOrg) {
        return Err(forbidden_page(tr, c));
    }
    Ok(html(&ImportTpl { c, report: None, problems: Vec::new() }))
}

async fn import_template(Authed { tr, .. }: Authed) -> Page {
    let table = Table {
        headers: COLUMNS.iter().map(|(c, _, _)| (*c).to_owned()).collect(),
        rows: vec![COLUMNS.iter().map(|(_, zh, _)| format!("（{zh}）")).collect()],
    };
    let bytes = tabular::write_xlsx(&table, "organisations")
        .map_err(|e| error_page(tr, chrome_blank(tr), ServiceError::Internal(e)))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"kebao-import-template.xlsx\""),
        ],
        bytes,
    )
        .into_response())
}

async fn import_post(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    mut mp: Multipart,
) -> Page {
    let (mut c, s) = signed_in(&st, &headers, tr, "/orgs/import").await?;
    // Authorised before the upload is read or parsed: a spreadsheet costs memory and time
    // to read, which only those who may import get to spend.
    if let Err(e) = st.svc.authorize_import(&s.actor) {
        return Err(error_page(tr, c, e));
    }
    let mut csrf = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut skip_invalid = false;
    let too_big = |c: Chrome| {
        let mut c = c;
        c.notice = Some((
            "error",
            tr.pick(
                format!("文件过大，上限为 {} MB。", tabular::MAX_UPLOAD_BYTES / 1024 / 1024),
                format!(
                    "The file is too large; the limit is {} MB.",
                    tabular::MAX_UPLOAD_BYTES / 1024 / 1024
                ),
            ),
        ));
        with_status(StatusCode::PAYLOAD_TOO_LARGE, html(&ImportTpl { c, report: None, problems: Vec::new() }))
    };
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Ok(too_big(c)),
            Err(e) => {
                return Err(error_page(
                    tr,
                    c,
                    ServiceError::Invalid(Invalid(vec![FieldError::new(
                        "file",
                        "upload_failed",
                        format!("上传失败：{e}"),
                        format!("the upload failed: {e}"),
                    )])),
                ))
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().unwrap_or_default().to_owned();
        match field.bytes().await {
            Ok(b) => match name.as_str() {
                "csrf" => csrf = String::from_utf8_lossy(&b).into_owned(),
                "skip_invalid" => skip_invalid = true,
                "file" => file = Some((filename, b.to_vec())),
                _ => {}
            },
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Ok(too_big(c)),
            Err(e) => return Err(error_page(tr, c, ServiceError::Internal(e.to_string()))),
        }
    }
    let query_csrf = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if !same_secret(&csrf, &s.csrf_token) && !same_secret(&query_csrf, &s.csrf_token) {
        return Err(csrf_page());
    }
    let Some((filename, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        c.notice = Some(("error", tr.t("请选择要上传的文件。", "Choose a file to upload.").to_owned()));
        return Ok(with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            html(&ImportTpl { c, report: None, problems: Vec::new() }),
        ));
    };
    let format = Format::from_name(&filename).unwrap_or_else(|| Format::sniff(&bytes));
    let rows = match tabular::read(&bytes, format).and_then(|t| rows_from_table(&t)) {
        Ok(r) => r,
        Err(e) => {
            c.notice = Some(("error", tr.pick(e.message_zh(), e.to_string())));
            let status = if matches!(e, tabular::TableError::TooLarge { .. }) {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            return Ok(with_status(status, html(&ImportTpl { c, report: None, problems: Vec::new() })));
        }
    };
    match st.svc.import_orgs(&s.actor, rows, ImportOptions { skip_invalid }, &mut |_, _| {}).await {
        Ok(report) => {
            let problems = report
                .problems
                .iter()
                .map(|p| (p.row, p.column.clone(), tr.pick(p.reason_zh.clone(), p.reason_en.clone())))
                .collect();
            let ok = report.problems.is_empty();
            c.notice = Some(if ok {
                (
                    "ok",
                    tr.pick(
                        format!("已导入 {} 家机构。", report.imported),
                        format!("Imported {} organisations.", report.imported),
                    ),
                )
            } else if report.imported == 0 {
                ("error", tr.t("有错误行，未导入任何数据。请更正后重新上传，或勾选“跳过错误行”。", "Some rows are bad, so nothing was imported. Correct them and upload again, or tick “skip bad rows”.").to_owned())
            } else {
                (
                    "info",
                    tr.pick(
                        format!("已导入 {} 家机构，跳过 {} 行。", report.imported, report.skipped),
                        format!("Imported {}; skipped {} rows.", report.imported, report.skipped),
                    ),
                )
            });
            let status = if ok || skip_invalid { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
            Ok(with_status(status, html(&ImportTpl { c, report: Some(report), problems })))
        }
        Err(e) => Err(error_page(tr, c, e)),
    }
}

// ---------------------------------------------------------------------------------------
// Audit log (regulator, platform admin, zone approver)

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditTpl {
    c: Chrome,
    count: u64,
    hash: String,
    verified: Option<String>,
    events: Vec<(u64, String, String, String, String)>,
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
    let verified = if q.contains_key("verify") {
        match st
            .svc
            .audit_verify(&s.actor, None, &mut |_, _| {})
            .await
            .map_err(|e| error_page(tr, chrome_blank(tr), e))?
        {
            kebao_service::audit::Verification::Sound(h) => Some(tr.pick(
                format!("完好：{} 个事件，每一环均可验证", h.count),
                format!("sound: {} events, every link holds", h.count),
            )),
            kebao_service::audit::Verification::Broken(b) => {
                Some(tr.pick(format!("已损坏：{b}"), format!("broken: {b}")))
            }
        }
    } else {
        None
    };
    let when = |us: i64| kebao_domain::time_zone::display_local(kebao_domain::time_zone::from_unix_us(us));
    let events = st
        .svc
        .recent_events(&s.actor, 50)
        .await
        .map_err(|e| error_page(tr, chrome_blank(tr), e))?
        .into_iter()
        .map(|e| (e.seq, when(e.at_us), e.actor, e.action, e.subject))
        .collect();
    Ok(html(&AuditTpl { c, count: head.count, hash: head.hash.to_hex(), verified, events }))
}
