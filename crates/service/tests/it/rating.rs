//! Rating plans and quotes, on both stores.

use crate::contract;
use crate::harness::*;
use kebao_domain::product::{CoverageInput, FilingStatus, ProductInput, CHECKLIST};
use kebao_domain::rating::{FactorTable, PlanDoc, QuoteInput, RateBasis, RatingVariable};
use kebao_domain::user::Role;
use kebao_domain::Money;
use kebao_service::authz::Actor;
use kebao_service::products::Review;
use kebao_service::ServiceError;
use kebao_store::products::StatusChange;

fn plan(base: &str, min: i64) -> PlanDoc {
    PlanDoc {
        basis: RateBasis::Limit,
        base: base.into(),
        size_bands: vec![],
        limit_bands: vec![],
        deductible_bands: vec![],
        factors: vec![FactorTable {
            variable: RatingVariable::ClaimsHistory,
            levels: vec![("0".into(), "0.9".into()), ("1".into(), "1.2".into()), ("2+".into(), "1.6".into())],
            default: None,
        }],
        min_premium_yuan: min,
        max_premium_yuan: None,
        factor_floor: None,
        factor_cap: None,
        underwriting: Default::default(),
        quote_valid_days: None,
    }
}

contract!(insurers_file_dated_plans_and_quotes_run_the_plan_in_force, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let op = operator();
    let ins = ctx
        .svc
        .create_org(&op, &org_input("楚天财产保险股份有限公司湖北分公司", &uscc(41), "insurer"))
        .await
        .unwrap();
    let other =
        ctx.svc.create_org(&op, &org_input("江城科技保险股份有限公司", &uscc(42), "insurer")).await.unwrap();
    let filer = user(&ctx.svc, &ins.id, "filer.r", &[Role::ProductFiler]).await;
    let rival = user(&ctx.svc, &other.id, "filer.x", &[Role::ProductFiler]).await;
    let input = ProductInput {
        type_id: "rd_liability".into(),
        name: "研发责任险".into(),
        coverages: vec![CoverageInput {
            name: "责任".into(),
            limit_yuan: "1000000".into(),
            ..Default::default()
        }],
        premium_basis: "limit".into(),
        contact_name: "王".into(),
        contact_phone: "027-87654321".into(),
        ..Default::default()
    };
    let id = ctx.svc.file_product(&filer, &ins.id, &input).await.unwrap();
    // Plans can be filed on a draft; quotes only on a published product.
    ctx.svc.file_rating_plan(&filer, &id, "2026-01-01", plan("0.008", 1000)).await.unwrap();
    ctx.svc.file_rating_plan(&filer, &id, "2027-01-01", plan("0.010", 1000)).await.unwrap();
    let q = QuoteInput { limit: Money::from_fen(100_000_000), claims_3y: 1, ..Default::default() };
    assert!(matches!(ctx.svc.quote(&z.ent_admin, &id, &q, None).await, Err(ServiceError::NotFound)));
    ctx.svc.submit_product(&filer, &id).await.unwrap();
    let items: Vec<String> = CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect();
    ctx.svc.set_product_checklist(&z.reviewer, &id, &items).await.unwrap();
    ctx.svc.review_product(&z.reviewer, &id, &Review::Approve).await.unwrap();
    ctx.svc.publish_product(&filer, &id).await.unwrap();
    // 1,000,000 × 0.008 × 1.2 = 9,600.
    let v = ctx.svc.quote(&z.ent_admin, &id, &q, None).await.unwrap();
    assert_eq!((v.quote.premium, v.plan_version), (Money::from_fen(960_000), 1));
    assert_eq!(v.insurer_name, "楚天财产保险股份有限公司湖北分公司");
    // The plan in force next year.
    let v = ctx.svc.quote(&Actor::Anonymous, &id, &q, Some("2027-02-01")).await.unwrap();
    assert_eq!((v.quote.premium, v.plan_version), (Money::from_fen(1_200_000), 2));
    // Before any plan: no quote, and the reason.
    let e = ctx.svc.quote(&z.ent_admin, &id, &q, Some("2025-06-01")).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "no_plan"), "{e:?}");
    // Bad input changes nothing.
    let before = state(&ctx).await.1;
    let e = ctx.svc.file_rating_plan(&rival, &id, "2028-01-01", plan("0.01", 1)).await.unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden { .. }), "{e:?}");
    let e = ctx.svc.file_rating_plan(&filer, &id, "2027-01-01", plan("0.01", 1)).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "duplicate_date"), "{e:?}");
    let e = ctx.svc.file_rating_plan(&filer, &id, "2028-01-01", plan("-1", 1)).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "not_positive"), "{e:?}");
    let e = ctx.svc.file_rating_plan(&filer, &id, "01/01/2028", plan("0.01", 1)).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "date_format"), "{e:?}");
    assert_eq!(state(&ctx).await.1, before);
    // Plans are the insurer's and the zone's to see.
    assert_eq!(ctx.svc.rating_plans(&filer, &id).await.unwrap().len(), 2);
    assert!(matches!(ctx.svc.rating_plans(&rival, &id).await, Err(ServiceError::NotFound)));
    // A GLM plan imports with a mapping; an unmapped factor is named.
    let glm = serde_json::json!({"schema": "kebao.rating_plan/1", "link": "log", "base": 0.02, "numeric": [],
        "factors": [{"name": "Claims", "reference": "0", "levels": [
            {"level": "0", "coefficient": 0.0, "relativity": 1.0},
            {"level": "1", "coefficient": 0.3, "relativity": 1.3498588075760032},
            {"level": "2+", "coefficient": 0.6, "relativity": 1.8221188003905089}]}]});
    let e = ctx
        .svc
        .import_glm_rating_plan(&filer, &id, "2028-01-01", &glm, &[], "limit", "0.5", 500)
        .await
        .unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "unmapped_factor"), "{e:?}");
    let row = ctx
        .svc
        .import_glm_rating_plan(
            &filer,
            &id,
            "2028-01-01",
            &glm,
            &[("Claims".into(), "claims_history".into())],
            "limit",
            "0.5",
            500,
        )
        .await
        .unwrap();
    assert_eq!(row.version, 3);
    // 1,000,000 × (0.02 × 0.5) × 1.349859 = 13,498.59.
    let v = ctx.svc.quote(&z.ent_admin, &id, &q, Some("2028-03-01")).await.unwrap();
    assert_eq!(v.quote.premium, Money::from_fen(1_349_859));
});

