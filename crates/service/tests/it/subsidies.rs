//! Premium subsidies and compensation, on both stores: eligibility, the zone workflow with
//! maker-checker, public notice and objections, the budget under racing approvals, clawback
//! and bans, auto-grant, national files, what-if.

use crate::contract;
use crate::harness::*;
use kebao_domain::attachment::Owner;
use kebao_domain::org::{Qualification, QualificationKind};
use kebao_domain::policy::{PolicyStatus, RegistrationFields, UnderwritingRules};
use kebao_domain::product::{CoverageInput, ProductInput, CHECKLIST};
use kebao_domain::rating::{PlanDoc, QuoteInput, RateBasis};
use kebao_domain::subject::Subject;
use kebao_domain::subsidy::{SubsidyStatus, SubsidyStep};
use kebao_domain::user::Role;
use kebao_domain::Money;
use kebao_service::authz::Actor;
use kebao_service::products::Review;
use kebao_service::registered::AnswerFields;
use kebao_service::subsidies::{Declarations, WhatIfParams};
use kebao_service::ServiceError;
use time::macros::date;

struct Setup {
    z: Zone,
    uw: Actor,
    approver: Actor,
    both: Actor,
}

const DAY: i64 = 86_400_000_000;

/// A product of `type_id` published with a plan at 1 % of the limit (auto-accepted).
pub(crate) async fn product(ctx: &Ctx, z: &Zone, ins: &str, filer: &Actor, type_id: &str) -> String {
    let input = ProductInput {
        type_id: type_id.into(),
        name: format!("{type_id} 产品"),
        coverages: vec![CoverageInput {
            name: "责任".into(),
            limit_yuan: "50000000".into(),
            ..Default::default()
        }],
        premium_basis: "limit".into(),
        contact_name: "王".into(),
        contact_phone: "027-87654321".into(),
        // Open to the test enterprise (R&D) whatever the type's stages: applications check
        // the filed eligibility.
        stages: vec!["rnd".into(), "commercialisation".into(), "market".into()],
        ..Default::default()
    };
    let pid = ctx.svc.file_product(filer, ins, &input).await.unwrap();
    let plan = PlanDoc {
        basis: RateBasis::Limit,
        base: "0.01".into(),
        size_bands: vec![],
        limit_bands: vec![],
        deductible_bands: vec![],
        factors: vec![],
        min_premium_yuan: 100,
        max_premium_yuan: None,
        factor_floor: None,
        factor_cap: None,
        underwriting: UnderwritingRules {
            auto_accept_max_limit_yuan: Some(100_000_000),
            ..Default::default()
        },
        quote_valid_days: None,
    };
    ctx.svc.file_rating_plan(filer, &pid, "2026-01-01", plan).await.unwrap();
    ctx.svc.submit_product(filer, &pid).await.unwrap();
    let items: Vec<String> = CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect();
    ctx.svc.set_product_checklist(&z.reviewer, &pid, &items).await.unwrap();
    ctx.svc.review_product(&z.reviewer, &pid, &Review::Approve).await.unwrap();
    ctx.svc.publish_product(filer, &pid).await.unwrap();
    pid
}

/// Binds a policy with `limit_yuan` (premium 1 %) from today and records the premium paid.
async fn paid_policy(ctx: &Ctx, s: &Setup, pid: &str, limit_yuan: i64) -> String {
    paid_policy_of(ctx, s, pid, limit_yuan, &Subject::default()).await
}

/// As `paid_policy`, naming the insured object and parties.
async fn paid_policy_of(ctx: &Ctx, s: &Setup, pid: &str, limit_yuan: i64, subject: &Subject) -> String {
    let q = QuoteInput { limit: Money::from_fen(limit_yuan * 100), ..Default::default() };
    let today = ctx.svc.today().to_string();
    let a = ctx.svc.apply_for_policy_with(&s.z.ent_admin, pid, &q, &today, subject).await.unwrap();
    let p = ctx
        .svc
        .my_policies(&s.z.ent_admin)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.application_id == a.id)
        .unwrap();
    ctx.svc
        .record_premium_paid(&s.uw, &p.id, Money::from_fen(p.premium.fen()), &format!("B-{}", p.id))
        .await
        .unwrap();
    p.id
}

async fn setup(ctx: &Ctx) -> (Setup, String, String) {
    let z = zone(&ctx.svc).await;
    let op = operator();
    let q = Qualification {
        kind: QualificationKind::HighTech,
        valid_from: date!(2025 - 01 - 01),
        valid_to: date!(2028 - 12 - 31),
        certificate_no: None,
    };
    ctx.svc.add_qualification(&op, &z.enterprise, q).await.unwrap();
    let ins = ctx
        .svc
        .create_org(&op, &org_input("楚天财产保险股份有限公司湖北分公司", &uscc(51), "insurer"))
        .await
        .unwrap();
    let filer = user(&ctx.svc, &ins.id, "filer.s", &[Role::ProductFiler]).await;
    let uw = user(&ctx.svc, &ins.id, "uw.s", &[Role::Underwriter]).await;
    let gov = ctx.svc.org_id_by_uscc(&op, &uscc(4)).await.unwrap().unwrap();
    let approver = user(&ctx.svc, &gov, "approver", &[Role::ZoneApprover]).await;
    let both = user(&ctx.svc, &gov, "both.roles", &[Role::ZoneReviewer, Role::ZoneApprover]).await;
    let rd = product(ctx, &z, &ins.id, &filer, "rd_liability").await;
    let fs = product(ctx, &z, &ins.id, &filer, "first_set_equipment").await;
    (Setup { z, uw, approver, both }, rd, fs)
}

