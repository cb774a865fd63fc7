use crate::contract;
use crate::harness::*;
use kebao_domain::event::{ChainBreak, Head};
use kebao_service::audit::Verification;
use kebao_service::ServiceError;

async fn verify(ctx: &Ctx, expect: Option<Head>) -> Verification {
    ctx.svc.audit_verify(&operator(), expect, &mut |_, _| {}).await.unwrap()
}

/// What an attacker with write access to the database would do first.
async fn drop_guards(ctx: &Ctx) {
    let mut tx = ctx.store.begin_write().await.unwrap();
    let stmts: &[&str] = match ctx.store.backend() {
        kebao_store::Backend::Sqlite => {
            &["DROP TRIGGER events_append_only_update", "DROP TRIGGER events_append_only_delete"]
        }
        kebao_store::Backend::Postgres => &[
            "DROP TRIGGER events_append_only_update ON events",
            "DROP TRIGGER events_append_only_truncate ON events",
        ],
    };
    for s in stmts {
        sqlx::query(s).execute(tx.conn()).await.unwrap();
    }
    tx.commit_unlogged(kebao_store::Unlogged::Tampering).await.unwrap();
}

async fn exec(ctx: &Ctx, sql: &str) {
    let mut tx = ctx.store.begin_write().await.unwrap();
    sqlx::query(sql).execute(tx.conn()).await.unwrap();
    tx.commit_unlogged(kebao_store::Unlogged::Tampering).await.unwrap();
}

async fn five_events(ctx: &Ctx) -> Head {
    for i in 0..5 {
        ctx.svc
            .create_org(&operator(), &org_input(&format!("审计{i}"), &uscc(300 + i), "enterprise"))
            .await
            .unwrap();
    }
    match verify(ctx, None).await {
        Verification::Sound(h) => {
            assert_eq!(h, ctx.svc.audit_head(&operator()).await.unwrap());
            assert_eq!(h.count, 5);
            h
        }
        other => panic!("{other:?}"),
    }
}

contract!(log_is_append_only, |ctx: Ctx| async move {
    five_events(&ctx).await;
    let mut tx = ctx.store.begin_write().await.unwrap();
    assert!(sqlx::query("UPDATE events SET payload = '{}' WHERE seq = 2").execute(tx.conn()).await.is_err());
    drop(tx);
    let mut tx = ctx.store.begin_write().await.unwrap();
    assert!(sqlx::query("DELETE FROM events WHERE seq = 5").execute(tx.conn()).await.is_err());
});

contract!(edited_event_is_found, |ctx: Ctx| async move {
    five_events(&ctx).await;
    drop_guards(&ctx).await;
    exec(&ctx, "UPDATE events SET payload = '{\"kind\":\"bank\"}' WHERE seq = 3").await;
    assert_eq!(verify(&ctx, None).await, Verification::Broken(ChainBreak::Altered { seq: 3 }));
});

contract!(deleted_event_is_found, |ctx: Ctx| async move {
    five_events(&ctx).await;
    drop_guards(&ctx).await;
    exec(&ctx, "DELETE FROM events WHERE seq = 2").await;
    assert_eq!(verify(&ctx, None).await, Verification::Broken(ChainBreak::Gap { expected: 2, found: 3 }));
});

contract!(reordered_events_are_found, |ctx: Ctx| async move {
    five_events(&ctx).await;
    drop_guards(&ctx).await;
    // Swap the contents of #2 and #3 while keeping the numbering.
    exec(&ctx, "UPDATE events SET seq = -2 WHERE seq = 2").await;
    exec(&ctx, "UPDATE events SET seq = 2 WHERE seq = 3").await;
    exec(&ctx, "UPDATE events SET seq = 3 WHERE seq = -2").await;
    assert_eq!(verify(&ctx, None).await, Verification::Broken(ChainBreak::Altered { seq: 2 }));
});

contract!(truncated_tail_is_found, |ctx: Ctx| async move {
    let head = five_events(&ctx).await;
    drop_guards(&ctx).await;
    // A careful attacker deletes the newest events and rewinds the head row too.
    exec(&ctx, "DELETE FROM events WHERE seq > 3").await;
    let mut tx = ctx.store.begin_write().await.unwrap();
    let h3: String =
        sqlx::query_scalar("SELECT hash FROM events WHERE seq = 3").fetch_one(tx.conn()).await.unwrap();
    sqlx::query("UPDATE event_head SET seq = 3, hash = $1").bind(h3).execute(tx.conn()).await.unwrap();
    tx.commit_unlogged(kebao_store::Unlogged::Tampering).await.unwrap();
    assert!(
        matches!(verify(&ctx, None).await, Verification::Sound(h) if h.count == 3),
        "undetectable without a recorded head"
    );
    assert_eq!(
        verify(&ctx, Some(head)).await,
        Verification::Broken(ChainBreak::Truncated { expected: 5, found: 3 })
    );
});

