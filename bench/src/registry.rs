//! Registry benchmark: `kebao demo --enterprises N` end to end, against a bare loop that
//! inserts the same rows into the same backend at the same durability.
//!
//! Both sides write the same organisations, industry tags, yearly facts and
//! qualifications into the same schema, in one transaction, with `synchronous=FULL`
//! (SQLite) or the server's default `synchronous_commit=on` (PostgreSQL). The bare loop
//! does no validation, no authorisation and no event log, and uses the typed driver
//! with prepared statements; Kebao does all of that through sqlx's `Any` driver.
//! Kebao's side is the release binary run as a user runs it: process start, migrations,
//! generation, validation, import with one hash-chained event per organisation, demo
//! users (argon2) and exit.
//!
//! ```text
//! cargo build --release -p kebao -p kebao-bench
//! target/release/registry-bench --enterprises 100000 [--postgres postgres://postgres@127.0.0.1/postgres]
//! ```

mod pg;
use anyhow::{bail, Context, Result};
use clap::Parser;
use kebao_domain::org::{NewOrganisation, OrgStatus, Qualification, YearlyFacts};
use kebao_domain::IndustryMap;
use pg::pg_database;
use sqlx::{Connection, Executor};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    /// Enterprises in the demo zone.
    #[arg(long, default_value_t = 100_000)]
    enterprises: usize,
    /// Also run on PostgreSQL: an admin URL where databases may be created.
    #[arg(long)]
    postgres: Option<String>,
    /// The kebao binary (default: next to this one).
    #[arg(long)]
    kebao: Option<PathBuf>,
    /// Runs per side; the median is reported.
    #[arg(long, default_value_t = 1)]
    runs: usize,
}

struct Row {
    id: String,
    org: NewOrganisation,
    facts: Vec<YearlyFacts>,
    quals: Vec<(String, Qualification)>,
}

