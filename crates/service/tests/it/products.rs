//! The product catalogue and regional registration (issue 6), on both stores.

use crate::contract;
use crate::harness::*;
use kebao_domain::catalogue::ProductLine;
use kebao_domain::org::LifecycleStage;
use kebao_domain::product::{documents, CoverageInput, FilingStatus, ProductInput, CHECKLIST};
use kebao_domain::user::Role;
use kebao_service::authz::Actor;
use kebao_service::products::{PortalQuery, Review};
use kebao_service::ServiceError;

struct Insurers {
    a: String,
    b: String,
    filer_a: Actor,
    filer_b: Actor,
}

async fn insurers(ctx: &Ctx) -> Insurers {
    let op = operator();
    let a = ctx
        .svc
        .create_org(&op, &org_input("楚天财产保险股份有限公司湖北分公司", &uscc(31), "insurer"))
        .await
        .unwrap();
    let b =
        ctx.svc.create_org(&op, &org_input("江城科技保险股份有限公司", &uscc(32), "insurer")).await.unwrap();
    Insurers {
        filer_a: user(&ctx.svc, &a.id, "filer.a", &[Role::ProductFiler]).await,
        filer_b: user(&ctx.svc, &b.id, "filer.b", &[Role::ProductFiler]).await,
        a: a.id,
        b: b.id,
    }
}

fn input(type_id: &str, name: &str, limit: &str, deductible: &str) -> ProductInput {
    ProductInput {
        type_id: type_id.into(),
        name: name.into(),
        summary: format!("{name}：为东湖科技企业提供保障。"),
        coverages: vec![CoverageInput {
            name: "主险责任".into(),
            limit_yuan: limit.into(),
            deductible_yuan: deductible.into(),
            note: String::new(),
        }],
        term_months: "12".into(),
        premium_basis: "sum_insured".into(),
        rate_text: "按备案费率".into(),
        contact_name: "王经理".into(),
        contact_phone: "027-87654321".into(),
        ..ProductInput::default()
    }
}

fn all_items() -> Vec<String> {
    CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect()
}

/// Files, submits, approves and publishes; returns the product id.
async fn registered(ctx: &Ctx, filer: &Actor, insurer: &str, reviewer: &Actor, p: ProductInput) -> String {
    let id = ctx.svc.file_product(filer, insurer, &p).await.unwrap();
    file_plan(&ctx.svc, filer, &id).await;
    ctx.svc.submit_product(filer, &id).await.unwrap();
    ctx.svc.set_product_checklist(reviewer, &id, &all_items()).await.unwrap();
    ctx.svc.review_product(reviewer, &id, &Review::Approve).await.unwrap();
    ctx.svc.publish_product(filer, &id).await.unwrap();
    id
}

async fn events(ctx: &Ctx) -> u64 {
    state(ctx).await.1
}

