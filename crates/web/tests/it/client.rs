//! A test app on a fresh SQLite database, and a client with a cookie jar.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use kebao_domain::org::OrganisationInput;
use kebao_domain::user::Role;
use kebao_domain::IndustryMap;
use kebao_service::authz::{Actor, Authz};
use kebao_service::users::NewUserInput;
use kebao_service::{Config, FixedClock, Service, CATALOGUE};
use kebao_web::{router, AppState, Settings};
use std::collections::HashMap;
use std::sync::Arc;
use tower::ServiceExt;

pub const PW: &str = "correct horse battery";

pub struct App {
    pub svc: Service,
    pub clock: Arc<FixedClock>,
    pub router: axum::Router,
    pub enterprise: String,
    _dir: tempfile::TempDir,
}

pub fn uscc(n: u32) -> String {
    kebao_domain::Uscc::complete(&format!("91420100{n:09}")).unwrap().to_string()
}

pub fn org(name: &str, n: u32, kind: &str) -> OrganisationInput {
    let e = kind == "enterprise";
    OrganisationInput {
        name: name.into(),
        uscc: uscc(n),
        kind: kind.into(),
        industry_code: if e { "C3976".into() } else { String::new() },
        lifecycle_stage: if e { "rnd".into() } else { String::new() },
        ..Default::default()
    }
}

pub async fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("web.db").display());
    let clock = Arc::new(FixedClock::new(1_795_838_400_000_000));
    let svc = Service::open(
        &url,
        Authz::embedded().unwrap(),
        IndustryMap::from_toml(CATALOGUE).unwrap(),
        clock.clone(),
        Config::default(),
    )
    .await
    .unwrap()
    // Ids are deterministic in tests.
    .with_ids(Arc::new(kebao_service::SeededIds::new(14)))
    .with_signing_key(ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]));
    let op = Actor::System { name: "test".into() };
    let ent = svc.create_org(&op, &org("光谷激光科技有限公司", 1, "enterprise")).await.unwrap();
    let bank = svc.create_org(&op, &org("汉江银行光谷支行", 2, "bank")).await.unwrap();
    let gov = svc.create_org(&op, &org("东湖高新区管委会", 3, "government")).await.unwrap();
    for (o, name, role) in [
        (&ent.id, "ent.admin", Role::EnterpriseAdmin),
        (&bank.id, "banker", Role::BankOfficer),
        (&gov.id, "reviewer", Role::ZoneReviewer),
        (&gov.id, "regulator", Role::Regulator),
    ] {
        let input = NewUserInput { username: name.into(), display_name: name.into(), password: PW.into() };
        svc.add_user(&op, o, &input, &[role]).await.unwrap();
    }
    svc.put_facts(
        &op,
        &ent.id,
        kebao_domain::YearlyFacts {
            year: 2025,
            revenue: kebao_domain::Money::from_fen(987_654_321),
            rnd_expense: kebao_domain::Money::from_fen(12_345_600),
            staff: 50,
            rnd_staff: 20,
            patents_granted: 4,
            patents_pending: 1,
            export_share_bp: 0,
        },
    )
    .await
    .unwrap();
    let router = router(AppState::new(svc.clone(), Settings::default()));
    App { svc, clock, router, enterprise: ent.id, _dir: dir }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn location(&self) -> String {
        self.headers.get(header::LOCATION).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    }
}

/// A browser-like client: keeps cookies.
pub struct Client<'a> {
    pub app: &'a App,
    pub cookies: HashMap<String, String>,
}

impl<'a> Client<'a> {
    pub fn new(app: &'a App) -> Client<'a> {
        Client { app, cookies: HashMap::new() }
    }

    pub async fn send(&mut self, req: Request<Body>) -> Resp {
        let mut req = req;
        if !self.cookies.is_empty() {
            let c = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
            req.headers_mut().insert(header::COOKIE, c.parse().unwrap());
        }
        let resp = self.app.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        for sc in headers.get_all(header::SET_COOKIE) {
            let s = sc.to_str().unwrap();
            let (kv, attrs) = s.split_once(';').unwrap_or((s, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap().to_vec();
        Resp { status, headers, body }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }

    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> Resp {
        let body = form.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
        self.send(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    pub async fn json(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> Resp {
        let mut b =
            Request::builder().method(method).uri(path).header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.send(b.body(Body::from(body.to_string())).unwrap()).await
    }

    pub async fn get_auth(&mut self, path: &str, token: &str) -> Resp {
        self.send(
            Request::get(path)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// Signs in through the login form; returns the session's CSRF token.
    pub async fn login(&mut self, user: &str, pw: &str) -> Resp {
        let page = self.get("/login").await;
        let token = hidden(&page.text(), "csrf");
        self.post_form(
            "/login",
            &[("csrf", &token), ("username", user), ("password", pw), ("next", "/dashboard")],
        )
        .await
    }

    /// The CSRF token of the signed-in session, read from a page's forms.
    pub async fn csrf(&mut self) -> String {
        hidden(&self.get("/dashboard").await.text(), "csrf")
    }

    pub async fn token(&mut self, user: &str) -> String {
        let r = self
            .json(
                "POST",
                "/api/v1/auth/token",
                None,
                serde_json::json!({"username": user, "password": PW, "name": "test"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()["token"].as_str().unwrap().to_owned()
    }
}

pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The value of the first hidden input named `name`.
pub fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html.find(&needle).unwrap_or_else(|| panic!("no hidden `{name}` in page")) + needle.len();
    html[start..].split('"').next().unwrap().to_owned()
}
