//! UI of the product catalogue: the public portal (`/products`), product pages, the
//! life-cycle × industry matrix, the catalogue of product types, insurers' filings and the
//! zone's review, and the publicity section.

use super::kit::{
    check_csrf, chrome, chrome_blank, csrf_page, error_page, form_errors, html, with_status, Authed, Chrome,
    Page,
};
use super::Tr;
use crate::forms::attachments::{attachment_response, read_upload, read_upload_with};
use crate::forms::products::{parse_review, PortalParams};
use crate::session::same_secret;
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use kebao_domain::catalogue::{Confidence, NfraClass, ProductLine};
use kebao_domain::org::{LifecycleStage, QualificationKind};
use kebao_domain::product::{CoverageInput, PremiumBasis, ProductInput, CHECKLIST};
use kebao_domain::publicity::{render_markdown, ArticleKind};
use kebao_domain::rating::{PlanDoc, RateBasis, RatingVariable};
use kebao_domain::rating_fields::{known_levels, PlanFields, RowFields, TableFields, BAND_SETS, MAX_ROWS};
use kebao_domain::time_zone::{business_date, from_unix_us};
use kebao_domain::FieldError;
use kebao_service::authz::{Action, Actor, Resource};
use kebao_service::products::{ProductListItem, ProductView};
use kebao_service::tabular::{self, Table};
use kebao_service::ServiceError;
use std::collections::HashMap;

/// Routes of the catalogue UI.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/products", get(portal))
        .route("/products/matrix", get(matrix))
        .route("/products/roster.xlsx", get(roster_xlsx))
        .route("/products/{id}", get(product_page))
        .route("/product-types", get(types_page).post(catalogue_upload))
        .route("/product-types/{id}", get(type_page))
        .route("/filings", get(filings).post(filing_create))
        .route("/filings/new", get(filing_new))
        .route("/filings/{id}", get(product_page))
        .route("/filings/{id}/edit", get(filing_edit).post(filing_update))
        .route("/filings/{id}/documents", post(document_upload))
        .route("/filings/{id}/action", post(filing_action))
        .route("/filings/{id}/comment", post(filing_comment))
        .route("/filings/{id}/checklist", post(filing_checklist))
        .route("/filings/{id}/review", post(filing_review))
        .route("/documents/{id}", get(document_download))
        .route("/products/{id}/quote", get(quote_page))
        .route("/filings/{id}/rating-plans", post(rating_plan_post))
        .route("/filings/{id}/rating-form", post(rating_form_post))
        .route("/filings/{id}/rating-template.xlsx", get(rating_template_get))
        .route("/filings/{id}/rating-template", post(rating_template_post))
        .route("/publicity", get(articles_page).post(article_create))
        .route("/publicity/new", get(article_new))
        .route("/publicity/{id}", get(article_page))
        .route("/publicity/{id}/edit", get(article_edit).post(article_update))
}

fn date_of(us: i64) -> String {
    business_date(from_unix_us(us)).to_string()
}

fn stage_label(tr: Tr, s: LifecycleStage) -> String {
    tr.t(s.label_zh(), s.label_en()).to_owned()
}

pub(super) fn industry_label(st: &AppState, tr: Tr, id: &str) -> String {
    st.svc
        .industries()
        .tag(id)
        .map(|t| tr.t(&t.name_zh, &t.name_en).to_owned())
        .unwrap_or_else(|| id.to_owned())
}

fn status_label(tr: Tr, s: kebao_domain::product::FilingStatus) -> String {
    tr.t(s.label_zh(), s.label_en()).to_owned()
}

/// A product as a list shows it.
struct Card {
    id: String,
    name: String,
    insurer: String,
    type_name: String,
    line: String,
    stages: String,
    industries: String,
    registration_no: String,
    status: String,
    status_code: String,
    version: i64,
    summary: String,
}

fn card(st: &AppState, tr: Tr, it: &ProductListItem) -> Card {
    let c = &it.version.content;
    let mut summary: String = c.summary.chars().take(90).collect();
    if c.summary.chars().count() > 90 {
        summary.push('…');
    }
    Card {
        id: it.product.id.clone(),
        name: c.name.clone(),
        insurer: it.product.insurer_name.clone(),
        type_name: st
            .svc
            .catalogue()
            .get(&it.product.type_id)
            .map(|t| tr.t(&t.name_zh, t.name_en()).to_owned())
            .unwrap_or_else(|| it.type_name.clone()),
        line: tr.t(it.line.label_zh(), it.line.label_en()).to_owned(),
        stages: c.eligibility.stages.iter().map(|s| stage_label(tr, *s)).collect::<Vec<_>>().join(" · "),
        industries: if c.eligibility.industries.is_empty() {
            tr.t("不限行业", "Any industry").to_owned()
        } else {
            c.eligibility.industries.iter().map(|i| industry_label(st, tr, i)).collect::<Vec<_>>().join(" · ")
        },
        registration_no: it.version.registration_no.clone().unwrap_or_default(),
        status: status_label(tr, it.version.status),
        status_code: it.version.status.code().to_owned(),
        version: it.version.version,
        summary,
    }
}

type Options = Vec<(String, String, bool)>;
/// A matrix row: stage code, label, cells of (count, industry id).
type MatrixRow = (String, String, Vec<(usize, String)>);