fn rows(n: usize) -> Result<Vec<Row>> {
    let map = IndustryMap::from_toml(include_str!("../../data/catalogue.toml"))?;
    let zone = kebao_sim::generate(&kebao_sim::Options { enterprises: n, ..Default::default() }, &map);
    let mut out = Vec::with_capacity(zone.orgs.len());
    let mut ids = std::collections::HashMap::new();
    for (i, r) in zone.orgs.iter().enumerate() {
        let mut org = NewOrganisation::parse(&r.org, &map).map_err(|e| anyhow::anyhow!("{e}"))?;
        if !r.parent_uscc.is_empty() {
            org.parent_id = ids.get(&r.parent_uscc).cloned();
        }
        let id = format!("bench-{i:08}");
        ids.insert(r.org.uscc.clone(), id.clone());
        let facts = r
            .facts
            .iter()
            .map(YearlyFacts::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let quals = r
            .qualifications
            .iter()
            .enumerate()
            .map(|(k, [a, b, c, d])| Qualification::parse(a, b, c, d).map(|q| (format!("{id}-q{k}"), q)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        out.push(Row { id, org, facts, quals });
    }
    Ok(out)
}

/// The bare loop, generic over the typed connection.
macro_rules! bare_loop {
    ($conn:expr, $rows:expr) => {{
        let mut tx = $conn.begin().await?;
        for r in $rows {
            let o = &r.org;
            sqlx::query("INSERT INTO organisations (id, name, uscc, kind, status, industry_code, lifecycle_stage, founded_on, address, parent_id, created_at_us, updated_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)")
                .bind(&r.id).bind(&o.name).bind(o.uscc.as_str()).bind(o.kind.code()).bind(OrgStatus::Verified.code())
                .bind(o.industry_code.as_ref().map(|c| c.as_str().to_owned())).bind(o.lifecycle_stage.map(|s| s.code()))
                .bind(o.founded_on.map(|d| d.to_string())).bind(o.address.as_deref()).bind(o.parent_id.as_deref()).bind(0i64)
                .execute(&mut *tx).await?;
            for t in &o.zone_industries {
                sqlx::query("INSERT INTO org_industries (org_id, tag) VALUES ($1, $2)").bind(&r.id).bind(t).execute(&mut *tx).await?;
            }
            for f in &r.facts {
                sqlx::query("INSERT INTO yearly_facts (org_id, year, revenue_fen, rnd_expense_fen, staff, rnd_staff, patents_granted, patents_pending, export_share_bp, updated_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                    .bind(&r.id).bind(i64::from(f.year)).bind(f.revenue.fen()).bind(f.rnd_expense.fen()).bind(i64::from(f.staff))
                    .bind(i64::from(f.rnd_staff)).bind(i64::from(f.patents_granted)).bind(i64::from(f.patents_pending))
                    .bind(i64::from(f.export_share_bp)).bind(0i64)
                    .execute(&mut *tx).await?;
            }
            for (qid, q) in &r.quals {
                sqlx::query("INSERT INTO qualifications (id, org_id, kind, valid_from, valid_to, certificate_no) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(qid).bind(&r.id).bind(q.kind.code()).bind(q.valid_from.to_string()).bind(q.valid_to.to_string()).bind(q.certificate_no.as_deref())
                    .execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
    }};
}

async fn schema(url: &str) -> Result<()> {
    let store = kebao_store::Store::open(url, &kebao_store::OpenOptions::default()).await?;
    store.close().await;
    Ok(())
}

async fn bare_sqlite(path: &std::path::Path, rows: &[Row]) -> Result<f64> {
    let url = format!("sqlite://{}", path.display());
    schema(&url).await?;
    let mut conn = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc")).await?;
    for p in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON"] {
        conn.execute(p).await?;
    }
    let t = Instant::now();
    bare_loop!(conn, rows);
    Ok(t.elapsed().as_secs_f64())
}

async fn bare_postgres(url: &str, rows: &[Row]) -> Result<f64> {
    schema(url).await?;
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let t = Instant::now();
    bare_loop!(conn, rows);
    Ok(t.elapsed().as_secs_f64())
}

fn kebao_demo(bin: &std::path::Path, url: &str, n: usize) -> Result<f64> {
    let t = Instant::now();
    let out = std::process::Command::new(bin)
        .args(["demo", "--no-serve", "--enterprises", &n.to_string(), "--database", url])
        .env("KEBAO_LOG", "warn")
        .output()
        .context("running kebao demo")?;
    let secs = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!("kebao demo failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(secs)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    let bin = match args.kebao {
        Some(b) => b,
        None => std::env::current_exe()?.with_file_name("kebao"),
    };
    let rows = rows(args.enterprises)?;
    let n = rows.len() as f64;
    println!(
        "registry benchmark: {} organisations ({} enterprises), {} run(s) per side",
        rows.len(),
        args.enterprises,
        args.runs
    );
    println!(
        "{:<12} {:>14} {:>14} {:>10} {:>10} {:>8}",
        "backend", "kebao demo s", "bare loop s", "kebao r/s", "bare r/s", "ratio"
    );
    let dir = tempfile_dir()?;
    let mut sq_k = Vec::new();
    let mut sq_b = Vec::new();
    for run in 0..args.runs {
        let kp = dir.join(format!("kebao-{run}.db"));
        sq_k.push(kebao_demo(&bin, &format!("sqlite://{}", kp.display()), args.enterprises)?);
        sq_b.push(bare_sqlite(&dir.join(format!("bare-{run}.db")), &rows).await?);
    }
    report("sqlite", n, median(sq_k), median(sq_b));
    if let Some(admin) = &args.postgres {
        let mut pk = Vec::new();
        let mut pb = Vec::new();
        for _ in 0..args.runs {
            let k = pg_database(admin, "kebao_bench_kebao").await?;
            pk.push(kebao_demo(&bin, &k, args.enterprises)?);
            let b = pg_database(admin, "kebao_bench_bare").await?;
            pb.push(bare_postgres(&b, &rows).await?);
        }
        report("postgres", n, median(pk), median(pb));
        let mut conn = sqlx::PgConnection::connect(admin).await?;
        for db in ["kebao_bench_kebao", "kebao_bench_bare"] {
            conn.execute(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)").as_str()).await?;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn report(backend: &str, n: f64, kebao: f64, bare: f64) {
    println!(
        "{backend:<12} {kebao:>14.2} {bare:>14.2} {:>10.0} {:>10.0} {:>7.0}%",
        n / kebao,
        n / bare,
        100.0 * bare / kebao
    );
}

fn tempfile_dir() -> Result<PathBuf> {
    let d = std::env::temp_dir().join(format!("kebao-bench-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}
