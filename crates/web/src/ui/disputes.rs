//! Disputes: complaints against claim decisions and their mediation.

use super::claims::render_claim;
use super::kit::{
    check_csrf, error_page, form_messages, html, list_query, with_status, Authed, Chrome, ListNav, Page,
};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use kebao_domain::dispute::{DisputeStatus, DisputeStep};
use kebao_service::authz::Actor;
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
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
        Ok(d) => Ok(Redirect::to(&format!("/disputes/{}?done=dispute", d.id)).into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(m) => Err(render_claim(&st, c, &s.actor, &id, m).await),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

struct DisputeRowT {
    id: String,
    complained_on: String,
    holder: String,
    insurer: String,
    policy_number: String,
    claimed: String,
    decided: String,
    status: String,
    complaint: String,
}

#[derive(Template)]
#[template(path = "disputes.html")]
struct DisputesTpl {
    c: Chrome,
    rows: Vec<DisputeRowT>,
    nav: ListNav,
}

async fn disputes_page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let query = list_query(&q);
    let listed = st
        .svc
        .dispute_list(&s.actor, &query)
        .await
        .map_err(|e| error_page(tr, super::kit::chrome_blank(tr), e))?;
    Ok(html(&DisputesTpl {
        rows: listed
            .rows
            .iter()
            .map(|i| DisputeRowT {
                id: i.dispute.id.clone(),
                complained_on: i.dispute.complained_on.to_string(),
                holder: i.parties.holder.clone(),
                insurer: i.parties.insurer.clone(),
                policy_number: i.parties.policy_number.clone(),
                claimed: i.claimed.display_yuan(),
                decided: i.decided.display_yuan(),
                status: tr.t(i.dispute.status.label_zh(), i.dispute.status.label_en()).to_owned(),
                complaint: i.dispute.complaint.chars().take(60).collect(),
            })
            .collect(),
        nav: ListNav {
            base: "/disputes",
            q: query.q.trim().to_owned(),
            status: query.status.trim().to_owned(),
            statuses: DisputeStatus::ALL
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

#[derive(Template)]
#[template(path = "dispute.html")]
struct DisputeTpl {
    c: Chrome,
    /// A refused step (`session`, or `conclude` for settling or escalating), its messages
    /// and what was typed.
    failed: super::kit::Refused,
    id: String,
    claim_id: String,
    holder: String,
    insurer: String,
    policy_number: String,
    product: String,
    /// Whether the viewer may open the claim itself (its parties and the zone; a mediator
    /// sees what the dispute shows of it).
    claim_link: bool,
    claimed: String,
    /// The claim's decision: (label, amount, reason), empty before one.
    decision: Option<(String, String, String)>,
    paid: String,
    status: String,
    complaint: String,
    sessions: Vec<(String, String)>,
    outcome: String,
    forum: String,
    deadlines: Vec<(String, String, bool)>,
    /// What the actor may do now (the service's `dispute_actions`).
    take: bool,
    session: bool,
    /// Settle or escalate: (code, label) of each step allowed.
    conclude: Vec<(&'static str, String)>,
    errors: Vec<String>,
}

async fn render_dispute(st: &AppState, c: Chrome, actor: &Actor, id: &str, errors: Vec<String>) -> Response {
    render_dispute_failed(st, c, actor, id, errors, super::kit::Refused::default()).await
}

/// The dispute's page after a refused step: the messages at its form, with what was typed.
async fn render_dispute_failed(
    st: &AppState,
    c: Chrome,
    actor: &Actor,
    id: &str,
    errors: Vec<String>,
    failed: super::kit::Refused,
) -> Response {
    let tr = c.tr;
    let v = match st.svc.dispute(actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(tr, c, e),
    };
    let d = &v.dispute;
    let steps = match st.svc.dispute_actions(actor, id).await {
        Ok(steps) => steps,
        Err(e) => return error_page(tr, c, e),
    };
    let conclude = steps
        .iter()
        .filter(|s| matches!(s, DisputeStep::Settle | DisputeStep::Escalate))
        .map(|s| {
            let label = match s {
                DisputeStep::Escalate => tr.t("转仲裁或诉讼", "Escalate"),
                _ => tr.t("调解成功", "Settled"),
            };
            (s.code(), label.to_owned())
        })
        .collect();
    let status =
        if errors.is_empty() && failed.is_none() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    with_status(
        status,
        html(&DisputeTpl {
            failed,
            id: d.id.clone(),
            claim_id: d.claim_id.clone(),
            holder: v.parties.holder.clone(),
            insurer: v.parties.insurer.clone(),
            policy_number: v.parties.policy_number.clone(),
            product: v.parties.product.clone(),
            claim_link: st.svc.claim(actor, &d.claim_id).await.is_ok(),
            claimed: v.claim.as_ref().map(|c| c.claimed.display_yuan()).unwrap_or_default(),
            decision: v.claim.as_ref().and_then(|c| {
                c.outcome.map(|o| {
                    (
                        tr.t(o.label_zh(), o.label_en()).to_owned(),
                        c.decided.display_yuan(),
                        c.reason.clone().unwrap_or_default(),
                    )
                })
            }),
            paid: v.claim.as_ref().map(|c| c.paid.display_yuan()).unwrap_or_default(),
            status: tr.t(d.status.label_zh(), d.status.label_en()).to_owned(),
            complaint: d.complaint.clone(),
            sessions: d.sessions.iter().map(|x| (x.on.to_string(), x.notes.clone())).collect(),
            outcome: d.outcome.clone().unwrap_or_default(),
            forum: d.forum.map(|f| tr.t(f.label_zh(), f.label_en()).to_owned()).unwrap_or_default(),
            deadlines: v.deadlines.iter().map(|x| (tr.t(x.0, x.1).to_owned(), x.2.clone(), x.3)).collect(),
            take: steps.contains(&DisputeStep::Take),
            session: steps.contains(&DisputeStep::Session),
            conclude,
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
    let step = crate::forms::disputes::DisputeStepDto {
        step: g("step"),
        on: g("on"),
        notes: g("notes"),
        outcome: g("outcome"),
        forum: g("forum"),
    };
    match crate::forms::disputes::dispute_step_run(&st, &s.actor, &id, &step).await {
        Ok(()) => Ok(Redirect::to(&format!("/disputes/{id}?done=dispute_step")).into_response()),
        Err(api) => {
            let msgs = super::kit::step_messages(tr, &api);
            let form_name = match g("step").as_str() {
                "session" => "session",
                "settle" | "escalate" => "conclude",
                _ => "",
            };
            let page = if form_name.is_empty() {
                render_dispute(&st, c, &s.actor, &id, msgs).await
            } else {
                render_dispute_failed(
                    &st,
                    c,
                    &s.actor,
                    &id,
                    Vec::new(),
                    super::kit::Refused::step(form_name, msgs, form.clone()),
                )
                .await
            };
            Err(with_status(api.status, page))
        }
    }
}
