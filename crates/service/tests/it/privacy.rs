//! Personal-data rights: a person sees what the platform holds about them and asks to see,
//! correct or delete it; the platform's administrators answer by the deadline.

use crate::contract;
use crate::harness::*;
use kebao_domain::event::Personal;
use kebao_domain::privacy::{RequestKind, RequestState, RESPONSE_DAYS};
use kebao_service::audit::Verification;
use kebao_service::privacy::PersonRequestInput;
use kebao_service::ServiceError;

contract!(a_person_asks_and_the_administrators_answer_by_the_deadline, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let mine = ctx.svc.my_data(&z.ent_admin).await.unwrap();
    assert_eq!((mine.username.as_str(), mine.org_name.as_str()), ("ent.admin", "光谷激光科技有限公司"));
    assert!(mine.requests.is_empty());
    // What to correct must be said; nothing changes when it is not.
    let before = state(&ctx).await;
    match ctx.svc.file_data_request(&z.ent_admin, RequestKind::Correct, "  ").await {
        Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "required"),
        other => panic!("{other:?}"),
    }
    assert_eq!(state(&ctx).await, before);
    let r = ctx.svc.file_data_request(&z.ent_admin, RequestKind::Correct, "姓名应为“王小明”").await.unwrap();
    assert_eq!(
        (r.state, r.due_on),
        (RequestState::Open, ctx.svc.today() + time::Duration::days(RESPONSE_DAYS))
    );
    // The event names the kind and the deadline, not what the person wrote.
    let mut tx = ctx.store.begin_read().await.unwrap();
    let evs = kebao_store::events::for_subject(tx.conn(), &r.id, 10).await.unwrap();
    drop(tx);
    assert_eq!(evs.len(), 1);
    assert!(
        evs[0].action == "privacy.request_filed" && !evs[0].payload.contains("王小明"),
        "{}",
        evs[0].payload
    );
    // The administrators get a to-do; others may not see the requests or answer them.
    let inbox = ctx.svc.inbox(&z.admin).await.unwrap();
    assert!(inbox.todos.iter().any(|t| t.kind == "data_request" && t.subject == r.id), "{:?}", inbox.todos);
    assert!(matches!(ctx.svc.data_requests(&z.banker).await, Err(ServiceError::Forbidden { .. })));
    assert!(matches!(
        ctx.svc.answer_data_request(&z.regulator, &r.id, true, "已更正", &[]).await,
        Err(ServiceError::Forbidden { .. })
    ));
    match ctx.svc.answer_data_request(&z.admin, &r.id, true, " ", &[]).await {
        Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "required"),
        other => panic!("{other:?}"),
    }
    let done = ctx.svc.answer_data_request(&z.admin, &r.id, true, "已将姓名更正为王小明", &[]).await.unwrap();
    assert_eq!(done.state, RequestState::Granted);
    match ctx.svc.answer_data_request(&z.admin, &r.id, false, "重复", &[]).await {
        Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "answered"),
        other => panic!("{other:?}"),
    }
    assert!(
        !ctx.svc.inbox(&z.admin).await.unwrap().todos.iter().any(|t| t.subject == r.id),
        "the to-do is done"
    );
    let told = ctx.svc.inbox(&z.ent_admin).await.unwrap();
    assert!(told.unread >= 1 && told.notifications.iter().any(|n| n.title_zh.contains("已办理")));
    // A request left unanswered past its deadline shows as overdue, and on the gauge.
    let late = ctx.svc.file_data_request(&z.banker, RequestKind::Access, "").await.unwrap();
    ctx.clock.advance_us((RESPONSE_DAYS + 1) * 86_400_000_000);
    let list = ctx.svc.data_requests(&z.admin).await.unwrap();
    assert_eq!(list.len(), 2);
    assert!(list[0].request.id == late.id && list[0].overdue && list[0].person.contains("banker"));
    assert!(!list[1].overdue);
    assert_eq!(ctx.svc.gauges().await.unwrap().counts.data_requests_past_due, 1);
    let mine = ctx.svc.my_data(&z.banker).await.unwrap();
    assert_eq!(mine.requests.len(), 1);
    assert!(mine.sign_in_attempts >= 0 && mine.api_tokens == 0);
});

