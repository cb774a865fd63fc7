//! The server-rendered web UI: zh-CN first with an English switch, works without
//! JavaScript, every form CSRF-protected.

// Handlers return `Result<Response, Response>`: the error side is a finished page
// (a redirect or an error page), as large as the success side by nature.
#![allow(clippy::result_large_err, reason = "both sides of a handler result are responses")]

mod account;
mod advisor;
mod audit;
mod claims;
mod consent;
mod disputes;
mod evaluation;
mod home;
mod index;
mod jobs;
mod kit;
mod lab;
mod loans;
mod policies;
mod privacy;
mod products;
mod registered;
mod registry;
mod scheme_sim;
mod stats;
mod subsidies;
mod svg;
pub(crate) mod unified;

pub use kit::{language, Tr};

/// The UI's routes.
pub fn routes() -> axum::Router<AppState> {
    home::routes()
        .merge(account::routes().layer(axum::middleware::from_fn(language)))
        .merge(registry::routes().layer(axum::middleware::from_fn(language)))
        .merge(audit::routes().layer(axum::middleware::from_fn(language)))
        .merge(jobs::routes().layer(axum::middleware::from_fn(language)))
        .merge(privacy::routes().layer(axum::middleware::from_fn(language)))
        .merge(products::routes().layer(axum::middleware::from_fn(language)))
        .merge(consent::routes().layer(axum::middleware::from_fn(language)))
        .merge(policies::routes().layer(axum::middleware::from_fn(language)))
        .merge(stats::routes().layer(axum::middleware::from_fn(language)))
        .merge(index::routes().layer(axum::middleware::from_fn(language)))
        .merge(evaluation::routes().layer(axum::middleware::from_fn(language)))
        .merge(advisor::routes().layer(axum::middleware::from_fn(language)))
        .merge(registered::routes().layer(axum::middleware::from_fn(language)))
        .merge(claims::routes().layer(axum::middleware::from_fn(language)))
        .merge(disputes::routes().layer(axum::middleware::from_fn(language)))
        .merge(subsidies::routes().layer(axum::middleware::from_fn(language)))
        .merge(loans::routes().layer(axum::middleware::from_fn(language)))
        .merge(scheme_sim::routes().layer(axum::middleware::from_fn(language)))
        .merge(unified::routes().layer(axum::middleware::from_fn(language)))
        .merge(lab::routes().layer(axum::middleware::from_fn(language)))
}

/// Any path no route answers: a page that says so (in the page's language, with the menu),
/// or for `/api/…` the API's JSON error.
pub async fn not_found(
    axum::extract::State(st): axum::extract::State<AppState>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    let tr = kit::language_of(&uri, &headers);
    if uri.path().starts_with("/api/") {
        return crate::error::ApiError::from(kebao_service::ServiceError::NotFound).into_response();
    }
    let c = match kit::chrome_any(&st, &headers, tr).await {
        Ok((c, _)) => c,
        Err(r) => return r,
    };
    kit::error_page(tr, c, kebao_service::ServiceError::NotFound)
}

use crate::AppState;
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../../static/kebao.css");
const JS: &str = include_str!("../../static/kebao.js");

/// `GET /static/{file}`.
pub async fn static_file(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "kebao.css" => (
            [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
            CSS,
        )
            .into_response(),
        "kebao.js" => (
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                (header::CACHE_CONTROL, "max-age=3600"),
            ],
            JS,
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
