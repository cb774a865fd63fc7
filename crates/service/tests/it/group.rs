//! Group commit on SQLite (`kebao_store`'s `group` module): concurrent commands share
//! durable commits, a failing command is rolled back alone, and held commits stay invisible
//! to other connections until they are flushed.

use crate::harness::*;
use kebao_service::audit::Verification;
use kebao_store::{OpenOptions, Store};

async fn event_count(ctx: &Ctx) -> u64 {
    ctx.svc.audit_head(&operator()).await.unwrap().count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_share_commits_and_a_failing_one_is_rolled_back_alone() {
    on_sqlite(|ctx| async move {
        assert!(ctx.store.is_grouped(), "the SQLite test store commits in groups");
        let before = event_count(&ctx).await;
        let (_, commits_before) = ctx.store.group_stats().unwrap();
        let mut set = tokio::task::JoinSet::new();
        let spawn = |set: &mut tokio::task::JoinSet<_>, i: u32| {
            let svc = ctx.svc.clone();
            set.spawn(async move {
                svc.create_org(&operator(), &org_input(&format!("并发企业{i}"), &uscc(500 + i), "enterprise"))
                    .await
            });
        };
        for i in 0..24 {
            spawn(&mut set, i);
        }
        // Exactly one of the commands still to finish fails after its change, before its event.
        ctx.svc.inject_fault_before_event();
        for i in 24..48 {
            spawn(&mut set, i);
        }
        // And one repeats a credit code: the store refuses it.
        spawn(&mut set, 7);
        let (mut ok, mut failed) = (0, 0);
        while let Some(r) = set.join_next().await {
            match r.unwrap() {
                Ok(_) => ok += 1,
                Err(_) => failed += 1,
            }
        }
        assert_eq!((ok, failed), (47, 2));
        assert_eq!(event_count(&ctx).await, before + 47, "one event per acknowledged command");
        let listed = ctx.svc.list_orgs(&operator(), &Default::default(), None, 1).await.unwrap().total;
        let named = ctx.svc.list_orgs(&operator(), &Default::default(), None, 500).await.unwrap();
        let concurrent = named.items.iter().filter(|o| o.name.starts_with("并发企业")).count();
        assert_eq!(concurrent, 47, "the failed command's organisation was rolled back ({listed} in all)");
        match ctx.svc.audit_verify(&operator(), None, &mut |_, _| {}).await.unwrap() {
            Verification::Sound(h) => assert_eq!(h.count, before + 47),
            other => panic!("the log does not verify: {other:?}"),
        }
        let (_, commits) = ctx.store.group_stats().unwrap();
        let used = commits - commits_before;
        assert!((1..=24).contains(&used), "47 commands took {used} commits: they were not grouped");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_commits_are_invisible_to_other_connections_until_flushed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let other_url = url.clone();
    on_sqlite_at(&url, |ctx| async move {
        let other = Store::open(&other_url, &OpenOptions::default()).await.unwrap();
        let count = |s: Store| async move {
            let mut r = s.begin_read().await.unwrap();
            kebao_store::events::head(r.conn()).await.unwrap().count
        };
        let before = count(other.clone()).await;
        ctx.svc.hold_commits(true).unwrap();
        ctx.svc.create_org(&operator(), &org_input("乙公司", &uscc(31), "enterprise")).await.unwrap();
        ctx.svc.create_org(&operator(), &org_input("丙公司", &uscc(32), "enterprise")).await.unwrap();
        // The held store reads its own batch; another connection sees only what is durable.
        assert_eq!(event_count(&ctx).await, before + 2);
        assert_eq!(count(other.clone()).await, before);
        // A refused command inside the held batch leaves the others alone.
        ctx.svc.create_org(&operator(), &org_input("重复", &uscc(31), "enterprise")).await.unwrap_err();
        assert_eq!(ctx.svc.flush_commits().await.unwrap(), 2);
        ctx.svc.hold_commits(false).unwrap();
        assert_eq!(count(other.clone()).await, before + 2);
        assert!(matches!(
            ctx.svc.audit_verify(&operator(), None, &mut |_, _| {}).await.unwrap(),
            Verification::Sound(_)
        ));
        other.close().await;
    })
    .await;
}

/// A request that goes away (the client hangs up) drops its command wherever it is: inside
/// the command, while a savepoint is being released, while the batch commits. The writer
/// must stay usable, nothing acknowledged may be lost, nothing unacknowledged half-kept,
/// and the log must verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_dropped_anywhere_leave_the_writer_sound() {
    on_sqlite(|ctx| async move {
        let before = event_count(&ctx).await;
        let mut acknowledged = Vec::new();
        for i in 0..160u32 {
            let steady = {
                let svc = ctx.svc.clone();
                tokio::spawn(async move {
                    svc.create_org(
                        &operator(),
                        &org_input(&format!("稳定企业{i}"), &uscc(2000 + i), "enterprise"),
                    )
                    .await
                })
            };
            let dropped = {
                let svc = ctx.svc.clone();
                tokio::spawn(async move {
                    svc.create_org(
                        &operator(),
                        &org_input(&format!("中断企业{i}"), &uscc(3000 + i), "enterprise"),
                    )
                    .await
                })
            };
            // Cut the second command off at a different moment each time: after some scheduler
            // turns, or some way into the disk's flush.
            if i % 2 == 0 {
                for _ in 0..(i % 40) {
                    tokio::task::yield_now().await;
                }
            } else {
                tokio::time::sleep(std::time::Duration::from_micros(u64::from(i % 80) * 60)).await;
            }
            dropped.abort();
            let dropped_outcome = dropped.await;
            let steady = steady.await.unwrap();
            if let Ok(o) = steady {
                acknowledged.push(o.id);
            }
            if let Ok(Ok(o)) = dropped_outcome {
                acknowledged.push(o.id);
            }
        }
        // The writer still works.
        let last =
            ctx.svc.create_org(&operator(), &org_input("收尾企业", &uscc(4000), "enterprise")).await.unwrap();
        acknowledged.push(last.id);
        assert!(acknowledged.len() >= 161, "the steady commands are acknowledged: {}", acknowledged.len());
        for id in &acknowledged {
            ctx.svc.get_org(&operator(), id).await.expect("an acknowledged command is kept");
        }
        // Whatever else is kept is whole: one event per organisation, and the chain holds.
        // The database started empty: every organisation was made here.
        let made = ctx.svc.list_orgs(&operator(), &Default::default(), None, 1).await.unwrap().total;
        match ctx.svc.audit_verify(&operator(), None, &mut |_, _| {}).await.unwrap() {
            Verification::Sound(h) => assert_eq!(h.count, before + made, "one event per organisation kept"),
            other => panic!("the log does not verify: {other:?}"),
        }
    })
    .await;
}
