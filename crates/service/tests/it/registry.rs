use crate::contract;
use crate::harness::*;
use kebao_domain::org::OrgFilter;
use kebao_domain::org::{FactsInput, OrgKind, OrgStatus, Qualification, YearlyFacts};
use kebao_domain::Money;
use kebao_service::users::NewUserInput;
use kebao_service::ServiceError;

fn facts(year: i32, revenue_fen: i64) -> YearlyFacts {
    YearlyFacts {
        year,
        revenue: Money::from_fen(revenue_fen),
        rnd_expense: Money::from_fen(revenue_fen / 10),
        staff: 40,
        rnd_staff: 12,
        patents_granted: 3,
        patents_pending: 2,
        export_share_bp: 500,
    }
}

contract!(create_appends_exactly_one_event, |ctx: Ctx| async move {
    let before = state(&ctx).await;
    let org = ctx.svc.create_org(&operator(), &org_input("甲公司", &uscc(11), "enterprise")).await.unwrap();
    assert_eq!(state(&ctx).await, (before.0 + 1, before.1 + 1));
    assert_eq!(org.status, OrgStatus::Verified);
    assert_eq!(org.zone_industries, vec!["optoelectronics".to_owned()]);
    let h = ctx.svc.history(&operator(), &org.id, 10).await.unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].action, "org.created");
    // Events carry ids, not the name (personal data may need erasing).
    assert!(!h[0].payload.contains("甲公司"));
});

contract!(bad_input_changes_nothing, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let before = state(&ctx).await;
    let op = operator();
    // A malformed USCC (wrong check character).
    let mut bad = org_input("乙公司", &uscc(12), "enterprise");
    bad.uscc.pop();
    bad.uscc.push(if uscc(12).ends_with('1') { '2' } else { '1' });
    match ctx.svc.create_org(&op, &bad).await {
        Err(ServiceError::Invalid(inv)) => {
            assert_eq!(inv.0[0].field, "uscc");
            assert_eq!(inv.0[0].code, "uscc_check_digit");
            assert!(inv.0[0].message_zh.contains("校验位"));
        }
        other => panic!("{other:?}"),
    }
    // A malformed industry code.
    let mut bad = org_input("乙公司", &uscc(12), "enterprise");
    bad.industry_code = "C39X6".into();
    let e = ctx.svc.create_org(&op, &bad).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "industry_code_shape"), "{e:?}");
    // A duplicate organisation.
    let dup = org_input("另一个名字", &uscc(1), "enterprise");
    let e = ctx.svc.create_org(&op, &dup).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "duplicate" && f.field == "uscc"), "{e:?}");
    // Negative facts.
    let mut f = facts(2025, 100);
    f.revenue = Money::from_fen(-1);
    let e = ctx.svc.put_facts(&z.ent_admin, &z.enterprise, f).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "negative"), "{e:?}");
    let e = YearlyFacts::parse(&FactsInput { year: "2025".into(), staff: "-3".into(), ..Default::default() })
        .unwrap_err();
    assert_eq!(e.0[0].code, "negative");
    assert_eq!(state(&ctx).await, before);
});

contract!(injected_fault_rolls_back_change_and_event, |ctx: Ctx| async move {
    let before = state(&ctx).await;
    ctx.svc.inject_fault_before_event();
    let e = ctx.svc.create_org(&operator(), &org_input("丙公司", &uscc(13), "enterprise")).await.unwrap_err();
    assert!(matches!(e, ServiceError::Internal(_)));
    assert_eq!(state(&ctx).await, before, "the organisation and its event are both rolled back");
    // The same command then goes through.
    ctx.svc.create_org(&operator(), &org_input("丙公司", &uscc(13), "enterprise")).await.unwrap();
    assert_eq!(state(&ctx).await, (before.0 + 1, before.1 + 1));
});

