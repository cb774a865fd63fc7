//! `kebao demo`: a synthetic zone with years of activity and the showcase every role's day
//! starts from (demo logins, a policy in mediation, subsidy applications in every state,
//! consents with a refused query). Wiring stays in `main.rs`.

use super::*;

/// An illustrative rating plan for a demo product: base rates by line are invented for the
/// demo (no tariff is confirmed in the catalogue) and labelled so on the pages that matter.
pub(crate) fn demo_plan(
    cat: &kebao_domain::catalogue::Catalogue,
    type_id: &str,
) -> kebao_domain::rating::PlanDoc {
    use kebao_domain::catalogue::ProductLine as L;
    use kebao_domain::rating::{Band, FactorTable, PlanDoc, RateBasis, RatingVariable as V};
    let line = cat.get(type_id).map(|t| t.product_line()).unwrap_or(L::Composite);
    let base = match line {
        L::Property => "0.0025",
        L::Liability => "0.006",
        L::Surety | L::Credit => "0.012",
        L::Health => "0.03",
        L::Accident => "0.004",
        L::Ip => "0.02",
        L::Composite => "0.01",
    };
    let lv = |pairs: &[(&str, &str)]| pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
    PlanDoc {
        basis: RateBasis::Limit,
        base: base.into(),
        size_bands: vec![
            Band { key: "micro".into(), up_to_yuan: Some(5_000_000) },
            Band { key: "small".into(), up_to_yuan: Some(50_000_000) },
            Band { key: "medium".into(), up_to_yuan: Some(500_000_000) },
            Band { key: "large".into(), up_to_yuan: None },
        ],
        limit_bands: vec![],
        deductible_bands: vec![],
        factors: vec![
            FactorTable {
                variable: V::SizeBand,
                levels: lv(&[("micro", "0.85"), ("small", "0.95"), ("medium", "1"), ("large", "1.1")]),
                default: None,
            },
            FactorTable {
                variable: V::ClaimsHistory,
                levels: lv(&[("0", "0.9"), ("1", "1.15"), ("2+", "1.4")]),
                default: None,
            },
        ],
        min_premium_yuan: 2_000,
        max_premium_yuan: None,
        factor_floor: Some("0.7".into()),
        factor_cap: Some("1.5".into()),
        underwriting: kebao_domain::policy::UnderwritingRules {
            auto_accept_max_limit_yuan: Some(5_000_000),
            decline_claims_3y: Some(4),
            refer_if_claims: true,
        },
    }
}

