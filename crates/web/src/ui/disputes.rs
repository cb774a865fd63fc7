//! Disputes: complaints against claim decisions and their mediation.

use super::claims::render_claim;
use super::kit::{check_csrf, error_page, form_messages, html, with_status, Authed, Chrome, Page};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use kebao_domain::dispute::DisputeStep;
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
        Ok(d) => Ok(Redirect::to(&format!("/disputes/{}", d.id)).into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(m) => Err(render_claim(&st, c, &s.actor, &id, m).await),
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
        st.svc.disputes(&s.actor).await.map_err(|e| error_page(tr, super::kit::chrome_blank(tr), e))?;
    Ok(html(&DisputesTpl {
        rows: list
            .iter()
            .map(|d| {
                (
                    d.id.clone(),
                    d.complained_on.to_string(),
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
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    with_status(
        status,
        html(&DisputeTpl {
            id: d.id.clone(),
            claim_id: d.claim_id.clone(),
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
