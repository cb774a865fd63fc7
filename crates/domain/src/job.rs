//! Background jobs: work that runs outside any request (the audit verification, backups, and
//! later retention, simulations, index runs, model fits and batch scoring). A job is queued,
//! taken by one runner under a lease it renews, reports its progress (and, when it can be
//! resumed, a checkpoint), and ends succeeded, failed or cancelled — the end is the job's one
//! event. A runner that dies leaves its lease to run out: the job is then queued again from
//! its checkpoint, or failed if its kind cannot be resumed.

use crate::error::FieldError;
use crate::org::string_enum;
use serde::{Deserialize, Serialize};

string_enum! {
    /// What a job does.
    JobKind {
        AuditVerify = "audit_verify", "审计链完整校验", "Full audit verification";
        Backup = "backup", "数据库备份", "Database backup";
        Retention = "retention", "按保留期限删除", "Retention (erasure when periods end)";
        LoanClocks = "loan_clocks", "贷款逾期与理赔时钟", "Loan clocks (past due, claim triggers)";
        SchemeSimulation = "scheme_simulation", "贷款方案模拟", "Loan scheme simulation";
        IndexRun = "index_run", "科技保险发展指数测算", "Development index run";
        LabExtract = "lab_extract", "风险实验室经验数据提取", "Risk lab experience extract";
        LabFit = "lab_fit", "风险实验室模型拟合", "Risk lab model fit";
        LabScore = "lab_score", "风险实验室批量评分", "Risk lab batch scoring";
    }
}

string_enum! {
    /// Where a job stands.
    JobState {
        Queued = "queued", "排队中", "Queued";
        Running = "running", "运行中", "Running";
        Succeeded = "succeeded", "已完成", "Succeeded";
        Failed = "failed", "失败", "Failed";
        Cancelled = "cancelled", "已取消", "Cancelled";
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub kind: JobKind,
    pub params: JobParams,
    pub state: JobState,
    /// Who asked for it (the event log's actor name: `user:…` or `system:…`).
    pub requested_by: String,
    pub requested_at_us: i64,
    /// How many times a runner started it.
    pub attempts: i64,
    pub started_at_us: Option<i64>,
    pub finished_at_us: Option<i64>,
    /// Progress: `done` of `total` units (see [`JobKind::unit`]); `total` 0 when not known yet.
    pub done: i64,
    pub total: i64,
    /// Where a resumed run continues (the kind's own JSON).
    pub checkpoint: Option<String>,
    /// Who asked a running job to stop (it stops at its next step).
    pub cancel_requested_by: Option<String>,
    pub result: Option<JobResult>,
    pub failure: Option<JobFailure>,
}

impl Job {
    /// Progress in per cent, when the total is known.
    pub fn percent(&self) -> Option<u8> {
        if self.total <= 0 {
            return None;
        }
        let p = (self.done.clamp(0, self.total) * 100) / self.total;
        u8::try_from(p).ok()
    }
}

/// How many times a resumable job is started before a further interruption fails it.
pub const MAX_ATTEMPTS: i64 = 3;

impl JobKind {
    /// Whether a run interrupted by a restart continues (from its checkpoint, or from the
    /// start when it has none) instead of failing.
    pub const fn resumable(self) -> bool {
        match self {
            // The chain is verified page by page: the checkpoint is the head so far.
            JobKind::AuditVerify => true,
            // A backup interrupted half-way leaves a partial file; a new run writes a new one.
            JobKind::Backup => true,
            // Each erasure is recorded as it is done; a new run finds what is still due.
            JobKind::Retention => true,
            // It compares every loan being repaid with the to-dos open: a new run does it again.
            JobKind::LoanClocks => true,
            // A simulation runs in memory: interrupted, it is failed and run again by a person.
            JobKind::SchemeSimulation => false,
            // So is an index run: it reads the tables again when started anew.
            JobKind::IndexRun => false,
            // An extract and a fit are written whole at the end: started anew, they read again.
            JobKind::LabExtract | JobKind::LabFit | JobKind::LabScore => false,
        }
    }

    /// What one unit of its progress counts.
    pub const fn unit(self) -> (&'static str, &'static str) {
        match self {
            JobKind::AuditVerify => ("个事件", "events"),
            JobKind::Backup => ("步", "steps"),
            JobKind::Retention => ("条", "records"),
            JobKind::LoanClocks => ("笔贷款", "loans"),
            JobKind::SchemeSimulation => ("个情景", "scenarios"),
            JobKind::IndexRun => ("次运行", "runs"),
            JobKind::LabExtract => ("条记录", "records"),
            JobKind::LabFit => ("步", "steps"),
            JobKind::LabScore => ("家企业", "enterprises"),
        }
    }
}

impl JobState {
    /// Whether the job has ended.
    pub const fn ended(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed | JobState::Cancelled)
    }

    /// The state after a runner's or a person's step, or why it cannot be taken.
    pub fn apply(self, step: JobStep) -> Result<JobState, FieldError> {
        use JobState as S;
        use JobStep as T;
        Ok(match (self, step) {
            (S::Queued, T::Start) => S::Running,
            (S::Running, T::Requeue) => S::Queued,
            (S::Running, T::Succeed) => S::Succeeded,
            (S::Running | S::Queued, T::Fail) => S::Failed,
            (S::Queued | S::Running, T::Cancel) => S::Cancelled,
            (from, _) if from.ended() => {
                return Err(FieldError::new(
                    "state",
                    "job_ended",
                    format!("该任务已结束（{}），不能再操作", from.label_zh()),
                    format!("the job has ended ({}); nothing more can be done to it", from.label_en()),
                ))
            }
            (from, step) => {
                return Err(FieldError::new(
                    "state",
                    "job_state",
                    format!("任务{}时不能{}", from.label_zh(), step.label_zh()),
                    format!("a job that is {} cannot be {}", from.label_en(), step.label_en()),
                ))
            }
        })
    }
}

