//! The state every handler shares, and the web settings it is built from.

use crate::{metrics, session};
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
    /// The bearer token that opens `/metrics` on the public listener (none: it is not served
    /// there; use a private listen address).
    pub metrics_token: Option<String>,
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
            metrics_token: None,
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
