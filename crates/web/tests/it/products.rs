//! The product catalogue over HTTP: the API, the portal pages and the filing workspace.

use crate::client::*;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use kebao_domain::user::Role;
use kebao_service::authz::Actor;
use kebao_service::users::NewUserInput;
use serde_json::json;

async fn events(app: &App) -> u64 {
    let op = Actor::System { name: "t".into() };
    app.svc.audit_head(&op).await.unwrap().count
}

/// Two insurers with a product filer each.
pub(crate) async fn insurers(app: &App) -> (String, String) {
    let op = Actor::System { name: "test".into() };
    let a = app.svc.create_org(&op, &org("楚天财产保险股份有限公司湖北分公司", 31, "insurer")).await.unwrap();
    let b = app.svc.create_org(&op, &org("江城科技保险股份有限公司", 32, "insurer")).await.unwrap();
    for (o, name) in [(&a.id, "filer"), (&b.id, "filer2")] {
        let input = NewUserInput { username: name.into(), display_name: name.into(), password: PW.into() };
        app.svc.add_user(&op, o, &input, &[Role::ProductFiler]).await.unwrap();
    }
    (a.id, b.id)
}

pub(crate) fn filing(type_id: &str, name: &str, limit: &str, deductible: &str) -> serde_json::Value {
    json!({
        "type_id": type_id, "name": name, "summary": format!("{name}：为东湖科技企业提供保障。"),
        "coverages": [{"name": "维权费用", "limit_yuan": limit, "deductible_yuan": deductible}],
        "premium_basis": "limit", "rate_text": "按备案费率", "contact_name": "王经理", "contact_phone": "027-87654321"
    })
}

fn multipart(field_csrf: Option<&str>, filename: &str, bytes: Vec<u8>) -> (String, Vec<u8>) {
    let boundary = "----kebaoproductboundary";
    let mut body = Vec::new();
    if let Some(t) = field_csrf {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{t}\r\n")
                .as_bytes(),
        );
    }
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
    body.extend(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload_api(c: &mut Client<'_>, token: &str, id: &str, filename: &str, bytes: Vec<u8>) -> Resp {
    let (ctype, body) = multipart(None, filename, bytes);
    let req = Request::post(format!("/api/v1/filings/{id}/documents"))
        .header(header::CONTENT_TYPE, ctype)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body))
        .unwrap();
    c.send(req).await
}

