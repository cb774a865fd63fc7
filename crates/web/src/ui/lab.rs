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
use kebao_service::lab_data::{Extract, ExtractKind, ExtractRequest, FitRequest, LabJob};
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/lab", get(list_page).post(upload_post))
        .route("/lab/extracts", post(extract_post))
        .route("/lab/extracts/{id}/file", get(extract_file))
        .route("/lab/fits", post(fit_post))
        .route("/lab/admission", post(admission_post))
        .route("/lab/admission/end", post(admission_end_post))
        .route("/lab/switches", post(switch_post))
        .route("/lab/models/{id}", get(model_page))
        .route("/lab/models/{id}/approve", post(approve_post))
        .route("/lab/models/{id}/retire", post(retire_post))
        .route("/lab/models/{id}/rating-plan", post(plan_post))
        .route("/lab/models/{id}/monitoring", get(monitoring_page))
        .route("/lab/models/{id}/thresholds", post(thresholds_post))
        .route("/lab/models/{id}/batch-score", post(batch_post))
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

struct ExtractT {
    id: String,
    kind: String,
    owner: String,
    basis: String,
    purpose: String,
    personal: String,
    rows: i64,
    left_out: String,
    made: String,
    sha256: String,
}

fn extract_t(tr: Tr, e: &Extract) -> ExtractT {
    let mut left = Vec::new();
    if e.left_personal > 0 {
        left.push(format!("{} {}", tr.t("人身险种保单", "personal-line policies"), e.left_personal));
    }
    if e.left_unended > 0 {
        let (zh, en) = match e.kind {
            ExtractKind::Claims => ("未起保或无暴露的保单", "policies not yet started or without exposure"),
            ExtractKind::Loans => ("尚无结果的贷款", "loans without an outcome yet"),
        };
        left.push(format!("{} {}", tr.t(zh, en), e.left_unended));
    }
    ExtractT {
        id: e.id.clone(),
        kind: tr.t(e.kind.label_zh(), e.kind.label_en()).to_owned(),
        owner: e.owner_name.clone(),
        basis: tr.t(e.basis.label_zh(), e.basis.label_en()).to_owned(),
        purpose: e.purpose.clone(),
        personal: match &e.assessment {
            Some(a) => format!(
                "{}{}{} · {}{}{}",
                tr.t(
                    "含人身险种（汇总），影响评估：用途",
                    "personal lines included (aggregated); impact assessment: purpose "
                ),
                tr.t("：", ": "),
                a.purpose,
                tr.t("接收方", "recipient"),
                tr.t("：", ": "),
                a.recipient
            ),
            None => tr.t("不含个人信息", "no personal data").to_owned(),
        },
        rows: e.rows,
        left_out: if left.is_empty() { "—".into() } else { left.join(tr.t("；", "; ")) },
        made: format!("{} · {}", when(e.created_at_us), e.created_by_name),
        sha256: e.sha256.chars().take(16).collect(),
    }
}

struct JobT {
    kind: String,
    what: String,
    state: String,
    running: bool,
    failed: bool,
    percent: String,
    by: String,
    failure: String,
}

fn job_t(tr: Tr, j: &LabJob) -> JobT {
    use kebao_domain::job::JobState;
    JobT {
        kind: tr.t(j.kind.label_zh(), j.kind.label_en()).to_owned(),
        what: tr.pick(j.what_zh.clone(), j.what_en.clone()),
        state: tr.t(j.state.label_zh(), j.state.label_en()).to_owned(),
        running: matches!(j.state, JobState::Queued | JobState::Running),
        failed: j.state == JobState::Failed,
        percent: j.percent.map(|p| format!("{p}%")).unwrap_or_default(),
        by: format!("{} · {}", when(j.requested_at_us), j.requested_by_name),
        failure: j
            .failure
            .as_ref()
            .map(|f| tr.pick(f.message_zh.clone(), f.message_en.clone()))
            .unwrap_or_default(),
    }
}

/// A variable a fit may use: (extract kind, column, label).
struct VariableT {
    kind: String,
    name: String,
    label: String,
}

