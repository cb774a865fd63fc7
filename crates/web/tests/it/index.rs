//! The development index through the pages and the API: a run too thin to rank fails with its
//! reason on the page; official figures for a region imported (a bad file refused row by row);
//! the zone against that region ranked; the run's page, files, workbook and JSON; who may see it.

use crate::client::{app, hidden, Client, PW};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use kebao_service::tabular::{self, Format};

fn multipart(csrf: Option<&str>, filename: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----kebaoindexboundary";
    let mut body = Vec::new();
    if let Some(t) = csrf {
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

/// Every indicator of the region `zhongguancun` for 2026 (the platform computes them only for
/// the zone itself).
fn region_figures(extra: &str) -> String {
    let mut csv = String::from("单元类型,单元,年份,指标,数值,来源\n");
    for (code, v) in [
        ("insured_share", "35.5"),
        ("premium_per_firm", "12000"),
        ("cover_per_rnd", "0.8"),
        ("first_set_per_100", "4"),
        ("subsidy_reach", "20"),
        ("loans_per_firm", "50000"),
        ("rnd_intensity", "6.1"),
        ("claim_days", "12"),
        ("payout_ratio", "45"),
        ("complaints_per_k", "1.5"),
    ] {
        csv.push_str(&format!("地区对比,中关村示范区,2026,{code},{v},测试用统计\n"));
    }
    csv.push_str(extra);
    csv
}

#[tokio::test]
async fn the_index_runs_from_its_page_and_the_api_with_its_files() {
    let app = app().await;
    let mut z = Client::new(&app);
    z.login("reviewer", PW).await;
    let page = z.get("/zone/index").await;
    assert_eq!(page.status, StatusCode::OK);
    let t = page.text();
    assert!(t.contains("指标体系") && t.contains("科技企业投保覆盖率") && t.contains("越低越好"), "{t}");
    assert!(t.contains("action=\"/zone/index/runs\""), "a zone officer may start a run");
    let token = hidden(&t, "csrf");

    // Parks: the zone's one enterprise has no park, so there is nothing to rank; the run fails
    // and says why on the page.
    let r =
        z.post_form("/zone/index/runs", &[("csrf", &token), ("unit_kind", "park"), ("year", "2025")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let queued = z.get("/zone/index").await.text();
    assert!(queued.contains("http-equiv=\"refresh\"") && queued.contains("排队中"), "{queued}");
    let ended = kebao_service::jobs::JobRunner::new(app.svc.clone()).run_once().await.unwrap().unwrap();
    assert_eq!(ended.state, kebao_domain::job::JobState::Failed);
    let failed = z.get("/zone/index").await.text();
    assert!(failed.contains("无法排名") && !failed.contains("http-equiv=\"refresh\""), "{failed}");
    // A bad year is refused with its reason, and nothing is queued.
    let r =
        z.post_form("/zone/index/runs", &[("csrf", &token), ("unit_kind", "park"), ("year", "1999")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("年份须在"), "{}", r.text());

    // Official statistics: a file with bad rows is refused row by row and imports nothing.
    let bad = region_figures(
        "地区对比,火星园区,2025,rnd_intensity,3,测试\n\
         地区对比,张江高新区,2025,rnd_intensity,很多,测试\n\
         地区对比,中关村示范区,2026,rnd_intensity,6.2,测试\n\
         地区对比,张江高新区,1990,rnd_intensity,3,测试\n\
         园区,光谷生物城,2025,premium_per_firm,3,测试\n",
    );
    let (ct, body) = multipart(Some(&token), "official.csv", bad.as_bytes());
    let r = z
        .send(
            Request::post("/zone/index/statistics")
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let t = r.text();
    for reason in ["火星园区", "很多", "与第 8 行重复", "1990", "不能为本示范区的单元导入", "未导入任何数据"]
    {
        assert!(t.contains(reason), "{reason}: {t}");
    }
    assert!(app
        .svc
        .index_official(&operator(), kebao_domain::index::UnitKind::Region)
        .await
        .unwrap()
        .is_empty());
    // Through the API the same file gets 422 with each row named.
    let api = z.token("reviewer").await;
    let (ct, body) = multipart(None, "official.csv", bad.as_bytes());
    let r = z
        .send(
            Request::post("/api/v1/index/statistics")
                .header(header::CONTENT_TYPE, ct)
                .header(header::AUTHORIZATION, format!("Bearer {api}"))
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let details = r.json()["error"]["details"].as_array().unwrap().clone();
    assert!(
        details.iter().any(|d| d["field"] == "rows[12].unit" && d["code"] == "unknown_unit"),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d["field"] == "rows[13].value" && d["code"] == "not_a_number"),
        "{details:?}"
    );
    // The good file, as a workbook through the page.
    let good = tabular::read(region_figures("").as_bytes(), Format::Csv).unwrap();
    let xlsx = tabular::write_xlsx(&good, "official").unwrap();
    let (ct, body) = multipart(Some(&token), "official.xlsx", &xlsx);
    let r = z
        .send(
            Request::post("/zone/index/statistics")
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let t = z.get(&r.location()).await.text();
    assert!(t.contains("已导入官方统计数据") && t.contains("中关村示范区") && t.contains("2026: 6.1"), "{t}");

    // The zone against the region, through the API.
    let r = z
        .json(
            "POST",
            "/api/v1/index/runs",
            Some(&api),
            serde_json::json!({"unit_kind": "region", "year": 2026}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let ended = kebao_service::jobs::JobRunner::new(app.svc.clone()).run_once().await.unwrap().unwrap();
    assert_eq!(ended.state, kebao_domain::job::JobState::Succeeded, "{:?}", ended.failure);
    let runs = z.get_auth("/api/v1/index/runs", &api).await.json();
    let run = runs.as_array().unwrap().first().unwrap().clone();
    assert_eq!(
        (run["unit_kind"].as_str(), run["year"].as_i64(), run["version"].as_i64()),
        (Some("region"), Some(2026), Some(1))
    );
    let id = run["id"].as_str().unwrap().to_owned();
    let full = z.get_auth(&format!("/api/v1/index/runs/{id}"), &api).await.json();
    let units = full["units"].as_array().unwrap();
    assert_eq!(units.len(), 2, "{full}");
    assert!(units.iter().any(|u| u["id"] == "zone") && units.iter().any(|u| u["id"] == "zhongguancun"));
    assert_eq!(full["codes"][0], "KBI");
    assert!(full["excluded_units"].as_array().unwrap().iter().any(|u| u["code"] == "zhangjiang"), "{full}");
    // The page: the ranking, the rank intervals, a profile, the method and the files.
    let page = z.get(&format!("/zone/index/runs/{id}?unit=zhongguancun")).await.text();
    assert!(page.contains("id=\"ranking\"") && page.contains("本示范区") && page.contains("<svg"), "{page}");
    assert!(
        page.contains("单元画像：中关村示范区") && page.contains("COINr") && page.contains("iData.csv"),
        "{page}"
    );
    assert!(page.contains("张江高新区：2026 年无任何指标数据"), "{page}");
    let idata = z.get(&format!("/zone/index/runs/{id}/iData.csv")).await.text();
    assert!(idata.starts_with("uCode,uName,") && idata.contains("zhongguancun,中关村示范区,35.5"), "{idata}");
    let file = z.get_auth(&format!("/api/v1/index/runs/{id}/files/iMeta.csv"), &api).await.text();
    assert!(file.starts_with("iCode,iName,Level,Parent,Direction,Weight,Type\nKBI,"), "{file}");
    let x = z.get(&format!("/zone/index/runs/{id}/results.xlsx")).await;
    assert_eq!(x.status, StatusCode::OK);
    let t = tabular::read(&x.body, Format::Xlsx).unwrap();
    assert!(t.rows.iter().any(|r| r.iter().any(|c| c == "zhongguancun")), "{:?}", t.rows);
    assert_eq!(z.get(&format!("/zone/index/runs/{id}/secrets.txt")).await.status, StatusCode::NOT_FOUND);

    // A framework with a cycle is refused with the reason; the regulator reads but may not run;
    // an enterprise sees nothing.
    let cycle = kebao_service::index::FRAMEWORK
        .replace("version = \"2026.1\"", "version = \"2026.9\"")
        .replace("code = \"P_cover\"\nparent = \"KBI\"", "code = \"P_cover\"\nparent = \"P_service\"")
        .replace("code = \"P_service\"\nparent = \"KBI\"", "code = \"P_service\"\nparent = \"P_cover\"");
    let r = z.json("POST", "/api/v1/index/framework", Some(&api), serde_json::json!({"toml": cycle})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("cycle"), "{}", r.text());
    let mut g = Client::new(&app);
    g.login("regulator", PW).await;
    let t = g.get("/zone/index").await.text();
    assert!(t.contains("已存档的测算") && !t.contains("action=\"/zone/index/runs\""), "{t}");
    assert_eq!(g.get(&format!("/zone/index/runs/{id}")).await.status, StatusCode::OK);
    let reg = g.token("regulator").await;
    let r = g
        .json(
            "POST",
            "/api/v1/index/runs",
            Some(&reg),
            serde_json::json!({"unit_kind": "park", "year": 2025}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let mut e = Client::new(&app);
    e.login("ent.admin", PW).await;
    assert_eq!(e.get("/zone/index").await.status, StatusCode::FORBIDDEN);
    assert_eq!(e.get(&format!("/zone/index/runs/{id}/iData.csv")).await.status, StatusCode::FORBIDDEN);
}

fn operator() -> kebao_service::authz::Actor {
    kebao_service::authz::Actor::System { name: "test".into() }
}

#[tokio::test]
async fn institutions_see_their_evaluation_and_the_zone_sees_all() {
    let app = app().await;
    let mut z = Client::new(&app);
    z.login("reviewer", PW).await;
    let page = z.get("/zone/evaluation?year=2026").await;
    assert_eq!(page.status, StatusCode::OK);
    let t = page.text();
    assert!(t.contains("机构服务评价") && t.contains("汉江银行光谷支行") && t.contains("保险法"), "{t}");
    assert!(t.contains("评分方法") && t.contains("未达标"), "{t}");
    let x = z.get("/zone/evaluation.xlsx?year=2026").await;
    let sheet = tabular::read(&x.body, Format::Xlsx).unwrap();
    assert!(sheet.rows.iter().any(|r| r[1] == "汉江银行光谷支行"), "{:?}", sheet.rows);
    let bad = z.get("/zone/evaluation?year=abc").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The bank's officer: its own standing and where it sits, no other names.
    let mut b = Client::new(&app);
    b.login("banker", PW).await;
    let t = b.get("/zone/evaluation?year=2026").await.text();
    assert!(t.contains("汉江银行光谷支行") && t.contains("不显示名称"), "{t}");
    let api = b.token("banker").await;
    let j = b.get_auth("/api/v1/evaluation?year=2026", &api).await.json();
    assert_eq!(j["standings"].as_array().unwrap().len(), 1, "{j}");
    assert_eq!(j["standings"][0]["kind"], "bank");
    let mut e = Client::new(&app);
    e.login("ent.admin", PW).await;
    assert_eq!(e.get("/zone/evaluation").await.status, StatusCode::FORBIDDEN);
}
