//! Who is asking: session cookies (web), bearer tokens (machines), CSRF checks, and the
//! sign-in rate limit.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use kebao_service::auth::SessionInfo;
use kebao_service::authz::Actor;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The session cookie.
pub const SESSION_COOKIE: &str = "kebao_session";
/// The pre-sign-in CSRF cookie (double-submit for the login and registration forms).
pub const PRE_CSRF_COOKIE: &str = "kebao_pre";
/// The language cookie.
pub const LANG_COOKIE: &str = "kebao_lang";

/// Equal in constant time (for tokens).
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A cookie with the platform's flags.
pub fn cookie(
    name: &'static str,
    value: String,
    secure: bool,
    max_age: Option<time::Duration>,
) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_path("/");
    c.set_secure(secure);
    if let Some(age) = max_age {
        c.set_max_age(age);
    }
    c
}

/// A removal cookie.
pub fn expired_cookie(name: &'static str) -> Cookie<'static> {
    let mut c = Cookie::new(name, "");
    c.set_path("/");
    c.set_max_age(time::Duration::ZERO);
    c
}

/// The actor of an API request: a bearer token, else a session cookie (which must carry
/// `X-CSRF-Token` on anything but GET/HEAD), else anonymous.
#[derive(Debug, Clone)]
pub struct ApiActor(pub Actor);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(auth) = parts.headers.get(axum::http::header::AUTHORIZATION) {
            let value =
                auth.to_str().map_err(|_| ApiError::bad_request("the Authorization header is not text"))?;
            let token = value.strip_prefix("Bearer ").ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "use `Authorization: Bearer <token>`",
                    "请使用 Bearer 令牌",
                )
            })?;
            let (actor, _) = state.svc.token_auth(token.trim()).await?;
            return Ok(ApiActor(actor));
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(c) = jar.get(SESSION_COOKIE) else { return Ok(ApiActor(Actor::Anonymous)) };
        let info = state.svc.session(c.value()).await?;
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
            if !same_secret(sent, &info.csrf_token) {
                return Err(csrf_error());
            }
        }
        Ok(ApiActor(info.actor))
    }
}

/// Third parties' API keys: every request made with one — public endpoints included — must
/// be a read within the key's scopes and within its rate. Runs before the handlers.
pub async fn api_key_guard(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let token = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    if let Some(token) = token {
        let key = match state.svc.token_auth(&token).await {
            Ok((_, key)) => key,
            Err(e) => return ApiError::from(e).into_response(),
        };
        if let Some(k) = key {
            // Inside `nest` the URI lost its `/api/v1` prefix; the scopes name full paths.
            let path = req
                .extensions()
                .get::<axum::extract::OriginalUri>()
                .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned());
            let read = matches!(*req.method(), Method::GET | Method::HEAD);
            if !kebao_service::auth::key_allows(&k.scopes, read, &path) {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    "scope_missing",
                    format!(
                        "this API key's scopes ({}) do not cover {} {path}",
                        k.scopes.join(", "),
                        req.method()
                    ),
                    "该 API 密钥的授权范围不包含此接口",
                )
                .into_response();
            }
            if !state.key_limiter.hit_limit(&k.id, k.rate_per_minute) {
                return ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("this API key is limited to {} requests a minute", k.rate_per_minute),
                    format!("该 API 密钥每分钟最多 {} 次请求", k.rate_per_minute),
                )
                .into_response();
            }
        }
    }
    next.run(req).await
}

/// The error for a missing or forged CSRF token.
pub fn csrf_error() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "csrf_failed",
        "the form's security token is missing or wrong; reload the page and try again",
        "表单安全校验失败，请刷新页面后重试",
    )
}

/// The session of a UI request, if any. `Err` carries an expired-session notice.
pub async fn ui_session(state: &AppState, headers: &HeaderMap) -> Result<Option<SessionInfo>, &'static str> {
    let jar = CookieJar::from_headers(headers);
    let Some(c) = jar.get(SESSION_COOKIE) else { return Ok(None) };
    match state.svc.session(c.value()).await {
        Ok(s) => Ok(Some(s)),
        Err(kebao_service::ServiceError::Unauthenticated(m)) if m.contains("expired") => Err("expired"),
        Err(_) => Ok(None),
    }
}

/// Fixed-window counter per key (sign-in attempts per user name).
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` hits per key.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter { per_minute, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts a hit; `false` when the key is over its limit.
    pub fn hit(&self, key: &str) -> bool {
        self.hit_limit(key, self.per_minute)
    }

    /// Counts a hit against a limit of the key's own (API keys carry theirs).
    pub fn hit_limit(&self, key: &str, per_minute: u32) -> bool {
        let Ok(mut w) = self.windows.lock() else { return true };
        let now = Instant::now();
        if w.len() > 10_000 {
            w.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let e = w.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(e.0) >= Duration::from_secs(60) {
            *e = (now, 0);
        }
        e.1 += 1;
        e.1 <= per_minute
    }
}

/// Searches with a query that one anonymous client address may make a minute. Signed-in
/// users and API keys (which carry their own rate) are not counted.
pub const ANONYMOUS_SEARCHES_PER_MINUTE: u32 = 30;

/// The client's address: the peer of the connection, as `kebao serve` records it
/// (`into_make_service_with_connect_info`); `None` in process, as in tests.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        Ok(ClientAddr(peer.map(|c| c.0.ip())))
    }
}

/// Counts an anonymous search from this address; `false` when it is over
/// [`ANONYMOUS_SEARCHES_PER_MINUTE`]. An IPv6 client is counted by its /64, which one
/// host can fill with addresses.
pub fn anonymous_search_allowed(state: &AppState, addr: ClientAddr) -> bool {
    let key = match addr.0 {
        None => "unknown".to_owned(),
        Some(std::net::IpAddr::V4(ip)) => ip.to_string(),
        Some(std::net::IpAddr::V6(ip)) => {
            let [a, b, c, d, ..] = ip.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
    };
    state.search_limiter.hit(&key)
}

/// The refusal of an anonymous search over its rate.
pub fn search_rate_error() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!(
            "too many searches from this address: at most {ANONYMOUS_SEARCHES_PER_MINUTE} a minute without signing in; wait a minute or sign in"
        ),
        format!("该地址搜索过于频繁：未登录时每分钟最多 {ANONYMOUS_SEARCHES_PER_MINUTE} 次，请稍后再试或登录"),
    )
}
