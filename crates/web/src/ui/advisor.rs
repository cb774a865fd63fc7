//! UI of the risk advisor (C3, information mode): what the registry knows, the questionnaire,
//! the exposures with their reasons and the published products for each, the gaps, and the
//! enterprise's shortlist; for the zone, the picture of needs with its workbook.

use super::kit::{check_csrf, error_page, form_errors, html, with_status, Authed, Chrome, Page, Tr};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use kebao_domain::advisor::QuestionKind;
use kebao_domain::Money;
use kebao_service::advisor::{AdvisorView, Needs, REFERENCE_COVER_YUAN, REFERENCE_PREMIUM_YUAN};
use kebao_service::advisor_broker::{Broker, BrokerInput, QuoteLine};
use kebao_service::authz::Actor;
use kebao_service::subsidies::SubsidyEstimate;
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
        .route("/advisor/quotes", post(quotes_post))
        .route("/advisor/bundle/choose", post(choose_post))
        .route("/advisor/bundle/remove", post(unchoose_post))
        .route("/advisor/bundle/apply", post(apply_bundle_post))
        .route("/zone/advisor-broker", get(broker_page).post(broker_post))
        .route("/zone/advisor-broker/end", post(broker_end_post))
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
    /// One line per subsidy programme that takes the product's type (an estimate).
    subsidy: Vec<String>,
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
    /// Broker mode: the quotes for it side by side (cheapest net cost first).
    quotes: Vec<QuoteRowT>,
}

/// A quote as the broker-mode table shows it.
struct QuoteRowT {
    id: String,
    product_id: String,
    product: String,
    insurer: String,
    plan_version: i64,
    inputs: String,
    premium: String,
    subsidy: String,
    net: String,
    valid_until: String,
    chosen: bool,
    /// Why it no longer stands (empty: it does).
    lapsed: String,
}

/// An application of a bundle: (application id, product, insurer, premium).
type AppliedLine = (String, String, String, String);

/// The broker named, in words.
struct BrokerT {
    name: String,
    licence_no: String,
    valid_from: String,
    valid_to: String,
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
    org_id: String,
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
    /// The reference policy the subsidy estimates are for, in words.
    reference: String,
    /// Broker mode: the broker operating the advisor.
    broker: Option<BrokerT>,
    /// A broker named whose licence is not valid today.
    broker_unlicensed: Option<BrokerT>,
    /// Broker mode: the bundle's chosen quotes, totals and what stays uncovered.
    bundle: Vec<QuoteRowT>,
    bundle_premium: String,
    bundle_subsidy: String,
    bundle_net: String,
    uncovered: Vec<String>,
    /// The default start date offered for the bundle (tomorrow).
    start_default: String,
    /// Bundles applied for: (start date, premium, subsidy, applications).
    bundles: Vec<(String, String, String, Vec<AppliedLine>)>,
}

fn yuan(f: i64) -> String {
    Money::from_fen(f).display_yuan()
}

fn broker_t(b: &Broker) -> BrokerT {
    BrokerT {
        name: b.org_name.clone(),
        licence_no: b.licence_no.clone(),
        valid_from: b.valid_from.to_string(),
        valid_to: b.valid_to.to_string(),
    }
}

