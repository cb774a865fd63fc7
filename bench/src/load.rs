//! The platform under load over HTTP (issue 17): 1, 8 and 64 concurrent clients in a closed
//! loop, on the same machine as the server, quoting and then binding through the JSON API.
//!
//! For each store (SQLite with group commit, SQLite committing each command on its own, and
//! PostgreSQL when a URL is given) it creates a demo zone (`kebao demo --years 0`), starts
//! `kebao serve`, signs in as the demo enterprise and finds a product whose insurer binds an
//! application at once. Then, for every client count, it runs quotes for `--seconds` and
//! binds for `--seconds`, and prints throughput and latency (p50, p99), and for binds the
//! commands per durable commit read from the server's `/metrics`.
//!
//! ```sh
//! cargo build --release -p kebao -p kebao-bench
//! target/release/load-bench --postgres postgres://postgres@127.0.0.1:5432/postgres
//! ```

use anyhow::{bail, Context, Result};
use clap::Parser;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// The kebao binary (a release build).
    #[arg(long, default_value = "target/release/kebao")]
    kebao: String,
    /// A PostgreSQL server to run on too (a fresh database is created and dropped).
    #[arg(long)]
    postgres: Option<String>,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Client counts.
    #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
    clients: Vec<usize>,
    /// Which stores: sqlite-group, sqlite-per-command, postgres (with --postgres).
    #[arg(long, value_delimiter = ',', default_value = "sqlite-group,sqlite-per-command,postgres")]
    stores: Vec<String>,
    /// Enterprises in the demo zone.
    #[arg(long, default_value_t = 300)]
    enterprises: usize,
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn start(kebao: &str, url: &str, key: &str, per_command: bool) -> Result<Server> {
    let o = Command::new(kebao)
        .args(["demo", "--no-serve", "--years", "0", "--database", url])
        .env("KEBAO_SIGNING_KEY", key)
        .env("KEBAO_LOG", "warn")
        .output()
        .context("running kebao demo")?;
    if !o.status.success() {
        bail!("kebao demo failed: {}", String::from_utf8_lossy(&o.stderr));
    }
    let port = free_port()?;
    let mut args =
        vec!["serve".to_owned(), "--listen".into(), format!("127.0.0.1:{port}"), "--insecure-cookies".into()];
    if per_command {
        args.push("--commit-per-command".into());
    }
    let child = Command::new(kebao)
        .args(&args)
        .env("KEBAO_DATABASE_URL", url)
        .env("KEBAO_SIGNING_KEY", key)
        .env("KEBAO_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting kebao serve")?;
    let server = Server { child, base: format!("http://127.0.0.1:{port}") };
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if t0.elapsed() > Duration::from_secs(60) {
            bail!("the server did not start");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(server)
}

/// Requests per second and latency percentiles of one closed-loop run.
struct Run {
    ok: usize,
    failed: usize,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn closed_loop(
    clients: usize,
    seconds: u64,
    make: impl Fn() -> reqwest::RequestBuilder + Clone + Send + 'static,
    accept: fn(u16, &Value) -> bool,
) -> Run {
    let until = Instant::now() + Duration::from_secs(seconds);
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut failed) = (Vec::new(), 0usize);
            while Instant::now() < until {
                let t = Instant::now();
                let r = make().send().await;
                let ok = match r {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let body: Value = r.json().await.unwrap_or(Value::Null);
                        accept(status, &body)
                    }
                    Err(_) => false,
                };
                if ok {
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                } else {
                    failed += 1;
                }
            }
            (lat, failed)
        }));
    }
    let (mut all, mut failed) = (Vec::new(), 0);
    for t in tasks {
        if let Ok((l, f)) = t.await {
            all.extend(l);
            failed += f;
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        let i = ((all.len() as f64 * p).ceil() as usize).saturating_sub(1);
        all.get(i).copied().unwrap_or(f64::NAN)
    };
    Run { ok: all.len(), failed, per_sec: all.len() as f64 / secs, p50_ms: pct(0.50), p99_ms: pct(0.99) }
}

async fn group_counts(http: &reqwest::Client, base: &str) -> (f64, f64) {
    let text = match http.get(format!("{base}/metrics")).send().await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    let read = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse::<f64>().ok()))
            .unwrap_or(f64::NAN)
    };
    (read("kebao_group_commands_total "), read("kebao_group_commits_total "))
}

