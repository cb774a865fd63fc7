//! UI of the tech-insurance statistics (C11): the report arranged by the NFRA statistical
//! system, its choices (period, part, rows, insurer), the year's quarters as a chart, and the
//! workbook.

use super::kit::{error_page, html, Authed, Chrome, Page};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use kebao_domain::stats::{Breakdown, Measures, Part, Period, COLUMNS, LAYOUT_NOTE_EN, LAYOUT_NOTE_ZH};
use kebao_domain::time_zone::{display_local, from_unix_us};
use kebao_domain::{Invalid, Money};
use kebao_service::stats::{StatsQuery, StatsReport};
use kebao_service::ServiceError;
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/zone/statistics", get(stats_page))
        .route("/zone/statistics.xlsx", get(stats_xlsx))
        .route("/zone/statistics/grid.xlsx", get(grid_xlsx))
        .route("/zone/statistics/classes.xlsx", get(classes_xlsx))
        .route("/zone/statistics/quarters.xlsx", get(quarters_xlsx))
        .route("/zone/targets", get(targets_page))
}

struct Row {
    label: String,
    depth: u8,
    cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsTpl {
    c: Chrome,
    note: String,
    title: String,
    period_label: String,
    scope: String,
    headings: Vec<String>,
    rows: Vec<Row>,
    total: Vec<String>,
    overlap: bool,
    /// (value, label, selected)
    periods: Vec<(String, String, bool)>,
    parts: Vec<(String, String, bool)>,
    breakdowns: Vec<(String, String, bool)>,
    insurers: Vec<(String, String, bool)>,
    /// Whether the reader sees the whole zone (and may choose "all insurers").
    zone_wide: bool,
    query: String,
    trend_chart: String,
    rows_chart: String,
    definitions: Vec<(String, String)>,
    grid_chart: String,
    /// The year's quarters as a table: (quarter, premium written, earned, claims paid) in 10k yuan.
    quarter_rows: Vec<(String, Vec<String>)>,
    /// When the figures were added up, and whether newer records are being added.
    as_of: String,
    stale: bool,
    /// The parks as tiles (Part 2 by park, in the period and scope), and the link to their table.
    park_chart: String,
    park_query: String,
    /// The grid as a table: the columns' labels, then (row label, cells "premium · enterprises").
    grid_cols: Vec<String>,
    grid_rows: Vec<(String, Vec<String>)>,
    /// Premium written by class over eight quarters: the chart, then the table's headings and
    /// rows (class, 10k yuan per quarter).
    class_chart: String,
    class_cols: Vec<String>,
    class_rows: Vec<(String, Vec<String>)>,
}

fn cells(m: &Measures) -> Vec<String> {
    let y = |f: i64| Money::from_fen(f).display_yuan();
    let n = |v: u64| super::kit::group_digits(&v.to_string()).unwrap_or_else(|| v.to_string());
    vec![
        n(m.policies),
        n(m.enterprises),
        y(m.written_fen),
        y(m.earned_fen),
        y(m.cover_fen),
        n(m.claims_reported),
        y(m.claimed_fen),
        y(m.paid_fen),
    ]
}

/// The query as typed, with the defaults: this year, Part 1, the part's own rows.
fn query_of(st: &AppState, q: &HashMap<String, String>) -> Result<StatsQuery, Invalid> {
    let g = |k: &str| q.get(k).map(String::as_str).unwrap_or_default();
    let year = st.svc.today().year().to_string();
    let period = if g("period").trim().is_empty() { year.as_str() } else { g("period") };
    StatsQuery::parse(period, g("part"), g("by"), g("insurer"))
}

fn encode(q: &StatsQuery) -> String {
    let mut s = format!("period={}&part={}&by={}", q.period.code(), q.part.number(), q.by.code());
    if let Some(i) = &q.insurer_id {
        s.push_str("&insurer=");
        s.push_str(i);
    }
    s
}

async fn stats_page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Query(raw): Query<HashMap<String, String>>,
) -> Page {
    let fail = |e: ServiceError| error_page(tr, super::kit::chrome_blank(tr), e);
    let q = query_of(&st, &raw).map_err(|i| fail(ServiceError::Invalid(i)))?;
    // Every figure from the platform's snapshots (the downloads compute afresh).
    let d = st.svc.stats_dashboard(&s.actor, &q).await.map_err(fail)?;
    let report = d.report;
    let choices = st.svc.stats_insurers(&s.actor).await.map_err(fail)?;
    let zone_wide = st.svc.reads_zone_statistics(&s.actor);
    let today = st.svc.today();
    // The year's quarters up to today's, for the trend.
    let quarters = d.quarters;
    let wan2 = |f: i64| format!("{:.2}", f as f64 / 1_000_000.0);
    let quarter_rows: Vec<(String, Vec<String>)> = quarters
        .iter()
        .map(|(p, m)| {
            (
                tr.t(&p.label_zh(), &p.label_en()).to_owned(),
                vec![wan2(m.written_fen), wan2(m.earned_fen), wan2(m.paid_fen)],
            )
        })
        .collect();
    let trend_chart = if quarters.iter().all(|(_, m)| m.is_empty()) {
        String::new()
    } else {
        let cats: Vec<String> =
            quarters.iter().map(|(p, _)| tr.t(&p.label_zh(), &p.label_en()).to_owned()).collect();
        let wan = |f: i64| (f as f64 / 1_000_000.0 * 100.0).round() / 100.0;
        super::svg::grouped(
            &cats,
            &[
                (
                    tr.t("保费收入", "Premium written").to_owned(),
                    quarters.iter().map(|(_, m)| wan(m.written_fen)).collect(),
                    "#2f6fb8",
                ),
                (
                    tr.t("已赚保费", "Premium earned").to_owned(),
                    quarters.iter().map(|(_, m)| wan(m.earned_fen)).collect(),
                    "#7aa6d6",
                ),
                (
                    tr.t("已决赔款", "Claims paid").to_owned(),
                    quarters.iter().map(|(_, m)| wan(m.paid_fen)).collect(),
                    "#c2571a",
                ),
            ],
            tr.t(" 万元", " 10k yuan"),
        )
    };
    let leaves: Vec<(String, f64)> = report
        .rows
        .iter()
        // One level only: the headings where there are two (classes, head offices).
        .filter(|r| r.measures.written_fen > 0 && r.depth == 0)
        .map(|r| (tr.t(&r.label_zh, &r.label_en).to_owned(), r.measures.written_fen as f64 / 100.0))
        .collect();
    let rows_chart =
        if leaves.is_empty() { String::new() } else { super::svg::hbar(&leaves, tr.t(" 元", " yuan")) };
    let grid = d.grid;
    let by_park = StatsQuery { part: Part::Entities, by: Breakdown::Park, ..q.clone() };
    let parks = d.parks;
    let park_chart = if parks.total.written_fen == 0 {
        String::new()
    } else {
        let items: Vec<(String, f64, String)> = parks
            .rows
            .iter()
            .map(|r| {
                (
                    tr.t(&r.label_zh, &r.label_en).to_owned(),
                    (r.measures.written_fen as f64 / 1_000_000.0).round(),
                    format!("{} {}", r.measures.enterprises, tr.t("家企业", "enterprises")),
                )
            })
            .collect();
        super::svg::tiles(&items, tr.t(" 万元", " ×10k yuan"))
    };
    let label = |x: &(String, String, String)| tr.t(&x.1, &x.2).to_owned();
    let grid_chart = if grid.written_fen.iter().flatten().all(|v| *v == 0) {
        String::new()
    } else {
        super::svg::heatmap(
            &grid.rows.iter().map(label).collect::<Vec<_>>(),
            &grid.cols.iter().map(label).collect::<Vec<_>>(),
            &grid
                .written_fen
                .iter()
                .map(|r| r.iter().map(|v| *v as f64 / 1_000_000.0).collect())
                .collect::<Vec<_>>(),
            tr.t(" 万元", " ×10k yuan"),
        )
    };
    let grid_cols = grid.cols.iter().map(label).collect();
    let grid_rows = grid
        .rows
        .iter()
        .zip(grid.written_fen.iter().zip(grid.enterprises.iter()))
        .map(|(r, (w, e))| {
            let cells = w
                .iter()
                .zip(e)
                .map(|(w, e)| format!("{} · {e}", Money::from_fen(*w).display_yuan()))
                .collect();
            (label(r), cells)
        })
        .collect();
    let mut tpl = page(c, tr, &q, &report, &choices, zone_wide, trend_chart, rows_chart, today.year());
    tpl.grid_chart = grid_chart;
    tpl.park_chart = park_chart;
    tpl.park_query = encode(&by_park);
    tpl.grid_cols = grid_cols;
    tpl.grid_rows = grid_rows;
    tpl.quarter_rows = quarter_rows;
    tpl.as_of = display_local(from_unix_us(d.as_of_us));
    tpl.stale = d.stale;
    let trend = d.trend;
    let wan = |f: i64| (f as f64 / 1_000_000.0 * 100.0).round() / 100.0;
    const COLOURS: [&str; 6] = ["#2f6fb8", "#7aa6d6", "#c2571a", "#e8a33d", "#4f9a6b", "#8a6bb8"];
    // The chart's axis takes the short codes (2026Q3); the table the full labels.
    let cats: Vec<String> = trend.quarters.iter().map(|(code, _, _)| code.clone()).collect();
    let series: Vec<(String, Vec<f64>, &str)> = trend
        .classes
        .iter()
        .zip(&trend.written_fen)
        .enumerate()
        .map(|(i, ((_, zh, en), v))| {
            (
                tr.t(zh, en).to_owned(),
                v.iter().map(|f| wan(*f)).collect(),
                COLOURS.get(i % COLOURS.len()).copied().unwrap_or("#2f6fb8"),
            )
        })
        .collect();
    tpl.class_chart = if trend.written_fen.iter().flatten().all(|v| *v == 0) {
        String::new()
    } else {
        super::svg::stacked(&cats, &series, tr.t(" 万元", " ×10k yuan"))
    };
    tpl.class_cols = trend.quarters.iter().map(|(_, zh, en)| tr.t(zh, en).to_owned()).collect();
    tpl.class_rows =
        series.iter().map(|(n, v, _)| (n.clone(), v.iter().map(|x| format!("{x:.2}")).collect())).collect();
    Ok(html(&tpl))
}

