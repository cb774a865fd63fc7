//! Attachments (issue 14 §4), on both stores: one upload path and one download path for
//! product versions, claims, subsidy applications and consents, each under its owner's
//! rule; and migration 0014, which moved the three document tables and the consents'
//! evidence into `attachments` keeping their ids.

use crate::contract;
use crate::harness::*;
use kebao_domain::attachment::{Owner, OwnerKind};
use kebao_domain::consent::ConsentInput;
use kebao_domain::org::{Qualification, QualificationKind};
use kebao_domain::policy::UnderwritingRules;
use kebao_domain::product::{CoverageInput, ProductInput, CHECKLIST};
use kebao_domain::rating::{PlanDoc, QuoteInput, RateBasis};
use kebao_domain::user::Role;
use kebao_domain::Money;
use kebao_service::authz::Actor;
use kebao_service::products::Review;
use kebao_service::subsidies::Declarations;
use kebao_service::ServiceError;
use kebao_store::{OpenOptions, Store};
use time::macros::date;

const PDF: &[u8] = b"%PDF-1.7 attachment";

fn product_input(type_id: &str) -> ProductInput {
    ProductInput {
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
    }
}

struct Setup {
    z: Zone,
    filer: Actor,
    other_filer: Actor,
    uw: Actor,
    draft: String,
    claim: String,
    subsidy: String,
}

/// A draft product, a claim and a subsidy application of the zone's enterprise.
async fn setup(ctx: &Ctx) -> Setup {
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
    let filer = user(&ctx.svc, &ins.id, "filer.a", &[Role::ProductFiler]).await;
    let uw = user(&ctx.svc, &ins.id, "uw.a", &[Role::Underwriter]).await;
    let other =
        ctx.svc.create_org(&op, &org_input("江城科技保险股份有限公司", &uscc(52), "insurer")).await.unwrap();
    let other_filer = user(&ctx.svc, &other.id, "filer.x", &[Role::ProductFiler]).await;
    // A published product with an auto-accepting plan, a paid policy, a claim, an application.
    let pid = ctx.svc.file_product(&filer, &ins.id, &product_input("rd_liability")).await.unwrap();
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
    ctx.svc.file_rating_plan(&filer, &pid, "2026-01-01", plan).await.unwrap();
    ctx.svc.submit_product(&filer, &pid).await.unwrap();
    let items: Vec<String> = CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect();
    ctx.svc.set_product_checklist(&z.reviewer, &pid, &items).await.unwrap();
    ctx.svc.review_product(&z.reviewer, &pid, &Review::Approve).await.unwrap();
    ctx.svc.publish_product(&filer, &pid).await.unwrap();
    let quote = QuoteInput { limit: Money::from_fen(200_000_000), ..Default::default() };
    let a = ctx.svc.apply_for_policy(&z.ent_admin, &pid, &quote, &ctx.svc.today().to_string()).await.unwrap();
    let p = ctx
        .svc
        .my_policies(&z.ent_admin)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.application_id == a.id)
        .unwrap();
    ctx.svc.record_premium_paid(&uw, &p.id, p.premium, "B-1").await.unwrap();
    let subsidy = ctx
        .svc
        .apply_subsidy(&z.ent_admin, &p.id, "zone_tech_insurance", "", &Declarations::default())
        .await
        .unwrap()
        .id;
    let claim = ctx
        .svc
        .report_claim(
            &z.ent_admin,
            &p.id,
            &kebao_domain::claim::ClaimInput::new(
                &ctx.svc.today().to_string(),
                "实验室设备进水损坏",
                Money::from_fen(100_000),
            ),
        )
        .await
        .unwrap()
        .id;
    let draft = ctx.svc.file_product(&filer, &ins.id, &product_input("first_set_equipment")).await.unwrap();
    Setup { z, filer, other_filer, uw, draft, claim, subsidy }
}