contract!(
    a_person_who_is_not_a_user_has_words_naming_them_erased_and_the_chain_still_verifies,
    |ctx: Ctx| async move {
        let z = zone(&ctx.svc).await;
        let reason = "联系人李四的电话有误，请更正后重新提交";
        let pid = returned_filing(&ctx.svc, &z, reason).await;
        // The reason is kept beside its event: the chained payload holds only its salted digest.
        let mut tx = ctx.store.begin_read().await.unwrap();
        let evs = kebao_store::events::for_subject(tx.conn(), &pid, 10).await.unwrap();
        drop(tx);
        let returned = evs.iter().find(|e| e.personal.is_some()).expect("an event with words beside it");
        assert!(
            !returned.payload.contains("李四") && returned.payload.contains("personal_sha256"),
            "{}",
            returned.payload
        );
        assert_eq!(returned.personal_field("reason").as_deref(), Some(reason));
        let seq = returned.seq;
        // Only the administrators record a request for someone who is not a user, and only with
        // the person's identity checked; nothing changes when refused.
        let mut input = PersonRequestInput {
            person_name: "李四".into(),
            identity_check: " ".into(),
            kind: "delete".into(),
            details: "删除平台上提及我的文字".into(),
            ..Default::default()
        };
        assert!(matches!(
            ctx.svc.record_data_request(&z.banker, &input).await,
            Err(ServiceError::Forbidden { .. })
        ));
        let before = state(&ctx).await;
        match ctx.svc.record_data_request(&z.admin, &input).await {
            Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].field, "identity_check"),
            other => panic!("{other:?}"),
        }
        assert_eq!(state(&ctx).await, before);
        input.identity_check = "查验居民身份证原件（经办人 padmin）".into();
        let r = ctx.svc.record_data_request(&z.admin, &input).await.unwrap();
        assert_eq!((r.user_id.as_deref(), r.person_name.as_deref()), (None, Some("李四")));
        assert!(ctx
            .svc
            .inbox(&z.admin)
            .await
            .unwrap()
            .todos
            .iter()
            .any(|t| t.subject == r.id && t.title_zh.contains("李四")));
        // Its page lists the words that name the person.
        let d = ctx.svc.data_request(&z.admin, &r.id).await.unwrap();
        assert_eq!(d.texts.iter().map(|t| (t.seq, t.text.as_str())).collect::<Vec<_>>(), vec![(seq, reason)]);
        // Erasing what the page does not list, or erasing without granting a deletion, is refused.
        let before = state(&ctx).await;
        for (grant, erase, code) in [
            (true, vec![1u64], "not_listed"),
            (true, vec![u64::MAX], "not_listed"),
            (false, vec![seq], "not_a_deletion"),
        ] {
            match ctx.svc.answer_data_request(&z.admin, &r.id, grant, "处理", &erase).await {
                Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, code),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(state(&ctx).await, before);
        let done = ctx
            .svc
            .answer_data_request(&z.admin, &r.id, true, "已删除提及您的文字一处", &[seq])
            .await
            .unwrap();
        assert_eq!(done.state, RequestState::Granted);
        // The words are gone beside the event and from the filing; the digest stays in the chain,
        // and the log and the ledger still verify.
        let mut tx = ctx.store.begin_read().await.unwrap();
        let e = kebao_store::events::get(tx.conn(), seq).await.unwrap();
        drop(tx);
        assert_eq!((e.personal, e.payload.contains("personal_sha256")), (Some(Personal::Erased), true));
        let view = ctx.svc.product(&z.reviewer, &pid).await.unwrap();
        assert!(!format!("{view:?}").contains("李四"), "the filing's copy is erased too");
        assert!(matches!(
            ctx.svc.audit_verify(&operator(), None, &mut |_, _| {}).await.unwrap(),
            Verification::Sound(_)
        ));
        assert!(ctx.svc.ledger_verify().await.unwrap().problems.is_empty());
        let listed = ctx.svc.erasures(&z.regulator, 10).await.unwrap();
        let er = &listed[0].erasure;
        assert_eq!(
            (
                er.rule.as_str(),
                er.subject_kind.as_str(),
                er.subject_id.clone(),
                er.fields.as_str(),
                er.request_id.as_deref(),
                er.job_id.clone()
            ),
            ("deletion_request", "event", seq.to_string(), "reason", Some(r.id.as_str()), None)
        );
        assert!(ctx.svc.data_request(&z.admin, &r.id).await.unwrap().texts.is_empty());
    }
);

contract!(impact_assessments_gate_personal_data_to_recipients_and_api_extracts, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let mut a = kebao_domain::privacy::AssessmentInput {
        target: "extract".into(),
        extract: "api_credit_read".into(),
        purpose: "银行贷款系统自动读取经授权的信用报告".into(),
        data: "企业信用报告；经个人单独同意的个人信用记录".into(),
        recipients: "汉口银行光谷支行贷款系统；密钥限速、可吊销".into(),
        assessed_on: "2026-11-20".into(),
        reviewer: "陈静（合规负责人）".into(),
        conclusion: "风险可控".into(),
        ..Default::default()
    };
    // The platform's administrators record assessments; a bank cannot.
    assert!(matches!(
        ctx.svc.record_impact_assessment(&z.banker, &a).await,
        Err(ServiceError::Forbidden { .. })
    ));
    // A key that reads personal data waits for the assessment of that extract.
    let scopes = vec!["credit:read".to_owned()];
    let before = state(&ctx).await;
    match ctx.svc.issue_api_key(&z.banker, "loan system", &scopes, 60).await {
        Err(ServiceError::Conflict(f)) => assert_eq!(f.code, "no_impact_assessment"),
        other => panic!("{other:?}"),
    }
    assert_eq!(state(&ctx).await, before);
    assert!(ctx.svc.issue_api_key(&z.banker, "catalogue", &["products:read".to_owned()], 60).await.is_ok());
    a.assessed_on = "2027-01-01".into();
    match ctx.svc.record_impact_assessment(&z.admin, &a).await {
        Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "future"),
        other => panic!("{other:?}"),
    }
    a.assessed_on = "2026-11-20".into();
    ctx.svc.record_impact_assessment(&z.admin, &a).await.unwrap();
    assert!(ctx.svc.issue_api_key(&z.banker, "loan system", &scopes, 60).await.is_ok());
    // The other extract is still closed.
    assert!(ctx.svc.issue_api_key(&z.banker, "consents", &["consents:read".to_owned()], 60).await.is_err());
    // A recipient must be an organisation that is not an enterprise.
    a.target = "recipient".into();
    a.recipient_org_id = z.enterprise.clone();
    match ctx.svc.record_impact_assessment(&z.admin, &a).await {
        Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "recipient_kind"),
        other => panic!("{other:?}"),
    }
    // The list: the administrators and the audit log's readers; not a bank.
    let list = ctx.svc.impact_assessments(&z.regulator).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].0.reviewer, "陈静（合规负责人）");
    assert!(ctx.svc.impact_assessments(&z.banker).await.is_err());
});