contract!(zone_subsidy_from_application_to_clawback, |ctx: Ctx| async move {
    let (s, rd, _) = setup(&ctx).await;
    let pol = paid_policy(&ctx, &s, &rd, 2_000_000).await;
    // Eligible: half the 20,000 yuan paid, under the example programme.
    let (prog, r) = ctx
        .svc
        .check_subsidy(&s.z.ent_admin, &pol, "zone_tech_insurance", &Declarations::default())
        .await
        .unwrap();
    assert!(prog.label_en.contains("not a Donghu rule"));
    assert_eq!(r.unwrap().amount_fen, 1_000_000);
    assert!(matches!(
        ctx.svc.check_subsidy(&s.z.banker, &pol, "zone_tech_insurance", &Declarations::default()).await,
        Err(ServiceError::NotFound)
    ));
    // Bad applications change nothing.
    let before = state(&ctx).await.1;
    assert!(matches!(
        ctx.svc.apply_subsidy(&s.z.banker, &pol, "zone_tech_insurance", "", &Declarations::default()).await,
        Err(ServiceError::Forbidden { .. })
    ));
    let e = ctx
        .svc
        .apply_subsidy(&s.z.ent_admin, &pol, "first_set", "subsidy", &Declarations::default())
        .await
        .unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "bad_stage"), "{e:?}");
    assert_eq!(state(&ctx).await.1, before);
    let a = ctx
        .svc
        .apply_subsidy(&s.z.ent_admin, &pol, "zone_tech_insurance", "", &Declarations::default())
        .await
        .unwrap();
    assert_eq!((a.status, a.amount.fen()), (SubsidyStatus::Submitted, 1_000_000));
    let e = ctx
        .svc
        .apply_subsidy(&s.z.ent_admin, &pol, "zone_tech_insurance", "", &Declarations::default())
        .await
        .unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "already_applied"), "{e:?}");
    // Local review, then maker-checker: the local reviewer may not also do the department review.
    assert!(matches!(
        ctx.svc.subsidy_local_review(&s.approver, &a.id, true, "").await,
        Err(ServiceError::Forbidden { .. })
    ));
    assert_eq!(
        ctx.svc.subsidy_actions(&s.z.reviewer, &a.id).await.unwrap(),
        vec![SubsidyStep::LocalReview],
        "a reviewer reviews; rejecting is the approver's"
    );
    // The review passes only once every document the programme lists is filed.
    let before = state(&ctx).await;
    let e = ctx.svc.subsidy_local_review(&s.both, &a.id, true, "").await.unwrap_err();
    assert!(
        matches!(&e, ServiceError::Conflict(f) if f.code == "missing_documents" && f.message_zh.contains("营业执照")),
        "{e:?}"
    );
    assert_eq!(state(&ctx).await, before, "a refused review changes nothing");
    file_documents(&ctx.svc, &s.z.ent_admin, &a.id).await;
    ctx.svc.subsidy_local_review(&s.both, &a.id, true, "").await.unwrap();
    // What each may do now: the state's steps that Cedar allows them (maker-checker included).
    let actions = |who: Actor| {
        let svc = ctx.svc.clone();
        let id = a.id.clone();
        async move { svc.subsidy_actions(&who, &id).await.unwrap() }
    };
    assert_eq!(actions(s.approver.clone()).await, vec![SubsidyStep::DepartmentReview, SubsidyStep::Reject]);
    assert_eq!(actions(s.both.clone()).await, vec![SubsidyStep::Reject]);
    assert_eq!(actions(s.z.ent_admin.clone()).await, vec![]);
    assert_eq!(actions(s.z.banker.clone()).await, vec![]);
    assert!(matches!(ctx.svc.subsidy_actions(&s.approver, "no-such").await, Err(ServiceError::NotFound)));
    assert!(matches!(
        ctx.svc.subsidy_department_review(&s.both, &a.id, true, "").await,
        Err(ServiceError::Forbidden { .. })
    ));
    let a = ctx.svc.subsidy_department_review(&s.approver, &a.id, true, "").await.unwrap();
    assert_eq!(a.status, SubsidyStatus::InNotice);
    // Five working days from Saturday 28 November 2026: 4 December.
    assert_eq!((a.notice_from, a.notice_to), (Some(date!(2026 - 11 - 28)), Some(date!(2026 - 12 - 04))));
    let e = ctx.svc.approve_subsidy(&s.approver, &a.id).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "notice_running"), "{e:?}");
    // Nor while the notice runs.
    assert_eq!(actions(s.approver.clone()).await, vec![SubsidyStep::Reject]);
    // An objection during the notice blocks approval until resolved.
    assert!(ctx.svc.object_to_subsidy(&s.z.banker, &a.id, "短").await.is_err());
    let o = ctx.svc.object_to_subsidy(&s.z.banker, &a.id, "该企业已停产，保单实际未生效").await.unwrap();
    ctx.clock.advance_us(7 * DAY);
    assert!(ctx.svc.object_to_subsidy(&s.z.banker, &a.id, "公示期后提出的异议").await.is_err());
    let e = ctx.svc.approve_subsidy(&s.approver, &a.id).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "open_objection"), "{e:?}");
    // The approver is not offered what would be refused: no approval while an objection is open.
    assert_eq!(actions(s.approver.clone()).await, vec![SubsidyStep::Reject]);
    ctx.svc
        .resolve_subsidy_objection(&s.approver, &a.id, &o.id, false, "经核实企业正常经营，异议不成立")
        .await
        .unwrap();
    let a = ctx.svc.approve_subsidy(&s.approver, &a.id).await.unwrap();
    assert_eq!(a.status, SubsidyStatus::Approved);
    let a = ctx.svc.disburse_subsidy(&s.approver, &a.id, "GK-2026-001").await.unwrap();
    assert_eq!(a.status, SubsidyStatus::Disbursed);
    // The enterprise's own credit report now lists its policies and subsidies.
    let r = ctx
        .svc
        .credit_report(&s.z.ent_admin, &s.z.enterprise, kebao_domain::consent::Purpose::SubsidyReview)
        .await
        .unwrap();
    let field = |k: &str| {
        r.sections
            .iter()
            .flat_map(|x| x.fields.iter())
            .find(|f| f.0 == k)
            .map(|f| f.3.clone())
            .unwrap_or_default()
    };
    assert!(field("policies").iter().any(|v| v.zh.starts_with("DHKB-P-")), "{:?}", field("policies"));
    // The programme by its name, in each language (never its code).
    assert!(
        field("subsidy_records").iter().any(|v| v.zh.contains("示范区科技保险保费补贴")
            && v.en.contains("Zone tech-insurance premium subsidy")
            && v.zh.contains("10,000.00")
            && !v.en.contains("zone_tech_insurance")),
        "{:?}",
        field("subsidy_records")
    );
    let dash = ctx.svc.subsidy_dashboard(&s.z.regulator).await.unwrap();
    let zone = dash.iter().find(|d| d.programme_id == "zone_tech_insurance").unwrap();
    assert_eq!((zone.budget_fen, zone.disbursed_fen), (Some(500_000_000), 1_000_000));
    // Fraud: clawed back and banned for the programme's period.
    let a = ctx.svc.claw_back_subsidy(&s.approver, &a.id, true, "伪造保费支付凭证").await.unwrap();
    assert_eq!(a.status, SubsidyStatus::ClawedBack);
    let pol2 = paid_policy(&ctx, &s, &rd, 1_000_000).await;
    let (_, r) = ctx
        .svc
        .check_subsidy(&s.z.ent_admin, &pol2, "zone_tech_insurance", &Declarations::default())
        .await
        .unwrap();
    assert!(r.unwrap_err().iter().any(|f| f.rule == "banned"));
    let report = ctx.svc.ledger_verify().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
});

