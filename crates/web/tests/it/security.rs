//! Security: API key scopes by route, sign-in throttling, login CSRF, headers, password
//! changes forced and chosen, the body deadline, and quiet logs for anonymous visitors.

use crate::client::*;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use kebao_web::{router, AppState, Settings};
use serde_json::json;
use std::net::SocketAddr;

/// Every API route and the scope that opens it to an API key (None: closed to keys). A
/// route added to `api/mod.rs` without a line here fails `every_api_route_has_a_scope_decision`.
const ROUTE_SCOPES: &[(&str, Option<&str>)] = &[
    ("/api/v1/openapi.json", None),
    ("/api/v1/auth/token", None),
    ("/api/v1/me", None),
    ("/api/v1/me/inbox", None),
    ("/api/v1/me/password", None),
    ("/api/v1/industries", Some("orgs:read")),
    ("/api/v1/register", None),
    ("/api/v1/orgs", Some("orgs:read")),
    ("/api/v1/orgs/{id}", Some("orgs:read")),
    ("/api/v1/orgs/{id}/verify", None),
    ("/api/v1/orgs/{id}/facts/{year}", None),
    ("/api/v1/orgs/{id}/qualifications", None),
    ("/api/v1/orgs/{id}/users", None),
    ("/api/v1/users/{id}", None),
    ("/api/v1/audit/head", None),
    ("/api/v1/audit/events", None),
    ("/api/v1/audit/erasures", None),
    ("/api/v1/users", None),
    ("/api/v1/jobs", None),
    ("/api/v1/me/data", None),
    ("/api/v1/me/data-requests", None),
    ("/api/v1/data-requests", None),
    ("/api/v1/data-requests/{id}/answer", None),
    ("/api/v1/data-requests/{id}", None),
    ("/api/v1/impact-assessments", None),
    ("/api/v1/loan-schemes", None),
    ("/api/v1/loans", None),
    ("/api/v1/loans/{id}", None),
    ("/api/v1/loans/{id}/decision", None),
    ("/api/v1/loans/{id}/disburse", None),
    ("/api/v1/loans/{id}/repayments", None),
    ("/api/v1/loans/{id}/claim", None),
    ("/api/v1/loans/{id}/claim/pay", None),
    ("/api/v1/loans/{id}/guarantee/pay", None),
    ("/api/v1/loans/{id}/recoveries", None),
    ("/api/v1/loans/{id}/policy", None),
    ("/api/v1/loans/{id}/close", None),
    ("/api/v1/loans/{id}/subsidy-check", None),
    ("/api/v1/loans/{id}/subsidy-applications", None),
    ("/api/v1/loans/repayments/import", None),
    ("/api/v1/loan-funds", None),
    ("/api/v1/loan-funds/{scheme_id}/payments", None),
    ("/api/v1/scheme-simulations", None),
    ("/api/v1/scheme-simulations/{id}", None),
    ("/api/v1/jobs/{id}", None),
    ("/api/v1/jobs/{id}/cancel", None),
    ("/api/v1/orgs/{id}/collection-account", None),
    ("/api/v1/policies/{id}/payment", None),
    ("/api/v1/policies/{id}/payment-evidence", None),
    ("/api/v1/policies/registered", None),
    ("/api/v1/policies/{id}/registration-answer", None),
    ("/api/v1/policies/{id}/registration-documents", None),
    ("/api/v1/subsidy/programmes/{id}/versions/{version}/confirm", None),
    ("/api/v1/product-types", Some("products:read")),
    ("/api/v1/product-types/{id}", Some("products:read")),
    ("/api/v1/catalogue", None),
    ("/api/v1/products", Some("products:read")),
    ("/api/v1/products/matrix", Some("products:read")),
    ("/api/v1/products/roster", Some("products:read")),
    ("/api/v1/products/{id}", Some("products:read")),
    ("/api/v1/filings", None),
    ("/api/v1/filings/review-queue", None),
    ("/api/v1/filings/checklist", None),
    ("/api/v1/filings/{id}", None),
    ("/api/v1/filings/{id}/documents", None),
    ("/api/v1/filings/{id}/submit", None),
    ("/api/v1/filings/{id}/comments", None),
    ("/api/v1/filings/{id}/checklist", None),
    ("/api/v1/filings/{id}/review", None),
    ("/api/v1/filings/{id}/publish", None),
    ("/api/v1/filings/{id}/withdraw", None),
    ("/api/v1/filings/{id}/versions", None),
    ("/api/v1/filings/{id}/rating-plans", None),
    ("/api/v1/products/{id}/quote", None),
    ("/api/v1/products/{id}/apply", None),
    ("/api/v1/applications", None),
    ("/api/v1/applications/{id}/decision", None),
    ("/api/v1/underwriting/queue", None),
    ("/api/v1/underwriters/{username}/authority", None),
    ("/api/v1/policies", None),
    ("/api/v1/policies/{id}", None),
    ("/api/v1/policies/{id}/premium-payments", None),
    ("/api/v1/policies/{id}/claims", None),
    ("/api/v1/claims", None),
    ("/api/v1/claims/{id}", None),
    ("/api/v1/claims/{id}/steps", None),
    ("/api/v1/claims/{id}/complaints", None),
    ("/api/v1/disputes", None),
    ("/api/v1/disputes/{id}/steps", None),
    ("/api/v1/policies/{id}/endorsements", None),
    ("/api/v1/policies/{id}/cancellation", None),
    ("/api/v1/policies/{id}/refund-payments", None),
    ("/api/v1/policies/{id}/renewal", None),
    ("/api/v1/policies/{id}/coinsurance", None),
    ("/api/v1/policies/{id}/changes", None),
    ("/api/v1/claims/{id}/documents", None),
    ("/api/v1/claim-documents/{id}", None),
    ("/api/v1/zone/insurance-overview", None),
    ("/api/v1/statistics/nfra", None),
    ("/api/v1/statistics/targets", None),
    ("/api/v1/statistics/grid", None),
    ("/api/v1/index/framework", None),
    ("/api/v1/index/runs", None),
    ("/api/v1/index/runs/{id}", None),
    ("/api/v1/index/runs/{id}/files/{name}", None),
    ("/api/v1/index/statistics", None),
    ("/api/v1/evaluation", None),
    ("/api/v1/advisor", None),
    ("/api/v1/advisor/answers", None),
    ("/api/v1/advisor/shortlist", None),
    ("/api/v1/advisor/shortlist/{product_id}", None),
    ("/api/v1/advisor/needs", None),
    ("/api/v1/orgs/{id}/view", None),
    ("/api/v1/lab/models", None),
    ("/api/v1/lab/models/{id}", None),
    ("/api/v1/lab/models/{id}/approve", None),
    ("/api/v1/lab/models/{id}/retire", None),
    ("/api/v1/lab/models/{id}/rating-plan", None),
    ("/api/v1/lab/extracts", None),
    ("/api/v1/lab/extracts/{id}", None),
    ("/api/v1/lab/extracts/{id}/file", None),
    ("/api/v1/lab/fits", None),
    ("/api/v1/lab/admission-rule", None),
    ("/api/v1/lab/my-scores", None),
    ("/api/v1/zone/switches/{key}", None),
    ("/api/v1/lab/models/{id}/monitoring", None),
    ("/api/v1/lab/models/{id}/thresholds", None),
    ("/api/v1/lab/models/{id}/batch-score", None),
    ("/api/v1/loans/{id}/score", None),
    ("/api/v1/loans/{id}/scores", None),
    ("/api/v1/advisor/broker", None),
    ("/api/v1/advisor/quotes", None),
    ("/api/v1/advisor/bundle/quotes/{quote_id}", None),
    ("/api/v1/advisor/bundle/apply", None),
    ("/api/v1/subsidy/programmes", None),
    ("/api/v1/subsidy/calendar", None),
    ("/api/v1/subsidy/programmes/{id}/offers", None),
    ("/api/v1/subsidy/programmes/{id}/what-if", None),
    ("/api/v1/subsidy/dashboard", None),
    ("/api/v1/policies/{id}/subsidy-check", None),
    ("/api/v1/subsidies", None),
    ("/api/v1/subsidies/{id}", None),
    ("/api/v1/subsidies/{id}/steps", None),
    ("/api/v1/subsidies/{id}/objections", None),
    ("/api/v1/subsidies/{id}/objections/{objection_id}", None),
    ("/api/v1/subsidies/{id}/documents", None),
    ("/api/v1/documents/{id}", None),
    // An attachment's owner may be of any kind (a consent's evidence among them): no one
    // scope fits, so closed to keys; consent evidence stays open under `/consents/{id}/evidence`.
    ("/api/v1/attachments/{id}", None),
    ("/api/v1/articles", None),
    ("/api/v1/articles/{id}", None),
    ("/api/v1/consents", Some("consents:read")),
    ("/api/v1/consents/{id}", Some("consents:read")),
    ("/api/v1/consents/{id}/evidence", Some("consents:read")),
    ("/api/v1/consents/{id}/revoke", None),
    ("/api/v1/credit-reports/{org_id}", Some("credit:read")),
    ("/api/v1/orgs/{id}/access-log", None),
    ("/api/v1/transparency/tree-heads", Some("transparency:read")),
    ("/api/v1/transparency/inclusion/{seq}", Some("transparency:read")),
    ("/api/v1/transparency/consistency", Some("transparency:read")),
    ("/api/v1/api-keys", None),
];

