//! UI of applications, underwriting and policies.

use super::pages::{check_csrf, error_page, form_errors, html, with_status, Authed, Chrome, Page};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use kebao_domain::policy::ApplicationStatus;
use kebao_domain::user::Role;
use kebao_domain::{FieldError, Money};
use kebao_service::authz::Actor;
use kebao_service::ServiceError;
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/products/{id}/apply", post(apply))
        .route("/policies", get(policies_page))
        .route("/policies/{id}", get(policy_page))
        .route("/policies/{id}/premium", post(premium_post))
        .route("/underwriting", get(queue_page))
        .route("/underwriting/{id}", post(decide_post))
        .route("/policies/{id}/claims", post(claim_report))
        .route("/claims", get(claims_page))
        .route("/claims/{id}", get(claim_page).post(claim_step_post))
        .route("/claims/{id}/complaint", post(complaint_post))
        .route("/disputes", get(disputes_page))
        .route("/disputes/{id}", get(dispute_page).post(dispute_step_post))
}

async fn complaint_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    match st.svc.complain(&s.actor, &id, form.get("complaint").map_or("", String::as_str)).await {
        Ok(d) => Ok(Redirect::to(&format!("/disputes/{}", d.id)).into_response()),
        Err(e) => match form_errors(e) {
            Ok(errs) => Err(render_claim(
                &st,
                c,
                &s.actor,
                &id,
                errs.iter().map(|f| tr.pick(f.message_zh.clone(), f.message_en.clone())).collect(),
            )
            .await),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

#[derive(Template)]
#[template(path = "disputes.html")]
struct DisputesTpl {
    c: Chrome,
    rows: Vec<(String, String, String, String)>,
}

async fn disputes_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    let list =
        st.svc.disputes(&s.actor).await.map_err(|e| error_page(tr, super::pages::chrome_blank(tr), e))?;
    Ok(html(&DisputesTpl {
        rows: list
            .iter()
            .map(|d| {
                (
                    d.id.clone(),
                    d.complained_on.clone(),
                    tr.t(d.status.label_zh(), d.status.label_en()).to_owned(),
                    d.complaint.chars().take(60).collect(),
                )
            })
            .collect(),
        c,
    }))
}

#[derive(Template)]
#[template(path = "dispute.html")]
struct DisputeTpl {
    c: Chrome,
    id: String,
    claim_id: String,
    status: String,
    status_code: String,
    complaint: String,
    sessions: Vec<(String, String)>,
    outcome: String,
    forum: String,
    deadlines: Vec<(String, String, bool)>,
    mediator: bool,
    errors: Vec<String>,
}

async fn render_dispute(st: &AppState, c: Chrome, actor: &Actor, id: &str, errors: Vec<String>) -> Response {
    let tr = c.tr;
    let v = match st.svc.dispute(actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(tr, c, e),
    };
    let d = &v.dispute;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    with_status(
        status,
        html(&DisputeTpl {
            id: d.id.clone(),
            claim_id: d.claim_id.clone(),
            status: tr.t(d.status.label_zh(), d.status.label_en()).to_owned(),
            status_code: d.status.code().to_owned(),
            complaint: d.complaint.clone(),
            sessions: d.sessions.iter().map(|x| (x.on.clone(), x.notes.clone())).collect(),
            outcome: d.outcome.clone().unwrap_or_default(),
            forum: d.forum.map(|f| tr.t(f.label_zh(), f.label_en()).to_owned()).unwrap_or_default(),
            deadlines: v.deadlines.iter().map(|x| (tr.t(x.0, x.1).to_owned(), x.2.clone(), x.3)).collect(),
            mediator: actor.user().is_some_and(|u| u.has(Role::Mediator)),
            errors,
            c,
        }),
    )
}

async fn dispute_page(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
) -> Page {
    Ok(render_dispute(&st, c, &s.actor, &id, Vec::new()).await)
}

async fn dispute_step_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let step = crate::api::policies::DisputeStepDto {
        step: g("step"),
        on: g("on"),
        notes: g("notes"),
        outcome: g("outcome"),
        forum: g("forum"),
    };
    match crate::api::policies::dispute_step_run(&st, &s.actor, &id, &step).await {
        Ok(()) => Ok(Redirect::to(&format!("/disputes/{id}")).into_response()),
        Err(api) => {
            let msgs = if api.body.details.is_empty() {
                vec![tr.pick(api.body.message_zh.clone(), api.body.message.clone())]
            } else {
                api.body.details.iter().map(|d| tr.pick(d.message_zh.clone(), d.message_en.clone())).collect()
            };
            Err(with_status(api.status, render_dispute(&st, c, &s.actor, &id, msgs).await))
        }
    }
}