string_enum! {
    /// What can happen to a job.
    JobStep {
        Start = "start", "开始运行", "started";
        Requeue = "requeue", "重新排队", "queued again";
        Succeed = "succeed", "完成", "finished";
        Fail = "fail", "记为失败", "failed";
        Cancel = "cancel", "取消", "cancelled";
    }
}

/// What a job was asked to do (its kind's settings; the kinds of today take none: a backup
/// goes where the server is configured to write them, never to a path a request names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct JobParams {
    /// For a scheduled run: the schedule's key (kind and business date), unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_for: Option<String>,
    /// For a scheme simulation: what to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulation: Option<SimulationParams>,
    /// For an index run: what it ranks and the year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexRunParams>,
    /// For a risk lab extract: what to extract, for whom and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extract: Option<ExtractParams>,
    /// For a risk lab fit: the extract, the kind of model and its variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<FitParams>,
    /// For a risk lab batch scoring: whose model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<BatchScoreParams>,
}

/// A batch scoring's settings: the owner's approved scorecard, applied to the enterprises the
/// owner has a footing for (the zone: all; a bank: its borrowers; an insurer: its policyholders).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchScoreParams {
    pub owner_org_id: String,
    pub model_id: String,
}

/// A risk lab extract's settings, as asked and checked (`kebao_domain::lab`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtractParams {
    /// The institution the extract is for (its own book), or the zone's authority.
    pub owner_org_id: String,
    /// `claims` or `loans`.
    pub kind: String,
    /// `own_book` or `supervision`.
    pub basis: String,
    /// Why the data is extracted, as the requester wrote it.
    pub purpose: String,
    /// Whether personal lines (group health and accident) are included, aggregated per
    /// policy-year; then `assessment` is the recorded impact assessment.
    pub include_personal: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<crate::lab::ImpactAssessment>,
}

/// A risk lab fit's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitParams {
    pub owner_org_id: String,
    pub extract_id: String,
    /// `glm` or `scorecard`.
    pub model_kind: String,
    /// The model's name in the registry.
    pub name: String,
    /// The extract's columns used as categorical rating factors (GLM) or candidate variables.
    pub factors: Vec<String>,
    /// The numeric columns used.
    pub numeric: Vec<String>,
    /// An L2 (ridge) penalty on every coefficient but the intercept, as a decimal string
    /// (empty or `0`: none), for sparse data where a level has no event.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub l2: String,
}

