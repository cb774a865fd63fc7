//! UI of the risk advisor (C3, information mode): what the registry knows, the questionnaire,
//! the exposures with their reasons and the published products for each, the gaps, and the
//! enterprise's shortlist; for the zone, the picture of needs with its workbook.

use super::kit::{check_csrf, error_page, form_errors, html, with_status, Authed, Chrome, Page};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use kebao_domain::advisor::QuestionKind;
use kebao_domain::Money;
use kebao_service::advisor::{AdvisorView, Needs};
use kebao_service::authz::Actor;
use kebao_service::tabular::{self, Table};
use kebao_service::ServiceError;
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/advisor", get(page))
        .route("/advisor/answers", post(answers_post))
        .route("/advisor/shortlist", post(shortlist_post))
        .route("/advisor/shortlist/remove", post(unlist_post))
        .route("/zone/needs", get(needs_page))
        .route("/zone/needs.xlsx", get(needs_xlsx))
}

struct QuestionRow {
    id: String,
    label: String,
    help: String,
    yes_no: bool,
    /// The answer as the form shows it ("yes"/"no" for yes/no, else the number), blank if none.
    value: String,
    max: String,
    step: String,
    /// Why the answer as typed was refused, beside its field.
    error: String,
}

/// A refused form shown again: the reasons beside their questions (the others above the
/// page), and the questionnaire as typed.
#[derive(Default)]
struct Refusal {
    messages: Vec<String>,
    by_field: HashMap<String, String>,
    typed: Option<HashMap<String, String>>,
}

struct ProductRow {
    id: String,
    name: String,
    insurer: String,
    type_name: String,
    covers: usize,
    eligible: bool,
    reasons: Vec<String>,
    shortlisted: bool,
}

struct ExposureRow {
    id: String,
    name: String,
    stage: String,
    reasons: Vec<String>,
    source: String,
    types: String,
    products: Vec<ProductRow>,
    /// How many of them the enterprise is eligible for (listed in the table; the others below).
    eligible: usize,
    covered_by: Vec<(String, String)>,
}

struct ShortRow {
    product_id: String,
    name: String,
    insurer: String,
    exposure: String,
}

#[derive(Template)]
#[template(path = "advisor.html")]
struct AdvisorTpl {
    c: Chrome,
    org_name: String,
    rules_version: String,
    confidence: String,
    day: String,
    known: Vec<(String, String)>,
    questions: Vec<QuestionRow>,
    answered: String,
    exposures: Vec<ExposureRow>,
    gaps: usize,
    shortlist: Vec<ShortRow>,
    messages: Vec<String>,
}