/// Files, submits, approves and publishes through the API; returns the product id.
pub(crate) async fn registered(
    c: &mut Client<'_>,
    filer: &str,
    zone: &str,
    body: serde_json::Value,
) -> String {
    let r = c.json("POST", "/api/v1/filings", Some(filer), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    // Approval needs a rating plan on file; this one is in force only from 2099, so that
    // tests file the plan they quote by and see no plan in force before they do.
    let plan = json!({"effective_from": "2099-01-01", "plan": {"basis": "flat", "base": "1000",
        "min_premium_yuan": 1000}});
    let r = c.json("POST", &format!("/api/v1/filings/{id}/rating-plans"), Some(filer), plan).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = c.json("POST", &format!("/api/v1/filings/{id}/submit"), Some(filer), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let items: Vec<&str> = kebao_domain::product::CHECKLIST.iter().map(|(c, _, _)| *c).collect();
    let r =
        c.json("PUT", &format!("/api/v1/filings/{id}/checklist"), Some(zone), json!({"items": items})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = c
        .json("POST", &format!("/api/v1/filings/{id}/review"), Some(zone), json!({"decision": "approve"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = c.json("POST", &format!("/api/v1/filings/{id}/publish"), Some(filer), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    id
}

#[tokio::test]
async fn the_api_files_reviews_publishes_and_refuses_bad_input() {
    let app = app().await;
    insurers(&app).await;
    let mut c = Client::new(&app);
    let filer = c.token("filer").await;
    let filer2 = c.token("filer2").await;
    let zone = c.token("reviewer").await;
    let ent = c.token("ent.admin").await;
    let before = events(&app).await;
    // A type that does not exist; a limit below the deductible.
    let r =
        c.json("POST", "/api/v1/filings", Some(&filer), filing("flying_car", "飞行汽车险", "100", "0")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["details"][0]["code"], "unknown_type");
    let r = c
        .json(
            "POST",
            "/api/v1/filings",
            Some(&filer),
            filing("patent_enforcement", "专利执行保险", "1000", "5000"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let d = &r.json()["error"]["details"][0];
    assert_eq!(
        (d["code"].as_str(), d["field"].as_str()),
        (Some("limit_below_deductible"), Some("coverages[0].limit_yuan"))
    );
    assert!(d["message_zh"].as_str().unwrap().contains("免赔额"));
    // An enterprise cannot file; nobody without a session can.
    let r = c
        .json(
            "POST",
            "/api/v1/filings",
            Some(&ent),
            filing("patent_enforcement", "专利执行保险", "500000", "0"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c
        .json("POST", "/api/v1/filings", None, filing("patent_enforcement", "专利执行保险", "500000", "0"))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(events(&app).await, before);

    let r = c
        .json(
            "POST",
            "/api/v1/filings",
            Some(&filer),
            filing("patent_enforcement", "专利执行保险（光谷版）", "500000", "5000"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json()["shown"]["status"], "draft");
    // Another insurer: cannot see the draft, cannot edit it.
    assert_eq!(c.get_auth(&format!("/api/v1/products/{id}"), &filer2).await.status, StatusCode::NOT_FOUND);
    let r = c
        .json(
            "PUT",
            &format!("/api/v1/filings/{id}"),
            Some(&filer2),
            filing("patent_enforcement", "改名", "500000", "0"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // An enterprise user reaching the reviewer's work.
    assert_eq!(c.get_auth("/api/v1/filings/review-queue", &ent).await.status, StatusCode::FORBIDDEN);
    let r = c
        .json("POST", &format!("/api/v1/filings/{id}/review"), Some(&ent), json!({"decision": "approve"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Documents: stored with their hash; an oversized one is refused with 413.
    let r = upload_api(&mut c, &filer, &id, "条款.pdf", b"%PDF-1.7 wording".to_vec()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let doc = r.json();
    assert_eq!(doc["sha256"].as_str().unwrap().len(), 64);
    let before_big = events(&app).await;
    let r = upload_api(&mut c, &filer, &id, "big.pdf", {
        let mut v = b"%PDF".to_vec();
        v.resize(kebao_domain::product::documents::MAX_BYTES + 1, b'a');
        v
    })
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_eq!(r.json()["error"]["details"][0]["code"], "too_large");
    let r = upload_api(&mut c, &filer, &id, "huge.pdf", vec![b'a'; kebao_web::MAX_BODY_BYTES + 10]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_eq!(events(&app).await, before_big);
    let r = c.get_auth(doc["url"].as_str().unwrap(), &filer).await;
    assert_eq!((r.status, r.body.as_slice()), (StatusCode::OK, &b"%PDF-1.7 wording"[..]));
    assert_eq!(r.headers["x-content-sha256"].to_str().unwrap(), doc["sha256"].as_str().unwrap());
    assert_eq!(c.get_auth(doc["url"].as_str().unwrap(), &filer2).await.status, StatusCode::NOT_FOUND);
    // Review: approve; approving again is a conflict that changes nothing.
    c.json("POST", &format!("/api/v1/filings/{id}/submit"), Some(&filer), json!({})).await;
    let items: Vec<&str> = kebao_domain::product::CHECKLIST.iter().map(|(c, _, _)| *c).collect();
    c.json("PUT", &format!("/api/v1/filings/{id}/checklist"), Some(&zone), json!({"items": items})).await;
    // Not without a rating plan on file.
    let r = c
        .json("POST", &format!("/api/v1/filings/{id}/review"), Some(&zone), json!({"decision": "approve"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.json()["error"]["details"][0]["code"], "no_rating_plan");
    let plan = json!({"effective_from": "2026-01-01", "plan": {"basis": "limit", "base": "0.008",
        "min_premium_yuan": 1000}});
    let r = c.json("POST", &format!("/api/v1/filings/{id}/rating-plans"), Some(&filer), plan).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = c
        .json("POST", &format!("/api/v1/filings/{id}/review"), Some(&zone), json!({"decision": "approve"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["shown"]["registration_no"], "DHKB-2026-0001");
    let after = events(&app).await;
    let r = c
        .json("POST", &format!("/api/v1/filings/{id}/review"), Some(&zone), json!({"decision": "approve"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["error"]["details"][0]["code"], "bad_transition");
    assert!(r.json()["error"]["message_zh"].as_str().unwrap().contains("不能重复批准"));
    assert_eq!(events(&app).await, after);
    let r = c
        .json("POST", &format!("/api/v1/filings/{id}/review"), Some(&zone), json!({"decision": "maybe"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Publish: public, searchable, on the roster.
    let r = c.json("POST", &format!("/api/v1/filings/{id}/publish"), Some(&filer), json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = c.get("/api/v1/products?q=%E4%B8%93%E5%88%A9").await; // 专利
    assert_eq!(r.json()["total"], 1);
    assert_eq!(r.json()["items"][0]["id"], id.as_str());
    let r = c.get(&format!("/api/v1/products/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["comments"].as_array().unwrap().is_empty());
    assert_eq!(c.get("/api/v1/products/roster").await.json()[0]["registration_no"], "DHKB-2026-0001");
    assert_eq!(c.get("/api/v1/products?stage=moon").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(c.get("/api/v1/product-types").await.json().as_array().unwrap().len(), 42);
    let t = c.get("/api/v1/product-types/rd_liability").await.json();
    assert_eq!((t["nfra_part"].as_u64(), t["line"].as_str()), (Some(1), Some("liability")));
    // The OpenAPI document lists the new endpoints.
    let spec = c.get("/api/v1/openapi.json").await.json();
    assert!(spec["paths"]["/api/v1/filings/{id}/review"].is_object());
}

#[tokio::test]
async fn the_portal_pages_search_filter_and_export() {
    let app = app().await;
    insurers(&app).await;
    let mut c = Client::new(&app);
    let filer = c.token("filer").await;
    let filer2 = c.token("filer2").await;
    let zone = c.token("reviewer").await;
    registered(&mut c, &filer, &zone, filing("patent_insurance", "知识产权综合保险", "300000", "0")).await;
    let mut b = filing("first_set_equipment", "首台（套）重大技术装备综合保险", "10000000", "50000");
    b["coverages"][0]["name"] = json!("质量风险");
    registered(&mut c, &filer2, &zone, b).await;
    let mut p = filing("product_liability", "高新技术产品责任险", "2000000", "2000");
    p["stages"] = json!(["market"]);
    registered(&mut c, &filer, &zone, p).await;
    for (q, name) in [
        ("专利", "知识产权综合保险"),
        ("首台", "首台（套）重大技术装备综合保险"),
        ("责任险", "高新技术产品责任险"),
    ] {
        let r = c.get(&format!("/products?q={}", enc(q))).await;
        assert_eq!(r.status, StatusCode::OK);
        let t = r.text();
        assert!(t.contains(name), "{q}: {t}");
        assert!(t.contains("共 1 款产品"), "{q}");
    }
    let r = c.get("/products?stage=rnd").await;
    assert!(r.text().contains("共 0 款产品"));
    let r = c.get("/products?line=spaceship").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("险类 “spaceship” 不存在"));
    // The matrix marks gaps.
    let r = c.get("/products/matrix").await;
    assert!(r.text().contains("class=\"num gap\""));
    // The type catalogue labels unconfirmed numbers.
    let r = c.get("/product-types").await;
    assert!(r.text().contains("示意值，未经确认"));
    let r = c.get("/product-types/patent_agent_pi?lang=en").await;
    assert!(r.text().contains("6000000") && r.text().contains("Confirmed"), "{}", r.text());
    // The roster as Excel.
    let r = c.get("/products/roster.xlsx").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.starts_with(b"PK"));
    let t = kebao_service::tabular::read(&r.body, kebao_service::tabular::Format::Xlsx).unwrap();
    assert_eq!(t.rows.len(), 3);
    assert_eq!(t.rows[0][0], "DHKB-2026-0001");
}

#[tokio::test]
async fn the_filing_workspace_and_reviewer_pages_keep_to_their_roles() {
    let app = app().await;
    insurers(&app).await;
    let mut filer = Client::new(&app);
    filer.login("filer", PW).await;
    let csrf = filer.csrf().await;
    let before = events(&app).await;
    // A bad form shows inline errors and changes nothing.
    let r = filer
        .post_form(
            "/filings",
            &[
                ("csrf", &csrf),
                ("type_id", "rd_liability"),
                ("name", "研发责任险"),
                ("cov0_name", "责任"),
                ("cov0_limit", "1000"),
                ("cov0_deductible", "5000"),
                ("premium_basis", "limit"),
                ("contact_name", "王"),
                ("contact_phone", "027-87654321"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("须高于免赔额"), "{}", r.text());
    assert_eq!(events(&app).await, before);
    let r = filer
        .post_form(
            "/filings",
            &[
                ("csrf", &csrf),
                ("type_id", "rd_liability"),
                ("name", "研发责任险"),
                ("cov0_name", "责任"),
                ("cov0_limit", "1000000"),
                ("cov0_deductible", "5000"),
                ("stages", "rnd"),
                ("stages", "market"),
                ("industries", "bio"),
                ("premium_basis", "limit"),
                ("contact_name", "王"),
                ("contact_phone", "027-87654321"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let path = r.location();
    let id = path.trim_start_matches("/filings/").to_owned();
    let page = filer.get(&path).await.text();
    assert!(page.contains("研发、市场") && page.contains("生物"), "{page}");
    // Upload through the form; an oversized file is refused on the page.
    let (ctype, body) = multipart(Some(&csrf), "条款.txt", "第一条 保险责任".as_bytes().to_vec());
    let r = filer
        .send(
            Request::post(format!("/filings/{id}/documents"))
                .header(header::CONTENT_TYPE, ctype)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let (ctype, body) =
        multipart(Some(&csrf), "big.txt", vec![b'a'; kebao_domain::product::documents::MAX_BYTES + 1]);
    let r = filer
        .send(
            Request::post(format!("/filings/{id}/documents"))
                .header(header::CONTENT_TYPE, ctype)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("文件过大"), "{}", r.text());
    let r = filer.post_form(&format!("/filings/{id}/action"), &[("csrf", &csrf), ("do", "submit")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // An enterprise user cannot reach the reviewer's pages or forms.
    let mut ent = Client::new(&app);
    ent.login("ent.admin", PW).await;
    let ecsrf = ent.csrf().await;
    assert_eq!(ent.get(&format!("/filings/{id}")).await.status, StatusCode::NOT_FOUND);
    let r =
        ent.post_form(&format!("/filings/{id}/review"), &[("csrf", &ecsrf), ("decision", "approve")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!ent.get("/filings").await.text().contains("研发责任险"));
    // The reviewer: the checklist must be complete to approve.
    let mut zone = Client::new(&app);
    zone.login("reviewer", PW).await;
    let zcsrf = zone.csrf().await;
    assert!(zone.get("/filings").await.text().contains("研发责任险"));
    let r =
        zone.post_form(&format!("/filings/{id}/review"), &[("csrf", &zcsrf), ("decision", "approve")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("核查清单未完成"));
    let mut form: Vec<(&str, &str)> = vec![("csrf", &zcsrf)];
    form.extend(kebao_domain::product::CHECKLIST.iter().map(|(c, _, _)| ("items", *c)));
    assert_eq!(
        zone.post_form(&format!("/filings/{id}/checklist"), &form).await.status,
        StatusCode::SEE_OTHER
    );
    // ... and a rating plan on file, which the filer files in the workspace.
    let r =
        zone.post_form(&format!("/filings/{id}/review"), &[("csrf", &zcsrf), ("decision", "approve")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("尚未备案费率表"), "{}", r.text());
    let plan = r#"{"basis": "limit", "base": "0.008", "min_premium_yuan": 1000}"#;
    let r = filer
        .post_form(
            &format!("/filings/{id}/rating-plans"),
            &[("csrf", &csrf), ("effective_from", "2026-01-01"), ("plan", plan)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r =
        zone.post_form(&format!("/filings/{id}/review"), &[("csrf", &zcsrf), ("decision", "approve")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r =
        zone.post_form(&format!("/filings/{id}/review"), &[("csrf", &zcsrf), ("decision", "approve")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("不能重复批准"));
    assert!(filer.get(&path).await.text().contains("DHKB-2026-0001"));
    // Another insurer's filer editing the product is refused.
    let mut other = Client::new(&app);
    other.login("filer2", PW).await;
    let ocsrf = other.csrf().await;
    let r = other
        .post_form(
            &format!("/filings/{id}/edit"),
            &[
                ("csrf", &ocsrf),
                ("type_id", "rd_liability"),
                ("name", "篡改"),
                ("cov0_name", "责任"),
                ("cov0_limit", "1000000"),
                ("premium_basis", "limit"),
                ("contact_name", "王"),
                ("contact_phone", "027-87654321"),
            ],
        )
        .await;
    assert!(r.status == StatusCode::FORBIDDEN || r.status == StatusCode::NOT_FOUND, "{}", r.status);
    assert!(!filer.get(&path).await.text().contains("篡改"));
}

#[tokio::test]
async fn markdown_in_the_publicity_section_cannot_inject_script() {
    let app = app().await;
    let mut c = Client::new(&app);
    c.login("reviewer", PW).await;
    let csrf = c.csrf().await;
    let body = "**案情**\n\n<script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n[点我](javascript:alert(1))";
    let r = c
        .post_form(
            "/publicity",
            &[("csrf", &csrf), ("kind", "case"), ("title", "演示案例"), ("body_md", body), ("publish", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let mut anon = Client::new(&app);
    let page = anon.get(&r.location()).await.text();
    assert!(page.contains("<strong>案情</strong>"));
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(!page.contains("href=\"javascript:"), "{page}");
    let list = anon.get("/api/v1/articles").await.json();
    assert!(!list[0]["body_html"].as_str().unwrap().contains("<script>"));
    // Enterprise users do not write here; bad input is refused with messages.
    let mut ent = Client::new(&app);
    ent.login("ent.admin", PW).await;
    let ecsrf = ent.csrf().await;
    let r = ent
        .post_form("/publicity", &[("csrf", &ecsrf), ("kind", "case"), ("title", "x"), ("body_md", "y")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r =
        c.post_form("/publicity", &[("csrf", &csrf), ("kind", "case"), ("title", ""), ("body_md", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("此项为必填项"));
}

#[tokio::test]
async fn platform_admins_load_a_catalogue_from_the_page() {
    let app = app().await;
    let op = Actor::System { name: "test".into() };
    let gov = app.svc.org_id_by_uscc(&op, &uscc(3)).await.unwrap().unwrap();
    let input =
        NewUserInput { username: "padmin".into(), display_name: "padmin".into(), password: PW.into() };
    app.svc.add_user(&op, &gov, &input, &[Role::PlatformAdmin]).await.unwrap();
    let send = |csrf: &str, text: &str| {
        let (ctype, body) = multipart(Some(csrf), "catalogue.toml", text.as_bytes().to_vec());
        Request::post("/product-types").header(header::CONTENT_TYPE, ctype).body(Body::from(body)).unwrap()
    };
    let mut zone = Client::new(&app);
    zone.login("reviewer", PW).await;
    let zcsrf = zone.csrf().await;
    assert!(!zone.get("/product-types").await.text().contains("name=\"file\""));
    let r = zone.send(send(&zcsrf, kebao_service::CATALOGUE)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut admin = Client::new(&app);
    admin.login("padmin", PW).await;
    let csrf = admin.csrf().await;
    let before = events(&app).await;
    let r = admin.send(send(&csrf, "[[product]]\nid = 'x'\n")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("产品目录文件有误"), "{}", r.text());
    assert_eq!(events(&app).await, before);
    let mut bigger = kebao_service::CATALOGUE.to_owned();
    bigger.push_str("\n[[product]]\nid='quantum_rd'\nname_zh='量子研发中断保险'\nnfra_class='科技研发、成果转化风险类'\nline='property'\nlifecycle=['研发']\n");
    let r = admin.send(send(&csrf, &bigger)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(admin.get("/product-types").await.text().contains("量子研发中断保险"));
    assert_eq!(events(&app).await, before + 1);
}

#[tokio::test]
async fn quotes_run_the_insurers_filed_plan_through_the_api_and_the_page() {
    let app = app().await;
    insurers(&app).await;
    let mut c = Client::new(&app);
    let filer = c.token("filer").await;
    let zone = c.token("reviewer").await;
    let id = registered(&mut c, &filer, &zone, filing("rd_liability", "研发责任险", "1000000", "0")).await;
    let quote = json!({"limit_yuan": "1000000", "claims_3y": 1});
    // No plan in force yet: a clear 409.
    let r = c.json("POST", &format!("/api/v1/products/{id}/quote"), None, quote.clone()).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["error"]["details"][0]["code"], "no_plan");
    let plan = json!({"effective_from": "2026-01-01", "plan": {"basis": "limit", "base": "0.008",
        "factors": [{"variable": "claims_history", "levels": [["0", "0.9"], ["1", "1.2"], ["2+", "1.6"]]}],
        "min_premium_yuan": 1000}});
    let r = c.json("POST", &format!("/api/v1/filings/{id}/rating-plans"), Some(&zone), plan.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c.json("POST", &format!("/api/v1/filings/{id}/rating-plans"), Some(&filer), plan).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = c.json("POST", &format!("/api/v1/products/{id}/quote"), None, quote).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let q = r.json();
    assert_eq!(
        (q["premium_yuan"].as_str(), q["insurer_name"].as_str()),
        (Some("9600.00"), Some("楚天财产保险股份有限公司湖北分公司"))
    );
    assert_eq!(q["steps"].as_array().unwrap().len(), 3);
    let r = c.json("POST", &format!("/api/v1/products/{id}/quote"), None, json!({"limit_yuan": "abc"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The page shows the same premium and the trace.
    let page = c.get(&format!("/products/{id}/quote?limit_yuan=1000000&claims_3y=1")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("id=\"premium\">9,600.00") && page.text().contains("id=\"trace\""),
        "{}",
        page.text()
    );
}

#[tokio::test]
async fn apply_from_a_quote_underwrite_and_print_the_policy() {
    let app = app().await;
    insurers(&app).await;
    let op = Actor::System { name: "t".into() };
    let ins = app.svc.org_id_by_uscc(&op, &uscc(31)).await.unwrap().unwrap();
    for (name, role) in [("uw.one", Role::Underwriter), ("insadmin", Role::OrgAdmin)] {
        let input = NewUserInput { username: name.into(), display_name: name.into(), password: PW.into() };
        app.svc.add_user(&op, &ins, &input, &[role]).await.unwrap();
    }
    let mut c = Client::new(&app);
    let filer = c.token("filer").await;
    let zone = c.token("reviewer").await;
    let id = registered(&mut c, &filer, &zone, filing("rd_liability", "研发责任险", "1000000", "0")).await;
    let plan = json!({"effective_from": "2026-01-01", "plan": {"basis": "limit", "base": "0.01",
        "min_premium_yuan": 1000, "underwriting": {"auto_accept_max_limit_yuan": 1000000}}});
    assert_eq!(
        c.json("POST", &format!("/api/v1/filings/{id}/rating-plans"), Some(&filer), plan).await.status,
        StatusCode::CREATED
    );
    // Through the API: within the rule, bound at once.
    let ent = c.token("ent.admin").await;
    let r = c
        .json(
            "POST",
            &format!("/api/v1/products/{id}/apply"),
            Some(&ent),
            json!({"quote": {"limit_yuan": "500000"}, "start_date": "2026-12-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["status"], "bound");
    let r = c
        .json(
            "POST",
            &format!("/api/v1/products/{id}/apply"),
            Some(&ent),
            json!({"quote": {"limit_yuan": "500000"}, "start_date": "2026-12-01", "extra": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "an unknown field is refused");
    // Through the pages: the quote page's apply form, then the underwriter's queue.
    let mut e = Client::new(&app);
    e.login("ent.admin", PW).await;
    let csrf = e.csrf().await;
    let page = e.get(&format!("/products/{id}/quote?limit_yuan=2000000")).await.text();
    assert!(page.contains("id=\"apply-form\""), "{page}");
    // The quote form starts from the registry, and the apply step states whose quote it is.
    assert!(page.contains("平台仅提供技术服务"), "{page}");
    let before = events(&app).await;
    let r = e
        .post_form(
            &format!("/products/{id}/apply"),
            &[("csrf", &csrf), ("limit_yuan", "2000000"), ("claims_3y", "0"), ("start_date", "2026-12-15")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "no application without the confirmation");
    assert!(r.text().contains("勾选确认"), "{}", r.text());
    assert_eq!(events(&app).await, before, "an unconfirmed application changes nothing");
    let r = e
        .post_form(
            &format!("/products/{id}/apply"),
            &[
                ("csrf", &csrf),
                ("limit_yuan", "2000000"),
                ("claims_3y", "0"),
                ("start_date", "2026-12-15"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let list = e.get("/policies").await.text();
    assert!(list.contains("待核保") && list.contains("DHKB-P-2026-000001"), "{list}");
    let mut admin = Client::new(&app);
    let at = admin.token("insadmin").await;
    let r = admin
        .json("PUT", "/api/v1/underwriters/uw.one/authority", Some(&at), json!({"max_limit_yuan": 5000000}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let mut u = Client::new(&app);
    u.login("uw.one", PW).await;
    let ucsrf = u.csrf().await;
    let queue = u.get("/underwriting").await.text();
    assert!(queue.contains("超过自动承保上限"), "{queue}");
    // The work list names the applicant.
    assert!(queue.contains("光谷激光科技有限公司"), "{queue}");
    let app_id = {
        let t = c.token("uw.one").await;
        c.get_auth("/api/v1/underwriting/queue", &t).await.json()[0]["id"].as_str().unwrap().to_owned()
    };
    // Declining without a reason: the queue again, the error at the application's row, what
    // was typed kept; nothing decided.
    let r = u
        .post_form(
            &format!("/underwriting/{app_id}"),
            &[("csrf", &ucsrf), ("decision", "decline"), ("reason", " ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let t = r.text();
    assert!(
        t.contains("id=\"queue\"") && t.contains("role=\"alert\"") && t.contains("光谷激光科技有限公司"),
        "{t}"
    );
    let r =
        u.post_form(&format!("/underwriting/{app_id}"), &[("csrf", &ucsrf), ("decision", "accept")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // The enterprise prints its second policy; the insurer records the premium.
    let pols = c.get_auth("/api/v1/policies", &ent).await.json();
    let second = pols.as_array().unwrap().iter().find(|p| p["number"] == "DHKB-P-2026-000002").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = e.get(&format!("/policies/{second}")).await.text();
    assert!(
        page.contains("DHKB-P-2026-000002")
            && page.contains("20,000.00")
            && !page.contains("id=\"record-premium\""),
        "{page}"
    );
    // How to pay: the reference is the policy number; the insurer's admin gives its account;
    // the enterprise uploads its bank receipt.
    let pay = c.get_auth(&format!("/api/v1/policies/{second}/payment"), &ent).await.json();
    assert!(
        pay["account"].is_null() && pay["reference"] == "DHKB-P-2026-000002" && pay["can_submit"] == true,
        "{pay}"
    );
    let insurer_id = c.get_auth(&format!("/api/v1/policies/{second}"), &ent).await.json()["insurer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let account = json!({"bank": "中国工商银行武汉东湖开发区支行", "account_name": "楚天财产保险", "account_no": "3202 0261 0900 0018 826"});
    let path = format!("/api/v1/orgs/{insurer_id}/collection-account");
    let r = c.json("PUT", &path, Some(&ent), account.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = c.json("PUT", &path, Some(&at), json!({"bank": "x", "account_no": "12"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = c.json("PUT", &path, Some(&at), account).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let pay = c.get_auth(&format!("/api/v1/policies/{second}/payment"), &ent).await.json();
    assert_eq!(pay["account"]["account_no"], "3202 0261 0900 0018 826", "{pay}");
    let (ctype, body) = multipart(None, "回单.pdf", b"%PDF-1.4 bank receipt".to_vec());
    let r = c
        .send(
            Request::post(format!("/api/v1/policies/{second}/payment-evidence"))
                .header(header::AUTHORIZATION, format!("Bearer {ent}"))
                .header(header::CONTENT_TYPE, ctype)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // The underwriter sees the evidence on the policy page, next to the premium form.
    let page = u.get(&format!("/policies/{second}")).await.text();
    assert!(
        page.contains("id=\"pay-evidence\"")
            && page.contains("回单.pdf")
            && page.contains("id=\"pay-account\""),
        "{page}"
    );
    let r = u
        .post_form(
            &format!("/policies/{second}/premium"),
            &[("csrf", &ucsrf), ("amount_yuan", "30000"), ("reference", "B1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("超过该保单尚未收取的保费"));
    // What was typed stays in the form.
    assert!(r.text().contains("name=\"amount_yuan\" value=\"30000\"") && r.text().contains("value=\"B1\""));
    let r = u
        .post_form(
            &format!("/policies/{second}/premium"),
            &[("csrf", &ucsrf), ("amount_yuan", "20000"), ("reference", "B1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let p = c.get_auth(&format!("/api/v1/policies/{second}"), &ent).await.json();
    assert_eq!(p["paid_yuan"], "20000.00");
    assert!(app.svc.ledger_verify().await.unwrap().problems.is_empty());
}

#[tokio::test]
async fn claims_from_the_policy_page_to_payment() {
    let app = app().await;
    insurers(&app).await;
    let op = Actor::System { name: "t".into() };
    let ins = app.svc.org_id_by_uscc(&op, &uscc(31)).await.unwrap().unwrap();
    let input =
        NewUserInput { username: "claims.one".into(), display_name: "理赔员".into(), password: PW.into() };
    app.svc.add_user(&op, &ins, &input, &[Role::ClaimsHandler]).await.unwrap();
    let mut c = Client::new(&app);
    let filer = c.token("filer").await;
    let zone = c.token("reviewer").await;
    let id = registered(&mut c, &filer, &zone, filing("rd_liability", "研发责任险", "1000000", "0")).await;
    let plan = json!({"effective_from": "2026-01-01", "plan": {"basis": "limit", "base": "0.01", "min_premium_yuan": 1000,
        "underwriting": {"auto_accept_max_limit_yuan": 1000000}}});
    c.json("POST", &format!("/api/v1/filings/{id}/rating-plans"), Some(&filer), plan).await;
    let ent = c.token("ent.admin").await;
    c.json(
        "POST",
        &format!("/api/v1/products/{id}/apply"),
        Some(&ent),
        json!({"quote": {"limit_yuan": "500000"}, "start_date": "2026-11-28"}),
    )
    .await;
    let policy = c.get_auth("/api/v1/policies", &ent).await.json()[0]["id"].as_str().unwrap().to_owned();
    let mut e = Client::new(&app);
    e.login("ent.admin", PW).await;
    let csrf = e.csrf().await;
    assert!(e.get(&format!("/policies/{policy}")).await.text().contains("id=\"report-claim\""));
    let r = e
        .post_form(
            &format!("/policies/{policy}/claims"),
            &[
                ("csrf", &csrf),
                ("loss_date", "2026-11-28"),
                ("claimed_yuan", "-5"),
                ("description", "样机起火"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The form comes back with what was typed and the error at the amount's field.
    let t = r.text();
    assert!(
        t.contains(">样机起火</textarea>")
            && t.contains("name=\"claimed_yuan\" value=\"-5\" aria-invalid=\"true\""),
        "{t}"
    );
    assert!(t.contains("value=\"2026-11-28\""), "{t}");
    let r = e
        .post_form(
            &format!("/policies/{policy}/claims"),
            &[
                ("csrf", &csrf),
                ("loss_date", "2026-11-28"),
                ("claimed_yuan", "100000"),
                ("description", "研发样机起火，第三方受损"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let claim = r.location().split('?').next().unwrap_or_default().to_owned();
    let mut h = Client::new(&app);
    h.login("claims.one", PW).await;
    let hc = h.csrf().await;
    for (step, extra) in [
        ("assign", vec![]),
        ("reserve", vec![("amount_yuan", "100000")]),
        ("decide", vec![("outcome", "pay")]),
    ] {
        let mut form = vec![("csrf", hc.as_str()), ("step", step)];
        form.extend(extra);
        let r = h.post_form(&claim, &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{step}: {}", r.text());
    }
    let r = h
        .post_form(&claim, &[("csrf", &hc), ("step", "pay"), ("amount_yuan", "200000"), ("reference", "C1")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("超过尚未支付的赔款"), "{}", r.text());
    // The message is at the payment's form, which keeps what was typed.
    let t = r.text();
    let form =
        t.split("value=\"pay\"").nth(1).unwrap_or_default().split("</form>").next().unwrap_or_default();
    assert!(
        form.contains("超过尚未支付的赔款")
            && form.contains("value=\"200000\"")
            && form.contains("value=\"C1\""),
        "{t}"
    );
    let r = h
        .post_form(&claim, &[("csrf", &hc), ("step", "pay"), ("amount_yuan", "100000"), ("reference", "C1")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = e.get(&claim).await.text();
    assert!(
        page.contains("已结案") && page.contains("100,000.00") && page.contains("id=\"clocks\""),
        "{page}"
    );
    // The enterprise cannot work the claim.
    let r = e.post_form(&claim, &[("csrf", &csrf), ("step", "reopen"), ("reason", "再查")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(app.svc.ledger_verify().await.unwrap().problems.is_empty());
    // It may complain; a mediator takes the case and settles it.
    assert!(e.get(&claim).await.text().contains("id=\"complain\""));
    let r = e
        .post_form(&format!("{claim}/complaint"), &[("csrf", &csrf), ("complaint", "赔付金额未包括鉴定费用")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let dispute = r.location().split('?').next().unwrap_or_default().to_owned();
    let centre = app.svc.create_org(&op, &org("东湖科技保险纠纷调解中心", 61, "service_body")).await.unwrap();
    let input =
        NewUserInput {
            username: "mediator.one".into(), display_name: "调解员".into(), password: PW.into()
        };
    app.svc.add_user(&op, &centre.id, &input, &[Role::Mediator]).await.unwrap();
    let mut m = Client::new(&app);
    m.login("mediator.one", PW).await;
    let mc = m.csrf().await;
    assert!(m.get("/disputes").await.text().contains("赔付金额未包括鉴定费用"));
    assert_eq!(m.post_form(&dispute, &[("csrf", &mc), ("step", "take")]).await.status, StatusCode::SEE_OTHER);
    let r = m.post_form(&dispute, &[("csrf", &mc), ("step", "escalate"), ("outcome", "x")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = m
        .post_form(&dispute, &[("csrf", &mc), ("step", "settle"), ("outcome", "保险机构补付鉴定费 3,000 元")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(e.get(&dispute).await.text().contains("调解成功"));
}

#[tokio::test]
async fn endorse_coinsure_cancel_refund_renew_and_the_zone_overview() {
    let app = app().await;
    let (ins, other) = insurers(&app).await;
    let op = Actor::System { name: "t".into() };
    let input =
        NewUserInput { username: "insadmin".into(), display_name: "管理员".into(), password: PW.into() };
    app.svc.add_user(&op, &ins, &input, &[Role::OrgAdmin]).await.unwrap();
    let mut c = Client::new(&app);
    let filer = c.token("filer").await;
    let zone = c.token("reviewer").await;
    // The filing sets the refund method; a broken short-rate table is refused.
    let mut bad = filing("rd_liability", "研发责任险", "1000000", "0");
    bad["refund_method"] = json!("short_rate");
    bad["short_rate_table"] = json!("1:10 6:100");
    let r = c.json("POST", "/api/v1/filings", Some(&filer), bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("short_rate_table"), "{}", r.text());
    let mut body = filing("rd_liability", "研发责任险", "1000000", "0");
    body["refund_method"] = json!("short_rate");
    body["short_rate_table"] = json!(kebao_domain::cover::typical_short_rate_table().table_text());
    let id = registered(&mut c, &filer, &zone, body).await;
    assert!(c.get(&format!("/products/{id}")).await.text().contains("短期费率表"));
    let plan = json!({"effective_from": "2026-01-01", "plan": {"basis": "limit", "base": "0.01", "min_premium_yuan": 1000,
        "underwriting": {"auto_accept_max_limit_yuan": 2000000}}});
    c.json("POST", &format!("/api/v1/filings/{id}/rating-plans"), Some(&filer), plan).await;
    let ent = c.token("ent.admin").await;
    for start in ["2026-11-28", "2026-12-01"] {
        let r = c
            .json(
                "POST",
                &format!("/api/v1/products/{id}/apply"),
                Some(&ent),
                json!({"quote": {"limit_yuan": "500000"}, "start_date": start}),
            )
            .await;
        assert_eq!(r.json()["status"], "bound", "{}", r.text());
    }
    let pols = c.get_auth("/api/v1/policies", &ent).await.json();
    let pick = |start: &str| {
        pols.as_array().unwrap().iter().find(|p| p["start_date"] == start).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (p1, p2) = (pick("2026-11-28"), pick("2026-12-01"));
    let admin = c.token("insadmin").await;
    let r = c
        .json(
            "POST",
            &format!("/api/v1/policies/{p1}/premium-payments"),
            Some(&admin),
            json!({"amount_yuan": "2000", "reference": "B-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // The insurer's admin endorses from the policy page: the limit doubles from today.
    let mut a = Client::new(&app);
    a.login("insadmin", PW).await;
    let ac = a.csrf().await;
    let page = a.get(&format!("/policies/{p1}")).await.text();
    assert!(page.contains("id=\"endorse\"") && page.contains("id=\"coinsure\""), "{page}");
    let form = |limit: &'static str, from: &'static str| {
        vec![
            ("action", "endorse"),
            ("limit_yuan", limit),
            ("effective_date", from),
            ("reason", "研发扩产，提高限额"),
        ]
    };
    let mut f = vec![("csrf", ac.as_str())];
    f.extend(form("1000000", "2030-01-01"));
    let r = a.post_form(&format!("/policies/{p1}/change"), &f).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("批改生效日须在保险期间内"), "{}", r.text());
    let mut f = vec![("csrf", ac.as_str())];
    f.extend(form("1000000", "2026-11-28"));
    assert_eq!(a.post_form(&format!("/policies/{p1}/change"), &f).await.status, StatusCode::SEE_OTHER);
    let page = a.get(&format!("/policies/{p1}")).await.text();
    assert!(page.contains("id=\"endorsements\"") && page.contains("10,000.00"), "{page}");
    // Co-insurance through the API.
    let r = c
        .json(
            "PUT",
            &format!("/api/v1/policies/{p1}/coinsurance"),
            Some(&admin),
            json!({"followers": [{"insurer_id": other, "share_bp": 3000}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["coinsurance"][1]["share_bp"], 3000);

    // The enterprise cancels from the page: one month begun, 10 % earned by the filed table.
    let mut e = Client::new(&app);
    e.login("ent.admin", PW).await;
    let ec = e.csrf().await;
    let page = e.get(&format!("/policies/{p1}")).await.text();
    assert!(
        page.contains("id=\"cancel\"") && page.contains("id=\"renew\"") && !page.contains("id=\"endorse\"")
    );
    let r = e
        .post_form(
            &format!("/policies/{p1}/change"),
            &[("csrf", &ec), ("action", "cancel"), ("last_day", "2026-11-28"), ("reason", "企业迁出示范区")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let ch = c.get_auth(&format!("/api/v1/policies/{p1}/changes"), &ent).await.json();
    // Due 10,000 yuan; earned 1,000; paid 2,000: 1,000 goes back.
    assert_eq!(
        (ch["status"].as_str(), ch["refund_due_yuan"].as_str()),
        (Some("cancelled"), Some("1000.00")),
        "{ch}"
    );
    let r = c
        .json(
            "POST",
            &format!("/api/v1/policies/{p1}/refund-payments"),
            Some(&admin),
            json!({"amount_yuan": "1000.01", "reference": "R-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .json(
            "POST",
            &format!("/api/v1/policies/{p1}/refund-payments"),
            Some(&admin),
            json!({"amount_yuan": "1000.00", "reference": "R-1"}),
        )
        .await;
    assert_eq!(r.json()["refund_paid_yuan"], "1000.00", "{}", r.text());
    assert!(e.get(&format!("/policies/{p1}")).await.text().contains("已退保"));

    // Claim documents from the claim page, then the claim blocks a cancellation.
    let r = c
        .json(
            "POST",
            &format!("/api/v1/policies/{p2}/claims"),
            Some(&ent),
            json!({"loss_date": "2026-12-01", "description": "实验室设备进水损坏", "claimed_yuan": "8000"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a loss after today is refused: {}", r.text());
    let r = c
        .json(
            "POST",
            &format!("/api/v1/products/{id}/apply"),
            Some(&ent),
            json!({"quote": {"limit_yuan": "300000"}, "start_date": "2026-11-28"}),
        )
        .await;
    assert_eq!(r.json()["status"], "bound", "{}", r.text());
    let pols = c.get_auth("/api/v1/policies", &ent).await.json();
    let p3 = pols.as_array().unwrap().iter().find(|p| p["premium_yuan"] == "3000.00").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = c
        .json(
            "POST",
            &format!("/api/v1/policies/{p3}/claims"),
            Some(&ent),
            json!({"loss_date": "2026-11-28", "description": "实验室设备进水损坏", "claimed_yuan": "8000"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let claim = r.json()["id"].as_str().unwrap().to_owned();
    let (ctype, body) = multipart(Some(&ec), "定损报告.pdf", b"%PDF-1.4 loss".to_vec());
    let req = Request::post(format!("/claims/{claim}/documents"))
        .header(header::CONTENT_TYPE, ctype)
        .body(Body::from(body))
        .unwrap();
    let r = e.send(req).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let page = e.get(&format!("/claims/{claim}")).await.text();
    assert!(page.contains("定损报告.pdf"), "{page}");
    let docs = c.get_auth(&format!("/api/v1/claims/{claim}/documents"), &ent).await.json();
    let doc = docs[0]["id"].as_str().unwrap().to_owned();
    let r = e.get(&format!("/claim-documents/{doc}")).await;
    assert_eq!((r.status, r.text()), (StatusCode::OK, "%PDF-1.4 loss".to_owned()));
    // The one attachment path serves the same file; a caller who may not see the claim is
    // told it does not exist.
    let r = c.get_auth(&format!("/api/v1/attachments/{doc}"), &ent).await;
    assert_eq!((r.status, r.text()), (StatusCode::OK, "%PDF-1.4 loss".to_owned()));
    let r = Client::new(&app).get(&format!("/api/v1/attachments/{doc}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let r = c
        .json(
            "POST",
            &format!("/api/v1/policies/{p3}/cancellation"),
            Some(&ent),
            json!({"last_day": "2026-11-28", "reason": "企业停产"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    // Renewal through the API.
    let r = c.json("POST", &format!("/api/v1/policies/{p2}/renewal"), Some(&ent), json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["start_date"], "2027-12-01");

    // The zone officer's overview.
    let mut z = Client::new(&app);
    z.login("reviewer", PW).await;
    let page = z.get("/zone/insurance").await.text();
    assert!(
        page.contains("id=\"overview\"") && page.contains("楚天财产保险") && page.contains("<svg"),
        "{page}"
    );
    assert_eq!(e.get("/zone/insurance").await.status, StatusCode::FORBIDDEN);
    let x = e.get("/policies.xlsx").await;
    let t = kebao_service::tabular::read(&x.body, kebao_service::tabular::Format::Xlsx).unwrap();
    assert_eq!(t.rows.len(), 4, "the enterprise's policies, incl. the renewal");
    assert!(t.rows.iter().any(|r| r[4] == "已退保/解除"), "{:?}", t.rows);
    let x = e.get("/claims.xlsx").await;
    let t = kebao_service::tabular::read(&x.body, kebao_service::tabular::Format::Xlsx).unwrap();
    assert_eq!(t.rows.len(), 1);
    let x = z.get("/zone/insurance.xlsx").await;
    assert_eq!(x.status, StatusCode::OK);
    let t = kebao_service::tabular::read(&x.body, kebao_service::tabular::Format::Xlsx).unwrap();
    assert_eq!(t.rows.len(), 3, "two insurers and the total");
    assert_eq!(t.rows[2][2], "1", "one cancelled policy in the total");
    let o = c.get_auth("/api/v1/zone/insurance-overview", &zone).await.json();
    assert_eq!(o["total"]["policies_cancelled"], 1, "{o}");
    assert_eq!(o["insurers"].as_array().unwrap().len(), 2, "{o}");

    // The statistics: the page (the reviewer's; an enterprise is refused), its workbook in the
    // report's layout, and the API, all the same figures.
    let page = z.get("/zone/statistics?period=2026Q4&part=1").await.text();
    assert!(
        page.contains("id=\"report\"")
            && page.contains("科技研发、成果转化风险类")
            && page.contains("非官方表样"),
        "{page}"
    );
    // The page says when its figures were taken (the dashboard reads snapshots).
    assert!(page.contains("id=\"as-of\"") && page.contains("数据截至"), "{page}");
    let page = z.get("/zone/statistics?period=2026&part=2&by=stage").await.text();
    assert!(page.contains("生命周期阶段") && page.contains("<svg"), "{page}");
    assert!(page.contains("id=\"grid\"") && page.contains("产业 × 生命周期阶段"), "{page}");
    assert!(page.contains("id=\"parks\"") && page.contains("未登记园区"), "{page}");
    // Premium written by class over the last eight quarters: the chart, its table, its workbook;
    // the quarters add up to the year's Part 1 premium.
    assert!(page.contains("id=\"classes\"") && page.contains("2026年第4季度"), "{page}");
    let x = z.get("/zone/statistics/classes.xlsx?period=2026").await;
    assert_eq!(x.status, StatusCode::OK);
    let t = kebao_service::tabular::read(&x.body, kebao_service::tabular::Format::Xlsx).unwrap();
    assert_eq!(t.headers.len(), 9, "a class column and eight quarters: {:?}", t.headers);
    assert!(t.headers[8].starts_with("2026年第4季度"), "{:?}", t.headers);
    let in_2026: f64 = t.rows.iter().flat_map(|r| r[5..9].iter()).map(|c| c.parse::<f64>().unwrap()).sum();
    let year = c.get_auth("/api/v1/statistics/nfra?period=2026&part=1", &zone).await.json();
    let written: f64 = year["total"]["premium_written_yuan"].as_str().unwrap().parse().unwrap();
    assert!((in_2026 - written).abs() < 0.005, "{in_2026} against {written}");
    // The year's quarters: the chart's table and its workbook (every measure per quarter).
    assert!(page.contains("id=\"quarters\""), "{page}");
    let x = z.get("/zone/statistics/quarters.xlsx?period=2026&part=2").await;
    assert_eq!(x.status, StatusCode::OK);
    let t = kebao_service::tabular::read(&x.body, kebao_service::tabular::Format::Xlsx).unwrap();
    assert_eq!(t.headers.len(), 9, "{:?}", t.headers);
    assert_eq!(t.rows.len(), 4, "the test clock is in the year's last quarter: {:?}", t.rows);
    let x = z.get("/zone/statistics/grid.xlsx?period=2026").await;
    assert_eq!(x.status, StatusCode::OK);
    let t = kebao_service::tabular::read(&x.body, kebao_service::tabular::Format::Xlsx).unwrap();
    assert_eq!(t.rows.len(), 8, "seven industries and the rest");
    let g = c.get_auth("/api/v1/statistics/grid?period=2026", &zone).await.json();
    let cells: i64 = g["premium_written_fen"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|v| v.as_i64().unwrap())
        .sum();
    let part2 = c.get_auth("/api/v1/statistics/nfra?period=2026&part=2", &zone).await.json();
    assert_eq!(cells, part2["total"]["premium_written_fen"].as_i64().unwrap(), "{g}");
    let bad = z.get("/zone/statistics?period=2026Q7").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("2026Q7"), "{}", bad.text());
    assert_eq!(e.get("/zone/statistics").await.status, StatusCode::FORBIDDEN);
    let api = c.get_auth("/api/v1/statistics/nfra?period=2026Q4&part=1", &zone).await.json();
    assert_eq!(api["part"], 1, "{api}");
    let policies = api["total"]["policies"].as_u64().unwrap();
    assert!(policies >= 3, "{api}");
    let x = z.get("/zone/statistics.xlsx?period=2026Q4&part=1").await;
    assert_eq!(x.status, StatusCode::OK);
    let t = kebao_service::tabular::read(&x.body, kebao_service::tabular::Format::Xlsx).unwrap();
    let total = t.rows.iter().find(|r| r.first().is_some_and(|c| c.starts_with("合计"))).unwrap();
    assert_eq!(total[1], policies.to_string(), "{:?}", t.rows);
    let written: f64 = api["total"]["premium_written_yuan"].as_str().unwrap().parse().unwrap();
    assert_eq!(total[3].parse::<f64>().unwrap(), written, "{:?}", t.rows);
    // The plan's targets: the page, the API; not for an enterprise.
    let page = z.get("/zone/targets").await.text();
    assert!(
        page.contains("科技保险服务企业数") && page.contains("whht.org.cn") && page.contains("<svg"),
        "{page}"
    );
    assert_eq!(e.get("/zone/targets").await.status, StatusCode::FORBIDDEN);
    let t = c.get_auth("/api/v1/statistics/targets", &zone).await.json();
    let ents = t.as_array().unwrap().iter().find(|x| x["id"] == "insured_enterprises").unwrap();
    assert_eq!((ents["value"].as_i64(), ents["now"].as_i64()), (Some(5000), Some(1)), "{t}");
    let r = c.get_auth("/api/v1/statistics/nfra?period=2026&part=9", &zone).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(app.svc.ledger_verify().await.unwrap().problems.is_empty());
}

#[tokio::test]
async fn subsidies_from_the_policy_page_through_review_notice_and_dashboard() {
    let app = app().await;
    let (ins, _) = insurers(&app).await;
    let op = Actor::System { name: "t".into() };
    let gov = app.svc.org_id_by_uscc(&op, &uscc(3)).await.unwrap().unwrap();
    for (org, name, role) in [(&ins, "uw.sub", Role::Underwriter), (&gov, "approver", Role::ZoneApprover)] {
        let input = NewUserInput { username: name.into(), display_name: name.into(), password: PW.into() };
        app.svc.add_user(&op, org, &input, &[role]).await.unwrap();
    }
    let q = kebao_domain::org::Qualification {
        kind: kebao_domain::org::QualificationKind::TechSme,
        valid_from: time::macros::date!(2026 - 01 - 01),
        valid_to: time::macros::date!(2026 - 12 - 31),
        certificate_no: Some("2026420100001".into()),
    };
    app.svc.add_qualification(&op, &app.enterprise, q).await.unwrap();
    let mut c = Client::new(&app);
    let filer = c.token("filer").await;
    let zone = c.token("reviewer").await;
    let id = registered(&mut c, &filer, &zone, filing("rd_liability", "研发责任险", "5000000", "0")).await;
    let plan = json!({"effective_from": "2026-01-01", "plan": {"basis": "limit", "base": "0.01", "min_premium_yuan": 1000,
        "underwriting": {"auto_accept_max_limit_yuan": 5000000}}});
    c.json("POST", &format!("/api/v1/filings/{id}/rating-plans"), Some(&filer), plan).await;
    let ent = c.token("ent.admin").await;
    c.json(
        "POST",
        &format!("/api/v1/products/{id}/apply"),
        Some(&ent),
        json!({"quote": {"limit_yuan": "2000000"}, "start_date": "2026-11-28"}),
    )
    .await;
    let pol = c.get_auth("/api/v1/policies", &ent).await.json()[0]["id"].as_str().unwrap().to_owned();
    let uw = c.token("uw.sub").await;
    let r = c
        .json(
            "POST",
            &format!("/api/v1/policies/{pol}/premium-payments"),
            Some(&uw),
            json!({"amount_yuan": "20000", "reference": "B-9"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // The enterprise checks from its policy: half of the premium paid, with the example's caveat.
    let mut e = Client::new(&app);
    e.login("ent.admin", PW).await;
    let ec = e.csrf().await;
    assert!(e.get(&format!("/policies/{pol}")).await.text().contains("id=\"subsidy-link\""));
    let page = e.get(&format!("/policies/{pol}/subsidy?programme=zone_tech_insurance")).await.text();
    assert!(
        page.contains("id=\"amount\"")
            && page.contains("10,000.00")
            && page.contains("示范参数，以管委会公布为准"),
        "{page}"
    );
    let r = c
        .json(
            "POST",
            &format!("/api/v1/policies/{pol}/subsidy-check"),
            Some(&ent),
            json!({"programme_id": "no_such"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = e
        .post_form(
            &format!("/policies/{pol}/subsidy"),
            &[("csrf", &ec), ("programme", "zone_tech_insurance")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let sub = r.location().split('?').next().unwrap_or_default().to_owned();
    let sid = sub.trim_start_matches("/subsidies/").to_owned();
    // Local review on the page, department review through the API.
    let mut z = Client::new(&app);
    z.login("reviewer", PW).await;
    let zc = z.csrf().await;
    // The zone's work list names the applicant.
    let list = z.get("/subsidies").await.text();
    assert!(list.contains("光谷激光科技有限公司"), "{list}");
    // The page offers what the service says each reader may do now.
    assert!(z.get(&sub).await.text().contains("value=\"local_review\""));
    let mine = e.get(&sub).await.text();
    assert!(
        !mine.contains("value=\"local_review\"") && mine.contains("/documents?kind=business_licence\""),
        "{mine}"
    );
    // Without the programme's documents the review does not pass; the page says which.
    let r = z.post_form(&sub, &[("csrf", &zc), ("step", "local_review"), ("pass", "1")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("申报材料不全") && r.text().contains("营业执照"));
    // The message is at the local review's form.
    let t = r.text();
    let form = t
        .split("value=\"local_review\"")
        .nth(1)
        .unwrap_or_default()
        .split("</form>")
        .next()
        .unwrap_or_default();
    assert!(form.contains("申报材料不全"), "{t}");
    // The enterprise files each listed document from the page's checklist.
    for kind in ["application_form", "policy_and_invoice", "payment_proof", "business_licence"] {
        let (ctype, body) = multipart(Some(&ec), &format!("{kind}.pdf"), b"%PDF-1.4 scan".to_vec());
        let r = e
            .send(
                Request::post(format!("{sub}/documents?kind={kind}"))
                    .header(header::CONTENT_TYPE, ctype)
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{kind}: {}", r.text());
    }
    let mine = e.get(&sub).await.text();
    assert!(mine.contains("business_licence.pdf") && !mine.contains(">缺<"), "{mine}");
    let r = z.post_form(&sub, &[("csrf", &zc), ("step", "local_review"), ("pass", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let approver = c.token("approver").await;
    let r = c
        .json(
            "POST",
            &format!("/api/v1/subsidies/{sid}/steps"),
            Some(&approver),
            json!({"step": "department_review", "pass": true}),
        )
        .await;
    assert_eq!(r.json()["status"], "in_notice", "{}", r.text());
    let r = c
        .json("POST", &format!("/api/v1/subsidies/{sid}/steps"), Some(&approver), json!({"step": "lapse"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "offers lapse by the clock: {}", r.text());
    let r = c
        .json("POST", &format!("/api/v1/subsidies/{sid}/steps"), Some(&approver), json!({"step": "approve"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "the notice is still running");
    // The public notice needs no login; objections do.
    let mut anon = Client::new(&app);
    let page = anon.get("/subsidies/notice").await.text();
    assert!(page.contains("光谷激光科技有限公司") && page.contains("10,000.00"), "{page}");
    let x = anon.get("/subsidies/notice.xlsx").await;
    let t = kebao_service::tabular::read(&x.body, kebao_service::tabular::Format::Xlsx).unwrap();
    assert_eq!(t.rows.len(), 1);
    let mut b = Client::new(&app);
    b.login("banker", PW).await;
    let bc = b.csrf().await;
    let r =
        b.post_form(&format!("{sub}/objection"), &[("csrf", &bc), ("text", "该企业保费系关联方代缴")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(e.get(&sub).await.text().contains("该企业保费系关联方代缴"));
    let r =
        c.json("GET", &format!("/api/v1/subsidies/{sid}"), Some(&b.token("banker").await), json!(null)).await;
    assert_eq!(r.status, StatusCode::OK, "in notice, the application is public to signed-in users");
    assert_eq!(r.json()["declarations"], json!({}), "but not the applicant's declarations");
    // The dashboard and a what-if run; bad parameters get a clear error; enterprises are kept out.
    let mut a = Client::new(&app);
    a.login("approver", PW).await;
    let page = a.get("/subsidies/dashboard?programme=zone_tech_insurance&share_percent=30").await.text();
    assert!(
        page.contains("id=\"what-if-result\"") && page.contains("6,000.00") && page.contains("<svg"),
        "{page}"
    );
    let page = a.get("/subsidies/dashboard?programme=zone_tech_insurance&share_percent=150").await.text();
    assert!(page.contains("id=\"errors\""), "{page}");
    assert_eq!(e.get("/subsidies/dashboard").await.status, StatusCode::FORBIDDEN);
    let w = c
        .json(
            "POST",
            "/api/v1/subsidy/programmes/zone_tech_insurance/what-if",
            Some(&zone),
            json!({"share_percent": 30}),
        )
        .await
        .json();
    assert_eq!(w["cost_yuan"], "6000.00", "{w}");
    let progs = c.get_auth("/api/v1/subsidy/programmes", &ent).await.json();
    assert!(progs
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == "zone_tech_insurance" && p["confidence"] == "U"));
}

/// A GET from a given client address, as `kebao serve` records it.
async fn get_from(c: &mut Client<'_>, path: &str, addr: [u8; 4], token: Option<&str>) -> Resp {
    let mut b = Request::get(path);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let mut req = b.body(Body::empty()).unwrap();
    req.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((addr, 40_000))));
    c.send(req).await
}

#[tokio::test]
async fn long_search_queries_are_refused_fast_and_anonymous_search_is_rate_limited() {
    let app = app().await;
    let mut c = Client::new(&app);
    // A 60 KB query string of Chinese (6,400 characters; a URI holds at most 64 KiB): 422 at
    // once, in the API and on the page (at the search field).
    let big: String = "专利保险".repeat(1_600).bytes().map(|b| format!("%{b:02X}")).collect();
    let start = std::time::Instant::now();
    let r = get_from(&mut c, &format!("/api/v1/products?q={big}"), [10, 0, 0, 1], None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("query_too_long") && r.text().contains("100"), "{}", r.text());
    let r = get_from(&mut c, &format!("/products?q={big}"), [10, 0, 0, 1], None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text();
    assert!(page.contains("id=\"err-q\"") && page.contains("搜索词过长"), "{page}");
    assert!(page.len() < 40_000, "the query is not echoed whole: {} bytes", page.len());
    assert!(start.elapsed() < std::time::Duration::from_secs(2), "took {:?}", start.elapsed());
    // A burst from one address (the two long queries counted): refused past the limit, in
    // the API and on the page …
    let limit = kebao_web::session::ANONYMOUS_SEARCHES_PER_MINUTE;
    for i in 3..=limit {
        let r = get_from(&mut c, "/api/v1/products?q=%E4%B8%93%E5%88%A9", [10, 0, 0, 1], None).await;
        assert_eq!(r.status, StatusCode::OK, "search {i}");
    }
    let r = get_from(&mut c, "/api/v1/products?q=%E4%B8%93%E5%88%A9", [10, 0, 0, 1], None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert!(r.text().contains("rate_limited"));
    let r = get_from(&mut c, "/products?q=%E4%B8%93%E5%88%A9", [10, 0, 0, 1], None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().contains("搜索过于频繁"));
    // … while browsing without a query, another address, and signed-in users are not limited.
    assert_eq!(get_from(&mut c, "/api/v1/products", [10, 0, 0, 1], None).await.status, StatusCode::OK);
    assert_eq!(get_from(&mut c, "/products", [10, 0, 0, 1], None).await.status, StatusCode::OK);
    let r = get_from(&mut c, "/api/v1/products?q=%E4%B8%93%E5%88%A9", [10, 0, 0, 2], None).await;
    assert_eq!(r.status, StatusCode::OK);
    let token = c.token("reviewer").await;
    for _ in 0..=limit {
        let r = get_from(&mut c, "/api/v1/products?q=%E4%B8%93%E5%88%A9", [10, 0, 0, 1], Some(&token)).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let mut u = Client::new(&app);
    u.login("reviewer", PW).await;
    for _ in 0..=limit {
        assert_eq!(
            get_from(&mut u, "/products?q=%E4%B8%93%E5%88%A9", [10, 0, 0, 1], None).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn an_ineligible_application_is_refused_with_its_reasons_by_the_api_and_the_page() {
    let app = app().await;
    insurers(&app).await;
    let mut c = Client::new(&app);
    let filer = c.token("filer").await;
    let zone = c.token("reviewer").await;
    // For high-tech enterprises at the production stage: the test enterprise (R&D, no
    // qualification) fails on both.
    let mut body = filing("rd_liability", "研发责任险（高新版）", "1000000", "0");
    body["stages"] = json!(["production"]);
    body["qualifications"] = json!(["high_tech"]);
    let id = registered(&mut c, &filer, &zone, body).await;
    let plan = json!({"effective_from": "2026-01-01", "plan": {"basis": "limit", "base": "0.01",
        "min_premium_yuan": 1000, "underwriting": {"auto_accept_max_limit_yuan": 1000000}}});
    let r = c.json("POST", &format!("/api/v1/filings/{id}/rating-plans"), Some(&filer), plan).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let ent = c.token("ent.admin").await;
    let before = events(&app).await;
    let r = c
        .json(
            "POST",
            &format!("/api/v1/products/{id}/apply"),
            Some(&ent),
            json!({"quote": {"limit_yuan": "500000"}, "start_date": "2026-12-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let details = r.json()["error"]["details"].clone();
    let codes: Vec<&str> = details.as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["stage_not_eligible", "qualification_missing"], "{details}");
    assert!(details[0]["message_zh"].as_str().unwrap().contains("生产"), "{details}");
    assert!(details[1]["message_en"].as_str().unwrap().contains("High-tech enterprise"), "{details}");
    assert_eq!(events(&app).await, before, "a refused application changes nothing");
    // The apply step on the page shows the same reasons.
    let mut e = Client::new(&app);
    e.login("ent.admin", PW).await;
    let csrf = e.csrf().await;
    let before = events(&app).await;
    let r = e
        .post_form(
            &format!("/products/{id}/apply"),
            &[
                ("csrf", &csrf),
                ("limit_yuan", "500000"),
                ("claims_3y", "0"),
                ("start_date", "2026-12-15"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("生产") && r.text().contains("高新技术企业"), "{}", r.text());
    assert_eq!(events(&app).await, before);
    // The quote page says so before anyone tries: the reasons, and no apply form.
    let page = e.get(&format!("/products/{id}/quote?limit_yuan=500000")).await.text();
    assert!(page.contains("id=\"ineligible\"") && page.contains("高新技术企业"), "{page}");
    assert!(!page.contains("id=\"apply-form\""), "{page}");
}

/// A multipart body with the page's fields and one file.
fn multipart_with(fields: &[(&str, &str)], filename: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----kebaoratingboundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
    body.extend(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The field error shown right after a form control (the first `field-error` after it).
fn error_after(page: &str, control: &str) -> String {
    let Some(at) = page.find(control) else { panic!("no `{control}` on the page: {page}") };
    let rest = &page[at..];
    let start = rest.find("class=\"field-error\">").map(|i| i + "class=\"field-error\">".len()).unwrap();
    rest[start..].split("</div>").next().unwrap().to_owned()
}

#[tokio::test]
async fn filers_file_rating_plans_by_form_and_by_template() {
    let app = app().await;
    insurers(&app).await;
    let mut api = Client::new(&app);
    let token = api.token("filer").await;
    let r = api
        .json("POST", "/api/v1/filings", Some(&token), filing("rd_liability", "研发责任险", "1000000", "0"))
        .await;
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let op = Actor::System { name: "t".into() };
    let mut filer = Client::new(&app);
    filer.login("filer", PW).await;
    let csrf = filer.csrf().await;
    // The form: every variable by its label, known levels by theirs, never by code.
    let page = filer.get(&format!("/filings/{id}")).await.text();
    assert!(page.contains("id=\"rating-form\"") && page.contains("基础费率"), "{page}");
    assert!(
        page.contains("近三年出险次数") && page.contains("出险 2 次及以上") && page.contains(">研发<"),
        "{page}"
    );
    assert!(!page.contains(">claims_history<") && !page.contains(">2+<"), "{page}");
    assert!(page.contains("id=\"rating-json\"") && page.contains("<details"), "{page}");
    // Without JavaScript, "add rows" sends the form and gets it back with five more rows,
    // keeping what was typed.
    let r = filer
        .post_form(
            &format!("/filings/{id}/rating-form"),
            &[
                ("csrf", &csrf),
                ("base", "0.009"),
                ("size_bands.rows", "1"),
                ("size_bands.0.key", "small"),
                ("more", "size_bands"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let page = r.text();
    assert!(
        page.contains("name=\"size_bands.5.key\"") && !page.contains("name=\"size_bands.6.key\""),
        "{page}"
    );
    assert!(page.contains("value=\"0.009\"") && page.contains("value=\"small\""), "{page}");
    assert!(app.svc.rating_plans(&op, &id).await.unwrap().is_empty());
    // Bad input: the form comes back as typed, each error at its field, nothing filed.
    let before = events(&app).await;
    let bad = [
        ("csrf", csrf.as_str()),
        ("effective_from", ""),
        ("basis", "limit"),
        ("base", "abc"),
        ("min_premium_yuan", "1000"),
        ("factors.claims_history.rows", "2"),
        ("factors.claims_history.0.level", "0"),
        ("factors.claims_history.0.factor", "0.9"),
        ("factors.claims_history.1.level", "1"),
        ("factors.claims_history.1.factor", "x"),
    ];
    let r = filer.post_form(&format!("/filings/{id}/rating-form"), &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text();
    assert!(error_after(&page, "name=\"effective_from\"").contains("必填"), "{page}");
    assert!(page.contains("name=\"base\" aria-invalid=\"true\" value=\"abc\""), "{page}");
    assert!(error_after(&page, "name=\"base\"").contains("不是十进制数"), "{page}");
    assert!(
        error_after(&page, "name=\"factors.claims_history.1.factor\" value=\"x\"").contains("不是十进制数")
    );
    assert_eq!(error_after(&page, "name=\"factors.claims_history.0.factor\" value=\"0.9\""), "");
    assert_eq!(events(&app).await, before);
    // A good form files the plan.
    let good = [
        ("csrf", csrf.as_str()),
        ("effective_from", "2026-01-01"),
        ("basis", "revenue"),
        ("base", "0.0035"),
        ("min_premium_yuan", "3,000"),
        ("max_premium_yuan", "200000"),
        ("factor_floor", "0.7"),
        ("factor_cap", "1.6"),
        ("size_bands.rows", "3"),
        ("size_bands.0.key", "small"),
        ("size_bands.0.up", "20000000"),
        ("size_bands.1.key", "large"),
        ("size_bands.1.up", ""),
        ("factors.size_band.rows", "2"),
        ("factors.size_band.0.level", "small"),
        ("factors.size_band.0.factor", "0.9"),
        ("factors.size_band.1.level", "large"),
        ("factors.size_band.1.factor", "1.1"),
        ("factors.industry.rows", "2"),
        ("factors.industry.0.level", "bio"),
        ("factors.industry.0.factor", "1.25"),
        ("factors.industry.1.level", "optoelectronics"),
        ("factors.industry.1.factor", ""),
        ("factors.industry.default", "1"),
        ("underwriting.auto_accept_max_limit_yuan", "1000000"),
        ("underwriting.refer_if_claims", "1"),
    ];
    let r = filer.post_form(&format!("/filings/{id}/rating-form"), &good).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let plans = app.svc.rating_plans(&op, &id).await.unwrap();
    let expected: kebao_domain::rating::PlanDoc = serde_json::from_value(json!({
        "basis": "revenue", "base": "0.0035",
        "size_bands": [{"key": "small", "up_to_yuan": 20000000}, {"key": "large", "up_to_yuan": null}],
        "factors": [{"variable": "industry", "levels": [["bio", "1.25"]], "default": "1"},
                    {"variable": "size_band", "levels": [["small", "0.9"], ["large", "1.1"]]}],
        "min_premium_yuan": 3000, "max_premium_yuan": 200000, "factor_floor": "0.7", "factor_cap": "1.6",
        "underwriting": {"auto_accept_max_limit_yuan": 1000000, "refer_if_claims": true}}))
    .unwrap();
    assert_eq!((plans.len(), &plans[0].doc), (1, &expected));
    // The page's form now starts from the filed plan.
    let page = filer.get(&format!("/filings/{id}")).await.text();
    assert!(page.contains("name=\"base\" value=\"0.0035\""), "{page}");
    // The template: the filed plan, bilingual, and read back it is the same plan.
    let r = filer.get(&format!("/filings/{id}/rating-template.xlsx")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers[header::CONTENT_TYPE].to_str().unwrap().contains("spreadsheetml"));
    let table = kebao_service::tabular::read(&r.body, kebao_service::tabular::Format::Xlsx).unwrap();
    assert_eq!(table.headers[0], "类别 Item");
    assert!(
        table.rows.iter().any(|r| r[1] == "行业（5+2） Industry (5+2)" && r[2].starts_with("生物")),
        "{table:?}"
    );
    let template = r.body.clone();
    let upload = |fields: Vec<(&'static str, String)>, name: &'static str, bytes: Vec<u8>| {
        let fields: Vec<(&str, String)> = fields;
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (ctype, body) = multipart_with(&refs, name, &bytes);
        Request::post(format!("/filings/{id}/rating-template"))
            .header(header::CONTENT_TYPE, ctype)
            .body(Body::from(body))
            .unwrap()
    };
    let r = filer
        .send(upload(
            vec![("csrf", csrf.clone()), ("effective_from", "2027-01-01".into())],
            "plan.xlsx",
            template.clone(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let plans = app.svc.rating_plans(&op, &id).await.unwrap();
    assert_eq!(plans.len(), 2);
    assert!(plans.iter().all(|p| p.doc == expected), "{plans:?}");
    // Not an Excel file; a template with an unknown row and a bad factor: errors at the upload.
    let before = events(&app).await;
    let r = filer
        .send(upload(
            vec![("csrf", csrf.clone()), ("effective_from", "2028-01-01".into())],
            "plan.csv",
            b"basis,limit".to_vec(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text().contains("id=\"rating-template-errors\"") && r.text().contains("不是 Excel"),
        "{}",
        r.text()
    );
    let mut bad = table.clone();
    bad.rows.push(vec!["费用".into(), String::new(), String::new(), "1".into(), String::new()]);
    let bad_factor = bad.rows.iter().position(|r| r[0].starts_with("系数") && r[3] == "0.9").unwrap();
    bad.rows[bad_factor][3] = "abc".into();
    let bytes = kebao_service::tabular::write_xlsx(&bad, "x").unwrap();
    let r = filer
        .send(upload(
            vec![("csrf", csrf.clone()), ("effective_from", "2028-01-01".into())],
            "plan.xlsx",
            bytes,
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains(&format!("第 {} 行：类别 “费用” 不存在", bad.rows.len() + 1)), "{}", r.text());
    let mut bad = table.clone();
    bad.rows[bad_factor][3] = "abc".into();
    let bytes = kebao_service::tabular::write_xlsx(&bad, "x").unwrap();
    let r = filer
        .send(upload(
            vec![("csrf", csrf.clone()), ("effective_from", "2028-01-01".into())],
            "plan.xlsx",
            bytes,
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains(&format!("第 {} 行：“abc” 不是十进制数", bad_factor + 2)), "{}", r.text());
    assert_eq!(events(&app).await, before);
    // Another insurer's filer gets neither the template nor a filing.
    let mut other = Client::new(&app);
    other.login("filer2", PW).await;
    assert_eq!(other.get(&format!("/filings/{id}/rating-template.xlsx")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_paper_policy_is_registered_on_the_page_and_confirmed_by_its_insurer() {
    let app = app().await;
    let (ins, _) = insurers(&app).await;
    let op = Actor::System { name: "t".into() };
    let input =
        NewUserInput { username: "uw.reg".into(), display_name: "核保员".into(), password: PW.into() };
    app.svc.add_user(&op, &ins, &input, &[Role::Underwriter]).await.unwrap();
    let mut c = Client::new(&app);
    let filer = c.token("filer").await;
    let zone = c.token("reviewer").await;
    let mut body = filing("first_set_equipment", "首台（套）综合保险", "10000000", "0");
    body["stages"] = json!(["rnd", "commercialisation", "market"]);
    let id = registered(&mut c, &filer, &zone, body).await;
    let plan = json!({"effective_from": "2026-01-01", "plan": {"basis": "limit", "base": "0.01", "min_premium_yuan": 1000,
        "underwriting": {"auto_accept_max_limit_yuan": 10000000}}});
    c.json("POST", &format!("/api/v1/filings/{id}/rating-plans"), Some(&filer), plan).await;
    let ent = c.token("ent.admin").await;
    // An application through the API names the equipment and its user; the policy keeps them.
    let subject = json!({"object_kind": "equipment", "object_identifier": "HX-3000", "beneficiary_name": "武汉用户制造有限公司"});
    let r = c
        .json(
            "POST",
            &format!("/api/v1/products/{id}/apply"),
            Some(&ent),
            json!({"quote": {"limit_yuan": "500000"}, "start_date": "2026-12-15", "subject": subject}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let pols = c.get_auth("/api/v1/policies", &ent).await.json();
    assert_eq!(pols[0]["subject"]["object_identifier"], "HX-3000", "{pols}");
    let bad = json!({"quote": {"limit_yuan": "500000"}, "start_date": "2026-12-15", "subject": {"object_kind": "rocket"}});
    let r = c.json("POST", &format!("/api/v1/products/{id}/apply"), Some(&ent), bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    // The enterprise registers last year's paper policy on the page; a bad form is shown again
    // with the errors at their fields and changes nothing.
    let mut e = Client::new(&app);
    e.login("ent.admin", PW).await;
    let csrf = e.csrf().await;
    let form = e.get("/policies/register").await.text();
    assert!(form.contains("首台（套）综合保险") && form.contains("name=\"beneficiary_name\""), "{form}");
    let before = events(&app).await;
    let r = e
        .post_form(
            "/policies/register",
            &[("csrf", &csrf), ("product_id", &id), ("number", "PAPER 1"), ("start_date", "2025-12-01")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let t = r.text();
    assert!(
        t.contains("id=\"err-number\"")
            && t.contains("id=\"err-end_date\"")
            && t.contains("id=\"err-premium_yuan\""),
        "{t}"
    );
    assert_eq!(events(&app).await, before);
    let r = e
        .post_form(
            "/policies/register",
            &[
                ("csrf", &csrf),
                ("product_id", &id),
                ("number", "CT-2025-PAPER-1"),
                ("start_date", "2025-12-01"),
                ("end_date", "2026-11-30"),
                ("premium_yuan", "150000"),
                ("sum_insured_yuan", "8000000"),
                ("object_kind", "equipment"),
                ("object_identifier", "HX-3000"),
                ("beneficiary_name", "武汉用户制造有限公司"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let policy = r.location().trim_start_matches("/policies/").split('?').next().unwrap().to_owned();
    let page = e.get(&format!("/policies/{policy}")).await.text();
    assert!(
        page.contains("id=\"registration-awaiting\"")
            && page.contains("HX-3000")
            && page.contains("武汉用户制造有限公司")
            && page.contains("线下保单·待保险公司确认")
            && !page.contains("id=\"report-claim\""),
        "{page}"
    );
    let (ctype, body) = multipart(None, "保单.pdf", b"%PDF-1.4 paper policy".to_vec());
    let r = c
        .send(
            Request::post(format!("/api/v1/policies/{policy}/registration-documents"))
                .header(header::AUTHORIZATION, format!("Bearer {ent}"))
                .header(header::CONTENT_TYPE, ctype)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let again = json!({"product_id": id, "number": "CT-2025-PAPER-1", "start_date": "2025-12-01", "end_date": "2026-11-30", "premium_yuan": "1", "sum_insured_yuan": "1"});
    let r = c.json("POST", "/api/v1/policies/registered", Some(&ent), again).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    // The insurer's underwriter has a to-do, sees the document, and answers on the page.
    let mut u = Client::new(&app);
    u.login("uw.reg", PW).await;
    let ucsrf = u.csrf().await;
    let uw = c.token("uw.reg").await;
    let inbox = c.get_auth("/api/v1/me/inbox", &uw).await.text();
    assert!(inbox.contains("CT-2025-PAPER-1"), "{inbox}");
    // The register form is the policyholder's: an insurer's underwriter is refused it.
    assert_eq!(u.get("/policies/register").await.status, StatusCode::FORBIDDEN);
    let page = u.get(&format!("/policies/{policy}")).await.text();
    assert!(page.contains("id=\"answer-form\"") && page.contains("保单.pdf"), "{page}");
    let r = u
        .post_form(&format!("/policies/{policy}/registration"), &[("csrf", &ucsrf), ("answer", "reject")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("不予确认时请说明原因"), "{}", r.text());
    let r = u
        .post_form(
            &format!("/policies/{policy}/registration"),
            &[
                ("csrf", &ucsrf),
                ("answer", "confirm"),
                ("premium_yuan", "150000"),
                ("received_yuan", "150000"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let p = c.get_auth(&format!("/api/v1/policies/{policy}"), &ent).await.json();
    assert_eq!(
        (p["status"].as_str(), p["paid_yuan"].as_str()),
        (Some("registered"), Some("150000.00")),
        "{p}"
    );
    let r = c
        .json(
            "POST",
            &format!("/api/v1/policies/{policy}/registration-answer"),
            Some(&uw),
            json!({"confirm": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(app.svc.ledger_verify().await.unwrap().problems.is_empty());
}
