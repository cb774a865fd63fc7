//! UI of premium subsidies: the check and application from a policy, the applications and
//! their workflow, the public notice (no login), the zone's dashboard with what-if runs.

use super::kit::{
    check_csrf, chrome, chrome_blank, error_page, form_messages, html, with_status, Authed, Chrome, Page,
};
use super::Tr;
use crate::forms::subsidies::{what_if_params, SubsidyStepDto, WhatIfDto};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use kebao_domain::subsidy::{
    rule_label, Declarations, DeclarationsInput, Programme, Stage, SubsidyApplication, SubsidyStatus,
    SubsidyStep, Track,
};
use kebao_domain::{FieldError, Money};
use kebao_service::authz::Actor;
use kebao_service::ServiceError;
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/subsidies", get(list_page))
        .route("/subsidies/notice", get(notice_page))
        .route("/subsidies/notice.xlsx", get(notice_xlsx))
        .route("/subsidies/dashboard", get(dashboard_page))
        .route("/subsidies/offers", post(offers_post))
        .route("/subsidies/programmes/confirm", post(confirm_post))
        .route("/subsidies/{id}", get(detail_page).post(step_post))
        .route("/subsidies/{id}/objection", post(object_post))
        .route("/subsidies/{id}/objections/{oid}", post(resolve_post))
        .route("/subsidies/{id}/documents", post(upload_post))
        .route("/policies/{id}/subsidy", get(check_page).post(apply_post))
}

fn yuan(f: i64) -> String {
    Money::from_fen(f).display_yuan()
}

struct Row {
    id: String,
    /// The applicant enterprise's name (filled in where a list shows it).
    enterprise: String,
    programme: String,
    stage: String,
    status: String,
    status_code: String,
    amount: String,
    applied_on: String,
    notice: String,
}

fn row(tr: Tr, names: &HashMap<String, String>, a: &SubsidyApplication) -> Row {
    Row {
        id: a.id.clone(),
        enterprise: String::new(),
        programme: names
            .get(&a.programme_id)
            .cloned()
            .unwrap_or_else(|| tr.t("其他方案", "another programme").to_owned()),
        stage: match a.stage {
            Stage::Qualification => tr.t("资格审定", "qualification"),
            Stage::Funding => tr.t("资金申请", "funding"),
            Stage::Subsidy if a.track == Track::Auto => tr.t("免申即享", "auto-grant"),
            Stage::Subsidy => tr.t("保费补贴", "subsidy"),
        }
        .to_owned(),
        status: tr.t(a.status.label_zh(), a.status.label_en()).to_owned(),
        status_code: a.status.code().to_owned(),
        amount: a.amount.display_yuan(),
        applied_on: a.applied_on.to_string(),
        notice: match (a.notice_from, a.notice_to, a.confirm_by) {
            (Some(f), Some(t), _) => format!("{f} — {t}"),
            (_, _, Some(c)) if a.status == SubsidyStatus::Offered => {
                format!("{} {c}", tr.t("确认截止", "confirm by"))
            }
            _ => String::new(),
        },
    }
}

/// Programme names in the page's language (the newest version's).
async fn names(st: &AppState, tr: Tr) -> HashMap<String, String> {
    let mut ps = st.svc.subsidy_programmes().await.unwrap_or_default();
    ps.sort_by_key(|p| p.version);
    ps.into_iter().map(|p| (p.id, tr.pick(p.name_zh, p.name_en))).collect()
}

#[derive(Template)]
#[template(path = "subsidies.html")]
struct ListTpl {
    c: Chrome,
    rows: Vec<Row>,
    zone: bool,
}

