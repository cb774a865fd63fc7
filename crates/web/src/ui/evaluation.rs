//! UI of the evaluation of institutions against service standards (C11): the standards and the
//! method, each institution's standing (all for the zone's officers and the regulator; its own
//! for an insurer or a bank), the distribution it sits in, and the workbook.

use super::kit::{error_page, html, Authed, Chrome, Page};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use kebao_domain::evaluation::{AppliesTo, METHOD_EN, METHOD_ZH};
use kebao_service::evaluation::Evaluation;
use kebao_service::tabular::{self, Table};
use kebao_service::ServiceError;
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/zone/evaluation", get(page)).route("/zone/evaluation.xlsx", get(workbook))
}

struct StandardRow {
    name: String,
    target: String,
    weight: String,
    source: String,
    reading: String,
}

struct Cell {
    heading: String,
    value: String,
    met: bool,
    none: bool,
}

struct InstitutionRow {
    rank: String,
    name: String,
    cells: Vec<Cell>,
    score: String,
}

struct KindBlock {
    label: String,
    standards: Vec<StandardRow>,
    headings: Vec<String>,
    rows: Vec<InstitutionRow>,
    chart: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "evaluation.html")]
struct EvalTpl {
    c: Chrome,
    year: i32,
    years: Vec<i32>,
    version: String,
    method: String,
    zone_wide: bool,
    blocks: Vec<KindBlock>,
}

fn fmt(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(x) if x.fract() == 0.0 && x.abs() < 1e12 => format!("{x:.0} {unit}"),
        Some(x) => format!("{x:.1} {unit}"),
        None => String::new(),
    }
}

fn blocks(tr: super::kit::Tr, e: &Evaluation) -> Vec<KindBlock> {
    let mut out = Vec::new();
    for kind in [AppliesTo::Insurer, AppliesTo::Bank] {
        let standards: Vec<_> = e.standards.iter().filter(|s| s.applies_to == kind).collect();
        let rows: Vec<_> = e.standings.iter().filter(|s| s.kind == kind.code()).collect();
        let scores = e
            .distributions
            .iter()
            .find(|(k, _)| *k == kind.code())
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        if rows.is_empty() && !e.zone_wide {
            continue;
        }
        let mine = if e.zone_wide { None } else { rows.first().and_then(|r| r.score) };
        let chart = if scores.is_empty() {
            String::new()
        } else {
            super::svg::strip(
                &scores,
                mine,
                (tr.t("各机构综合得分", "each institution's score"), tr.t("本机构", "yours")),
            )
        };
        let summary = match (e.zone_wide, rows.first()) {
            (false, Some(r)) => match (r.score, r.rank) {
                (Some(s), Some(k)) => tr.pick(
                    format!("{} 综合得分 {s:.1}，在 {} 家{}中排第 {k}。", r.name, r.of, kind.label_zh()),
                    format!(
                        "{}: composite score {s:.1}, {k} of {} {}.",
                        r.name,
                        r.of,
                        kind.label_en().to_lowercase()
                    ),
                ),
                _ => tr.t("本年度没有可评价的数据。", "No figures to evaluate this year.").to_owned(),
            },
            _ => tr.pick(
                format!("{} 家机构有综合得分。", scores.len()),
                format!("{} institutions have a composite score.", scores.len()),
            ),
        };
        out.push(KindBlock {
            label: tr.t(kind.label_zh(), kind.label_en()).to_owned(),
            standards: standards
                .iter()
                .map(|s| StandardRow {
                    name: tr.pick(s.name_zh.clone(), s.name_en.clone()),
                    target: format!(
                        "{} {} {}",
                        if s.at_least { tr.t("不低于", "at least") } else { tr.t("不高于", "at most") },
                        s.target,
                        tr.pick(s.unit_zh.clone(), s.unit_en.clone())
                    ),
                    weight: s.weight.to_string(),
                    source: format!("{}（{}）", s.source, s.confidence),
                    reading: tr.pick(s.reading_zh.clone(), s.reading_en.clone()),
                })
                .collect(),
            headings: standards.iter().map(|s| tr.pick(s.name_zh.clone(), s.name_en.clone())).collect(),
            rows: rows
                .iter()
                .map(|r| InstitutionRow {
                    rank: r.rank.map(|k| k.to_string()).unwrap_or_default(),
                    name: r.name.clone(),
                    cells: r
                        .figures
                        .iter()
                        .zip(&standards)
                        .map(|(f, s)| Cell {
                            heading: tr.pick(s.name_zh.clone(), s.name_en.clone()),
                            value: fmt(f.value, &tr.pick(s.unit_zh.clone(), s.unit_en.clone())),
                            met: f.met,
                            none: f.value.is_none(),
                        })
                        .collect(),
                    score: r.score.map(|s| format!("{s:.1}")).unwrap_or_default(),
                })
                .collect(),
            chart,
            summary,
        });
    }
    out
}

fn year_of(st: &AppState, q: &HashMap<String, String>) -> String {
    q.get("year")
        .cloned()
        .filter(|y| !y.trim().is_empty())
        .unwrap_or_else(|| (st.svc.today().year() - 1).to_string())
}

async fn page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let e = match st.svc.evaluation(&s.actor, &year_of(&st, &q)).await {
        Ok(e) => e,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let this_year = st.svc.today().year();
    Ok(html(&EvalTpl {
        year: e.year,
        years: ((this_year - 5).max(2000)..=this_year).rev().collect(),
        version: e.version.clone(),
        method: tr.t(METHOD_ZH, METHOD_EN).to_owned(),
        zone_wide: e.zone_wide,
        blocks: blocks(tr, &e),
        c,
    }))
}

async fn workbook(
    State(st): State<AppState>,
    Authed { s, tr, .. }: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let fail = |e: ServiceError| error_page(tr, super::kit::chrome_blank(tr), e);
    let e = st.svc.evaluation(&s.actor, &year_of(&st, &q)).await.map_err(fail)?;
    let mut headers = vec![
        "类别 Kind".to_owned(),
        "机构 Institution".to_owned(),
        "排名 Rank".to_owned(),
        "综合得分 Score".to_owned(),
    ];
    headers.extend(e.standards.iter().map(|s| format!("{}（{}）", s.name_zh, s.unit_zh)));
    let rows = e
        .standings
        .iter()
        .map(|r| {
            let mut row = vec![
                if r.kind == "bank" { "银行" } else { "保险机构" }.to_owned(),
                r.name.clone(),
                r.rank.map(|k| format!("{k}/{}", r.of)).unwrap_or_default(),
                r.score.map(|s| format!("{s:.1}")).unwrap_or_default(),
            ];
            row.extend(e.standards.iter().map(|s| {
                r.figures
                    .iter()
                    .find(|f| f.standard_id == s.id)
                    .and_then(|f| f.value)
                    .map(|v| format!("{v:.2}"))
                    .unwrap_or_default()
            }));
            row
        })
        .collect();
    let bytes = tabular::write_xlsx(&Table { headers, rows }, "evaluation")
        .map_err(|x| fail(ServiceError::Internal(x)))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"evaluation-{}.xlsx\"", e.year)),
        ],
        bytes,
    )
        .into_response())
}
