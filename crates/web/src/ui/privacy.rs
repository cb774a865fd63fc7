//! Personal-data rights: a person's own data and requests; the administrators' answers.

use super::kit::{check_csrf, error_page, form_messages, html, with_status, Authed, Chrome, Page};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::{Form, Router};
use kebao_domain::privacy::{
    AssessmentInput, AssessmentTarget, DataRequest, Extract, RequestKind, RequestState,
};
use kebao_domain::time_zone::{display_local, from_unix_us};
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/data", get(my_data_page).post(file_post))
        .route("/admin/data-requests", get(requests_page).post(record_post))
        .route("/admin/data-requests/{id}", get(request_page).post(answer_post))
        .route("/admin/impact-assessments", get(assessments_page).post(assessment_post))
}

struct RequestRowT {
    id: String,
    person: String,
    /// Recorded by an administrator for a person who is not a user.
    offline: bool,
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
        offline: r.user_id.is_none(),
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
        days: st.svc.data_request_days(),
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
    kinds: Vec<(String, String)>,
    typed: HashMap<String, String>,
    days: i64,
    errors: Vec<String>,
}

impl RequestsTpl {
    fn typed(&self, k: &str) -> &str {
        self.typed.get(k).map_or("", String::as_str)
    }
}

fn kinds(tr: super::kit::Tr) -> Vec<(String, String)> {
    RequestKind::ALL
        .iter()
        .map(|k| (k.code().to_owned(), tr.t(k.label_zh(), k.label_en()).to_owned()))
        .collect()
}

async fn render_requests(
    st: &AppState,
    c: Chrome,
    actor: &kebao_service::authz::Actor,
    typed: HashMap<String, String>,
    errors: Vec<String>,
) -> Result<axum::response::Response, (Chrome, kebao_service::ServiceError)> {
    let list = match st.svc.data_requests(actor).await {
        Ok(l) => l,
        Err(e) => return Err((c, e)),
    };
    let rows = list.into_iter().map(|v| row(&c, &v.request, v.person, v.org_name, v.overdue)).collect();
    Ok(html(&RequestsTpl { kinds: kinds(c.tr), c, rows, typed, days: st.svc.data_request_days(), errors }))
}

async fn requests_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    render_requests(&st, c, &s.actor, HashMap::new(), Vec::new()).await.map_err(|(c, e)| error_page(tr, c, e))
}

/// An administrator records the request of a person who is not a user.
async fn record_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let mut input = kebao_service::privacy::PersonRequestInput {
        person_name: g("person_name"),
        identity_check: g("identity_check"),
        org_id: String::new(),
        kind: g("kind"),
        details: g("details"),
    };
    let uscc = g("org_uscc");
    let mut msgs = Vec::new();
    if !uscc.trim().is_empty() {
        match st.svc.org_id_by_uscc(&s.actor, uscc.trim()).await {
            Ok(Some(id)) => input.org_id = id,
            Ok(None) => msgs.push(
                tr.t(
                    "没有这个统一社会信用代码的机构。",
                    "No organisation has this unified social credit code.",
                )
                .to_owned(),
            ),
            Err(e) => return Err(error_page(tr, c, e)),
        }
    }
    let outcome =
        if msgs.is_empty() { st.svc.record_data_request(&s.actor, &input).await.map(Some) } else { Ok(None) };
    match outcome {
        Ok(Some(r)) => {
            Ok(Redirect::to(&format!("/admin/data-requests/{}?done=data_recorded", r.id)).into_response())
        }
        Ok(None) => {
            let page = render_requests(&st, c, &s.actor, form, msgs).await;
            Err(with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                page.unwrap_or_else(|(c, e)| error_page(tr, c, e)),
            ))
        }
        Err(e) => match form_messages(tr, e) {
            Ok(msgs) => {
                let page = render_requests(&st, c, &s.actor, form, msgs).await;
                Err(with_status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    page.unwrap_or_else(|(c, e)| error_page(tr, c, e)),
                ))
            }
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

struct NamedRowT {
    field: String,
    org: String,
    reference: String,
}

struct TextRowT {
    seq: u64,
    at: String,
    action: String,
    field: String,
    text: String,
}

