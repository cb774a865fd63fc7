//! Who is asking: session cookies (web), bearer tokens (machines), CSRF checks, the
//! client's address, and the sign-in throttle.

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

/// The actor behind the request's bearer token, as the key guard found it (server-side only:
/// a client cannot set a request extension).
#[derive(Debug, Clone)]
struct TokenActor(Actor);

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
            // Resolved once per request: by the key guard when it ran, else here.
            let actor = match parts.extensions.get::<TokenActor>() {
                Some(TokenActor(a)) => a.clone(),
                None => state.svc.token_auth(token.trim()).await?.0,
            };
            return must_have_changed(parts, actor).map(ApiActor);
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
        must_have_changed(parts, info.actor).map(ApiActor)
    }
}

/// The API path where a user changes their own password (relative to `/api/v1`).
pub const OWN_PASSWORD_PATH: &str = "/me/password";

/// A user whose password was set by an administrator may only change it (and see who they
/// are) until they have.
fn must_have_changed(parts: &Parts, actor: Actor) -> Result<Actor, ApiError> {
    let path = parts.uri.path();
    let exempt = path == OWN_PASSWORD_PATH || path == "/me";
    if actor.user().is_some_and(|u| u.must_change_password) && !exempt {
        return Err(password_change_error());
    }
    Ok(actor)
}

/// The refusal while a password set by an administrator has not been changed.
pub fn password_change_error() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "password_change_required",
        "change the password an administrator set first: PUT /api/v1/me/password",
        "请先修改管理员为您设置的密码（PUT /api/v1/me/password）",
    )
}

/// Third parties' API keys: every request made with one — public endpoints included — must
/// be a read within the key's scopes and within its rate. Runs before the handlers.
pub async fn api_key_guard(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut req: axum::extract::Request,
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
            Ok((actor, key)) => {
                req.extensions_mut().insert(TokenActor(actor));
                key
            }
            Err(e) => return ApiError::from(e).into_response(),
        };
        if let Some(k) = key {
            // The route as declared (`/api/v1/orgs/{id}`), not the path as sent: a key's
            // scopes open named routes, and a route nobody named is closed to keys.
            let route = req.extensions().get::<axum::extract::MatchedPath>().map(|m| m.as_str().to_owned());
            let path = req
                .extensions()
                .get::<axum::extract::OriginalUri>()
                .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned());
            let read = matches!(*req.method(), Method::GET | Method::HEAD);
            if !route.as_deref().is_some_and(|r| kebao_service::auth::key_allows(&k.scopes, read, r)) {
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

/// Fixed-window counter per key (API keys' requests).
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

/// The client's address: the TCP peer, or — when the peer is one of the trusted proxies —
/// the nearest address in `X-Forwarded-For` that is not itself a trusted proxy. Without a
/// trusted proxy the header is ignored, since any client can send it.
pub fn client_address(
    headers: &HeaderMap,
    extensions: &axum::http::Extensions,
    trusted: &[std::net::IpAddr],
) -> String {
    let peer = extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let Some(peer) = peer else { return "unknown".to_owned() };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded.iter().rev().find(|a| !trusted.contains(a)).copied().unwrap_or(peer).to_string()
}

/// The client's address of a request (see [`client_address`]).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_address(&parts.headers, &parts.extensions, &state.settings.trusted_proxies)))
    }
}

/// Why a sign-in is refused before the password is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttled {
    /// Too many failures from this address, whatever the user names.
    Address { retry_after_s: u64 },
    /// Too many failures for this user name from this address.
    Account { retry_after_s: u64 },
}

impl Throttled {
    /// Seconds until the client may try again.
    pub fn retry_after_s(self) -> u64 {
        match self {
            Throttled::Address { retry_after_s } | Throttled::Account { retry_after_s } => retry_after_s,
        }
    }
}

/// The sign-in throttle. It counts failed sign-ins per client address and per (user name,
/// address) pair, in windows that double each time a client is held back again (backoff),
/// up to an hour. One address spraying a password over many names hits the address limit;
/// guessing one user's password from one address hits the pair limit; neither locks the
/// real user out, who signs in from another address.
#[derive(Debug)]
pub struct LoginThrottle {
    per_address: u32,
    per_pair: u32,
    window: Duration,
    // key → (window start, failures, times held back)
    counts: Mutex<HashMap<String, (Instant, u32, u32)>>,
}

const MAX_BACKOFF: Duration = Duration::from_secs(3600);

impl LoginThrottle {
    /// At most `per_address` failures per address and `per_pair` per (name, address) within
    /// `window` (doubled for each repeat offence).
    pub fn new(per_address: u32, per_pair: u32, window: Duration) -> LoginThrottle {
        LoginThrottle { per_address, per_pair, window, counts: Mutex::new(HashMap::new()) }
    }

    fn keys(address: &str, username: &str) -> (String, String) {
        (format!("a\0{address}"), format!("p\0{}\0{address}", username.trim().to_ascii_lowercase()))
    }

    fn span(&self, strikes: u32) -> Duration {
        self.window.saturating_mul(1u32 << strikes.min(12)).min(MAX_BACKOFF.max(self.window))
    }