contract!(a_filing_goes_from_draft_to_the_portal_with_an_event_each_step, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let ins = insurers(&ctx).await;
    let anon = Actor::Anonymous;
    let e0 = events(&ctx).await;
    let id = ctx
        .svc
        .file_product(
            &ins.filer_a,
            &ins.a,
            &input("patent_enforcement", "专利执行保险（光谷版）", "500000", "5000"),
        )
        .await
        .unwrap();
    assert_eq!(events(&ctx).await, e0 + 1);
    // A draft is not public, and another insurer does not see it.
    assert!(matches!(ctx.svc.product(&anon, &id).await, Err(ServiceError::NotFound)));
    assert!(matches!(ctx.svc.product(&ins.filer_b, &id).await, Err(ServiceError::NotFound)));
    assert!(ctx.svc.my_products(&ins.filer_b).await.unwrap().is_empty());
    assert_eq!(ctx.svc.my_products(&ins.filer_a).await.unwrap().len(), 1);
    // Submit: a to-do for the zone's reviewers.
    ctx.svc.submit_product(&ins.filer_a, &id).await.unwrap();
    let q = ctx.svc.review_queue(&z.reviewer).await.unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].version.status, FilingStatus::InReview);
    // The reviewer asks for changes with a reason; the insurer edits and resubmits.
    let v = ctx
        .svc
        .review_product(
            &z.reviewer,
            &id,
            &Review::RequestChanges { reason: "请补充免责条款的显著提示".into() },
        )
        .await
        .unwrap();
    assert_eq!(v.status, FilingStatus::ChangesRequested);
    ctx.svc.comment_product(&ins.filer_a, &id, "已补充，见第 5 条").await.unwrap();
    let mut edited = input("patent_enforcement", "专利执行保险（光谷版）", "800000", "5000");
    edited.stages = vec!["market".into()];
    ctx.svc.update_product(&ins.filer_a, &id, &edited).await.unwrap();
    ctx.svc.submit_product(&ins.filer_a, &id).await.unwrap();
    // Approval needs the whole checklist.
    ctx.svc.set_product_checklist(&z.reviewer, &id, &all_items()[..3]).await.unwrap();
    let e = ctx.svc.review_product(&z.reviewer, &id, &Review::Approve).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "checklist_incomplete"), "{e:?}");
    ctx.svc.set_product_checklist(&z.reviewer, &id, &all_items()).await.unwrap();
    // Approval for quoting needs a rating plan on file.
    let e = ctx.svc.review_product(&z.reviewer, &id, &Review::Approve).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Conflict(f) if f.code == "no_rating_plan"), "{e:?}");
    file_plan(&ctx.svc, &ins.filer_a, &id).await;
    let v = ctx.svc.review_product(&z.reviewer, &id, &Review::Approve).await.unwrap();
    assert_eq!(v.status, FilingStatus::Approved);
    assert_eq!(v.registration_no.as_deref(), Some("DHKB-2026-0001"));
    // Publish: on the portal, searchable.
    ctx.svc.publish_product(&ins.filer_a, &id).await.unwrap();
    let view = ctx.svc.product(&anon, &id).await.unwrap();
    assert_eq!(view.shown.status, FilingStatus::Published);
    assert!(view.comments.is_empty(), "the public does not see review comments");
    assert_eq!(view.versions.len(), 1);
    let insurer_view = ctx.svc.product(&ins.filer_a, &id).await.unwrap();
    assert_eq!(insurer_view.comments.len(), 3, "{:?}", insurer_view.comments);
    assert!(insurer_view.can_withdraw && insurer_view.can_new_version && !insurer_view.can_edit);
    // filed, submitted, changes requested, commented, updated, submitted, checklist ×2,
    // rating plan filed, approved, published.
    assert_eq!(events(&ctx).await, e0 + 11);
    let h = ctx.svc.history(&operator(), &id, 20).await.unwrap();
    let actions: Vec<&str> = h.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"product.approved") && actions.contains(&"product.published"), "{actions:?}");
    // A new version stays private until it is approved and published; the old one stays public.
    let v2 = ctx.svc.new_product_version(&ins.filer_a, &id).await.unwrap();
    assert_eq!(v2, 2);
    let mut v2in = edited.clone();
    v2in.name = "专利执行保险（光谷版 2027）".into();
    ctx.svc.update_product(&ins.filer_a, &id, &v2in).await.unwrap();
    assert_eq!(ctx.svc.product(&anon, &id).await.unwrap().shown.version, 1);
    ctx.svc.submit_product(&ins.filer_a, &id).await.unwrap();
    ctx.svc.set_product_checklist(&z.reviewer, &id, &all_items()).await.unwrap();
    let v = ctx.svc.review_product(&z.reviewer, &id, &Review::Approve).await.unwrap();
    assert_eq!(v.registration_no.as_deref(), Some("DHKB-2026-0002"));
    ctx.svc.publish_product(&ins.filer_a, &id).await.unwrap();
    let view = ctx.svc.product(&anon, &id).await.unwrap();
    assert_eq!(view.shown.version, 2);
    let all = ctx.svc.product(&ins.filer_a, &id).await.unwrap();
    assert_eq!(all.versions[1].status, FilingStatus::Superseded);
    // Withdraw: off the portal and out of search, still on the roster.
    ctx.svc.withdraw_product(&ins.filer_a, &id).await.unwrap();
    assert!(matches!(ctx.svc.product(&anon, &id).await, Err(ServiceError::NotFound)));
    let q = PortalQuery { q: Some("专利".into()), per_page: 20, ..Default::default() };
    assert_eq!(ctx.svc.portal(&q).await.unwrap().total, 0);
    assert_eq!(ctx.svc.registered_roster().await.unwrap().len(), 2);
});

