//! Background jobs: queued, run, cancelled, resumed from a checkpoint after the runner dies,
//! failed after too many interruptions — each ending with exactly one event.

use crate::contract;
use crate::harness::*;
use kebao_domain::event::{EventRecord, Hash32};
use kebao_domain::job::{JobKind, JobResult, JobState, MAX_ATTEMPTS};
use kebao_service::audit::Verification;
use kebao_service::jobs::{JobContext, JobFuture, JobHandler, JobQuery, JobRunner};
use kebao_service::{Service, ServiceError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn all_events(ctx: &Ctx) -> Vec<EventRecord> {
    let mut tx = ctx.store.begin_read().await.unwrap();
    kebao_store::events::page(tx.conn(), 0, 100_000).await.unwrap()
}

async fn events_about(ctx: &Ctx, subject: &str) -> Vec<EventRecord> {
    all_events(ctx).await.into_iter().filter(|e| e.subject == subject).collect()
}

async fn sound(ctx: &Ctx) {
    match ctx.svc.audit_verify(&operator(), None, &mut |_, _| {}).await.unwrap() {
        Verification::Sound(_) => {}
        other => panic!("{other:?}"),
    }
}

async fn job_state(svc: &Service, id: &str) -> kebao_domain::job::Job {
    svc.job(&operator(), id).await.unwrap().job
}

/// Reports progress with a checkpoint, then waits until released (or forever): a job whose
/// runner can be killed half-way.
struct Hanging {
    release: Arc<tokio::sync::Notify>,
    checkpoint: serde_json::Value,
}

impl JobHandler for Hanging {
    fn run<'a>(&'a self, _svc: &'a Service, ctx: &'a mut JobContext) -> JobFuture<'a> {
        Box::pin(async move {
            ctx.progress(1, 10, Some(&self.checkpoint)).await?;
            self.release.notified().await;
            ctx.progress(2, 10, None).await?;
            Ok(JobResult::BackupWritten { file: "x".into(), bytes: 1, removed_old: 0 })
        })
    }
}

/// Records the checkpoint it was started with.
struct Seeing(Arc<Mutex<Vec<Option<serde_json::Value>>>>);

impl JobHandler for Seeing {
    fn run<'a>(&'a self, _svc: &'a Service, ctx: &'a mut JobContext) -> JobFuture<'a> {
        Box::pin(async move {
            self.0.lock().unwrap().push(ctx.checkpoint::<serde_json::Value>());
            ctx.progress(10, 10, None).await?;
            Ok(JobResult::BackupWritten { file: "y".into(), bytes: 2, removed_old: 0 })
        })
    }
}

/// Waits until the job is running with `checkpoint` recorded (by the run under way).
async fn until_running(svc: &Service, id: &str, checkpoint: &serde_json::Value) {
    let cp = checkpoint.to_string();
    for _ in 0..500 {
        let j = job_state(svc, id).await;
        if j.state == JobState::Running && j.checkpoint.as_deref() == Some(cp.as_str()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the job never ran");
}

contract!(audit_verification_runs_as_a_job_with_one_event, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let before = ctx.svc.audit_head(&operator()).await.unwrap();
    // Readers of the audit log may have it verified; a bank officer may not even look.
    let j = ctx.svc.start_job(&z.regulator, JobKind::AuditVerify).await.unwrap();
    assert_eq!(j.state, JobState::Queued);
    assert!(matches!(
        ctx.svc.jobs(&z.banker, &JobQuery::default()).await,
        Err(ServiceError::Forbidden { .. })
    ));
    assert!(matches!(
        ctx.svc.start_job(&z.banker, JobKind::AuditVerify).await,
        Err(ServiceError::Forbidden { .. })
    ));
    // Backups are the platform administrator's.
    assert!(matches!(
        ctx.svc.start_job(&z.regulator, JobKind::Backup).await,
        Err(ServiceError::Forbidden { .. })
    ));
    // One of a kind at a time.
    match ctx.svc.start_job(&z.admin, JobKind::AuditVerify).await {
        Err(ServiceError::Conflict(f)) => assert_eq!(f.code, "job_pending"),
        other => panic!("{other:?}"),
    }
    // Queueing is bookkeeping: no event yet.
    assert_eq!(ctx.svc.audit_head(&operator()).await.unwrap(), before);
    let runner = JobRunner::new(ctx.svc.clone());
    let ended = runner.run_once().await.unwrap().expect("a job ran");
    assert_eq!(ended.id, j.id);
    assert_eq!(ended.state, JobState::Succeeded);
    assert_eq!(ended.attempts, 1);
    match ended.result {
        Some(JobResult::AuditSound { events, head, .. }) => {
            assert_eq!(events, before.count);
            assert_eq!(head, before.to_string());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        (ended.done, ended.total),
        (i64::try_from(before.count).unwrap(), i64::try_from(before.count).unwrap())
    );
    let evs = events_about(&ctx, &j.id).await;
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0].action, "job.succeeded");
    assert_eq!(evs[0].actor, "system:jobs");
    assert!(evs[0].payload.contains(&z.regulator.log_name()), "the event names who asked");
    assert!(runner.run_once().await.unwrap().is_none(), "the queue is empty");
    // The reader sees it, named.
    let page = ctx.svc.jobs(&z.regulator, &JobQuery::default()).await.unwrap();
    assert_eq!(page.jobs.len(), 1);
    assert!(page.jobs[0].requested_by_name.contains("regulator"), "{}", page.jobs[0].requested_by_name);
    assert_eq!(page.startable, vec![JobKind::AuditVerify]);
    sound(&ctx).await;
});