async fn list_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    let apps =
        st.svc.subsidy_applications(&s.actor).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let n = names(&st, tr).await;
    let zone = st.svc.subsidy_zone_rights(&s.actor).statistics;
    let ids: Vec<&str> = apps.iter().map(|a| a.enterprise_id.as_str()).collect();
    let enterprises =
        st.svc.org_names(&s.actor, &ids).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let rows = apps
        .iter()
        .map(|a| {
            let mut r = row(tr, &n, a);
            r.enterprise = enterprises.get(&a.enterprise_id).cloned().unwrap_or_default();
            r
        })
        .collect();
    Ok(html(&ListTpl { rows, zone, c }))
}

#[derive(Template)]
#[template(path = "subsidy.html")]
struct DetailTpl {
    c: Chrome,
    /// A refused step: the step, its messages and what was typed.
    failed: super::kit::Refused,
    r: Row,
    label: String,
    unconfirmed: bool,
    policy: String,
    /// The loan whose guarantee premium the application is for (empty: a catalogue policy).
    loan_id: String,
    enterprise: String,
    reason: String,
    decision_ref: String,
    steps: Vec<(String, String)>,
    declarations: String,
    documents: Vec<(String, String, String)>,
    /// The documents the programme asks for: code, name, the file filed as it (if any).
    required: Vec<(String, String, Option<String>)>,
    objections: Vec<(String, String, String, bool)>,
    errors: Vec<String>,
    /// The steps the service says the reader may take now.
    can: Can,
    /// With no step of the reader's: who the application waits on now, or that it is done.
    waiting: String,
    attach: bool,
    resolve: bool,
    can_object: bool,
}

/// Which step forms the page shows.
#[derive(Default)]
struct Can {
    local_review: bool,
    department_review: bool,
    approve: bool,
    disburse: bool,
    reject: bool,
    claw_back: bool,
    confirm: bool,
    recommend: bool,
    forward: bool,
    decision: bool,
}

impl Can {
    fn of(steps: &[SubsidyStep]) -> Can {
        let mut c = Can::default();
        for s in steps {
            let flag = match s {
                SubsidyStep::LocalReview => &mut c.local_review,
                SubsidyStep::DepartmentReview => &mut c.department_review,
                SubsidyStep::Approve => &mut c.approve,
                SubsidyStep::Disburse => &mut c.disburse,
                SubsidyStep::Reject => &mut c.reject,
                SubsidyStep::ClawBack => &mut c.claw_back,
                SubsidyStep::Confirm => &mut c.confirm,
                SubsidyStep::Recommend => &mut c.recommend,
                SubsidyStep::Forward => &mut c.forward,
                SubsidyStep::Decision => &mut c.decision,
                SubsidyStep::Lapse => continue,
            };
            *flag = true;
        }
        c
    }
}

async fn render_detail(st: &AppState, c: Chrome, actor: &Actor, id: &str, errors: Vec<String>) -> Response {
    render_detail_failed(st, c, actor, id, errors, super::kit::Refused::default()).await
}

