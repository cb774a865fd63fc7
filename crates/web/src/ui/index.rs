//! UI of the zone's development index (C11, plan 三（五）): the runs and how to start one, the
//! imported official statistics, the framework; a run's ranking with its rank intervals, each
//! unit's profile against the others, and the run's files.

use super::kit::{
    check_csrf, error_page, form_messages, html, page_upload, with_status, Authed, Chrome, Page,
};
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use kebao_domain::index::{IndexFramework, UnitKind};
use kebao_domain::job::JobState;
use kebao_domain::time_zone::{display_local, from_unix_us};
use kebao_service::index::{IndexRun, STATISTICS_COLUMNS};
use kebao_service::tabular::{self, Format, Table};
use kebao_service::ServiceError;
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/zone/index", get(index_page))
        .route("/zone/index/runs", post(start_post))
        .route("/zone/index/statistics", post(statistics_post))
        .route("/zone/index/statistics/template.xlsx", get(statistics_template))
        .route("/zone/index/framework", post(framework_post))
        .route("/zone/index/framework.toml", get(framework_file))
        .route("/zone/index/runs/{id}", get(run_page))
        .route("/zone/index/runs/{id}/{file}", get(run_file))
}

struct RunRow {
    id: String,
    kind: String,
    year: i32,
    version: i64,
    framework: String,
    units: usize,
    first: String,
    at: String,
}

struct JobRow {
    what: String,
    state: String,
    progress: String,
    failure: String,
    live: bool,
}

