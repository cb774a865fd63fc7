//! Personal-data rights: a person sees what the platform holds about them and asks to see,
//! correct or delete it; the platform's administrators answer by the deadline.

use crate::contract;
use crate::harness::*;
use kebao_domain::privacy::{RequestKind, RequestState, RESPONSE_DAYS};
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
        ctx.svc.answer_data_request(&z.regulator, &r.id, true, "已更正").await,
        Err(ServiceError::Forbidden { .. })
    ));
    match ctx.svc.answer_data_request(&z.admin, &r.id, true, " ").await {
        Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "required"),
        other => panic!("{other:?}"),
    }
    let done = ctx.svc.answer_data_request(&z.admin, &r.id, true, "已将姓名更正为王小明").await.unwrap();
    assert_eq!(done.state, RequestState::Granted);
    match ctx.svc.answer_data_request(&z.admin, &r.id, false, "重复").await {
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
