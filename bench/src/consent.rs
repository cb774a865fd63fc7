//! Consent benchmark: authorised credit-report reads per second — the Cedar checks, the
//! consent look-ups and the durable event append included — side by side with plain reads
//! of the same rows in the same store; and Cedar decisions per second.
//!
//! ```text
//! cargo build --release -p kebao-bench
//! target/release/consent-bench [--enterprises 200] [--reads 2000] [--postgres postgres://postgres@127.0.0.1/postgres]
//! ```

use anyhow::{Context, Result};
use clap::Parser;
use kebao_domain::consent::{Consent, ConsentInput, ConsentKind, DataScope, Purpose};
use kebao_domain::org::{OrganisationInput, YearlyFacts};
use kebao_domain::user::Role;
use kebao_domain::{IndustryMap, Money};
use kebao_service::authz::{Actor, Authz, Basis, ReadContext, Resource};
use kebao_service::users::NewUserInput;
use kebao_service::{Config, Service, SystemClock, CATALOGUE};
use kebao_store::{OpenOptions, Store};
use std::sync::Arc;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 200)]
    enterprises: u32,
    #[arg(long, default_value_t = 2000)]
    reads: u32,
    #[arg(long, default_value_t = 200_000)]
    decisions: u32,
    /// Also run on PostgreSQL (an admin URL where databases may be created).
    #[arg(long)]
    postgres: Option<String>,
}

fn uscc(n: u32) -> Result<String> {
    Ok(kebao_domain::Uscc::complete(&format!("91420100{n:09}")).context("uscc")?.to_string())
}

fn org(name: &str, n: u32, kind: &str) -> Result<OrganisationInput> {
    let e = kind == "enterprise";
    Ok(OrganisationInput {
        name: name.into(),
        uscc: uscc(n)?,
        kind: kind.into(),
        industry_code: if e { "C3976".into() } else { String::new() },
        lifecycle_stage: if e { "rnd".into() } else { String::new() },
        ..Default::default()
    })
}