/// The application's page after a refused step: the messages at the step's form, with what
/// was typed.
async fn render_detail_failed(
    st: &AppState,
    c: Chrome,
    actor: &Actor,
    id: &str,
    errors: Vec<String>,
    failed: super::kit::Refused,
) -> Response {
    let tr = c.tr;
    let (a, objections, docs) = match st.svc.subsidy_application(actor, id).await {
        Ok(x) => x,
        Err(e) => return error_page(tr, c, e),
    };
    let programmes = st.svc.subsidy_programmes().await.unwrap_or_default();
    let prog = programmes.iter().find(|p| p.id == a.programme_id && p.version == a.programme_version);
    let n = names(st, tr).await;
    let filed = if docs.is_empty() {
        Vec::new()
    } else {
        st.svc
            .attachments(actor, &kebao_domain::attachment::Owner::subsidy_application(id))
            .await
            .unwrap_or_default()
    };
    let required = prog
        .map(|p| {
            p.documents
                .iter()
                .map(|d| {
                    let file = filed.iter().find(|f| f.label == d.code).map(|f| f.file_name.clone());
                    (d.code.clone(), tr.pick(d.name_zh.clone(), d.name_en.clone()), file)
                })
                .collect()
        })
        .unwrap_or_default();
    let (enterprise, policy) = st.svc.subsidy_parties(&a).await.unwrap_or_default();
    let steps = st.svc.subsidy_actions(actor, id).await.unwrap_or_default();
    let rights = st.svc.subsidy_rights(actor, &a);
    let status =
        if errors.is_empty() && failed.is_none() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    with_status(
        status,
        html(&DetailTpl {
            failed,
            r: row(tr, &n, &a),
            label: prog.map(|p| programme_caveat(tr, p)).unwrap_or_default(),
            unconfirmed: prog.is_some_and(|p| !p.confidence.is_fact()),
            policy,
            loan_id: a.loan_id.clone().unwrap_or_default(),
            enterprise,
            reason: a.reason.clone().unwrap_or_default(),
            decision_ref: a.decision_ref.clone().unwrap_or_default(),
            steps: a
                .grant
                .as_ref()
                .map(|g| {
                    g.steps
                        .iter()
                        .map(|s| (tr.pick(s.label_zh.clone(), s.label_en.clone()), yuan(s.value_fen)))
                        .collect()
                })
                .unwrap_or_default(),
            declarations: match &a.declarations {
                None => String::new(),
                Some(d) => declared(tr, d),
            },
            required,
            documents: docs
                .iter()
                .map(|(_, name, sha, size)| {
                    (name.clone(), format!("{:.1} KiB", *size as f64 / 1024.0), sha.clone())
                })
                .collect(),
            objections: objections
                .iter()
                .map(|o| {
                    let state = match &o.resolution {
                        None => tr.t("待处理", "open").to_owned(),
                        Some(r) if r.upheld => format!("{}：{}", tr.t("成立", "upheld"), r.text),
                        Some(r) => format!("{}：{}", tr.t("不成立", "dismissed"), r.text),
                    };
                    (o.id.clone(), o.text.clone(), state, o.is_open())
                })
                .collect(),
            errors,
            waiting: if steps.is_empty() { waiting_words(tr, a.status) } else { String::new() },
            can: Can::of(&steps),
            attach: rights.attach,
            resolve: rights.resolve_objections,
            can_object: rights.object,
            c,
        }),
    )
}

/// A rule or cap of the assessment, in words (its code where the domain has none).
pub(super) fn rule_words(tr: Tr, code: &str) -> String {
    rule_label(code).map_or_else(|| code.to_owned(), |(zh, en)| tr.t(zh, en).to_owned())
}

/// What the applicant declared, in words.
fn declared(tr: Tr, d: &Declarations) -> String {
    let mut parts = Vec::new();
    if let Some(c) = d.contract_amount_yuan {
        parts.push(format!("{} {}", tr.t("采购合同金额", "contract amount"), yuan(c.saturating_mul(100))));
    }
    parts.push(
        if d.related_party {
            tr.t("用户为关联方或贸易商", "the user is a related party or trader")
        } else {
            tr.t("用户非关联方", "the user is not a related party")
        }
        .to_owned(),
    );
    if d.already_compensated {
        parts.push(tr.t("项目已获补偿", "already compensated").to_owned());
    }
    parts.join("；")
}

async fn detail_page(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
) -> Page {
    Ok(render_detail(&st, c, &s.actor, &id, Vec::new()).await)
}

async fn step_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let step = SubsidyStepDto {
        step: g("step"),
        pass: g("pass") == "1",
        reason: g("reason"),
        reference: g("reference"),
        amount_yuan: g("amount_yuan"),
        fraud: g("fraud") == "1",
    };
    match crate::forms::subsidies::step_run(&st, &s.actor, &id, &step).await {
        Ok(()) => Ok(Redirect::to(&format!("/subsidies/{id}?done=subsidy_step")).into_response()),
        Err(api) => {
            let m = super::kit::step_messages(tr, &api);
            let code = if api.status == StatusCode::CONFLICT {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                api.status
            };
            let step = g("step");
            let known = [
                "local_review",
                "department_review",
                "approve",
                "disburse",
                "reject",
                "claw_back",
                "recommend",
                "forward",
                "decision",
                "confirm",
            ];
            let page = if known.contains(&step.as_str()) {
                render_detail_failed(
                    &st,
                    c,
                    &s.actor,
                    &id,
                    Vec::new(),
                    super::kit::Refused::step(&step, m, form.clone()),
                )
                .await
            } else {
                render_detail(&st, c, &s.actor, &id, m).await
            };
            Err(with_status(code, page))
        }
    }
}

