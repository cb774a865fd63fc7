//! One end-to-end test in real headless Chromium, driven through chromedriver's W3C
//! WebDriver protocol: sign in, open an organisation page, search the portal, apply at a
//! quote, report a claim and check a subsidy.

use crate::client::*;
use crate::webdriver::Driver;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_open_an_organisation_in_chromium() {
    let app = app().await;
    // One published product for the portal.
    let op = kebao_service::authz::Actor::System { name: "test".into() };
    let ins =
        app.svc.create_org(&op, &org("楚天财产保险股份有限公司湖北分公司", 31, "insurer")).await.unwrap();
    let input = kebao_domain::product::ProductInput {
        type_id: "patent_enforcement".into(),
        name: "专利执行保险（光谷版）".into(),
        coverages: vec![kebao_domain::product::CoverageInput {
            name: "维权费用".into(),
            limit_yuan: "500000".into(),
            ..Default::default()
        }],
        premium_basis: "limit".into(),
        contact_name: "王经理".into(),
        contact_phone: "027-87654321".into(),
        // Open to the test enterprise (R&D): applications check the filed stages.
        stages: vec!["rnd".into(), "commercialisation".into(), "market".into()],
        ..Default::default()
    };
    let pid = app.svc.file_product(&op, &ins.id, &input).await.unwrap();
    let plan: kebao_domain::rating::PlanDoc =
        serde_json::from_value(json!({"basis": "limit", "base": "0.02",
        "min_premium_yuan": 500, "underwriting": {"auto_accept_max_limit_yuan": 1000000}}))
        .unwrap();
    app.svc.file_rating_plan(&op, &pid, "2026-01-01", plan).await.unwrap();
    app.svc.submit_product(&op, &pid).await.unwrap();
    let items: Vec<String> =
        kebao_domain::product::CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect();
    app.svc.set_product_checklist(&op, &pid, &items).await.unwrap();
    app.svc.review_product(&op, &pid, &kebao_service::products::Review::Approve).await.unwrap();
    app.svc.publish_product(&op, &pid).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let Some(d) = Driver::start(1280, 1000).await else { return };

    d.go(&format!("{site}/login")).await;
    d.type_into("#username", "ent.admin").await;
    d.type_into("#password", PW).await;
    d.click("#login-submit").await;
    let url = d.wait_for_url("/dashboard").await;
    assert!(url.ends_with("/dashboard"), "signed in: {url}");
    d.go(&format!("{site}/orgs/{}", app.enterprise)).await;
    assert_eq!(d.text("#org-name").await.split_whitespace().next(), Some("光谷激光科技有限公司"));
    assert!(d.text("#facts").await.contains("9,876,543.21"), "own facts are shown");
    assert!(d.screenshot().await.len() > 1000, "a screenshot was taken");
    // A bank officer sees the page but not the facts.
    d.call(reqwest::Method::DELETE, "/cookie", None).await;
    d.go(&format!("{site}/login")).await;
    d.type_into("#username", "banker").await;
    d.type_into("#password", PW).await;
    d.click("#login-submit").await;
    assert!(d.wait_for_url("/dashboard").await.ends_with("/dashboard"));
    d.go(&format!("{site}/orgs/{}", app.enterprise)).await;
    assert!(d.text("#facts-withheld").await.contains("非公开"));
    // The product portal: a Chinese search in the browser.
    d.go(&format!("{site}/products")).await;
    d.type_into("#portal-filters input[name=q]", "专利").await;
    d.click("#portal-filters button[type=submit]").await;
    let url = d.wait_for_url("q=%E4%B8%93%E5%88%A9").await;
    assert!(url.contains("q=%E4%B8%93%E5%88%A9"), "{url}");
    assert!(d.text("#result-count").await.contains('1'));
    assert!(d.text("#product-list").await.contains("专利执行保险（光谷版）"));
    // The enterprise applies at the insurer's quote, reports a claim from its policy, and
    // checks a subsidy: the product is not one the zone subsidises, and the page says so.
    d.call(reqwest::Method::DELETE, "/cookie", None).await;
    d.go(&format!("{site}/login")).await;
    d.type_into("#username", "ent.admin").await;
    d.type_into("#password", PW).await;
    d.click("#login-submit").await;
    assert!(d.wait_for_url("/dashboard").await.ends_with("/dashboard"));
    d.go(&format!("{site}/products/{pid}/quote?limit_yuan=100000")).await;
    assert!(d.text("#apply-form").await.contains("起保日"));
    // Binding needs the explicit confirmation: the browser will not submit without it.
    d.click("#apply").await;
    assert!(d.url().await.contains("/quote"), "the unticked form is not sent");
    d.click("#apply-form input[name=confirm]").await;
    d.click("#apply").await;
    assert!(d.wait_for_url("/policies?done=applied").await.ends_with("/policies?done=applied"));
    assert!(d.text(".notice").await.contains("投保申请已提交"));
    let ent = app.svc.actor_for(app.svc.find_user("ent.admin").await.unwrap()).await.unwrap();
    let policy = app.svc.my_policies(&ent).await.unwrap().remove(0);
    assert_eq!(policy.premium.fen(), 200_000, "2 % of 100,000 yuan, by the filed plan");
    d.go(&format!("{site}/policies/{}", policy.id)).await;
    d.call(
        reqwest::Method::POST,
        "/execute/sync",
        Some(json!({"script": "document.getElementById('loss_date').value = '2026-11-28';", "args": []})),
    )
    .await;
    d.type_into("#claimed_yuan", "30000").await;
    d.type_into("#description", "维权诉讼中产生律师费").await;
    d.click("#report-claim button[type=submit]").await;
    assert!(d.wait_for_url("/claims/").await.contains("/claims/"));
    assert_eq!(d.text("#claim-status").await, "已报案");
    d.go(&format!("{site}/policies/{}/subsidy", policy.id)).await;
    d.click("#programme option[value=zone_tech_insurance]").await;
    d.click("form[method=get] button[type=submit]").await;
    assert!(d.wait_for_url("programme=zone_tech_insurance").await.contains("programme=zone_tech_insurance"));
    assert!(d.text("#failures").await.contains("不在本方案补贴范围内"), "{}", d.text("#result").await);
    d.quit().await;
}

