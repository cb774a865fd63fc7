//! Applications, underwriting, binding and premiums in the ledger, on both stores.

use crate::contract;
use crate::harness::*;
use kebao_domain::claim::ClaimInput;
use kebao_domain::policy::{ApplicationStatus, ApplicationStep, UnderwritingRules};
use kebao_domain::product::{CoverageInput, ProductInput, CHECKLIST};
use kebao_domain::rating::{FactorTable, PlanDoc, QuoteInput, RateBasis, RatingVariable};
use kebao_domain::user::Role;
use kebao_domain::Money;
use kebao_service::authz::Actor;
use kebao_service::products::Review;
use kebao_service::ServiceError;

struct Setup {
    z: Zone,
    filer: Actor,
    uw: Actor,
    admin: Actor,
    other_uw: Actor,
    ins: String,
    pid: String,
}

/// An insurer with a published product and a plan that auto-accepts up to 1,000,000 yuan.
async fn setup(ctx: &Ctx) -> Setup {
    let z = zone(&ctx.svc).await;
    let op = operator();
    let ins = ctx
        .svc
        .create_org(&op, &org_input("楚天财产保险股份有限公司湖北分公司", &uscc(51), "insurer"))
        .await
        .unwrap();
    let filer = user(&ctx.svc, &ins.id, "filer.p", &[Role::ProductFiler]).await;
    let uw = user(&ctx.svc, &ins.id, "uw.p", &[Role::Underwriter]).await;
    let admin = user(&ctx.svc, &ins.id, "admin.p", &[Role::OrgAdmin]).await;
    let other =
        ctx.svc.create_org(&op, &org_input("江城科技保险股份有限公司", &uscc(52), "insurer")).await.unwrap();
    let other_uw = user(&ctx.svc, &other.id, "uw.x", &[Role::Underwriter]).await;
    let pid = publish(ctx, &z, &filer, rd_liability()).await;
    Setup { z, filer, uw, admin, other_uw, ins: ins.id, pid }
}

fn rd_liability() -> ProductInput {
    ProductInput {
        type_id: "rd_liability".into(),
        name: "研发责任险".into(),
        coverages: vec![CoverageInput {
            name: "责任".into(),
            limit_yuan: "2000000".into(),
            ..Default::default()
        }],
        premium_basis: "limit".into(),
        contact_name: "王".into(),
        contact_phone: "027-87654321".into(),
        ..Default::default()
    }
}

/// The other insurer's product filer and its published R&D liability product (the advisor's
/// second insurer): (insurer id, filer, product id).
async fn second_rd_liability(ctx: &Ctx, z: &Zone, other_uw: &Actor) -> (String, Actor, String) {
    let other = other_uw.org_id().unwrap().to_owned();
    let filer = user(&ctx.svc, &other, "filer.o", &[Role::ProductFiler]).await;
    let open =
        publish(ctx, z, &filer, ProductInput { name: "研发责任险（江城）".into(), ..rd_liability() }).await;
    (other, filer, open)
}

/// Files, registers and publishes a product of the filer's insurer, with a plan that
/// auto-accepts up to 1,000,000 yuan.
async fn publish(ctx: &Ctx, z: &Zone, filer: &Actor, input: ProductInput) -> String {
    let filer = filer.clone();
    let ins = filer.org_id().unwrap().to_owned();
    let pid = ctx.svc.file_product(&filer, &ins, &input).await.unwrap();
    let plan = PlanDoc {
        basis: RateBasis::Limit,
        base: "0.01".into(),
        size_bands: vec![],
        limit_bands: vec![],
        deductible_bands: vec![],
        factors: vec![FactorTable {
            variable: RatingVariable::ClaimsHistory,
            levels: vec![("0".into(), "1".into()), ("1".into(), "1.2".into()), ("2+".into(), "1.5".into())],
            default: None,
        }],
        min_premium_yuan: 500,
        max_premium_yuan: None,
        factor_floor: None,
        factor_cap: None,
        underwriting: UnderwritingRules {
            auto_accept_max_limit_yuan: Some(1_000_000),
            decline_claims_3y: Some(3),
            refer_if_claims: false,
        },
        quote_valid_days: None,
    };
    ctx.svc.file_rating_plan(&filer, &pid, "2026-01-01", plan).await.unwrap();
    ctx.svc.submit_product(&filer, &pid).await.unwrap();
    let items: Vec<String> = CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect();
    ctx.svc.set_product_checklist(&z.reviewer, &pid, &items).await.unwrap();
    ctx.svc.review_product(&z.reviewer, &pid, &Review::Approve).await.unwrap();
    ctx.svc.publish_product(&filer, &pid).await.unwrap();
    pid
}

contract!(apply_underwrite_bind_and_record_premium, |ctx: Ctx| async move {
    let Setup { z, uw, admin, other_uw, pid, .. } = setup(&ctx).await;
    let q = |limit_yuan: i64, claims: u32| QuoteInput {
        limit: Money::from_fen(limit_yuan * 100),
        claims_3y: claims,
        ..Default::default()
    };
    // Within the insurer's auto-accept rule: bound at once, premium due in the ledger.
    let a = ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q(500_000, 0), "2026-12-01").await.unwrap();
    assert_eq!(a.status, ApplicationStatus::Bound);
    let policies = ctx.svc.my_policies(&z.ent_admin).await.unwrap();
    assert_eq!(policies.len(), 1);
    assert_eq!(
        (policies[0].number.as_str(), policies[0].end_date.to_string().as_str()),
        ("DHKB-P-2026-000001", "2027-11-30")
    );
    assert_eq!(policies[0].premium.fen(), 500_000);
    // Over the rule's limit: referred; an underwriter within authority binds.
    let b = ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q(1_500_000, 0), "2026-12-01").await.unwrap();
    assert_eq!(b.status, ApplicationStatus::Referred);
    assert!(kebao_domain::policy::reason_text(&b.reasons[0], false).contains("超过自动承保上限"));
    assert_eq!(ctx.svc.underwriting_queue(&uw).await.unwrap().len(), 1);
    let e = ctx.svc.decide_application(&uw, &b.id, ApplicationStep::Accept, "").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "no_authority"), "{e:?}");
    ctx.svc.set_underwriter_authority(&admin, "uw.p", 1_000_000).await.unwrap();
    let e = ctx.svc.decide_application(&uw, &b.id, ApplicationStep::Accept, "").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "over_authority"), "{e:?}");
    let e = ctx.svc.decide_application(&other_uw, &b.id, ApplicationStep::Accept, "").await.unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden { .. }));
    ctx.svc.set_underwriter_authority(&admin, "uw.p", 2_000_000).await.unwrap();
    let b = ctx.svc.decide_application(&uw, &b.id, ApplicationStep::Accept, "").await.unwrap();
    assert_eq!(b.status, ApplicationStatus::Bound);
    let e = ctx.svc.decide_application(&uw, &b.id, ApplicationStep::Accept, "").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "not_referred"), "{e:?}");
    // Declined by rule, with the reason.
    let c = ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q(100_000, 3), "2026-12-01").await.unwrap();
    assert_eq!(c.status, ApplicationStatus::Declined);
    assert!(kebao_domain::policy::reason_text(&c.reasons[0], false).contains("拒保标准"));
    // Bad applications change nothing.
    let before = state(&ctx).await.1;
    let e = ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q(100_000, 0), "2020-01-01").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "in_the_past"), "{e:?}");
    let e = ctx.svc.apply_for_policy(&z.banker, &pid, &q(100_000, 0), "2026-12-01").await.unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden { .. }));
    assert_eq!(state(&ctx).await.1, before);
    // Premium received: never more than due; the same reference twice counts once.
    let p1 =
        &ctx.svc.my_policies(&uw).await.unwrap().into_iter().find(|p| p.number.ends_with("000001")).unwrap();
    let e = ctx.svc.record_premium_paid(&uw, &p1.id, Money::from_fen(500_001), "BANK-1").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "exceeds_due"), "{e:?}");
    ctx.svc.record_premium_paid(&uw, &p1.id, Money::from_fen(300_000), "BANK-1").await.unwrap();
    ctx.svc.record_premium_paid(&uw, &p1.id, Money::from_fen(300_000), "BANK-1").await.unwrap();
    assert_eq!(ctx.svc.policy(&z.ent_admin, &p1.id).await.unwrap().paid, Money::from_fen(300_000));
    let e = ctx.svc.record_premium_paid(&z.ent_admin, &p1.id, Money::from_fen(1), "X").await.unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden { .. }));
    assert!(matches!(ctx.svc.policy(&z.banker, &p1.id).await, Err(ServiceError::NotFound)));
    let report = ctx.svc.ledger_verify().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    // Two premiums due (5,000 + 15,000 yuan) and 3,000 received.
    assert_eq!(report.debits_posted, 500_000 + 1_500_000 + 300_000);
});

contract!(claims_go_from_notice_to_payment_through_the_ledger, |ctx: Ctx| async move {
    use kebao_domain::claim::{ClaimOutcome, ClaimStatus};
    let Setup { z, filer, ins, pid, .. } = setup(&ctx).await;
    let handler = user(&ctx.svc, &ins, "claims.h", &[Role::ClaimsHandler]).await;
    let q = QuoteInput {
        limit: Money::from_fen(80_000_000),
        deductible: Money::from_fen(500_000),
        ..Default::default()
    };
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q, "2026-11-28").await.unwrap();
    let policy = ctx.svc.my_policies(&z.ent_admin).await.unwrap().remove(0);
    // Bad notices change nothing.
    let before = state(&ctx).await.1;
    let e = ctx
        .svc
        .report_claim(
            &z.ent_admin,
            &policy.id,
            &ClaimInput::new("2026-01-01", "研发样机起火受损", Money::from_fen(100)),
        )
        .await
        .unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "outside_cover"), "{e:?}");
    let e = ctx
        .svc
        .report_claim(
            &z.banker,
            &policy.id,
            &ClaimInput::new("2026-11-28", "研发样机起火受损", Money::from_fen(100)),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::NotFound | ServiceError::Forbidden { .. }), "{e:?}");
    assert_eq!(state(&ctx).await.1, before);
    let c = ctx
        .svc
        .report_claim(
            &z.ent_admin,
            &policy.id,
            &ClaimInput::new("2026-11-28", "研发样机起火，第三方设备受损", Money::from_fen(90_000_000)),
        )
        .await
        .unwrap();
    assert_eq!(c.status, ClaimStatus::Reported);
    // Only the insurer's claims handlers work it.
    assert!(matches!(ctx.svc.assign_claim(&filer, &c.id).await, Err(ServiceError::Forbidden { .. })));
    ctx.svc.assign_claim(&handler, &c.id).await.unwrap();
    ctx.svc.set_claim_reserve(&handler, &c.id, Money::from_fen(60_000_000)).await.unwrap();
    ctx.svc.set_claim_reserve(&handler, &c.id, Money::from_fen(79_500_000)).await.unwrap();
    // Over the limit less the deductible (795,000 yuan) is refused; the full payment is capped.
    let e = ctx
        .svc
        .decide_claim(&handler, &c.id, ClaimOutcome::Pay, Money::from_fen(80_000_000), "")
        .await
        .unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "above_limit"), "{e:?}");
    let d = ctx.svc.decide_claim(&handler, &c.id, ClaimOutcome::Pay, Money::ZERO, "").await.unwrap();
    assert_eq!(d.decided.fen(), 79_500_000);
    let v = ctx.svc.claim(&z.ent_admin, &c.id).await.unwrap();
    assert_eq!(v.clocks.len(), 3);
    // Payments: never more than decided; the same reference once; all paid closes the claim.
    let e = ctx.svc.pay_claim(&handler, &c.id, Money::from_fen(80_000_000), "P1").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "exceeds_decided"), "{e:?}");
    ctx.svc.pay_claim(&handler, &c.id, Money::from_fen(50_000_000), "P1").await.unwrap();
    ctx.svc.pay_claim(&handler, &c.id, Money::from_fen(50_000_000), "P1").await.unwrap();
    let done = ctx.svc.pay_claim(&handler, &c.id, Money::from_fen(29_500_000), "P2").await.unwrap();
    assert_eq!((done.status, done.paid.fen()), (ClaimStatus::Closed, 79_500_000));
    // Reopen, re-reserve, deny with a reason, close.
    let e = ctx.svc.reopen_claim(&handler, &c.id, "").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(_)), "{e:?}");
    ctx.svc.reopen_claim(&handler, &c.id, "发现新的损失材料").await.unwrap();
    // The limit net of the deductible is paid out: no further reserve can be made.
    let e = ctx.svc.set_claim_reserve(&handler, &c.id, Money::from_fen(1_000_000)).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "above_limit"), "{e:?}");
    let e = ctx.svc.decide_claim(&handler, &c.id, ClaimOutcome::Deny, Money::ZERO, "").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "reason_required"), "{e:?}");
    ctx.svc
        .decide_claim(&handler, &c.id, ClaimOutcome::Deny, Money::ZERO, "新材料所涉损失属责任免除")
        .await
        .unwrap();
    ctx.svc.close_claim(&handler, &c.id).await.unwrap();
    let report = ctx.svc.ledger_verify().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!((report.debits_pending, report.credits_pending), (0, 0), "no reserve is left pending");
    let m = ctx.svc.claim_metrics().await.unwrap();
    assert_eq!(m.len(), 1);
    assert!((m[0].payout_ratio - 79_500_000.0 / 90_000_000.0).abs() < 1e-9, "{m:?}");
});

contract!(a_complaint_goes_to_mediation_and_is_concluded, |ctx: Ctx| async move {
    use kebao_domain::claim::ClaimOutcome;
    use kebao_domain::dispute::{DisputeStatus, Forum};
    let Setup { z, ins, pid, .. } = setup(&ctx).await;
    let handler = user(&ctx.svc, &ins, "claims.d", &[Role::ClaimsHandler]).await;
    let centre = ctx
        .svc
        .create_org(&operator(), &org_input("东湖科技保险纠纷调解中心", &uscc(61), "service_body"))
        .await
        .unwrap();
    let mediator = user(&ctx.svc, &centre.id, "mediator.d", &[Role::Mediator]).await;
    let q = QuoteInput { limit: Money::from_fen(50_000_000), ..Default::default() };
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q, "2026-11-28").await.unwrap();
    let policy = ctx.svc.my_policies(&z.ent_admin).await.unwrap().remove(0);
    let c = ctx
        .svc
        .report_claim(
            &z.ent_admin,
            &policy.id,
            &ClaimInput::new("2026-11-28", "设备损坏导致第三方索赔", Money::from_fen(1_000_000)),
        )
        .await
        .unwrap();
    // No complaint before a decision.
    let e = ctx.svc.complain(&z.ent_admin, &c.id, "不同意处理方式").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "not_decided"), "{e:?}");
    ctx.svc.assign_claim(&handler, &c.id).await.unwrap();
    ctx.svc.decide_claim(&handler, &c.id, ClaimOutcome::Deny, Money::ZERO, "属于责任免除").await.unwrap();
    let d = ctx.svc.complain(&z.ent_admin, &c.id, "拒赔理由不成立，事故不属免责范围").await.unwrap();
    assert_eq!(d.status, DisputeStatus::Complained);
    let e = ctx.svc.complain(&z.ent_admin, &c.id, "再次投诉同一案件").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "already_open"), "{e:?}");
    // Only mediators mediate; the mediator who took it records and concludes.
    assert!(matches!(ctx.svc.take_dispute(&handler, &d.id).await, Err(ServiceError::Forbidden { .. })));
    ctx.svc.take_dispute(&mediator, &d.id).await.unwrap();
    ctx.svc.record_session(&mediator, &d.id, "2026-11-28", "双方陈述，保险机构同意复核").await.unwrap();
    let e = ctx.svc.conclude_dispute(&mediator, &d.id, false, None, "未达成一致").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "required"), "{e:?}");
    let done = ctx
        .svc
        .conclude_dispute(&mediator, &d.id, false, Some(Forum::Arbitration), "未达成一致，申请仲裁")
        .await
        .unwrap();
    assert_eq!((done.status, done.forum), (DisputeStatus::Escalated, Some(Forum::Arbitration)));
    let v = ctx.svc.dispute(&z.ent_admin, &d.id).await.unwrap();
    assert_eq!(v.deadlines.len(), 2);
    assert!(v.deadlines.iter().all(|x| x.3), "both deadlines met");
    assert!(matches!(ctx.svc.dispute(&z.banker, &d.id).await, Err(ServiceError::NotFound)));
    assert_eq!(ctx.svc.disputes(&mediator).await.unwrap().len(), 1);
});

