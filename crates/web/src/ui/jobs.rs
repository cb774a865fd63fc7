//! Background jobs: the list with progress, one job's page, starting and cancelling.

use super::kit::{check_csrf, error_page, form_messages, html, urlencode, with_status, Authed, Chrome, Page};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use kebao_domain::job::{JobKind, JobState};
use kebao_domain::time_zone::{display_local, from_unix_us};
use kebao_service::jobs::{JobQuery, JobView};
use kebao_service::ServiceError;
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/jobs", get(jobs_page).post(start_post))
        .route("/jobs/{id}", get(job_page))
        .route("/jobs/{id}/cancel", post(cancel_post))
}

/// One job as the pages show it.
pub(super) struct JobRowT {
    pub id: String,
    pub kind: String,
    pub state: String,
    /// `queued`, `running`, … (the badge's style).
    pub state_code: &'static str,
    pub requested_by: String,
    pub requested_at: String,
    pub started_at: String,
    pub finished_at: String,
    /// Per cent done, when known.
    pub percent: Option<u8>,
    /// "1,234 / 5,000 events".
    pub progress: String,
    /// What it found or made, or why it failed.
    pub outcome: String,
    /// The outcome needs a person's attention (a failure, a broken log).
    pub alarming: bool,
    pub cancel_requested_by: Option<String>,
    pub can_cancel: bool,
    pub attempts: i64,
}

fn when(us: Option<i64>) -> String {
    us.map(|u| display_local(from_unix_us(u))).unwrap_or_else(|| "—".to_owned())
}

pub(super) fn job_row(c: &Chrome, v: &JobView) -> JobRowT {
    let tr = c.tr;
    let j = &v.job;
    let (unit_zh, unit_en) = j.kind.unit();
    let progress = if j.total > 0 {
        tr.pick(format!("{} / {} {unit_zh}", j.done, j.total), format!("{} / {} {unit_en}", j.done, j.total))
    } else if j.state == JobState::Queued {
        tr.t("等待运行", "waiting to run").to_owned()
    } else {
        "—".to_owned()
    };
    let (outcome, alarming) = match (&j.result, &j.failure) {
        (Some(r), _) => {
            let (zh, en) = r.summary();
            (tr.pick(zh, en), r.alarming())
        }
        (None, Some(f)) => (tr.pick(f.message_zh.clone(), f.message_en.clone()), true),
        (None, None) => match j.state {
            JobState::Cancelled => (tr.t("已取消，未完成", "cancelled before it finished").to_owned(), false),
            JobState::Running if v.cancel_requested_by_name.is_some() => (
                tr.t("已请求停止，当前步骤结束后停止", "asked to stop; stops after its current step")
                    .to_owned(),
                false,
            ),
            _ => (String::new(), false),
        },
    };
    JobRowT {
        id: j.id.clone(),
        kind: tr.t(j.kind.label_zh(), j.kind.label_en()).to_owned(),
        state: tr.t(j.state.label_zh(), j.state.label_en()).to_owned(),
        state_code: j.state.code(),
        requested_by: if j.params.scheduled_for.is_some() {
            tr.t("定时任务（每日）", "The daily schedule").to_owned()
        } else {
            v.requested_by_name.clone()
        },
        requested_at: when(Some(j.requested_at_us)),
        started_at: when(j.started_at_us),
        finished_at: when(j.finished_at_us),
        percent: j.percent(),
        progress,
        outcome,
        alarming,
        cancel_requested_by: v.cancel_requested_by_name.clone(),
        can_cancel: v.can_cancel,
        attempts: j.attempts,
    }
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct JobsTpl {
    c: Chrome,
    rows: Vec<JobRowT>,
    /// (code, label) of each kind the reader may start here.
    startable: Vec<(String, String)>,
    /// (code, label) for the filters.
    states: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    state: String,
    kind: String,
    older: Option<String>,
    errors: Vec<String>,
    /// Some job is queued or running: the page reloads itself.
    live: bool,
}

async fn jobs_page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    render_list(&st, c, &s.actor, &q, Vec::new()).await.map_err(|(c, e)| error_page(tr, c, e))
}

