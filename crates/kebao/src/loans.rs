//! CLI: loan schemes (C7) — list the versions with their sources, check a file, load one.

use crate::{cli_error, service, Db};
use anyhow::{Context, Result};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum LoanCommand {
    /// List the scheme versions with each number's source and confidence.
    Schemes {
        #[command(flatten)]
        db: Db,
    },
    /// Check a scheme file without loading it: every error at once.
    Check { file: PathBuf },
    /// Load scheme versions from a TOML file, all or nothing (as a zone approver or platform admin).
    Load {
        #[command(flatten)]
        db: Db,
        #[arg(long = "as")]
        as_user: String,
        file: PathBuf,
    },
}

pub async fn run(cmd: LoanCommand) -> Result<()> {
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{}", cli_error(&e));
    match cmd {
        LoanCommand::Schemes { db } => {
            let svc = service(&db).await?;
            for s in svc.loan_schemes().await.map_err(err)? {
                let to = s.valid_to.map(|d| d.to_string()).unwrap_or_default();
                outln!(
                    "{}\tv{}\t{} — {}\t{}\t{}..{}",
                    s.id,
                    s.version,
                    s.name_zh,
                    s.name_en,
                    if s.example { "example" } else { "zone rule" },
                    s.valid_from,
                    to
                );
                let sh = &s.shares;
                outln!(
                    "  shares insurer {} bp / bank {} bp / guarantor {} bp\t[{}] {}",
                    sh.insurer_bp,
                    sh.bank_bp,
                    sh.guarantor_bp,
                    sh.from.confidence.code(),
                    sh.from.source
                );
                outln!(
                    "  term ≤ {} months\t[{}] {}",
                    s.term_months.value,
                    s.term_months.from.confidence.code(),
                    s.term_months.from.source
                );
                outln!(
                    "  trigger: interest unpaid {} days or principal {} days after maturity; pay within {} working days\t[{}] {}",
                    s.trigger.interest_days,
                    s.trigger.principal_days_after_maturity,
                    s.trigger.payout_working_days,
                    s.trigger.from.confidence.code(),
                    s.trigger.from.source
                );
            }
            Ok(())
        }
        LoanCommand::Check { file } => {
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            match kebao_domain::loan::parse_schemes(&text) {
                Ok(schemes) => {
                    for s in &schemes {
                        outln!("ok {} v{}", s.id, s.version);
                    }
                    Ok(())
                }
                Err(errs) => {
                    for e in &errs {
                        outln!("{}: {} ({})", e.field, e.message_en, e.message_zh);
                    }
                    anyhow::bail!("{} problem(s) in {}", errs.len(), file.display())
                }
            }
        }
        LoanCommand::Load { db, as_user, file } => {
            let svc = service(&db).await?;
            let u = svc.find_user(&as_user).await.map_err(|e| anyhow::anyhow!("user `{as_user}`: {e}"))?;
            let a = svc.actor_for(u).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            for (id, v) in svc.load_loan_schemes(&a, &text).await.map_err(err)? {
                outln!("loaded {id} v{v}");
            }
            Ok(())
        }
    }
}