async fn seed_products(svc: &Service, zone: &kebao_sim::Zone, seed: u64) -> Result<()> {
    use kebao_service::products::Review;
    use kebao_sim::products::Outcome;
    let demo = Actor::System { name: "demo".into() };
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{}", cli_error(&e));
    // Hubei branches file locally; the demo filer's branch first.
    let mut insurers: Vec<(String, String)> = zone
        .orgs
        .iter()
        .filter(|o| o.org.kind == "insurer" && o.org.name.ends_with("湖北分公司"))
        .map(|o| (o.org.uscc.clone(), o.org.name.clone()))
        .collect();
    if let Some(u) = zone.users.iter().find(|u| u.username == "ins.filer") {
        insurers.sort_by_key(|(uscc, _)| *uscc != u.org_uscc);
    }
    let filings = kebao_sim::products::filings(seed, &svc.catalogue(), &insurers);
    // The demo's own filer and reviewer act where they can, so their pages show their names.
    let as_user = |name: &'static str| async move {
        match svc.find_user(name).await {
            Ok(u) => svc.actor_for(u).await.ok(),
            Err(_) => None,
        }
    };
    let reviewer = as_user("zone.reviewer").await.unwrap_or_else(|| demo.clone());
    let filer = as_user("ins.filer").await;
    let pb = bar(filings.len() as u64, "filings");
    let all_items: Vec<String> =
        kebao_domain::product::CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect();
    for f in &filings {
        let insurer = svc.org_id_by_uscc(&demo, &f.insurer_uscc).await.map_err(err)?;
        let Some(insurer) = insurer else { bail!("demo insurer {} is missing", f.insurer_uscc) };
        let by = match &filer {
            Some(a) if a.org_id() == Some(insurer.as_str()) => a.clone(),
            _ => demo.clone(),
        };
        let id = svc.file_product(&by, &insurer, &f.input).await.map_err(err)?;
        svc.add_product_document(&by, &id, &f.document.0, &f.document.1).await.map_err(err)?;
        // A product is approved for quoting only with a rating plan on file.
        let approve = |id: String| {
            let items = all_items.clone();
            let (by, reviewer) = (by.clone(), reviewer.clone());
            let plan = demo_plan(&svc.catalogue(), &f.input.type_id);
            async move {
                // In force from the day it is filed (the demo's activity starts then).
                svc.file_rating_plan(&by, &id, &svc.today().to_string(), plan).await?;
                svc.submit_product(&by, &id).await?;
                svc.set_product_checklist(&reviewer, &id, &items).await?;
                svc.review_product(&reviewer, &id, &Review::Approve).await?;
                svc.publish_product(&by, &id).await?;
                Ok::<_, kebao_service::ServiceError>(())
            }
        };
        let demo = by.clone();
        match f.outcome {
            Outcome::Draft => {}
            Outcome::InReview => svc.submit_product(&demo, &id).await.map_err(err)?,
            Outcome::ChangesRequested => {
                svc.submit_product(&demo, &id).await.map_err(err)?;
                svc.review_product(&reviewer, &id, &Review::RequestChanges { reason: f.reason.clone() })
                    .await
                    .map_err(err)?;
            }
            Outcome::Rejected => {
                svc.submit_product(&demo, &id).await.map_err(err)?;
                svc.review_product(&reviewer, &id, &Review::Reject { reason: f.reason.clone() })
                    .await
                    .map_err(err)?;
            }
            Outcome::Published => approve(id.clone()).await.map_err(err)?,
            Outcome::Withdrawn => {
                approve(id.clone()).await.map_err(err)?;
                svc.withdraw_product(&demo, &id).await.map_err(err)?;
            }
            Outcome::PublishedWithNewVersion => {
                approve(id.clone()).await.map_err(err)?;
                svc.new_product_version(&demo, &id).await.map_err(err)?;
                svc.submit_product(&demo, &id).await.map_err(err)?;
            }
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    for a in kebao_sim::products::articles() {
        svc.create_article(&reviewer, a.kind, a.title, a.body_md, true).await.map_err(err)?;
    }
    outln!("demo products: {} filings by {} insurers", filings.len(), insurers.len());
    Ok(())
}

/// The demo enterprise's applications: one bound by the insurer's rules (premium partly
/// received), one waiting in `ins.underwriter`'s queue.
async fn seed_policies(svc: &Service) -> Result<()> {
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{}", cli_error(&e));
    let actor = |name: &'static str| async move {
        let u = svc.find_user(name).await?;
        svc.actor_for(u).await
    };
    let ent = actor("ent.admin").await.map_err(err)?;
    let uw = actor("ins.underwriter").await.map_err(err)?;
    let admin = actor("ins.admin").await.map_err(err)?;
    svc.set_underwriter_authority(&admin, "ins.underwriter", 10_000_000).await.map_err(err)?;
    // Where its policyholders pay (shown on every policy page with premium due).
    let insurer = admin.org_id().unwrap_or_default().to_owned();
    let name = svc.get_org(&admin, &insurer).await.map_err(err)?.org.name;
    let account = kebao_domain::policy::CollectionAccount {
        bank: "中国工商银行武汉东湖开发区支行".into(),
        account_name: name,
        account_no: "3202 0261 0900 0018 826".into(),
        note: String::new(),
    };
    svc.set_collection_account(&admin, &insurer, &account).await.map_err(err)?;
    let portal = svc
        .portal(&kebao_service::products::PortalQuery { per_page: 100, ..Default::default() })
        .await
        .map_err(err)?;
    let mine = uw.org_id().unwrap_or_default().to_owned();
    let mut quoted = Vec::new();
    for it in &portal.items {
        let has_plan = svc
            .rating_plans(&kebao_service::authz::Actor::System { name: "demo".into() }, &it.product.id)
            .await
            .map(|p| !p.is_empty())
            .unwrap_or(false);
        // Only products the demo enterprise is eligible for (industries, stages, qualifications).
        let eligible = svc.eligibility_for(&ent, &it.version.content.eligibility).await.is_ok();
        if has_plan && eligible {
            quoted.push((it.product.id.clone(), it.product.insurer_id == mine));
        }
    }
    let start = (svc.today() + time::Duration::days(3)).to_string();
    let q = |limit: i64| kebao_domain::rating::QuoteInput {
        limit: kebao_domain::Money::from_fen(limit * 100),
        revenue: kebao_domain::Money::from_fen(3_000_000_000),
        ..Default::default()
    };
    // Bound by the rules (within 5,000,000 yuan), on the demo insurer's product if it has one.
    let first = quoted.iter().find(|(_, m)| *m).or(quoted.first()).map(|(id, _)| id.clone());
    if let Some(pid) = first {
        svc.apply_for_policy(&ent, &pid, &q(2_000_000), &start).await.map_err(err)?;
        // Referred: over the auto-accept limit.
        svc.apply_for_policy(&ent, &pid, &q(8_000_000), &start).await.map_err(err)?;
        if let Some(p) = svc.my_policies(&ent).await.map_err(err)?.first() {
            if p.insurer_id == mine {
                svc.record_premium_paid(
                    &uw,
                    &p.id,
                    kebao_domain::Money::from_fen(p.premium.fen() / 2),
                    "DEMO-BANK-0001",
                )
                .await
                .map_err(err)?;
            }
        }
    }
    if let Some(pid) = quoted.iter().find(|(_, m)| *m).map(|(id, _)| id.clone()) {
        seed_policy_life(svc, &pid, &ent, &uw, &admin).await?;
    }
    outln!("demo policies: one bound, one referred to ins.underwriter, one endorsed and co-insured with a paid claim in mediation, one cancelled with its refund paid");
    Ok(())
}

