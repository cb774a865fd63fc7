//! Scheme simulation for the zone's officers (issue 20): a what-if run of a scheme over a loan
//! pool — the live book of a scheme, or segments typed in — as a background job with progress,
//! capped in size; its results (each party's loss distribution) kept with the job.

use crate::authz::{Action, Actor, Basis, Resource};
use crate::jobs::{JobContext, JobFuture, JobHandler, JobStop};
use crate::{Result, Service, ServiceError};
use kebao_domain::job::{Job, JobKind, JobParams, JobResult, JobState, SimulationParams};
use kebao_domain::loan::{version_on, LoanStatus};
use kebao_domain::{FieldError, Invalid};
pub use kebao_schemesim::{Distribution, Estimate, Results, MAX_WORK};
use kebao_schemesim::{Lgd, Params, SimError};
use kebao_store::loans::{self as loans_store, Party};

/// The largest pool text a run takes (1 MiB).
pub const MAX_POOL_TEXT: usize = 1024 * 1024;

/// What a zone officer types on the what-if page.
#[derive(Debug, Clone, Default)]
pub struct SimulationInput {
    pub scheme_id: String,
    /// CSV: `principal,pd,lgd` per loan, or `count,principal,pd,lgd` per segment.
    pub pool: String,
    /// Percent: the asset correlation (`15` for ρ = 0.15).
    pub rho_pct: String,
    /// Empty: LGDs fixed; else the Beta concentration a + b.
    pub lgd_concentration: String,
    pub recovery_rate_pct: String,
    pub recovery_lag_months: String,
    pub scenarios: String,
    pub seed: String,
}

/// A run and, once it succeeded, its results.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub job: Job,
    pub params: Option<SimulationParams>,
    pub results: Option<Results>,
}

fn sim_error(e: SimError) -> ServiceError {
    let SimError::Invalid { field, code, message_zh, message_en } = e;
    ServiceError::Invalid(Invalid(vec![FieldError::new(field, code, message_zh, message_en)]))
}

/// Percent text (at most two decimals) as basis points.
fn pct_bp(field: &str, text: &str, default: i64) -> std::result::Result<i64, FieldError> {
    let t = text.trim().trim_end_matches('%').trim();
    if t.is_empty() {
        return Ok(default);
    }
    let v: f64 = t
        .parse()
        .map_err(|_| FieldError::new(field, "number", "请填写百分数（如 15）", "a percentage (15)"))?;
    if !v.is_finite() {
        return Err(FieldError::new(field, "number", "请填写百分数（如 15）", "a percentage (15)"));
    }
    Ok((v * 100.0).round() as i64)
}

fn int<T: std::str::FromStr>(field: &str, text: &str, default: T) -> std::result::Result<T, FieldError> {
    let t = text.trim().replace([',', '_'], "");
    if t.is_empty() {
        return Ok(default);
    }
    t.parse().map_err(|_| FieldError::new(field, "number", "请填写整数", "a whole number"))
}

/// The engine's parameters from the job's.
pub fn engine_params(p: &SimulationParams, premium_rate_bp: i64) -> Params {
    Params {
        rho: p.rho_bp as f64 / 10_000.0,
        lgd: p.lgd_concentration_pct.map_or(Lgd::Fixed, |c| Lgd::Beta { concentration: c as f64 / 100.0 }),
        recovery_rate: p.recovery_bp as f64 / 10_000.0,
        recovery_lag_months: p.recovery_lag_months,
        premium_rate_bp,
        scenarios: p.scenarios,
        seed: p.seed,
    }
}