contract!(endorse_coinsure_cancel_refund_and_renew, |ctx: Ctx| async move {
    use kebao_domain::claim::ClaimOutcome;
    use kebao_domain::policy::PolicyStatus;
    let Setup { z, uw, admin, other_uw, ins, pid, .. } = setup(&ctx).await;
    let other = other_uw.org_id().unwrap().to_owned();
    let handler = user(&ctx.svc, &ins, "claims.c", &[Role::ClaimsHandler]).await;
    let q = |limit_yuan: i64| QuoteInput { limit: Money::from_fen(limit_yuan * 100), ..Default::default() };
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q(500_000), "2026-11-28").await.unwrap();
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q(200_000), "2026-12-01").await.unwrap();
    let mine = ctx.svc.my_policies(&z.ent_admin).await.unwrap();
    let p1 = mine.iter().find(|p| p.start_date.to_string() == "2026-11-28").unwrap().clone();
    let p2 = mine.iter().find(|p| p.start_date.to_string() == "2026-12-01").unwrap().clone();
    assert_eq!((p1.premium.fen(), p1.end_date.to_string().as_str()), (500_000, "2027-11-27"));
    ctx.svc.record_premium_paid(&uw, &p1.id, Money::from_fen(200_000), "BANK-7").await.unwrap();

    // Bad endorsements change nothing.
    let before = state(&ctx).await.1;
    let e = ctx
        .svc
        .endorse_policy(&z.ent_admin, &p1.id, &q(1_000_000), "2026-12-28", "提高限额")
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden { .. }));
    let e = ctx.svc.endorse_policy(&uw, &p1.id, &q(1_000_000), "2026-12-28", "提高限额").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "over_authority"), "{e:?}");
    let e =
        ctx.svc.endorse_policy(&admin, &p1.id, &q(1_000_000), "2028-01-01", "提高限额").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "outside_term"), "{e:?}");
    let e = ctx.svc.endorse_policy(&admin, &p1.id, &q(1_000_000), "2026-12-28", " ").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "reason_required"), "{e:?}");
    assert_eq!(state(&ctx).await.1, before);
    // The limit doubles from 28 December: (10,000 − 5,000) × 335 / 365 days = 4,589.04 yuan more.
    let out = ctx.svc.endorse_policy(&admin, &p1.id, &q(1_000_000), "2026-12-28", "提高限额").await.unwrap();
    assert_eq!(out.endorsement.adjustment.fen(), 458_904);
    let v = ctx.svc.policy(&z.ent_admin, &p1.id).await.unwrap();
    assert_eq!(v.policy.premium.fen(), 1_000_000);

    // Co-insurance: the follower takes 30 % of the written premium so far.
    let e = ctx.svc.set_coinsurance(&admin, &p1.id, &[(other.clone(), 10_000)]).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "shares"), "{e:?}");
    let e = ctx.svc.set_coinsurance(&admin, &p1.id, &[(z.bank.clone(), 3_000)]).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "not_insurer"), "{e:?}");
    assert!(matches!(
        ctx.svc.set_coinsurance(&other_uw, &p1.id, &[(other.clone(), 3_000)]).await,
        Err(ServiceError::Forbidden { .. })
    ));
    let shares = ctx.svc.set_coinsurance(&admin, &p1.id, &[(other.clone(), 3_000)]).await.unwrap();
    assert_eq!(shares, vec![(ins.clone(), 7_000), (other.clone(), 3_000)]);
    let e = ctx.svc.set_coinsurance(&admin, &p1.id, &[(other.clone(), 2_000)]).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "already_shared"), "{e:?}");
    assert!(ctx.svc.policy(&other_uw, &p1.id).await.is_ok());
    assert!(ctx.svc.my_policies(&other_uw).await.unwrap().iter().any(|p| p.id == p1.id));
    let balance = |ctx: &Ctx, id: String| {
        let svc = ctx.svc.clone();
        let other = other.clone();
        async move {
            let accs = svc.ledger_accounts(&operator(), Some(&other)).await.unwrap();
            accs.into_iter()
                .find(|a| a.id == id)
                .map(|a| (a.debits_posted, a.credits_posted))
                .unwrap_or_default()
        }
    };
    // (500,000 + 458,904) × 30 % = 287,671.2 fen.
    assert_eq!(balance(&ctx, format!("ins:{other}:premium_written")).await, (0, 287_671));

    // A claim paid on the co-insured policy: the follower bears 30 % of each payment.
    ctx.clock.advance_us(60 * 86_400_000_000);
    let c = ctx
        .svc
        .report_claim(
            &z.ent_admin,
            &p1.id,
            &ClaimInput::new("2027-01-10", "研发样机起火受损", Money::from_fen(1_000_000)),
        )
        .await
        .unwrap();
    ctx.svc.assign_claim(&handler, &c.id).await.unwrap();
    ctx.svc.set_claim_reserve(&handler, &c.id, Money::from_fen(1_000_000)).await.unwrap();
    // A claim is open: the policy cannot be cancelled yet.
    let e = ctx.svc.cancel_policy(&z.ent_admin, &p1.id, "2027-01-27", "企业停产").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "open_claim"), "{e:?}");
    ctx.svc.decide_claim(&handler, &c.id, ClaimOutcome::Pay, Money::from_fen(1_000_000), "").await.unwrap();
    ctx.svc.pay_claim(&handler, &c.id, Money::from_fen(1_000_000), "CLM-1").await.unwrap();
    assert_eq!(balance(&ctx, format!("ins:{other}:claims_expense")).await, (300_000, 0));

    // Cancellation by the policyholder (the filing refunds pro rata): 304 of 365 days unearned
    // at the premium now in force = 8,328.77 yuan; 7,589.04 were still unpaid, so 739.73 yuan
    // of the 2,000 paid go back (2,000 − 1,260.27 earned).
    let before = state(&ctx).await.1;
    assert!(matches!(
        ctx.svc.cancel_policy(&z.banker, &p1.id, "2027-01-27", "企业停产").await,
        Err(ServiceError::Forbidden { .. })
    ));
    let e = ctx.svc.cancel_policy(&z.ent_admin, &p1.id, "2026-12-01", "企业停产").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "in_the_past"), "{e:?}");
    assert_eq!(state(&ctx).await.1, before);
    let out = ctx.svc.cancel_policy(&z.ent_admin, &p1.id, "2027-01-27", "企业停产").await.unwrap();
    assert_eq!((out.written_off_fen, out.refund_fen), (758_904, 73_973));
    assert_eq!(out.endorsement.new_premium.fen(), 126_027);
    let v = ctx.svc.policy(&z.ent_admin, &p1.id).await.unwrap();
    assert_eq!(
        (v.policy.status, v.policy.cancelled_on.map(|d| d.to_string()).as_deref()),
        (PolicyStatus::Cancelled, Some("2027-01-27"))
    );
    let e = ctx.svc.cancel_policy(&z.ent_admin, &p1.id, "2027-01-27", "企业停产").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "not_in_force"), "{e:?}");
    let e = ctx.svc.endorse_policy(&admin, &p1.id, &q(600_000), "2027-02-01", "降低限额").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "not_in_force"), "{e:?}");
    let e = ctx.svc.renew_policy(&z.ent_admin, &p1.id).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "not_in_force"), "{e:?}");
    // The follower gives back its 30 % of the returned premium: 287,671 − 249,863.
    assert_eq!(balance(&ctx, format!("ins:{other}:premium_written")).await, (249_863, 287_671));
    // The refund: never more than owed, once per reference.
    let e = ctx.svc.record_refund_paid(&uw, &p1.id, Money::from_fen(73_974), "RF-1").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "exceeds_refund"), "{e:?}");
    ctx.svc.record_refund_paid(&uw, &p1.id, Money::from_fen(73_973), "RF-1").await.unwrap();
    ctx.svc.record_refund_paid(&uw, &p1.id, Money::from_fen(73_973), "RF-1").await.unwrap();
    let (ends, named, pos) = ctx.svc.policy_changes(&z.ent_admin, &p1.id).await.unwrap();
    assert_eq!(ends.iter().map(|e| e.kind.code()).collect::<Vec<_>>(), ["change", "cancel"]);
    assert_eq!(named.len(), 2);
    assert_eq!((pos.due, pos.paid, pos.refund_due, pos.refund_paid), (200_000, 200_000, 73_973, 73_973));
    assert_eq!(pos.outstanding(), -73_973);

    // Renewal: a new application for the next term, rated with this year's claim counted.
    let r = ctx.svc.renew_policy(&z.ent_admin, &p2.id).await.unwrap();
    assert_eq!(
        (r.status, r.renewal_of.as_deref(), r.start_date.to_string().as_str()),
        (ApplicationStatus::Bound, Some(p2.id.as_str()), "2027-12-01")
    );
    assert_eq!(r.premium.fen(), 240_000);
    let e = ctx.svc.renew_policy(&z.ent_admin, &p2.id).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "already_renewed"), "{e:?}");
    assert!(matches!(ctx.svc.renew_policy(&z.banker, &p2.id).await, Err(ServiceError::NotFound)));
    // The zone's overview, from the ledger and the registers.
    assert!(matches!(ctx.svc.insurance_overview(&z.ent_admin).await, Err(ServiceError::Forbidden { .. })));
    let o = ctx.svc.insurance_overview(&z.regulator).await.unwrap();
    let lead = o.lines.iter().find(|l| l.insurer_id == ins).unwrap();
    assert_eq!((lead.policies_in_force, lead.policies_cancelled, lead.claims_closed), (2, 1, 1));
    assert_eq!(lead.received_fen, 200_000 - 73_973);
    assert_eq!(lead.payout_ratio, Some(1.0));
    let follower = o.lines.iter().find(|l| l.insurer_id == other).unwrap();
    assert_eq!((follower.written_fen, follower.policies_in_force), (287_671 - 249_863, 0));
    assert_eq!(o.total.written_fen, lead.written_fen + follower.written_fen);
    // Premium due on three bindings and one endorsement, less what was returned.
    assert_eq!(o.total.written_fen, 500_000 + 200_000 + 240_000 + 458_904 - 832_877);
    let report = ctx.svc.ledger_verify().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
});

contract!(claim_documents_are_kept_with_their_hash, |ctx: Ctx| async move {
    let Setup { z, ins, pid, filer, .. } = setup(&ctx).await;
    let handler = user(&ctx.svc, &ins, "claims.d", &[Role::ClaimsHandler]).await;
    let q = QuoteInput { limit: Money::from_fen(50_000_000), ..Default::default() };
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q, "2026-11-28").await.unwrap();
    let p = ctx.svc.my_policies(&z.ent_admin).await.unwrap().remove(0);
    let c = ctx
        .svc
        .report_claim(
            &z.ent_admin,
            &p.id,
            &ClaimInput::new("2026-11-28", "实验室设备进水损坏", Money::from_fen(100_000)),
        )
        .await
        .unwrap();
    let pdf = b"%PDF-1.4 loss assessment".to_vec();
    let d = ctx.svc.add_claim_document(&z.ent_admin, &c.id, "定损报告.pdf", &pdf).await.unwrap();
    ctx.svc.add_claim_document(&handler, &c.id, "查勘照片.pdf", &pdf).await.unwrap();
    let before = state(&ctx).await.1;
    let big = vec![b'%'; 10 * 1024 * 1024 + 1];
    assert!(matches!(
        ctx.svc.add_claim_document(&z.ent_admin, &c.id, "big.pdf", &big).await,
        Err(ServiceError::Invalid(_))
    ));
    assert!(matches!(
        ctx.svc.add_claim_document(&filer, &c.id, "x.pdf", &pdf).await,
        Err(ServiceError::Forbidden { .. })
    ));
    assert_eq!(state(&ctx).await.1, before);
    let v = ctx.svc.claim(&handler, &c.id).await.unwrap();
    assert_eq!(v.documents.len(), 2);
    assert_eq!(v.documents[0].sha256, v.documents[1].sha256);
    let (doc, body) = ctx.svc.claim_document(&handler, &d.id).await.unwrap();
    assert_eq!((doc.file_name.as_str(), body), ("定损报告.pdf", pdf));
    assert!(matches!(ctx.svc.claim_document(&z.banker, &d.id).await, Err(ServiceError::NotFound)));
});

contract!(returns_write_off_the_unpaid_first_and_refund_the_rest, |ctx: Ctx| async move {
    let Setup { z, uw, admin, pid, .. } = setup(&ctx).await;
    let q = |limit_yuan: i64| QuoteInput { limit: Money::from_fen(limit_yuan * 100), ..Default::default() };
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q(500_000), "2026-11-28").await.unwrap();
    let p = ctx.svc.my_policies(&z.ent_admin).await.unwrap().remove(0);
    ctx.svc.record_premium_paid(&uw, &p.id, Money::from_fen(500_000), "B-1").await.unwrap();
    // Paid in full, then halved from the start: nothing is unpaid, so all 2,500 is owed back.
    let o = ctx.svc.endorse_policy(&admin, &p.id, &q(250_000), "2026-11-28", "缩小保障范围").await.unwrap();
    assert_eq!((o.endorsement.adjustment.fen(), o.written_off_fen, o.refund_fen), (-250_000, 0, 250_000));
    // Raised to 10,000 a year: 7,500 more is due and unpaid.
    let o = ctx.svc.endorse_policy(&admin, &p.id, &q(1_000_000), "2026-11-28", "扩大保障范围").await.unwrap();
    assert_eq!(o.endorsement.adjustment.fen(), 750_000);
    // Down to 1,000 a year: 9,000 comes back — the 7,500 unpaid is written off, 1,500 more is owed back.
    let o = ctx.svc.endorse_policy(&admin, &p.id, &q(100_000), "2026-11-28", "缩小保障范围").await.unwrap();
    assert_eq!((o.written_off_fen, o.refund_fen), (750_000, 150_000));
    let (_, _, pos) = ctx.svc.policy_changes(&z.ent_admin, &p.id).await.unwrap();
    assert_eq!((pos.receivable(), pos.outstanding(), pos.net()), (0, -400_000, 100_000));
    // Cancelled after its first day: 1 of 365 days of 1,000 yuan is earned (2.74).
    let o = ctx.svc.cancel_policy(&z.ent_admin, &p.id, "2026-11-28", "企业停产").await.unwrap();
    assert_eq!((o.endorsement.new_premium.fen(), o.refund_fen), (274, 99_726));
    let (_, _, pos) = ctx.svc.policy_changes(&z.ent_admin, &p.id).await.unwrap();
    assert_eq!(pos.refund_due, 499_726, "4,997.26 of the 5,000 paid goes back");
    let report = ctx.svc.ledger_verify().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
});

