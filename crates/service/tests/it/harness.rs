//! Fresh databases per test, and a small zone to test against.

use kebao_domain::org::OrganisationInput;
use kebao_domain::user::Role;
use kebao_domain::IndustryMap;
use kebao_service::authz::{Actor, Authz};
use kebao_service::users::NewUserInput;
use kebao_service::{Config, FixedClock, SeededIds, Service, CATALOGUE};
use kebao_store::{OpenOptions, Store};
use std::future::Future;
use std::sync::Arc;

/// 2026-11-28 12:00 in Shanghai.
pub const T0_US: i64 = 1_795_838_400_000_000;

/// The seed of every test service's id source (ids are deterministic in tests).
pub const ID_SEED: u64 = 14;

pub struct Ctx {
    pub svc: Service,
    pub clock: Arc<FixedClock>,
    pub store: Store,
}

fn pg_admin_url() -> Option<String> {
    match std::env::var("KEBAO_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("KEBAO_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                panic!("KEBAO_TEST_REQUIRE_POSTGRES=1 but KEBAO_TEST_POSTGRES_URL is not set");
            }
            None
        }
    }
}

fn with_db(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let cut = base.rfind('/').filter(|&i| i > "postgres://".len()).unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..cut]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

async fn ctx_on(url: &str) -> Ctx {
    // SQLite runs grouped, as `kebao serve` does: every contract test then also checks that
    // commands behind savepoints in a shared batch behave as commands on their own.
    let store = Store::open(url, &OpenOptions::default())
        .await
        .expect("open store")
        .grouped()
        .await
        .expect("grouped");
    let clock = Arc::new(FixedClock::new(T0_US));
    let svc = Service::new(
        store.clone(),
        Authz::embedded().expect("policies"),
        IndustryMap::from_toml(CATALOGUE).expect("catalogue"),
        clock.clone(),
        Config::default(),
    )
    .with_ids(Arc::new(SeededIds::new(ID_SEED)));
    Ctx { svc, clock, store }
}

/// Runs `f` on a fresh SQLite database.
pub async fn on_sqlite<F, Fut>(f: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    on_sqlite_at(&url, f).await;
}

/// Runs `f` on a fresh SQLite database at `url`.
pub async fn on_sqlite_at<F, Fut>(url: &str, f: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    let ctx = ctx_on(url).await;
    let store = ctx.store.clone();
    f(ctx).await;
    store.close().await;
}

/// Runs `f` on a fresh PostgreSQL database, if one is configured.
pub async fn on_postgres<F, Fut>(f: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(admin) = pg_admin_url() else {
        eprintln!("KEBAO_TEST_POSTGRES_URL not set: PostgreSQL variant not run");
        return;
    };
    sqlx::any::install_default_drivers();
    let name = format!("kebao_t_{}", uuid_simple());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await.expect("connect admin");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create database");
    let ctx = ctx_on(&with_db(&admin, &name)).await;
    let store = ctx.store.clone();
    f(ctx).await;
    store.close().await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
}

fn uuid_simple() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{}_{}_{}", std::process::id(), t % 1_000_000_000_000, N.fetch_add(1, Ordering::SeqCst))
}

/// Declares a contract test that runs on both backends.
#[macro_export]
macro_rules! contract {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::harness::on_sqlite($body).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::harness::on_postgres($body).await;
            }
        }
    };
}

pub fn operator() -> Actor {
    Actor::System { name: "test".into() }
}

pub fn org_input(name: &str, uscc: &str, kind: &str) -> OrganisationInput {
    let enterprise = kind == "enterprise";
    OrganisationInput {
        name: name.into(),
        uscc: uscc.into(),
        kind: kind.into(),
        industry_code: if enterprise { "C3976".into() } else { String::new() },
        lifecycle_stage: if enterprise { "rnd".into() } else { String::new() },
        ..OrganisationInput::default()
    }
}

/// A valid USCC from a number (registration authority 9, division 420100).
pub fn uscc(n: u32) -> String {
    let body = format!("91420100{:09}", n);
    kebao_domain::Uscc::complete(&body).expect("valid body").to_string()
}

/// A small zone: an enterprise, a bank, an insurer, the zone office; one user each.
pub struct Zone {
    pub enterprise: String,
    pub bank: String,
    pub ent_admin: Actor,
    pub banker: Actor,
    pub reviewer: Actor,
    pub admin: Actor,
    pub regulator: Actor,
}

pub const PW: &str = "correct horse battery";

pub async fn user(svc: &Service, org: &str, name: &str, roles: &[Role]) -> Actor {
    let input = NewUserInput { username: name.into(), display_name: name.into(), password: PW.into() };
    let u = svc.add_user(&operator(), org, &input, roles).await.expect("add user");
    svc.actor_for(u).await.expect("actor")
}