/// Publishes a product of `type_id` for the insurer with USCC number `n`, with a plan that binds
/// up to 1,000,000 yuan at once; its id.
async fn published(app: &App, n: u32, insurer: &str, type_id: &str, name: &str) -> String {
    let op = kebao_service::authz::Actor::System { name: "test".into() };
    let ins = app.svc.create_org(&op, &org(insurer, n, "insurer")).await.unwrap();
    let input = kebao_domain::product::ProductInput {
        type_id: type_id.into(),
        name: name.into(),
        coverages: vec![kebao_domain::product::CoverageInput {
            name: "责任".into(),
            limit_yuan: "2000000".into(),
            ..Default::default()
        }],
        premium_basis: "limit".into(),
        contact_name: "王经理".into(),
        contact_phone: "027-87654321".into(),
        ..Default::default()
    };
    let pid = app.svc.file_product(&op, &ins.id, &input).await.unwrap();
    let plan: kebao_domain::rating::PlanDoc =
        serde_json::from_value(json!({"basis": "limit", "base": "0.01",
        "min_premium_yuan": 500, "underwriting": {"auto_accept_max_limit_yuan": 1000000}}))
        .unwrap();
    app.svc.file_rating_plan(&op, &pid, "2026-01-01", plan).await.unwrap();
    app.svc.submit_product(&op, &pid).await.unwrap();
    let items: Vec<String> =
        kebao_domain::product::CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect();
    app.svc.set_product_checklist(&op, &pid, &items).await.unwrap();
    app.svc.review_product(&op, &pid, &kebao_service::products::Review::Approve).await.unwrap();
    app.svc.publish_product(&op, &pid).await.unwrap();
    pid
}

