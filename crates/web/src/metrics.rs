//! Prometheus metrics: requests by route and status, and their durations.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

/// (method, route template, status).
type RouteKey = (String, String, u16);

/// Counters kept in memory: per route, the request count and the seconds spent.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<RouteKey, (u64, f64)>>,
}

impl Metrics {
    fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut m) = self.requests.lock() {
            let e = m.entry((method.to_owned(), route.to_owned(), status)).or_insert((0, 0.0));
            e.0 += 1;
            e.1 += seconds;
        }
    }

    /// The text exposition format.
    pub fn text(
        &self,
        events: Option<u64>,
        group: Option<(u64, u64)>,
        gauges: Option<&kebao_service::monitoring::Gauges>,
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP kebao_http_requests_total HTTP requests served.");
        let _ = writeln!(out, "# TYPE kebao_http_requests_total counter");
        let snapshot: Vec<_> =
            self.requests.lock().map(|m| m.clone().into_iter().collect()).unwrap_or_default();
        for ((method, route, status), (n, _)) in &snapshot {
            let _ = writeln!(
                out,
                "kebao_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(out, "# HELP kebao_http_request_duration_seconds_sum Time spent serving requests.");
        let _ = writeln!(out, "# TYPE kebao_http_request_duration_seconds_sum counter");
        for ((method, route, status), (_, s)) in &snapshot {
            let _ = writeln!(
                out,
                "kebao_http_request_duration_seconds_sum{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {s:.6}"
            );
        }
        if let Some(n) = events {
            let _ = writeln!(out, "# HELP kebao_events_total Events in the audit log.");
            let _ = writeln!(out, "# TYPE kebao_events_total gauge");
            let _ = writeln!(out, "kebao_events_total {n}");
        }
        if let Some((commands, commits)) = group {
            let _ =
                writeln!(out, "# HELP kebao_group_commands_total Commands made durable by group commits.");
            let _ = writeln!(out, "# TYPE kebao_group_commands_total counter");
            let _ = writeln!(out, "kebao_group_commands_total {commands}");
            let _ = writeln!(out, "# HELP kebao_group_commits_total Durable commits that made them so.");
            let _ = writeln!(out, "# TYPE kebao_group_commits_total counter");
            let _ = writeln!(out, "kebao_group_commits_total {commits}");
        }
        if let Some(g) = gauges {
            business(&mut out, g);
        }
        out
    }
}

fn seconds(from_us: i64, to_us: i64) -> f64 {
    (to_us - from_us).max(0) as f64 / 1e6
}

/// The business gauges: what waits on people and on the platform.
fn business(out: &mut String, g: &kebao_service::monitoring::Gauges) {
    let c = &g.counts;
    let mut gauge = |name: &str, help: &str, lines: Vec<(String, String)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (labels, v) in lines {
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    };
    gauge(
        "kebao_todos_open",
        "To-dos waiting on a person, by kind.",
        c.todos.iter().map(|(k, n, _)| (format!("{{kind=\"{k}\"}}"), n.to_string())).collect(),
    );
    gauge(
        "kebao_todo_oldest_seconds",
        "How long the oldest open to-do of each kind has waited.",
        c.todos
            .iter()
            .map(|(k, _, t)| (format!("{{kind=\"{k}\"}}"), format!("{:.0}", seconds(*t, g.now_us))))
            .collect(),
    );
    gauge(
        "kebao_deadlines_past_due",
        "Deadline clocks past due: claims undecided after the deadline to decide, decided to pay and unpaid after the deadline to pay; personal-data requests unanswered after theirs.",
        vec![
            ("{clock=\"claim_decide\"}".into(), c.claims_decide_past_due.to_string()),
            ("{clock=\"claim_pay\"}".into(), c.claims_pay_past_due.to_string()),
            ("{clock=\"data_request\"}".into(), c.data_requests_past_due.to_string()),
        ],
    );
    gauge(
        "kebao_ledger_pending_fen",
        "Money reserved in the ledger and not yet posted, over all accounts (fen).",
        vec![
            ("{side=\"debit\"}".into(), c.ledger_debits_pending.to_string()),
            ("{side=\"credit\"}".into(), c.ledger_credits_pending.to_string()),
        ],
    );
    gauge(
        "kebao_signed_head_age_seconds",
        "Age of the newest signed tree head (absent: none signed yet).",
        c.newest_head_us
            .map(|t| (String::new(), format!("{:.0}", seconds(t, g.now_us))))
            .into_iter()
            .collect(),
    );
    gauge(
        "kebao_failed_sign_ins_24h",
        "Failed sign-ins over the last 24 hours.",
        vec![(String::new(), c.failed_sign_ins.to_string())],
    );
    gauge(
        "kebao_jobs",
        "Background jobs by kind and state.",
        g.jobs
            .iter()
            .map(|(k, s, n, _)| (format!("{{kind=\"{k}\",state=\"{s}\"}}"), n.to_string()))
            .collect(),
    );
    gauge(
        "kebao_job_oldest_queued_seconds",
        "How long the oldest queued job of each kind has waited.",
        g.jobs
            .iter()
            .filter(|(_, s, _, _)| *s == kebao_domain::job::JobState::Queued)
            .map(|(k, _, _, t)| (format!("{{kind=\"{k}\"}}"), format!("{:.0}", seconds(*t, g.now_us))))
            .collect(),
    );
}

/// Middleware: time and count every request by its route template.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let start = Instant::now();
    let resp = next.run(req).await;
    state.metrics.record(&method, &route, resp.status().as_u16(), start.elapsed().as_secs_f64());
    resp
}

/// `GET /metrics` on the public listener: only with the metrics token (`--metrics-token`);
/// without one configured it does not exist there (see [`private_router`]).
pub async fn render(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let Some(token) = state.settings.metrics_token.as_deref() else {
        return crate::error::ApiError::from(kebao_service::ServiceError::NotFound).into_response();
    };
    let sent = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !crate::session::same_secret(sent, token) {
        return (
            axum::http::StatusCode::UNAUTHORIZED,
            [(axum::http::header::WWW_AUTHENTICATE, "Bearer")],
            "the metrics need the metrics token\n",
        )
            .into_response();
    }
    exposition(&state).await
}

async fn exposition(state: &AppState) -> Response {
    let events = state.svc.log_size().await.ok();
    let gauges = match state.svc.gauges().await {
        Ok(g) => Some(g),
        Err(e) => {
            tracing::warn!(error = %e, "could not read the gauges");
            None
        }
    };
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.text(events, state.svc.group_stats(), gauges.as_ref()),
    )
        .into_response()
}

/// The metrics alone, without a token, for a private listen address (`--metrics-listen`,
/// e.g. 127.0.0.1:9108 for a local Prometheus).
pub fn private_router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(|State(s): State<AppState>| async move { exposition(&s).await }),
        )
        .with_state(state)
}