fn quote_t(tr: Tr, q: &QuoteLine) -> QuoteRowT {
    let mut inputs = vec![format!("{} {}", tr.t("限额", "limit"), yuan(q.limit_fen))];
    if q.sum_insured_fen > 0 {
        inputs.push(format!("{} {}", tr.t("保额", "sum insured"), yuan(q.sum_insured_fen)));
    }
    if q.deductible_fen > 0 {
        inputs.push(format!("{} {}", tr.t("免赔", "deductible"), yuan(q.deductible_fen)));
    }
    QuoteRowT {
        id: q.id.clone(),
        product_id: q.product_id.clone(),
        product: q.product_name.clone(),
        insurer: q.insurer_name.clone(),
        plan_version: q.plan_version,
        inputs: inputs.join(tr.t("，", ", ")),
        premium: yuan(q.premium_fen),
        subsidy: yuan(q.subsidy_fen),
        net: yuan(q.net_fen()),
        valid_until: q.valid_until.to_string(),
        chosen: q.chosen,
        lapsed: q.lapsed.as_ref().map(|(zh, en)| tr.t(zh, en).to_owned()).unwrap_or_default(),
    }
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
                    type_name: e
                        .types
                        .iter()
                        .find(|t| t.0 == p.type_id)
                        .map_or_else(|| p.type_name.clone(), |t| tr.t(&t.1, &t.2).to_owned()),
                    covers: p.covers,
                    eligible: p.not_eligible.is_empty(),
                    reasons: p.not_eligible.iter().map(|(zh, en)| tr.pick(zh.clone(), en.clone())).collect(),
                    shortlisted: p.shortlisted,
                    subsidy: estimate_lines(tr, &p.estimates),
                })
                .collect(),
            eligible: e.products.iter().filter(|p| p.not_eligible.is_empty()).count(),
            covered_by: e.covered_by.clone(),
            quotes: {
                let mut qs: Vec<&QuoteLine> = v.quotes.iter().filter(|q| q.exposure_id == e.id).collect();
                // Standing quotes first, then by net cost (broker mode only compares).
                qs.sort_by_key(|q| (q.lapsed.is_some(), q.net_fen(), q.id.clone()));
                qs.into_iter().map(|q| quote_t(tr, q)).collect()
            },
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
        org_id: v.org_id.clone(),
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
        broker: v.broker.as_ref().map(broker_t),
        broker_unlicensed: v.broker_unlicensed.as_ref().map(broker_t),
        bundle: v
            .quotes
            .iter()
            .filter(|q| v.bundle.as_ref().is_some_and(|b| b.quotes.contains(&q.id)))
            .map(|q| quote_t(tr, q))
            .collect(),
        bundle_premium: v.bundle.as_ref().map(|b| yuan(b.premium_fen)).unwrap_or_default(),
        bundle_subsidy: v.bundle.as_ref().map(|b| yuan(b.subsidy_fen)).unwrap_or_default(),
        bundle_net: v.bundle.as_ref().map(|b| yuan(b.premium_fen - b.subsidy_fen)).unwrap_or_default(),
        uncovered: v
            .bundle
            .as_ref()
            .map(|b| b.uncovered.iter().map(|(_, zh, en)| tr.t(zh, en).to_owned()).collect())
            .unwrap_or_default(),
        start_default: v.day.next_day().map(|d| d.to_string()).unwrap_or_default(),
        bundles: v
            .bundles
            .iter()
            .map(|b| {
                (
                    b.start_date.to_string(),
                    yuan(b.premium_fen),
                    yuan(b.subsidy_fen),
                    b.applications
                        .iter()
                        .map(|(id, p, i, f)| (id.clone(), p.clone(), i.clone(), yuan(*f)))
                        .collect(),
                )
            })
            .collect(),
        reference: format!(
            "{} {} {} {} {}{}",
            tr.t("按假设保单估算：保费", "Estimated for a policy with a premium of"),
            Money::from_fen(REFERENCE_PREMIUM_YUAN * 100).display_yuan(),
            tr.t("元，保险金额（或限额）", "yuan, a sum insured (or limit) of"),
            Money::from_fen(REFERENCE_COVER_YUAN * 100).display_yuan(),
            tr.t("元，今日起保，缴清保费，为首年投保。仅为估算，以补贴方案审核结果为准。", "yuan, starting today, paid in full, the first year of cover. An estimate only: the programme's review decides."),
            ""
        ),
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

