//! The demo zone end to end against a bare loop (issue 17).
//!
//! Kebao's side is the release binary run as a user would: `kebao demo --no-serve
//! --enterprises N --years Y` on a fresh database (process start, migrations, the zone's
//! import, Y years of generated activity replayed command by command through the service —
//! authorisation, rules, one hash-chained event each, ledger transfers —, the showcase).
//! The anchor is a bare loop that writes the same rows into a freshly migrated database of the
//! same backend: every row of every table the demo wrote (events, ledger transfers and the
//! full-text index included), read back from Kebao's database beforehand, inserted one by
//! one with plain prepared `INSERT`s in the original order and committed in as many batches
//! as the demo had simulated days, at the same durability, with no validation,
//! authorisation, hashing or foreign-key checks. It writes each row's final state once: the
//! updates Kebao made on the way (an application becoming a policy, a claim moving through
//! its steps, the head of the log) are not repeated, so the anchor does less than the demo.
//!
//! ```sh
//! cargo build --release -p kebao -p kebao-bench
//! target/release/demo-bench --enterprises 20000 --postgres postgres://postgres@127.0.0.1:5432/postgres
//! ```

use anyhow::{bail, Context, Result};
use clap::Parser;
use sqlx::any::AnyTypeInfoKind;
use sqlx::{AnyConnection, Column, Connection, Row, ValueRef};
use std::process::Command;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    /// The kebao binary (a release build).
    #[arg(long, default_value = "target/release/kebao")]
    kebao: String,
    #[arg(long, default_value_t = 20_000)]
    enterprises: usize,
    #[arg(long, default_value_t = 3)]
    years: u32,
    /// A PostgreSQL server to run on too (fresh databases are created and dropped).
    #[arg(long)]
    postgres: Option<String>,
    /// Skip SQLite.
    #[arg(long)]
    no_sqlite: bool,
}

/// One stored value, typed as the database gave it.
#[derive(Clone)]
enum Val {
    Null(AnyTypeInfoKind),
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

struct Table {
    name: String,
    columns: Vec<String>,
    rows: Vec<Vec<Val>>,
}

async fn tables(conn: &mut AnyConnection, postgres: bool) -> Result<Vec<(String, Vec<String>)>> {
    let mut out = Vec::new();
    if postgres {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT LIKE '\\_sqlx%' ORDER BY c.oid",
        )
        .fetch_all(&mut *conn)
        .await?;
        for t in names {
            let cols: Vec<String> = sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' \
                 AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position",
            )
            .bind(&t)
            .fetch_all(&mut *conn)
            .await?;
            out.push((t, cols));
        }
    } else {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             AND name NOT LIKE '\\_sqlx%' ESCAPE '\\' AND name NOT LIKE 'product\\_search\\_%' ESCAPE '\\' ORDER BY rowid",
        )
        .fetch_all(&mut *conn)
        .await?;
        for t in names {
            let rows = sqlx::query(&format!("PRAGMA table_info({t})")).fetch_all(&mut *conn).await?;
            let cols = rows.iter().map(|r| r.try_get::<String, _>("name")).collect::<Result<Vec<_>, _>>()?;
            out.push((t, cols));
        }
    }
    Ok(out)
}

async fn read_all(url: &str, postgres: bool) -> Result<Vec<Table>> {
    let mut conn = AnyConnection::connect(url).await?;
    let mut out = Vec::new();
    for (name, columns) in tables(&mut conn, postgres).await? {
        let order = if postgres { "ctid" } else { "rowid" };
        let order =
            if name == "product_search" && !postgres { String::new() } else { format!(" ORDER BY {order}") };
        let sql = format!("SELECT {} FROM {name}{order}", columns.join(", "));
        let rows = sqlx::query(&sql).fetch_all(&mut conn).await?;
        let mut vals = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut v = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                let raw = r.try_get_raw(i)?;
                let is_null = raw.is_null();
                // A NULL's own type says nothing on PostgreSQL: the column's does.
                let kind = if is_null {
                    r.columns().get(i).map_or(AnyTypeInfoKind::Null, |c| c.type_info().kind())
                } else {
                    raw.type_info().kind()
                };
                v.push(if is_null {
                    Val::Null(kind)
                } else {
                    match kind {
                        AnyTypeInfoKind::Bool => Val::Int(i64::from(r.try_get::<bool, _>(i)?)),
                        AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt => {
                            Val::Int(r.try_get::<i64, _>(i)?)
                        }
                        AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => Val::Real(r.try_get::<f64, _>(i)?),
                        AnyTypeInfoKind::Text => Val::Text(r.try_get::<String, _>(i)?),
                        AnyTypeInfoKind::Blob => Val::Blob(r.try_get::<Vec<u8>, _>(i)?),
                        AnyTypeInfoKind::Null => Val::Null(kind),
                    }
                });
            }
            vals.push(v);
        }
        out.push(Table { name, columns, rows: vals });
    }
    conn.close().await?;
    Ok(out)
}

