//! The authorisation matrix of C4–C6: for every step of an application, a policy, a claim, a
//! dispute and a subsidy application (or national file), in every state it rests in, for
//! every role of the actor's own and of another organisation, what the service says the
//! actor may do now is what `data/authz_matrix_c4_c6.csv` expects. The CSV is written by
//! `data/authz_matrix_c4_c6.py` from the rules as stated, independently of the Cedar
//! policies and of the service.
//!
//! Each state is built once, through the service API, and asked about for all 24 actors.

use crate::contract;
use crate::harness::*;
use kebao_domain::claim::{ClaimInput, ClaimOutcome, ClaimStep};
use kebao_domain::dispute::{DisputeStep, Forum};
use kebao_domain::org::{Qualification, QualificationKind};
use kebao_domain::policy::{ApplicationStep, PolicyStep, UnderwritingRules};
use kebao_domain::product::{CoverageInput, ProductInput, CHECKLIST};
use kebao_domain::rating::{PlanDoc, QuoteInput, RateBasis};
use kebao_domain::subsidy::SubsidyStep;
use kebao_domain::user::Role;
use kebao_domain::Money;
use kebao_service::authz::Actor;
use kebao_service::products::Review;
use kebao_service::subsidies::Declarations;
use kebao_service::Service;
use std::collections::{BTreeMap, BTreeSet};
use time::macros::date;

const DAY: i64 = 86_400_000_000;

/// The steps of each resource, as the API takes them.
fn steps(resource: &str) -> &'static [&'static str] {
    match resource {
        "application" => &["accept", "decline", "bind"],
        "policy" => &["pay_premium", "endorse", "cancel", "refund", "renew", "coinsure", "report_claim"],
        "claim" => &["assign", "reserve", "decide", "pay", "close", "reopen", "complain"],
        "dispute" => &["take", "session", "settle", "escalate"],
        "subsidy" => &[
            "local_review",
            "department_review",
            "approve",
            "disburse",
            "reject",
            "claw_back",
            "confirm",
            "recommend",
            "forward",
            "decision",
        ],
        other => panic!("unknown resource {other}"),
    }
}

/// The steps (codes) `actor` may take on resource `id` now, as the service says.
async fn observed(svc: &Service, actor: &Actor, resource: &str, id: &str) -> BTreeSet<String> {
    fn codes<S: Copy>(v: Vec<S>, code: fn(S) -> &'static str) -> BTreeSet<String> {
        v.into_iter().map(|s| code(s).to_owned()).collect()
    }
    match resource {
        "application" => codes(svc.application_actions(actor, id).await.unwrap(), ApplicationStep::code),
        "policy" => codes(svc.policy_actions(actor, id).await.unwrap(), PolicyStep::code),
        "claim" => codes(svc.claim_actions(actor, id).await.unwrap(), ClaimStep::code),
        "dispute" => codes(svc.dispute_actions(actor, id).await.unwrap(), DisputeStep::code),
        "subsidy" => codes(svc.subsidy_actions(actor, id).await.unwrap(), SubsidyStep::code),
        other => panic!("unknown resource {other}"),
    }
}

/// The state of a resource as the CSV names it: the status code; a claim's decision split
/// by outcome (`decided_pay` for pay or partial, `decided_deny`); a subsidy application's
/// status prefixed by its track (`zone:`, `auto:` for auto-grant offers, `national:`).
async fn state_of(ctx: &Ctx, resource: &str, id: &str) -> String {
    let svc = &ctx.svc;
    let op = operator();
    match resource {
        "application" => {
            let mut tx = ctx.store.begin_read().await.unwrap();
            kebao_store::policies::application(tx.conn(), id).await.unwrap().status.code().to_owned()
        }
        "policy" => svc.policy(&op, id).await.unwrap().policy.status.code().to_owned(),
        "claim" => {
            let c = svc.claim(&op, id).await.unwrap().claim;
            match (c.status.code(), c.outcome) {
                ("decided", Some(ClaimOutcome::Deny)) => "decided_deny".to_owned(),
                ("decided", _) => "decided_pay".to_owned(),
                (s, _) => s.to_owned(),
            }
        }
        "dispute" => svc.dispute(&op, id).await.unwrap().dispute.status.code().to_owned(),
        "subsidy" => {
            let a = svc.subsidy_application(&op, id).await.unwrap().0;
            format!("{}:{}", a.track, a.status.code())
        }
        other => panic!("unknown resource {other}"),
    }
}