/// What an attacker with write access to the database would do to the ledger.
async fn drop_ledger_guards(ctx: &Ctx) {
    let stmts: &[&str] = match ctx.store.backend() {
        kebao_store::Backend::Sqlite => &[
            "DROP TRIGGER ledger_transfers_append_only_update",
            "DROP TRIGGER ledger_transfers_append_only_delete",
        ],
        kebao_store::Backend::Postgres => &[
            "DROP TRIGGER ledger_transfers_append_only_update ON ledger_transfers",
            "DROP TRIGGER ledger_transfers_append_only_truncate ON ledger_transfers",
        ],
    };
    for s in stmts {
        exec_sql(ctx, s).await;
    }
}

async fn exec_sql(ctx: &Ctx, sql: &str) {
    let mut tx = ctx.store.begin_write().await.unwrap();
    sqlx::query(sql).execute(tx.conn()).await.unwrap();
    tx.commit_unlogged(kebao_store::Unlogged::Tampering).await.unwrap();
}

async fn ledger_problems(ctx: &Ctx) -> String {
    ctx.svc.ledger_verify().await.unwrap().problems.join("\n")
}

contract!(a_consistent_ledger_edit_is_found, |ctx: Ctx| async move {
    let Setup { z, uw, pid, .. } = setup(&ctx).await;
    let q = QuoteInput { limit: Money::from_fen(50_000_000), ..Default::default() };
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q, "2026-12-01").await.unwrap();
    let p = ctx.svc.my_policies(&uw).await.unwrap().remove(0);
    ctx.svc.record_premium_paid(&uw, &p.id, Money::from_fen(300_000), "BANK-1").await.unwrap();
    assert_eq!(ledger_problems(&ctx).await, "");
    let id = format!("premium-paid:{}:BANK-1", p.id);
    let mut tx = ctx.store.begin_write().await.unwrap();
    let (debit, credit): (String, String) =
        sqlx::query_as("SELECT debit_account_id, credit_account_id FROM ledger_transfers WHERE id = $1")
            .bind(&id)
            .fetch_one(tx.conn())
            .await
            .unwrap();
    // Transfers are append-only: the database refuses to change or delete one.
    let update = format!("UPDATE ledger_transfers SET amount = 100000 WHERE id = '{id}'");
    assert!(sqlx::query(&update).execute(tx.conn()).await.is_err());
    drop(tx);
    let mut tx = ctx.store.begin_write().await.unwrap();
    let delete = format!("DELETE FROM ledger_transfers WHERE id = '{id}'");
    assert!(sqlx::query(&delete).execute(tx.conn()).await.is_err());
    drop(tx);

    // Around the triggers: lower the amount and both balances to match. The table alone
    // balances; the event that recorded the payment does not agree.
    drop_ledger_guards(&ctx).await;
    exec_sql(
        &ctx,
        &format!("UPDATE ledger_transfers SET amount = 100000, applied_amount = 100000 WHERE id = '{id}'"),
    )
    .await;
    exec_sql(
        &ctx,
        &format!("UPDATE ledger_accounts SET debits_posted = debits_posted - 200000 WHERE id = '{debit}'"),
    )
    .await;
    exec_sql(
        &ctx,
        &format!("UPDATE ledger_accounts SET credits_posted = credits_posted - 200000 WHERE id = '{credit}'"),
    )
    .await;
    let problems = ledger_problems(&ctx).await;
    assert!(
        problems.contains(&format!("transfer {id} differs from what event #"))
            && problems.contains("amount: 100000 in the table, 300000 in the event"),
        "{problems}"
    );
    assert!(problems.contains(&format!("account {debit}'s balances")), "{problems}");
    assert!(!problems.contains("posted debits"), "the table itself balances: {problems}");

    // Deleted, with the balances taken back: still found, by the event that recorded it.
    exec_sql(&ctx, &delete).await;
    exec_sql(
        &ctx,
        &format!("UPDATE ledger_accounts SET debits_posted = debits_posted - 100000 WHERE id = '{debit}'"),
    )
    .await;
    exec_sql(
        &ctx,
        &format!("UPDATE ledger_accounts SET credits_posted = credits_posted - 100000 WHERE id = '{credit}'"),
    )
    .await;
    let problems = ledger_problems(&ctx).await;
    assert!(problems.contains(&format!("transfer {id} recorded by event #")), "{problems}");
    assert!(problems.contains("is missing from the ledger"), "{problems}");

    // A transfer no event records (and the balances to match) is found too.
    exec_sql(
        &ctx,
        &format!(
            "INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, pending_id, code, \
             event_ref, flag_linked, flag_pending, flag_post_pending, flag_void_pending, applied_amount, state, \
             timestamp_us) SELECT 'forged', debit_account_id, credit_account_id, amount, NULL, code, event_ref, \
             0, 0, 0, 0, amount, 'none', timestamp_us FROM ledger_transfers WHERE id <> '{id}' LIMIT 1"
        ),
    )
    .await;
    let problems = ledger_problems(&ctx).await;
    assert!(problems.contains("transfer forged is in the ledger but no event records it"), "{problems}");
});

/// The largest amount in fen: 92,233,720,368,547,758.07 yuan.
const MAX_FEN: i64 = i64::MAX;

contract!(claim_amounts_stay_within_the_remaining_limit_net_of_the_deductible, |ctx: Ctx| async move {
    use kebao_domain::claim::ClaimOutcome;
    let Setup { z, admin, ins, pid, .. } = setup(&ctx).await;
    let handler = user(&ctx.svc, &ins, "claims.cap", &[Role::ClaimsHandler]).await;
    // Limit 800,000 yuan, deductible 5,000: 795,000 yuan can be paid on the policy in all.
    let q = QuoteInput {
        limit: Money::from_fen(80_000_000),
        deductible: Money::from_fen(500_000),
        ..Default::default()
    };
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q, "2026-11-28").await.unwrap();
    let policy = ctx.svc.my_policies(&z.ent_admin).await.unwrap().remove(0);
    let report = |claimed_fen: i64| {
        let (svc, who, pol) = (&ctx.svc, &z.ent_admin, &policy.id);
        async move {
            svc.report_claim(
                who,
                pol,
                &ClaimInput::new("2026-11-28", "研发样机起火，第三方设备受损", Money::from_fen(claimed_fen)),
            )
            .await
        }
    };
    // A claim above the limit is accepted, up to 10^12 yuan; its cap is stated.
    let e = report(MAX_FEN).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "too_large"), "{e:?}");
    let c1 = report(100_000_000).await.unwrap();
    assert_eq!(c1.claimed.fen(), 100_000_000);
    assert_eq!(ctx.svc.claim(&z.ent_admin, &c1.id).await.unwrap().cap, Money::from_fen(79_500_000));
    ctx.svc.assign_claim(&handler, &c1.id).await.unwrap();

    // The attacker's reserve of 92,233,720,368,547,758.07 yuan is refused with a clear error.
    let before = state(&ctx).await.1;
    let e = ctx.svc.set_claim_reserve(&handler, &c1.id, Money::from_fen(MAX_FEN)).await.unwrap_err();
    match &e {
        ServiceError::Invalid(i) => {
            assert_eq!((i.0[0].field.as_str(), i.0[0].code), ("amount_yuan", "above_limit"));
            assert!(i.0[0].message_zh.contains("795,000.00"), "{e:?}");
            assert!(i.0[0].message_en.contains("795,000.00"), "{e:?}");
        }
        other => panic!("{other:?}"),
    }
    let e = ctx.svc.set_claim_reserve(&handler, &c1.id, Money::from_fen(79_500_001)).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "above_limit"), "{e:?}");
    assert_eq!(state(&ctx).await.1, before, "refused reserves change nothing");
    // A normal reserve for that insurer works afterwards, at the cap exactly.
    ctx.svc.set_claim_reserve(&handler, &c1.id, Money::from_fen(79_500_000)).await.unwrap();
    // Decided in part: 500,000 yuan of the limit are used.
    let e = ctx
        .svc
        .decide_claim(&handler, &c1.id, ClaimOutcome::Partial, Money::from_fen(79_500_001), "部分")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "above_claimed" || i.0[0].code == "above_limit")
    );
    ctx.svc
        .decide_claim(&handler, &c1.id, ClaimOutcome::Partial, Money::from_fen(50_000_000), "部分属免责")
        .await
        .unwrap();

    // A second claim on the same policy: only 295,000 yuan are left.
    let c2 = report(40_000_000).await.unwrap();
    assert_eq!(ctx.svc.claim(&z.ent_admin, &c2.id).await.unwrap().cap, Money::from_fen(29_500_000));
    ctx.svc.assign_claim(&handler, &c2.id).await.unwrap();
    let before = state(&ctx).await.1;
    let e = ctx.svc.set_claim_reserve(&handler, &c2.id, Money::from_fen(29_500_001)).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "above_limit"), "{e:?}");
    let e = ctx.svc.set_claim_reserve(&handler, &c2.id, Money::from_fen(MAX_FEN)).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "above_limit"), "{e:?}");
    assert_eq!(state(&ctx).await.1, before);
    ctx.svc.set_claim_reserve(&handler, &c2.id, Money::from_fen(29_500_000)).await.unwrap();
    // A decision above what is left is refused; in full means capped at what is left.
    let e = ctx
        .svc
        .decide_claim(&handler, &c2.id, ClaimOutcome::Partial, Money::from_fen(29_500_001), "部分")
        .await
        .unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "above_limit"), "{e:?}");
    let d = ctx.svc.decide_claim(&handler, &c2.id, ClaimOutcome::Pay, Money::ZERO, "").await.unwrap();
    assert_eq!(d.decided.fen(), 29_500_000);
    // Payments above what was decided (and so above the limit left) are refused.
    let e = ctx.svc.pay_claim(&handler, &c2.id, Money::from_fen(29_500_001), "CAP-1").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "exceeds_decided"), "{e:?}");
    ctx.svc.pay_claim(&handler, &c2.id, Money::from_fen(29_500_000), "CAP-1").await.unwrap();
    ctx.svc.pay_claim(&handler, &c1.id, Money::from_fen(50_000_000), "CAP-2").await.unwrap();
    // The limit is used up: a third claim is accepted and can be reserved nothing.
    let c3 = report(100).await.unwrap();
    assert_eq!(ctx.svc.claim(&z.ent_admin, &c3.id).await.unwrap().cap, Money::ZERO);
    ctx.svc.assign_claim(&handler, &c3.id).await.unwrap();
    let e = ctx.svc.set_claim_reserve(&handler, &c3.id, Money::from_fen(1)).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "above_limit"), "{e:?}");
    // A reopened claim counts what it paid already.
    ctx.svc.reopen_claim(&handler, &c2.id, "发现新的损失材料").await.unwrap();
    let e = ctx.svc.set_claim_reserve(&handler, &c2.id, Money::from_fen(1)).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "above_limit"), "{e:?}");
    // An endorsement raising the limit to 900,000 yuan leaves 100,000 for it.
    let raised = QuoteInput { limit: Money::from_fen(90_000_000), ..q.clone() };
    ctx.svc.endorse_policy(&admin, &policy.id, &raised, "2026-11-28", "提高责任限额").await.unwrap();
    assert_eq!(ctx.svc.claim(&z.ent_admin, &c3.id).await.unwrap().cap, Money::from_fen(10_000_000));
    ctx.svc.set_claim_reserve(&handler, &c3.id, Money::from_fen(100)).await.unwrap();

    // An amount that would overflow a balance is a conflict with a clear code, never a 500:
    // the insurer's cash has a payment already, so the largest amount cannot be added to it.
    ctx.svc.record_premium_paid(&admin, &policy.id, Money::from_fen(100), "OVF-0").await.unwrap();
    let before = state(&ctx).await.1;
    let e =
        ctx.svc.record_premium_paid(&admin, &policy.id, Money::from_fen(MAX_FEN), "OVF-1").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "amount_overflow"), "{e:?}");
    assert_eq!(state(&ctx).await.1, before);
    let report = ctx.svc.ledger_verify().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(
        (report.debits_pending, report.credits_pending),
        (100, 100),
        "only the last reserve is pending"
    );
});

contract!(cover_dates_and_quote_amounts_are_bounded, |ctx: Ctx| async move {
    let Setup { z, pid, .. } = setup(&ctx).await;
    let q = QuoteInput { limit: Money::from_fen(50_000_000), ..Default::default() };
    let before = state(&ctx).await.1;
    // Cover starting on the last day of the calendar, or just over a year ahead, is refused.
    for start in ["9999-12-31", "2027-11-29"] {
        let e = ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q, start).await.unwrap_err();
        match &e {
            ServiceError::Invalid(i) => {
                assert_eq!((i.0[0].field.as_str(), i.0[0].code), ("start_date", "too_far_ahead"));
                assert!(i.0[0].message_zh.contains("2027-11-28") && i.0[0].message_en.contains("2027-11-28"));
            }
            other => panic!("{other:?}"),
        }
    }
    let e = ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q, "2026-11-27").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "in_the_past"), "{e:?}");
    // Quotes: a negative revenue, a deductible not below the limit and a 92-quadrillion
    // limit are each refused, naming the field; nothing is applied for.
    let bad = [
        (QuoteInput { revenue: Money::from_fen(-100), ..q.clone() }, "revenue_yuan", "negative"),
        (
            QuoteInput { deductible: Money::from_fen(50_000_000), ..q.clone() },
            "deductible_yuan",
            "deductible_not_below_limit",
        ),
        (QuoteInput { limit: Money::from_fen(MAX_FEN), ..q.clone() }, "limit_yuan", "too_large"),
    ];
    for (input, field, code) in &bad {
        let e = ctx.svc.quote(&z.ent_admin, &pid, input, None).await.unwrap_err();
        assert!(
            matches!(&e, ServiceError::Invalid(i) if i.0[0].field == *field && i.0[0].code == *code),
            "{e:?}"
        );
        let e = ctx.svc.apply_for_policy(&z.ent_admin, &pid, input, "2026-12-01").await.unwrap_err();
        assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == *code), "{e:?}");
    }
    assert_eq!(state(&ctx).await.1, before, "nothing was applied for");
    // The last day a year ahead binds, for the product's twelve months.
    let a = ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q, "2027-11-28").await.unwrap();
    assert_eq!(
        (a.start_date.to_string().as_str(), a.end_date.to_string().as_str()),
        ("2027-11-28", "2028-11-27")
    );
});