fn opts(items: impl IntoIterator<Item = (String, String)>, selected: &str) -> Options {
    items
        .into_iter()
        .map(|(v, l)| {
            let s = v == selected;
            (v, l, s)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Portal

#[derive(Template)]
#[template(path = "products.html")]
struct PortalTpl {
    c: Chrome,
    q: String,
    industries: Options,
    stages: Options,
    lines: Options,
    insurers: Options,
    cards: Vec<Card>,
    total: usize,
    page: u32,
    pages: u32,
    query: String,
    error: Option<String>,
    /// What is wrong with the search query, shown at the search field.
    q_error: Option<String>,
}

fn query_string(p: &HashMap<String, String>) -> String {
    let mut keys: Vec<&String> = p.keys().filter(|k| k.as_str() != "page" && k.as_str() != "lang").collect();
    keys.sort();
    keys.iter()
        .filter_map(|k| {
            p.get(*k).filter(|v| !v.is_empty()).map(|v| format!("{k}={}", super::kit::urlencode(v)))
        })
        .collect::<Vec<_>>()
        .join("&")
}

async fn portal(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    addr: crate::session::ClientAddr,
    Query(p): Query<HashMap<String, String>>,
) -> Page {
    let (c, session) = chrome(&st, &headers, tr).await?;
    let g = |k: &str| p.get(k).cloned().filter(|v| !v.trim().is_empty());
    let params = PortalParams {
        industry: g("industry"),
        stage: g("stage"),
        line: g("line"),
        insurer: g("insurer"),
        type_id: g("type"),
        q: g("q"),
        page: g("page").and_then(|v| v.parse().ok()),
        per_page: Some(20),
    };
    let empty = || kebao_service::products::PortalPage { items: Vec::new(), total: 0, page: 1, pages: 1 };
    let limited =
        params.q.is_some() && session.is_none() && !crate::session::anonymous_search_allowed(&st, addr);
    let (page, error, q_error) = if limited {
        let e = crate::session::search_rate_error();
        (empty(), Some(tr.pick(e.body.message_zh, e.body.message)), None)
    } else {
        match params.to_query() {
            Ok(q) => (st.svc.portal(&q).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?, None, None),
            Err(e) => {
                let join = |q: bool| {
                    let msgs: Vec<String> =
                        e.0.iter()
                            .filter(|f| (f.field == "q") == q)
                            .map(|f| tr.pick(f.message_zh.clone(), f.message_en.clone()))
                            .collect();
                    (!msgs.is_empty()).then(|| msgs.join(tr.t("；", "; ")))
                };
                (empty(), join(false), join(true))
            }
        }
    };
    let insurers = st.svc.portal_insurers().await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let sel = |k: &str| p.get(k).cloned().unwrap_or_default();
    let tpl = PortalTpl {
        // Echoed back only as long as a query may be.
        q: sel("q").chars().take(kebao_domain::search::MAX_QUERY_CHARS).collect(),
        industries: opts(
            st.svc
                .industries()
                .tags()
                .iter()
                .map(|t| (t.id.clone(), tr.t(&t.name_zh, &t.name_en).to_owned())),
            &sel("industry"),
        ),
        stages: opts(
            LifecycleStage::ALL.iter().map(|s| (s.code().to_owned(), stage_label(tr, *s))),
            &sel("stage"),
        ),
        lines: opts(
            ProductLine::ALL
                .iter()
                .map(|l| (l.code().to_owned(), tr.t(l.label_zh(), l.label_en()).to_owned())),
            &sel("line"),
        ),
        insurers: opts(insurers, &sel("insurer")),
        cards: page.items.iter().map(|i| card(&st, tr, i)).collect(),
        total: page.total,
        page: page.page,
        pages: page.pages,
        query: query_string(&p),
        error,
        q_error,
        c,
    };
    Ok(if limited {
        with_status(StatusCode::TOO_MANY_REQUESTS, html(&tpl))
    } else if tpl.error.is_some() || tpl.q_error.is_some() {
        with_status(StatusCode::UNPROCESSABLE_ENTITY, html(&tpl))
    } else {
        html(&tpl)
    })
}

// ---------------------------------------------------------------------------------------
// Matrix and roster

#[derive(Template)]
#[template(path = "matrix.html")]
struct MatrixTpl {
    c: Chrome,
    industries: Vec<(String, String)>,
    /// (stage code, label, cells of (count, industry id)).
    rows: Vec<MatrixRow>,
    gaps: usize,
    thin: usize,
    cells: usize,
}

async fn matrix(State(st): State<AppState>, Extension(tr): Extension<Tr>, headers: HeaderMap) -> Page {
    let (c, _) = chrome(&st, &headers, tr).await?;
    let m = st.svc.product_matrix().await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let industries: Vec<(String, String)> =
        m.industries.iter().map(|(id, _)| (id.clone(), industry_label(&st, tr, id))).collect();
    let rows: Vec<MatrixRow> = m
        .stages
        .iter()
        .zip(m.counts.iter())
        .map(|(s, counts)| {
            let cells = counts.iter().zip(industries.iter()).map(|(n, (id, _))| (*n, id.clone())).collect();
            (s.code().to_owned(), stage_label(tr, *s), cells)
        })
        .collect();
    let cells = rows.iter().map(|r| r.2.len()).sum();
    let gaps = rows.iter().flat_map(|r| r.2.iter()).filter(|(n, _)| *n == 0).count();
    let thin = rows.iter().flat_map(|r| r.2.iter()).filter(|(n, _)| *n == 1).count();
    Ok(html(&MatrixTpl { c, industries, rows, gaps, thin, cells }))
}

async fn roster_xlsx(State(st): State<AppState>, Extension(tr): Extension<Tr>) -> Page {
    let rows = st.svc.registered_roster().await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let table = Table {
        headers: [
            "登记号",
            "产品名称",
            "保险机构",
            "产品类型",
            "统计类别",
            "版本",
            "状态",
            "批准日期",
            "适用阶段",
            "适用产业",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect(),
        rows: rows
            .into_iter()
            .map(|r| {
                vec![
                    r.registration_no,
                    r.product_name,
                    r.insurer,
                    r.type_name,
                    r.nfra_class,
                    r.version.to_string(),
                    r.status.label_zh().to_owned(),
                    r.approved_on,
                    r.stages,
                    r.industries,
                ]
            })
            .collect(),
    };
    let bytes = tabular::write_xlsx(&table, "registered products")
        .map_err(|e| error_page(tr, chrome_blank(tr), ServiceError::Internal(e)))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"kebao-registered-products.xlsx\"".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------
// Product page (public view and filing workspace)

struct CoverageRow {
    name: String,
    limit: String,
    deductible: String,
    note: String,
}

struct VersionRowT {
    version: i64,
    status: String,
    status_code: String,
    registration_no: String,
    submitted: String,
    decided: String,
    reason: String,
}

struct DocRow {
    id: String,
    name: String,
    size: String,
    sha256: String,
}

struct CommentRow {
    who: String,
    kind: String,
    body: String,
    at: String,
    version: i64,
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductTpl {
    c: Chrome,
    id: String,
    name: String,
    insurer: String,
    type_id: String,
    type_name: String,
    nfra: String,
    line: String,
    summary: String,
    coverages: Vec<CoverageRow>,
    stages: String,
    industries: String,
    qualifications: String,
    term: String,
    premium_basis: String,
    rate_text: String,
    refund: String,
    contact: String,
    registration_no: String,
    version: i64,
    status: String,
    status_code: String,
    workspace: bool,
    versions: Vec<VersionRowT>,
    documents: Vec<DocRow>,
    comments: Vec<CommentRow>,
    can_edit: bool,
    can_review: bool,
    can_publish: bool,
    can_withdraw: bool,
    can_new_version: bool,
    can_comment: bool,
    checklist: Vec<(String, String, bool)>,
    public_version: Option<i64>,
    errors: Vec<String>,
    /// (version, effective from) of the filed rating plans, for the insurer and the zone.
    plans: Vec<(i64, String)>,
    /// The rating plan's form, template and JSON filing, for those who may file a plan.
    plan_form: Option<PlanForm>,
}

fn product_tpl(st: &AppState, c: Chrome, v: &ProductView, actor: &Actor, errors: Vec<String>) -> ProductTpl {
    let tr = c.tr;
    let cat = st.svc.catalogue();
    let t = cat.get(&v.product.type_id);
    let content = &v.shown.content;
    // The product as its unpublished versions are: who may read or work on the filing.
    let draft = Resource::Product {
        id: v.product.id.clone(),
        insurer_id: v.product.insurer_id.clone(),
        published: false,
    };
    let workspace = !v.comments.is_empty()
        || v.versions.len() > 1
        || v.shown.status != kebao_domain::product::FilingStatus::Published
        || st.svc.may_on(actor, Action::ReadProduct, &draft);
    let can_comment = v.can_edit || v.can_review || st.svc.may_on(actor, Action::EditProduct, &draft);
    ProductTpl {
        id: v.product.id.clone(),
        name: content.name.clone(),
        insurer: v.product.insurer_name.clone(),
        type_id: v.product.type_id.clone(),
        type_name: t
            .map(|t| tr.t(&t.name_zh, t.name_en()).to_owned())
            .unwrap_or_else(|| v.product.type_id.clone()),
        nfra: t.map(|t| tr.t(t.nfra().label_zh(), t.nfra().label_en()).to_owned()).unwrap_or_default(),
        line: t
            .map(|t| tr.t(t.product_line().label_zh(), t.product_line().label_en()).to_owned())
            .unwrap_or_default(),
        summary: content.summary.clone(),
        coverages: content
            .coverages
            .iter()
            .map(|x| CoverageRow {
                name: x.name.clone(),
                limit: x.limit.display_yuan(),
                deductible: x.deductible.display_yuan(),
                note: x.note.clone(),
            })
            .collect(),
        stages: content
            .eligibility
            .stages
            .iter()
            .map(|s| stage_label(tr, *s))
            .collect::<Vec<_>>()
            .join(tr.t("、", ", ")),
        industries: if content.eligibility.industries.is_empty() {
            tr.t("不限", "Any").to_owned()
        } else {
            content
                .eligibility
                .industries
                .iter()
                .map(|i| industry_label(st, tr, i))
                .collect::<Vec<_>>()
                .join(tr.t("、", ", "))
        },
        qualifications: if content.eligibility.qualifications.is_empty() {
            tr.t("无要求", "None required").to_owned()
        } else {
            content
                .eligibility
                .qualifications
                .iter()
                .map(|q| tr.t(q.label_zh(), q.label_en()).to_owned())
                .collect::<Vec<_>>()
                .join(tr.t(" 或 ", " or "))
        },
        term: format!("{} {}", content.term_months, tr.t("个月", "months")),
        premium_basis: tr.t(content.premium_basis.label_zh(), content.premium_basis.label_en()).to_owned(),
        rate_text: content.rate_text.clone(),
        refund: match &content.refund {
            kebao_domain::cover::RefundMethod::ProRata => tr.t("按日比例", "pro rata").to_owned(),
            m => format!(
                "{}：{}",
                tr.t("短期费率表（月数:已赚%）", "short-rate table (months:% earned)"),
                m.table_text()
            ),
        },
        contact: [
            content.contact.name.as_str(),
            content.contact.phone.as_str(),
            content.contact.email.as_str(),
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · "),
        registration_no: v.shown.registration_no.clone().unwrap_or_default(),
        version: v.shown.version,
        status: status_label(tr, v.shown.status),
        status_code: v.shown.status.code().to_owned(),
        workspace,
        versions: v
            .versions
            .iter()
            .map(|x| VersionRowT {
                version: x.version,
                status: status_label(tr, x.status),
                status_code: x.status.code().to_owned(),
                registration_no: x.registration_no.clone().unwrap_or_default(),
                submitted: x.submitted_at_us.map(date_of).unwrap_or_default(),
                decided: x.decided_at_us.map(date_of).unwrap_or_default(),
                reason: x.decision_reason.clone().unwrap_or_default(),
            })
            .collect(),
        documents: v
            .documents
            .iter()
            .map(|d| DocRow {
                id: d.id.clone(),
                name: d.file_name.clone(),
                size: format!("{:.1} KiB", d.size as f64 / 1024.0),
                sha256: d.sha256.clone(),
            })
            .collect(),
        comments: v
            .comments
            .iter()
            .map(|x| CommentRow {
                who: x.author_name.clone(),
                kind: match x.kind.as_str() {
                    "request_changes" => tr.t("退回修改", "Changes requested"),
                    "approve" => tr.t("批准注册", "Approved"),
                    "reject" => tr.t("不予注册", "Rejected"),
                    "reply" => tr.t("保险机构回复", "Insurer's reply"),
                    _ => tr.t("审核意见", "Comment"),
                }
                .to_owned(),
                body: x.body.clone(),
                at: from_unix_us(x.created_at_us)
                    .to_offset(kebao_domain::time_zone::SHANGHAI)
                    .format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]"))
                    .unwrap_or_default(),
                version: x.version,
            })
            .collect(),
        can_edit: v.can_edit,
        can_review: v.can_review,
        can_publish: v.can_publish,
        can_withdraw: v.can_withdraw,
        can_new_version: v.can_new_version,
        can_comment,
        checklist: CHECKLIST
            .iter()
            .map(|(code, zh, en)| {
                ((*code).to_owned(), tr.t(zh, en).to_owned(), v.shown.checklist.iter().any(|x| x == code))
            })
            .collect(),
        public_version: v.product.public_version,
        errors,
        plans: Vec::new(),
        plan_form: None,
        c,
    }
}

async fn product_page(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Page {
    let (c, s) = chrome(&st, &headers, tr).await?;
    let actor = s.map(|s| s.actor).unwrap_or(Actor::Anonymous);
    let v = match st.svc.product(&actor, &id).await {
        Ok(v) => v,
        Err(e) => {
            let (c2, _) = chrome(&st, &headers, tr).await?;
            let _ = c;
            return Err(error_page(tr, c2, e));
        }
    };
    let tpl = product_tpl(&st, c, &v, &actor, Vec::new());
    Ok(html(&with_plans(&st, tpl, &actor, &id, PlanFormState::Fresh).await))
}

/// The product page's rating plans: the list, and the forms for those who may file.
async fn with_plans(
    st: &AppState,
    mut tpl: ProductTpl,
    actor: &Actor,
    id: &str,
    state: PlanFormState,
) -> ProductTpl {
    if !tpl.workspace {
        return tpl;
    }
    let plans = st.svc.rating_plans(actor, id).await.unwrap_or_default();
    tpl.plans = plans.iter().map(|p| (p.version, p.effective_from.to_string())).collect();
    if tpl.can_withdraw || tpl.can_edit || tpl.can_publish || tpl.can_new_version {
        let newest = plans.iter().max_by_key(|p| p.version).map(|p| &p.doc);
        tpl.plan_form = Some(plan_form(st, tpl.c.tr, newest, state));
    }
    tpl
}

/// The product page again, with the errors of a refused action (status 422 or 409).
async fn product_with_errors(st: &AppState, c: Chrome, actor: &Actor, id: &str, e: ServiceError) -> Response {
    let tr = c.tr;
    let status = if matches!(e, ServiceError::Conflict(_)) {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    match form_errors(e) {
        Ok(errs) => match st.svc.product(actor, id).await {
            Ok(v) => {
                let msgs = errs.iter().map(|f| tr.pick(f.message_zh.clone(), f.message_en.clone())).collect();
                let tpl = product_tpl(st, c, &v, actor, msgs);
                with_status(status, html(&with_plans(st, tpl, actor, id, PlanFormState::Fresh).await))
            }
            Err(e) => error_page(tr, c, e),
        },
        Err(other) => error_page(tr, c, other),
    }
}

/// The product page again with the rating plan's form as it was sent (typed values, the
/// errors at their fields, more rows), with `status`.
async fn product_with_plan_form(
    st: &AppState,
    c: Chrome,
    actor: &Actor,
    id: &str,
    state: PlanFormState,
    status: StatusCode,
) -> Response {
    let tr = c.tr;
    match st.svc.product(actor, id).await {
        Ok(v) => {
            let tpl = product_tpl(st, c, &v, actor, Vec::new());
            with_status(status, html(&with_plans(st, tpl, actor, id, state).await))
        }
        Err(e) => error_page(tr, c, e),
    }
}

fn pairs_to_map(form: &[(String, String)]) -> HashMap<String, String> {
    form.iter().filter(|(k, _)| k != "items").cloned().collect()
}

async fn filing_action(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let r = match form.get("do").map(String::as_str) {
        Some("submit") => st.svc.submit_product(&s.actor, &id).await,
        Some("publish") => st.svc.publish_product(&s.actor, &id).await,
        Some("withdraw") => st.svc.withdraw_product(&s.actor, &id).await,
        Some("new_version") => st.svc.new_product_version(&s.actor, &id).await.map(|_| ()),
        _ => Err(ServiceError::from(FieldError::new("do", "unknown_action", "未知操作", "unknown action"))),
    };
    let _ = tr;
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/filings/{id}")).into_response()),
        Err(e) => Err(product_with_errors(&st, c, &s.actor, &id, e).await),
    }
}

async fn filing_comment(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let body = form.get("body").cloned().unwrap_or_default();
    match st.svc.comment_product(&s.actor, &id, &body).await {
        Ok(()) => Ok(Redirect::to(&format!("/filings/{id}#comments")).into_response()),
        Err(e) => Err(product_with_errors(&st, c, &s.actor, &id, e).await),
    }
}

async fn filing_checklist(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Page {
    check_csrf(&pairs_to_map(&form), &s)?;
    let items: Vec<String> = form.iter().filter(|(k, _)| k == "items").map(|(_, v)| v.clone()).collect();
    match st.svc.set_product_checklist(&s.actor, &id, &items).await {
        Ok(()) => Ok(Redirect::to(&format!("/filings/{id}#review")).into_response()),
        Err(e) => Err(product_with_errors(&st, c, &s.actor, &id, e).await),
    }
}

async fn filing_review(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let decision = form.get("decision").cloned().unwrap_or_default();
    let reason = form.get("reason").cloned().unwrap_or_default();
    let review = match parse_review(&decision, &reason) {
        Ok(r) => r,
        Err(_) => {
            let e = FieldError::new("decision", "unknown_decision", "请选择审核结论", "choose a decision");
            return Err(product_with_errors(&st, c, &s.actor, &id, e.into()).await);
        }
    };
    let _ = tr;
    match st.svc.review_product(&s.actor, &id, &review).await {
        Ok(_) => Ok(Redirect::to(&format!("/filings/{id}")).into_response()),
        Err(e) => Err(product_with_errors(&st, c, &s.actor, &id, e).await),
    }
}

async fn document_upload(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Page {
    let (name, bytes, csrf) = match read_upload(multipart).await {
        Ok(x) => x,
        Err(api) => {
            let f =
                api.body.details.first().map(|d| {
                    FieldError::new("document", "upload", d.message_zh.clone(), d.message_en.clone())
                });
            let f = f.unwrap_or_else(|| {
                FieldError::new("document", "upload", api.body.message_zh.clone(), api.body.message.clone())
            });
            return Err(product_with_errors(&st, c, &s.actor, &id, f.into()).await);
        }
    };
    if !same_secret(&csrf, &s.csrf_token) {
        return Err(csrf_page());
    }
    let _ = tr;
    match st.svc.add_product_document(&s.actor, &id, &name, &bytes).await {
        Ok(_) => Ok(Redirect::to(&format!("/filings/{id}#documents")).into_response()),
        Err(e) => Err(product_with_errors(&st, c, &s.actor, &id, e).await),
    }
}

async fn document_download(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Page {
    let (c, s) = chrome(&st, &headers, tr).await?;
    let actor = s.map(|s| s.actor).unwrap_or(Actor::Anonymous);
    let (doc, body) = st.svc.product_document(&actor, &id).await.map_err(|e| error_page(tr, c, e))?;
    Ok(attachment_response(&doc, body))
}

// ---------------------------------------------------------------------------------------
// Filings: lists and the filing form

#[derive(Template)]
#[template(path = "filings.html")]
struct FilingsTpl {
    c: Chrome,
    heading: String,
    cards: Vec<Card>,
    can_file: bool,
    queue: bool,
}

async fn filings(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    let ab = st.svc.abilities(&s.actor).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let zone = ab.on_zone(Action::ReviewProductQueue);
    let items = if zone { st.svc.review_queue(&s.actor).await } else { st.svc.my_products(&s.actor).await };
    let items = items.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let can_file = ab.on_own_org(Action::FileProduct);
    let heading = if zone {
        tr.t("产品注册审核", "Product registration review")
    } else {
        tr.t("我的产品备案", "My product filings")
    };
    Ok(html(&FilingsTpl {
        heading: heading.to_owned(),
        cards: items.iter().map(|i| card(&st, tr, i)).collect(),
        can_file,
        queue: zone,
        c,
    }))
}

struct CovField {
    name: String,
    limit: String,
    deductible: String,
    note: String,
}

#[derive(Template)]
#[template(path = "product_form.html")]
struct ProductFormTpl {
    c: Chrome,
    heading: String,
    action: String,
    new: bool,
    types: Vec<(String, Options)>,
    type_name: String,
    v: ProductInput,
    coverages: Vec<CovField>,
    industries: Vec<(String, String, bool)>,
    stages: Vec<(String, String, bool)>,
    quals: Vec<(String, String, bool)>,
    bases: Options,
    errors: Vec<(String, String)>,
    cancel: String,
}

impl ProductFormTpl {
    fn err(&self, field: &str) -> String {
        self.errors
            .iter()
            .filter(|(f, _)| f == field || f.starts_with(&format!("{field}[")))
            .map(|(_, m)| m.clone())
            .collect::<Vec<_>>()
            .join(self.c.tr.t("；", "; "))
    }
}

fn product_form(
    st: &AppState,
    c: Chrome,
    input: &ProductInput,
    new: bool,
    action: String,
    errs: &[FieldError],
) -> Response {
    let tr = c.tr;
    let cat = st.svc.catalogue();
    let mut groups: Vec<(String, Options)> = Vec::new();
    for class in NfraClass::ALL {
        let items: Vec<(String, String, bool)> = cat
            .types()
            .iter()
            .filter(|t| t.nfra() == *class)
            .map(|t| (t.id.clone(), tr.t(&t.name_zh, t.name_en()).to_owned(), t.id == input.type_id))
            .collect();
        if !items.is_empty() {
            groups.push((tr.t(class.label_zh(), class.label_en()).to_owned(), items));
        }
    }
    let mut coverages: Vec<CovField> = input
        .coverages
        .iter()
        .map(|x| CovField {
            name: x.name.clone(),
            limit: x.limit_yuan.clone(),
            deductible: x.deductible_yuan.clone(),
            note: x.note.clone(),
        })
        .collect();
    while coverages.len() < 5 {
        coverages.push(CovField {
            name: String::new(),
            limit: String::new(),
            deductible: String::new(),
            note: String::new(),
        });
    }
    let checked = |list: &[String], code: &str| list.iter().any(|x| x == code);
    let status = if errs.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let tpl = ProductFormTpl {
        heading: if new {
            tr.t("备案新产品", "File a new product")
        } else {
            tr.t("修改产品备案", "Edit the filing")
        }
        .to_owned(),
        action,
        new,
        type_name: cat
            .get(&input.type_id)
            .map(|t| tr.t(&t.name_zh, t.name_en()).to_owned())
            .unwrap_or_default(),
        types: groups,
        coverages,
        industries: st
            .svc
            .industries()
            .tags()
            .iter()
            .map(|t| {
                (t.id.clone(), tr.t(&t.name_zh, &t.name_en).to_owned(), checked(&input.industries, &t.id))
            })
            .collect(),
        stages: LifecycleStage::ALL
            .iter()
            .map(|s| (s.code().to_owned(), stage_label(tr, *s), checked(&input.stages, s.code())))
            .collect(),
        quals: QualificationKind::ALL
            .iter()
            .map(|q| {
                (
                    q.code().to_owned(),
                    tr.t(q.label_zh(), q.label_en()).to_owned(),
                    checked(&input.qualifications, q.code()),
                )
            })
            .collect(),
        bases: opts(
            PremiumBasis::ALL
                .iter()
                .map(|b| (b.code().to_owned(), tr.t(b.label_zh(), b.label_en()).to_owned())),
            &input.premium_basis,
        ),
        errors: errs
            .iter()
            .map(|e| (e.field.clone(), tr.pick(e.message_zh.clone(), e.message_en.clone())))
            .collect(),
        cancel: "/filings".into(),
        v: input.clone(),
        c,
    };
    with_status(status, html(&tpl))
}

fn input_from_form(form: &[(String, String)]) -> ProductInput {
    let one = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let many = |k: &str| form.iter().filter(|(n, _)| n == k).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let coverages = (0..crate::ui::products::COVERAGE_ROWS)
        .map(|i| CoverageInput {
            name: one(&format!("cov{i}_name")),
            limit_yuan: one(&format!("cov{i}_limit")),
            deductible_yuan: one(&format!("cov{i}_deductible")),
            note: one(&format!("cov{i}_note")),
        })
        .collect();
    ProductInput {
        type_id: one("type_id"),
        name: one("name"),
        summary: one("summary"),
        coverages,
        industries: many("industries"),
        stages: many("stages"),
        qualifications: many("qualifications"),
        term_months: one("term_months"),
        premium_basis: one("premium_basis"),
        rate_text: one("rate_text"),
        contact_name: one("contact_name"),
        contact_phone: one("contact_phone"),
        contact_email: one("contact_email"),
        refund_method: one("refund_method"),
        short_rate_table: one("short_rate_table"),
    }
}

/// Coverage rows on the filing form.
pub(crate) const COVERAGE_ROWS: usize = 5;

async fn filing_new(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let ab = st.svc.abilities(&s.actor).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    if !ab.on_own_org(Action::FileProduct) {
        return Err(super::kit::forbidden_page(tr, c));
    }
    let input = ProductInput {
        type_id: q.get("type").cloned().unwrap_or_default(),
        term_months: "12".into(),
        ..ProductInput::default()
    };
    Ok(product_form(&st, c, &input, true, "/filings".into(), &[]))
}

async fn filing_create(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Form(form): Form<Vec<(String, String)>>,
) -> Page {
    check_csrf(&pairs_to_map(&form), &s)?;
    let input = input_from_form(&form);
    let insurer = s.actor.org_id().unwrap_or_default().to_owned();
    match st.svc.file_product(&s.actor, &insurer, &input).await {
        Ok(id) => Ok(Redirect::to(&format!("/filings/{id}")).into_response()),
        Err(e) => match form_errors(e) {
            Ok(errs) => Err(product_form(&st, c, &input, true, "/filings".into(), &errs)),
            Err(other) => Err(error_page(c.tr, c, other)),
        },
    }
}

async fn filing_edit(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
) -> Page {
    let v = match st.svc.product(&s.actor, &id).await {
        Ok(v) => v,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    if !v.can_edit {
        return Err(super::kit::forbidden_page(tr, c));
    }
    let input = ProductInput::from_content(&v.shown.content);
    Ok(product_form(&st, c, &input, false, format!("/filings/{id}/edit"), &[]))
}

async fn filing_update(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Page {
    check_csrf(&pairs_to_map(&form), &s)?;
    let input = input_from_form(&form);
    match st.svc.update_product(&s.actor, &id, &input).await {
        Ok(()) => Ok(Redirect::to(&format!("/filings/{id}")).into_response()),
        Err(e) => match form_errors(e) {
            Ok(errs) => Err(product_form(&st, c, &input, false, format!("/filings/{id}/edit"), &errs)),
            Err(other) => Err(error_page(c.tr, c, other)),
        },
    }
}

// ---------------------------------------------------------------------------------------
// Product types

struct TypeRow {
    id: String,
    name: String,
    line: String,
    stages: String,
    plan_named: bool,
    rate_confidence: String,
    rate_fact: bool,
}

#[derive(Template)]
#[template(path = "product_types.html")]
struct TypesTpl {
    c: Chrome,
    groups: Vec<(String, u8, Vec<TypeRow>)>,
    admin: bool,
    hash: String,
    errors: Vec<String>,
}

async fn types_page(State(st): State<AppState>, Extension(tr): Extension<Tr>, headers: HeaderMap) -> Page {
    let (c, s) = chrome(&st, &headers, tr).await?;
    let admin = s.is_some_and(|s| st.svc.may_on(&s.actor, Action::LoadCatalogue, &Resource::Zone));
    Ok(types_tpl(&st, c, admin, Vec::new()))
}

/// A platform admin loads a new catalogue file from the page.
async fn catalogue_upload(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    multipart: Multipart,
) -> Page {
    let admin = st.svc.may_on(&s.actor, Action::LoadCatalogue, &Resource::Zone);
    let (name, bytes, csrf) = match read_upload(multipart).await {
        Ok(x) => x,
        Err(api) => {
            let msg = tr.pick(api.body.message_zh.clone(), api.body.message.clone());
            return Err(with_status(StatusCode::UNPROCESSABLE_ENTITY, types_tpl(&st, c, admin, vec![msg])));
        }
    };
    if !same_secret(&csrf, &s.csrf_token) {
        return Err(csrf_page());
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => {
            let msg = tr.t("文件不是 UTF-8 编码的 TOML", "the file is not UTF-8 TOML").to_owned();
            return Err(with_status(StatusCode::UNPROCESSABLE_ENTITY, types_tpl(&st, c, admin, vec![msg])));
        }
    };
    match st.svc.load_catalogue(&s.actor, &text, &name).await {
        Ok(_) => Ok(Redirect::to("/product-types").into_response()),
        Err(ServiceError::Forbidden { .. }) => Err(super::kit::forbidden_page(tr, c)),
        Err(e) => {
            let status = if matches!(e, ServiceError::Conflict(_)) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            match form_errors(e) {
                Ok(errs) => {
                    let msgs =
                        errs.iter().map(|f| tr.pick(f.message_zh.clone(), f.message_en.clone())).collect();
                    Err(with_status(status, types_tpl(&st, c, admin, msgs)))
                }
                Err(other) => Err(error_page(tr, c, other)),
            }
        }
    }
}

fn types_tpl(st: &AppState, c: Chrome, admin: bool, errors: Vec<String>) -> Response {
    let tr = c.tr;
    let cat = st.svc.catalogue();
    let groups = NfraClass::ALL
        .iter()
        .map(|class| {
            let rows = cat
                .types()
                .iter()
                .filter(|t| t.nfra() == *class)
                .map(|t| TypeRow {
                    id: t.id.clone(),
                    name: tr.t(&t.name_zh, t.name_en()).to_owned(),
                    line: tr.t(t.product_line().label_zh(), t.product_line().label_en()).to_owned(),
                    stages: t
                        .stages()
                        .iter()
                        .map(|s| stage_label(tr, *s))
                        .collect::<Vec<_>>()
                        .join(tr.t("、", ", ")),
                    plan_named: t.plan_named,
                    rate_confidence: tr
                        .t(t.rate_confidence().label_zh(), t.rate_confidence().label_en())
                        .to_owned(),
                    rate_fact: t.rate_confidence().is_fact(),
                })
                .collect();
            (tr.t(class.label_zh(), class.label_en()).to_owned(), class.part(), rows)
        })
        .collect();
    html(&TypesTpl { c, groups, admin, hash: cat.hash().to_owned(), errors })
}

struct FigureRow {
    label: String,
    value: String,
    confidence: String,
    fact: bool,
}

#[derive(Template)]
#[template(path = "product_type.html")]
struct TypeTpl {
    c: Chrome,
    t: kebao_domain::catalogue::ProductType,
    nfra: String,
    part: u8,
    line: String,
    stages: String,
    figures: Vec<FigureRow>,
    rate_confidence: String,
    rate_fact: bool,
    subsidies: Vec<(String, String, String, bool)>,
    extra: Vec<(String, String)>,
    limits_note: String,
    products: Vec<Card>,
    can_file: bool,
}

fn toml_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(a) => a.iter().map(toml_text).collect::<Vec<_>>().join("；"),
        toml::Value::Table(t) => {
            t.iter().map(|(k, v)| format!("{k}: {}", toml_text(v))).collect::<Vec<_>>().join("，")
        }
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
    }
}

async fn type_page(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Page {
    let (c, s) = chrome(&st, &headers, tr).await?;
    let cat = st.svc.catalogue();
    let Some(t) = cat.get(&id).cloned() else { return Err(error_page(tr, c, ServiceError::NotFound)) };
    let q = kebao_service::products::PortalQuery {
        type_id: Some(id.clone()),
        per_page: 100,
        ..Default::default()
    };
    let page = st.svc.portal(&q).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let conf = |c: Confidence| tr.t(c.label_zh(), c.label_en()).to_owned();
    let can_file = match &s {
        Some(s) => st
            .svc
            .abilities(&s.actor)
            .await
            .map_err(|e| error_page(tr, chrome_blank(tr), e))?
            .on_own_org(Action::FileProduct),
        None => false,
    };
    Ok(html(&TypeTpl {
        nfra: tr.t(t.nfra().label_zh(), t.nfra().label_en()).to_owned(),
        part: t.nfra().part(),
        line: tr.t(t.product_line().label_zh(), t.product_line().label_en()).to_owned(),
        stages: t.stages().iter().map(|s| stage_label(tr, *s)).collect::<Vec<_>>().join(tr.t("、", ", ")),
        figures: t
            .figures()
            .into_iter()
            .map(|f| FigureRow {
                label: f.label,
                value: f.value,
                confidence: conf(f.confidence),
                fact: f.confidence.is_fact(),
            })
            .collect(),
        rate_confidence: conf(t.rate_confidence()),
        rate_fact: t.rate_confidence().is_fact(),
        subsidies: t
            .subsidy_rules
            .iter()
            .filter_map(|r| cat.subsidy_rule(r))
            .map(|r| (r.id.clone(), r.name_zh.clone(), conf(r.confidence()), r.confidence().is_fact()))
            .collect(),
        extra: t.extra.iter().map(|(k, v)| (k.clone(), toml_text(v))).collect(),
        limits_note: t.limits_note().unwrap_or_default().to_owned(),
        products: page.items.iter().map(|i| card(&st, tr, i)).collect(),
        can_file,
        t,
        c,
    }))
}

// ---------------------------------------------------------------------------------------
// Publicity

struct ArticleRow {
    id: String,
    kind: String,
    title: String,
    date: String,
    draft: bool,
}

#[derive(Template)]
#[template(path = "articles.html")]
struct ArticlesTpl {
    c: Chrome,
    rows: Vec<ArticleRow>,
    kinds: Options,
    writer: bool,
}

async fn articles_page(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let (c, s) = chrome(&st, &headers, tr).await?;
    let actor = s.map(|s| s.actor).unwrap_or(Actor::Anonymous);
    let sel = q.get("kind").cloned().unwrap_or_default();
    let kind = ArticleKind::from_code(&sel);
    let list = st.svc.articles(&actor, kind).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    Ok(html(&ArticlesTpl {
        rows: list
            .iter()
            .map(|a| ArticleRow {
                id: a.id.clone(),
                kind: tr.t(a.kind.label_zh(), a.kind.label_en()).to_owned(),
                title: a.title.clone(),
                date: date_of(a.published_at_us.unwrap_or(a.updated_at_us)),
                draft: a.status != "published",
            })
            .collect(),
        kinds: opts(
            ArticleKind::ALL
                .iter()
                .map(|k| (k.code().to_owned(), tr.t(k.label_zh(), k.label_en()).to_owned())),
            &sel,
        ),
        writer: st.svc.may_write_publicity(&actor),
        c,
    }))
}

#[derive(Template)]
#[template(path = "article.html")]
struct ArticleTpl {
    c: Chrome,
    id: String,
    kind: String,
    title: String,
    date: String,
    author: String,
    body_html: String,
    draft: bool,
    writer: bool,
}

async fn article_page(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Page {
    let (c, s) = chrome(&st, &headers, tr).await?;
    let actor = s.map(|s| s.actor).unwrap_or(Actor::Anonymous);
    let a = match st.svc.article(&actor, &id).await {
        Ok(a) => a,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    Ok(html(&ArticleTpl {
        id: a.id.clone(),
        kind: tr.t(a.kind.label_zh(), a.kind.label_en()).to_owned(),
        title: a.title.clone(),
        date: date_of(a.published_at_us.unwrap_or(a.updated_at_us)),
        author: a.author_name.clone(),
        body_html: render_markdown(&a.body_md),
        draft: a.status != "published",
        writer: st.svc.may_write_publicity(&actor),
        c,
    }))
}

#[derive(Template)]
#[template(path = "article_form.html")]
struct ArticleFormTpl {
    c: Chrome,
    heading: String,
    action: String,
    kinds: Options,
    title: String,
    body: String,
    publish: bool,
    errors: Vec<String>,
}

fn article_form(c: Chrome, action: String, form: &HashMap<String, String>, errs: &[FieldError]) -> Response {
    let tr = c.tr;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let status = if errs.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    with_status(
        status,
        html(&ArticleFormTpl {
            heading: tr.t("撰写公示内容", "Write for the publicity section").to_owned(),
            action,
            kinds: opts(
                ArticleKind::ALL
                    .iter()
                    .map(|k| (k.code().to_owned(), tr.t(k.label_zh(), k.label_en()).to_owned())),
                &g("kind"),
            ),
            title: g("title"),
            body: g("body_md"),
            publish: form.get("publish").is_some_and(|v| v == "1" || v == "on"),
            errors: errs.iter().map(|e| tr.pick(e.message_zh.clone(), e.message_en.clone())).collect(),
            c,
        }),
    )
}

async fn article_new(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    if !st.svc.may_write_publicity(&s.actor) {
        return Err(super::kit::forbidden_page(tr, c));
    }
    let form = HashMap::from([("kind".to_owned(), "notice".to_owned())]);
    Ok(article_form(c, "/publicity".into(), &form, &[]))
}

async fn article_create(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let publish = form.get("publish").is_some_and(|v| v == "1" || v == "on");
    match st.svc.create_article(&s.actor, &g("kind"), &g("title"), &g("body_md"), publish).await {
        Ok(a) => Ok(Redirect::to(&format!("/publicity/{}", a.id)).into_response()),
        Err(e) => match form_errors(e) {
            Ok(errs) => Err(article_form(c, "/publicity".into(), &form, &errs)),
            Err(other) => Err(error_page(c.tr, c, other)),
        },
    }
}

async fn article_edit(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
) -> Page {
    if !st.svc.may_write_publicity(&s.actor) {
        return Err(super::kit::forbidden_page(tr, c));
    }
    let a = match st.svc.article(&s.actor, &id).await {
        Ok(a) => a,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let form = HashMap::from([
        ("kind".to_owned(), a.kind.code().to_owned()),
        ("title".to_owned(), a.title),
        ("body_md".to_owned(), a.body_md),
        ("publish".to_owned(), if a.status == "published" { "1".to_owned() } else { String::new() }),
    ]);
    Ok(article_form(c, format!("/publicity/{id}/edit"), &form, &[]))
}

async fn article_update(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let publish = form.get("publish").is_some_and(|v| v == "1" || v == "on");
    match st.svc.update_article(&s.actor, &id, &g("kind"), &g("title"), &g("body_md"), publish).await {
        Ok(_) => Ok(Redirect::to(&format!("/publicity/{id}")).into_response()),
        Err(e) => match form_errors(e) {
            Ok(errs) => Err(article_form(c, format!("/publicity/{id}/edit"), &form, &errs)),
            Err(other) => Err(error_page(c.tr, c, other)),
        },
    }
}

// ---------------------------------------------------------------------------------------
// Quotes and rating plans

#[derive(Template)]
#[template(path = "quote.html")]
struct QuoteTpl {
    c: Chrome,
    id: String,
    name: String,
    insurer: String,
    f: HashMap<String, String>,
    industries: Options,
    stages: Options,
    result: Option<kebao_service::rating::QuoteView>,
    errors: Vec<String>,
    can_apply: bool,
    industries_map: kebao_domain::IndustryMap,
    /// Why the viewer's enterprise may not apply (empty: it may), from the service's check.
    ineligible: Vec<String>,
}

impl QuoteTpl {
    /// The apply step's subject fields: name, label, hint.
    fn subject_fields(&self) -> Vec<(&'static str, &'static str, &'static str)> {
        let tr = self.c.tr;
        super::registered::SUBJECT_FIELDS.iter().map(|(n, zh, en, hint)| (*n, tr.t(zh, en), *hint)).collect()
    }

    fn object_kinds(&self) -> Vec<(String, String)> {
        super::registered::object_kinds(self.c.tr)
    }

    fn fv(&self, k: &str) -> String {
        self.f.get(k).cloned().unwrap_or_default()
    }

    fn detail(&self, d: &str) -> String {
        super::kit::step_detail(self.c.tr, &self.industries_map, d)
    }

    /// A running amount with thousands separators.
    fn amount(&self, running: &str) -> String {
        super::kit::group_digits(running).unwrap_or_else(|| running.to_owned())
    }
}

async fn quote_page(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(f): Query<HashMap<String, String>>,
) -> Page {
    let (c, s) = chrome(&st, &headers, tr).await?;
    let actor = s.map(|s| s.actor).unwrap_or(Actor::Anonymous);
    let v = match st.svc.product(&actor, &id).await {
        Ok(v) if v.public.is_some() => v,
        Ok(_) => return Err(error_page(tr, c, ServiceError::NotFound)),
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let can_apply = st.svc.may_on(&actor, Action::ApplyForPolicy, &Resource::Zone);
    let mut f = f;
    // An enterprise's first quote starts from what the registry holds about it.
    if can_apply && !f.contains_key("limit_yuan") {
        if let Some(org_id) = actor.org_id().map(str::to_owned) {
            if let Ok(view) = st.svc.get_org(&actor, &org_id).await {
                if let Some(tag) = view.org.zone_industries.first() {
                    f.insert("industry".into(), tag.clone());
                }
                if let Some(stage) = view.org.lifecycle_stage {
                    f.insert("stage".into(), stage.code().to_owned());
                }
                if let Some(latest) = view.facts.as_ref().and_then(|fs| fs.first()) {
                    f.insert("revenue_yuan".into(), latest.revenue.to_yuan_string());
                }
            }
        }
    }
    let ineligible = match (&v.public, can_apply) {
        (Some(p), true) => match st.svc.eligibility_for(&actor, &p.content.eligibility).await {
            Ok(()) => Vec::new(),
            Err(e) => match form_errors(e) {
                Ok(errs) => {
                    errs.iter().map(|e| tr.pick(e.message_zh.clone(), e.message_en.clone())).collect()
                }
                Err(other) => vec![tr.pick(other.to_string(), other.to_string())],
            },
        },
        _ => Vec::new(),
    };
    let g = |k: &str| f.get(k).cloned().unwrap_or_default();
    let mut errors = Vec::new();
    let mut result = None;
    if f.contains_key("limit_yuan") {
        let req = crate::forms::products::QuoteRequestDto {
            limit_yuan: g("limit_yuan"),
            deductible_yuan: g("deductible_yuan"),
            sum_insured_yuan: g("sum_insured_yuan"),
            revenue_yuan: g("revenue_yuan"),
            industry: f.get("industry").cloned(),
            stage: f.get("stage").cloned(),
            claims_3y: g("claims_3y").trim().parse().unwrap_or(0),
            on: f.get("on").cloned(),
        };
        match crate::forms::products::quote_input(&req) {
            Err(api) => errors
                .extend(api.body.details.iter().map(|d| tr.pick(d.message_zh.clone(), d.message_en.clone()))),
            Ok(input) => match st.svc.quote(&actor, &id, &input, req.on.as_deref()).await {
                Ok(q) => result = Some(q),
                Err(e) => match form_errors(e) {
                    Ok(errs) => errors
                        .extend(errs.iter().map(|e| tr.pick(e.message_zh.clone(), e.message_en.clone()))),
                    Err(other) => return Err(error_page(tr, chrome_blank(tr), other)),
                },
            },
        }
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let shown = v.public.as_ref().map(|p| p.content.name.clone()).unwrap_or_default();
    Ok(with_status(
        status,
        html(&QuoteTpl {
            id,
            name: shown,
            insurer: v.product.insurer_name.clone(),
            industries: opts(
                st.svc
                    .industries()
                    .tags()
                    .iter()
                    .map(|t| (t.id.clone(), tr.t(&t.name_zh, &t.name_en).to_owned())),
                &g("industry"),
            ),
            stages: opts(
                LifecycleStage::ALL.iter().map(|s| (s.code().to_owned(), stage_label(tr, *s))),
                &g("stage"),
            ),
            f,
            result,
            errors,
            can_apply,
            ineligible,
            industries_map: st.svc.industries().clone(),
            c,
        }),
    ))
}

async fn rating_plan_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let text = form.get("plan").cloned().unwrap_or_default();
    let r = match serde_json::from_str::<kebao_domain::rating::PlanDoc>(&text) {
        Ok(doc) => st
            .svc
            .file_rating_plan(&s.actor, &id, form.get("effective_from").map_or("", String::as_str), doc)
            .await
            .map(|_| ()),
        Err(e) => Err(ServiceError::from(FieldError::new(
            "plan",
            "json",
            format!("费率表不是有效的 JSON（kebao.rating/1）：{e}"),
            format!("the plan is not valid kebao.rating/1 JSON: {e}"),
        ))),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/filings/{id}#rating")).into_response()),
        Err(e) => {
            let status = status_of(&e);
            match form_errors(e) {
                Ok(errs) => {
                    let from = form.get("effective_from").cloned().unwrap_or_default();
                    let state = PlanFormState::Json { text, effective_from: from, errors: errs };
                    Err(product_with_plan_form(&st, c, &s.actor, &id, state, status).await)
                }
                Err(other) => Err(error_page(c.tr, c, other)),
            }
        }
    }
}

fn status_of(e: &ServiceError) -> StatusCode {
    if matches!(e, ServiceError::Conflict(_)) {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

// ---------------------------------------------------------------------------------------
// The rating plan's form and its .xlsx template

/// Blank rows offered below a table's rows (and added by "add rows") where the levels are
/// the filer's own (bands); tables of known levels list every level and two blank rows.
const BLANK_ROWS: usize = 5;

/// What the rating plan's forms show.
enum PlanFormState {
    /// The newest filed plan (or a blank plan).
    Fresh,
    /// The form as sent: its fields, the errors at them, and the table that asked for more rows.
    Typed { fields: Box<PlanFields>, effective_from: String, errors: Vec<FieldError>, more: Option<String> },
    /// A refused template upload.
    Upload { effective_from: String, errors: Vec<FieldError> },
    /// A refused JSON filing, with the JSON as sent.
    Json { text: String, effective_from: String, errors: Vec<FieldError> },
}

/// A row of a factor table on the form; `options` lists the variable's known levels.
struct LevelRow {
    level: String,
    factor: String,
    options: Options,
}

struct BandSetView {
    name: &'static str,
    title: String,
    rows: Vec<RowFields>,
}

struct TableView {
    code: &'static str,
    title: String,
    default: String,
    rows: Vec<LevelRow>,
    /// Whether the levels are chosen from a list (known levels) or typed (band names).
    known: bool,
}

/// The rating plan's form as the product page shows it.
struct PlanForm {
    effective_from: String,
    bases: Options,
    f: PlanFields,
    bands: Vec<BandSetView>,
    tables: Vec<TableView>,
    /// (field, message) of the form's problems.
    errors: Vec<(String, String)>,
    upload_errors: Vec<String>,
    json: String,
    json_errors: Vec<String>,
    /// Between two messages at one field, in the page's language.
    sep: &'static str,
}

impl PlanForm {
    /// The messages of the problems at exactly this field.
    fn err(&self, field: &str) -> String {
        self.errors
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join(self.sep)
    }

    /// The messages at a table's row.
    fn row_err(&self, table: &str, i: &usize) -> String {
        self.err(&format!("{table}.{i}"))
    }
}

fn plan_form(st: &AppState, tr: Tr, newest: Option<&PlanDoc>, state: PlanFormState) -> PlanForm {
    let msgs = |errs: &[FieldError]| -> Vec<(String, String)> {
        errs.iter().map(|e| (e.field.clone(), tr.pick(e.message_zh.clone(), e.message_en.clone()))).collect()
    };
    let fresh_fields = || {
        newest
            .map(PlanFields::from_doc)
            .unwrap_or_else(|| PlanFields { basis: RateBasis::Limit.code().to_owned(), ..Default::default() })
    };
    let (f, effective_from, errors, more, fresh) = match &state {
        PlanFormState::Typed { fields, effective_from, errors, more } => {
            ((**fields).clone(), effective_from.clone(), msgs(errors), more.clone(), false)
        }
        PlanFormState::Upload { effective_from, .. } | PlanFormState::Json { effective_from, .. } => {
            (fresh_fields(), effective_from.clone(), Vec::new(), None, true)
        }
        PlanFormState::Fresh => (fresh_fields(), String::new(), Vec::new(), None, true),
    };
    let extra = |name: &str, known: bool| -> usize {
        let asked = if more.as_deref() == Some(name) { BLANK_ROWS } else { 0 };
        match (fresh, known) {
            (true, true) => 2,
            (true, false) => BLANK_ROWS,
            (false, _) => asked,
        }
    };
    let bands = BAND_SETS
        .iter()
        .map(|(name, var)| {
            let mut rows = f.bands(name).to_vec();
            rows.resize(rows.len() + extra(name, false), RowFields::default());
            rows.truncate(MAX_ROWS);
            BandSetView { name, title: tr.t(var.label_zh(), var.label_en()).to_owned(), rows }
        })
        .collect();
    let industries = st.svc.industries();
    let tables = RatingVariable::ALL
        .iter()
        .map(|var| {
            let known = known_levels(*var, industries);
            let filed = f.tables.iter().find(|t| t.variable == *var);
            let mut rows: Vec<RowFields> = filed.map(|t| t.rows.clone()).unwrap_or_default();
            if fresh {
                for l in &known {
                    if !rows.iter().any(|r| r.key == l.code) {
                        rows.push(RowFields::new(l.code.clone(), ""));
                    }
                }
            }
            let name = format!("factors.{}", var.code());
            rows.resize(rows.len() + extra(&name, !known.is_empty()), RowFields::default());
            rows.truncate(MAX_ROWS);
            let rows = rows
                .into_iter()
                .map(|r| {
                    let mut options: Options = known
                        .iter()
                        .map(|l| (l.code.clone(), tr.t(&l.label_zh, &l.label_en).to_owned(), l.code == r.key))
                        .collect();
                    if !known.is_empty() && !r.key.is_empty() && !known.iter().any(|l| l.code == r.key) {
                        options.push((r.key.clone(), r.key.clone(), true));
                    }
                    LevelRow { level: r.key, factor: r.value, options }
                })
                .collect();
            TableView {
                code: var.code(),
                title: tr.t(var.label_zh(), var.label_en()).to_owned(),
                default: filed.map(|t| t.default.clone()).unwrap_or_default(),
                rows,
                known: !known.is_empty(),
            }
        })
        .collect();
    let bases = opts(
        RateBasis::ALL.iter().map(|b| (b.code().to_owned(), tr.t(b.label_zh(), b.label_en()).to_owned())),
        &f.basis,
    );
    let (upload_errors, json, json_errors) = match state {
        PlanFormState::Upload { errors, .. } => {
            (msgs(&errors).into_iter().map(|(_, m)| m).collect(), String::new(), Vec::new())
        }
        PlanFormState::Json { text, errors, .. } => {
            (Vec::new(), text, msgs(&errors).into_iter().map(|(_, m)| m).collect())
        }
        _ => (Vec::new(), String::new(), Vec::new()),
    };
    let sep = tr.t("；", "; ");
    PlanForm { effective_from, bases, f, bands, tables, errors, upload_errors, json, json_errors, sep }
}

/// The plan's fields from the form: rows up to each table's row count (one past
/// [`MAX_ROWS`] at most, which the parse refuses by name).
fn plan_fields_from_form(form: &HashMap<String, String>) -> PlanFields {
    let one = |k: &str| form.get(k).cloned().unwrap_or_default();
    let rows = |prefix: &str, a: &str, b: &str| -> Vec<RowFields> {
        let n = one(&format!("{prefix}.rows")).trim().parse::<usize>().unwrap_or(0).min(MAX_ROWS + 1);
        (0..n)
            .map(|i| RowFields::new(one(&format!("{prefix}.{i}.{a}")), one(&format!("{prefix}.{i}.{b}"))))
            .collect()
    };
    PlanFields {
        basis: one("basis"),
        base: one("base"),
        min_premium_yuan: one("min_premium_yuan"),
        max_premium_yuan: one("max_premium_yuan"),
        factor_floor: one("factor_floor"),
        factor_cap: one("factor_cap"),
        size_bands: rows("size_bands", "key", "up"),
        limit_bands: rows("limit_bands", "key", "up"),
        deductible_bands: rows("deductible_bands", "key", "up"),
        tables: RatingVariable::ALL
            .iter()
            .map(|v| {
                let name = format!("factors.{}", v.code());
                TableFields {
                    variable: *v,
                    default: one(&format!("{name}.default")),
                    rows: rows(&name, "level", "factor"),
                }
            })
            .collect(),
        auto_accept_max_limit_yuan: one("underwriting.auto_accept_max_limit_yuan"),
        decline_claims_3y: one("underwriting.decline_claims_3y"),
        refer_if_claims: form.get("underwriting.refer_if_claims").is_some_and(|v| !v.is_empty()),
        quote_valid_days: one("quote_valid_days"),
    }
}

/// Files the plan typed into the form, or shows the form again with more rows.
async fn rating_form_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Page {
    let form: HashMap<String, String> = form.into_iter().collect();
    check_csrf(&form, &s)?;
    let fields = plan_fields_from_form(&form);
    let effective_from = form.get("effective_from").cloned().unwrap_or_default();
    if let Some(more) = form.get("more").filter(|m| !m.is_empty()) {
        let state = PlanFormState::Typed {
            fields: Box::new(fields),
            effective_from,
            errors: Vec::new(),
            more: Some(more.clone()),
        };
        return Ok(product_with_plan_form(&st, c, &s.actor, &id, state, StatusCode::OK).await);
    }
    match st.svc.file_rating_plan_fields(&s.actor, &id, &effective_from, &fields).await {
        Ok(_) => Ok(Redirect::to(&format!("/filings/{id}#rating")).into_response()),
        Err(e) => {
            let status = status_of(&e);
            match form_errors(e) {
                Ok(errors) => {
                    let state =
                        PlanFormState::Typed { fields: Box::new(fields), effective_from, errors, more: None };
                    Err(product_with_plan_form(&st, c, &s.actor, &id, state, status).await)
                }
                Err(other) => Err(error_page(c.tr, c, other)),
            }
        }
    }
}

/// The rating template, filled with the newest filed plan.
async fn rating_template_get(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
) -> Page {
    let bytes = st.svc.rating_template(&s.actor, &id).await.map_err(|e| error_page(tr, c, e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"kebao-rating-template.xlsx\""),
        ],
        bytes,
    )
        .into_response())
}

/// Files a filled rating template.
async fn rating_template_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Page {
    let (bytes, csrf, fields) = match read_upload_with(multipart, &["effective_from"]).await {
        Ok((_, bytes, csrf, fields)) => (bytes, csrf, fields),
        Err(api) => {
            let f = api
                .body
                .details
                .first()
                .map(|d| FieldError::new("template", "upload", d.message_zh.clone(), d.message_en.clone()))
                .unwrap_or_else(|| {
                    FieldError::new(
                        "template",
                        "upload",
                        api.body.message_zh.clone(),
                        api.body.message.clone(),
                    )
                });
            let state = PlanFormState::Upload { effective_from: String::new(), errors: vec![f] };
            return Err(product_with_plan_form(
                &st,
                c,
                &s.actor,
                &id,
                state,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await);
        }
    };
    if !same_secret(&csrf, &s.csrf_token) {
        return Err(csrf_page());
    }
    let effective_from =
        fields.into_iter().find(|(k, _)| k == "effective_from").map(|(_, v)| v).unwrap_or_default();
    match st.svc.import_rating_template(&s.actor, &id, &effective_from, &bytes).await {
        Ok(_) => Ok(Redirect::to(&format!("/filings/{id}#rating")).into_response()),
        Err(e) => {
            let status = status_of(&e);
            match form_errors(e) {
                Ok(errors) => {
                    let state = PlanFormState::Upload { effective_from, errors };
                    Err(product_with_plan_form(&st, c, &s.actor, &id, state, status).await)
                }
                Err(other) => Err(error_page(c.tr, c, other)),
            }
        }
    }
}