struct IndicatorRow {
    name: String,
    pillar: String,
    direction: String,
    unit: String,
    source: String,
    plan: String,
    definition: String,
    weight: String,
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexTpl {
    c: Chrome,
    may_build: bool,
    framework_name: String,
    framework_version: String,
    framework_note: String,
    years: Vec<i32>,
    this_year: i32,
    kinds: Vec<(String, String)>,
    jobs: Vec<JobRow>,
    live: bool,
    runs: Vec<RunRow>,
    indicators: Vec<IndicatorRow>,
    /// (kind, unit, indicator, each year's value, sources)
    official: Vec<(String, String, String, String, String)>,
    official_total: usize,
    columns: String,
    errors: Vec<String>,
    problems: Vec<(usize, String, String)>,
    imported: Option<usize>,
}

async fn render(
    st: &AppState,
    c: Chrome,
    actor: &kebao_service::authz::Actor,
    errors: Vec<String>,
    problems: Vec<(usize, String, String)>,
    imported: Option<usize>,
) -> Result<Response, (Chrome, ServiceError)> {
    let tr = c.tr;
    let (fw, uploaded) = match st.svc.index_framework(actor).await {
        Ok(x) => x,
        Err(e) => return Err((c, e)),
    };
    let runs = match st.svc.index_runs(actor).await {
        Ok(x) => x,
        Err(e) => return Err((c, e)),
    };
    let jobs = match st.svc.index_jobs(actor).await {
        Ok(x) => x,
        Err(e) => return Err((c, e)),
    };
    let mut official = Vec::new();
    for k in UnitKind::ALL {
        match st.svc.index_official(actor, *k).await {
            Ok(v) => official.extend(v.into_iter().map(|v| (*k, v))),
            Err(e) => return Err((c, e)),
        }
    }
    let may_build = st.svc.may(actor, kebao_service::authz::Action::BuildIndex);
    let kind_label = |code: &str| {
        UnitKind::from_code(code)
            .map_or_else(|| code.to_owned(), |k| tr.t(k.label_zh(), k.label_en()).to_owned())
    };
    let unit_name = |k: UnitKind, id: &str| {
        st.svc
            .index_units(&fw, k)
            .into_iter()
            .find(|u| u.id == id)
            .map_or_else(|| id.to_owned(), |u| tr.pick(u.name_zh, u.name_en))
    };
    let stored: std::collections::HashSet<&str> = runs.iter().map(|r| r.stored.job_id.as_str()).collect();
    let job_rows: Vec<JobRow> = jobs
        .iter()
        .filter(|j| !stored.contains(j.id.as_str()) && j.state != JobState::Succeeded)
        .map(|j| {
            let what = j
                .params
                .index
                .as_ref()
                .map_or_else(String::new, |p| format!("{} · {}", p.year, kind_label(&p.unit_kind)));
            JobRow {
                what,
                state: tr.t(j.state.label_zh(), j.state.label_en()).to_owned(),
                progress: j.percent().map(|p| format!("{p}%")).unwrap_or_default(),
                failure: j
                    .failure
                    .as_ref()
                    .map(|f| tr.pick(f.message_zh.clone(), f.message_en.clone()))
                    .unwrap_or_default(),
                live: !j.state.ended(),
            }
        })
        .collect();
    let live = job_rows.iter().any(|j| j.live);
    let run_rows = runs
        .iter()
        .map(|r| RunRow {
            id: r.stored.id.clone(),
            kind: kind_label(&r.stored.unit_kind),
            year: r.stored.year,
            version: r.stored.version,
            framework: r.stored.framework_version.clone(),
            units: r.results.units.len(),
            first: r
                .results
                .units
                .first()
                .map(|u| tr.pick(u.name_zh.clone(), u.name_en.clone()))
                .unwrap_or_default(),
            at: format!("{} · {}", display_local(from_unix_us(r.stored.created_at_us)), r.created_by_name),
        })
        .collect();
    let indicators = fw
        .indicators()
        .map(|n| {
            let pillar = n
                .parent
                .as_deref()
                .and_then(|p| fw.node(p))
                .map(|p| tr.pick(p.name_zh.clone(), p.name_en.clone()))
                .unwrap_or_default();
            let (szh, sen) = n.measure.as_ref().map_or(("", ""), |m| m.source_label());
            IndicatorRow {
                name: tr.pick(n.name_zh.clone(), n.name_en.clone()),
                pillar,
                direction: if n.direction < 0 {
                    tr.t("越低越好", "lower is better")
                } else {
                    tr.t("越高越好", "higher is better")
                }
                .to_owned(),
                unit: tr.pick(n.unit_zh.clone(), n.unit_en.clone()),
                source: tr.t(szh, sen).to_owned(),
                plan: n.plan.clone(),
                definition: tr.pick(n.definition_zh.clone(), n.definition_en.clone()),
                weight: kebao_domain::index::num(n.weight),
            }
        })
        .collect();
    let official_total = official.len();
    // One row per unit and indicator, its years side by side (the values come sorted by unit,
    // year and indicator).
    let mut official_rows: Vec<(String, String, String, String, String)> = Vec::new();
    let mut keys: Vec<(UnitKind, &str, &str)> = Vec::new();
    for (k, v) in &official {
        let key = (*k, v.unit_id.as_str(), v.indicator.as_str());
        let at = match keys.iter().position(|x| *x == key) {
            Some(i) => i,
            None => {
                let ind = fw
                    .node(&v.indicator)
                    .map_or_else(|| v.indicator.clone(), |n| tr.pick(n.name_zh.clone(), n.name_en.clone()));
                keys.push(key);
                official_rows.push((
                    tr.t(k.label_zh(), k.label_en()).to_owned(),
                    unit_name(*k, &v.unit_id),
                    ind,
                    String::new(),
                    String::new(),
                ));
                official_rows.len() - 1
            }
        };
        if let Some(row) = official_rows.get_mut(at) {
            if !row.3.is_empty() {
                row.3.push_str(" · ");
            }
            row.3.push_str(&format!("{}: {}", v.year, v.value));
            if !row.4.split(" | ").any(|x| x == v.source) {
                if !row.4.is_empty() {
                    row.4.push_str(" | ");
                }
                row.4.push_str(&v.source);
            }
        }
    }
    official_rows.truncate(200);
    let this_year = st.svc.today().year();
    let framework_note = match uploaded.first() {
        Some((f, name)) => format!(
            "{} {} · {name}",
            tr.t("由示范区上传于", "uploaded by the zone on"),
            display_local(from_unix_us(f.uploaded_at_us)),
        ),
        None => tr
            .t(
                "平台随附的建议框架（待示范区确认，U）",
                "the framework shipped with the platform (a proposal for the zone to confirm, U)",
            )
            .to_owned(),
    };
    let status = if errors.is_empty() && problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(with_status(
        status,
        html(&IndexTpl {
            may_build,
            framework_name: tr.pick(fw.name_zh.clone(), fw.name_en.clone()),
            framework_version: fw.version.clone(),
            framework_note,
            years: (fw.first_year..=fw.last_year.min(this_year)).rev().collect(),
            this_year: (this_year - 1).max(fw.first_year),
            kinds: UnitKind::ALL
                .iter()
                .map(|k| (k.code().to_owned(), tr.t(k.label_zh(), k.label_en()).to_owned()))
                .collect(),
            jobs: job_rows,
            live,
            runs: run_rows,
            indicators,
            official: official_rows,
            official_total,
            columns: STATISTICS_COLUMNS
                .iter()
                .map(|(c, zh)| format!("{c}/{zh}"))
                .collect::<Vec<_>>()
                .join(", "),
            errors,
            problems,
            imported,
            c,
        }),
    ))
}

async fn index_page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let imported = q.get("imported").and_then(|v| v.parse().ok());
    render(&st, c, &s.actor, Vec::new(), Vec::new(), imported).await.map_err(|(c, e)| error_page(tr, c, e))
}