contract!(the_budget_is_never_overspent_by_racing_approvals, |ctx: Ctx| async move {
    let (s, rd, _) = setup(&ctx).await;
    // A programme with exactly 30,000 yuan and no caps: three 10,000 grants fit to the last yuan.
    let toml = r#"
[[programme]]
id = "race"
version = 1
name_zh = "预算竞争测试"
name_en = "Budget race"
kind = "zone"
source = "test"
confidence = "U"
valid_from = "2026-01-01"
version_date = "application_date"
rate_cap_action = "cap_base"
premium_basis = "paid"
cap_year = "application"
budget_yuan = 30000
notice_working_days = 5
ban_years = 3
[[programme.groups]]
name = "all"
product_types = ["rd_liability"]
share_bp_by_year = [5000]
"#;
    assert!(matches!(
        ctx.svc.load_subsidy_programmes(&s.z.ent_admin, toml).await,
        Err(ServiceError::Forbidden { .. })
    ));
    ctx.svc.load_subsidy_programmes(&s.approver, toml).await.unwrap();
    let e = ctx.svc.load_subsidy_programmes(&s.approver, toml).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "version_exists"), "{e:?}");
    let mut ids = Vec::new();
    for _ in 0..8 {
        let pol = paid_policy(&ctx, &s, &rd, 2_000_000).await;
        let a =
            ctx.svc.apply_subsidy(&s.z.ent_admin, &pol, "race", "", &Declarations::default()).await.unwrap();
        assert_eq!(a.amount.fen(), 1_000_000);
        ctx.svc.subsidy_local_review(&s.z.reviewer, &a.id, true, "").await.unwrap();
        ids.push(a.id);
    }
    let mut tasks = Vec::new();
    for id in ids.clone() {
        let svc = ctx.svc.clone();
        let approver = s.approver.clone();
        tasks
            .push(tokio::spawn(async move { svc.subsidy_department_review(&approver, &id, true, "").await }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(a) => {
                assert_eq!(a.status, SubsidyStatus::InNotice);
                ok += 1;
            }
            Err(ServiceError::Conflict(f)) => assert_eq!(f.code, "budget_exhausted"),
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(ok, 3, "exactly the applications that fit");
    let gov = ctx.svc.org_id_by_uscc(&operator(), &uscc(4)).await.unwrap().unwrap();
    let budget = ctx
        .svc
        .ledger_accounts(&operator(), Some(&gov))
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.id == "sub:race:1:budget")
        .unwrap();
    assert_eq!(
        (budget.credits_posted, budget.debits_pending, budget.debits_posted),
        (3_000_000, 3_000_000, 0),
        "to the last yuan"
    );
    let apps = ctx.svc.subsidy_applications(&s.z.regulator).await.unwrap();
    let in_notice: Vec<_> =
        apps.iter().filter(|a| a.programme_id == "race" && a.status == SubsidyStatus::InNotice).collect();
    assert_eq!(in_notice.len(), 3);
    assert_eq!(
        apps.iter().filter(|a| a.programme_id == "race" && a.status == SubsidyStatus::LocalReviewed).count(),
        5
    );
    // Rejecting one frees its reservation for the next.
    ctx.svc.reject_subsidy(&s.approver, &in_notice[0].id, "材料不全").await.unwrap();
    let waiting =
        apps.iter().find(|a| a.programme_id == "race" && a.status == SubsidyStatus::LocalReviewed).unwrap();
    ctx.svc.subsidy_department_review(&s.approver, &waiting.id, true, "").await.unwrap();
    let report = ctx.svc.ledger_verify().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
});

contract!(auto_grant_national_files_and_what_if, |ctx: Ctx| async move {
    let (s, rd, fs) = setup(&ctx).await;
    let pol = paid_policy(&ctx, &s, &rd, 1_000_000).await;
    let fp = paid_policy_of(&ctx, &s, &fs, 1_000_000, &equipment()).await;
    // What-if changes nothing and reports the cost.
    let before = state(&ctx).await.1;
    let w = ctx
        .svc
        .subsidy_what_if(
            &s.z.regulator,
            "zone_tech_insurance",
            &WhatIfParams { share_bp: Some(3_000), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!((w.eligible, w.cost_fen, w.enterprises), (1, 300_000, 1), "{w:?}");
    assert_eq!(w.by_industry.values().sum::<i64>(), 300_000);
    assert!(w.failures.contains_key("product_type"), "the first-set policy is not covered: {w:?}");
    assert!(ctx
        .svc
        .subsidy_what_if(&s.z.ent_admin, "zone_tech_insurance", &WhatIfParams::default())
        .await
        .is_err());
    assert_eq!(state(&ctx).await.1, before);
    // Auto-grant: the eligible policy is offered; the enterprise confirms in time.
    let n = ctx.svc.offer_auto_grants(&s.approver, "zone_tech_insurance").await.unwrap();
    assert_eq!(n, 1);
    assert_eq!(ctx.svc.offer_auto_grants(&s.approver, "zone_tech_insurance").await.unwrap(), 0);
    let offer = ctx
        .svc
        .subsidy_applications(&s.z.ent_admin)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.policy_id.as_deref() == Some(&pol))
        .unwrap();
    assert_eq!((offer.status, offer.confirm_by), (SubsidyStatus::Offered, Some(date!(2026 - 12 - 02))));
    let a = ctx.svc.confirm_subsidy_offer(&s.z.ent_admin, &offer.id).await.unwrap();
    assert_eq!(a.status, SubsidyStatus::InNotice);
    // National first-set: qualification first, then funding through the zone.
    let e = ctx
        .svc
        .apply_subsidy(&s.z.ent_admin, &fp, "first_set", "funding", &Declarations::default())
        .await
        .unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "not_qualified"), "{e:?}");
    let q = ctx
        .svc
        .apply_subsidy(&s.z.ent_admin, &fp, "first_set", "qualification", &Declarations::default())
        .await
        .unwrap();
    file_documents(&ctx.svc, &s.z.ent_admin, &q.id).await;
    assert_eq!(q.programme_version, 2024);
    let e = ctx
        .svc
        .national_step(&s.approver, &q.id, SubsidyStep::Forward, true, Money::ZERO, "")
        .await
        .unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "bad_transition"), "{e:?}");
    ctx.svc.national_step(&s.z.reviewer, &q.id, SubsidyStep::Recommend, true, Money::ZERO, "").await.unwrap();
    ctx.svc.national_step(&s.approver, &q.id, SubsidyStep::Forward, true, Money::ZERO, "").await.unwrap();
    let q = ctx
        .svc
        .national_step(
            &s.approver,
            &q.id,
            SubsidyStep::Decision,
            true,
            Money::ZERO,
            "工信部装备函〔2026〕12号",
        )
        .await
        .unwrap();
    assert_eq!(q.status, SubsidyStatus::Qualified);
    let f = ctx
        .svc
        .apply_subsidy(&s.z.ent_admin, &fp, "first_set", "funding", &Declarations::default())
        .await
        .unwrap();
    file_documents(&ctx.svc, &s.z.ent_admin, &f.id).await;
    // 80 % of the 10,000 yuan actually paid.
    assert_eq!(f.amount.fen(), 800_000);
    ctx.svc.national_step(&s.z.reviewer, &f.id, SubsidyStep::Recommend, true, Money::ZERO, "").await.unwrap();
    ctx.svc.national_step(&s.approver, &f.id, SubsidyStep::Forward, true, Money::ZERO, "").await.unwrap();
    let f = ctx
        .svc
        .national_step(
            &s.approver,
            &f.id,
            SubsidyStep::Decision,
            true,
            Money::from_fen(800_000),
            "财建〔2026〕88号",
        )
        .await
        .unwrap();
    assert_eq!((f.status, f.amount.fen()), (SubsidyStatus::Granted, 800_000));
    // An offer not confirmed in time lapses.
    let pol3 = paid_policy(&ctx, &s, &rd, 1_000_000).await;
    ctx.svc.offer_auto_grants(&s.approver, "zone_tech_insurance").await.unwrap();
    let offer = ctx
        .svc
        .subsidy_applications(&s.z.ent_admin)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.policy_id.as_deref() == Some(&pol3))
        .unwrap();
    ctx.clock.advance_us(10 * DAY);
    let e = ctx.svc.confirm_subsidy_offer(&s.z.ent_admin, &offer.id).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "lapsed"), "{e:?}");
    let report = ctx.svc.ledger_verify().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
});

