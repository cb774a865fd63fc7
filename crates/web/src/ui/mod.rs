//! The server-rendered web UI: zh-CN first with an English switch, works without
//! JavaScript, every form CSRF-protected.

// Handlers return `Result<Response, Response>`: the error side is a finished page
// (a redirect or an error page), as large as the success side by nature.
#![allow(clippy::result_large_err, reason = "both sides of a handler result are responses")]

mod credit;
mod pages;
mod policies;
mod products;
mod subsidies;
mod svg;

/// The UI's routes.
pub fn routes() -> axum::Router<AppState> {
    pages::routes()
        .merge(products::routes().layer(axum::middleware::from_fn(language)))
        .merge(credit::routes().layer(axum::middleware::from_fn(language)))
        .merge(policies::routes().layer(axum::middleware::from_fn(language)))
        .merge(subsidies::routes().layer(axum::middleware::from_fn(language)))
}

use crate::session::{self, LANG_COOKIE};
use crate::AppState;
use axum::extract::{Path, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

/// Picks zh-CN or English text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tr {
    pub en: bool,
}

impl Tr {
    /// `zh` or `en`, whichever the visitor reads.
    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        if self.en {
            en
        } else {
            zh
        }
    }

    /// The same for owned text.
    pub fn pick(&self, zh: String, en: String) -> String {
        if self.en {
            en
        } else {
            zh
        }
    }
}

/// Sets the language from `?lang=` (remembered in a cookie), else the cookie, else zh-CN.
pub async fn language(mut req: Request, next: Next) -> Response {
    let from_query = req.uri().query().and_then(|q| {
        q.split('&').find_map(|kv| match kv {
            "lang=en" => Some(true),
            "lang=zh" => Some(false),
            _ => None,
        })
    });
    let from_cookie = CookieJar::from_headers(req.headers()).get(LANG_COOKIE).map(|c| c.value() == "en");
    let tr = Tr { en: from_query.or(from_cookie).unwrap_or(false) };
    req.extensions_mut().insert(tr);
    let mut resp = next.run(req).await;
    if let Some(en) = from_query {
        let c =
            format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", if en { "en" } else { "zh" });
        if let Ok(v) = c.parse() {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

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

/// The session of a request, and whether it expired.
pub(crate) async fn current(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<kebao_service::auth::SessionInfo>, Response> {
    match session::ui_session(state, headers).await {
        Ok(s) => Ok(s),
        Err(_) => {
            let mut resp = axum::response::Redirect::to("/login?expired=1").into_response();
            let c = session::expired_cookie(session::SESSION_COOKIE);
            if let Ok(v) = c.to_string().parse() {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            Err(resp)
        }
    }
}
