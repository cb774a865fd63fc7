//! The statistics page under 8 concurrent readers over the same zone (issue 21).
//!
//! The platform's web router is served in this process on a local port; a regulator signs in
//! through the service and the clients send its session cookie. The page asks for the report
//! year (`/zone/statistics?period=YEAR`): the year's report, its four quarters, the industry ×
//! stage grid, the parks and eight quarters by class, all from the dashboard's snapshots.
//!
//! Three figures: the first page after a start (every snapshot computed while the reader
//! waits), then `CLIENTS` clients in a closed loop for `seconds` with nothing changing, then
//! the same while a new enterprise is registered every second (each one an event, so every
//! snapshot goes stale and is computed again in the background, on the same two cores). For
//! the last, the oldest "figures as of" a reader saw is reported too.

use anyhow::{bail, Context, Result};
use kebao_domain::org::OrganisationInput;
use kebao_domain::user::Role;
use kebao_service::authz::Actor;
use kebao_service::users::NewUserInput;
use kebao_service::Service;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 8;
const PASSWORD: &str = "bench-dashboard-2026";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

/// `CLIENTS` readers for `seconds`; (pages, p50 ms, p99 ms, max ms).
async fn readers(
    http: &reqwest::Client,
    url: &str,
    cookie: &str,
    seconds: u64,
) -> Result<(usize, f64, f64, f64)> {
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (http, url, cookie) = (http.clone(), url.to_owned(), cookie.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            while Instant::now() < until {
                let t = Instant::now();
                let r = http.get(&url).header("cookie", &cookie).send().await?;
                let status = r.status();
                let body = r.text().await?;
                if !status.is_success() || !body.contains("id=\"report\"") {
                    bail!("the statistics page answered {status}");
                }
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<_, anyhow::Error>(times)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    all.sort_by(f64::total_cmp);
    Ok((all.len(), percentile(&all, 0.5), percentile(&all, 0.99), all.last().copied().unwrap_or(f64::NAN)))
}

/// A regulator's session on the service, as the cookie the browser would send.
async fn regulator_cookie(svc: &Service) -> Result<String> {
    let op = Actor::System { name: "bench".into() };
    let org = OrganisationInput {
        name: "国家金融监督管理总局湖北监管局（基准测试）".into(),
        uscc: super::uscc(990_000_001)?,
        kind: "government".into(),
        ..OrganisationInput::default()
    };
    let gov = svc.create_org(&op, &org).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let input = NewUserInput {
        username: "bench.regulator".into(),
        display_name: "监管人员".into(),
        password: PASSWORD.into(),
    };
    svc.add_user(&op, &gov.id, &input, &[Role::Regulator]).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let attempt = kebao_service::auth::Attempt { address: "127.0.0.1".into() };
    let s =
        svc.login_from("bench.regulator", PASSWORD, &attempt).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(format!("{}={}", kebao_web::session::SESSION_COOKIE, s.token))
}

pub async fn measure(label: &str, svc: &Service, year: i32, seconds: u64) -> Result<()> {
    let cookie = regulator_cookie(svc).await?;
    let settings = kebao_web::Settings { secure_cookies: false, ..Default::default() };
    let app = kebao_web::router(kebao_web::AppState::new(svc.clone(), settings));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
    });
    let http = reqwest::Client::builder().timeout(Duration::from_secs(600)).build()?;
    let url = format!("http://{addr}/zone/statistics?period={year}");

    let t = Instant::now();
    let first = http.get(&url).header("cookie", &cookie).send().await?;
    if !first.status().is_success() {
        bail!("the first statistics page answered {}", first.status());
    }
    let first_body = first.text().await?;
    let cold = t.elapsed().as_secs_f64();
    if !first_body.contains("id=\"as-of\"") {
        bail!("the statistics page does not say when its figures were taken");
    }

    let (n, p50, p99, max) = readers(&http, &url, &cookie, seconds).await?;
    println!(
        "{label:<18} first page {cold:>7.2} s | {CLIENTS} clients, nothing changing: {n:>6} pages, p50 {p50:>6.1} ms, p99 {p99:>6.1} ms, max {max:>7.1} ms"
    );

    // A new enterprise every second while they read.
    let writer_svc = svc.clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_w = stop.clone();
    let writer = tokio::spawn(async move {
        let op = Actor::System { name: "bench".into() };
        let mut i = 0u32;
        while !stop_w.load(std::sync::atomic::Ordering::Relaxed) {
            i += 1;
            let org = OrganisationInput {
                name: format!("基准测试新登记企业{i}"),
                uscc: super::uscc(990_100_000 + i)?,
                kind: "enterprise".into(),
                industry_code: "C3976".into(),
                lifecycle_stage: "rnd".into(),
                ..OrganisationInput::default()
            };
            writer_svc.create_org(&op, &org).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Ok::<u32, anyhow::Error>(i)
    });
    let (n, p50, p99, max) = readers(&http, &url, &cookie, seconds).await?;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.await.context("the writer")??;
    // How far behind the records a reader is now: the page's "as of" against the clock.
    let behind = svc.stats_dashboard(&Actor::System { name: "bench".into() }, &dashboard_query(year)?).await;
    let behind = behind.map_err(|e| anyhow::anyhow!("{e}"))?;
    let lag = (svc.now_us() - behind.as_of_us) as f64 / 1e6;
    println!(
        "{label:<18} {CLIENTS} clients, {written} enterprises registered meanwhile: {n:>6} pages, p50 {p50:>6.1} ms, p99 {p99:>6.1} ms, max {max:>7.1} ms; at the end the figures were {lag:.1} s old (stale: {})",
        behind.stale
    );
    server.abort();
    Ok(())
}

fn dashboard_query(year: i32) -> Result<kebao_service::stats::StatsQuery> {
    kebao_service::stats::StatsQuery::parse(&year.to_string(), "", "", "").map_err(|e| anyhow::anyhow!("{e}"))
}