    /// Whether a sign-in from `address` as `username` may go ahead.
    pub fn check(&self, address: &str, username: &str) -> Result<(), Throttled> {
        let Ok(m) = self.counts.lock() else { return Ok(()) };
        let now = Instant::now();
        let (a, p) = Self::keys(address, username);
        for (key, limit, is_address) in [(a, self.per_address, true), (p, self.per_pair, false)] {
            if let Some((start, n, strikes)) = m.get(&key).copied() {
                let span = self.span(strikes);
                let elapsed = now.duration_since(start);
                if n >= limit && elapsed < span {
                    let retry_after_s = span.saturating_sub(elapsed).as_secs().max(1);
                    return Err(if is_address {
                        Throttled::Address { retry_after_s }
                    } else {
                        Throttled::Account { retry_after_s }
                    });
                }
            }
        }
        Ok(())
    }

    /// Counts a failed sign-in.
    pub fn failed(&self, address: &str, username: &str) {
        let Ok(mut m) = self.counts.lock() else { return };
        let now = Instant::now();
        if m.len() > 50_000 {
            let max = MAX_BACKOFF.max(self.window);
            m.retain(|_, (start, _, _)| now.duration_since(*start) < max);
        }
        let (a, p) = Self::keys(address, username);
        for (key, limit) in [(a, self.per_address), (p, self.per_pair)] {
            let span_of = |strikes| self.span(strikes);
            let e = m.entry(key).or_insert((now, 0, 0));
            if now.duration_since(e.0) >= span_of(e.2) {
                // A client that was held back and fails again right after waiting waits
                // twice as long next time; one that stayed away long starts afresh.
                let strikes = if e.1 >= limit && now.duration_since(e.0) < span_of(e.2).saturating_mul(2) {
                    e.2.saturating_add(1)
                } else {
                    0
                };
                *e = (now, 0, strikes);
            }
            e.1 = e.1.saturating_add(1);
        }
    }

    /// A successful sign-in clears the pair's failures (not the address's).
    pub fn succeeded(&self, address: &str, username: &str) {
        let Ok(mut m) = self.counts.lock() else { return };
        m.remove(&Self::keys(address, username).1);
    }
}

/// The 429 of the API's token endpoint when sign-ins are throttled.
pub fn throttled_error(t: Throttled) -> ApiError {
    let s = t.retry_after_s();
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many failed sign-ins; try again in {s} seconds"),
        format!("登录失败次数过多，请 {s} 秒后再试"),
    )
}

/// The login form's CSRF token: a fresh nonce and an HMAC-SHA256 of it (with its time of
/// issue) under the server's secret. The form and the pre-sign-in cookie carry the same
/// token; a value the server did not issue — one an attacker planted as a cookie — or an
/// old one is refused.
#[derive(Debug)]
pub struct FormTokens {
    key: [u8; 32],
    ttl: Duration,
}

impl FormTokens {
    /// Tokens under a fresh random key, valid for `ttl`.
    pub fn new(ttl: Duration) -> FormTokens {
        let mut key = [0u8; 32];
        if getrandom_fill(&mut key).is_err() {
            // `issue` needs randomness too, so no token is issued under this key.
            tracing::error!("no randomness for the form-token key");
        }
        FormTokens { key, ttl }
    }

    /// A new token, issued at `now_s` (seconds since the epoch).
    pub fn issue(&self, now_s: u64) -> Option<String> {
        let nonce = kebao_service::auth::random_secret().ok()?;
        let body = format!("{now_s}.{nonce}");
        let mac = hex::encode(hmac_sha256(&self.key, body.as_bytes()));
        Some(format!("{body}.{mac}"))
    }

    /// Whether `token` was issued by this server and is still fresh.
    pub fn verify(&self, token: &str, now_s: u64) -> bool {
        let Some((body, mac)) = token.rsplit_once('.') else { return false };
        let Some((issued, _)) = body.split_once('.') else { return false };
        let Ok(issued) = issued.parse::<u64>() else { return false };
        let expected = hex::encode(hmac_sha256(&self.key, body.as_bytes()));
        same_secret(mac, &expected) && issued <= now_s && now_s - issued <= self.ttl.as_secs()
    }
}

fn getrandom_fill(buf: &mut [u8; 32]) -> Result<(), ()> {
    let s = kebao_service::auth::random_secret().map_err(|_| ())?;
    let bytes = hex::decode(s).map_err(|_| ())?;
    if bytes.len() != buf.len() {
        return Err(());
    }
    buf.copy_from_slice(&bytes);
    Ok(())
}

/// HMAC-SHA256 (RFC 2104) over SHA-256, which is already a dependency.
fn hmac_sha256(key: &[u8; 32], msg: &[u8]) -> [u8; 32] {
    use kebao_service::auth::sha256;
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for (i, k) in key.iter().enumerate() {
        if let (Some(a), Some(b)) = (ipad.get_mut(i), opad.get_mut(i)) {
            *a ^= k;
            *b ^= k;
        }
    }
    let mut inner = ipad.to_vec();
    inner.extend_from_slice(msg);
    let mut outer = opad.to_vec();
    outer.extend_from_slice(&sha256(&inner));
    sha256(&outer)
}

/// Searches with a query that one anonymous client address may make a minute. Signed-in
/// users and API keys (which carry their own rate) are not counted.
pub const ANONYMOUS_SEARCHES_PER_MINUTE: u32 = 30;

/// Counts an anonymous search from this address; `false` when it is over
/// [`ANONYMOUS_SEARCHES_PER_MINUTE`]. An IPv6 client is counted by its /64, which one
/// host can fill with addresses.
pub fn anonymous_search_allowed(state: &AppState, addr: ClientAddr) -> bool {
    let key = match addr.0.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(ip)) => {
            let [a, b, c, d, ..] = ip.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
        _ => addr.0,
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
