//! Credentials end when they should: a reset, a deactivation and a user's own password
//! change revoke every other session and API token; passwords set by someone else are
//! changed at the first sign-in; password checks are bounded; attempts are recorded.

use crate::contract;
use crate::harness::*;
use kebao_domain::user::Role;
use kebao_service::auth::{Attempt, InUse, PasswordGate};
use kebao_service::users::NewUserInput;
use kebao_service::ServiceError;
use std::sync::Arc;
use std::time::Duration;

fn scopes(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| (*x).to_owned()).collect()
}

contract!(reset_revokes_sessions_tokens_and_keys, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let s = ctx.svc.login("banker", PW).await.unwrap();
    let (token, _) = ctx.svc.issue_token("banker", PW, "core-banking").await.unwrap();
    let (key, _) = ctx.svc.issue_api_key(&z.banker, "partner", &scopes(&["orgs:read"]), 60).await.unwrap();
    ctx.svc.reset_password(&z.admin, "banker", "another long one").await.unwrap();
    assert!(ctx.svc.session(&s.token).await.is_err(), "the session ended");
    assert!(
        matches!(ctx.svc.token_auth(&token).await, Err(ServiceError::Unauthenticated(_))),
        "token revoked"
    );
    assert!(matches!(ctx.svc.token_auth(&key).await, Err(ServiceError::Unauthenticated(_))), "key revoked");
    // The administrator chose the password: the user must change it, and gets no API token
    // with it until then.
    let s = ctx.svc.login("banker", "another long one").await.unwrap();
    assert!(s.user.must_change_password);
    let e = ctx.svc.issue_token("banker", "another long one", "x").await.unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden { action: "password_change_required", .. }), "{e:?}");
});

contract!(deactivation_revokes_tokens, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let staff = ctx.svc.find_user("ent.admin").await.unwrap();
    let other = user(&ctx.svc, &z.enterprise, "ent.staff", &[Role::EnterpriseStaff]).await;
    let staff_user = other.user().unwrap().clone();
    let (token, _) = ctx.svc.issue_token("ent.staff", PW, "laptop").await.unwrap();
    assert!(ctx.svc.token_auth(&token).await.is_ok());
    ctx.svc.update_staff(&z.ent_admin, &staff_user.id, &[Role::EnterpriseStaff], false).await.unwrap();
    assert!(ctx.svc.token_auth(&token).await.is_err());
    // Reactivated, the old token stays revoked.
    ctx.svc.update_staff(&z.ent_admin, &staff_user.id, &[Role::EnterpriseStaff], true).await.unwrap();
    assert!(
        matches!(ctx.svc.token_auth(&token).await, Err(ServiceError::Unauthenticated(m)) if m.contains("revoked"))
    );
    assert!(!staff.must_change_password);
});

contract!(own_password_change_keeps_only_the_credential_in_use, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let here = ctx.svc.login("banker", PW).await.unwrap();
    let elsewhere = ctx.svc.login("banker", PW).await.unwrap();
    let (token, _) = ctx.svc.issue_token("banker", PW, "core-banking").await.unwrap();
    let (key, _) = ctx.svc.issue_api_key(&z.banker, "partner", &scopes(&["orgs:read"]), 60).await.unwrap();
    let before = state(&ctx).await;
    // The current password is required, and the new one must be a good one.
    for (cur, new, field) in [
        ("wrong password!", "a brand new password", "current_password"),
        (PW, "short", "new_password"),
        (PW, PW, "new_password"),
    ] {
        let e =
            ctx.svc.change_own_password(&z.banker, InUse::Session(&here.token), cur, new).await.unwrap_err();
        match e {
            ServiceError::Invalid(inv) => assert!(inv.0.iter().any(|f| f.field == field), "{field}: {inv:?}"),
            e => panic!("{field}: {e:?}"),
        }
    }
    assert_eq!(state(&ctx).await, before, "refused changes change nothing");
    assert!(ctx.svc.session(&elsewhere.token).await.is_ok());
    ctx.svc
        .change_own_password(&z.banker, InUse::Session(&here.token), PW, "a brand new password")
        .await
        .unwrap();
    assert!(ctx.svc.session(&here.token).await.is_ok(), "the session that changed it stays");
    assert!(ctx.svc.session(&elsewhere.token).await.is_err(), "other sessions end");
    assert!(ctx.svc.token_auth(&token).await.is_err(), "tokens are revoked");
    assert!(ctx.svc.token_auth(&key).await.is_err(), "keys are revoked");
    assert!(ctx.svc.login("banker", PW).await.is_err());
    assert!(ctx.svc.login("banker", "a brand new password").await.is_ok());
    // Through a token, the token in use stays and the sessions end.
    let (t1, _) = ctx.svc.issue_token("banker", "a brand new password", "one").await.unwrap();
    let (t2, _) = ctx.svc.issue_token("banker", "a brand new password", "two").await.unwrap();
    let me = ctx.svc.token_actor(&t1).await.unwrap();
    ctx.svc
        .change_own_password(&me, InUse::Token(&t1), "a brand new password", "yet another password")
        .await
        .unwrap();
    assert!(ctx.svc.token_auth(&t1).await.is_ok());
    assert!(ctx.svc.token_auth(&t2).await.is_err());
    assert!(ctx.svc.session(&here.token).await.is_err());
});

