//! The HTTP edge: the JSON API under `/api/v1`, the server-rendered UI, sign-in, CSRF,
//! rate limits, metrics. Handlers are thin: extract, call one service function, map the
//! result. Only this crate knows the wire format.

pub mod api;
pub mod error;
pub mod headers;
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
    /// Failed sign-ins per client address and per (user name, address).
    pub throttle: Arc<session::LoginThrottle>,
    /// The login and registration forms' CSRF tokens.
    pub form_tokens: Arc<session::FormTokens>,
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
    /// Failed sign-ins allowed from one client address within `login_window`.
    pub login_failures_per_address: u32,
    /// Failed sign-ins allowed for one user name from one address within `login_window`.
    pub login_failures_per_account: u32,
    /// The throttle's window (doubled for clients held back again).
    pub login_window: std::time::Duration,
    /// Proxies whose `X-Forwarded-For` is believed (TLS usually ends at one).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Send `Strict-Transport-Security`: the platform is served over TLS.
    pub hsts: bool,
    /// How long a request's body may take to arrive.
    pub body_timeout: std::time::Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            secure_cookies: true,
            login_failures_per_address: 20,
            login_failures_per_account: 5,
            login_window: std::time::Duration::from_secs(15 * 60),
            trusted_proxies: Vec::new(),
            hsts: false,
            body_timeout: std::time::Duration::from_secs(60),
        }
    }
}

impl AppState {
    /// State over a service.
    pub fn new(svc: Service, settings: Settings) -> AppState {
        let throttle = session::LoginThrottle::new(
            settings.login_failures_per_address,
            settings.login_failures_per_account,
            settings.login_window,
        );
        AppState {
            svc,
            settings: Arc::new(settings),
            metrics: Arc::default(),
            throttle: Arc::new(throttle),
            form_tokens: Arc::new(session::FormTokens::new(std::time::Duration::from_secs(2 * 3600))),
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
        .layer(axum::middleware::from_fn_with_state(state.clone(), headers::body_deadline))
        .layer(axum::middleware::from_fn_with_state(state.clone(), headers::security_headers))
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