fn consent_input(grantee: &str) -> ConsentInput {
    ConsentInput {
        grantee_id: grantee.into(),
        scopes: vec!["profile".into()],
        purpose: "loan_review".into(),
        valid_from: "2026-11-28".into(),
        expires_on: "2027-05-28".into(),
        signer_name: "张伟".into(),
        signer_title: "法定代表人".into(),
        ..Default::default()
    }
}

/// Uploads through `attach` and checks: one event, listed by owner, read back with its body
/// by the uploader, and refused (nothing written) to `outsider`.
async fn round_trip(ctx: &Ctx, by: &Actor, owner: &Owner, name: &str, outsider: &Actor) -> String {
    let before = state(ctx).await.1;
    // A subsidy application's file is filed as one of the documents its programme lists.
    let label = if owner.kind == OwnerKind::SubsidyApplication {
        let e = ctx.svc.attach(by, owner, name, PDF).await.unwrap_err();
        assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "unknown_document"), "{e:?}");
        let e = ctx.svc.attach_as(by, owner, "spaceship_manual", name, PDF).await.unwrap_err();
        assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "unknown_document"), "{e:?}");
        assert_eq!(state(ctx).await.1, before, "refused uploads write nothing");
        "application_form"
    } else {
        let e = ctx.svc.attach_as(by, owner, "application_form", name, PDF).await.unwrap_err();
        assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "unknown_document"), "{e:?}");
        ""
    };
    let a = ctx.svc.attach_as(by, owner, label, name, PDF).await.unwrap();
    assert_eq!(a.label, label);
    assert_eq!(state(ctx).await.1, before + 1, "one event per upload");
    assert_eq!((&a.owner, a.file_name.as_str(), a.size), (owner, name, i64::try_from(PDF.len()).unwrap()));
    let listed = ctx.svc.attachments(by, owner).await.unwrap();
    assert_eq!(listed.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(), vec![a.id.as_str()]);
    let (got, body) = ctx.svc.attachment(by, &a.id).await.unwrap();
    assert_eq!((got, body.as_slice()), (a.clone(), PDF));
    // Another organisation neither reads nor writes it.
    assert!(matches!(ctx.svc.attachment(outsider, &a.id).await, Err(ServiceError::NotFound)));
    assert!(matches!(ctx.svc.attachments(outsider, owner).await, Err(ServiceError::NotFound)));
    let e = ctx.svc.attach(outsider, owner, "x.pdf", PDF).await.unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden { .. }), "{e:?}");
    assert_eq!(state(ctx).await.1, before + 1, "a refused upload writes nothing");
    a.id
}

