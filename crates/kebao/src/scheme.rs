//! CLI: `kebao scheme simulate` — a scheme's loss distribution for each party (issue 20).

use anyhow::{Context, Result};
use clap::Subcommand;
use kebao_schemesim::{Lgd, Params};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum SchemeCommand {
    /// Monte Carlo of a scheme over a loan pool (one-factor Gaussian copula); writes JSON
    /// (docs/scheme-simulation.md).
    Simulate {
        /// A scheme file (TOML, as data/loans/schemes.toml).
        #[arg(long)]
        scheme: PathBuf,
        /// The scheme's id in the file (default: its first scheme).
        #[arg(long)]
        scheme_id: Option<String>,
        /// The pool: CSV with principal,pd,lgd per loan, or count,principal,pd,lgd per segment.
        #[arg(long)]
        pool: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        scenarios: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Asset correlation ρ in [0, 1).
        #[arg(long, default_value_t = 0.15)]
        rho: f64,
        /// LGDs Beta distributed around each loan's LGD with this concentration a + b (none:
        /// fixed).
        #[arg(long)]
        lgd_concentration: Option<f64>,
        #[arg(long, default_value_t = 0.0)]
        recovery_rate: f64,
        #[arg(long, default_value_t = 12)]
        recovery_lag_months: u32,
        /// Annual premium rate on principal in basis points (default: the scheme's cap).
        #[arg(long)]
        premium_rate_bp: Option<i64>,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(cmd: SchemeCommand) -> Result<()> {
    match cmd {
        SchemeCommand::Simulate {
            scheme,
            scheme_id,
            pool,
            scenarios,
            seed,
            rho,
            lgd_concentration,
            recovery_rate,
            recovery_lag_months,
            premium_rate_bp,
            out,
        } => {
            let text =
                std::fs::read_to_string(&scheme).with_context(|| format!("reading {}", scheme.display()))?;
            let schemes = kebao_domain::loan::parse_schemes(&text).map_err(|errs| {
                let lines: Vec<String> =
                    errs.iter().map(|e| format!("{}: {}", e.field, e.message_en)).collect();
                anyhow::anyhow!("the scheme file does not load:\n{}", lines.join("\n"))
            })?;
            let s = match &scheme_id {
                Some(id) => schemes
                    .iter()
                    .filter(|s| &s.id == id)
                    .max_by_key(|s| s.version)
                    .ok_or_else(|| anyhow::anyhow!("no scheme `{id}` in {}", scheme.display()))?,
                None => {
                    schemes.first().ok_or_else(|| anyhow::anyhow!("{} holds no scheme", scheme.display()))?
                }
            };
            let pool_text =
                std::fs::read_to_string(&pool).with_context(|| format!("reading {}", pool.display()))?;
            let loans = kebao_schemesim::parse_pool(&pool_text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", pool.display()))?;
            let params = Params {
                rho,
                lgd: lgd_concentration.map_or(Lgd::Fixed, |c| Lgd::Beta { concentration: c }),
                recovery_rate,
                recovery_lag_months,
                premium_rate_bp: premium_rate_bp.unwrap_or(s.premium_rate_bp.value),
                scenarios,
                seed,
            };
            let started = std::time::Instant::now();
            let r = kebao_schemesim::simulate(s, &loans, &params, &mut |_, _| true)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .ok_or_else(|| anyhow::anyhow!("the run stopped"))?;
            let secs = started.elapsed().as_secs_f64();
            let json = serde_json::to_string_pretty(&r)?;
            std::fs::write(&out, json).with_context(|| format!("writing {}", out.display()))?;
            outln!(
                "{} v{}: {} loans × {} scenarios in {secs:.3} s; expected loss {:.0} yuan (insurer {:.0}, bank {:.0}, fund {:.0}); P(fund pays) {:.4}, P(fund exhausted) {:.4} → {}",
                s.id,
                s.version,
                r.loans,
                scenarios,
                r.gross.mean.value,
                r.insurer.mean.value,
                r.bank.mean.value,
                r.fund.mean.value,
                r.p_fund_pays.value,
                r.p_fund_exhausted.value,
                out.display()
            );
            Ok(())
        }
    }
}