#[derive(Template)]
#[template(path = "data_request.html")]
struct RequestTpl {
    c: Chrome,
    r: RequestRowT,
    identity_check: String,
    name: String,
    account: Option<kebao_service::privacy::MyData>,
    roles: String,
    named: Vec<NamedRowT>,
    texts: Vec<TextRowT>,
    /// Granting this request may erase the words listed.
    deletion: bool,
    errors: Vec<String>,
}

async fn render_request(
    st: &AppState,
    c: Chrome,
    actor: &kebao_service::authz::Actor,
    id: &str,
    errors: Vec<String>,
) -> Result<axum::response::Response, (Chrome, kebao_service::ServiceError)> {
    let tr = c.tr;
    let d = match st.svc.data_request(actor, id).await {
        Ok(d) => d,
        Err(e) => return Err((c, e)),
    };
    let named = d
        .named
        .iter()
        .map(|n| {
            let (zh, en) = kebao_domain::privacy::field_label(n.field);
            NamedRowT {
                field: tr.t(zh, en).to_owned(),
                org: n.org_name.clone(),
                reference: n.reference.clone(),
            }
        })
        .collect();
    let texts = d
        .texts
        .iter()
        .map(|t| {
            let (azh, aen) =
                kebao_domain::event::action_label(&t.action).unwrap_or(("其他事件", "Another event"));
            let (fzh, fen) = kebao_domain::privacy::word_label(&t.field);
            TextRowT {
                seq: t.seq,
                at: display_local(from_unix_us(t.at_us)),
                action: tr.t(azh, aen).to_owned(),
                field: tr.t(fzh, fen).to_owned(),
                text: t.text.clone(),
            }
        })
        .collect();
    let roles = d.account.as_ref().map_or_else(String::new, |a| {
        a.roles.iter().map(|r| tr.t(r.label_zh(), r.label_en())).collect::<Vec<_>>().join(tr.t("、", ", "))
    });
    let deletion = d.view.request.kind == RequestKind::Delete && d.view.request.state == RequestState::Open;
    Ok(html(&RequestTpl {
        r: row(&c, &d.view.request, d.view.person.clone(), d.view.org_name.clone(), d.view.overdue),
        identity_check: d.view.request.identity_check.clone().unwrap_or_default(),
        name: d.name,
        account: d.account,
        roles,
        named,
        texts,
        deletion,
        errors,
        c,
    }))
}

async fn request_page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
) -> Page {
    render_request(&st, c, &s.actor, &id, Vec::new()).await.map_err(|(c, e)| error_page(tr, c, e))
}