contract!(years_of_cover_follow_the_renewal_chain, |ctx: Ctx| async move {
    let (s, rd, _) = setup(&ctx).await;
    let toml = r#"
[[programme]]
id = "stepdown"
version = 1
name_zh = "逐年退坡测试"
name_en = "Step-down"
kind = "zone"
source = "test"
confidence = "U"
valid_from = "2026-01-01"
version_date = "application_date"
rate_cap_action = "cap_base"
premium_basis = "paid"
cap_year = "policy_start"
max_years = 2
continuous = true
budget_yuan = 100000
notice_working_days = 5
ban_years = 3
[[programme.groups]]
name = "all"
product_types = ["rd_liability"]
share_bp_by_year = [5000, 3000]
"#;
    let no_budget = toml.replace("budget_yuan = 100000\n", "");
    let e = ctx.svc.load_subsidy_programmes(&s.approver, &no_budget).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].message_en.contains("budget")), "{e:?}");
    ctx.svc.load_subsidy_programmes(&s.approver, toml).await.unwrap();
    let a = paid_policy(&ctx, &s, &rd, 1_000_000).await;
    let app =
        ctx.svc.apply_subsidy(&s.z.ent_admin, &a, "stepdown", "", &Declarations::default()).await.unwrap();
    assert_eq!(app.amount.fen(), 500_000, "year 1: 50 %");
    ctx.svc.subsidy_local_review(&s.z.reviewer, &app.id, true, "").await.unwrap();
    ctx.svc.subsidy_department_review(&s.approver, &app.id, true, "").await.unwrap();
    let renewal = |pol: String| {
        let svc = ctx.svc.clone();
        let ent = s.z.ent_admin.clone();
        let uw = s.uw.clone();
        async move {
            let r = svc.renew_policy(&ent, &pol).await.unwrap();
            let p =
                svc.my_policies(&ent).await.unwrap().into_iter().find(|p| p.application_id == r.id).unwrap();
            svc.record_premium_paid(&uw, &p.id, Money::from_fen(p.premium.fen()), &format!("R-{}", p.id))
                .await
                .unwrap();
            p.id
        }
    };
    // The renewal, continuous with the first year: the second year's 30 %.
    let b = renewal(a.clone()).await;
    let (_, r) =
        ctx.svc.check_subsidy(&s.z.ent_admin, &b, "stepdown", &Declarations::default()).await.unwrap();
    let g = r.unwrap();
    assert_eq!(g.amount_fen, 300_000, "{:?}", g.steps);
    let app_b =
        ctx.svc.apply_subsidy(&s.z.ent_admin, &b, "stepdown", "", &Declarations::default()).await.unwrap();
    ctx.svc.subsidy_local_review(&s.z.reviewer, &app_b.id, true, "").await.unwrap();
    ctx.svc.subsidy_department_review(&s.approver, &app_b.id, true, "").await.unwrap();
    // A third year is beyond the programme's two.
    let c = renewal(b).await;
    let (_, r) =
        ctx.svc.check_subsidy(&s.z.ent_admin, &c, "stepdown", &Declarations::default()).await.unwrap();
    assert!(r.unwrap_err().iter().any(|f| f.rule == "max_years"));
    // Another policy of the same enterprise starts again at year 1.
    let other = paid_policy(&ctx, &s, &rd, 1_000_000).await;
    let (_, r) =
        ctx.svc.check_subsidy(&s.z.ent_admin, &other, "stepdown", &Declarations::default()).await.unwrap();
    assert_eq!(r.unwrap().amount_fen, 500_000);
});

contract!(already_compensated_is_checked_against_the_platforms_grants, |ctx: Ctx| async move {
    let (s, rd, _) = setup(&ctx).await;
    // Two programmes cover the same product type and belong to no no-stacking group; the
    // second excludes a policy already compensated.
    let first = r#"
[[programme]]
id = "comp_first"
version = 1
name_zh = "先行补贴"
name_en = "First grant"
kind = "zone"
source = "test"
confidence = "U"
valid_from = "2026-01-01"
version_date = "application_date"
rate_cap_action = "cap_base"
premium_basis = "paid"
cap_year = "application"
budget_yuan = 100000
notice_working_days = 5
ban_years = 3
[[programme.groups]]
name = "all"
product_types = ["rd_liability"]
share_bp_by_year = [5000]
"#;
    let second = first
        .replace("comp_first", "comp_second")
        .replace("ban_years = 3\n", "ban_years = 3\nexclude_already_compensated = true\n");
    ctx.svc.load_subsidy_programmes(&s.approver, first).await.unwrap();
    ctx.svc.load_subsidy_programmes(&s.approver, &second).await.unwrap();
    let pol = paid_policy(&ctx, &s, &rd, 1_000_000).await;
    let other = paid_policy(&ctx, &s, &rd, 1_000_000).await;
    let none = Declarations::default();
    let a = ctx.svc.apply_subsidy(&s.z.ent_admin, &pol, "comp_first", "", &none).await.unwrap();
    ctx.svc.subsidy_local_review(&s.z.reviewer, &a.id, true, "").await.unwrap();
    ctx.svc.subsidy_department_review(&s.approver, &a.id, true, "").await.unwrap();
    // In notice nothing is granted yet.
    let (_, r) = ctx.svc.check_subsidy(&s.z.ent_admin, &pol, "comp_second", &none).await.unwrap();
    assert_eq!(r.unwrap().amount_fen, 500_000);
    ctx.clock.advance_us(8 * DAY);
    ctx.svc.approve_subsidy(&s.approver, &a.id).await.unwrap();
    // Approved under the first programme: the second refuses the policy though nothing is
    // declared, and says where the record comes from.
    let (_, r) = ctx.svc.check_subsidy(&s.z.ent_admin, &pol, "comp_second", &none).await.unwrap();
    let f = r.unwrap_err();
    let f = f.iter().find(|f| f.rule == "already_compensated").expect("already_compensated");
    assert!(f.reason_en.contains("comp_first") && f.reason_zh.contains("comp_first"), "{f:?}");
    let e = ctx.svc.apply_subsidy(&s.z.ent_admin, &pol, "comp_second", "", &none).await.unwrap_err();
    assert!(format!("{e:?}").contains("already compensated"), "{e:?}");
    ctx.svc.disburse_subsidy(&s.approver, &a.id, "GK-COMP-1").await.unwrap();
    let (_, r) = ctx.svc.check_subsidy(&s.z.ent_admin, &pol, "comp_second", &none).await.unwrap();
    assert!(r.unwrap_err().iter().any(|f| f.rule == "already_compensated"));
    // Another policy of the enterprise is not compensated; declaring it still refuses it.
    let (_, r) = ctx.svc.check_subsidy(&s.z.ent_admin, &other, "comp_second", &none).await.unwrap();
    assert_eq!(r.unwrap().amount_fen, 500_000);
    let declared = Declarations { already_compensated: true, ..Default::default() };
    let (_, r) = ctx.svc.check_subsidy(&s.z.ent_admin, &other, "comp_second", &declared).await.unwrap();
    assert!(r.unwrap_err().iter().any(|f| f.rule == "already_compensated"));
    // A grant clawed back no longer counts.
    ctx.svc.claw_back_subsidy(&s.approver, &a.id, false, "企业退保，按规定追回已拨付补贴").await.unwrap();
    let (_, r) = ctx.svc.check_subsidy(&s.z.ent_admin, &pol, "comp_second", &none).await.unwrap();
    assert!(r.map_or_else(|f| !f.iter().any(|f| f.rule == "already_compensated"), |_| true));
});