contract!(a_verification_resumes_from_its_checkpoint, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let evs = all_events(&ctx).await;
    let mid = &evs[evs.len() / 2];
    // A runner that verified up to `mid` and died: its checkpoint is the head at `mid`.
    for (hash, expect_sound) in [(mid.hash, true), (Hash32([7; 32]), false)] {
        let j = ctx.svc.start_job(&z.admin, JobKind::AuditVerify).await.unwrap();
        let release = Arc::new(tokio::sync::Notify::new());
        let checkpoint = serde_json::json!({ "count": mid.seq, "hash": hash.to_hex() });
        let dying = JobRunner::new(ctx.svc.clone()).handle(
            JobKind::AuditVerify,
            Arc::new(Hanging { release: release.clone(), checkpoint: checkpoint.clone() }),
        );
        let task = tokio::spawn(async move { dying.run_once().await });
        until_running(&ctx.svc, &j.id, &checkpoint).await;
        task.abort();
        let _ = task.await;
        // Nothing ended while the lease holds; once it has run out, another runner resumes.
        let fresh = JobRunner::new(ctx.svc.clone());
        assert!(fresh.run_once().await.unwrap().is_none());
        ctx.clock.advance_us(31_000_000);
        let ended = fresh.run_once().await.unwrap().expect("resumed");
        assert_eq!(ended.id, j.id);
        assert_eq!(ended.attempts, 2);
        assert_eq!(ended.state, JobState::Succeeded);
        match (&ended.result, expect_sound) {
            (Some(JobResult::AuditSound { .. }), true) => {}
            // A checkpoint that does not match the log is found out: the resumed run really
            // starts from it.
            (Some(JobResult::AuditBroken { events_checked, .. }), false) => {
                assert_eq!(*events_checked, mid.seq + 1)
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(events_about(&ctx, &j.id).await.len(), 1);
    }
    sound(&ctx).await;
});

contract!(an_abandoned_job_resumes_then_fails_after_its_attempts, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let j = ctx.svc.start_job(&z.admin, JobKind::Backup).await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    for attempt in 1..=MAX_ATTEMPTS {
        let release = Arc::new(tokio::sync::Notify::new());
        let cp = serde_json::json!({ "attempt": attempt });
        let dying = JobRunner::new(ctx.svc.clone())
            .handle(JobKind::Backup, Arc::new(Hanging { release, checkpoint: cp.clone() }));
        let task = tokio::spawn(async move { dying.run_once().await });
        until_running(&ctx.svc, &j.id, &cp).await;
        task.abort();
        let _ = task.await;
        ctx.clock.advance_us(31_000_000);
        if attempt == 1 {
            // The first interruption: another runner resumes it from the checkpoint.
            let (requeued, failed) = ctx.svc.recover_jobs().await.unwrap();
            assert_eq!((requeued, failed), (1, 0));
            assert_eq!(job_state(&ctx.svc, &j.id).await.state, JobState::Queued);
            assert_eq!(job_state(&ctx.svc, &j.id).await.checkpoint.as_deref(), Some(r#"{"attempt":1}"#));
        }
    }
    // Started MAX_ATTEMPTS times and interrupted each time: failed, with its one event.
    let seeing = JobRunner::new(ctx.svc.clone()).handle(JobKind::Backup, Arc::new(Seeing(seen.clone())));
    assert!(seeing.run_once().await.unwrap().is_none());
    assert!(seen.lock().unwrap().is_empty());
    let failed = job_state(&ctx.svc, &j.id).await;
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.attempts, MAX_ATTEMPTS);
    assert!(failed.failure.as_ref().unwrap().message_en.contains("interrupted"));
    let evs = events_about(&ctx, &j.id).await;
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].action, "job.failed");
    // A new one runs, from no checkpoint.
    let k = ctx.svc.start_job(&z.admin, JobKind::Backup).await.unwrap();
    let done = seeing.run_once().await.unwrap().unwrap();
    assert_eq!((done.id.as_str(), done.state), (k.id.as_str(), JobState::Succeeded));
    assert_eq!(seen.lock().unwrap().as_slice(), &[None]);
    sound(&ctx).await;
});