fn declared_routes() -> Vec<String> {
    let src = include_str!("../../src/api/mod.rs");
    let mut out = Vec::new();
    for piece in src.split(".route(\"").skip(1) {
        let path = piece.split('"').next().unwrap();
        out.push(format!("/api/v1{path}"));
    }
    out
}

#[test]
fn every_api_route_has_a_scope_decision() {
    let declared = declared_routes();
    assert!(declared.len() > 80, "the route list was read ({})", declared.len());
    for r in &declared {
        assert!(
            ROUTE_SCOPES.iter().any(|(p, _)| p == r),
            "API route `{r}` has no decision on which API-key scope opens it: add it to ROUTE_SCOPES (None: closed)"
        );
    }
    let all: Vec<String> = kebao_service::auth::API_SCOPES.iter().map(|s| s.0.to_owned()).collect();
    for (route, scope) in ROUTE_SCOPES {
        assert!(declared.iter().any(|d| d == route), "`{route}` is no longer a route");
        for s in &all {
            let opens = kebao_service::auth::key_allows(std::slice::from_ref(s), true, route);
            assert_eq!(opens, *scope == Some(s.as_str()), "scope {s} on {route}");
        }
        // Keys only read.
        assert!(!kebao_service::auth::key_allows(&all, false, route), "{route} written with a key");
    }
    assert_eq!(
        kebao_service::auth::KEY_ROUTES.len(),
        ROUTE_SCOPES.iter().filter(|(_, s)| s.is_some()).count(),
        "the service's table and this list agree"
    );
}