/// Cover that has lived a little: a policy starting today, paid, endorsed, co-insured,
/// with a claim (documents, reserve, partial payment) and a complaint taken to mediation;
/// and a policy cancelled by the enterprise with its refund paid.
async fn seed_policy_life(
    svc: &Service,
    pid: &str,
    ent: &kebao_service::authz::Actor,
    uw: &kebao_service::authz::Actor,
    admin: &kebao_service::authz::Actor,
) -> Result<()> {
    use kebao_domain::Money;
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{}", cli_error(&e));
    let actor = |name: &'static str| async move {
        let u = svc.find_user(name).await?;
        svc.actor_for(u).await
    };
    let claims = actor("ins.claims").await.map_err(err)?;
    let mediator = actor("mediator").await.map_err(err)?;
    let today = svc.today().to_string();
    let q = |limit: i64| kebao_domain::rating::QuoteInput {
        limit: Money::from_fen(limit * 100),
        revenue: Money::from_fen(3_000_000_000),
        ..Default::default()
    };
    let bind = |limit: i64| {
        let today = today.clone();
        async move {
            let a = svc.apply_for_policy(ent, pid, &q(limit), &today).await.map_err(err)?;
            let p = svc.my_policies(ent).await.map_err(err)?.into_iter().find(|p| p.application_id == a.id);
            p.ok_or_else(|| anyhow::anyhow!("demo: the application for {limit} yuan was not bound"))
        }
    };
    let p = bind(1_000_000).await?;
    svc.record_premium_paid(uw, &p.id, p.premium, "DEMO-BANK-0002").await.map_err(err)?;
    svc.endorse_policy(admin, &p.id, &q(1_500_000), &today, "企业新增研发项目，提高责任限额")
        .await
        .map_err(err)?;
    let op = kebao_service::authz::Actor::System { name: "demo".into() };
    let filter =
        kebao_domain::org::OrgFilter { kind: Some(kebao_domain::OrgKind::Insurer), ..Default::default() };
    let other = svc
        .list_orgs(&op, &filter, None, 100)
        .await
        .map_err(err)?
        .items
        .into_iter()
        .find(|o| Some(o.id.as_str()) != uw.org_id() && o.parent_id.is_none());
    if let Some(o) = other {
        svc.set_coinsurance(admin, &p.id, &[(o.id, 3_000)]).await.map_err(err)?;
    }
    let c = svc
        .report_claim(
            ent,
            &p.id,
            &kebao_domain::claim::ClaimInput::new(
                &today,
                "中试线调试时样机过热起火，波及合作方租用的检测设备",
                Money::from_fen(32_000_000),
            ),
        )
        .await
        .map_err(err)?;
    svc.add_claim_document(
        ent,
        &c.id,
        "出险经过说明.txt",
        "中试线样机过热起火，现场照片与消防记录另附。".as_bytes(),
    )
    .await
    .map_err(err)?;
    svc.assign_claim(&claims, &c.id).await.map_err(err)?;
    svc.set_claim_reserve(&claims, &c.id, Money::from_fen(30_000_000)).await.map_err(err)?;
    svc.decide_claim(
        &claims,
        &c.id,
        kebao_domain::claim::ClaimOutcome::Partial,
        Money::from_fen(24_000_000),
        "检测设备租赁损失按合同约定的赔偿限额计算，停工损失不属保险责任",
    )
    .await
    .map_err(err)?;
    svc.pay_claim(&claims, &c.id, Money::from_fen(24_000_000), "DEMO-CLM-0001").await.map_err(err)?;
    let d = svc.complain(ent, &c.id, "停工损失系事故直接导致，请求调解").await.map_err(err)?;
    svc.take_dispute(&mediator, &d.id).await.map_err(err)?;
    svc.record_session(&mediator, &d.id, &today, "双方到场陈述，保险机构同意复核停工损失凭证")
        .await
        .map_err(err)?;
    // Cancelled by the enterprise the day cover starts: the filed method returns the rest.
    let p2 = bind(500_000).await?;
    svc.record_premium_paid(uw, &p2.id, p2.premium, "DEMO-BANK-0003").await.map_err(err)?;
    let out = svc.cancel_policy(ent, &p2.id, &today, "项目终止，不再需要该保障").await.map_err(err)?;
    if out.refund_fen > 0 {
        svc.record_refund_paid(uw, &p2.id, Money::from_fen(out.refund_fen), "DEMO-REFUND-0001")
            .await
            .map_err(err)?;
    }
    Ok(())
}

/// The demo enterprise's current high-tech certificate (its registry data dates from before the
/// generated years, and the showcase's products and subsidies ask for a valid one).
async fn seed_certificate(svc: &Service) -> Result<()> {
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{}", cli_error(&e));
    let u = svc.find_user("ent.admin").await.map_err(err)?;
    let ent = svc.actor_for(u).await.map_err(err)?;
    let org = ent.org_id().unwrap_or_default().to_owned();
    let q = kebao_domain::org::Qualification {
        kind: kebao_domain::org::QualificationKind::HighTech,
        valid_from: svc.today() - time::Duration::days(300),
        valid_to: svc.today() + time::Duration::days(800),
        certificate_no: Some("GR202542010088".into()),
    };
    svc.add_qualification(&ent, &org, q).await.map_err(err)?;
    Ok(())
}