contract!(every_owner_kind_uploads_and_reads_through_one_path, |ctx: Ctx| async move {
    let s = setup(&ctx).await;
    let z = &s.z;
    // A product's draft version: its insurer's filer; another insurer is refused.
    let product = Owner::product_version(&s.draft, 1);
    let pd = round_trip(&ctx, &s.filer, &product, "条款.pdf", &s.other_filer).await;
    // The product's own view lists it, and the old download path serves it.
    assert_eq!(ctx.svc.product(&s.filer, &s.draft).await.unwrap().documents[0].id, pd);
    assert_eq!(ctx.svc.product_document(&s.filer, &pd).await.unwrap().1, PDF);
    // Only the open (newest) version takes documents.
    let e = ctx.svc.attach(&s.filer, &Owner::product_version(&s.draft, 2), "a.pdf", PDF).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "not_editable"), "{e:?}");
    // A claim: the insured enterprise; a bank is refused.
    let claim = Owner::claim(&s.claim);
    let cd = round_trip(&ctx, &z.ent_admin, &claim, "定损报告.pdf", &z.banker).await;
    let (d, _) = ctx.svc.claim_document(&z.ent_admin, &cd).await.unwrap();
    assert_eq!(d.owner.kind, OwnerKind::Claim);
    assert_eq!(ctx.svc.claim(&z.ent_admin, &s.claim).await.unwrap().documents, vec![d]);
    // A subsidy application: its enterprise; a bank is refused.
    let subsidy = Owner::subsidy_application(&s.subsidy);
    let sd = round_trip(&ctx, &z.ent_admin, &subsidy, "申请材料.pdf", &z.banker).await;
    let (_, _, docs) = ctx.svc.subsidy_application(&z.ent_admin, &s.subsidy).await.unwrap();
    assert_eq!(docs.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(), vec![sd.as_str()]);
    // The other paths refuse an attachment of another kind.
    assert!(matches!(ctx.svc.claim_document(&z.ent_admin, &sd).await, Err(ServiceError::NotFound)));
    assert!(matches!(ctx.svc.product_document(&z.ent_admin, &cd).await, Err(ServiceError::NotFound)));
    // A consent: its evidence is an attachment owned by it, under the id the consent names,
    // read by the enterprise and the grantee, not by others; nothing is attached later.
    let v = ctx
        .svc
        .grant_consent(&z.ent_admin, &z.enterprise, &consent_input(&z.bank), "授权书.pdf", PDF)
        .await
        .unwrap();
    let owner = Owner::consent(&v.consent.id);
    let listed = ctx.svc.attachments(&z.ent_admin, &owner).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, v.consent.evidence_document_id);
    assert_eq!(listed[0].sha256, v.consent.evidence_sha256);
    assert_eq!(listed[0].file_name, "授权书.pdf");
    let (a, body) = ctx.svc.attachment(&z.banker, &v.consent.evidence_document_id).await.unwrap();
    assert_eq!((a.owner, body.as_slice()), (owner.clone(), PDF));
    assert_eq!(ctx.svc.consent_evidence(&z.banker, &v.consent.id).await.unwrap().1, PDF);
    assert!(matches!(
        ctx.svc.attachment(&s.uw, &v.consent.evidence_document_id).await,
        Err(ServiceError::NotFound)
    ));
    let e = ctx.svc.attach(&z.ent_admin, &owner, "again.pdf", PDF).await.unwrap_err();
    assert!(matches!(e, ServiceError::Conflict(_)), "{e:?}");
    // The checks are the one domain check, whatever the owner.
    let e = ctx.svc.attach(&z.ent_admin, &claim, "x.exe", b"MZ").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "file_type"), "{e:?}");
    assert!(matches!(ctx.svc.attachment(&z.ent_admin, "missing").await, Err(ServiceError::NotFound)));
});

contract!(a_new_product_version_starts_with_copies_of_the_documents, |ctx: Ctx| async move {
    let s = setup(&ctx).await;
    let first =
        ctx.svc.attach(&s.filer, &Owner::product_version(&s.draft, 1), "条款.pdf", PDF).await.unwrap();
    let items: Vec<String> = CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect();
    file_plan(&ctx.svc, &s.filer, &s.draft).await;
    ctx.svc.submit_product(&s.filer, &s.draft).await.unwrap();
    ctx.svc.set_product_checklist(&s.z.reviewer, &s.draft, &items).await.unwrap();
    ctx.svc.review_product(&s.z.reviewer, &s.draft, &Review::Approve).await.unwrap();
    ctx.svc.publish_product(&s.filer, &s.draft).await.unwrap();
    // Published: the public reads the public version's documents.
    let (_, body) = ctx.svc.attachment(&Actor::Anonymous, &first.id).await.unwrap();
    assert_eq!(body, PDF);
    assert_eq!(ctx.svc.new_product_version(&s.filer, &s.draft).await.unwrap(), 2);
    let v2 = ctx.svc.attachments(&s.filer, &Owner::product_version(&s.draft, 2)).await.unwrap();
    assert_eq!(v2.len(), 1);
    assert_ne!(v2[0].id, first.id);
    assert_eq!((v2[0].sha256.as_str(), v2[0].file_name.as_str()), (first.sha256.as_str(), "条款.pdf"));
    // The draft version 2 is not public.
    assert!(matches!(ctx.svc.attachment(&Actor::Anonymous, &v2[0].id).await, Err(ServiceError::NotFound)));
});