fn err(e: kebao_service::ServiceError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

async fn run(url: &str, label: &str, args: &Args) -> Result<()> {
    let store = Store::open(url, &OpenOptions::default()).await?;
    let industries = IndustryMap::from_toml(CATALOGUE)?;
    let svc =
        Service::new(store.clone(), Authz::embedded()?, industries, Arc::new(SystemClock), Config::default());
    let op = Actor::System { name: "bench".into() };
    let bank = svc.create_org(&op, &org("汉江银行", 1, "bank")?).await.map_err(err)?;
    let user = svc
        .add_user(
            &op,
            &bank.id,
            &NewUserInput {
                username: "banker".into(),
                display_name: "b".into(),
                password: "bench password 1".into(),
            },
            &[Role::BankOfficer],
        )
        .await
        .map_err(err)?;
    let banker = svc.actor_for(user).await.map_err(err)?;
    let mut ents = Vec::new();
    let today = svc.today();
    for i in 0..args.enterprises {
        let e = svc.create_org(&op, &org(&format!("企业{i}"), 100 + i, "enterprise")?).await.map_err(err)?;
        let facts = YearlyFacts {
            year: 2025,
            revenue: Money::from_fen(100_000_000),
            rnd_expense: Money::from_fen(10_000_000),
            staff: 50,
            rnd_staff: 10,
            patents_granted: 3,
            patents_pending: 1,
            export_share_bp: 0,
        };
        svc.put_facts(&op, &e.id, facts).await.map_err(err)?;
        let input = ConsentInput {
            grantee_id: bank.id.clone(),
            scopes: vec!["profile".into(), "financial_facts".into(), "loans".into()],
            purpose: "loan_review".into(),
            valid_from: today.to_string(),
            expires_on: (today + time::Duration::days(90)).to_string(),
            signer_name: "张伟".into(),
            ..Default::default()
        };
        let admin = svc
            .add_user(
                &op,
                &e.id,
                &NewUserInput {
                    username: format!("ent{i}"),
                    display_name: "e".into(),
                    password: "bench password 1".into(),
                },
                &[Role::EnterpriseAdmin],
            )
            .await
            .map_err(err)?;
        let admin = svc.actor_for(admin).await.map_err(err)?;
        svc.grant_consent(&admin, &e.id, &input, "a.pdf", b"%PDF-1.7 bench").await.map_err(err)?;
        ents.push(e);
    }
    // Authorised reads: the whole credit report, checked scope by scope, logged durably.
    let t = Instant::now();
    for i in 0..args.reads {
        let e = ents.get((i % args.enterprises) as usize).context("no enterprise")?;
        svc.credit_report(&banker, &e.id, Purpose::LoanReview).await.map_err(err)?;
    }
    let authorised = t.elapsed().as_secs_f64();
    // Plain reads of the same rows: the organisation, its facts, qualifications and the
    // external records of the report's scopes — no checks, no consent look-up, no event.
    let t = Instant::now();
    for i in 0..args.reads {
        let e = ents.get((i % args.enterprises) as usize).context("no enterprise")?;
        let mut tx = store.begin_read().await?;
        kebao_store::orgs::get(tx.conn(), &e.id).await?;
        kebao_store::orgs::facts(tx.conn(), &e.id).await?;
        kebao_store::orgs::qualifications(tx.conn(), &e.id).await?;
        for s in [DataScope::Profile, DataScope::FinancialFacts, DataScope::Loans] {
            kebao_store::consents::records(tx.conn(), &e.id, s).await?;
        }
    }
    let plain = t.elapsed().as_secs_f64();
    let r = f64::from(args.reads);
    println!(
        "{label}: authorised report reads {:.0}/s (Cedar checks, consent look-ups, one durable event each) vs plain reads of the same rows {:.0}/s: ratio {:.3}",
        r / authorised,
        r / plain,
        plain / authorised
    );
    Ok(())
}

fn decisions(n: u32) -> Result<()> {
    let authz = Authz::embedded()?;
    let user = kebao_domain::User {
        id: "u".into(),
        org_id: "bank".into(),
        username: "banker".into(),
        display_name: "b".into(),
        roles: vec![Role::BankOfficer],
        active: true,
        must_change_password: false,
    };
    let actor = Actor::User { user, org_kind: kebao_domain::OrgKind::Bank };
    let today = time::Date::from_calendar_date(2026, time::Month::November, 28)?;
    let consent = Consent {
        id: "c".into(),
        enterprise_id: "ent".into(),
        grantee_id: "bank".into(),
        kind: ConsentKind::Enterprise,
        scopes: vec![DataScope::Profile, DataScope::Loans],
        purpose: Purpose::LoanReview,
        valid_from: today,
        expires_on: today + time::Duration::days(90),
        signer_name: String::new(),
        signer_title: String::new(),
        person_name: None,
        person_role: None,
        evidence_sha256: String::new(),
        evidence_document_id: String::new(),
        revoked_at_us: None,
        created_at_us: 0,
        created_by: String::new(),
    };
    let res = Resource::Org {
        id: "ent".into(),
        kind: kebao_domain::OrgKind::Enterprise,
        status: kebao_domain::org::OrgStatus::Verified,
    };
    let basis = Basis::Consent { purpose: "loan_review".into(), consent_id: "c".into() };
    let ctx = ReadContext {
        scope: "loans",
        data_class: "enterprise",
        purpose: "loan_review",
        today: kebao_domain::consent::date_number(today),
        consent: Some(&consent),
    };
    let t = Instant::now();
    let mut allowed = 0u32;
    for _ in 0..n {
        if authz.decide_read(&actor, &res, &basis, &ctx).allowed {
            allowed += 1;
        }
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "Cedar: {:.0} consent decisions/s ({allowed} of {n} allowed; {} policies loaded)",
        f64::from(n) / s,
        authz.policy_count()
    );
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    decisions(args.decisions)?;
    let dir = std::env::temp_dir().join(format!("kebao-consent-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    run(&format!("sqlite://{}", dir.join("b.db").display()), "SQLite (WAL, synchronous=FULL)", &args).await?;
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(admin) = &args.postgres {
        sqlx::any::install_default_drivers();
        let name = format!("kebao_consent_bench_{}", std::process::id());
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(admin).await?;
        sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str()).await?;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let r = run(&format!("{base}/{name}"), "PostgreSQL", &args).await;
        let _ = sqlx::Executor::execute(
            &mut conn,
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
        )
        .await;
        r?;
    }
    Ok(())
}
