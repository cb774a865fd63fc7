//! The development index over the same zone (issue 21): the indicator extraction from the live
//! tables (`Service::index_inputs`, per enterprise, added up per park) against hand-written SQL
//! aggregates grouped by park that give the same figures (compared before timing counts); then
//! a whole run as the job does it (extraction, build, 1,000 uncertainty runs, storing the run)
//! beside the engine alone on the run's exported `iMeta`/`iData`.

use anyhow::{bail, Context, Result};
use kebao_domain::index::{IndexFramework, Measure, UnitKind};
use kebao_domain::stats::Period;
use kebao_service::authz::Actor;
use kebao_service::index::{compute, RunInputs, FRAMEWORK};
use kebao_service::Service;
use kebao_store::Store;
use sqlx::Row;
use std::collections::BTreeMap;
use std::time::Instant;

/// Per park: the sums the indicators divide.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Sums {
    registered: i64,
    insured: i64,
    in_force: i64,
    written: i64,
    cover: i64,
    first_set: i64,
    rnd: i64,
    decided: i64,
    decided_days: i64,
    paid: i64,
    earned: i64,
    subsidised: i64,
    loans: i64,
    complaints: i64,
}

fn value(s: &Sums, m: &Measure) -> f64 {
    let ratio = |a: i64, b: i64, scale: f64| if b > 0 { a as f64 * scale / b as f64 } else { f64::NAN };
    match m {
        Measure::InsuredShare => ratio(s.insured, s.registered, 100.0),
        Measure::PremiumPerFirm => ratio(s.written, s.registered, 0.01),
        Measure::CoverPerRnd => ratio(s.cover, s.rnd, 1.0),
        Measure::FirstSetPer100(_) => ratio(s.first_set, s.registered, 100.0),
        Measure::SubsidyReach => ratio(s.subsidised, s.insured, 100.0),
        Measure::LoansPerFirm => ratio(s.loans, s.registered, 0.01),
        Measure::ClaimDays => ratio(s.decided_days, s.decided, 1.0),
        Measure::PayoutRatio => ratio(s.paid, s.earned, 100.0),
        Measure::ComplaintsPerK => ratio(s.complaints, s.in_force, 1000.0),
        Measure::Official => f64::NAN,
    }
}

