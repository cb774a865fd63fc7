//! Statistics benchmark (issue 21): the NFRA report for one year over a zone of N policies,
//! side by side with one hand-written SQL statement that produces the same numbers per product
//! type (the limit of the store), on SQLite and PostgreSQL. The figures are compared before
//! anything is timed: the report's product-type rows must equal the statement's.
//!
//! ```text
//! cargo build --release -p kebao-bench
//! target/release/stats-bench [--policies 1000000] [--enterprises 50000] [--runs 3] [--postgres postgres://postgres@127.0.0.1:5432/postgres]
//! ```
//!
//! The zone is written straight into the tables (organisations, products, applications,
//! policies, claims, ledger accounts and transfers, as the platform writes them) so that a
//! million policies load in a minute; the report itself runs through `Service::stats_report`.

mod dashboard_part;
mod index_part;
mod pg;
use anyhow::{bail, Context, Result};
use clap::Parser;
use kebao_domain::catalogue::Catalogue;
use kebao_domain::stats::Period;
use kebao_domain::IndustryMap;
use kebao_service::authz::{Actor, Authz};
use kebao_service::stats::StatsQuery;
use kebao_service::{Config, Service, SystemClock, CATALOGUE};
use kebao_store::{OpenOptions, Store};
use pg::pg_database;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::{Executor, Row};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    policies: u32,
    #[arg(long, default_value_t = 50_000)]
    enterprises: u32,
    /// The year reported on (policies are written over the three years up to its end).
    #[arg(long, default_value_t = 2025)]
    year: i32,
    #[arg(long, default_value_t = 3)]
    runs: u32,
    /// Also run on PostgreSQL (an admin URL where databases may be created).
    #[arg(long)]
    postgres: Option<String>,
    /// Seconds per dashboard measurement (8 clients reading the statistics page).
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Which stores: sqlite, postgres (with --postgres).
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    stores: Vec<String>,
    /// Which measurements: reports, index, dashboard.
    #[arg(long, value_delimiter = ',', default_value = "reports,index,dashboard")]
    parts: Vec<String>,
}

const INSURERS: u32 = 7;
const BATCH: usize = 2_000;
const STAGES: [&str; 6] = ["rnd", "commercialisation", "production", "market", "financing", "overseas"];
const QUALS: [&str; 4] = ["high_tech", "tech_sme", "specialised", "gazelle"];

fn pick<'a>(from: &[&'a str], i: usize) -> &'a str {
    from.get(i % from.len().max(1)).copied().unwrap_or_default()
}

fn uscc(n: u32) -> Result<String> {
    Ok(kebao_domain::Uscc::complete(&format!("91420100{n:09}")).context("uscc")?.to_string())
}

fn date(d: time::Date) -> String {
    d.to_string()
}

/// Runs `INSERT INTO table (cols) VALUES …` over the rows, `BATCH` at a time.
async fn insert<C>(conn: &mut C, table: &str, cols: &str, rows: &[String]) -> Result<()>
where
    for<'c> &'c mut C: Executor<'c>,
{
    for chunk in rows.chunks(BATCH) {
        let sql = format!("INSERT INTO {table} ({cols}) VALUES {}", chunk.join(","));
        conn.execute(sql.as_str()).await.with_context(|| format!("inserting into {table}"))?;
    }
    Ok(())
}

/// The generated zone, as SQL value tuples per table.
struct Zone {
    tables: Vec<(&'static str, &'static str, Vec<String>)>,
}

