//! Personal-data rights: a person's own data and requests; the administrators' answers.

use super::kit::{check_csrf, error_page, form_messages, html, with_status, Authed, Chrome, Page};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use kebao_domain::privacy::{DataRequest, RequestKind, RequestState, RESPONSE_DAYS};
use kebao_domain::time_zone::{display_local, from_unix_us};
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/data", get(my_data_page).post(file_post))
        .route("/admin/data-requests", get(requests_page))
        .route("/admin/data-requests/{id}", post(answer_post))
}

struct RequestRowT {
    id: String,
    person: String,
    org: String,
    kind: String,
    details: String,
    filed: String,
    due: String,
    overdue: bool,
    state: String,
    open: bool,
    answer: String,
}

fn row(c: &Chrome, r: &DataRequest, person: String, org: String, overdue: bool) -> RequestRowT {
    let tr = c.tr;
    RequestRowT {
        id: r.id.clone(),
        person,
        org,
        kind: tr.t(r.kind.label_zh(), r.kind.label_en()).to_owned(),
        details: r.details.clone(),
        filed: display_local(from_unix_us(r.filed_at_us)),
        due: r.due_on.to_string(),
        overdue,
        state: tr.t(r.state.label_zh(), r.state.label_en()).to_owned(),
        open: r.state == RequestState::Open,
        answer: r.answer.clone().unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "my_data.html")]
struct MyDataTpl {
    c: Chrome,
    d: kebao_service::privacy::MyData,
    roles: String,
    requests: Vec<RequestRowT>,
    kinds: Vec<(String, String)>,
    kind: String,
    details: String,
    days: i64,
    errors: Vec<String>,
}

async fn render_mine(
    st: &AppState,
    c: Chrome,
    actor: &kebao_service::authz::Actor,
    typed: &HashMap<String, String>,
    errors: Vec<String>,
) -> Result<axum::response::Response, (Chrome, kebao_service::ServiceError)> {
    let tr = c.tr;
    let d = match st.svc.my_data(actor).await {
        Ok(d) => d,
        Err(e) => return Err((c, e)),
    };
    let today = st.svc.today();
    let requests =
        d.requests.iter().map(|r| row(&c, r, String::new(), String::new(), r.overdue(today))).collect();
    let roles =
        d.roles.iter().map(|r| tr.t(r.label_zh(), r.label_en())).collect::<Vec<_>>().join(tr.t("、", ", "));
    Ok(html(&MyDataTpl {
        roles,
        requests,
        kinds: RequestKind::ALL
            .iter()
            .map(|k| (k.code().to_owned(), tr.t(k.label_zh(), k.label_en()).to_owned()))
            .collect(),
        kind: typed.get("kind").cloned().unwrap_or_default(),
        details: typed.get("details").cloned().unwrap_or_default(),
        days: RESPONSE_DAYS,
        errors,
        d,
        c,
    }))
}

async fn my_data_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    render_mine(&st, c, &s.actor, &HashMap::new(), Vec::new()).await.map_err(|(c, e)| error_page(tr, c, e))
}

async fn file_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let refused = |c: Chrome, msgs: Vec<String>| async {
        let page = render_mine(&st, c, &s.actor, &form, msgs).await;
        with_status(StatusCode::UNPROCESSABLE_ENTITY, page.unwrap_or_else(|(c, e)| error_page(tr, c, e)))
    };
    let Some(kind) = form.get("kind").and_then(|k| RequestKind::from_code(k)) else {
        return Err(refused(c, vec![tr.t("请选择请求的种类。", "Choose what you ask for.").to_owned()]).await);
    };
    match st.svc.file_data_request(&s.actor, kind, form.get("details").map_or("", String::as_str)).await {
        Ok(_) => Ok(Redirect::to("/account/data?done=data_request").into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(msgs) => Err(refused(c, msgs).await),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

#[derive(Template)]
#[template(path = "data_requests.html")]
struct RequestsTpl {
    c: Chrome,
    rows: Vec<RequestRowT>,
    errors: Vec<String>,
}

async fn render_requests(
    st: &AppState,
    c: Chrome,
    actor: &kebao_service::authz::Actor,
    errors: Vec<String>,
) -> Result<axum::response::Response, (Chrome, kebao_service::ServiceError)> {
    let list = match st.svc.data_requests(actor).await {
        Ok(l) => l,
        Err(e) => return Err((c, e)),
    };
    let rows = list.into_iter().map(|v| row(&c, &v.request, v.person, v.org_name, v.overdue)).collect();
    Ok(html(&RequestsTpl { c, rows, errors }))
}

async fn requests_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    render_requests(&st, c, &s.actor, Vec::new()).await.map_err(|(c, e)| error_page(tr, c, e))
}

async fn answer_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let grant = match form.get("outcome").map(String::as_str) {
        Some("grant") => true,
        Some("refuse") => false,
        _ => {
            let msg = tr.t("请选择“已办理”或“不予办理”。", "Choose Done or Refuse.").to_owned();
            let page = render_requests(&st, c, &s.actor, vec![msg]).await;
            return Err(with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                page.unwrap_or_else(|(c, e)| error_page(tr, c, e)),
            ));
        }
    };
    match st
        .svc
        .answer_data_request(&s.actor, &id, grant, form.get("answer").map_or("", String::as_str))
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/data-requests?done=data_answer").into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(msgs) => {
                let page = render_requests(&st, c, &s.actor, msgs).await;
                Err(with_status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    page.unwrap_or_else(|(c, e)| error_page(tr, c, e)),
                ))
            }
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}