/// A database at migration 0013 with one document of each kind and one consent, migrated
/// to 0014: every file reads back under its old id, owned as before; the old tables are gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0014_moves_every_document_into_attachments() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = Store::connect(&url, &OpenOptions { max_connections: 1 }).await.unwrap();
    assert_eq!(store.migrate_up_to(13).await.unwrap(), 12);
    {
        // The owners' rows are not needed to move documents: write only what 0014 reads.
        let mut conn = store.pool().acquire().await.unwrap();
        sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut *conn).await.unwrap();
        let sha = "ab".repeat(32);
        for sql in [
            format!("INSERT INTO blobs (sha256, size, content) VALUES ('{sha}', 15, x'255044462d312e3720617474616368')"),
            format!(
                "INSERT INTO product_documents VALUES ('pd1', 'p1', 2, '条款.pdf', 'application/pdf', '{sha}', 15, \
                 'user:f', 10)"
            ),
            format!(
                "INSERT INTO claim_documents VALUES ('cd1', 'c1', '定损.pdf', 'application/pdf', '{sha}', 15, \
                 '王（wang）', 11)"
            ),
            format!(
                "INSERT INTO subsidy_documents VALUES ('sd1', 's1', '申请.pdf', 'application/pdf', '{sha}', 15, \
                 'user:e', 12)"
            ),
            format!(
                "INSERT INTO consents (id, enterprise_id, grantee_id, kind, scopes, purpose, valid_from, expires_on, \
                 signer_name, signer_title, person_name, person_role, evidence_sha256, evidence_document_id, \
                 evidence_file_name, evidence_media_type, revoked_at_us, created_at_us, created_by) VALUES \
                 ('k1', 'e1', 'b1', 'enterprise', 'profile', 'loan_review', '2026-11-28', '2027-05-28', '张伟', \
                 '法定代表人', NULL, NULL, '{sha}', 'ed1', '授权书.pdf', 'application/pdf', NULL, 13, 'user:a')"
            ),
        ] {
            sqlx::query(&sql).execute(&mut *conn).await.unwrap();
        }
        conn.detach();
    }
    assert_eq!(store.migrate_up_to(14).await.unwrap(), 1);
    // The later migrations (collection accounts, attachment labels, policy subjects, jobs, retention, personal-data requests, loans, statistics, institution kinds, the index, the advisor, its broker mode, the lab's models) keep every row.
    assert_eq!(store.migrate().await.unwrap(), 23);
    let mut tx = store.begin_read().await.unwrap();
    let expect = [
        ("pd1", Owner::product_version("p1", 2), "条款.pdf", "user:f", 10),
        ("cd1", Owner::claim("c1"), "定损.pdf", "王（wang）", 11),
        ("sd1", Owner::subsidy_application("s1"), "申请.pdf", "user:e", 12),
        ("ed1", Owner::consent("k1"), "授权书.pdf", "user:a", 13),
    ];
    for (id, owner, name, by, at) in expect {
        let (a, body) = kebao_store::attachments::get_with_body(tx.conn(), id).await.unwrap();
        assert_eq!(
            (&a.owner, a.file_name.as_str(), a.uploaded_by.as_str(), a.uploaded_at_us, a.size),
            (&owner, name, by, at, 15)
        );
        assert_eq!((a.sha256.as_str(), a.media_type.as_str()), ("ab".repeat(32).as_str(), "application/pdf"));
        assert!(body.starts_with(b"%PDF"));
        let listed = kebao_store::attachments::of_owner(tx.conn(), &owner).await.unwrap();
        assert_eq!(listed, vec![a]);
    }
    for old in ["product_documents", "claim_documents", "subsidy_documents"] {
        assert!(
            sqlx::query(&format!("SELECT 1 FROM {old}")).execute(&mut *tx.conn()).await.is_err(),
            "{old}"
        );
    }
}