#[tokio::test]
async fn an_orgs_key_reads_the_directory_only() {
    let app = app().await;
    let mut c = Client::new(&app);
    let token = c.token("banker").await;
    let r = c
        .json(
            "POST",
            "/api/v1/api-keys",
            Some(&token),
            json!({"name": "crm", "scopes": ["orgs:read"], "rate_per_minute": 60}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let key = r.json()["key"].as_str().unwrap().to_owned();
    let ent = app.enterprise.clone();
    assert_eq!(c.get_auth("/api/v1/orgs", &key).await.status, StatusCode::OK);
    assert_eq!(c.get_auth(&format!("/api/v1/orgs/{ent}"), &key).await.status, StatusCode::OK);
    for path in
        [format!("/api/v1/orgs/{ent}/access-log"), format!("/api/v1/orgs/{ent}/users"), "/api/v1/me".into()]
    {
        let r = c.get_auth(&path, &key).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text());
        assert_eq!(r.json()["error"]["code"], "scope_missing", "{path}");
    }
    // An unknown path is closed to keys too.
    assert_eq!(c.get_auth("/api/v1/orgs-and-more", &key).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_regulator_gets_no_api_key() {
    let app = app().await;
    let mut c = Client::new(&app);
    let token = c.token("regulator").await;
    let r = c
        .json(
            "POST",
            "/api/v1/api-keys",
            Some(&token),
            json!({"name": "x", "scopes": ["orgs:read"], "rate_per_minute": 60}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
}

fn from(addr: &str, mut req: Request<Body>) -> Request<Body> {
    let a: SocketAddr = format!("{addr}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(a));
    req
}

async fn login_from(c: &mut Client<'_>, token: &str, addr: &str, user: &str, pw: &str) -> Resp {
    let body = format!("csrf={}&username={}&password={}&next=%2Fdashboard", enc(token), enc(user), enc(pw));
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    c.send(from(addr, req)).await
}

async fn login_token(c: &mut Client<'_>) -> String {
    hidden(&c.get("/login").await.text(), "csrf")
}

#[tokio::test]
async fn spraying_one_password_over_many_names_is_throttled_by_address() {
    let app = app().await;
    let mut attacker = Client::new(&app);
    let token = login_token(&mut attacker).await;
    let mut statuses = Vec::new();
    for i in 0..23 {
        let r =
            login_from(&mut attacker, &token, "203.0.113.9", &format!("user{i:02}"), "Spring2026!!").await;
        statuses.push(r.status);
    }
    let limit = Settings::default().login_failures_per_address as usize;
    assert!(statuses[..limit].iter().all(|s| *s == StatusCode::UNAUTHORIZED), "{statuses:?}");
    assert!(statuses[limit..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    // The attempts are recorded for monitoring.
    let op = kebao_service::authz::Actor::System { name: "test".into() };
    let failed = app.svc.failed_logins(&op, 0).await.unwrap();
    assert_eq!(failed.len(), limit);
    assert!(failed.iter().all(|a| a.address == "203.0.113.9"));
}

#[tokio::test]
async fn the_real_user_signs_in_while_an_attacker_is_held_back() {
    let app = app().await;
    let mut attacker = Client::new(&app);
    let token = login_token(&mut attacker).await;
    let mut last = StatusCode::OK;
    for i in 0..10 {
        last = login_from(&mut attacker, &token, "203.0.113.9", "banker", &format!("guess number {i}"))
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS, "the attacker is held back");
    // Even the right password does not pass from the attacker's address now…
    assert_eq!(
        login_from(&mut attacker, &token, "203.0.113.9", "banker", PW).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // …but the owner, elsewhere, signs in.
    let mut owner = Client::new(&app);
    let token = login_token(&mut owner).await;
    let r = login_from(&mut owner, &token, "198.51.100.7", "banker", PW).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.location(), "/dashboard");
}

#[tokio::test]
async fn the_token_endpoint_is_throttled_too() {
    let app = app().await;
    let mut c = Client::new(&app);
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let req = Request::post("/api/v1/auth/token")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"username": "banker", "password": "not it at all", "name": "x"}).to_string(),
            ))
            .unwrap();
        statuses.push(c.send(from("203.0.113.9", req)).await.status);
    }
    assert_eq!(statuses[4], StatusCode::UNAUTHORIZED);
    assert_eq!(statuses[5], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
}

#[tokio::test]
async fn forwarded_for_counts_only_from_a_trusted_proxy() {
    let mut h = axum::http::HeaderMap::new();
    h.insert("x-forwarded-for", "198.51.100.7, 10.0.0.2".parse().unwrap());
    let mut ext = axum::http::Extensions::new();
    ext.insert(ConnectInfo::<SocketAddr>("10.0.0.1:5000".parse().unwrap()));
    let proxies = ["10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()];
    assert_eq!(kebao_web::session::client_address(&h, &ext, &proxies), "198.51.100.7");
    assert_eq!(
        kebao_web::session::client_address(&h, &ext, &[]),
        "10.0.0.1",
        "untrusted: the header is ignored"
    );
}

#[tokio::test]
async fn login_csrf_refuses_a_planted_cookie() {
    let app = app().await;
    let mut c = Client::new(&app);
    // The attacker plants a cookie of their choosing and submits the same value.
    c.cookies.insert("kebao_pre".into(), "attacker-chosen".into());
    let r =
        c.post_form("/login", &[("csrf", "attacker-chosen"), ("username", "banker"), ("password", PW)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A forged token in the server's format fails too.
    let forged = "1795838400.00.00";
    c.cookies.insert("kebao_pre".into(), forged.into());
    let r = c.post_form("/login", &[("csrf", forged), ("username", "banker"), ("password", PW)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The form replaces the planted cookie with one the server issued.
    c.cookies.insert("kebao_pre".into(), "attacker-chosen".into());
    let page = c.get("/login").await;
    assert_ne!(c.cookies["kebao_pre"], "attacker-chosen");
    assert_eq!(hidden(&page.text(), "csrf"), c.cookies["kebao_pre"]);
    assert_eq!(c.login("banker", PW).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn security_headers_on_public_signed_in_and_api_responses() {
    let mut app = app().await;
    let mut c = Client::new(&app);
    let public = c.get("/").await;
    for (name, value) in [
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
    ] {
        assert_eq!(public.headers[name], value, "{name}");
    }
    let csp = public.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors 'none'")
            && !csp.contains("unsafe-eval")
    );
    assert!(!csp.split(';').any(|d| d.contains("script-src") && d.contains("unsafe-inline")));
    assert!(public.headers.get("cache-control").is_none(), "public pages may be cached");
    assert!(public.headers.get("strict-transport-security").is_none(), "no HSTS unless configured");
    // No template carries inline script any more.
    assert!(!public.text().contains("onclick=") && !public.text().contains("<script>"));
    c.login("ent.admin", PW).await;
    let signed_in = c.get("/dashboard").await;
    assert_eq!(signed_in.status, StatusCode::OK);
    assert_eq!(signed_in.headers["cache-control"], "no-store");
    assert_eq!(signed_in.headers["x-frame-options"], "DENY");
    let token = c.token("banker").await;
    let api = c.get_auth("/api/v1/me", &token).await;
    assert_eq!(api.status, StatusCode::OK);
    assert_eq!(api.headers["cache-control"], "no-store");
    assert!(api.headers.contains_key("content-security-policy"));
    let js = c.get("/static/kebao.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.text().contains("data-print"));
    // Served over TLS: HSTS.
    app.router = router(AppState::new(app.svc.clone(), Settings { hsts: true, ..Settings::default() }));
    let mut c = Client::new(&app);
    assert!(c.get("/").await.headers["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
}

#[tokio::test]
async fn a_password_set_by_an_admin_is_changed_first() {
    let app = app().await;
    let op = kebao_service::authz::Actor::System { name: "test".into() };
    app.svc.reset_password(&op, "ent.admin", "set by the admin").await.unwrap();
    let mut c = Client::new(&app);
    let r = c.login("ent.admin", "set by the admin").await;
    assert_eq!(r.location(), "/account/password");
    for page in ["/dashboard", "/", "/orgs"] {
        let r = c.get(page).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{page}");
        assert_eq!(r.location(), "/account/password", "{page}");
    }
    // The API answers with a clear code (the session's cookie; no token is issued yet).
    let csrf = hidden(&c.get("/account/password").await.text(), "csrf");
    let r = c.get("/api/v1/me/inbox").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"]["code"], "password_change_required");
    let r = c
        .json(
            "POST",
            "/api/v1/auth/token",
            None,
            json!({"username": "ent.admin", "password": "set by the admin", "name": "x"}),
        )
        .await;
    assert_eq!(r.json()["error"]["code"], "password_change_required", "{}", r.text());
    // The change page: mismatch and a wrong current password are refused with messages.
    let r = c
        .post_form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", "set by the admin"),
                ("new_password", "my very own words"),
                ("new_password_again", "different"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("两次输入的新密码不一致"));
    let r = c
        .post_form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", "wrong!wrong!"),
                ("new_password", "my very own words"),
                ("new_password_again", "my very own words"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("当前密码不正确"));
    let r = c
        .post_form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", "set by the admin"),
                ("new_password", "my very own words"),
                ("new_password_again", "my very own words"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(c.get("/dashboard").await.status, StatusCode::OK, "changed: the session goes on");
    assert!(c.get("/dashboard").await.text().contains("/account/password"), "the user menu links the page");
}

#[tokio::test]
async fn own_password_change_over_the_api() {
    let app = app().await;
    let mut c = Client::new(&app);
    let t1 = c.token("banker").await;
    let t2 = c.token("banker").await;
    let r = c
        .json(
            "PUT",
            "/api/v1/me/password",
            Some(&t1),
            json!({"current_password": "nope nope nope", "new_password": "a new long password"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = c
        .json(
            "PUT",
            "/api/v1/me/password",
            Some(&t1),
            json!({"current_password": PW, "new_password": "a new long password"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["user"]["must_change_password"], false);
    assert_eq!(c.get_auth("/api/v1/me", &t1).await.status, StatusCode::OK, "the token in use stays");
    assert_eq!(
        c.get_auth("/api/v1/me", &t2).await.status,
        StatusCode::UNAUTHORIZED,
        "other tokens are revoked"
    );
}

#[tokio::test]
async fn a_body_that_never_arrives_gets_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = app().await;
    let settings = Settings { body_timeout: std::time::Duration::from_millis(500), ..Settings::default() };
    let r = router(AppState::new(app.svc.clone(), settings));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, r).await.unwrap() });
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"POST /api/v1/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("answered in time")
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}

/// Counts ERROR events (a minimal subscriber; the test runs on one thread).
struct ErrorCount(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl tracing::Subscriber for ErrorCount {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, e: &tracing::Event<'_>) {
        if *e.metadata().level() == tracing::Level::ERROR {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test(flavor = "current_thread")]
async fn anonymous_page_views_log_no_errors() {
    let app = app().await;
    let errors = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let _guard = tracing::subscriber::set_default(ErrorCount(errors.clone()));
    let mut c = Client::new(&app);
    for page in ["/", "/publicity", "/products", "/orgs", "/transparency", "/login"] {
        let r = c.get(page).await;
        assert_eq!(r.status, StatusCode::OK, "{page}");
    }
    assert_eq!(errors.load(std::sync::atomic::Ordering::SeqCst), 0, "anonymous views logged errors");
}

/// Drawing the menus asks Cedar what the user may do: a page a signed-in user views logs no
/// error either (asking about an action the user's kind of principal cannot take is a known
/// denial, not a malformed request).
#[tokio::test]
async fn signed_in_page_views_log_no_errors() {
    let app = app().await;
    let errors = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let _guard = tracing::subscriber::set_default(ErrorCount(errors.clone()));
    for user in ["ent.admin", "reviewer", "regulator", "banker"] {
        let mut c = Client::new(&app);
        assert_eq!(c.login(user, PW).await.status, StatusCode::SEE_OTHER, "{user}");
        for page in ["/dashboard", "/products", "/policies", "/claims", "/subsidies", "/consents"] {
            let r = c.get(page).await;
            assert_eq!(r.status, StatusCode::OK, "{user} {page}");
        }
    }
    assert_eq!(errors.load(std::sync::atomic::Ordering::SeqCst), 0, "signed-in views logged errors");
}
