//! Loans backed by insurance (C7): application under a scheme, the bank's and the insurer's
//! decisions, the zone's approval, disbursement with its schedule, repayments — on both stores.

use crate::contract;
use crate::harness::*;
use kebao_domain::loan::{LoanStatus, Reviewer};
use kebao_domain::user::Role;
use kebao_service::authz::Actor;
use kebao_service::loans::LoanInput;
use kebao_service::ServiceError;

struct Lending {
    z: Zone,
    borrower: Actor,
    ent: String,
    underwriter: Actor,
    approver: Actor,
    insurer: String,
}

async fn lending(ctx: &Ctx) -> Lending {
    let z = zone(&ctx.svc).await;
    let op = operator();
    let mut input = org_input("武汉光谷精密光学有限公司", &uscc(61), "enterprise");
    input.founded_on = "2019-05-01".into();
    let ent = ctx.svc.create_org(&op, &input).await.unwrap();
    ctx.svc
        .put_facts(
            &op,
            &ent.id,
            kebao_domain::YearlyFacts {
                year: 2025,
                revenue: kebao_domain::Money::from_fen(800_000_000),
                rnd_expense: kebao_domain::Money::from_fen(60_000_000),
                staff: 60,
                rnd_staff: 20,
                patents_granted: 3,
                patents_pending: 1,
                export_share_bp: 0,
            },
        )
        .await
        .unwrap();
    let borrower = user(&ctx.svc, &ent.id, "ent.loan", &[Role::EnterpriseAdmin]).await;
    let insurer = ctx.svc.org_id_by_uscc(&op, &uscc(3)).await.unwrap().unwrap();
    let underwriter = user(&ctx.svc, &insurer, "uw.loan", &[Role::Underwriter]).await;
    let gov = ctx.svc.org_id_by_uscc(&op, &uscc(4)).await.unwrap().unwrap();
    let approver = user(&ctx.svc, &gov, "approver.loan", &[Role::ZoneApprover]).await;
    // The enterprise's consents to the bank (loan review) and the insurer (underwriting).
    for (to, purpose) in [(&z.bank, "loan_review"), (&insurer, "underwriting")] {
        let c = kebao_domain::consent::ConsentInput {
            grantee_id: to.clone(),
            scopes: vec!["profile".into(), "financial_facts".into()],
            purpose: purpose.into(),
            valid_from: "2026-11-28".into(),
            expires_on: "2027-11-28".into(),
            signer_name: "陈明".into(),
            signer_title: "法定代表人".into(),
            ..Default::default()
        };
        ctx.svc.grant_consent(&borrower, &ent.id, &c, "授权书.pdf", b"%PDF-1.7 consent").await.unwrap();
    }
    Lending { z, borrower, ent: ent.id, underwriter, approver, insurer }
}

fn ask(l: &Lending, amount: &str) -> LoanInput {
    LoanInput {
        scheme_id: "tianmen_style".into(),
        bank_id: l.z.bank.clone(),
        insurer_id: l.insurer.clone(),
        amount_yuan: amount.into(),
        term_months: "12".into(),
        rate_pct: "3.80".into(),
        premium_rate_pct: "2.50".into(),
        method: "bullet".into(),
        funds_use: "working_capital".into(),
    }
}