fn render(c: Chrome, v: &AdvisorView, refusal: Refusal) -> AdvisorTpl {
    let tr = c.tr;
    let questions = v
        .questions
        .iter()
        .map(|q| {
            let a = v.answers.get(&q.id).copied();
            let (yes_no, value, max, step) = match q.kind {
                QuestionKind::YesNo => (
                    true,
                    a.map_or(String::new(), |x| if x > 0 { "yes".into() } else { "no".into() }),
                    String::new(),
                    String::new(),
                ),
                QuestionKind::Amount { max_yuan } => (
                    false,
                    a.map_or(String::new(), |f| Money::from_fen(f).display_yuan().replace(',', "")),
                    max_yuan.to_string(),
                    "0.01".into(),
                ),
                QuestionKind::Count { max } => {
                    (false, a.map_or(String::new(), |n| n.to_string()), max.to_string(), "1".into())
                }
            };
            QuestionRow {
                id: q.id.clone(),
                label: tr.t(&q.name_zh, &q.name_en).to_owned(),
                help: tr.t(&q.help_zh, &q.help_en).to_owned(),
                yes_no,
                // A refused questionnaire comes back as typed.
                value: refusal.typed.as_ref().map_or(value, |t| t.get(&q.id).cloned().unwrap_or_default()),
                max,
                step,
                error: refusal.by_field.get(&q.id).cloned().unwrap_or_default(),
            }
        })
        .collect();
    let exposure_name: HashMap<&str, String> =
        v.exposures.iter().map(|e| (e.id.as_str(), tr.t(&e.name_zh, &e.name_en).to_owned())).collect();
    let mut names: HashMap<&str, (&str, &str)> = HashMap::new();
    for e in &v.exposures {
        for p in &e.products {
            names.insert(p.product_id.as_str(), (p.name.as_str(), p.insurer_name.as_str()));
        }
    }
    let exposures = v
        .exposures
        .iter()
        .map(|e| ExposureRow {
            id: e.id.clone(),
            name: tr.t(&e.name_zh, &e.name_en).to_owned(),
            stage: tr.t(e.stage.label_zh(), e.stage.label_en()).to_owned(),
            reasons: e.reasons.iter().map(|(zh, en)| tr.t(zh, en).to_owned()).collect(),
            source: e.source.clone(),
            types: e.types.iter().map(|(_, zh, en)| tr.t(zh, en)).collect::<Vec<_>>().join(tr.t("、", "; ")),
            products: e
                .products
                .iter()
                .map(|p| ProductRow {
                    id: p.product_id.clone(),
                    name: p.name.clone(),
                    insurer: p.insurer_name.clone(),
                    type_name: p.type_name.clone(),
                    covers: p.covers,
                    eligible: p.not_eligible.is_empty(),
                    reasons: p.not_eligible.iter().map(|(zh, en)| tr.pick(zh.clone(), en.clone())).collect(),
                    shortlisted: p.shortlisted,
                })
                .collect(),
            eligible: e.products.iter().filter(|p| p.not_eligible.is_empty()).count(),
            covered_by: e.covered_by.clone(),
        })
        .collect();
    let shortlist = v
        .shortlist
        .iter()
        .map(|(pid, eid)| {
            let (name, insurer) = names.get(pid.as_str()).copied().unwrap_or(("", ""));
            ShortRow {
                product_id: pid.clone(),
                name: if name.is_empty() {
                    tr.t("（已不在发布中）", "(no longer published)").to_owned()
                } else {
                    name.to_owned()
                },
                insurer: insurer.to_owned(),
                exposure: exposure_name.get(eid.as_str()).cloned().unwrap_or_else(|| {
                    tr.t("（已不属于本企业识别出的风险）", "(no longer one of the enterprise's exposures)")
                        .to_owned()
                }),
            }
        })
        .collect();
    AdvisorTpl {
        org_name: v.org_name.clone(),
        rules_version: v.rules_version.clone(),
        confidence: v.confidence.clone(),
        day: v.day.to_string(),
        known: v
            .known
            .iter()
            .map(|k| (tr.t(&k.label_zh, &k.label_en).to_owned(), tr.t(&k.value_zh, &k.value_en).to_owned()))
            .collect(),
        questions,
        answered: v
            .answered_at_us
            .map(|us| kebao_domain::time_zone::display_local(kebao_domain::time_zone::from_unix_us(us)))
            .unwrap_or_default(),
        gaps: v.exposures.iter().filter(|e| e.is_gap()).count(),
        exposures,
        shortlist,
        messages: {
            // A reason about a field the page does not show (an unknown question) goes above.
            let mut m = refusal.messages.clone();
            m.extend(
                refusal
                    .by_field
                    .iter()
                    .filter(|(k, _)| !v.questions.iter().any(|q| &q.id == *k))
                    .map(|(_, t)| t.clone()),
            );
            m
        },
        c,
    }
}

async fn show(st: &AppState, c: Chrome, actor: &Actor, refusal: Refusal) -> Page {
    let tr = c.tr;
    match st.svc.advisor(actor).await {
        Ok(v) => {
            let refused = !refusal.messages.is_empty() || !refusal.by_field.is_empty();
            let status = if refused { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            Ok(with_status(status, html(&render(c, &v, refusal))))
        }
        Err(e) => Err(error_page(tr, c, e)),
    }
}

async fn page(State(st): State<AppState>, Authed { c, s, .. }: Authed) -> Page {
    show(&st, c, &s.actor, Refusal::default()).await
}

/// A refused form: the page again with the reasons (each question's beside it), or the error
/// page. `typed`: the questionnaire as sent.
async fn refused(
    st: &AppState,
    c: Chrome,
    actor: &Actor,
    e: ServiceError,
    typed: Option<HashMap<String, String>>,
) -> Page {
    let tr = c.tr;
    let errors = match form_errors(e) {
        Ok(errors) => errors,
        Err(other) => return Err(error_page(tr, c, other)),
    };
    let mut refusal = Refusal { typed, ..Refusal::default() };
    for f in errors {
        let text = tr.pick(f.message_zh, f.message_en);
        let beside = refusal.typed.as_ref().is_some_and(|t| t.contains_key(&f.field));
        if beside && !refusal.by_field.contains_key(&f.field) {
            refusal.by_field.insert(f.field, text);
        } else {
            refusal.messages.push(text);
        }
    }
    show(st, c, actor, refusal).await
}

async fn answers_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Form(mut form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    form.remove("csrf");
    match st.svc.save_advisor_answers(&s.actor, &form).await {
        Ok(_) => Ok(Redirect::to("/advisor#exposures").into_response()),
        Err(e) => refused(&st, c, &s.actor, e, Some(form)).await,
    }
}

async fn shortlist_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    match st.svc.shortlist_product(&s.actor, &g("product"), &g("exposure")).await {
        Ok(()) => Ok(Redirect::to("/advisor#shortlist").into_response()),
        Err(e) => refused(&st, c, &s.actor, e, None).await,
    }
}

