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

/// Files outside `crates/store` and `bench/` that may hold SQL in a string literal, each with
/// the reason. Keep this list short: a new entry needs a reason as good as these.
const SQL_ALLOWED: &[(&str, &str)] = &[
    // Simulates an attacker who edits the database behind the service's back, to show that
    // the ledger check finds a consistent edit.
    ("crates/service/tests/it/policies.rs", "tampers with the database on purpose"),
    // Deletes signed tree heads behind the binary's back, to show the verifier notices.
    ("crates/kebao/tests/it/cli.rs", "tampers with the database on purpose"),
    // Edit, delete and reorder events and the signed head behind the service's back, to show
    // that the audit chain's verification finds each tampering.
    ("crates/service/tests/it/audit.rs", "tampers with the event log on purpose"),
    // Edits a consent event's payload behind the service's back, to show replay finds it.
    ("crates/service/tests/it/consent.rs", "tampers with the event log on purpose"),
    // Edits a ledger balance behind the ledger's back, to show verification finds it.
    ("crates/service/tests/it/ledger.rs", "tampers with the ledger on purpose"),
    // Reads what a killed process left in the ledger table, below every layer it tests.
    ("crates/kebao/tests/it/crash.rs", "inspects the database after a crash"),
    // Writes the document tables of migration 0013 (which no code writes any more) below
    // every layer, to show that migration 0014 moves them into `attachments`.
    ("crates/service/tests/it/attachments.rs", "writes a database at an old migration on purpose"),
    // Reads every text the demo's database holds as data, below every layer, to tell data
    // (which may be in any language) from the page's own words.
    ("crates/kebao/tests/it/walks.rs", "reads the demo's data to tell it from the page's words"),
    // This file: the samples that show the pattern matches.
    ("crates/kebao/tests/it/tidy.rs", "the pattern's own samples"),
];

#[test]
fn only_store_writes_sql() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().unwrap();
    let mut found = Vec::new();
    let mut scanned = 0;
    for entry in walk(&root) {
        let rel = entry.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        if rel.starts_with("crates/store/") || rel.starts_with("bench/") {
            continue;
        }
        scanned += 1;
        if SQL_ALLOWED.iter().any(|(f, _)| *f == rel) {
            continue;
        }
        let text = std::fs::read_to_string(&entry).unwrap();
        for lit in string_literals(&text) {
            if let Some(stmt) = sql_statement(&lit) {
                found.push(format!("{rel}: `{stmt}` in {lit:?}"));
            }
        }
        if text.contains("sqlx::query") && !rel.contains("/tests/") {
            found.push(format!("{rel}: calls `sqlx::query`"));
        }
    }
    assert!(scanned > 100, "the walk found only {scanned} files: is the root right?");
    assert!(found.is_empty(), "SQL belongs in crates/store:\n{}", found.join("\n"));
}

/// The first SQL statement keyword sequence in `s` (upper case, whole words): `SELECT … FROM`,
/// `INSERT INTO`, `UPDATE … SET`, `DELETE FROM`, `CREATE TABLE`.
fn sql_statement(s: &str) -> Option<&'static str> {
    let words: Vec<&str> =
        s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
    let next_is = |i: usize, w: &str| words.get(i + 1) == Some(&w);
    for (i, w) in words.iter().enumerate() {
        match *w {
            "SELECT" if words[i + 1..].contains(&"FROM") => return Some("SELECT … FROM"),
            "INSERT" if next_is(i, "INTO") => return Some("INSERT INTO"),
            "UPDATE" if words.get(i + 2) == Some(&"SET") => return Some("UPDATE … SET"),
            "DELETE" if next_is(i, "FROM") => return Some("DELETE FROM"),
            "CREATE" if next_is(i, "TABLE") => return Some("CREATE TABLE"),
            _ => {}
        }
    }
    None
}