contract!(payment_replays_answer_alike_for_premium_refund_and_claim, |ctx: Ctx| async move {
    use kebao_domain::claim::{ClaimOutcome, ClaimStatus};
    let Setup { z, uw, ins, pid, .. } = setup(&ctx).await;
    let handler = user(&ctx.svc, &ins, "claims.rp", &[Role::ClaimsHandler]).await;
    let q = |limit_yuan: i64| QuoteInput { limit: Money::from_fen(limit_yuan * 100), ..Default::default() };
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q(500_000), "2026-11-28").await.unwrap();
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q(300_000), "2026-11-28").await.unwrap();
    let mine = ctx.svc.my_policies(&z.ent_admin).await.unwrap();
    let p1 = mine.iter().find(|p| p.premium.fen() == 500_000).unwrap().clone();
    let p2 = mine.iter().find(|p| p.premium.fen() == 300_000).unwrap().clone();
    let conflict = |e: &ServiceError, code: &str| matches!(e, ServiceError::Conflict(f) if f.code == code && f.field == "reference");

    // Premium: an exact replay answers as the first time and changes nothing; the same
    // reference with another amount or on another policy is a conflict.
    ctx.svc.record_premium_paid(&uw, &p1.id, Money::from_fen(500_000), "PREM-1").await.unwrap();
    let before = state(&ctx).await.1;
    ctx.svc.record_premium_paid(&uw, &p1.id, Money::from_fen(500_000), "PREM-1").await.unwrap();
    ctx.svc.record_premium_paid(&uw, &p1.id, Money::from_fen(500_000), " PREM-1 ").await.unwrap();
    let e = ctx.svc.record_premium_paid(&uw, &p1.id, Money::from_fen(400_000), "PREM-1").await.unwrap_err();
    assert!(conflict(&e, "exists_with_different_amount"), "{e:?}");
    assert_eq!(state(&ctx).await.1, before);
    assert_eq!(ctx.svc.policy(&z.ent_admin, &p1.id).await.unwrap().paid, Money::from_fen(500_000));

    // Refund: the same rule.
    let out = ctx.svc.cancel_policy(&z.ent_admin, &p1.id, "2026-11-28", "企业停产").await.unwrap();
    assert!(out.refund_fen > 1, "{out:?}");
    let refund = Money::from_fen(out.refund_fen);
    ctx.svc.record_refund_paid(&uw, &p1.id, refund, "RF-9").await.unwrap();
    let before = state(&ctx).await.1;
    ctx.svc.record_refund_paid(&uw, &p1.id, refund, "RF-9").await.unwrap();
    let e = ctx.svc.record_refund_paid(&uw, &p1.id, Money::from_fen(1), "RF-9").await.unwrap_err();
    assert!(conflict(&e, "exists_with_different_amount"), "{e:?}");
    assert_eq!(state(&ctx).await.1, before);
    let (_, _, pos) = ctx.svc.policy_changes(&z.ent_admin, &p1.id).await.unwrap();
    assert_eq!(pos.refund_paid, out.refund_fen);

    // Claim payment: the same rule, also once the payment has closed the claim.
    let c = ctx
        .svc
        .report_claim(
            &z.ent_admin,
            &p2.id,
            &ClaimInput::new("2026-11-28", "设备损坏导致第三方索赔", Money::from_fen(1_000_000)),
        )
        .await
        .unwrap();
    ctx.svc.assign_claim(&handler, &c.id).await.unwrap();
    ctx.svc.set_claim_reserve(&handler, &c.id, Money::from_fen(1_000_000)).await.unwrap();
    ctx.svc.decide_claim(&handler, &c.id, ClaimOutcome::Pay, Money::ZERO, "").await.unwrap();
    let first = ctx.svc.pay_claim(&handler, &c.id, Money::from_fen(400_000), "CLM-9").await.unwrap();
    let again = ctx.svc.pay_claim(&handler, &c.id, Money::from_fen(400_000), "CLM-9").await.unwrap();
    assert_eq!((again.paid, again.status), (first.paid, first.status));
    let done = ctx.svc.pay_claim(&handler, &c.id, Money::from_fen(600_000), "CLM-10").await.unwrap();
    assert_eq!((done.status, done.paid.fen()), (ClaimStatus::Closed, 1_000_000));
    let before = state(&ctx).await.1;
    let replay = ctx.svc.pay_claim(&handler, &c.id, Money::from_fen(600_000), "CLM-10").await.unwrap();
    assert_eq!((replay.status, replay.paid.fen()), (ClaimStatus::Closed, 1_000_000));
    let e = ctx.svc.pay_claim(&handler, &c.id, Money::from_fen(500_000), "CLM-10").await.unwrap_err();
    assert!(conflict(&e, "exists_with_different_amount"), "{e:?}");
    // A new reference on a closed claim is still refused by its status.
    let e = ctx.svc.pay_claim(&handler, &c.id, Money::from_fen(1), "CLM-11").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "wrong_status"), "{e:?}");
    assert_eq!(state(&ctx).await.1, before);
    let report = ctx.svc.ledger_verify().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
});

contract!(a_claim_and_a_cancellation_racing_never_both_succeed, |ctx: Ctx| async move {
    use kebao_domain::policy::PolicyStatus;
    let Setup { z, pid, .. } = setup(&ctx).await;
    let q = QuoteInput { limit: Money::from_fen(50_000_000), ..Default::default() };
    const ROUNDS: usize = 6;
    for _ in 0..ROUNDS {
        ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q, "2026-11-28").await.unwrap();
    }
    let policies = ctx.svc.my_policies(&z.ent_admin).await.unwrap();
    assert_eq!(policies.len(), ROUNDS);
    // Ten days on: the cancellation ends cover yesterday, the loss is today. Whichever
    // commits first wins; the other must see it (outside the cover, or a claim is open).
    ctx.clock.advance_us(10 * 86_400_000_000);
    for p in &policies {
        let (svc, who, id) = (ctx.svc.clone(), z.ent_admin.clone(), p.id.clone());
        let claim = tokio::spawn(async move {
            svc.report_claim(
                &who,
                &id,
                &ClaimInput::new("2026-12-08", "研发样机起火受损", Money::from_fen(100_000)),
            )
            .await
        });
        let (svc, who, id) = (ctx.svc.clone(), z.ent_admin.clone(), p.id.clone());
        let cancel =
            tokio::spawn(async move { svc.cancel_policy(&who, &id, "2026-12-07", "企业停产").await });
        let (claim, cancel) = tokio::join!(claim, cancel);
        let (claim, cancel) = (claim.unwrap(), cancel.unwrap());
        match (&claim, &cancel) {
            (Ok(_), Err(ServiceError::Conflict(f))) => assert_eq!(f.code, "open_claim"),
            (Err(ServiceError::Invalid(i)), Ok(_)) => assert_eq!(i.0[0].code, "outside_cover"),
            other => panic!("exactly one of the claim and the cancellation must succeed: {other:?}"),
        }
        let now = ctx.svc.policy(&z.ent_admin, &p.id).await.unwrap().policy;
        let claims: Vec<_> = ctx
            .svc
            .my_claims(&z.ent_admin)
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.policy_id == p.id)
            .collect();
        assert_eq!(now.status == PolicyStatus::Cancelled, claims.is_empty(), "{:?} {claims:?}", now.status);
    }
    // A stranger still does not see the policy, in the write transaction too.
    let e = ctx
        .svc
        .report_claim(
            &z.banker,
            &policies[0].id,
            &ClaimInput::new("2026-12-08", "研发样机起火受损", Money::from_fen(1)),
        )
        .await;
    assert!(matches!(e, Err(ServiceError::NotFound)), "{e:?}");
});

/// A product for optoelectronics enterprises at the R&D stage holding a high-tech
/// qualification, and an enterprise user of a new enterprise (industry code, stage) that
/// holds the high-tech qualification: eligible but for what the test changes.
async fn restricted(ctx: &Ctx, code: &str, stage: &str, n: u32) -> (Setup, String, Actor) {
    let s = setup(ctx).await;
    let input = ProductInput {
        name: "光电子研发责任险".into(),
        industries: vec!["optoelectronics".into()],
        stages: vec!["rnd".into()],
        qualifications: vec!["high_tech".into()],
        ..rd_liability()
    };
    let pid = publish(ctx, &s.z, &s.filer, input).await;
    let mut o = org_input(&format!("光谷测试企业{n}有限公司"), &uscc(70 + n), "enterprise");
    o.industry_code = code.into();
    o.lifecycle_stage = stage.into();
    let org = ctx.svc.create_org(&operator(), &o).await.unwrap();
    high_tech(ctx, &org.id).await;
    let ent = user(&ctx.svc, &org.id, &format!("ent.e{n}"), &[Role::EnterpriseAdmin]).await;
    (s, pid, ent)
}

async fn high_tech(ctx: &Ctx, org: &str) {
    let q = kebao_domain::org::Qualification::parse("high_tech", "2026-01-01", "2028-12-31", "GR2026420001")
        .unwrap();
    ctx.svc.add_qualification(&operator(), org, q).await.unwrap();
}

/// Applies and expects a refusal with exactly this reason, which changes nothing.
async fn refused_for(ctx: &Ctx, ent: &Actor, pid: &str, field: &str, code: &str) -> (String, String) {
    let q = QuoteInput { limit: Money::from_fen(50_000_000), ..Default::default() };
    let before = state(ctx).await;
    let e = ctx.svc.apply_for_policy(ent, pid, &q, "2026-11-28").await.unwrap_err();
    let ServiceError::Invalid(i) = &e else { panic!("{e:?}") };
    assert_eq!(i.0.len(), 1, "{e:?}");
    assert_eq!((i.0[0].field.as_str(), i.0[0].code), (field, code), "{e:?}");
    assert_eq!(state(ctx).await, before, "a refused application changes nothing");
    assert!(ctx.svc.my_applications(ent).await.unwrap().is_empty());
    (i.0[0].message_zh.clone(), i.0[0].message_en.clone())
}

contract!(an_eligible_enterprise_is_accepted, |ctx: Ctx| async move {
    let (_, pid, ent) = restricted(&ctx, "C3976", "rnd", 1).await;
    let q = QuoteInput { limit: Money::from_fen(50_000_000), ..Default::default() };
    let a = ctx.svc.apply_for_policy(&ent, &pid, &q, "2026-11-28").await.unwrap();
    assert_eq!(a.status, ApplicationStatus::Bound);
});

contract!(an_application_outside_the_filed_industries_is_refused, |ctx: Ctx| async move {
    // C3973 is in the integrated circuits tag, not optoelectronics.
    let (_, pid, ent) = restricted(&ctx, "C3973", "rnd", 2).await;
    let (zh, en) = refused_for(&ctx, &ent, &pid, "industry", "industry_not_eligible").await;
    assert!(zh.contains("光电子信息") && zh.contains("集成电路"), "{zh}");
    assert!(en.contains("Optoelectronics"), "{en}");
});

contract!(an_application_outside_the_filed_stages_is_refused, |ctx: Ctx| async move {
    let (_, pid, ent) = restricted(&ctx, "C3976", "overseas", 3).await;
    let (zh, en) = refused_for(&ctx, &ent, &pid, "lifecycle_stage", "stage_not_eligible").await;
    assert!(zh.contains("研发") && zh.contains("出海"), "{zh}");
    assert!(en.contains("R&D") && en.contains("Overseas"), "{en}");
});

contract!(an_application_without_a_required_qualification_is_refused, |ctx: Ctx| async move {
    let (s, pid, _) = restricted(&ctx, "C3976", "rnd", 4).await;
    // The zone's own enterprise (optoelectronics, R&D) holds no qualification yet.
    let (zh, en) = refused_for(&ctx, &s.z.ent_admin, &pid, "qualifications", "qualification_missing").await;
    assert!(zh.contains("高新技术企业"), "{zh}");
    assert!(en.contains("High-tech enterprise"), "{en}");
    // Once it holds one, the same application goes through.
    high_tech(&ctx, &s.z.enterprise).await;
    let q = QuoteInput { limit: Money::from_fen(50_000_000), ..Default::default() };
    ctx.svc.apply_for_policy(&s.z.ent_admin, &pid, &q, "2026-11-28").await.unwrap();
});

contract!(an_application_by_an_unverified_enterprise_is_refused, |ctx: Ctx| async move {
    let (s, pid, _) = restricted(&ctx, "C3976", "rnd", 5).await;
    let admin = kebao_service::users::NewUserInput {
        username: "self.admin".into(),
        display_name: "自注册".into(),
        password: PW.into(),
    };
    let (org, u) = ctx
        .svc
        .register_self(&org_input("自注册光电有限公司", &uscc(90), "enterprise"), &admin)
        .await
        .unwrap();
    high_tech(&ctx, &org.id).await;
    let ent = ctx.svc.actor_for(u).await.unwrap();
    let (zh, en) = refused_for(&ctx, &ent, &pid, "registration", "not_verified").await;
    assert!(zh.contains("尚未经园区核验") && en.contains("not yet verified"), "{zh} {en}");
    // An open filing refuses it too: verification comes first.
    refused_for(&ctx, &ent, &s.pid, "registration", "not_verified").await;
    ctx.svc.verify_org(&s.z.reviewer, &org.id, true).await.unwrap();
    let q = QuoteInput { limit: Money::from_fen(50_000_000), ..Default::default() };
    ctx.svc.apply_for_policy(&ent, &pid, &q, "2026-11-28").await.unwrap();
});