contract!(bad_filings_get_clear_errors_and_change_nothing, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let ins = insurers(&ctx).await;
    let before = events(&ctx).await;
    // A product type that does not exist.
    let e = ctx.svc.file_product(&ins.filer_a, &ins.a, &input("flying_car", "飞行汽车险", "100", "0")).await;
    assert!(matches!(&e, Err(ServiceError::Invalid(i)) if i.0[0].code == "unknown_type"), "{e:?}");
    // A limit below the deductible.
    let e = ctx
        .svc
        .file_product(&ins.filer_a, &ins.a, &input("rd_liability", "研发责任险", "1000", "5000"))
        .await;
    assert!(
        matches!(&e, Err(ServiceError::Invalid(i)) if i.0[0].code == "limit_below_deductible"
            && i.0[0].field == "coverages[0].limit_yuan"),
        "{e:?}"
    );
    // Filing for another insurer.
    let e =
        ctx.svc.file_product(&ins.filer_a, &ins.b, &input("rd_liability", "研发责任险", "100000", "0")).await;
    assert!(matches!(e, Err(ServiceError::Forbidden { .. })), "{e:?}");
    // An enterprise, a bank officer cannot file.
    let e =
        ctx.svc.file_product(&z.ent_admin, &ins.a, &input("rd_liability", "研发责任险", "100000", "0")).await;
    assert!(matches!(e, Err(ServiceError::Forbidden { .. })), "{e:?}");
    assert_eq!(events(&ctx).await, before);

    let id = ctx
        .svc
        .file_product(&ins.filer_a, &ins.a, &input("rd_liability", "研发责任险", "1000000", "10000"))
        .await
        .unwrap();
    file_plan(&ctx.svc, &ins.filer_a, &id).await;
    let before = events(&ctx).await;
    // Another insurer editing, submitting, publishing, uploading.
    let good = input("rd_liability", "研发责任险（改）", "1000000", "10000");
    for e in [
        ctx.svc.update_product(&ins.filer_b, &id, &good).await,
        ctx.svc.submit_product(&ins.filer_b, &id).await,
        ctx.svc.publish_product(&ins.filer_b, &id).await,
        ctx.svc.add_product_document(&ins.filer_b, &id, "a.txt", b"x").await.map(|_| ()),
    ] {
        assert!(matches!(e, Err(ServiceError::Forbidden { .. })), "{e:?}");
    }
    // An enterprise user reaching the reviewer's work.
    assert!(matches!(ctx.svc.review_queue(&z.ent_admin).await, Err(ServiceError::Forbidden { .. })));
    let e = ctx.svc.review_product(&z.ent_admin, &id, &Review::Approve).await;
    assert!(matches!(e, Err(ServiceError::Forbidden { .. })), "{e:?}");
    // The insurer cannot review its own filing.
    let e = ctx.svc.review_product(&ins.filer_a, &id, &Review::Approve).await;
    assert!(matches!(e, Err(ServiceError::Forbidden { .. })), "{e:?}");
    // An oversized document.
    let big = vec![b'a'; documents::MAX_BYTES + 1];
    let e = ctx.svc.add_product_document(&ins.filer_a, &id, "wording.txt", &big).await;
    assert!(matches!(&e, Err(ServiceError::Invalid(i)) if i.0[0].code == "too_large"), "{e:?}");
    // Changing the type after filing.
    let e = ctx.svc.update_product(&ins.filer_a, &id, &input("patent_insurance", "x险", "1000", "0")).await;
    assert!(matches!(&e, Err(ServiceError::Invalid(i)) if i.0[0].code == "type_fixed"), "{e:?}");
    // Approving a draft that was never submitted.
    let e = ctx.svc.review_product(&z.reviewer, &id, &Review::Approve).await;
    assert!(matches!(&e, Err(ServiceError::Conflict(f)) if f.code == "bad_transition"), "{e:?}");
    // A rejection without reasons.
    ctx.svc.submit_product(&ins.filer_a, &id).await.unwrap();
    let before = (before, events(&ctx).await);
    let e = ctx.svc.review_product(&z.reviewer, &id, &Review::Reject { reason: " ".into() }).await;
    assert!(matches!(&e, Err(ServiceError::Invalid(i)) if i.0[0].code == "reason_length"), "{e:?}");
    assert_eq!(events(&ctx).await, before.1);
    // Approving the same filing twice.
    ctx.svc.set_product_checklist(&z.reviewer, &id, &all_items()).await.unwrap();
    ctx.svc.review_product(&z.reviewer, &id, &Review::Approve).await.unwrap();
    let after = events(&ctx).await;
    let e = ctx.svc.review_product(&z.reviewer, &id, &Review::Approve).await;
    assert!(
        matches!(&e, Err(ServiceError::Conflict(f)) if f.code == "bad_transition" && f.message_en.contains("twice")),
        "{e:?}"
    );
    assert_eq!(events(&ctx).await, after);
    let v = ctx.svc.product(&ins.filer_a, &id).await.unwrap();
    assert_eq!(v.shown.registration_no.as_deref(), Some("DHKB-2026-0001"));
    // Editing an approved version.
    let e = ctx.svc.update_product(&ins.filer_a, &id, &good).await;
    assert!(matches!(&e, Err(ServiceError::Conflict(f)) if f.code == "not_editable"), "{e:?}");
});