#[expect(clippy::too_many_arguments, reason = "one page's parts, each named")]
fn page(
    c: Chrome,
    tr: super::Tr,
    q: &StatsQuery,
    r: &StatsReport,
    choices: &[kebao_service::stats::InsurerChoice],
    zone_wide: bool,
    trend_chart: String,
    rows_chart: String,
    this_year: i32,
) -> StatsTpl {
    let part = if r.part == 1 { Part::Products } else { Part::Entities };
    let mut periods = Vec::new();
    for y in (kebao_domain::stats::MIN_YEAR.max(this_year - 6)..=this_year).rev() {
        for p in std::iter::once(Period::Year(y)).chain(Period::quarters(y)) {
            periods.push((p.code(), tr.t(&p.label_zh(), &p.label_en()).to_owned(), p == q.period));
        }
    }
    if !periods.iter().any(|p| p.2) {
        periods
            .insert(0, (q.period.code(), tr.t(&q.period.label_zh(), &q.period.label_en()).to_owned(), true));
    }
    let parts = [Part::Products, Part::Entities]
        .iter()
        .map(|p| (p.number().to_string(), tr.t(p.title_zh(), p.title_en()).to_owned(), *p == part))
        .collect();
    let breakdowns = Breakdown::ALL
        .iter()
        .map(|b| (b.code().to_owned(), tr.t(b.label_zh(), b.label_en()).to_owned(), *b == q.by))
        .collect();
    let insurers = choices
        .iter()
        .map(|(id, name, depth)| {
            let label = if *depth == 0 { name.clone() } else { format!("　└ {name}") };
            (id.clone(), label, r.insurer_id.as_deref() == Some(id.as_str()))
        })
        .collect();
    let definitions = vec![
        (
            tr.t("承保保单数、承保企业数、风险保障金额", "Policies, enterprises, risk cover").to_owned(),
            tr.t(
                "统计期内承保（平台出单，或线下保单经保险机构确认）的保单件数、投保企业户数（去重）及其保险金额（无保险金额的责任险计责任限额）。",
                "Policies written in the period (bound on the platform, or bought outside and confirmed by the insurer), their distinct policyholders, and their sum insured (the limit for liability cover).",
            )
            .to_owned(),
        ),
        (
            tr.t("保费收入", "Premium written").to_owned(),
            tr.t(
                "统计期内账本记录的签单保费：出单及批增保费，减去批减和退保退还的保费；共保业务各保险机构计其份额。",
                "Premium written in the period as the ledger records it: at binding and on endorsements, less premium returned; co-insurers each count their share.",
            )
            .to_owned(),
        ),
        (
            tr.t("已赚保费", "Premium earned").to_owned(),
            tr.t(
                "按保险期间逐日比例计算、落在统计期内的保费（退保的保单计至解除日），计入主承保机构。",
                "Premium earned pro rata by day of cover within the period (a cancelled policy up to its last day), to the lead insurer.",
            )
            .to_owned(),
        ),
        (
            tr.t("报案件数、报案金额、已决赔款", "Claims reported, claimed, paid").to_owned(),
            tr.t(
                "统计期内报案的件数与索赔金额；统计期内支付的赔款，共保业务各保险机构计其份额。",
                "Claims reported in the period and the amounts claimed; claim payments made in the period, co-insurers each their share.",
            )
            .to_owned(),
        ),
        (
            tr.t("承保主体类型", "Kind of insured entity").to_owned(),
            tr.t(
                "每家企业按统计期末持有的资质只计一次，依次为：独角兽、瞪羚、专精特新“小巨人”、专精特新中小企业、高新技术企业、科技型中小企业，其余为其他科技企业。",
                "Each enterprise counts once, under the first qualification it holds at the period's end, in this order: unicorn, gazelle, little giant, specialised SME, high-tech enterprise, tech SME; otherwise other tech enterprise.",
            )
            .to_owned(),
        ),
    ];
    StatsTpl {
        note: tr.t(LAYOUT_NOTE_ZH, LAYOUT_NOTE_EN).to_owned(),
        title: tr.t(part.title_zh(), part.title_en()).to_owned(),
        period_label: tr.t(&r.period_zh, &r.period_en).to_owned(),
        scope: tr.t(&r.scope_zh, &r.scope_en).to_owned(),
        headings: COLUMNS.iter().map(|(_, zh, en)| tr.t(zh, en).to_owned()).collect(),
        rows: r
            .rows
            .iter()
            .map(|row| Row {
                label: tr.t(&row.label_zh, &row.label_en).to_owned(),
                depth: row.depth,
                cells: cells(&row.measures),
            })
            .collect(),
        total: cells(&r.total),
        overlap: r.rows_overlap,
        periods,
        parts,
        breakdowns,
        insurers,
        zone_wide,
        query: encode(q),
        trend_chart,
        rows_chart,
        definitions,
        grid_chart: String::new(),
        as_of: String::new(),
        quarter_rows: Vec::new(),
        stale: false,
        park_chart: String::new(),
        park_query: String::new(),
        grid_cols: Vec::new(),
        grid_rows: Vec::new(),
        class_chart: String::new(),
        class_cols: Vec::new(),
        class_rows: Vec::new(),
        c,
    }
}