async fn measure(args: &Args, label: &str, url: &str, per_command: bool) -> Result<()> {
    let key = std::env::temp_dir().join(format!("kebao-load-{}.key", std::process::id()));
    let server = start(&args.kebao, url, &key.display().to_string(), per_command)?;
    let base = server.base.clone();
    let http = reqwest::Client::builder().pool_max_idle_per_host(128).build()?;
    let login = json!({"username": "ent.admin", "password": kebao_sim::DEMO_PASSWORD, "name": "load bench"});
    let r = http.post(format!("{base}/api/v1/auth/token")).json(&login).send().await?;
    let token = r.json::<Value>().await?.get("token").and_then(Value::as_str).context("no token")?.to_owned();
    let today = time::OffsetDateTime::now_utc().date() + time::Duration::days(1);
    let apply_body = json!({"quote": {"limit_yuan": "500000"}, "start_date": today.to_string()});
    let products: Value = http
        .get(format!("{base}/api/v1/products?per_page=100"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let mut chosen = None;
    for p in products.get("items").and_then(Value::as_array).into_iter().flatten() {
        let id = p.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let r = http
            .post(format!("{base}/api/v1/products/{id}/apply"))
            .bearer_auth(&token)
            .json(&apply_body)
            .send()
            .await?;
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if status == 201 && body.get("status").and_then(Value::as_str) == Some("bound") {
            chosen = Some(id);
            break;
        }
    }
    let Some(product) = chosen else { bail!("no demo product binds ent.admin's application at once") };
    for &n in &args.clients {
        let (h, b, t) = (http.clone(), base.clone(), token.clone());
        let pid = product.clone();
        let quote = closed_loop(
            n,
            args.seconds,
            move || {
                h.post(format!("{b}/api/v1/products/{pid}/quote"))
                    .bearer_auth(&t)
                    .json(&json!({"limit_yuan": "500000"}))
            },
            |s, _| s == 200,
        )
        .await;
        let (c0, k0) = group_counts(&http, &base).await;
        let (h, b, t, body) = (http.clone(), base.clone(), token.clone(), apply_body.clone());
        let pid = product.clone();
        let bind = closed_loop(
            n,
            args.seconds,
            move || h.post(format!("{b}/api/v1/products/{pid}/apply")).bearer_auth(&t).json(&body),
            |s, v| s == 201 && v.get("status").and_then(Value::as_str) == Some("bound"),
        )
        .await;
        let (c1, k1) = group_counts(&http, &base).await;
        let per_commit =
            if (k1 - k0) > 0.0 { format!("{:.1}", (c1 - c0) / (k1 - k0)) } else { "1 (own commit)".into() };
        println!(
            "| {label} | {n} | {:.0} | {:.2} | {:.2} | {} | {:.0} | {:.2} | {:.2} | {} | {per_commit} |",
            quote.per_sec,
            quote.p50_ms,
            quote.p99_ms,
            quote.failed,
            bind.per_sec,
            bind.p50_ms,
            bind.p99_ms,
            bind.failed
        );
        let _ = (quote.ok, bind.ok);
    }
    drop(server);
    let _ = std::fs::remove_file(&key);
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    println!("| store | clients | quotes/s | quote p50 (ms) | quote p99 (ms) | quote errors | binds/s | bind p50 (ms) | bind p99 (ms) | bind errors | commands per commit |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let dir = tempfile::tempdir()?;
    for (store, label, per_command) in [
        ("sqlite-group", "SQLite, group commit", false),
        ("sqlite-per-command", "SQLite, commit per command", true),
    ] {
        if !args.stores.iter().any(|s| s == store) {
            continue;
        }
        let url = format!("sqlite://{}", dir.path().join(format!("load-{per_command}.db")).display());
        measure(&args, label, &url, per_command).await?;
    }
    if let Some(admin) = args.postgres.as_ref().filter(|_| args.stores.iter().any(|s| s == "postgres")) {
        sqlx::any::install_default_drivers();
        let name = format!("kebao_load_{}", std::process::id());
        let pool = sqlx::AnyPool::connect(admin).await?;
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await?;
        let (base, _) = admin.rsplit_once('/').context("a PostgreSQL URL with a database")?;
        let url = format!("{base}/{name}");
        let r = measure(&args, "PostgreSQL 15", &url, false).await;
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&pool).await;
        r?;
    }
    Ok(())
}