struct ClaimRowT {
    id: String,
    loss_date: String,
    status: String,
    claimed: String,
    paid: String,
}

#[derive(Template)]
#[template(path = "claims.html")]
struct ClaimsTpl {
    c: Chrome,
    rows: Vec<ClaimRowT>,
}

async fn claims_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    let list =
        st.svc.my_claims(&s.actor).await.map_err(|e| error_page(tr, super::pages::chrome_blank(tr), e))?;
    Ok(html(&ClaimsTpl {
        rows: list
            .iter()
            .map(|x| ClaimRowT {
                id: x.id.clone(),
                loss_date: x.loss_date.clone(),
                status: tr.t(x.status.label_zh(), x.status.label_en()).to_owned(),
                claimed: Money::from_fen(x.claimed_fen).display_yuan(),
                paid: Money::from_fen(x.paid_fen).display_yuan(),
            })
            .collect(),
        c,
    }))
}

#[derive(Template)]
#[template(path = "claim.html")]
struct ClaimTpl {
    c: Chrome,
    id: String,
    policy_number: String,
    status: String,
    status_code: String,
    loss_date: String,
    description: String,
    claimed: String,
    reserve: String,
    outcome: String,
    decided: String,
    paid: String,
    reason: String,
    clocks: Vec<(String, String, String, bool)>,
    handler: bool,
    can_complain: bool,
    errors: Vec<String>,
}

async fn render_claim(st: &AppState, c: Chrome, actor: &Actor, id: &str, errors: Vec<String>) -> Response {
    let tr = c.tr;
    let v = match st.svc.claim(actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(tr, c, e),
    };
    let x = &v.claim;
    let handler = actor.user().is_some_and(|u| u.org_id == x.insurer_id && u.has(Role::ClaimsHandler));
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    with_status(
        status,
        html(&ClaimTpl {
            id: x.id.clone(),
            policy_number: v.policy_number.clone(),
            status: tr.t(x.status.label_zh(), x.status.label_en()).to_owned(),
            status_code: x.status.code().to_owned(),
            loss_date: x.loss_date.clone(),
            description: x.description.clone(),
            claimed: Money::from_fen(x.claimed_fen).display_yuan(),
            reserve: Money::from_fen(x.reserve_fen).display_yuan(),
            outcome: x.outcome.map(|o| tr.t(o.label_zh(), o.label_en()).to_owned()).unwrap_or_default(),
            decided: Money::from_fen(x.decided_fen).display_yuan(),
            paid: Money::from_fen(x.paid_fen).display_yuan(),
            reason: x.reason.clone().unwrap_or_default(),
            clocks: v
                .clocks
                .iter()
                .map(|k| {
                    let left = match k.days_left {
                        None => tr.t("已完成", "met").to_owned(),
                        Some(d) if d < 0 => format!("{} {}", tr.t("已逾期", "overdue by"), -d),
                        Some(d) => format!("{} {}", tr.t("剩余天数", "days left"), d),
                    };
                    (
                        tr.t(k.label_zh, k.label_en).to_owned(),
                        k.due.to_string(),
                        left,
                        k.days_left.is_some_and(|d| d < 0),
                    )
                })
                .collect(),
            handler,
            can_complain: actor.user().is_some_and(|u| u.org_id == x.enterprise_id)
                && matches!(
                    x.status,
                    kebao_domain::claim::ClaimStatus::Decided | kebao_domain::claim::ClaimStatus::Closed
                ),
            errors,
            c,
        }),
    )
}

async fn claim_page(State(st): State<AppState>, Authed { c, s, .. }: Authed, Path(id): Path<String>) -> Page {
    Ok(render_claim(&st, c, &s.actor, &id, Vec::new()).await)
}

