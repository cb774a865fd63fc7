//! CLI: premium-subsidy programmes, eligibility checks and what-if runs.

use crate::{cli_error, operator, service, Db};
use anyhow::{Context, Result};
use clap::Subcommand;
use kebao_service::authz::Actor;
use kebao_service::subsidies::{Declarations, WhatIfParams};
use kebao_service::Service;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum SubsidyCommand {
    /// List the programme versions with their sources and caveats.
    Programmes {
        #[command(flatten)]
        db: Db,
    },
    /// Check a policy (by its number), or a repaid loan's guarantee premium (by the loan's id),
    /// against a programme: the amount with its trace, or every failed rule.
    Check {
        #[command(flatten)]
        db: Db,
        /// The policy number, e.g. DHKB-P-2026-000001.
        #[arg(long, required_unless_present = "loan", conflicts_with = "loan")]
        policy: Option<String>,
        /// The loan's id (its page's address), under a loan-premium programme.
        #[arg(long)]
        loan: Option<String>,
        #[arg(long)]
        programme: String,
        /// Purchase-contract amount in yuan (new material).
        #[arg(long)]
        contract_amount: Option<i64>,
        /// Declare the user of the equipment or material a related party or a trader.
        #[arg(long)]
        related_party: bool,
        /// Declare the project already compensated (the platform's own grants are checked anyway).
        #[arg(long)]
        already_compensated: bool,
    },
    /// Re-run a programme's rules with other parameters over the zone's policies in force.
    /// Nothing is written.
    WhatIf {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        programme: String,
        /// Share of the premium, percent (every product group and year).
        #[arg(long)]
        share: Option<f64>,
        /// Per-enterprise-per-year cap, yuan.
        #[arg(long)]
        cap_per_enterprise: Option<i64>,
        /// Per-policy cap, yuan.
        #[arg(long)]
        cap_per_policy: Option<i64>,
        /// Premium-rate cap, percent.
        #[arg(long)]
        rate_cap: Option<f64>,
    },
    /// Load programme versions from a TOML file (as a zone approver or platform admin).
    Load {
        #[command(flatten)]
        db: Db,
        #[arg(long = "as")]
        as_user: String,
        file: PathBuf,
    },
    /// Replace the working-day calendar from a TOML file (as a zone approver or platform admin).
    Calendar {
        #[command(flatten)]
        db: Db,
        #[arg(long = "as")]
        as_user: String,
        file: PathBuf,
    },
}

async fn actor(svc: &Service, name: &str) -> Result<Actor> {
    let u = svc.find_user(name).await.map_err(|e| anyhow::anyhow!("user `{name}`: {e}"))?;
    svc.actor_for(u).await.map_err(|e| anyhow::anyhow!("{e}"))
}

fn percent(v: Option<f64>, what: &str) -> Result<Option<u32>> {
    match v {
        None => Ok(None),
        Some(p) if p.is_finite() && (0.0..=100.0).contains(&p) => Ok(Some((p * 100.0).round() as u32)),
        Some(p) => anyhow::bail!("--{what} {p}: a percentage from 0 to 100"),
    }
}

fn yuan(f: i64) -> String {
    kebao_domain::Money::from_fen(f).to_yuan_string()
}