#[derive(Template)]
#[template(path = "lab.html")]
struct ListTpl {
    c: Chrome,
    models: Vec<ModelRowT>,
    can_upload: bool,
    messages: Vec<String>,
    kinds: Vec<(String, String)>,
    extracts: Vec<ExtractT>,
    jobs: Vec<JobT>,
    any_running: bool,
    extract_kinds: Vec<(String, String)>,
    /// Extracts a fit may use: (id, label).
    fit_sources: Vec<(String, String)>,
    variables: Vec<VariableT>,
    /// The admission rule in force: (use, model, cut-offs, set by).
    rule: Option<(String, String, String, String)>,
    /// Approved scorecards that may become the rule: (id, label).
    scorecards: Vec<(String, String)>,
    can_rule: bool,
    /// For the zone's approvers: the switches (code, label, on).
    switches: Vec<(String, String, bool)>,
}

async fn list_show(st: &AppState, c: Chrome, actor: &Actor, messages: Vec<String>) -> Page {
    let tr = c.tr;
    let models = match st.svc.models(actor).await {
        Ok(m) => m,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let can_upload = st.svc.may_manage_models(actor).await;
    let (extracts, jobs) = match (st.svc.extracts(actor).await, st.svc.lab_jobs(actor).await) {
        (Ok(e), Ok(j)) => (e, j),
        (Err(e), _) | (_, Err(e)) => return Err(error_page(tr, c, e)),
    };
    let kinds_allowed = st.svc.extract_kinds(actor).await;
    let own = actor.org_id().unwrap_or_default();
    let fit_sources = if can_upload {
        extracts
            .iter()
            .filter(|e| e.owner_org_id == own)
            .map(|e| {
                (
                    e.id.clone(),
                    format!(
                        "{} · {} · {} {}",
                        tr.t(e.kind.label_zh(), e.kind.label_en()),
                        when(e.created_at_us),
                        e.rows,
                        tr.t("行", "rows")
                    ),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let several = kinds_allowed.len() > 1;
    let variables = kinds_allowed
        .iter()
        .flat_map(|k| {
            k.columns().iter().filter(|c| c.candidate).map(move |col| VariableT {
                kind: k.code().to_owned(),
                name: col.name.to_owned(),
                label: if several {
                    format!("{} · {}", tr.t(k.label_zh(), k.label_en()), tr.t(col.zh, col.en))
                } else {
                    tr.t(col.zh, col.en).to_owned()
                },
            })
        })
        .collect();
    let rule = st.svc.admission_rule(actor).await.ok().flatten();
    let own_org = actor.org_id().unwrap_or_default().to_owned();
    let scorecards: Vec<(String, String)> = if can_upload {
        models
            .iter()
            .filter(|m| {
                m.kind == ModelKind::Scorecard
                    && m.status == ModelStatus::Approved
                    && m.owner_org_id == own_org
            })
            .map(|m| (m.id.clone(), format!("{} v{}", m.name, m.version)))
            .collect()
    } else {
        Vec::new()
    };
    let can_rule = can_upload && st.svc.may_set_admission_rule(actor).await;
    let status = if messages.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let tpl = ListTpl {
        rule: rule.map(|r| {
            (
                tr.t(r.score_use.label_zh(), r.score_use.label_en()).to_owned(),
                format!("{} v{}", r.model.name, r.model.version),
                format!(
                    "{} {:.0} {} · {} {:.0} {} · {}",
                    tr.t("准入：不低于", "accept at"),
                    r.accept_at,
                    tr.t("分", "points or more"),
                    tr.t("拒绝：低于", "decline below"),
                    r.decline_below,
                    tr.t("分", "points"),
                    tr.t("其间转人工审查", "refer in between")
                ),
                format!("{} · {}", when(r.set_at_us), r.set_by_name),
            )
        }),
        scorecards,
        can_rule,
        switches: if st.svc.may_set_zone_switches(actor) {
            let mut out = Vec::new();
            for k in kebao_domain::lab::ZoneSwitch::ALL {
                let on = st.svc.zone_switch(*k).await.unwrap_or(false);
                out.push((k.code().to_owned(), tr.t(k.label_zh(), k.label_en()).to_owned(), on));
            }
            out
        } else {
            Vec::new()
        },
        models: models.iter().map(|m| row_t(tr, m)).collect(),
        can_upload,
        messages,
        kinds: ModelKind::ALL
            .iter()
            .map(|k| (k.code().to_owned(), tr.t(k.label_zh(), k.label_en()).to_owned()))
            .collect(),
        extracts: extracts.iter().map(|e| extract_t(tr, e)).collect(),
        any_running: jobs.iter().any(|j| !j.state.ended()),
        jobs: jobs.iter().map(|j| job_t(tr, j)).collect(),
        extract_kinds: kinds_allowed
            .iter()
            .map(|k| (k.code().to_owned(), tr.t(k.label_zh(), k.label_en()).to_owned()))
            .collect(),
        fit_sources,
        variables,
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

/// After a lab form: on to `to`, or the lab's page again with the reasons.
async fn lab_then(
    st: &AppState,
    c: Chrome,
    actor: &Actor,
    r: Result<(), kebao_service::ServiceError>,
    to: &str,
) -> Page {
    let tr = c.tr;
    match r {
        Ok(()) => Ok(Redirect::to(to).into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(msgs) => list_show(st, c, actor, msgs).await,
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

/// A field of a form whose keys may repeat (the fit's variables): its first value, or empty.
fn field(form: &[(String, String)], k: &str) -> String {
    form.iter().find(|f| f.0 == k).map(|f| f.1.clone()).unwrap_or_default()
}

async fn extract_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Form(form): Form<Vec<(String, String)>>,
) -> Page {
    let get = |k: &str| field(&form, k);
    if !crate::session::same_secret(&get("csrf"), &s.csrf_token) {
        return Err(super::kit::csrf_page());
    }
    let r = ExtractRequest {
        kind: get("kind"),
        purpose: get("purpose"),
        include_personal: get("include_personal") == "1",
        pia_purpose: get("pia_purpose"),
        pia_recipient: get("pia_recipient"),
        pia_necessity: get("pia_necessity"),
        pia_safeguards: get("pia_safeguards"),
    };
    let done = st.svc.request_extract(&s.actor, &r).await.map(|_| ());
    lab_then(&st, c, &s.actor, done, "/lab?done=extract_queued#jobs").await
}

async fn fit_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Form(form): Form<Vec<(String, String)>>,
) -> Page {
    let get = |k: &str| field(&form, k);
    if !crate::session::same_secret(&get("csrf"), &s.csrf_token) {
        return Err(super::kit::csrf_page());
    }
    let r = FitRequest {
        extract_id: get("extract_id"),
        name: get("name"),
        variables: form.iter().filter(|f| f.0 == "variable").map(|f| f.1.clone()).collect(),
        l2: get("l2"),
    };
    let done = st.svc.request_fit(&s.actor, &r).await.map(|_| ());
    lab_then(&st, c, &s.actor, done, "/lab?done=fit_queued#jobs").await
}

async fn admission_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let done = st
        .svc
        .set_admission_rule(&s.actor, &g("model_id"), &g("accept_at"), &g("decline_below"))
        .await
        .map(|_| ());
    lab_then(&st, c, &s.actor, done, "/lab?done=admission_set#admission").await
}

async fn admission_end_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let done = st.svc.end_admission_rule(&s.actor).await;
    lab_then(&st, c, &s.actor, done, "/lab?done=admission_ended#admission").await
}

async fn switch_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let done = match kebao_domain::lab::ZoneSwitch::from_code(&g("key")) {
        Some(k) => st.svc.set_zone_switch(&s.actor, k, g("on") == "1").await,
        None => Err(kebao_service::ServiceError::NotFound),
    };
    lab_then(&st, c, &s.actor, done, "/lab?done=switch_set#switches").await
}

async fn extract_file(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
) -> Page {
    match st.svc.extract_file(&s.actor, &id).await {
        Ok((e, csv)) => Ok((
            [
                (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"{}-{}.csv\"",
                        e.kind.code(),
                        &e.id[e.id.len().saturating_sub(8)..]
                    ),
                ),
            ],
            csv,
        )
            .into_response()),
        Err(e) => Err(error_page(tr, c, e)),
    }
}

/// An extract column's label (a model fitted here names its variables by them); another name
/// (a model uploaded from the command line) as its owner wrote it.
fn column_label(tr: Tr, name: &str) -> String {
    kebao_domain::lab::CLAIMS_COLUMNS
        .iter()
        .chain(kebao_domain::lab::LOAN_COLUMNS)
        .find(|c| c.name == name)
        .map_or_else(|| name.to_owned(), |c| tr.t(c.zh, c.en).to_owned())
}

/// A level of a factor, in the reader's language where the platform knows it.
fn level_label(st: &AppState, tr: Tr, factor: &str, level: &str) -> String {
    match factor {
        "industry" if st.svc.industries().tag(level).is_some() => {
            super::products::industry_label(st, tr, level)
        }
        "stage" | "lifecycle_stage" => kebao_domain::org::LifecycleStage::from_code(level)
            .map_or_else(|| level.to_owned(), |s| tr.t(s.label_zh(), s.label_en()).to_owned()),
        "product_type" => st
            .svc
            .catalogue()
            .get(level)
            .map_or_else(|| level.to_owned(), |t| tr.pick(t.name_zh.clone(), t.name_en().to_owned())),
        _ if level == "unknown" => tr.t("未知", "unknown").to_owned(),
        _ => bin_label(tr, level),
    }
}

/// A scorecard bin's label as people read it: `(-inf, 9.75]` is "at most 9.75", `(9.75, 20]`
/// "over 9.75, up to 20", `(20, inf]` "over 20"; the special and missing bins by name; a group
/// of categories as written.
pub(crate) fn bin_label(tr: Tr, label: &str) -> String {
    match label {
        "Missing" => return tr.t("缺失", "missing").to_owned(),
        "Special" => return tr.t("特殊值", "special values").to_owned(),
        _ => {}
    }
    let inner = label.strip_prefix('(').and_then(|l| l.strip_suffix(']').or_else(|| l.strip_suffix(')')));
    let Some((lo, hi)) = inner.and_then(|i| i.split_once(", ")) else { return label.to_owned() };
    match (lo, hi) {
        ("-inf", "inf") => tr.t("全部", "any").to_owned(),
        ("-inf", h) => format!("{} {h}", tr.t("不超过", "at most")),
        (l, "inf") => format!("{} {l}", tr.t("高于", "over")),
        (l, h) => format!("{l}{}{h}", tr.t(" 以上至 ", " to ")),
    }
}

/// A number for a chart's label: four decimals at most.
fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
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
    /// A scorecard: its monitoring page; approved and the viewer's own: batch scoring.
    is_scorecard: bool,
    can_batch: bool,
    /// For the rating-plan form: the owner's products (id, name), the GLM's factors, the platform's variables.
    products: Vec<(String, String)>,
    /// Validation curves: (title, note, chart).
    curves: Vec<(String, String, String)>,
    /// (factor, its label).
    factors: Vec<(String, String)>,
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
            let family = match g.family.as_str() {
                "poisson" => tr.t("泊松分布（Poisson）", "Poisson").to_owned(),
                "gamma" => tr.t("伽马分布（Gamma）", "Gamma").to_owned(),
                "tweedie" => tr.t("Tweedie 分布", "Tweedie").to_owned(),
                "binomial" => tr.t("二项分布（Binomial）", "Binomial").to_owned(),
                "gaussian" => tr.t("正态分布（Gaussian）", "Gaussian").to_owned(),
                other => other.to_owned(),
            };
            let link = match g.link.as_str() {
                "log" => tr.t("对数连接", "log link").to_owned(),
                "logit" => tr.t("logit 连接", "logit link").to_owned(),
                "identity" => tr.t("恒等连接", "identity link").to_owned(),
                other => other.to_owned(),
            };
            let exposure = match g.exposure.as_deref() {
                Some("log(exposure) as offset") => {
                    tr.t("风险暴露（年）的对数作为偏移量", "log of the exposure (years) as offset").to_owned()
                }
                Some(e) => e.to_owned(),
                None => "—".into(),
            };
            for (k, v) in [
                (tr.t("分布族 · 连接", "Family · link"), format!("{family} · {link}")),
                (tr.t("响应变量", "Response"), column_label(tr, &g.response)),
                (tr.t("暴露量", "Exposure"), exposure),
                (tr.t("基础值", "Base"), num(g.base, 6)),
                (tr.t("观测数", "Observations"), g.n_obs.to_string()),
                (tr.t("偏差", "Deviance"), num(g.deviance, 2)),
                (tr.t("零模型偏差", "Null deviance"), num(g.null_deviance, 2)),
                (tr.t("AIC", "AIC"), g.aic.map_or_else(|| "—".into(), |a| num(a, 2))),
            ] {
                facts.push((k.to_owned(), v));
            }
            for (name, reference, levels) in &g.factors {
                factors.push((name.clone(), column_label(tr, name)));
                tables.push(TableT {
                    title: format!(
                        "{}{}{}",
                        tr.t("因子", "Factor"),
                        tr.t("：", ": "),
                        column_label(tr, name)
                    ),
                    note: format!(
                        "{}{}{}",
                        tr.t("基准水平", "Reference level"),
                        tr.t("：", ": "),
                        level_label(st, tr, name, reference)
                    ),
                    columns: vec![
                        tr.t("水平", "Level").into(),
                        tr.t("系数", "Coefficient").into(),
                        tr.t("相对数", "Relativity").into(),
                    ],
                    rows: levels
                        .iter()
                        .map(|l| {
                            vec![
                                level_label(st, tr, name, &l.level),
                                l.coefficient.map_or_else(|| "—".into(), |x| num(x, 6)),
                                l.relativity
                                    .map_or_else(|| tr.t("共线，无", "aliased").into(), |x| num(x, 4)),
                            ]
                        })
                        .collect(),
                    chart: svg::hbar(
                        &levels
                            .iter()
                            .map(|l| {
                                (level_label(st, tr, name, &l.level), round4(l.relativity.unwrap_or(0.0)))
                            })
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
                        .map(|(n, b)| vec![column_label(tr, n), b.map_or_else(|| "—".into(), |x| num(x, 6))])
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
                rows: sc.iv.iter().map(|(n, iv)| vec![column_label(tr, n), num(*iv, 4)]).collect(),
                chart: svg::hbar(
                    &sc.iv.iter().map(|(n, iv)| (column_label(tr, n), round4(*iv))).collect::<Vec<_>>(),
                    "",
                ),
            });
            for v in &sc.variables {
                tables.push(TableT {
                    title: format!(
                        "{}{}{}",
                        tr.t("变量", "Variable"),
                        tr.t("：", ": "),
                        column_label(tr, &v.name)
                    ),
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
                                level_label(st, tr, &v.name, &b.label),
                                b.count.to_string(),
                                b.events.to_string(),
                                format!("{:.2}%", b.event_rate * 100.0),
                                num(b.woe, 4),
                                num(b.points, 1),
                            ]
                        })
                        .collect(),
                    chart: svg::hbar(
                        &v.bins
                            .iter()
                            .map(|b| (level_label(st, tr, &v.name, &b.label), round4(b.woe)))
                            .collect::<Vec<_>>(),
                        "WoE",
                    ),
                });
            }
            if !sc.excluded.is_empty() {
                tables.push(TableT {
                    title: tr.t("未入模变量", "Variables left out").into(),
                    note: String::new(),
                    columns: vec![tr.t("变量", "Variable").into(), tr.t("原因", "Why").into()],
                    rows: sc.excluded.iter().map(|(n, w)| vec![column_label(tr, n), w.clone()]).collect(),
                    chart: String::new(),
                });
            }
        }
        None => {}
    }
    if let Some(t) = &m.training_sha256 {
        facts.push((
            tr.t("训练数据指纹（提取文件 SHA-256）", "Training data fingerprint (the extract's SHA-256)")
                .into(),
            t.clone(),
        ));
    }
    let mut curves = Vec::new();
    if let Some(v) = &m.validation {
        let opt = |x: Option<f64>| {
            x.map_or_else(
                || {
                    tr.t(
                        "无法计算（验证样本只有一类结果）",
                        "not computable (one outcome only in the held-out sample)",
                    )
                    .to_owned()
                },
                |x| num(x, 4),
            )
        };
        for (k, val) in [
            (
                tr.t("训练样本 · 违约率", "Training sample · default rate"),
                format!("{} · {:.2}%", v.n_train, v.bad_rate_train * 100.0),
            ),
            (
                tr.t("验证样本（留出 30%） · 违约率", "Held-out sample (30%) · default rate"),
                format!("{} · {:.2}%", v.n_valid, v.bad_rate_valid * 100.0),
            ),
            (tr.t("验证 AUC", "Held-out AUC"), opt(v.auc)),
            (tr.t("验证 KS", "Held-out KS"), opt(v.ks)),
            (tr.t("验证 Gini", "Held-out Gini"), opt(v.gini)),
        ] {
            facts.push((k.to_owned(), val));
        }
        if !v.roc.is_empty() {
            curves.push((
                tr.t("ROC 曲线（验证样本）", "ROC curve (held-out sample)").to_owned(),
                tr.t("虚线为随机排序；曲线越靠左上，区分能力越强。", "The dashed line ranks at random; the nearer the curve to the top left, the better the model separates.").to_owned(),
                svg::unit_curve(&v.roc, (tr.t("误报率", "False-positive rate"), tr.t("命中率", "True-positive rate"))),
            ));
        }
        if !v.lift.is_empty() {
            let mut pts = vec![(0.0, 0.0)];
            pts.extend(v.lift.iter().copied());
            curves.push((
                tr.t("累积捕获曲线（按风险分十等份）", "Cumulative gains (by risk decile)").to_owned(),
                tr.t("横轴为按风险从高到低排列的样本占比，纵轴为其中捕获的违约占比。", "Across: the share of the sample, riskiest first; up: the share of its defaults captured.").to_owned(),
                svg::unit_curve(&pts, (tr.t("样本占比", "Share of the sample"), tr.t("违约捕获占比", "Share of defaults captured"))),
            ));
        }
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
        is_scorecard: m.kind == ModelKind::Scorecard,
        can_batch: can_manage && m.kind == ModelKind::Scorecard && m.status == ModelStatus::Approved,
        products,
        curves,
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

struct MonthT {
    month: String,
    scored: u64,
    mean: String,
    psi: String,
    /// The variable that moved most, and every variable's CSI.
    csi: String,
    csi_all: String,
    predicted: String,
    realised: String,
    level: String,
    alert: bool,
}

#[derive(Template)]
#[template(path = "lab_monitoring.html")]
struct MonitoringTpl {
    c: Chrome,
    id: String,
    name: String,
    watch: String,
    alert: String,
    can_manage: bool,
    months: Vec<MonthT>,
    chart: String,
    messages: Vec<String>,
}

async fn monitoring_show(st: &AppState, c: Chrome, actor: &Actor, id: &str, messages: Vec<String>) -> Page {
    let tr = c.tr;
    let mon = match st.svc.model_monitoring(actor, id).await {
        Ok(m) => m,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let pct = |x: Option<f64>| x.map_or_else(|| "—".to_owned(), |v| format!("{:.2}%", v * 100.0));
    let months: Vec<MonthT> = mon
        .months
        .iter()
        .map(|m| MonthT {
            month: m.month.clone(),
            scored: m.scored,
            mean: num(m.mean_score, 1),
            psi: m.psi.map_or_else(|| tr.t("基准月", "baseline").to_owned(), |p| num(p, 4)),
            csi: m
                .csi
                .iter()
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(n, v)| format!("{} {}", column_label(tr, n), num(*v, 4)))
                .unwrap_or_default(),
            csi_all: m
                .csi
                .iter()
                .map(|(n, v)| format!("{} {}", column_label(tr, n), num(*v, 4)))
                .collect::<Vec<_>>()
                .join(tr.t("；", "; ")),
            predicted: pct(m.predicted),
            realised: if m.ended > 0 { format!("{} ({})", pct(m.realised), m.ended) } else { "—".into() },
            level: tr.t(m.level.label_zh(), m.level.label_en()).to_owned(),
            alert: m.level == kebao_service::lab_monitor::DriftLevel::Alert,
        })
        .collect();
    let cats: Vec<String> = mon.months.iter().map(|m| m.month.clone()).collect();
    let psi: Vec<f64> = mon.months.iter().map(|m| m.psi.unwrap_or(0.0)).collect();
    let csi: Vec<f64> = mon.months.iter().map(|m| m.csi.iter().map(|c| c.1).fold(0.0, f64::max)).collect();
    let chart = svg::trend(
        &cats,
        &[
            (tr.t("评分 PSI", "Score PSI").to_owned(), psi, "#2f6fb8"),
            (tr.t("变量 CSI 最大值", "Largest variable CSI").to_owned(), csi, "#d97706"),
        ],
        &[
            (tr.t("关注", "watch").to_owned(), mon.watch, "#b7791f"),
            (tr.t("预警", "alert").to_owned(), mon.alert, "#c53030"),
        ],
    );
    let can_manage =
        st.svc.may_manage_models(actor).await && actor.org_id() == Some(mon.model.owner_org_id.as_str());
    let tpl = MonitoringTpl {
        id: mon.model.id.clone(),
        name: format!("{} v{}", mon.model.name, mon.model.version),
        watch: format!("{:.2}", mon.watch),
        alert: format!("{:.2}", mon.alert),
        can_manage,
        months,
        chart,
        messages,
        c,
    };
    let status = if tpl.messages.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(with_status(status, html(&tpl)))
}

async fn monitoring_page(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
) -> Page {
    monitoring_show(&st, c, &s.actor, &id, Vec::new()).await
}

async fn thresholds_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    match st.svc.set_monitoring_thresholds(&s.actor, &id, &g("watch"), &g("alert")).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/lab/models/{id}/monitoring?done=thresholds_set")).into_response())
        }
        Err(e) => match form_messages(tr, e) {
            Ok(msgs) => monitoring_show(&st, c, &s.actor, &id, msgs).await,
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

async fn batch_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let r = st.svc.request_batch_score(&s.actor, &id).await.map(|_| ());
    model_then(&st, c, &s.actor, &id, r, "/lab?done=batch_queued#jobs").await
}