// ---------------------------------------------------------------------------------------
// Fixtures: two enterprises, two insurers, two mediation centres, two banks, the zone office
// and another government organisation; a user of every role in each (of the kinds the
// role fits). The resources belong to the first of each kind.
// ---------------------------------------------------------------------------------------

const ROLES: [Role; 12] = [
    Role::EnterpriseAdmin,
    Role::EnterpriseStaff,
    Role::OrgAdmin,
    Role::ProductFiler,
    Role::Underwriter,
    Role::ClaimsHandler,
    Role::Mediator,
    Role::BankOfficer,
    Role::ZoneReviewer,
    Role::ZoneApprover,
    Role::Regulator,
    Role::PlatformAdmin,
];

/// The kind of organisation whose member holds the role in the matrix.
fn kind_of(role: Role) -> &'static str {
    match role {
        Role::EnterpriseAdmin | Role::EnterpriseStaff => "enterprise",
        Role::OrgAdmin | Role::ProductFiler | Role::Underwriter | Role::ClaimsHandler => "insurer",
        Role::Mediator => "service_body",
        Role::BankOfficer => "bank",
        Role::ZoneReviewer | Role::ZoneApprover | Role::Regulator | Role::PlatformAdmin => "government",
    }
}

struct World {
    /// (role, "own" | "other") → actor.
    actors: BTreeMap<(&'static str, &'static str), Actor>,
    enterprise: String,
    rd: String,
    fs: String,
}

impl World {
    fn own(&self, role: Role) -> &Actor {
        &self.actors[&(role.code(), "own")]
    }
}

async fn world(svc: &Service) -> World {
    let op = operator();
    let mut orgs: BTreeMap<(&str, &str), String> = BTreeMap::new();
    let mut n = 700;
    for kind in ["enterprise", "insurer", "service_body", "bank", "government"] {
        for rel in ["own", "other"] {
            n += 1;
            let o =
                svc.create_org(&op, &org_input(&format!("{kind}-{rel}机构"), &uscc(n), kind)).await.unwrap();
            orgs.insert((kind, rel), o.id);
        }
    }
    let mut actors = BTreeMap::new();
    for role in ROLES {
        for rel in ["own", "other"] {
            let org = &orgs[&(kind_of(role), rel)];
            let a = user(svc, org, &format!("{}.{rel}", role.code()), &[role]).await;
            actors.insert((role.code(), rel), a);
        }
    }
    let enterprise = orgs[&("enterprise", "own")].clone();
    let q = Qualification {
        kind: QualificationKind::HighTech,
        valid_from: date!(2025 - 01 - 01),
        valid_to: date!(2028 - 12 - 31),
        certificate_no: None,
    };
    svc.add_qualification(&op, &enterprise, q).await.unwrap();
    let mut w = World { actors, enterprise, rd: String::new(), fs: String::new() };
    w.rd = product(svc, &w, "rd_liability").await;
    w.fs = product(svc, &w, "first_set_equipment").await;
    w
}

/// A product of the own insurer, published with a plan at 1 % of the limit that accepts up
/// to 1,000,000 yuan, refers above and declines three claims in three years.
async fn product(svc: &Service, w: &World, type_id: &str) -> String {
    let filer = w.own(Role::ProductFiler);
    let reviewer = w.own(Role::ZoneReviewer);
    let ins = filer.org_id().unwrap().to_owned();
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
        stages: vec!["rnd".into(), "commercialisation".into(), "market".into()],
        ..Default::default()
    };
    let pid = svc.file_product(filer, &ins, &input).await.unwrap();
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
            auto_accept_max_limit_yuan: Some(1_000_000),
            decline_claims_3y: Some(3),
            refer_if_claims: false,
        },
        quote_valid_days: None,
    };
    svc.file_rating_plan(filer, &pid, "2026-01-01", plan).await.unwrap();
    svc.submit_product(filer, &pid).await.unwrap();
    let items: Vec<String> = CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect();
    svc.set_product_checklist(reviewer, &pid, &items).await.unwrap();
    svc.review_product(reviewer, &pid, &Review::Approve).await.unwrap();
    svc.publish_product(filer, &pid).await.unwrap();
    pid
}

