//! The risk lab's model registry: uploads checked by kind and version, maker-checker approval,
//! retirement, visibility by owner, and an approved GLM filed as a product's rating plan used by
//! the next quote.

use crate::contract;
use crate::harness::*;
use kebao_domain::rating::QuoteInput;
use kebao_domain::user::Role;
use kebao_domain::Money;
use kebao_service::lab::{ModelContents, ModelKind, ModelStatus};
use kebao_service::ServiceError;

/// A `kebao fit glm --plan` file: claim frequency by claims history (the platform's levels).
fn glm_file() -> String {
    serde_json::json!({
        "schema": "kebao.rating_plan/1", "family": "poisson", "power": null, "link": "log",
        "response": "ClaimNb", "exposure": "log(Exposure) offset", "base": 0.02,
        "factors": [{"name": "Claims", "reference": "0", "levels": [
            {"level": "0", "coefficient": 0.0, "relativity": 1.0},
            {"level": "1", "coefficient": 1.5f64.ln(), "relativity": 1.5},
            {"level": "2+", "coefficient": std::f64::consts::LN_2, "relativity": 2.0}]}],
        "numeric": [],
        "fit": {"n_obs": 5000, "deviance": 1234.5, "null_deviance": 1400.25, "df_residual": 4997,
                "aic": 2500.75, "dispersion": 1.0, "l2": 0.0}
    })
    .to_string()
}

/// A small scorecard fitted by the engine the CLI uses.
fn scorecard_file() -> String {
    use kebao_scorecard::{Column, Frame, Scorecard, ScorecardOptions};
    let n = 2000;
    let x: Vec<f64> = (0..n).map(|i| f64::from(i % 100)).collect();
    // Low ratios default more often: the event rate falls from two in three to one in seventeen.
    let y: Vec<f64> =
        (0..n).map(|i| if ((i % 100) < 20 && i % 3 != 0) || i % 17 == 0 { 1.0 } else { 0.0 }).collect();
    let frame = Frame { columns: vec![Column::Numeric { name: "debt_ratio".into(), values: x }] };
    Scorecard::fit(&frame, &y, &ScorecardOptions::default()).unwrap().to_json()
}

