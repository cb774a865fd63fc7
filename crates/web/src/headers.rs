//! What every response carries for the browser's protection (one middleware), and the
//! deadline for a request's body to arrive.

use crate::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The content security policy: scripts only from our own files (no inline script, no
/// `javascript:` links), styles from our own sheet plus inline `style` attributes (the
/// templates and SVG charts use them; they cannot run code), no framing by anyone.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers. Responses to a request that carries credentials (a session
/// cookie or a bearer token), or that set a cookie, are never stored by caches.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let credentials = req.headers().contains_key(header::AUTHORIZATION)
        || req
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|c| c.contains(crate::session::SESSION_COOKIE));
    let is_static = req.uri().path().starts_with("/static/");
    let mut resp = next.run(req).await;
    let sets_cookie = resp.headers().contains_key(header::SET_COOKIE);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    if (credentials && !is_static) || sets_cookie {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.settings.hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    resp
}

/// Reads a request's body within the configured deadline, so that a client which sends
/// headers and then nothing does not hold a connection and a task for ever: it gets 408.
/// Bodies are at most [`crate::MAX_BODY_BYTES`] (larger ones get 413), which the handlers
/// read whole anyway.
pub async fn body_deadline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > 0);
    if !has_body {
        return next.run(req).await;
    }
    let api = req.uri().path().starts_with("/api/");
    let (parts, body) = req.into_parts();
    let read = axum::body::to_bytes(body, crate::MAX_BODY_BYTES);
    let limit_mib = crate::MAX_BODY_BYTES / 1024 / 1024;
    match tokio::time::timeout(state.settings.body_timeout, read).await {
        Ok(Ok(bytes)) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Ok(Err(_)) => refusal(
            api,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {limit_mib} MiB, or broken"),
            format!("请求内容超过 {limit_mib} MiB 或已损坏"),
        ),
        Err(_) => {
            let mut resp = refusal(
                api,
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                "the request body did not arrive in time".to_owned(),
                "请求内容未在时限内送达".to_owned(),
            );
            resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            resp
        }
    }
}

/// A refusal before any handler ran: the API's error envelope, or a short page in both
/// languages for a browser.
fn refusal(api: bool, status: StatusCode, code: &str, en: String, zh: String) -> Response {
    if api {
        return crate::error::ApiError::new(status, code, en, zh).into_response();
    }
    let page = format!(
        "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>科保 Kebao</title>\
         <p>{zh}。</p><p lang=\"en\">{en}.</p><p><a href=\"/\">返回首页 / Home</a></p></html>"
    );
    (status, axum::response::Html(page)).into_response()
}