contract!(a_zone_programme_refuses_a_premium_not_fully_paid, |ctx: Ctx| async move {
    let (s, rd, _) = setup(&ctx).await;
    let q = QuoteInput { limit: Money::from_fen(2_000_000 * 100), ..Default::default() };
    let a = ctx.svc.apply_for_policy(&s.z.ent_admin, &rd, &q, &ctx.svc.today().to_string()).await.unwrap();
    let p = ctx
        .svc
        .my_policies(&s.z.ent_admin)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.application_id == a.id)
        .unwrap();
    let half = Money::from_fen(p.premium.fen() / 2);
    ctx.svc.record_premium_paid(&s.uw, &p.id, half, &format!("B-{}", p.id)).await.unwrap();
    let none = Declarations::default();
    let (_, r) = ctx.svc.check_subsidy(&s.z.ent_admin, &p.id, "zone_tech_insurance", &none).await.unwrap();
    let f = r.unwrap_err();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].rule, "premium_paid");
    assert!(f[0].reason_en.contains("10000.00 yuan paid of 20000.00 yuan due"), "{f:?}");
    ctx.svc.record_premium_paid(&s.uw, &p.id, half, &format!("B2-{}", p.id)).await.unwrap();
    let (_, r) = ctx.svc.check_subsidy(&s.z.ent_admin, &p.id, "zone_tech_insurance", &none).await.unwrap();
    assert_eq!(r.unwrap().amount_fen, 1_000_000);
});