pub async fn zone(svc: &Service) -> Zone {
    let op = operator();
    let ent = svc.create_org(&op, &org_input("光谷激光科技有限公司", &uscc(1), "enterprise")).await.unwrap();
    let bank = svc.create_org(&op, &org_input("汉口银行光谷支行", &uscc(2), "bank")).await.unwrap();
    let _insurer =
        svc.create_org(&op, &org_input("长江财产保险股份有限公司", &uscc(3), "insurer")).await.unwrap();
    let gov = svc.create_org(&op, &org_input("东湖高新区管委会", &uscc(4), "government")).await.unwrap();
    Zone {
        ent_admin: user(svc, &ent.id, "ent.admin", &[Role::EnterpriseAdmin]).await,
        banker: user(svc, &bank.id, "banker", &[Role::BankOfficer]).await,
        reviewer: user(svc, &gov.id, "reviewer", &[Role::ZoneReviewer]).await,
        admin: user(svc, &gov.id, "padmin", &[Role::PlatformAdmin]).await,
        regulator: user(svc, &gov.id, "regulator", &[Role::Regulator]).await,
        enterprise: ent.id,
        bank: bank.id,
    }
}

/// (organisations, events) right now, to show that a refused command changed nothing.
pub async fn state(ctx: &Ctx) -> (u64, u64) {
    let mut tx = ctx.store.begin_read().await.unwrap();
    let orgs = kebao_store::orgs::count(tx.conn(), &Default::default()).await.unwrap();
    let head = kebao_store::events::head(tx.conn()).await.unwrap();
    (orgs, head.count)
}

/// Files one scan for each document the application's programme lists (as `who`, the
/// applicant), so that a review may pass it.
pub async fn file_documents(svc: &Service, who: &Actor, application_id: &str) {
    let (a, _, _) = svc.subsidy_application(who, application_id).await.expect("the application");
    let programmes = svc.subsidy_programmes().await.expect("programmes");
    let p = programmes
        .iter()
        .find(|p| p.id == a.programme_id && p.version == a.programme_version)
        .expect("its programme");
    for d in &p.documents {
        let body = format!("%PDF-1.4\n% {}\n", d.code).into_bytes();
        svc.add_subsidy_document(who, application_id, &d.code, &format!("{}.pdf", d.code), &body)
            .await
            .expect("filed");
    }
}

/// Files a one-line rating plan (0.8 % of the limit, 1,000 yuan minimum) in force from
/// 2026-01-01: a product is approved or published for quoting only with a plan on file.
pub async fn file_plan(svc: &Service, filer: &Actor, product_id: &str) {
    let doc = kebao_domain::rating::PlanDoc {
        basis: kebao_domain::rating::RateBasis::Limit,
        base: "0.008".into(),
        size_bands: vec![],
        limit_bands: vec![],
        deductible_bands: vec![],
        factors: vec![],
        min_premium_yuan: 1000,
        max_premium_yuan: None,
        factor_floor: None,
        factor_cap: None,
        underwriting: Default::default(),
        quote_valid_days: None,
    };
    svc.file_rating_plan(filer, product_id, "2026-01-01", doc).await.expect("file a rating plan");
}

/// A first-set subject: a new equipment model each call (so that policies of one test do
/// not count as years of one object unless a test means them to), its user the beneficiary.
pub fn equipment() -> kebao_domain::subject::Subject {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    equipment_model(&format!("HX-{n}"))
}

/// A first-set subject naming equipment `model`, its user the beneficiary.
pub fn equipment_model(model: &str) -> kebao_domain::subject::Subject {
    use kebao_domain::subject::{InsuredObject, ObjectKind, Party, Subject};
    Subject {
        object: Some(InsuredObject {
            kind: ObjectKind::Equipment,
            identifier: model.to_owned(),
            catalogue_entry: Some("首台（套）推广应用指导目录 2024 版".into()),
        }),
        insured: None,
        beneficiary: Some(Party { name: "武汉某装备用户有限公司".into(), uscc: None }),
    }
}

/// An insurer's filing returned by the zone's reviewer with `reason`: one event whose words
/// are kept beside it (the reason may name a person). Returns the product's id.
pub async fn returned_filing(svc: &Service, z: &Zone, reason: &str) -> String {
    use kebao_domain::product::{CoverageInput, ProductInput};
    let ins = svc
        .create_org(&operator(), &org_input("楚天财产保险股份有限公司湖北分公司", &uscc(51), "insurer"))
        .await
        .unwrap();
    let filer = user(svc, &ins.id, "filer.r", &[Role::ProductFiler]).await;
    let input = ProductInput {
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
    };
    let pid = svc.file_product(&filer, &ins.id, &input).await.unwrap();
    svc.submit_product(&filer, &pid).await.unwrap();
    let review = kebao_service::products::Review::RequestChanges { reason: reason.into() };
    svc.review_product(&z.reviewer, &pid, &review).await.unwrap();
    pid
}

/// An impact assessment of giving personal data to `org_id` (a separate personal consent to
/// it needs one).
pub async fn assess_recipient(svc: &Service, org_id: &str) {
    let input = kebao_domain::privacy::AssessmentInput {
        target: "recipient".into(),
        recipient_org_id: org_id.into(),
        purpose: "贷款审查中核实法定代表人、担保人的信用".into(),
        data: "个人信用记录（姓名、记录内容）".into(),
        recipients: "银行授信审查部门；经加密通道，仅限审查人员".into(),
        assessed_on: "2026-11-01".into(),
        reviewer: "陈静（合规负责人）".into(),
        conclusion: "用途限定、凭个人单独同意，风险可控".into(),
        ..Default::default()
    };
    svc.record_impact_assessment(&operator(), &input).await.unwrap();
}