contract!(uploaded_file_names_lose_bidi_overrides_and_paths, |ctx: Ctx| async move {
    let _z = zone(&ctx.svc).await;
    let ins = insurers(&ctx).await;
    let id = ctx
        .svc
        .file_product(
            &ins.filer_a,
            &ins.a,
            &input("first_set_equipment", "首台（套）综合保险", "5000000", "0"),
        )
        .await
        .unwrap();
    // `invoice\u{202E}fdp.exe` shows as `invoiceexe.pdf`; cleaned, it is the .exe it is.
    let e = ctx.svc.add_product_document(&ins.filer_a, &id, "invoice\u{202E}fdp.exe", b"MZ").await;
    assert!(
        matches!(&e, Err(ServiceError::Invalid(i)) if i.0.iter().any(|f| f.code == "file_type")),
        "{e:?}"
    );
    let d = ctx
        .svc
        .add_product_document(&ins.filer_a, &id, "C:\\fake\\条款\u{202E}\u{2066}\u{200F}.pdf", b"%PDF-1.7 x")
        .await
        .unwrap();
    let (got, _) = ctx.svc.product_document(&ins.filer_a, &d.id).await.unwrap();
    assert_eq!(got.file_name, "条款.pdf");
});

contract!(documents_are_stored_with_their_hash_and_shown_to_those_who_may, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let ins = insurers(&ctx).await;
    let id = ctx
        .svc
        .file_product(
            &ins.filer_a,
            &ins.a,
            &input("first_set_equipment", "首台（套）综合保险", "5000000", "0"),
        )
        .await
        .unwrap();
    let body = b"%PDF-1.7 wording of the first-set cover";
    let d = ctx.svc.add_product_document(&ins.filer_a, &id, "条款.pdf", body).await.unwrap();
    use sha2::Digest;
    assert_eq!(d.sha256, hex::encode(sha2::Sha256::digest(body)));
    let (got, bytes) = ctx.svc.product_document(&ins.filer_a, &d.id).await.unwrap();
    assert_eq!((got.file_name.as_str(), bytes.as_slice()), ("条款.pdf", &body[..]));
    assert_eq!(got.media_type, "application/pdf");
    // Others do not see a draft's documents.
    assert!(matches!(ctx.svc.product_document(&ins.filer_b, &d.id).await, Err(ServiceError::NotFound)));
    assert!(matches!(ctx.svc.product_document(&Actor::Anonymous, &d.id).await, Err(ServiceError::NotFound)));
    assert!(ctx.svc.product_document(&z.reviewer, &d.id).await.is_ok());
    // Once published, the public version's documents are public.
    file_plan(&ctx.svc, &ins.filer_a, &id).await;
    ctx.svc.submit_product(&ins.filer_a, &id).await.unwrap();
    ctx.svc.set_product_checklist(&z.reviewer, &id, &all_items()).await.unwrap();
    ctx.svc.review_product(&z.reviewer, &id, &Review::Approve).await.unwrap();
    ctx.svc.publish_product(&ins.filer_a, &id).await.unwrap();
    assert!(ctx.svc.product_document(&Actor::Anonymous, &d.id).await.is_ok());
    // A new version carries the documents over.
    ctx.svc.new_product_version(&ins.filer_a, &id).await.unwrap();
    let v = ctx.svc.product(&ins.filer_a, &id).await.unwrap();
    assert_eq!(v.shown.version, 2);
    assert_eq!(v.documents.len(), 1);
    assert_eq!(v.documents[0].sha256, d.sha256);
});