contract!(work_lists_name_the_parties_and_to_dos_reach_whoever_acts_next, |ctx: Ctx| async move {
    use kebao_service::worklists::{ListQuery, PolicyState};
    let (s, rd, _) = setup(&ctx).await;
    let pol = paid_policy(&ctx, &s, &rd, 2_000_000).await;
    // The policyholder's list names the parties, the product and where the policy stands.
    let mine = ctx.svc.policy_list(&s.z.ent_admin, &ListQuery::default()).await.unwrap();
    assert_eq!(mine.total, 1);
    let row = &mine.rows[0];
    assert_eq!(row.policy.id, pol);
    assert_eq!(row.parties.holder, "光谷激光科技有限公司");
    assert_eq!(row.parties.insurer, "楚天财产保险股份有限公司湖北分公司");
    assert_eq!(row.parties.product, "rd_liability 产品");
    assert_eq!(row.state, PolicyState::InForce);
    // The zone's officers and the regulator see every policy; a bank none of them.
    for officer in [&s.z.reviewer, &s.z.regulator, &s.approver] {
        let all = ctx.svc.policy_list(officer, &ListQuery::default()).await.unwrap();
        assert!(all.rows.iter().any(|r| r.policy.id == pol));
    }
    assert_eq!(ctx.svc.policy_list(&s.z.banker, &ListQuery::default()).await.unwrap().total, 0);
    // Filters: by a party's name, by status; bad filters are refused with the field named.
    let q = |q: &str, status: &str| ListQuery { q: q.into(), status: status.into(), page: 1 };
    assert_eq!(ctx.svc.policy_list(&s.z.reviewer, &q("楚天", "")).await.unwrap().total, 1);
    assert_eq!(ctx.svc.policy_list(&s.z.reviewer, &q("光谷激光", "in_force")).await.unwrap().total, 1);
    assert_eq!(ctx.svc.policy_list(&s.z.reviewer, &q("", "cancelled")).await.unwrap().total, 0);
    assert_eq!(ctx.svc.policy_list(&s.z.reviewer, &q("无此企业", "")).await.unwrap().total, 0);
    for bad in [q(&"长".repeat(101), ""), q("", "bogus")] {
        match ctx.svc.policy_list(&s.z.reviewer, &bad).await {
            Err(ServiceError::Invalid(i)) => assert!(i.0[0].field == "q" || i.0[0].field == "status"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    // A subsidy application is the zone reviewers' to-do, naming the applicant; after the
    // local review it is the approvers'; once rejected it is no one's.
    let a = ctx
        .svc
        .apply_subsidy(&s.z.ent_admin, &pol, "zone_tech_insurance", "", &Declarations::default())
        .await
        .unwrap();
    file_documents(&ctx.svc, &s.z.ent_admin, &a.id).await;
    let link = format!("/subsidies/{}", a.id);
    let todo_of = |actor: Actor| {
        let ctx = &ctx;
        let link = link.clone();
        async move {
            ctx.svc
                .inbox(&actor)
                .await
                .unwrap()
                .todos
                .into_iter()
                .find(|t| t.link == link)
                .map(|t| t.title_zh)
        }
    };
    let t = todo_of(s.z.reviewer.clone()).await.expect("the reviewer's to-do");
    assert!(t.contains("光谷激光科技有限公司") && t.contains("属地初审"), "{t}");
    assert!(todo_of(s.approver.clone()).await.is_none(), "not yet the approver's");
    ctx.svc.subsidy_local_review(&s.z.reviewer, &a.id, true, "").await.unwrap();
    assert!(todo_of(s.z.reviewer.clone()).await.is_none(), "the reviewer's to-do is done");
    let t = todo_of(s.approver.clone()).await.expect("the approver's to-do");
    assert!(t.contains("部门复审"), "{t}");
    ctx.svc.reject_subsidy(&s.approver, &a.id, "材料不全，请补正后重新申请").await.unwrap();
    assert!(todo_of(s.approver.clone()).await.is_none(), "a rejected application is no one's work");
});

contract!(the_zone_confirms_a_programmes_numbers_with_their_document, |ctx: Ctx| async move {
    let (s, _, _) = setup(&ctx).await;
    let zone = |ps: &[kebao_domain::subsidy::Programme]| {
        ps.iter().find(|p| p.id == "zone_tech_insurance").cloned().expect("the zone programme")
    };
    let before = zone(&ctx.svc.subsidy_programmes().await.unwrap());
    assert!(!before.confidence.is_fact(), "shipped as an example");
    // Only the zone's approvers (and platform admins) confirm; a document is named.
    let e = ctx
        .svc
        .confirm_subsidy_programme(&s.z.regulator, &before.id, before.version, "东湖管〔2026〕1号")
        .await;
    assert!(matches!(e, Err(ServiceError::Forbidden { .. })), "{e:?}");
    let e = ctx.svc.confirm_subsidy_programme(&s.approver, &before.id, before.version, " 无 ").await;
    assert!(matches!(&e, Err(ServiceError::Invalid(i)) if i.0[0].field == "document"), "{e:?}");
    let e = ctx.svc.confirm_subsidy_programme(&s.approver, &before.id, 999, "东湖管〔2026〕1号").await;
    assert!(matches!(e, Err(ServiceError::NotFound)), "{e:?}");
    let p = ctx
        .svc
        .confirm_subsidy_programme(&s.approver, &before.id, before.version, "东湖管〔2026〕1号")
        .await
        .unwrap();
    assert!(
        p.confidence.is_fact() && p.source == "东湖管〔2026〕1号" && p.label_zh.contains("东湖管〔2026〕1号")
    );
    // The numbers stay as they were; the version reads back confirmed; once only.
    let after = zone(&ctx.svc.subsidy_programmes().await.unwrap());
    assert_eq!(
        (after.per_enterprise_year_cap_yuan, after.groups.len()),
        (before.per_enterprise_year_cap_yuan, before.groups.len())
    );
    assert!(after.confidence.is_fact());
    let e =
        ctx.svc.confirm_subsidy_programme(&s.approver, &before.id, before.version, "东湖管〔2026〕2号").await;
    assert!(matches!(&e, Err(ServiceError::Conflict(f)) if f.code == "confirmed"), "{e:?}");
});

contract!(zone_and_national_support_never_stack_on_one_policy, |ctx: Ctx| async move {
    let (s, _, fs) = setup(&ctx).await;
    let zone = r#"
[[programme]]
id = "zone_fs"
version = 1
name_zh = "示范区首台套保费补贴"
name_en = "Zone first-set premium subsidy"
kind = "zone"
source = "test"
confidence = "U"
valid_from = "2026-01-01"
version_date = "application_date"
rate_cap_action = "cap_base"
premium_basis = "paid"
cap_year = "application"
budget_yuan = 100000
notice_working_days = 5
ban_years = 3
no_stacking_group = "fiscal_premium_support"
[[programme.groups]]
name = "首台套"
product_types = ["first_set_equipment"]
share_bp_by_year = [5000]
"#;
    let capped = zone
        .replace("zone_fs", "zone_fs_cap")
        .replace("no_stacking_group = \"fiscal_premium_support\"\n", "no_stacking_group = \"fiscal_premium_support\"\nstacking = \"cap_combined_share\"\ncombined_share_cap_bp = 9000\n");
    ctx.svc.load_subsidy_programmes(&s.approver, zone).await.unwrap();
    ctx.svc.load_subsidy_programmes(&s.approver, &capped).await.unwrap();
    let none = Declarations::default();
    // A zone grant first (10,000 yuan premium paid, half of it).
    let pol = paid_policy_of(&ctx, &s, &fs, 1_000_000, &equipment()).await;
    let z = ctx.svc.apply_subsidy(&s.z.ent_admin, &pol, "zone_fs", "", &none).await.unwrap();
    assert_eq!(z.amount.fen(), 500_000);
    ctx.svc.subsidy_local_review(&s.z.reviewer, &z.id, true, "").await.unwrap();
    ctx.svc.subsidy_department_review(&s.approver, &z.id, true, "").await.unwrap();
    ctx.clock.advance_us(8 * DAY);
    ctx.svc.approve_subsidy(&s.approver, &z.id).await.unwrap();
    ctx.svc.disburse_subsidy(&s.approver, &z.id, "GK-ZFS-1").await.unwrap();
    // Then national compensation on the same policy: granted, and the zone grant is flagged
    // for the zone's approvers to claw back or net.
    let q = ctx.svc.apply_subsidy(&s.z.ent_admin, &pol, "first_set", "qualification", &none).await.unwrap();
    file_documents(&ctx.svc, &s.z.ent_admin, &q.id).await;
    ctx.svc.national_step(&s.z.reviewer, &q.id, SubsidyStep::Recommend, true, Money::ZERO, "").await.unwrap();
    ctx.svc.national_step(&s.approver, &q.id, SubsidyStep::Forward, true, Money::ZERO, "").await.unwrap();
    ctx.svc
        .national_step(
            &s.approver,
            &q.id,
            SubsidyStep::Decision,
            true,
            Money::ZERO,
            "工信部装备函〔2026〕3号",
        )
        .await
        .unwrap();
    let f = ctx.svc.apply_subsidy(&s.z.ent_admin, &pol, "first_set", "funding", &none).await.unwrap();
    file_documents(&ctx.svc, &s.z.ent_admin, &f.id).await;
    ctx.svc.national_step(&s.z.reviewer, &f.id, SubsidyStep::Recommend, true, Money::ZERO, "").await.unwrap();
    ctx.svc.national_step(&s.approver, &f.id, SubsidyStep::Forward, true, Money::ZERO, "").await.unwrap();
    let stacking_todo = |who: Actor| {
        let svc = ctx.svc.clone();
        async move { svc.inbox(&who).await.unwrap().todos.into_iter().find(|t| t.kind == "subsidy_stacking") }
    };
    assert!(stacking_todo(s.approver.clone()).await.is_none());
    ctx.svc
        .national_step(
            &s.approver,
            &f.id,
            SubsidyStep::Decision,
            true,
            Money::from_fen(800_000),
            "财建〔2026〕9号",
        )
        .await
        .unwrap();
    let t = stacking_todo(s.approver.clone()).await.expect("the zone grant is flagged");
    assert!(t.link.ends_with(&z.id) && t.title_zh.contains("追回或抵扣"), "{t:?}");
    ctx.svc.claw_back_subsidy(&s.approver, &z.id, false, "已获国家首台套保险补偿，按规定追回").await.unwrap();
    assert!(stacking_todo(s.approver.clone()).await.is_none(), "done once clawed back");
    // With national compensation on the policy, a zone programme that refuses stacking refuses;
    // one that caps the combined share pays what is left under 90 % of the premium.
    let (_, r) = ctx.svc.check_subsidy(&s.z.ent_admin, &pol, "zone_fs", &none).await.unwrap();
    assert!(r.unwrap_err().iter().any(|f| f.rule == "no_stacking_national"));
    let (_, r) = ctx.svc.check_subsidy(&s.z.ent_admin, &pol, "zone_fs_cap", &none).await.unwrap();
    let g = r.unwrap();
    assert_eq!((g.amount_fen, g.bound_by.as_deref()), (100_000, Some("combined_share_cap")));
    // Applied for nationally (nothing granted yet) already counts: a zone programme refuses.
    let pol2 = paid_policy_of(&ctx, &s, &fs, 1_000_000, &equipment()).await;
    ctx.svc.apply_subsidy(&s.z.ent_admin, &pol2, "first_set", "qualification", &none).await.unwrap();
    let e = ctx.svc.apply_subsidy(&s.z.ent_admin, &pol2, "zone_fs", "", &none).await.unwrap_err();
    assert!(
        format!("{e:?}").contains("no_stacking_national") || format!("{e:?}").contains("national"),
        "{e:?}"
    );
});

/// A zone programme that counts per insured object: two subsidised years at most, without a
/// gap, from 100,000 yuan of cumulative premium; equipment named, the user the beneficiary.
const PER_OBJECT: &str = r#"
[[programme]]
id = "per_object"
version = 1
name_zh = "按标的计年"
name_en = "Counted per object"
kind = "zone"
source = "test"
confidence = "U"
valid_from = "2020-01-01"
version_date = "policy_start"
rate_cap_action = "cap_base"
premium_basis = "paid"
cap_year = "policy_start"
max_years = 2
continuous = true
min_cumulative_premium_yuan = 100000
object_kinds = ["equipment"]
beneficiary_required = true
budget_yuan = 10000000
notice_working_days = 5
ban_years = 3
[[programme.groups]]
name = "all"
product_types = ["first_set_equipment"]
share_bp_by_year = [5000, 3000]
"#;

/// A second insurer publishing a first-set product, and its underwriter.
async fn second_insurer(ctx: &Ctx, s: &Setup) -> (String, Actor) {
    let ins = ctx
        .svc
        .create_org(&operator(), &org_input("江城财产保险股份有限公司湖北分公司", &uscc(52), "insurer"))
        .await
        .unwrap();
    let filer = user(&ctx.svc, &ins.id, "filer.t", &[Role::ProductFiler]).await;
    let uw = user(&ctx.svc, &ins.id, "uw.t", &[Role::Underwriter]).await;
    (product(ctx, &s.z, &ins.id, &filer, "first_set_equipment").await, uw)
}

fn paper(
    product: &str,
    number: &str,
    start: time::Date,
    end: time::Date,
    premium: &str,
) -> RegistrationFields {
    RegistrationFields {
        product_id: product.into(),
        number: number.into(),
        start_date: start.to_string(),
        end_date: end.to_string(),
        premium_yuan: premium.into(),
        sum_insured_yuan: "5000000".into(),
        limit_yuan: String::new(),
    }
}

fn confirm() -> AnswerFields {
    AnswerFields { confirm: true, ..Default::default() }
}

contract!(years_continuity_and_cumulative_premium_count_per_object_across_insurers, |ctx: Ctx| async move {
    let (s, _, fs) = setup(&ctx).await;
    let (fs2, uw2) = second_insurer(&ctx, &s).await;
    ctx.svc.load_subsidy_programmes(&s.approver, PER_OBJECT).await.unwrap();
    let today = ctx.svc.today();
    let day = time::Duration::days(1);
    let none = Declarations::default();
    // Last year's cover of model HX-9 was bought on paper from the second insurer.
    let p0 = ctx
        .svc
        .register_policy(
            &s.z.ent_admin,
            &paper(&fs2, "JC-2025-0009", today - day * 365, today - day, "150000"),
            &equipment_model("HX-9"),
        )
        .await
        .unwrap();
    let a0 = ctx.svc.apply_subsidy(&s.z.ent_admin, &p0.id, "per_object", "", &none).await.unwrap();
    assert_eq!(a0.amount.fen(), 7_500_000, "year 1: half the 150,000 yuan as printed");
    ctx.svc.answer_registration(&uw2, &p0.id, &confirm()).await.unwrap();
    ctx.svc.subsidy_local_review(&s.z.reviewer, &a0.id, true, "").await.unwrap();
    ctx.svc.subsidy_department_review(&s.approver, &a0.id, true, "").await.unwrap();
    // This year's cover of the same model (typed differently) from the first insurer, on the
    // platform, continues it the next day: year 2, and the premium of both counts.
    let p1 = paid_policy_of(&ctx, &s, &fs, 1_000_000, &equipment_model(" hx-9 ")).await;
    let (_, r) = ctx.svc.check_subsidy(&s.z.ent_admin, &p1, "per_object", &none).await.unwrap();
    assert_eq!(r.unwrap().amount_fen, 300_000, "year 2: 30 % of the 10,000 yuan paid");
    // Another model starts at year 1 and has only its own premium.
    let p2 = paid_policy_of(&ctx, &s, &fs, 1_000_000, &equipment_model("HX-10")).await;
    let (_, r) = ctx.svc.check_subsidy(&s.z.ent_admin, &p2, "per_object", &none).await.unwrap();
    let rules: Vec<String> = r.unwrap_err().into_iter().map(|f| f.rule).collect();
    assert_eq!(rules, ["min_cumulative_premium"]);
    // A gap breaks continuity: paper cover of GAP-1 ended a year ago; the new policy is the
    // second subsidised year but not continuous.
    let g0 = ctx
        .svc
        .register_policy(
            &s.z.ent_admin,
            &paper(&fs2, "JC-2024-0001", today - day * 730, today - day * 366, "150000"),
            &equipment_model("GAP-1"),
        )
        .await
        .unwrap();
    ctx.svc.answer_registration(&uw2, &g0.id, &confirm()).await.unwrap();
    let ga = ctx.svc.apply_subsidy(&s.z.ent_admin, &g0.id, "per_object", "", &none).await.unwrap();
    ctx.svc.subsidy_local_review(&s.z.reviewer, &ga.id, true, "").await.unwrap();
    ctx.svc.subsidy_department_review(&s.approver, &ga.id, true, "").await.unwrap();
    let g1 = paid_policy_of(&ctx, &s, &fs, 1_000_000, &equipment_model("GAP-1")).await;
    let (_, r) = ctx.svc.check_subsidy(&s.z.ent_admin, &g1, "per_object", &none).await.unwrap();
    let rules: Vec<String> = r.unwrap_err().into_iter().map(|f| f.rule).collect();
    assert_eq!(rules, ["continuous"]);
    // Neither object nor beneficiary named: both rules say so.
    let bare = paid_policy(&ctx, &s, &fs, 1_000_000).await;
    let (_, r) = ctx.svc.check_subsidy(&s.z.ent_admin, &bare, "per_object", &none).await.unwrap();
    let rules: Vec<String> = r.unwrap_err().into_iter().map(|f| f.rule).collect();
    assert!(
        rules.contains(&"insured_object".to_owned()) && rules.contains(&"beneficiary".to_owned()),
        "{rules:?}"
    );
    // A renewal carries the object and parties on.
    let view = ctx.svc.policy(&s.z.ent_admin, &p1).await.unwrap();
    let ren = ctx.svc.renew_policy(&s.z.ent_admin, &p1).await.unwrap();
    assert_eq!(ren.subject, view.policy.subject);
});

contract!(
    a_policy_bought_outside_the_platform_is_registered_and_confirmed_by_its_insurer,
    |ctx: Ctx| async move {
        let (s, _, fs) = setup(&ctx).await;
        let (fs2, uw2) = second_insurer(&ctx, &s).await;
        ctx.svc.load_subsidy_programmes(&s.approver, PER_OBJECT).await.unwrap();
        let today = ctx.svc.today();
        let day = time::Duration::days(1);
        let none = Declarations::default();
        let f = paper(&fs2, "JC-2026-0100", today - day * 100, today + day * 264, "120000");
        // Bad input changes nothing: each bad field is named; a bank cannot register; a product
        // not published on the platform cannot be named.
        let before = state(&ctx).await;
        let bad =
            RegistrationFields { start_date: "2010-01-01".into(), premium_yuan: "-1".into(), ..f.clone() };
        let e = ctx.svc.register_policy(&s.z.ent_admin, &bad, &equipment()).await.unwrap_err();
        assert!(
            matches!(&e, ServiceError::Invalid(i) if i.0.iter().any(|e| e.field == "start_date")
        && i.0.iter().any(|e| e.field == "premium_yuan")),
            "{e:?}"
        );
        let e = ctx.svc.register_policy(&s.z.banker, &f, &equipment()).await.unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden { .. }), "{e:?}");
        let nowhere = RegistrationFields { product_id: "no-such-product".into(), ..f.clone() };
        let e = ctx.svc.register_policy(&s.z.ent_admin, &nowhere, &equipment()).await.unwrap_err();
        assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "not_published"), "{e:?}");
        assert_eq!(state(&ctx).await, before);
        let p = ctx.svc.register_policy(&s.z.ent_admin, &f, &equipment_model("HX-77")).await.unwrap();
        assert_eq!(p.status, PolicyStatus::Unconfirmed);
        let e = ctx.svc.register_policy(&s.z.ent_admin, &f, &equipment()).await.unwrap_err();
        assert!(matches!(&e, ServiceError::Conflict(x) if x.code == "taken"), "{e:?}");
        // The policyholder files the paper policy; the insurer named on it has a to-do.
        let scan = b"%PDF-1.4\n% policy\n";
        ctx.svc.attach(&s.z.ent_admin, &Owner::registered_policy(&p.id), "policy.pdf", scan).await.unwrap();
        let todos = ctx.svc.inbox(&uw2).await.unwrap().todos;
        assert!(todos.iter().any(|t| t.kind == "confirm_registration" && t.subject == p.id), "{todos:?}");
        // Nothing but the insurer's answer can be done on it on the platform.
        let e = ctx.svc.renew_policy(&s.z.ent_admin, &p.id).await.unwrap_err();
        assert!(matches!(&e, ServiceError::Conflict(x) if x.code == "outside_platform"), "{e:?}");
        // A zone officer checks it; the application may be made; no review passes before the
        // insurer confirms.
        let (_, r) = ctx.svc.check_subsidy(&s.z.reviewer, &p.id, "per_object", &none).await.unwrap();
        assert_eq!(r.unwrap().amount_fen, 6_000_000);
        let a = ctx.svc.apply_subsidy(&s.z.ent_admin, &p.id, "per_object", "", &none).await.unwrap();
        let e = ctx.svc.subsidy_local_review(&s.z.reviewer, &a.id, true, "").await.unwrap_err();
        assert!(matches!(&e, ServiceError::Conflict(x) if x.code == "unconfirmed"), "{e:?}");
        // Another insurer may not answer for it (it does not see the policy); the named insurer
        // books 100,000 yuan received of a 120,000 yuan premium.
        let e = ctx.svc.answer_registration(&s.uw, &p.id, &confirm()).await.unwrap_err();
        assert!(matches!(e, ServiceError::NotFound), "{e:?}");
        let too_much = AnswerFields { received_yuan: "130000".into(), ..confirm() };
        let e = ctx.svc.answer_registration(&uw2, &p.id, &too_much).await.unwrap_err();
        assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].field == "received_yuan"), "{e:?}");
        let part = AnswerFields { received_yuan: "100000".into(), ..confirm() };
        let p = ctx.svc.answer_registration(&uw2, &p.id, &part).await.unwrap();
        assert_eq!(p.status, PolicyStatus::Registered);
        assert!(!ctx.svc.inbox(&uw2).await.unwrap().todos.iter().any(|t| t.subject == p.id));
        let e = ctx.svc.answer_registration(&uw2, &p.id, &confirm()).await.unwrap_err();
        assert!(matches!(&e, ServiceError::Conflict(x) if x.code == "already_decided"), "{e:?}");
        let e = ctx
            .svc
            .attach(&s.z.ent_admin, &Owner::registered_policy(&p.id), "late.pdf", scan)
            .await
            .unwrap_err();
        assert!(matches!(&e, ServiceError::Conflict(x) if x.code == "answered"), "{e:?}");
        // The premium now comes from the insurer's ledger: partly paid, the zone programme
        // (full payment first) refuses; the review step says why.
        let (_, r) = ctx.svc.check_subsidy(&s.z.reviewer, &p.id, "per_object", &none).await.unwrap();
        assert!(r.unwrap_err().iter().any(|f| f.rule == "premium_paid"));
        // A registration the insurer does not recognise cannot be used.
        let q = ctx
            .svc
            .register_policy(
                &s.z.ent_admin,
                &paper(&fs, "CT-PAPER-1", today - day * 10, today + day * 354, "5000"),
                &equipment(),
            )
            .await
            .unwrap();
        let no = AnswerFields { confirm: false, ..Default::default() };
        let e = ctx.svc.answer_registration(&s.uw, &q.id, &no).await.unwrap_err();
        assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].field == "note"), "{e:?}");
        let no = AnswerFields { note: "本公司无此保单".into(), ..no };
        assert_eq!(
            ctx.svc.answer_registration(&s.uw, &q.id, &no).await.unwrap().status,
            PolicyStatus::Unrecognised
        );
        let e = ctx.svc.check_subsidy(&s.z.ent_admin, &q.id, "per_object", &none).await.unwrap_err();
        assert!(matches!(&e, ServiceError::Conflict(x) if x.code == "unrecognised"), "{e:?}");
    }
);