contract!(
    a_loan_goes_from_application_through_both_reviews_and_the_zone_to_repayment,
    |ctx: Ctx| async move {
        let l = lending(&ctx).await;
        let schemes = ctx.svc.loan_schemes_in_force().await.unwrap();
        assert!(schemes.iter().any(|s| s.id == "tianmen_style" && s.example));
        // Bad input is refused with every rule named, and changes nothing.
        let before = state(&ctx).await;
        let mut bad = ask(&l, "3500000");
        bad.term_months = "24".into();
        bad.rate_pct = "5.00".into();
        match ctx.svc.apply_loan(&l.borrower, &l.ent, &bad).await {
            Err(ServiceError::Invalid(i)) => {
                let codes: Vec<&str> = i.0.iter().map(|e| e.code).collect();
                assert_eq!(codes, vec!["above_cap", "above_term_cap", "above_rate_cap"]);
            }
            other => panic!("{other:?}"),
        }
        let mut other_bank = ask(&l, "1000000");
        other_bank.bank_id = l.insurer.clone();
        match ctx.svc.apply_loan(&l.borrower, &l.ent, &other_bank).await {
            Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "unknown_bank"),
            other => panic!("{other:?}"),
        }
        // Another enterprise cannot apply in this one's name.
        assert!(matches!(
            ctx.svc.apply_loan(&l.z.ent_admin, &l.ent, &ask(&l, "1000000")).await,
            Err(ServiceError::Forbidden { .. })
        ));
        assert_eq!(state(&ctx).await, before);
        // Without a consent to the insurer the application is refused, naming the insurer.
        let other = ctx
            .svc
            .create_org(&operator(), &org_input("楚江财产保险股份有限公司", &uscc(62), "insurer"))
            .await
            .unwrap();
        let mut unconsented = ask(&l, "1000000");
        unconsented.insurer_id = other.id.clone();
        let before = state(&ctx).await;
        match ctx.svc.apply_loan(&l.borrower, &l.ent, &unconsented).await {
            Err(ServiceError::Conflict(f)) => {
                assert_eq!(f.code, "consent_missing");
                assert!(f.message_zh.contains("楚江财产保险股份有限公司"), "{}", f.message_zh);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(state(&ctx).await, before);

        let loan = ctx.svc.apply_loan(&l.borrower, &l.ent, &ask(&l, "1000000")).await.unwrap();
        assert_eq!(loan.status, LoanStatus::InReview);
        let inbox = ctx.svc.inbox(&l.z.banker).await.unwrap();
        assert!(
            inbox.todos.iter().any(|t| t.kind == "loan_review_bank" && t.subject == loan.id),
            "{:?}",
            inbox.todos
        );
        assert!(ctx
            .svc
            .inbox(&l.underwriter)
            .await
            .unwrap()
            .todos
            .iter()
            .any(|t| t.kind == "loan_review_insurer"));
        // Each side decides once, for itself; a decline needs reasons; the zone waits.
        let view = ctx.svc.loan(&l.z.banker, &loan.id).await.unwrap();
        assert_eq!(view.may_decide, Some(Reviewer::Bank));
        match ctx.svc.decide_loan(&l.z.banker, &loan.id, false, " ").await {
            Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "reason_required"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            ctx.svc.decide_loan(&l.approver, &loan.id, true, "").await,
            Err(ServiceError::Conflict(_))
        ));
        assert!(matches!(
            ctx.svc.decide_loan(&l.z.ent_admin, &loan.id, true, "").await,
            Err(ServiceError::Forbidden { .. })
        ));
        ctx.svc.decide_loan(&l.z.banker, &loan.id, true, "经营稳定，流水充足").await.unwrap();
        assert!(matches!(
            ctx.svc.decide_loan(&l.z.banker, &loan.id, true, "").await,
            Err(ServiceError::Conflict(_))
        ));
        let after_both = ctx.svc.decide_loan(&l.underwriter, &loan.id, true, "").await.unwrap();
        assert_eq!(after_both.status, LoanStatus::ZoneReview);
        assert!(ctx.svc.inbox(&l.approver).await.unwrap().todos.iter().any(|t| t.kind == "loan_approve"));
        let approved = ctx.svc.decide_loan(&l.approver, &loan.id, true, "").await.unwrap();
        assert_eq!(approved.status, LoanStatus::Approved);
        // The bank disburses; the schedule is fixed and the principal is on the ledger.
        assert!(matches!(
            ctx.svc.disburse_loan(&l.underwriter, &loan.id, "2026-11-28").await,
            Err(ServiceError::Forbidden { .. })
        ));
        match ctx.svc.disburse_loan(&l.z.banker, &loan.id, "2026-12-30").await {
            Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "future"),
            other => panic!("{other:?}"),
        }
        let out = ctx.svc.disburse_loan(&l.z.banker, &loan.id, "2026-11-28").await.unwrap();
        assert_eq!((out.status, out.schedule.len()), (LoanStatus::Servicing, 4));
        // 1,000,000 at 3.80 %, ACT/360: 2026-11-28 → 2027-02-28 is 92 days → 9,711.11 yuan.
        assert_eq!(out.schedule[0].interest.fen(), 971_111);
        // Repayments: by reference, idempotent; a reused reference with other fields is refused.
        ctx.clock.advance_us(95 * 86_400_000_000);
        let (p, new) = ctx
            .svc
            .record_repayment(&l.z.banker, &loan.id, "TX-0001", "9711.11", "2027-02-28")
            .await
            .unwrap();
        assert!(new && p.interest.fen() == 971_111 && p.principal.fen() == 0);
        let before = state(&ctx).await;
        let (again, new) = ctx
            .svc
            .record_repayment(&l.z.banker, &loan.id, "TX-0001", "9711.11", "2027-02-28")
            .await
            .unwrap();
        assert!(!new && again.id == p.id);
        match ctx.svc.record_repayment(&l.z.banker, &loan.id, "TX-0001", "9711.12", "2027-02-28").await {
            Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "reference_reused"),
            other => panic!("{other:?}"),
        }
        match ctx.svc.record_repayment(&l.z.banker, &loan.id, "TX-0002", "2000000", "2027-03-01").await {
            Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "above_outstanding"),
            other => panic!("{other:?}"),
        }
        assert_eq!(state(&ctx).await, before, "refused repayments change nothing");
        let view = ctx.svc.loan(&l.borrower, &loan.id).await.unwrap();
        assert_eq!((view.days_past_due, view.repayments.len()), (0, 1));
        assert_eq!(view.servicing.as_ref().unwrap().principal_outstanding().fen(), 100_000_000);
        // Early repayment of everything payable closes the loan.
        let payable = view.servicing.unwrap().payable_on(ctx.svc.today());
        ctx.svc
            .record_repayment(
                &l.z.banker,
                &loan.id,
                "TX-0002",
                &payable.to_yuan_string(),
                &ctx.svc.today().to_string(),
            )
            .await
            .unwrap();
        let done = ctx.svc.loan(&l.borrower, &loan.id).await.unwrap();
        assert_eq!(done.loan.status, LoanStatus::Repaid);
        match ctx
            .svc
            .record_repayment(&l.z.banker, &loan.id, "TX-0003", "1", &ctx.svc.today().to_string())
            .await
        {
            Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "loan_repaid"),
            other => panic!("{other:?}"),
        }
        // Lists name the parties; others do not see the loan.
        let mine = ctx.svc.loans(&l.borrower, None).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(
            (mine[0].listed.bank_name.as_str(), mine[0].listed.enterprise_name.as_str()),
            ("汉口银行光谷支行", "武汉光谷精密光学有限公司")
        );
        assert_eq!(ctx.svc.loans(&l.z.regulator, None).await.unwrap().len(), 1);
        assert!(ctx.svc.loans(&l.z.ent_admin, None).await.unwrap().is_empty());
        assert!(matches!(ctx.svc.loan(&l.z.ent_admin, &loan.id).await, Err(ServiceError::Forbidden { .. })));
        // The ledger agrees with the log.
        assert!(ctx.svc.ledger_verify().await.unwrap().problems.is_empty());
    }
);

