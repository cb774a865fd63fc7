//! `kebao demo`: a synthetic zone (`kebao_sim`) imported, its catalogue filed, years of its
//! activity replayed (`activity.rs`), then the showcase every role's day starts from
//! (`showcase.rs`, data in `data/sim/showcase.toml`). Wiring stays in `main.rs`.

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
        quote_valid_days: None,
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

pub(crate) async fn demo(
    url: &str,
    enterprises: usize,
    seed: u64,
    port: u16,
    no_serve: bool,
    years: u32,
) -> Result<()> {
    let key = std::env::var("KEBAO_SIGNING_KEY").unwrap_or_else(|_| "kebao-demo-signing.key".to_owned());
    let svc = with_key(service(&crate::Db::at(url)).await?, Path::new(&key), true)?;
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
        // Registered when the zone's history begins, on the demo's clock.
        let r = seeding
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
                "demo activity: {years} years, {} commands in {secs:.1} s ({:.0}/s): {} policies, {} claims, {} disputes, {} subsidy applications, {} consents, {} loans{}",
                s.commands,
                s.commands as f64 / secs,
                s.policies,
                s.claims,
                s.disputes,
                s.subsidies,
                s.consents,
                s.loans,
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
        let steps = crate::showcase::run(&seeding, &demo_clock, real_now).await?;
        outln!("demo showcase: {steps} steps (data/sim/showcase.toml)");
        if seed_bank_lab(&seeding).await? {
            outln!("demo lab: the bank's admission scorecard approved and in force");
        }
    }
    let runs = seeding.index_runs(&demo_actor).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if runs.is_empty() && years > 0 {
        let n = seed_index(&seeding, &demo_actor, years).await?;
        outln!("demo index: {n} runs (parks and 5+2 industries, each year of activity)");
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
    // Backups of the demo zone go beside its database (three kept), nightly and on request
    // from the jobs page.
    let backup_dir = kebao_store::sqlite_path(url)
        .and_then(|p| p.parent().map(|d| d.join("kebao-demo-backups")))
        .unwrap_or_else(|| PathBuf::from("kebao-demo-backups"));
    outln!("Backups: {} (nightly at 02:30, three kept; or from /jobs)", backup_dir.display());
    outln!();
    let job_args = crate::jobs::JobArgs {
        backup_dir: Some(backup_dir),
        backup_keep: 3,
        ..crate::jobs::JobArgs::without_backups()
    };
    let svc = crate::jobs::start(svc, url, &job_args);
    // The metrics on the next port, on the loopback address only.
    let web = WebArgs {
        metrics_listen: port.checked_add(1).map(|p| format!("127.0.0.1:{p}")),
        ..WebArgs::default()
    };
    serve(svc, &listen, true, web).await
}

const DEMO_DAY_US: i64 = 86_400_000_000;

/// The development index of the demo zone: a generated R&D intensity per park and year (the one
/// indicator the platform cannot compute, imported as official statistics would be, its source
/// saying it is generated), then a run for the parks and one for the industries per year.
/// The bank's risk lab: its officer uploads an admission scorecard (fitted on the registered
/// facts with the demo's stated synthetic outcomes), its head approves it, and it is put in
/// force as the bank's lending admission rule; loans in review can then be scored on their page.
async fn seed_bank_lab(svc: &Service) -> Result<bool> {
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{e}");
    let (Ok(officer), Ok(head)) = (svc.find_user("bank.officer").await, svc.find_user("bank.admin").await)
    else {
        return Ok(false);
    };
    let officer = svc.actor_for(officer).await.map_err(err)?;
    let head = svc.actor_for(head).await.map_err(err)?;
    let rows = crate::activity::registry_rows(svc).await?;
    let Ok(card) = kebao_sim::lab::zone_scorecard(&rows, 20_250_601) else {
        // Too few enterprises for a scorecard: the bank's lab starts empty.
        return Ok(false);
    };
    let m = svc
        .upload_model(
            &officer,
            kebao_service::lab::ModelKind::Scorecard,
            "科技贷准入评分卡（登记数据与合成结果拟合，演示）",
            card.as_bytes(),
        )
        .await
        .map_err(err)?;
    svc.approve_model(&head, &m.id).await.map_err(err)?;
    svc.set_admission_rule(&officer, &m.id, "650", "600").await.map_err(err)?;
    Ok(true)
}

async fn seed_index(svc: &Service, actor: &Actor, years: u32) -> Result<usize> {
    let (fw, _) = svc.current_index_framework().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let this_year = svc.today().year();
    let first = this_year - i32::try_from(years).unwrap_or(0);
    let mut rows = Vec::new();
    for (i, p) in svc.industries().parks().iter().enumerate() {
        for y in first..=this_year {
            // 2.5 %–7.9 %, different per park and rising a little each year.
            let v = 2.5 + ((i * 37 + 11) % 50) as f64 / 10.0 + f64::from(y - first) * 0.2;
            rows.push(vec![
                "park".to_owned(),
                p.id.clone(),
                y.to_string(),
                "rnd_intensity".to_owned(),
                format!("{v:.1}"),
                "演示数据：模拟生成，非官方统计 / demo data, generated, not official".to_owned(),
            ]);
        }
    }
    let table = kebao_service::tabular::Table {
        headers: kebao_service::index::STATISTICS_COLUMNS.iter().map(|(c, _)| (*c).to_owned()).collect(),
        rows,
    };
    let r = svc.import_index_statistics(actor, &table).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if !r.problems.is_empty() {
        bail!("the demo's official statistics were refused: {:?}", r.problems.first());
    }
    let runner = kebao_service::jobs::JobRunner::new(svc.clone());
    let mut stored = 0;
    for y in first..=this_year {
        if !fw.covers(y) {
            continue;
        }
        for kind in ["park", "industry"] {
            let job =
                svc.start_index_run(actor, kind, &y.to_string()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            while let Some(ended) = runner.run_once().await.map_err(|e| anyhow::anyhow!("{e}"))? {
                if ended.id == job.id {
                    if ended.state == kebao_domain::job::JobState::Succeeded {
                        stored += 1;
                    }
                    break;
                }
            }
        }
    }
    Ok(stored)
}
