//! CLI: the zone's development index from live data (`kebao index run|runs|show|export|import
//! |framework`), the same runs as the index page and the API.

use crate::{cli_error, operator, service, Db};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use kebao_domain::job::JobState;
use kebao_service::jobs::JobRunner;
use kebao_service::tabular::{self, Format};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum RunCommand {
    /// Queue an index run for a kind of unit and a year, and run it here to its end.
    Run {
        #[command(flatten)]
        db: Db,
        /// park | industry | region.
        #[arg(long)]
        units: String,
        #[arg(long)]
        year: String,
    },
    /// The stored runs, newest first.
    Runs {
        #[command(flatten)]
        db: Db,
    },
    /// One stored run: the ranking with the rank intervals (or its JSON).
    Show {
        #[command(flatten)]
        db: Db,
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Write a run's iMeta.csv, iData.csv and config.toml into a directory: `kebao index
    /// build --framework iMeta.csv --data iData.csv --config config.toml` rebuilds it.
    Export {
        #[command(flatten)]
        db: Db,
        id: String,
        #[arg(long)]
        dir: PathBuf,
    },
    /// Import official statistics (.xlsx or .csv: unit_kind, unit, year, indicator, value,
    /// source); with any bad row nothing is imported and every problem is listed.
    Import {
        #[command(flatten)]
        db: Db,
        file: PathBuf,
    },
    /// Load a new version of the indicator framework (TOML, as data/zone/index.toml).
    Framework {
        #[command(flatten)]
        db: Db,
        file: PathBuf,
    },
}

fn e(e: kebao_service::ServiceError) -> anyhow::Error {
    anyhow::anyhow!("{}", cli_error(&e))
}

fn f(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        "-".into()
    }
}

pub async fn run(cmd: RunCommand) -> Result<()> {
    match cmd {
        RunCommand::Run { db, units, year } => {
            let svc = service(&db).await?;
            let job = svc.start_index_run(&operator(), &units, &year).await.map_err(e)?;
            let runner = JobRunner::new(svc.clone());
            loop {
                let Some(ended) = runner.run_once().await.map_err(e)? else {
                    bail!("the run {} was not found in the queue", job.id)
                };
                if ended.id != job.id {
                    continue;
                }
                if ended.state != JobState::Succeeded {
                    let why = ended.failure.map(|f| f.message_en).unwrap_or_default();
                    bail!("the index run {} ended {}: {why}", ended.id, ended.state.code());
                }
                if let Some(r) = &ended.result {
                    outln!("{}", r.summary().1);
                }
                if let Some(kebao_domain::job::JobResult::IndexBuilt { run_id, .. }) = &ended.result {
                    outln!("run {run_id}");
                }
                return Ok(());
            }
        }
        RunCommand::Runs { db } => {
            let svc = service(&db).await?;
            let runs = svc.index_runs(&operator()).await.map_err(e)?;
            for r in &runs {
                outln!(
                    "{}  {:<8} {} v{:<3} framework {}  {} units",
                    r.stored.id,
                    r.stored.unit_kind,
                    r.stored.year,
                    r.stored.version,
                    r.stored.framework_version,
                    r.results.units.len()
                );
            }
            if runs.is_empty() {
                outln!("no index runs");
            }
            Ok(())
        }
        RunCommand::Show { db, id, json } => {
            let svc = service(&db).await?;
            let r = svc.index_run(&operator(), &id).await.map_err(e)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&r.results).context("serialising the results")?);
                return Ok(());
            }
            outln!(
                "{} {} v{} (framework {})",
                r.stored.unit_kind,
                r.stored.year,
                r.stored.version,
                r.stored.framework_version
            );
            outln!("{:<5} {:<28} {:>8} {:>7} {:>7} {:>7}", "rank", "unit", "index", "median", "q05", "q95");
            for u in &r.results.units {
                outln!(
                    "{:<5} {:<28} {:>8} {:>7} {:>7} {:>7}",
                    u.rank.map(|x| x.to_string()).unwrap_or_default(),
                    u.id,
                    f(u.scores.first().copied().flatten().unwrap_or(f64::NAN)),
                    f(u.median),
                    f(u.q05),
                    f(u.q95)
                );
            }
            for x in r.results.dropped.iter().chain(&r.results.excluded) {
                outln!("  {}", x.reason_en);
            }
            Ok(())
        }
        RunCommand::Export { db, id, dir } => {
            let svc = service(&db).await?;
            let r = svc.index_run(&operator(), &id).await.map_err(e)?;
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            for (name, text) in [
                ("iMeta.csv", &r.stored.imeta),
                ("iData.csv", &r.stored.idata),
                ("config.toml", &r.stored.config),
            ] {
                let path = dir.join(name);
                std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            }
            outln!("wrote iMeta.csv, iData.csv and config.toml to {}", dir.display());
            Ok(())
        }
        RunCommand::Import { db, file } => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let format = Format::from_name(&file.to_string_lossy()).unwrap_or_else(|| Format::sniff(&bytes));
            let table =
                tabular::read(&bytes, format).map_err(|x| anyhow::anyhow!("{}: {x}", file.display()))?;
            let svc = service(&db).await?;
            let report = svc.import_index_statistics(&operator(), &table).await.map_err(e)?;
            for p in &report.problems {
                outln!("row {} `{}`: {}", p.row, p.column, p.reason_en);
            }
            if !report.problems.is_empty() {
                bail!("nothing imported: {} problem(s) in {} row(s)", report.problems.len(), report.rows);
            }
            outln!("imported {} figure(s)", report.imported);
            Ok(())
        }
        RunCommand::Framework { db, file } => {
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let svc = service(&db).await?;
            let fw = svc.load_index_framework(&operator(), &text).await.map_err(e)?;
            outln!("framework {} loaded: {} indicators", fw.version, fw.indicators().count());
            Ok(())
        }
    }
}