/// The demo enterprise's consents, external credit records, a bank's read and a refused
/// attempt, so that the consent pages and "who looked at my data" have something to show.
async fn seed_consents(svc: &Service, zone: &kebao_sim::Zone) -> Result<()> {
    use kebao_domain::consent::{ConsentInput, Purpose};
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{}", cli_error(&e));
    let actor = |name: &'static str| async move {
        let u = svc.find_user(name).await?;
        svc.actor_for(u).await
    };
    let ent = actor("ent.admin").await.map_err(err)?;
    let bank = actor("bank.officer").await.map_err(err)?;
    let guarantor = actor("guarantor.officer").await.map_err(err)?;
    let ent_id = ent.org_id().unwrap_or_default().to_owned();
    let ent_uscc =
        zone.users.iter().find(|u| u.username == "ent.admin").map(|u| u.org_uscc.clone()).unwrap_or_default();
    let op = Actor::System { name: "demo".into() };
    let rec =
        |kind: &str, title: &str, detail: &str, on: &str, person: &str| kebao_service::consent::RecordInput {
            uscc: ent_uscc.clone(),
            kind: kind.into(),
            title: title.into(),
            detail: detail.into(),
            occurred_on: on.into(),
            person_name: person.into(),
        };
    struct Src(&'static str, Vec<kebao_service::consent::RecordInput>);
    impl kebao_service::consent::CreditSource for Src {
        fn source(&self) -> &str {
            self.0
        }
        fn records(&self) -> std::result::Result<Vec<kebao_service::consent::RecordInput>, String> {
            Ok(self.1.clone())
        }
    }
    let sources = [
        Src(
            "provincial_credit",
            vec![
                rec("legal_representative", "法定代表人", "张伟（董事长）", "2019-03-12", ""),
                rec("honour", "守合同重信用企业", "湖北省市场监督管理局公示（演示）", "2024-06-30", ""),
                rec("loan", "流动资金贷款", "汉江银行，500 万元，已按期结清（演示）", "2023-09-01", ""),
            ],
        ),
        Src("tax", vec![rec("tax_rating", "纳税信用 A 级", "2024 年度（演示）", "2025-04-15", "")]),
        Src(
            "ip_office",
            vec![rec("patent_grant", "发明专利授权", "一种激光器温控装置（演示）", "2025-02-20", "")],
        ),
        Src(
            "personal_credit",
            vec![rec(
                "person_credit_record",
                "个人征信查询结果",
                "无逾期记录（演示，经本人同意查询）",
                "2026-10-10",
                "张伟",
            )],
        ),
    ];
    for s in &sources {
        svc.import_external(&op, s).await.map_err(err)?;
    }
    let today = svc.today();
    let bank_org = bank.org_id().unwrap_or_default().to_owned();
    let guarantor_org = guarantor.org_id().unwrap_or_default().to_owned();
    let consent = |grantee: &str, scopes: &[&str], kind: &str| ConsentInput {
        grantee_id: grantee.into(),
        kind: kind.into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        purpose: "loan_review".into(),
        valid_from: today.to_string(),
        expires_on: (today + time::Duration::days(180)).to_string(),
        signer_name: "张伟".into(),
        signer_title: "法定代表人".into(),
        person_name: if kind == "personal" { "张伟".into() } else { String::new() },
        person_role: if kind == "personal" { "legal_representative".into() } else { String::new() },
    };
    let evidence =
        "企业信用信息查询授权书（演示文本）\n授权汉江银行为贷款审查查询本企业信用信息。\n签署：张伟"
            .as_bytes();
    svc.grant_consent(
        &ent,
        &ent_id,
        &consent(&bank_org, &["profile", "financial_facts", "ip", "loans"], "enterprise"),
        "查询授权书.txt",
        evidence,
    )
    .await
    .map_err(err)?;
    svc.grant_consent(
        &ent,
        &ent_id,
        &consent(&bank_org, &[], "personal"),
        "个人信息查询同意书.txt",
        evidence,
    )
    .await
    .map_err(err)?;
    let revoked = svc
        .grant_consent(
            &ent,
            &ent_id,
            &consent(&guarantor_org, &["profile", "loans"], "enterprise"),
            "担保查询授权书.txt",
            evidence,
        )
        .await
        .map_err(err)?;
    svc.revoke_consent(&ent, &revoked.consent.id).await.map_err(err)?;
    svc.credit_report(&bank, &ent_id, Purpose::LoanReview).await.map_err(err)?;
    let _ = svc.credit_report(&guarantor, &ent_id, Purpose::GuaranteeReview).await;
    outln!("demo consents: 3 consents (one revoked), 6 external records, 2 queries");
    Ok(())
}