async fn claim_step_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let step = crate::api::policies::ClaimStepDto {
        step: g("step"),
        amount_yuan: g("amount_yuan"),
        outcome: g("outcome"),
        reason: g("reason"),
        reference: g("reference"),
    };
    match crate::api::policies::claim_step_run(&st, &s.actor, &id, &step).await {
        Ok(()) => Ok(Redirect::to(&format!("/claims/{id}")).into_response()),
        Err(api) if api.status == StatusCode::UNPROCESSABLE_ENTITY || api.status == StatusCode::CONFLICT => {
            let msgs = if api.body.details.is_empty() {
                vec![tr.pick(api.body.message_zh.clone(), api.body.message.clone())]
            } else {
                api.body.details.iter().map(|d| tr.pick(d.message_zh.clone(), d.message_en.clone())).collect()
            };
            Err(render_claim(&st, c, &s.actor, &id, msgs).await)
        }
        Err(api) => Err(with_status(
            api.status,
            render_claim(
                &st,
                c,
                &s.actor,
                &id,
                vec![tr.pick(api.body.message_zh.clone(), api.body.message.clone())],
            )
            .await,
        )),
    }
}

async fn claim_report(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let r = match Money::parse_yuan(&g("claimed_yuan"), "claimed_yuan") {
        Ok(m) => st.svc.report_claim(&s.actor, &id, &g("loss_date"), &g("description"), m).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(claim) => Ok(Redirect::to(&format!("/claims/{}", claim.id)).into_response()),
        Err(e) => match form_errors(e) {
            Ok(errs) => Err(render_policy(
                &st,
                c,
                &s.actor,
                &id,
                errs.iter().map(|f| tr.pick(f.message_zh.clone(), f.message_en.clone())).collect(),
            )
            .await),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

struct AppRow {
    id: String,
    product_id: String,
    status: String,
    status_code: String,
    reasons: String,
    premium: String,
    period: String,
}

fn app_row(c: &Chrome, a: &kebao_store::policies::ApplicationRow) -> AppRow {
    AppRow {
        id: a.id.clone(),
        product_id: a.product_id.clone(),
        status: c.tr.t(a.status.label_zh(), a.status.label_en()).to_owned(),
        status_code: a.status.code().to_owned(),
        reasons: a.reasons.join("；"),
        premium: Money::from_fen(a.premium_fen).display_yuan(),
        period: format!("{} — {}", a.start_date, a.end_date),
    }
}

struct PolicyRowT {
    id: String,
    number: String,
    period: String,
    premium: String,
}

#[derive(Template)]
#[template(path = "policies.html")]
struct PoliciesTpl {
    c: Chrome,
    apps: Vec<AppRow>,
    policies: Vec<PolicyRowT>,
    enterprise: bool,
}

async fn policies_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    let enterprise =
        matches!(&s.actor, Actor::User { org_kind, .. } if *org_kind == kebao_domain::OrgKind::Enterprise);
    let apps = if enterprise {
        st.svc
            .my_applications(&s.actor)
            .await
            .map_err(|e| error_page(tr, super::pages::chrome_blank(tr), e))?
    } else {
        Vec::new()
    };
    let pols =
        st.svc.my_policies(&s.actor).await.map_err(|e| error_page(tr, super::pages::chrome_blank(tr), e))?;
    Ok(html(&PoliciesTpl {
        apps: apps.iter().map(|a| app_row(&c, a)).collect(),
        policies: pols
            .iter()
            .map(|p| PolicyRowT {
                id: p.id.clone(),
                number: p.number.clone(),
                period: format!("{} — {}", p.start_date, p.end_date),
                premium: Money::from_fen(p.premium_fen).display_yuan(),
            })
            .collect(),
        enterprise,
        c,
    }))
}

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyTpl {
    c: Chrome,
    id: String,
    number: String,
    insurer: String,
    enterprise: String,
    product: String,
    period: String,
    premium: String,
    paid: String,
    /// The limit and deductible insured by this policy (as rated).
    limit: String,
    deductible: String,
    coverages: Vec<(String, String, String)>,
    trace: Vec<(String, String, String, String)>,
    can_record: bool,
    can_claim: bool,
    errors: Vec<String>,
}

async fn render_policy(st: &AppState, c: Chrome, actor: &Actor, id: &str, errors: Vec<String>) -> Response {
    let tr = c.tr;
    let v = match st.svc.policy(actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(tr, c, e),
    };
    let sched = &v.schedule;
    let coverages = sched
        .pointer("/product/coverages")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .map(|x| {
                    let m = |k: &str| {
                        Money::from_fen(x.get(k).and_then(|v| v.as_i64()).unwrap_or(0)).display_yuan()
                    };
                    (
                        x.get("name").and_then(|v| v.as_str()).unwrap_or_default().to_owned(),
                        m("limit"),
                        m("deductible"),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let trace = sched
        .get("trace")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .map(|s| {
                    let g = |k: &str| s.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
                    (
                        if tr.en { g("label_en") } else { g("label_zh") },
                        g("detail"),
                        g("factor"),
                        g("running"),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let can_record = actor.user().is_some_and(|u| {
        u.org_id == v.policy.insurer_id && (u.has(Role::Underwriter) || u.has(Role::OrgAdmin))
    });
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    with_status(
        status,
        html(&PolicyTpl {
            id: v.policy.id.clone(),
            number: v.policy.number.clone(),
            insurer: v.insurer_name.clone(),
            enterprise: v.enterprise_name.clone(),
            product: sched.pointer("/product/name").and_then(|v| v.as_str()).unwrap_or_default().to_owned(),
            period: format!("{} — {}", v.policy.start_date, v.policy.end_date),
            premium: Money::from_fen(v.policy.premium_fen).display_yuan(),
            paid: v.paid.display_yuan(),
            limit: Money::from_fen(sched.pointer("/rated/limit").and_then(|x| x.as_i64()).unwrap_or(0))
                .display_yuan(),
            deductible: Money::from_fen(
                sched.pointer("/rated/deductible").and_then(|x| x.as_i64()).unwrap_or(0),
            )
            .display_yuan(),
            coverages,
            trace,
            can_record,
            can_claim: actor.user().is_some_and(|u| {
                u.org_id == v.policy.enterprise_id
                    && (u.has(Role::EnterpriseAdmin) || u.has(Role::EnterpriseStaff))
            }),
            errors,
            c,
        }),
    )
}

async fn policy_page(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
) -> Page {
    Ok(render_policy(&st, c, &s.actor, &id, Vec::new()).await)
}

async fn premium_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let r = match Money::parse_yuan(&g("amount_yuan"), "amount_yuan") {
        Ok(m) => st.svc.record_premium_paid(&s.actor, &id, m, &g("reference")).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/policies/{id}")).into_response()),
        Err(e) => match form_errors(e) {
            Ok(errs) => Err(render_policy(
                &st,
                c,
                &s.actor,
                &id,
                errs.iter().map(|f| tr.pick(f.message_zh.clone(), f.message_en.clone())).collect(),
            )
            .await),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

async fn apply(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let req = crate::api::products::QuoteRequestDto {
        limit_yuan: g("limit_yuan"),
        deductible_yuan: g("deductible_yuan"),
        sum_insured_yuan: g("sum_insured_yuan"),
        revenue_yuan: g("revenue_yuan"),
        industry: form.get("industry").cloned(),
        stage: form.get("stage").cloned(),
        claims_3y: g("claims_3y").trim().parse().unwrap_or(0),
        on: None,
    };
    let input = match crate::api::products::quote_input(&req) {
        Ok(i) => i,
        Err(api) => {
            let msg = api
                .body
                .details
                .iter()
                .map(|d| tr.pick(d.message_zh.clone(), d.message_en.clone()))
                .collect::<Vec<_>>()
                .join("；");
            return Err(error_page(tr, c, FieldError::new("quote", "invalid", msg.clone(), msg).into()));
        }
    };
    match st.svc.apply_for_policy(&s.actor, &id, &input, &g("start_date")).await {
        Ok(_) => Ok(Redirect::to("/policies").into_response()),
        Err(e) => Err(error_page(tr, c, e)),
    }
}

#[derive(Template)]
#[template(path = "underwriting.html")]
struct QueueTpl {
    c: Chrome,
    apps: Vec<AppRow>,
}

async fn queue_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    let apps = st
        .svc
        .underwriting_queue(&s.actor)
        .await
        .map_err(|e| error_page(tr, super::pages::chrome_blank(tr), e))?;
    Ok(html(&QueueTpl { apps: apps.iter().map(|a| app_row(&c, a)).collect(), c }))
}

async fn decide_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let accept = form.get("decision").is_some_and(|d| d == "accept");
    match st
        .svc
        .decide_application(&s.actor, &id, accept, form.get("reason").map_or("", String::as_str))
        .await
    {
        Ok(a) if a.status == ApplicationStatus::Bound => Ok(Redirect::to("/underwriting").into_response()),
        Ok(_) => Ok(Redirect::to("/underwriting").into_response()),
        Err(e @ ServiceError::Forbidden { .. }) => Err(error_page(tr, c, e)),
        Err(e) => Err(error_page(tr, c, e)),
    }
}
