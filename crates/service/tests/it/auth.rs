use crate::contract;
use crate::harness::*;
use kebao_service::ServiceError;

contract!(wrong_password_and_expired_session, |ctx: Ctx| async move {
    let _z = zone(&ctx.svc).await;
    let before = state(&ctx).await;
    for (u, p) in [("banker", "wrong password!"), ("nobody", PW), ("", ""), ("张三", PW)] {
        let e = ctx.svc.login(u, p).await.unwrap_err();
        assert!(matches!(e, ServiceError::Unauthenticated("wrong user name or password")), "{u}: {e:?}");
    }
    assert_eq!(state(&ctx).await, before, "failed logins change nothing");
    let s = ctx.svc.login("BANKER", PW).await.unwrap();
    assert!(ctx.svc.session(&s.token).await.is_ok());
    assert!(matches!(ctx.svc.session("not-a-token").await, Err(ServiceError::Unauthenticated(_))));
    ctx.clock.advance_us(9 * 3600 * 1_000_000);
    let e = ctx.svc.session(&s.token).await.unwrap_err();
    assert!(matches!(e, ServiceError::Unauthenticated(m) if m.contains("expired")));
});

contract!(api_tokens_and_password_reset, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let (secret, row) = ctx.svc.issue_token("banker", PW, "core-banking").await.unwrap();
    assert!(secret.starts_with("kb_"));
    let a = ctx.svc.token_actor(&secret).await.unwrap();
    assert_eq!(a.org_id(), Some(z.bank.as_str()));
    ctx.svc.revoke_token(&a, &row.id).await.unwrap();
    assert!(matches!(ctx.svc.token_actor(&secret).await, Err(ServiceError::Unauthenticated(_))));
    // Only a platform admin resets passwords; the old password and sessions stop working.
    let s = ctx.svc.login("banker", PW).await.unwrap();
    assert!(matches!(
        ctx.svc.reset_password(&z.banker, "banker", "another long one").await,
        Err(ServiceError::Forbidden { .. })
    ));
    assert!(matches!(
        ctx.svc.reset_password(&z.admin, "banker", "short").await,
        Err(ServiceError::Invalid(_))
    ));
    ctx.svc.reset_password(&z.admin, "banker", "another long one").await.unwrap();
    assert!(ctx.svc.session(&s.token).await.is_err());
    assert!(ctx.svc.login("banker", PW).await.is_err());
    assert!(ctx.svc.login("banker", "another long one").await.is_ok());
});