contract!(facts_need_a_lawful_basis, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    ctx.svc.put_facts(&z.ent_admin, &z.enterprise, facts(2025, 100_000_000)).await.unwrap();
    // A bank cannot write or see an enterprise's facts.
    let e = ctx.svc.put_facts(&z.banker, &z.enterprise, facts(2025, 1)).await.unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden { .. }), "{e:?}");
    let view = ctx.svc.get_org(&z.banker, &z.enterprise).await.unwrap();
    assert!(view.facts.is_none());
    assert!(!view.can_edit);
    // The enterprise sees its own; nothing is logged for that.
    let (_, events_before) = state(&ctx).await;
    let view = ctx.svc.get_org(&z.ent_admin, &z.enterprise).await.unwrap();
    assert_eq!(view.facts.as_ref().map(Vec::len), Some(1));
    assert_eq!(view.facts_basis, "own");
    assert_eq!(state(&ctx).await.1, events_before);
    // A zone officer reads on a statutory basis, and the read is recorded with it.
    let view = ctx.svc.get_org(&z.reviewer, &z.enterprise).await.unwrap();
    assert_eq!(view.facts_basis, "statutory_duty");
    assert!(view.facts.is_some());
    let h = ctx.svc.history(&operator(), &z.enterprise, 1).await.unwrap();
    assert_eq!(h[0].action, "enterprise_data.read");
    assert!(
        h[0].payload.contains("statutory_duty") && h[0].payload.contains("statutory-enterprise-data"),
        "{}",
        h[0].payload
    );
    // The regulator reads but cannot write.
    assert!(ctx.svc.get_org(&z.regulator, &z.enterprise).await.unwrap().facts.is_some());
    let e = ctx.svc.put_facts(&z.regulator, &z.enterprise, facts(2024, 1)).await.unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden { .. }));
    // Exports follow the same rule.
    let (t, withheld) = ctx.svc.export_orgs(&z.banker, &OrgFilter::default(), true).await.unwrap();
    assert_eq!(withheld, 1);
    let rev = t.headers.iter().position(|h| h == "revenue_yuan").unwrap();
    assert!(t.rows.iter().all(|r| r[rev].is_empty()), "a bank's export carries no facts");
    let (t, withheld) = ctx.svc.export_orgs(&z.ent_admin, &OrgFilter::default(), true).await.unwrap();
    assert_eq!(withheld, 0);
    assert!(t.rows.iter().any(|r| r[rev] == "1000000.00"));
});

contract!(self_registration_waits_for_verification, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let admin =
        NewUserInput { username: "new.admin".into(), display_name: "王经理".into(), password: PW.into() };
    let mut input = org_input("新注册科技有限公司", &uscc(21), "enterprise");
    input.kind = "bank".into(); // ignored: self-registration is for enterprises
    let (org, _) = ctx.svc.register_self(&input, &admin).await.unwrap();
    assert_eq!((org.kind, org.status), (OrgKind::Enterprise, OrgStatus::Pending));
    // Strangers do not see pending registrations; the zone does and has a to-do.
    assert!(matches!(ctx.svc.get_org(&z.banker, &org.id).await, Err(ServiceError::NotFound)));
    let page = ctx.svc.list_orgs(&z.banker, &OrgFilter::default(), None, 50).await.unwrap();
    assert!(page.items.iter().all(|o| o.id != org.id));
    let inbox = ctx.svc.inbox(&z.reviewer).await.unwrap();
    assert_eq!(inbox.todos.len(), 1);
    assert_eq!(inbox.todos[0].subject, org.id);
    // The new admin can sign in and sees their own registration.
    let s = ctx.svc.login("new.admin", PW).await.unwrap();
    let me = ctx.svc.session(&s.token).await.unwrap().actor;
    assert_eq!(ctx.svc.get_org(&me, &org.id).await.unwrap().org.status, OrgStatus::Pending);
    // Only the zone verifies.
    assert!(matches!(ctx.svc.verify_org(&me, &org.id, true).await, Err(ServiceError::Forbidden { .. })));
    ctx.svc.verify_org(&z.reviewer, &org.id, true).await.unwrap();
    assert!(ctx.svc.inbox(&z.reviewer).await.unwrap().todos.is_empty());
    let inbox = ctx.svc.inbox(&me).await.unwrap();
    assert_eq!(inbox.unread, 1);
    assert!(ctx.svc.get_org(&z.banker, &org.id).await.is_ok());
    assert!(matches!(ctx.svc.verify_org(&z.reviewer, &org.id, true).await, Err(ServiceError::Conflict(_))));
    // A second registration with the same code is refused.
    let again = NewUserInput { username: "other.admin".into(), ..admin };
    assert!(matches!(ctx.svc.register_self(&input, &again).await, Err(ServiceError::Conflict(_))));
});