/// A subsidy estimate in words: the programme and what it would give, or why not; its caveat.
pub fn estimate_lines(tr: Tr, es: &[SubsidyEstimate]) -> Vec<String> {
    es.iter()
        .map(|e| {
            let name = tr.t(&e.name_zh, &e.name_en);
            let what = match e.amount_fen {
                Some(f) => format!(
                    "{} {} {}",
                    tr.t("约", "about"),
                    Money::from_fen(f).display_yuan(),
                    tr.t("元", "yuan")
                ),
                None => format!(
                    "{}{}{}",
                    tr.t("不符合", "would not qualify"),
                    tr.t("：", ": "),
                    e.reasons.iter().map(|(zh, en)| tr.t(zh, en)).collect::<Vec<_>>().join(tr.t("；", "; "))
                ),
            };
            let caveat = tr.t(&e.label_zh, &e.label_en);
            let colon = tr.t("：", ": ");
            if caveat.is_empty() {
                format!("{name}{colon}{what}")
            } else {
                format!("{name}{colon}{what}{}{caveat}{}", tr.t("（", " ("), tr.t("）", ")"))
            }
        })
        .collect()
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

/// After a step: on to `to` when it went through; the page again with the reasons when refused.
async fn then(st: &AppState, c: Chrome, actor: &Actor, r: Result<(), ServiceError>, to: &str) -> Page {
    match r {
        Ok(()) => Ok(Redirect::to(to).into_response()),
        Err(e) => refused(st, c, actor, e, None).await,
    }
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
    let r = st.svc.shortlist_product(&s.actor, &g("product"), &g("exposure")).await;
    then(&st, c, &s.actor, r, "/advisor#shortlist").await
}

async fn unlist_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let product = form.get("product").cloned().unwrap_or_default();
    let r = st.svc.unlist_product(&s.actor, &product).await;
    then(&st, c, &s.actor, r, "/advisor#shortlist").await
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

async fn quotes_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let fields = kebao_domain::rating::QuoteFields {
        limit_yuan: g("limit_yuan"),
        deductible_yuan: g("deductible_yuan"),
        sum_insured_yuan: g("sum_insured_yuan"),
        revenue_yuan: g("revenue_yuan"),
        industry: None,
        stage: None,
        claims_3y: match g("claims_3y").trim() {
            "" => 0,
            t => match t.parse::<u32>() {
                Ok(n) => n,
                Err(_) => {
                    let e =
                        ServiceError::Invalid(kebao_domain::Invalid(vec![kebao_domain::FieldError::new(
                            "claims_3y",
                            "not_a_count",
                            "近三年出险次数须为 0 或正整数",
                            "claims in three years must be 0 or a positive whole number",
                        )]));
                    return refused(&st, c, &s.actor, e, None).await;
                }
            },
        },
    };
    let exposure = g("exposure");
    let r = st.svc.quote_for_exposure(&s.actor, &exposure, &fields).await.map(|_| ());
    then(&st, c, &s.actor, r, &format!("/advisor#exposure-{}", urlencoding(&exposure))).await
}

/// An exposure id as a URL fragment (ids are ASCII words; anything else is dropped).
fn urlencoding(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect()
}

async fn choose_post(st: State<AppState>, a: Authed, form: Form<HashMap<String, String>>) -> Page {
    bundle_step(st, a, form, true).await
}

async fn unchoose_post(st: State<AppState>, a: Authed, form: Form<HashMap<String, String>>) -> Page {
    bundle_step(st, a, form, false).await
}

/// Puts a quote into the bundle (`choose`) or takes it out.
async fn bundle_step(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Form(form): Form<HashMap<String, String>>,
    choose: bool,
) -> Page {
    check_csrf(&form, &s)?;
    let quote = form.get("quote").cloned().unwrap_or_default();
    let done = if choose {
        st.svc.choose_quote(&s.actor, &quote).await
    } else {
        st.svc.unchoose_quote(&s.actor, &quote).await
    };
    then(&st, c, &s.actor, done, "/advisor#bundle").await
}