/// The industry × stage grid as a workbook: premium written and enterprises, one row per industry.
/// Premium written by product class over the eight quarters up to the period, as a workbook.
async fn classes_xlsx(
    State(st): State<AppState>,
    Authed { s, tr, .. }: Authed,
    Query(raw): Query<HashMap<String, String>>,
) -> Page {
    let fail = |e: ServiceError| error_page(tr, super::kit::chrome_blank(tr), e);
    let q = query_of(&st, &raw).map_err(|i| fail(ServiceError::Invalid(i)))?;
    let t = st.svc.stats_class_trend(&s.actor, &q).await.map_err(fail)?;
    let mut headers = vec!["产品类别 Class".to_owned()];
    headers.extend(
        t.quarters.iter().map(|(_, zh, en)| format!("{zh} 保费收入(元) — {en} premium written (yuan)")),
    );
    let rows = t
        .classes
        .iter()
        .zip(&t.written_fen)
        .map(|((_, zh, en), v)| {
            let mut row = vec![format!("{zh} {en}")];
            row.extend(v.iter().map(|f| Money::from_fen(*f).to_yuan_string()));
            row
        })
        .collect();
    let table = kebao_service::tabular::Table { headers, rows };
    let file = format!("kebao-classes-by-quarter-{}.xlsx", q.period.code());
    super::policies::xlsx_response(&table, "classes by quarter", &file, tr)
}