/// An index run's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexRunParams {
    /// `park`, `industry` or `region`.
    pub unit_kind: String,
    pub year: i32,
}

/// A scheme simulation's settings, as asked (ratios in basis points).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationParams {
    pub scheme_id: String,
    pub scheme_version: i64,
    /// The pool as CSV (`principal,pd,lgd`, or `count,principal,pd,lgd`).
    pub pool: String,
    pub rho_bp: i64,
    /// LGDs Beta distributed with this concentration (a + b, in hundredths), or fixed.
    pub lgd_concentration_pct: Option<i64>,
    pub recovery_bp: i64,
    pub recovery_lag_months: u32,
    pub scenarios: u64,
    pub seed: u64,
}

/// What a finished job found or made, shown on its page and recorded in its event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum JobResult {
    /// The chain, the signed tree heads and the ledger all hold.
    AuditSound { events: u64, head: String, tree_heads: u64, transfers: u64 },
    /// The verification found the log or the ledger broken (the job still succeeded: it
    /// answered the question).
    AuditBroken { events_checked: u64, problem: String },
    /// A backup file, checked after writing.
    BackupWritten { file: String, bytes: u64, removed_old: u64 },
    /// What the retention rules erased: per rule id, how many records.
    RetentionApplied { erased: Vec<(String, u64)> },
    /// The loans being repaid checked: to-dos opened (past due, claim trigger met) and closed.
    LoanClocksChecked { loans: u64, opened: u64, closed: u64 },
    /// A scheme simulation's results (their JSON, docs/scheme-simulation.md).
    SchemeSimulated { scheme: String, loans: u64, scenarios: u64, expected_loss_fen: i64, results: String },
    /// An index run stored (its results are the run's, on its own page).
    IndexBuilt { run_id: String, unit_kind: String, year: i32, version: i64, units: u64, runs: u64 },
    /// A risk lab extract written: its rows, and the records left out (and why, in the extract).
    ExtractWritten { extract_id: String, rows: u64, left_out: u64 },
    /// A model fitted in the risk lab and stored awaiting approval.
    ModelFitted { model_id: String, name: String, version: i64, n_obs: u64 },
    /// Enterprises scored in one batch with one model, and how long each phase took.
    BatchScored {
        model_id: String,
        scored: u64,
        #[serde(default)]
        read_ms: u64,
        #[serde(default)]
        score_ms: u64,
        #[serde(default)]
        write_ms: u64,
    },
}