fn quote(limit_yuan: i64, claims_3y: u32) -> QuoteInput {
    QuoteInput { limit: Money::from_fen(limit_yuan * 100), claims_3y, ..Default::default() }
}

/// Applies (from today) and returns the application's id.
async fn apply(svc: &Service, w: &World, pid: &str, q: &QuoteInput) -> String {
    let today = svc.today().to_string();
    // Every policy names an object and a beneficiary: the first-set programme asks for them.
    svc.apply_for_policy_with(w.own(Role::EnterpriseAdmin), pid, q, &today, &equipment()).await.unwrap().id
}

/// Binds a policy of 500,000 yuan from today and returns its id; with its premium paid
/// when `paid`.
async fn policy(svc: &Service, w: &World, pid: &str, paid: bool) -> String {
    let app = apply(svc, w, pid, &quote(500_000, 0)).await;
    let ent = w.own(Role::EnterpriseAdmin);
    let p = svc.my_policies(ent).await.unwrap().into_iter().find(|p| p.application_id == app).unwrap();
    if paid {
        let uw = w.own(Role::Underwriter);
        svc.record_premium_paid(uw, &p.id, p.premium, &format!("B-{}", p.id)).await.unwrap();
    }
    p.id
}

/// Applies for a subsidy (or a national file's stage) on a new paid policy of `pid`.
async fn subsidy(svc: &Service, w: &World, pid: &str, programme: &str, stage: &str) -> String {
    let pol = policy(svc, w, pid, true).await;
    let ent = w.own(Role::EnterpriseAdmin);
    let id = svc.apply_subsidy(ent, &pol, programme, stage, &Declarations::default()).await.unwrap().id;
    file_documents(svc, ent, &id).await;
    id
}

/// The offer of the zone programme's auto-grant on `policy`.
async fn offer_on(svc: &Service, w: &World, policy: &str) -> String {
    let ent = w.own(Role::EnterpriseAdmin);
    svc.subsidy_applications(ent)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.policy_id.as_deref() == Some(policy))
        .unwrap()
        .id
}