contract!(a_filing_without_a_rating_plan_is_not_approved_or_published_for_quoting, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let ins = ctx
        .svc
        .create_org(&operator(), &org_input("楚天财产保险股份有限公司湖北分公司", &uscc(43), "insurer"))
        .await
        .unwrap();
    let filer = user(&ctx.svc, &ins.id, "filer.r", &[Role::ProductFiler]).await;
    let input = ProductInput {
        type_id: "rd_liability".into(),
        name: "研发责任险".into(),
        coverages: vec![CoverageInput {
            name: "责任".into(),
            limit_yuan: "1000000".into(),
            ..Default::default()
        }],
        premium_basis: "limit".into(),
        contact_name: "王".into(),
        contact_phone: "027-87654321".into(),
        ..Default::default()
    };
    let id = ctx.svc.file_product(&filer, &ins.id, &input).await.unwrap();
    ctx.svc.submit_product(&filer, &id).await.unwrap();
    let items: Vec<String> = CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect();
    ctx.svc.set_product_checklist(&z.reviewer, &id, &items).await.unwrap();
    // The checklist is complete, but no plan is on file: the approval is refused, named in
    // both languages, and changes nothing.
    let before = state(&ctx).await;
    let e = ctx.svc.review_product(&z.reviewer, &id, &Review::Approve).await.unwrap_err();
    match &e {
        ServiceError::Conflict(f) => {
            assert_eq!((f.field.as_str(), f.code), ("plan", "no_rating_plan"));
            assert!(f.message_zh.contains("费率表") && f.message_en.contains("rating plan"), "{f:?}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(state(&ctx).await, before);
    let v = ctx.svc.product(&filer, &id).await.unwrap();
    assert_eq!(v.shown.status, FilingStatus::InReview);
    assert_eq!(v.shown.registration_no, None);
    // A version approved before the rule (set up behind the service's back) is not
    // published for quoting either.
    let mut tx = ctx.store.begin_write().await.unwrap();
    let change = StatusChange { decided: true, ..Default::default() };
    kebao_store::products::set_status(
        tx.conn(),
        &id,
        1,
        FilingStatus::InReview,
        FilingStatus::Approved,
        &change,
        T0_US,
    )
    .await
    .unwrap();
    tx.commit_unlogged(kebao_store::Unlogged::Tampering).await.unwrap();
    let e = ctx.svc.publish_product(&filer, &id).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "no_rating_plan"), "{e:?}");
    assert!(matches!(ctx.svc.product(&Actor::Anonymous, &id).await, Err(ServiceError::NotFound)));
    // Once a plan is filed, the version is published and quotes run the plan.
    ctx.svc.file_rating_plan(&filer, &id, "2026-01-01", plan("0.008", 1000)).await.unwrap();
    ctx.svc.publish_product(&filer, &id).await.unwrap();
    let q = QuoteInput { limit: Money::from_fen(100_000_000), ..Default::default() };
    let v = ctx.svc.quote(&z.ent_admin, &id, &q, None).await.unwrap();
    assert_eq!(v.quote.premium, Money::from_fen(720_000));
});