pub async fn run(cmd: SubsidyCommand) -> Result<()> {
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{}", cli_error(&e));
    match cmd {
        SubsidyCommand::Programmes { db } => {
            let svc = service(&db).await?;
            for p in svc.subsidy_programmes().await.map_err(err)? {
                let to = p.valid_to.map(|d| d.to_string()).unwrap_or_default();
                outln!(
                    "{}\tv{}\t{} — {}\t[{}]\t{}",
                    p.id,
                    p.version,
                    p.valid_from,
                    to,
                    p.confidence.code(),
                    p.name_zh
                );
                if !p.label_en.is_empty() {
                    outln!("\t\t{}", p.label_en);
                }
            }
            Ok(())
        }
        SubsidyCommand::Check {
            db,
            policy,
            loan,
            programme,
            contract_amount,
            related_party,
            already_compensated,
        } => {
            let svc = service(&db).await?;
            let op = operator();
            let (p, r) = match (policy, loan) {
                (Some(policy), _) => {
                    let id = svc
                        .policy_id_by_number(&op, &policy)
                        .await
                        .map_err(|e| anyhow::anyhow!("policy `{policy}`: {}", cli_error(&e)))?;
                    // The declarations the API's check and application take.
                    let decl = Declarations {
                        contract_amount_yuan: contract_amount,
                        related_party,
                        already_compensated,
                    };
                    svc.check_subsidy(&op, &id, &programme, &decl).await.map_err(err)?
                }
                (None, Some(loan)) => svc
                    .check_loan_subsidy(&op, &loan, &programme)
                    .await
                    .map_err(|e| anyhow::anyhow!("loan `{loan}`: {}", cli_error(&e)))?,
                (None, None) => anyhow::bail!("name a policy (--policy) or a loan (--loan)"),
            };
            outln!("{} v{} [{}] {}", p.id, p.version, p.confidence.code(), p.label_en);
            match r {
                Ok(g) => {
                    for s in &g.steps {
                        outln!("  {:<60} {:>16}", s.label_en, yuan(s.value_fen));
                    }
                    outln!(
                        "eligible: {} yuan{}",
                        yuan(g.amount_fen),
                        g.bound_by.map(|b| format!(" (bound by {b})")).unwrap_or_default()
                    );
                    Ok(())
                }
                Err(fs) => {
                    for f in &fs {
                        outln!("  {}: {} ({})", f.rule, f.reason_en, f.reason_zh);
                    }
                    anyhow::bail!("not eligible: {} rule(s) failed", fs.len())
                }
            }
        }
        SubsidyCommand::WhatIf { db, programme, share, cap_per_enterprise, cap_per_policy, rate_cap } => {
            let svc = service(&db).await?;
            for (v, name) in [(cap_per_enterprise, "cap-per-enterprise"), (cap_per_policy, "cap-per-policy")]
            {
                if v.is_some_and(|x| x < 0) {
                    anyhow::bail!("--{name}: a cap cannot be negative");
                }
            }
            let params = WhatIfParams {
                share_bp: percent(share, "share")?,
                per_enterprise_year_cap_yuan: cap_per_enterprise,
                per_policy_cap_yuan: cap_per_policy,
                rate_cap_bp: percent(rate_cap, "rate-cap")?,
            };
            let w = svc.subsidy_what_if(&operator(), &programme, &params).await.map_err(err)?;
            outln!("policies assessed: {}", w.policies_assessed);
            outln!("eligible: {} policies, {} enterprises", w.eligible, w.enterprises);
            outln!("cost: {} yuan", yuan(w.cost_fen));
            for (k, v) in &w.by_industry {
                outln!("  {k:<24} {:>16}", yuan(*v));
            }
            for (k, v) in &w.failures {
                outln!("  failed {k}: {v}");
            }
            Ok(())
        }
        SubsidyCommand::Load { db, as_user, file } => {
            let svc = service(&db).await?;
            let a = actor(&svc, &as_user).await?;
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            for (id, v) in svc.load_subsidy_programmes(&a, &text).await.map_err(err)? {
                outln!("loaded {id} v{v}");
            }
            Ok(())
        }
        SubsidyCommand::Calendar { db, as_user, file } => {
            let svc = service(&db).await?;
            let a = actor(&svc, &as_user).await?;
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let cal = svc.set_subsidy_calendar(&a, &text).await.map_err(err)?;
            outln!(
                "calendar set: {} holidays, {} make-up working days",
                cal.holidays.len(),
                cal.workdays.len()
            );
            Ok(())
        }
    }
}