async fn answer_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Page {
    let map: HashMap<String, String> = form.iter().filter(|(k, _)| k != "erase").cloned().collect();
    check_csrf(&map, &s)?;
    // The page lists at most 200 texts; anything else is not a number it listed.
    let erase: Vec<u64> =
        form.iter().filter(|(k, _)| k == "erase").take(200).filter_map(|(_, v)| v.parse().ok()).collect();
    let refused = |c: Chrome, msgs: Vec<String>| async {
        let page = render_request(&st, c, &s.actor, &id, msgs).await;
        with_status(StatusCode::UNPROCESSABLE_ENTITY, page.unwrap_or_else(|(c, e)| error_page(tr, c, e)))
    };
    let grant = match map.get("outcome").map(String::as_str) {
        Some("grant") => true,
        Some("refuse") => false,
        _ => {
            let msg = tr.t("请选择“已办理”或“不予办理”。", "Choose Done or Refuse.").to_owned();
            return Err(refused(c, vec![msg]).await);
        }
    };
    match st
        .svc
        .answer_data_request(&s.actor, &id, grant, map.get("answer").map_or("", String::as_str), &erase)
        .await
    {
        Ok(r) => {
            let done = if r.user_id.is_some() { "data_answer" } else { "data_answer_offline" };
            Ok(Redirect::to(&format!("/admin/data-requests/{id}?done={done}")).into_response())
        }
        Err(e) => match form_messages(tr, e) {
            Ok(msgs) => Err(refused(c, msgs).await),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

struct AssessmentRowT {
    target: String,
    what: String,
    purpose: String,
    data: String,
    recipients: String,
    assessed_on: String,
    reviewer: String,
    conclusion: String,
}

#[derive(Template)]
#[template(path = "impact_assessments.html")]
struct AssessmentsTpl {
    c: Chrome,
    rows: Vec<AssessmentRowT>,
    can_record: bool,
    targets: Vec<(String, String)>,
    recipients: Vec<(String, String)>,
    extracts: Vec<(String, String)>,
    typed: HashMap<String, String>,
    today: String,
    errors: Vec<String>,
}

impl AssessmentsTpl {
    fn typed(&self, k: &str) -> &str {
        self.typed.get(k).map_or("", String::as_str)
    }
}

async fn render_assessments(
    st: &AppState,
    c: Chrome,
    actor: &kebao_service::authz::Actor,
    typed: HashMap<String, String>,
    errors: Vec<String>,
) -> Result<axum::response::Response, (Chrome, kebao_service::ServiceError)> {
    use kebao_domain::org::OrgKind;
    let tr = c.tr;
    let list = match st.svc.impact_assessments(actor).await {
        Ok(l) => l,
        Err(e) => return Err((c, e)),
    };
    let rows = list
        .into_iter()
        .map(|(a, org)| AssessmentRowT {
            target: tr.t(a.target.label_zh(), a.target.label_en()).to_owned(),
            what: match (a.extract, org) {
                (Some(e), _) => tr.t(e.label_zh(), e.label_en()).to_owned(),
                (None, Some(o)) => o,
                (None, None) => String::new(),
            },
            purpose: a.purpose,
            data: a.data,
            recipients: a.recipients,
            assessed_on: a.assessed_on.to_string(),
            reviewer: a.reviewer,
            conclusion: a.conclusion,
        })
        .collect();
    let can_record = match st.svc.abilities(actor).await {
        Ok(ab) => ab.on_zone(kebao_service::authz::Action::ManageImpactAssessments),
        Err(e) => return Err((c, e)),
    };
    let mut recipients = Vec::new();
    if can_record {
        for kind in
            [OrgKind::Bank, OrgKind::Insurer, OrgKind::Guarantor, OrgKind::Investor, OrgKind::ServiceBody]
        {
            let filter = kebao_domain::org::OrgFilter { kind: Some(kind), ..Default::default() };
            if let Ok(page) = st.svc.list_orgs(actor, &filter, None, 200).await {
                for o in page.items {
                    let label = format!(
                        "{}{}{}{}",
                        o.name,
                        tr.t("（", " ("),
                        tr.t(kind.label_zh(), kind.label_en()),
                        tr.t("）", ")")
                    );
                    recipients.push((o.id, label));
                }
            }
        }
    }
    Ok(html(&AssessmentsTpl {
        rows,
        can_record,
        targets: AssessmentTarget::ALL
            .iter()
            .map(|t| (t.code().to_owned(), tr.t(t.label_zh(), t.label_en()).to_owned()))
            .collect(),
        recipients,
        extracts: Extract::ALL
            .iter()
            .map(|e| (e.code().to_owned(), tr.t(e.label_zh(), e.label_en()).to_owned()))
            .collect(),
        today: st.svc.today().to_string(),
        typed,
        errors,
        c,
    }))
}

async fn assessments_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    render_assessments(&st, c, &s.actor, HashMap::new(), Vec::new())
        .await
        .map_err(|(c, e)| error_page(tr, c, e))
}

async fn assessment_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let input = AssessmentInput {
        target: g("target"),
        recipient_org_id: g("recipient_org_id"),
        extract: g("extract"),
        purpose: g("purpose"),
        data: g("data"),
        recipients: g("recipients"),
        assessed_on: g("assessed_on"),
        reviewer: g("reviewer"),
        conclusion: g("conclusion"),
    };
    match st.svc.record_impact_assessment(&s.actor, &input).await {
        Ok(_) => Ok(Redirect::to("/admin/impact-assessments?done=assessment").into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(msgs) => {
                let page = render_assessments(&st, c, &s.actor, form, msgs).await;
                Err(with_status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    page.unwrap_or_else(|(c, e)| error_page(tr, c, e)),
                ))
            }
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}