contract!(truncation_without_rewinding_the_head_row_is_found, |ctx: Ctx| async move {
    five_events(&ctx).await;
    drop_guards(&ctx).await;
    exec(&ctx, "DELETE FROM events WHERE seq = 5").await;
    assert_eq!(
        verify(&ctx, None).await,
        Verification::Broken(ChainBreak::Truncated { expected: 5, found: 4 })
    );
});

// A write transaction commits only with the event that records its command: a change
// without one is refused at commit and nothing of it is kept. (A read transaction has no
// commit at all: `ReadTx` offers none.)
contract!(a_write_without_its_event_does_not_commit, |ctx: Ctx| async move {
    let org =
        ctx.svc.create_org(&operator(), &org_input("未记录测试企业", &uscc(71), "enterprise")).await.unwrap();
    let before = ctx.svc.log_size().await.unwrap();
    let todo = kebao_store::todos::Todo {
        id: "t-unlogged".into(),
        org_id: org.id.clone(),
        role: "zone_reviewer".into(),
        kind: "check".into(),
        subject: "s-unlogged".into(),
        title_zh: "未记录".into(),
        title_en: "unlogged".into(),
        link: "/".into(),
        created_at_us: 1,
        done_at_us: None,
    };
    let mut tx = ctx.store.begin_write().await.unwrap();
    kebao_store::todos::add_todo(tx.conn(), &todo).await.unwrap();
    let e = tx.commit().await.unwrap_err();
    assert!(e.to_string().contains("only with the event"), "{e}");
    let mut tx = ctx.store.begin_read().await.unwrap();
    let open = kebao_store::todos::open_todos(tx.conn(), &org.id, &["zone_reviewer"], 10).await.unwrap();
    assert!(open.is_empty(), "{open:?}");
    assert_eq!(ctx.svc.log_size().await.unwrap(), before);
});

contract!(the_audit_page_names_who_did_what_to_whom_filters_and_pages, |ctx: Ctx| async move {
    use kebao_service::audit::{AuditQuery, AUDIT_PAGE};
    let z = zone(&ctx.svc).await;
    // A person's sign-in is named by person and organisation, its subject the user.
    let s = ctx.svc.login("banker", PW).await.unwrap();
    let banker = ctx.svc.session(&s.token).await.unwrap().actor;
    let banker_id = banker.user().unwrap().id.clone();
    let all = ctx.svc.audit_events(&z.regulator, &AuditQuery::default()).await.unwrap();
    let newest = &all.rows[0];
    assert_eq!(newest.event.action, "session.opened");
    assert_eq!(newest.actor_name, "banker · 汉口银行光谷支行");
    assert_eq!(newest.actor_user.as_deref(), Some(banker_id.as_str()));
    assert_eq!((newest.subject.kind, newest.subject.name.as_str()), ("user", "banker (banker)"));
    // Organisations created by the operator: named, by kind.
    let orgs = AuditQuery { kind: Some("org".into()), ..Default::default() };
    let orgs = ctx.svc.audit_events(&z.regulator, &orgs).await.unwrap();
    assert_eq!(orgs.rows.len(), 4, "{:?}", orgs.rows.iter().map(|r| &r.event.action).collect::<Vec<_>>());
    assert!(orgs.rows.iter().all(|r| r.subject.kind == "org" && r.event.action.starts_with("org.")));
    assert!(orgs.rows.iter().any(|r| r.subject.name == "汉口银行光谷支行"));
    // By person; by subject.
    let mine = AuditQuery { user: Some(banker_id.clone()), ..Default::default() };
    let mine = ctx.svc.audit_events(&z.regulator, &mine).await.unwrap();
    assert!(!mine.rows.is_empty() && mine.rows.iter().all(|r| r.event.actor == format!("user:{banker_id}")));
    let about = AuditQuery { subject: Some(z.bank.clone()), ..Default::default() };
    let about = ctx.svc.audit_events(&z.regulator, &about).await.unwrap();
    assert!(!about.rows.is_empty() && about.rows.iter().all(|r| r.event.subject == z.bank));
    // Pages: newest first, each older than the last, none twice.
    for _ in 0..AUDIT_PAGE {
        ctx.svc.login("banker", PW).await.unwrap();
    }
    let first = ctx.svc.audit_events(&z.regulator, &AuditQuery::default()).await.unwrap();
    assert_eq!(first.rows.len(), AUDIT_PAGE as usize);
    let before = first.next_before.expect("an older page");
    let second = AuditQuery { before: Some(before), ..Default::default() };
    let second = ctx.svc.audit_events(&z.regulator, &second).await.unwrap();
    assert!(second.rows.iter().all(|r| r.event.seq < before));
    assert!(first.rows.windows(2).all(|w| w[0].event.seq > w[1].event.seq));
    // Unknown kinds and overlong filters are refused; only auditors read the log.
    let bad = AuditQuery { kind: Some("org%".into()), ..Default::default() };
    assert!(matches!(ctx.svc.audit_events(&z.regulator, &bad).await, Err(ServiceError::Invalid(_))));
    let long = AuditQuery { subject: Some("x".repeat(101)), ..Default::default() };
    assert!(matches!(ctx.svc.audit_events(&z.regulator, &long).await, Err(ServiceError::Invalid(_))));
    assert!(matches!(
        ctx.svc.audit_events(&z.banker, &AuditQuery::default()).await,
        Err(ServiceError::Forbidden { .. })
    ));
});

