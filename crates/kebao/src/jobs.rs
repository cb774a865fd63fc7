//! Background jobs from the command line (`kebao jobs …`) and in the server: the runner with
//! its handlers, and the schedule that queues the nightly backup.

use crate::{cli_error, operator, service, with_key, Db};
use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use kebao_domain::job::{Job, JobKind, JobState};
use kebao_domain::time_zone::{display_local, from_unix_us, SHANGHAI};
use kebao_service::jobs::{JobQuery, JobRunner};
use kebao_service::Service;
use std::path::PathBuf;
use std::sync::Arc;

/// How the server runs background jobs.
#[derive(Args, Clone, Debug)]
pub struct JobArgs {
    /// Where backups go (a directory only the platform's account reads). Without it, no
    /// backup runs in the server: back up with `kebao backup` from cron instead.
    #[arg(long, env = "KEBAO_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,
    /// The time of day (Asia/Shanghai, HH:MM) of the nightly backup.
    #[arg(long, env = "KEBAO_BACKUP_AT", default_value = "02:30", value_parser = parse_hh_mm)]
    pub backup_at: time::Time,
    /// How many backups the directory keeps (the newest; older ones are removed after each
    /// new one is written and checked).
    #[arg(long, env = "KEBAO_BACKUP_KEEP", default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub backup_keep: u32,
    /// The time of day (Asia/Shanghai, HH:MM) of the daily retention run (data/retention.toml).
    #[arg(long, env = "KEBAO_RETENTION_AT", default_value = "03:00", value_parser = parse_hh_mm)]
    pub retention_at: time::Time,
    /// Run no background jobs in this server (another node runs them).
    #[arg(long)]
    pub no_jobs: bool,
}

fn parse_hh_mm(s: &str) -> std::result::Result<time::Time, String> {
    let (h, m) = s.split_once(':').ok_or_else(|| format!("`{s}` is not HH:MM"))?;
    let h: u8 = h.parse().map_err(|_| format!("`{s}` is not HH:MM"))?;
    let m: u8 = m.parse().map_err(|_| format!("`{s}` is not HH:MM"))?;
    time::Time::from_hms(h, m, 0).map_err(|_| format!("`{s}` is not a time of day"))
}

impl JobArgs {
    /// No backups, jobs on (the demo and tests).
    pub fn without_backups() -> JobArgs {
        JobArgs {
            backup_dir: None,
            backup_at: time::Time::MIDNIGHT,
            backup_keep: 14,
            retention_at: time::Time::from_hms(3, 0, 0).unwrap_or(time::Time::MIDNIGHT),
            no_jobs: false,
        }
    }

    /// The runner for the database at `url`.
    pub fn runner(&self, svc: &Service, url: &str) -> JobRunner {
        let mut r = JobRunner::new(svc.clone());
        if let Some(dir) = &self.backup_dir {
            let h = crate::backup::BackupJob {
                url: url.to_owned(),
                dir: dir.clone(),
                keep: usize::try_from(self.backup_keep).unwrap_or(14),
            };
            r = r.handle(JobKind::Backup, Arc::new(h));
        }
        r
    }
}

/// Starts the runner and the backup schedule beside the server; returns the service, told
/// which kinds of job run here.
pub fn start(svc: Service, url: &str, args: &JobArgs) -> Service {
    if args.no_jobs {
        return svc.with_runnable_jobs(&[]);
    }
    let runner = args.runner(&svc, url);
    let svc = svc.with_runnable_jobs(&runner.kinds());
    tracing::info!(runner = runner.name(), kinds = ?runner.kinds(), "background jobs run here");
    tokio::spawn(runner.run_until(async {
        let _ = tokio::signal::ctrl_c().await;
    }));
    // The daily schedule: the retention rules always, the backup when there is a directory.
    let mut daily = vec![
        (JobKind::Retention, args.retention_at),
        // Loans past due and claim triggers: to-dos for the banks before the working day.
        (JobKind::LoanClocks, time::Time::from_hms(6, 0, 0).unwrap_or(time::Time::MIDNIGHT)),
    ];
    if args.backup_dir.is_some() {
        daily.push((JobKind::Backup, args.backup_at));
    }
    let scheduler = svc.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        // The day each kind was last queued (here or by another server): asked once a day, not
        // every minute.
        let mut done: std::collections::HashMap<JobKind, time::Date> = std::collections::HashMap::new();
        loop {
            tick.tick().await;
            let now = from_unix_us(scheduler.now_us()).to_offset(SHANGHAI);
            for (kind, at) in &daily {
                if now.time() < *at || done.get(kind) == Some(&now.date()) {
                    continue;
                }
                match scheduler.schedule_job(*kind, now.date()).await {
                    Ok(queued) => {
                        if queued {
                            tracing::info!(date = %now.date(), kind = %kind, "queued the daily job");
                        }
                        done.insert(*kind, now.date());
                    }
                    Err(e) => tracing::warn!(error = %e, kind = %kind, "could not queue the daily job"),
                }
            }
        }
    });
    svc
}