/// The year's quarters (the page's trend): every measure of each quarter's report total, in the
/// chosen part and scope, computed afresh.
async fn quarters_xlsx(
    State(st): State<AppState>,
    Authed { s, tr, .. }: Authed,
    Query(raw): Query<HashMap<String, String>>,
) -> Page {
    let fail = |e: ServiceError| error_page(tr, super::kit::chrome_blank(tr), e);
    let q = query_of(&st, &raw).map_err(|i| fail(ServiceError::Invalid(i)))?;
    let today = st.svc.today();
    let mut headers = vec!["季度 Quarter".to_owned()];
    headers.extend(COLUMNS.iter().map(|(_, zh, en)| format!("{zh} {en}")));
    let mut rows = Vec::new();
    for p in Period::quarters(q.period.year()).into_iter().filter(|p| p.first_day() <= today) {
        let r = st.svc.stats_report(&s.actor, &StatsQuery { period: p, ..q.clone() }).await.map_err(fail)?;
        let mut row = vec![format!("{} {}", p.label_zh(), p.label_en())];
        row.extend(r.total.plain_cells());
        rows.push(row);
    }
    let table = kebao_service::tabular::Table { headers, rows };
    let file = format!("kebao-quarters-{}.xlsx", q.period.year());
    super::policies::xlsx_response(&table, "quarters", &file, tr)
}

