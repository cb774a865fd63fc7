//! Batch scoring benchmark (issue 23): the risk lab's batch scoring job — read the registry,
//! score every enterprise with an approved scorecard, write every score in one transaction
//! with one event — against `kebao score` on a CSV export of the same rows.
//!
//! The zone is made by `kebao demo --enterprises N --years 0 --no-serve` (the registry's bulk
//! import); the scorecard is the demo zone's (`kebao_sim::lab`: fitted by the engine on synthetic
//! data over four of the registry's variables), uploaded by one zone officer and approved by another. The export holds, for
//! every enterprise, exactly the inputs the job scores (`lab_data::enterprise_features`).
//! Both sides report read, score and write separately; the ratio is the job's total over the
//! CLI's total. Target: within 3×.
//!
//! ```text
//! cargo build --release -p kebao -p kebao-bench
//! target/release/batch-score-bench --enterprises 1000000
//! ```

use anyhow::{bail, Context, Result};
use clap::Parser;
use kebao_domain::IndustryMap;
use kebao_service::authz::Authz;
use kebao_service::jobs::JobRunner;
use kebao_service::lab::ModelKind;
use kebao_service::{Config, Service, SystemClock, CATALOGUE};
use kebao_store::{OpenOptions, Store};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    /// Enterprises in the zone.
    #[arg(long, default_value_t = 1_000_000)]
    enterprises: usize,
    /// Where the zone's SQLite file goes (reused when it exists).
    #[arg(long, default_value = "/tmp/kebao-batch-score.db")]
    db: PathBuf,
    /// The kebao binary (default: next to this one).
    #[arg(long)]
    kebao: Option<PathBuf>,
}

fn err(e: kebao_service::ServiceError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    let kebao = match &args.kebao {
        Some(k) => k.clone(),
        None => std::env::current_exe()?.with_file_name("kebao"),
    };
    let url = format!("sqlite://{}", args.db.display());
    if !args.db.exists() {
        eprintln!("making the zone: {} enterprises (kebao demo --years 0 --no-serve) …", args.enterprises);
        let t = Instant::now();
        let st = std::process::Command::new(&kebao)
            .args(["demo", "--enterprises", &args.enterprises.to_string(), "--years", "0", "--no-serve"])
            .args(["--database", &url])
            .env("KEBAO_SIGNING_KEY", args.db.with_extension("key"))
            .status()?;
        if !st.success() {
            bail!("kebao demo failed");
        }
        eprintln!("zone made in {:.1} s", t.elapsed().as_secs_f64());
    }
    let store = Store::open(&url, &OpenOptions::default()).await?;
    let svc = Service::new(
        store.clone(),
        Authz::embedded()?,
        IndustryMap::from_toml(CATALOGUE)?,
        Arc::new(SystemClock),
        Config::default(),
    );
    let reviewer = svc.actor_for(svc.find_user("zone.reviewer").await.map_err(err)?).await.map_err(err)?;
    let approver = svc.actor_for(svc.find_user("zone.approver").await.map_err(err)?).await.map_err(err)?;
    let card = kebao_sim::lab::demo_scorecard().map_err(anyhow::Error::msg)?;
    let m = svc
        .upload_model(&reviewer, ModelKind::Scorecard, "示范区批量评估（基准）", card.as_bytes())
        .await
        .map_err(err)?;
    svc.approve_model(&approver, &m.id).await.map_err(err)?;
    // No alert to-do from the bench's synthetic model.
    svc.set_monitoring_thresholds(&reviewer, &m.id, "100", "100").await.map_err(err)?;

    // The same rows, exported for the CLI.
    let dir = tempfile::tempdir()?;
    let model_path = dir.path().join("model.json");
    std::fs::write(&model_path, &card)?;
    let data_path = dir.path().join("rows.csv");
    let names = ["rnd_ratio", "age_years", "staff", "industry"];
    {
        let mut tx = store.begin_read().await?;
        let facts =
            kebao_store::lab_data::borrowers(tx.conn(), kebao_store::lab_data::Borrowers::AllEnterprises)
                .await?;
        let today = svc.today();
        let mut out = String::with_capacity(facts.len() * 40);
        out.push_str(&names.join(","));
        out.push('\n');
        let mut all: Vec<(&String, &kebao_store::lab_data::BorrowerFacts)> = facts.iter().collect();
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (_, facts) in all {
            let f = kebao_service::lab_data::enterprise_features(facts, today);
            let get = |n: &str| f.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
            let row: Vec<String> = names.iter().map(|n| get(n)).collect();
            out.push_str(&row.join(","));
            out.push('\n');
        }
        std::fs::write(&data_path, out)?;
    }

    // The job, as the server's runner runs it.
    svc.request_batch_score(&reviewer, &m.id).await.map_err(err)?;
    let t = Instant::now();
    let ended = JobRunner::new(svc.clone()).run_once().await.map_err(err)?.context("no job ran")?;
    let job_s = t.elapsed().as_secs_f64();
    let Some(kebao_domain::job::JobResult::BatchScored { scored, read_ms, score_ms, write_ms, .. }) =
        ended.result
    else {
        bail!("the job did not score: {:?}", ended.failure);
    };

    // The CLI on the export.
    let t = Instant::now();
    let cli = std::process::Command::new(&kebao)
        .args(["score", "--model"])
        .arg(&model_path)
        .arg("--data")
        .arg(&data_path)
        .arg("--out")
        .arg(dir.path().join("scores.csv"))
        .output()?;
    let cli_s = t.elapsed().as_secs_f64();
    if !cli.status.success() {
        bail!("kebao score failed: {}", String::from_utf8_lossy(&cli.stderr));
    }
    let times = String::from_utf8_lossy(&cli.stderr)
        .lines()
        .find(|l| l.starts_with("time:"))
        .unwrap_or("")
        .to_owned();
    println!("enterprises scored: {scored}");
    println!(
        "batch job: read {:.2} s, score {:.2} s, write {:.2} s (job wall time {job_s:.2} s)",
        read_ms as f64 / 1000.0,
        score_ms as f64 / 1000.0,
        write_ms as f64 / 1000.0
    );
    println!("kebao score: {times} (process wall time {cli_s:.2} s)");
    println!("ratio (job ÷ CLI, wall time): {:.2}×  target ≤ 3×", job_s / cli_s);
    Ok(())
}