/// The contents of every string literal in Rust source (plain, byte and raw strings; comments
/// and character literals are skipped). Escapes are turned into spaces or their character.
fn string_literals(src: &str) -> Vec<String> {
    let c: Vec<char> = src.chars().collect();
    let ident = |i: usize| i > 0 && c.get(i - 1).is_some_and(|p| p.is_alphanumeric() || *p == '_');
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '/' if c.get(i + 1) == Some(&'/') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if c.get(i + 1) == Some(&'*') => {
                let mut depth = 0;
                while i < c.len() {
                    if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 2;
                    } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            '\'' => {
                // A character literal, or a lifetime / label.
                if c.get(i + 1) == Some(&'\\') {
                    i += 2;
                    while i < c.len() && c[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                } else if c.get(i + 2) == Some(&'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            'r' if !ident(i) || (i >= 1 && c[i - 1] == 'b' && !ident(i - 1)) => {
                let mut j = i + 1;
                while c.get(j) == Some(&'#') {
                    j += 1;
                }
                if c.get(j) != Some(&'"') {
                    i += 1;
                    continue;
                }
                let hashes = j - i - 1;
                let body_start = j + 1;
                let mut k = body_start;
                let end = loop {
                    if k >= c.len() {
                        break c.len();
                    }
                    if c[k] == '"' && (1..=hashes).all(|h| c.get(k + h) == Some(&'#')) {
                        break k;
                    }
                    k += 1;
                };
                out.push(c[body_start..end].iter().collect());
                i = end + 1 + hashes;
            }
            '"' => {
                let mut lit = String::new();
                i += 1;
                while i < c.len() && c[i] != '"' {
                    if c[i] == '\\' {
                        match c.get(i + 1) {
                            Some('\n') => {
                                // A line continuation: the break and the next line's indent.
                                i += 2;
                                while i < c.len() && c[i].is_whitespace() {
                                    i += 1;
                                }
                                lit.push(' ');
                                continue;
                            }
                            Some('n' | 't' | 'r') => lit.push(' '),
                            Some(x) => lit.push(*x),
                            None => {}
                        }
                        i += 2;
                    } else {
                        lit.push(c[i]);
                        i += 1;
                    }
                }
                out.push(lit);
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

#[test]
fn the_sql_pattern_finds_statements_in_literals() {
    let src = r##"
        // DELETE FROM comments is prose, not a literal.
        let a = 'x'; let b = '"'; fn f<'a>(s: &'a str) {}
        let q = "SELECT id, name \
                 FROM organisations WHERE id = $1";
        let raw = r#"INSERT INTO users (id) VALUES ($1)"#;
        let u = format!("UPDATE   {table} SET x = 1");
        let d = "DELETE FROM sessions";
        let t = "CREATE TABLE t (id TEXT)";
        let prose = "Select a product from the list; update the settings; 删除 FROM";
    "##;
    let found: Vec<Option<&str>> = string_literals(src).iter().map(|l| sql_statement(l)).collect();
    assert_eq!(
        found,
        vec![
            Some("SELECT … FROM"),
            Some("INSERT INTO"),
            Some("UPDATE … SET"),
            Some("DELETE FROM"),
            Some("CREATE TABLE"),
            None,
        ]
    );
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

/// Pages offer what the service says the actor may do (`abilities`, `may_on`, the
/// `*_actions` of each capability), never what the page works out from roles.
#[test]
fn pages_ask_what_the_actor_may_do() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("web").join("src");
    let mut found = Vec::new();
    for entry in walk(&root) {
        let text = std::fs::read_to_string(&entry).unwrap();
        for (n, line) in text.lines().enumerate() {
            for needle in [".has(Role::", "has_statutory_duty", ".is_admin()"] {
                if line.contains(needle) {
                    found.push(format!("{}:{}: `{needle}`", entry.display(), n + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "a page decides from roles:\n{}", found.join("\n"));
}

/// The web crate sees the service and the domain only: it neither depends on the store nor
/// reaches it through the service.
#[test]
fn web_depends_on_service_and_domain_only() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-e",
            "normal,dev,build",
            "--depth",
            "1",
            "--prefix",
            "none",
            "-p",
            "kebao-web",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8(out.stdout).unwrap();
    let ours: Vec<&str> = tree.lines().filter(|l| l.starts_with("kebao-")).collect();
    assert!(
        ours.iter().all(|l| ["kebao-web ", "kebao-service ", "kebao-domain ", "kebao-sim "]
            .iter()
            .any(|p| l.starts_with(p))),
        "kebao-web may depend on kebao-service and kebao-domain (and kebao-sim for its tests) only:\n{}",
        ours.join("\n")
    );
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("web");
    let mut found = Vec::new();
    for entry in walk(&root) {
        let text = std::fs::read_to_string(&entry).unwrap();
        for (n, line) in text.lines().enumerate() {
            for needle in ["kebao_store", "kebao_service::store"] {
                if line.contains(needle) {
                    found.push(format!("{}:{}: `{needle}`", entry.display(), n + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "the web reaches the store:\n{}", found.join("\n"));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if p.is_dir() && (name.starts_with('.') || name == "target" || name == "node_modules") {
            continue;
        }
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// The binary writes standard output through `out.rs` only: `println!` panics on a closed
/// pipe (`kebao … | head -n 1`), the `out` writer ends the output quietly.
#[test]
fn the_binary_prints_through_one_writer() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for entry in walk(&root) {
        if entry.file_name().is_some_and(|n| n == "out.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&entry).unwrap();
        for (n, line) in text.lines().enumerate() {
            for needle in ["println!", "print!", "io::stdout()"] {
                // `eprintln!` and `eprint!` write to standard error, which may stay.
                let hit = line.match_indices(needle).any(|(i, _)| !line[..i].ends_with('e'));
                if hit {
                    found.push(format!("{}:{}: `{needle}`", entry.display(), n + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "print through `outln!` (crates/kebao/src/out.rs):\n{}", found.join("\n"));
}

/// Every stored column that can hold a name, a contact, an address or a person's own words is
/// classed in `kebao_domain::privacy::STORED_FIELDS` (issue 18.4): a new one fails here until
/// it is.
#[test]
fn every_stored_field_that_may_name_a_person_is_classified() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("store")
        .join("migrations")
        .join("sqlite");
    let word = |c: &str| {
        [
            "name",
            "phone",
            "contact",
            "address",
            "person",
            "signer",
            "email",
            "mobile",
            "detail",
            "details",
            "description",
            "answer",
            "note",
            "reason",
            "complaint",
            "title",
            "fields",
        ]
        .iter()
        .any(|w| c == *w || c.ends_with(&format!("_{w}")))
    };
    let mut files: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut columns = std::collections::BTreeSet::new();
    for f in files {
        let sql = std::fs::read_to_string(&f).unwrap();
        let mut table: Option<String> = None;
        for line in sql.lines() {
            let t = line.trim();
            let up = t.to_ascii_uppercase();
            if let Some(rest) = up.strip_prefix("CREATE TABLE ") {
                table = rest.split_whitespace().next().map(|n| n.to_ascii_lowercase());
                continue;
            }
            if t.starts_with(");") {
                table = None;
                continue;
            }
            if let Some(rest) = up.strip_prefix("DROP TABLE ") {
                let gone = format!("{}.", rest.trim_end_matches(';').trim().to_ascii_lowercase());
                columns.retain(|c: &String| !c.starts_with(&gone));
                continue;
            }
            if up.starts_with("ALTER TABLE ") && up.contains(" RENAME TO ") {
                // A table rebuilt under a temporary name and renamed back.
                let w: Vec<String> =
                    t.split_whitespace().map(|w| w.trim_end_matches(';').to_ascii_lowercase()).collect();
                if let (Some(from), Some(to)) = (w.get(2), w.get(5)) {
                    let old: Vec<String> =
                        columns.iter().filter(|c| c.starts_with(&format!("{from}."))).cloned().collect();
                    for c in old {
                        columns.remove(&c);
                        columns.insert(c.replacen(from.as_str(), to, 1));
                    }
                }
                continue;
            }
            if up.starts_with("ALTER TABLE ") && up.contains(" ADD COLUMN ") {
                let w: Vec<&str> = t.split_whitespace().collect();
                if let (Some(tab), Some(col), Some(ty)) = (w.get(2), w.get(5), w.get(6)) {
                    if ty.to_ascii_uppercase().starts_with("TEXT") && word(col) {
                        columns.insert(format!("{tab}.{col}"));
                    }
                }
                continue;
            }
            if let Some(tab) = &table {
                let w: Vec<&str> = t.split_whitespace().collect();
                if let (Some(col), Some(ty)) = (w.first(), w.get(1)) {
                    if ty.to_ascii_uppercase().starts_with("TEXT") && word(col) {
                        columns.insert(format!("{tab}.{col}"));
                    }
                }
            }
        }
    }
    let classed: std::collections::BTreeSet<&str> =
        kebao_domain::privacy::STORED_FIELDS.iter().map(|f| f.0).collect();
    let missing: Vec<&String> = columns.iter().filter(|c| !classed.contains(c.as_str())).collect();
    assert!(
        missing.is_empty(),
        "classify these columns in kebao_domain::privacy::STORED_FIELDS: {missing:?}"
    );
    assert!(columns.len() > 30, "the migrations were read: {columns:?}");
}