async fn grid_xlsx(
    State(st): State<AppState>,
    Authed { s, tr, .. }: Authed,
    Query(raw): Query<HashMap<String, String>>,
) -> Page {
    let fail = |e: ServiceError| error_page(tr, super::kit::chrome_blank(tr), e);
    let q = query_of(&st, &raw).map_err(|i| fail(ServiceError::Invalid(i)))?;
    let g = st.svc.stats_grid(&s.actor, &q).await.map_err(fail)?;
    let mut headers = vec!["产业 Industry".to_owned()];
    for c in &g.cols {
        headers.push(format!("{} 保费收入(元) Premium written (yuan) — {}", c.1, c.2));
        headers.push(format!("{} 承保企业数 Enterprises — {}", c.1, c.2));
    }
    let rows = g
        .rows
        .iter()
        .zip(g.written_fen.iter().zip(g.enterprises.iter()))
        .map(|(r, (w, e))| {
            let mut row = vec![format!("{} {}", r.1, r.2)];
            for (w, e) in w.iter().zip(e) {
                row.push(Money::from_fen(*w).to_yuan_string());
                row.push(e.to_string());
            }
            row
        })
        .collect();
    let table = kebao_service::tabular::Table { headers, rows };
    let file = format!("kebao-industry-stage-{}.xlsx", q.period.code());
    super::policies::xlsx_response(&table, "industry x stage", &file, tr)
}

async fn stats_xlsx(
    State(st): State<AppState>,
    Authed { s, tr, .. }: Authed,
    Query(raw): Query<HashMap<String, String>>,
) -> Page {
    let fail = |e: ServiceError| error_page(tr, super::kit::chrome_blank(tr), e);
    let q = query_of(&st, &raw).map_err(|i| fail(ServiceError::Invalid(i)))?;
    let report = st.svc.stats_report(&s.actor, &q).await.map_err(fail)?;
    let bytes = kebao_service::stats::report_xlsx(&report).map_err(|e| fail(ServiceError::Internal(e)))?;
    let file = format!("kebao-nfra-statistics-{}-part{}-{}.xlsx", report.period, report.part, report.by);
    Ok(super::policies::xlsx_download(bytes, &file))
}

