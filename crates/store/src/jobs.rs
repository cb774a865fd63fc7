//! Background jobs: the queue, the runners' leases, progress and checkpoints.

use crate::{Result, StoreError};
use kebao_domain::job::{Job, JobFailure, JobKind, JobResult, JobState};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const COLS: &str =
    "id, kind, params, state, requested_by, requested_at_us, attempts, started_at_us, finished_at_us, \
    done, total, checkpoint, cancel_requested_by, result, error_zh, error_en";

fn json<T: serde::de::DeserializeOwned>(col: &str, text: &str) -> Result<T> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Other(format!("stored `jobs.{col}` does not read: {e}")))
}

fn row(r: &AnyRow) -> Result<Job> {
    let kind: String = r.try_get("kind")?;
    let state: String = r.try_get("state")?;
    let params: String = r.try_get("params")?;
    let result = crate::opt_text(r, "result")?;
    let error_zh = crate::opt_text(r, "error_zh")?;
    let error_en = crate::opt_text(r, "error_en")?;
    Ok(Job {
        id: r.try_get("id")?,
        kind: JobKind::from_code(&kind).ok_or_else(|| crate::bad_value("jobs.kind", &kind))?,
        params: json("params", &params)?,
        state: JobState::from_code(&state).ok_or_else(|| crate::bad_value("jobs.state", &state))?,
        requested_by: r.try_get("requested_by")?,
        requested_at_us: r.try_get("requested_at_us")?,
        attempts: r.try_get("attempts")?,
        started_at_us: r.try_get("started_at_us")?,
        finished_at_us: r.try_get("finished_at_us")?,
        done: r.try_get("done")?,
        total: r.try_get("total")?,
        checkpoint: crate::opt_text(r, "checkpoint")?,
        cancel_requested_by: crate::opt_text(r, "cancel_requested_by")?,
        result: result.map(|t| json::<JobResult>("result", &t)).transpose()?,
        failure: match (error_zh, error_en) {
            (Some(zh), Some(en)) => Some(JobFailure { message_zh: zh, message_en: en }),
            _ => None,
        },
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Other(e.to_string()))
}

/// Queues a job. A scheduled one carries its schedule's key: a second job with the same key
/// is not queued (returns false), so that two servers never queue the same night's run twice.
pub async fn insert(conn: &mut AnyConnection, j: &Job) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO jobs (id, kind, params, state, requested_by, requested_at_us, schedule_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (schedule_key) DO NOTHING",
    )
    .bind(&j.id)
    .bind(j.kind.code())
    .bind(to_json(&j.params)?)
    .bind(j.state.code())
    .bind(&j.requested_by)
    .bind(j.requested_at_us)
    .bind(j.params.scheduled_for.clone())
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A job by id.
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Job> {
    let r = sqlx::query(&format!("SELECT {COLS} FROM jobs WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    row(&r)
}

/// The newest jobs first, optionally of one state and kind, older than `before` (a request
/// time, for the next page).
pub async fn list(
    conn: &mut AnyConnection,
    state: Option<JobState>,
    kind: Option<JobKind>,
    before_us: Option<i64>,
    limit: u32,
) -> Result<Vec<Job>> {
    let mut wheres = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    if state.is_some() {
        wheres.push(format!("state = {}", next()));
    }
    if kind.is_some() {
        wheres.push(format!("kind = {}", next()));
    }
    if before_us.is_some() {
        wheres.push(format!("requested_at_us < {}", next()));
    }
    let limit_param = next();
    let filter = if wheres.is_empty() { String::new() } else { format!("WHERE {}", wheres.join(" AND ")) };
    let sql = format!(
        "SELECT {COLS} FROM jobs {filter} ORDER BY requested_at_us DESC, id DESC LIMIT {limit_param}"
    );
    let mut q = sqlx::query(&sql);
    if let Some(s) = state {
        q = q.bind(s.code());
    }
    if let Some(k) = kind {
        q = q.bind(k.code());
    }
    if let Some(b) = before_us {
        q = q.bind(b);
    }
    let rows = q.bind(i64::from(limit)).fetch_all(&mut *conn).await?;
    rows.iter().map(row).collect()
}

/// Takes the oldest queued job for `runner`, under a lease until `lease_until_us`. Two runners
/// never take the same job: the update only takes a job still queued.
pub async fn claim_next(
    conn: &mut AnyConnection,
    runner: &str,
    now_us: i64,
    lease_until_us: i64,
) -> Result<Option<Job>> {
    let r = sqlx::query(&format!(
        "UPDATE jobs SET state = 'running', runner = $1, lease_until_us = $2, \
         started_at_us = COALESCE(started_at_us, $3), attempts = attempts + 1 \
         WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY requested_at_us, id LIMIT 1) \
         AND state = 'queued' RETURNING {COLS}"
    ))
    .bind(runner)
    .bind(lease_until_us)
    .bind(now_us)
    .fetch_optional(&mut *conn)
    .await?;
    r.as_ref().map(row).transpose()
}

/// What a runner learns when it renews its lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// The job is still this runner's; someone asked it to stop, or not.
    Held { cancel_requested_by: Option<String> },
    /// The job is no longer this runner's (its lease ran out and another runner took it, or it
    /// ended): stop without recording anything.
    Lost,
}

/// Renews a runner's lease and records its progress (a checkpoint only when given).
pub async fn progress(
    conn: &mut AnyConnection,
    id: &str,
    runner: &str,
    lease_until_us: i64,
    done_total: Option<(i64, i64)>,
    checkpoint: Option<&str>,
) -> Result<Lease> {
    let (done, total) = done_total.unzip();
    let r = sqlx::query(
        "UPDATE jobs SET lease_until_us = $3, done = COALESCE($4, done), total = COALESCE($5, total), \
         checkpoint = COALESCE($6, checkpoint) WHERE id = $1 AND runner = $2 AND state = 'running' \
         RETURNING cancel_requested_by",
    )
    .bind(id)
    .bind(runner)
    .bind(lease_until_us)
    .bind(done)
    .bind(total)
    .bind(checkpoint)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match r {
        Some(r) => Lease::Held { cancel_requested_by: crate::opt_text(&r, "cancel_requested_by")? },
        None => Lease::Lost,
    })
}

/// Running jobs whose lease ran out before `now_us` (their runner died).
pub async fn abandoned(conn: &mut AnyConnection, now_us: i64) -> Result<Vec<Job>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM jobs WHERE state = 'running' AND lease_until_us < $1 ORDER BY requested_at_us"
    ))
    .bind(now_us)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row).collect()
}

