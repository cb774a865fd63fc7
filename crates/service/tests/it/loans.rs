//! Loans backed by insurance (C7): application under a scheme, the bank's and the insurer's
//! decisions, the zone's approval, disbursement with its schedule, repayments — on both stores.

use crate::contract;
use crate::harness::*;
use kebao_domain::loan::{LoanStatus, Reviewer};
use kebao_domain::user::Role;
use kebao_service::authz::Actor;
use kebao_service::loans::LoanInput;
use kebao_service::ServiceError;

pub(crate) struct Lending {
    pub z: Zone,
    pub borrower: Actor,
    pub ent: String,
    pub underwriter: Actor,
    pub approver: Actor,
    pub insurer: String,
}

pub(crate) async fn lending(ctx: &Ctx) -> Lending {
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

pub(crate) fn ask(l: &Lending, amount: &str) -> LoanInput {
    LoanInput {
        scheme_id: "tianmen_style".into(),
        bank_id: l.z.bank.clone(),
        insurer_id: l.insurer.clone(),
        guarantor_id: String::new(),
        amount_yuan: amount.into(),
        term_months: "12".into(),
        rate_pct: "3.80".into(),
        premium_rate_pct: "2.50".into(),
        method: "bullet".into(),
        funds_use: "working_capital".into(),
        pledges: Vec::new(),
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
        // The insurer issues the guarantee policy before the bank may disburse.
        assert!(ctx.svc.inbox(&l.underwriter).await.unwrap().todos.iter().any(|t| t.kind == "loan_policy"));
        match ctx.svc.disburse_loan(&l.z.banker, &loan.id, "2026-11-28").await {
            Err(ServiceError::Conflict(f)) => assert_eq!(f.code, "no_policy"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            ctx.svc.issue_loan_policy(&l.z.banker, &loan.id, "DB-2026-0001", "PREM-1", "2026-11-28").await,
            Err(ServiceError::Forbidden { .. })
        ));
        match ctx.svc.issue_loan_policy(&l.underwriter, &loan.id, "", "PREM-1", "2026-12-30").await {
            Err(ServiceError::Invalid(i)) => {
                let codes: Vec<_> = i.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
                assert_eq!(codes, [("number", "required"), ("paid_on", "future")]);
            }
            other => panic!("{other:?}"),
        }
        let policy = ctx
            .svc
            .issue_loan_policy(&l.underwriter, &loan.id, "DB-2026-0001", "PREM-1", "2026-11-28")
            .await
            .unwrap();
        // 1,000,000 yuan at 2.50 % a year for 12 months: 25,000 yuan.
        assert_eq!(policy.premium.fen(), 2_500_000);
        assert!(matches!(
            ctx.svc.issue_loan_policy(&l.underwriter, &loan.id, "DB-2026-0002", "PREM-1", "2026-11-28").await,
            Err(ServiceError::Conflict(_))
        ));
        assert!(ctx.svc.inbox(&l.z.banker).await.unwrap().todos.iter().any(|t| t.kind == "loan_disburse"));
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
        // The policy covers the loan from the disbursement to its maturity.
        let v = ctx.svc.loan(&l.borrower, &loan.id).await.unwrap();
        let p = v.policy.unwrap();
        assert_eq!(
            (p.number.as_str(), p.start.map(|d| d.to_string()), p.end.map(|d| d.to_string())),
            ("DB-2026-0001", Some("2026-11-28".to_owned()), Some("2027-11-28".to_owned()))
        );
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
        ctx.svc
            .issue_loan_policy(&l.underwriter, &loan.id, "DB-2026-0101", "PREM-101", "2026-11-28")
            .await
            .unwrap();
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
        // The daily clocks make the late loan and the trigger met the bank's to-dos, once.
        assert_eq!(ctx.svc.run_loan_clocks().await.unwrap(), (1, 2, 0));
        assert_eq!(ctx.svc.run_loan_clocks().await.unwrap(), (1, 0, 0));
        let kinds: Vec<String> =
            ctx.svc.inbox(&l.z.banker).await.unwrap().todos.into_iter().map(|t| t.kind).collect();
        assert!(kinds.contains(&"loan_overdue".to_owned()) && kinds.contains(&"loan_claim_file".to_owned()));
        let c = ctx.svc.file_loan_claim(&l.z.banker, &loan.id, true).await.unwrap();
        let kinds: Vec<String> =
            ctx.svc.inbox(&l.z.banker).await.unwrap().todos.into_iter().map(|t| t.kind).collect();
        assert!(
            !kinds.contains(&"loan_overdue".to_owned()) && !kinds.contains(&"loan_claim_file".to_owned())
        );
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
        // Recovery ended: the bank closes the case; nothing more is recovered on it.
        assert!(matches!(
            ctx.svc.close_loan(&l.underwriter, &loan.id).await,
            Err(ServiceError::Forbidden { .. })
        ));
        let closed = ctx.svc.close_loan(&l.z.banker, &loan.id).await.unwrap();
        assert_eq!(closed.status, LoanStatus::Closed);
        match ctx.svc.record_recovery(&l.z.banker, &loan.id, "R-9", "5", &today).await {
            Err(ServiceError::Conflict(f)) => assert_eq!(f.code, "closed"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(ctx.svc.close_loan(&l.z.banker, &loan.id).await, Err(ServiceError::Conflict(_))));
        // The scheme's dashboard: the zone and the regulator only.
        let figs = ctx.svc.loan_dashboard(&l.z.regulator).await.unwrap();
        let t = figs.iter().find(|f| f.scheme.id == "tianmen_style").unwrap();
        assert_eq!(
            (t.claims, t.paid_by_insurer, t.recovered.fen(), t.disbursed.fen()),
            (1, c.insurer_share, 10_000_001, 100_000_000)
        );
        assert!(t.by_status.contains(&(LoanStatus::Closed, 1)));
        // This year's premium earned against the insurer's net losses: far above the 120 %
        // stop line, so the scheme takes no new business, and says why.
        assert!(
            t.year.earned_premium.fen() > 0 && t.loss_ratio_bp.is_some_and(|r| r > 12_000),
            "{:?}",
            t.year
        );
        assert!(matches!(t.guard, Some(kebao_domain::loan::Guard::LossRatio { .. })), "{:?}", t.guard);
        assert!(matches!(ctx.svc.loan_dashboard(&l.z.banker).await, Err(ServiceError::Forbidden { .. })));
        let before = state(&ctx).await;
        match ctx.svc.apply_loan(&l.borrower, &l.ent, &ask(&l, "100000")).await {
            Err(ServiceError::Conflict(f)) => {
                assert_eq!(f.code, "scheme_suspended");
                assert!(f.message_zh.contains("赔付率"), "{}", f.message_zh);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(state(&ctx).await, before);
        // The fund's excess-loss compensation is settled by year: provisional until the year
        // ends, then payable once, never beyond the fund.
        let funds = ctx.svc.loan_funds(&l.z.regulator).await.unwrap();
        let f = funds.iter().find(|f| f.scheme.id == "tianmen_style").unwrap();
        let due = f.due.iter().find(|d| d.payee_id == l.insurer).cloned().unwrap();
        assert!(due.provisional && due.loan_id.is_none());
        let pay = |year: i32, reference: &str| kebao_service::loan_money::FundPaymentInput {
            scheme_id: "tianmen_style".into(),
            year: year.to_string(),
            loan_id: String::new(),
            payee_id: l.insurer.clone(),
            reference: reference.into(),
            paid_on: ctx.svc.today().to_string(),
        };
        match ctx.svc.pay_loan_fund(&l.approver, &pay(due.year, "F-1")).await {
            Err(ServiceError::Conflict(f)) => assert_eq!(f.code, "year_not_ended"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            ctx.svc.pay_loan_fund(&l.z.banker, &pay(due.year, "F-1")).await,
            Err(ServiceError::Forbidden { .. })
        ));
        ctx.clock.advance_us(220 * 86_400_000_000);
        let funds = ctx.svc.loan_funds(&l.z.regulator).await.unwrap();
        let f = funds.iter().find(|f| f.scheme.id == "tianmen_style").unwrap();
        let due = f.due.iter().find(|d| d.payee_id == l.insurer && d.year == 2027).cloned().unwrap();
        let y = f.years.iter().find(|y| y.insurer_id == l.insurer && y.year == 2027).unwrap();
        // 80 % of the losses above 120 % of the year's earned premium.
        let threshold = (y.figures.earned_premium.fen() * 12_000 + 5_000) / 10_000;
        assert_eq!(due.amount.fen(), (y.figures.insurer_losses.fen() - threshold) * 8_000 / 10_000);
        assert!(!due.provisional);
        let (paid, new) = ctx.svc.pay_loan_fund(&l.approver, &pay(2027, "F-1")).await.unwrap();
        assert!(new && paid.amount == due.amount);
        let (again, new) = ctx.svc.pay_loan_fund(&l.approver, &pay(2027, "F-1")).await.unwrap();
        assert!(!new && again.id == paid.id);
        match ctx.svc.pay_loan_fund(&l.approver, &pay(2027, "F-2")).await {
            Err(ServiceError::Conflict(f)) => assert_eq!(f.code, "nothing_due"),
            other => panic!("{other:?}"),
        }
        let f = ctx
            .svc
            .loan_funds(&l.z.regulator)
            .await
            .unwrap()
            .into_iter()
            .find(|f| f.scheme.id == "tianmen_style")
            .unwrap();
        assert_eq!((f.paid, f.balance.fen()), (paid.amount, f.size.fen() - paid.amount.fen()));
        assert!(ctx.svc.ledger_verify().await.unwrap().problems.is_empty());
    }
);

/// A loan through approval, the guarantee policy and disbursement on 2026-11-28.
async fn disbursed(ctx: &Ctx, l: &Lending, input: &LoanInput, n: u32) -> String {
    let loan = ctx.svc.apply_loan(&l.borrower, &l.ent, input).await.unwrap();
    ctx.svc.decide_loan(&l.z.banker, &loan.id, true, "").await.unwrap();
    let after = ctx.svc.decide_loan(&l.underwriter, &loan.id, true, "").await.unwrap();
    if after.status == LoanStatus::ZoneReview {
        ctx.svc.decide_loan(&l.approver, &loan.id, true, "").await.unwrap();
    }
    ctx.svc
        .issue_loan_policy(
            &l.underwriter,
            &loan.id,
            &format!("DB-T-{n}"),
            &format!("PREM-T-{n}"),
            "2026-11-28",
        )
        .await
        .unwrap();
    ctx.svc.disburse_loan(&l.z.banker, &loan.id, "2026-11-28").await.unwrap();
    loan.id
}

/// A pool scheme of the zone's own with a small fund, for the race.
fn small_pool(fund_yuan: i64) -> String {
    let shipped = kebao_domain::loan::SHIPPED_SCHEMES;
    let start = shipped.find("id = \"anhui_style_pool\"").unwrap();
    let block_start = shipped[..start].rfind("[[scheme]]").unwrap();
    let end = shipped[start..].find("[[scheme]]").map_or(shipped.len(), |e| start + e);
    shipped[block_start..end]
        .replace("version = 1", "version = 2")
        .replace("valid_from = \"2023-01-01\"", "valid_from = \"2026-11-01\"")
        .replace("value = 30000000", &format!("value = {fund_yuan}"))
        .replace(
            "qualifications_any = [\"high_tech\", \"tech_sme\", \"specialised\"]",
            "qualifications_any = []",
        )
}

contract!(
    a_pool_pays_each_defaulted_loan_once_and_racing_payments_never_pass_the_fund,
    |ctx: Ctx| async move {
        let l = lending(&ctx).await;
        ctx.svc.load_loan_schemes(&l.approver, &small_pool(80_000)).await.unwrap();
        let mut input = ask(&l, "100000");
        input.scheme_id = "anhui_style_pool".into();
        let mut ids = Vec::new();
        for n in 0..3 {
            ids.push(disbursed(&ctx, &l, &input, n).await);
        }
        ctx.clock.advance_us(185 * 86_400_000_000);
        let today = ctx.svc.today().to_string();
        for (n, id) in ids.iter().enumerate() {
            let c = ctx.svc.file_loan_claim(&l.z.banker, id, true).await.unwrap();
            // Principal only, half each.
            assert_eq!(
                (c.loss_base.fen(), c.insurer_share.fen(), c.bank_share.fen()),
                (10_000_000, 5_000_000, 5_000_000)
            );
            ctx.svc.pay_loan_claim(&l.underwriter, id, &format!("P-{n}"), &today).await.unwrap();
        }
        // Each: 30 % of the bad principal plus 5 points for a first loan = 35,000 yuan to the bank,
        // within 80 % of the bank's retained loss (40,000).
        let f = ctx
            .svc
            .loan_funds(&l.approver)
            .await
            .unwrap()
            .into_iter()
            .find(|f| f.scheme.id == "anhui_style_pool")
            .unwrap();
        assert_eq!(f.due.len(), 3);
        assert!(f
            .due
            .iter()
            .all(|d| d.amount.fen() == 3_500_000 && d.payee_id == l.z.bank && !d.provisional));
        let pay = |loan: &str, reference: &str| kebao_service::loan_money::FundPaymentInput {
            scheme_id: "anhui_style_pool".into(),
            year: "2027".into(),
            loan_id: loan.into(),
            payee_id: String::new(),
            reference: reference.into(),
            paid_on: today.clone(),
        };
        let (first, _) = ctx.svc.pay_loan_fund(&l.approver, &pay(&ids[0], "FP-0")).await.unwrap();
        assert_eq!(first.amount.fen(), 3_500_000);
        match ctx.svc.pay_loan_fund(&l.approver, &pay(&ids[0], "FP-9")).await {
            Err(ServiceError::Conflict(f)) => assert_eq!(f.code, "nothing_due"),
            other => panic!("{other:?}"),
        }
        // 45,000 left for two payments of 35,000 racing: together never more than the fund.
        let (p1, p2) = (pay(&ids[1], "FP-1"), pay(&ids[2], "FP-2"));
        let (a, b) =
            tokio::join!(ctx.svc.pay_loan_fund(&l.approver, &p1), ctx.svc.pay_loan_fund(&l.approver, &p2));
        let mut paid = first.amount.fen();
        for r in [a, b] {
            match r {
                Ok((p, true)) => paid += p.amount.fen(),
                Err(ServiceError::Conflict(f)) if f.code == "fund_exhausted" || f.code == "nothing_due" => {}
                other => panic!("{other:?}"),
            }
        }
        let f = ctx
            .svc
            .loan_funds(&l.approver)
            .await
            .unwrap()
            .into_iter()
            .find(|f| f.scheme.id == "anhui_style_pool")
            .unwrap();
        assert!(
            paid <= 8_000_000 && f.paid.fen() == paid && f.balance.fen() == 8_000_000 - paid,
            "{paid} {:?}",
            f.balance
        );
        assert!(ctx.svc.ledger_verify().await.unwrap().problems.is_empty());
    }
);

contract!(
    an_ip_pledge_loan_records_its_pledges_within_the_pledge_rate_and_releases_them_on_repayment,
    |ctx: Ctx| async move {
        let l = lending(&ctx).await;
        // The IP-pledge example asks for a tech qualification.
        ctx.svc
            .add_qualification(
                &operator(),
                &l.ent,
                kebao_domain::org::Qualification {
                    kind: kebao_domain::org::QualificationKind::HighTech,
                    valid_from: time::macros::date!(2026 - 01 - 01),
                    valid_to: time::macros::date!(2028 - 12 - 31),
                    certificate_no: Some("GR202642000001".into()),
                },
            )
            .await
            .unwrap();
        let pledge = |number: &str, yuan: &str, valued_on: &str| kebao_service::loans::PledgeInput {
            kind: "patent".into(),
            number: number.into(),
            owner: "武汉光谷精密光学有限公司".into(),
            valuation_yuan: yuan.into(),
            valued_on: valued_on.into(),
            registration_no: format!("Y2026-{number}"),
        };
        let mut input = ask(&l, "500000");
        input.scheme_id = "ip_pledge".into();
        input.premium_rate_pct = "1.80".into();
        let before = state(&ctx).await;
        match ctx.svc.apply_loan(&l.borrower, &l.ent, &input).await {
            Err(ServiceError::Invalid(i)) => {
                assert!(i.0.iter().any(|e| e.code == "pledge_required"), "{:?}", i.0)
            }
            other => panic!("{other:?}"),
        }
        input.pledges = vec![
            pledge("ZL202110000001.1", "600000", "2026-10-01"),
            pledge("ZL202110000002.X", "399999.98", "2026-11-01"),
        ];
        match ctx.svc.apply_loan(&l.borrower, &l.ent, &input).await {
            Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "above_pledge_value"),
            other => panic!("{other:?}"),
        }
        input.pledges.push(pledge("ZL1", "100", "2024-01-01"));
        match ctx.svc.apply_loan(&l.borrower, &l.ent, &input).await {
            Err(ServiceError::Invalid(i)) => {
                assert!(i.0.iter().any(|e| e.code == "valuation_stale" && e.field == "pledges[3].valued_on"))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(state(&ctx).await, before);
        input.pledges = vec![
            pledge("ZL202110000001.1", "600000", "2026-10-01"),
            pledge("ZL202110000002.X", "400000", "2026-11-01"),
        ];
        let mut bank_only = ask(&l, "100000");
        bank_only.pledges = input.pledges.clone();
        match ctx.svc.apply_loan(&l.borrower, &l.ent, &bank_only).await {
            Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "not_pledge_scheme"),
            other => panic!("{other:?}"),
        }
        let id = disbursed(&ctx, &l, &input, 7).await;
        let v = ctx.svc.loan(&l.underwriter, &id).await.unwrap();
        assert_eq!(v.pledges.len(), 2);
        assert!(v.pledges.iter().all(|p| p.released_on.is_none()));
        // Repaid in full early: the pledges are released that day.
        ctx.clock.advance_us(30 * 86_400_000_000);
        let payable = v.servicing.unwrap().payable_on(ctx.svc.today());
        ctx.svc
            .record_repayment(
                &l.z.banker,
                &id,
                "R-ALL",
                &payable.to_yuan_string(),
                &ctx.svc.today().to_string(),
            )
            .await
            .unwrap();
        let v = ctx.svc.loan(&l.borrower, &id).await.unwrap();
        assert_eq!(v.loan.status, LoanStatus::Repaid);
        assert!(v.pledges.iter().all(|p| p.released_on == Some(ctx.svc.today())));
    }
);

contract!(a_batch_of_repayments_is_recorded_whole_or_not_at_all, |ctx: Ctx| async move {
    let l = lending(&ctx).await;
    let a = disbursed(&ctx, &l, &ask(&l, "300000"), 1).await;
    let b = disbursed(&ctx, &l, &ask(&l, "200000"), 2).await;
    ctx.clock.advance_us(95 * 86_400_000_000);
    let sheet = |rows: Vec<[&str; 4]>| {
        let t = kebao_service::tabular::Table {
            headers: ["贷款编号", "借款企业", "银行流水号", "还款金额（元）", "还款日"]
                .iter()
                .map(|h| (*h).to_owned())
                .collect(),
            rows: rows
                .into_iter()
                .map(|[loan, reference, amount, on]| {
                    vec![
                        loan.to_owned(),
                        "某企业".to_owned(),
                        reference.to_owned(),
                        amount.to_owned(),
                        on.to_owned(),
                    ]
                })
                .collect(),
        };
        kebao_service::tabular::write_xlsx(&t, "还款").unwrap()
    };
    use kebao_service::tabular::Format;
    // One bad row (an amount above what is payable; a loan that is not there): nothing recorded,
    // each bad row named.
    let before = state(&ctx).await;
    let bad = sheet(vec![
        [&a, "B-1", "2913.33", "2027-02-28"],
        [&b, "B-2", "99999999", "2027-02-28"],
        ["no-such-loan", "B-3", "1", "2027-02-28"],
    ]);
    match ctx.svc.import_repayments(&l.z.banker, &bad, Format::Xlsx).await {
        Err(ServiceError::Invalid(i)) => {
            let rows: Vec<_> =
                i.0.iter().map(|e| e.message_en.split(':').next().unwrap_or_default().to_owned()).collect();
            assert_eq!(rows, ["row 3", "row 4"], "{:?}", i.0);
            assert!(i.0[1].message_zh.starts_with("第 4 行"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(state(&ctx).await, before);
    assert!(ctx.svc.loan(&l.z.banker, &a).await.unwrap().repayments.is_empty());
    // Not the bank's loans: refused for the insurer.
    let good = sheet(vec![[&a, "B-1", "2913.33", "2027-02-28"], [&b, "B-2", "1942.22", "2027-02-28"]]);
    assert!(matches!(
        ctx.svc.import_repayments(&l.underwriter, &good, Format::Xlsx).await,
        Err(ServiceError::Invalid(_))
    ));
    let r = ctx.svc.import_repayments(&l.z.banker, &good, Format::Xlsx).await.unwrap();
    assert_eq!((r.recorded, r.already, r.loans.len()), (2, 0, 2));
    // The same sheet again records nothing new; each row is one event, as one by one.
    let after = state(&ctx).await;
    assert_eq!(after.1, before.1 + 2);
    let r = ctx.svc.import_repayments(&l.z.banker, &good, Format::Xlsx).await.unwrap();
    assert_eq!((r.recorded, r.already), (0, 2));
    assert_eq!(state(&ctx).await, after);
    // A file that is not a spreadsheet, or lacks a column, is refused with the reason.
    assert!(matches!(
        ctx.svc.import_repayments(&l.z.banker, b"PK\x03\x04garbage", Format::Xlsx).await,
        Err(ServiceError::Invalid(_))
    ));
    let no_cols = kebao_service::tabular::write_xlsx(
        &kebao_service::tabular::Table { headers: vec!["贷款编号".into()], rows: vec![vec![a.clone()]] },
        "还款",
    )
    .unwrap();
    match ctx.svc.import_repayments(&l.z.banker, &no_cols, Format::Xlsx).await {
        Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "columns"),
        other => panic!("{other:?}"),
    }
    assert!(ctx.svc.ledger_verify().await.unwrap().problems.is_empty());
});

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

contract!(
    a_scheme_simulation_runs_as_a_job_for_the_zone_and_bad_input_changes_nothing,
    |ctx: Ctx| async move {
        use kebao_service::scheme_sim::SimulationInput;
        let l = lending(&ctx).await;
        let input = |pool: &str, scenarios: &str| SimulationInput {
            scheme_id: "tianmen_style".into(),
            pool: pool.into(),
            rho_pct: "20".into(),
            scenarios: scenarios.into(),
            seed: "3".into(),
            ..Default::default()
        };
        let good = "count,principal,pd,lgd\n300,300000,0.03,0.45\n";
        assert!(matches!(
            ctx.svc.start_scheme_simulation(&l.z.banker, &input(good, "2000")).await,
            Err(ServiceError::Forbidden { .. })
        ));
        let before = state(&ctx).await;
        for (pool, scenarios, code) in [
            ("count,principal,pd,lgd\n300,300000,1.5,0.45\n", "2000", "pd"),
            ("count,principal,pd,lgd\n300,-5,0.03,0.45\n", "2000", "principal"),
            ("count,principal,pd\n300,300000,0.03\n", "2000", "columns"),
            (good, "2000000", "too_large"),
            (good, "many", "number"),
        ] {
            match ctx.svc.start_scheme_simulation(&l.approver, &input(pool, scenarios)).await {
                Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, code, "{:?}", i.0),
                other => panic!("{other:?}"),
            }
        }
        let mut bad_rho = input(good, "2000");
        bad_rho.rho_pct = "100".into();
        match ctx.svc.start_scheme_simulation(&l.approver, &bad_rho).await {
            Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, "rho"),
            other => panic!("{other:?}"),
        }
        assert_eq!(state(&ctx).await, before);
        assert!(ctx.svc.scheme_simulations(&l.approver).await.unwrap().is_empty());
        let job = ctx.svc.start_scheme_simulation(&l.approver, &input(good, "2000")).await.unwrap();
        let waiting = ctx.svc.scheme_simulation(&l.approver, &job.id).await.unwrap();
        assert!(waiting.results.is_none() && waiting.params.as_ref().map(|p| p.rho_bp) == Some(2_000));
        let runner = kebao_service::jobs::JobRunner::new(ctx.svc.clone());
        runner.run_once().await.unwrap().expect("the simulation ran");
        let done = ctx.svc.scheme_simulation(&l.approver, &job.id).await.unwrap();
        let r = done.results.expect("results");
        assert_eq!((r.loans, r.params.scenarios, r.scheme.as_str()), (300, 2000, "tianmen_style"));
        // 300 × 3 % × 300,000 × 0.45 = 1,215,000 yuan expected, within Monte Carlo error.
        assert!((r.gross.mean.value - 1_215_000.0).abs() < 4.0 * r.gross.mean.se, "{:?}", r.gross.mean);
        // The same through the engine directly: the job adds nothing to the numbers.
        let scheme =
            ctx.svc.loan_schemes().await.unwrap().into_iter().find(|s| s.id == "tianmen_style").unwrap();
        let pool = kebao_schemesim::parse_pool(good).unwrap();
        let p = kebao_service::scheme_sim::engine_params(
            done.params.as_ref().unwrap(),
            scheme.premium_rate_bp.value,
        );
        let direct = kebao_schemesim::simulate(&scheme, &pool, &p, &mut |_, _| true).unwrap().unwrap();
        assert_eq!(direct, r);
        // The live book of a scheme: its loans being repaid, with the PD and LGD given.
        let id = disbursed(&ctx, &l, &ask(&l, "300000"), 9).await;
        let book = ctx.svc.scheme_book_pool(&l.approver, "tianmen_style", 0.03, 0.45).await.unwrap();
        assert_eq!(book, "principal,pd,lgd\n300000.00,0.03,0.45\n", "{id}");
        assert!(matches!(
            ctx.svc.start_job(&l.approver, kebao_domain::job::JobKind::SchemeSimulation).await,
            Err(ServiceError::Conflict(_))
        ));
    }
);

contract!(
    a_repaid_loan_s_guarantee_premium_is_subsidised_through_the_zone_s_review_and_a_late_one_is_not,
    |ctx: Ctx| async move {
        use kebao_domain::subsidy::SubsidyStatus;
        const DAY: i64 = 86_400_000_000;
        let l = lending(&ctx).await;
        // The example programme asks for a tech qualification, as for other zone subsidies.
        ctx.svc
            .add_qualification(
                &operator(),
                &l.ent,
                kebao_domain::org::Qualification {
                    kind: kebao_domain::org::QualificationKind::HighTech,
                    valid_from: time::macros::date!(2026 - 01 - 01),
                    valid_to: time::macros::date!(2028 - 12 - 31),
                    certificate_no: Some("GR202642000002".into()),
                },
            )
            .await
            .unwrap();
        let prog = "loan_guarantee_premium";
        let on_time = disbursed(&ctx, &l, &ask(&l, "300000"), 11).await;
        let late = disbursed(&ctx, &l, &ask(&l, "200000"), 12).await;
        let rules =
            |r: std::result::Result<kebao_domain::subsidy::Grant, Vec<kebao_domain::subsidy::Failure>>| {
                r.map_or_else(|f| f.into_iter().map(|x| x.rule).collect::<Vec<_>>(), |_| Vec::new())
            };
        // Being repaid: not yet; applying is refused with the rule named and changes nothing.
        let (_, r) = ctx.svc.check_loan_subsidy(&l.borrower, &on_time, prog).await.unwrap();
        assert_eq!(rules(r), ["loan_repaid"]);
        let before = state(&ctx).await;
        match ctx.svc.apply_loan_subsidy(&l.borrower, &on_time, prog).await {
            Err(ServiceError::Invalid(i)) => {
                assert!(i.0[0].message_en.contains("not repaid in full"), "{:?}", i.0)
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(state(&ctx).await, before);
        // Repaid in full on the first interest date, three months after the disbursement.
        ctx.clock.advance_us(92 * DAY);
        let today = ctx.svc.today();
        assert_eq!(today, time::macros::date!(2027 - 02 - 28));
        let repay_all = |id: String, reference: &'static str| {
            let svc = ctx.svc.clone();
            let banker = l.z.banker.clone();
            async move {
                let v = svc.loan(&banker, &id).await.unwrap();
                let payable = v.servicing.unwrap().payable_on(svc.today());
                svc.record_repayment(
                    &banker,
                    &id,
                    reference,
                    &payable.to_yuan_string(),
                    &svc.today().to_string(),
                )
                .await
                .unwrap();
            }
        };
        repay_all(on_time.clone(), "R-ON-TIME").await;
        // The other loan's interest paid three days late, then everything.
        ctx.clock.advance_us(3 * DAY);
        repay_all(late.clone(), "R-LATE").await;
        let (_, r) = ctx.svc.check_loan_subsidy(&l.z.reviewer, &late, prog).await.unwrap();
        assert_eq!(rules(r), ["loan_arrears"]);
        // Only the borrower's admin applies; the bank may not, nor see the check.
        assert!(matches!(
            ctx.svc.apply_loan_subsidy(&l.z.banker, &on_time, prog).await,
            Err(ServiceError::Forbidden { .. })
        ));
        assert!(matches!(
            ctx.svc.check_loan_subsidy(&l.z.banker, &on_time, prog).await,
            Err(ServiceError::NotFound)
        ));
        let premium = ctx.svc.loan(&l.borrower, &on_time).await.unwrap().policy.unwrap().premium;
        // The borrower's to-do: the loan repaid on time qualifies, the late one does not.
        let todos: Vec<(String, String)> = ctx
            .svc
            .inbox(&l.borrower)
            .await
            .unwrap()
            .todos
            .into_iter()
            .filter(|t| t.kind == "loan_subsidy_apply")
            .map(|t| (t.subject, t.title_zh))
            .collect();
        assert_eq!(todos.len(), 1, "{todos:?}");
        assert_eq!(todos[0].0, on_time);
        assert!(todos[0].1.contains("可补贴"), "{todos:?}");
        let (p, r) = ctx.svc.check_loan_subsidy(&l.borrower, &on_time, prog).await.unwrap();
        assert!(p.label_en.contains("not a Donghu rule"));
        let g = r.unwrap();
        assert_eq!(g.amount_fen, (premium.fen() + 1) / 2);
        let a = ctx.svc.apply_loan_subsidy(&l.borrower, &on_time, prog).await.unwrap();
        assert_eq!(
            (a.status, a.amount.fen(), a.loan_id.as_deref()),
            (SubsidyStatus::Submitted, g.amount_fen, Some(on_time.as_str()))
        );
        match ctx.svc.apply_loan_subsidy(&l.borrower, &on_time, prog).await {
            Err(ServiceError::Conflict(f)) => assert_eq!(f.code, "already_applied"),
            other => panic!("{other:?}"),
        }
        assert_eq!(ctx.svc.loan_subsidies(&l.borrower, &on_time).await.unwrap().len(), 1);
        assert!(!ctx
            .svc
            .inbox(&l.borrower)
            .await
            .unwrap()
            .todos
            .iter()
            .any(|t| t.kind == "loan_subsidy_apply"));
        assert_eq!(ctx.svc.subsidy_parties(&a).await.unwrap().1, "DB-T-11");
        assert!(ctx.svc.loan_subsidy_programmes().await.unwrap().iter().any(|p| p.id == prog));
        // The zone's review as for any zone subsidy: local review, department review with the
        // notice, approval, payment — the ledger holds.
        ctx.svc.subsidy_local_review(&l.z.reviewer, &a.id, true, "").await.unwrap();
        let a = ctx.svc.subsidy_department_review(&l.approver, &a.id, true, "").await.unwrap();
        assert_eq!(a.status, SubsidyStatus::InNotice);
        ctx.clock.advance_us(10 * DAY);
        ctx.svc.approve_subsidy(&l.approver, &a.id).await.unwrap();
        let a = ctx.svc.disburse_subsidy(&l.approver, &a.id, "GK-LOAN-1").await.unwrap();
        assert_eq!((a.status, a.amount.fen()), (SubsidyStatus::Disbursed, g.amount_fen));
        assert!(ctx.svc.ledger_verify().await.unwrap().problems.is_empty());
    }
);

contract!(
    a_guarantor_named_on_a_loan_bears_its_share_pays_it_and_the_pool_compensates_it,
    |ctx: Ctx| async move {
        const DAY: i64 = 86_400_000_000;
        let l = lending(&ctx).await;
        // The pool example in a version where a guarantor bears 20 % of a loss.
        let scheme = small_pool(1_000_000).replace(
            "insurer_bp = 5000, bank_bp = 5000",
            "insurer_bp = 5000, bank_bp = 3000, guarantor_bp = 2000",
        );
        assert!(scheme.contains("guarantor_bp = 2000"));
        ctx.svc.load_loan_schemes(&l.approver, &scheme).await.unwrap();
        let op = operator();
        let g = ctx
            .svc
            .create_org(&op, &org_input("湖北省科技融资担保有限公司", &uscc(71), "guarantor"))
            .await
            .unwrap();
        let g_officer = user(&ctx.svc, &g.id, "guarantee.officer", &[Role::BankOfficer]).await;
        let mut input = ask(&l, "100000");
        input.scheme_id = "anhui_style_pool".into();
        // No guarantor, a bank as guarantor, a guarantor where the scheme has no share: refused,
        // each naming the field.
        let before = state(&ctx).await;
        for (scheme_id, guarantor, code) in [
            ("anhui_style_pool", String::new(), "guarantor_required"),
            ("anhui_style_pool", l.z.bank.clone(), "unknown_guarantor"),
            ("tianmen_style", g.id.clone(), "no_guarantor_share"),
        ] {
            let mut bad = input.clone();
            bad.scheme_id = scheme_id.into();
            bad.guarantor_id = guarantor;
            match ctx.svc.apply_loan(&l.borrower, &l.ent, &bad).await {
                Err(ServiceError::Invalid(i)) => {
                    assert!(
                        i.0.iter().any(|e| e.field == "guarantor_id" && e.code == code),
                        "{code}: {:?}",
                        i.0
                    )
                }
                other => panic!("{code}: {other:?}"),
            }
        }
        assert_eq!(state(&ctx).await, before);
        input.guarantor_id = g.id.clone();
        let id = disbursed(&ctx, &l, &input, 21).await;
        // The guarantor sees the loan it stands behind; the loan names it.
        let listed = ctx.svc.loans(&g_officer, None).await.unwrap();
        assert_eq!(listed.iter().map(|r| r.listed.loan.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
        let v = ctx.svc.loan(&g_officer, &id).await.unwrap();
        assert_eq!(v.guarantor_name.as_deref(), Some("湖北省科技融资担保有限公司"));
        assert!(!v.may_pay_guarantee && !v.may_service);
        // Default: principal 100,000 split 50 : 30 : 20; the guarantor's share is its to-do.
        ctx.clock.advance_us(185 * DAY);
        let today = ctx.svc.today().to_string();
        let c = ctx.svc.file_loan_claim(&l.z.banker, &id, true).await.unwrap();
        assert_eq!(
            (c.insurer_share.fen(), c.bank_share.fen(), c.guarantor_share.fen()),
            (5_000_000, 3_000_000, 2_000_000)
        );
        let todos = ctx.svc.inbox(&g_officer).await.unwrap().todos;
        assert!(todos.iter().any(|t| t.kind == "loan_guarantee_pay" && t.subject == id), "{todos:?}");
        ctx.svc.pay_loan_claim(&l.underwriter, &id, "P-G", &today).await.unwrap();
        // The bank cannot close while the guarantor owes; nor pay for it.
        match ctx.svc.close_loan(&l.z.banker, &id).await {
            Err(ServiceError::Conflict(f)) => assert_eq!(f.code, "guarantor_not_paid"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            ctx.svc.pay_loan_guarantee(&l.z.banker, &id, "G-1", &today).await,
            Err(ServiceError::Forbidden { .. })
        ));
        assert!(ctx.svc.loan(&g_officer, &id).await.unwrap().may_pay_guarantee);
        let paid = ctx.svc.pay_loan_guarantee(&g_officer, &id, "G-1", &today).await.unwrap();
        assert_eq!(paid.guarantor_paid_reference.as_deref(), Some("G-1"));
        match ctx.svc.pay_loan_guarantee(&g_officer, &id, "G-2", &today).await {
            Err(ServiceError::Conflict(f)) => assert_eq!(f.code, "paid"),
            other => panic!("{other:?}"),
        }
        assert!(!ctx
            .svc
            .inbox(&g_officer)
            .await
            .unwrap()
            .todos
            .iter()
            .any(|t| t.kind == "loan_guarantee_pay"));
        // The pool compensates the guarantor of a guaranteed loan: 20 % of the bad principal
        // plus 5 points for a first loan = 25,000, within 80 % of its 20,000 share = 16,000.
        let f = ctx
            .svc
            .loan_funds(&l.approver)
            .await
            .unwrap()
            .into_iter()
            .find(|f| f.scheme.id == "anhui_style_pool")
            .unwrap();
        assert_eq!(
            f.due.iter().map(|d| (d.payee_id.clone(), d.amount.fen())).collect::<Vec<_>>(),
            [(g.id.clone(), 1_600_000)]
        );
        // A recovery is shared by the loss shares, the guarantor's part included.
        let (x, _) = ctx.svc.record_recovery(&l.z.banker, &id, "R-G", "10000", &today).await.unwrap();
        assert_eq!((x.insurer.fen(), x.bank.fen(), x.guarantor.fen()), (500_000, 300_000, 200_000));
        ctx.svc.close_loan(&l.z.banker, &id).await.unwrap();
        assert!(ctx.svc.ledger_verify().await.unwrap().problems.is_empty());
    }
);