impl Service {
    /// The live book of a scheme as a pool: its loans being repaid, each with its principal
    /// outstanding and the PD and LGD given (the platform holds no PD per loan). Zone officers.
    pub async fn scheme_book_pool(
        &self,
        actor: &Actor,
        scheme_id: &str,
        pd: f64,
        lgd: f64,
    ) -> Result<String> {
        self.require(actor, Action::SimulateScheme, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        let book = loans_store::list(tx.conn(), &Party::All, Some(LoanStatus::Servicing), 100_000).await?;
        let paid = crate::loans::by_loan(loans_store::repayments_of(tx.conn(), &Party::All).await?);
        let mut out = String::from("principal,pd,lgd\n");
        for l in book.iter().filter(|l| l.loan.scheme_id == scheme_id) {
            let s = crate::loans::servicing(&l.loan, paid.get(&l.loan.id).map_or(&[][..], Vec::as_slice));
            let principal = s.map_or(l.loan.amount, |s| s.principal_outstanding());
            if principal.fen() > 0 {
                out.push_str(&format!("{},{pd},{lgd}\n", principal.to_yuan_string()));
            }
        }
        Ok(out)
    }

    /// Checks a what-if request and queues it as a job: every field checked, the pool read and
    /// the size capped (scenarios × loans ≤ 5·10⁸) before anything is written.
    pub async fn start_scheme_simulation(&self, actor: &Actor, input: &SimulationInput) -> Result<Job> {
        self.require(actor, Action::SimulateScheme, &Resource::Zone, &Basis::None)?;
        let mut errs = Vec::new();
        let rho_bp = pct_bp("rho_pct", &input.rho_pct, 1_500).map_err(|e| errs.push(e)).ok();
        let recovery_bp =
            pct_bp("recovery_rate_pct", &input.recovery_rate_pct, 0).map_err(|e| errs.push(e)).ok();
        let lag =
            int::<u32>("recovery_lag_months", &input.recovery_lag_months, 12).map_err(|e| errs.push(e)).ok();
        let scenarios = int::<u64>("scenarios", &input.scenarios, 20_000).map_err(|e| errs.push(e)).ok();
        let seed = int::<u64>("seed", &input.seed, 1).map_err(|e| errs.push(e)).ok();
        let concentration = if input.lgd_concentration.trim().is_empty() {
            Some(None)
        } else {
            pct_bp("lgd_concentration", &input.lgd_concentration, 0)
                .map(|c| Some(c / 100))
                .map_err(|e| errs.push(e))
                .ok()
        };
        if input.pool.len() > MAX_POOL_TEXT {
            errs.push(FieldError::new(
                "pool",
                "too_large",
                "贷款池内容过大（上限 1 MB）",
                "the pool is too large (at most 1 MB)",
            ));
        }
        let (
            Some(rho_bp),
            Some(recovery_bp),
            Some(lag),
            Some(scenarios),
            Some(seed),
            Some(concentration),
            true,
        ) = (rho_bp, recovery_bp, lag, scenarios, seed, concentration, errs.is_empty())
        else {
            return Err(Invalid(errs).into());
        };
        // The pool and the size first: a refused request stores nothing, not even the shipped
        // schemes on their first use.
        let pool = kebao_schemesim::parse_pool(&input.pool).map_err(sim_error)?;
        let probe = SimulationParams {
            scheme_id: String::new(),
            scheme_version: 0,
            pool: String::new(),
            rho_bp,
            lgd_concentration_pct: concentration,
            recovery_bp,
            recovery_lag_months: lag,
            scenarios,
            seed,
        };
        kebao_schemesim::check_params(&engine_params(&probe, 0), pool.len()).map_err(sim_error)?;
        let schemes = self.loan_schemes().await?;
        let scheme = version_on(&schemes, input.scheme_id.trim(), self.today())
            .or_else(|| schemes.iter().rev().find(|s| s.id == input.scheme_id.trim()))
            .cloned()
            .ok_or_else(|| {
                ServiceError::from(FieldError::new(
                    "scheme_id",
                    "unknown_scheme",
                    "请选择贷款方案",
                    "choose a loan scheme",
                ))
            })?;
        let params = SimulationParams {
            scheme_id: scheme.id.clone(),
            scheme_version: scheme.version,
            pool: input.pool.clone(),
            rho_bp,
            lgd_concentration_pct: concentration,
            recovery_bp,
            recovery_lag_months: lag,
            scenarios,
            seed,
        };
        kebao_schemesim::check_params(&engine_params(&params, scheme.premium_rate_bp.value), pool.len())
            .map_err(sim_error)?;
        let job_params = JobParams { simulation: Some(params), ..JobParams::default() };
        self.queue_job(actor, JobKind::SchemeSimulation, job_params).await
    }

    /// A what-if run: its job (state, progress) and, once done, its results. Zone officers.
    pub async fn scheme_simulation(&self, actor: &Actor, job_id: &str) -> Result<Simulation> {
        self.require(actor, Action::SimulateScheme, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        let job = kebao_store::jobs::get(tx.conn(), job_id).await?;
        if job.kind != JobKind::SchemeSimulation {
            return Err(ServiceError::NotFound);
        }
        let results = match (&job.state, &job.result) {
            (JobState::Succeeded, Some(JobResult::SchemeSimulated { results, .. })) => {
                serde_json::from_str(results).ok()
            }
            _ => None,
        };
        Ok(Simulation { params: job.params.simulation.clone(), results, job })
    }

    /// The latest what-if runs, newest first.
    pub async fn scheme_simulations(&self, actor: &Actor) -> Result<Vec<Job>> {
        self.require(actor, Action::SimulateScheme, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        Ok(kebao_store::jobs::list(tx.conn(), None, Some(JobKind::SchemeSimulation), None, 20).await?)
    }
}

/// The job that runs a what-if simulation.
pub struct SchemeSimulationJob;

impl JobHandler for SchemeSimulationJob {
    fn run<'a>(&'a self, svc: &'a Service, ctx: &'a mut JobContext) -> JobFuture<'a> {
        Box::pin(async move {
            let Some(p) = ctx.job.params.simulation.clone() else {
                return Err(JobStop::Failed(kebao_domain::job::JobFailure::new(
                    "任务缺少模拟参数",
                    "the job holds no simulation parameters",
                )));
            };
            let schemes = svc.loan_schemes().await.map_err(JobStop::from)?;
            let Some(scheme) =
                schemes.into_iter().find(|s| s.id == p.scheme_id && s.version == p.scheme_version)
            else {
                return Err(JobStop::Failed(kebao_domain::job::JobFailure::new(
                    "找不到该方案版本",
                    "the scheme version is not there",
                )));
            };
            let pool = kebao_schemesim::parse_pool(&p.pool).map_err(|e| {
                JobStop::Failed(kebao_domain::job::JobFailure::new(e.message_zh(), e.to_string()))
            })?;
            let params = engine_params(&p, scheme.premium_rate_bp.value);
            let scheme_id = scheme.id.clone();
            let total = i64::try_from(p.scenarios).unwrap_or(i64::MAX);
            let outcome = ctx
                .run_blocking(total, move |at| {
                    kebao_schemesim::simulate(&scheme, &pool, &params, &mut |k, _| at.at(k))
                })
                .await;
            let results = match outcome? {
                Ok(Ok(Some(r))) => r,
                Ok(Ok(None)) => {
                    ctx.check()?;
                    return Err(JobStop::Failed(kebao_domain::job::JobFailure::new(
                        "模拟已停止",
                        "the run stopped",
                    )));
                }
                Ok(Err(e)) => {
                    return Err(JobStop::Failed(kebao_domain::job::JobFailure::new(
                        e.message_zh(),
                        e.to_string(),
                    )))
                }
                Err(e) => {
                    return Err(JobStop::Failed(kebao_domain::job::JobFailure::new(
                        "模拟运行出错",
                        format!("the run failed: {e}"),
                    )))
                }
            };
            ctx.progress(total, total, None).await?;
            let json = serde_json::to_string(&results).map_err(|e| {
                JobStop::Failed(kebao_domain::job::JobFailure::new("无法保存结果", e.to_string()))
            })?;
            Ok(JobResult::SchemeSimulated {
                scheme: scheme_id,
                loans: u64::try_from(results.loans).unwrap_or(u64::MAX),
                scenarios: p.scenarios,
                expected_loss_fen: (results.gross.mean.value * 100.0).round() as i64,
                results: json,
            })
        })
    }
}