/// The risk advisor as a new user walks it in Chromium (information mode): the questionnaire,
/// the exposures with their reasons, two insurers' products kept on the shortlist, and from the
/// shortlist each insurer's own quote page, where the enterprise applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_advisor_walk_from_the_questionnaire_to_two_applications_in_chromium() {
    let app = app().await;
    let a = published(&app, 31, "楚天财产保险股份有限公司湖北分公司", "rd_liability", "楚天研发责任险").await;
    let b = published(&app, 32, "江城科技保险股份有限公司", "rd_liability", "江城研发责任险").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let Some(d) = Driver::start(1280, 1000).await else { return };
    d.sign_in(&site, "ent.admin", PW).await;
    d.go(&format!("{site}/dashboard")).await;
    d.click("nav a[href='/advisor']").await;
    assert!(d.wait_for_url("/advisor").await.ends_with("/advisor"));
    assert!(d.text("#exposures").await.contains("研发产品致第三者损害的赔偿责任"));
    // The questionnaire: clinical trials, and equipment worth 1.2 million yuan.
    d.click("#q-clinical_trials option[value=yes]").await;
    d.type_into("#q-key_equipment_value", "1200000").await;
    d.click("#answers-submit").await;
    assert!(d.wait_for_url("/advisor#exposures").await.contains("#exposures"));
    let exposures = d.text("#exposures").await;
    assert!(
        exposures.contains("人体临床试验的受试者损害责任") && exposures.contains("保障缺口"),
        "{exposures}"
    );
    assert!(exposures.contains("问卷填报有关键研发设备"), "the reason is shown: {exposures}");
    // Both insurers' products on the shortlist.
    for pid in [&a, &b] {
        d.go(&format!("{site}/advisor")).await;
        d.click(&format!("#shortlist-{pid}")).await;
        assert!(d.wait_for_url("/advisor#shortlist").await.contains("#shortlist"));
    }
    let list = d.text("#shortlist").await;
    assert!(list.contains("楚天研发责任险") && list.contains("江城研发责任险"), "{list}");
    // From the shortlist, each insurer's own quote page; the enterprise applies to each.
    for pid in [&a, &b] {
        d.go(&format!("{site}/advisor")).await;
        d.click(&format!("#quote-{pid}")).await;
        assert!(d.wait_for_url("/quote").await.contains(&format!("/products/{pid}/quote")));
        d.type_into("#limit_yuan", "500000").await;
        d.click("#quote-submit").await;
        assert!(d.wait_for_url("limit_yuan=500000").await.contains("limit_yuan=500000"));
        d.click("#apply-form input[name=confirm]").await;
        d.click("#apply").await;
        assert!(d.wait_for_url("/policies?done=applied").await.ends_with("/policies?done=applied"));
    }
    let ent = app.svc.actor_for(app.svc.find_user("ent.admin").await.unwrap()).await.unwrap();
    let mut insurers: Vec<String> =
        app.svc.my_policies(&ent).await.unwrap().into_iter().map(|p| p.product_id).collect();
    insurers.sort();
    let mut want = vec![a.clone(), b.clone()];
    want.sort();
    assert_eq!(insurers, want, "one application to each insurer, each bound on its own terms");

    // Broker mode: the zone's approver names a licensed broker on its page; the same enterprise
    // then gets the insurers' quotes side by side, puts a bundle together and applies in one step.
    let c = published(&app, 33, "长江财产保险股份有限公司", "key_rd_equipment", "长江关键研发设备险").await;
    let op = kebao_service::authz::Actor::System { name: "test".into() };
    let mut b = org("光谷保险经纪有限公司", 34, "service_body");
    b.institution_kind = "intermediary".into();
    app.svc.create_org(&op, &b).await.unwrap();
    let reviewer = app.svc.actor_for(app.svc.find_user("reviewer").await.unwrap()).await.unwrap();
    let input = kebao_service::users::NewUserInput {
        username: "approver".into(),
        display_name: "审批人".into(),
        password: PW.into(),
    };
    let gov = reviewer.org_id().unwrap().to_owned();
    app.svc.add_user(&op, &gov, &input, &[kebao_domain::user::Role::ZoneApprover]).await.unwrap();
    d.sign_in(&site, "approver", PW).await;
    d.click("nav a[href='/zone/advisor-broker']").await;
    assert!(d.wait_for_url("/zone/advisor-broker").await.ends_with("/zone/advisor-broker"));
    d.type_into("#b-licence", "260710000000800").await;
    d.exec("document.querySelector('#b-from').value = '2026-01-01'; document.querySelector('#b-to').value = '2028-12-31';")
        .await;
    d.click("#broker-name").await;
    assert!(d.wait_for_url("done=broker_named").await.contains("done=broker_named"));
    assert!(d.text("#current").await.contains("经纪模式"));

    d.sign_in(&site, "ent.admin", PW).await;
    d.go(&format!("{site}/advisor")).await;
    let banner = d.text("#broker-banner").await;
    assert!(banner.contains("光谷保险经纪有限公司") && banner.contains("260710000000800"), "{banner}");
    d.click("#quote-open-rd_product_liability").await;
    d.type_into("#ql-rd_product_liability", "500000").await;
    d.click("#quote-all-rd_product_liability").await;
    assert!(d.wait_for_url("#exposure-rd_product_liability").await.contains("#exposure-"));
    let side = d.text("#quotes-rd_product_liability").await;
    assert!(
        side.contains("楚天研发责任险") && side.contains("江城研发责任险") && side.contains("5,000.00"),
        "{side}"
    );
    d.click(&format!("#quotes-rd_product_liability button[data-product='{a}']")).await;
    assert!(d.wait_for_url("/advisor#bundle").await.contains("#bundle"));
    d.click("#quote-open-rd_equipment_damage").await;
    d.type_into("#ql-rd_equipment_damage", "800000").await;
    d.type_into("#qs-rd_equipment_damage", "1200000").await;
    d.click("#quote-all-rd_equipment_damage").await;
    assert!(d.wait_for_url("#exposure-rd_equipment_damage").await.contains("rd_equipment_damage"));
    d.click(&format!("#quotes-rd_equipment_damage button[data-product='{c}']")).await;
    assert!(d.wait_for_url("/advisor#bundle").await.contains("#bundle"));
    let bundle = d.text("#bundle").await;
    assert!(bundle.contains("楚天研发责任险") && bundle.contains("长江关键研发设备险"), "{bundle}");
    // One step: the confirmation, then one application to each insurer.
    d.click("#bundle-confirm").await;
    d.click("#bundle-apply").await;
    assert!(d.wait_for_url("done=bundle_applied").await.contains("done=bundle_applied"));
    assert!(d.text("#bundles").await.contains("长江关键研发设备险"));
    let apps = app.svc.my_applications(&ent).await.unwrap();
    let in_bundle: Vec<&str> = apps
        .iter()
        .filter(|x| x.product_id == c || x.product_id == a)
        .map(|x| x.insurer_id.as_str())
        .collect();
    assert_eq!(in_bundle.len(), 3, "the earlier application to the first insurer, and the bundle's two");
    d.quit().await;
}
