//! `kebao backup` and `kebao restore` on both stores: a backup taken while `kebao serve`
//! records premium payments from four clients, restored into a new database, passes `audit
//! verify` and `ledger verify`; bad targets and files that are not backups are refused and
//! change nothing.

use crate::cli::{kebao, key_for, stderr, stdout};
use crate::crash::{admin_sql, free_port, http, serve, underwriter_and_policy_with_premium_due};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn ok(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}{}", stdout(o), stderr(o));
    stdout(o)
}

fn refused(o: &std::process::Output, says: &str) {
    assert!(!o.status.success() && stderr(o).contains(says), "{}{}", stdout(o), stderr(o));
}

/// `db` holds a demo zone; `fresh` is a new SQLite file or an empty PostgreSQL database;
/// `backup` a path that does not exist yet.
fn backup_while_serving_and_restore(db: &str, fresh: &str, backup: &std::path::Path) {
    let o = kebao(
        db,
        &["demo", "--enterprises", "30", "--years", "1", "--seed", "5", "--no-serve", "--database", db],
    );
    ok(&o);
    let port = free_port();
    let mut server = serve(db, port);
    let (token, policy) = underwriter_and_policy_with_premium_due(port);
    let path = format!("/api/v1/policies/{policy}/premium-payments");
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (token, path, stop) = (token.clone(), path.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let body = format!(r#"{{"amount_yuan":"0.01","reference":"BACKUP-{w}-{n:05}"}}"#);
                    let (status, b) = http(port, "POST", &path, Some(&token), &body).unwrap();
                    assert_eq!(status, 200, "{b}");
                    n += 1;
                }
                n
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let b = backup.to_str().unwrap();
    let o = kebao(db, &["backup", "--to", b]);
    stop.store(true, Ordering::Relaxed);
    let written: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(ok(&o).starts_with("backup: "), "{}", stdout(&o));
    assert!(written > 0);
    // Personal and credit data: readable by its owner only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(backup).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the backup is open to others: {mode:o}");
    }
    // A second backup to the same file is refused and leaves the first as it was.
    let before = std::fs::read(backup).unwrap();
    refused(&kebao(db, &["backup", "--to", b]), "exists: a backup is written to a new file");
    assert_eq!(std::fs::read(backup).unwrap(), before);
    // Restoring over the live database is refused.
    let key = key_for(db);
    let key = key.to_str().unwrap();
    refused(&kebao(db, &["restore", "--from", b, "--signing-key", key]), "restore into a new");
    // A file that is not a backup is refused, and the target stays as it was.
    let junk = backup.with_extension("junk");
    std::fs::write(&junk, "not a backup\n").unwrap();
    let o = kebao(fresh, &["restore", "--from", junk.to_str().unwrap(), "--signing-key", key]);
    refused(&o, "not a");
    if let Some(p) = kebao_store::sqlite_path(fresh) {
        assert!(!p.exists(), "a refused restore left {}", p.display());
    }
    // Restored into the fresh database: the chain, the signed heads and the ledger verify,
    // there and again by the verifiers on their own.
    let out = ok(&kebao(fresh, &["restore", "--from", b, "--signing-key", key]));
    assert!(out.contains("every link holds") && out.contains("restored and verified"), "{out}");
    ok(&kebao(fresh, &["audit", "verify", "--signing-key", key]));
    let out = ok(&kebao(fresh, &["ledger", "verify"]));
    assert!(out.contains("every flag holds"), "{out}");
    ok(&kebao(fresh, &["audit", "reconcile"]));
    // The backup is the database as one commit left it: a prefix of the live log.
    let head = |url: &str| ok(&kebao(url, &["audit", "head"])).trim().to_owned();
    let restored = head(fresh);
    let (count, _) = restored.split_once(':').unwrap();
    let o = kebao(db, &["audit", "verify", "--expect-head", &restored]);
    assert!(o.status.success(), "the live log does not extend the backup's head {restored}: {}", stderr(&o));
    assert!(count.parse::<u64>().unwrap() > 0);
    // The restored database is not empty any more: a second restore into it is refused.
    refused(&kebao(fresh, &["restore", "--from", b, "--signing-key", key]), "restore into a new");
}

#[test]
fn backup_while_serving_restores_and_verifies_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("live.db").display());
    let fresh = format!("sqlite://{}", dir.path().join("restored.db").display());
    backup_while_serving_and_restore(&db, &fresh, &dir.path().join("backup.db"));
}

