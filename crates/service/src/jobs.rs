//! Background jobs (issue 18.2): one mechanism for work that runs outside any request.
//!
//! A person (or the scheduler) queues a job; a [`JobRunner`] in `kebao serve` (or
//! `kebao jobs run`) takes it under a lease it renews while the job runs, records its
//! progress and, for kinds that can resume, a checkpoint. A job ends succeeded, failed or
//! cancelled, and that end is its one event (`job.succeeded`, `job.failed`, `job.cancelled`).
//! A runner that dies stops renewing: once the lease has run out, any runner queues the job
//! again from its checkpoint (or fails it, for a kind that cannot resume or after
//! [`MAX_ATTEMPTS`] starts). Queueing, leases and progress are the runner's bookkeeping
//! (`Unlogged::JobBookkeeping`), like the sign-in throttle.

use crate::authz::{Action, Actor, Basis, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::event::{EventDraft, EventRecord, Head, Verifier};
use kebao_domain::job::{Job, JobFailure, JobKind, JobParams, JobResult, JobState, JobStep, MAX_ATTEMPTS};
use kebao_domain::FieldError;
use kebao_store::jobs::{self as store, Ender, Lease};
use kebao_store::Unlogged;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The event log's name for the runner's own actions.
pub const RUNNER_ACTOR: &str = "system:jobs";

/// Jobs per page of the list.
pub const JOBS_PAGE: u32 = 50;

/// A job with the people it names, for its page.
#[derive(Debug, Clone)]
pub struct JobView {
    pub job: Job,
    /// Who asked for it, named (user and organisation, or the platform's process).
    pub requested_by_name: String,
    /// Who asked it to stop, named.
    pub cancel_requested_by_name: Option<String>,
    /// Whether the reader may cancel it now.
    pub can_cancel: bool,
}

/// What the list of jobs asks for.
#[derive(Debug, Clone, Default)]
pub struct JobQuery {
    pub state: Option<JobState>,
    pub kind: Option<JobKind>,
    /// Requested before this time (the next page).
    pub before_us: Option<i64>,
}

/// One page of jobs, newest first.
#[derive(Debug, Clone)]
pub struct JobPage {
    pub jobs: Vec<JobView>,
    /// The `before_us` of the next (older) page.
    pub next_before_us: Option<i64>,
    /// The kinds this reader may start here.
    pub startable: Vec<JobKind>,
}

fn conflict(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> ServiceError {
    ServiceError::Conflict(FieldError::new("", code, zh, en))
}

impl Service {
    /// The kinds of job that a runner of this process can do (set by `kebao serve`; `None`
    /// when unknown, as in the command line, which queues for the server).
    pub fn with_runnable_jobs(mut self, kinds: &[JobKind]) -> Service {
        self.runnable_jobs = Some(Arc::new(kinds.iter().copied().collect()));
        self
    }

    fn may_start(&self, actor: &Actor, kind: JobKind) -> bool {
        self.authz.decide(actor, start_action(kind), &Resource::Zone, &Basis::None).allowed
    }

    fn runnable(&self, kind: JobKind) -> bool {
        self.runnable_jobs.as_ref().is_none_or(|k| k.contains(&kind))
    }

    /// Queues a job of `kind`. Refused when the actor may not start it, when no runner here
    /// can do it (a backup on a server without a backup directory), or while a job of the
    /// same kind is queued or running.
    pub async fn start_job(&self, actor: &Actor, kind: JobKind) -> Result<Job> {
        if kind == JobKind::SchemeSimulation {
            return Err(conflict(
                "needs_settings",
                "方案模拟须在“方案模拟”页面填写贷款池和参数后启动",
                "a scheme simulation starts from its page, with its pool and settings",
            ));
        }
        if matches!(kind, JobKind::LabExtract | JobKind::LabFit | JobKind::LabScore) {
            return Err(conflict(
                "needs_settings",
                "风险实验室的提取与拟合须在“风险实验室”页面填写用途和变量后启动",
                "a risk lab extract or fit starts from the risk lab's page, with its purpose and variables",
            ));
        }
        if kind == JobKind::IndexRun {
            return Err(conflict(
                "needs_settings",
                "指数测算须在“发展指数”页面选择单元类型和年份后启动",
                "an index run starts from the index page, with its kind of unit and year",
            ));
        }
        self.queue_job(actor, kind, JobParams::default()).await
    }

    /// Queues a job of `kind` with its settings (see [`Service::start_job`]).
    pub(crate) async fn queue_job(&self, actor: &Actor, kind: JobKind, params: JobParams) -> Result<Job> {
        self.require(actor, start_action(kind), &Resource::Zone, &Basis::None)?;
        self.enqueue_job(actor, kind, params, None).await
    }

    /// Queues a job the caller has authorised; refused while a job of the same kind is queued
    /// or running — of the same owner when `owner` is given (an institution's lab jobs do not
    /// wait for another institution's), else anywhere.
    pub(crate) async fn enqueue_job(
        &self,
        actor: &Actor,
        kind: JobKind,
        params: JobParams,
        owner: Option<&str>,
    ) -> Result<Job> {
        if !self.runnable(kind) {
            return Err(conflict(
                "not_configured",
                format!("本服务未配置“{}”（例如备份目录），无法运行；请联系平台运维", kind.label_zh()),
                format!("this server is not set up to run “{}” (a backup directory, say); ask the platform's operators", kind.label_en()),
            ));
        }
        let mut tx = self.store.begin_write().await?;
        for state in [JobState::Queued, JobState::Running] {
            let limit = if owner.is_some() { 500 } else { 1 };
            if let Some(j) = store::list(tx.conn(), Some(state), Some(kind), None, limit)
                .await?
                .into_iter()
                .find(|j| owner.is_none_or(|o| job_owner(j) == Some(o)))
            {
                return Err(conflict(
                    "job_pending",
                    format!(
                        "已有一个“{}”任务{}（{}），请等待其结束",
                        kind.label_zh(),
                        state.label_zh(),
                        short(&j.id)
                    ),
                    format!(
                        "a “{}” job is already {} ({}); wait for it to end",
                        kind.label_en(),
                        state.label_en().to_lowercase(),
                        short(&j.id)
                    ),
                ));
            }
        }
        let job = new_job(self.new_id(), kind, params, &actor.log_name(), self.now_us());
        store::insert(tx.conn(), &job).await?;
        tx.commit_unlogged(Unlogged::JobBookkeeping).await?;
        Ok(job)
    }

    /// Queues the scheduled run of `kind` for `date` (a business date), unless it was queued
    /// already (by this server or another): returns whether it was queued now.
    pub async fn schedule_job(&self, kind: JobKind, date: time::Date) -> Result<bool> {
        let params = JobParams { scheduled_for: Some(format!("{kind}:{date}")), ..JobParams::default() };
        let job = new_job(self.new_id(), kind, params, "system:scheduler", self.now_us());
        let mut tx = self.store.begin_write().await?;
        let queued = store::insert(tx.conn(), &job).await?;
        tx.commit_unlogged(Unlogged::JobBookkeeping).await?;
        Ok(queued)
    }

    /// The jobs, newest first (readers of the audit log and the platform's administrators).
    pub async fn jobs(&self, actor: &Actor, q: &JobQuery) -> Result<JobPage> {
        self.require(actor, Action::ReadJobs, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        let mut jobs = store::list(tx.conn(), q.state, q.kind, q.before_us, JOBS_PAGE + 1).await?;
        let next_before_us = if jobs.len() > JOBS_PAGE as usize {
            jobs.truncate(JOBS_PAGE as usize);
            jobs.last().map(|j| j.requested_at_us)
        } else {
            None
        };
        let mut cache = HashMap::new();
        let mut views = Vec::with_capacity(jobs.len());
        for job in jobs {
            views.push(self.view(&mut tx, &mut cache, actor, job).await?);
        }
        let startable = JobKind::ALL
            .iter()
            .copied()
            .filter(|k| {
                !matches!(
                    k,
                    JobKind::SchemeSimulation
                        | JobKind::IndexRun
                        | JobKind::LabExtract
                        | JobKind::LabFit
                        | JobKind::LabScore
                ) && self.may_start(actor, *k)
                    && self.runnable(*k)
            })
            .collect();
        Ok(JobPage { jobs: views, next_before_us, startable })
    }

    /// One job.
    pub async fn job(&self, actor: &Actor, id: &str) -> Result<JobView> {
        self.require(actor, Action::ReadJobs, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        let job = store::get(tx.conn(), id).await?;
        self.view(&mut tx, &mut HashMap::new(), actor, job).await
    }

    async fn view(
        &self,
        tx: &mut kebao_store::ReadTx,
        cache: &mut HashMap<String, String>,
        actor: &Actor,
        job: Job,
    ) -> Result<JobView> {
        let requested_by_name = crate::audit::actor_name(tx, cache, &job.requested_by).await?;
        let cancel_requested_by_name = match &job.cancel_requested_by {
            Some(a) => Some(crate::audit::actor_name(tx, cache, a).await?),
            None => None,
        };
        let can_cancel =
            !job.state.ended() && job.cancel_requested_by.is_none() && self.may_cancel(actor, &job);
        Ok(JobView { job, requested_by_name, cancel_requested_by_name, can_cancel })
    }

    fn may_cancel(&self, actor: &Actor, job: &Job) -> bool {
        job.requested_by == actor.log_name()
            || self.authz.decide(actor, Action::RunJobs, &Resource::Zone, &Basis::None).allowed
    }

    /// Cancels a job: a queued one ends now (its event names the person); a running one is
    /// asked to stop and ends, cancelled, at its next step. Who asked for a job, or the
    /// platform's administrators, may cancel it.
    pub async fn cancel_job(&self, actor: &Actor, id: &str) -> Result<Job> {
        self.require(actor, Action::ReadJobs, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_write().await?;
        let job = store::get(tx.conn(), id).await?;
        // Who asked for a job may cancel it; anyone else needs the right to run jobs.
        if job.requested_by != actor.log_name() {
            self.require(actor, Action::RunJobs, &Resource::Zone, &Basis::None)?;
        }
        job.state.apply(JobStep::Cancel)?;
        let now = self.now_us();
        if job.state == JobState::Queued {
            if !store::finish(tx.conn(), id, Ender::Queued, JobState::Cancelled, now, None, None).await? {
                return Err(ServiceError::Busy);
            }
            let draft =
                end_event(&actor.log_name(), &job, JobState::Cancelled, None, None, Some(&actor.log_name()));
            self.finish(tx, draft).await?;
        } else if job.cancel_requested_by.is_some() {
            return Err(conflict(
                "cancel_requested",
                "已请求停止该任务，它会在当前步骤结束后停止",
                "the job was already asked to stop; it stops after its current step",
            ));
        } else {
            store::request_cancel(tx.conn(), id, &actor.log_name()).await?;
            tx.commit_unlogged(Unlogged::JobBookkeeping).await?;
        }
        let mut tx = self.store.begin_read().await?;
        Ok(store::get(tx.conn(), id).await?)
    }

    /// The store, for a job handler outside this crate that copies the database itself (the
    /// backup: through the server's own handle on the file).
    pub fn store(&self) -> &kebao_store::Store {
        &self.store
    }

    /// Takes the oldest queued job for `runner`.
    async fn claim_job(&self, runner: &str, lease: Duration) -> Result<Option<Job>> {
        let now = self.now_us();
        let mut tx = self.store.begin_write().await?;
        let job = store::claim_next(tx.conn(), runner, now, now.saturating_add(lease_us(lease))).await?;
        tx.commit_unlogged(Unlogged::JobBookkeeping).await?;
        Ok(job)
    }

    async fn job_progress(
        &self,
        id: &str,
        runner: &str,
        lease: Duration,
        done_total: Option<(i64, i64)>,
        checkpoint: Option<&str>,
    ) -> Result<Lease> {
        let until = self.now_us().saturating_add(lease_us(lease));
        let mut tx = self.store.begin_write().await?;
        let l = store::progress(tx.conn(), id, runner, until, done_total, checkpoint).await?;
        tx.commit_unlogged(Unlogged::JobBookkeeping).await?;
        Ok(l)
    }

    /// Ends a job its runner holds, with its one event; `None` if the runner no longer held it.
    async fn end_job(
        &self,
        job: &Job,
        runner: &str,
        state: JobState,
        result: Option<&JobResult>,
        failure: Option<&JobFailure>,
        cancelled_by: Option<&str>,
    ) -> Result<Option<EventRecord>> {
        let mut tx = self.store.begin_write().await?;
        if !store::finish(tx.conn(), &job.id, Ender::Runner(runner), state, self.now_us(), result, failure)
            .await?
        {
            return Ok(None);
        }
        let draft = end_event(RUNNER_ACTOR, job, state, result, failure, cancelled_by);
        Ok(Some(self.finish(tx, draft).await?))
    }

    /// Jobs whose runner died (their lease ran out): queued again from their checkpoint when
    /// their kind resumes and they have not been started [`MAX_ATTEMPTS`] times, else failed
    /// (with their event). Returns (queued again, failed).
    pub async fn recover_jobs(&self) -> Result<(usize, usize)> {
        let now = self.now_us();
        let abandoned = {
            let mut tx = self.store.begin_read().await?;
            store::abandoned(tx.conn(), now).await?
        };
        let (mut requeued, mut failed) = (0, 0);
        for job in abandoned {
            let mut tx = self.store.begin_write().await?;
            if job.kind.resumable() && job.attempts < MAX_ATTEMPTS {
                if store::requeue(tx.conn(), &job.id, now).await? {
                    requeued += 1;
                    tracing::info!(job = %job.id, kind = %job.kind, "queued again after its runner stopped");
                }
                tx.commit_unlogged(Unlogged::JobBookkeeping).await?;
            } else {
                let failure = JobFailure::interrupted(job.attempts);
                let ender = Ender::Abandoned { now_us: now };
                if store::finish(tx.conn(), &job.id, ender, JobState::Failed, now, None, Some(&failure))
                    .await?
                {
                    let draft = end_event(RUNNER_ACTOR, &job, JobState::Failed, None, Some(&failure), None);
                    self.finish(tx, draft).await?;
                    failed += 1;
                }
            }
        }
        Ok((requeued, failed))
    }
}

/// What starting a job of `kind` needs.
fn start_action(kind: JobKind) -> Action {
    match kind {
        // Whoever may read the audit log may have it verified.
        JobKind::AuditVerify => Action::ReadAudit,
        JobKind::Backup | JobKind::Retention | JobKind::LoanClocks => Action::RunJobs,
        JobKind::SchemeSimulation => Action::SimulateScheme,
        JobKind::IndexRun => Action::BuildIndex,
        JobKind::LabExtract | JobKind::LabFit | JobKind::LabScore => Action::ManageModels,
    }
}

/// The institution a lab job works for.
pub(crate) fn job_owner(j: &Job) -> Option<&str> {
    match (&j.params.extract, &j.params.fit, &j.params.score) {
        (Some(e), _, _) => Some(e.owner_org_id.as_str()),
        (_, Some(f), _) => Some(f.owner_org_id.as_str()),
        (_, _, Some(s)) => Some(s.owner_org_id.as_str()),
        _ => None,
    }
}

fn short(id: &str) -> String {
    id.chars().rev().take(8).collect::<Vec<_>>().into_iter().rev().collect()
}

fn lease_us(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

fn new_job(id: String, kind: JobKind, params: JobParams, by: &str, now: i64) -> Job {
    Job {
        id,
        kind,
        params,
        state: JobState::Queued,
        requested_by: by.to_owned(),
        requested_at_us: now,
        attempts: 0,
        started_at_us: None,
        finished_at_us: None,
        done: 0,
        total: 0,
        checkpoint: None,
        cancel_requested_by: None,
        result: None,
        failure: None,
    }
}

fn end_event(
    actor: &str,
    job: &Job,
    state: JobState,
    result: Option<&JobResult>,
    failure: Option<&JobFailure>,
    cancelled_by: Option<&str>,
) -> EventDraft {
    let action = match state {
        JobState::Succeeded => "job.succeeded",
        JobState::Cancelled => "job.cancelled",
        _ => "job.failed",
    };
    EventDraft::new(
        actor,
        action,
        &job.id,
        serde_json::json!({
            "kind": job.kind.code(),
            "requested_by": job.requested_by,
            "requested_at_us": job.requested_at_us,
            "scheduled_for": job.params.scheduled_for,
            "attempts": job.attempts,
            "result": result,
            "failure": failure,
            "cancelled_by": cancelled_by,
        }),
    )
}

// ---------------------------------------------------------------------------------------
// The runner

/// Why a job's run stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStop {
    /// It failed; the reason is recorded.
    Failed(JobFailure),
    /// Someone asked it to stop.
    Cancelled { by: String },
    /// Its lease was lost (another runner has it now, or it ended): nothing is recorded.
    Lost,
}

impl From<ServiceError> for JobStop {
    fn from(e: ServiceError) -> JobStop {
        tracing::warn!(error = %e, "a job step failed");
        JobStop::Failed(JobFailure::new(format!("运行出错：{e}"), format!("error: {e}")))
    }
}

/// What a handler returns.
pub type JobFuture<'a> = Pin<Box<dyn Future<Output = std::result::Result<JobResult, JobStop>> + Send + 'a>>;

/// Does the work of one kind of job.
pub trait JobHandler: Send + Sync {
    /// Runs the job, reporting progress through `ctx` (which also says when to stop).
    fn run<'a>(&'a self, svc: &'a Service, ctx: &'a mut JobContext) -> JobFuture<'a>;
}

/// What a running job's handler sees: the job, its checkpoint, and the way to report progress.
#[derive(Debug)]
pub struct JobContext {
    pub job: Job,
    svc: Service,
    runner: String,
    lease: Duration,
    /// Set by the heartbeat: who asked the job to stop.
    cancel: Arc<Mutex<Option<String>>>,
    /// Set by the heartbeat: the lease was lost.
    lost: Arc<AtomicBool>,
}

impl JobContext {
    /// Where a resumed run continues, if the job recorded a checkpoint.
    pub fn checkpoint<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        self.job.checkpoint.as_deref().and_then(|c| serde_json::from_str(c).ok())
    }

    /// Whether the job should stop now.
    pub fn check(&self) -> std::result::Result<(), JobStop> {
        if self.lost.load(Ordering::SeqCst) {
            return Err(JobStop::Lost);
        }
        if let Some(by) = self.cancel.lock().ok().and_then(|c| c.clone()) {
            return Err(JobStop::Cancelled { by });
        }
        Ok(())
    }

    /// Records `done` of `total` and, when given, the checkpoint a resumed run starts from;
    /// then says whether to go on.
    pub async fn progress(
        &mut self,
        done: i64,
        total: i64,
        checkpoint: Option<&serde_json::Value>,
    ) -> std::result::Result<(), JobStop> {
        self.check()?;
        let cp = checkpoint.map(serde_json::Value::to_string);
        let lease = self
            .svc
            .job_progress(&self.job.id, &self.runner, self.lease, Some((done, total)), cp.as_deref())
            .await?;
        self.job.done = done;
        self.job.total = total;
        if cp.is_some() {
            self.job.checkpoint = cp;
        }
        match lease {
            Lease::Lost => {
                self.lost.store(true, Ordering::SeqCst);
                Err(JobStop::Lost)
            }
            Lease::Held { cancel_requested_by: Some(by) } => Err(JobStop::Cancelled { by }),
            Lease::Held { cancel_requested_by: None } => Ok(()),
        }
    }
}

/// Shared with CPU-bound work on a blocking thread: the work stores how far it is in `done`
/// and stops when `stop` is set.
#[derive(Debug, Clone, Default)]
pub struct BlockingProgress {
    pub done: Arc<std::sync::atomic::AtomicU64>,
    pub stop: Arc<AtomicBool>,
}

impl BlockingProgress {
    /// Records how far the work is; returns whether it should go on.
    pub fn at(&self, done: u64) -> bool {
        self.done.store(done, Ordering::Relaxed);
        !self.stop.load(Ordering::Relaxed)
    }
}

impl JobContext {
    /// Runs CPU-bound `work` on a blocking thread, reporting its progress (of `total`) every
    /// half second; when the job is to stop (cancelled, lease lost) it tells the work to stop,
    /// waits for it and returns why. Otherwise the work's outcome (`Err` if it panicked).
    pub async fn run_blocking<T: Send + 'static>(
        &mut self,
        total: i64,
        work: impl FnOnce(BlockingProgress) -> T + Send + 'static,
    ) -> std::result::Result<std::result::Result<T, tokio::task::JoinError>, JobStop> {
        let shared = BlockingProgress::default();
        let theirs = shared.clone();
        let mut task = tokio::task::spawn_blocking(move || work(theirs));
        let outcome = loop {
            tokio::select! {
                r = &mut task => break r,
                _ = tokio::time::sleep(Duration::from_millis(500)) => {
                    let k = i64::try_from(shared.done.load(Ordering::Relaxed)).unwrap_or(0);
                    if let Err(e) = self.progress(k, total, None).await {
                        shared.stop.store(true, Ordering::Relaxed);
                        let _ = (&mut task).await;
                        return Err(e);
                    }
                }
            }
        };
        Ok(outcome)
    }
}

/// Runs queued jobs with the handlers it was given.
#[derive(Clone)]
pub struct JobRunner {
    svc: Service,
    handlers: HashMap<JobKind, Arc<dyn JobHandler>>,
    /// This runner's name (the process and a random part): the holder of its leases.
    name: String,
    /// How long a lease lasts without renewal; the heartbeat renews it every third of that.
    pub lease: Duration,
    /// How often an idle runner looks for work.
    pub poll: Duration,
}

impl std::fmt::Debug for JobRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobRunner").field("name", &self.name).field("kinds", &self.kinds()).finish()
    }
}

