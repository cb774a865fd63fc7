//! Claims: reporting, the claims handlers' steps, claim documents and the claims export.

use super::kit::{
    check_csrf, error_page, form_messages, html, list_query, with_status, Authed, Chrome, ListNav, Page,
};
use super::policies::xlsx_response;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use kebao_domain::claim::{ClaimInput, ClaimStatus, ClaimStep};
use kebao_service::authz::Actor;
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/policies/{id}/claims", post(claim_report))
        .route("/claims", get(claims_page))
        .route("/claims/{id}", get(claim_page).post(claim_step_post))
        .route("/claims/{id}/documents", post(claim_document_upload))
        .route("/claim-documents/{id}", get(claim_document_download))
        .route("/claims.xlsx", get(claims_xlsx))
}

struct ClaimRowT {
    id: String,
    policy_id: String,
    policy_number: String,
    holder: String,
    insurer: String,
    product: String,
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
    nav: ListNav,
}

async fn claims_page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let query = list_query(&q);
    let listed = st
        .svc
        .claim_list(&s.actor, &query)
        .await
        .map_err(|e| error_page(tr, super::kit::chrome_blank(tr), e))?;
    Ok(html(&ClaimsTpl {
        rows: listed
            .rows
            .iter()
            .map(|i| ClaimRowT {
                id: i.claim.id.clone(),
                policy_id: i.claim.policy_id.clone(),
                policy_number: i.parties.policy_number.clone(),
                holder: i.parties.holder.clone(),
                insurer: i.parties.insurer.clone(),
                product: i.parties.product.clone(),
                loss_date: i.claim.loss_date.to_string(),
                status: tr.t(i.claim.status.label_zh(), i.claim.status.label_en()).to_owned(),
                claimed: i.claim.claimed.display_yuan(),
                paid: i.claim.paid.display_yuan(),
            })
            .collect(),
        nav: ListNav {
            base: "/claims",
            q: query.q.trim().to_owned(),
            status: query.status.trim().to_owned(),
            statuses: ClaimStatus::ALL
                .iter()
                .map(|s| (s.code().to_owned(), tr.t(s.label_zh(), s.label_en()).to_owned()))
                .collect(),
            page: listed.page,
            pages: listed.pages,
            total: listed.total,
        },
        c,
    }))
}

/// The steps shown on a claim's page.
#[derive(Default)]
struct StepsT {
    assign: bool,
    reserve: bool,
    decide: bool,
    pay: bool,
    close: bool,
    reopen: bool,
    complain: bool,
}

impl StepsT {
    fn of(steps: &[ClaimStep]) -> StepsT {
        let has = |s: ClaimStep| steps.contains(&s);
        StepsT {
            assign: has(ClaimStep::Assign),
            reserve: has(ClaimStep::Reserve),
            decide: has(ClaimStep::Decide),
            pay: has(ClaimStep::Pay),
            close: has(ClaimStep::Close),
            reopen: has(ClaimStep::Reopen),
            complain: has(ClaimStep::Complain),
        }
    }

    /// Whether any of the handlers' steps is shown.
    fn handles(&self) -> bool {
        self.assign || self.reserve || self.decide || self.pay || self.close || self.reopen
    }
}

#[derive(Template)]
#[template(path = "claim.html")]
struct ClaimTpl {
    c: Chrome,
    /// A refused step: the step, its messages and what was typed.
    failed: super::kit::Refused,
    id: String,
    policy_number: String,
    policy_id: String,
    holder: String,
    insurer: String,
    product: String,
    status: String,
    status_code: String,
    loss_date: String,
    description: String,
    claimed: String,
    /// The most the claim can be paid, and whether the claim asks for more.
    cap: String,
    above_cap: bool,
    reserve: String,
    outcome: String,
    decided: String,
    paid: String,
    reason: String,
    clocks: Vec<(String, String, String, bool)>,
    /// What the actor may do now (the service's `claim_actions`).
    a: StepsT,
    errors: Vec<String>,
    /// id, name, size, sha256, uploaded by.
    documents: Vec<(String, String, String, String, String)>,
    can_upload: bool,
}

pub(super) async fn render_claim(
    st: &AppState,
    c: Chrome,
    actor: &Actor,
    id: &str,
    errors: Vec<String>,
) -> Response {
    render_claim_failed(st, c, actor, id, errors, super::kit::Refused::default()).await
}