/// A child process killed and reaped when dropped.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The PostgreSQL server the tests may use, or `None` (the variant is skipped) — unless
/// `KEBAO_TEST_REQUIRE_POSTGRES` says it must run.
fn postgres_admin() -> Option<String> {
    let admin = std::env::var("KEBAO_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty());
    if admin.is_none() {
        assert!(
            std::env::var_os("KEBAO_TEST_REQUIRE_POSTGRES").is_none(),
            "KEBAO_TEST_REQUIRE_POSTGRES is set but KEBAO_TEST_POSTGRES_URL is not"
        );
        eprintln!("KEBAO_TEST_POSTGRES_URL not set: PostgreSQL variant not run");
    }
    admin
}

#[test]
fn backup_while_serving_restores_and_verifies_postgres() {
    let Some(admin) = postgres_admin() else { return };
    let (base, _) = admin.rsplit_once('/').unwrap();
    let names =
        [format!("kebao_bk_live_{}", std::process::id()), format!("kebao_bk_new_{}", std::process::id())];
    for n in &names {
        admin_sql(&admin, &format!("CREATE DATABASE {n}"));
    }
    let dir = tempfile::tempdir().unwrap();
    let [live, new] = &names;
    backup_while_serving_and_restore(
        &format!("{base}/{live}"),
        &format!("{base}/{new}"),
        &dir.path().join("backup.dump"),
    );
    for n in &names {
        admin_sql(&admin, &format!("DROP DATABASE {n} WITH (FORCE)"));
    }
}

/// Backups as background jobs: queued from the command line and run by `kebao jobs run`
/// into a directory that keeps the newest N; a second queued backup is refused while one
/// waits; a backup on a runner without a directory fails, saying why; and `kebao serve
/// --backup-dir` queues the nightly backup itself and runs it.
fn backups_as_jobs(db: &str) {
    ok(&kebao(
        db,
        &["demo", "--enterprises", "30", "--years", "0", "--seed", "5", "--no-serve", "--database", db],
    ));
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("backups");
    let to_s = to.to_str().unwrap();
    let ext = if db.starts_with("sqlite:") { ".db" } else { ".dump" };
    let backups = || -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(&to)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        v.retain(|p| p.to_string_lossy().ends_with(ext));
        v.sort();
        v
    };
    assert!(ok(&kebao(db, &["jobs", "start", "backup"])).starts_with("queued "));
    refused(&kebao(db, &["jobs", "start", "backup"]), "already queued");
    refused(&kebao(db, &["jobs", "start", "nonsense"]), "unknown kind of job");
    let out = ok(&kebao(db, &["jobs", "run", "--backup-dir", to_s, "--backup-keep", "1"]));
    assert!(
        out.contains("backup") && out.contains("succeeded") && out.contains("written and checked"),
        "{out}"
    );
    let first = backups();
    assert_eq!(first.len(), 1, "{first:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&first[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the backup is open to others: {mode:o}");
    }
    // The next one replaces it (one kept); the names carry the second they were taken.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    ok(&kebao(db, &["jobs", "start", "backup"]));
    let out = ok(&kebao(db, &["jobs", "run", "--backup-dir", to_s, "--backup-keep", "1"]));
    assert!(out.contains("1 old backup(s) removed"), "{out}");
    let second = backups();
    assert_eq!(second.len(), 1);
    assert_ne!(second, first);
    // A runner without a backup directory fails the job and says why; the exit code says so.
    ok(&kebao(db, &["jobs", "start", "backup"]));
    let o = kebao(db, &["jobs", "run"]);
    assert!(
        !o.status.success() && stdout(&o).contains("failed") && stdout(&o).contains("not set up"),
        "{}",
        stdout(&o)
    );
    // The full audit verification as a job: its own end events included, the log is sound.
    ok(&kebao(db, &["jobs", "start", "audit_verify"]));
    let out = ok(&kebao(db, &["jobs", "run"]));
    assert!(out.contains("sound: every link"), "{out}");
    let listed = ok(&kebao(db, &["jobs", "list"]));
    assert!(listed.matches("backup").count() >= 3, "{listed}");
    ok(&kebao(db, &["audit", "verify"]));
    // The server queues the nightly backup (due at 00:00, so now) and its runner runs it.
    let port = free_port();
    let server = std::process::Command::new(env!("CARGO_BIN_EXE_kebao"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--insecure-cookies"])
        .args(["--backup-dir", to_s, "--backup-at", "00:00", "--backup-keep", "5"])
        .env("KEBAO_DATABASE_URL", db)
        .env("KEBAO_LOG", "warn")
        .env("KEBAO_SIGNING_KEY", crate::cli::key_for(db))
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("serve.log")).unwrap())
        .spawn()
        .unwrap();
    // Stopped when this test ends, also when it fails.
    let server = Killed(server);
    let start = std::time::Instant::now();
    let scheduled = loop {
        let listed = stdout(&kebao(db, &["jobs", "list"]));
        // The scheduler also queues its other daily jobs (retention, loan clocks): wait for
        // the backup itself.
        let backed_up =
            |l: &str| l.contains("kebao scheduler") && l.contains("backup") && l.contains("succeeded");
        if listed.lines().any(backed_up) {
            break listed;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "no scheduled backup ran: {listed}\n{}",
            std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default()
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    drop(server);
    assert_eq!(backups().len(), 2, "{scheduled}");
}

#[test]
fn backups_run_as_jobs_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    backups_as_jobs(&format!("sqlite://{}", dir.path().join("jobs.db").display()));
}

#[test]
fn backups_run_as_jobs_postgres() {
    let Some(admin) = postgres_admin() else { return };
    let (base, _) = admin.rsplit_once('/').unwrap();
    let name = format!("kebao_jobs_{}", std::process::id());
    admin_sql(&admin, &format!("CREATE DATABASE {name}"));
    backups_as_jobs(&format!("{base}/{name}"));
    admin_sql(&admin, &format!("DROP DATABASE {name} WITH (FORCE)"));
}