contract!(the_portal_searches_chinese_and_filters_without_ranking_by_price, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let ins = insurers(&ctx).await;
    let mut p1 = input("patent_insurance", "知识产权综合保险", "300000", "0");
    p1.summary = "覆盖专利被侵权损失和维权费用。".into();
    p1.industries = vec!["optoelectronics".into()];
    let a = registered(&ctx, &ins.filer_a, &ins.a, &z.reviewer, p1).await;
    let p2 = input("first_set_equipment", "首台（套）重大技术装备综合保险", "10000000", "50000");
    let b = registered(&ctx, &ins.filer_b, &ins.b, &z.reviewer, p2).await;
    let mut p3 = input("product_liability", "高新技术产品责任险", "2000000", "2000");
    p3.stages = vec!["market".into()];
    let c = registered(&ctx, &ins.filer_a, &ins.a, &z.reviewer, p3).await;
    // A product in review is never found.
    let d = ctx
        .svc
        .file_product(&ins.filer_b, &ins.b, &input("rd_liability", "研发责任险专利版", "100000", "0"))
        .await
        .unwrap();
    ctx.svc.submit_product(&ins.filer_b, &d).await.unwrap();

    let search = |q: &str| PortalQuery { q: Some(q.into()), per_page: 20, ..Default::default() };
    let ids = |p: kebao_service::products::PortalPage| {
        p.items.into_iter().map(|i| i.product.id).collect::<Vec<_>>()
    };
    assert_eq!(ids(ctx.svc.portal(&search("专利")).await.unwrap()), vec![a.clone()]);
    assert_eq!(ids(ctx.svc.portal(&search("首台")).await.unwrap()), vec![b.clone()]);
    assert_eq!(ids(ctx.svc.portal(&search("责任险")).await.unwrap()), vec![c.clone()]);
    // Two words must both match; a phrase must be adjacent.
    assert_eq!(ids(ctx.svc.portal(&search("装备 保险")).await.unwrap()), vec![b.clone()]);
    assert!(ids(ctx.svc.portal(&search("装备险")).await.unwrap()).is_empty());
    assert!(ids(ctx.svc.portal(&search("区块链")).await.unwrap()).is_empty());
    // The insurer's name is searchable.
    assert_eq!(ctx.svc.portal(&search("楚天")).await.unwrap().total, 2);
    // Filters: industry, stage, line, insurer.
    let f = |industry: Option<&str>, stage: Option<LifecycleStage>, line: Option<ProductLine>| PortalQuery {
        industry: industry.map(str::to_owned),
        stage,
        line,
        per_page: 20,
        ..Default::default()
    };
    assert_eq!(ctx.svc.portal(&f(None, None, None)).await.unwrap().total, 3);
    assert_eq!(ctx.svc.portal(&f(Some("bio"), None, None)).await.unwrap().total, 2);
    assert_eq!(ctx.svc.portal(&f(None, Some(LifecycleStage::Rnd), None)).await.unwrap().total, 0);
    assert_eq!(ctx.svc.portal(&f(None, None, Some(ProductLine::Ip))).await.unwrap().total, 1);
    let by_b = PortalQuery { insurer_id: Some(ins.b.clone()), per_page: 20, ..Default::default() };
    assert_eq!(ids(ctx.svc.portal(&by_b).await.unwrap()), vec![b.clone()]);
    // Paging.
    let p = ctx.svc.portal(&PortalQuery { per_page: 2, page: 2, ..Default::default() }).await.unwrap();
    assert_eq!((p.items.len(), p.total, p.pages, p.page), (1, 3, 2, 2));
    // The default order is by name, not by any price.
    let names: Vec<String> = ctx
        .svc
        .portal(&f(None, None, None))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.product.name)
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    // The matrix: market × optoelectronics has all three; R&D has none (a gap).
    let m = ctx.svc.product_matrix().await.unwrap();
    let col = m.industries.iter().position(|(i, _)| i == "optoelectronics").unwrap();
    let row = |s: LifecycleStage| m.stages.iter().position(|x| *x == s).unwrap();
    assert_eq!(m.counts[row(LifecycleStage::Market)][col], 3);
    assert_eq!(m.counts[row(LifecycleStage::Rnd)][col], 0);
});