async fn start_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    match st.svc.start_index_run(&s.actor, &g("unit_kind"), &g("year")).await {
        Ok(_) => Ok(Redirect::to("/zone/index#runs").into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(m) => Err(render(&st, c, &s.actor, m, Vec::new(), None)
                .await
                .unwrap_or_else(|(c, e)| error_page(tr, c, e))),
            Err(ServiceError::Conflict(f)) => {
                Err(render(&st, c, &s.actor, vec![tr.pick(f.message_zh, f.message_en)], Vec::new(), None)
                    .await
                    .unwrap_or_else(|(c, e)| error_page(tr, c, e)))
            }
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

async fn statistics_post(State(st): State<AppState>, Authed { c, s, tr }: Authed, m: Multipart) -> Page {
    let back = |c: Chrome, msg: String| async {
        render(&st, c, &s.actor, vec![msg], Vec::new(), None)
            .await
            .unwrap_or_else(|(c, e)| error_page(tr, c, e))
    };
    let (name, bytes) = match page_upload(m, &s, tr).await {
        Ok(x) => x,
        Err(Ok(msg)) => return Err(back(c, msg).await),
        Err(Err(resp)) => return Err(resp),
    };
    let format = Format::from_name(&name).unwrap_or_else(|| Format::sniff(&bytes));
    let table = match tabular::read(&bytes, format) {
        Ok(t) => t,
        Err(e) => return Err(back(c, tr.pick(e.message_zh(), e.to_string())).await),
    };
    match st.svc.import_index_statistics(&s.actor, &table).await {
        Ok(r) if r.problems.is_empty() => {
            Ok(Redirect::to(&format!("/zone/index?imported={}#official", r.imported)).into_response())
        }
        Ok(r) => {
            let problems = r
                .problems
                .iter()
                .map(|p| (p.row, p.column.clone(), tr.pick(p.reason_zh.clone(), p.reason_en.clone())))
                .collect();
            let msg = tr.t("文件有误，未导入任何数据；请按下表逐行修改后重新上传。", "The file has problems; nothing was imported. Correct the rows below and upload it again.").to_owned();
            Err(render(&st, c, &s.actor, vec![msg], problems, None)
                .await
                .unwrap_or_else(|(c, e)| error_page(tr, c, e)))
        }
        Err(e) => Err(error_page(tr, c, e)),
    }
}

async fn framework_post(State(st): State<AppState>, Authed { c, s, tr }: Authed, m: Multipart) -> Page {
    let back = |c: Chrome, msg: String| async {
        render(&st, c, &s.actor, vec![msg], Vec::new(), None)
            .await
            .unwrap_or_else(|(c, e)| error_page(tr, c, e))
    };
    let (_, bytes) = match page_upload(m, &s, tr).await {
        Ok(x) => x,
        Err(Ok(msg)) => return Err(back(c, msg).await),
        Err(Err(resp)) => return Err(resp),
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return Err(back(
            c,
            tr.t("框架文件须为 UTF-8 编码的 TOML 文本。", "The framework must be a UTF-8 TOML file.")
                .to_owned(),
        )
        .await);
    };
    match st.svc.load_index_framework(&s.actor, &text).await {
        Ok(_) => Ok(Redirect::to("/zone/index#framework").into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(m) => Err(render(&st, c, &s.actor, m, Vec::new(), None)
                .await
                .unwrap_or_else(|(c, e)| error_page(tr, c, e))),
            Err(ServiceError::Conflict(f)) => Err(back(c, tr.pick(f.message_zh, f.message_en)).await),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

fn download(name: &str, content_type: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}

async fn framework_file(State(st): State<AppState>, Authed { s, tr, .. }: Authed) -> Page {
    let fail = |e| error_page(tr, super::kit::chrome_blank(tr), e);
    st.svc.index_framework(&s.actor).await.map_err(fail)?;
    let (_, uploaded) = st.svc.current_index_framework().await.map_err(fail)?;
    let text = uploaded.map_or_else(|| kebao_service::index::FRAMEWORK.to_owned(), |f| f.body);
    Ok(download("index-framework.toml", "application/toml; charset=utf-8", text.into_bytes()))
}

async fn statistics_template(State(st): State<AppState>, Authed { s, tr, .. }: Authed) -> Page {
    let fail = |e| error_page(tr, super::kit::chrome_blank(tr), e);
    let (fw, _) = st.svc.index_framework(&s.actor).await.map_err(fail)?;
    // One row per region compared and official indicator, for last year, its value to fill in.
    let year = (st.svc.today().year() - 1).to_string();
    let mut rows = Vec::new();
    for u in st.svc.index_units(&fw, UnitKind::Park) {
        for n in fw.indicators().filter(|n| n.measure == Some(kebao_domain::index::Measure::Official)) {
            rows.push(vec![
                UnitKind::Park.label_zh().to_owned(),
                u.name_zh.clone(),
                year.clone(),
                n.name_zh.clone(),
                String::new(),
                String::new(),
            ]);
        }
    }
    let table = Table { headers: STATISTICS_COLUMNS.iter().map(|(_, zh)| (*zh).to_owned()).collect(), rows };
    let bytes = tabular::write_xlsx(&table, "official").map_err(|e| fail(ServiceError::Internal(e)))?;
    Ok(download(
        "index-statistics-template.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
    ))
}

struct UnitRow {
    rank: String,
    id: String,
    name: String,
    scores: Vec<String>,
    interval: String,
}

#[derive(Template)]
#[template(path = "index_run.html")]
struct RunTpl {
    c: Chrome,
    id: String,
    title: String,
    meta: String,
    headings: Vec<String>,
    units: Vec<UnitRow>,
    interval_chart: String,
    profile_unit: String,
    profile_chart: String,
    profile_rows: Vec<(String, String, String, String)>,
    choices: Vec<(String, String, bool)>,
    left_out: Vec<String>,
    runs: usize,
    method: String,
}

fn fmt(x: Option<f64>, places: usize) -> String {
    x.filter(|v| v.is_finite()).map_or_else(|| "—".to_owned(), |v| format!("{v:.places$}"))
}

fn title(tr: super::kit::Tr, r: &IndexRun, fw_name: &str) -> String {
    let kind = UnitKind::from_code(&r.stored.unit_kind).map_or("", |k| tr.t(k.label_zh(), k.label_en()));
    format!("{fw_name} · {} · {kind} · {} {}", r.stored.year, tr.t("第", "version"), r.stored.version)
        + tr.t(" 版", "")
}

async fn run_page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let r = match st.svc.index_run(&s.actor, &id).await {
        Ok(r) => r,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let fw: IndexFramework = match st.svc.index_framework(&s.actor).await {
        Ok((fw, _)) => fw,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let res = &r.results;
    let node_name = |code: &str| {
        // The run's iMeta names every node it used; the framework in use gives the Chinese.
        fw.node(code).map_or_else(|| code.to_owned(), |n| tr.pick(n.name_zh.clone(), n.name_en.clone()))
    };
    let headings: Vec<String> = res.codes.iter().map(|c| node_name(c)).collect();
    let n = res.units.len();
    let units: Vec<UnitRow> = res
        .units
        .iter()
        .map(|u| UnitRow {
            rank: u.rank.map(|x| x.to_string()).unwrap_or_default(),
            id: u.id.clone(),
            name: tr.pick(u.name_zh.clone(), u.name_en.clone()),
            scores: u.scores.iter().map(|s| fmt(*s, 1)).collect(),
            interval: tr.pick(
                format!("{}–{}（中位 {}）", fmt(Some(u.q05), 0), fmt(Some(u.q95), 0), fmt(Some(u.median), 1)),
                format!(
                    "{}–{} (median {})",
                    fmt(Some(u.q05), 0),
                    fmt(Some(u.q95), 0),
                    fmt(Some(u.median), 1)
                ),
            ),
        })
        .collect();
    let interval_chart = super::svg::intervals(
        &res.units
            .iter()
            .map(|u| {
                (
                    tr.pick(u.name_zh.clone(), u.name_en.clone()),
                    u.rank.unwrap_or(0) as f64,
                    u.median,
                    u.q05,
                    u.q95,
                )
            })
            .collect::<Vec<_>>(),
        n,
        (
            tr.t("名义排名", "nominal rank"),
            tr.t("中位排名", "median rank"),
            tr.t("5%–95% 区间", "5 %–95 % interval"),
        ),
    );
    let chosen = q
        .get("unit")
        .cloned()
        .filter(|u| res.units.iter().any(|x| &x.id == u))
        .or_else(|| res.units.first().map(|u| u.id.clone()))
        .unwrap_or_default();
    let me = res.units.iter().find(|u| u.id == chosen);
    let mut profile = Vec::new();
    let mut profile_rows = Vec::new();
    if let Some(me) = me {
        for (j, code) in res.indicators.iter().enumerate() {
            let mut others: Vec<f64> = res
                .units
                .iter()
                .filter(|u| u.id != me.id)
                .filter_map(|u| u.normalised.get(j).copied().flatten())
                .collect();
            others.sort_by(f64::total_cmp);
            let median = if others.is_empty() {
                f64::NAN
            } else if others.len() % 2 == 1 {
                others.get(others.len() / 2).copied().unwrap_or(f64::NAN)
            } else {
                let a = others.get(others.len() / 2 - 1).copied().unwrap_or(f64::NAN);
                let b = others.get(others.len() / 2).copied().unwrap_or(f64::NAN);
                (a + b) / 2.0
            };
            let mine = me.normalised.get(j).copied().flatten().unwrap_or(f64::NAN);
            let unit =
                fw.node(code).map(|n| tr.pick(n.unit_zh.clone(), n.unit_en.clone())).unwrap_or_default();
            profile.push((node_name(code), mine, median));
            profile_rows.push((
                node_name(code),
                format!("{} {unit}", fmt(me.raw.get(j).copied().flatten(), 2)),
                fmt(Some(mine), 1),
                fmt(Some(median), 1),
            ));
        }
    }
    let profile_chart = super::svg::profile(
        &profile,
        (
            &me.map(|u| tr.pick(u.name_zh.clone(), u.name_en.clone())).unwrap_or_default(),
            tr.t("其他单元中位数", "median of the others"),
        ),
    );
    let kind = UnitKind::from_code(&r.stored.unit_kind).map_or("", |k| tr.t(k.label_zh(), k.label_en()));
    let meta = format!(
        "{} {} · {} {} · {} {}",
        tr.t("框架版本", "Framework"),
        r.stored.framework_version,
        tr.t("计算于", "computed on"),
        display_local(from_unix_us(r.stored.created_at_us)),
        n,
        tr.t("个单元参与排名", "units ranked")
    );
    let _ = kind;
    let left_out = res
        .dropped
        .iter()
        .chain(&res.excluded)
        .map(|x| tr.pick(x.reason_zh.clone(), x.reason_en.clone()))
        .collect();
    let method = tr.pick(
        format!(
            "各指标先按缺失值以均值补齐、剔除有数据指标不足 {screen}% 的单元、对偏态指标做缩尾/对数处理，再按最小–最大法标准化到 0–100（“越低越好”的指标反向），按权重算术平均逐级汇总（COINr 方法）。排名区间来自 {runs} 次随机扰动：权重 ±{noise}%、标准化方法与缺失值补齐方法的不同选择；区间为 5%–95% 分位。",
            screen = (fw.build.screen * 100.0).round(),
            runs = res.runs,
            noise = (fw.uncertainty.weight_noise * 100.0).round()
        ),
        format!(
            "Missing values take the indicator's mean; units with fewer than {screen} % of the indicators are left out; skewed indicators are winsorised or log-transformed; then min-max to 0–100 (indicators where lower is better reversed), weighted arithmetic means up the framework (COINr's method). The rank intervals come from {runs} runs varying the weights by ±{noise} % and the choice of normalisation and imputation; they span the 5 %–95 % quantiles.",
            screen = (fw.build.screen * 100.0).round(),
            runs = res.runs,
            noise = (fw.uncertainty.weight_noise * 100.0).round()
        ),
    );
    Ok(html(&RunTpl {
        id: r.stored.id.clone(),
        title: title(tr, &r, &tr.pick(fw.name_zh.clone(), fw.name_en.clone())),
        meta,
        headings,
        units,
        interval_chart,
        profile_unit: me.map(|u| tr.pick(u.name_zh.clone(), u.name_en.clone())).unwrap_or_default(),
        profile_chart,
        profile_rows,
        choices: res
            .units
            .iter()
            .map(|u| (u.id.clone(), tr.pick(u.name_zh.clone(), u.name_en.clone()), u.id == chosen))
            .collect(),
        left_out,
        runs: res.runs,
        method,
        c,
    }))
}

/// A run's files: `iMeta.csv`, `iData.csv`, `config.toml` (what `kebao index build` reads) and
/// `results.xlsx`.
async fn run_file(
    State(st): State<AppState>,
    Authed { s, tr, .. }: Authed,
    Path((id, file)): Path<(String, String)>,
) -> Page {
    let fail = |e| error_page(tr, super::kit::chrome_blank(tr), e);
    let r = st.svc.index_run(&s.actor, &id).await.map_err(fail)?;
    let csv = "text/csv; charset=utf-8";
    Ok(match file.as_str() {
        "iMeta.csv" => download("iMeta.csv", csv, r.stored.imeta.into_bytes()),
        "iData.csv" => download("iData.csv", csv, r.stored.idata.into_bytes()),
        "config.toml" => {
            download("config.toml", "application/toml; charset=utf-8", r.stored.config.into_bytes())
        }
        "results.xlsx" => {
            let bytes =
                kebao_service::index::results_xlsx(&r).map_err(|e| fail(ServiceError::Internal(e)))?;
            download(
                &format!("index-{}-{}-v{}.xlsx", r.stored.unit_kind, r.stored.year, r.stored.version),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                bytes,
            )
        }
        _ => return Err(fail(ServiceError::NotFound)),
    })
}