impl JobRunner {
    /// A runner over `svc` knowing how to run the audit verification and the retention
    /// rules; add others with
    /// [`JobRunner::handle`].
    pub fn new(svc: Service) -> JobRunner {
        let name = format!("{}:{}", std::process::id(), uuid::Uuid::now_v7().simple());
        let mut r = JobRunner {
            svc,
            handlers: HashMap::new(),
            name,
            lease: Duration::from_secs(30),
            poll: Duration::from_secs(2),
        };
        r.handlers.insert(JobKind::AuditVerify, Arc::new(AuditVerifyJob));
        r.handlers.insert(JobKind::Retention, Arc::new(crate::retention::RetentionJob));
        r.handlers.insert(JobKind::LoanClocks, Arc::new(crate::loan_money::LoanClocksJob));
        r.handlers.insert(JobKind::SchemeSimulation, Arc::new(crate::scheme_sim::SchemeSimulationJob));
        r.handlers.insert(JobKind::IndexRun, Arc::new(crate::index::IndexRunJob));
        r.handlers.insert(JobKind::LabExtract, Arc::new(crate::lab_data::ExtractJob));
        r.handlers.insert(JobKind::LabFit, Arc::new(crate::lab_data::FitJob));
        r.handlers.insert(JobKind::LabScore, Arc::new(crate::lab_scores::BatchScoreJob));
        r
    }