impl JobResult {
    /// One sentence, in both languages.
    pub fn summary(&self) -> (String, String) {
        match self {
            JobResult::AuditSound { events, tree_heads, transfers, .. } => (
                format!("完好：{events} 个事件每一环均可验证，与 {tree_heads} 个签名树头一致，账簿 {transfers} 笔转账与日志相符"),
                format!("sound: every link of {events} events holds, all {tree_heads} signed tree heads match, the ledger's {transfers} transfers are the ones the log records"),
            ),
            JobResult::AuditBroken { events_checked, problem } => (
                format!("已损坏：{problem}（已校验 {events_checked} 个事件）"),
                format!("broken: {problem} ({events_checked} events checked)"),
            ),
            JobResult::BackupWritten { file, bytes, removed_old } => {
                let mb = *bytes as f64 / 1_048_576.0;
                (
                    format!("已写入并校验备份 {file}（{mb:.1} MB）；按保留份数删除旧备份 {removed_old} 份"),
                    format!("backup {file} written and checked ({mb:.1} MB); {removed_old} old backup(s) removed as the retention count says"),
                )
            }
            JobResult::SchemeSimulated { scheme, loans, scenarios, expected_loss_fen, .. } => {
                let el = crate::Money::from_fen(*expected_loss_fen).display_yuan();
                (
                    format!("方案 {scheme}：{loans} 笔贷款 × {scenarios} 个情景，预期损失 {el} 元（详见模拟结果页）"),
                    format!("scheme {scheme}: {loans} loans × {scenarios} scenarios, expected loss {el} yuan (see the results page)"),
                )
            }
            JobResult::IndexBuilt { unit_kind, year, version, units, runs, .. } => {
                let kind = crate::index::UnitKind::from_code(unit_kind);
                let (zh, en) = kind.map_or(("", ""), |k| (k.label_zh(), k.label_en()));
                (
                    format!("{year} 年{zh}指数第 {version} 版：{units} 个单元排名，{runs} 次不确定性运行（详见指数页）"),
                    format!("{year} index of {}, version {version}: {units} units ranked, {runs} uncertainty runs (see the index page)", en.to_lowercase()),
                )
            }
            JobResult::LoanClocksChecked { loans, opened, closed } => (
                format!("已检查 {loans} 笔还款中的贷款：新增待办 {opened} 项（逾期、满足理赔条件），关闭 {closed} 项"),
                format!("{loans} loans being repaid checked: {opened} to-do(s) opened (past due, claim trigger met), {closed} closed"),
            ),
            JobResult::ExtractWritten { rows, left_out, .. } => (
                format!("已生成经验数据 {rows} 行，按规则未纳入 {left_out} 条（详见风险实验室）"),
                format!("experience extract written: {rows} rows, {left_out} record(s) left out by its rules (see the risk lab)"),
            ),
            JobResult::ModelFitted { name, version, n_obs, .. } => (
                format!("模型「{name}」第 {version} 版已拟合（{n_obs} 条观测），待本机构另一人批准"),
                format!("model “{name}” version {version} fitted on {n_obs} observations; awaiting approval by another person"),
            ),
            JobResult::BatchScored { scored, .. } => (
                format!("已批量评分 {scored} 家企业（结果见风险实验室的模型监测）"),
                format!("{scored} enterprises scored in one batch (see the model's monitoring in the risk lab)"),
            ),
            JobResult::RetentionApplied { erased } => {
                let n: u64 = erased.iter().map(|(_, n)| n).sum();
                (
                    format!("已按保留规则处理 {n} 条记录（明细见审计日志页“依保留规则删除”）"),
                    format!("{n} record(s) erased under the retention rules (listed on the audit page)"),
                )
            }
        }
    }

    /// Whether the result is a finding a person must act on.
    pub fn alarming(&self) -> bool {
        matches!(self, JobResult::AuditBroken { .. })
    }
}

/// Why a job failed, in both languages (no internal detail beyond what an operator needs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobFailure {
    pub message_zh: String,
    pub message_en: String,
}

impl JobFailure {
    /// A failure with its message in both languages.
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> JobFailure {
        JobFailure { message_zh: zh.into(), message_en: en.into() }
    }

    /// The run was interrupted (the server stopped) and the job cannot be resumed, or was
    /// interrupted too often.
    pub fn interrupted(attempts: i64) -> JobFailure {
        JobFailure::new(
            format!("运行被中断（服务停止或重启），已尝试 {attempts} 次，不再自动重试；可重新提交"),
            format!("interrupted (the server stopped or restarted) after {attempts} attempt(s); not retried again — start it anew"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_move_only_forward_to_an_end() {
        assert_eq!(JobState::Queued.apply(JobStep::Start).unwrap(), JobState::Running);
        assert_eq!(JobState::Running.apply(JobStep::Requeue).unwrap(), JobState::Queued);
        assert_eq!(JobState::Running.apply(JobStep::Succeed).unwrap(), JobState::Succeeded);
        assert_eq!(JobState::Queued.apply(JobStep::Cancel).unwrap(), JobState::Cancelled);
        assert!(JobState::Queued.apply(JobStep::Succeed).is_err());
        assert!(JobState::Queued.apply(JobStep::Requeue).is_err());
        for end in [JobState::Succeeded, JobState::Failed, JobState::Cancelled] {
            for step in JobStep::ALL {
                let e = end.apply(*step).unwrap_err();
                assert_eq!(e.code, "job_ended");
            }
        }
    }

    #[test]
    fn results_round_trip_and_read_in_both_languages() {
        let r = JobResult::AuditSound { events: 5, head: "5:ab".into(), tree_heads: 1, transfers: 0 };
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<JobResult>(&text).unwrap(), r);
        let (zh, en) = r.summary();
        assert!(zh.contains("5 个事件") && en.contains("5 events"));
        assert!(serde_json::from_str::<JobParams>(r#"{"path":"/etc"}"#).is_err());
    }
}
