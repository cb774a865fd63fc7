//! The zone's what-if page for a loan scheme (issue 20): a Monte Carlo of a scheme over a pool
//! (its live book, or segments typed in), run as a job with progress; each party's loss
//! distribution with its Monte Carlo error and a chart.

use super::kit::{check_csrf, error_page, form_messages, html, with_status, Authed, Chrome, Page};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::{Form, Router};
use kebao_domain::time_zone::{display_local, from_unix_us};
use kebao_service::scheme_sim::{Distribution, Estimate, Results, SimulationInput};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/loans/simulate", get(form_page).post(start_post))
        .route("/loans/simulate/{id}", get(run_page))
}

#[derive(Template)]
#[template(path = "scheme_sim_new.html")]
struct FormTpl {
    c: Chrome,
    schemes: Vec<(String, String)>,
    typed: HashMap<String, String>,
    runs: Vec<(String, String, String, String)>,
    errors: Vec<String>,
    max_work: String,
}

impl FormTpl {
    fn typed(&self, k: &str) -> &str {
        self.typed.get(k).map_or("", String::as_str)
    }
}

async fn render_form(
    st: &AppState,
    c: Chrome,
    actor: &kebao_service::authz::Actor,
    mut typed: HashMap<String, String>,
    errors: Vec<String>,
) -> Result<axum::response::Response, (Chrome, kebao_service::ServiceError)> {
    let tr = c.tr;
    let schemes = match st.svc.loan_schemes_in_force().await {
        Ok(s) => s,
        Err(e) => return Err((c, e)),
    };
    let runs = match st.svc.scheme_simulations(actor).await {
        Ok(r) => r,
        Err(e) => return Err((c, e)),
    };
    let scheme_id = typed.get("scheme_id").cloned().or_else(|| schemes.first().map(|s| s.id.clone()));
    if !typed.contains_key("pool") {
        // The live book of the scheme chosen, at a PD of 3 % and an LGD of 45 % (both to edit).
        if let Some(id) = &scheme_id {
            let text = match st.svc.scheme_book_pool(actor, id, 0.03, 0.45).await {
                Ok(t) => t,
                Err(e) => return Err((c, e)),
            };
            let text = if text.lines().count() <= 1 {
                "count,principal,pd,lgd\n200,300000,0.03,0.45\n100,1000000,0.02,0.45\n".to_owned()
            } else {
                text
            };
            typed.insert("pool".into(), text);
        }
    }
    Ok(html(&FormTpl {
        schemes: schemes
            .iter()
            .map(|s| (s.id.clone(), tr.pick(s.name_zh.clone(), s.name_en.clone())))
            .collect(),
        runs: runs
            .iter()
            .map(|j| {
                let scheme = j
                    .params
                    .simulation
                    .as_ref()
                    .and_then(|p| schemes.iter().find(|s| s.id == p.scheme_id))
                    .map(|s| tr.pick(s.name_zh.clone(), s.name_en.clone()))
                    .unwrap_or_default();
                (
                    j.id.clone(),
                    display_local(from_unix_us(j.requested_at_us)),
                    scheme,
                    tr.t(j.state.label_zh(), j.state.label_en()).to_owned(),
                )
            })
            .collect(),
        typed,
        errors,
        max_work: kebao_service::scheme_sim::MAX_WORK.to_string(),
        c,
    }))
}

async fn form_page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let typed: HashMap<String, String> = q.into_iter().filter(|(k, _)| k == "scheme_id").collect();
    render_form(&st, c, &s.actor, typed, Vec::new()).await.map_err(|(c, e)| error_page(tr, c, e))
}