contract!(the_platform_administrator_lists_every_user_with_their_organisation, |ctx: Ctx| async move {
    use kebao_service::worklists::ListQuery;
    let z = zone(&ctx.svc).await;
    let all = ctx.svc.user_list(&z.admin, &ListQuery::default()).await.unwrap();
    assert_eq!(all.total, 5);
    let banker = all.rows.iter().find(|i| i.user.username == "banker").unwrap();
    assert_eq!(banker.org_name, "汉口银行光谷支行");
    assert_eq!(banker.user.roles, vec![kebao_domain::user::Role::BankOfficer]);
    let q = ListQuery { q: "汉口".into(), ..Default::default() };
    let found = ctx.svc.user_list(&z.admin, &q).await.unwrap();
    assert_eq!(found.rows.iter().map(|i| i.user.username.as_str()).collect::<Vec<_>>(), ["banker"]);
    let q = ListQuery { status: "inactive".into(), ..Default::default() };
    assert_eq!(ctx.svc.user_list(&z.admin, &q).await.unwrap().total, 0);
    let q = ListQuery { status: "gone".into(), ..Default::default() };
    assert!(matches!(ctx.svc.user_list(&z.admin, &q).await, Err(ServiceError::Invalid(_))));
    for who in [&z.banker, &z.regulator, &z.ent_admin] {
        assert!(matches!(
            ctx.svc.user_list(who, &ListQuery::default()).await,
            Err(ServiceError::Forbidden { .. })
        ));
    }
});

contract!(words_beside_an_event_are_erased_never_edited_and_an_edit_is_found, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    returned_filing(&ctx.svc, &z, "联系人李四的电话有误").await;
    let mut tx = ctx.store.begin_read().await.unwrap();
    let seq = kebao_store::events::with_personal_text(tx.conn(), "李四", 5).await.unwrap()[0].seq;
    drop(tx);
    // The triggers refuse an edit, a deletion, and an "erasure" that leaves words behind.
    for sql in [
        format!("UPDATE event_personal SET data = '{{\"reason\":\"王五\"}}' WHERE seq = {seq}"),
        format!("DELETE FROM event_personal WHERE seq = {seq}"),
        format!("UPDATE event_personal SET salt = NULL, erased_at_us = 1 WHERE seq = {seq}"),
    ] {
        let mut tx = ctx.store.begin_write().await.unwrap();
        assert!(sqlx::query(&sql).execute(tx.conn()).await.is_err(), "{sql}");
    }
    assert!(matches!(verify(&ctx, None).await, Verification::Sound(_)));
    // Around the triggers, an edit is found by the digest the chained event holds.
    let mut tx = ctx.store.begin_write().await.unwrap();
    let drop_sql = match ctx.store.backend() {
        kebao_store::Backend::Sqlite => "DROP TRIGGER event_personal_erase_only",
        kebao_store::Backend::Postgres => "DROP TRIGGER event_personal_erase_only ON event_personal",
    };
    sqlx::query(drop_sql).execute(tx.conn()).await.unwrap();
    tx.commit_unlogged(kebao_store::Unlogged::Tampering).await.unwrap();
    exec(
        &ctx,
        &format!(
            "UPDATE event_personal SET data = '{{\"reason\":\"联系人王五的电话有误\"}}' WHERE seq = {seq}"
        ),
    )
    .await;
    assert_eq!(verify(&ctx, None).await, Verification::Broken(ChainBreak::PersonalAltered { seq }));
});