/// Builds one resource in every state of the matrix: (resource, state) → id.
async fn build(ctx: &Ctx, w: &World) -> BTreeMap<(String, String), String> {
    let svc = &ctx.svc;
    let mut out = BTreeMap::new();
    let mut put = |r: &str, s: &str, id: String| {
        out.insert((r.to_owned(), s.to_owned()), id);
    };
    let ent = w.own(Role::EnterpriseAdmin);
    let reviewer = w.own(Role::ZoneReviewer);
    let approver = w.own(Role::ZoneApprover);
    let handler = w.own(Role::ClaimsHandler);
    let mediator = w.own(Role::Mediator);
    let zp = "zone_tech_insurance";

    // Auto-grant first, while the only policies are the ones offered: one offer lapses
    // (not confirmed in time), the next is left waiting.
    let a1 = policy(svc, w, &w.rd, true).await;
    assert_eq!(svc.offer_auto_grants(approver, zp).await.unwrap(), 1);
    let lapsed = offer_on(svc, w, &a1).await;
    ctx.clock.advance_us(10 * DAY);
    let a2 = policy(svc, w, &w.rd, true).await;
    assert_eq!(svc.offer_auto_grants(approver, zp).await.unwrap(), 1);
    put("subsidy", "auto:lapsed", lapsed);
    put("subsidy", "auto:offered", offer_on(svc, w, &a2).await);

    // Zone programme.
    let mut zone = BTreeMap::new();
    for s in ["submitted", "local_reviewed", "in_notice", "approved", "disbursed", "rejected", "clawed_back"]
    {
        zone.insert(s, subsidy(svc, w, &w.rd, zp, "").await);
    }
    for s in ["local_reviewed", "in_notice", "approved", "disbursed", "clawed_back"] {
        svc.subsidy_local_review(reviewer, &zone[s], true, "").await.unwrap();
    }
    svc.reject_subsidy(approver, &zone["rejected"], "材料不全").await.unwrap();
    for s in ["in_notice", "approved", "disbursed", "clawed_back"] {
        svc.subsidy_department_review(approver, &zone[s], true, "").await.unwrap();
    }
    ctx.clock.advance_us(8 * DAY);
    for s in ["approved", "disbursed", "clawed_back"] {
        svc.approve_subsidy(approver, &zone[s]).await.unwrap();
    }
    for s in ["disbursed", "clawed_back"] {
        svc.disburse_subsidy(approver, &zone[s], &format!("GK-{s}")).await.unwrap();
    }
    svc.claw_back_subsidy(approver, &zone["clawed_back"], false, "保单已退保").await.unwrap();
    for (s, id) in zone {
        put("subsidy", &format!("zone:{s}"), id);
    }

    // National files: qualification files, then funding files of the qualified enterprise.
    let step = |id: String, step: &'static str, pass: bool, amount: i64, reference: &'static str| {
        let svc = svc.clone();
        let who = if step == "recommend" { reviewer.clone() } else { approver.clone() };
        async move {
            svc.national_step(
                &who,
                &id,
                SubsidyStep::from_code(step).unwrap(),
                pass,
                Money::from_fen(amount),
                reference,
            )
            .await
            .unwrap();
        }
    };
    let mut nat = BTreeMap::new();
    for s in ["submitted", "recommended", "forwarded", "qualified", "not_qualified"] {
        nat.insert(s, subsidy(svc, w, &w.fs, "first_set", "qualification").await);
    }
    for s in ["recommended", "forwarded", "qualified", "not_qualified"] {
        step(nat[s].clone(), "recommend", true, 0, "").await;
    }
    for s in ["forwarded", "qualified", "not_qualified"] {
        step(nat[s].clone(), "forward", true, 0, "").await;
    }
    step(nat["qualified"].clone(), "decision", true, 0, "工信部装备函〔2026〕12号").await;
    step(nat["not_qualified"].clone(), "decision", false, 0, "工信部装备函〔2026〕13号").await;
    for (s, pass) in [("granted", true), ("refused", false)] {
        let id = subsidy(svc, w, &w.fs, "first_set", "funding").await;
        step(id.clone(), "recommend", true, 0, "").await;
        step(id.clone(), "forward", true, 0, "").await;
        step(id.clone(), "decision", pass, 400_000, "财建〔2026〕88号").await;
        nat.insert(s, id);
    }
    for (s, id) in nat {
        put("subsidy", &format!("national:{s}"), id);
    }

    // Applications: referred (over the auto-accept limit), declined (by the claims rule),
    // bound (within it).
    put("application", "referred", apply(svc, w, &w.rd, &quote(2_000_000, 0)).await);
    put("application", "declined", apply(svc, w, &w.rd, &quote(500_000, 3)).await);
    put("application", "bound", apply(svc, w, &w.rd, &quote(500_000, 0)).await);

    // Policies.
    put("policy", "in_force", policy(svc, w, &w.rd, false).await);
    let cancelled = policy(svc, w, &w.rd, false).await;
    let today = svc.today().to_string();
    svc.cancel_policy(ent, &cancelled, &today, "不再需要该保障").await.unwrap();
    put("policy", "cancelled", cancelled);

    // Claims, all on one policy; the disputes' claims are denied.
    let cover = policy(svc, w, &w.rd, false).await;
    let claim = || {
        let svc = svc.clone();
        let (ent, cover, today) = (ent.clone(), cover.clone(), today.clone());
        async move {
            svc.report_claim(
                &ent,
                &cover,
                &ClaimInput::new(&today, "研发样机起火，设备受损", Money::from_fen(5_000_000)),
            )
            .await
            .unwrap()
            .id
        }
    };
    let denied = || {
        let svc = svc.clone();
        let handler = handler.clone();
        let claim = claim();
        async move {
            let id = claim.await;
            svc.assign_claim(&handler, &id).await.unwrap();
            svc.decide_claim(&handler, &id, ClaimOutcome::Deny, Money::ZERO, "不属于保险责任").await.unwrap();
            id
        }
    };
    put("claim", "reported", claim().await);
    let investigating = claim().await;
    svc.assign_claim(handler, &investigating).await.unwrap();
    put("claim", "investigating", investigating);
    let pay = claim().await;
    svc.assign_claim(handler, &pay).await.unwrap();
    svc.set_claim_reserve(handler, &pay, Money::from_fen(5_000_000)).await.unwrap();
    svc.decide_claim(handler, &pay, ClaimOutcome::Pay, Money::ZERO, "").await.unwrap();
    put("claim", "decided_pay", pay);
    put("claim", "decided_deny", denied().await);
    let closed = denied().await;
    svc.close_claim(handler, &closed).await.unwrap();
    put("claim", "closed", closed);

    // Disputes: complaints about denied claims; the own centre's mediator takes them.
    let mut disputes = BTreeMap::new();
    for s in ["complained", "mediating", "settled", "escalated"] {
        let c = denied().await;
        disputes.insert(s, svc.complain(ent, &c, "拒赔理由不成立，请求调解").await.unwrap().id);
    }
    for s in ["mediating", "settled", "escalated"] {
        svc.take_dispute(mediator, &disputes[s]).await.unwrap();
    }
    svc.conclude_dispute(mediator, &disputes["settled"], true, None, "双方达成和解").await.unwrap();
    svc.conclude_dispute(mediator, &disputes["escalated"], false, Some(Forum::Arbitration), "调解不成")
        .await
        .unwrap();
    for (s, id) in disputes {
        put("dispute", s, id);
    }
    out
}