/// The claim page again after a refused step: its messages at the step's form, with what
/// was typed.
async fn render_claim_failed(
    st: &AppState,
    c: Chrome,
    actor: &Actor,
    id: &str,
    errors: Vec<String>,
    failed: super::kit::Refused,
) -> Response {
    let tr = c.tr;
    let v = match st.svc.claim(actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(tr, c, e),
    };
    let x = &v.claim;
    let steps = match st.svc.claim_actions(actor, id).await {
        Ok(steps) => steps,
        Err(e) => return error_page(tr, c, e),
    };
    let can_upload = st.svc.may_attach_claim_document(actor, x);
    let status =
        if errors.is_empty() && failed.is_none() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    with_status(
        status,
        html(&ClaimTpl {
            failed,
            id: x.id.clone(),
            policy_number: v.policy_number.clone(),
            policy_id: x.policy_id.clone(),
            holder: v.parties.holder.clone(),
            insurer: v.parties.insurer.clone(),
            product: v.parties.product.clone(),
            status: tr.t(x.status.label_zh(), x.status.label_en()).to_owned(),
            status_code: x.status.code().to_owned(),
            loss_date: x.loss_date.to_string(),
            description: x.description.clone(),
            claimed: x.claimed.display_yuan(),
            cap: v.cap.display_yuan(),
            above_cap: x.claimed > v.cap,
            reserve: x.reserve.display_yuan(),
            outcome: x.outcome.map(|o| tr.t(o.label_zh(), o.label_en()).to_owned()).unwrap_or_default(),
            decided: x.decided.display_yuan(),
            paid: x.paid.display_yuan(),
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
            documents: v
                .documents
                .iter()
                .map(|d| {
                    (
                        d.id.clone(),
                        d.file_name.clone(),
                        format!("{:.1} KiB", d.size as f64 / 1024.0),
                        d.sha256.clone(),
                        d.uploaded_by.clone(),
                    )
                })
                .collect(),
            can_upload,
            a: StepsT::of(&steps),
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
    let step = crate::forms::claims::ClaimStepDto {
        step: g("step"),
        amount_yuan: g("amount_yuan"),
        outcome: g("outcome"),
        reason: g("reason"),
        reference: g("reference"),
    };
    match crate::forms::claims::claim_step_run(&st, &s.actor, &id, &step).await {
        Ok(()) => Ok(Redirect::to(&format!("/claims/{id}?done=claim_step")).into_response()),
        Err(api) if api.status == StatusCode::UNPROCESSABLE_ENTITY || api.status == StatusCode::CONFLICT => {
            let msgs = super::kit::step_messages(tr, &api);
            let step = g("step");
            // At the step's own form; a step the page has no form for reports above.
            if ["assign", "reserve", "decide", "pay", "close", "reopen"].contains(&step.as_str()) {
                Err(render_claim_failed(
                    &st,
                    c,
                    &s.actor,
                    &id,
                    Vec::new(),
                    super::kit::Refused::step(&step, msgs, form),
                )
                .await)
            } else {
                Err(render_claim(&st, c, &s.actor, &id, msgs).await)
            }
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
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let input = ClaimInput {
        loss_date: g("loss_date"),
        description: g("description"),
        claimed_yuan: g("claimed_yuan"),
    };
    match st.svc.report_claim(&s.actor, &id, &input).await {
        Ok(claim) => Ok(Redirect::to(&format!("/claims/{}?done=claim", claim.id)).into_response()),
        // The form again, with what was typed and each error at its field.
        Err(e) => {
            let fields = ["loss_date", "claimed_yuan", "description"];
            Err(super::policies::refused(&st, c, &s.actor, &id, "claim", &fields, form, e).await)
        }
    }
}

async fn claim_document_upload(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    multipart: axum::extract::Multipart,
) -> Page {
    let (name, bytes) = match super::kit::page_upload(multipart, &s, tr).await {
        Ok(x) => x,
        Err(Ok(msg)) => {
            return Err(with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                render_claim(&st, c, &s.actor, &id, vec![msg]).await,
            ))
        }
        Err(Err(refused)) => return Err(refused),
    };
    match st.svc.add_claim_document(&s.actor, &id, &name, &bytes).await {
        Ok(_) => Ok(Redirect::to(&format!("/claims/{id}#documents")).into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(m) => Err(render_claim(&st, c, &s.actor, &id, m).await),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

async fn claim_document_download(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
) -> Page {
    let (d, body) = st.svc.claim_document(&s.actor, &id).await.map_err(|e| error_page(tr, c, e))?;
    Ok(crate::forms::attachments::attachment_response(&d, body))
}

/// The organisation's claims as a workbook.
async fn claims_xlsx(State(st): State<AppState>, Authed { s, tr, .. }: Authed) -> Page {
    let claims =
        st.svc.my_claims(&s.actor).await.map_err(|e| error_page(tr, super::kit::chrome_blank(tr), e))?;
    let table = kebao_service::tabular::Table {
        headers: [
            "报案日",
            "出险日期",
            "状态",
            "索赔金额（元）",
            "结论",
            "核定金额（元）",
            "已赔付（元）",
            "理由",
        ]
        .iter()
        .map(|h| (*h).to_owned())
        .collect(),
        rows: claims
            .iter()
            .map(|c| {
                vec![
                    c.reported_on.to_string(),
                    c.loss_date.to_string(),
                    c.status.label_zh().to_owned(),
                    c.claimed.to_yuan_string(),
                    c.outcome.map(|o| o.label_zh().to_owned()).unwrap_or_default(),
                    c.decided.to_yuan_string(),
                    c.paid.to_yuan_string(),
                    c.reason.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    };
    xlsx_response(&table, "claims", "kebao-claims.xlsx", tr)
}
