//! Ids come from the injected id source: seeded in tests (and in the demo generator), so that
//! the same commands on the same clock give the same ids.

use crate::contract;
use crate::harness::*;
use kebao_domain::IndustryMap;
use kebao_service::authz::Authz;
use kebao_service::{Config, FixedClock, IdSource, SeededIds, Service, CATALOGUE};
use kebao_store::{OpenOptions, Store};
use std::sync::Arc;

/// The ids a small zone's set-up makes: organisations and users, in the order they were made.
async fn zone_ids(svc: &Service) -> Vec<String> {
    let z = zone(svc).await;
    let mut ids = vec![z.enterprise.clone(), z.bank.clone()];
    for a in [&z.ent_admin, &z.banker, &z.reviewer, &z.admin, &z.regulator] {
        ids.push(a.log_name());
    }
    let page = svc.list_orgs(&z.admin, &Default::default(), None, 50).await.unwrap();
    let mut orgs: Vec<String> = page.items.into_iter().map(|o| o.id).collect();
    orgs.sort();
    ids.extend(orgs);
    ids
}

async fn seeded_service(dir: &tempfile::TempDir, seed: u64) -> Service {
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = Store::open(&url, &OpenOptions::default()).await.unwrap();
    Service::new(
        store,
        Authz::embedded().unwrap(),
        IndustryMap::from_toml(CATALOGUE).unwrap(),
        Arc::new(FixedClock::new(T0_US)),
        Config::default(),
    )
    .with_ids(Arc::new(SeededIds::new(seed)))
}

/// The id source does not touch the store, so two fresh SQLite databases suffice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_and_clock_give_the_same_ids() {
    let (d1, d2, d3) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = zone_ids(&seeded_service(&d1, 7).await).await;
    let b = zone_ids(&seeded_service(&d2, 7).await).await;
    assert_eq!(a, b);
    let c = zone_ids(&seeded_service(&d3, 8).await).await;
    assert_ne!(a, c, "another seed gives other ids");
}

#[test]
fn seeded_ids_are_uuidv7_ordered_by_creation() {
    let ids = SeededIds::new(1);
    // A clock that stands still, then one that goes back: ids still sort as they were made.
    let times = [T0_US, T0_US, T0_US, T0_US + 5_000, T0_US - 60_000_000, T0_US + 10_000];
    let made: Vec<uuid::Uuid> = times.iter().map(|&t| ids.next_id(t)).collect();
    for u in &made {
        assert_eq!(u.get_version_num(), 7);
        assert_eq!(u.get_variant(), uuid::Variant::RFC4122);
    }
    let text: Vec<String> = made.iter().map(ToString::to_string).collect();
    let mut sorted = text.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, text);
    // The timestamp is the injected clock's millisecond.
    let (secs, _) = made[0].get_timestamp().unwrap().to_unix();
    assert_eq!(i64::try_from(secs).unwrap(), T0_US / 1_000_000);
}

contract!(test_services_make_ordered_uuidv7_ids, |ctx: Ctx| async move {
    let op = operator();
    let a = ctx.svc.create_org(&op, &org_input("甲公司", &uscc(21), "enterprise")).await.unwrap();
    let b = ctx.svc.create_org(&op, &org_input("乙公司", &uscc(22), "bank")).await.unwrap();
    for id in [&a.id, &b.id] {
        let u = uuid::Uuid::parse_str(id).unwrap();
        assert_eq!(u.get_version_num(), 7);
    }
    assert!(a.id < b.id, "ids sort in the order they were made");
    // The first id of a fresh seeded service is the same on every backend.
    assert_eq!(a.id, SeededIds::new(ID_SEED).next_id(T0_US).to_string());
});