contract!(cancelling_a_queued_or_a_running_job, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    // Queued: it ends now, and the event names the person.
    let j = ctx.svc.start_job(&z.regulator, JobKind::AuditVerify).await.unwrap();
    let cancelled = ctx.svc.cancel_job(&z.regulator, &j.id).await.unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    let evs = events_about(&ctx, &j.id).await;
    assert_eq!(evs.len(), 1);
    assert_eq!((evs[0].action.as_str(), evs[0].actor.clone()), ("job.cancelled", z.regulator.log_name()));
    match ctx.svc.cancel_job(&z.regulator, &j.id).await {
        Err(ServiceError::Invalid(inv)) => assert_eq!(inv.0[0].code, "job_ended"),
        other => panic!("{other:?}"),
    }
    // Someone else's job: only a platform administrator cancels it.
    let k = ctx.svc.start_job(&z.admin, JobKind::AuditVerify).await.unwrap();
    assert!(matches!(ctx.svc.cancel_job(&z.regulator, &k.id).await, Err(ServiceError::Forbidden { .. })));
    assert!(!ctx.svc.job(&z.regulator, &k.id).await.unwrap().can_cancel);
    ctx.svc.cancel_job(&z.admin, &k.id).await.unwrap();
    // Running: asked to stop, it ends cancelled at its next step.
    let b = ctx.svc.start_job(&z.admin, JobKind::Backup).await.unwrap();
    let release = Arc::new(tokio::sync::Notify::new());
    let cp = serde_json::json!({ "step": 1 });
    let runner = JobRunner::new(ctx.svc.clone())
        .handle(JobKind::Backup, Arc::new(Hanging { release: release.clone(), checkpoint: cp.clone() }));
    let task = tokio::spawn(async move { runner.run_once().await });
    until_running(&ctx.svc, &b.id, &cp).await;
    let asked = ctx.svc.cancel_job(&z.admin, &b.id).await.unwrap();
    assert_eq!(
        (asked.state, asked.cancel_requested_by.clone()),
        (JobState::Running, Some(z.admin.log_name()))
    );
    match ctx.svc.cancel_job(&z.admin, &b.id).await {
        Err(ServiceError::Conflict(f)) => assert_eq!(f.code, "cancel_requested"),
        other => panic!("{other:?}"),
    }
    release.notify_one();
    let ended = task.await.unwrap().unwrap().unwrap();
    assert_eq!(ended.state, JobState::Cancelled);
    let evs = events_about(&ctx, &b.id).await;
    assert_eq!(evs.len(), 1);
    assert!(evs[0].action == "job.cancelled" && evs[0].payload.contains(&z.admin.log_name()));
    sound(&ctx).await;
});

contract!(a_scheduled_run_is_queued_once_per_day, |ctx: Ctx| async move {
    let day = ctx.svc.today();
    assert!(ctx.svc.schedule_job(JobKind::Backup, day).await.unwrap());
    assert!(!ctx.svc.schedule_job(JobKind::Backup, day).await.unwrap());
    assert!(ctx.svc.schedule_job(JobKind::Backup, day.next_day().unwrap()).await.unwrap());
    let page = ctx
        .svc
        .jobs(&operator(), &JobQuery { kind: Some(JobKind::Backup), ..JobQuery::default() })
        .await
        .unwrap();
    assert_eq!(page.jobs.len(), 2);
    assert!(page.jobs.iter().all(|v| v.job.requested_by == "system:scheduler"));
    // A server that cannot run a kind refuses to queue it, saying why.
    let limited = ctx.svc.clone().with_runnable_jobs(&[JobKind::AuditVerify]);
    match limited.start_job(&operator(), JobKind::Backup).await {
        Err(ServiceError::Conflict(f)) => assert_eq!(f.code, "not_configured"),
        other => panic!("{other:?}"),
    }
});