contract!(actions_are_the_steps_the_state_allows_that_cedar_allows, |ctx: Ctx| async move {
    use kebao_domain::policy::PolicyStep as P;
    let Setup { z, uw, admin, other_uw, pid, .. } = setup(&ctx).await;
    let q = |limit_yuan: i64| QuoteInput { limit: Money::from_fen(limit_yuan * 100), ..Default::default() };
    // A referred application: its insurer's underwriter may accept or decline; nobody else.
    let b = ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q(1_500_000), "2026-12-01").await.unwrap();
    assert_eq!(
        ctx.svc.application_actions(&uw, &b.id).await.unwrap(),
        [ApplicationStep::Accept, ApplicationStep::Decline]
    );
    assert!(ctx.svc.application_actions(&other_uw, &b.id).await.unwrap().is_empty());
    assert!(ctx.svc.application_actions(&z.ent_admin, &b.id).await.unwrap().is_empty());
    assert!(matches!(ctx.svc.application_actions(&uw, "nope").await, Err(ServiceError::NotFound)));
    // Bound: nothing is left to decide.
    ctx.svc.set_underwriter_authority(&admin, "uw.p", 2_000_000).await.unwrap();
    ctx.svc.decide_application(&uw, &b.id, ApplicationStep::Accept, "").await.unwrap();
    assert!(ctx.svc.application_actions(&uw, &b.id).await.unwrap().is_empty());
    let p = ctx.svc.my_policies(&z.ent_admin).await.unwrap().remove(0);
    assert_eq!(
        ctx.svc.policy_actions(&z.ent_admin, &p.id).await.unwrap(),
        [P::Cancel, P::Renew, P::ReportClaim]
    );
    assert_eq!(
        ctx.svc.policy_actions(&uw, &p.id).await.unwrap(),
        [P::PayPremium, P::Endorse, P::Cancel, P::Refund, P::Coinsure]
    );
    assert!(ctx.svc.policy_actions(&other_uw, &p.id).await.unwrap().is_empty());
    assert!(ctx.svc.policy_actions(&z.banker, &p.id).await.unwrap().is_empty());
    assert!(matches!(ctx.svc.policy_actions(&uw, "nope").await, Err(ServiceError::NotFound)));
    // Cancelled: premium and refunds are still recorded, and claims for losses in cover reported.
    ctx.svc.cancel_policy(&z.ent_admin, &p.id, "2026-12-15", "企业迁出").await.unwrap();
    assert_eq!(ctx.svc.policy_actions(&z.ent_admin, &p.id).await.unwrap(), [P::ReportClaim]);
    assert_eq!(ctx.svc.policy_actions(&uw, &p.id).await.unwrap(), [P::PayPremium, P::Refund]);
});

contract!(claim_and_dispute_actions_are_what_the_state_and_cedar_allow, |ctx: Ctx| async move {
    use kebao_domain::claim::{ClaimOutcome, ClaimStep as S};
    use kebao_domain::dispute::DisputeStep as D;
    let Setup { z, ins, pid, .. } = setup(&ctx).await;
    let handler = user(&ctx.svc, &ins, "claims.x", &[Role::ClaimsHandler]).await;
    let centre = ctx
        .svc
        .create_org(&operator(), &org_input("东湖科技保险纠纷调解中心", &uscc(62), "service_body"))
        .await
        .unwrap();
    let mediator = user(&ctx.svc, &centre.id, "mediator.x", &[Role::Mediator]).await;
    let other_mediator = user(&ctx.svc, &centre.id, "mediator.y", &[Role::Mediator]).await;
    let q = QuoteInput { limit: Money::from_fen(50_000_000), ..Default::default() };
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q, "2026-11-28").await.unwrap();
    let policy = ctx.svc.my_policies(&z.ent_admin).await.unwrap().remove(0);
    let c = ctx
        .svc
        .report_claim(
            &z.ent_admin,
            &policy.id,
            &ClaimInput::new("2026-11-28", "设备损坏导致第三方索赔", Money::from_fen(1_000_000)),
        )
        .await
        .unwrap();
    let actions = |who: &Actor| {
        let (svc, who, id) = (ctx.svc.clone(), who.clone(), c.id.clone());
        async move { svc.claim_actions(&who, &id).await.unwrap() }
    };
    assert_eq!(actions(&handler).await, vec![S::Assign]);
    assert_eq!(actions(&z.ent_admin).await, vec![]);
    assert_eq!(actions(&z.banker).await, vec![], "a stranger may do nothing (and sees nothing)");
    assert!(matches!(ctx.svc.claim_actions(&handler, "no-such-claim").await, Err(ServiceError::NotFound)));
    ctx.svc.assign_claim(&handler, &c.id).await.unwrap();
    assert_eq!(actions(&handler).await, vec![S::Reserve, S::Decide]);
    ctx.svc.decide_claim(&handler, &c.id, ClaimOutcome::Deny, Money::ZERO, "属于责任免除").await.unwrap();
    assert_eq!(actions(&handler).await, vec![S::Close], "a denied claim has nothing to pay");
    assert_eq!(actions(&z.ent_admin).await, vec![S::Complain]);
    let d = ctx.svc.complain(&z.ent_admin, &c.id, "拒赔理由不成立，事故不属免责范围").await.unwrap();
    assert_eq!(actions(&z.ent_admin).await, vec![], "one open dispute at a time");
    let dispute_actions = |who: &Actor| {
        let (svc, who, id) = (ctx.svc.clone(), who.clone(), d.id.clone());
        async move { svc.dispute_actions(&who, &id).await.unwrap() }
    };
    assert_eq!(dispute_actions(&mediator).await, vec![D::Take]);
    assert_eq!(dispute_actions(&z.ent_admin).await, vec![]);
    assert_eq!(dispute_actions(&handler).await, vec![]);
    assert_eq!(dispute_actions(&z.banker).await, vec![]);
    assert!(matches!(
        ctx.svc.dispute_actions(&mediator, "no-such-dispute").await,
        Err(ServiceError::NotFound)
    ));
    ctx.svc.take_dispute(&mediator, &d.id).await.unwrap();
    assert_eq!(dispute_actions(&mediator).await, vec![D::Session, D::Settle, D::Escalate]);
    assert_eq!(dispute_actions(&other_mediator).await, vec![], "only the dispute's own mediator");
    ctx.svc.conclude_dispute(&mediator, &d.id, true, None, "保险机构同意补付").await.unwrap();
    assert_eq!(dispute_actions(&mediator).await, vec![]);
    assert_eq!(actions(&z.ent_admin).await, vec![S::Complain], "the dispute is over");
    ctx.svc.close_claim(&handler, &c.id).await.unwrap();
    assert_eq!(actions(&handler).await, vec![S::Reopen]);
});

contract!(the_policyholder_pays_to_the_insurers_account_and_the_insurer_confirms, |ctx: Ctx| async move {
    use kebao_domain::policy::CollectionAccount;
    use kebao_service::payments::evidence_owner;
    let Setup { z, uw, admin, ins, pid, other_uw, .. } = setup(&ctx).await;
    let q = QuoteInput { limit: Money::from_fen(50_000_000), ..Default::default() };
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q, "2026-12-01").await.unwrap();
    let p = ctx.svc.my_policies(&z.ent_admin).await.unwrap().remove(0);
    // No account yet: the holder is told what is due and the reference, and no account.
    let i = ctx.svc.payment_instructions(&z.ent_admin, &p.id).await.unwrap();
    assert_eq!(
        (i.account, i.reference.as_str(), i.due, i.can_submit),
        (None, p.number.as_str(), p.premium, true)
    );
    // The insurer's admin gives its account; bad input changes nothing, each error at its field.
    let before = state(&ctx).await;
    let bad = CollectionAccount {
        bank: "x".into(),
        account_name: "".into(),
        account_no: "12ab".into(),
        note: "".into(),
    };
    let e = ctx.svc.set_collection_account(&admin, &ins, &bad).await.unwrap_err();
    let ServiceError::Invalid(inv) = e else { panic!("{e:?}") };
    let mut fields: Vec<&str> = inv.0.iter().map(|f| f.field.as_str()).collect();
    fields.sort();
    assert_eq!(fields, ["account_name", "account_no", "bank"]);
    let good = CollectionAccount {
        bank: "中国工商银行武汉东湖开发区支行".into(),
        account_name: "楚天财产保险股份有限公司湖北分公司".into(),
        account_no: " 3202 0261 0900 0018 826 ".into(),
        note: "".into(),
    };
    for who in [&uw, &z.ent_admin, &other_uw] {
        assert!(matches!(
            ctx.svc.set_collection_account(who, &ins, &good).await,
            Err(ServiceError::Forbidden { .. })
        ));
    }
    assert_eq!(state(&ctx).await, before);
    ctx.svc.set_collection_account(&admin, &ins, &good).await.unwrap();
    let i = ctx.svc.payment_instructions(&z.ent_admin, &p.id).await.unwrap();
    assert_eq!(i.account.unwrap().account_no, "3202 0261 0900 0018 826");
    // The holder uploads its bank receipt: the insurer's underwriters get a to-do.
    let pdf = b"%PDF-1.4 bank receipt".to_vec();
    let owner = evidence_owner(&p.id);
    assert!(matches!(ctx.svc.attach(&uw, &owner, "x.pdf", &pdf).await, Err(ServiceError::Forbidden { .. })));
    assert!(matches!(ctx.svc.attach(&z.banker, &owner, "x.pdf", &pdf).await, Err(ServiceError::NotFound)));
    ctx.svc.attach(&z.ent_admin, &owner, "回单.pdf", &pdf).await.unwrap();
    let todos = ctx.svc.inbox(&uw).await.unwrap().todos;
    let t = todos.iter().find(|t| t.kind == "premium_evidence").expect("a to-do for the underwriter");
    assert!(t.title_zh.contains(&p.number) && t.link == format!("/policies/{}", p.id), "{t:?}");
    let seen = ctx.svc.payment_instructions(&uw, &p.id).await.unwrap();
    assert_eq!((seen.evidence.len(), seen.can_submit), (1, false));
    // Recorded in part: still a to-do; in full: done, and no more evidence is taken.
    let half = Money::from_fen(p.premium.fen() / 2);
    ctx.svc.record_premium_paid(&uw, &p.id, half, "B-1").await.unwrap();
    assert!(ctx.svc.inbox(&uw).await.unwrap().todos.iter().any(|t| t.kind == "premium_evidence"));
    ctx.svc.record_premium_paid(&uw, &p.id, p.premium.checked_sub(half).unwrap(), "B-2").await.unwrap();
    assert!(!ctx.svc.inbox(&uw).await.unwrap().todos.iter().any(|t| t.kind == "premium_evidence"));
    let i = ctx.svc.payment_instructions(&z.ent_admin, &p.id).await.unwrap();
    assert_eq!((i.due, i.can_submit), (Money::ZERO, false));
    let e = ctx.svc.attach(&z.ent_admin, &owner, "again.pdf", &pdf).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "paid"), "{e:?}");
});

contract!(the_gauges_count_what_waits_and_what_is_past_due, |ctx: Ctx| async move {
    let Setup { z, pid, .. } = setup(&ctx).await;
    let q = QuoteInput {
        limit: Money::from_fen(80_000_000),
        deductible: Money::from_fen(500_000),
        ..Default::default()
    };
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q, "2026-11-28").await.unwrap();
    let policy = ctx.svc.my_policies(&z.ent_admin).await.unwrap().remove(0);
    let g = ctx.svc.gauges().await.unwrap();
    assert_eq!((g.counts.claims_decide_past_due, g.counts.claims_pay_past_due), (0, 0));
    assert_eq!(g.counts.failed_sign_ins, 0);
    ctx.svc
        .report_claim(
            &z.ent_admin,
            &policy.id,
            &ClaimInput::new("2026-11-28", "研发样机起火受损", Money::from_fen(90_000_000)),
        )
        .await
        .unwrap();
    let g = ctx.svc.gauges().await.unwrap();
    assert_eq!(g.counts.claims_decide_past_due, 0, "reported today: not yet due");
    assert!(
        g.counts.todos.iter().any(|(_, n, _)| *n > 0),
        "the claim waits on a handler: {:?}",
        g.counts.todos
    );
    assert!(ctx.svc.login("ent.admin", "wrong password").await.is_err());
    // Thirty-one days on, the claim is past its deadline to decide.
    ctx.clock.advance_us(31 * 86_400_000_000);
    let g = ctx.svc.gauges().await.unwrap();
    assert_eq!(g.counts.claims_decide_past_due, 1);
    assert_eq!(g.counts.failed_sign_ins, 0, "the failed sign-in is older than 24 hours");
    assert!(ctx.svc.login("ent.admin", "wrong password").await.is_err());
    let g = ctx.svc.gauges().await.unwrap();
    assert_eq!(g.counts.failed_sign_ins, 1);
    assert!(g.counts.ledger_debits_pending >= 0 && g.counts.ledger_credits_pending >= 0);
    assert_eq!(g.counts.newest_head_us, None);
});

/// What the statistics must show, recomputed from the events and the ledger alone: policies
/// written are the applications bound (on submission or by an underwriter) and the confirmed
/// registrations whose event falls in the period; premium written is every premium transfer of the period to or from an insurer's
/// written-premium account; earned premium is each policy's by its own definition; claims
/// reported are the `claim.reported` events of the period; claims paid are the payments of
/// the period less (or plus) the co-insurers' shares.
async fn recompute(
    ctx: &Ctx,
    period: kebao_domain::stats::Period,
    insurers: &[&str],
) -> kebao_domain::stats::Measures {
    use kebao_domain::time_zone::{business_date, from_unix_us};
    let (first, last) = (period.first_day(), period.last_day());
    let within = |us: i64| (first..=last).contains(&business_date(from_unix_us(us)));
    let mut tx = ctx.store.begin_read().await.unwrap();
    let events = kebao_store::events::page(tx.conn(), 0, 100_000).await.unwrap();
    let policies = kebao_store::policies::all_policies(tx.conn()).await.unwrap();
    let claims = kebao_store::claims::all(tx.conn()).await.unwrap();
    let accounts: std::collections::HashMap<String, (String, String)> =
        kebao_store::ledger::all_accounts(tx.conn())
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.id, (a.owner_id, a.kind)))
            .collect();
    let transfers = kebao_store::ledger::transfers_after(tx.conn(), "", 100_000).await.unwrap();
    let mine = |insurer: &str| insurers.is_empty() || insurers.contains(&insurer);
    let mut m = kebao_domain::stats::Measures::default();
    let mut enterprises = std::collections::HashSet::new();
    for e in events.iter().filter(|e| within(e.at_us)) {
        let written = match e.action.as_str() {
            // Bound at once on submission, or accepted by an underwriter later: the event names
            // the policy's number.
            "application.submitted" | "application.accepted" => {
                let payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
                payload["policy"].as_str().and_then(|n| policies.iter().find(|p| p.number == n))
            }
            "policy.registration_confirmed" => policies.iter().find(|p| p.id == e.subject),
            "claim.reported" => {
                let c = claims.iter().find(|c| c.id == e.subject).unwrap();
                if mine(&c.insurer_id) {
                    m.claims_reported += 1;
                    m.claimed_fen += c.claimed.fen();
                }
                None
            }
            _ => None,
        };
        if let Some(p) = written.filter(|p| mine(&p.insurer_id)) {
            m.policies += 1;
            m.cover_fen += p.input.cover().fen();
            enterprises.insert(p.enterprise_id.clone());
        }
    }
    m.enterprises = enterprises.len() as u64;
    for p in policies.iter().filter(|p| mine(&p.insurer_id)) {
        let before = first.previous_day().unwrap();
        m.earned_fen += p.earned_premium(last).fen() - p.earned_premium(before).fen();
    }
    for t in transfers.iter().filter(|t| within(t.timestamp_us)) {
        let tr = &t.transfer;
        let side = |id: &str, kind: &str| accounts.get(id).filter(|(o, k)| k == kind && mine(o)).is_some();
        match tr.code {
            101 | 103 | 104 | 105 | 111 => {
                if side(&tr.credit_account_id, "premium_written") {
                    m.written_fen += tr.amount;
                }
                if side(&tr.debit_account_id, "premium_written") {
                    m.written_fen -= tr.amount;
                }
            }
            202 => {
                let c = claims.iter().find(|c| c.id == tr.event_ref).unwrap();
                if mine(&c.insurer_id) {
                    m.paid_fen += tr.amount;
                }
            }
            112 => {
                if side(&tr.debit_account_id, "claims_expense") {
                    m.paid_fen += tr.amount;
                }
                if side(&tr.credit_account_id, "claims_expense") {
                    m.paid_fen -= tr.amount;
                }
            }
            _ => {}
        }
    }
    m
}

