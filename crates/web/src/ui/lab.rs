//! UI of the risk lab's model registry (C9): the organisation's models, uploading a model file,
//! a model's page (fit and relativities, or the scorecard's variables with WoE by bin), the
//! second person's approval, retiring, and an approved GLM filed as a product's rating plan.

use super::kit::{check_csrf, error_page, form_messages, html, with_status, Authed, Chrome, Page, Tr};
use super::svg;
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use kebao_domain::rating::{RateBasis, RatingVariable};
use kebao_service::authz::Actor;
use kebao_service::lab::{Model, ModelContents, ModelKind, ModelStatus};
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/lab", get(list_page).post(upload_post))
        .route("/lab/models/{id}", get(model_page))
        .route("/lab/models/{id}/approve", post(approve_post))
        .route("/lab/models/{id}/retire", post(retire_post))
        .route("/lab/models/{id}/rating-plan", post(plan_post))
}

fn when(us: i64) -> String {
    kebao_domain::time_zone::display_local(kebao_domain::time_zone::from_unix_us(us))
}

struct ModelRowT {
    id: String,
    name: String,
    kind: String,
    version: i64,
    owner: String,
    status: String,
    approved: bool,
    uploaded: String,
    approved_by: String,
}

fn row_t(tr: Tr, m: &Model) -> ModelRowT {
    ModelRowT {
        id: m.id.clone(),
        name: m.name.clone(),
        kind: tr.t(m.kind.label_zh(), m.kind.label_en()).to_owned(),
        version: m.version,
        owner: m.owner_name.clone(),
        status: tr.t(m.status.label_zh(), m.status.label_en()).to_owned(),
        approved: m.status == ModelStatus::Approved,
        uploaded: format!("{} · {}", when(m.uploaded_at_us), m.uploaded_by_name),
        approved_by: match (&m.approved_by_name, m.approved_at_us) {
            (Some(b), Some(at)) => format!("{} · {b}", when(at)),
            _ => String::new(),
        },
    }
}

#[derive(Template)]
#[template(path = "lab.html")]
struct ListTpl {
    c: Chrome,
    models: Vec<ModelRowT>,
    can_upload: bool,
    messages: Vec<String>,
    kinds: Vec<(String, String)>,
}

