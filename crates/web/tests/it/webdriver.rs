//! A minimal W3C WebDriver client for headless Chromium through chromedriver, shared by the
//! web crate's browser test and the binary's role walks (included there by `#[path]`).

use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "chromedriver";

/// Whether the run must have Chromium (CI sets `KEBAO_TEST_REQUIRE_CHROMIUM=1`).
pub fn required() -> bool {
    std::env::var("KEBAO_TEST_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A chromedriver process with one headless Chromium session; both end when dropped.
pub struct Driver {
    child: Child,
    pub base: String,
    pub http: reqwest::Client,
    pub session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

impl Driver {
    /// Starts Chromium at `width` × `height`, or `None` (with a note) when it is not
    /// installed and the run does not require it.
    pub async fn start(width: u32, height: u32) -> Option<Driver> {
        let have = std::path::Path::new(CHROMIUM).exists()
            && Command::new(CHROMEDRIVER).arg("--version").output().is_ok();
        if !have {
            assert!(!required(), "KEBAO_TEST_REQUIRE_CHROMIUM=1 but chromium or chromedriver is missing");
            eprintln!("chromium/chromedriver not installed: browser test not run");
            return None;
        }
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
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
            "binary": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     format!("--window-size={width},{height}"),
                     format!("--user-data-dir={}", profile.path().display())]}}}});
        let v: Value =
            http.post(format!("{base}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
        let session =
            v["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_owned();
        Some(Driver { child, base, http, session, _profile: profile })
    }

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
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

    pub async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    pub async fn find(&self, css: &str) -> String {
        let v = self
            .call(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css})))
            .await;
        v.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).unwrap().to_owned()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({"text": text}))).await;
    }

    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
    }

    pub async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None).await.as_str().unwrap_or_default().to_owned()
    }

    /// Runs a script in the page and returns its value.
    pub async fn exec(&self, script: &str) -> Value {
        self.call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": []}))).await
    }

    /// The page as a PNG (base64).
    pub async fn screenshot(&self) -> String {
        self.call(reqwest::Method::GET, "/screenshot", None).await.as_str().unwrap_or_default().to_owned()
    }

    /// Waits (up to 10 s) until the page's URL contains `part`; a click returns before the
    /// navigation it starts has finished.
    pub async fn wait_for_url(&self, part: &str) -> String {
        let mut url = String::new();
        for _ in 0..100 {
            url = self.url().await;
            if url.contains(part) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        url
    }

    /// Signs out (drops the cookies) and signs in as `user`, waiting for the dashboard.
    pub async fn sign_in(&self, site: &str, user: &str, password: &str) {
        self.call(reqwest::Method::DELETE, "/cookie", None).await;
        self.go(&format!("{site}/login")).await;
        self.type_into("#username", user).await;
        self.type_into("#password", password).await;
        self.click("#login-submit").await;
        let url = self.wait_for_url("/dashboard").await;
        assert!(url.ends_with("/dashboard"), "{user} signed in: {url}");
    }

    pub async fn quit(&self) {
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.session)).send().await;
    }
}
