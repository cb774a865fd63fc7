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

contract!(
    an_insurer_extracts_its_claims_fits_a_glm_in_the_platform_and_a_second_person_approves_it,
    |ctx: Ctx| async move {
        use kebao_domain::claim::ClaimInput;
        use kebao_service::jobs::JobRunner;
        use kebao_service::lab_data::{ExtractRequest, FitRequest};
        let z = zone(&ctx.svc).await;
        let op = operator();
        let ins = ctx
            .svc
            .create_org(&op, &org_input("楚天财产保险股份有限公司", &uscc(40), "insurer"))
            .await
            .unwrap();
        let filer = user(&ctx.svc, &ins.id, "filer", &[Role::ProductFiler]).await;
        let analyst = user(&ctx.svc, &ins.id, "analyst", &[Role::Underwriter]).await;
        let checker = user(&ctx.svc, &ins.id, "checker", &[Role::OrgAdmin]).await;
        let other = ctx
            .svc
            .create_org(&op, &org_input("江城科技保险股份有限公司", &uscc(41), "insurer"))
            .await
            .unwrap();
        let stranger = user(&ctx.svc, &other.id, "stranger", &[Role::OrgAdmin]).await;
        let pid = crate::subsidies::product(&ctx, &z, &ins.id, &filer, "rd_liability").await;

        // A book of 40 policies from today: life sciences and optoelectronics, one claim on
        // every second life-science policy (10) and every fifth optoelectronics one (4).
        let today = ctx.svc.today().to_string();
        let mut policies = Vec::new();
        for i in 0..40 {
            let industry = if i % 2 == 0 { "bio" } else { "optoelectronics" };
            let q = QuoteInput {
                limit: Money::from_fen(100_000_000),
                industry: Some(industry.into()),
                ..Default::default()
            };
            let a = ctx
                .svc
                .apply_for_policy_with(&z.ent_admin, &pid, &q, &today, &Default::default())
                .await
                .unwrap();
            let p = ctx
                .svc
                .my_policies(&z.ent_admin)
                .await
                .unwrap()
                .into_iter()
                .find(|p| p.application_id == a.id)
                .unwrap();
            policies.push((p.id, industry, i));
        }
        ctx.clock.advance_us(200 * 86_400_000_000);
        let loss = (ctx.svc.today() - time::Duration::days(30)).to_string();
        for (id, industry, i) in &policies {
            let claim = (*industry == "bio" && i % 4 == 0) || (*industry == "optoelectronics" && i % 12 == 1);
            if claim {
                ctx.svc
                    .report_claim(
                        &z.ent_admin,
                        id,
                        &ClaimInput::new(&loss, "试验设备意外故障停机", Money::from_fen(500_000)),
                    )
                    .await
                    .unwrap();
            }
        }

        // Without a lawful basis, a purpose, or (for personal lines) an impact assessment:
        // refused, nothing queued.
        let before = state(&ctx).await;
        let code = |r: Result<_, ServiceError>| match r {
            Err(ServiceError::Invalid(i)) => i.0.iter().map(|f| f.code.to_owned()).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let ask = |kind: &str, purpose: &str, personal: bool| ExtractRequest {
            kind: kind.into(),
            purpose: purpose.into(),
            include_personal: personal,
            ..Default::default()
        };
        assert_eq!(code(ctx.svc.request_extract(&analyst, &ask("loans", "定价", false)).await), ["no_basis"]);
        assert_eq!(
            code(ctx.svc.request_extract(&z.banker, &ask("claims", "授信", false)).await),
            ["no_basis"]
        );
        assert!(code(ctx.svc.request_extract(&analyst, &ask("claims", " ", false)).await)
            .contains(&"required".to_owned()));
        assert!(code(ctx.svc.request_extract(&analyst, &ask("claims", "定价", true)).await)
            .contains(&"assessment_required".to_owned()));
        assert!(matches!(
            ctx.svc.request_extract(&z.ent_admin, &ask("claims", "定价", false)).await,
            Err(ServiceError::Forbidden { .. })
        ));
        assert_eq!(state(&ctx).await, before);
        assert!(JobRunner::new(ctx.svc.clone()).run_once().await.unwrap().is_none(), "nothing was queued");

        // The extract: a job, then an event; one row per policy-year, the claims counted.
        ctx.svc.request_extract(&analyst, &ask("claims", "2027 年研发责任险费率厘定", false)).await.unwrap();
        assert!(matches!(
            ctx.svc.request_extract(&analyst, &ask("claims", "再来一次", false)).await,
            Err(ServiceError::Conflict(f)) if f.code == "job_pending"
        ));
        let ended = JobRunner::new(ctx.svc.clone()).run_once().await.unwrap().unwrap();
        assert_eq!(ended.state, kebao_domain::job::JobState::Succeeded, "{:?}", ended.failure);
        let extracts = ctx.svc.extracts(&analyst).await.unwrap();
        assert_eq!(extracts.len(), 1);
        let e = &extracts[0];
        assert_eq!((e.rows, e.left_personal, e.left_unended), (40, 0, 0));
        assert_eq!(e.basis, kebao_service::lab_data::ExtractBasis::OwnBook);
        let (_, csv) = ctx.svc.extract_file(&analyst, &e.id).await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 41);
        assert!(lines[0].starts_with("policy_ref,policy_year,"));
        let claims: u32 =
            lines[1..].iter().map(|l| l.split(',').nth(14).unwrap().parse::<u32>().unwrap()).sum();
        assert_eq!(claims, 10 + 4, "ten life-science claims, four optoelectronics ones");
        assert!(!csv.contains(&policies[0].0), "policies appear under references only");
        // Another insurer sees nothing; the zone's officers see it.
        assert!(ctx.svc.extracts(&stranger).await.unwrap().is_empty());
        assert!(matches!(ctx.svc.extract_file(&stranger, &e.id).await, Err(ServiceError::NotFound)));
        assert_eq!(ctx.svc.extracts(&z.reviewer).await.unwrap().len(), 1);

        // A fit: unknown variables and another insurer's extract are refused.
        let fit = |extract: &str, vars: &[&str]| FitRequest {
            extract_id: extract.into(),
            name: "研发责任出险频率".into(),
            variables: vars.iter().map(|v| (*v).to_owned()).collect(),
            l2: String::new(),
        };
        let before = state(&ctx).await;
        assert_eq!(
            code(ctx.svc.request_fit(&analyst, &fit(&e.id, &["claim_count"])).await),
            ["unknown_variable"]
        );
        assert_eq!(code(ctx.svc.request_fit(&analyst, &fit(&e.id, &[])).await), ["no_variables"]);
        assert_eq!(
            code(ctx.svc.request_fit(&stranger, &fit(&e.id, &["industry"])).await),
            ["unknown_extract"]
        );
        assert_eq!(state(&ctx).await, before);

        // Fitted in the platform: a Poisson GLM on industry, stored awaiting approval.
        ctx.svc.request_fit(&analyst, &fit(&e.id, &["industry"])).await.unwrap();
        let ended = JobRunner::new(ctx.svc.clone()).run_once().await.unwrap().unwrap();
        assert_eq!(ended.state, kebao_domain::job::JobState::Succeeded, "{:?}", ended.failure);
        let models = ctx.svc.models(&checker).await.unwrap();
        assert_eq!(models.len(), 1);
        let m = ctx.svc.model(&checker, &models[0].id).await.unwrap();
        assert_eq!((m.kind, m.status), (ModelKind::Glm, ModelStatus::Submitted));
        assert_eq!(m.training_sha256.as_deref(), Some(e.sha256.as_str()));
        let Some(ModelContents::Glm(g)) = &m.contents else { panic!("{m:?}") };
        assert_eq!(g.family, "poisson");
        assert_eq!(g.n_obs, 40);
        let opto = g.factors[0].2.iter().find(|l| l.level == "optoelectronics").unwrap();
        // Ten claims on twenty life-science policies, four on twenty optoelectronics ones, same exposure.
        assert!((opto.relativity.unwrap() - 0.4).abs() < 1e-6, "{opto:?}");

        // Maker-checker: the analyst who asked for the fit cannot approve it; the checker does,
        // and it becomes the product's rating plan.
        assert!(matches!(
            ctx.svc.approve_model(&analyst, &m.id).await,
            Err(ServiceError::Conflict(f)) if f.code == "maker_checker"
        ));
        ctx.svc.approve_model(&checker, &m.id).await.unwrap();
        let from = (ctx.svc.today() + time::Duration::days(1)).to_string();
        let filed = ctx
            .svc
            .glm_model_to_rating_plan(
                &filer,
                &m.id,
                &pid,
                &from,
                &[("industry".to_owned(), "industry".to_owned())],
                "limit",
                "0.1",
                100,
            )
            .await
            .unwrap();
        assert_eq!(filed.version, 2);
    }
);