async fn start_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let input = SimulationInput {
        scheme_id: g("scheme_id"),
        pool: g("pool"),
        rho_pct: g("rho_pct"),
        lgd_concentration: g("lgd_concentration"),
        recovery_rate_pct: g("recovery_rate_pct"),
        recovery_lag_months: g("recovery_lag_months"),
        scenarios: g("scenarios"),
        seed: g("seed"),
    };
    match st.svc.start_scheme_simulation(&s.actor, &input).await {
        Ok(job) => Ok(Redirect::to(&format!("/loans/simulate/{}", job.id)).into_response()),
        Err(e) => match form_messages(tr, e) {
            Ok(m) => {
                let typed: HashMap<String, String> = form.into_iter().filter(|(k, _)| k != "csrf").collect();
                Err(with_status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    render_form(&st, c, &s.actor, typed, m)
                        .await
                        .unwrap_or_else(|(c, e)| error_page(tr, c, e)),
                ))
            }
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

struct RowT {
    party: String,
    mean: String,
    var_95: String,
    var_99: String,
    var_999: String,
    es_99: String,
    es_999: String,
}

#[derive(Template)]
#[template(path = "scheme_sim.html")]
struct RunTpl {
    c: Chrome,
    state: String,
    running: bool,
    progress: String,
    failure: String,
    setup: Vec<(String, String)>,
    rows: Vec<RowT>,
    probabilities: Vec<(String, String)>,
    charts: Vec<(String, String)>,
}

fn yuan(v: f64) -> String {
    kebao_domain::Money::from_fen((v * 100.0).round() as i64).display_yuan()
}

fn est(e: &Estimate) -> String {
    if e.se.is_finite() {
        format!("{} ± {}", yuan(e.value), yuan(e.se))
    } else {
        yuan(e.value)
    }
}

fn share(e: &Estimate) -> String {
    format!("{:.2}% ± {:.2}%", e.value * 100.0, e.se * 100.0)
}

/// A histogram as vertical bars, the share of scenarios in each bin.
fn histogram(bins: &[(f64, f64)], unit: &str) -> String {
    let (width, height, top, bottom, left) = (620.0, 200.0, 10.0, 34.0, 46.0);
    let plot_h = height - top - bottom;
    let max = bins.iter().map(|b| b.1).fold(0.0f64, f64::max).max(1e-12);
    let bw = (width - left - 10.0) / bins.len().max(1) as f64;
    let mut s = format!(
        "<svg role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"100%\" style=\"max-width:{width}px\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#5f6b7a\" text-anchor=\"end\">{:.1}%</text>",
        left - 4.0,
        top + 8.0,
        max * 100.0
    );
    for (i, (lo, p)) in bins.iter().enumerate() {
        let h = (p / max * plot_h).max(if *p > 0.0 { 0.5 } else { 0.0 });
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"#2f6fb3\"><title>≥ {}{unit}: {:.2}%</title></rect>",
            left + i as f64 * bw,
            top + plot_h - h,
            (bw - 1.0).max(0.5),
            yuan(*lo),
            p * 100.0
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{width}\" y2=\"{}\" stroke=\"#d9dee5\"/>",
        top + plot_h,
        top + plot_h
    );
    if let (Some(first), Some(last)) = (bins.first(), bins.last()) {
        let top_value = last.0 + (last.0 - first.0) / (bins.len().max(2) - 1) as f64;
        for (x, v, anchor) in [(left, first.0, "start"), (width - 10.0, top_value, "end")] {
            let _ = write!(
                s,
                "<text x=\"{x}\" y=\"{}\" font-size=\"11\" text-anchor=\"{anchor}\">{}{unit}</text>",
                height - 12.0,
                yuan(v)
            );
        }
    }
    s.push_str("</svg>");
    s
}

fn row(party: String, d: &Distribution) -> RowT {
    RowT {
        party,
        mean: est(&d.mean),
        var_95: est(&d.var_95),
        var_99: est(&d.var_99),
        var_999: est(&d.var_999),
        es_99: est(&d.es_99),
        es_999: est(&d.es_999),
    }
}

async fn run_page(State(st): State<AppState>, Authed { c, s, tr }: Authed, Path(id): Path<String>) -> Page {
    let sim = st
        .svc
        .scheme_simulation(&s.actor, &id)
        .await
        .map_err(|e| error_page(tr, super::kit::chrome_blank(tr), e))?;
    let job = &sim.job;
    let running = !job.state.ended();
    let progress = match job.percent() {
        Some(pct) => format!(
            "{} / {} {}{}{pct}%{}",
            job.done,
            job.total,
            tr.t("个情景", "scenarios"),
            tr.t("（", " ("),
            tr.t("）", ")")
        ),
        None => String::new(),
    };
    let failure =
        job.failure.as_ref().map(|f| tr.pick(f.message_zh.clone(), f.message_en.clone())).unwrap_or_default();
    let mut setup = Vec::new();
    if let Some(p) = &sim.params {
        let schemes =
            st.svc.loan_schemes().await.map_err(|e| error_page(tr, super::kit::chrome_blank(tr), e))?;
        let name = schemes
            .iter()
            .find(|x| x.id == p.scheme_id && x.version == p.scheme_version)
            .map_or_else(|| p.scheme_id.clone(), |x| tr.pick(x.name_zh.clone(), x.name_en.clone()));
        setup.push((
            tr.t("方案", "Scheme").to_owned(),
            format!(
                "{name}{}{}{}{}",
                tr.t("（第 ", " (version "),
                p.scheme_version,
                tr.t(" 版", ""),
                tr.t("）", ")")
            ),
        ));
        setup.push((
            tr.t("资产相关系数 ρ", "Asset correlation ρ").to_owned(),
            format!("{:.2}", p.rho_bp as f64 / 10_000.0),
        ));
        setup.push((
            tr.t("违约损失率", "Loss given default").to_owned(),
            match p.lgd_concentration_pct {
                Some(c) => {
                    format!("{} {:.2}", tr.t("Beta 分布，集中度", "Beta, concentration"), c as f64 / 100.0)
                }
                None => tr.t("按贷款固定", "fixed per loan").to_owned(),
            },
        ));
        setup.push((
            tr.t("回收", "Recoveries").to_owned(),
            format!(
                "{:.2}% · {} {}",
                p.recovery_bp as f64 / 100.0,
                p.recovery_lag_months,
                tr.t("个月后", "months later")
            ),
        ));
        setup.push((
            tr.t("情景数与随机种子", "Scenarios and seed").to_owned(),
            format!("{} · {}", p.scenarios, p.seed),
        ));
    }
    let (mut rows, mut probabilities, mut charts) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(r) = &sim.results {
        let r: &Results = r;
        setup.push((
            tr.t("贷款笔数与本金（元）", "Loans and principal (yuan)").to_owned(),
            format!("{} · {}", r.loans, yuan(r.principal)),
        ));
        setup.push((
            tr.t("年度已赚保费（元）", "Premium earned in the year (yuan)").to_owned(),
            yuan(r.premium),
        ));
        rows = vec![
            row(tr.t("全部损失（回收前）", "Gross loss (before recoveries)").to_owned(), &r.gross),
            row(tr.t("保险机构", "Insurer").to_owned(), &r.insurer),
            row(tr.t("银行", "Bank").to_owned(), &r.bank),
            row(tr.t("风险补偿基金", "Risk-compensation fund").to_owned(), &r.fund),
            row(tr.t("担保机构", "Guarantor").to_owned(), &r.guarantor),
        ];
        probabilities = vec![
            (tr.t("基金需要赔付的概率", "Probability the fund pays").to_owned(), share(&r.p_fund_pays)),
            (tr.t("基金耗尽的概率", "Probability the fund runs dry").to_owned(), share(&r.p_fund_exhausted)),
            (
                tr.t("赔付率触发暂停的概率", "Probability the loss-ratio guard trips").to_owned(),
                share(&r.p_guard_loss_ratio),
            ),
            (
                tr.t("逾期率触发暂停的概率", "Probability the overdue-rate guard trips").to_owned(),
                share(&r.p_guard_overdue_rate),
            ),
        ];
        let unit = tr.t(" 元", " yuan");
        charts = vec![
            (tr.t("全部损失的分布", "Gross loss").to_owned(), histogram(&r.gross.histogram, unit)),
            (
                tr.t("保险机构损失的分布", "The insurer's loss").to_owned(),
                histogram(&r.insurer.histogram, unit),
            ),
            (tr.t("银行损失的分布", "The bank's loss").to_owned(), histogram(&r.bank.histogram, unit)),
        ];
    }
    Ok(html(&RunTpl {
        state: tr.t(job.state.label_zh(), job.state.label_en()).to_owned(),
        running,
        progress,
        failure,
        setup,
        rows,
        probabilities,
        charts,
        c,
    }))
}