/// Inserts every row into the freshly migrated database at `url`, in `batches` commits.
async fn bare_loop(url: &str, postgres: bool, data: &[Table], batches: usize) -> Result<(f64, usize)> {
    let mut conn = AnyConnection::connect(url).await?;
    if postgres {
        // No foreign-key checks or triggers (superuser), as for SQLite below.
        sqlx::query("SET session_replication_role = replica").execute(&mut conn).await?;
    } else {
        for p in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = OFF"] {
            sqlx::query(p).execute(&mut conn).await?;
        }
    }
    // What the migrations put in (the head row of the log …) is replaced by the demo's rows.
    for t in data {
        sqlx::query(&format!("DELETE FROM {}", t.name)).execute(&mut conn).await?;
    }
    let total: usize = data.iter().map(|t| t.rows.len()).sum();
    let per_batch = total.div_ceil(batches.max(1)).max(1);
    let started = Instant::now();
    let mut in_batch = 0;
    let mut tx = conn.begin().await?;
    for t in data {
        let marks: Vec<String> = (1..=t.columns.len()).map(|i| format!("${i}")).collect();
        let sql = format!("INSERT INTO {} ({}) VALUES ({})", t.name, t.columns.join(", "), marks.join(", "));
        for row in &t.rows {
            let mut q = sqlx::query(&sql);
            for v in row {
                q = match v {
                    Val::Int(i) => q.bind(*i),
                    Val::Real(f) => q.bind(*f),
                    Val::Text(s) => q.bind(s.as_str()),
                    Val::Blob(b) => q.bind(b.as_slice()),
                    Val::Null(AnyTypeInfoKind::Blob) => q.bind(None::<Vec<u8>>),
                    Val::Null(AnyTypeInfoKind::Text) => q.bind(None::<String>),
                    Val::Null(AnyTypeInfoKind::Real | AnyTypeInfoKind::Double) => q.bind(None::<f64>),
                    Val::Null(_) if postgres => q.bind(None::<i64>),
                    Val::Null(_) => q.bind(None::<String>),
                };
            }
            q.execute(&mut *tx).await.with_context(|| format!("inserting into {}", t.name))?;
            in_batch += 1;
            if in_batch == per_batch {
                tx.commit().await?;
                tx = conn.begin().await?;
                in_batch = 0;
            }
        }
    }
    tx.commit().await?;
    let secs = started.elapsed().as_secs_f64();
    conn.close().await?;
    Ok((secs, total))
}

fn kebao(args: &Args, sub: &[&str], url: &str, key: &str) -> Result<String> {
    let o = Command::new(&args.kebao)
        .args(sub)
        .args(["--database", url])
        .env("KEBAO_SIGNING_KEY", key)
        .env("KEBAO_LOG", "warn")
        .output()
        .with_context(|| format!("running {}", args.kebao))?;
    if !o.status.success() {
        bail!("kebao {sub:?} failed: {}", String::from_utf8_lossy(&o.stderr));
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// `(commands, seconds)` from the demo's "demo activity: … N commands in S s" line.
fn activity(out: &str) -> Option<(u64, f64)> {
    let line = out.lines().find(|l| l.starts_with("demo activity:"))?;
    let (_, rest) = line.split_once(" years, ")?;
    let mut words = rest.split_whitespace();
    let n = words.next()?.parse().ok()?;
    let _ = words.next()?; // "commands"
    let _ = words.next()?; // "in"
    let s = words.next()?.parse().ok()?;
    Some((n, s))
}

async fn run(args: &Args, label: &str, demo_url: &str, bare_url: &str, postgres: bool) -> Result<()> {
    let key = std::env::temp_dir().join(format!("kebao-demo-bench-{}.key", std::process::id()));
    let key = key.display().to_string();
    let started = Instant::now();
    let out = kebao(
        args,
        &[
            "demo",
            "--no-serve",
            "--enterprises",
            &args.enterprises.to_string(),
            "--years",
            &args.years.to_string(),
        ],
        demo_url,
        &key,
    )?;
    let whole = started.elapsed().as_secs_f64();
    let (commands, activity_secs) = activity(&out).unwrap_or((0, f64::NAN));
    kebao(args, &["migrate"], bare_url, &key)?;
    let data = read_all(demo_url, postgres).await?;
    let days = usize::try_from(args.years).unwrap_or(0) * 365;
    let (bare, rows) = bare_loop(bare_url, postgres, &data, days.max(1)).await?;
    println!(
        "| {label} | {} | {} | {commands} | {activity_secs:.1} | {:.0} | {whole:.1} | {rows} | {bare:.1} | {:.0} | {:.0} % |",
        args.enterprises,
        args.years,
        commands as f64 / activity_secs,
        rows as f64 / bare,
        100.0 * bare / whole
    );
    let _ = std::fs::remove_file(&key);
    let _ = std::fs::remove_file(format!("{key}.heads"));
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    sqlx::any::install_default_drivers();
    println!("| store | enterprises | years | commands | activity (s) | commands/s | kebao demo (s) | rows | bare loop (s) | bare rows/s | bare ÷ kebao |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    if !args.no_sqlite {
        let dir = tempfile::tempdir()?;
        let demo = format!("sqlite://{}", dir.path().join("demo.db").display());
        let bare = format!("sqlite://{}?mode=rwc", dir.path().join("bare.db").display());
        run(&args, "SQLite", &demo, &bare, false).await?;
    }
    if let Some(admin) = &args.postgres {
        let (base, _) = admin.rsplit_once('/').context("a PostgreSQL URL with a database")?;
        let pool = sqlx::AnyPool::connect(admin).await?;
        let (a, b) =
            (format!("kebao_demo_{}", std::process::id()), format!("kebao_bare_{}", std::process::id()));
        for n in [&a, &b] {
            sqlx::query(&format!("CREATE DATABASE {n}")).execute(&pool).await?;
        }
        let r = run(&args, "PostgreSQL 15", &format!("{base}/{a}"), &format!("{base}/{b}"), true).await;
        for n in [&a, &b] {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {n} WITH (FORCE)")).execute(&pool).await;
        }
        r?;
    }
    Ok(())
}
