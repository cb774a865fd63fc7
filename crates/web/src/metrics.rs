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

    /// The text exposition format. `jobs`: (kind, state, count, oldest request) per group.
    pub fn text(
        &self,
        events: Option<u64>,
        group: Option<(u64, u64)>,
        jobs: &[(kebao_domain::job::JobKind, kebao_domain::job::JobState, i64, i64)],
        now_us: i64,
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
        if !jobs.is_empty() {
            let _ = writeln!(out, "# HELP kebao_jobs Background jobs by kind and state.");
            let _ = writeln!(out, "# TYPE kebao_jobs gauge");
            for (kind, state, n, _) in jobs {
                let _ = writeln!(out, "kebao_jobs{{kind=\"{kind}\",state=\"{state}\"}} {n}");
            }
            let _ = writeln!(
                out,
                "# HELP kebao_job_oldest_queued_seconds How long the oldest queued job of each kind has waited."
            );
            let _ = writeln!(out, "# TYPE kebao_job_oldest_queued_seconds gauge");
            for (kind, state, _, oldest) in jobs {
                if *state == kebao_domain::job::JobState::Queued {
                    let age = (now_us - oldest).max(0) as f64 / 1e6;
                    let _ = writeln!(out, "kebao_job_oldest_queued_seconds{{kind=\"{kind}\"}} {age:.0}");
                }
            }
        }
        out
    }
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

/// `GET /metrics`.
pub async fn render(State(state): State<AppState>) -> Response {
    let events = state.svc.log_size().await.ok();
    let jobs = state.svc.job_counts().await.unwrap_or_default();
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.text(events, state.svc.group_stats(), &jobs, state.svc.now_us()),
    )
        .into_response()
}
