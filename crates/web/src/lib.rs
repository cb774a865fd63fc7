//! The HTTP edge: the JSON API under `/api/v1`, the server-rendered UI, sign-in, CSRF,
//! rate limits, metrics. Handlers are thin: extract, call one service function, map the
//! result. Only this crate knows the wire format.

pub mod api;
pub mod error;
pub mod forms;
pub mod headers;
pub mod metrics;
pub mod session;
mod state;
pub mod ui;

pub use state::{AppState, Settings};

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;

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
        .fallback(ui::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(state.clone(), headers::body_deadline))
        .layer(axum::middleware::from_fn_with_state(state.clone(), headers::security_headers))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
}

async fn health(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.svc.log_size().await {
        Ok(_) => (axum::http::StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}
