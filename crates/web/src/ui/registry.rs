//! The organisation register: directory, exports, organisation pages and forms, staff, imports.

use super::kit::{
    check_csrf, chrome, chrome_blank, csrf_page, error_page, forbidden_page, form_errors, form_page, html,
    signed_in, urlencode, with_status, Authed, Chrome, Field, Page,
};
use super::{svg, Tr};
use crate::forms::registry::OrgQuery;
use crate::session::same_secret;
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
use kebao_service::authz::{Action, Actor, Resource};
use kebao_service::import::{rows_from_table, ImportOptions, ImportReport, COLUMNS};
use kebao_service::tabular::{self, Format, Table};
use kebao_service::users::NewUserInput;
use kebao_service::ServiceError;
use std::collections::HashMap;

/// The register's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
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
        .route("/orgs/{id}/collection-account", post(account_post))
        .route("/orgs/{id}/verify", post(verify_post))
        .route("/orgs/{id}/staff", get(staff_page).post(staff_add))
        .route("/users/{id}", post(staff_update))
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
                        .join(tr.t("；", "; ")),
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
                    .join(tr.t("；", "; ")),
            ),
        ),
    };
    // Those who oversee or register organisations see where each registration stands.
    let show_status = st.svc.may_on(&actor, Action::Supervise, &Resource::Zone)
        || st.svc.may_on(&actor, Action::CreateOrg, &Resource::Zone);
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
    park: String,
    institution_kind: String,
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
    /// An insurer's collection account (bank, account name, number, note), if given.
    is_insurer: bool,
    account: Option<(String, String, String, String)>,
    /// The account form (name, label, value, error), for whoever may edit the insurer.
    account_fields: Vec<(String, String, String, String)>,
}

const ACCOUNT_FIELDS: &[(&str, &str, &str)] = &[
    ("account_name", "户名", "Account name"),
    ("bank", "开户行", "Bank"),
    ("account_no", "账号", "Account number"),
    ("note", "付款说明（可选）", "Note to payers (optional)"),
];

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
    let is_insurer = o.kind == OrgKind::Insurer;
    let account =
        if is_insurer { st.svc.collection_account(actor, &o.id).await.ok().flatten() } else { None };
    let account_form = form.filter(|(f, _)| f.contains_key("account_no")).map(|(f, _)| f);
    let account_fields = if is_insurer && v.can_edit {
        ACCOUNT_FIELDS
            .iter()
            .map(|(name, zh, en)| {
                let stored = account.as_ref().map(|a| match *name {
                    "account_name" => a.account_name.clone(),
                    "bank" => a.bank.clone(),
                    "account_no" => a.account_no.clone(),
                    _ => a.note.clone(),
                });
                let value = match account_form {
                    Some(f) => f.get(*name).cloned().unwrap_or_default(),
                    None => stored.unwrap_or_default(),
                };
                let error = if account_form.is_some() {
                    errors.get(name).cloned().unwrap_or_default()
                } else {
                    String::new()
                };
                ((*name).to_owned(), tr.t(zh, en).to_owned(), value, error)
            })
            .collect()
    } else {
        Vec::new()
    };
    let form = form.filter(|(f, _)| !f.contains_key("account_no"));
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
            park: o
                .park
                .as_deref()
                .map(|id| {
                    st.svc.industries().park(id).map_or(id, |p| tr.t(&p.name_zh, &p.name_en)).to_owned()
                })
                .unwrap_or_default(),
            institution_kind: o
                .institution_kind
                .map(|k| tr.t(k.label_zh(), k.label_en()).to_owned())
                .unwrap_or_default(),
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
        is_insurer,
        account: account.map(|a| (a.bank, a.account_name, a.account_no, a.note)),
        account_fields,
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

pub(super) fn org_fields(
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
            .join(tr.t("；", "; "))
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
    if input.kind == "enterprise" || kind_choice {
        let parks = st
            .svc
            .industries()
            .parks()
            .iter()
            .map(|p| (p.id.clone(), tr.t(&p.name_zh, &p.name_en).to_owned()))
            .collect();
        fields.push(f("park", "所在园区（科技企业）", "Park (enterprises)", &input.park, false, parks, ""));
    }
    if input.kind != "enterprise" || kind_choice {
        let kinds = kebao_domain::org::InstitutionKind::ALL
            .iter()
            .map(|k| (k.code().to_owned(), tr.t(k.label_zh(), k.label_en()).to_owned()))
            .collect();
        fields.push(f(
            "institution_kind",
            "机构类别（示范区目标统计，非企业）",
            "Institution kind (counted by the zone's targets; not enterprises)",
            &input.institution_kind,
            false,
            kinds,
            "",
        ));
    }
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

pub(super) fn org_input(form: &HashMap<String, String>) -> OrganisationInput {
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
        park: g("park"),
        institution_kind: g("institution_kind"),
    }
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
    let kind = v.org.kind;
    let label = |r: Role| {
        let (zh, en) = r.label_in(kind);
        tr.t(zh, en).to_owned()
    };
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

async fn account_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let account = kebao_domain::policy::CollectionAccount {
        bank: g("bank"),
        account_name: g("account_name"),
        account_no: g("account_no"),
        note: g("note"),
    };
    match st.svc.set_collection_account(&s.actor, &id, &account).await {
        Ok(()) => Ok(Redirect::to(&format!("/orgs/{id}?saved=1#account")).into_response()),
        Err(ServiceError::Invalid(inv)) => {
            render_org(&st, tr, c, &s.actor, &id, Some((&form, &inv.0)), Vec::new()).await
        }
        Err(e) => Err(error_page(tr, c, e)),
    }
}