/// `kebao jobs …`.
#[derive(Subcommand)]
pub enum JobsCommand {
    /// The newest jobs (or those of one state).
    List {
        #[command(flatten)]
        db: Db,
        /// queued, running, succeeded, failed or cancelled.
        #[arg(long)]
        state: Option<String>,
    },
    /// Queue a job for the server's runner (audit_verify, backup or retention).
    Start {
        #[command(flatten)]
        db: Db,
        kind: String,
    },
    /// Cancel a queued job, or ask a running one to stop.
    Cancel {
        #[command(flatten)]
        db: Db,
        id: String,
    },
    /// Run the queued jobs here, until none is left (for a deployment without a server
    /// running jobs, or to drain the queue by hand).
    Run {
        #[command(flatten)]
        db: Db,
        #[command(flatten)]
        jobs: JobArgs,
    },
}

fn kind_arg(s: &str) -> Result<JobKind> {
    JobKind::from_code(s).ok_or_else(|| {
        let known: Vec<&str> = JobKind::ALL.iter().map(|k| k.code()).collect();
        anyhow::anyhow!("unknown kind of job `{s}` (one of: {})", known.join(", "))
    })
}

fn print(j: &Job, by: &str) {
    let when = |us: Option<i64>| us.map(|u| display_local(from_unix_us(u))).unwrap_or_else(|| "-".into());
    let progress = match j.percent() {
        Some(p) => format!("{}/{} ({p}%)", j.done, j.total),
        None => "-".into(),
    };
    outln!(
        "{}  {:<12} {:<9} {:<16} {:<16} {:<18} {by}",
        j.id,
        j.kind.code(),
        j.state.code(),
        when(Some(j.requested_at_us)),
        when(j.finished_at_us),
        progress
    );
    if let Some(r) = &j.result {
        outln!("    {}", r.summary().1);
    }
    if let Some(f) = &j.failure {
        outln!("    {}", f.message_en);
    }
}

pub async fn run(command: JobsCommand) -> Result<()> {
    let e = |e: kebao_service::ServiceError| anyhow::anyhow!("{}", cli_error(&e));
    match command {
        JobsCommand::List { db, state } => {
            let svc = service(&db).await?;
            let state = match state.as_deref() {
                None => None,
                Some(s) => {
                    Some(JobState::from_code(s).ok_or_else(|| anyhow::anyhow!("unknown state `{s}`"))?)
                }
            };
            let page = svc.jobs(&operator(), &JobQuery { state, ..JobQuery::default() }).await.map_err(e)?;
            for v in &page.jobs {
                print(&v.job, &v.requested_by_name);
            }
            if page.jobs.is_empty() {
                outln!("no jobs");
            }
            Ok(())
        }
        JobsCommand::Start { db, kind } => {
            let svc = service(&db).await?;
            let j = svc.start_job(&operator(), kind_arg(&kind)?).await.map_err(e)?;
            outln!(
                "queued {} ({}); the server's runner takes it (or run `kebao jobs run`)",
                j.id,
                j.kind.code()
            );
            Ok(())
        }
        JobsCommand::Cancel { db, id } => {
            let svc = service(&db).await?;
            let j = svc.cancel_job(&operator(), &id).await.map_err(e)?;
            match j.state {
                JobState::Cancelled => outln!("cancelled {}", j.id),
                _ => outln!("asked {} to stop; it stops after its current step", j.id),
            }
            Ok(())
        }
        JobsCommand::Run { db, jobs } => {
            let svc = service(&db).await?;
            // The audit verification checks the heads kept beside the signing key, if any.
            let svc = if db.signing_key.is_file() { with_key(svc, &db.signing_key, false)? } else { svc };
            let runner = jobs.runner(&svc, &db.url);
            let mut failed = 0;
            while let Some(j) = runner.run_once().await.map_err(e)? {
                print(&j, &j.requested_by);
                if j.state != JobState::Succeeded || j.result.as_ref().is_some_and(|r| r.alarming()) {
                    failed += 1;
                }
            }
            if failed > 0 {
                bail!("{failed} job(s) failed or found a problem");
            }
            Ok(())
        }
    }
}
