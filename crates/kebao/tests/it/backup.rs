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

#[test]
fn backup_while_serving_restores_and_verifies_postgres() {
    let Some(admin) = std::env::var("KEBAO_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) else {
        assert!(
            std::env::var_os("KEBAO_TEST_REQUIRE_POSTGRES").is_none(),
            "KEBAO_TEST_REQUIRE_POSTGRES is set but KEBAO_TEST_POSTGRES_URL is not"
        );
        eprintln!("KEBAO_TEST_POSTGRES_URL not set: PostgreSQL variant not run");
        return;
    };
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