contract!(statistics_reconcile_with_the_events_and_the_ledger, |ctx: Ctx| async move {
    use kebao_domain::claim::ClaimOutcome;
    use kebao_domain::stats::{Measures, Period};
    use kebao_service::stats::StatsQuery;
    let Setup { z, uw, admin, other_uw, ins, pid, .. } = setup(&ctx).await;
    let other = other_uw.org_id().unwrap().to_owned();
    let handler = user(&ctx.svc, &ins, "claims.s", &[Role::ClaimsHandler]).await;
    let branch = ctx
        .svc
        .create_org(&operator(), &{
            let mut b = org_input("楚天财产保险股份有限公司武汉东湖支公司", &uscc(53), "insurer");
            b.parent_id = ins.clone();
            b
        })
        .await
        .unwrap();
    let q = |limit_yuan: i64| QuoteInput { limit: Money::from_fen(limit_yuan * 100), ..Default::default() };
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q(500_000), "2026-11-28").await.unwrap();
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q(200_000), "2026-12-01").await.unwrap();
    let mine = ctx.svc.my_policies(&z.ent_admin).await.unwrap();
    let p1 = mine.iter().find(|p| p.start_date.to_string() == "2026-11-28").unwrap().clone();
    let p2 = mine.iter().find(|p| p.start_date.to_string() == "2026-12-01").unwrap().clone();
    ctx.svc.endorse_policy(&admin, &p1.id, &q(1_000_000), "2026-12-28", "提高限额").await.unwrap();
    ctx.svc.set_coinsurance(&admin, &p1.id, &[(other.clone(), 3_000)]).await.unwrap();
    ctx.clock.advance_us(60 * 86_400_000_000);
    let c = ctx
        .svc
        .report_claim(
            &z.ent_admin,
            &p1.id,
            &ClaimInput::new("2027-01-10", "研发样机起火受损", Money::from_fen(1_000_000)),
        )
        .await
        .unwrap();
    ctx.svc.assign_claim(&handler, &c.id).await.unwrap();
    ctx.svc.set_claim_reserve(&handler, &c.id, Money::from_fen(1_000_000)).await.unwrap();
    ctx.svc.decide_claim(&handler, &c.id, ClaimOutcome::Pay, Money::from_fen(1_000_000), "").await.unwrap();
    ctx.svc.pay_claim(&handler, &c.id, Money::from_fen(400_000), "CLM-1").await.unwrap();
    ctx.clock.advance_us(70 * 86_400_000_000);
    // The rest is paid in the next quarter.
    ctx.svc.pay_claim(&handler, &c.id, Money::from_fen(600_000), "CLM-2").await.unwrap();
    ctx.svc.cancel_policy(&z.ent_admin, &p1.id, "2027-04-30", "企业停产").await.unwrap();
    ctx.svc.renew_policy(&z.ent_admin, &p2.id).await.unwrap();

    let report = |who: Actor, period: &'static str, part: &'static str, by: &'static str, insurer: String| {
        let svc = ctx.svc.clone();
        async move {
            let q = StatsQuery::parse(period, part, by, &insurer).unwrap();
            svc.stats_report(&who, &q).await
        }
    };
    let some = |m: &Measures| !m.is_empty();
    let mut seen = Vec::new();
    for period in ["2026Q4", "2027Q1", "2027Q2", "2027Q4", "2026", "2027"] {
        let p = Period::parse(period).unwrap();
        for (scope, who, ids) in [
            (String::new(), z.regulator.clone(), vec![]),
            (ins.clone(), z.regulator.clone(), vec![ins.as_str(), branch.id.as_str()]),
            (String::new(), other_uw.clone(), vec![other.as_str()]),
        ] {
            let want = recompute(&ctx, p, &ids).await;
            for (part, by) in
                [("1", ""), ("2", ""), ("2", "industry"), ("2", "stage"), ("2", "park"), ("1", "insurer")]
            {
                let r = report(who.clone(), period, part, by, scope.clone()).await.unwrap();
                assert_eq!(r.total, want, "{period} part {part} by {by} for {scope:?}");
                // The rows add up to the total (one enterprise, in one row of each breakdown here).
                let mut sum = Measures::default();
                for row in r.rows.iter().filter(|r| r.depth == 0) {
                    sum.add_sums(&row.measures);
                }
                sum.enterprises = want.enterprises;
                assert_eq!(sum, want, "{period} part {part} by {by} rows");
            }
            seen.push(some(&want));
        }
    }
    // Every measure is exercised somewhere: the scenario is not empty.
    let y2027 = recompute(&ctx, Period::parse("2027").unwrap(), &[]).await;
    assert!(y2027.policies >= 1 && y2027.written_fen != 0 && y2027.earned_fen > 0, "{y2027:?}");
    assert_eq!((y2027.claims_reported, y2027.claimed_fen, y2027.paid_fen), (1, 1_000_000, 1_000_000));
    let q1 = recompute(&ctx, Period::parse("2027Q1").unwrap(), &[]).await;
    assert_eq!(q1.paid_fen, 400_000);
    let follower = recompute(&ctx, Period::parse("2027Q2").unwrap(), &[other.as_str()]).await;
    assert_eq!(follower.paid_fen, 180_000, "the co-insurer's 30 % of the second payment");
    assert!(follower.written_fen < 0, "the co-insurer gives back its share of the returned premium");
    // The rows name the class and the product type.
    let r = report(z.regulator.clone(), "2026", "1", "", String::new()).await.unwrap();
    let names: Vec<(&str, u8)> = r.rows.iter().map(|r| (r.label_zh.as_str(), r.depth)).collect();
    assert_eq!(names.first(), Some(&("科技研发、成果转化风险类", 0)));
    assert!(names.contains(&("高新技术企业产品研发责任保险", 1)), "{names:?}");
    assert_eq!(r.total.policies, 2);
    // The industry × stage grid (the enterprise is in one industry): its cells add up to Part 2.
    for period in ["2026Q4", "2027"] {
        let g =
            ctx.svc.stats_grid(&z.regulator, &StatsQuery::parse(period, "2", "", "").unwrap()).await.unwrap();
        let want = recompute(&ctx, Period::parse(period).unwrap(), &[]).await;
        assert_eq!(g.written_fen.iter().flatten().sum::<i64>(), want.written_fen, "{period}");
        assert_eq!(g.enterprises.iter().flatten().sum::<u64>(), want.enterprises, "{period}");
        assert_eq!((g.rows.len(), g.cols.len()), (8, 7));
    }
    // The insurers' breakdown: the head office, then its own business.
    let r = report(z.regulator.clone(), "2026", "1", "insurer", String::new()).await.unwrap();
    assert!(r.rows.iter().any(|r| r.key == ins && r.depth == 0));

    // Who sees what: an insurer its own organisation and branches, nobody else's; an enterprise
    // nothing; a bad query is refused naming its field.
    let choices = ctx.svc.stats_insurers(&admin).await.unwrap();
    let ids: Vec<&str> = choices.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(ids, [ins.as_str(), branch.id.as_str()]);
    assert!(report(admin.clone(), "2027", "1", "", branch.id.clone()).await.is_ok());
    assert!(matches!(
        report(uw.clone(), "2027", "1", "", other.clone()).await,
        Err(ServiceError::Invalid(i)) if i.0[0].code == "outside_own_organisation"
    ));
    assert!(matches!(
        report(z.ent_admin.clone(), "2027", "1", "", String::new()).await,
        Err(ServiceError::Forbidden { .. })
    ));
    assert!(matches!(
        report(z.regulator.clone(), "2027", "1", "", "no-such-insurer".into()).await,
        Err(ServiceError::Invalid(i)) if i.0[0].field == "insurer"
    ));
    let bad = StatsQuery::parse("2027Q5", "3", "colour", "").unwrap_err();
    assert_eq!(bad.0.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["period", "part", "by"]);
    assert!(seen.iter().any(|s| *s));
});

contract!(the_dashboard_s_snapshots_equal_fresh_reports_and_follow_new_records, |ctx: Ctx| async move {
    use kebao_service::stats::StatsQuery;
    let Setup { z, uw, other_uw, ins, pid, .. } = setup(&ctx).await;
    let other = other_uw.org_id().unwrap().to_owned();
    let q = |yuan: i64| QuoteInput { limit: Money::from_fen(yuan * 100), ..Default::default() };
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q(500_000), "2026-11-28").await.unwrap();
    let year = StatsQuery::parse("2026", "1", "", "").unwrap();
    // Everything the page shows equals what the reports compute afresh.
    let same_as_fresh = |d: kebao_service::stats_snapshots::Dashboard| {
        let (svc, who, year) = (ctx.svc.clone(), z.regulator.clone(), year.clone());
        async move {
            assert_eq!(d.report, svc.stats_report(&who, &year).await.unwrap());
            assert_eq!(d.grid, svc.stats_grid(&who, &year).await.unwrap());
            assert_eq!(d.trend, svc.stats_class_trend(&who, &year).await.unwrap());
            let parks = StatsQuery::parse("2026", "2", "park", "").unwrap();
            assert_eq!(d.parks, svc.stats_report(&who, &parks).await.unwrap());
            for (p, total) in &d.quarters {
                let fresh = svc.stats_report(&who, &StatsQuery { period: *p, ..year.clone() }).await.unwrap();
                assert_eq!(*total, fresh.total, "{p:?}");
            }
            d
        }
    };
    let first = ctx.svc.stats_dashboard(&z.regulator, &year).await.unwrap();
    assert!(!first.stale);
    assert_eq!(first.quarters.len(), 4, "the test clock is in the year's last quarter");
    let first = same_as_fresh(first).await;
    assert_eq!(first.report.total.policies, 1);
    // Read again with nothing new: the same snapshot, not stale.
    let again = ctx.svc.stats_dashboard(&z.regulator, &year).await.unwrap();
    assert_eq!(
        (again.as_of_us, again.stale, again.report.total),
        (first.as_of_us, false, first.report.total)
    );

    // A new policy: the page at once shows the figures it has, marked as not counting it yet,
    // while they are computed anew.
    ctx.clock.advance_us(1_000_000);
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q(200_000), "2026-12-01").await.unwrap();
    let behind = ctx.svc.stats_dashboard(&z.regulator, &year).await.unwrap();
    assert!(behind.stale);
    assert_eq!(behind.report.total.policies, 1);
    assert_eq!(behind.as_of_us, first.as_of_us);
    let mut fresh = None;
    for _ in 0..200 {
        ctx.svc.refresh_stats_snapshots().await.unwrap();
        let d = ctx.svc.stats_dashboard(&z.regulator, &year).await.unwrap();
        if !d.stale {
            fresh = Some(d);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let fresh = same_as_fresh(fresh.expect("the snapshots were brought up to date")).await;
    assert_eq!(fresh.report.total.policies, 2);
    assert!(fresh.as_of_us > first.as_of_us);
    // Nothing left to refresh.
    assert_eq!(ctx.svc.refresh_stats_snapshots().await.unwrap(), 0);

    // Snapshots are read with the reports' access: an insurer sees its own figures (the zone's
    // snapshot is not handed to it), not another's; an enterprise nothing.
    let own = ctx.svc.stats_dashboard(&uw, &year).await.unwrap();
    assert_eq!(own.report.insurer_id.as_deref(), Some(ins.as_str()));
    assert_eq!(own.report, ctx.svc.stats_report(&uw, &year).await.unwrap());
    let theirs = StatsQuery { insurer_id: Some(other.clone()), ..year.clone() };
    assert!(matches!(
        ctx.svc.stats_dashboard(&uw, &theirs).await,
        Err(ServiceError::Invalid(i)) if i.0[0].code == "outside_own_organisation"
    ));
    assert!(matches!(
        ctx.svc.stats_dashboard(&z.ent_admin, &year).await,
        Err(ServiceError::Forbidden { .. })
    ));
});