async fn object_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    match st.svc.object_to_subsidy(&s.actor, &id, form.get("text").map_or("", String::as_str)).await {
        Ok(_) => Ok(Redirect::to(&format!("/subsidies/{id}#objections")).into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(m) => Err(render_detail(&st, c, &s.actor, &id, m).await),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

async fn resolve_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path((id, oid)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let upheld = form.get("upheld").is_some_and(|v| v == "1");
    match st
        .svc
        .resolve_subsidy_objection(
            &s.actor,
            &id,
            &oid,
            upheld,
            form.get("resolution").map_or("", String::as_str),
        )
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/subsidies/{id}#objections")).into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(m) => Err(render_detail(&st, c, &s.actor, &id, m).await),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

async fn upload_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    multipart: axum::extract::Multipart,
) -> Page {
    let (name, bytes) = match super::kit::page_upload(multipart, &s, tr).await {
        Ok(x) => x,
        Err(Ok(msg)) => {
            return Err(with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                render_detail(&st, c, &s.actor, &id, vec![msg]).await,
            ))
        }
        Err(Err(refused)) => return Err(refused),
    };
    let kind = q.get("kind").map_or("", String::as_str);
    match st.svc.add_subsidy_document(&s.actor, &id, kind, &name, &bytes).await {
        Ok(()) => Ok(Redirect::to(&format!("/subsidies/{id}#documents")).into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(m) => Err(render_detail(&st, c, &s.actor, &id, m).await),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

#[derive(Template)]
#[template(path = "subsidy_check.html")]
struct CheckTpl {
    c: Chrome,
    policy_id: String,
    programmes: Vec<(String, String, bool)>,
    programme: String,
    stages: Vec<(String, String, bool)>,
    national: bool,
    qualification: bool,
    contract: String,
    related: bool,
    compensated: bool,
    checked: bool,
    eligible: bool,
    amount: String,
    bound_by: String,
    label: String,
    unconfirmed: bool,
    steps: Vec<(String, String)>,
    failures: Vec<String>,
    /// The premium is not (fully) paid: link to the policy's payment card.
    pay_first: bool,
    errors: Vec<String>,
}

/// Who an application waits on in each status, for a reader with no step of their own.
fn waiting_words(tr: Tr, s: SubsidyStatus) -> String {
    use SubsidyStatus as S;
    tr.t(
        match s {
            S::Submitted => "下一步：等待示范区审核人员初审。",
            S::LocalReviewed => "下一步：等待示范区审批人员复审，通过后预留资金并公示。",
            S::InNotice => "下一步：公示期满且无未决异议后，由示范区审批人员批准。",
            S::Approved => "下一步：等待示范区拨付资金。",
            S::Offered => "下一步：等待企业确认享受。",
            S::Recommended => "下一步：等待示范区报送部委。",
            S::Forwarded => "下一步：等待部委批复。",
            S::Qualified => "资格已审定，可在三年内申请补偿资金。",
            S::Disbursed | S::Granted => "已办结：资金已拨付或核定。",
            S::Rejected | S::ClawedBack | S::Lapsed | S::NotQualified | S::Refused => "已办结。",
        },
        match s {
            S::Submitted => "Next: the zone's reviewers do the local review.",
            S::LocalReviewed => {
                "Next: the zone's approvers do the department review; passing reserves the budget and publishes a notice."
            }
            S::InNotice => "Next: once the notice has run without an open objection, a zone approver approves it.",
            S::Approved => "Next: the zone pays it.",
            S::Offered => "Next: the enterprise confirms it.",
            S::Recommended => "Next: the zone forwards it to the ministries.",
            S::Forwarded => "Next: the ministries decide.",
            S::Qualified => "Qualified: funding may be applied for within three years.",
            S::Disbursed | S::Granted => "Done: the money is paid or granted.",
            S::Rejected | S::ClawedBack | S::Lapsed | S::NotQualified | S::Refused => "Done.",
        },
    )
    .to_owned()
}

/// The declarations a form sends, checked.
fn decl(q: &HashMap<String, String>) -> Result<Declarations, FieldError> {
    Declarations::parse(&DeclarationsInput {
        contract_amount_yuan: q.get("contract_amount_yuan").cloned().unwrap_or_default(),
        related_party: q.get("related_party").is_some_and(|v| v == "1"),
        already_compensated: q.get("already_compensated").is_some_and(|v| v == "1"),
    })
}

async fn render_check(
    st: &AppState,
    c: Chrome,
    actor: &Actor,
    id: &str,
    q: &HashMap<String, String>,
    errors: Vec<String>,
) -> Response {
    let tr = c.tr;
    let all = st.svc.subsidy_programmes().await.unwrap_or_default();
    // One entry per programme, named by its newest version.
    let mut ids: Vec<&Programme> = Vec::new();
    // Loan-premium programmes take loans: they are applied for from the loan's page.
    for p in all.iter().filter(|p| p.loan.is_none()) {
        match ids.iter_mut().find(|x| x.id == p.id) {
            Some(x) if x.version < p.version => *x = p,
            Some(_) => {}
            None => ids.push(p),
        }
    }
    let programme = q.get("programme").cloned().unwrap_or_default();
    let stage = q.get("stage").cloned().unwrap_or_default();
    let national =
        ids.iter().any(|p| p.id == programme && p.kind != kebao_domain::subsidy::ProgrammeKind::Zone);
    let mut t = CheckTpl {
        policy_id: id.to_owned(),
        programmes: ids
            .iter()
            .map(|p| (p.id.clone(), tr.pick(p.name_zh.clone(), p.name_en.clone()), p.id == programme))
            .collect(),
        programme: programme.clone(),
        stages: [("qualification", "资格审定", "qualification"), ("funding", "资金申请", "funding")]
            .iter()
            .map(|(code, zh, en)| ((*code).to_owned(), tr.t(zh, en).to_owned(), stage == *code))
            .collect(),
        national,
        qualification: national && stage == "qualification",
        contract: q.get("contract_amount_yuan").cloned().unwrap_or_default(),
        related: q.get("related_party").is_some_and(|v| v == "1"),
        compensated: q.get("already_compensated").is_some_and(|v| v == "1"),
        checked: false,
        eligible: false,
        amount: String::new(),
        bound_by: String::new(),
        label: String::new(),
        unconfirmed: false,
        steps: Vec::new(),
        failures: Vec::new(),
        pay_first: false,
        errors,
        c,
    };
    if !programme.is_empty() {
        let checked = match decl(q) {
            Ok(d) => st.svc.check_subsidy(actor, id, &programme, &d).await,
            Err(e) => Err(e.into()),
        };
        match checked {
            Ok((p, r)) => {
                t.checked = true;
                t.label = programme_caveat(tr, &p);
                t.unconfirmed = !p.confidence.is_fact();
                match r {
                    Ok(g) => {
                        t.eligible = true;
                        t.amount = yuan(g.amount_fen);
                        t.bound_by = g.bound_by.as_deref().map(|b| rule_words(tr, b)).unwrap_or_default();
                        t.steps = g
                            .steps
                            .iter()
                            .map(|s| (tr.pick(s.label_zh.clone(), s.label_en.clone()), yuan(s.value_fen)))
                            .collect();
                    }
                    Err(f) => {
                        t.failures = f
                            .iter()
                            .map(|x| {
                                let reason = tr.pick(x.reason_zh.clone(), x.reason_en.clone());
                                if x.rule == "premium_paid" {
                                    // What to do next: pay, and show the insurer the receipt.
                                    reason
                                        + tr.t(
                                            "。下一步：按保单页“缴纳保费”中的账户和附言付款并上传银行回单，保险机构登记收款后再申请。",
                                            ". Next: pay as the policy page's “Paying the premium” says and upload the bank's receipt; apply once the insurer has recorded the payment.",
                                        )
                                } else {
                                    reason
                                }
                            })
                            .collect();
                        t.pay_first = f.iter().any(|x| x.rule == "premium_paid");
                    }
                }
            }
            Err(e) => match form_messages(tr, e) {
                Ok(m) => t.errors.extend(m),
                Err(other) => return error_page(tr, t.c, other),
            },
        }
    }
    let code = if t.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    with_status(code, html(&t))
}

async fn check_page(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    Ok(render_check(&st, c, &s.actor, &id, &q, Vec::new()).await)
}

async fn apply_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let programme = form.get("programme").cloned().unwrap_or_default();
    let stage = form.get("stage").cloned().unwrap_or_default();
    let applied = match decl(&form) {
        Ok(d) => st.svc.apply_subsidy(&s.actor, &id, &programme, &stage, &d).await,
        Err(e) => Err(e.into()),
    };
    match applied {
        Ok(a) => Ok(Redirect::to(&format!("/subsidies/{}?done=subsidy", a.id)).into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(m) => Err(render_check(&st, c, &s.actor, &id, &form, m).await),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

#[derive(Template)]
#[template(path = "subsidy_notice.html")]
struct NoticeTpl {
    c: Chrome,
    rows: Vec<(String, String, String, String, String, String)>,
}

async fn notice_rows(
    st: &AppState,
    tr: Tr,
) -> Result<Vec<(String, String, String, String, String, String)>, ServiceError> {
    let n = names(st, tr).await;
    Ok(st
        .svc
        .subsidy_roster(SubsidyStatus::InNotice)
        .await?
        .into_iter()
        .map(|(a, ent, number)| {
            (
                a.id.clone(),
                ent,
                n.get(&a.programme_id).cloned().unwrap_or_else(|| a.programme_id.clone()),
                number,
                a.amount.display_yuan(),
                format!(
                    "{} — {}",
                    a.notice_from.map(|d| d.to_string()).unwrap_or_default(),
                    a.notice_to.map(|d| d.to_string()).unwrap_or_default()
                ),
            )
        })
        .collect())
}

async fn notice_page(State(st): State<AppState>, Extension(tr): Extension<Tr>, headers: HeaderMap) -> Page {
    let (c, _) = chrome(&st, &headers, tr).await?;
    let rows = notice_rows(&st, tr).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    Ok(html(&NoticeTpl { rows, c }))
}

async fn notice_xlsx(State(st): State<AppState>, Extension(tr): Extension<Tr>) -> Page {
    let rows = notice_rows(&st, tr).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let table = kebao_service::tabular::Table {
        headers: ["申请编号", "企业名称", "补贴项目", "保单号", "拟补贴金额", "公示期"]
            .iter()
            .map(|h| (*h).to_owned())
            .collect(),
        rows: rows.into_iter().map(|r| vec![r.0, r.1, r.2, r.3, r.4, r.5]).collect(),
    };
    let bytes = kebao_service::tabular::write_xlsx(&table, "public notice")
        .map_err(|e| error_page(tr, chrome_blank(tr), ServiceError::Internal(e)))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"kebao-subsidy-notice.xlsx\"".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

struct ProgCard {
    id: String,
    name: String,
    budget: String,
    reserved: String,
    disbursed: String,
    budget_chart: String,
    status_chart: String,
    industry_chart: String,
    auto: bool,
}

#[derive(Template)]
#[template(path = "subsidy_dashboard.html")]
struct DashTpl {
    c: Chrome,
    cards: Vec<ProgCard>,
    programmes: Vec<(String, u32, String, String, String, String, bool)>,
    approver: bool,
    /// Whether the viewer confirms programmes' numbers (zone approvers, platform admins).
    can_confirm: bool,
    what_if: Option<(String, usize, usize, String, usize, String)>,
    wi_programme: String,
    wi_options: Vec<(String, String)>,
    wi_share: String,
    wi_cap: String,
    errors: Vec<String>,
    notice: String,
}

/// What a page says about a programme's numbers: the document they come from once the zone
/// confirmed them, else once, in words a citizen understands, that they are demonstration
/// values.
pub(super) fn programme_caveat(tr: Tr, p: &kebao_domain::subsidy::Programme) -> String {
    if p.confidence.is_fact() {
        tr.pick(p.label_zh.clone(), p.label_en.clone())
    } else {
        tr.t(
            "示范参数，以管委会公布为准",
            "Demonstration parameters: the rules the zone committee publishes prevail",
        )
        .to_owned()
    }
}

async fn dashboard_page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let stats = st.svc.subsidy_dashboard(&s.actor).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let all = st.svc.subsidy_programmes().await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let mut errors = Vec::new();
    let wi_programme = q.get("programme").cloned().unwrap_or_default();
    let wi_share = q.get("share_percent").cloned().unwrap_or_default();
    let wi_cap = q.get("per_enterprise_year_cap_yuan").cloned().unwrap_or_default();
    let mut what_if = None;
    if !wi_programme.is_empty() {
        let share = wi_share.trim();
        let cap = wi_cap.trim();
        let dto = WhatIfDto {
            share_percent: if share.is_empty() { None } else { share.parse().ok().or(Some(f64::NAN)) },
            per_enterprise_year_cap_yuan: if cap.is_empty() { None } else { cap.parse().ok().or(Some(-1)) },
            ..Default::default()
        };
        match what_if_params(&dto) {
            Err(api) => errors
                .extend(api.body.details.iter().map(|d| tr.pick(d.message_zh.clone(), d.message_en.clone()))),
            Ok(params) => match st.svc.subsidy_what_if(&s.actor, &wi_programme, &params).await {
                Ok(w) => {
                    let split: Vec<String> = w
                        .by_industry
                        .iter()
                        .map(|(k, v)| format!("{} {}", super::products::industry_label(&st, tr, k), yuan(*v)))
                        .collect();
                    what_if = Some((
                        yuan(w.cost_fen),
                        w.eligible,
                        w.enterprises,
                        split.join("；"),
                        w.policies_assessed,
                        w.failures
                            .iter()
                            .map(|(k, v)| format!("{} ×{v}", rule_words(tr, k)))
                            .collect::<Vec<_>>()
                            .join("，"),
                    ));
                }
                Err(e) => match form_messages(tr, e) {
                    Ok(m) => errors.extend(m),
                    Err(other) => return Err(error_page(tr, c, other)),
                },
            },
        }
    }
    let cards = stats
        .iter()
        .map(|x| {
            let budget_chart = match x.budget_fen {
                Some(b) => super::svg::hbar(
                    &[
                        (tr.t("已拨付", "disbursed").to_owned(), x.disbursed_fen as f64 / 100.0),
                        (tr.t("已预留", "reserved").to_owned(), x.reserved_fen as f64 / 100.0),
                        (
                            tr.t("可用余额", "left").to_owned(),
                            (b - x.disbursed_fen - x.reserved_fen).max(0) as f64 / 100.0,
                        ),
                    ],
                    tr.t(" 元", " yuan"),
                ),
                None => String::new(),
            };
            let status_items: Vec<(String, f64)> = x
                .by_status
                .iter()
                .map(|(k, v)| {
                    (
                        SubsidyStatus::from_code(k)
                            .map_or(k.clone(), |s| tr.t(s.label_zh(), s.label_en()).to_owned()),
                        *v as f64,
                    )
                })
                .collect();
            let industry_items: Vec<(String, f64)> = x
                .by_industry
                .iter()
                .map(|(k, v)| (super::products::industry_label(&st, tr, k), *v as f64 / 100.0))
                .collect();
            ProgCard {
                id: x.programme_id.clone(),
                name: all
                    .iter()
                    .filter(|p| p.id == x.programme_id)
                    .max_by_key(|p| p.version)
                    .map_or_else(|| x.name_zh.clone(), |p| tr.pick(p.name_zh.clone(), p.name_en.clone())),
                budget: x.budget_fen.map(yuan).unwrap_or_else(|| {
                    tr.t("中央财政（不占示范区预算）", "central money (not the zone's budget)").to_owned()
                }),
                reserved: yuan(x.reserved_fen),
                disbursed: yuan(x.disbursed_fen),
                budget_chart,
                status_chart: if status_items.is_empty() {
                    String::new()
                } else {
                    super::svg::hbar(&status_items, "")
                },
                industry_chart: if industry_items.is_empty() {
                    String::new()
                } else {
                    super::svg::hbar(&industry_items, tr.t(" 元", " yuan"))
                },
                auto: all.iter().any(|p| p.id == x.programme_id && p.auto_grant.is_some()),
            }
        })
        .collect();
    Ok(html(&DashTpl {
        cards,
        programmes: all
            .iter()
            .map(|p| {
                (
                    p.id.clone(),
                    p.version,
                    tr.pick(p.name_zh.clone(), p.name_en.clone()),
                    format!("{} — {}", p.valid_from, p.valid_to.map(|d| d.to_string()).unwrap_or_default()),
                    p.source.clone(),
                    tr.pick(p.label_zh.clone(), p.label_en.clone()),
                    !p.confidence.is_fact(),
                )
            })
            .collect(),
        approver: st.svc.subsidy_zone_rights(&s.actor).decide,
        can_confirm: st
            .svc
            .abilities(&s.actor)
            .await
            .is_ok_and(|a| a.on_zone(kebao_service::authz::Action::LoadSubsidyProgrammes)),
        what_if,
        wi_options: {
            let mut o: Vec<(String, String)> = Vec::new();
            for p in &all {
                if !o.iter().any(|(id, _)| *id == p.id) {
                    o.push((p.id.clone(), tr.pick(p.name_zh.clone(), p.name_en.clone())));
                }
            }
            o
        },
        wi_programme,
        wi_share,
        wi_cap,
        errors,
        notice: q
            .get("offers")
            .map(|n| format!("{} {n}", tr.t("新增免申即享名单：", "new auto-grant offers:")))
            .or_else(|| {
                q.contains_key("confirmed").then(|| {
                    tr.t(
                        "补贴参数已确认，各页面将以所写文件为依据。",
                        "Confirmed: pages now cite the document named.",
                    )
                    .to_owned()
                })
            })
            .unwrap_or_default(),
        c,
    }))
}

async fn offers_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    match st.svc.offer_auto_grants(&s.actor, form.get("programme").map_or("", String::as_str)).await {
        Ok(n) => Ok(Redirect::to(&format!("/subsidies/dashboard?offers={n}")).into_response()),
        Err(e) => Err(error_page(tr, c, e)),
    }
}

async fn confirm_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let version = g("version").trim().parse::<u32>().unwrap_or(0);
    match st.svc.confirm_subsidy_programme(&s.actor, &g("programme"), version, &g("document")).await {
        Ok(_) => Ok(Redirect::to("/subsidies/dashboard?confirmed=1#programmes").into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(m) => Err(with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                html(&super::kit::SimpleTpl {
                    c,
                    heading: tr.t("未能确认补贴参数", "The parameters were not confirmed").to_owned(),
                    body: m.join(tr.t("；", "; ")),
                }),
            )),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}