async fn render_list(
    st: &AppState,
    c: Chrome,
    actor: &kebao_service::authz::Actor,
    q: &HashMap<String, String>,
    mut errors: Vec<String>,
) -> Result<axum::response::Response, (Chrome, ServiceError)> {
    let tr = c.tr;
    let nonempty = |k: &str| q.get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let state = nonempty("state").and_then(|s| JobState::from_code(&s));
    let kind = nonempty("kind").and_then(|k| JobKind::from_code(&k));
    let before_us = match nonempty("before").map(|b| b.parse::<i64>()) {
        Some(Ok(b)) => Some(b),
        Some(Err(_)) => {
            errors.push(
                tr.t("页码无效，已显示最新的任务。", "Invalid page; the newest jobs are shown.").to_owned(),
            );
            None
        }
        None => None,
    };
    let page = match st.svc.jobs(actor, &JobQuery { state, kind, before_us }).await {
        Ok(p) => p,
        Err(e) => return Err((c, e)),
    };
    let rows: Vec<JobRowT> = page.jobs.iter().map(|v| job_row(&c, v)).collect();
    let live = page.jobs.iter().any(|v| !v.job.state.ended());
    let older = page.next_before_us.map(|b| {
        format!(
            "/jobs?state={}&kind={}&before={b}",
            state.map_or("", JobState::code),
            kind.map_or("", JobKind::code)
        )
    });
    let label = |zh: &str, en: &str| tr.t(zh, en).to_owned();
    Ok(html(&JobsTpl {
        startable: page
            .startable
            .iter()
            .map(|k| (k.code().to_owned(), label(k.label_zh(), k.label_en())))
            .collect(),
        states: JobState::ALL
            .iter()
            .map(|s| (s.code().to_owned(), label(s.label_zh(), s.label_en())))
            .collect(),
        kinds: JobKind::ALL
            .iter()
            .map(|k| (k.code().to_owned(), label(k.label_zh(), k.label_en())))
            .collect(),
        state: state.map_or(String::new(), |s| s.code().to_owned()),
        kind: kind.map_or(String::new(), |k| k.code().to_owned()),
        rows,
        older,
        errors,
        live,
        c,
    }))
}

#[derive(Template)]
#[template(path = "job.html")]
struct JobTpl {
    c: Chrome,
    j: JobRowT,
    /// The job's events in the audit log.
    events_link: String,
    live: bool,
    errors: Vec<String>,
}

async fn job_page(State(st): State<AppState>, Authed { c, s, tr }: Authed, Path(id): Path<String>) -> Page {
    render_job(&st, c, &s.actor, &id, Vec::new()).await.map_err(|(c, e)| error_page(tr, c, e))
}

async fn render_job(
    st: &AppState,
    c: Chrome,
    actor: &kebao_service::authz::Actor,
    id: &str,
    errors: Vec<String>,
) -> Result<axum::response::Response, (Chrome, ServiceError)> {
    let v = match st.svc.job(actor, id).await {
        Ok(v) => v,
        Err(e) => return Err((c, e)),
    };
    let j = job_row(&c, &v);
    Ok(html(&JobTpl {
        events_link: format!("/audit?subject={}", urlencode(id)),
        live: !v.job.state.ended(),
        j,
        errors,
        c,
    }))
}

async fn start_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let Some(kind) = form.get("kind").and_then(|k| JobKind::from_code(k)) else {
        let msg = tr.t("请选择要运行的任务。", "Choose a job to run.").to_owned();
        let page = render_list(&st, c, &s.actor, &HashMap::new(), vec![msg]).await;
        return Err(with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            page.unwrap_or_else(|(c, e)| error_page(tr, c, e)),
        ));
    };
    match st.svc.start_job(&s.actor, kind).await {
        Ok(j) => Ok(Redirect::to(&format!("/jobs/{}", j.id)).into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(msgs) => {
                let page = render_list(&st, c, &s.actor, &HashMap::new(), msgs).await;
                Err(with_status(StatusCode::CONFLICT, page.unwrap_or_else(|(c, e)| error_page(tr, c, e))))
            }
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

async fn cancel_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    match st.svc.cancel_job(&s.actor, &id).await {
        Ok(_) => Ok(Redirect::to(&format!("/jobs/{id}")).into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(msgs) => {
                let page = render_job(&st, c, &s.actor, &id, msgs).await;
                Err(with_status(StatusCode::CONFLICT, page.unwrap_or_else(|(c, e)| error_page(tr, c, e))))
            }
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}