    /// Adds (or replaces) the handler of `kind`.
    pub fn handle(mut self, kind: JobKind, h: Arc<dyn JobHandler>) -> JobRunner {
        self.handlers.insert(kind, h);
        self
    }

    /// The kinds this runner can do.
    pub fn kinds(&self) -> Vec<JobKind> {
        let mut k: Vec<JobKind> = self.handlers.keys().copied().collect();
        k.sort();
        k
    }

    /// This runner's name (its leases carry it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Recovers abandoned jobs, then runs the oldest queued one to its end. Returns the job
    /// as it ended, or `None` when the queue was empty.
    pub async fn run_once(&self) -> Result<Option<Job>> {
        self.svc.recover_jobs().await?;
        let Some(job) = self.svc.claim_job(&self.name, self.lease).await? else { return Ok(None) };
        let id = job.id.clone();
        self.run_job(job).await?;
        let mut tx = self.svc.store.begin_read().await?;
        Ok(Some(store::get(tx.conn(), &id).await?))
    }

    /// Runs jobs until `stop` resolves (the server's shutdown).
    pub async fn run_until(self, stop: impl Future<Output = ()> + Send) {
        tokio::pin!(stop);
        loop {
            let idle = match self.run_once().await {
                Ok(Some(_)) => false,
                Ok(None) => true,
                Err(e) => {
                    tracing::warn!(error = %e, "the job runner could not take a job");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = &mut stop => return,
                    () = tokio::time::sleep(self.poll) => {}
                }
            }
        }
    }