async fn unlist_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let product = form.get("product").cloned().unwrap_or_default();
    match st.svc.unlist_product(&s.actor, &product).await {
        Ok(()) => Ok(Redirect::to("/advisor#shortlist").into_response()),
        Err(e) => refused(&st, c, &s.actor, e, None).await,
    }
}

struct NeedsRowT {
    name: String,
    enterprises: u64,
    covered: u64,
    uncovered: u64,
    shortlisted: u64,
    products: u64,
    by_industry: Vec<u64>,
    by_stage: Vec<u64>,
}

#[derive(Template)]
#[template(path = "needs.html")]
struct NeedsTpl {
    c: Chrome,
    version: String,
    enterprises: u64,
    industries: Vec<String>,
    stages: Vec<String>,
    rows: Vec<NeedsRowT>,
    chart: String,
}

async fn needs_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    let n = match st.svc.advisor_needs(&s.actor).await {
        Ok(n) => n,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let items: Vec<(String, f64)> = n
        .rows
        .iter()
        .filter(|r| r.enterprises > 0)
        .take(10)
        .map(|r| (tr.t(&r.name_zh, &r.name_en).to_owned(), r.uncovered() as f64))
        .collect();
    let chart =
        if items.is_empty() { String::new() } else { super::svg::hbar(&items, tr.t(" 家", " enterprises")) };
    let tpl = NeedsTpl {
        version: n.rules_version.clone(),
        enterprises: n.enterprises,
        industries: n.industries.iter().map(|(_, zh, en)| tr.t(zh, en).to_owned()).collect(),
        stages: n.stages.iter().map(|(_, zh, en)| tr.t(zh, en).to_owned()).collect(),
        rows: n
            .rows
            .iter()
            .map(|r| NeedsRowT {
                name: tr.t(&r.name_zh, &r.name_en).to_owned(),
                enterprises: r.enterprises,
                covered: r.covered,
                uncovered: r.uncovered(),
                shortlisted: r.shortlisted,
                products: r.products,
                by_industry: r.by_industry.clone(),
                by_stage: r.by_stage.clone(),
            })
            .collect(),
        chart,
        c,
    };
    Ok(html(&tpl))
}

/// The needs as a workbook: one row per exposure, Chinese and English headings.
pub fn needs_table(n: &Needs) -> Table {
    let mut headers: Vec<String> = [
        "风险 Exposure",
        "识别出的企业 Enterprises exposed",
        "已有保单 Covered",
        "未保障 Uncovered",
        "列入备选 Shortlisted",
        "已发布产品 Products published",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    headers.extend(n.industries.iter().map(|(_, zh, en)| format!("{zh} {en}")));
    headers.extend(n.stages.iter().map(|(_, zh, en)| format!("{zh} {en}")));
    let rows = n
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![
                format!("{} {}", r.name_zh, r.name_en),
                r.enterprises.to_string(),
                r.covered.to_string(),
                r.uncovered().to_string(),
                r.shortlisted.to_string(),
                r.products.to_string(),
            ];
            row.extend(r.by_industry.iter().map(u64::to_string));
            row.extend(r.by_stage.iter().map(u64::to_string));
            row
        })
        .collect();
    Table { headers, rows }
}

async fn needs_xlsx(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    let n = match st.svc.advisor_needs(&s.actor).await {
        Ok(n) => n,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let bytes = tabular::write_xlsx(&needs_table(&n), "needs")
        .map_err(|e| error_page(tr, c, ServiceError::Internal(e)))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"needs.xlsx\""),
        ],
        bytes,
    )
        .into_response())
}