contract!(a_password_set_by_an_admin_must_be_changed, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    // An organisation's admin adds a colleague with a password they chose.
    let input =
        NewUserInput { username: "ent.new".into(), display_name: "新同事".into(), password: PW.into() };
    let u = ctx.svc.add_user(&z.ent_admin, &z.enterprise, &input, &[Role::EnterpriseStaff]).await.unwrap();
    assert!(u.must_change_password);
    let s = ctx.svc.login("ent.new", PW).await.unwrap();
    let info = ctx.svc.session(&s.token).await.unwrap();
    assert!(info.must_change_password());
    ctx.svc
        .change_own_password(&info.actor, InUse::Session(&s.token), PW, "my own secret words")
        .await
        .unwrap();
    let info = ctx.svc.session(&s.token).await.unwrap();
    assert!(!info.must_change_password(), "changed: the flag is off");
    // Code acting as the operator (tests, the demo) leaves it off unless it asks.
    assert!(!ctx.svc.find_user("banker").await.unwrap().must_change_password);
});

contract!(the_regulator_issues_no_api_keys, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let before = state(&ctx).await;
    let e = ctx.svc.issue_api_key(&z.regulator, "reader", &scopes(&["orgs:read"]), 60).await.unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden { .. }), "{e:?}");
    assert_eq!(state(&ctx).await, before);
    assert!(ctx.svc.issue_api_key(&z.banker, "partner", &scopes(&["orgs:read"]), 60).await.is_ok());
});

contract!(sign_in_attempts_are_recorded, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let from = |a: &str| Attempt { address: a.to_owned() };
    assert!(ctx.svc.login_from("banker", "wrong password!", &from("203.0.113.9")).await.is_err());
    assert!(ctx.svc.login_from("nobody", "wrong password!", &from("203.0.113.9")).await.is_err());
    assert!(ctx.svc.login_from("banker", PW, &from("198.51.100.7")).await.is_ok());
    let failed = ctx.svc.failed_logins(&z.admin, 0).await.unwrap();
    let mut seen: Vec<(String, String, String)> =
        failed.iter().map(|a| (a.username.clone(), a.address.clone(), a.reason.clone())).collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("banker".into(), "203.0.113.9".into(), "wrong_password".into()),
            ("nobody".into(), "203.0.113.9".into(), "unknown_user".into()),
        ]
    );
    assert!(matches!(ctx.svc.failed_logins(&z.banker, 0).await, Err(ServiceError::Forbidden { .. })));
});

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_checks_never_exceed_the_bound() {
    let gate = Arc::new(PasswordGate::new(2, Duration::from_secs(10)));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let g = gate.clone();
        tasks.push(tokio::spawn(async move {
            g.run(|| std::thread::sleep(Duration::from_millis(50))).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(gate.peak(), 2, "eight checks ran two at a time");
    assert_eq!(gate.in_flight(), 0);
    // A caller that cannot get a permit in time is told the service is busy.
    let slow = Arc::new(PasswordGate::new(1, Duration::from_millis(20)));
    let s2 = slow.clone();
    let hog = tokio::spawn(async move { s2.run(|| std::thread::sleep(Duration::from_millis(300))).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(matches!(slow.run(|| ()).await, Err(ServiceError::Busy)));
    hog.await.unwrap().unwrap();
    assert_eq!(slow.in_flight(), 0);
    assert_eq!(slow.peak(), 1);
}

contract!(the_service_bounds_its_password_checks, |ctx: Ctx| async move {
    let _z = zone(&ctx.svc).await;
    let svc = ctx.svc.clone();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = svc.clone();
        tasks.push(tokio::spawn(async move { s.login("banker", &format!("wrong password {i}")).await }));
    }
    for t in tasks {
        assert!(t.await.unwrap().is_err());
    }
    let gate = ctx.svc.password_gate();
    assert!(gate.peak() <= gate.limit(), "peak {} over the bound {}", gate.peak(), gate.limit());
    assert_eq!(gate.in_flight(), 0);
});