contract!(a_decline_ends_the_application_and_tells_the_enterprise, |ctx: Ctx| async move {
    let l = lending(&ctx).await;
    let loan = ctx.svc.apply_loan(&l.borrower, &l.ent, &ask(&l, "500000")).await.unwrap();
    let d = ctx.svc.decide_loan(&l.underwriter, &loan.id, false, "行业集中度超限").await.unwrap();
    assert_eq!(d.status, LoanStatus::Declined);
    assert!(
        !ctx.svc.inbox(&l.z.banker).await.unwrap().todos.iter().any(|t| t.subject == loan.id),
        "the bank's to-do is closed"
    );
    let told = ctx.svc.inbox(&l.borrower).await.unwrap();
    assert!(told.notifications.iter().any(|n| n.title_zh.contains("未获批准")));
    assert!(matches!(
        ctx.svc.decide_loan(&l.z.banker, &loan.id, true, "").await,
        Err(ServiceError::Conflict(_))
    ));
    // The reason sits beside the event, not in its chained payload.
    let mut tx = ctx.store.begin_read().await.unwrap();
    let evs = kebao_store::events::for_subject(tx.conn(), &loan.id, 10).await.unwrap();
    drop(tx);
    let decided = evs.iter().find(|e| e.action == "loan.decided").unwrap();
    assert!(
        !decided.payload.contains("行业集中度")
            && decided.personal_field("reason").as_deref() == Some("行业集中度超限")
    );
});