/// One row of the CSV for a (resource, state): step, role, relation, whether allowed.
type Row = (String, String, String, bool);

contract!(the_c4_c6_matrix_holds, |ctx: Ctx| async move {
    let started = std::time::Instant::now();
    let svc = &ctx.svc;
    let w = world(svc).await;
    assert_eq!(w.enterprise, w.own(Role::EnterpriseAdmin).org_id().unwrap());
    let built = build(&ctx, &w).await;
    for ((resource, state), id) in &built {
        assert_eq!(&state_of(&ctx, resource, id).await, state, "the {resource} built as {state} ({id})");
    }
    let fixtures = started.elapsed();

    // The CSV: (resource, state) → [(step, role, relation, expected)].
    let csv = include_str!("data/authz_matrix_c4_c6.csv");
    let mut rows: BTreeMap<(String, String), Vec<Row>> = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.splitn(7, ',').collect();
        assert!(f.len() == 7 && matches!(f[5], "allow" | "deny"), "bad CSV line: {line}");
        assert!(steps(f[0]).contains(&f[2]), "unknown step in: {line}");
        rows.entry((f[0].to_owned(), f[1].to_owned())).or_default().push((
            f[2].to_owned(),
            f[3].to_owned(),
            f[4].to_owned(),
            f[5] == "allow",
        ));
    }
    let missing: Vec<_> = rows.keys().filter(|k| !built.contains_key(*k)).collect();
    assert!(missing.is_empty(), "states of the CSV not built: {missing:?}");
    let extra: Vec<_> = built.keys().filter(|k| !rows.contains_key(*k)).collect();
    assert!(extra.is_empty(), "states built but not in the CSV: {extra:?}");

    let (mut n, mut allows, mut unexpected_allows, mut unexpected_denies) = (0, 0, Vec::new(), Vec::new());
    for ((resource, state), expected) in &rows {
        let id = &built[&(resource.clone(), state.clone())];
        let mut seen: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        for (step, role, relation, allow) in expected {
            let key = (role.clone(), relation.clone());
            if !seen.contains_key(&key) {
                let actor = w
                    .actors
                    .iter()
                    .find(|((r, rel), _)| *r == role.as_str() && *rel == relation.as_str())
                    .map(|(_, a)| a)
                    .unwrap_or_else(|| panic!("no actor {role}/{relation}"));
                seen.insert(key.clone(), observed(svc, actor, resource, id).await);
            }
            let got = seen[&key].contains(step);
            n += 1;
            allows += usize::from(*allow);
            if got != *allow {
                let line = format!(
                    "{resource} {state} {step} {role} {relation} expected={} got={}",
                    if *allow { "allow" } else { "deny" },
                    if got { "allow" } else { "deny" }
                );
                if got {
                    unexpected_allows.push(line);
                } else {
                    unexpected_denies.push(line);
                }
            }
        }
    }
    for l in unexpected_allows.iter().chain(&unexpected_denies) {
        eprintln!("MISMATCH {l}");
    }
    eprintln!(
        "C4–C6 matrix: {n} rows ({allows} allows) over {} states; {} unexpected allows, {} unexpected denies; fixtures {:?}, total {:?}",
        rows.len(),
        unexpected_allows.len(),
        unexpected_denies.len(),
        fixtures,
        started.elapsed()
    );
    assert!(
        unexpected_allows.is_empty() && unexpected_denies.is_empty(),
        "{} unexpected allows, {} unexpected denies (listed above)",
        unexpected_allows.len(),
        unexpected_denies.len()
    );
});