fn generate(args: &Args, catalogue: &Catalogue) -> Result<Zone> {
    // The zone's own parks and 5+2 industries, as configured.
    let map = IndustryMap::from_toml(CATALOGUE)?;
    let parks: Vec<&str> = map.parks().iter().map(|p| p.id.as_str()).collect();
    let industries: Vec<&str> = map.tags().iter().map(|t| t.id.as_str()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let t0 = 1_700_000_000_000_000i64;
    let mut orgs = Vec::new();
    let mut tags = Vec::new();
    let mut quals = Vec::new();
    let mut facts = Vec::new();
    for i in 0..INSURERS {
        orgs.push(format!(
            "('h{i}', '保险总公司{i}', '{}', 'insurer', 'verified', NULL, NULL, NULL, NULL, NULL, {t0}, {t0}, NULL)",
            uscc(10 + i)?
        ));
        orgs.push(format!(
            "('b{i}', '保险总公司{i}湖北分公司', '{}', 'insurer', 'verified', NULL, NULL, NULL, NULL, 'h{i}', {t0}, {t0}, NULL)",
            uscc(30 + i)?
        ));
    }
    for e in 0..args.enterprises {
        let stage = pick(&STAGES, e as usize);
        let park = pick(&parks, e as usize / 7);
        orgs.push(format!(
            "('e{e}', '企业{e}', '{}', 'enterprise', 'verified', 'C3976', '{stage}', NULL, NULL, NULL, {t0}, {t0}, '{park}')",
            uscc(1000 + e)?
        ));
        tags.push(format!("('e{e}', '{}')", pick(&industries, e as usize)));
        if e % 5 == 0 {
            tags.push(format!("('e{e}', '{}')", pick(&industries, e as usize + 3)));
        }
        // R&D reported for the report year and the two before (the index divides cover by it).
        for y in args.year - 2..=args.year {
            let rnd: i64 = rng.random_range(1_000_000..500_000_000);
            facts.push(format!("('e{e}', {y}, {}, {rnd}, 50, 10, 2, 1, 0, {t0})", rnd * 8));
        }
        if e % 3 != 0 {
            quals.push(format!(
                "('q{e}', 'e{e}', '{}', '2020-01-01', '2030-12-31', NULL)",
                pick(&QUALS, e as usize)
            ));
        }
    }
    let types: Vec<&str> = catalogue.types().iter().map(|t| t.id.as_str()).collect();
    let mut products = Vec::new();
    for (k, ty) in types.iter().enumerate() {
        products.push(format!("('pr{k}', 'b{}', '{ty}', '产品{k}', 1, {t0}, {t0})", k as u32 % INSURERS));
    }
    let mut accounts = Vec::new();
    for i in 0..INSURERS {
        for kind in
            ["premium_written", "premium_receivable", "claims_expense", "claim_payable", "cash_received"]
        {
            accounts.push(format!("('ins:b{i}:{kind}', 'b{i}', '{kind}', 'CNY', 0, 0, {t0})"));
        }
    }
    let first = Period::Year(args.year - 2).first_day();
    let span = (Period::Year(args.year).last_day() - first).whole_days();
    let (mut apps, mut pols, mut transfers, mut claims) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut tid = 0u64;
    let mut transfer = |debit: &str, credit: &str, amount: i64, code: u16, event: &str, at: i64| {
        tid += 1;
        format!(
            "('t{tid:09}', '{debit}', '{credit}', {amount}, NULL, {code}, '{event}', 0, 0, 0, 0, {amount}, 'none', {at})"
        )
    };
    for n in 0..args.policies {
        let e = rng.random_range(0..args.enterprises);
        let k = rng.random_range(0..types.len());
        let ins = k as u32 % INSURERS;
        let bound = first + time::Duration::days(rng.random_range(0..=span));
        let start = bound + time::Duration::days(rng.random_range(0..30));
        let end = start + time::Duration::days(364);
        let premium: i64 = rng.random_range(100_000..5_000_000);
        let cover: i64 = premium * rng.random_range(50..400);
        let at = kebao_domain::time_zone::to_unix_us(
            bound.midnight().assume_offset(kebao_domain::time_zone::SHANGHAI),
        ) + rng.random_range(0..80_000_000_000i64);
        let cancelled = rng.random_range(0..100) < 5;
        let cancel_on = start + time::Duration::days(rng.random_range(30..300));
        apps.push(format!(
            "('a{n}', 'pr{k}', 1, 'b{ins}', 'e{e}', 'bench', '{{}}', '{}', '{}', {premium}, 1, '[]', 'bound', '[]', {at})",
            date(start),
            date(end)
        ));
        pols.push(format!(
            "('p{n}', 'DHKB-B-{n:08}', 'a{n}', 'pr{k}', 'b{ins}', 'e{e}', '{}', '{}', {premium}, '{{}}', 'bench', {at}, '{}', {}, '{{}}', {cover})",
            date(start),
            date(end),
            if cancelled { "cancelled" } else { "in_force" },
            if cancelled { format!("'{}'", date(cancel_on)) } else { "NULL".into() }
        ));
        let w = format!("ins:b{ins}:premium_written");
        let r = format!("ins:b{ins}:premium_receivable");
        transfers.push(transfer(&r, &w, premium, 101, &format!("p{n}"), at));
        if cancelled {
            let back = premium / 2;
            let cat = kebao_domain::time_zone::to_unix_us(
                cancel_on.midnight().assume_offset(kebao_domain::time_zone::SHANGHAI),
            );
            transfers.push(transfer(&w, &r, back, 104, &format!("p{n}"), cat));
        }
        if rng.random_range(0..100) < 3 {
            let other = (ins + 1) % INSURERS;
            let share = premium * 3 / 10;
            transfers.push(transfer(
                &w,
                &format!("ins:b{other}:premium_written"),
                share,
                111,
                &format!("p{n}"),
                at,
            ));
        }
        if rng.random_range(0..100) < 2 {
            let reported = start + time::Duration::days(rng.random_range(10..300));
            let rat = kebao_domain::time_zone::to_unix_us(
                reported.midnight().assume_offset(kebao_domain::time_zone::SHANGHAI),
            );
            let claimed: i64 = rng.random_range(1_000_000..50_000_000);
            let paid = claimed * 7 / 10;
            let decided = reported + time::Duration::days(rng.random_range(3..40));
            claims.push(format!(
                "('c{n}', 'p{n}', 'b{ins}', 'e{e}', '{}', 'bench', {claimed}, 'closed', NULL, 0, 0, 'pay', {paid}, NULL, {paid}, '{}', '{}', {rat}, NULL, 0)",
                date(reported),
                date(reported),
                date(decided)
            ));
            let pat = rat + 20 * 86_400_000_000;
            transfers.push(transfer(
                &format!("ins:b{ins}:claim_payable"),
                &format!("ins:b{ins}:cash_received"),
                paid,
                202,
                &format!("c{n}"),
                pat,
            ));
        }
    }
    Ok(Zone {
        tables: vec![
            (
                "organisations",
                "id, name, uscc, kind, status, industry_code, lifecycle_stage, founded_on, address, parent_id, created_at_us, updated_at_us, park",
                orgs,
            ),
            ("org_industries", "org_id, tag", tags),
            ("qualifications", "id, org_id, kind, valid_from, valid_to, certificate_no", quals),
            (
                "yearly_facts",
                "org_id, year, revenue_fen, rnd_expense_fen, staff, rnd_staff, patents_granted, patents_pending, export_share_bp, updated_at_us",
                facts,
            ),
            ("products", "id, insurer_id, type_id, name, public_version, created_at_us, updated_at_us", products),
            (
                "ledger_accounts",
                "id, owner_id, kind, currency, debits_must_not_exceed_credits, credits_must_not_exceed_debits, created_at_us",
                accounts,
            ),
            (
                "applications",
                "id, product_id, product_version, insurer_id, enterprise_id, applicant, input, start_date, end_date, premium_fen, plan_version, trace, status, reasons, created_at_us",
                apps,
            ),
            (
                "policies",
                "id, number, application_id, product_id, insurer_id, enterprise_id, start_date, end_date, premium_fen, schedule, bound_by, bound_at_us, status, cancelled_on, input, cover_fen",
                pols,
            ),
            (
                "claims",
                "id, policy_id, insurer_id, enterprise_id, loss_date, description, claimed_fen, status, handler, reserve_fen, reserve_seq, outcome, decided_fen, reason, paid_fen, reported_on, decided_on, reported_at_us, closed_at_us, reopened",
                claims,
            ),
            (
                "ledger_transfers",
                "id, debit_account_id, credit_account_id, amount, pending_id, code, event_ref, flag_linked, flag_pending, flag_post_pending, flag_void_pending, applied_amount, state, timestamp_us",
                transfers,
            ),
        ],
    })
}

/// The hand-written statement: every measure of the report per product type for the year,
/// in one statement (`$1`/`$2` the year's first and last day, `$3`/`$4` their microseconds,
/// `$5`/`$6` the last day's and the day before the first's day numbers).
fn baseline_sql(postgres: bool) -> String {
    let days = |c: &str| {
        if postgres {
            format!("(CAST({c} AS DATE) - DATE '1970-01-01')")
        } else {
            format!("CAST(julianday({c}) - 2440587.5 AS BIGINT)")
        }
    };
    let run = |x: &str| {
        format!(
            "(CASE WHEN (CASE WHEN {x} < l THEN {x} ELSE l END) - s + 1 < 0 THEN 0 WHEN (CASE WHEN {x} < l THEN {x} ELSE l END) - s + 1 > e - s + 1 THEN e - s + 1 ELSE (CASE WHEN {x} < l THEN {x} ELSE l END) - s + 1 END)"
        )
    };
    let earned = |x: &str| format!("(2 * premium_fen * {} + (e - s + 1)) / (2 * (e - s + 1))", run(x));
    format!(
        "WITH w AS (SELECT pr.type_id, COUNT(*) AS n, COUNT(DISTINCT p.enterprise_id) AS ents, SUM(p.cover_fen) AS cover \
           FROM policies p JOIN products pr ON pr.id = p.product_id \
           WHERE p.bound_at_us >= $3 AND p.bound_at_us < $4 AND p.status IN ('in_force', 'registered', 'cancelled') GROUP BY pr.type_id), \
         ea AS (SELECT type_id, SUM({to} - {from}) AS earned FROM ( \
           SELECT pr.type_id, p.premium_fen, {s} AS s, {e} AS e, \
             CASE WHEN p.cancelled_on IS NOT NULL AND {c} < {e} THEN {c} ELSE {e} END AS l \
           FROM policies p JOIN products pr ON pr.id = p.product_id \
           WHERE p.start_date <= $2 AND p.end_date >= $1 AND (p.cancelled_on IS NULL OR p.cancelled_on >= $1) \
             AND p.status IN ('in_force', 'registered', 'cancelled')) d GROUP BY type_id), \
         pw AS (SELECT pr.type_id, SUM(CASE WHEN a.id = t.credit_account_id THEN t.amount ELSE -t.amount END) AS written \
           FROM ledger_transfers t JOIN ledger_accounts a ON a.id IN (t.credit_account_id, t.debit_account_id) AND a.kind = 'premium_written' \
           JOIN policies p ON p.id = t.event_ref JOIN products pr ON pr.id = p.product_id \
           WHERE t.timestamp_us >= $3 AND t.timestamp_us < $4 AND t.code IN (101, 103, 104, 105, 111) AND t.flag_pending = 0 GROUP BY pr.type_id), \
         cr AS (SELECT pr.type_id, COUNT(*) AS n, SUM(c.claimed_fen) AS claimed FROM claims c JOIN policies p ON p.id = c.policy_id \
           JOIN products pr ON pr.id = p.product_id WHERE c.reported_on >= $1 AND c.reported_on <= $2 GROUP BY pr.type_id), \
         cp AS (SELECT pr.type_id, SUM(t.amount) AS paid FROM ledger_transfers t JOIN claims c ON c.id = t.event_ref \
           JOIN policies p ON p.id = c.policy_id JOIN products pr ON pr.id = p.product_id \
           WHERE t.timestamp_us >= $3 AND t.timestamp_us < $4 AND t.code = 202 AND t.flag_pending = 0 GROUP BY pr.type_id) \
         SELECT t.type_id, CAST(COALESCE(w.n, 0) AS BIGINT) AS n, CAST(COALESCE(w.ents, 0) AS BIGINT) AS ents, \
           CAST(COALESCE(pw.written, 0) AS BIGINT) AS written, CAST(COALESCE(ea.earned, 0) AS BIGINT) AS earned, \
           CAST(COALESCE(w.cover, 0) AS BIGINT) AS cover, CAST(COALESCE(cr.n, 0) AS BIGINT) AS reported, \
           CAST(COALESCE(cr.claimed, 0) AS BIGINT) AS claimed, CAST(COALESCE(cp.paid, 0) AS BIGINT) AS paid \
         FROM (SELECT DISTINCT type_id FROM products) t LEFT JOIN w ON w.type_id = t.type_id LEFT JOIN ea ON ea.type_id = t.type_id \
           LEFT JOIN pw ON pw.type_id = t.type_id LEFT JOIN cr ON cr.type_id = t.type_id LEFT JOIN cp ON cp.type_id = t.type_id",
        s = days("p.start_date"),
        e = days("p.end_date"),
        c = days("p.cancelled_on"),
        to = earned("$5"),
        from = earned("$6"),
    )
}

type Figures = BTreeMap<String, [i64; 8]>;

async fn baseline(store: &Store, postgres: bool, year: i32) -> Result<(f64, Figures)> {
    let p = Period::Year(year);
    let us = |d: time::Date| {
        kebao_domain::time_zone::to_unix_us(d.midnight().assume_offset(kebao_domain::time_zone::SHANGHAI))
    };
    let sql = baseline_sql(postgres);
    let t = Instant::now();
    let rows = sqlx::query(&sql)
        .bind(p.first_day().to_string())
        .bind(p.last_day().to_string())
        .bind(us(p.first_day()))
        .bind(us(p.last_day().next_day().context("year end")?))
        .bind(kebao_store::stats::day_number(p.last_day()))
        .bind(kebao_store::stats::day_number(p.first_day()) - 1)
        .fetch_all(store.pool())
        .await?;
    let secs = t.elapsed().as_secs_f64();
    let mut out = Figures::new();
    for r in rows {
        let mut v = [0i64; 8];
        for (i, col) in
            ["n", "ents", "written", "earned", "cover", "reported", "claimed", "paid"].iter().enumerate()
        {
            if let Some(slot) = v.get_mut(i) {
                *slot = r.try_get::<i64, _>(*col)?;
            }
        }
        out.insert(r.try_get::<String, _>("type_id")?, v);
    }
    Ok((secs, out))
}

async fn kebao(store: &Store, year: i32) -> Result<(f64, Figures, f64)> {
    let svc = Service::new(
        store.clone(),
        Authz::embedded()?,
        IndustryMap::from_toml(CATALOGUE)?,
        Arc::new(SystemClock),
        Config::default(),
    );
    let op = Actor::System { name: "bench".into() };
    let q = StatsQuery::parse(&year.to_string(), "1", "", "").map_err(|e| anyhow::anyhow!("{e}"))?;
    let t = Instant::now();
    let r = svc.stats_report(&op, &q).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let secs = t.elapsed().as_secs_f64();
    let mut out = Figures::new();
    for row in r.rows.iter().filter(|r| r.depth == 1) {
        let m = row.measures;
        out.insert(
            row.key.clone(),
            [
                m.policies as i64,
                m.enterprises as i64,
                m.written_fen,
                m.earned_fen,
                m.cover_fen,
                m.claims_reported as i64,
                m.claimed_fen,
                m.paid_fen,
            ],
        );
    }
    // Part 2 by entity, for the record.
    let q2 = StatsQuery::parse(&year.to_string(), "2", "", "").map_err(|e| anyhow::anyhow!("{e}"))?;
    let t = Instant::now();
    svc.stats_report(&op, &q2).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((secs, out, t.elapsed().as_secs_f64()))
}

/// The statement's rows restricted to the types the report lists (Part 1: the four classes).
fn same(report: &Figures, base: &Figures) -> Result<()> {
    for (ty, v) in report {
        let b = base.get(ty).copied().unwrap_or_default();
        if *v != b {
            bail!("type {ty}: the report says {v:?}, the statement {b:?}");
        }
    }
    if report.is_empty() {
        bail!("the report has no product types");
    }
    Ok(())
}

fn best(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// Writes the zone's rows in one transaction through the store's own pool, then has the
/// database gather its statistics.
async fn load(store: &Store, zone: &Zone) -> Result<f64> {
    let t = Instant::now();
    let mut tx = store.pool().begin().await?;
    for (table, cols, rows) in &zone.tables {
        insert(&mut *tx, table, cols, rows).await?;
    }
    tx.commit().await?;
    store.pool().execute("ANALYZE").await?;
    Ok(t.elapsed().as_secs_f64())
}

/// Loads the zone into a new store, then times both sides `args.runs` times, the figures
/// compared every time, and prints the best of each.
async fn measure(label: &str, url: &str, zone: &Zone, args: &Args, postgres: bool) -> Result<()> {
    // The store's own schema first (the migrations), then the rows.
    let store = Store::open(url, &OpenOptions::default()).await?;
    let loaded = load(&store, zone).await?;
    let (mut k, mut b, mut k2) = (Vec::new(), Vec::new(), Vec::new());
    let runs = if args.parts.iter().any(|p| p == "reports") { args.runs } else { 0 };
    for _ in 0..runs {
        let (bs, bf) = baseline(&store, postgres, args.year).await?;
        let (ks, kf, k2s) = kebao(&store, args.year).await?;
        same(&kf, &bf)?;
        k.push(ks);
        b.push(bs);
        k2.push(k2s);
    }
    if runs > 0 {
        println!(
            "{:<10} {:>8.1} {:>14.3} {:>14.3} {:>8.2} {:>14.3}",
            label,
            loaded,
            best(&k),
            best(&b),
            best(&k) / best(&b),
            best(&k2)
        );
    } else {
        println!("{label:<10} {loaded:>8.1} (reports not measured)");
    }
    let svc = Service::new(
        store.clone(),
        Authz::embedded()?,
        IndustryMap::from_toml(CATALOGUE)?,
        Arc::new(SystemClock),
        Config::default(),
    );
    if args.parts.iter().any(|p| p == "index") {
        index_part::measure(&format!("{label} index"), &store, &svc, postgres, args.year, args.runs).await?;
    }
    if args.parts.iter().any(|p| p == "dashboard") {
        dashboard_part::measure(&format!("{label} dashboard"), &svc, args.year, args.seconds).await?;
    }
    store.close().await;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    let catalogue = Catalogue::from_toml(CATALOGUE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let t = Instant::now();
    let zone = generate(&args, &catalogue)?;
    println!(
        "statistics benchmark: {} policies, {} enterprises, report year {} (generated in {:.1} s)",
        args.policies,
        args.enterprises,
        args.year,
        t.elapsed().as_secs_f64()
    );
    println!(
        "{:<10} {:>8} {:>14} {:>14} {:>8} {:>14}",
        "backend", "load s", "kebao part1 s", "one SQL s", "ratio", "kebao part2 s"
    );
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("stats.db");
    let url = format!("sqlite://{}", path.display());
    if args.stores.iter().any(|s| s == "sqlite") {
        measure("sqlite", &url, &zone, &args, false).await?;
    }
    if let Some(admin) = args.postgres.as_ref().filter(|_| args.stores.iter().any(|s| s == "postgres")) {
        let url = pg_database(admin, "kebao_stats_bench").await?;
        measure("postgres", &url, &zone, &args, true).await?;
    }
    println!(
        "the report's product-type rows equal the statement's in every run (checked before timing counts)"
    );
    println!(
        "index lines: kebao extraction s, the SQL aggregates by park s, ratio, the whole run as a job s (extraction, build, uncertainty, storing), the engine alone on the exported files s; the extraction's figures equal the aggregates' in every run"
    );
    Ok(())
}