contract!(
    a_default_is_claimed_once_the_trigger_is_met_split_seven_to_three_and_paid_by_the_insurer,
    |ctx: Ctx| async move {
        let l = lending(&ctx).await;
        let loan = ctx.svc.apply_loan(&l.borrower, &l.ent, &ask(&l, "1000000")).await.unwrap();
        ctx.svc.decide_loan(&l.z.banker, &loan.id, true, "").await.unwrap();
        ctx.svc.decide_loan(&l.underwriter, &loan.id, true, "").await.unwrap();
        ctx.svc.decide_loan(&l.approver, &loan.id, true, "").await.unwrap();
        ctx.svc.disburse_loan(&l.z.banker, &loan.id, "2026-11-28").await.unwrap();
        // The first quarter's interest (due 2027-02-28) goes unpaid.
        let day = 86_400_000_000;
        ctx.clock.advance_us(150 * day);
        // 2027-04-27: interest unpaid 58 days — the trigger (90 days) is not met, and says so.
        let before = state(&ctx).await;
        match ctx.svc.file_loan_claim(&l.z.banker, &loan.id, true).await {
            Err(ServiceError::Invalid(i)) => {
                assert_eq!(i.0[0].code, "trigger_not_met");
                assert!(i.0[0].message_zh.contains("90"), "{}", i.0[0].message_zh);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(state(&ctx).await, before);
        ctx.clock.advance_us(35 * day);
        // The bank's list shows how late the loan is.
        let book = ctx.svc.loans(&l.z.banker, Some(LoanStatus::Servicing)).await.unwrap();
        assert!(book[0].days_past_due >= 90 && book[0].outstanding.map(|m| m.fen()) == Some(100_000_000));
        let view = ctx.svc.loan(&l.z.banker, &loan.id).await.unwrap();
        assert!(view.days_past_due >= 90 && matches!(view.trigger, Some(Ok(_))), "{:?}", view.trigger);
        match ctx.svc.file_loan_claim(&l.z.banker, &loan.id, false).await {
            Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "collection_not_failed"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            ctx.svc.file_loan_claim(&l.underwriter, &loan.id, true).await,
            Err(ServiceError::Forbidden { .. })
        ));
        let c = ctx.svc.file_loan_claim(&l.z.banker, &loan.id, true).await.unwrap();
        // Principal and the two quarters' interest due: 1,000,000 + 9,711.11 + 9,500.00 (90 days).
        let interest: i64 = view.servicing.as_ref().unwrap().interest_due_unpaid(ctx.svc.today()).fen();
        assert_eq!(c.loss_base.fen(), 100_000_000 + interest);
        assert_eq!(c.insurer_share.fen() + c.bank_share.fen(), c.loss_base.fen());
        // 70 % to the insurer, rounded down, plus the fen left over; 30 % kept by the bank.
        let base = c.loss_base.fen();
        assert_eq!((c.insurer_share.fen(), c.bank_share.fen()), (base - base * 3 / 10, base * 3 / 10));
        assert!(c.payout_due_on > c.filed_on);
        assert!(ctx
            .svc
            .inbox(&l.underwriter)
            .await
            .unwrap()
            .todos
            .iter()
            .any(|t| t.kind == "loan_claim_pay"));
        assert!(matches!(
            ctx.svc.file_loan_claim(&l.z.banker, &loan.id, true).await,
            Err(ServiceError::Conflict(_))
        ));
        // The insurer pays; the bank is told; paying twice is refused.
        assert!(matches!(
            ctx.svc.pay_loan_claim(&l.z.banker, &loan.id, "P-1", &ctx.svc.today().to_string()).await,
            Err(ServiceError::Forbidden { .. })
        ));
        let paid = ctx
            .svc
            .pay_loan_claim(&l.underwriter, &loan.id, "P-1", &ctx.svc.today().to_string())
            .await
            .unwrap();
        assert_eq!(paid.paid_reference.as_deref(), Some("P-1"));
        assert!(matches!(
            ctx.svc.pay_loan_claim(&l.underwriter, &loan.id, "P-2", &ctx.svc.today().to_string()).await,
            Err(ServiceError::Conflict(_))
        ));
        assert!(ctx
            .svc
            .inbox(&l.z.banker)
            .await
            .unwrap()
            .notifications
            .iter()
            .any(|n| n.title_zh.contains("已赔付")));
        let v = ctx.svc.loan(&l.z.regulator, &loan.id).await.unwrap();
        assert_eq!(
            (v.loan.status, v.claim.clone().unwrap().paid_on.is_some()),
            (LoanStatus::ClaimPaid, true)
        );
        // Recoveries are split 7 : 3, idempotent by reference, and never beyond the loss.
        let today = ctx.svc.today().to_string();
        let (x, new) =
            ctx.svc.record_recovery(&l.z.banker, &loan.id, "R-1", "100000.01", &today).await.unwrap();
        assert!(new && x.insurer.fen() == 7_000_001 && x.bank.fen() == 3_000_000, "{x:?}");
        let (again, new) =
            ctx.svc.record_recovery(&l.z.banker, &loan.id, "R-1", "100000.01", &today).await.unwrap();
        assert!(!new && again.id == x.id);
        let before = state(&ctx).await;
        match ctx.svc.record_recovery(&l.z.banker, &loan.id, "R-2", "2000000", &today).await {
            Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "above_loss"),
            other => panic!("{other:?}"),
        }
        match ctx.svc.record_recovery(&l.z.banker, &loan.id, "R-1", "5", &today).await {
            Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "reference_reused"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            ctx.svc.record_recovery(&l.underwriter, &loan.id, "R-3", "5", &today).await,
            Err(ServiceError::Forbidden { .. })
        ));
        assert_eq!(state(&ctx).await, before);
        assert_eq!(ctx.svc.loan(&l.z.banker, &loan.id).await.unwrap().recoveries.len(), 1);
        // The scheme's dashboard: the zone and the regulator only.
        let figs = ctx.svc.loan_dashboard(&l.z.regulator).await.unwrap();
        let t = figs.iter().find(|f| f.scheme.id == "tianmen_style").unwrap();
        assert_eq!(
            (t.claims, t.paid_by_insurer, t.recovered.fen(), t.disbursed.fen()),
            (1, c.insurer_share, 10_000_001, 100_000_000)
        );
        assert!(t.by_status.contains(&(LoanStatus::ClaimPaid, 1)) && t.guard.is_none());
        assert!(matches!(ctx.svc.loan_dashboard(&l.z.banker).await, Err(ServiceError::Forbidden { .. })));
        assert!(ctx.svc.ledger_verify().await.unwrap().problems.is_empty());
    }
);