contract!(retention_erases_a_deactivated_users_password_and_old_sign_in_attempts, |ctx: Ctx| async move {
    use kebao_domain::job::{JobKind, JobResult};
    use kebao_domain::user::Role;
    use kebao_service::jobs::JobRunner;
    let z = zone(&ctx.svc).await;
    let banker = ctx.svc.find_user("banker").await.unwrap();
    // Two sign-ins (one wrong) are recorded; then the bank deactivates its officer.
    assert!(ctx.svc.login("banker", PW).await.is_ok());
    assert!(ctx.svc.login("banker", "wrong password").await.is_err());
    assert_eq!(ctx.svc.my_data(&z.banker).await.unwrap().sign_in_attempts, 2);
    ctx.svc.update_staff(&operator(), &banker.id, &[Role::BankOfficer], false).await.unwrap();
    let run = |svc: kebao_service::Service, admin: kebao_service::authz::Actor| async move {
        svc.start_job(&admin, JobKind::Retention).await.unwrap();
        match JobRunner::new(svc.clone()).run_once().await.unwrap().unwrap().result {
            Some(JobResult::RetentionApplied { erased }) => {
                erased.into_iter().filter(|(_, n)| *n > 0).collect::<Vec<_>>()
            }
            other => panic!("{other:?}"),
        }
    };
    // Within the year nothing is due.
    ctx.clock.advance_us(300 * 86_400_000_000);
    assert!(run(ctx.svc.clone(), z.admin.clone()).await.is_empty());
    // A year and a day on: the password hash is erased and the attempts are deleted.
    ctx.clock.advance_us(67 * 86_400_000_000);
    let erased = run(ctx.svc.clone(), z.admin.clone()).await;
    assert_eq!(
        erased,
        vec![("deactivated_user_credentials".to_owned(), 1), ("sign_in_attempts".to_owned(), 2)]
    );
    // Reactivated, the officer cannot sign in with the old password: it must be reset.
    ctx.svc.update_staff(&operator(), &banker.id, &[Role::BankOfficer], true).await.unwrap();
    assert!(ctx.svc.login("banker", PW).await.is_err());
    ctx.svc.reset_password(&operator(), "banker", "a new long passphrase").await.unwrap();
    assert!(ctx.svc.login("banker", "a new long passphrase").await.is_ok());
    // The erasures are listed with their rules; the log still verifies.
    let list = ctx.svc.erasures(&z.regulator, 10).await.unwrap();
    assert!(list.iter().any(|e| e.erasure.rule == "deactivated_user_credentials"
        && e.erasure.subject_id == banker.id
        && e.erasure.fields == "password_hash"));
    assert!(list.iter().any(|e| e.erasure.rule == "sign_in_attempts" && e.erasure.fields == "count:2"));
    assert!(matches!(
        ctx.svc.audit_verify(&operator(), None, &mut |_, _| {}).await.unwrap(),
        Verification::Sound(_)
    ));
});

contract!(the_answer_is_due_after_the_configured_days, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let svc = kebao_service::Service::new(
        ctx.store.clone(),
        kebao_service::authz::Authz::embedded().unwrap(),
        kebao_domain::IndustryMap::from_toml(kebao_service::CATALOGUE).unwrap(),
        ctx.clock.clone(),
        kebao_service::Config { data_request_days: 7, ..kebao_service::Config::default() },
    );
    let r = svc.file_data_request(&z.ent_admin, RequestKind::Access, "").await.unwrap();
    assert_eq!(r.due_on, svc.today() + time::Duration::days(7));
    assert_eq!(svc.data_request_days(), 7);
    let d = ctx.svc.file_data_request(&z.banker, RequestKind::Access, "").await.unwrap();
    assert_eq!(d.due_on, ctx.svc.today() + time::Duration::days(RESPONSE_DAYS));
});