/// Queues an abandoned job again (its checkpoint kept); false if it is no longer abandoned.
pub async fn requeue(conn: &mut AnyConnection, id: &str, now_us: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE jobs SET state = 'queued', runner = NULL, lease_until_us = NULL \
         WHERE id = $1 AND state = 'running' AND lease_until_us < $2",
    )
    .bind(id)
    .bind(now_us)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Who ends a job: the runner holding it (`Some`), or anyone while it is queued or abandoned.
#[derive(Debug, Clone, Copy)]
pub enum Ender<'a> {
    /// The runner that holds the lease.
    Runner(&'a str),
    /// A person cancelling a queued job.
    Queued,
    /// Recovery failing a job whose lease ran out before `now`.
    Abandoned { now_us: i64 },
}

/// Ends a job; false if it was not in the state the ender expects (nothing changed).
pub async fn finish(
    conn: &mut AnyConnection,
    id: &str,
    ender: Ender<'_>,
    state: JobState,
    at_us: i64,
    result: Option<&JobResult>,
    failure: Option<&JobFailure>,
) -> Result<bool> {
    let guard = match ender {
        Ender::Runner(_) => "state = 'running' AND runner = $7",
        Ender::Queued => "state = 'queued'",
        Ender::Abandoned { .. } => "state = 'running' AND lease_until_us < $7",
    };
    let sql = format!(
        "UPDATE jobs SET state = $2, finished_at_us = $3, result = $4, error_zh = $5, error_en = $6, \
         runner = NULL, lease_until_us = NULL WHERE id = $1 AND {guard}"
    );
    let q = sqlx::query(&sql)
        .bind(id)
        .bind(state.code())
        .bind(at_us)
        .bind(result.map(to_json).transpose()?)
        .bind(failure.map(|f| f.message_zh.clone()))
        .bind(failure.map(|f| f.message_en.clone()));
    let q = match ender {
        Ender::Runner(r) => q.bind(r),
        Ender::Queued => q,
        Ender::Abandoned { now_us } => q.bind(now_us),
    };
    let r = q.execute(&mut *conn).await?;
    Ok(r.rows_affected() == 1)
}

/// Asks a running job to stop; false if it is not running.
pub async fn request_cancel(conn: &mut AnyConnection, id: &str, by: &str) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE jobs SET cancel_requested_by = $2 WHERE id = $1 AND state = 'running' AND cancel_requested_by IS NULL",
    )
    .bind(id)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Jobs per kind and state, with the oldest request time of each group (the monitoring
/// gauges).
pub async fn counts(conn: &mut AnyConnection) -> Result<Vec<(JobKind, JobState, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT kind, state, COUNT(*) AS n, MIN(requested_at_us) AS oldest FROM jobs GROUP BY kind, state",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            let state: String = r.try_get("state")?;
            Ok((
                JobKind::from_code(&kind).ok_or_else(|| crate::bad_value("jobs.kind", &kind))?,
                JobState::from_code(&state).ok_or_else(|| crate::bad_value("jobs.state", &state))?,
                r.try_get("n")?,
                r.try_get("oldest")?,
            ))
        })
        .collect()
}
