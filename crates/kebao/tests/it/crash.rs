//! A crash in the middle of writes: `kebao serve` killed with SIGKILL while eight clients
//! record premium payments over HTTP at once (on SQLite their commands share group commits).
//! After the restart every acknowledged payment is in the ledger and both verifiers pass.

use crate::cli::{kebao, key_for, stderr, stdout};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One HTTP/1.1 request; the status and the body, or `None` if the connection broke
/// (the server died before it answered: not acknowledged).
pub(crate) fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) fn serve(db: &str, port: u16) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_kebao"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--insecure-cookies"])
        .env("KEBAO_DATABASE_URL", db)
        .env("KEBAO_LOG", "warn")
        .env("KEBAO_SIGNING_KEY", key_for(db))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(60), "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

pub(crate) fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// The demo underwriter's API token, and one of the insurer's policies in force with more
/// than 100 yuan of premium still due.
pub(crate) fn underwriter_and_policy_with_premium_due(port: u16) -> (String, String) {
    let login = format!(
        r#"{{"username":"ins.underwriter","password":"{}","name":"crash test"}}"#,
        kebao_sim::DEMO_PASSWORD
    );
    let (status, body) = http(port, "POST", "/api/v1/auth/token", None, &login).unwrap();
    assert_eq!(status, 201, "{body}");
    let token = json(&body)["token"].as_str().unwrap().to_owned();
    // A policy with premium still due: payments of one fen each, a new reference each.
    let (_, body) = http(port, "GET", "/api/v1/policies", Some(&token), "").unwrap();
    let policy = json(&body)
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .find(|id| {
            let (_, b) = http(port, "GET", &format!("/api/v1/policies/{id}"), Some(&token), "").unwrap();
            let p = json(&b);
            let yuan = |k: &str| p[k].as_str().unwrap_or("0").parse::<f64>().unwrap_or(0.0);
            p["status"] == "in_force" && yuan("premium_yuan") - yuan("paid_yuan") > 100.0
        })
        .expect("a demo policy with premium due");
    (token, policy)
}

/// The scenario on one database (created empty by the caller).
fn payments_survive_a_kill(db: &str) {
    let o = kebao(db, &["demo", "--enterprises", "30", "--seed", "7", "--no-serve", "--database", db]);
    assert!(o.status.success(), "{}", stderr(&o));
    let port = free_port();
    let mut server = serve(db, port);
    let (token, policy) = underwriter_and_policy_with_premium_due(port);
    let path = format!("/api/v1/policies/{policy}/premium-payments");
    // The writers run until the server dies; the test kills it after a while.
    const WRITERS: usize = 8;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (token, path) = (token.clone(), path.clone());
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                for i in 0usize.. {
                    let reference = format!("KILL-{w}-{i:05}");
                    let body = format!(r#"{{"amount_yuan":"0.01","reference":"{reference}"}}"#);
                    match http(port, "POST", &path, Some(&token), &body) {
                        Some((200, _)) => acknowledged.push(reference),
                        Some((status, b)) => panic!("payment {reference}: {status} {b}"),
                        None => return (acknowledged, i + 1),
                    }
                }
                unreachable!()
            })
        })
        .collect();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1500) {
        std::thread::sleep(Duration::from_millis(50));
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    let mut acknowledged = Vec::new();
    let mut attempted = 0;
    for w in writers {
        let (a, n) = w.join().unwrap();
        acknowledged.extend(a);
        attempted += n;
    }
    assert!(acknowledged.len() >= 3 * WRITERS, "only {} payments before the kill", acknowledged.len());

    // Restarted: the ledger and the log verify, and every acknowledged payment is there.
    let o = kebao(db, &["ledger", "verify"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let o = kebao(db, &["audit", "verify"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let stored: Vec<String> = rt.block_on(async {
        let store = kebao_store::Store::open(db, &kebao_store::OpenOptions::default()).await.unwrap();
        let mut tx = store.begin_read().await.unwrap();
        let rows: Vec<String> = sqlx::query_scalar("SELECT id FROM ledger_transfers WHERE id LIKE $1")
            .bind(format!("premium-paid:{policy}:KILL-%"))
            .fetch_all(tx.conn())
            .await
            .unwrap();
        drop(tx);
        store.close().await;
        rows
    });
    for r in &acknowledged {
        assert!(stored.contains(&format!("premium-paid:{policy}:{r}")), "acknowledged payment {r} was lost");
    }
    // At most the payments in flight at the kill (one per writer) were stored without an
    // acknowledgement.
    assert!(stored.len() <= attempted && stored.len() >= acknowledged.len(), "{} {attempted}", stored.len());

    // And the platform writes again.
    let mut server = serve(db, port);
    let body = r#"{"amount_yuan":"0.01","reference":"AFTER-RESTART"}"#;
    let (status, b) = http(port, "POST", &path, Some(&token), body).unwrap();
    assert_eq!(status, 200, "{b}");
    server.kill().unwrap();
    server.wait().unwrap();
    let o = kebao(db, &["ledger", "verify"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn kill_9_mid_writes_loses_nothing_acknowledged_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("crash.db").display());
    payments_survive_a_kill(&db);
}

#[test]
fn kill_9_mid_writes_loses_nothing_acknowledged_postgres() {
    let Some(admin) = std::env::var("KEBAO_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("KEBAO_TEST_POSTGRES_URL not set: PostgreSQL variant not run");
        return;
    };
    let name = format!("kebao_crash_{}", std::process::id());
    let (base, _) = admin.rsplit_once('/').unwrap();
    let db = format!("{base}/{name}");
    admin_sql(&admin, &format!("CREATE DATABASE {name}"));
    payments_survive_a_kill(&db);
    admin_sql(&admin, &format!("DROP DATABASE {name} WITH (FORCE)"));
}

/// Runs one statement (creating or dropping a test database) on the PostgreSQL server at `admin`.
pub(crate) fn admin_sql(admin: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(admin).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    })
}