/// The hand-written aggregates, one statement each, grouped by park.
fn statements(postgres: bool, first_set: &str) -> Vec<(&'static str, String)> {
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
    let decided = if postgres {
        "(CAST(c.decided_on AS DATE) - CAST(c.reported_on AS DATE))".to_owned()
    } else {
        "CAST(julianday(c.decided_on) - julianday(c.reported_on) AS BIGINT)".to_owned()
    };
    let counted = "('in_force', 'registered', 'cancelled')";
    vec![
        ("registered", "SELECT park, COUNT(*) AS a, CAST(0 AS BIGINT) AS b FROM organisations WHERE kind = 'enterprise' AND created_at_us < $4 GROUP BY park".to_owned()),
        ("in_force", format!(
            "SELECT o.park, COUNT(DISTINCT p.enterprise_id) AS a, COUNT(*) AS b FROM policies p JOIN organisations o ON o.id = p.enterprise_id \
             WHERE p.start_date <= $2 AND p.end_date >= $1 AND (p.cancelled_on IS NULL OR p.cancelled_on >= $1) AND p.status IN {counted} GROUP BY o.park")),
        ("written", format!(
            "SELECT o.park, CAST(SUM(p.cover_fen) AS BIGINT) AS a, CAST(SUM(CASE WHEN d.type_id IN ({first_set}) THEN 1 ELSE 0 END) AS BIGINT) AS b \
             FROM policies p JOIN products d ON d.id = p.product_id JOIN organisations o ON o.id = p.enterprise_id \
             WHERE p.bound_at_us >= $3 AND p.bound_at_us < $4 AND p.status IN {counted} GROUP BY o.park")),
        ("premium", "SELECT o.park, CAST(SUM(CASE WHEN a.id = t.credit_account_id THEN t.amount ELSE -t.amount END) AS BIGINT) AS a, CAST(0 AS BIGINT) AS b \
             FROM ledger_transfers t JOIN ledger_accounts a ON a.id IN (t.credit_account_id, t.debit_account_id) AND a.kind = 'premium_written' \
             JOIN policies p ON p.id = t.event_ref JOIN organisations o ON o.id = p.enterprise_id \
             WHERE t.timestamp_us >= $3 AND t.timestamp_us < $4 AND t.code IN (101, 103, 104, 105, 111) AND t.flag_pending = 0 GROUP BY o.park".to_owned()),
        ("earned", format!(
            "SELECT park, CAST(SUM({to} - {from}) AS BIGINT) AS a, CAST(0 AS BIGINT) AS b FROM ( \
               SELECT o.park, p.premium_fen, {s} AS s, {e} AS e, CASE WHEN p.cancelled_on IS NOT NULL AND {c} < {e} THEN {c} ELSE {e} END AS l \
               FROM policies p JOIN organisations o ON o.id = p.enterprise_id \
               WHERE p.start_date <= $2 AND p.end_date >= $1 AND (p.cancelled_on IS NULL OR p.cancelled_on >= $1) AND p.status IN {counted}) d \
             WHERE e - s + 1 > 0 GROUP BY park",
            s = days("p.start_date"), e = days("p.end_date"), c = days("p.cancelled_on"), to = earned("$5"), from = earned("$6"))),
        ("paid", "SELECT o.park, CAST(SUM(t.amount) AS BIGINT) AS a, CAST(0 AS BIGINT) AS b FROM ledger_transfers t JOIN claims c ON c.id = t.event_ref \
             JOIN organisations o ON o.id = c.enterprise_id \
             WHERE t.timestamp_us >= $3 AND t.timestamp_us < $4 AND t.code = 202 AND t.flag_pending = 0 GROUP BY o.park".to_owned()),
        ("rnd", "SELECT o.park, CAST(SUM(f.rnd_expense_fen) AS BIGINT) AS a, CAST(0 AS BIGINT) AS b FROM yearly_facts f JOIN organisations o ON o.id = f.org_id \
             WHERE f.year = $7 GROUP BY o.park".to_owned()),
        ("decided", format!(
            "SELECT o.park, COUNT(*) AS a, CAST(SUM({decided}) AS BIGINT) AS b FROM claims c JOIN organisations o ON o.id = c.enterprise_id \
             WHERE c.decided_on IS NOT NULL AND c.decided_on >= $1 AND c.decided_on <= $2 GROUP BY o.park")),
        ("subsidised", "SELECT o.park, COUNT(DISTINCT s.enterprise_id) AS a, CAST(0 AS BIGINT) AS b FROM subsidy_applications s JOIN organisations o ON o.id = s.enterprise_id \
             WHERE s.status IN ('approved', 'disbursed', 'granted') AND s.updated_at_us >= $3 AND s.updated_at_us < $4 GROUP BY o.park".to_owned()),
        ("loans", "SELECT o.park, CAST(SUM(l.amount_fen) AS BIGINT) AS a, CAST(0 AS BIGINT) AS b FROM loans l JOIN organisations o ON o.id = l.enterprise_id \
             WHERE l.disbursed_on IS NOT NULL AND l.disbursed_on >= $1 AND l.disbursed_on <= $2 GROUP BY o.park".to_owned()),
        ("complaints", "SELECT o.park, COUNT(*) AS a, CAST(0 AS BIGINT) AS b FROM disputes d JOIN organisations o ON o.id = d.enterprise_id \
             WHERE d.complained_on >= $1 AND d.complained_on <= $2 GROUP BY o.park".to_owned()),
    ]
}