contract!(the_catalogue_reloads_only_when_it_keeps_the_types_in_use, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let ins = insurers(&ctx).await;
    ctx.svc.restore_catalogue().await.unwrap();
    ctx.svc
        .file_product(&ins.filer_a, &ins.a, &input("rd_liability", "研发责任险", "100000", "0"))
        .await
        .unwrap();
    let smaller = "[[product]]\nid='patent_insurance'\nname_zh='专利保险'\nnfra_class='知识产权风险类'\nline='ip'\nlifecycle=['市场']\n";
    let before = events(&ctx).await;
    // Only platform admins load catalogues.
    let e = ctx.svc.load_catalogue(&z.reviewer, kebao_service::CATALOGUE, "x").await;
    assert!(matches!(e, Err(ServiceError::Forbidden { .. })), "{e:?}");
    let e = ctx.svc.load_catalogue(&z.admin, smaller, "smaller.toml").await;
    assert!(matches!(&e, Err(ServiceError::Conflict(f)) if f.code == "type_in_use"), "{e:?}");
    let e = ctx.svc.load_catalogue(&z.admin, "[[product]]\nid='x'", "broken.toml").await;
    assert!(matches!(&e, Err(ServiceError::Invalid(i)) if i.0[0].code == "catalogue_invalid"), "{e:?}");
    assert_eq!(events(&ctx).await, before);
    assert_eq!(ctx.svc.catalogue().types().len(), 42);
    // A catalogue that keeps the type loads, and is what the service uses from then on.
    let mut bigger = kebao_service::CATALOGUE.to_owned();
    bigger.push_str("\n[[product]]\nid='quantum_rd'\nname_zh='量子研发中断保险'\nnfra_class='科技研发、成果转化风险类'\nline='property'\nlifecycle=['研发']\n");
    let c = ctx.svc.load_catalogue(&z.admin, &bigger, "bigger.toml").await.unwrap();
    assert_eq!(c.types().len(), 43);
    assert_eq!(events(&ctx).await, before + 1);
    ctx.svc
        .file_product(&ins.filer_a, &ins.a, &input("quantum_rd", "量子研发中断保险", "100000", "0"))
        .await
        .unwrap();
});

contract!(articles_are_written_by_the_zone_and_read_by_everyone, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let e = ctx.svc.create_article(&z.ent_admin, "notice", "通知", "正文", true).await;
    assert!(matches!(e, Err(ServiceError::Forbidden { .. })), "{e:?}");
    let e = ctx.svc.create_article(&z.reviewer, "blog", "", "", true).await;
    assert!(matches!(&e, Err(ServiceError::Invalid(i)) if i.0.len() == 3), "{e:?}");
    let draft =
        ctx.svc.create_article(&z.reviewer, "case", "首台套保险理赔案例", "**案情**", false).await.unwrap();
    assert!(matches!(ctx.svc.article(&Actor::Anonymous, &draft.id).await, Err(ServiceError::NotFound)));
    assert!(ctx.svc.articles(&Actor::Anonymous, None).await.unwrap().is_empty());
    let a = ctx
        .svc
        .update_article(
            &z.reviewer,
            &draft.id,
            "case",
            "首台套保险理赔案例",
            "**案情**<script>x</script>",
            true,
        )
        .await
        .unwrap();
    assert!(a.published_at_us.is_some());
    let seen = ctx.svc.article(&Actor::Anonymous, &draft.id).await.unwrap();
    let html = kebao_domain::publicity::render_markdown(&seen.body_md);
    assert!(html.contains("<strong>案情</strong>") && !html.contains("<script>"), "{html}");
    assert_eq!(ctx.svc.articles(&Actor::Anonymous, None).await.unwrap().len(), 1);
});