contract!(
    the_advisor_infers_exposures_orders_products_by_its_rule_and_keeps_a_shortlist,
    |ctx: Ctx| async move {
        use kebao_domain::advisor::rotation_key;
        use std::collections::HashMap;
        let Setup { z, filer, other_uw, pid, .. } = setup(&ctx).await;
        // The same type from the other insurer (open to every stage), and one filed for enterprises
        // on the market only.
        let (_, _, open) = second_rd_liability(&ctx, &z, &other_uw).await;
        let market_only = publish(
            &ctx,
            &z,
            &filer,
            ProductInput {
                name: "上市产品研发责任险".into(),
                stages: vec!["market".into()],
                ..rd_liability()
            },
        )
        .await;
        let v = ctx.svc.advisor(&z.ent_admin).await.unwrap();
        assert_eq!(v.org_id, z.enterprise);
        let rd =
            v.exposures.iter().find(|e| e.id == "rd_product_liability").expect("an R&D-stage enterprise");
        assert!(!rd.reasons.is_empty());
        assert!(!v.exposures.iter().any(|e| e.id == "clinical_trials"), "not inferred without an answer");
        // Every product of the type, each with the enterprise's standing against its eligibility, in
        // the advisor's order: exposures covered, then the day's rotation — never the price.
        let ids: Vec<&str> = rd.products.iter().map(|p| p.product_id.as_str()).collect();
        let mut want = vec![pid.as_str(), open.as_str(), market_only.as_str()];
        want.sort_by_key(|p| rotation_key(&z.enterprise, ctx.svc.today(), p));
        assert_eq!(ids, want);
        let refused = rd.products.iter().find(|p| p.product_id == market_only).unwrap();
        assert_eq!(refused.not_eligible.len(), 1, "{:?}", refused.not_eligible);
        assert!(rd
            .products
            .iter()
            .filter(|p| p.product_id != market_only)
            .all(|p| p.not_eligible.is_empty()));

        // Bad answers are refused naming each, and nothing is saved.
        let form = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        let before = state(&ctx).await;
        let bad = ctx
            .svc
            .save_advisor_answers(
                &z.ent_admin,
                &form(&[("clinical_trials", "perhaps"), ("key_equipment_value", "-1")]),
            )
            .await;
        assert!(matches!(&bad, Err(ServiceError::Invalid(i)) if i.0.len() == 2), "{bad:?}");
        assert_eq!(state(&ctx).await, before);
        assert!(ctx.svc.advisor(&z.ent_admin).await.unwrap().answers.is_empty());
        // Good ones bring the exposures they imply; one no product addresses is a gap.
        ctx.svc
            .save_advisor_answers(
                &z.ent_admin,
                &form(&[("clinical_trials", "yes"), ("key_equipment_value", "1200000")]),
            )
            .await
            .unwrap();
        let v = ctx.svc.advisor(&z.ent_admin).await.unwrap();
        assert_eq!(v.answers.get("key_equipment_value"), Some(&120_000_000));
        let trials = v.exposures.iter().find(|e| e.id == "clinical_trials").unwrap();
        assert!(trials.is_gap());
        assert!(v.exposures.iter().any(|e| e.id == "rd_equipment_damage"));

        // The shortlist: an eligible product under its exposure; not twice, not one the enterprise
        // is not eligible for, not under an exposure it does not address; nothing changes on a refusal.
        ctx.svc.shortlist_product(&z.ent_admin, &pid, "rd_product_liability").await.unwrap();
        ctx.svc.shortlist_product(&z.ent_admin, &open, "rd_product_liability").await.unwrap();
        let before = state(&ctx).await;
        assert!(matches!(
            ctx.svc.shortlist_product(&z.ent_admin, &pid, "rd_product_liability").await,
            Err(ServiceError::Conflict(_))
        ));
        assert!(matches!(
            ctx.svc.shortlist_product(&z.ent_admin, &market_only, "rd_product_liability").await,
            Err(ServiceError::Invalid(i)) if i.0[0].code == "not_eligible"
        ));
        assert!(matches!(
            ctx.svc.shortlist_product(&z.ent_admin, &pid, "clinical_trials").await,
            Err(ServiceError::Invalid(i)) if i.0[0].code == "not_for_exposure"
        ));
        assert!(matches!(
            ctx.svc.shortlist_product(&z.ent_admin, &pid, "no_such_exposure").await,
            Err(ServiceError::Invalid(i)) if i.0[0].code == "not_an_exposure"
        ));
        assert_eq!(state(&ctx).await, before);
        let v = ctx.svc.advisor(&z.ent_admin).await.unwrap();
        assert_eq!(v.shortlist.len(), 2);
        ctx.svc.unlist_product(&z.ent_admin, &open).await.unwrap();
        assert!(matches!(ctx.svc.unlist_product(&z.ent_admin, &open).await, Err(ServiceError::NotFound)));

        // A policy in force of the type covers the exposure, for the enterprise and in the zone's needs.
        let q = QuoteInput { limit: Money::from_fen(50_000_000), ..Default::default() };
        ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q, "2026-11-28").await.unwrap();
        let v = ctx.svc.advisor(&z.ent_admin).await.unwrap();
        let rd = v.exposures.iter().find(|e| e.id == "rd_product_liability").unwrap();
        assert_eq!(rd.covered_by.len(), 1);
        let needs = ctx.svc.advisor_needs(&z.regulator).await.unwrap();
        let row = needs.rows.iter().find(|r| r.id == "rd_product_liability").unwrap();
        assert_eq!((row.enterprises, row.covered, row.shortlisted, row.products), (1, 1, 1, 3));
        let trials = needs.rows.iter().find(|r| r.id == "clinical_trials").unwrap();
        assert_eq!((trials.enterprises, trials.covered, trials.products), (1, 0, 0));
        assert_eq!(needs.enterprises, 1);

        // Only the enterprise's own staff use its advisor; only the zone's readers see the needs.
        assert!(matches!(ctx.svc.advisor(&z.banker).await, Err(ServiceError::Forbidden { .. })));
        assert!(matches!(
            ctx.svc.save_advisor_answers(&other_uw, &form(&[("clinical_trials", "no")])).await,
            Err(ServiceError::Forbidden { .. })
        ));
        assert!(matches!(ctx.svc.advisor_needs(&z.ent_admin).await, Err(ServiceError::Forbidden { .. })));
    }
);

contract!(
    the_zone_s_targets_count_enterprises_cover_and_the_institutions_registered,
    |ctx: Ctx| async move {
        let Setup { z, admin, ins, pid, .. } = setup(&ctx).await;
        let q = QuoteInput { limit: Money::from_fen(50_000_000), ..Default::default() };
        ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q, "2026-11-28").await.unwrap();
        let op = operator();
        let mut n = 60;
        let mut inst = |name: &str, kind: &str, ikind: &str, founded: &str, parent: &str| {
            n += 1;
            let mut o = org_input(name, &uscc(n), kind);
            o.institution_kind = ikind.into();
            o.founded_on = founded.into();
            o.parent_id = parent.into();
            o
        };
        for o in [
            inst("楚天财产保险光谷科技支公司", "insurer", "specialist_branch", "2022-05-01", &ins),
            inst("光谷保险科技有限公司", "service_body", "insurtech", "2023-01-01", ""),
            // No establishment date: not counted; established before the plan: not new.
            inst("东湖科技保险服务中心", "service_body", "service_body", "", ""),
            inst("楚天保险经纪有限公司", "service_body", "intermediary", "2020-01-01", ""),
        ] {
            ctx.svc.create_org(&op, &o).await.unwrap();
        }
        // An enterprise is not an institution the targets count.
        let before = state(&ctx).await;
        let e = ctx
            .svc
            .create_org(&op, &inst("某科技公司", "enterprise", "insurtech", "", ""))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, ServiceError::Invalid(i) if i.0.iter().any(|f| f.field == "institution_kind")),
            "{e:?}"
        );
        assert_eq!(state(&ctx).await, before);

        let list = ctx.svc.zone_targets(&z.regulator).await.unwrap();
        let get = |id: &str| list.iter().find(|x| x.target.id == id).unwrap();
        assert_eq!(get("insured_enterprises").now, 1);
        assert_eq!(get("insured_enterprises").percent, Some(0.02));
        assert_eq!(get("risk_cover").now, 50_000_000, "the policy's limit, as it has no sum insured");
        assert_eq!(get("insurtech_research").now, 1);
        assert_eq!(get("new_specialist_bodies").now, 1, "only the branch set up after the plan");
        assert_eq!(get("specialist_finance_bodies_2027").now, 1);
        assert!(get("products_published").now >= 1 && get("products_published").percent.is_none());
        // Year by year: the branch counts from 2022, the insurtech from 2023.
        let years = &get("new_specialist_bodies").years;
        assert_eq!(years.first(), Some(&(2021, 0)));
        assert!(years.contains(&(2022, 1)), "{years:?}");
        assert_eq!(get("insurtech_research").years.iter().find(|(y, _)| *y == 2022), Some(&(2022, 0)));
        // The zone's officers and the regulator only.
        for who in [&z.ent_admin, &admin] {
            assert!(matches!(ctx.svc.zone_targets(who).await, Err(ServiceError::Forbidden { .. })));
        }
    }
);

contract!(the_index_is_computed_from_the_zone_s_records_and_stored_with_its_files, |ctx: Ctx| async move {
    use kebao_composite::{Build, Framework, UnitData};
    use kebao_domain::index::UnitKind;
    use kebao_domain::job::JobState;
    use kebao_service::index::{build_spec, FRAMEWORK};
    use kebao_service::jobs::JobRunner;
    use kebao_service::stats::StatsQuery;
    use kebao_service::tabular::Table;
    let Setup { z, pid, .. } = setup(&ctx).await;
    let op = operator();
    let mut ents = Vec::new();
    for (i, park) in ["biolake", "future_city", "central_city"].iter().enumerate() {
        let mut o = org_input(&format!("园区企业{i}"), &uscc(70 + i as u32), "enterprise");
        o.park = (*park).into();
        let org = ctx.svc.create_org(&op, &o).await.unwrap();
        ents.push(user(&ctx.svc, &org.id, &format!("ent.p{i}"), &[Role::EnterpriseAdmin]).await);
    }
    let q = |yuan: i64| QuoteInput { limit: Money::from_fen(yuan * 100), ..Default::default() };
    ctx.svc.apply_for_policy(&ents[0], &pid, &q(500_000), "2026-11-28").await.unwrap();
    ctx.svc.apply_for_policy(&ents[0], &pid, &q(300_000), "2026-11-29").await.unwrap();
    ctx.svc.apply_for_policy(&ents[1], &pid, &q(200_000), "2026-11-28").await.unwrap();

    // Refused before anything is queued: a year outside the framework, an unknown kind of
    // unit, anyone but a zone officer.
    let before = state(&ctx).await;
    let fields = |e: ServiceError| match e {
        ServiceError::Invalid(i) => i.0.iter().map(|f| f.field.clone()).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(fields(ctx.svc.start_index_run(&z.reviewer, "park", "1999").await.unwrap_err()), ["year"]);
    assert_eq!(
        fields(ctx.svc.start_index_run(&z.reviewer, "districts", "2026").await.unwrap_err()),
        ["unit_kind"]
    );
    for who in [&z.ent_admin, &z.regulator, &z.banker] {
        let e = ctx.svc.start_index_run(who, "park", "2026").await;
        assert!(matches!(e, Err(ServiceError::Forbidden { .. })), "{who:?}: {e:?}");
    }
    assert!(matches!(ctx.svc.index_runs(&z.ent_admin).await, Err(ServiceError::Forbidden { .. })));
    assert_eq!(state(&ctx).await, before);

    let runner = JobRunner::new(ctx.svc.clone());
    let run_parks = || async {
        let job = ctx.svc.start_index_run(&z.reviewer, "park", "2026").await.unwrap();
        let ended = runner.run_once().await.unwrap().unwrap();
        assert_eq!(
            (ended.id.as_str(), ended.state),
            (job.id.as_str(), JobState::Succeeded),
            "{:?}",
            ended.failure
        );
        let runs = ctx.svc.index_runs(&z.regulator).await.unwrap();
        ctx.svc.index_run(&z.regulator, &runs.first().unwrap().stored.id).await.unwrap()
    };
    let run = run_parks().await;
    assert_eq!((run.stored.unit_kind.as_str(), run.stored.year, run.stored.version), ("park", 2026, 1));
    let res = &run.results;
    let ids: Vec<&str> = res.units.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(
        res.excluded.iter().any(|x| x.code == "optoelectronics_park"),
        "parks without enterprises: {:?}",
        res.excluded
    );
    // The extraction agrees with the statistics: premium per enterprise is the Part 2 report's
    // premium written for the park (one enterprise in each); the insured share counts the
    // enterprise with a policy in force.
    let report = ctx
        .svc
        .stats_report(&z.regulator, &StatsQuery::parse("2026", "2", "park", "").unwrap())
        .await
        .unwrap();
    let col = |code: &str| res.indicators.iter().position(|c| c == code).unwrap();
    for u in &res.units {
        let row = report.rows.iter().find(|r| r.key == u.id).unwrap();
        assert_eq!(u.raw[col("premium_per_firm")], Some(row.measures.written_fen as f64 * 0.01), "{}", u.id);
        let insured = if u.id == "central_city" { 0.0 } else { 100.0 };
        assert_eq!(u.raw[col("insured_share")], Some(insured), "{}", u.id);
    }
    assert!(report.rows.iter().find(|r| r.key == "biolake").unwrap().measures.written_fen > 0);
    let first = res.units.first().unwrap();
    assert_eq!((first.id.as_str(), first.rank), ("biolake", Some(1)), "{res:?}");
    assert!(first.q05 <= first.median && first.median <= first.q95, "{first:?}");
    // No R&D reported, no official figures: those indicators are left out, named.
    for code in ["cover_per_rnd", "rnd_intensity"] {
        assert!(res.dropped.iter().any(|d| d.code == code) && !res.indicators.iter().any(|c| c == code));
    }
    // The stored files rebuild the stored scores exactly.
    let fw = kebao_domain::index::parse(FRAMEWORK).unwrap();
    let engine = Framework::from_imeta_csv(&run.stored.imeta).unwrap();
    let data = UnitData::from_idata_csv(&run.stored.idata, &engine).unwrap();
    let b = Build::run(&engine, &data, &build_spec(&fw)).unwrap();
    for u in &res.units {
        let i = b.results.units.iter().position(|x| *x == u.id).unwrap();
        let scores: Vec<Option<f64>> = b.results.scores.iter().map(|c| Some(c[i])).collect();
        assert_eq!(scores, u.scores, "{}", u.id);
    }
    assert!(run.stored.config.contains("runs = 1000"));

    // Official figures: a bad row refuses the whole file; good ones are used by the next run,
    // which is version 2.
    let table = |rows: &[[&str; 6]]| Table {
        headers: ["unit_kind", "unit", "year", "indicator", "value", "source"].map(str::to_owned).to_vec(),
        rows: rows.iter().map(|r| r.map(str::to_owned).to_vec()).collect(),
    };
    let before = state(&ctx).await;
    let r = ctx
        .svc
        .import_index_statistics(
            &z.reviewer,
            &table(&[
                ["park", "biolake", "2026", "rnd_intensity", "5.2", "统计公报"],
                ["park", "光谷中心城", "2026", "rnd_intensity", "abc", "统计公报"],
                ["industry", "bio", "2031", "rnd_intensity", "3", "统计公报"],
            ]),
        )
        .await
        .unwrap();
    let codes: Vec<(usize, &str)> = r.problems.iter().map(|p| (p.row, p.code)).collect();
    assert_eq!(codes, [(3, "not_a_number"), (4, "year")], "{:?}", r.problems);
    assert_eq!(r.imported, 0);
    assert_eq!(state(&ctx).await, before);
    assert!(ctx.svc.index_official(&z.regulator, UnitKind::Park).await.unwrap().is_empty());
    let r = ctx
        .svc
        .import_index_statistics(
            &z.reviewer,
            &table(&[
                ["园区", "光谷生物城", "2026", "研发经费投入强度（统计公报）", "5.2", "统计公报"],
                ["park", "central_city", "2026", "rnd_intensity", "3.4", "统计公报"],
            ]),
        )
        .await
        .unwrap();
    assert_eq!((r.imported, r.problems.len()), (2, 0), "{:?}", r.problems);
    let run2 = run_parks().await;
    assert_eq!(run2.stored.version, 2);
    assert!(run2.results.indicators.iter().any(|c| c == "rnd_intensity"), "{:?}", run2.results.indicators);
    assert!(run2.stored.idata.contains(",5.2"), "{}", run2.stored.idata);

    // A framework with a cycle or zero weights is refused with the reason; a new version is
    // used by the runs after it; its version cannot be loaded twice.
    let cycle = FRAMEWORK
        .replace("version = \"2026.1\"", "version = \"2026.2\"")
        .replace("code = \"P_cover\"\nparent = \"KBI\"", "code = \"P_cover\"\nparent = \"P_service\"")
        .replace("code = \"P_service\"\nparent = \"KBI\"", "code = \"P_service\"\nparent = \"P_cover\"");
    let e = ctx.svc.load_index_framework(&z.reviewer, &cycle).await.unwrap_err();
    assert!(format!("{e:?}").contains("cycle through"), "{e:?}");
    let zero = FRAMEWORK
        .replace("version = \"2026.1\"", "version = \"2026.2\"")
        .replace("parent = \"P_service\"\nweight = 1", "parent = \"P_service\"\nweight = 0");
    let e = ctx.svc.load_index_framework(&z.reviewer, &zero).await.unwrap_err();
    assert!(format!("{e:?}").contains("weights sum to zero"), "{e:?}");
    let e = ctx.svc.load_index_framework(&z.reviewer, FRAMEWORK).await.unwrap_err();
    assert!(matches!(e, ServiceError::Conflict(_)), "the shipped version exists: {e:?}");
    let heavier = FRAMEWORK.replace("version = \"2026.1\"", "version = \"2026.2\"").replace(
        "code = \"P_cover\"\nparent = \"KBI\"\nweight = 1",
        "code = \"P_cover\"\nparent = \"KBI\"\nweight = 2",
    );
    let fw2 = ctx.svc.load_index_framework(&z.reviewer, &heavier).await.unwrap();
    assert_eq!(fw2.version, "2026.2");
    assert!(matches!(
        ctx.svc.load_index_framework(&z.reviewer, &heavier).await,
        Err(ServiceError::Conflict(_))
    ));
    let run3 = run_parks().await;
    assert_eq!((run3.stored.version, run3.stored.framework_version.as_str()), (3, "2026.2"));
    assert!(run3.stored.imeta.contains("P_cover,Coverage,2,KBI,1,2,Aggregate"), "{}", run3.stored.imeta);
    assert!(ctx.svc.ledger_verify().await.unwrap().problems.is_empty());
});

contract!(institutions_are_evaluated_against_the_standards_each_seeing_its_own, |ctx: Ctx| async move {
    let Setup { z, admin, other_uw, ins, pid, .. } = setup(&ctx).await;
    let q = QuoteInput { limit: Money::from_fen(50_000_000), ..Default::default() };
    ctx.svc.apply_for_policy(&z.ent_admin, &pid, &q, "2026-11-28").await.unwrap();
    let all = ctx.svc.evaluation(&z.regulator, "2026").await.unwrap();
    assert!(all.zone_wide);
    let mine = all.standings.iter().find(|s| s.org_id == ins).unwrap();
    let fig = |s: &kebao_service::evaluation::Standing, id: &str| {
        s.figures.iter().find(|f| f.standard_id == id).unwrap().clone()
    };
    // The one enterprise insured is at the R&D stage; the product was filed this year; no
    // claims (no figure, left out of the score); no complaints.
    assert_eq!(fig(mine, "early_stage_share").value, Some(100.0));
    assert_eq!(fig(mine, "products_filed").value, Some(1.0));
    assert_eq!(fig(mine, "claims_decided_30_days").value, None);
    assert_eq!(fig(mine, "complaints_per_thousand").value, Some(0.0));
    assert!(fig(mine, "complaints_per_thousand").met);
    assert_eq!(mine.score, Some(100.0), "{mine:?}");
    assert_eq!(mine.rank, Some(1));
    let other = all.standings.iter().find(|s| s.org_id == other_uw.org_id().unwrap()).unwrap();
    assert_eq!(fig(other, "products_filed").value, Some(0.0));
    assert!(other.score.unwrap() < 100.0 && other.rank == Some(2), "{other:?}");
    let bank = all.standings.iter().find(|s| s.org_id == z.bank).unwrap();
    assert_eq!((bank.kind, fig(bank, "loans_disbursed").value), ("bank", Some(0.0)));
    // An insurer sees its own standing and the others' scores without names; a bank its own.
    let own = ctx.svc.evaluation(&admin, "2026").await.unwrap();
    assert!(!own.zone_wide);
    assert_eq!(own.standings.iter().map(|s| s.org_id.as_str()).collect::<Vec<_>>(), [ins.as_str()]);
    let insurer_scores = &own.distributions.iter().find(|(k, _)| *k == "insurer").unwrap().1;
    assert_eq!(insurer_scores.len(), all.standings.iter().filter(|s| s.kind == "insurer").count());
    let b = ctx.svc.evaluation(&z.banker, "2026").await.unwrap();
    assert_eq!(b.standings.iter().map(|s| s.org_id.as_str()).collect::<Vec<_>>(), [z.bank.as_str()]);
    // An enterprise sees nothing; a bad year is refused with its field.
    assert!(matches!(ctx.svc.evaluation(&z.ent_admin, "2026").await, Err(ServiceError::Forbidden { .. })));
    let e = ctx.svc.evaluation(&z.regulator, "2999").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0.iter().any(|f| f.field == "year")), "{e:?}");
});