contract!(list_filters_search_and_pages, |ctx: Ctx| async move {
    let op = operator();
    for i in 0..25u32 {
        let mut o = org_input(&format!("企业{i:02} Photonics"), &uscc(100 + i), "enterprise");
        if i % 5 == 0 {
            o.industry_code = "C2761".into(); // bio
            o.lifecycle_stage = "market".into();
        }
        let org = ctx.svc.create_org(&op, &o).await.unwrap();
        if i % 2 == 0 {
            let q = Qualification::parse("high_tech", "2025-01-01", "2027-12-31", "GR2025").unwrap();
            ctx.svc.add_qualification(&op, &org.id, q).await.unwrap();
        }
    }
    ctx.svc.create_org(&op, &org_input("某银行", &uscc(200), "bank")).await.unwrap();
    let all = OrgFilter::default();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let p = ctx.svc.list_orgs(&op, &all, cursor.as_deref(), 10).await.unwrap();
        assert_eq!(p.total, 26);
        seen.extend(p.items.iter().map(|o| o.name.clone()));
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 26, "every organisation exactly once");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    let count = |f: OrgFilter| {
        let svc = ctx.svc.clone();
        let op = op.clone();
        async move { svc.list_orgs(&op, &f, None, 200).await.unwrap().items.len() }
    };
    assert_eq!(count(OrgFilter { kind: Some(OrgKind::Bank), ..Default::default() }).await, 1);
    assert_eq!(count(OrgFilter { industry: Some("bio".into()), ..Default::default() }).await, 5);
    assert_eq!(
        count(OrgFilter { stage: Some(kebao_domain::LifecycleStage::Market), ..Default::default() }).await,
        5
    );
    assert_eq!(
        count(OrgFilter {
            qualification: Some(kebao_domain::QualificationKind::HighTech),
            ..Default::default()
        })
        .await,
        13
    );
    assert_eq!(
        count(OrgFilter { q: Some("photonics".into()), ..Default::default() }).await,
        25,
        "case-insensitive on both backends"
    );
    assert_eq!(count(OrgFilter { q: Some("企业0".into()), ..Default::default() }).await, 10);
    assert_eq!(
        count(OrgFilter { q: Some("%".into()), ..Default::default() }).await,
        0,
        "LIKE wildcards are literal"
    );
    assert!(matches!(ctx.svc.list_orgs(&op, &all, Some("zz"), 10).await, Err(ServiceError::Invalid(_))));
});

contract!(branches_form_trees, |ctx: Ctx| async move {
    let op = operator();
    let head = ctx.svc.create_org(&op, &org_input("长江财险总公司", &uscc(31), "insurer")).await.unwrap();
    let mut b = org_input("长江财险湖北分公司", &uscc(32), "insurer");
    b.parent_id = head.id.clone();
    let branch = ctx.svc.create_org(&op, &b).await.unwrap();
    let mut s = org_input("长江财险东湖支公司", &uscc(33), "insurer");
    s.parent_id = branch.id.clone();
    ctx.svc.create_org(&op, &s).await.unwrap();
    let v = ctx.svc.get_org(&op, &branch.id).await.unwrap();
    assert_eq!(v.parent.map(|p| p.id), Some(head.id.clone()));
    assert_eq!(v.branches.len(), 1);
    // A bank cannot hang under an insurer.
    let mut wrong = org_input("某银行分行", &uscc(34), "bank");
    wrong.parent_id = head.id.clone();
    assert!(matches!(ctx.svc.create_org(&op, &wrong).await, Err(ServiceError::Invalid(_))));
});

contract!(org_admin_manages_own_staff_only, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let staff =
        NewUserInput { username: "ent.staff".into(), display_name: "李工".into(), password: PW.into() };
    let u = ctx
        .svc
        .add_user(&z.ent_admin, &z.enterprise, &staff, &[kebao_domain::Role::EnterpriseStaff])
        .await
        .unwrap();
    assert_eq!(ctx.svc.list_staff(&z.ent_admin, &z.enterprise).await.unwrap().len(), 2);
    // Not into another organisation, and no roles that do not fit.
    let other = NewUserInput { username: "intruder".into(), ..staff.clone() };
    assert!(matches!(
        ctx.svc.add_user(&z.ent_admin, &z.bank, &other, &[kebao_domain::Role::BankOfficer]).await,
        Err(ServiceError::Forbidden { .. })
    ));
    assert!(matches!(
        ctx.svc.add_user(&z.ent_admin, &z.enterprise, &other, &[kebao_domain::Role::Underwriter]).await,
        Err(ServiceError::Invalid(_))
    ));
    // Staff cannot manage staff.
    let staff_actor = ctx.svc.actor_for(u.clone()).await.unwrap();
    assert!(matches!(
        ctx.svc.list_staff(&staff_actor, &z.enterprise).await,
        Err(ServiceError::Forbidden { .. })
    ));
    // Deactivating ends access.
    let s = ctx.svc.login("ent.staff", PW).await.unwrap();
    ctx.svc.update_staff(&z.ent_admin, &u.id, &[kebao_domain::Role::EnterpriseStaff], false).await.unwrap();
    assert!(matches!(ctx.svc.session(&s.token).await, Err(ServiceError::Unauthenticated(_))));
    assert!(matches!(ctx.svc.login("ent.staff", PW).await, Err(ServiceError::Unauthenticated(_))));
});
