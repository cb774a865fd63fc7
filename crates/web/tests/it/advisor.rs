//! The risk advisor through the pages and the API: the exposures with reasons, the products for
//! each with eligibility and the stated order, the questionnaire (a bad answer refused, nothing
//! saved), the shortlist, and the zone's needs; who may see what.

use crate::client::{app, hidden, Client, PW};
use crate::products::{filing, insurers, registered};
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_advisor_page_and_api_show_exposures_products_and_the_shortlist() {
    let app = app().await;
    insurers(&app).await;
    let mut c = Client::new(&app);
    let filer = c.token("filer").await;
    let filer2 = c.token("filer2").await;
    let zone = c.token("reviewer").await;
    let open = registered(&mut c, &filer, &zone, filing("rd_liability", "研发责任险", "1000000", "0")).await;
    let mut market = filing("rd_liability", "上市产品研发责任险", "1000000", "0");
    market["stages"] = json!(["market"]);
    let market_only = registered(&mut c, &filer2, &zone, market).await;

    let mut e = Client::new(&app);
    e.login("ent.admin", PW).await;
    let page = e.get("/advisor").await;
    assert_eq!(page.status, StatusCode::OK);
    let t = page.text();
    for want in [
        "风险顾问",
        "不构成投保建议",
        "从不按价格",
        "研发产品致第三者损害的赔偿责任",
        "研发责任险",
        "上市产品研发责任险",
        "不符合",
        "href=\"/advisor\"",
    ] {
        assert!(t.contains(want), "{want}: {t}");
    }
    let csrf = hidden(&t, "csrf");
    // A bad answer is refused on the page with its reason, and nothing is saved.
    let r = e
        .post_form(
            "/advisor/answers",
            &[("csrf", &csrf), ("clinical_trials", "maybe"), ("export_markets", "3")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("请选择“是”或“否”"), "{}", r.text());
    assert!(!e.get("/advisor").await.text().contains("出口与海外经营风险"));
    let r = e
        .post_form(
            "/advisor/answers",
            &[("csrf", &csrf), ("clinical_trials", "yes"), ("export_markets", "3")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let t = e.get("/advisor").await.text();
    assert!(t.contains("人体临床试验的受试者损害责任") && t.contains("保障缺口"), "{t}");
    assert!(t.contains("出口收汇与海外经营风险"), "{t}");
    // The shortlist: an eligible product is kept; one the enterprise is not eligible for is refused.
    let r = e
        .post_form(
            "/advisor/shortlist",
            &[("csrf", &csrf), ("product", &open), ("exposure", "rd_product_liability")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = e
        .post_form(
            "/advisor/shortlist",
            &[("csrf", &csrf), ("product", &market_only), ("exposure", "rd_product_liability")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let t = e.get("/advisor").await.text();
    assert!(t.contains("我的备选清单 (1)") && t.contains(&format!("/products/{open}/quote")), "{t}");

    // The API: the same advisor, in information mode.
    let ent = e.token("ent.admin").await;
    let a = e.get_auth("/api/v1/advisor", &ent).await;
    assert_eq!(a.status, StatusCode::OK);
    let j = a.json();
    assert_eq!(j["mode"], "information");
    let rd = j["exposures"].as_array().unwrap().iter().find(|x| x["id"] == "rd_product_liability").unwrap();
    assert_eq!(rd["products"].as_array().unwrap().len(), 2, "{rd}");
    let r = e
        .json("PUT", "/api/v1/advisor/answers", Some(&ent), json!({"answers": {"export_markets": "-2"}}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = e
        .json(
            "POST",
            "/api/v1/advisor/shortlist",
            Some(&ent),
            json!({"product_id": open, "exposure_id": "rd_product_liability"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let r = e.json("DELETE", &format!("/api/v1/advisor/shortlist/{open}"), Some(&ent), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json()["shortlist"].as_array().unwrap().is_empty());
    let r = e.json("DELETE", &format!("/api/v1/advisor/shortlist/{open}"), Some(&ent), json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());

    // Nobody else uses the enterprise's advisor; the zone sees the needs.
    let mut b = Client::new(&app);
    b.login("banker", PW).await;
    assert_eq!(b.get("/advisor").await.status, StatusCode::FORBIDDEN);
    assert_eq!(e.get("/zone/needs").await.status, StatusCode::FORBIDDEN);
    let mut z = Client::new(&app);
    z.login("reviewer", PW).await;
    let t = z.get("/zone/needs").await.text();
    assert!(
        t.contains("示范区保障需求") && t.contains("人体临床试验的受试者损害责任") && t.contains("<svg"),
        "{t}"
    );
    let x = z.get("/zone/needs.xlsx").await;
    assert_eq!(x.status, StatusCode::OK);
    let table = kebao_service::tabular::read(&x.body, kebao_service::tabular::Format::Xlsx).unwrap();
    assert!(
        table.rows.iter().any(|r| r[0].starts_with("人体临床试验") && r[1] == "1" && r[5] == "0"),
        "{:?}",
        table.rows
    );
    let n = z.get_auth("/api/v1/advisor/needs", &zone).await;
    assert_eq!(n.status, StatusCode::OK);
    assert_eq!(n.json()["enterprises"], 1);
}

#[tokio::test]
async fn the_unified_view_and_broker_mode_through_the_pages_and_the_api() {
    let app = app().await;
    let mut e = Client::new(&app);
    e.login("ent.admin", PW).await;
    let ent = e.token("ent.admin").await;
    let org = e.get_auth("/api/v1/advisor", &ent).await.json()["org_id"].as_str().unwrap().to_owned();
    // The enterprise's own view: every section, the timeline, printable.
    let t = e.get(&format!("/orgs/{org}/view")).await;
    assert_eq!(t.status, StatusCode::OK);
    let t = t.text();
    for want in [
        "企业统一视图",
        "登记信息",
        "保单",
        "理赔",
        "补贴",
        "贷款",
        "数据授权",
        "谁查询过本企业数据",
        "时间线",
    ] {
        assert!(t.contains(want), "{want}");
    }
    assert!(!t.contains("不可见"), "nothing hidden from the enterprise");
    // A bank officer without a consent: each section hidden with why; an unknown purpose refused.
    let mut b = Client::new(&app);
    b.login("banker", PW).await;
    let t = b.get(&format!("/orgs/{org}/view?purpose=loan_review")).await;
    assert_eq!(t.status, StatusCode::OK);
    let t = t.text();
    assert!(t.contains("不可见") && t.contains("该企业未向贵机构授权"), "{t}");
    assert_eq!(
        b.get(&format!("/orgs/{org}/view?purpose=gossip")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let bank = b.token("banker").await;
    let j = b.get_auth(&format!("/api/v1/orgs/{org}/view?purpose=loan_review"), &bank).await;
    assert_eq!(j.status, StatusCode::OK);
    let j = j.json();
    assert!(j["sections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["key"] == "policies")
        .all(|s| s["allowed"] == false));
    assert_eq!(
        b.get_auth(&format!("/api/v1/orgs/{org}/view?purpose=gossip"), &bank).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // The read shows in the enterprise's access log (API).
    let log = e.get_auth(&format!("/api/v1/orgs/{org}/view"), &ent).await.json();
    let access =
        log["sections"].as_array().unwrap().iter().find(|s| s["key"] == "access_log").unwrap().clone();
    assert_eq!(access["rows"].as_array().unwrap().len(), 2, "{access}");

    // Broker mode needs the zone's approver to name a licensed broker: a reviewer may not, and
    // without one the enterprise gets no side-by-side quotes.
    let mut z = Client::new(&app);
    let zone = z.token("reviewer").await;
    let r = z
        .json(
            "PUT",
            "/api/v1/advisor/broker",
            Some(&zone),
            json!({"org_id": org, "licence_no": "1", "valid_from": "2026-01-01", "valid_to": "2027-01-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = e
        .json(
            "POST",
            "/api/v1/advisor/quotes",
            Some(&ent),
            json!({"exposure_id": "rd_product_liability", "limit_yuan": "500000"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("no_licensed_broker"));
    let r =
        e.json("POST", "/api/v1/advisor/bundle/apply", Some(&ent), json!({"start_date": "2026-12-01"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    z.login("reviewer", PW).await;
    assert_eq!(z.get("/zone/advisor-broker").await.status, StatusCode::FORBIDDEN);
}
