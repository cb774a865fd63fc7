//! One end-to-end test in real headless Chromium, driven through chromedriver's W3C
//! WebDriver protocol: sign in, open an organisation page, search the portal, apply at a
//! quote, report a claim and check a subsidy.

use crate::client::*;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn require() -> bool {
    std::env::var("KEBAO_TEST_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
    session: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

impl Driver {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        if v["value"]["error"].is_string() {
            panic!("webdriver {path}: {v}");
        }
        v["value"].clone()
    }
    async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }
    async fn find(&self, css: &str) -> String {
        let v = self
            .call(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css})))
            .await;
        v.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).unwrap().to_owned()
    }
    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({"text": text}))).await;
    }
    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
    }
    async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
    async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None).await.as_str().unwrap_or_default().to_owned()
    }
    /// Waits (up to 10 s) until the page's URL ends with `suffix`; a click returns before
    /// the navigation it starts has finished.
    async fn wait_for_url(&self, suffix: &str) -> String {
        let mut url = String::new();
        for _ in 0..100 {
            url = self.url().await;
            if url.contains(suffix) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        url
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_open_an_organisation_in_chromium() {
    let (chromium, chromedriver) = ("/usr/bin/chromium", "chromedriver");
    let have = std::path::Path::new(chromium).exists()
        && Command::new(chromedriver).arg("--version").output().is_ok();
    if !have {
        assert!(!require(), "KEBAO_TEST_REQUIRE_CHROMIUM=1 but chromium or chromedriver is missing");
        eprintln!("chromium/chromedriver not installed: browser test not run");
        return;
    }
    let app = app().await;
    // One published product for the portal.
    let op = kebao_service::authz::Actor::System { name: "test".into() };
    let ins =
        app.svc.create_org(&op, &org("楚天财产保险股份有限公司湖北分公司", 31, "insurer")).await.unwrap();
    let input = kebao_domain::product::ProductInput {
        type_id: "patent_enforcement".into(),
        name: "专利执行保险（光谷版）".into(),
        coverages: vec![kebao_domain::product::CoverageInput {
            name: "维权费用".into(),
            limit_yuan: "500000".into(),
            ..Default::default()
        }],
        premium_basis: "limit".into(),
        contact_name: "王经理".into(),
        contact_phone: "027-87654321".into(),
        // Open to the test enterprise (R&D): applications check the filed stages.
        stages: vec!["rnd".into(), "commercialisation".into(), "market".into()],
        ..Default::default()
    };
    let pid = app.svc.file_product(&op, &ins.id, &input).await.unwrap();
    app.svc.submit_product(&op, &pid).await.unwrap();
    let items: Vec<String> =
        kebao_domain::product::CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect();
    app.svc.set_product_checklist(&op, &pid, &items).await.unwrap();
    app.svc.review_product(&op, &pid, &kebao_service::products::Review::Approve).await.unwrap();
    app.svc.publish_product(&op, &pid).await.unwrap();
    let plan: kebao_domain::rating::PlanDoc =
        serde_json::from_value(json!({"basis": "limit", "base": "0.02",
        "min_premium_yuan": 500, "underwriting": {"auto_accept_max_limit_yuan": 1000000}}))
        .unwrap();
    app.svc.file_rating_plan(&op, &pid, "2026-01-01", plan).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let port = free_port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if http.get(format!("{base}/status")).send().await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "chromedriver did not start");
    let profile = tempfile::tempdir().unwrap();
    let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
        "binary": chromium,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,1000", format!("--user-data-dir={}", profile.path().display())]}}}});
    let v: Value =
        http.post(format!("{base}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
    let session = v["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_owned();
    let d = Driver { child, base, http, session };

    d.go(&format!("{site}/login")).await;
    d.type_into("#username", "ent.admin").await;
    d.type_into("#password", PW).await;
    d.click("#login-submit").await;
    let url = d.wait_for_url("/dashboard").await;
    assert!(url.ends_with("/dashboard"), "signed in: {url}");
    d.go(&format!("{site}/orgs/{}", app.enterprise)).await;
    assert_eq!(d.text("#org-name").await.split_whitespace().next(), Some("光谷激光科技有限公司"));
    assert!(d.text("#facts").await.contains("9,876,543.21"), "own facts are shown");
    let png = d.call(reqwest::Method::GET, "/screenshot", None).await;
    assert!(png.as_str().is_some_and(|s| s.len() > 1000), "a screenshot was taken");
    // A bank officer sees the page but not the facts.
    d.call(reqwest::Method::DELETE, "/cookie", None).await;
    d.go(&format!("{site}/login")).await;
    d.type_into("#username", "banker").await;
    d.type_into("#password", PW).await;
    d.click("#login-submit").await;
    assert!(d.wait_for_url("/dashboard").await.ends_with("/dashboard"));
    d.go(&format!("{site}/orgs/{}", app.enterprise)).await;
    assert!(d.text("#facts-withheld").await.contains("非公开"));
    // The product portal: a Chinese search in the browser.
    d.go(&format!("{site}/products")).await;
    d.type_into("#portal-filters input[name=q]", "专利").await;
    d.click("#portal-filters button[type=submit]").await;
    let url = d.wait_for_url("q=%E4%B8%93%E5%88%A9").await;
    assert!(url.contains("q=%E4%B8%93%E5%88%A9"), "{url}");
    assert!(d.text("#result-count").await.contains('1'));
    assert!(d.text("#product-list").await.contains("专利执行保险（光谷版）"));
    // The enterprise applies at the insurer's quote, reports a claim from its policy, and
    // checks a subsidy: the product is not one the zone subsidises, and the page says so.
    d.call(reqwest::Method::DELETE, "/cookie", None).await;
    d.go(&format!("{site}/login")).await;
    d.type_into("#username", "ent.admin").await;
    d.type_into("#password", PW).await;
    d.click("#login-submit").await;
    assert!(d.wait_for_url("/dashboard").await.ends_with("/dashboard"));
    d.go(&format!("{site}/products/{pid}/quote?limit_yuan=100000")).await;
    assert!(d.text("#apply-form").await.contains("起保日"));
    // Binding needs the explicit confirmation: the browser will not submit without it.
    d.click("#apply").await;
    assert!(d.url().await.contains("/quote"), "the unticked form is not sent");
    d.click("#apply-form input[name=confirm]").await;
    d.click("#apply").await;
    assert!(d.wait_for_url("/policies?done=applied").await.ends_with("/policies?done=applied"));
    assert!(d.text(".notice").await.contains("投保申请已提交"));
    let ent = app.svc.actor_for(app.svc.find_user("ent.admin").await.unwrap()).await.unwrap();
    let policy = app.svc.my_policies(&ent).await.unwrap().remove(0);
    assert_eq!(policy.premium.fen(), 200_000, "2 % of 100,000 yuan, by the filed plan");
    d.go(&format!("{site}/policies/{}", policy.id)).await;
    d.call(
        reqwest::Method::POST,
        "/execute/sync",
        Some(json!({"script": "document.getElementById('loss_date').value = '2026-11-28';", "args": []})),
    )
    .await;
    d.type_into("#claimed_yuan", "30000").await;
    d.type_into("#description", "维权诉讼中产生律师费").await;
    d.click("#report-claim button[type=submit]").await;
    assert!(d.wait_for_url("/claims/").await.contains("/claims/"));
    assert_eq!(d.text("#claim-status").await, "已报案");
    d.go(&format!("{site}/policies/{}/subsidy", policy.id)).await;
    d.click("#programme option[value=zone_tech_insurance]").await;
    d.click("form[method=get] button[type=submit]").await;
    assert!(d.wait_for_url("programme=zone_tech_insurance").await.contains("programme=zone_tech_insurance"));
    assert!(d.text("#failures").await.contains("不在本方案补贴范围内"), "{}", d.text("#result").await);
    let _ = d.http.delete(format!("{}/session/{}", d.base, d.session)).send().await;
}