    async fn run_job(&self, job: Job) -> Result<()> {
        let cancel = Arc::new(Mutex::new(job.cancel_requested_by.clone()));
        let lost = Arc::new(AtomicBool::new(false));
        let mut ctx = JobContext {
            job: job.clone(),
            svc: self.svc.clone(),
            runner: self.name.clone(),
            lease: self.lease,
            cancel: cancel.clone(),
            lost: lost.clone(),
        };
        // The heartbeat renews the lease while a long step (a pg_dump, say) reports nothing.
        let _beat = AbortOnDrop({
            let (svc, id, name, lease) = (self.svc.clone(), job.id.clone(), self.name.clone(), self.lease);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(lease / 3).await;
                    match svc.job_progress(&id, &name, lease, None, None).await {
                        Ok(Lease::Held { cancel_requested_by }) => {
                            if let (Some(by), Ok(mut c)) = (cancel_requested_by, cancel.lock()) {
                                *c = Some(by);
                            }
                        }
                        Ok(Lease::Lost) => {
                            lost.store(true, Ordering::SeqCst);
                            return;
                        }
                        Err(e) => tracing::warn!(error = %e, job = %id, "could not renew a job's lease"),
                    }
                }
            })
        });
        let outcome = match self.handlers.get(&job.kind) {
            Some(h) => {
                let h = h.clone();
                h.run(&self.svc, &mut ctx).await
            }
            None => Err(JobStop::Failed(JobFailure::new(
                format!("本服务不能运行“{}”任务（未配置）", job.kind.label_zh()),
                format!("this server cannot run “{}” jobs (not set up)", job.kind.label_en()),
            ))),
        };
        let job = ctx.job;
        let ended = match outcome {
            Ok(result) => {
                self.svc.end_job(&job, &self.name, JobState::Succeeded, Some(&result), None, None).await?
            }
            Err(JobStop::Failed(f)) => {
                self.svc.end_job(&job, &self.name, JobState::Failed, None, Some(&f), None).await?
            }
            Err(JobStop::Cancelled { by }) => {
                self.svc.end_job(&job, &self.name, JobState::Cancelled, None, None, Some(&by)).await?
            }
            Err(JobStop::Lost) => None,
        };
        if ended.is_none() {
            tracing::warn!(job = %job.id, "the job's lease was lost before it ended; another runner has it");
        }
        Ok(())
    }
}

