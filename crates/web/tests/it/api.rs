use crate::client::*;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn health_metrics_openapi() {
    let app = app().await;
    let mut c = Client::new(&app);
    let r = c.get("/healthz").await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "ok\n"));
    c.get("/orgs").await;
    // Not public: without a metrics token configured, the main listener has no /metrics.
    assert_eq!(c.get("/metrics").await.status, StatusCode::NOT_FOUND);
    let get = |router: axum::Router, token: Option<String>| async move {
        use tower::ServiceExt;
        let mut req = axum::http::Request::get("/metrics");
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let resp = router.oneshot(req.body(axum::body::Body::empty()).unwrap()).await.unwrap();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    };
    let token = "m".repeat(40);
    let settings = kebao_web::Settings { metrics_token: Some(token.clone()), ..Default::default() };
    let state = kebao_web::AppState::new(app.svc.clone(), settings);
    let main = kebao_web::router(state.clone());
    assert_eq!(get(main.clone(), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(get(main.clone(), Some("wrong".into())).await.0, StatusCode::UNAUTHORIZED);
    {
        use tower::ServiceExt;
        let req = axum::http::Request::get("/orgs").body(axum::body::Body::empty()).unwrap();
        assert_eq!(main.clone().oneshot(req).await.unwrap().status(), StatusCode::OK);
    }
    let (status, m) = get(main.clone(), Some(token.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert!(m.contains("kebao_http_requests_total{method=\"GET\",route=\"/orgs\",status=\"200\"} 1"), "{m}");
    assert!(m.contains("kebao_events_total "));
    // The business gauges: what waits on people, money pending, the signed head's age, failed
    // sign-ins, jobs.
    for g in [
        "kebao_deadlines_past_due{clock=\"claim_decide\"} 0",
        "kebao_ledger_pending_fen{side=\"debit\"} 0",
        "kebao_failed_sign_ins_24h 0",
    ] {
        assert!(m.contains(g), "{g}: {m}");
    }
    let op = kebao_service::authz::Actor::System { name: "test".into() };
    app.svc.sign_tree_head().await.unwrap();
    app.svc.start_job(&op, kebao_domain::job::JobKind::AuditVerify).await.unwrap();
    let mut bad = Client::new(&app);
    bad.login("regulator", "wrong password").await;
    app.clock.advance_us(90_000_000);
    // The private listener's router serves the same without a token.
    let (status, m) = get(kebao_web::metrics::private_router(state), None).await;
    assert_eq!(status, StatusCode::OK);
    for g in [
        "kebao_jobs{kind=\"audit_verify\",state=\"queued\"} 1",
        "kebao_job_oldest_queued_seconds{kind=\"audit_verify\"} 90",
        "kebao_signed_head_age_seconds 90",
        "kebao_failed_sign_ins_24h 1",
        "# TYPE kebao_todos_open gauge",
    ] {
        assert!(m.contains(g), "{g}: {m}");
    }
    let doc = c.get("/api/v1/openapi.json").await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/orgs",
        "/api/v1/orgs/{id}",
        "/api/v1/orgs/{id}/facts/{year}",
        "/api/v1/auth/token",
        "/api/v1/register",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    assert!(doc["components"]["schemas"]["OrgInputDto"].is_object());
    let r = c.get("/api/v1/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"]["code"], "not_found");
}

#[tokio::test]
async fn validation_errors_are_field_level_in_both_languages() {
    let app = app().await;
    let mut c = Client::new(&app);
    let ops = c.token("reviewer").await;
    let r = c.json("POST", "/api/v1/orgs", Some(&ops), json!({"name": "坏数据", "uscc": "91420100000000001X", "kind": "enterprise", "industry_code": "39", "lifecycle_stage": "rnd"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = &r.json()["error"];
    assert_eq!(e["code"], "validation_failed");
    let d = e["details"].as_array().unwrap();
    assert_eq!(d.iter().map(|x| x["field"].as_str().unwrap()).collect::<Vec<_>>(), ["uscc", "industry_code"]);
    assert_eq!(d[0]["code"], "uscc_check_digit");
    assert!(d[0]["message_zh"].as_str().unwrap().contains("校验位"));
    assert!(d[0]["message_en"].as_str().unwrap().contains("check character"));
    // Malformed JSON and unknown fields are 400, not a panic or a silent drop.
    let r = c.json("POST", "/api/v1/orgs", Some(&ops), json!({"name": "x", "colour": "red"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], "bad_request");
    // A duplicate is 409 and names the field.
    let r = c.json("POST", "/api/v1/orgs", Some(&ops), json!({"name": "重复", "uscc": uscc(1), "kind": "enterprise", "industry_code": "C3976", "lifecycle_stage": "rnd"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["error"]["details"][0]["field"], "uscc");
    // Negative facts.
    let own = c.token("ent.admin").await;
    let facts = json!({"revenue_fen": -1, "rnd_expense_fen": 0, "staff": 1, "rnd_staff": 0, "patents_granted": 0, "patents_pending": 0, "export_share_bp": 0});
    let r = c.json("PUT", &format!("/api/v1/orgs/{}/facts/2025", app.enterprise), Some(&own), facts).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["details"][0]["code"], "negative");
    // Bad filter values.
    let r = c.get("/api/v1/orgs?kind=spaceship").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["details"][0]["field"], "kind");
}

#[tokio::test]
async fn tokens_wrong_password_and_lawful_basis() {
    let app = app().await;
    let mut c = Client::new(&app);
    let r = c
        .json("POST", "/api/v1/auth/token", None, json!({"username": "banker", "password": "nope nope nope"}))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"]["code"], "unauthenticated");
    let r = c.get_auth("/api/v1/me", "kb_forged").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let bank = c.token("banker").await;
    let path = format!("/api/v1/orgs/{}", app.enterprise);
    let r = c.get_auth(&path, &bank).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["facts"].is_null(), "a bank sees no facts without a basis");
    assert!(!r.text().contains("987654321"));
    let own = c.token("ent.admin").await;
    assert_eq!(c.get_auth(&path, &own).await.json()["facts"][0]["revenue_fen"], 987_654_321);
    let zone = c.token("reviewer").await;
    let r = c.get_auth(&path, &zone).await.json();
    assert_eq!(
        (r["facts_basis"].as_str(), r["facts"][0]["year"].as_i64()),
        (Some("statutory_duty"), Some(2025))
    );
    // A bank cannot write.
    let facts = json!({"revenue_fen": 1, "rnd_expense_fen": 0, "staff": 1, "rnd_staff": 0, "patents_granted": 0, "patents_pending": 0, "export_share_bp": 0});
    let r = c.json("PUT", &format!("{path}/facts/2024"), Some(&bank), facts).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"]["code"], "forbidden");
}

#[tokio::test]
async fn cursor_pagination_and_search() {
    let app = app().await;
    let op = kebao_service::authz::Actor::System { name: "t".into() };
    for i in 0..7 {
        app.svc.create_org(&op, &org(&format!("分页企业{i}"), 100 + i, "enterprise")).await.unwrap();
    }
    let mut c = Client::new(&app);
    let mut names = Vec::new();
    let mut url = "/api/v1/orgs?q=%E5%88%86%E9%A1%B5&limit=3".to_owned();
    loop {
        let page = c.get(&url).await.json();
        assert_eq!(page["total"], 7);
        names
            .extend(page["items"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cur) => url = format!("/api/v1/orgs?q=%E5%88%86%E9%A1%B5&limit=3&cursor={cur}"),
            None => break,
        }
    }
    assert_eq!(names, (0..7).map(|i| format!("分页企业{i}")).collect::<Vec<_>>());
    let r = c.get("/api/v1/orgs?cursor=zzz").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["details"][0]["code"], "cursor_invalid");
}

#[tokio::test]
async fn api_with_a_session_cookie_needs_the_csrf_header() {
    let app = app().await;
    let mut c = Client::new(&app);
    c.login("reviewer", PW).await;
    let body = json!({"name": "经会话创建", "uscc": uscc(50), "kind": "investor"});
    let r = c.json("POST", "/api/v1/orgs", None, body.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"]["code"], "csrf_failed");
    let token = c.csrf().await;
    let req = axum::http::Request::post("/api/v1/orgs")
        .header("content-type", "application/json")
        .header("x-csrf-token", token)
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    assert_eq!(c.send(req).await.status, StatusCode::CREATED);
}