contract!(
    models_are_checked_approved_by_a_second_person_and_an_approved_glm_becomes_a_rating_plan,
    |ctx: Ctx| async move {
        let z = zone(&ctx.svc).await;
        let op = operator();
        let ins = ctx
            .svc
            .create_org(&op, &org_input("楚天财产保险股份有限公司", &uscc(40), "insurer"))
            .await
            .unwrap();
        let analyst = user(&ctx.svc, &ins.id, "analyst", &[Role::Underwriter]).await;
        let checker = user(&ctx.svc, &ins.id, "checker", &[Role::OrgAdmin]).await;
        let claims = user(&ctx.svc, &ins.id, "claims", &[Role::ClaimsHandler]).await;
        let other = ctx
            .svc
            .create_org(&op, &org_input("江城科技保险股份有限公司", &uscc(41), "insurer"))
            .await
            .unwrap();
        let stranger = user(&ctx.svc, &other.id, "stranger", &[Role::OrgAdmin]).await;

        // Bad files change nothing: a scorecard uploaded as a GLM, an unknown schema, another
        // version, not JSON, a blank name; and an enterprise or a claims handler may not upload.
        let before = state(&ctx).await;
        let code = |r: Result<_, ServiceError>| match r {
            Err(ServiceError::Invalid(i)) => i.0[0].code.to_owned(),
            other => panic!("{other:?}"),
        };
        let sc = scorecard_file();
        assert_eq!(
            code(ctx.svc.upload_model(&analyst, ModelKind::Glm, "频率", sc.as_bytes()).await),
            "wrong_kind"
        );
        assert_eq!(
            code(ctx.svc.upload_model(&analyst, ModelKind::Scorecard, "卡", glm_file().as_bytes()).await),
            "wrong_kind"
        );
        assert_eq!(
            code(ctx.svc.upload_model(&analyst, ModelKind::Glm, "频率", br#"{"schema":"other/1"}"#).await),
            "unknown_schema"
        );
        let v2 = glm_file().replace("kebao.rating_plan/1", "kebao.rating_plan/2");
        assert_eq!(
            code(ctx.svc.upload_model(&analyst, ModelKind::Glm, "频率", v2.as_bytes()).await),
            "unsupported_version"
        );
        assert_eq!(
            code(ctx.svc.upload_model(&analyst, ModelKind::Glm, "频率", b"not json").await),
            "not_json"
        );
        assert_eq!(
            code(ctx.svc.upload_model(&analyst, ModelKind::Glm, " ", glm_file().as_bytes()).await),
            "required"
        );
        for who in [&z.ent_admin, &claims] {
            assert!(matches!(
                ctx.svc.upload_model(who, ModelKind::Glm, "频率", glm_file().as_bytes()).await,
                Err(ServiceError::Forbidden { .. })
            ));
        }
        assert_eq!(state(&ctx).await, before);

        // A GLM and a scorecard uploaded: versions per name, the contents read back.
        let m =
            ctx.svc.upload_model(&analyst, ModelKind::Glm, "出险频率", glm_file().as_bytes()).await.unwrap();
        assert_eq!((m.version, m.status), (1, ModelStatus::Submitted));
        let m2 =
            ctx.svc.upload_model(&analyst, ModelKind::Glm, "出险频率", glm_file().as_bytes()).await.unwrap();
        assert_eq!(m2.version, 2);
        let card =
            ctx.svc.upload_model(&analyst, ModelKind::Scorecard, "准入评分", sc.as_bytes()).await.unwrap();
        let shown = ctx.svc.model(&checker, &card.id).await.unwrap();
        assert!(
            matches!(&shown.contents, Some(ModelContents::Scorecard(s)) if s.variables.len() == 1 && s.variables[0].iv > 0.0)
        );
        let shown = ctx.svc.model(&checker, &m.id).await.unwrap();
        assert!(
            matches!(&shown.contents, Some(ModelContents::Glm(g)) if g.factors.len() == 1 && g.aic == Some(2500.75))
        );

        // Another insurer sees none of it; the zone's officers see every institution's.
        assert!(ctx.svc.models(&stranger).await.unwrap().is_empty());
        assert!(matches!(ctx.svc.model(&stranger, &m.id).await, Err(ServiceError::NotFound)));
        assert_eq!(ctx.svc.models(&z.regulator).await.unwrap().len(), 3);

        // A product of the insurer (its filer files rating plans).
        let filer = user(&ctx.svc, &ins.id, "filer", &[Role::ProductFiler]).await;
        let input = kebao_domain::product::ProductInput {
            type_id: "rd_liability".into(),
            name: "研发责任险".into(),
            coverages: vec![kebao_domain::product::CoverageInput {
                name: "责任".into(),
                limit_yuan: "2000000".into(),
                ..Default::default()
            }],
            premium_basis: "limit".into(),
            contact_name: "王".into(),
            contact_phone: "027-87654321".into(),
            ..Default::default()
        };
        let pid = ctx.svc.file_product(&filer, &ins.id, &input).await.unwrap();
        let plan = |args: &str| -> Vec<(String, String)> {
            args.split(',')
                .filter(|s| !s.is_empty())
                .map(|p| {
                    let (a, b) = p.split_once('=').unwrap();
                    (a.to_owned(), b.to_owned())
                })
                .collect()
        };

        // Not approved: refused; the uploader cannot approve; another person can, once.
        let before = state(&ctx).await;
        assert!(matches!(
            ctx.svc.glm_model_to_rating_plan(&filer, &m.id, &pid, "2026-01-01", &plan("Claims=claims_history"), "limit", "1", 0).await,
            Err(ServiceError::Conflict(f)) if f.code == "not_approved"
        ));
        assert!(matches!(
            ctx.svc.approve_model(&analyst, &m.id).await,
            Err(ServiceError::Conflict(f)) if f.code == "maker_checker"
        ));
        assert!(matches!(ctx.svc.approve_model(&stranger, &m.id).await, Err(ServiceError::NotFound)));
        assert_eq!(state(&ctx).await, before);
        let approved = ctx.svc.approve_model(&checker, &m.id).await.unwrap();
        assert_eq!(approved.status, ModelStatus::Approved);
        assert!(matches!(ctx.svc.approve_model(&checker, &m.id).await, Err(ServiceError::Conflict(_))));

        // Another insurer's product is refused; an unmapped factor is named.
        let before = state(&ctx).await;
        assert!(matches!(
            ctx.svc.glm_model_to_rating_plan(&filer, &m.id, &pid, "2026-01-01", &plan(""), "limit", "1", 0).await,
            Err(ServiceError::Invalid(i)) if i.0.iter().any(|f| f.code == "unmapped_factor")
        ));
        assert_eq!(state(&ctx).await, before);

        // The approved GLM becomes the product's plan: 0.02 × loading 1.0 per yuan of limit, times
        // the claims relativity; the next quote uses it.
        let filed = ctx
            .svc
            .glm_model_to_rating_plan(
                &filer,
                &m.id,
                &pid,
                "2026-01-01",
                &plan("Claims=claims_history"),
                "limit",
                "1",
                100,
            )
            .await
            .unwrap();
        assert_eq!(filed.version, 1);
        ctx.svc.submit_product(&filer, &pid).await.unwrap();
        let items: Vec<String> =
            kebao_domain::product::CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect();
        ctx.svc.set_product_checklist(&z.reviewer, &pid, &items).await.unwrap();
        ctx.svc.review_product(&z.reviewer, &pid, &kebao_service::products::Review::Approve).await.unwrap();
        ctx.svc.publish_product(&filer, &pid).await.unwrap();
        let q = QuoteInput { limit: Money::from_fen(10_000_000), claims_3y: 1, ..Default::default() };
        let quote = ctx.svc.quote(&z.ent_admin, &pid, &q, Some("2026-06-01")).await.unwrap();
        assert_eq!(quote.quote.premium, Money::from_fen(300_000), "0.02 × 100,000 yuan × 1.5");
        assert_eq!(quote.plan_version, filed.version);

        // Retired: kept, no longer usable.
        ctx.svc.retire_model(&checker, &m.id).await.unwrap();
        assert!(matches!(
            ctx.svc.glm_model_to_rating_plan(&filer, &m.id, &pid, "2026-02-01", &plan("Claims=claims_history"), "limit", "1", 0).await,
            Err(ServiceError::Conflict(f)) if f.code == "not_approved"
        ));
        assert_eq!(ctx.svc.model(&analyst, &m.id).await.unwrap().status, ModelStatus::Retired);
    }
);