/// Runs the statements: (seconds, sums per park).
async fn anchor(
    store: &Store,
    postgres: bool,
    fw: &IndexFramework,
    year: i32,
) -> Result<(f64, BTreeMap<String, Sums>)> {
    let p = Period::Year(year);
    let us = |d: time::Date| {
        kebao_domain::time_zone::to_unix_us(d.midnight().assume_offset(kebao_domain::time_zone::SHANGHAI))
    };
    let first_set = fw
        .indicators()
        .filter_map(|n| match &n.measure {
            Some(Measure::FirstSetPer100(t)) => Some(t.iter().map(|x| format!("'{x}'")).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    let t = Instant::now();
    let mut out: BTreeMap<String, Sums> = BTreeMap::new();
    // Several statements, not one: the pool's connections read the same committed zone.
    // The values written into the statements (each uses some of them).
    let values = [
        ("$1", format!("'{}'", p.first_day())),
        ("$2", format!("'{}'", p.last_day())),
        ("$3", us(p.first_day()).to_string()),
        ("$4", us(p.last_day().next_day().context("year end")?).to_string()),
        ("$5", kebao_store::stats::day_number(p.last_day()).to_string()),
        ("$6", (kebao_store::stats::day_number(p.first_day()) - 1).to_string()),
        ("$7", year.to_string()),
    ];
    for (what, sql) in statements(postgres, &first_set) {
        let sql = values.iter().fold(sql, |s, (k, v)| s.replace(k, v));
        let rows = sqlx::query(&sql).fetch_all(store.pool()).await.with_context(|| what.to_owned())?;
        for r in rows {
            let Some(park) = r.try_get::<Option<String>, _>(0)? else { continue };
            let (a, b): (i64, i64) = (r.try_get(1)?, r.try_get(2)?);
            let s = out.entry(park).or_default();
            match what {
                "registered" => s.registered = a,
                "in_force" => (s.insured, s.in_force) = (a, b),
                "written" => (s.cover, s.first_set) = (a, b),
                "premium" => s.written = a,
                "earned" => s.earned = a,
                "paid" => s.paid = a,
                "rnd" => s.rnd = a,
                "decided" => (s.decided, s.decided_days) = (a, b),
                "subsidised" => s.subsidised = a,
                "loans" => s.loans = a,
                _ => s.complaints = a,
            }
        }
    }
    Ok((t.elapsed().as_secs_f64(), out))
}

/// Every kept indicator of the extraction's `iData` equals the anchor's figure for the park.
fn same(inputs: &RunInputs, fw: &IndexFramework, sums: &BTreeMap<String, Sums>) -> Result<usize> {
    let mut lines = inputs.idata.lines();
    let head: Vec<&str> = lines.next().context("iData header")?.split(',').collect();
    let mut checked = 0;
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let park = cells.first().copied().unwrap_or_default();
        let s = sums.get(park).copied().unwrap_or_default();
        for (code, cell) in head.iter().zip(&cells).skip(2) {
            let node = fw.node(code).context("indicator")?;
            let Some(m) = &node.measure else { continue };
            if *m == Measure::Official {
                continue;
            }
            let want = value(&s, m);
            let got: f64 = if *cell == "NA" { f64::NAN } else { cell.parse()? };
            if !(got == want || (got.is_nan() && want.is_nan())) {
                bail!("park {park}, {code}: the extraction gives {got}, the statements {want}");
            }
            checked += 1;
        }
    }
    if checked == 0 {
        bail!("nothing compared");
    }
    Ok(checked)
}

fn best(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// Times both sides `runs` times (figures compared each time), then one whole run as the job
/// does it and the engine alone on its files; prints one line.
pub async fn measure(
    label: &str,
    store: &Store,
    svc: &Service,
    postgres: bool,
    year: i32,
    runs: u32,
) -> Result<()> {
    let fw = kebao_domain::index::parse(FRAMEWORK).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (mut k, mut a) = (Vec::new(), Vec::new());
    let mut compared = 0;
    for _ in 0..runs {
        let (secs, sums) = anchor(store, postgres, &fw, year).await?;
        a.push(secs);
        let t = Instant::now();
        let inputs = svc.index_inputs(&fw, UnitKind::Park, year).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        k.push(t.elapsed().as_secs_f64());
        compared = same(&inputs, &fw, &sums)?;
    }
    // The whole run, queued and run as the job (extraction, build, uncertainty, storing).
    let op = Actor::System { name: "bench".into() };
    let t = Instant::now();
    let job =
        svc.start_index_run(&op, "park", &year.to_string()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let runner = kebao_service::jobs::JobRunner::new(svc.clone());
    let ended = runner.run_once().await.map_err(|e| anyhow::anyhow!("{e}"))?.context("the job")?;
    let whole = t.elapsed().as_secs_f64();
    if ended.id != job.id || ended.state != kebao_domain::job::JobState::Succeeded {
        bail!("the index run ended {:?}: {:?}", ended.state, ended.failure);
    }
    let stored = svc.index_runs(&op).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let run = stored.first().context("the stored run")?;
    let full = svc.index_run(&op, &run.stored.id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let inputs = RunInputs {
        imeta: full.stored.imeta.clone(),
        idata: full.stored.idata.clone(),
        config: full.stored.config.clone(),
        units: Vec::new(),
        dropped: full.results.dropped.clone(),
        excluded: full.results.excluded.clone(),
    };
    let t = Instant::now();
    let again =
        compute(&fw, &inputs, &mut |_, _| true).map_err(|e| anyhow::anyhow!(e))?.context("engine run")?;
    let engine = t.elapsed().as_secs_f64();
    let same_scores =
        again.units.iter().zip(&full.results.units).all(|(x, y)| x.scores == y.scores && x.q05 == y.q05);
    if !same_scores {
        bail!("the engine on the exported files does not give the stored results");
    }
    println!(
        "{:<10} {:>14.3} {:>14.3} {:>8.2} {:>14.3} {:>14.3}   ({} figures compared, {} parks ranked, {} uncertainty runs)",
        label,
        best(&k),
        best(&a),
        best(&k) / best(&a),
        whole,
        engine,
        compared,
        full.results.units.len(),
        full.results.runs
    );
    Ok(())
}
