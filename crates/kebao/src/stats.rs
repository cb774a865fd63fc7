//! CLI: the tech-insurance statistics (C11), the same report as the page and the API.

use crate::{cli_error, operator, service, Db};
use anyhow::{Context, Result};
use clap::Subcommand;
use kebao_domain::stats::{COLUMNS, LAYOUT_NOTE_ZH};
use kebao_service::stats::StatsQuery;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum StatsCommand {
    /// The report arranged by the NFRA 《科技保险业务统计制度》 for a year or a quarter: a table
    /// on the terminal, or a workbook in the report's layout (`--xlsx`), or JSON (`--json`).
    Nfra {
        #[command(flatten)]
        db: Db,
        /// A year (2025) or a quarter (2025Q3).
        #[arg(long)]
        period: String,
        /// 1 (by product class) or 2 (by insured entity).
        #[arg(long, default_value = "1")]
        part: String,
        /// class | entity | industry | stage | park | insurer (default: the part's own rows).
        #[arg(long, default_value = "")]
        by: String,
        /// One insurer's id (its branches included); default the whole zone.
        #[arg(long, default_value = "")]
        insurer: String,
        /// Write the workbook here instead of printing the table.
        #[arg(long, conflicts_with = "json")]
        xlsx: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Where the zone stands against its plans' targets: today and at each year's end.
    Targets {
        #[command(flatten)]
        db: Db,
    },
    /// The evaluation of insurers and banks against the service standards for a year.
    Evaluation {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        year: String,
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: StatsCommand) -> Result<()> {
    match cmd {
        StatsCommand::Evaluation { db, year, json } => {
            let svc = service(&db).await?;
            let e =
                svc.evaluation(&operator(), &year).await.map_err(|e| anyhow::anyhow!("{}", cli_error(&e)))?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&e).context("serialising the evaluation")?);
                return Ok(());
            }
            outln!(
                "# evaluation {} (standards {}): {}",
                e.year,
                e.version,
                kebao_domain::evaluation::METHOD_EN
            );
            for r in &e.standings {
                let figures: Vec<String> = r
                    .figures
                    .iter()
                    .map(|f| match f.value {
                        Some(v) => {
                            format!("{}={v:.1}{}", f.standard_id, if f.met { "" } else { "(not met)" })
                        }
                        None => format!("{}=-", f.standard_id),
                    })
                    .collect();
                outln!(
                    "{:<8} {:>5} {:<30} {:>6}  {}",
                    r.kind,
                    r.rank.map(|k| format!("{k}/{}", r.of)).unwrap_or_default(),
                    r.name,
                    r.score.map(|s| format!("{s:.1}")).unwrap_or_default(),
                    figures.join(" ")
                );
            }
            Ok(())
        }
        StatsCommand::Nfra { db, period, part, by, insurer, xlsx, json } => {
            // Bad arguments are refused before the database is opened.
            let q = StatsQuery::parse(&period, &part, &by, &insurer)
                .map_err(|i| anyhow::anyhow!("{}", cli_error(&kebao_service::ServiceError::Invalid(i))))?;
            let svc = service(&db).await?;
            let r =
                svc.stats_report(&operator(), &q).await.map_err(|e| anyhow::anyhow!("{}", cli_error(&e)))?;
            if let Some(path) = xlsx {
                let bytes = kebao_service::stats::report_xlsx(&r).map_err(|e| anyhow::anyhow!(e))?;
                std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
                outln!("wrote {} ({} rows, {} {})", path.display(), r.rows.len(), r.period_zh, r.scope_zh);
                return Ok(());
            }
            if json {
                outln!("{}", serde_json::to_string_pretty(&r).context("serialising the report")?);
                return Ok(());
            }
            outln!("# {LAYOUT_NOTE_ZH}");
            outln!("# {} · 第{}部分 · {} · 金额单位：元", r.period_zh, r.part, r.scope_zh);
            let mut head = vec!["row".to_owned()];
            head.extend(COLUMNS.iter().map(|(_, zh, _)| (*zh).to_owned()));
            outln!("{}", head.join("\t"));
            for row in &r.rows {
                let indent = if row.depth == 1 { "  " } else { "" };
                outln!("{indent}{}\t{}", row.label_zh, row.measures.plain_cells().join("\t"));
            }
            outln!("合计\t{}", r.total.plain_cells().join("\t"));
            Ok(())
        }
        StatsCommand::Targets { db } => {
            let svc = service(&db).await?;
            let list =
                svc.zone_targets(&operator()).await.map_err(|e| anyhow::anyhow!("{}", cli_error(&e)))?;
            for x in list {
                let t = &x.target;
                let goal = t.value.map_or_else(|| "—".to_owned(), |v| v.to_string());
                let pct = x.percent.map_or_else(String::new, |p| format!(" ({p:.1}%)"));
                outln!(
                    "{}\t{}\t{} / {}{}\tdue {}\t[{}] {}",
                    t.id,
                    t.name_zh,
                    x.now,
                    goal,
                    pct,
                    t.due,
                    t.confidence,
                    t.source
                );
                let years: Vec<String> = x.years.iter().map(|(y, v)| format!("{y}: {v}")).collect();
                outln!("\t{}", years.join("  "));
            }
            Ok(())
        }
    }
}