pub(crate) async fn demo(
    url: &str,
    enterprises: usize,
    seed: u64,
    port: u16,
    no_serve: bool,
    years: u32,
) -> Result<()> {
    let key = std::env::var("KEBAO_SIGNING_KEY").unwrap_or_else(|_| "kebao-demo-signing.key".to_owned());
    let svc = with_key(service(url, None).await?, Path::new(&key), true)?;
    let demo_actor = Actor::System { name: "demo".into() };
    // The demo's history is generated on a clock of its own: `years` of the zone's activity,
    // then the showcase over the last four weeks (so that notice periods and deadlines have
    // run); then the server runs on the real clock.
    let real_now = kebao_service::Clock::now_us(&SystemClock);
    let years = years.min(10);
    let demo_clock = Arc::new(kebao_service::FixedClock::new(
        real_now - 28 * DEMO_DAY_US - i64::from(years) * 365 * DEMO_DAY_US,
    ));
    // Its ids come from a source seeded like the zone, so that the same seed gives the same ids.
    let seeding =
        svc.clone().with_clock(demo_clock.clone()).with_ids(Arc::new(kebao_service::SeededIds::new(seed)));
    let existing = svc
        .list_orgs(&demo_actor, &Default::default(), None, 1)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .total;
    // The zone as it stood when its `years` of activity began: its facts and qualifications
    // up to the year before, so that the activity reports the later years and renews what lapses.
    let last_year = kebao_sim::Options::default().last_year - i32::try_from(years).unwrap_or(0);
    let zone = kebao_sim::generate(&kebao_sim::Options { seed, enterprises, last_year }, svc.industries());
    if existing == 0 {
        let started = std::time::Instant::now();
        let rows = zone.orgs.clone();
        let pb = bar(rows.len() as u64, "generating");
        let mut progress = |done: u64, total: u64| {
            pb.set_length(total);
            pb.set_position(done);
        };
        let r = svc
            .import_orgs(&demo_actor, rows, ImportOptions::default(), &mut progress)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        pb.finish_and_clear();
        if !r.problems.is_empty() {
            print_problems(&r);
            bail!("the demo generator produced invalid rows");
        }
        let secs = started.elapsed().as_secs_f64();
        outln!(
            "demo zone: {} organisations in {secs:.1} s ({:.0} rows/s)",
            r.imported,
            r.imported as f64 / secs
        );
        for u in &zone.users {
            let org =
                seeding.org_id_by_uscc(&demo_actor, &u.org_uscc).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let Some(org_id) = org else { bail!("demo user {} has no organisation", u.username) };
            let input = NewUserInput {
                username: u.username.clone(),
                display_name: u.display_name.clone(),
                password: kebao_sim::DEMO_PASSWORD.into(),
            };
            seeding
                .add_user(&demo_actor, &org_id, &input, &u.roles)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        // A few enterprises registered themselves and wait for the zone's reviewers.
        for (org, admin) in &zone.pending {
            let input = NewUserInput {
                username: admin.username.clone(),
                display_name: admin.display_name.clone(),
                password: kebao_sim::DEMO_PASSWORD.into(),
            };
            seeding.register_self(org, &input).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    } else {
        outln!("reusing the demo zone in {url} ({existing} organisations)");
    }
    seeding.restore_catalogue().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let filed: u64 =
        seeding.filing_stats().await.map_err(|e| anyhow::anyhow!("{e}"))?.iter().map(|(_, n)| n).sum();
    if filed == 0 {
        seed_products(&seeding, &zone, seed).await?;
        if years > 0 {
            let started = std::time::Instant::now();
            let pb = bar(u64::from(years) * 365, "activity (days)");
            let mut progress = |done: u64, total: u64| {
                pb.set_length(total);
                pb.set_position(done);
            };
            let s = activity::replay(&seeding, &demo_clock, &zone, seed, years, &mut progress).await?;
            pb.finish_and_clear();
            let secs = started.elapsed().as_secs_f64();
            let refused: Vec<String> = s.refused.iter().map(|(k, n)| format!("{k} {n}")).collect();
            if std::env::var_os("KEBAO_DEMO_VERBOSE").is_some() {
                for (k, r) in &s.reasons {
                    outln!("  refused {k}: {r}");
                }
            }
            outln!(
                "demo activity: {years} years, {} commands in {secs:.1} s ({:.0}/s): {} policies, {} claims, {} disputes, {} subsidy applications, {} consents{}",
                s.commands,
                s.commands as f64 / secs,
                s.policies,
                s.claims,
                s.disputes,
                s.subsidies,
                s.consents,
                if refused.is_empty() { String::new() } else { format!("; refused by the rules: {}", refused.join(", ")) }
            );
        }
    } else if years > 0 {
        // Reused: the clock goes straight to the showcase's weeks.
        demo_clock.advance_us(i64::from(years) * 365 * DEMO_DAY_US);
    }
    let consents_seeded = match seeding.find_user("ent.admin").await {
        Ok(u) => {
            let a = seeding.actor_for(u).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            !seeding.my_consents(&a).await.map_err(|e| anyhow::anyhow!("{e}"))?.is_empty()
        }
        Err(_) => true,
    };
    if !consents_seeded {
        seed_certificate(&seeding).await?;
        seed_consents(&seeding, &zone).await?;
        demo_clock.advance_us(DEMO_DAY_US);
        let subsidised = seed_subsidised_products(&seeding).await?;
        seed_policies(&seeding).await?;
        demo_clock.advance_us(DEMO_DAY_US);
        seed_subsidies(&seeding, &demo_clock, real_now, &subsidised).await?;
    }
    if let Err(e) = svc.sign_tree_head().await {
        eprintln!("warning: could not sign a tree head: {e}");
    }
    if no_serve {
        return Ok(());
    }
    let listen = format!("127.0.0.1:{port}");
    outln!("\nKebao 科保 demo zone ({url})");
    outln!("Demo logins (password `{}`):", kebao_sim::DEMO_PASSWORD);
    for u in &zone.users {
        let roles: Vec<&str> = u.roles.iter().map(|r| r.label_en()).collect();
        outln!("  {:<18} {}", u.username, roles.join(", "));
    }
    for (_, u) in &zone.pending {
        outln!("  {:<18} Enterprise admin of a registration waiting for verification", u.username);
    }
    for name in ["ent2.admin", "ent3.admin"] {
        if svc.find_user(name).await.is_ok() {
            outln!("  {name:<18} Enterprise admin (another demo enterprise with subsidy applications)");
        }
    }
    outln!();
    serve(svc, &listen, true, WebArgs::default()).await
}

const DEMO_DAY_US: i64 = 86_400_000_000;

/// The demo insurer's products of subsidised types, open to enterprises at every stage.
/// Filed before the demo policies, so that the demo enterprise has products of the demo
/// insurer it is eligible for.
async fn seed_subsidised_products(svc: &Service) -> Result<std::collections::HashMap<&'static str, String>> {
    use kebao_domain::product::{CoverageInput, ProductInput, CHECKLIST};
    use kebao_service::products::Review;
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{}", cli_error(&e));
    let actor = |name: String| async move {
        let u = svc.find_user(&name).await?;
        svc.actor_for(u).await
    };
    let filer = actor("ins.filer".into()).await.map_err(err)?;
    let reviewer = actor("zone.reviewer".into()).await.map_err(err)?;
    let insurer = filer.org_id().unwrap_or_default().to_owned();
    // The demo insurer files products of subsidised types.
    let items: Vec<String> = CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect();
    let mut pids = std::collections::HashMap::new();
    for (ty, name) in [
        ("rd_liability", "楚天研发责任保险（光谷版）"),
        ("product_quality_guarantee", "楚天产品质量保证保险"),
        ("first_set_equipment", "楚天首台（套）重大技术装备综合保险"),
        ("new_material_first_batch", "楚天新材料首批次应用综合保险"),
    ] {
        let input = ProductInput {
            type_id: ty.into(),
            name: name.into(),
            summary: "东湖科技保险创新示范区备案产品（演示）。".into(),
            coverages: vec![CoverageInput {
                name: "保险责任".into(),
                limit_yuan: "50000000".into(),
                ..Default::default()
            }],
            premium_basis: "limit".into(),
            term_months: "12".into(),
            rate_text: "按本公司备案费率表，依风险状况浮动".into(),
            contact_name: "王经理".into(),
            contact_phone: "027-87650000".into(),
            // Open to the applicants below at whatever stage they are.
            stages: kebao_domain::org::LifecycleStage::ALL.iter().map(|s| s.code().to_owned()).collect(),
            ..Default::default()
        };
        let id = svc.file_product(&filer, &insurer, &input).await.map_err(err)?;
        svc.file_rating_plan(&filer, &id, "2026-01-01", demo_plan(&svc.catalogue(), ty))
            .await
            .map_err(err)?;
        svc.submit_product(&filer, &id).await.map_err(err)?;
        svc.set_product_checklist(&reviewer, &id, &items).await.map_err(err)?;
        svc.review_product(&reviewer, &id, &Review::Approve).await.map_err(err)?;
        svc.publish_product(&filer, &id).await.map_err(err)?;
        pids.insert(ty, id);
    }
    Ok(pids)
}

/// Subsidy applications in every state across the programmes. The demo insurer files four
/// products of subsidised types; three demo enterprises buy cover; the zone's reviewer and
/// approver work the applications over the demo's weeks (the clock moves so that notice
/// periods run out), leaving some in review and one in public notice now.
async fn seed_subsidies(
    svc: &Service,
    clock: &kebao_service::FixedClock,
    real_now_us: i64,
    pids: &std::collections::HashMap<&'static str, String>,
) -> Result<()> {
    use kebao_domain::subsidy::SubsidyStep;
    use kebao_domain::Money;
    use kebao_service::subsidies::Declarations;
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{}", cli_error(&e));
    let actor = |name: String| async move {
        let u = svc.find_user(&name).await?;
        svc.actor_for(u).await
    };
    let uw = actor("ins.underwriter".into()).await.map_err(err)?;
    let reviewer = actor("zone.reviewer".into()).await.map_err(err)?;
    let approver = actor("zone.approver".into()).await.map_err(err)?;
    let bank = actor("bank.officer".into()).await.map_err(err)?;
    let ent = actor("ent.admin".into()).await.map_err(err)?;
    let op = Actor::System { name: "demo".into() };
    // Two more enterprises of other industries join the demo enterprise as applicants.
    let page = svc
        .list_orgs(
            &op,
            &kebao_domain::org::OrgFilter {
                kind: Some(kebao_domain::OrgKind::Enterprise),
                ..Default::default()
            },
            None,
            200,
        )
        .await
        .map_err(err)?;
    let ent_org = ent.org_id().unwrap_or_default().to_owned();
    let first = page.items.iter().find(|o| o.id == ent_org).and_then(|o| o.zone_industries.first().cloned());
    let mut applicants = vec![ent.clone()];
    let mut seen = first.into_iter().collect::<Vec<_>>();
    for o in
        page.items.iter().filter(|o| o.id != ent_org && o.status == kebao_domain::org::OrgStatus::Verified)
    {
        let Some(tag) = o.zone_industries.first() else { continue };
        if seen.contains(tag) || applicants.len() >= 3 {
            continue;
        }
        seen.push(tag.clone());
        let name = format!("ent{}.admin", applicants.len() + 1);
        let input = NewUserInput {
            username: name.clone(),
            display_name: format!("{}管理员", o.name),
            password: kebao_sim::DEMO_PASSWORD.into(),
        };
        svc.add_user(&op, &o.id, &input, &[kebao_domain::user::Role::EnterpriseAdmin]).await.map_err(err)?;
        let q = kebao_domain::org::Qualification {
            kind: kebao_domain::org::QualificationKind::TechSme,
            valid_from: svc.today() - time::Duration::days(200),
            valid_to: svc.today() + time::Duration::days(500),
            certificate_no: Some(format!("2026420100{:05}", applicants.len())),
        };
        svc.add_qualification(&op, &o.id, q).await.map_err(err)?;
        applicants.push(actor(name).await.map_err(err)?);
    }
    let pid = |ty: &str| pids.get(ty).cloned().unwrap_or_default();
    let first_set = pid("first_set_equipment");
    let new_material = pid("new_material_first_batch");
    let bind = |who: kebao_service::authz::Actor, product: String, limit: i64| {
        let uw = uw.clone();
        let first_set = first_set.clone();
        let new_material = new_material.clone();
        async move {
            let q = kebao_domain::rating::QuoteInput {
                limit: Money::from_fen(limit * 100),
                revenue: Money::from_fen(3_000_000_000),
                ..Default::default()
            };
            // First-set and new-material cover names the equipment (its model) or the
            // material (its grade), and the user as beneficiary.
            use kebao_domain::subject::{InsuredObject, ObjectKind, Party, Subject};
            let object = |kind, identifier: String, catalogue: &str| Subject {
                object: Some(InsuredObject { kind, identifier, catalogue_entry: Some(catalogue.into()) }),
                insured: None,
                beneficiary: Some(Party { name: "武汉示范用户制造有限公司".into(), uscc: None }),
            };
            let subject = if product == first_set {
                object(
                    ObjectKind::Equipment,
                    format!("KB-{}型数控装备", limit / 10_000),
                    "首台（套）重大技术装备推广应用指导目录",
                )
            } else if product == new_material {
                object(
                    ObjectKind::Material,
                    format!("KB-{}牌号高温合金", limit / 10_000),
                    "重点新材料首批次应用示范指导目录",
                )
            } else {
                Subject::default()
            };
            let a = svc.apply_for_policy_with(&who, &product, &q, &svc.today().to_string(), &subject).await?;
            let p = svc.my_policies(&who).await?.into_iter().find(|p| p.application_id == a.id);
            let p = p.ok_or(kebao_service::ServiceError::NotFound)?;
            svc.record_premium_paid(&uw, &p.id, p.premium, &format!("DEMO-SUB-{}", p.number)).await?;
            Ok::<String, kebao_service::ServiceError>(p.id)
        }
    };
    let none = Declarations::default();
    let zone = "zone_tech_insurance";
    // Each application is filed with the documents its programme lists (a scan each).
    let apply = |who: kebao_service::authz::Actor,
                 pol: String,
                 prog: &'static str,
                 stage: &'static str,
                 decl: Declarations| async move {
        let a = svc.apply_subsidy(&who, &pol, prog, stage, &decl).await?;
        let programmes = svc.subsidy_programmes().await?;
        let docs = programmes
            .iter()
            .find(|p| p.id == a.programme_id && p.version == a.programme_version)
            .map(|p| p.documents.clone())
            .unwrap_or_default();
        for d in docs {
            let body = format!("%PDF-1.4\n% {} {}\n", d.code, a.id).into_bytes();
            svc.add_subsidy_document(&who, &a.id, &d.code, &format!("{}.pdf", d.name_zh), &body).await?;
        }
        Ok::<_, kebao_service::ServiceError>(a)
    };
    let who = |i: usize| applicants.get(i).cloned().unwrap_or_else(|| ent.clone());
    // Zone programme: eight policies, one per state.
    let mut zone_apps = Vec::new();
    for (i, (ty, limit)) in [
        ("rd_liability", 1_000_000),
        ("product_quality_guarantee", 800_000),
        ("rd_liability", 1_500_000),
        ("rd_liability", 600_000),
        ("product_quality_guarantee", 1_200_000),
        ("rd_liability", 900_000),
        ("product_quality_guarantee", 700_000),
    ]
    .iter()
    .enumerate()
    {
        let w = who(i % 3);
        let pol = bind(w.clone(), pid(ty), *limit).await.map_err(err)?;
        zone_apps.push(apply(w, pol, zone, "", none.clone()).await.map_err(err)?.id);
    }
    let z = |i: usize| zone_apps.get(i).cloned().unwrap_or_default();
    // 0 stays submitted; 1 passes local review; 5 is rejected locally.
    svc.subsidy_local_review(&reviewer, &z(1), true, "材料齐全").await.map_err(err)?;
    svc.subsidy_local_review(&reviewer, &z(5), false, "保费支付凭证与发票金额不一致").await.map_err(err)?;
    for i in [2, 3, 4, 6] {
        svc.subsidy_local_review(&reviewer, &z(i), true, "材料齐全").await.map_err(err)?;
    }
    for i in [3, 4, 6] {
        svc.subsidy_department_review(&approver, &z(i), true, "同意公示").await.map_err(err)?;
    }
    // An offer that will lapse: a policy bought now, offered tomorrow, never confirmed.
    let lapse_pol = bind(who(1), pid("rd_liability"), 500_000).await.map_err(err)?;
    clock.advance_us(DEMO_DAY_US);
    svc.offer_auto_grants(&approver, zone).await.map_err(err)?;
    // National first-set: one qualified and granted; one forwarded; one just filed.
    // New material: one recommended; one not qualified.
    let fs1 = bind(who(0), pid("first_set_equipment"), 2_000_000).await.map_err(err)?;
    let fs2 = bind(who(1), pid("first_set_equipment"), 3_000_000).await.map_err(err)?;
    let fs3 = bind(who(2), pid("first_set_equipment"), 1_000_000).await.map_err(err)?;
    let fs4 = bind(who(1), pid("first_set_equipment"), 1_500_000).await.map_err(err)?;
    let nm1 = bind(who(0), pid("new_material_first_batch"), 4_000_000).await.map_err(err)?;
    let nm2 = bind(who(2), pid("new_material_first_batch"), 2_000_000).await.map_err(err)?;
    let q1 = apply(who(0), fs1.clone(), "first_set", "qualification", none.clone()).await.map_err(err)?.id;
    let q2 = apply(who(1), fs2, "first_set", "qualification", none.clone()).await.map_err(err)?.id;
    let q4 = apply(who(1), fs4.clone(), "first_set", "qualification", none.clone()).await.map_err(err)?.id;
    apply(who(2), fs3, "first_set", "qualification", none.clone()).await.map_err(err)?;
    // A paper policy bought before the platform, registered by its holder with the scan of
    // the policy: it waits for the insurer's underwriters to confirm it.
    let paper = kebao_domain::policy::RegistrationFields {
        product_id: pid("first_set_equipment"),
        number: "CT-2025-FS-000318".into(),
        start_date: (svc.today() - time::Duration::days(300)).to_string(),
        end_date: (svc.today() + time::Duration::days(64)).to_string(),
        premium_yuan: "36000".into(),
        sum_insured_yuan: "12000000".into(),
        limit_yuan: String::new(),
    };
    let paper_subject = kebao_domain::subject::Subject {
        object: Some(kebao_domain::subject::InsuredObject {
            kind: kebao_domain::subject::ObjectKind::Equipment,
            identifier: "KB-50型激光加工中心".into(),
            catalogue_entry: Some("首台（套）重大技术装备推广应用指导目录".into()),
        }),
        insured: None,
        beneficiary: Some(kebao_domain::subject::Party {
            name: "湖北示范精密制造有限公司".into(),
            uscc: None,
        }),
    };
    let paper = svc.register_policy(&who(2), &paper, &paper_subject).await.map_err(err)?;
    let scan = b"%PDF-1.4\n% CT-2025-FS-000318 policy and invoice (demo scan)\n";
    svc.attach(
        &who(2),
        &kebao_domain::attachment::Owner::registered_policy(&paper.id),
        "保单及发票.pdf",
        scan,
    )
    .await
    .map_err(err)?;
    let contract = Declarations { contract_amount_yuan: Some(1_500_000), ..Default::default() };
    let n1 = apply(who(0), nm1, "new_material", "qualification", contract.clone()).await.map_err(err)?.id;
    let n2 = apply(who(2), nm2, "new_material", "qualification", contract).await.map_err(err)?.id;
    for id in [&q1, &q2, &q4, &n1, &n2] {
        svc.national_step(&reviewer, id, SubsidyStep::Recommend, true, Money::ZERO, "").await.map_err(err)?;
    }
    for id in [&q1, &q2, &q4, &n2] {
        svc.national_step(&approver, id, SubsidyStep::Forward, true, Money::ZERO, "").await.map_err(err)?;
    }
    clock.advance_us(9 * DEMO_DAY_US);
    svc.national_step(
        &approver,
        &q1,
        SubsidyStep::Decision,
        true,
        Money::ZERO,
        "工信厅装函〔2026〕（演示）1号",
    )
    .await
    .map_err(err)?;
    svc.national_step(
        &approver,
        &n2,
        SubsidyStep::Decision,
        false,
        Money::ZERO,
        "工信厅原函〔2026〕（演示）2号",
    )
    .await
    .map_err(err)?;
    let f1 = apply(who(0), fs1, "first_set", "funding", none.clone()).await.map_err(err)?;
    svc.national_step(&reviewer, &f1.id, SubsidyStep::Recommend, true, Money::ZERO, "").await.map_err(err)?;
    svc.national_step(&approver, &f1.id, SubsidyStep::Forward, true, Money::ZERO, "").await.map_err(err)?;
    svc.national_step(&approver, &f1.id, SubsidyStep::Decision, true, f1.amount, "财建〔2026〕（演示）3号")
        .await
        .map_err(err)?;
    svc.national_step(
        &approver,
        &q4,
        SubsidyStep::Decision,
        true,
        Money::ZERO,
        "工信厅装函〔2026〕（演示）4号",
    )
    .await
    .map_err(err)?;
    let f4 = apply(who(1), fs4, "first_set", "funding", none.clone()).await.map_err(err)?;
    svc.national_step(&reviewer, &f4.id, SubsidyStep::Recommend, true, Money::ZERO, "").await.map_err(err)?;
    svc.national_step(&approver, &f4.id, SubsidyStep::Forward, true, Money::ZERO, "").await.map_err(err)?;
    svc.national_step(
        &approver,
        &f4.id,
        SubsidyStep::Decision,
        false,
        Money::ZERO,
        "财建〔2026〕（演示）5号：装备未列入当期目录",
    )
    .await
    .map_err(err)?;
    // The zone notices have run: approve 3, 4 and 6; pay 4 and 6; claw back 6 (the policy
    // was surrendered).
    for i in [3, 4, 6] {
        svc.approve_subsidy(&approver, &z(i)).await.map_err(err)?;
    }
    svc.disburse_subsidy(&approver, &z(4), "GKQ-2026-0001").await.map_err(err)?;
    svc.disburse_subsidy(&approver, &z(6), "GKQ-2026-0002").await.map_err(err)?;
    svc.claw_back_subsidy(&approver, &z(6), false, "企业退保，按规定追回已拨付补贴").await.map_err(err)?;
    // Now: the lapsed offer lapses with a new round, which offers a fresh policy; one
    // application enters its public notice with an objection.
    let now = kebao_service::Clock::now_us(clock);
    if real_now_us > now {
        clock.advance_us(real_now_us - now - DEMO_DAY_US);
    }
    bind(who(2), pid("product_quality_guarantee"), 500_000).await.map_err(err)?;
    svc.offer_auto_grants(&approver, zone).await.map_err(err)?;
    svc.subsidy_department_review(&approver, &z(2), true, "同意公示").await.map_err(err)?;
    svc.object_to_subsidy(&bank, &z(2), "据了解该企业研发项目已于上月终止，请核实保单是否仍然有效")
        .await
        .map_err(err)?;
    let _ = lapse_pol;
    outln!(
        "demo subsidies: applications in every state across the zone, first-set and new-material programmes"
    );
    Ok(())
}