struct TargetCard {
    id: String,
    name: String,
    now: String,
    goal: String,
    percent: Option<String>,
    /// The bar's width, 0–100.
    bar: u32,
    due: String,
    reached: bool,
    /// The due day has passed and the target was not met.
    overdue: bool,
    source: String,
    url: String,
    confidence: String,
    reading: String,
    chart: String,
    years: Vec<(i32, String)>,
}

#[derive(Template)]
#[template(path = "targets.html")]
struct TargetsTpl {
    c: Chrome,
    cards: Vec<TargetCard>,
}

/// A target's figure for people: counts grouped, risk cover in 亿元 (10⁸ yuan).
fn figure(tr: super::Tr, t: &kebao_domain::targets::Target, v: i64) -> String {
    match t.measure {
        kebao_domain::targets::Measure::RiskCoverFen => {
            let yi = v as f64 / 1e10;
            format!(
                "{} {}",
                super::kit::group_digits(&format!("{yi:.2}")).unwrap_or_else(|| format!("{yi:.2}")),
                tr.t("亿元", "100 million yuan")
            )
        }
        _ => format!(
            "{} {}",
            super::kit::group_digits(&v.to_string()).unwrap_or_else(|| v.to_string()),
            tr.t(&t.unit_zh, &t.unit_en)
        ),
    }
}

async fn targets_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    let fail = |e: ServiceError| error_page(tr, super::kit::chrome_blank(tr), e);
    let standings = st.svc.zone_targets(&s.actor).await.map_err(fail)?;
    let today = st.svc.today();
    let cards = standings
        .iter()
        .map(|x| {
            let t = &x.target;
            let scale = |v: i64| match t.measure {
                kebao_domain::targets::Measure::RiskCoverFen => (v as f64 / 1e10 * 100.0).round() / 100.0,
                _ => v as f64,
            };
            let cats: Vec<String> = x.years.iter().map(|(y, _)| format!("{y}")).collect();
            let chart = super::svg::grouped(
                &cats,
                &[(
                    tr.t(&t.name_zh, &t.name_en).to_owned(),
                    x.years.iter().map(|(_, v)| scale(*v)).collect(),
                    "#2f6fb8",
                )],
                match t.measure {
                    kebao_domain::targets::Measure::RiskCoverFen => tr.t(" 亿元", " ×10⁸ yuan"),
                    _ => "",
                },
            );
            TargetCard {
                id: t.id.clone(),
                name: tr.t(&t.name_zh, &t.name_en).to_owned(),
                now: figure(tr, t, x.now),
                goal: t
                    .value
                    .map_or_else(|| tr.t("方案未设数量", "no number set").to_owned(), |v| figure(tr, t, v)),
                percent: x.percent.map(|p| format!("{p:.1}%")),
                bar: x.percent.map_or(0, |p| p.clamp(0.0, 100.0).round() as u32),
                due: t.due.to_string(),
                reached: t.value.is_some_and(|v| x.now >= v),
                overdue: t.value.is_some_and(|v| x.now < v) && today > t.due,
                source: t.source.clone(),
                url: t.url.clone(),
                confidence: match t.confidence.as_str() {
                    "C" => tr.t("已核实", "confirmed").to_owned(),
                    "C-local" => tr.t("地方文件", "local document").to_owned(),
                    _ => tr.t("待核实", "unconfirmed").to_owned(),
                },
                reading: tr.t(&t.reading_zh, &t.reading_en).to_owned(),
                chart,
                years: x
                    .years
                    .iter()
                    .map(|(y, v)| {
                        let label = if *y == today.year() {
                            format!("{} {}", figure(tr, t, *v), tr.t("（截至今日）", "(to date)"))
                        } else {
                            figure(tr, t, *v)
                        };
                        (*y, label)
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(html(&TargetsTpl { c, cards }))
}