contract!(
    the_advisor_s_broker_mode_needs_a_licensed_broker_and_applies_for_a_bundle_in_one_step,
    |ctx: Ctx| async move {
        use kebao_domain::rating::QuoteFields;
        use kebao_service::advisor_broker::BrokerInput;
        use std::collections::HashMap;
        use time::Duration;
        let Setup { z, filer, other_uw, pid, .. } = setup(&ctx).await;
        let (other, other_filer, open) = second_rd_liability(&ctx, &z, &other_uw).await;
        let equipment = publish(
            &ctx,
            &z,
            &other_filer,
            ProductInput {
                type_id: "key_rd_equipment".into(),
                name: "关键研发设备险（江城）".into(),
                ..rd_liability()
            },
        )
        .await;
        let form: HashMap<String, String> = [("key_equipment_value".to_owned(), "1200000".to_owned())].into();
        ctx.svc.save_advisor_answers(&z.ent_admin, &form).await.unwrap();
        let gov = z.reviewer.org_id().unwrap().to_owned();
        let approver = user(&ctx.svc, &gov, "approver", &[Role::ZoneApprover]).await;
        let op = operator();
        let mut b = org_input("光谷保险经纪有限公司", &uscc(80), "service_body");
        b.institution_kind = "intermediary".into();
        let broker = ctx.svc.create_org(&op, &b).await.unwrap();
        let mut s = org_input("东湖科技保险服务中心", &uscc(81), "service_body");
        s.institution_kind = "service_body".into();
        let not_broker = ctx.svc.create_org(&op, &s).await.unwrap();
        let limit = |y: &str| QuoteFields { limit_yuan: y.into(), ..Default::default() };

        // Information mode: subsidy estimates for a reference policy, but no quotes side by side
        // and no bundle.
        let v = ctx.svc.advisor(&z.ent_admin).await.unwrap();
        assert!(v.broker.is_none() && v.bundle.is_none());
        let rd = v.exposures.iter().find(|e| e.id == "rd_product_liability").unwrap();
        assert!(
            rd.products.iter().all(|p| p.estimates.iter().any(|e| e.programme_id == "zone_tech_insurance")),
            "the zone programme takes R&D liability"
        );
        let before = state(&ctx).await;
        assert!(matches!(
            ctx.svc.quote_for_exposure(&z.ent_admin, "rd_product_liability", &limit("500000")).await,
            Err(ServiceError::Conflict(f)) if f.code == "no_licensed_broker"
        ));
        assert!(matches!(
            ctx.svc.apply_bundle(&z.ent_admin, "2026-11-28").await,
            Err(ServiceError::Conflict(f)) if f.code == "no_licensed_broker"
        ));

        // Naming a broker: the zone's approvers only, a verified intermediary, a licence valid today.
        let today = ctx.svc.today();
        let input = |org: &str, from: i64, to: i64| BrokerInput {
            org_id: org.into(),
            licence_no: "260710000000800".into(),
            valid_from: (today + Duration::days(from)).to_string(),
            valid_to: (today + Duration::days(to)).to_string(),
        };
        assert!(matches!(
            ctx.svc.name_advisor_broker(&z.reviewer, &input(&broker.id, -10, 300)).await,
            Err(ServiceError::Forbidden { .. })
        ));
        let codes = |r: Result<_, ServiceError>| match r {
            Err(ServiceError::Invalid(i)) => i.0.iter().map(|f| f.code).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            codes(ctx.svc.name_advisor_broker(&approver, &input(&broker.id, -400, -1)).await),
            ["licence_expired"]
        );
        assert_eq!(
            codes(ctx.svc.name_advisor_broker(&approver, &input(&not_broker.id, -10, 300)).await),
            ["not_an_intermediary"]
        );
        assert_eq!(
            codes(
                ctx.svc
                    .name_advisor_broker(
                        &approver,
                        &BrokerInput { licence_no: " ".into(), ..input(&broker.id, -10, 300) }
                    )
                    .await
            ),
            ["required"]
        );
        assert_eq!(state(&ctx).await, before);
        ctx.svc.name_advisor_broker(&approver, &input(&broker.id, -10, 300)).await.unwrap();
        let v = ctx.svc.advisor(&z.ent_admin).await.unwrap();
        assert_eq!(v.broker.as_ref().map(|b| b.org_name.as_str()), Some("光谷保险经纪有限公司"));

        // Quotes side by side: every eligible product of the exposure, each by its insurer's plan,
        // kept with the plan's version and a validity of 30 days (the plan's default).
        let qs =
            ctx.svc.quote_for_exposure(&z.ent_admin, "rd_product_liability", &limit("500000")).await.unwrap();
        let mut got: Vec<&str> = qs.iter().map(|q| q.product_id.as_str()).collect();
        got.sort_unstable();
        let mut want = vec![pid.as_str(), open.as_str()];
        want.sort_unstable();
        assert_eq!(got, want);
        for q in &qs {
            assert_eq!((q.premium_fen, q.plan_version), (500_000, 1), "1 % of the limit");
            assert_eq!(q.valid_until, today + Duration::days(30));
            assert!(q.subsidy_fen >= 0 && q.subsidy_fen <= q.premium_fen);
        }
        // Bad input changes nothing: an amount out of range, an exposure the enterprise lacks, an
        // empty bundle.
        let before = state(&ctx).await;
        assert!(matches!(
            ctx.svc.quote_for_exposure(&z.ent_admin, "rd_product_liability", &limit("-5")).await,
            Err(ServiceError::Invalid(_))
        ));
        assert!(matches!(
            ctx.svc.quote_for_exposure(&z.ent_admin, "clinical_trials", &limit("500000")).await,
            Err(ServiceError::Invalid(i)) if i.0[0].code == "not_an_exposure"
        ));
        assert!(matches!(
            ctx.svc.apply_bundle(&z.ent_admin, "2026-11-28").await,
            Err(ServiceError::Invalid(i)) if i.0[0].code == "empty_bundle"
        ));
        assert_eq!(state(&ctx).await, before);

        // A quote expires with its validity: it can no longer be chosen, and a bundle holding it
        // is refused, naming it, with nothing changed.
        let mine = qs.iter().find(|q| q.product_id == pid).unwrap();
        ctx.svc.choose_quote(&z.ent_admin, &mine.id).await.unwrap();
        ctx.clock.advance_us(31 * 86_400_000_000);
        let later = ctx.svc.today();
        let before = state(&ctx).await;
        let e = ctx.svc.apply_bundle(&z.ent_admin, &later.to_string()).await.unwrap_err();
        assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "quote_lapsed"), "{e:?}");
        let theirs = qs.iter().find(|q| q.product_id == open).unwrap();
        assert!(matches!(
            ctx.svc.choose_quote(&z.ent_admin, &theirs.id).await,
            Err(ServiceError::Conflict(f)) if f.code == "quote_lapsed"
        ));
        assert_eq!(state(&ctx).await, before);
        let v = ctx.svc.advisor(&z.ent_admin).await.unwrap();
        assert!(v.quotes.iter().all(|q| q.lapsed.is_some()));
        assert!(v.bundle.as_ref().unwrap().quotes.is_empty(), "a lapsed quote is not in the bundle");
        ctx.svc.unchoose_quote(&z.ent_admin, &mine.id).await.unwrap();

        // Fresh quotes under two exposures; choosing a second quote of an exposure replaces the
        // first; the bundle applies in one step: one application per quote, to each insurer.
        let qs =
            ctx.svc.quote_for_exposure(&z.ent_admin, "rd_product_liability", &limit("500000")).await.unwrap();
        let eq = ctx
            .svc
            .quote_for_exposure(
                &z.ent_admin,
                "rd_equipment_damage",
                &QuoteFields {
                    limit_yuan: "800000".into(),
                    sum_insured_yuan: "1200000".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(eq.iter().map(|q| q.product_id.as_str()).collect::<Vec<_>>(), [equipment.as_str()]);
        let theirs = qs.iter().find(|q| q.product_id == open).unwrap();
        let mine = qs.iter().find(|q| q.product_id == pid).unwrap();
        ctx.svc.choose_quote(&z.ent_admin, &theirs.id).await.unwrap();
        ctx.svc.choose_quote(&z.ent_admin, &mine.id).await.unwrap();
        ctx.svc.choose_quote(&z.ent_admin, &eq[0].id).await.unwrap();
        let v = ctx.svc.advisor(&z.ent_admin).await.unwrap();
        let bundle = v.bundle.clone().unwrap();
        let mut chosen = bundle.quotes.clone();
        chosen.sort();
        let mut want = vec![mine.id.clone(), eq[0].id.clone()];
        want.sort();
        assert_eq!(chosen, want, "one quote per exposure");
        assert_eq!(bundle.premium_fen, mine.premium_fen + eq[0].premium_fen);
        assert!(!bundle
            .uncovered
            .iter()
            .any(|u| u.0 == "rd_product_liability" || u.0 == "rd_equipment_damage"));
        let applied = ctx.svc.apply_bundle(&z.ent_admin, &later.to_string()).await.unwrap();
        assert_eq!(applied.applications.len(), 2);
        let apps = ctx.svc.my_applications(&z.ent_admin).await.unwrap();
        let mut insurers: Vec<&str> = apps.iter().map(|a| a.insurer_id.as_str()).collect();
        insurers.sort_unstable();
        let mut want_insurers = vec![filer.org_id().unwrap(), other.as_str()];
        want_insurers.sort_unstable();
        assert_eq!(insurers, want_insurers, "one application to each insurer");
        let v = ctx.svc.advisor(&z.ent_admin).await.unwrap();
        assert_eq!(v.bundles.len(), 1);
        assert!(v.quotes.iter().all(|q| q.id != mine.id), "an applied quote is no longer open");
        assert!(matches!(ctx.svc.choose_quote(&z.ent_admin, &mine.id).await, Err(ServiceError::NotFound)));

        // A bank officer has no advisor, and no way to the enterprise's quotes.
        assert!(matches!(
            ctx.svc.choose_quote(&z.banker, &theirs.id).await,
            Err(ServiceError::Forbidden { .. })
        ));

        // When the licence runs out the advisor is back in information mode.
        ctx.clock.advance_us(300 * 86_400_000_000);
        let v = ctx.svc.advisor(&z.ent_admin).await.unwrap();
        assert!(v.broker.is_none() && v.broker_unlicensed.is_some() && v.bundle.is_none());
        assert!(matches!(
            ctx.svc.quote_for_exposure(&z.ent_admin, "rd_product_liability", &limit("500000")).await,
            Err(ServiceError::Conflict(f)) if f.code == "no_licensed_broker"
        ));
        // The zone ends the naming.
        ctx.svc.end_advisor_broker(&approver).await.unwrap();
        assert!(ctx.svc.advisor(&z.ent_admin).await.unwrap().broker_unlicensed.is_none());
        assert!(matches!(ctx.svc.end_advisor_broker(&approver).await, Err(ServiceError::NotFound)));
    }
);