async fn apply_bundle_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    if form.get("confirm").is_none_or(|v| v.is_empty()) {
        let e = ServiceError::Invalid(kebao_domain::Invalid(vec![kebao_domain::FieldError::new(
            "confirm",
            "unconfirmed",
            "请勾选确认：将按组合中的各报价分别向各保险机构提交投保申请",
            "tick the confirmation: an application goes to each insurer for each quote in the bundle",
        )]));
        return refused(&st, c, &s.actor, e, None).await;
    }
    let start = form.get("start_date").cloned().unwrap_or_default();
    let r = st.svc.apply_bundle(&s.actor, &start).await.map(|_| ());
    then(&st, c, &s.actor, r, "/advisor?done=bundle_applied#bundles").await
}

struct BrokerHistoryRow {
    name: String,
    licence_no: String,
    validity: String,
    named: String,
    ended: String,
}

#[derive(Template)]
#[template(path = "advisor_broker.html")]
struct BrokerTpl {
    c: Chrome,
    current: Option<BrokerT>,
    current_valid: bool,
    history: Vec<BrokerHistoryRow>,
    /// Registered intermediaries: (id, name).
    intermediaries: Vec<(String, String)>,
    form: BrokerInput,
    errors: HashMap<String, String>,
    messages: Vec<String>,
}

async fn broker_show(
    st: &AppState,
    c: Chrome,
    actor: &Actor,
    form: BrokerInput,
    errors: Vec<kebao_domain::FieldError>,
) -> Page {
    let tr = c.tr;
    let history = match st.svc.advisor_broker_history(actor).await {
        Ok(h) => h,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let intermediaries = match st.svc.intermediaries(actor).await {
        Ok(v) => v,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let today = st.svc.today();
    let current = history.iter().find(|b| b.ended_at_us.is_none());
    let show_time =
        |us: i64| kebao_domain::time_zone::display_local(kebao_domain::time_zone::from_unix_us(us));
    let mut by_field = HashMap::new();
    let mut messages = Vec::new();
    for e in errors {
        let text = tr.pick(e.message_zh, e.message_en);
        if ["org_id", "licence_no", "valid_from", "valid_to"].contains(&e.field.as_str()) {
            by_field.entry(e.field).or_insert(text);
        } else {
            messages.push(text);
        }
    }
    let status = if by_field.is_empty() && messages.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let tpl = BrokerTpl {
        current_valid: current.is_some_and(|b| b.licensed_on(today)),
        current: current.map(broker_t),
        history: history
            .iter()
            .map(|b| BrokerHistoryRow {
                name: b.org_name.clone(),
                licence_no: b.licence_no.clone(),
                validity: format!("{} – {}", b.valid_from, b.valid_to),
                named: format!("{} · {}", show_time(b.named_at_us), b.named_by),
                ended: b.ended_at_us.map(show_time).unwrap_or_default(),
            })
            .collect(),
        intermediaries,
        form,
        errors: by_field,
        messages,
        c,
    };
    Ok(with_status(status, html(&tpl)))
}

async fn broker_page(State(st): State<AppState>, Authed { c, s, .. }: Authed) -> Page {
    broker_show(&st, c, &s.actor, BrokerInput::default(), Vec::new()).await
}

async fn broker_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let input = BrokerInput {
        org_id: g("org_id"),
        licence_no: g("licence_no"),
        valid_from: g("valid_from"),
        valid_to: g("valid_to"),
    };
    match st.svc.name_advisor_broker(&s.actor, &input).await {
        Ok(_) => Ok(Redirect::to("/zone/advisor-broker?done=broker_named").into_response()),
        Err(e) => match form_errors(e) {
            Ok(errors) => broker_show(&st, c, &s.actor, input, errors).await,
            Err(other) => Err(error_page(c.tr, c, other)),
        },
    }
}

async fn broker_end_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    match st.svc.end_advisor_broker(&s.actor).await {
        Ok(()) => Ok(Redirect::to("/zone/advisor-broker?done=broker_ended").into_response()),
        Err(e) => Err(error_page(c.tr, c, e)),
    }
}