/// Stops the heartbeat when the run ends, however it ends (also when the run itself is
/// dropped: a heartbeat never outlives its job's run).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

// ---------------------------------------------------------------------------------------
// The audit verification as a job

/// The whole audit verification (`kebao audit verify`): the hash chain page by page (a
/// restarted run resumes from the last verified head), then the signed tree heads, the heads
/// kept outside the database, and the ledger against the log.
#[derive(Debug)]
pub struct AuditVerifyJob;

/// The audit verification's checkpoint: the head verified so far.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct ChainCheckpoint {
    count: u64,
    hash: String,
}

/// Events verified between two progress reports.
const VERIFY_PAGE: u32 = 5_000;

impl JobHandler for AuditVerifyJob {
    fn run<'a>(&'a self, svc: &'a Service, ctx: &'a mut JobContext) -> JobFuture<'a> {
        Box::pin(async move {
            let from = ctx.checkpoint::<ChainCheckpoint>().and_then(|c| {
                let hash = kebao_domain::event::Hash32::from_hex(&c.hash)?;
                Some(Head { count: c.count, hash })
            });
            let recorded = svc.log_head().await?;
            let total = i64::try_from(recorded.count).unwrap_or(i64::MAX);
            let mut v = match from {
                Some(h) => Verifier::resume(h),
                None => Verifier::new(None),
            };
            let mut after = from.map_or(0, |h| h.count);
            ctx.progress(i64::try_from(after).unwrap_or(0), total, None).await?;
            loop {
                let page = svc.log_page(after, VERIFY_PAGE).await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                for e in &page {
                    if let Err(b) = v.push(e) {
                        return Ok(JobResult::AuditBroken { events_checked: e.seq, problem: b.to_string() });
                    }
                }
                let head = v.head();
                let cp = serde_json::json!({ "count": head.count, "hash": head.hash.to_hex() });
                ctx.progress(
                    i64::try_from(after).unwrap_or(0),
                    total.max(i64::try_from(after).unwrap_or(0)),
                    Some(&cp),
                )
                .await?;
            }
            let head = match v.finish() {
                Ok(h) if h.count < recorded.count => {
                    return Ok(JobResult::AuditBroken {
                        events_checked: h.count,
                        problem: kebao_domain::event::ChainBreak::Truncated {
                            expected: recorded.count,
                            found: h.count,
                        }
                        .to_string(),
                    })
                }
                Ok(h) if h.count == recorded.count && h.hash != recorded.hash => {
                    return Ok(JobResult::AuditBroken {
                        events_checked: h.count,
                        problem: kebao_domain::event::ChainBreak::HeadMismatch { seq: h.count }.to_string(),
                    })
                }
                Ok(h) => h,
                Err(b) => {
                    return Ok(JobResult::AuditBroken { events_checked: after, problem: b.to_string() })
                }
            };
            ctx.check()?;
            let tree_heads = match svc.verify_tree_heads().await? {
                Ok(n) => n,
                Err(e) => return Ok(JobResult::AuditBroken { events_checked: head.count, problem: e }),
            };
            if let Some(j) = &svc.head_journal {
                let kept = match j.kept() {
                    Ok(k) => k,
                    Err(e) => {
                        return Err(JobStop::Failed(JobFailure::new(
                            format!("读取库外留存的签名树头失败：{e}"),
                            format!("could not read the signed tree heads kept outside the database: {e}"),
                        )))
                    }
                };
                if let Err(e) = svc.verify_recorded_heads(&kept).await? {
                    return Ok(JobResult::AuditBroken { events_checked: head.count, problem: e });
                }
            }
            ctx.check()?;
            let ledger = svc.ledger_verify().await?;
            if let Some(p) = ledger.problems.first() {
                return Ok(JobResult::AuditBroken {
                    events_checked: head.count,
                    problem: format!(
                        "the ledger is not what the log records ({} problem(s)); first: {p}",
                        ledger.problems.len()
                    ),
                });
            }
            Ok(JobResult::AuditSound {
                events: head.count,
                head: head.to_string(),
                tree_heads: u64::try_from(tree_heads).unwrap_or(0),
                transfers: u64::try_from(ledger.transfers).unwrap_or(0),
            })
        })
    }
}