contract!(a_zone_loads_its_own_scheme_version_whole_and_it_applies_from_then_on, |ctx: Ctx| async move {
    let l = lending(&ctx).await;
    let shipped = kebao_domain::loan::SHIPPED_SCHEMES;
    let v2 =
        shipped.replace("version = 1", "version = 2").replace("max_spread_bp = 90", "max_spread_bp = 60");
    assert!(matches!(ctx.svc.load_loan_schemes(&l.z.banker, &v2).await, Err(ServiceError::Forbidden { .. })));
    let before = state(&ctx).await;
    match ctx
        .svc
        .load_loan_schemes(&l.approver, &v2.replacen("insurer_bp = 7000", "insurer_bp = 6000", 1))
        .await
    {
        Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "shares_sum"),
        other => panic!("{other:?}"),
    }
    assert_eq!(state(&ctx).await, before, "a bad file loads nothing");
    let loaded = ctx.svc.load_loan_schemes(&l.approver, &v2).await.unwrap();
    assert!(loaded.contains(&("tianmen_style".to_owned(), 2)));
    assert!(matches!(ctx.svc.load_loan_schemes(&l.approver, &v2).await, Err(ServiceError::Conflict(_))));
    // The new version applies: its tighter rate cap (3.00 % + 0.60 %) refuses 3.80 %.
    match ctx.svc.apply_loan(&l.borrower, &l.ent, &ask(&l, "1000000")).await {
        Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "above_rate_cap"),
        other => panic!("{other:?}"),
    }
    let mut cheaper = ask(&l, "1000000");
    cheaper.rate_pct = "3.50".into();
    let loan = ctx.svc.apply_loan(&l.borrower, &l.ent, &cheaper).await.unwrap();
    assert_eq!(loan.scheme_version, 2);
});
