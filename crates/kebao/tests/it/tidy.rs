//! Invariants of the code base, checked mechanically.

use std::process::Command;

fn cargo_tree(package: &str) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--offline", "-e", "normal", "--prefix", "none", "-p", package])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_pure_core_does_no_io() {
    for package in ["kebao-domain", "kebao-sim", "kebao-glm", "kebao-composite", "kebao-scorecard"] {
        let tree = cargo_tree(package);
        for forbidden in ["tokio ", "sqlx ", "axum ", "hyper ", "reqwest "] {
            assert!(
                !tree.lines().any(|l| l.starts_with(forbidden)),
                "{package} depends on {forbidden}:\n{tree}"
            );
        }
    }
}

#[test]
fn only_store_writes_sql() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for krate in ["domain", "service", "web", "sim", "kebao"] {
        let dir = root.join(krate).join("src");
        for entry in walk(&dir) {
            let text = std::fs::read_to_string(&entry).unwrap();
            for needle in ["sqlx::query", "INSERT INTO", "UPDATE organisations", "DELETE FROM"] {
                assert!(
                    !text.contains(needle),
                    "{} contains `{needle}`: SQL belongs in the store",
                    entry.display()
                );
            }
        }
    }
}

/// One authorisation path: who may do what is decided by Cedar in `service/src/authz.rs`.
/// No other service file refuses by hand or tests a user's roles.
#[test]
fn only_authz_decides_who_may() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("service").join("src");
    let mut found = Vec::new();
    for entry in walk(&dir) {
        if entry.file_name().is_some_and(|n| n == "authz.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&entry).unwrap();
        for (n, line) in text.lines().enumerate() {
            for needle in ["ServiceError::Forbidden", ".has(Role::"] {
                if line.contains(needle) {
                    found.push(format!("{}:{}: `{needle}`", entry.display(), n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "authorisation belongs in service/src/authz.rs (a Cedar policy and `require`):\n{}",
        found.join("\n")
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}