/// A scorecard on R&D intensity: low ratios default more often.
fn rnd_scorecard(variable: &str) -> String {
    use kebao_scorecard::{Column, Frame, Scorecard, ScorecardOptions};
    let n = 2000;
    let x: Vec<f64> = (0..n).map(|i| f64::from(i % 100) / 500.0).collect();
    let y: Vec<f64> =
        (0..n).map(|i| if ((i % 100) < 20 && i % 3 != 0) || i % 17 == 0 { 1.0 } else { 0.0 }).collect();
    let frame = Frame { columns: vec![Column::Numeric { name: variable.into(), values: x }] };
    Scorecard::fit(&frame, &y, &ScorecardOptions::default()).unwrap().to_json()
}

contract!(
    a_bank_s_approved_scorecard_advises_a_loan_admission_seen_only_by_the_bank_and_the_borrower,
    |ctx: Ctx| async move {
        use kebao_service::lab_scores::AdmissionDecision;
        let l = crate::loans::lending(&ctx).await;
        let banker = l.z.banker.clone();
        let checker = user(&ctx.svc, &l.z.bank, "bank.checker", &[Role::OrgAdmin]).await;
        let card = ctx
            .svc
            .upload_model(&banker, ModelKind::Scorecard, "科技贷准入", rnd_scorecard("rnd_ratio").as_bytes())
            .await
            .unwrap();
        let foreign = ctx
            .svc
            .upload_model(&banker, ModelKind::Scorecard, "负债率", rnd_scorecard("debt_ratio").as_bytes())
            .await
            .unwrap();
        let loan = ctx.svc.apply_loan(&l.borrower, &l.ent, &crate::loans::ask(&l, "1000000")).await.unwrap();

        // Refusals change nothing: no rule yet; a model not approved; crossed cut-offs; inputs
        // the platform cannot provide; the zone deciding with scores.
        let before = state(&ctx).await;
        assert!(matches!(
            ctx.svc.score_loan(&banker, &loan.id).await,
            Err(ServiceError::Conflict(f)) if f.code == "no_rule"
        ));
        assert!(matches!(
            ctx.svc.set_admission_rule(&banker, &card.id, "620", "560").await,
            Err(ServiceError::Conflict(f)) if f.code == "not_approved"
        ));
        assert_eq!(state(&ctx).await, before);
        ctx.svc.approve_model(&checker, &card.id).await.unwrap();
        ctx.svc.approve_model(&checker, &foreign.id).await.unwrap();
        let officer = user(&ctx.svc, l.approver.org_id().unwrap(), "zone.lab", &[Role::ZoneReviewer]).await;
        let before = state(&ctx).await;
        let code = |r: Result<_, ServiceError>| match r {
            Err(ServiceError::Invalid(i)) => i.0[0].code.to_owned(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            code(ctx.svc.set_admission_rule(&banker, &card.id, "500", "560").await),
            "cutoffs_crossed"
        );
        assert_eq!(
            code(ctx.svc.set_admission_rule(&banker, &foreign.id, "620", "560").await),
            "unknown_inputs"
        );
        assert_eq!(code(ctx.svc.set_admission_rule(&officer, &card.id, "620", "560").await), "no_admission");
        assert_eq!(state(&ctx).await, before);

        // In force: the bank's reviewer scores the application; the insurer's underwriter may not.
        let rule = ctx.svc.set_admission_rule(&banker, &card.id, "620", "560").await.unwrap();
        assert_eq!(rule.model.id, card.id);
        assert!(matches!(
            ctx.svc.score_loan(&l.underwriter, &loan.id).await,
            Err(ServiceError::Forbidden { .. })
        ));
        let s = ctx.svc.score_loan(&banker, &loan.id).await.unwrap();
        assert_eq!(s.model_version, 1);
        assert!(s.inputs.iter().any(|(k, v)| k == "rnd_ratio" && v == "0.0750"), "{:?}", s.inputs);
        let expected = if s.score >= 620.0 {
            AdmissionDecision::Accept
        } else if s.score < 560.0 {
            AdmissionDecision::Decline
        } else {
            AdmissionDecision::Refer
        };
        assert_eq!(s.decision, Some(expected));
        assert!(s.probability > 0.0 && s.probability < 1.0);

        // A score belongs to its owner: the bank and the borrower see it; the insurer and the zone do not.
        assert_eq!(ctx.svc.loan_scores(&banker, &loan.id).await.unwrap().len(), 1);
        assert_eq!(ctx.svc.loan_scores(&l.borrower, &loan.id).await.unwrap().len(), 1);
        assert_eq!(ctx.svc.my_scores(&l.borrower).await.unwrap()[0].id, s.id);
        assert!(ctx.svc.loan_scores(&l.underwriter, &loan.id).await.unwrap().is_empty());
        assert!(ctx.svc.loan_scores(&l.z.reviewer, &loan.id).await.unwrap().is_empty());
        // The enterprise's unified view lists it (with the bank's name and the model).
        let v = ctx.svc.unified_view(&l.borrower, &l.ent, None).await.unwrap();
        let section = v.sections.iter().find(|x| x.key == "scores").unwrap();
        assert_eq!(section.rows.len(), 1);
        assert!(section.rows[0].cells[1].zh.contains("科技贷准入"), "{:?}", section.rows[0].cells);

        // A retired model scores nothing.
        ctx.svc.retire_model(&checker, &card.id).await.unwrap();
        let before = state(&ctx).await;
        assert!(matches!(
            ctx.svc.score_loan(&banker, &loan.id).await,
            Err(ServiceError::Conflict(f)) if f.code == "not_approved"
        ));
        assert_eq!(state(&ctx).await, before);
    }
);

contract!(
    the_zone_s_lab_batch_scores_every_enterprise_in_one_job_and_monitoring_alerts_its_owner,
    |ctx: Ctx| async move {
        use kebao_service::jobs::JobRunner;
        use kebao_service::lab_monitor::DriftLevel;
        let l = crate::loans::lending(&ctx).await;
        let gov = l.approver.org_id().unwrap().to_owned();
        let analyst = user(&ctx.svc, &gov, "zone.analyst", &[Role::ZoneReviewer]).await;
        let card = ctx
            .svc
            .upload_model(
                &analyst,
                ModelKind::Scorecard,
                "示范区风险评估",
                rnd_scorecard("rnd_ratio").as_bytes(),
            )
            .await
            .unwrap();
        let lending_only = ctx
            .svc
            .upload_model(&analyst, ModelKind::Scorecard, "贷款额", rnd_scorecard("amount_yuan").as_bytes())
            .await
            .unwrap();

        // Not approved, or scoring on what an enterprise's registered facts do not hold: refused.
        let before = state(&ctx).await;
        assert!(matches!(
            ctx.svc.request_batch_score(&analyst, &card.id).await,
            Err(ServiceError::Conflict(f)) if f.code == "not_approved"
        ));
        ctx.svc.approve_model(&l.approver, &lending_only.id).await.unwrap();
        let after_approval = state(&ctx).await;
        assert!(matches!(
            ctx.svc.request_batch_score(&analyst, &lending_only.id).await,
            Err(ServiceError::Invalid(i)) if i.0[0].code == "unknown_inputs"
        ));
        assert_eq!(state(&ctx).await, after_approval);
        assert_ne!(before, after_approval);
        ctx.svc.approve_model(&l.approver, &card.id).await.unwrap();

        // One job scores every registered enterprise; one event records all of its scores (the
        // thresholds first set so high that no alert follows).
        ctx.svc.set_monitoring_thresholds(&analyst, &card.id, "100", "100").await.unwrap();
        ctx.svc.request_batch_score(&analyst, &card.id).await.unwrap();
        let (_, events_before) = state(&ctx).await;
        let ended = JobRunner::new(ctx.svc.clone()).run_once().await.unwrap().unwrap();
        assert_eq!(ended.state, kebao_domain::job::JobState::Succeeded, "{:?}", ended.failure);
        let Some(kebao_domain::job::JobResult::BatchScored { scored, .. }) = ended.result else { panic!() };
        let enterprises = ctx
            .svc
            .list_orgs(
                &operator(),
                &kebao_domain::org::OrgFilter {
                    kind: Some(kebao_domain::org::OrgKind::Enterprise),
                    ..Default::default()
                },
                None,
                1,
            )
            .await
            .unwrap()
            .total;
        assert_eq!(scored, enterprises);
        let (_, events_after) = state(&ctx).await;
        assert_eq!(
            events_after,
            events_before + 2,
            "one event for all the scores (lab.batch_scored) and the job's own end, none per score"
        );

        // Monitoring: the first month is the baseline; tight thresholds make the training
        // bins' distance an alert, which opens a to-do for the zone's reviewers.
        let mon = ctx.svc.model_monitoring(&analyst, &card.id).await.unwrap();
        assert_eq!(mon.months.len(), 1);
        assert_eq!(mon.months[0].scored, scored);
        assert!(mon.months[0].psi.is_none());
        assert_eq!(mon.months[0].csi[0].0, "rnd_ratio");
        assert!(matches!(
            ctx.svc.set_monitoring_thresholds(&analyst, &card.id, "0.3", "0.2").await,
            Err(ServiceError::Invalid(i)) if i.0[0].code == "crossed"
        ));
        ctx.svc.set_monitoring_thresholds(&analyst, &card.id, "0.0001", "0.0002").await.unwrap();
        ctx.clock.advance_us(40 * 86_400_000_000);
        ctx.svc.request_batch_score(&analyst, &card.id).await.unwrap();
        JobRunner::new(ctx.svc.clone()).run_once().await.unwrap().unwrap();
        let mon = ctx.svc.model_monitoring(&analyst, &card.id).await.unwrap();
        assert_eq!(mon.months.len(), 2);
        assert!(mon.months[1].psi.unwrap() < 1e-9, "the same enterprises score the same");
        assert_eq!(mon.months[1].level, DriftLevel::Alert);
        let inbox = ctx.svc.inbox(&analyst).await.unwrap();
        assert!(
            inbox.todos.iter().any(|t| t.kind == "lab_drift" && t.subject == card.id),
            "{:?}",
            inbox.todos
        );
        // Another institution sees neither the model nor its monitoring.
        assert!(matches!(ctx.svc.model_monitoring(&l.z.banker, &card.id).await, Err(ServiceError::NotFound)));

        // The credit report's scores: only under a consent that covers scores, only the zone
        // lab's assessment, and only once the zone's approvers turn it on.
        let c = kebao_domain::consent::ConsentInput {
            grantee_id: l.z.bank.clone(),
            scopes: vec!["scores".into()],
            purpose: "loan_review".into(),
            valid_from: ctx.svc.today().to_string(),
            expires_on: (ctx.svc.today() + time::Duration::days(300)).to_string(),
            signer_name: "陈明".into(),
            signer_title: "法定代表人".into(),
            ..Default::default()
        };
        ctx.svc.grant_consent(&l.borrower, &l.ent, &c, "授权书.pdf", b"%PDF-1.7 consent").await.unwrap();
        let scores = |r: &kebao_service::consent::CreditReport| -> Vec<String> {
            r.sections
                .iter()
                .filter(|s| s.scope == kebao_domain::consent::DataScope::Scores)
                .flat_map(|s| s.fields.iter().flat_map(|f| f.3.iter().map(|l| l.zh.clone())))
                .collect()
        };
        let purpose = kebao_domain::consent::Purpose::LoanReview;
        let r = ctx.svc.credit_report(&l.z.banker, &l.ent, purpose).await.unwrap();
        assert!(scores(&r).is_empty(), "off by default: {:?}", scores(&r));
        use kebao_domain::lab::ZoneSwitch;
        assert!(matches!(
            ctx.svc.set_zone_switch(&analyst, ZoneSwitch::LabScoresInCreditReport, true).await,
            Err(ServiceError::Forbidden { .. })
        ));
        ctx.svc.set_zone_switch(&l.approver, ZoneSwitch::LabScoresInCreditReport, true).await.unwrap();
        let r = ctx.svc.credit_report(&l.z.banker, &l.ent, purpose).await.unwrap();
        let lines = scores(&r);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains("示范区风险评估")
                && lines[0].contains("第 1 版")
                && lines[0].contains("非征信机构评分"),
            "{lines:?}"
        );
    }
);
