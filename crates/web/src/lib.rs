//! The HTTP edge: the JSON API under `/api/v1`, the server-rendered UI, sign-in, CSRF,
//! rate limits, metrics. Handlers are thin: extract, call one service function, map the
//! result. Only this crate knows the wire format.

pub mod api;
pub mod error;
pub mod metrics;
pub mod session;
pub mod ui;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use kebao_service::Service;
use std::sync::Arc;

/// Shared state of every handler.
#[derive(Clone, Debug)]
pub struct AppState {
    pub svc: Service,
    pub settings: Arc<Settings>,
    pub metrics: Arc<metrics::Metrics>,
    pub limiter: Arc<session::RateLimiter>,
    /// Per-key request counters of third-party API keys (each key carries its limit).
    pub key_limiter: Arc<session::RateLimiter>,
    /// Anonymous searches per client address.
    pub search_limiter: Arc<session::RateLimiter>,
}

/// Web settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Mark cookies `Secure` (browsers still accept them from http://localhost).
    pub secure_cookies: bool,
    /// Sign-in attempts allowed per user name and per minute.
    pub login_attempts_per_minute: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { secure_cookies: true, login_attempts_per_minute: 10 }
    }
}

impl AppState {
    /// State over a service.
    pub fn new(svc: Service, settings: Settings) -> AppState {
        let limiter = session::RateLimiter::new(settings.login_attempts_per_minute);
        AppState {
            svc,
            settings: Arc::new(settings),
            metrics: Arc::default(),
            limiter: Arc::new(limiter),
            key_limiter: Arc::new(session::RateLimiter::new(60)),
            search_limiter: Arc::new(session::RateLimiter::new(session::ANONYMOUS_SEARCHES_PER_MINUTE)),
        }
    }
}

/// The largest request body accepted (uploads included).
pub const MAX_BODY_BYTES: usize = 12 * 1024 * 1024;

/// The whole application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(ui::routes())
        .nest(
            "/api/v1",
            api::routes().layer(axum::middleware::from_fn_with_state(state.clone(), session::api_key_guard)),
        )
        .route("/healthz", get(health))
        .route("/metrics", get(metrics::render))
        .route("/static/{file}", get(ui::static_file))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
}

async fn health(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.svc.store().begin_read().await {
        Ok(_) => (axum::http::StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}