async fn list_show(st: &AppState, c: Chrome, actor: &Actor, messages: Vec<String>) -> Page {
    let tr = c.tr;
    let models = match st.svc.models(actor).await {
        Ok(m) => m,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let can_upload = st.svc.may_manage_models(actor).await;
    let status = if messages.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let tpl = ListTpl {
        models: models.iter().map(|m| row_t(tr, m)).collect(),
        can_upload,
        messages,
        kinds: ModelKind::ALL
            .iter()
            .map(|k| (k.code().to_owned(), tr.t(k.label_zh(), k.label_en()).to_owned()))
            .collect(),
        c,
    };
    Ok(with_status(status, html(&tpl)))
}

async fn list_page(State(st): State<AppState>, Authed { c, s, .. }: Authed) -> Page {
    list_show(&st, c, &s.actor, Vec::new()).await
}

async fn upload_post(State(st): State<AppState>, Authed { c, s, tr }: Authed, m: Multipart) -> Page {
    let (_, bytes, csrf, fields) =
        match crate::forms::attachments::read_upload_with(m, &["kind", "name"]).await {
            Ok(x) => x,
            Err(api) => {
                let msg = api
                    .body
                    .details
                    .first()
                    .map(|d| tr.pick(d.message_zh.clone(), d.message_en.clone()))
                    .unwrap_or_else(|| tr.pick(api.body.message_zh.clone(), api.body.message.clone()));
                return list_show(&st, c, &s.actor, vec![msg]).await;
            }
        };
    if !crate::session::same_secret(&csrf, &s.csrf_token) {
        return Err(super::kit::csrf_page());
    }
    let get = |k: &str| fields.iter().find(|f| f.0 == k).map(|f| f.1.clone()).unwrap_or_default();
    let Some(kind) = ModelKind::from_code(&get("kind")) else {
        let msg = tr.t("请选择模型类型", "Choose the kind of model").to_owned();
        return list_show(&st, c, &s.actor, vec![msg]).await;
    };
    match st.svc.upload_model(&s.actor, kind, &get("name"), &bytes).await {
        Ok(m) => Ok(Redirect::to(&format!("/lab/models/{}?done=model_uploaded", m.id)).into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(msgs) => list_show(&st, c, &s.actor, msgs).await,
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

struct TableT {
    title: String,
    note: String,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    chart: String,
}

#[derive(Template)]
#[template(path = "lab_model.html")]
struct ModelTpl {
    c: Chrome,
    m: ModelRowT,
    sha256: String,
    retired: String,
    facts: Vec<(String, String)>,
    tables: Vec<TableT>,
    can_manage: bool,
    can_approve: bool,
    is_glm: bool,
    /// For the rating-plan form: the owner's products (id, name), the GLM's factors, the platform's variables.
    products: Vec<(String, String)>,
    factors: Vec<String>,
    variables: Vec<(String, String)>,
    bases: Vec<(String, String)>,
    messages: Vec<String>,
}

fn num(x: f64, dp: usize) -> String {
    if x.is_finite() {
        format!("{x:.dp$}")
    } else {
        "—".into()
    }
}

async fn model_show(st: &AppState, c: Chrome, actor: &Actor, id: &str, messages: Vec<String>) -> Page {
    let tr = c.tr;
    let m = match st.svc.model(actor, id).await {
        Ok(m) => m,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let mut facts = Vec::new();
    let mut tables = Vec::new();
    let mut factors = Vec::new();
    match &m.contents {
        Some(ModelContents::Glm(g)) => {
            for (k, v) in [
                (tr.t("分布族 · 连接", "Family · link"), format!("{} · {}", g.family, g.link)),
                (tr.t("响应变量", "Response"), g.response.clone()),
                (tr.t("暴露量", "Exposure"), g.exposure.clone().unwrap_or_else(|| "—".into())),
                (tr.t("基础值", "Base"), num(g.base, 6)),
                (tr.t("观测数", "Observations"), g.n_obs.to_string()),
                (tr.t("偏差", "Deviance"), num(g.deviance, 2)),
                (tr.t("零模型偏差", "Null deviance"), num(g.null_deviance, 2)),
                (tr.t("AIC", "AIC"), g.aic.map_or_else(|| "—".into(), |a| num(a, 2))),
            ] {
                facts.push((k.to_owned(), v));
            }
            for (name, reference, levels) in &g.factors {
                factors.push(name.clone());
                tables.push(TableT {
                    title: format!("{} {name}", tr.t("因子", "Factor")),
                    note: format!("{} {reference}", tr.t("基准水平", "Reference level")),
                    columns: vec![
                        tr.t("水平", "Level").into(),
                        tr.t("系数", "Coefficient").into(),
                        tr.t("相对数", "Relativity").into(),
                    ],
                    rows: levels
                        .iter()
                        .map(|l| {
                            vec![
                                l.level.clone(),
                                l.coefficient.map_or_else(|| "—".into(), |x| num(x, 6)),
                                l.relativity
                                    .map_or_else(|| tr.t("共线，无", "aliased").into(), |x| num(x, 4)),
                            ]
                        })
                        .collect(),
                    chart: svg::hbar(
                        &levels
                            .iter()
                            .map(|l| (l.level.clone(), l.relativity.unwrap_or(0.0)))
                            .collect::<Vec<_>>(),
                        "",
                    ),
                });
            }
            if !g.numeric.is_empty() {
                tables.push(TableT {
                    title: tr.t("连续变量", "Numeric terms").into(),
                    note: String::new(),
                    columns: vec![tr.t("变量", "Term").into(), tr.t("系数", "Coefficient").into()],
                    rows: g
                        .numeric
                        .iter()
                        .map(|(n, b)| vec![n.clone(), b.map_or_else(|| "—".into(), |x| num(x, 6))])
                        .collect(),
                    chart: String::new(),
                });
            }
        }
        Some(ModelContents::Scorecard(sc)) => {
            facts.push((tr.t("截距", "Intercept").into(), num(sc.intercept, 4)));
            facts.push((tr.t("入模变量", "Variables in the model").into(), sc.variables.len().to_string()));
            tables.push(TableT {
                title: tr.t("各候选变量的信息值（IV）", "Information value (IV) of every candidate").into(),
                note: String::new(),
                columns: vec![tr.t("变量", "Variable").into(), "IV".into()],
                rows: sc.iv.iter().map(|(n, iv)| vec![n.clone(), num(*iv, 4)]).collect(),
                chart: svg::hbar(&sc.iv.iter().map(|(n, iv)| (n.clone(), *iv)).collect::<Vec<_>>(), ""),
            });
            for v in &sc.variables {
                tables.push(TableT {
                    title: format!("{} {}", tr.t("变量", "Variable"), v.name),
                    note: format!(
                        "IV {} · {} {}",
                        num(v.iv, 4),
                        tr.t("系数", "coefficient"),
                        num(v.coefficient, 4)
                    ),
                    columns: vec![
                        tr.t("分箱", "Bin").into(),
                        tr.t("样本数", "Count").into(),
                        tr.t("事件数", "Events").into(),
                        tr.t("事件率", "Event rate").into(),
                        "WoE".into(),
                        tr.t("分值", "Points").into(),
                    ],
                    rows: v
                        .bins
                        .iter()
                        .map(|b| {
                            vec![
                                b.label.clone(),
                                b.count.to_string(),
                                b.events.to_string(),
                                format!("{:.2}%", b.event_rate * 100.0),
                                num(b.woe, 4),
                                num(b.points, 1),
                            ]
                        })
                        .collect(),
                    chart: svg::hbar(
                        &v.bins.iter().map(|b| (b.label.clone(), b.woe)).collect::<Vec<_>>(),
                        "WoE",
                    ),
                });
            }
            if !sc.excluded.is_empty() {
                tables.push(TableT {
                    title: tr.t("未入模变量", "Variables left out").into(),
                    note: String::new(),
                    columns: vec![tr.t("变量", "Variable").into(), tr.t("原因", "Why").into()],
                    rows: sc.excluded.iter().map(|(n, w)| vec![n.clone(), w.clone()]).collect(),
                    chart: String::new(),
                });
            }
        }
        None => {}
    }
    let can_manage = st.svc.may_manage_models(actor).await && actor.org_id() == Some(m.owner_org_id.as_str());
    let products = if m.kind == ModelKind::Glm && can_manage {
        st.svc
            .my_products(actor)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.product.id.clone(), p.product.name.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let tpl = ModelTpl {
        m: row_t(tr, &m),
        sha256: m.sha256.clone(),
        retired: match (&m.retired_by_name, m.retired_at_us) {
            (Some(b), Some(at)) => format!("{} · {b}", when(at)),
            _ => String::new(),
        },
        facts,
        tables,
        can_approve: can_manage && m.status == ModelStatus::Submitted && m.uploaded_by != actor.log_name(),
        can_manage: can_manage && m.status != ModelStatus::Retired,
        is_glm: m.kind == ModelKind::Glm && m.status == ModelStatus::Approved,
        products,
        factors,
        variables: RatingVariable::ALL
            .iter()
            .map(|v| (v.code().to_owned(), tr.t(v.label_zh(), v.label_en()).to_owned()))
            .collect(),
        bases: RateBasis::ALL
            .iter()
            .map(|b| (b.code().to_owned(), tr.t(b.label_zh(), b.label_en()).to_owned()))
            .collect(),
        messages,
        c,
    };
    let status = if tpl.messages.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(with_status(status, html(&tpl)))
}

async fn model_page(State(st): State<AppState>, Authed { c, s, .. }: Authed, Path(id): Path<String>) -> Page {
    model_show(&st, c, &s.actor, &id, Vec::new()).await
}

async fn step(
    st: AppState,
    c: Chrome,
    s: &kebao_service::auth::SessionInfo,
    id: &str,
    approve: bool,
) -> Page {
    let r = if approve {
        st.svc.approve_model(&s.actor, id).await
    } else {
        st.svc.retire_model(&s.actor, id).await
    };
    let to = format!("/lab/models/{id}?done=model_{}", if approve { "approved" } else { "retired" });
    model_then(&st, c, &s.actor, id, r.map(|_| ()), &to).await
}

/// After a step on a model: on to `to`, or the model's page again with the reasons.
async fn model_then(
    st: &AppState,
    c: Chrome,
    actor: &Actor,
    id: &str,
    r: Result<(), kebao_service::ServiceError>,
    to: &str,
) -> Page {
    let tr = c.tr;
    match r {
        Ok(()) => Ok(Redirect::to(to).into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(msgs) => model_show(st, c, actor, id, msgs).await,
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

async fn approve_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    step(st, c, &s, &id, true).await
}

async fn retire_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    step(st, c, &s, &id, false).await
}

async fn plan_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let mapping: Vec<(String, String)> = form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("map.").map(|f| (f.to_owned(), v.clone())))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let min = match g("min_premium_yuan").trim() {
        "" => 0,
        t => match t.parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => {
                let msg = tr.t(
                    "最低保费须为 0 或正整数（元）",
                    "The minimum premium must be 0 or a positive whole number of yuan",
                );
                return model_show(&st, c, &s.actor, &id, vec![msg.to_owned()]).await;
            }
        },
    };
    let product = g("product");
    let r = st
        .svc
        .glm_model_to_rating_plan(
            &s.actor,
            &id,
            &product,
            &g("effective_from"),
            &mapping,
            &g("basis"),
            &g("loading"),
            min,
        )
        .await
        .map(|_| ());
    model_then(&st, c, &s.actor, &id, r, &format!("/products/{product}?done=plan_from_model")).await
}
